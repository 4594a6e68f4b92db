//! The analysis results the pages and the API read: summary, lost by month, the list by
//! status, a customer's history across runs, the model, and alerts with their feedback.

use chrono::{NaiveDate, TimeZone, Utc};
use winback_engine::Money;
use winback_store::analysis::{AlertRow, RunMeta, StatusRow};
use winback_store::{AlertChange, AlertQuery, Db, StatusQuery};

use crate::both_backends;
use crate::web::{customer, import, seed};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn status(
    customer_id: i64,
    status: &'static str,
    kind: Option<&'static str>,
    lost_on: Option<NaiveDate>,
    p_alive: f64,
    clv: i64,
) -> StatusRow {
    StatusRow {
        customer_id,
        status,
        loss_kind: kind,
        lost_on,
        likely_cause: None,
        p_alive,
        expected_transactions_52w: 1.5,
        clv: Money::from_cents(clv),
        bargain_hunter: false,
        evidence: r#"[{"kind":"days_silent","days":143,"usual_gap_days":30.0,"last_purchase_on":"2026-02-10"}]"#.into(),
    }
}

fn meta(as_of: NaiveDate) -> RunMeta {
    RunMeta {
        as_of,
        model: "bg_nbd".into(),
        params: r#"{"r":0.25,"alpha":4.5,"a":0.8,"b":2.4}"#.into(),
        loglik: Some(-123.5),
        started_at: Utc::now(),
    }
}

async fn ids(db: &Db) -> (i64, i64, i64) {
    let rows = db
        .list_customers(&winback_store::CustomerQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let id = |x: &str| rows.iter().find(|c| c.external_id == x).unwrap().id;
    (id("K1"), id("K2"), id("K3"))
}

async fn analysis_results_are_read_back_per_owner_and_alerts_keep_their_feedback(db: Db) {
    // No customer, or none with an owner: the lists leave the owner column out.
    assert!(!db.any_account_owner().await.unwrap());
    import(
        &db,
        winback_engine::Kind::Customers,
        vec![customer("K0", "Ohne Betreuer", None)],
    )
    .await;
    assert!(!db.any_account_owner().await.unwrap());
    seed(&db).await;
    assert!(db.any_account_owner().await.unwrap());
    assert!(db.latest_run().await.unwrap().is_none());
    assert!(db.run_summary(None).await.unwrap().is_none());
    assert!(
        db.customers_by_status(&StatusQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
    );
    let (k1, k2, k3) = ids(&db).await;
    // Run 1: everyone active.
    db.save_analysis(
        &meta(day(2026, 3, 1)),
        vec![
            status(k1, "active", None, None, 0.9, 5000),
            status(k2, "active", None, None, 0.8, 3000),
            status(k3, "active", None, None, 0.7, 1000),
        ],
        vec![],
    )
    .await
    .unwrap();
    // Run 2: K1 at risk, K2 and K3 lost.
    let run2 = db
        .save_analysis(
            &meta(day(2026, 6, 1)),
            vec![
                status(k1, "at_risk", Some("fade_out"), None, 0.4, 2000),
                status(
                    k2,
                    "lost",
                    Some("silent_defector"),
                    Some(day(2026, 4, 15)),
                    0.1,
                    0,
                ),
                status(
                    k3,
                    "lost",
                    Some("quiet_canceller"),
                    Some(day(2026, 5, 3)),
                    0.05,
                    0,
                ),
            ],
            vec![
                AlertRow {
                    customer_id: k1,
                    signal: "falling_frequency",
                    raised_on: day(2026, 5, 20),
                    evidence: "[]".into(),
                },
                AlertRow {
                    customer_id: k2,
                    signal: "p_alive_drop",
                    raised_on: day(2026, 5, 1),
                    evidence: "[]".into(),
                },
            ],
        )
        .await
        .unwrap();

    let run = db.latest_run().await.unwrap().unwrap();
    assert_eq!(
        (run.id, run.as_of, run.model.as_str()),
        (run2, day(2026, 6, 1), "bg_nbd")
    );
    assert_eq!(run.loglik, Some(-123.5));
    assert!(run.params.contains("\"alpha\":4.5"));

    let all = db.run_summary(None).await.unwrap().unwrap();
    assert_eq!(
        all.status_counts,
        [
            ("active".to_owned(), 0),
            ("at_risk".into(), 1),
            ("sleeping".into(), 0),
            ("lost".into(), 2)
        ]
    );
    assert_eq!(all.customers, 3);
    assert_eq!(
        all.loss_kinds,
        [
            ("quiet_canceller".to_owned(), 1),
            ("silent_defector".into(), 1)
        ]
    );
    // K1's orders of January and February (100.00 + 50.50), within 12 months of June.
    assert_eq!(all.at_risk_revenue_12m_cents, 15_050);
    assert_eq!(all.at_risk_clv_cents, 2000);
    assert_eq!(all.alerts_new, 2);
    let rep_a = db
        .run_summary(Some("rep.a@firma.de"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            rep_a.count("at_risk"),
            rep_a.count("lost"),
            rep_a.alerts_new
        ),
        (1, 1, 1)
    );

    let months = db.lost_by_month(None).await.unwrap();
    let months: Vec<_> = months
        .iter()
        .map(|m| (m.month.as_str(), m.loss_kind.as_str(), m.customers))
        .collect();
    assert_eq!(
        months,
        [
            ("2026-04", "silent_defector", 1),
            ("2026-05", "quiet_canceller", 1)
        ]
    );
    assert_eq!(
        db.lost_by_month(Some("rep.a@firma.de"))
            .await
            .unwrap()
            .len(),
        1
    );

    let lost = db
        .customers_by_status(&StatusQuery {
            status: Some("lost".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let names: Vec<_> = lost
        .iter()
        .map(|r| r.customer.external_id.as_str())
        .collect();
    assert_eq!(names, ["K2", "K3"]);
    assert_eq!(lost[0].status.lost_on, Some(day(2026, 4, 15)));
    assert!(lost[0].status.evidence.contains("days_silent"));
    let page2 = db
        .customers_by_status(&StatusQuery {
            status: Some("lost".into()),
            after_id: Some(k2),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page2[0].customer.id, k3);
    let own = db
        .customers_by_status(&StatusQuery {
            owner: Some("rep.a@firma.de".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        own.iter().map(|r| r.customer.id).collect::<Vec<_>>(),
        [k1, k3]
    );

    let history = db.customer_history(k1, None).await.unwrap().unwrap();
    let points: Vec<_> = history
        .iter()
        .map(|h| (h.as_of, h.status.status.as_str(), h.status.p_alive))
        .collect();
    assert_eq!(
        points,
        [
            (day(2026, 3, 1), "active", 0.9),
            (day(2026, 6, 1), "at_risk", 0.4)
        ]
    );
    assert!(
        db.customer_history(k1, Some("rep.b@firma.de"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.customer_history(k1, Some("rep.a@firma.de"))
            .await
            .unwrap()
            .unwrap()
            .len(),
        2
    );

    // Alerts: newest first, by state and owner.
    let new = db
        .alerts(&AlertQuery {
            state: Some("new".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(new.len(), 2);
    assert!(new[0].id > new[1].id);
    let mine = db
        .alerts(&AlertQuery {
            owner: Some("rep.a@firma.de".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let alert = &mine[0];
    assert_eq!(
        (alert.customer.id, alert.signal.as_str(), alert.first_run_id),
        (k1, "falling_frequency", run2)
    );

    let at = Utc.with_ymd_and_hms(2026, 6, 2, 9, 30, 0).unwrap();
    let ack = AlertChange {
        to_state: "acknowledged",
        by: "rep.a@firma.de",
        note: None,
        at,
    };
    assert!(
        db.set_alert_state(alert.id, Some("rep.b@firma.de"), &ack)
            .await
            .unwrap()
            .is_none(),
        "another owner's alert is not found"
    );
    assert!(db.alert_events(alert.id).await.unwrap().is_empty());
    let changed = db
        .set_alert_state(alert.id, Some("rep.a@firma.de"), &ack)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.state.as_str(), changed.state_changed_at),
        ("acknowledged", Some(at))
    );
    let later = Utc.with_ymd_and_hms(2026, 6, 3, 10, 0, 0).unwrap();
    let changed = db
        .set_alert_state(
            alert.id,
            None,
            &AlertChange {
                to_state: "false_alarm",
                by: "manager@firma.de",
                note: Some(" ordered by phone "),
                at: later,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            changed.state.as_str(),
            changed.state_changed_by.as_deref(),
            changed.note.as_deref()
        ),
        (
            "false_alarm",
            Some("manager@firma.de"),
            Some("ordered by phone")
        )
    );
    let events = db.alert_events(alert.id).await.unwrap();
    let steps: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.from_state.as_str(),
                e.to_state.as_str(),
                e.changed_by.as_str(),
                e.note.as_deref(),
                e.changed_at,
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("new", "acknowledged", "rep.a@firma.de", None, at),
            (
                "acknowledged",
                "false_alarm",
                "manager@firma.de",
                Some("ordered by phone"),
                later
            ),
        ]
    );
    assert_eq!(
        db.alert(alert.id, Some("rep.b@firma.de")).await.unwrap(),
        None
    );
    let counts = db.alert_state_counts(None).await.unwrap();
    assert_eq!(
        counts,
        [
            ("new".to_owned(), 1),
            ("acknowledged".into(), 0),
            ("action_taken".into(), 0),
            ("false_alarm".into(), 1)
        ]
    );
    // Re-storing the same alert in a new run keeps its feedback.
    db.save_analysis(
        &meta(day(2026, 6, 2)),
        vec![status(k1, "at_risk", None, None, 0.4, 2000)],
        vec![AlertRow {
            customer_id: k1,
            signal: "falling_frequency",
            raised_on: day(2026, 5, 20),
            evidence: "[]".into(),
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        db.alert(alert.id, None).await.unwrap().unwrap().state,
        "false_alarm"
    );
}
both_backends!(
    analysis_results_are_read_back_per_owner_and_alerts_keep_their_feedback,
    super::analysis_results_are_read_back_per_owner_and_alerts_keep_their_feedback
);

async fn pruning_keeps_the_latest_runs_statuses_and_every_run(db: Db) {
    seed(&db).await;
    // Nothing to prune yet.
    assert_eq!(db.prune_statuses(1).await.unwrap(), 0);
    let (k1, k2, k3) = ids(&db).await;
    let mut runs = Vec::new();
    for (month, p) in [(3, 0.9), (4, 0.8), (5, 0.7)] {
        let run = db
            .save_analysis(
                &meta(day(2026, month, 1)),
                vec![
                    status(k1, "active", None, None, p, 5000),
                    status(k2, "active", None, None, p, 3000),
                    status(k3, "active", None, None, p, 1000),
                ],
                vec![AlertRow {
                    customer_id: k1,
                    signal: "falling_frequency",
                    raised_on: day(2026, month, 1),
                    evidence: "[]".into(),
                }],
            )
            .await
            .unwrap();
        runs.push(run);
    }
    let points = |h: Vec<winback_store::HistoryPoint>| -> Vec<(i64, f64)> {
        h.iter().map(|p| (p.run_id, p.status.p_alive)).collect()
    };
    let before = db.customer_history(k1, None).await.unwrap().unwrap();
    assert_eq!(
        points(before),
        [(runs[0], 0.9), (runs[1], 0.8), (runs[2], 0.7)]
    );

    // Keep two: the oldest run's three statuses go, the newer two stay whole.
    assert_eq!(db.prune_statuses(2).await.unwrap(), 3);
    let after = db.customer_history(k1, None).await.unwrap().unwrap();
    assert_eq!(points(after), [(runs[1], 0.8), (runs[2], 0.7)]);
    // Idempotent.
    assert_eq!(db.prune_statuses(2).await.unwrap(), 0);
    // The runs, the latest results and the alerts are untouched.
    assert_eq!(db.latest_run().await.unwrap().unwrap().id, runs[2]);
    let summary = db.run_summary(None).await.unwrap().unwrap();
    assert!(
        summary.status_counts.contains(&("active".to_owned(), 3)),
        "{:?}",
        summary.status_counts
    );
    let alerts = db
        .alerts(&AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts.len(), 3);

    // Keep one (0 counts as 1: the latest results are never pruned).
    assert_eq!(db.prune_statuses(0).await.unwrap(), 3);
    let last = db.customer_history(k1, None).await.unwrap().unwrap();
    assert_eq!(points(last), [(runs[2], 0.7)]);
}
both_backends!(
    pruning_keeps_the_latest_runs_statuses_and_every_run,
    super::pruning_keeps_the_latest_runs_statuses_and_every_run
);

/// Every field of a stored status reads back as it was given, on both backends (PostgreSQL
/// stores a run's statuses through COPY in CSV, SQLite through bound parameters): texts with
/// quotes, commas, line breaks and non-ASCII letters, floats to the last bit, NULLs.
async fn a_stored_status_reads_back_exactly(db: Db) {
    seed(&db).await;
    let (k1, k2, _) = ids(&db).await;
    let tricky = StatusRow {
        customer_id: k1,
        status: "lost",
        loss_kind: Some("complainer_who_left"),
        lost_on: Some(day(2025, 12, 31)),
        likely_cause: Some("unresolved_complaint"),
        p_alive: 0.1 + 0.2,
        expected_transactions_52w: 1e-9,
        clv: Money::from_cents(-12_345),
        bargain_hunter: true,
        evidence: "[{\"kind\":\"note\",\"text\":\"a \\\"quote\\\", a comma,\\nand Grüße\"}]".into(),
    };
    let plain = StatusRow {
        customer_id: k2,
        ..status(k2, "active", None, None, 1.0, 0)
    };
    db.save_analysis(
        &meta(day(2026, 1, 5)),
        vec![tricky.clone(), plain.clone()],
        vec![],
    )
    .await
    .unwrap();
    for row in [tricky, plain] {
        let history = db
            .customer_history(row.customer_id, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(history.len(), 1);
        let got = &history[0].status;
        assert_eq!(got.status, row.status);
        assert_eq!(got.loss_kind.as_deref(), row.loss_kind);
        assert_eq!(got.lost_on, row.lost_on);
        assert_eq!(got.likely_cause.as_deref(), row.likely_cause);
        assert_eq!(got.p_alive.to_bits(), row.p_alive.to_bits());
        assert_eq!(
            got.expected_transactions_52w.to_bits(),
            row.expected_transactions_52w.to_bits()
        );
        assert_eq!(got.clv_cents, row.clv.cents());
        assert_eq!(got.bargain_hunter, row.bargain_hunter);
        assert_eq!(got.evidence, row.evidence);
    }
}

both_backends!(
    a_stored_status_reads_back_exactly,
    super::a_stored_status_reads_back_exactly
);
