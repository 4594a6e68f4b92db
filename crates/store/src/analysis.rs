//! Loading every customer's history for `winback analyze`, and storing what it found:
//! the run, each customer's status, and early-warning alerts with their lifecycle.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;
use winback_engine::analysis::{
    ComplaintFact, ContractFact, CustomerHistory, LineFact, OrderFact, ProductFact,
};
use winback_engine::{Money, Satisfaction};

use crate::{Db, Result};

/// Every customer's facts, in customer id order, with the product range.
pub struct LoadedHistories {
    /// The database id of each customer, parallel to `histories`.
    pub ids: Vec<i64>,
    pub histories: Vec<CustomerHistory>,
    pub products: Vec<ProductFact>,
}

/// One customer's result of an analysis run, ready to store.
#[derive(Debug, Clone)]
pub struct StatusRow {
    pub customer_id: i64,
    pub status: &'static str,
    pub loss_kind: Option<&'static str>,
    pub lost_on: Option<NaiveDate>,
    pub likely_cause: Option<&'static str>,
    pub p_alive: f64,
    pub expected_transactions_52w: f64,
    pub clv: Money,
    pub bargain_hunter: bool,
    /// Machine-readable evidence (JSON), rendered per language by the web layer.
    pub evidence: String,
}

#[derive(Debug, Clone)]
pub struct AlertRow {
    pub customer_id: i64,
    pub signal: &'static str,
    pub raised_on: NaiveDate,
    pub evidence: String,
}

#[derive(Debug, Clone)]
pub struct RunMeta {
    pub as_of: NaiveDate,
    pub model: String,
    pub params: String,
    pub loglik: Option<f64>,
    pub started_at: DateTime<Utc>,
}

fn satisfaction(s: &str) -> Satisfaction {
    match s {
        "yes" => Satisfaction::Yes,
        "no" => Satisfaction::No,
        _ => Satisfaction::Unknown,
    }
}

/// Runs the same loading code on either backend: the row types differ, the SQL does not.
macro_rules! load_all {
    ($pool:expr, $customers:expr, $orders_and_lines:expr) => {{
        let pool = $pool;
        let (ids, mut histories) = $customers.await?;
        let index = CustomerIndex::new(&ids);

        $orders_and_lines(&index, &mut histories).await?;

        let mut rows = sqlx::query(
            "select customer_id, opened_at, first_response_at, resolved_at, satisfied from complaints",
        )
        .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let Some(idx) = index.get(row.try_get::<i64, _>(0)?) else { continue };
            histories[idx].complaints.push(ComplaintFact {
                opened_at: row.try_get(1)?,
                first_response_at: row.try_get(2)?,
                resolved_at: row.try_get(3)?,
                satisfied: satisfaction(&row.try_get::<String, _>(4)?),
            });
        }
        drop(rows);

        let mut rows = sqlx::query(
            "select customer_id, started_on, ends_on, renewal_on, cancellation_received_at,
                    cancellation_effective_on, cancellation_reason
             from contracts",
        )
        .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let Some(idx) = index.get(row.try_get::<i64, _>(0)?) else { continue };
            histories[idx].contracts.push(ContractFact {
                started_on: row.try_get(1)?,
                ends_on: row.try_get(2)?,
                renewal_on: row.try_get(3)?,
                cancellation_received_at: row.try_get(4)?,
                cancellation_effective_on: row.try_get(5)?,
                cancellation_reason: row.try_get(6)?,
            });
        }
        drop(rows);

        let products = sqlx::query("select sku, delisted_on from products")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| Ok(ProductFact { sku: row.try_get(0)?, delisted_on: row.try_get(1)? }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        LoadedHistories { ids, histories, products }
    }};
}

/// Customers' positions in the loaded histories by database id, for the tens of millions of
/// order and line rows that look their customer up: a table indexed by id when the ids are
/// dense (the usual 1..N; deletions and PostgreSQL's identity caching leave some gaps), a
/// hash map when they are not.
#[derive(Clone)]
enum CustomerIndex {
    /// The position at each id, `u32::MAX` where no customer has that id.
    Table(Vec<u32>),
    Map(HashMap<i64, usize, foldhash::fast::RandomState>),
}

impl CustomerIndex {
    fn new(ids: &[i64]) -> CustomerIndex {
        let (min, max) = (ids.iter().min(), ids.iter().max());
        if let (Some(&min), Some(&max)) = (min, max)
            && min >= 0
            && max <= 2 * ids.len() as i64 + 1024
            && ids.len() < u32::MAX as usize
        {
            let mut table = vec![u32::MAX; max as usize + 1];
            for (position, &id) in ids.iter().enumerate() {
                table[id as usize] = position as u32;
            }
            return CustomerIndex::Table(table);
        }
        CustomerIndex::Map(
            ids.iter()
                .enumerate()
                .map(|(position, &id)| (id, position))
                .collect(),
        )
    }

    #[inline]
    fn get(&self, id: i64) -> Option<usize> {
        match self {
            CustomerIndex::Table(table) => usize::try_from(id)
                .ok()
                .and_then(|id| table.get(id))
                .filter(|&&position| position != u32::MAX)
                .map(|&position| position as usize),
            CustomerIndex::Map(map) => map.get(&id).copied(),
        }
    }
}

fn history(
    external_id: String,
    segment: Option<String>,
    industry: Option<String>,
    created_at: Option<DateTime<Utc>>,
) -> CustomerHistory {
    CustomerHistory {
        external_id,
        segment,
        industry,
        created_at,
        orders: Vec::new(),
        lines: Vec::new(),
        complaints: Vec::new(),
        contracts: Vec::new(),
    }
}

const CUSTOMERS_SQL: &str =
    "select id, external_id, segment, industry, created_at from customers order by id";

/// Every customer, in id order, through sqlx (PostgreSQL).
async fn postgres_customers(pool: &sqlx::PgPool) -> Result<(Vec<i64>, Vec<CustomerHistory>)> {
    let (mut ids, mut histories) = (Vec::new(), Vec::new());
    let mut rows = sqlx::query(CUSTOMERS_SQL).fetch(pool);
    while let Some(row) = rows.try_next().await? {
        ids.push(row.try_get::<i64, _>(0)?);
        histories.push(history(
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
        ));
    }
    Ok((ids, histories))
}

/// Every customer, in id order, through SQLite's C API (sqlx hands each of a million rows
/// between two threads).
async fn sqlite_customers(pool: &sqlx::SqlitePool) -> Result<(Vec<i64>, Vec<CustomerHistory>)> {
    let (mut ids, mut histories) = (Vec::new(), Vec::new());
    let mut conn = pool.acquire().await?;
    let sql = std::ffi::CString::new(CUSTOMERS_SQL).expect("no NUL in the query");
    crate::sqlite_fast::for_each_row(&mut conn, &sql, |row| {
        let external_id = row
            .text(1)?
            .ok_or_else(|| crate::Error::Sqlite("customers.external_id is NULL".into()))?;
        let created_at = match row.text(4)? {
            Some(text) => Some(sqlite_instant(Some(text), "customers.created_at")?),
            None => None,
        };
        ids.push(row.int(0));
        histories.push(history(
            external_id.to_owned(),
            row.text(2)?.map(str::to_owned),
            row.text(3)?.map(str::to_owned),
            created_at,
        ));
        Ok(())
    })
    .await?;
    Ok((ids, histories))
}

const STATUS_COLUMNS: &str = "run_id, customer_id, status, loss_kind, lost_on, likely_cause, \
     p_alive, expected_transactions_52w, clv_cents, bargain_hunter, evidence";

/// A run's statuses in multi-row inserts (SQLite: its time goes to the table's indexes, not to
/// sqlx; the C API was measured no faster).
async fn sqlite_statuses(
    conn: &mut sqlx::SqliteConnection,
    run_id: i64,
    statuses: &[StatusRow],
) -> Result<()> {
    for chunk in statuses.chunks(2000) {
        let mut builder = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
            "insert into customer_status ({STATUS_COLUMNS}) "
        ));
        builder.push_values(chunk, |mut b, s| {
            b.push_bind(run_id)
                .push_bind(s.customer_id)
                .push_bind(s.status)
                .push_bind(s.loss_kind)
                .push_bind(s.lost_on)
                .push_bind(s.likely_cause)
                .push_bind(s.p_alive)
                .push_bind(s.expected_transactions_52w)
                .push_bind(s.clv.cents())
                .push_bind(s.bargain_hunter)
                .push_bind(s.evidence.as_str());
        });
        builder.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// A run's statuses through `COPY ... FROM STDIN` (PostgreSQL parses and plans a multi-row
/// insert of 22,000 parameters slowly; with COPY, storing a run takes half as long).
async fn postgres_statuses(
    conn: &mut sqlx::PgConnection,
    run_id: i64,
    statuses: &[StatusRow],
) -> Result<()> {
    use std::fmt::Write as _;
    for chunk in statuses.chunks(50_000) {
        let mut data = String::with_capacity(chunk.len() * 320);
        for s in chunk {
            // CSV: an unquoted empty field is NULL; texts are quoted with `"` doubled.
            let _ = write!(data, "{run_id},{},{},", s.customer_id, s.status);
            data.push_str(s.loss_kind.unwrap_or(""));
            data.push(',');
            if let Some(day) = s.lost_on {
                let _ = write!(data, "{}", day.format("%F"));
            }
            data.push(',');
            data.push_str(s.likely_cause.unwrap_or(""));
            let _ = write!(
                data,
                ",{},{},{},{},\"",
                s.p_alive,
                s.expected_transactions_52w,
                s.clv.cents(),
                if s.bargain_hunter { 't' } else { 'f' }
            );
            data.push_str(&s.evidence.replace('"', "\"\""));
            data.push_str("\"\n");
        }
        let mut copy = conn
            .copy_in_raw(&format!(
                "copy customer_status ({STATUS_COLUMNS}) from stdin (format csv)"
            ))
            .await?;
        copy.send(data.into_bytes()).await?;
        copy.finish().await?;
    }
    Ok(())
}

/// Orders and order lines through sqlx (PostgreSQL).
async fn postgres_orders_and_lines(
    pool: &sqlx::PgPool,
    index: &CustomerIndex,
    histories: &mut [CustomerHistory],
) -> Result<()> {
    // The lines are read on a second connection while the orders are read on the first, as
    // on SQLite: each pass decodes its rows on a core of its own.
    let lines = {
        let (pool, index, customers) = (pool.clone(), index.clone(), histories.len());
        tokio::spawn(async move { postgres_lines(&pool, &index, customers).await })
    };
    let mut rows = sqlx::query(
        "select customer_id, ordered_at, gross_cents, margin_cents, discount_cents, voucher_code,
                    delivery_promised_on, delivered_on, returned, cancelled
             from orders",
    )
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let Some(idx) = index.get(row.try_get::<i64, _>(0)?) else {
            continue;
        };
        histories[idx].orders.push(OrderFact {
            ordered_at: row.try_get(1)?,
            gross: Money::from_cents(row.try_get(2)?),
            margin: row.try_get::<Option<i64>, _>(3)?.map(Money::from_cents),
            discount: Money::from_cents(row.try_get(4)?),
            voucher: row.try_get::<Option<String>, _>(5)?.is_some(),
            delivery_promised_on: row.try_get(6)?,
            delivered_on: row.try_get(7)?,
            returned: row.try_get(8)?,
            cancelled: row.try_get(9)?,
        });
    }
    drop(rows);
    attach_lines(histories, joined(lines).await?);
    Ok(())
}

type LinesTask = tokio::task::JoinHandle<Result<Vec<Vec<LineFact>>>>;

/// The order lines a task read beside the orders.
async fn joined(task: LinesTask) -> Result<Vec<Vec<LineFact>>> {
    task.await
        .map_err(|e| crate::Error::Task(format!("reading the order lines failed: {e}")))?
}

/// Gives each customer the lines read for them (in the histories' order).
fn attach_lines(histories: &mut [CustomerHistory], lines: Vec<Vec<LineFact>>) {
    for (history, lines) in histories.iter_mut().zip(lines) {
        history.lines = lines;
    }
}

/// Every customer's order lines (by the position `index` gives), on a connection of its own.
async fn postgres_lines(
    pool: &sqlx::PgPool,
    index: &CustomerIndex,
    customers: usize,
) -> Result<Vec<Vec<LineFact>>> {
    let mut lines: Vec<Vec<LineFact>> = (0..customers).map(|_| Vec::new()).collect();
    let mut rows = sqlx::query(
        "select o.customer_id, o.ordered_at, l.sku, l.unit_price_cents, l.quantity
             from order_lines l join orders o on o.id = l.order_id",
    )
    .fetch(pool);
    let mut skus = Skus::default();
    while let Some(row) = rows.try_next().await? {
        let Some(idx) = index.get(row.try_get::<i64, _>(0)?) else {
            continue;
        };
        let sku: Option<&str> = row.try_get(2)?;
        lines[idx].push(LineFact::new(
            row.try_get(1)?,
            sku.map(|s| skus.get(s)),
            Money::from_cents(row.try_get(3)?),
            row.try_get(4)?,
        ));
    }
    Ok(lines)
}

fn sqlite_instant(text: Option<&str>, what: &str) -> Result<DateTime<Utc>> {
    let text = text.ok_or_else(|| crate::Error::Sqlite(format!("{what} is NULL")))?;
    parse_instant(text)
        .ok_or_else(|| crate::Error::Sqlite(format!("{what}: '{text}' is not a timestamp")))
}

/// An instant as SQLite holds it: RFC 3339 (what winback writes), or a plain date and time
/// in UTC (what other tools write).
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    // What winback writes itself, `2024-01-03T09:30:00+00:00`, read from its fixed layout
    // (tens of millions of these per analysis of a large company); anything else, and
    // anything out of range, goes the general way.
    fixed_instant(text).or_else(|| general_instant(text))
}

/// [`parse_instant`] for any layout chrono reads.
fn general_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ["%F %T%.f%:z", "%F %T%.f", "%FT%T%.f"]
        .iter()
        .find_map(|f| {
            DateTime::parse_from_str(text, f)
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    chrono::NaiveDateTime::parse_from_str(text, f)
                        .ok()
                        .map(|t| t.and_utc())
                })
        })
}

fn sqlite_date(text: Option<&str>, what: &str) -> Result<Option<NaiveDate>> {
    text.map(|t| {
        fixed_date(t)
            .or_else(|| NaiveDate::parse_from_str(t, "%F").ok())
            .ok_or_else(|| crate::Error::Sqlite(format!("{what}: '{t}' is not a date")))
    })
    .transpose()
}

/// The number written by the ASCII digits `digits`, if they all are.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// `yyyy-mm-dd` exactly (a valid day), as winback and sqlx write dates.
fn fixed_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// `yyyy-mm-ddThh:mm:ss+00:00` exactly (a valid instant), as winback writes instants.
fn fixed_instant(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 25 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || &b[19..] != b"+00:00" {
        return None;
    }
    let time = chrono::NaiveTime::from_hms_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    Some(fixed_date(&text[..10])?.and_time(time).and_utc())
}

/// One shared string per distinct sku, so that millions of order lines that name a few
/// hundred articles do not hold a string each (about half a gigabyte for the 1,000,000-customer
/// demo's 19 million lines).
#[derive(Default)]
struct Skus(HashMap<Box<str>, Arc<str>>);

impl Skus {
    fn get(&mut self, sku: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(sku) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(sku);
        self.0.insert(sku.into(), Arc::clone(&shared));
        shared
    }
}

/// Orders and order lines straight through SQLite's C API (see `sqlite_fast::for_each_row`).
async fn sqlite_orders_and_lines(
    pool: &sqlx::SqlitePool,
    index: &CustomerIndex,
    histories: &mut [CustomerHistory],
) -> Result<()> {
    // The lines are read on a second connection at the same time as the orders (readers of a
    // WAL file do not wait for each other), so each pass has a core of its own. Each query is
    // its own read, as the two passes on one connection were before.
    // (A pool of one connection reads them after the orders: waiting for its connection
    // through the whole orders pass could outlast the pool's acquire timeout.)
    let lines = (pool.options().get_max_connections() > 1).then(|| {
        let (pool, index, customers) = (pool.clone(), index.clone(), histories.len());
        tokio::spawn(async move { sqlite_lines(&pool, &index, customers).await })
    });
    let mut conn = pool.acquire().await?;
    crate::sqlite_fast::for_each_row(
        &mut conn,
        c"select customer_id, ordered_at, gross_cents, margin_cents, discount_cents, voucher_code,
                 delivery_promised_on, delivered_on, returned, cancelled
          from orders",
        |row| {
            let Some(idx) = index.get(row.int(0)) else {
                return Ok(());
            };
            histories[idx].orders.push(OrderFact {
                ordered_at: sqlite_instant(row.text(1)?, "orders.ordered_at")?,
                gross: Money::from_cents(row.int(2)),
                margin: row.opt_int(3).map(Money::from_cents),
                discount: Money::from_cents(row.int(4)),
                voucher: row.text(5)?.is_some(),
                delivery_promised_on: sqlite_date(row.text(6)?, "orders.delivery_promised_on")?,
                delivered_on: sqlite_date(row.text(7)?, "orders.delivered_on")?,
                returned: row.int(8) != 0,
                cancelled: row.int(9) != 0,
            });
            Ok(())
        },
    )
    .await?;
    drop(conn);
    let lines = match lines {
        Some(task) => joined(task).await?,
        None => sqlite_lines(pool, index, histories.len()).await?,
    };
    attach_lines(histories, lines);
    Ok(())
}

/// Every customer's order lines (by the position `index` gives), on a connection of its own.
async fn sqlite_lines(
    pool: &sqlx::SqlitePool,
    index: &CustomerIndex,
    customers: usize,
) -> Result<Vec<Vec<LineFact>>> {
    let mut lines: Vec<Vec<LineFact>> = (0..customers).map(|_| Vec::new()).collect();
    let mut conn = pool.acquire().await?;
    let mut skus = Skus::default();
    crate::sqlite_fast::for_each_row(
        &mut conn,
        c"select o.customer_id, o.ordered_at, l.sku, l.unit_price_cents, l.quantity
          from order_lines l join orders o on o.id = l.order_id",
        |row| {
            let Some(idx) = index.get(row.int(0)) else {
                return Ok(());
            };
            lines[idx].push(LineFact::new(
                sqlite_instant(row.text(1)?, "orders.ordered_at")?,
                row.text(2)?.map(|s| skus.get(s)),
                Money::from_cents(row.int(3)),
                row.int(4),
            ));
            Ok(())
        },
    )
    .await?;
    Ok(lines)
}

impl Db {
    /// Loads every customer's orders, order lines, complaints and contracts.
    #[tracing::instrument(skip_all)]
    pub async fn load_histories(&self) -> Result<LoadedHistories> {
        Ok(match self {
            Db::Sqlite(pool) => load_all!(pool, sqlite_customers(pool), |index, histories| {
                sqlite_orders_and_lines(pool, index, histories)
            }),
            Db::Postgres(pool) => load_all!(pool, postgres_customers(pool), |index, histories| {
                postgres_orders_and_lines(pool, index, histories)
            }),
        })
    }

    /// Deletes the per-customer statuses of every analysis run but the latest `keep` (in
    /// the order they were stored; `keep` is at least 1). The runs themselves, their
    /// quality reports and the alerts stay; a customer's P(alive) history then starts at
    /// the oldest kept run. Returns the number of status rows deleted.
    ///
    /// Every run keeps one row per customer (about 250 bytes with its evidence), so a
    /// daily analysis of a million customers grows the database by a quarter of a
    /// gigabyte a day unless older runs are pruned (`winback analyze --keep-runs`).
    #[tracing::instrument(skip(self))]
    pub async fn prune_statuses(&self, keep: u32) -> Result<u64> {
        let sql = "delete from customer_status where run_id < (
                       select min(id) from (select id from analysis_runs order by id desc limit $1) latest)";
        let keep = i64::from(keep.max(1));
        let deleted = match self {
            Db::Sqlite(pool) => sqlx::query(sql)
                .bind(keep)
                .execute(pool)
                .await?
                .rows_affected(),
            Db::Postgres(pool) => sqlx::query(sql)
                .bind(keep)
                .execute(pool)
                .await?
                .rows_affected(),
        };
        tracing::info!(deleted, "statuses of older analysis runs pruned");
        Ok(deleted)
    }

    /// Stores an analysis run: its statuses and its new alerts, in one transaction.
    /// An alert that already exists (same customer, signal and day) keeps its state.
    #[tracing::instrument(skip_all, fields(customers = statuses.len(), alerts = alerts.len()))]
    pub async fn save_analysis(
        &self,
        meta: &RunMeta,
        statuses: Vec<StatusRow>,
        alerts: Vec<AlertRow>,
    ) -> Result<i64> {
        macro_rules! save {
            ($pool:expr, $db:ty, $statuses:expr) => {{
                let mut tx = $pool.begin().await?;
                let run_id: i64 = sqlx::query_scalar(
                    "insert into analysis_runs (as_of_on, model, params, loglik, n_customers, started_at, finished_at)
                     values ($1, $2, $3, $4, $5, $6, $7) returning id",
                )
                .bind(meta.as_of)
                .bind(meta.model.clone())
                .bind(meta.params.clone())
                .bind(meta.loglik)
                .bind(statuses.len() as i64)
                .bind(meta.started_at)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await?;
                $statuses(&mut *tx, run_id, &statuses).await?;
                for chunk in alerts.chunks(2000) {
                    let mut builder = sqlx::QueryBuilder::<$db>::new(
                        "insert into alerts (customer_id, signal, raised_on, evidence, first_run_id) ",
                    );
                    builder.push_values(chunk, |mut b, a| {
                        b.push_bind(a.customer_id)
                            .push_bind(a.signal)
                            .push_bind(a.raised_on)
                            .push_bind(a.evidence.clone())
                            .push_bind(run_id);
                    });
                    builder.push(" on conflict (customer_id, signal, raised_on) do nothing");
                    builder.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                run_id
            }};
        }
        Ok(match self {
            Db::Sqlite(pool) => save!(pool, sqlx::Sqlite, sqlite_statuses),
            Db::Postgres(pool) => save!(pool, sqlx::Postgres, postgres_statuses),
        })
    }

    /// Counts of the latest run per status (`active`, `at_risk`, `sleeping`, `lost`).
    pub async fn latest_status_counts(&self) -> Result<Vec<(String, i64)>> {
        const SQL: &str = "select status, count(*) from customer_status
             where run_id = (select max(id) from analysis_runs) group by status order by status";
        Ok(match self {
            Db::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
            Db::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
        })
    }
}

/// One customer's status in the latest analysis run, for exports.
#[derive(Debug, Clone)]
pub struct LatestStatus {
    pub external_id: String,
    pub name: Option<String>,
    pub status: String,
    pub loss_kind: Option<String>,
    pub lost_on: Option<NaiveDate>,
    pub likely_cause: Option<String>,
    pub p_alive: f64,
    pub expected_transactions_52w: f64,
    pub clv: Money,
}

impl Db {
    /// Every customer's status in the latest run, in customer order.
    pub async fn latest_customer_statuses(&self) -> Result<Vec<LatestStatus>> {
        const SQL: &str =
            "select c.external_id, c.name, s.status, s.loss_kind, s.lost_on, s.likely_cause,
                    s.p_alive, s.expected_transactions_52w, s.clv_cents
             from customer_status s join customers c on c.id = s.customer_id
             where s.run_id = (select max(id) from analysis_runs)
             order by c.id";
        macro_rules! fetch {
            ($pool:expr) => {{
                let rows = sqlx::query(SQL).fetch_all($pool).await?;
                rows.into_iter()
                    .map(|row| {
                        Ok(LatestStatus {
                            external_id: row.try_get(0)?,
                            name: row.try_get(1)?,
                            status: row.try_get(2)?,
                            loss_kind: row.try_get(3)?,
                            lost_on: row.try_get(4)?,
                            likely_cause: row.try_get(5)?,
                            p_alive: row.try_get(6)?,
                            expected_transactions_52w: row.try_get(7)?,
                            clv: Money::from_cents(row.try_get(8)?),
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }};
        }
        Ok(match self {
            Db::Sqlite(pool) => fetch!(pool),
            Db::Postgres(pool) => fetch!(pool),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense ids (with gaps) are a table, sparse or negative ones a map; both find every
    /// customer's position and nothing else.
    #[test]
    fn customer_index_finds_each_position_and_nothing_else() {
        let cases: [(&[i64], bool); 5] = [
            (&[1, 2, 3, 4], true),
            (&[2, 3, 7, 8, 100], true),
            (&[5, 1_000_000_000], false),
            (&[-3, 1, 2], false),
            (&[], false),
        ];
        for (ids, table) in cases {
            let index = CustomerIndex::new(ids);
            assert_eq!(matches!(index, CustomerIndex::Table(_)), table, "{ids:?}");
            for (position, &id) in ids.iter().enumerate() {
                assert_eq!(index.get(id), Some(position), "{ids:?}");
            }
            for id in [
                -1,
                0,
                6,
                9,
                101,
                999_999_999,
                1_000_000_001,
                i64::MIN,
                i64::MAX,
            ] {
                if !ids.contains(&id) {
                    assert_eq!(index.get(id), None, "{ids:?} {id}");
                }
            }
        }
    }

    /// The fixed layouts read exactly what chrono reads, and leave everything else to it.
    #[test]
    fn fixed_layouts_agree_with_chrono() {
        for text in [
            "2024-01-03",
            "1999-12-31",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-03",
            "2024/01/03",
            "20a4-01-03",
            "+2024-01-0",
        ] {
            assert_eq!(
                fixed_date(text),
                NaiveDate::parse_from_str(text, "%F")
                    .ok()
                    .filter(|_| text.len() == 10),
                "{text}"
            );
        }
        for text in [
            "2024-01-03T09:30:00+00:00",
            "2024-02-29T23:59:59+00:00",
            "2024-01-03T24:00:00+00:00",
            "2024-01-03T09:60:00+00:00",
            "2023-02-29T09:30:00+00:00",
            "2024-01-03T09:30:00+01:00",
            "2024-01-03 09:30:00+00:00",
            "2024-01-03T09:30:00.5+00:00",
        ] {
            let chrono = DateTime::parse_from_rfc3339(text)
                .ok()
                .filter(|t| t.offset().local_minus_utc() == 0 && !text.contains('.'))
                .filter(|_| text.as_bytes()[10] == b'T')
                .map(|t| t.with_timezone(&Utc));
            assert_eq!(fixed_instant(text), chrono, "{text}");
            // And the reader with the fixed layout reads them all as the general one does.
            assert_eq!(parse_instant(text), general_instant(text), "{text}");
        }
    }
}
