//! Statuses follow each customer's own rhythm: "a customer who buys every week and has been
//! silent for two months is more likely gone than one who buys twice a year".

use chrono::{Days, NaiveDate};
use winback_engine::Money;
use winback_engine::analysis::{CustomerHistory, OrderFact, Settings, Status, analyze};

fn history(id: &str, days: &[NaiveDate]) -> CustomerHistory {
    CustomerHistory {
        external_id: id.to_string(),
        segment: None,
        industry: None,
        created_at: days
            .first()
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .map(|t| t.and_utc()),
        orders: days
            .iter()
            .map(|d| OrderFact {
                ordered_at: d.and_hms_opt(12, 0, 0).expect("a valid time").and_utc(),
                gross: Money::from_cents(5_000),
                margin: Some(Money::from_cents(2_000)),
                discount: Money::ZERO,
                voucher: false,
                delivery_promised_on: Some(*d + Days::new(3)),
                delivered_on: Some(*d + Days::new(2)),
                returned: false,
                cancelled: false,
            })
            .collect(),
        lines: Vec::new(),
        complaints: Vec::new(),
        contracts: Vec::new(),
    }
}

/// Purchases every `gap` days from `first` up to and including `last`.
fn every(gap: u64, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = first;
    while d <= last {
        out.push(d);
        d = d + Days::new(gap);
    }
    out
}

#[test]
fn a_weekly_buyer_silent_for_two_months_counts_before_a_twice_a_year_buyer() {
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid date");
    let two_months_ago = as_of - Days::new(60);
    let start = NaiveDate::from_ymd_opt(2022, 1, 3).expect("a valid date");
    // A customer base to fit the model on: regular buyers of every rhythm, all recent.
    let mut histories = Vec::new();
    for (k, gap) in [7u64, 14, 30, 45, 60, 90, 120, 180].iter().enumerate() {
        for j in 0..5u64 {
            let last = as_of - Days::new((j * 3 + k as u64) % (*gap / 2 + 1));
            let first = start + Days::new(j * 11);
            let mut days = every(*gap, first, last);
            if days.last() != Some(&last) {
                days.push(last);
            }
            histories.push(history(&format!("B{k}{j}"), &days));
        }
    }
    // And customers who left a year or two ago, so the model learns that people drop out.
    for (k, gap) in [7u64, 14, 30, 60].iter().enumerate() {
        for j in 0..5u64 {
            let last = as_of - Days::new(365 + 80 * j + 7 * k as u64);
            let days = every(*gap, last - Days::new(gap * 12), last);
            histories.push(history(&format!("L{k}{j}"), &days));
        }
    }
    let base = histories.len();
    let weekly = every(7, two_months_ago - Days::new(7 * 52), two_months_ago);
    let twice_a_year = every(182, two_months_ago - Days::new(182 * 6), two_months_ago);
    assert_eq!(weekly.last(), Some(&two_months_ago));
    assert_eq!(twice_a_year.last(), Some(&two_months_ago));
    histories.push(history("WEEKLY", &weekly));
    histories.push(history("TWICE", &twice_a_year));

    let a = analyze(&histories, &[], as_of, &Settings::default()).expect("analysis");
    let n = histories.len();
    let (w, t) = (&a.customers[n - 2], &a.customers[n - 1]);
    assert_eq!(t.status, Status::Active, "twice-a-year buyer: {t:?}");
    assert!(
        matches!(w.status, Status::Sleeping | Status::Lost),
        "weekly buyer silent for two months: {w:?}"
    );
    assert!(w.status > t.status);
    assert!(w.p_alive < t.p_alive, "{} vs {}", w.p_alive, t.p_alive);
    assert!(
        w.p_alive < 0.2,
        "P(alive) of the weekly buyer: {}",
        w.p_alive
    );
    // The silence is reported against the customer's own rhythm.
    let silent = w
        .evidence
        .iter()
        .find_map(|e| match e {
            winback_engine::analysis::Evidence::DaysSilent {
                days,
                usual_gap_days,
                ..
            } => Some((*days, *usual_gap_days)),
            _ => None,
        })
        .expect("days silent");
    assert_eq!(silent, (60, Some(7.0)));
    // The regular buyers of the base are all active, those who left a year ago are not.
    for r in &a.customers[..base - 20] {
        assert_eq!(r.status, Status::Active, "{r:?}");
    }
    for r in &a.customers[base - 20..base] {
        assert_eq!(r.status, Status::Lost, "{r:?}");
    }
}

#[test]
fn a_segment_threshold_applies_to_customers_without_a_rhythm() {
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid date");
    let mut histories = Vec::new();
    for j in 0..20u64 {
        let days = every(30, as_of - Days::new(400 + j), as_of - Days::new(j));
        histories.push(history(&format!("B{j}"), &days));
    }
    // Two one-off buyers, 200 days ago: inactive after 180 days by default; a segment that
    // waits 270 days keeps its customer active.
    let once = [as_of - Days::new(200)];
    histories.push(history("ONCE", &once));
    let mut patient = history("PATIENT", &once);
    patient.segment = Some("Möbel".to_string());
    histories.push(patient);
    let settings = Settings::from_pairs([("segment[Möbel].inactive_after_days", "270")])
        .expect("valid settings");
    let a = analyze(&histories, &[], as_of, &settings).expect("analysis");
    let n = histories.len();
    assert_eq!(a.customers[n - 2].status, Status::Sleeping);
    assert_eq!(a.customers[n - 1].status, Status::Active);
}
