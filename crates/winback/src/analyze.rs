//! `winback analyze` and `winback export customers`: load every customer's history, run the
//! engine's analysis (model fit, statuses, loss kinds, alerts) exactly as of a date, store
//! the results, and export them.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use serde_json::{Value, json};
use winback_engine::analysis::{self, Analysis, Settings};
use winback_engine::demo::{Cause, LossKind, Truth, TruthStatus};
use winback_formats::export::{Cell, TableFormat, write_table};
use winback_store::Db;
use winback_web::AnalysisStep;

use crate::cli::{AnalyzeArgs, ExportArgs, ExportFormat};

/// Reads a demo truth file (`winback demo` writes `truth.csv`).
fn read_truth(path: &Path) -> anyhow::Result<Vec<Truth>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the truth file", path.display()))?;
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let bad = || anyhow::anyhow!("{}:{}: not a truth line: {line}", path.display(), idx + 1);
        if cells.len() < 9 {
            return Err(bad());
        }
        let date = |s: &str| {
            if s.is_empty() {
                Ok(None)
            } else {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some)
            }
        };
        out.push(Truth {
            external_id: cells[0].to_owned(),
            status: TruthStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == cells[1])
                .ok_or_else(bad)?,
            loss_kind: LossKind::ALL.into_iter().find(|s| s.as_str() == cells[2]),
            cause: Cause::ALL.into_iter().find(|s| s.as_str() == cells[3]),
            lost_on: date(cells[4]).map_err(|_| bad())?,
            returns_on: date(cells[5]).map_err(|_| bad())?,
            bargain_hunter: cells[6] == "true",
            insolvent: cells[7] == "true",
            referred_by: (!cells[8].is_empty()).then(|| cells[8].to_owned()),
        });
    }
    Ok(out)
}

fn summary(analysis: &Analysis) -> Value {
    let counts = analysis.status_counts();
    let mut by_kind = serde_json::Map::new();
    for kind in LossKind::ALL {
        let n = analysis
            .customers
            .iter()
            .filter(|c| c.loss_kind == Some(kind))
            .count();
        by_kind.insert(kind.as_str().to_owned(), json!(n));
    }
    json!({
        "as_of": analysis.as_of.to_string(),
        "model": analysis.model.model.as_str(),
        "params": analysis.model.params.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "loglik": analysis.model.loglik,
        "customers": analysis.customers.len(),
        "status": {
            "active": counts[0], "at_risk": counts[1], "sleeping": counts[2], "lost": counts[3],
        },
        "loss_kinds": by_kind,
        "alerts": analysis.alerts.len(),
    })
}

/// What one stored analysis run produced.
pub struct StoredRun {
    pub run_id: i64,
    pub analysis: Analysis,
    /// Each analysed customer's external id, parallel to `analysis.customers`.
    pub external_ids: Vec<String>,
    pub loaded_secs: f64,
    pub analysed_secs: f64,
    /// Status rows of older runs deleted afterwards (`--keep-runs`).
    pub pruned_statuses: u64,
}

/// What the command line says while a step runs.
pub fn step_text(step: AnalysisStep) -> &'static str {
    match step {
        AnalysisStep::Load => "loading every customer's history ...",
        AnalysisStep::Analyse => "fitting the model and classifying every customer ...",
        AnalysisStep::Store => "storing the statuses and alerts ...",
        AnalysisStep::Quality => {
            "checking the model on the holdout and backtesting the statuses ..."
        }
    }
}

/// A spinner on stderr that says which step an analysis is in, on a terminal only (a million
/// customers take a while); hidden otherwise.
pub fn spinner() -> indicatif::ProgressBar {
    let spinner = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// Loads every history, analyses it as of `as_of` and stores the run: the one code path
/// of `winback analyze` and the server's scheduled analysis.
/// With `keep_runs`, the statuses of older runs are pruned afterwards (`Db::prune_statuses`).
/// `step` hears which step begins (the command line shows it in a spinner).
pub async fn analyze_and_store(
    db: &Db,
    as_of: NaiveDate,
    keep_runs: Option<u32>,
    step: &(dyn Fn(AnalysisStep) + Sync),
) -> anyhow::Result<StoredRun> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    step(AnalysisStep::Load);
    let loaded = db
        .load_histories()
        .await
        .context("while loading customer histories")?;
    if loaded.histories.is_empty() {
        bail!(
            "there are no customers to analyse: import customers and orders first (winback import, or winback demo)"
        );
    }
    let loaded_secs = started.elapsed().as_secs_f64();
    let settings = Settings::default();
    let t = Instant::now();
    step(AnalysisStep::Analyse);
    let analysis = tokio::task::block_in_place(|| {
        analysis::analyze(&loaded.histories, &loaded.products, as_of, &settings)
    })?;
    let analysed_secs = t.elapsed().as_secs_f64();
    tracing::info!(
        loaded_seconds = loaded_secs,
        analysed_seconds = analysed_secs,
        "analysed"
    );
    let t = Instant::now();
    step(AnalysisStep::Store);
    let (meta, statuses, alerts) = tokio::task::block_in_place(|| {
        winback_web::evidence::run_rows(&analysis, &loaded.ids, started_at)
    });
    let run_id = db
        .save_analysis(&meta, statuses, alerts)
        .await
        .context("while storing the analysis")?;
    tracing::info!(run_id, seconds = t.elapsed().as_secs_f64(), "stored");
    let t = Instant::now();
    step(AnalysisStep::Quality);
    let reports =
        tokio::task::block_in_place(|| winback_web::quality::reports(&loaded, as_of, &settings));
    for (kind, body) in reports {
        db.save_report(run_id, kind, &body.to_string())
            .await
            .with_context(|| format!("while storing the {kind} report"))?;
    }
    tracing::info!(
        seconds = t.elapsed().as_secs_f64(),
        "quality reports (holdout validation, backtest)"
    );
    let pruned_statuses = match keep_runs {
        Some(keep) => db
            .prune_statuses(keep)
            .await
            .context("while pruning the statuses of older analysis runs")?,
        None => 0,
    };
    let external_ids = loaded
        .histories
        .into_iter()
        .map(|h| h.external_id)
        .collect();
    Ok(StoredRun {
        run_id,
        analysis,
        external_ids,
        loaded_secs,
        analysed_secs,
        pruned_statuses,
    })
}

pub async fn run(db: &Db, args: &AnalyzeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    if let Some(horizon) = args.backtest_days {
        let loaded = db
            .load_histories()
            .await
            .context("while loading customer histories")?;
        if loaded.histories.is_empty() {
            bail!("there are no customers to analyse: import customers and orders first");
        }
        let report = tokio::task::block_in_place(|| {
            analysis::backtest(
                &loaded.histories,
                &loaded.products,
                as_of,
                horizon,
                &Settings::default(),
            )
        })?;
        println!("{report}");
        return Ok(());
    }
    let spinner = spinner();
    let step = |step: AnalysisStep| spinner.set_message(step_text(step));
    let stored = analyze_and_store(db, as_of, args.keep_runs, &step).await;
    spinner.finish_and_clear();
    let StoredRun {
        run_id,
        analysis,
        external_ids,
        loaded_secs,
        analysed_secs,
        pruned_statuses,
    } = stored?;
    let mut out = summary(&analysis);
    out["run_id"] = json!(run_id);
    out["pruned_statuses"] = json!(pruned_statuses);
    out["seconds"] = json!({"load": loaded_secs, "analyse": analysed_secs, "total": started.elapsed().as_secs_f64()});
    if let Some(path) = &args.truth {
        let truth = read_truth(path)?;
        let by_id: std::collections::HashMap<&str, usize> = external_ids
            .iter()
            .enumerate()
            .map(|(idx, id)| (id.as_str(), idx))
            .collect();
        let mut results = Vec::new();
        let mut truths = Vec::new();
        for t in truth {
            if let Some(&idx) = by_id.get(t.external_id.as_str()) {
                results.push(analysis.customers[idx].clone());
                truths.push(t);
            }
        }
        let score = analysis::score_against_truth(&results, &truths);
        if args.json {
            out["truth_score"] = json!(score.to_string());
        } else {
            println!("{score}");
        }
    }
    if args.json {
        println!("{out}");
    } else {
        let s = &out["status"];
        println!(
            "analysis as of {as_of} (run {run_id}): {} customers: {} active, {} at risk, {} sleeping, {} lost; {} alerts",
            out["customers"], s["active"], s["at_risk"], s["sleeping"], s["lost"], out["alerts"]
        );
        println!(
            "model {} {} (log-likelihood {:.2}); loaded in {loaded_secs:.1} s, analysed in {analysed_secs:.2} s",
            out["model"].as_str().unwrap_or_default(),
            out["params"],
            analysis.model.loglik
        );
    }
    Ok(())
}

pub async fn export(db: &Db, args: &ExportArgs) -> anyhow::Result<()> {
    let rows = db
        .latest_customer_statuses()
        .await
        .context("while reading the latest analysis")?;
    if rows.is_empty() {
        bail!("there is no analysis to export yet: run `winback analyze` first");
    }
    let format = match args.format {
        ExportFormat::Csv => TableFormat::CsvGerman,
        ExportFormat::CsvEn => TableFormat::CsvEnglish,
        ExportFormat::Xlsx => TableFormat::Xlsx,
        ExportFormat::Json => TableFormat::Json,
    };
    let headers = [
        "id",
        "name",
        "status",
        "loss_kind",
        "lost_on",
        "likely_cause",
        "p_alive",
        "expected_transactions_52w",
        "clv",
    ];
    let cells = rows.into_iter().map(|r| {
        vec![
            Cell::Text(r.external_id),
            r.name.into(),
            Cell::Text(r.status),
            r.loss_kind.into(),
            r.lost_on.into(),
            r.likely_cause.into(),
            Cell::Float(r.p_alive),
            Cell::Float(r.expected_transactions_52w),
            Cell::Money(r.clv),
        ]
    });
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("while creating {}", path.display()))?;
            write_table(format, &headers, cells, std::io::BufWriter::new(file))?;
        }
        None => {
            if format == TableFormat::Xlsx && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                bail!("an Excel file is binary: give --out FILE.xlsx");
            }
            let stdout = std::io::stdout().lock();
            write_table(format, &headers, cells, std::io::BufWriter::new(stdout))?.flush()?;
        }
    }
    Ok(())
}
