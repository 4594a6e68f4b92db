//! Backtesting: analyse as of an earlier date with only the data known then, and compare
//! with what the customers actually did afterwards.

use std::fmt;

use chrono::{Days, NaiveDate};

use super::classify::par_map;
use super::history::{CustomerHistory, ProductFact};
use super::settings::Settings;
use super::{Analysis, AnalysisError, Status, analyze};

/// What the customers of one status did in the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusOutcome {
    pub status: Status,
    /// Customers with this status (among those with a purchase before the analysis date).
    pub customers: usize,
    /// Of them, customers with a purchase in the horizon.
    pub bought_again: usize,
    /// The status was right: active customers bought again, the others did not.
    pub precision: f64,
    /// Share of the customers who behaved like this status (bought again for active, did
    /// not buy for the others) that got this status.
    pub recall: f64,
}

/// One bin of the P(alive) calibration table.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationBin {
    /// P(alive) range `[from, to)` of the bin (deciles of the customers).
    pub from: f64,
    pub to: f64,
    pub customers: usize,
    pub mean_p_alive: f64,
    /// Share of the bin's customers with a purchase in the horizon.
    pub bought_again: f64,
}

/// The result of a backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    pub as_of: NaiveDate,
    pub horizon_days: u32,
    /// The analysis as of `as_of`, on the data known then.
    pub analysis: Analysis,
    /// Customers with a purchase on or before `as_of` (the others are not scored).
    pub customers: usize,
    /// Of them, customers with a purchase in `(as_of, as_of + horizon]`.
    pub bought_again: usize,
    pub statuses: Vec<StatusOutcome>,
    /// Share of the customers who did not buy in the horizon that were not called active.
    pub inactive_recall: f64,
    pub calibration: Vec<CalibrationBin>,
    /// Sum of the customers' expected purchases in the horizon under the fitted model
    /// (prorated from the 52-week expectation) and the purchases (distinct days) made.
    pub expected_purchases: f64,
    pub actual_purchases: usize,
}

/// Analyses as of `as_of` (only facts up to it), then checks the statuses and P(alive)
/// against the purchases in `(as_of, as_of + horizon_days]`.
///
/// # Errors
/// Those of [`analyze`].
pub fn backtest(
    histories: &[CustomerHistory],
    products: &[ProductFact],
    as_of: NaiveDate,
    horizon_days: u32,
    settings: &Settings,
) -> Result<Backtest, AnalysisError> {
    let analysis = analyze(histories, products, as_of, settings)?;
    let end = as_of
        .checked_add_days(Days::new(u64::from(horizon_days)))
        .unwrap_or(NaiveDate::MAX);
    // Per customer: had a purchase by as_of, purchase days in the horizon.
    let facts: Vec<(bool, usize)> = par_map(histories, settings.threads as usize, |_, h, _| {
        let mut before = false;
        let mut days: Vec<NaiveDate> = Vec::new();
        for o in h.orders.iter().filter(|o| !o.cancelled) {
            let d = o.ordered_at.date_naive();
            if d <= as_of {
                before = true;
            } else if d <= end {
                days.push(d);
            }
        }
        days.sort_unstable();
        days.dedup();
        (before, days.len())
    });
    let scored: Vec<(usize, bool)> = facts
        .iter()
        .enumerate()
        .filter(|(_, f)| f.0)
        .map(|(i, f)| (i, f.1 > 0))
        .collect();
    let customers = scored.len();
    let bought_again = scored.iter().filter(|s| s.1).count();
    let gone = customers - bought_again;
    let statuses = Status::ALL
        .iter()
        .map(|&status| {
            let of: Vec<bool> = scored
                .iter()
                .filter(|(i, _)| analysis.customers[*i].status == status)
                .map(|s| s.1)
                .collect();
            let n = of.len();
            let again = of.iter().filter(|b| **b).count();
            let (right, relevant) = if status == Status::Active {
                (again, bought_again)
            } else {
                (n - again, gone)
            };
            StatusOutcome {
                status,
                customers: n,
                bought_again: again,
                precision: if n == 0 { 1.0 } else { right as f64 / n as f64 },
                recall: if relevant == 0 {
                    1.0
                } else {
                    right as f64 / relevant as f64
                },
            }
        })
        .collect();
    let inactive_found = scored
        .iter()
        .filter(|(i, b)| !b && analysis.customers[*i].status != Status::Active)
        .count();
    let mut by_p: Vec<(f64, bool)> = scored
        .iter()
        .map(|(i, b)| (analysis.customers[*i].p_alive, *b))
        .collect();
    by_p.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let bins = 10.min(by_p.len());
    let calibration = (0..bins)
        .map(|k| {
            let lo = k * by_p.len() / bins;
            let hi = (k + 1) * by_p.len() / bins;
            let part = &by_p[lo..hi];
            let n = part.len().max(1) as f64;
            CalibrationBin {
                from: part.first().map_or(0.0, |p| p.0),
                to: part.last().map_or(0.0, |p| p.0),
                customers: part.len(),
                mean_p_alive: part.iter().map(|p| p.0).sum::<f64>() / n,
                bought_again: part.iter().filter(|p| p.1).count() as f64 / n,
            }
        })
        .collect();
    let share = f64::from(horizon_days) / 364.0;
    let expected_purchases = scored
        .iter()
        .map(|(i, _)| analysis.customers[*i].expected_transactions_52w * share)
        .sum();
    let actual_purchases = scored.iter().map(|(i, _)| facts[*i].1).sum();
    Ok(Backtest {
        as_of,
        horizon_days,
        analysis,
        customers,
        bought_again,
        statuses,
        inactive_recall: if gone == 0 {
            1.0
        } else {
            inactive_found as f64 / gone as f64
        },
        calibration,
        expected_purchases,
        actual_purchases,
    })
}

impl fmt::Display for Backtest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "backtest as of {}, horizon {} days: {} customers with a purchase before, {} ({:.1} %) bought again\n",
            self.as_of,
            self.horizon_days,
            self.customers,
            self.bought_again,
            100.0 * self.bought_again as f64 / self.customers.max(1) as f64
        )?;
        writeln!(
            f,
            "| status   | customers | bought again | precision | recall |"
        )?;
        writeln!(
            f,
            "|----------|----------:|-------------:|----------:|-------:|"
        )?;
        for s in &self.statuses {
            writeln!(
                f,
                "| {:<8} | {:>9} | {:>12} | {:>9.3} | {:>6.3} |",
                s.status.as_str(),
                s.customers,
                s.bought_again,
                s.precision,
                s.recall
            )?;
        }
        writeln!(
            f,
            "\n(precision: active bought again, others did not; non-buyers not called active: {:.3})\n",
            self.inactive_recall
        )?;
        writeln!(
            f,
            "| P(alive) decile | customers | mean P(alive) | bought again |"
        )?;
        writeln!(
            f,
            "|-----------------|----------:|--------------:|-------------:|"
        )?;
        for b in &self.calibration {
            writeln!(
                f,
                "| {:.3} – {:.3}   | {:>9} | {:>13.3} | {:>12.3} |",
                b.from, b.to, b.customers, b.mean_p_alive, b.bought_again
            )?;
        }
        writeln!(
            f,
            "\nexpected purchase days in the horizon {:.0}, actual {}",
            self.expected_purchases, self.actual_purchases
        )
    }
}
