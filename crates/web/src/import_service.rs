//! The import pipeline, one code path for the command line (`winback import`, `winback
//! demo`) and the web upload (page and `/api/v1/imports`): read and validate with
//! `winback-formats` on one thread, stage and commit with `winback-store` on the other, so
//! parsing and inserting overlap on two cores.
//!
//! It lives in the web crate because the `winback` binary depends on this crate (for
//! `serve`), not the other way round. It knows nothing of HTTP: callers hand it a path or an
//! opened [`Reader`] and get a [`FileReport`]; progress goes to an optional callback.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use winback_engine::Kind;
use winback_formats::{LocalZone, MappingFile, ReadOptions, Reader, RowError};
use winback_store::import::{StagedRow, stage_row};
use winback_store::{Db, ImportCounts, ImportMeta, ImportOptions};

/// At most this many rejected rows are kept for the report; all are counted (and, with
/// `--skip-invalid`, all are written to the reject file).
const MAX_REPORTED: usize = 1000;
const BATCH: usize = 4096;

/// Called with (bytes read, total bytes) while a file is read.
pub type Progress = std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Where rejected rows are written when `skip_invalid` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectFile {
    /// `FILE.rejected.csv` next to the input (the command line's default).
    NextToInput,
    At(PathBuf),
    /// Nowhere: the report lists them (the web upload, which must never write to a path
    /// derived from a user-supplied file name).
    Off,
}

#[derive(Clone)]
pub struct Settings {
    pub kind: Kind,
    pub mapping: Option<MappingFile>,
    pub zone: LocalZone,
    pub options: ImportOptions,
    pub reject_file: RejectFile,
    /// Read, validate and check references, then roll back: the report of an import
    /// without its effect (the web's "check before you confirm").
    pub dry_run: bool,
    pub progress: Option<Progress>,
}

impl Settings {
    pub fn new(kind: Kind) -> Settings {
        Settings {
            kind,
            mapping: None,
            zone: LocalZone::EuropeBerlin,
            options: ImportOptions::default(),
            reject_file: RejectFile::NextToInput,
            dry_run: false,
            progress: None,
        }
    }
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
    /// A dry run: checked, then rolled back on purpose.
    pub dry_run: bool,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub customers_created: u64,
    pub reject_file: Option<String>,
    pub seconds: f64,
    #[serde(skip)]
    pub format_text: String,
}

enum Batch {
    Rows(Vec<StagedRow>),
    Errors(Vec<RowError>),
}

/// Imports one file, all or nothing.
pub async fn import_file(db: &Db, path: &Path, settings: &Settings) -> anyhow::Result<FileReport> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let display = path.display().to_string();
    // A FileError names the file itself ("orders.csv: file not found; check the path").
    let reader = Reader::open(
        path,
        ReadOptions {
            kind: settings.kind,
            mapping: settings.mapping.clone(),
            zone: settings.zone,
        },
    )?;
    let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    import_reader(
        db, reader, &display, file_bytes, settings, started, started_at,
    )
    .await
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
    let total = reader.progress().1.unwrap_or(file_bytes);

    // Parse on a thread of its own; hand rows over in batches through a bounded channel so
    // memory stays flat however large the file is.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Batch, u64)>(4);
    let backend = db.backend();
    let parser = std::thread::spawn(move || {
        let mut reader = reader;
        let mut rows = Vec::with_capacity(BATCH);
        let mut errors = Vec::new();
        let mut n_rows = 0u64;
        while let Some(item) = reader.next() {
            n_rows += 1;
            match item {
                // Converted here, on the parser's thread: the writer only binds.
                Ok(row) => rows.push(stage_row(backend, row.line, row.record)),
                Err(error) => errors.push(error),
            }
            if rows.len() >= BATCH || errors.len() >= BATCH {
                let bytes = reader.progress().0;
                if !errors.is_empty()
                    && sender
                        .blocking_send((Batch::Errors(std::mem::take(&mut errors)), bytes))
                        .is_err()
                {
                    return n_rows;
                }
                if !rows.is_empty()
                    && sender
                        .blocking_send((
                            Batch::Rows(std::mem::replace(&mut rows, Vec::with_capacity(BATCH))),
                            bytes,
                        ))
                        .is_err()
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

    let mut session = db
        .begin_import(settings.kind, settings.options)
        .await
        .context("while starting the import transaction")?;
    let reject_path = match &settings.reject_file {
        _ if !settings.options.skip_invalid => None,
        RejectFile::NextToInput => Some(PathBuf::from(format!("{display}.rejected.csv"))),
        RejectFile::At(path) => Some(path.clone()),
        RejectFile::Off => None,
    };
    let mut rejects = Rejects {
        n: 0,
        kept: Vec::new(),
        writer: None,
        path: reject_path.clone(),
    };

    while let Some((batch, bytes)) = receiver.recv().await {
        if let Some(progress) = &settings.progress {
            progress(bytes, total);
        }
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
                        session
                            .push_staged(row)
                            .await
                            .context("while staging rows")?;
                    }
                    if before / 65_536 != session.rows_staged() / 65_536 {
                        tracing::info!(rows = session.rows_staged(), "staged");
                    }
                }
            }
        }
    }
    let rows_read = parser
        .join()
        .map_err(|_| anyhow::anyhow!("the file reader thread panicked"))?;

    let mut committed = false;
    let mut counts = ImportCounts::default();
    if rejects.n == 0 || settings.options.skip_invalid {
        let problems = session
            .resolve()
            .await
            .context("while checking references")?;
        for problem in problems {
            rejects.note(RowError {
                file: display.to_owned(),
                line: problem.line,
                column: Some(problem.column.to_owned()),
                reason: problem.reason,
            })?;
        }
        if settings.dry_run {
            session
                .rollback()
                .await
                .context("while rolling back the dry run")?;
        } else if rejects.n == 0 || settings.options.skip_invalid {
            let meta = ImportMeta {
                file_name: display.to_owned(),
                file_bytes,
                rows_read,
                rows_rejected: rejects.n,
                started_at,
            };
            counts = session
                .commit(meta)
                .await
                .context("while committing the import")?;
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
        dry_run: settings.dry_run,
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
        customers_created: counts.customers_created,
        reject_file: reject_path
            .filter(|_| n_rejected > 0)
            .map(|p| p.display().to_string()),
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
                let file = std::fs::File::create(path).with_context(|| {
                    format!("while creating the reject file {}", path.display())
                })?;
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
