//! Embedded migrations, applied at start, each in its own transaction.
//!
//! Own code rather than sqlx's migrator: sqlx's `migrate` support would pull in its macros
//! (a second compile of both drivers, see STACK.md §2.2); this is thirty lines.

use sqlx::Executor;

use crate::{Db, Error, Result};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "web",
        sqlite: include_str!("../migrations/sqlite/0002_web.sql"),
        postgres: include_str!("../migrations/postgres/0002_web.sql"),
    },
    Migration {
        version: 3,
        name: "analysis",
        sqlite: include_str!("../migrations/sqlite/0003_analysis.sql"),
        postgres: include_str!("../migrations/postgres/0003_analysis.sql"),
    },
    Migration {
        version: 4,
        name: "alert_feedback",
        sqlite: include_str!("../migrations/sqlite/0004_alert_feedback.sql"),
        postgres: include_str!("../migrations/postgres/0004_alert_feedback.sql"),
    },
    Migration {
        version: 5,
        name: "session_idle",
        sqlite: include_str!("../migrations/sqlite/0005_session_idle.sql"),
        postgres: include_str!("../migrations/postgres/0005_session_idle.sql"),
    },
    Migration {
        version: 6,
        name: "analysis_reports",
        sqlite: include_str!("../migrations/sqlite/0006_analysis_reports.sql"),
        postgres: include_str!("../migrations/postgres/0006_analysis_reports.sql"),
    },
    Migration {
        version: 7,
        name: "status_by_run",
        sqlite: include_str!("../migrations/sqlite/0007_status_by_run.sql"),
        postgres: include_str!("../migrations/postgres/0007_status_by_run.sql"),
    },
    Migration {
        version: 8,
        name: "alerts_by_state",
        sqlite: include_str!("../migrations/sqlite/0008_alerts_by_state.sql"),
        postgres: include_str!("../migrations/postgres/0008_alerts_by_state.sql"),
    },
];

const CREATE_LOG: &str = "create table if not exists schema_migrations (
    version bigint primary key,
    name text not null,
    applied_at text not null
)";

pub(crate) async fn run(db: &Db) -> Result<()> {
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    macro_rules! apply {
        ($pool:expr, $pick:ident, $lock:expr) => {{
            let pool = $pool;
            pool.execute(CREATE_LOG).await?;
            for migration in MIGRATIONS {
                let mut tx = pool.begin().await?;
                // Two processes starting at once must not both apply a migration.
                if let Some(lock) = $lock {
                    sqlx::query(lock).execute(&mut *tx).await?;
                }
                let applied: Option<i64> =
                    sqlx::query_scalar("select version from schema_migrations where version = $1")
                        .bind(migration.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if applied.is_some() {
                    continue;
                }
                let wrap = |source| Error::Migration {
                    version: migration.version,
                    name: migration.name,
                    source,
                };
                tx.execute(sqlx::raw_sql(migration.$pick))
                    .await
                    .map_err(wrap)?;
                sqlx::query(
                    "insert into schema_migrations (version, name, applied_at) values ($1, $2, $3)",
                )
                .bind(migration.version)
                .bind(migration.name)
                .bind(chrono::Utc::now().to_rfc3339())
                .execute(&mut *tx)
                .await
                .map_err(wrap)?;
                tx.commit().await.map_err(wrap)?;
            }
            let found: Option<i64> =
                sqlx::query_scalar("select max(version) from schema_migrations")
                    .fetch_one(pool)
                    .await?;
            if let Some(found) = found
                && found > known
            {
                return Err(Error::SchemaTooNew { found, known });
            }
        }};
    }
    match db {
        Db::Sqlite(pool) => apply!(pool, sqlite, None::<&'static str>),
        Db::Postgres(pool) => apply!(
            pool,
            postgres,
            Some("select pg_advisory_xact_lock(7261001)")
        ),
    }
    Ok(())
}
