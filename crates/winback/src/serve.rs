//! `winback serve`, `winback user add`, and the first admin: wiring the web application
//! (`winback-web`) to the database and the terminal.

use std::io::BufRead;

use anyhow::Context;
use winback_engine::Role;
use winback_store::Db;
use winback_web::auth::{hash_password, random_password};
use winback_web::{Analyzer, WebConfig};

use crate::cli::UserAddArgs;

/// The admin the demo and a first start create when no admin can sign in.
pub const FIRST_ADMIN: &str = "admin@winback.local";

/// Makes sure an admin can sign in: when none can, creates `admin@winback.local` with a
/// random password printed once to stdout (it is stored only as an Argon2id hash).
pub async fn ensure_admin(db: &Db) -> anyhow::Result<()> {
    if db
        .count_admins()
        .await
        .context("while looking for an admin user")?
        > 0
    {
        return Ok(());
    }
    let password = random_password();
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash)).await??;
    db.put_user(FIRST_ADMIN, Some("Admin"), Role::Admin, &hash)
        .await
        .context("while creating the first admin")?;
    println!("created the first admin user: {FIRST_ADMIN} / {password}");
    println!("(this password is shown only now; add more users with `winback user add`)");
    Ok(())
}

/// The server's analysis: `analyze_and_store`, the same code path as `winback analyze`
/// (pruning older runs' statuses when `keep_runs` is set).
pub fn analyzer(db: &Db, keep_runs: Option<u32>) -> Analyzer {
    let db = db.clone();
    Analyzer::new(move |as_of, step| {
        let db = db.clone();
        Box::pin(async move {
            Ok(
                crate::analyze::analyze_and_store(&db, as_of, keep_runs, &|s| step(s))
                    .await?
                    .run_id,
            )
        })
    })
}

/// Runs the analysis every `every` inside the server: at once when there is no run yet or
/// the latest finished longer than `every` ago, then `every` after the latest run. Errors
/// are logged and retried after at most an hour; they never stop the server.
pub async fn schedule(db: Db, analyzer: Analyzer, every: std::time::Duration) {
    let retry = every.min(std::time::Duration::from_secs(3600));
    loop {
        let due_in = match db.latest_run().await {
            Ok(Some(run)) => {
                let age = (chrono::Utc::now() - run.finished_at)
                    .to_std()
                    .unwrap_or_default();
                every.saturating_sub(age)
            }
            Ok(None) => std::time::Duration::ZERO,
            Err(error) => {
                tracing::warn!(error = %error, "cannot read the latest analysis run");
                retry
            }
        };
        if !due_in.is_zero() {
            tokio::time::sleep(due_in).await;
            continue;
        }
        let as_of = chrono::Local::now().date_naive();
        tracing::info!(%as_of, "scheduled analysis started");
        match analyzer.run(as_of).await {
            Ok(run_id) => tracing::info!(run_id, "scheduled analysis stored"),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "scheduled analysis failed");
                tokio::time::sleep(retry).await;
            }
        }
    }
}

/// Serves until Ctrl-C; analyses every `analyze_every_hours` (0: never) in the background,
/// keeping the statuses of the latest `keep_runs` runs (all when `None`), and signs out
/// sessions unused for `session_idle_minutes`.
pub async fn serve(
    db: Db,
    listen: &str,
    analyze_every_hours: u64,
    session_idle_minutes: u64,
    keep_runs: Option<u32>,
) -> anyhow::Result<()> {
    let analyzer = analyzer(&db, keep_runs);
    let config = WebConfig {
        analyzer: Some(analyzer.clone()),
        session_idle: std::time::Duration::from_secs(session_idle_minutes.max(1) * 60),
        // The overview's figures are computed after each import or run rather than on the
        // first view (seconds at a million customers).
        warm_overview_every: Some(std::time::Duration::from_secs(15)),
        ..WebConfig::default()
    };
    let schedule = (analyze_every_hours > 0).then(|| {
        let every = std::time::Duration::from_secs(analyze_every_hours * 3600);
        tokio::spawn(schedule(db.clone(), analyzer, every))
    });
    let server = winback_web::spawn(db.clone(), listen, config)
        .await
        .with_context(|| {
            format!(
                "while listening on {listen} (is another winback running? use --listen HOST:PORT)"
            )
        })?;
    println!(
        "winback serves on http://{} (API reference: http://{}/api/docs/); Ctrl-C stops it",
        server.addr, server.addr
    );
    tokio::select! {
        result = server.handle => { result.context("the web server stopped")?.context("the web server failed")?; }
        _ = tokio::signal::ctrl_c() => { println!("stopping"); }
    }
    if let Some(task) = schedule {
        task.abort();
    }
    db.close().await;
    Ok(())
}

/// `winback user add`: the password comes from stdin, never from the command line (where
/// it would end up in the shell history and the process list).
pub async fn add_user(db: &Db, args: &UserAddArgs) -> anyhow::Result<()> {
    let role =
        Role::parse(&args.role).context("unknown role: use admin, manager, sales or analyst")?;
    let email = args.email.trim().to_lowercase();
    if !email.contains('@') {
        anyhow::bail!("--email {email:?} is not an e-mail address");
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("password for {email} (at least 8 characters), then Enter:");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("while reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await?
        .context("the password was not accepted (it needs at least 8 characters)")?;
    let user = db
        .put_user(&email, args.name.as_deref(), role, &hash)
        .await
        .context("while saving the user")?;
    println!("user {} saved with role {}", user.email, user.role.as_str());
    Ok(())
}
