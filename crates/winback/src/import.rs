//! The import pipeline shared by the command line and (later) the web upload: read and
//! validate with `winback-formats` on one thread, stage and commit with `winback-store`
//! on the other, so parsing and inserting overlap on two cores.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use winback_engine::Kind;
use winback_formats::{LocalZone, MappingFile, ParsedRow, ReadOptions, Reader, RowError};
use winback_store::{Db, ImportCounts, ImportMeta, ImportOptions};

use crate::cli::ImportArgs;

/// At most this many rejected rows are kept for the report; all are counted (and, with
/// `--skip-invalid`, all are written to the reject file).
const MAX_REPORTED: usize = 1000;
const BATCH: usize = 4096;

#[derive(Debug, Clone)]
pub struct Settings {
    pub kind: Kind,
    pub mapping: Option<MappingFile>,
    pub zone: LocalZone,
    pub options: ImportOptions,
    /// Where rejected rows go with `skip_invalid` (None: FILE.rejected.csv).
    pub reject_file: Option<PathBuf>,
    pub show_progress: bool,
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub kind: &'static str,
    pub format: serde_json::Value,
    pub mapping: serde_json::Value,
    pub rows_read: u64,
    pub rows_rejected: u64,
    /// The first rejected rows (all of them up to 1000), in line order.
    pub rejected: Vec<RowError>,
    pub committed: bool,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub customers_created: u64,
    pub reject_file: Option<String>,
    pub seconds: f64,
    #[serde(skip)]
    pub format_text: String,
}

/// `winback import`: every file in turn; returns false when a file was not imported.
pub async fn run(db: &Db, args: &ImportArgs) -> anyhow::Result<bool> {
    let mapping = match &args.mapping {
        Some(path) => Some(MappingFile::load(path).with_context(|| format!("while reading the mapping file {}", path.display()))?),
        None => None,
    };
    let zone = LocalZone::parse(&args.time_zone).with_context(|| {
        format!("unknown time zone '{}': use Europe/Berlin, UTC or an offset like +01:00", args.time_zone)
    })?;
    if args.reject_file.is_some() && args.files.len() > 1 {
        anyhow::bail!("--reject-file names one file, but {} input files were given: leave it out to get FILE.rejected.csv per input", args.files.len());
    }
    let settings = Settings {
        kind: args.kind.kind(),
        mapping,
        zone,
        options: ImportOptions { create_customers: args.create_customers, skip_invalid: args.skip_invalid },
        reject_file: args.reject_file.clone(),
        show_progress: !args.json,
    };
    let mut all_ok = true;
    for path in &args.files {
        let report = import_file(db, path, &settings).await?;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print_report(&report);
        }
        all_ok &= report.committed && (report.rows_rejected == 0 || settings.options.skip_invalid);
        if !report.committed {
            // Later files may depend on this one (orders on customers): stop here.
            break;
        }
    }
    Ok(all_ok)
}

fn print_report(report: &FileReport) {
    eprint!("{}", report.format_text);
    for error in &report.rejected {
        eprintln!("{error}");
    }
    if report.rows_rejected as usize > report.rejected.len() {
        eprintln!("... and {} more rejected rows", report.rows_rejected as usize - report.rejected.len());
    }
    if report.committed {
        println!(
            "{}: {} rows read, {} inserted, {} updated, {} unchanged{}{}",
            report.file,
            report.rows_read,
            report.inserted,
            report.updated,
            report.unchanged,
            if report.customers_created > 0 { format!(", {} customers created", report.customers_created) } else { String::new() },
            if report.rows_rejected > 0 {
                format!(
                    ", {} rejected (written to {})",
                    report.rows_rejected,
                    report.reject_file.as_deref().unwrap_or("-")
                )
            } else {
                String::new()
            }
        );
    } else {
        eprintln!(
            "{}: {} of {} rows rejected; nothing was imported. Fix the rows above and import the file again, \
             or use --skip-invalid to import the good rows and write the rejected ones to a reject file.",
            report.file, report.rows_rejected, report.rows_read
        );
    }
}

enum Batch {
    Rows(Vec<ParsedRow>),
    Errors(Vec<RowError>),
}

/// Imports one file, all or nothing.
pub async fn import_file(db: &Db, path: &Path, settings: &Settings) -> anyhow::Result<FileReport> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let display = path.display().to_string();
    // A FileError names the file itself ("orders.csv: file not found; check the path").
    let reader = Reader::open(path, ReadOptions { kind: settings.kind, mapping: settings.mapping.clone(), zone: settings.zone })?;
    let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    import_reader(db, reader, &display, file_bytes, settings, started, started_at).await
}

/// Imports from an opened reader (the web upload opens it from bytes).
pub async fn import_reader(
    db: &Db,
    reader: Reader,
    display: &str,
    file_bytes: u64,
    settings: &Settings,
    started: Instant,
    started_at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<FileReport> {
    let format_text = format!(
        "{display}: {}\n{}\n",
        reader.format().describe(),
        reader.mapping().describe()
    );
    let format = serde_json::to_value(reader.format())?;
    let mapping = serde_json::to_value(reader.mapping())?;
    let progress = if settings.show_progress {
        indicatif::ProgressBar::new(reader.progress().1.unwrap_or(file_bytes))
    } else {
        indicatif::ProgressBar::hidden()
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("the template is valid"),
    );

    // Parse on a thread of its own; hand rows over in batches through a bounded channel so
    // memory stays flat however large the file is.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Batch, u64)>(4);
    let parser = std::thread::spawn(move || {
        let mut reader = reader;
        let mut rows = Vec::with_capacity(BATCH);
        let mut errors = Vec::new();
        let mut n_rows = 0u64;
        while let Some(item) = reader.next() {
            n_rows += 1;
            match item {
                Ok(row) => rows.push(row),
                Err(error) => errors.push(error),
            }
            if rows.len() >= BATCH || errors.len() >= BATCH {
                let bytes = reader.progress().0;
                if !errors.is_empty() && sender.blocking_send((Batch::Errors(std::mem::take(&mut errors)), bytes)).is_err() {
                    return n_rows;
                }
                if !rows.is_empty()
                    && sender.blocking_send((Batch::Rows(std::mem::replace(&mut rows, Vec::with_capacity(BATCH))), bytes)).is_err()
                {
                    return n_rows;
                }
            }
        }
        let bytes = reader.progress().0;
        let _ = sender.blocking_send((Batch::Errors(errors), bytes));
        let _ = sender.blocking_send((Batch::Rows(rows), bytes));
        n_rows
    });

    let mut session = db.begin_import(settings.kind, settings.options).await.context("while starting the import transaction")?;
    let reject_path = settings.options.skip_invalid.then(|| {
        settings.reject_file.clone().unwrap_or_else(|| PathBuf::from(format!("{display}.rejected.csv")))
    });
    let mut rejects = Rejects { n: 0, kept: Vec::new(), writer: None, path: reject_path.clone() };

    while let Some((batch, bytes)) = receiver.recv().await {
        progress.set_position(bytes);
        match batch {
            Batch::Errors(errors) => {
                for error in errors {
                    rejects.note(error)?;
                }
            }
            Batch::Rows(rows) => {
                // Once a row is bad and bad rows are not skipped, nothing will be committed:
                // keep reading for the complete report, but stop staging.
                if rejects.n == 0 || settings.options.skip_invalid {
                    let before = session.rows_staged();
                    for row in rows {
                        session.push(row.line, row.record).await.context("while staging rows")?;
                    }
                    if before / 65_536 != session.rows_staged() / 65_536 {
                        tracing::info!(rows = session.rows_staged(), "staged");
                    }
                }
            }
        }
    }
    let rows_read = parser.join().map_err(|_| anyhow::anyhow!("the file reader thread panicked"))?;
    progress.finish_and_clear();

    let mut committed = false;
    let mut counts = ImportCounts::default();
    if rejects.n == 0 || settings.options.skip_invalid {
        let problems = session.resolve().await.context("while checking references")?;
        for problem in problems {
            rejects.note(RowError {
                file: display.to_owned(),
                line: problem.line,
                column: Some(problem.column.to_owned()),
                reason: problem.reason,
            })?;
        }
        if rejects.n == 0 || settings.options.skip_invalid {
            let meta = ImportMeta { file_name: display.to_owned(), file_bytes, rows_read, rows_rejected: rejects.n, started_at };
            counts = session.commit(meta).await.context("while committing the import")?;
            committed = true;
        } else {
            session.rollback().await.context("while rolling back")?;
        }
    } else {
        session.rollback().await.context("while rolling back")?;
    }
    if let Some(mut w) = rejects.writer.take() {
        w.flush()?;
    }
    let n_rejected = rejects.n;
    let mut rejected = rejects.kept;
    rejected.sort_by_key(|e| e.line);
    Ok(FileReport {
        file: display.to_owned(),
        kind: settings.kind.as_str(),
        format,
        mapping,
        rows_read,
        rows_rejected: n_rejected,
        rejected,
        committed,
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
        customers_created: counts.customers_created,
        reject_file: reject_path.filter(|_| n_rejected > 0).map(|p| p.display().to_string()),
        seconds: started.elapsed().as_secs_f64(),
        format_text,
    })
}

/// Rejected rows: counted, the first ones kept for the report, all written to the reject
/// file when there is one.
struct Rejects {
    n: u64,
    kept: Vec<RowError>,
    writer: Option<std::io::BufWriter<std::fs::File>>,
    path: Option<PathBuf>,
}

impl Rejects {
    fn note(&mut self, error: RowError) -> anyhow::Result<()> {
        self.n += 1;
        if let Some(path) = &self.path {
            if self.writer.is_none() {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("while creating the reject file {}", path.display()))?;
                let mut w = std::io::BufWriter::new(file);
                writeln!(w, "file,line,column,reason")?;
                self.writer = Some(w);
            }
            let w = self.writer.as_mut().expect("created above");
            writeln!(
                w,
                "{},{},{},{}",
                csv_cell(&error.file),
                error.line,
                csv_cell(error.column.as_deref().unwrap_or("")),
                csv_cell(&error.reason)
            )?;
        }
        if self.kept.len() < MAX_REPORTED {
            self.kept.push(error);
        }
        Ok(())
    }
}

/// RFC 4180 quoting, and the formula guard every export applies.
fn csv_cell(value: &str) -> String {
    let guarded = winback_formats::escape_formula(value);
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded.into_owned()
    }
}
