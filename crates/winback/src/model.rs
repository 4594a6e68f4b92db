//! `winback model fit`: fits a customer-base model to a per-customer summary file and
//! prints parameters, log-likelihood and per-customer scores. The same engine functions
//! run inside the application on imported data.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use winback_engine::models::{
    CustomerSummary, ModelKind, SummaryFit, fit_sbg_survivors, fit_summary,
};

use crate::cli::{ModelFitArgs, ModelValidateArgs};

/// A summary file read into memory: the checked summaries and their ids (none when the file
/// has no id column: then ids are row numbers).
struct Summary {
    customers: Vec<CustomerSummary>,
    /// The ids of the rows each half of the file held, in order.
    ids: [Ids; 2],
}

/// The ids of consecutive rows, one after the other in one string (a million ids take about
/// 7 MB here, where the file they came from takes 39).
#[derive(Default)]
struct Ids {
    text: String,
    /// Where each row's id ends in `text` (it starts where the last one ended).
    ends: Vec<u32>,
}

impl Ids {
    fn push(&mut self, id: &str) -> anyhow::Result<()> {
        self.text.push_str(id);
        let end = u32::try_from(self.text.len())
            .map_err(|_| anyhow::anyhow!("the ids of the file take more than 4 GiB"))?;
        self.ends.push(end);
        Ok(())
    }

    fn get(&self, k: usize) -> &str {
        let start = k.checked_sub(1).map_or(0, |j| self.ends[j] as usize);
        &self.text[start..self.ends[k] as usize]
    }
}

impl Summary {
    fn id(&self, row: usize) -> std::borrow::Cow<'_, str> {
        let first = self.ids[0].ends.len();
        let id = if row < first {
            Some(self.ids[0].get(row))
        } else if row - first < self.ids[1].ends.len() {
            Some(self.ids[1].get(row - first))
        } else {
            None
        };
        match id {
            Some(id) if !id.is_empty() => std::borrow::Cow::Borrowed(id),
            _ => std::borrow::Cow::Owned((row + 1).to_string()),
        }
    }
}

/// The columns of a summary file, by position.
#[derive(Clone, Copy)]
struct SummaryColumns {
    id: Option<usize>,
    frequency: usize,
    recency: usize,
    age: usize,
    monetary: Option<usize>,
}

/// A summary file's rows: `id,frequency,recency,T[,monetary_value]` (header names as
/// `lifetimes` and Fader/Hardie use them are accepted too: `customer_id`, `x`, `t_x`).
///
/// Large files are parsed in two halves on two threads, straight into one vector (a million
/// customers: 39 MB in about 0.05 s); an error names the first bad line.
fn read_summary(path: &Path) -> anyhow::Result<Summary> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the file", path.display()))?;
    let body = text.trim_start_matches('\u{feff}');
    let header_end = body.find('\n').unwrap_or(body.len());
    let header = body[..header_end].trim_end_matches('\r');
    if body.trim().is_empty() {
        bail!("{}: the file is empty", path.display());
    }
    let names: Vec<String> = header.split(',').map(|h| h.trim().to_lowercase()).collect();
    let find = |aliases: &[&str]| names.iter().position(|n| aliases.contains(&n.as_str()));
    let (Some(frequency), Some(recency), Some(age)) = (
        find(&["frequency", "x"]),
        find(&["recency", "t_x"]),
        find(&["t", "age"]),
    ) else {
        bail!(
            "{}:1: the header must name the columns id,frequency,recency,T[,monetary_value] (found: {header})",
            path.display()
        );
    };
    let columns = SummaryColumns {
        id: find(&["id", "customer_id", "customer"]),
        frequency,
        recency,
        age,
        monetary: find(&["monetary_value", "monetary"]),
    };
    // Offsets are into `text`, line numbers count the header as line 1.
    let rows_start = (text.len() - body.len() + header_end + 1).min(text.len());
    let rows = &text[rows_start..];
    let lines = rows.bytes().filter(|&b| b == b'\n').count() + 1;
    let mut customers = vec![
        CustomerSummary {
            frequency: 0.0,
            recency: 0.0,
            age: 0.0,
            monetary: 0.0,
        };
        lines
    ];
    // Split at a line break near the middle; each half fills its own part of the vectors.
    let mid = if rows.len() > 1 << 20 {
        rows[rows.len() / 2..]
            .find('\n')
            .map_or(rows.len(), |i| rows.len() / 2 + i + 1)
    } else {
        rows.len()
    };
    // The first half ends after a line break, so it holds as many lines as breaks; alone,
    // it holds every line (the last one may lack its break).
    let first_lines = if mid < rows.len() {
        rows[..mid].bytes().filter(|&b| b == b'\n').count()
    } else {
        lines
    };
    let (c1, c2) = customers.split_at_mut(first_lines);
    let (mut i1, mut i2) = (Ids::default(), Ids::default());
    let with_ids = columns.id.is_some();
    let part = |from: usize, to: usize, first_line: usize, out, ids: &mut Ids| {
        parse_rows(
            path,
            &text,
            rows_start + from..rows_start + to,
            first_line,
            columns,
            out,
            with_ids.then_some(ids),
        )
    };
    let (n1, n2) = std::thread::scope(|scope| {
        let second = (mid < rows.len())
            .then(|| scope.spawn(|| part(mid, rows.len(), 2 + first_lines, c2, &mut i2)));
        let n1 = part(0, mid, 2, c1, &mut i1);
        let n2 = match second {
            Some(handle) => handle.join().expect("the summary parser does not panic"),
            None => Ok(0),
        };
        (n1, n2)
    });
    let (n1, n2) = (n1?, n2?);
    // Blank lines leave gaps at the end of each half: close them.
    customers.copy_within(first_lines..first_lines + n2, n1);
    customers.truncate(n1 + n2);
    // The file's text is freed here, before the fit needs memory of its own.
    Ok(Summary {
        customers,
        ids: [i1, i2],
    })
}

/// Parses the lines of `text[range]` (the first is line `first_line` of the file) into `out`
/// and `ids`, skipping blank lines; returns how many rows it wrote.
fn parse_rows(
    path: &Path,
    text: &str,
    range: std::ops::Range<usize>,
    first_line: usize,
    columns: SummaryColumns,
    out: &mut [CustomerSummary],
    mut ids: Option<&mut Ids>,
) -> anyhow::Result<usize> {
    let mut n = 0;
    let wanted = [
        Some(columns.frequency),
        Some(columns.recency),
        Some(columns.age),
        columns.monetary,
        columns.id,
    ];
    // Lines and cells are split at ASCII bytes, so every piece is a `str` slice; `str::split`
    // with a `char` costs a comparison call per piece, which showed at a million rows.
    let next = |s: &str, from: usize, byte: u8| {
        s.as_bytes()[from..]
            .iter()
            .position(|&b| b == byte)
            .map_or(s.len(), |i| from + i)
    };
    let part = &text[range];
    let mut idx = 0;
    let mut line_from = 0;
    while line_from <= part.len() {
        let line_end = next(part, line_from, b'\n');
        let line = &part[line_from..line_end];
        line_from = line_end + 1;
        idx += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        // The cells this file needs: [frequency, recency, T, monetary, id].
        let mut cells: [Option<&str>; 5] = [None; 5];
        let mut cell_start = 0;
        for col in 0.. {
            let cell_end = next(line, cell_start, b',');
            let cell = &line[cell_start..cell_end];
            for (slot, want) in cells.iter_mut().zip(wanted) {
                if want == Some(col) {
                    *slot = Some(cell);
                }
            }
            if cell_end == line.len() {
                break;
            }
            cell_start = cell_end + 1;
        }
        let line_no = first_line + idx - 1;
        let number = |slot: usize, name: &str| -> anyhow::Result<f64> {
            let cell = cells[slot].map_or("", str::trim);
            cell.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| {
                    format!(
                        "{}:{line_no}: {name}: '{cell}' is not a number",
                        path.display()
                    )
                })
        };
        let frequency = number(0, "frequency")?;
        let recency = number(1, "recency")?;
        let age = number(2, "T")?;
        let monetary = match columns.monetary {
            Some(_) => number(3, "monetary_value")?,
            None => 0.0,
        };
        out[n] = CustomerSummary::new(frequency, recency, age, monetary)
            .map_err(|e| anyhow::anyhow!("{}:{line_no}: {e}", path.display()))?;
        if let Some(ids) = ids.as_deref_mut() {
            // A row without an id cell gets an empty id: its row number.
            ids.push(cells[4].map_or("", str::trim))?;
        }
        n += 1;
    }
    Ok(n)
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

/// A finite number as JSON (the shortest form that reads back as the same number, written as
/// serde_json writes the head's numbers), `null` otherwise.
fn push_number(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(x).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string; ids without quotes, backslashes or control characters (all real ones) are
/// copied as they are.
fn push_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(out, s).expect("writing to a Vec does not fail");
    }
}

/// Scores the customers and writes their JSON objects (comma-separated) in blocks, each
/// block's two halves scored and formatted on two threads into reused buffers, so that a
/// million rows take a fraction of a second and no score is kept.
fn write_customers(
    out: &mut impl Write,
    summary: &Summary,
    fit: &SummaryFit,
    key: &str,
) -> anyhow::Result<()> {
    const BLOCK: usize = 1 << 16;
    let format = |rows: std::ops::Range<usize>, buf: &mut Vec<u8>| {
        buf.clear();
        for row in rows {
            if row > 0 {
                buf.push(b',');
            }
            let (p_alive, expected) = fit.score(&summary.customers[row]);
            buf.extend_from_slice(b"{\"id\":");
            push_string(buf, &summary.id(row));
            if fit.kind == ModelKind::GammaGamma {
                buf.extend_from_slice(b",\"expected_spend\":");
            } else {
                buf.extend_from_slice(b",\"p_alive\":");
                push_number(buf, p_alive);
                buf.push(b',');
                buf.extend_from_slice(key.as_bytes());
                buf.push(b':');
            }
            push_number(buf, expected);
            buf.push(b'}');
        }
    };
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let mut start = 0;
    let rows = summary.customers.len();
    while start < rows {
        let end = (start + 2 * BLOCK).min(rows);
        let mid = (start + BLOCK).min(end);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| format(mid..end, &mut second));
            format(start..mid, &mut first);
            other.join().expect("the JSON formatter does not panic");
        });
        out.write_all(&first)?;
        out.write_all(&second)?;
        start = end;
    }
    Ok(())
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
        let summary = read_summary(&args.summary)?;
        let fit = fit_summary(kind, &summary.customers, args.horizon)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.summary.display()))?;
        let head = json!({
            "model": kind.as_str(),
            "params": params_json(&fit.params),
            "loglik": fit.loglik,
            "converged": fit.converged,
        });
        (head, Some((summary, fit)))
    };
    if args.json {
        // The customers are streamed: a million of them as `serde_json::Value`s would
        // cost gigabytes for nothing.
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let head = head.to_string();
        match &scores {
            None => writeln!(out, "{head}")?,
            Some((summary, fit)) => {
                write!(out, "{},\"customers\":[", &head[..head.len() - 1])?;
                let key = serde_json::to_string(&format!("expected_{}", args.horizon))?;
                write_customers(&mut out, summary, fit, &key)?;
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
        if let Some((summary, _)) = &scores {
            println!(
                "{} customers (use --json for every customer's scores)",
                summary.customers.len()
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
