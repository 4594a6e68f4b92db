//! winback as a library: the command line's actions, so that tests can call them
//! in-process; `serve` wires the web application (`winback-web`) to the database.
//!
//! `main.rs` only parses arguments and calls [`run`]. The import pipeline lives in
//! `winback_web::import_service` (one code path with the web upload): `winback-formats`
//! decides what is valid, `winback-store` commits all or nothing.
#![forbid(unsafe_code)]

pub mod analyze;
pub mod cli;
pub mod demo;
pub mod import;
pub mod model;
pub mod serve;
pub mod telemetry;

use std::process::ExitCode;

use anyhow::Context;
use winback_store::{Db, DbUrl};

use cli::{Cli, Command};

/// Runs one command; the exit code says whether it did what was asked.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The model commands compute on a file: no database and no async runtime, whose
    // worker threads would cost more than fitting a small data set.
    if let Command::Model(command) = &cli.command {
        match command {
            cli::ModelCommand::Validate(args) => model::validate(args)?,
            cli::ModelCommand::Fit(args) => model::fit(args)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("while starting the async runtime")?;
    runtime.block_on(run_async(cli))
}

async fn run_async(cli: Cli) -> anyhow::Result<ExitCode> {
    let url = DbUrl::new(normalise_db_url(&cli.db));
    match cli.command {
        Command::Import(args) => {
            let db = open_single(&url).await?;
            let ok = import::run(&db, &args).await?;
            db.close().await;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Stats(args) => {
            let db = open(&url).await?;
            let counts = db.counts().await.context("while counting rows")?;
            if args.json {
                let map: serde_json::Map<String, serde_json::Value> = counts
                    .iter()
                    .map(|(kind, n)| (kind.as_str().to_owned(), (*n).into()))
                    .collect();
                println!("{}", serde_json::Value::Object(map));
            } else {
                for (kind, n) in counts {
                    println!("{:<12} {n:>12}", kind.as_str());
                }
            }
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(args) => {
            let db = open(&url).await?;
            analyze::run(&db, &args).await?;
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(cli::ExportCommand::Customers(args)) => {
            let db = open(&url).await?;
            analyze::export(&db, &args).await?;
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Model(_) => unreachable!("the model commands run in `run`, without a runtime"),
        Command::Demo(args) => {
            let ok = demo::run(&url, &args).await?;
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
            if !args.no_import {
                let db = open(&url).await?;
                serve::ensure_admin(&db).await?;
                if !args.no_serve {
                    serve::serve(db, &args.listen, 24, 30, None).await?;
                } else {
                    db.close().await;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            let db = open(&url).await?;
            serve::ensure_admin(&db).await?;
            serve::serve(
                db,
                &args.listen,
                args.analyze_every,
                args.session_idle,
                args.keep_runs,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User(cli::UserCommand::Add(args)) => {
            let db = open(&url).await?;
            serve::add_user(&db, &args).await?;
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Accepts a bare path as a SQLite file (`winback.db` means `sqlite://winback.db`).
pub fn normalise_db_url(raw: &str) -> String {
    if raw.contains("://") || raw.starts_with("sqlite:") {
        raw.to_owned()
    } else {
        format!("sqlite://{raw}")
    }
}

pub async fn open(url: &DbUrl) -> anyhow::Result<Db> {
    let db = Db::connect(url).await;
    db.map_err(|e| open_error(url, e))
}

/// [`open`] with one SQLite connection, for imports from the command line: a first import
/// into an empty table can then write the file directly (`ImportOptions::sole_writer`).
pub async fn open_single(url: &DbUrl) -> anyhow::Result<Db> {
    let db = Db::connect_single(url).await;
    db.map_err(|e| open_error(url, e))
}

fn open_error(url: &DbUrl, error: winback_store::Error) -> anyhow::Error {
    let mut detail = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    while let Some(e) = source {
        detail.push_str(&e.to_string());
        source = e.source();
    }
    let locked = detail.contains("database is locked")
        || (url.backend().ok() == Some(winback_store::Backend::Sqlite)
            && detail.contains("pool timed out"));
    let hint = if locked {
        // A first import from the command line holds the SQLite file for itself until it
        // commits (ImportOptions::sole_writer); opening waits for it, then times out.
        "another winback process is writing to this file, most likely a first import: try again when it has finished"
    } else {
        "check --db or WINBACK_DB; PostgreSQL must be running and reachable"
    };
    anyhow::Error::new(error).context(format!("while opening the database {url} ({hint})"))
}
