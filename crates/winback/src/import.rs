//! `winback import`: the command line around the shared import pipeline
//! (`winback_web::import_service`, the same code the web upload runs). This file only turns
//! arguments into [`Settings`], draws the progress bar and prints the report.

use std::sync::Arc;

use anyhow::Context;
use winback_formats::{LocalZone, MappingFile};
use winback_store::{Db, ImportOptions};
pub use winback_web::import_service::{FileReport, RejectFile, Settings, import_file};

use crate::cli::ImportArgs;

/// `winback import`: every file in turn; returns false when a file was not imported.
pub async fn run(db: &Db, args: &ImportArgs) -> anyhow::Result<bool> {
    let mapping = match &args.mapping {
        Some(path) => Some(
            MappingFile::load(path)
                .with_context(|| format!("while reading the mapping file {}", path.display()))?,
        ),
        None => None,
    };
    let zone = LocalZone::parse(&args.time_zone).with_context(|| {
        format!(
            "unknown time zone '{}': use Europe/Berlin, UTC or an offset like +01:00",
            args.time_zone
        )
    })?;
    if args.reject_file.is_some() && args.files.len() > 1 {
        anyhow::bail!(
            "--reject-file names one file, but {} input files were given: leave it out to get FILE.rejected.csv per input",
            args.files.len()
        );
    }
    let settings = Settings {
        kind: args.kind.kind(),
        mapping,
        zone,
        options: ImportOptions {
            create_customers: args.create_customers,
            skip_invalid: args.skip_invalid,
            // `winback import` opens the database with one connection (`open_single`).
            sole_writer: true,
        },
        reject_file: match &args.reject_file {
            Some(path) => RejectFile::At(path.clone()),
            None => RejectFile::NextToInput,
        },
        dry_run: false,
        progress: None,
    };
    let mut all_ok = true;
    for path in &args.files {
        let report = import_with_progress(db, path, &settings, !args.json).await?;
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

/// Runs the pipeline with a progress bar on stderr (hidden when `show` is false or stderr is
/// not a terminal).
pub async fn import_with_progress(
    db: &Db,
    path: &std::path::Path,
    settings: &Settings,
    show: bool,
) -> anyhow::Result<FileReport> {
    let bar = if show {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("the template is valid"),
    );
    let mut settings = settings.clone();
    let progress_bar = bar.clone();
    settings.progress = Some(Arc::new(move |done, total| {
        progress_bar.set_length(total);
        progress_bar.set_position(done);
    }));
    let report = import_file(db, path, &settings).await;
    bar.finish_and_clear();
    report
}

fn print_report(report: &FileReport) {
    eprint!("{}", report.format_text);
    for error in &report.rejected {
        eprintln!("{error}");
    }
    if report.rows_rejected as usize > report.rejected.len() {
        eprintln!(
            "... and {} more rejected rows",
            report.rows_rejected as usize - report.rejected.len()
        );
    }
    if report.committed {
        println!(
            "{}: {} rows read, {} inserted, {} updated, {} unchanged{}{}",
            report.file,
            report.rows_read,
            report.inserted,
            report.updated,
            report.unchanged,
            if report.customers_created > 0 {
                format!(", {} customers created", report.customers_created)
            } else {
                String::new()
            },
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
