//! Shared helpers for the model tests: the CDNOW data copied from `shared/data/`.
#![allow(dead_code)]

use winback_engine::models::CustomerSummary;

pub struct CdnowRow {
    pub summary: CustomerSummary,
    pub x_holdout: f64,
}

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("test data {path}: {e}"))
}

/// `tests/data/cdnow_sample_summary.csv`: `customer_id,x,t_x,T,monetary_value,x_holdout,first_purchase`.
pub fn cdnow() -> Vec<CdnowRow> {
    data("cdnow_sample_summary.csv")
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line
                .split(',')
                .take(6)
                .map(|v| v.parse().expect("numeric column"))
                .collect();
            CdnowRow {
                summary: CustomerSummary::new(f[1], f[2], f[3], f[4]).expect("valid summary"),
                x_holdout: f[5],
            }
        })
        .collect()
}

pub fn cdnow_summaries() -> Vec<CustomerSummary> {
    cdnow().into_iter().map(|r| r.summary).collect()
}

/// `(year, survivors)` rows of one cohort.
pub type Cohort = Vec<(u32, f64)>;

/// `tests/data/sbg_survivors.csv` as two cohorts `(high end, regular)` of `(year, survivors)`.
pub fn sbg_cohorts() -> (Cohort, Cohort) {
    let mut high = Vec::new();
    let mut regular = Vec::new();
    for line in data("sbg_survivors.csv").lines().skip(1) {
        let f: Vec<f64> = line
            .split(',')
            .map(|v| v.parse().expect("numeric column"))
            .collect();
        let year = f[0] as u32;
        high.push((year, f[1]));
        regular.push((year, f[2]));
    }
    (high, regular)
}

/// `tests/data/donations.csv`: `(frequency, recency, periods, weights)`.
pub fn donations() -> Vec<[f64; 4]> {
    data("donations.csv")
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line
                .split(',')
                .map(|v| v.parse().expect("numeric column"))
                .collect();
            [f[0], f[1], f[2], f[3]]
        })
        .collect()
}
