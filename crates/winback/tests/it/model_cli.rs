//! `winback model fit` reproduces the published CDNOW results as a whole command-line process.

use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../engine/tests/data/");

fn fit(model: &str, file: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_winback"))
        .args([
            "model",
            "fit",
            "--model",
            model,
            "--summary",
            file,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(actual: &serde_json::Value, expected: f64, rel: f64) -> bool {
    let actual = actual.as_f64().unwrap();
    ((actual - expected) / expected).abs() < rel
}

#[test]
fn bgnbd_on_the_cdnow_summary_matches_fader_hardie_lee_2005() {
    let out = fit("bgnbd", &format!("{DATA}cdnow_sample_summary.csv"));
    assert_eq!(out["model"], "bgnbd");
    let p = &out["params"];
    for (name, published) in [
        ("r", 0.242595),
        ("alpha", 4.413602),
        ("a", 0.792922),
        ("b", 2.425907),
    ] {
        assert!(
            close(&p[name], published, 1e-3),
            "{name} = {} (published {published})",
            p[name]
        );
    }
    assert!(
        (out["loglik"].as_f64().unwrap() + 9582.429).abs() < 0.1,
        "{}",
        out["loglik"]
    );
    let customers = out["customers"].as_array().unwrap();
    assert_eq!(customers.len(), 2357);
    assert_eq!(customers[0]["id"], "1");
    assert!((customers[0]["p_alive"].as_f64().unwrap() - 0.727).abs() < 1e-3);
    assert!((customers[0]["expected_39"].as_f64().unwrap() - 1.226).abs() < 1e-3);
}

#[test]
fn pareto_nbd_and_gamma_gamma_reach_the_published_maxima() {
    let out = fit("pareto-nbd", &format!("{DATA}cdnow_sample_summary.csv"));
    assert!(
        (out["loglik"].as_f64().unwrap() + 9594.976).abs() < 0.1,
        "{}",
        out["loglik"]
    );
    let out = fit("gamma-gamma", &format!("{DATA}cdnow_sample_summary.csv"));
    for (name, published) in [("p", 6.249572), ("q", 3.744225), ("gamma", 15.443522)] {
        assert!(
            close(&out["params"][name], published, 1e-3),
            "{name} = {}",
            out["params"][name]
        );
    }
}

#[test]
fn sbg_fits_the_high_end_cohort_of_fader_hardie_2007() {
    let dir = std::env::temp_dir().join(format!("winback_sbg_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = std::fs::read_to_string(format!("{DATA}sbg_survivors.csv")).unwrap();
    // Years 0-7 of the high-end cohort, as the paper fits them.
    let mut file = String::from("period,survivors\n");
    for line in source.lines().skip(1).take(8) {
        let cells: Vec<&str> = line.split(',').collect();
        file.push_str(&format!("{},{}\n", cells[0], cells[1]));
    }
    let path = dir.join("highend.csv");
    std::fs::write(&path, file).unwrap();
    let out = fit("sbg", path.to_str().unwrap());
    assert!(
        close(&out["params"]["alpha"], 0.668, 1e-3),
        "{}",
        out["params"]
    );
    assert!(
        close(&out["params"]["beta"], 3.806, 1e-3),
        "{}",
        out["params"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_summary_row_is_named_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("winback_badsummary_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("summary.csv");
    std::fs::write(&path, "id,frequency,recency,T\n1,2,30.4,38.9\n2,zwei,1,2\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_winback"))
        .args([
            "model",
            "fit",
            "--model",
            "bgnbd",
            "--summary",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("summary.csv:3: frequency: 'zwei' is not a number"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A large summary (read in two halves on two threads) with a byte-order mark, CRLF line
/// ends, blank lines and an id that needs escaping gives the same customers, in file order,
/// as the plain file; a bad row in the second half is named with its line.
#[test]
fn a_large_untidy_summary_reads_like_a_plain_one() {
    let dir = std::env::temp_dir().join(format!("winback_bigsummary_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cdnow = std::fs::read_to_string(format!("{DATA}cdnow_sample_summary.csv")).unwrap();
    let rows: Vec<&str> = cdnow.lines().skip(1).collect();
    let (mut plain, mut untidy) = (
        String::from("customer_id,x,t_x,T,monetary_value\n"),
        String::from("\u{feff}customer_id,x,t_x,T,monetary_value\r\n"),
    );
    let mut ids = Vec::new();
    for copy in 0..16 {
        for (idx, row) in rows.iter().enumerate() {
            let cells: Vec<&str> = row.split(',').collect();
            let id = if copy == 9 && idx == 7 {
                "say \"hi\\".to_owned()
            } else {
                format!("c{copy}-{}", cells[0])
            };
            let line = format!("{id},{}", cells[1..5].join(","));
            plain.push_str(&line);
            plain.push('\n');
            untidy.push_str(&line);
            untidy.push_str("\r\n");
            if idx % 1000 == 0 {
                untidy.push_str("\r\n \r\n");
            }
            ids.push(id);
        }
    }
    assert!(
        untidy.len() > 1 << 20,
        "large enough to be read in two halves"
    );
    // A small file whose last line has no line break reads like one that has it.
    let small: String = plain.lines().take(2358).collect::<Vec<_>>().join("\n");
    let small_path = dir.join("small.csv");
    std::fs::write(&small_path, &small).unwrap();
    let small_fit = fit("bgnbd", small_path.to_str().unwrap());
    assert_eq!(small_fit["customers"].as_array().unwrap().len(), 2357);
    assert!(
        (small_fit["loglik"].as_f64().unwrap() + 9582.429).abs() < 0.01,
        "{}",
        small_fit["loglik"]
    );
    let (plain_path, untidy_path) = (dir.join("plain.csv"), dir.join("untidy.csv"));
    std::fs::write(&plain_path, &plain).unwrap();
    std::fs::write(&untidy_path, &untidy).unwrap();
    let (a, b) = (
        fit("bgnbd", plain_path.to_str().unwrap()),
        fit("bgnbd", untidy_path.to_str().unwrap()),
    );
    assert_eq!(a, b);
    let customers = b["customers"].as_array().unwrap();
    let got: Vec<&str> = customers
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, ids);
    // The published CDNOW maximum, 16 times over.
    assert!(
        (b["loglik"].as_f64().unwrap() + 16.0 * 9582.429).abs() < 1.0,
        "{}",
        b["loglik"]
    );
    // A bad cell far in the second half.
    let bad = untidy.replacen("c12-100,", "c12-100,-", 1);
    std::fs::write(&untidy_path, bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_winback"))
        .args(["model", "fit", "--model", "bgnbd", "--summary"])
        .arg(&untidy_path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = untidy
        .lines()
        .position(|l| l.starts_with("c12-100,"))
        .unwrap()
        + 1;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("untidy.csv:{line}: ")),
        "line {line}: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn holdout_validation_of_cdnow_tracks_the_published_week_78_figures() {
    let out = Command::new(env!("CARGO_BIN_EXE_winback"))
        .args([
            "model",
            "validate",
            "--transactions",
            &format!("{DATA}CDNOW_sample.txt"),
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = v["weekly"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["week"], 78);
    assert_eq!(last["actual"], 4339);
    assert!(
        (last["expected"].as_f64().unwrap() - 4166.0).abs() < 5.0,
        "{last}"
    );
    assert_eq!(v["by_frequency"].as_array().unwrap().len(), 8);
}
