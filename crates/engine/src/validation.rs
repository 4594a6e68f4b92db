//! Holdout validation of the repeat-buying models, as Fader, Hardie & Lee (2005, "Counting
//! Your Customers the Easy Way", section 7) validate BG/NBD on CDNOW: fit on a calibration
//! period, then compare with what happened in the holdout period that followed.
//!
//! Two views: aggregate tracking (expected vs actual cumulative repeat transactions per week
//! since the cohort's first day, summing the unconditional expectation of every customer
//! from their own first purchase), and conditional expectations by calibration frequency
//! (mean predicted vs mean actual holdout transactions of the customers who made x repeat
//! purchases). Pure: purchase days in, numbers out.

use chrono::NaiveDate;

use crate::models::{
    CustomerSummary, FitError, FitOptions, ModelKind, fit_bgnbd, fit_mbgnbd, fit_pareto_nbd,
};

/// One point of the weekly tracking curve.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekPoint {
    /// Weeks since the cohort's first purchase day (the point covers days before
    /// `origin + 7 × week`).
    pub week: u32,
    pub expected_cumulative: f64,
    pub actual_cumulative: u64,
}

/// Conditional expectation for the customers with `frequency` repeat purchases in the
/// calibration period (the last bucket holds `frequency` and more).
#[derive(Debug, Clone, PartialEq)]
pub struct FrequencyPoint {
    pub frequency: u32,
    pub and_more: bool,
    pub customers: usize,
    pub expected_mean: f64,
    pub actual_mean: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    pub model: ModelKind,
    pub params: Vec<(&'static str, f64)>,
    pub loglik: f64,
    pub customers: usize,
    pub origin: NaiveDate,
    pub calibration_end: NaiveDate,
    pub holdout_end: NaiveDate,
    /// The week in which the calibration period ends (for the chart's marker).
    pub calibration_weeks: f64,
    pub weekly: Vec<WeekPoint>,
    pub by_frequency: Vec<FrequencyPoint>,
    pub expected_holdout_total: f64,
    pub actual_holdout_total: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("the model {0} is not a repeat-buying model: use bgnbd, pareto-nbd or mbgnbd")]
    NotARepeatModel(&'static str),
    #[error("the holdout end must lie after the calibration end")]
    EmptyHoldout,
    #[error("no customer made a first purchase before the calibration end")]
    NoCustomers,
    #[error(transparent)]
    Fit(#[from] FitError),
}

// The variants are the models' names (BG/NBD, Pareto/NBD, MBG/NBD).
#[allow(clippy::enum_variant_names)]
enum Fitted {
    BgNbd(crate::models::BgNbdParams),
    ParetoNbd(crate::models::ParetoNbdParams),
    MbgNbd(crate::models::MbgNbdParams),
}

impl Fitted {
    fn cumulative(&self, t: f64) -> f64 {
        match self {
            Fitted::BgNbd(p) => p.expected_cumulative(t),
            Fitted::ParetoNbd(p) => p.expected_cumulative(t),
            Fitted::MbgNbd(p) => p.expected_cumulative(t),
        }
    }

    fn conditional(&self, c: &CustomerSummary, t: f64) -> f64 {
        match self {
            Fitted::BgNbd(p) => p.expected_transactions(c, t),
            Fitted::ParetoNbd(p) => p.expected_transactions(c, t),
            Fitted::MbgNbd(p) => p.expected_transactions(c, t),
        }
    }
}

fn weeks(from: NaiveDate, to: NaiveDate) -> f64 {
    (to - from).num_days() as f64 / 7.0
}

/// Validates `model` on `purchases` (each customer's purchase days, any order; several
/// purchases on one day are one transaction). Customers whose first purchase lies after
/// `calibration_end` are not part of the cohort. `max_frequency` is the first frequency
/// bucket that also holds all higher ones (Fader, Hardie & Lee use 7).
///
/// # Errors
/// [`ValidationError`] for a model without repeat-buying expectations, an empty holdout,
/// no customers, or a failed fit.
pub fn holdout_validation(
    purchases: &[Vec<NaiveDate>],
    calibration_end: NaiveDate,
    holdout_end: NaiveDate,
    model: ModelKind,
    max_frequency: u32,
) -> Result<Validation, ValidationError> {
    if holdout_end <= calibration_end {
        return Err(ValidationError::EmptyHoldout);
    }
    // Each cohort member: first day, calibration summary, holdout count, repeat days.
    let mut firsts = Vec::new();
    let mut summaries = Vec::new();
    let mut holdout_counts = Vec::new();
    let mut repeat_days: Vec<NaiveDate> = Vec::new();
    for days in purchases {
        let mut days: Vec<NaiveDate> = days.iter().copied().filter(|d| *d <= holdout_end).collect();
        days.sort_unstable();
        days.dedup();
        let Some(&first) = days.first() else { continue };
        if first > calibration_end {
            continue;
        }
        let calibration: Vec<NaiveDate> = days
            .iter()
            .copied()
            .filter(|d| *d <= calibration_end)
            .collect();
        let last = *calibration
            .last()
            .expect("the first day is in the calibration period");
        let x = calibration.len() - 1;
        let summary = CustomerSummary::new(
            x as f64,
            if x == 0 { 0.0 } else { weeks(first, last) },
            weeks(first, calibration_end),
            0.0,
        )
        .expect("days within the calibration period give a valid summary");
        firsts.push(first);
        summaries.push(summary);
        holdout_counts.push(days.len() - calibration.len());
        repeat_days.extend(days.iter().skip(1));
    }
    let origin = *firsts.iter().min().ok_or(ValidationError::NoCustomers)?;
    let options = FitOptions::default();
    let (fitted, params, loglik) = match model {
        ModelKind::BgNbd => {
            let fit = fit_bgnbd(&summaries, &options)?;
            (Fitted::BgNbd(fit.params), fit.params.named(), fit.loglik)
        }
        ModelKind::ParetoNbd => {
            let fit = fit_pareto_nbd(&summaries, &options)?;
            (
                Fitted::ParetoNbd(fit.params),
                fit.params.named(),
                fit.loglik,
            )
        }
        ModelKind::MbgNbd => {
            let fit = fit_mbgnbd(&summaries, &options)?;
            (Fitted::MbgNbd(fit.params), fit.params.named(), fit.loglik)
        }
        other => return Err(ValidationError::NotARepeatModel(other.as_str())),
    };

    // Weekly tracking. Customers who share a first day share the expectation curve, so
    // group them: CDNOW's 2,357 customers have 84 distinct first days.
    let mut cohorts: Vec<(f64, usize)> = Vec::new();
    let mut sorted_firsts = firsts.clone();
    sorted_firsts.sort_unstable();
    for first in sorted_firsts {
        let start = weeks(origin, first);
        match cohorts.last_mut() {
            Some((s, n)) if *s == start => *n += 1,
            _ => cohorts.push((start, 1)),
        }
    }
    repeat_days.sort_unstable();
    let n_weeks = ((holdout_end - origin).num_days() as f64 / 7.0).ceil() as u32;
    let mut weekly = Vec::with_capacity(n_weeks as usize);
    let mut seen = 0usize;
    for week in 1..=n_weeks {
        let boundary = origin + chrono::Days::new(7 * u64::from(week));
        while seen < repeat_days.len() && repeat_days[seen] < boundary {
            seen += 1;
        }
        let t = f64::from(week);
        let expected: f64 = cohorts
            .iter()
            .filter(|(start, _)| *start < t)
            .map(|(start, n)| *n as f64 * fitted.cumulative(t - start))
            .sum();
        weekly.push(WeekPoint {
            week,
            expected_cumulative: expected,
            actual_cumulative: seen as u64,
        });
    }

    // Conditional expectations by calibration frequency.
    let horizon = weeks(calibration_end, holdout_end);
    let mut buckets: Vec<(usize, f64, f64)> = vec![(0, 0.0, 0.0); max_frequency as usize + 1];
    let mut expected_total = 0.0;
    for (summary, holdout) in summaries.iter().zip(&holdout_counts) {
        let expected = fitted.conditional(summary, horizon);
        expected_total += expected;
        let bucket = (summary.frequency as usize).min(max_frequency as usize);
        buckets[bucket].0 += 1;
        buckets[bucket].1 += expected;
        buckets[bucket].2 += *holdout as f64;
    }
    let by_frequency = buckets
        .into_iter()
        .enumerate()
        .filter(|(_, (n, _, _))| *n > 0)
        .map(|(x, (n, expected, actual))| FrequencyPoint {
            frequency: x as u32,
            and_more: x as u32 == max_frequency,
            customers: n,
            expected_mean: expected / n as f64,
            actual_mean: actual / n as f64,
        })
        .collect();
    Ok(Validation {
        model,
        params,
        loglik,
        customers: summaries.len(),
        origin,
        calibration_end,
        holdout_end,
        calibration_weeks: weeks(origin, calibration_end),
        weekly,
        by_frequency,
        expected_holdout_total: expected_total,
        actual_holdout_total: holdout_counts.iter().map(|n| *n as u64).sum(),
    })
}
