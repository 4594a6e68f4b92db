//! Scoring the analysis against the demo company's planted truth.

use std::fmt;

use chrono::NaiveDate;

use super::{Cause, CustomerResult, LossKind, Status};
use crate::demo::{Truth, TruthStatus};

/// Precision and recall of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub name: &'static str,
    /// Customers of this class in the truth.
    pub truth: usize,
    /// Customers the analysis put in this class.
    pub predicted: usize,
    /// Customers in both.
    pub hits: usize,
}

impl ClassScore {
    /// Share of the predicted that are right (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.hits as f64 / self.predicted as f64
        }
    }

    /// Share of the true ones that were found (1 when there are none).
    pub fn recall(&self) -> f64 {
        if self.truth == 0 {
            1.0
        } else {
            self.hits as f64 / self.truth as f64
        }
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// How well the analysis matches the planted truth.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthScore {
    pub customers: usize,
    /// Rows: true status, columns: predicted status, both in [`Status::ALL`] order.
    pub confusion: [[usize; 4]; 4],
    /// Per status (active, at risk, sleeping, lost).
    pub statuses: Vec<ClassScore>,
    /// Per kind of loss, over all customers (the truth gives kinds for lost customers and
    /// for customers at risk with a loss under way).
    pub loss_kinds: Vec<ClassScore>,
    /// Per kind of loss among the customers that are lost both in the truth and in the
    /// analysis: how well the kind is told apart once the loss is found.
    pub loss_kinds_among_lost: Vec<ClassScore>,
    /// Per cause, over all customers.
    pub causes: Vec<ClassScore>,
    pub bargain_hunters: ClassScore,
    /// Customers lost in both whose loss date is within 30 days of the truth, and all such.
    pub lost_on_within_30_days: (usize, usize),
    /// Median absolute error of the loss date, in days, over customers lost in both.
    pub lost_on_median_error_days: f64,
}

fn status_index(s: TruthStatus) -> usize {
    match s {
        TruthStatus::Active => 0,
        TruthStatus::AtRisk => 1,
        TruthStatus::Sleeping => 2,
        TruthStatus::Lost => 3,
    }
}

fn class<T: PartialEq + Copy>(
    name: &'static str,
    value: T,
    pairs: impl Iterator<Item = (Option<T>, Option<T>)>,
) -> ClassScore {
    let mut c = ClassScore {
        name,
        truth: 0,
        predicted: 0,
        hits: 0,
    };
    for (truth, pred) in pairs {
        let t = truth == Some(value);
        let p = pred == Some(value);
        c.truth += t as usize;
        c.predicted += p as usize;
        c.hits += (t && p) as usize;
    }
    c
}

/// Compares results with the truth, customer by customer (same order, same length; extra
/// entries on either side are ignored).
pub fn score_against_truth(results: &[CustomerResult], truth: &[Truth]) -> TruthScore {
    let n = results.len().min(truth.len());
    let (results, truth) = (&results[..n], &truth[..n]);
    let mut confusion = [[0usize; 4]; 4];
    for (r, t) in results.iter().zip(truth) {
        confusion[status_index(t.status)][r.status as usize] += 1;
    }
    let statuses = Status::ALL
        .iter()
        .enumerate()
        .map(|(k, s)| ClassScore {
            name: s.as_str(),
            truth: confusion[k].iter().sum(),
            predicted: confusion.iter().map(|row| row[k]).sum(),
            hits: confusion[k][k],
        })
        .collect();
    let pairs_kind = || {
        results
            .iter()
            .zip(truth)
            .map(|(r, t)| (t.loss_kind, r.loss_kind))
    };
    let loss_kinds = LossKind::ALL
        .iter()
        .map(|&k| class(k.as_str(), k, pairs_kind()))
        .collect();
    let both_lost = || {
        results
            .iter()
            .zip(truth)
            .filter(|(r, t)| r.status == Status::Lost && t.status == TruthStatus::Lost)
    };
    let loss_kinds_among_lost = LossKind::ALL
        .iter()
        .map(|&k| {
            class(
                k.as_str(),
                k,
                both_lost().map(|(r, t)| (t.loss_kind, r.loss_kind)),
            )
        })
        .collect();
    let causes = Cause::ALL
        .iter()
        .map(|&c| {
            class(
                c.as_str(),
                c,
                results
                    .iter()
                    .zip(truth)
                    .map(|(r, t)| (t.cause, r.likely_cause)),
            )
        })
        .collect();
    let bargain_hunters = class(
        "bargain_hunter",
        true,
        results
            .iter()
            .zip(truth)
            .map(|(r, t)| (Some(t.bargain_hunter), Some(r.bargain_hunter))),
    );
    let mut errors: Vec<i64> = both_lost()
        .filter_map(|(r, t)| {
            let (a, b): (NaiveDate, NaiveDate) = (r.lost_on?, t.lost_on?);
            Some((a - b).num_days().abs())
        })
        .collect();
    errors.sort_unstable();
    let within = errors.iter().filter(|e| **e <= 30).count();
    let median = if errors.is_empty() {
        0.0
    } else {
        errors[errors.len() / 2] as f64
    };
    TruthScore {
        customers: n,
        confusion,
        statuses,
        loss_kinds,
        loss_kinds_among_lost,
        causes,
        bargain_hunters,
        lost_on_within_30_days: (within, errors.len()),
        lost_on_median_error_days: median,
    }
}

fn table(f: &mut fmt::Formatter<'_>, title: &str, rows: &[ClassScore]) -> fmt::Result {
    writeln!(
        f,
        "| {title:<22} | truth | predicted | hits | precision | recall |    F1 |"
    )?;
    writeln!(
        f,
        "|{:-<24}|------:|----------:|-----:|----------:|-------:|------:|",
        ""
    )?;
    for c in rows {
        writeln!(
            f,
            "| {:<22} | {:>5} | {:>9} | {:>4} | {:>9.3} | {:>6.3} | {:>5.3} |",
            c.name,
            c.truth,
            c.predicted,
            c.hits,
            c.precision(),
            c.recall(),
            c.f1()
        )?;
    }
    writeln!(f)
}

impl fmt::Display for TruthScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} customers\n", self.customers)?;
        writeln!(
            f,
            "| truth \\ predicted | active | at_risk | sleeping |   lost |"
        )?;
        writeln!(
            f,
            "|-------------------|-------:|--------:|---------:|-------:|"
        )?;
        for (k, s) in Status::ALL.iter().enumerate() {
            let row = self.confusion[k];
            writeln!(
                f,
                "| {:<17} | {:>6} | {:>7} | {:>8} | {:>6} |",
                s.as_str(),
                row[0],
                row[1],
                row[2],
                row[3]
            )?;
        }
        writeln!(f)?;
        table(f, "status", &self.statuses)?;
        table(f, "loss kind (all)", &self.loss_kinds)?;
        table(f, "loss kind (both lost)", &self.loss_kinds_among_lost)?;
        table(f, "cause", &self.causes)?;
        table(
            f,
            "bargain hunters",
            std::slice::from_ref(&self.bargain_hunters),
        )?;
        let (within, of) = self.lost_on_within_30_days;
        writeln!(
            f,
            "lost_on within 30 days of the truth: {within} of {of} ({:.1} %), median error {} days",
            if of == 0 {
                0.0
            } else {
                100.0 * within as f64 / of as f64
            },
            self.lost_on_median_error_days
        )
    }
}

impl TruthScore {
    /// The score of a status.
    pub fn status(&self, s: Status) -> &ClassScore {
        &self.statuses[s as usize]
    }

    /// The score of a kind of loss over all customers.
    pub fn loss_kind(&self, k: LossKind) -> &ClassScore {
        let i = LossKind::ALL.iter().position(|x| *x == k).unwrap_or(0);
        &self.loss_kinds[i]
    }

    /// The score of a cause.
    pub fn cause(&self, c: Cause) -> &ClassScore {
        let i = Cause::ALL.iter().position(|x| *x == c).unwrap_or(0);
        &self.causes[i]
    }
}
