//! `winback model fit`: fits a customer-base model to a per-customer summary file and
//! prints parameters, log-likelihood and per-customer scores. The same engine functions
//! run inside the application on imported data.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use winback_engine::models::{CustomerSummary, ModelKind, fit_sbg_survivors, fit_summary};

use crate::cli::{ModelFitArgs, ModelValidateArgs};

/// A summary file's rows: `id,frequency,recency,T[,monetary_value]` (header names as
/// `lifetimes` and Fader/Hardie use them are accepted too: `customer_id`, `x`, `t_x`).
fn read_summary(path: &Path) -> anyhow::Result<(Vec<String>, Vec<CustomerSummary>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the file", path.display()))?;
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .next()
        .with_context(|| format!("{}: the file is empty", path.display()))?;
    let names: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|h| h.trim().to_lowercase())
        .collect();
    let find = |aliases: &[&str]| names.iter().position(|n| aliases.contains(&n.as_str()));
    let id_col = find(&["id", "customer_id", "customer"]);
    let columns = (
        find(&["frequency", "x"]),
        find(&["recency", "t_x"]),
        find(&["t", "age"]),
    );
    let (Some(f_col), Some(r_col), Some(t_col)) = columns else {
        bail!(
            "{}:1: the header must name the columns id,frequency,recency,T[,monetary_value] (found: {header})",
            path.display()
        );
    };
    let m_col = find(&["monetary_value", "monetary"]);
    let mut ids = Vec::new();
    let mut customers = Vec::new();
    for (idx, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let number = |col: usize, name: &str| -> anyhow::Result<f64> {
            let cell = cells.get(col).copied().unwrap_or("");
            cell.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| {
                    format!(
                        "{}:{}: {name}: '{cell}' is not a number",
                        path.display(),
                        idx + 1
                    )
                })
        };
        let frequency = number(f_col, "frequency")?;
        let recency = number(r_col, "recency")?;
        let age = number(t_col, "T")?;
        let monetary = match m_col {
            Some(col) => number(col, "monetary_value")?,
            None => 0.0,
        };
        let customer = CustomerSummary::new(frequency, recency, age, monetary)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), idx + 1))?;
        ids.push(
            id_col
                .and_then(|c| cells.get(c))
                .map_or_else(|| (ids.len() + 1).to_string(), |s| s.to_string()),
        );
        customers.push(customer);
    }
    Ok((ids, customers))
}

/// An sBG file: `period,survivors`, period 0 holding the cohort size.
fn read_survivors(path: &Path) -> anyhow::Result<Vec<(u32, f64)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the file", path.display()))?;
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let (Some(period), Some(survivors)) = (
            cells.first().and_then(|c| c.parse().ok()),
            cells.get(1).and_then(|c| c.parse::<f64>().ok()),
        ) else {
            bail!(
                "{}:{}: expected 'period,survivors' with numbers, found '{line}'",
                path.display(),
                idx + 1
            );
        };
        out.push((period, survivors));
    }
    Ok(out)
}

fn params_json(params: &[(&'static str, f64)]) -> Value {
    Value::Object(
        params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect::<Map<_, _>>(),
    )
}

/// A finite number as JSON, `null` otherwise.
fn json_number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".to_owned()
    }
}

pub fn fit(args: &ModelFitArgs) -> anyhow::Result<()> {
    let kind = ModelKind::parse(&args.model).with_context(|| {
        format!(
            "unknown model '{}': use bgnbd, pareto-nbd, mbgnbd, gamma-gamma or sbg",
            args.model
        )
    })?;
    let (head, scores) = if kind == ModelKind::Sbg {
        let survivors = read_survivors(&args.summary)?;
        let fit = fit_sbg_survivors(&survivors)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.summary.display()))?;
        let head = json!({
            "model": kind.as_str(),
            "params": params_json(&fit.params.named()),
            "loglik": fit.loglik,
            "converged": fit.converged(),
        });
        (head, None)
    } else {
        let (ids, customers) = read_summary(&args.summary)?;
        let fit = fit_summary(kind, &customers, args.horizon)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.summary.display()))?;
        let head = json!({
            "model": kind.as_str(),
            "params": params_json(&fit.params),
            "loglik": fit.loglik,
            "converged": fit.converged,
        });
        (head, Some((ids, fit.customers)))
    };
    if args.json {
        // The customers are streamed: a million of them as `serde_json::Value`s would
        // cost gigabytes for nothing.
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let head = head.to_string();
        match &scores {
            None => writeln!(out, "{head}")?,
            Some((ids, scores)) => {
                write!(out, "{},\"customers\":[", &head[..head.len() - 1])?;
                let key = serde_json::to_string(&format!("expected_{}", args.horizon))?;
                for (idx, (id, (p_alive, expected))) in ids.iter().zip(scores).enumerate() {
                    let sep = if idx == 0 { "" } else { "," };
                    let id = serde_json::to_string(id)?;
                    if kind == ModelKind::GammaGamma {
                        write!(
                            out,
                            "{sep}{{\"id\":{id},\"expected_spend\":{}}}",
                            json_number(*expected)
                        )?;
                    } else {
                        write!(
                            out,
                            "{sep}{{\"id\":{id},\"p_alive\":{},{key}:{}}}",
                            json_number(*p_alive),
                            json_number(*expected)
                        )?;
                    }
                }
                writeln!(out, "]}}")?;
            }
        }
        out.flush()?;
    } else {
        println!("model:    {}", head["model"].as_str().unwrap_or_default());
        for (name, value) in head["params"].as_object().into_iter().flatten() {
            println!("  {name:<8} {:.6}", value.as_f64().unwrap_or(f64::NAN));
        }
        println!(
            "loglik:   {:.4}",
            head["loglik"].as_f64().unwrap_or(f64::NAN)
        );
        println!("converged: {}", head["converged"]);
        if let Some((ids, _)) = &scores {
            println!(
                "{} customers scored (use --json for every customer)",
                ids.len()
            );
        }
    }
    Ok(())
}

/// Reads purchase days per customer from `id,date` CSV or the CDNOW text format.
fn read_transactions(path: &Path) -> anyhow::Result<Vec<Vec<chrono::NaiveDate>>> {
    use chrono::NaiveDate;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the file", path.display()))?;
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out: Vec<Vec<NaiveDate>> = Vec::new();
    let csv = text.lines().next().is_some_and(|l| l.contains(','));
    for (idx, line) in text.lines().enumerate() {
        if line.trim().is_empty() || (csv && idx == 0) {
            continue;
        }
        let cells: Vec<&str> = if csv {
            line.split(',').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        let (id, day) = if csv {
            (cells.first().copied(), cells.get(1).copied())
        } else {
            (cells.get(1).copied(), cells.get(2).copied())
        };
        let (Some(id), Some(day)) = (id, day) else {
            bail!(
                "{}:{}: expected a customer id and a date, found '{line}'",
                path.display(),
                idx + 1
            );
        };
        let date = ["%Y-%m-%d", "%d.%m.%Y", "%Y%m%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(day, f).ok())
            .with_context(|| {
                format!(
                    "{}:{}: date: '{day}' is not a date (yyyy-mm-dd, dd.mm.yyyy or yyyymmdd)",
                    path.display(),
                    idx + 1
                )
            })?;
        let next = index.len();
        let slot = *index.entry(id.to_owned()).or_insert(next);
        if slot == out.len() {
            out.push(Vec::new());
        }
        out[slot].push(date);
    }
    Ok(out)
}

pub fn validate(args: &ModelValidateArgs) -> anyhow::Result<()> {
    let kind = ModelKind::parse(&args.model).with_context(|| {
        format!(
            "unknown model '{}': use bgnbd, pareto-nbd or mbgnbd",
            args.model
        )
    })?;
    let purchases = read_transactions(&args.transactions)?;
    let v = winback_engine::validation::holdout_validation(
        &purchases,
        args.calibration_end,
        args.holdout_end,
        kind,
        7,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.transactions.display()))?;
    if args.json {
        let out = json!({
            "model": kind.as_str(),
            "params": params_json(&v.params),
            "loglik": v.loglik,
            "customers": v.customers,
            "calibration_weeks": v.calibration_weeks,
            "expected_holdout_total": v.expected_holdout_total,
            "actual_holdout_total": v.actual_holdout_total,
            "weekly": v.weekly.iter().map(|w| json!({"week": w.week, "expected": w.expected_cumulative, "actual": w.actual_cumulative})).collect::<Vec<_>>(),
            "by_frequency": v.by_frequency.iter().map(|f| json!({"frequency": f.frequency, "and_more": f.and_more, "customers": f.customers, "expected": f.expected_mean, "actual": f.actual_mean})).collect::<Vec<_>>(),
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "{} on {} customers, log-likelihood {:.2}",
        kind.as_str(),
        v.customers,
        v.loglik
    );
    println!(
        "holdout: {:.0} repeat transactions expected, {} actual",
        v.expected_holdout_total, v.actual_holdout_total
    );
    println!("\n| week | expected cumulative | actual cumulative |\n|---:|---:|---:|");
    for w in v
        .weekly
        .iter()
        .filter(|w| w.week % 13 == 0 || w.week as usize == v.weekly.len())
    {
        println!(
            "| {} | {:.1} | {} |",
            w.week, w.expected_cumulative, w.actual_cumulative
        );
    }
    println!(
        "\n| repeat purchases in calibration | customers | expected in holdout | actual in holdout |\n|---:|---:|---:|---:|"
    );
    for f in &v.by_frequency {
        let label = if f.and_more {
            format!("{}+", f.frequency)
        } else {
            f.frequency.to_string()
        };
        println!(
            "| {label} | {} | {:.3} | {:.3} |",
            f.customers, f.expected_mean, f.actual_mean
        );
    }
    Ok(())
}
