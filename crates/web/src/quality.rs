//! How well the analysis holds up on the company's own data: the reports kept with each
//! analysis run (shown on the overview, served by `/api/v1/analysis/reports/{kind}`).

use chrono::NaiveDate;
use serde_json::{Value, json};
use winback_engine::analysis::{self, Settings};

/// Weeks of the holdout in the stored model validation, and days of the backtest horizon.
const HOLDOUT_WEEKS: u64 = 26;
const BACKTEST_DAYS: u32 = 180;

/// How well the analysis holds up on the company's own data, kept with each run: the
/// model's holdout validation (the last 26 weeks held out: weekly tracking and conditional
/// expectations by frequency) and the backtest of the statuses (as of 180 days ago against
/// what the customers did since). A report that cannot be made (too little history) is left
/// out with a log line; it never fails the analysis.
pub fn reports(
    loaded: &winback_store::analysis::LoadedHistories,
    as_of: NaiveDate,
    settings: &Settings,
) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let calibration_end = as_of - chrono::Days::new(HOLDOUT_WEEKS * 7);
    let purchases: Vec<Vec<NaiveDate>> = loaded
        .histories
        .iter()
        .map(|h| {
            h.orders
                .iter()
                .filter(|o| !o.cancelled)
                .map(|o| o.ordered_at.date_naive())
                .collect()
        })
        .collect();
    match winback_engine::validation::holdout_validation(
        &purchases,
        calibration_end,
        as_of,
        winback_engine::models::ModelKind::BgNbd,
        7,
    ) {
        Ok(v) => out.push((
            "validation",
            json!({
                "model": v.model.as_str(),
                "customers": v.customers,
                "loglik": v.loglik,
                "origin": v.origin.to_string(),
                "calibration_end": v.calibration_end.to_string(),
                "holdout_end": v.holdout_end.to_string(),
                "calibration_weeks": v.calibration_weeks,
                "expected_holdout_total": v.expected_holdout_total,
                "actual_holdout_total": v.actual_holdout_total,
                "weekly": v.weekly.iter().map(|w| json!({"week": w.week, "expected": w.expected_cumulative, "actual": w.actual_cumulative})).collect::<Vec<_>>(),
                "by_frequency": v.by_frequency.iter().map(|f| json!({"frequency": f.frequency, "and_more": f.and_more, "customers": f.customers, "expected": f.expected_mean, "actual": f.actual_mean})).collect::<Vec<_>>(),
            }),
        )),
        Err(error) => tracing::warn!(%error, "no model validation for this run"),
    }
    let then = as_of - chrono::Days::new(u64::from(BACKTEST_DAYS));
    match analysis::backtest(
        &loaded.histories,
        &loaded.products,
        then,
        BACKTEST_DAYS,
        settings,
    ) {
        Ok(b) => out.push((
            "backtest",
            json!({
                "as_of": b.as_of.to_string(),
                "horizon_days": b.horizon_days,
                "customers": b.customers,
                "bought_again": b.bought_again,
                "inactive_recall": b.inactive_recall,
                "expected_purchases": b.expected_purchases,
                "actual_purchases": b.actual_purchases,
                "statuses": b.statuses.iter().map(|s| json!({"status": s.status.as_str(), "customers": s.customers, "bought_again": s.bought_again, "precision": s.precision, "recall": s.recall})).collect::<Vec<_>>(),
                "calibration": b.calibration.iter().map(|c| json!({"from": c.from, "to": c.to, "customers": c.customers, "mean_p_alive": c.mean_p_alive, "bought_again": c.bought_again})).collect::<Vec<_>>(),
            }),
        )),
        Err(error) => tracing::warn!(%error, "no backtest for this run"),
    }
    out
}
