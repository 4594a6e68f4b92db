//! Holdout validation on the CDNOW sample reproduces Fader, Hardie & Lee (2005), section 7:
//! 4,339 actual cumulative repeat purchases by week 78, about 4,166 expected under BG/NBD
//! and 4,275 under Pareto/NBD; and the conditional expectations use the same cohort as the
//! published summary file.

use chrono::NaiveDate;
use winback_engine::models::ModelKind;
use winback_engine::validation::{Validation, holdout_validation};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");

fn purchases() -> Vec<Vec<NaiveDate>> {
    let text = std::fs::read_to_string(format!("{DATA}CDNOW_sample.txt")).unwrap();
    let mut by_customer: Vec<Vec<NaiveDate>> = vec![Vec::new(); 2357];
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let id: usize = cells[1].parse().unwrap();
        let day = NaiveDate::parse_from_str(cells[2], "%Y%m%d").unwrap();
        by_customer[id - 1].push(day);
    }
    by_customer
}

/// The split of the published CDNOW analyses: calibration to 1997-09-30, holdout to
/// 1998-06-30, weeks.
fn published_split(kind: ModelKind) -> Validation {
    holdout_validation(
        &purchases(),
        date("1997-09-30"),
        date("1998-06-30"),
        kind,
        7,
    )
    .unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn bgnbd_tracks_cdnow_as_published() {
    let v = published_split(ModelKind::BgNbd);
    assert_eq!(v.customers, 2357);
    assert!((v.loglik + 9582.43).abs() < 0.1, "{}", v.loglik);
    let last = v.weekly.last().unwrap();
    assert_eq!(last.week, 78);
    assert_eq!(
        last.actual_cumulative,
        2457 + 1882,
        "Σx + Σx_holdout of the summary file"
    );
    assert!(
        (last.expected_cumulative - 4166.0).abs() < 5.0,
        "{}",
        last.expected_cumulative
    );
    // The curve never falls, and the actual count at the end of the calibration period is Σx.
    assert!(
        v.weekly
            .windows(2)
            .all(|w| w[1].expected_cumulative >= w[0].expected_cumulative)
    );
    let week_39 = &v.weekly[38];
    assert_eq!(week_39.actual_cumulative, 2457);
    assert_eq!(v.actual_holdout_total, 1882);
}

#[test]
fn pareto_nbd_tracks_cdnow_as_published() {
    let v = published_split(ModelKind::ParetoNbd);
    let last = v.weekly.last().unwrap();
    assert!(
        (last.expected_cumulative - 4275.0).abs() < 5.0,
        "{}",
        last.expected_cumulative
    );
}

#[test]
fn conditional_expectations_by_frequency_match_the_summary_file() {
    let v = published_split(ModelKind::BgNbd);
    // The actual means, computed independently from the published summary's x and x_holdout.
    let text = std::fs::read_to_string(format!("{DATA}cdnow_sample_summary.csv")).unwrap();
    let mut buckets = [(0usize, 0f64); 8];
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let x: usize = cells[1].parse().unwrap();
        let holdout: f64 = cells[5].parse().unwrap();
        buckets[x.min(7)].0 += 1;
        buckets[x.min(7)].1 += holdout;
    }
    assert_eq!(v.by_frequency.len(), 8);
    for point in &v.by_frequency {
        let (n, sum) = buckets[point.frequency as usize];
        assert_eq!(point.customers, n, "x = {}", point.frequency);
        assert!((point.actual_mean - sum / n as f64).abs() < 1e-12);
        assert!(point.expected_mean > 0.0 && point.expected_mean.is_finite());
    }
    assert!(v.by_frequency[7].and_more);
    // Customers with more repeat purchases are expected to buy more in the holdout.
    assert!(
        v.by_frequency
            .windows(2)
            .all(|w| w[1].expected_mean > w[0].expected_mean)
    );
}

#[test]
fn a_gamma_gamma_model_or_an_empty_holdout_is_a_clear_error() {
    let p = purchases();
    assert!(
        holdout_validation(
            &p,
            date("1997-09-30"),
            date("1998-06-30"),
            ModelKind::GammaGamma,
            7
        )
        .is_err()
    );
    assert!(
        holdout_validation(
            &p,
            date("1997-09-30"),
            date("1997-09-30"),
            ModelKind::BgNbd,
            7
        )
        .is_err()
    );
}
