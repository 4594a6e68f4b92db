//! `winback demo`, `winback analyze` and `winback export customers` end to end, on both
//! databases: the demo company is written as export files, imported, analysed, scored
//! against its planted truth, stored and exported.

use crate::both_backends;
use crate::helpers::*;

async fn the_demo_company_is_analysed_stored_and_exported(env: TestEnv) {
    let out = env.run(&[
        "demo",
        "--customers",
        "800",
        "--seed",
        "3",
        "--as-of",
        "2026-11-24",
        "--out",
        "demo",
        "--no-serve",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stats()["customers"], 800);

    let out = env.run(&[
        "analyze",
        "--as-of",
        "2026-11-24",
        "--truth",
        "demo/truth.csv",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = &report["status"];
    let total: u64 = ["active", "at_risk", "sleeping", "lost"]
        .iter()
        .map(|s| status[*s].as_u64().unwrap())
        .sum();
    assert_eq!(total, 800);
    assert!(
        status["lost"].as_u64().unwrap() > 100,
        "the demo plants about a quarter lost: {status}"
    );
    assert!(
        report["truth_score"]
            .as_str()
            .unwrap()
            .contains("loud_canceller")
    );
    let loglik = report["loglik"].as_f64().unwrap();
    assert!(loglik.is_finite() && loglik < 0.0);

    // A second run stores a new run; alerts of the same customer, signal and day are not duplicated.
    let alerts = report["alerts"].as_u64().unwrap();
    let out = env.run(&["analyze", "--as-of", "2026-11-24", "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        again["run_id"].as_i64(),
        report["run_id"].as_i64().map(|id| id + 1)
    );
    assert_eq!(again["alerts"].as_u64(), Some(alerts));
    let snapshot = env.snapshot().await;
    let stored_alerts = snapshot
        .iter()
        .find(|(t, _)| t == "alerts")
        .unwrap()
        .1
        .len() as u64;
    assert_eq!(stored_alerts, alerts, "re-running did not duplicate alerts");

    // --keep-runs: only the latest runs keep their per-customer statuses.
    let statuses = |snapshot: &[(String, Vec<String>)]| {
        snapshot
            .iter()
            .find(|(t, _)| t == "customer_status")
            .unwrap()
            .1
            .len() as u64
    };
    let before = statuses(&snapshot);
    assert!(before >= 1600, "at least two runs of 800 so far: {before}");
    let out = env.run(&[
        "analyze",
        "--as-of",
        "2026-11-24",
        "--json",
        "--keep-runs",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pruned: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let snapshot = env.snapshot().await;
    assert_eq!(statuses(&snapshot), 1600, "two runs of 800 customers kept");
    assert_eq!(
        pruned["pruned_statuses"].as_u64(),
        Some(before + 800 - 1600)
    );
    let out = env.run(&["analyze", "--keep-runs", "0"]);
    assert!(
        !out.status.success(),
        "0 runs would prune the latest results"
    );

    let out = env.run(&["export", "customers", "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "id;name;status;loss_kind;lost_on;likely_cause;p_alive;expected_transactions_52w;clv"
    );
    assert_eq!(lines.count(), 800);

    let out = env.run(&["export", "customers", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 800);
    assert!(
        rows.iter()
            .all(|r| (0.0..=1.0).contains(&r["p_alive"].as_f64().unwrap()))
    );
    let lost = rows.iter().filter(|r| r["status"] == "lost").count() as u64;
    assert_eq!(lost, again["status"]["lost"].as_u64().unwrap());
    assert!(
        rows.iter()
            .filter(|r| r["status"] == "lost")
            .all(|r| r["lost_on"].is_string() && r["loss_kind"].is_string())
    );

    let out = env.run(&[
        "export",
        "customers",
        "--format",
        "xlsx",
        "--out",
        "customers.xlsx",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::read(env.path("customers.xlsx"))
            .unwrap()
            .starts_with(b"PK")
    );

    // A reader that stops early (`| head`): a quiet end with SIGPIPE's status, no error.
    // The JSON is larger than a pipe's buffer, so the export is still writing then.
    let json_len = env
        .run(&["export", "customers", "--format", "json"])
        .stdout
        .len();
    assert!(json_len > 100_000, "{json_len} bytes");
    let mut child = env
        .command()
        .args(["export", "customers", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no error message for a closed pipe");
}
both_backends!(the_demo_company_is_analysed_stored_and_exported);

#[tokio::test]
async fn a_backtest_reports_precision_and_calibration() {
    let env = TestEnv::new(Backend::Sqlite).await;
    let out = env.run(&[
        "demo",
        "--customers",
        "600",
        "--as-of",
        "2026-11-24",
        "--out",
        "demo",
        "--no-serve",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["analyze", "--as-of", "2026-05-28", "--backtest-days", "180"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("backtest as of 2026-05-28, horizon 180 days"),
        "{text}"
    );
    assert!(text.contains("P(alive) decile"), "{text}");
}

#[tokio::test]
async fn analysing_an_empty_database_says_what_to_do() {
    let env = TestEnv::new(Backend::Sqlite).await;
    let out = env.run(&["analyze"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("import customers and orders first"),
        "{}",
        stderr(&out)
    );
}
