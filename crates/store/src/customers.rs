//! Reading customers for the pages and the API: the list (filters, keyset pagination), one
//! customer's whole story, and the overview's aggregates.
//!
//! Pages must answer within 50 ms on a million customers, so the list never counts or
//! offsets: it reads `limit` rows after the last id seen, from an index ((id) or
//! (account_owner, id)); the detail reads one customer's rows through per-customer indexes.
//! `owner` restricts every query to the customers a sales user owns; a customer of another
//! owner is simply not found.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use crate::users::on_pool;
use crate::{Backend, Db, Result};

/// Which customers to list.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    /// Only customers whose `account_owner` is this e-mail address.
    pub owner: Option<String>,
    /// An external id or e-mail address (exact), or the beginning of a name.
    pub search: Option<String>,
    /// Keyset pagination: only customers with a larger id.
    pub after_id: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSummary {
    pub id: i64,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub city: Option<String>,
    pub segment: Option<String>,
    pub party: Option<String>,
    pub account_owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInfo {
    pub summary: CustomerSummary,
    pub phone: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub external_id: String,
    pub ordered_at: DateTime<Utc>,
    pub gross_cents: i64,
    pub discount_cents: i64,
    pub voucher_code: Option<String>,
    pub channel: Option<String>,
    pub delivery_promised_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    pub returned: bool,
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRow {
    pub external_id: String,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `yes`, `no` or `unknown`.
    pub satisfied: String,
    pub category: Option<String>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRow {
    pub external_id: String,
    pub product: Option<String>,
    pub started_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub renewal_on: Option<NaiveDate>,
    pub monthly_value_cents: Option<i64>,
    pub cancellation_received_at: Option<DateTime<Utc>>,
    pub cancellation_effective_on: Option<NaiveDate>,
    pub cancellation_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub channel: String,
    pub status: String,
    pub recorded_at: DateTime<Utc>,
    pub source: Option<String>,
    pub proof: Option<String>,
}

/// A referral seen from this customer: `referred_by_them` is true when this customer
/// referred the other one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRow {
    pub other_id: i64,
    pub other_external_id: String,
    pub other_name: Option<String>,
    pub referred_by_them: bool,
    pub referred_on: NaiveDate,
}

/// One customer's full story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDetail {
    pub info: CustomerInfo,
    /// Newest first, at most [`MAX_ORDERS`].
    pub orders: Vec<OrderRow>,
    pub n_orders: u64,
    pub revenue_cents: i64,
    pub complaints: Vec<ComplaintRow>,
    pub contracts: Vec<ContractRow>,
    pub consents: Vec<ConsentRow>,
    pub referrals: Vec<ReferralRow>,
}

/// The customer page shows at most this many orders (the totals count all of them).
pub const MAX_ORDERS: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRow {
    /// `yyyy-mm`
    pub month: String,
    pub orders: u64,
    pub revenue_cents: i64,
}

/// The overview's numbers: counts and revenue (orders not cancelled) by month.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overview {
    pub customers: u64,
    pub orders: u64,
    pub revenue_cents: i64,
    pub months: Vec<MonthRow>,
}

/// The columns of a [`CustomerSummary`] from `customers c` (also used by `results.rs`).
pub(crate) const SUMMARY_COLUMNS: &str =
    "c.id, c.external_id, c.name, c.email, c.city, c.segment, c.party, c.account_owner";

macro_rules! summary_from_row {
    ($row:expr) => {{
        let row = $row;
        CustomerSummary {
            id: row.try_get("id")?,
            external_id: row.try_get("external_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            city: row.try_get("city")?,
            segment: row.try_get("segment")?,
            party: row.try_get("party")?,
            account_owner: row.try_get("account_owner")?,
        }
    }};
}
pub(crate) use summary_from_row;

impl Db {
    /// Whether any customer has an account owner. A shop without sales staff has none, and
    /// its lists leave the owner column out (an index seek, not a scan).
    pub async fn any_account_owner(&self) -> Result<bool> {
        const SQL: &str = "select exists (select 1 from customers where account_owner is not null)";
        on_pool!(self, |pool| Ok(sqlx::query_scalar::<_, bool>(SQL)
            .fetch_one(pool)
            .await?))
    }

    /// One page of customers in id order; ask for `limit + 1` to learn whether more follow.
    #[tracing::instrument(skip_all, fields(after = query.after_id, limit = query.limit))]
    pub async fn list_customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerSummary>> {
        // Numbered parameters are bound in this order; unused filters bind NULL and are
        // written so that the planner can drop them (`$1 is null or ...`) — but a
        // disjunction defeats the index, so the SQL text is assembled from fixed pieces.
        let mut sql = format!("select {SUMMARY_COLUMNS} from customers c where c.id > $1");
        let mut n = 1;
        if query.owner.is_some() {
            n += 1;
            sql.push_str(&format!(" and c.account_owner = ${n}"));
        }
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if search.is_some() {
            // Exact id or e-mail (both indexed), or a name prefix as a range (index-friendly
            // on both backends, unlike LIKE).
            sql.push_str(&format!(
                " and (c.external_id = ${a} or c.email = ${a} or (c.name >= ${a} and c.name < ${b}))",
                a = n + 1,
                b = n + 2
            ));
        }
        sql.push_str(&format!(" order by c.id limit {}", query.limit.min(1000)));
        let after = query.after_id.unwrap_or(0);
        on_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after);
            if let Some(owner) = &query.owner {
                q = q.bind(owner.clone());
            }
            if let Some(search) = search {
                q = q
                    .bind(search.to_owned())
                    .bind(format!("{search}\u{10FFFF}"));
            }
            let rows = q.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                out.push(summary_from_row!(row));
            }
            Ok(out)
        })
    }

    /// The customer with this id, with everything the customer page shows; `None` when it
    /// does not exist or (with `owner`) belongs to someone else.
    #[tracing::instrument(skip_all, fields(customer_id = id))]
    pub async fn customer_detail(
        &self,
        id: i64,
        owner: Option<&str>,
    ) -> Result<Option<CustomerDetail>> {
        let sql = format!(
            "select {SUMMARY_COLUMNS}, c.phone, c.street, c.postal_code, c.country, c.industry, c.created_at
             from customers c where c.id = $1 and ($2 is null or c.account_owner = $2)"
        );
        on_pool!(self, |pool| {
            let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(owner.map(str::to_owned))
                .fetch_optional(pool)
                .await?
            else {
                return Ok(None);
            };
            let info = CustomerInfo {
                summary: summary_from_row!(&row),
                phone: row.try_get("phone")?,
                street: row.try_get("street")?,
                postal_code: row.try_get("postal_code")?,
                country: row.try_get("country")?,
                industry: row.try_get("industry")?,
                created_at: row.try_get("created_at")?,
            };

            // PostgreSQL sums bigint as numeric: cast back so both backends decode an i64.
            let totals = sqlx::query(
                "select count(*) as n, cast(coalesce(sum(case when cancelled then 0 else gross_cents end), 0) as bigint) as revenue
                 from orders where customer_id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await?;
            let n_orders: i64 = totals.try_get("n")?;
            let revenue_cents: i64 = totals.try_get("revenue")?;

            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "select external_id, ordered_at, gross_cents, discount_cents, voucher_code, channel,
                        delivery_promised_on, delivered_on, returned, cancelled
                 from orders where customer_id = $1 order by ordered_at desc, id desc limit {MAX_ORDERS}"
            )))
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut orders = Vec::with_capacity(rows.len());
            for row in &rows {
                orders.push(OrderRow {
                    external_id: row.try_get("external_id")?,
                    ordered_at: row.try_get("ordered_at")?,
                    gross_cents: row.try_get("gross_cents")?,
                    discount_cents: row.try_get("discount_cents")?,
                    voucher_code: row.try_get("voucher_code")?,
                    channel: row.try_get("channel")?,
                    delivery_promised_on: row.try_get("delivery_promised_on")?,
                    delivered_on: row.try_get("delivered_on")?,
                    returned: row.try_get("returned")?,
                    cancelled: row.try_get("cancelled")?,
                });
            }

            let rows = sqlx::query(
                "select external_id, opened_at, first_response_at, resolved_at, satisfied, category, body
                 from complaints where customer_id = $1 order by opened_at desc",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut complaints = Vec::with_capacity(rows.len());
            for row in &rows {
                complaints.push(ComplaintRow {
                    external_id: row.try_get("external_id")?,
                    opened_at: row.try_get("opened_at")?,
                    first_response_at: row.try_get("first_response_at")?,
                    resolved_at: row.try_get("resolved_at")?,
                    satisfied: row.try_get("satisfied")?,
                    category: row.try_get("category")?,
                    body: row.try_get("body")?,
                });
            }

            let rows = sqlx::query(
                "select external_id, product, started_on, ends_on, renewal_on, monthly_value_cents,
                        cancellation_received_at, cancellation_effective_on, cancellation_reason
                 from contracts where customer_id = $1 order by started_on desc",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut contracts = Vec::with_capacity(rows.len());
            for row in &rows {
                contracts.push(ContractRow {
                    external_id: row.try_get("external_id")?,
                    product: row.try_get("product")?,
                    started_on: row.try_get("started_on")?,
                    ends_on: row.try_get("ends_on")?,
                    renewal_on: row.try_get("renewal_on")?,
                    monthly_value_cents: row.try_get("monthly_value_cents")?,
                    cancellation_received_at: row.try_get("cancellation_received_at")?,
                    cancellation_effective_on: row.try_get("cancellation_effective_on")?,
                    cancellation_reason: row.try_get("cancellation_reason")?,
                });
            }

            let rows = sqlx::query(
                "select channel, status, recorded_at, source, proof
                 from consents where customer_id = $1 order by recorded_at desc, id desc",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut consents = Vec::with_capacity(rows.len());
            for row in &rows {
                consents.push(ConsentRow {
                    channel: row.try_get("channel")?,
                    status: row.try_get("status")?,
                    recorded_at: row.try_get("recorded_at")?,
                    source: row.try_get("source")?,
                    proof: row.try_get("proof")?,
                });
            }

            let rows = sqlx::query(
                "select o.id as other_id, o.external_id as other_external_id, o.name as other_name,
                        r.referrer_id = $1 as referred_by_them, r.referred_on
                 from referrals r join customers o
                   on o.id = case when r.referrer_id = $1 then r.referred_id else r.referrer_id end
                 where r.referrer_id = $1 or r.referred_id = $1
                 order by r.referred_on desc",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut referrals = Vec::with_capacity(rows.len());
            for row in &rows {
                referrals.push(ReferralRow {
                    other_id: row.try_get("other_id")?,
                    other_external_id: row.try_get("other_external_id")?,
                    other_name: row.try_get("other_name")?,
                    referred_by_them: row.try_get("referred_by_them")?,
                    referred_on: row.try_get("referred_on")?,
                });
            }

            Ok(Some(CustomerDetail {
                info,
                orders,
                n_orders: n_orders as u64,
                revenue_cents,
                complaints,
                contracts,
                consents,
                referrals,
            }))
        })
    }

    /// Customers, orders and revenue by month (orders not cancelled), of all customers or
    /// of one owner's.
    #[tracing::instrument(skip_all)]
    pub async fn overview(&self, owner: Option<&str>) -> Result<Overview> {
        let month = match self.backend() {
            Backend::Sqlite => "substr(o.ordered_at, 1, 7)",
            Backend::Postgres => "to_char(o.ordered_at at time zone 'UTC', 'YYYY-MM')",
        };
        let (join, filter) = match owner {
            Some(_) => (
                "join customers c on c.id = o.customer_id",
                "c.account_owner = $1 and",
            ),
            None => ("", "($1 is null) and"),
        };
        let months_sql = format!(
            "select {month} as month, count(*) as n, cast(coalesce(sum(o.gross_cents), 0) as bigint) as revenue
             from orders o {join} where {filter} not o.cancelled group by 1 order by 1"
        );
        let customers_sql =
            "select count(*) from customers c where ($1 is null or c.account_owner = $1)";
        let orders_sql = format!("select count(*) from orders o {join} where {filter} true");
        let owner = owner.map(str::to_owned);
        on_pool!(self, |pool| {
            let customers: i64 = sqlx::query_scalar(customers_sql)
                .bind(owner.clone())
                .fetch_one(pool)
                .await?;
            let orders: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(orders_sql))
                .bind(owner.clone())
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(months_sql))
                .bind(owner)
                .fetch_all(pool)
                .await?;
            let mut months = Vec::with_capacity(rows.len());
            let mut revenue_cents = 0;
            for row in &rows {
                let revenue: i64 = row.try_get("revenue")?;
                let n: i64 = row.try_get("n")?;
                revenue_cents += revenue;
                months.push(MonthRow {
                    month: row.try_get("month")?,
                    orders: n as u64,
                    revenue_cents: revenue,
                });
            }
            Ok(Overview {
                customers: customers as u64,
                orders: orders as u64,
                revenue_cents,
                months,
            })
        })
    }
}
