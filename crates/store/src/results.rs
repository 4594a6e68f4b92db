//! Reading what `winback analyze` stored, for the pages and the API: the latest run's summary
//! (status counts, loss kinds, at-risk revenue), lost customers by kind and month, the list
//! of customers by status, one customer's P(alive) history across runs, the model of the
//! latest run, and the early-warning alerts with their feedback lifecycle.
//!
//! `owner` restricts every query to the customers a sales user owns (`customers.account_owner`);
//! another owner's customer or alert is simply not found. Lists page by keyset, never by
//! offset.
//!
//! At-risk revenue: the revenue of orders not cancelled in the twelve months up to the run's
//! analysis date (`as_of - 12 months < day <= as_of`) of the customers the run calls
//! `at_risk` — what the company takes from them today and would lose. The summary also
//! carries the sum of their CLV (expected discounted residual margin) for comparison.

use std::collections::HashMap;

use chrono::{DateTime, Months, NaiveDate, Utc};
use sqlx::Row;

use crate::customers::CustomerSummary;
use crate::customers::{SUMMARY_COLUMNS, summary_from_row};
use crate::users::on_pool;
use crate::{Backend, Db, Result};

/// The statuses in display order.
pub const STATUSES: [&str; 4] = ["active", "at_risk", "sleeping", "lost"];

/// The states of an alert's lifecycle.
pub const ALERT_STATES: [&str; 4] = ["new", "acknowledged", "action_taken", "false_alarm"];

/// One stored analysis run with its fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub id: i64,
    pub as_of: NaiveDate,
    /// The repeat-buying model (`bg_nbd`, ...).
    pub model: String,
    /// The fitted parameters as a JSON object (`{"r": 0.24, ...}`).
    pub params: String,
    pub loglik: Option<f64>,
    pub n_customers: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// The latest run in numbers (of one owner's customers with an owner filter).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub run: RunInfo,
    /// Customers in the run (after the owner filter).
    pub customers: i64,
    /// Customers per status, in [`STATUSES`] order, zeros included.
    pub status_counts: Vec<(String, i64)>,
    /// Lost customers per loss kind, by kind name.
    pub loss_kinds: Vec<(String, i64)>,
    /// Revenue (orders not cancelled) of the at-risk customers in the 12 months up to `as_of`.
    pub at_risk_revenue_12m_cents: i64,
    /// Sum of the at-risk customers' CLV.
    pub at_risk_clv_cents: i64,
    /// Alerts still in state `new`.
    pub alerts_new: i64,
}

impl RunSummary {
    pub fn count(&self, status: &str) -> i64 {
        self.status_counts
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    }

    /// Customers who are really active: status `active` (at-risk ones still buy, but are
    /// counted apart).
    pub fn active(&self) -> i64 {
        self.count("active")
    }
}

/// Lost customers of one kind whose loss fell in one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostMonth {
    /// `yyyy-mm`
    pub month: String,
    pub loss_kind: String,
    pub customers: i64,
}

/// Which customers of the latest run to list.
#[derive(Debug, Clone, Default)]
pub struct StatusQuery {
    pub owner: Option<String>,
    /// `active`, `at_risk`, `sleeping` or `lost`; `None`: every status.
    pub status: Option<String>,
    /// Keyset pagination: only customers with a larger id.
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// A customer's result in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerStatus {
    pub status: String,
    pub loss_kind: Option<String>,
    pub lost_on: Option<NaiveDate>,
    pub likely_cause: Option<String>,
    pub p_alive: f64,
    pub expected_transactions_52w: f64,
    pub clv_cents: i64,
    pub bargain_hunter: bool,
    /// Evidence as JSON (an array of `{"kind": ..., ...}`), rendered per language by the web.
    pub evidence: String,
}

/// A row of the by-status list.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusListRow {
    pub customer: CustomerSummary,
    pub status: CustomerStatus,
}

/// One point of a customer's history across runs.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub status: CustomerStatus,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub owner: Option<String>,
    pub state: Option<String>,
    pub customer_id: Option<i64>,
    /// Keyset pagination, newest first: only alerts with a smaller id.
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// An early-warning alert with its customer and its current state.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertView {
    pub id: i64,
    pub customer: CustomerSummary,
    pub signal: String,
    pub raised_on: NaiveDate,
    /// Evidence as JSON, like [`CustomerStatus::evidence`].
    pub evidence: String,
    pub state: String,
    pub state_changed_at: Option<DateTime<Utc>>,
    pub state_changed_by: Option<String>,
    pub note: Option<String>,
    pub first_run_id: i64,
}

/// One state change of an alert (the feedback history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    pub id: i64,
    pub from_state: String,
    pub to_state: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub note: Option<String>,
}

/// A change of an alert's state.
#[derive(Debug, Clone)]
pub struct AlertChange<'a> {
    pub to_state: &'a str,
    /// The staff user's e-mail address.
    pub by: &'a str,
    pub note: Option<&'a str>,
    pub at: DateTime<Utc>,
}

const STATUS_COLUMNS: &str = "s.status, s.loss_kind, s.lost_on, s.likely_cause, s.p_alive, \
     s.expected_transactions_52w, s.clv_cents, s.bargain_hunter, s.evidence";
const ALERT_COLUMNS: &str = "a.id as alert_id, a.signal, a.raised_on, a.evidence as alert_evidence, a.state, \
     a.state_changed_at, a.state_changed_by, a.note, a.first_run_id";

macro_rules! status_of {
    ($row:expr) => {{
        let row = $row;
        CustomerStatus {
            status: row.try_get("status")?,
            loss_kind: row.try_get("loss_kind")?,
            lost_on: row.try_get("lost_on")?,
            likely_cause: row.try_get("likely_cause")?,
            p_alive: row.try_get("p_alive")?,
            expected_transactions_52w: row.try_get("expected_transactions_52w")?,
            clv_cents: row.try_get("clv_cents")?,
            bargain_hunter: row.try_get("bargain_hunter")?,
            evidence: row.try_get("evidence")?,
        }
    }};
}

macro_rules! run_of {
    ($row:expr) => {{
        let row = $row;
        RunInfo {
            id: row.try_get("id")?,
            as_of: row.try_get("as_of_on")?,
            model: row.try_get("model")?,
            params: row.try_get("params")?,
            loglik: row.try_get("loglik")?,
            n_customers: row.try_get("n_customers")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
        }
    }};
}

macro_rules! alert_of {
    ($row:expr) => {{
        let row = $row;
        AlertView {
            id: row.try_get("alert_id")?,
            customer: summary_from_row!(row),
            signal: row.try_get("signal")?,
            raised_on: row.try_get("raised_on")?,
            evidence: row.try_get("alert_evidence")?,
            state: row.try_get("state")?,
            state_changed_at: row.try_get("state_changed_at")?,
            state_changed_by: row.try_get("state_changed_by")?,
            note: row.try_get("note")?,
            first_run_id: row.try_get("first_run_id")?,
        }
    }};
}

/// Where the data stands: the latest import, analysis run and alert feedback, and the number
/// of quality reports (a run stores them after its statuses). Every change the overview's
/// figures depend on adds a row to one of those tables, so an unchanged version means
/// unchanged figures (see the web layer's overview cache).
pub type DataVersion = (i64, i64, i64, i64);

impl Db {
    /// The current [`DataVersion`]: three lookups of a maximum on a primary key and the
    /// count of a table with two rows per run.
    pub async fn data_version(&self) -> Result<DataVersion> {
        const SQL: &str = "select (select coalesce(max(id), 0) from imports),
                (select coalesce(max(id), 0) from analysis_runs),
                (select coalesce(max(id), 0) from alert_events),
                (select count(*) from analysis_reports)";
        on_pool!(self, |pool| Ok(sqlx::query_as::<_, DataVersion>(SQL)
            .fetch_one(pool)
            .await?))
    }

    /// The status (`active`, `at_risk`, `sleeping`, `lost`) of each of the customers `ids`
    /// in the latest analysis run, for a page of a list; customers that run did not cover
    /// are missing. One primary-key lookup per customer.
    pub async fn latest_statuses(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let params: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "select customer_id, status from customer_status
             where run_id = (select max(id) from analysis_runs) and customer_id in ({})",
            params.join(", ")
        );
        on_pool!(self, |pool| {
            let mut query = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(*id);
            }
            Ok(query.fetch_all(pool).await?.into_iter().collect())
        })
    }

    /// The latest analysis run with its model, or `None` before the first analysis.
    pub async fn latest_run(&self) -> Result<Option<RunInfo>> {
        const SQL: &str =
            "select id, as_of_on, model, params, loglik, n_customers, started_at, finished_at
             from analysis_runs order by id desc limit 1";
        on_pool!(self, |pool| {
            match sqlx::query(SQL).fetch_optional(pool).await? {
                Some(row) => Ok(Some(run_of!(&row))),
                None => Ok(None),
            }
        })
    }

    /// Keeps a report (`validation` or `backtest`, as JSON) with its run; a second one of
    /// the same kind replaces the first.
    pub async fn save_report(&self, run_id: i64, kind: &str, body: &str) -> Result<()> {
        const SQL: &str = "insert into analysis_reports (run_id, kind, body) values ($1, $2, $3)
             on conflict (run_id, kind) do update set body = excluded.body";
        on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(run_id)
                .bind(kind.to_owned())
                .bind(body.to_owned())
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// The newest report of `kind` with the run it belongs to.
    pub async fn latest_report(&self, kind: &str) -> Result<Option<(i64, String)>> {
        const SQL: &str = "select run_id, body from analysis_reports where kind = $1 order by run_id desc limit 1";
        on_pool!(self, |pool| {
            Ok(sqlx::query_as::<_, (i64, String)>(SQL)
                .bind(kind.to_owned())
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The latest run in numbers; `None` before the first analysis.
    #[tracing::instrument(skip_all)]
    pub async fn run_summary(&self, owner: Option<&str>) -> Result<Option<RunSummary>> {
        let Some(run) = self.latest_run().await? else {
            return Ok(None);
        };
        let from = run
            .as_of
            .checked_sub_months(Months::new(12))
            .unwrap_or(run.as_of);
        let day = match self.backend() {
            Backend::Sqlite => "substr(o.ordered_at, 1, 10)",
            Backend::Postgres => "cast(o.ordered_at at time zone 'UTC' as date)",
        };
        let owner = owner.map(str::to_owned);
        let counts_sql = "select s.status, count(*) as n from customer_status s join customers c on c.id = s.customer_id
             where s.run_id = $1 and ($2 is null or c.account_owner = $2) group by s.status";
        let kinds_sql = "select s.loss_kind, count(*) as n from customer_status s join customers c on c.id = s.customer_id
             where s.run_id = $1 and ($2 is null or c.account_owner = $2) and s.status = 'lost' and s.loss_kind is not null
             group by s.loss_kind order by s.loss_kind";
        let clv_sql = "select cast(coalesce(sum(s.clv_cents), 0) as bigint) from customer_status s join customers c on c.id = s.customer_id
             where s.run_id = $1 and ($2 is null or c.account_owner = $2) and s.status = 'at_risk'";
        let revenue_sql = format!(
            "select cast(coalesce(sum(o.gross_cents), 0) as bigint) from orders o
               join customer_status s on s.customer_id = o.customer_id and s.run_id = $1
               join customers c on c.id = o.customer_id
             where ($2 is null or c.account_owner = $2) and s.status = 'at_risk' and not o.cancelled
               and {day} > $3 and {day} <= $4"
        );
        let alerts_sql = "select count(*) from alerts a join customers c on c.id = a.customer_id
             where a.state = 'new' and ($1 is null or c.account_owner = $1)";
        on_pool!(self, |pool| {
            let rows = sqlx::query(counts_sql)
                .bind(run.id)
                .bind(owner.clone())
                .fetch_all(pool)
                .await?;
            let mut found = Vec::new();
            for row in &rows {
                found.push((
                    row.try_get::<String, _>("status")?,
                    row.try_get::<i64, _>("n")?,
                ));
            }
            let status_counts: Vec<(String, i64)> = STATUSES
                .iter()
                .map(|s| {
                    let n = found.iter().find(|(x, _)| x == s).map_or(0, |(_, n)| *n);
                    ((*s).to_owned(), n)
                })
                .collect();
            let rows = sqlx::query(kinds_sql)
                .bind(run.id)
                .bind(owner.clone())
                .fetch_all(pool)
                .await?;
            let mut loss_kinds = Vec::new();
            for row in &rows {
                loss_kinds.push((row.try_get("loss_kind")?, row.try_get("n")?));
            }
            let at_risk_clv_cents: i64 = sqlx::query_scalar(clv_sql)
                .bind(run.id)
                .bind(owner.clone())
                .fetch_one(pool)
                .await?;
            let at_risk_revenue_12m_cents: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(revenue_sql))
                    .bind(run.id)
                    .bind(owner.clone())
                    .bind(from)
                    .bind(run.as_of)
                    .fetch_one(pool)
                    .await?;
            let alerts_new: i64 = sqlx::query_scalar(alerts_sql)
                .bind(owner.clone())
                .fetch_one(pool)
                .await?;
            Ok(Some(RunSummary {
                customers: status_counts.iter().map(|(_, n)| n).sum(),
                run,
                status_counts,
                loss_kinds,
                at_risk_revenue_12m_cents,
                at_risk_clv_cents,
                alerts_new,
            }))
        })
    }

    /// Lost customers of the latest run by month of `lost_on` and loss kind, oldest month
    /// first (months without a loss are left out).
    #[tracing::instrument(skip_all)]
    pub async fn lost_by_month(&self, owner: Option<&str>) -> Result<Vec<LostMonth>> {
        let month = match self.backend() {
            Backend::Sqlite => "substr(s.lost_on, 1, 7)",
            Backend::Postgres => "to_char(s.lost_on, 'YYYY-MM')",
        };
        let sql = format!(
            "select {month} as month, coalesce(s.loss_kind, 'unknown') as kind, count(*) as n
             from customer_status s join customers c on c.id = s.customer_id
             where s.run_id = (select max(id) from analysis_runs) and s.status = 'lost'
               and s.lost_on is not null and ($1 is null or c.account_owner = $1)
             group by 1, 2 order by 1, 2"
        );
        let owner = owner.map(str::to_owned);
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(owner)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(LostMonth {
                    month: row.try_get("month")?,
                    loss_kind: row.try_get("kind")?,
                    customers: row.try_get("n")?,
                });
            }
            Ok(out)
        })
    }

    /// One page of the latest run's customers in id order (ask for `limit + 1` to learn
    /// whether more follow); empty before the first analysis.
    #[tracing::instrument(skip_all, fields(after = query.after_id, limit = query.limit))]
    pub async fn customers_by_status(&self, query: &StatusQuery) -> Result<Vec<StatusListRow>> {
        let Some(run) = self.latest_run().await? else {
            return Ok(Vec::new());
        };
        let mut sql = format!(
            "select {SUMMARY_COLUMNS}, {STATUS_COLUMNS}
             from customer_status s join customers c on c.id = s.customer_id
             where s.run_id = $1 and s.customer_id > $2"
        );
        let mut n = 2;
        if query.status.is_some() {
            n += 1;
            sql.push_str(&format!(" and s.status = ${n}"));
        }
        if query.owner.is_some() {
            n += 1;
            sql.push_str(&format!(" and c.account_owner = ${n}"));
        }
        sql.push_str(&format!(
            " order by s.customer_id limit {}",
            query.limit.min(1000)
        ));
        on_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(run.id)
                .bind(query.after_id.unwrap_or(0));
            if let Some(status) = &query.status {
                q = q.bind(status.clone());
            }
            if let Some(owner) = &query.owner {
                q = q.bind(owner.clone());
            }
            let rows = q.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(StatusListRow {
                    customer: summary_from_row!(row),
                    status: status_of!(row),
                });
            }
            Ok(out)
        })
    }

    /// One customer's status in every run, oldest run first; `None` when the customer does
    /// not exist or (with `owner`) belongs to someone else.
    #[tracing::instrument(skip_all, fields(customer_id = id))]
    pub async fn customer_history(
        &self,
        id: i64,
        owner: Option<&str>,
    ) -> Result<Option<Vec<HistoryPoint>>> {
        let exists_sql = "select count(*) from customers c where c.id = $1 and ($2 is null or c.account_owner = $2)";
        // One primary-key lookup of (run, customer) per run. SQLite's planner (3.51, no
        // statistics) would rather scan every status of every run and look the run up; a
        // CROSS JOIN keeps the runs outside (PostgreSQL plans this itself and has no CROSS
        // JOIN ... ON).
        let join = match self.backend() {
            Backend::Sqlite => "cross join",
            Backend::Postgres => "join",
        };
        let sql = format!(
            "select r.id as run_id, r.as_of_on, {STATUS_COLUMNS}
             from analysis_runs r {join} customer_status s on s.run_id = r.id and s.customer_id = $1
             order by r.id"
        );
        let owner = owner.map(str::to_owned);
        on_pool!(self, |pool| {
            let n: i64 = sqlx::query_scalar(exists_sql)
                .bind(id)
                .bind(owner)
                .fetch_one(pool)
                .await?;
            if n == 0 {
                return Ok(None);
            }
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(HistoryPoint {
                    run_id: row.try_get("run_id")?,
                    as_of: row.try_get("as_of_on")?,
                    status: status_of!(row),
                });
            }
            Ok(Some(out))
        })
    }

    /// Alerts newest first (ask for `limit + 1` to learn whether more follow).
    #[tracing::instrument(skip_all, fields(limit = query.limit))]
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Vec<AlertView>> {
        let mut sql = format!(
            "select {ALERT_COLUMNS}, {SUMMARY_COLUMNS}
             from alerts a join customers c on c.id = a.customer_id where a.id < $1"
        );
        let mut n = 1;
        if query.state.is_some() {
            n += 1;
            sql.push_str(&format!(" and a.state = ${n}"));
        }
        if query.owner.is_some() {
            n += 1;
            sql.push_str(&format!(" and c.account_owner = ${n}"));
        }
        if query.customer_id.is_some() {
            n += 1;
            sql.push_str(&format!(" and a.customer_id = ${n}"));
        }
        sql.push_str(&format!(
            " order by a.id desc limit {}",
            query.limit.min(1000)
        ));
        on_pool!(self, |pool| {
            let mut q =
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(query.before_id.unwrap_or(i64::MAX));
            if let Some(state) = &query.state {
                q = q.bind(state.clone());
            }
            if let Some(owner) = &query.owner {
                q = q.bind(owner.clone());
            }
            if let Some(customer) = query.customer_id {
                q = q.bind(customer);
            }
            let rows = q.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(alert_of!(row));
            }
            Ok(out)
        })
    }

    /// Alerts per state, in [`ALERT_STATES`] order, zeros included.
    pub async fn alert_state_counts(&self, owner: Option<&str>) -> Result<Vec<(String, i64)>> {
        // Without an owner filter, no join: the counts come from the index on the state.
        const ALL: &str = "select state, count(*) as n from alerts group by state";
        const OWN: &str =
            "select a.state, count(*) as n from alerts a join customers c on c.id = a.customer_id
             where c.account_owner = $1 group by a.state";
        let found: Vec<(String, i64)> = on_pool!(self, |pool| match owner {
            None => sqlx::query_as(ALL).fetch_all(pool).await?,
            Some(owner) => sqlx::query_as(OWN).bind(owner).fetch_all(pool).await?,
        });
        Ok(ALERT_STATES
            .iter()
            .map(|s| {
                let n = found.iter().find(|(x, _)| x == s).map_or(0, |(_, n)| *n);
                ((*s).to_owned(), n)
            })
            .collect())
    }

    /// One alert; `None` when it does not exist or (with `owner`) is about another owner's
    /// customer.
    pub async fn alert(&self, id: i64, owner: Option<&str>) -> Result<Option<AlertView>> {
        let sql = format!(
            "select {ALERT_COLUMNS}, {SUMMARY_COLUMNS}
             from alerts a join customers c on c.id = a.customer_id
             where a.id = $1 and ($2 is null or c.account_owner = $2)"
        );
        let owner = owner.map(str::to_owned);
        on_pool!(self, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(owner)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some(alert_of!(&row))),
                None => Ok(None),
            }
        })
    }

    /// The feedback history of an alert, oldest change first.
    pub async fn alert_events(&self, alert_id: i64) -> Result<Vec<AlertEvent>> {
        const SQL: &str = "select id, from_state, to_state, changed_at, changed_by, note
             from alert_events where alert_id = $1 order by id";
        on_pool!(self, |pool| {
            let rows = sqlx::query(SQL).bind(alert_id).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(AlertEvent {
                    id: row.try_get("id")?,
                    from_state: row.try_get("from_state")?,
                    to_state: row.try_get("to_state")?,
                    changed_at: row.try_get("changed_at")?,
                    changed_by: row.try_get("changed_by")?,
                    note: row.try_get("note")?,
                });
            }
            Ok(out)
        })
    }

    /// Moves an alert to another state and keeps the change in its history, in one
    /// transaction. `None` when the alert does not exist or (with `owner`) is about another
    /// owner's customer. The state must be one of [`ALERT_STATES`] (the database refuses
    /// others).
    #[tracing::instrument(skip_all, fields(alert_id = id, to = change.to_state))]
    pub async fn set_alert_state(
        &self,
        id: i64,
        owner: Option<&str>,
        change: &AlertChange<'_>,
    ) -> Result<Option<AlertView>> {
        let owner_s = owner.map(str::to_owned);
        let note = change
            .note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let changed: bool = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let from: Option<String> = sqlx::query_scalar(
                "select a.state from alerts a join customers c on c.id = a.customer_id
                 where a.id = $1 and ($2 is null or c.account_owner = $2)",
            )
            .bind(id)
            .bind(owner_s.clone())
            .fetch_optional(&mut *tx)
            .await?;
            match from {
                None => false,
                Some(from) => {
                    sqlx::query(
                        "update alerts set state = $1, state_changed_at = $2, state_changed_by = $3, note = $4
                         where id = $5",
                    )
                    .bind(change.to_state.to_owned())
                    .bind(change.at)
                    .bind(change.by.to_owned())
                    .bind(note.clone())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "insert into alert_events (alert_id, from_state, to_state, changed_at, changed_by, note)
                         values ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(id)
                    .bind(from)
                    .bind(change.to_state.to_owned())
                    .bind(change.at)
                    .bind(change.by.to_owned())
                    .bind(note.clone())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    true
                }
            }
        });
        if !changed {
            return Ok(None);
        }
        self.alert(id, owner).await
    }
}
