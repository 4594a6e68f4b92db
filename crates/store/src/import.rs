//! The all-or-nothing import commit.
//!
//! An import runs in one transaction: parsed rows are bulk-inserted into a temporary
//! staging table, references (customer, order) are resolved and checked with set-based SQL,
//! and the staged rows are upserted into their table by natural key. Nothing is visible to
//! other connections until [`ImportSession::commit`]; dropping the session, an error or a
//! killed process leaves the database exactly as before (the transaction never commits).
//!
//! Idempotence: rows are upserted by their natural key (external id, sku, ...). A value
//! missing in the file never erases a stored one, so importing the same file twice, or a
//! file with fewer columns, changes nothing that the file does not state.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Sqlite, Transaction};
use winback_engine::{CustomerRef, Kind, Record};

use crate::sqlite_fast::{self, Messages};
use crate::{Backend, Db, Result};

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Create customers that orders (or other rows) refer to but that are not known yet,
    /// from the customer columns the file carries.
    pub create_customers: bool,
    /// Drop rows whose references cannot be resolved instead of failing the whole import.
    pub skip_invalid: bool,
    /// The caller works alone on the database (the command line, with a [`Db::connect_single`]
    /// pool). The first import into an empty SQLite table may then leave WAL for its
    /// transaction and use the rollback journal: the new pages are written once, straight
    /// into the file, instead of into the WAL and again by the checkpoint (10 million orders:
    /// commit 6 s -> 0.5 s, no 1.8 GB WAL), and without row-by-row foreign-key checks (see
    /// `BEGIN_IN_ROLLBACK_JOURNAL`). It is still all-or-nothing: a killed import's
    /// journal is rolled back when the file is next opened. Only taken when no other
    /// connection has the file open; other processes that open it meanwhile wait (up to the
    /// busy timeout). Never set by the server, whose pages must keep reading during an import.
    pub sole_writer: bool,
}

/// A row the store cannot take (an unknown customer, a duplicate key, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub column: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Customers created from order columns (`--create-customers`).
    pub customers_created: u64,
}

/// What the import log records about the file.
#[derive(Debug, Clone)]
pub struct ImportMeta {
    pub file_name: String,
    pub file_bytes: u64,
    pub rows_read: u64,
    pub rows_rejected: u64,
    pub started_at: DateTime<Utc>,
}

/// A value bound into the staging table.
#[derive(Debug, Clone)]
pub(crate) enum V {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
    Date(Option<NaiveDate>),
    Instant(Option<DateTime<Utc>>),
    /// A date or an instant already rendered as SQLite stores it, held inline.
    Fixed(Fixed),
}

/// A short ASCII text held inline: staging renders a row's dates and instants for SQLite
/// into these, so they cost no allocation on the parser's thread and no free on the
/// writer's (three per order row).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed {
    len: u8,
    bytes: [u8; 25],
}

impl Fixed {
    fn new(text: &[u8]) -> Fixed {
        let mut bytes = [0; 25];
        bytes[..text.len()].copy_from_slice(text);
        Fixed {
            len: text.len() as u8,
            bytes,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("fixed texts are rendered from digits and ASCII separators")
    }
}

fn text(s: Option<String>) -> V {
    V::Text(s)
}

/// A column of a target table, filled from a staging expression.
struct Col {
    name: &'static str,
    /// SQL expression over the staging table `s` that gives the value.
    source: &'static str,
    /// A NULL in the file keeps the stored value (optional columns).
    keep_when_null: bool,
}

const fn col(name: &'static str, source: &'static str) -> Col {
    Col {
        name,
        source,
        keep_when_null: true,
    }
}

const fn req(name: &'static str, source: &'static str) -> Col {
    Col {
        name,
        source,
        keep_when_null: false,
    }
}

/// A reference from staged rows to customers (by external id, else by e-mail address).
struct CustomerLink {
    /// Staging columns holding the reference and the resolved id.
    external_id: &'static str,
    email: &'static str,
    resolved: &'static str,
    /// The column name reported to the user.
    column: &'static str,
}

/// How one kind of record is staged and merged.
struct Spec {
    table: &'static str,
    /// Staging columns after `line`, with their PostgreSQL types (SQLite takes them as affinities).
    stage: &'static [(&'static str, &'static str)],
    /// The natural key: staging expressions, and the target table's conflict columns.
    key_stage: &'static [&'static str],
    key_target: &'static [&'static str],
    key_column: &'static str,
    customer_links: &'static [CustomerLink],
    cols: &'static [Col],
}

impl Spec {
    /// Where the staging column `name` sits in a row's values (a programming error if the
    /// kind has no such column).
    fn stage_index(&self, name: &str) -> usize {
        self.stage
            .iter()
            .position(|(n, _)| *n == name)
            .expect("a staging column")
    }
}

const CUSTOMER_LINK: CustomerLink = CustomerLink {
    external_id: "customer_external_id",
    email: "customer_email",
    resolved: "customer_id",
    column: "customer",
};

const CUSTOMER_STAGE: &[(&str, &str)] = &[
    ("external_id", "text"),
    ("name", "text"),
    ("party", "text"),
    ("email", "text"),
    ("phone", "text"),
    ("street", "text"),
    ("postal_code", "text"),
    ("city", "text"),
    ("country", "text"),
    ("segment", "text"),
    ("industry", "text"),
    ("account_owner", "text"),
    ("created_at", "timestamptz"),
];

const CUSTOMERS: Spec = Spec {
    table: "customers",
    stage: CUSTOMER_STAGE,
    key_stage: &["external_id"],
    key_target: &["external_id"],
    key_column: "customer id",
    customer_links: &[],
    cols: &[
        req("external_id", "s.external_id"),
        col("name", "s.name"),
        col("party", "s.party"),
        col("email", "s.email"),
        col("phone", "s.phone"),
        col("street", "s.street"),
        col("postal_code", "s.postal_code"),
        col("city", "s.city"),
        col("country", "s.country"),
        col("segment", "s.segment"),
        col("industry", "s.industry"),
        col("account_owner", "s.account_owner"),
        col("created_at", "s.created_at"),
    ],
};

const ORDERS: Spec = Spec {
    table: "orders",
    stage: &[
        ("external_id", "text"),
        ("customer_external_id", "text"),
        ("customer_email", "text"),
        ("ordered_at", "timestamptz"),
        ("gross_cents", "bigint"),
        ("margin_cents", "bigint"),
        ("cost_cents", "bigint"),
        ("discount_cents", "bigint"),
        ("voucher_code", "text"),
        ("delivery_promised_on", "date"),
        ("delivered_on", "date"),
        ("channel", "text"),
        ("currency", "text"),
        ("returned", "boolean"),
        ("cancelled", "boolean"),
        ("c_name", "text"),
        ("c_party", "text"),
        ("c_phone", "text"),
        ("c_street", "text"),
        ("c_postal_code", "text"),
        ("c_city", "text"),
        ("c_country", "text"),
        ("customer_id", "bigint"),
    ],
    key_stage: &["external_id"],
    key_target: &["external_id"],
    key_column: "order id",
    customer_links: &[CUSTOMER_LINK],
    cols: &[
        req("external_id", "s.external_id"),
        req("customer_id", "s.customer_id"),
        req("ordered_at", "s.ordered_at"),
        req("gross_cents", "s.gross_cents"),
        col("margin_cents", "s.margin_cents"),
        col("cost_cents", "s.cost_cents"),
        req("discount_cents", "s.discount_cents"),
        col("voucher_code", "s.voucher_code"),
        col("delivery_promised_on", "s.delivery_promised_on"),
        col("delivered_on", "s.delivered_on"),
        col("channel", "s.channel"),
        col("currency", "s.currency"),
        req("returned", "s.returned"),
        req("cancelled", "s.cancelled"),
    ],
};

const ORDER_LINES: Spec = Spec {
    table: "order_lines",
    stage: &[
        ("order_external_id", "text"),
        ("line_no", "bigint"),
        ("sku", "text"),
        ("product_name", "text"),
        ("quantity", "bigint"),
        ("unit_price_cents", "bigint"),
        ("discount_cents", "bigint"),
        ("order_id", "bigint"),
    ],
    key_stage: &["order_id", "line_no"],
    key_target: &["order_id", "line_no"],
    key_column: "order id",
    customer_links: &[],
    cols: &[
        req("order_id", "s.order_id"),
        req("line_no", "s.line_no"),
        col("sku", "s.sku"),
        col("product_name", "s.product_name"),
        req("quantity", "s.quantity"),
        req("unit_price_cents", "s.unit_price_cents"),
        req("discount_cents", "s.discount_cents"),
    ],
};

const PRODUCTS: Spec = Spec {
    table: "products",
    stage: &[
        ("sku", "text"),
        ("name", "text"),
        ("category", "text"),
        ("price_cents", "bigint"),
        ("delisted_on", "date"),
    ],
    key_stage: &["sku"],
    key_target: &["sku"],
    key_column: "sku",
    customer_links: &[],
    cols: &[
        req("sku", "s.sku"),
        col("name", "s.name"),
        col("category", "s.category"),
        col("price_cents", "s.price_cents"),
        col("delisted_on", "s.delisted_on"),
    ],
};

const COMPLAINTS: Spec = Spec {
    table: "complaints",
    stage: &[
        ("external_id", "text"),
        ("customer_external_id", "text"),
        ("customer_email", "text"),
        ("order_external_id", "text"),
        ("opened_at", "timestamptz"),
        ("first_response_at", "timestamptz"),
        ("resolved_at", "timestamptz"),
        ("satisfied", "text"),
        ("category", "text"),
        ("body", "text"),
        ("customer_id", "bigint"),
    ],
    key_stage: &["external_id"],
    key_target: &["external_id"],
    key_column: "complaint id",
    customer_links: &[CUSTOMER_LINK],
    cols: &[
        req("external_id", "s.external_id"),
        req("customer_id", "s.customer_id"),
        col("order_external_id", "s.order_external_id"),
        req("opened_at", "s.opened_at"),
        col("first_response_at", "s.first_response_at"),
        col("resolved_at", "s.resolved_at"),
        req("satisfied", "s.satisfied"),
        col("category", "s.category"),
        col("body", "s.body"),
    ],
};

const CONTRACTS: Spec = Spec {
    table: "contracts",
    stage: &[
        ("external_id", "text"),
        ("customer_external_id", "text"),
        ("customer_email", "text"),
        ("product", "text"),
        ("started_on", "date"),
        ("ends_on", "date"),
        ("renewal_on", "date"),
        ("monthly_value_cents", "bigint"),
        ("cancellation_received_at", "timestamptz"),
        ("cancellation_effective_on", "date"),
        ("cancellation_reason", "text"),
        ("customer_id", "bigint"),
    ],
    key_stage: &["external_id"],
    key_target: &["external_id"],
    key_column: "contract id",
    customer_links: &[CUSTOMER_LINK],
    cols: &[
        req("external_id", "s.external_id"),
        req("customer_id", "s.customer_id"),
        col("product", "s.product"),
        req("started_on", "s.started_on"),
        col("ends_on", "s.ends_on"),
        col("renewal_on", "s.renewal_on"),
        col("monthly_value_cents", "s.monthly_value_cents"),
        col("cancellation_received_at", "s.cancellation_received_at"),
        col("cancellation_effective_on", "s.cancellation_effective_on"),
        col("cancellation_reason", "s.cancellation_reason"),
    ],
};

const CONSENTS: Spec = Spec {
    table: "consents",
    stage: &[
        ("customer_external_id", "text"),
        ("customer_email", "text"),
        ("channel", "text"),
        ("status", "text"),
        ("recorded_at", "timestamptz"),
        ("source", "text"),
        ("proof", "text"),
        ("customer_id", "bigint"),
    ],
    key_stage: &["customer_id", "channel", "status", "recorded_at"],
    key_target: &["customer_id", "channel", "status", "recorded_at"],
    key_column: "recorded at",
    customer_links: &[CUSTOMER_LINK],
    cols: &[
        req("customer_id", "s.customer_id"),
        req("channel", "s.channel"),
        req("status", "s.status"),
        req("recorded_at", "s.recorded_at"),
        col("source", "s.source"),
        col("proof", "s.proof"),
    ],
};

const REFERRALS: Spec = Spec {
    table: "referrals",
    stage: &[
        ("referrer_external_id", "text"),
        ("referrer_email", "text"),
        ("referred_external_id", "text"),
        ("referred_email", "text"),
        ("referred_on", "date"),
        ("thanked_at", "timestamptz"),
        ("referrer_id", "bigint"),
        ("referred_id", "bigint"),
    ],
    key_stage: &["referrer_id", "referred_id"],
    key_target: &["referrer_id", "referred_id"],
    key_column: "referred customer",
    customer_links: &[
        CustomerLink {
            external_id: "referrer_external_id",
            email: "referrer_email",
            resolved: "referrer_id",
            column: "referrer",
        },
        CustomerLink {
            external_id: "referred_external_id",
            email: "referred_email",
            resolved: "referred_id",
            column: "referred customer",
        },
    ],
    cols: &[
        req("referrer_id", "s.referrer_id"),
        req("referred_id", "s.referred_id"),
        req("referred_on", "s.referred_on"),
        col("thanked_at", "s.thanked_at"),
    ],
};

fn spec(kind: Kind) -> &'static Spec {
    match kind {
        Kind::Customers => &CUSTOMERS,
        Kind::Orders => &ORDERS,
        Kind::OrderLines => &ORDER_LINES,
        Kind::Products => &PRODUCTS,
        Kind::Complaints => &COMPLAINTS,
        Kind::Contracts => &CONTRACTS,
        Kind::Consents => &CONSENTS,
        Kind::Referrals => &REFERRALS,
    }
}

fn customer_ref(r: CustomerRef) -> [V; 2] {
    match r {
        CustomerRef::ExternalId(id) => [V::Text(Some(id)), V::Text(None)],
        CustomerRef::Email(email) => [V::Text(None), V::Text(Some(email))],
    }
}

/// The staging values of a record, in the order of its `Spec::stage` (without `line`).
fn stage_values(record: Record, out: &mut Vec<V>) {
    match record {
        Record::Customer(c) => out.extend([
            V::Text(Some(c.external_id)),
            text(c.name),
            V::Text(c.party.map(|p| p.as_str().to_owned())),
            text(c.email),
            text(c.phone),
            text(c.address.street),
            text(c.address.postal_code),
            text(c.address.city),
            text(c.address.country),
            text(c.segment),
            text(c.industry),
            text(c.account_owner),
            V::Instant(c.created_at),
        ]),
        Record::Order(o) => {
            out.push(V::Text(Some(o.external_id)));
            out.extend(customer_ref(o.customer));
            out.extend([
                V::Instant(Some(o.ordered_at)),
                V::Int(Some(o.gross.cents())),
                V::Int(o.margin.map(|m| m.cents())),
                V::Int(o.cost.map(|m| m.cents())),
                V::Int(Some(o.discount.cents())),
                text(o.voucher_code),
                V::Date(o.delivery_promised_on),
                V::Date(o.delivered_on),
                text(o.channel),
                text(o.currency),
                V::Bool(o.returned),
                V::Bool(o.cancelled),
            ]);
            match o.customer_details {
                Some(d) => out.extend([
                    V::Text(d.name),
                    V::Text(d.party.map(|p| p.as_str().to_owned())),
                    V::Text(d.phone),
                    V::Text(d.address.street),
                    V::Text(d.address.postal_code),
                    V::Text(d.address.city),
                    V::Text(d.address.country),
                ]),
                None => out.extend(std::iter::repeat_with(|| V::Text(None)).take(7)),
            }
            out.push(V::Int(None));
        }
        Record::OrderLine(l) => out.extend([
            V::Text(Some(l.order_external_id)),
            V::Int(Some(i64::from(l.line_no))),
            text(l.sku),
            text(l.product_name),
            V::Int(Some(l.quantity)),
            V::Int(Some(l.unit_price.cents())),
            V::Int(Some(l.discount.cents())),
            V::Int(None),
        ]),
        Record::Product(p) => out.extend([
            V::Text(Some(p.sku)),
            text(p.name),
            text(p.category),
            V::Int(p.price.map(|m| m.cents())),
            V::Date(p.delisted_on),
        ]),
        Record::Complaint(c) => {
            out.push(V::Text(Some(c.external_id)));
            out.extend(customer_ref(c.customer));
            out.extend([
                text(c.order_external_id),
                V::Instant(Some(c.opened_at)),
                V::Instant(c.first_response_at),
                V::Instant(c.resolved_at),
                V::Text(Some(c.satisfied.as_str().to_owned())),
                text(c.category),
                text(c.text),
                V::Int(None),
            ]);
        }
        Record::Contract(c) => {
            out.push(V::Text(Some(c.external_id)));
            out.extend(customer_ref(c.customer));
            out.extend([
                text(c.product),
                V::Date(Some(c.started_on)),
                V::Date(c.ends_on),
                V::Date(c.renewal_on),
                V::Int(c.monthly_value.map(|m| m.cents())),
                V::Instant(c.cancellation_received_at),
                V::Date(c.cancellation_effective_on),
                text(c.cancellation_reason),
                V::Int(None),
            ]);
        }
        Record::Consent(c) => {
            out.extend(customer_ref(c.customer));
            out.extend([
                V::Text(Some(c.channel.as_str().to_owned())),
                V::Text(Some(c.status.as_str().to_owned())),
                V::Instant(Some(c.recorded_at)),
                text(c.source),
                text(c.proof),
                V::Int(None),
            ]);
        }
        Record::Referral(r) => {
            out.extend(customer_ref(r.referrer));
            out.extend(customer_ref(r.referred));
            out.extend([
                V::Date(Some(r.referred_on)),
                V::Instant(r.thanked_at),
                V::Int(None),
                V::Int(None),
            ]);
        }
    }
}

/// The single-statement insert of the SQLite fast path (see `sqlite_fast`), for the kinds
/// with a simple natural key and at most one reference.
fn fast_insert(kind: Kind, spec: &Spec, now: &str) -> Option<(String, &'static Messages)> {
    const CUSTOMER_HINT: &str = "; import the customers first";
    static CUSTOMERS_M: Messages = Messages {
        reference_column: "",
        reference_reason: "",
        reference_hint: "",
        reference_values: &[],
        key_column: "customer id",
        key_values: &[0],
    };
    static ORDERS_M: Messages = Messages {
        reference_column: "customer",
        reference_reason: "unknown customer",
        reference_hint: "; import the customers first, or use --create-customers",
        reference_values: &[1, 2],
        key_column: "order id",
        key_values: &[0],
    };
    static ORDER_LINES_M: Messages = Messages {
        reference_column: "order id",
        reference_reason: "unknown order",
        reference_hint: "; import the orders first",
        reference_values: &[0],
        key_column: "order line",
        key_values: &[0, 1],
    };
    static PRODUCTS_M: Messages = Messages {
        reference_column: "",
        reference_reason: "",
        reference_hint: "",
        reference_values: &[],
        key_column: "sku",
        key_values: &[0],
    };
    static COMPLAINTS_M: Messages = Messages {
        reference_column: "customer",
        reference_reason: "unknown customer",
        reference_hint: CUSTOMER_HINT,
        reference_values: &[1, 2],
        key_column: "complaint id",
        key_values: &[0],
    };
    static CONTRACTS_M: Messages = Messages {
        reference_column: "customer",
        reference_reason: "unknown customer",
        reference_hint: CUSTOMER_HINT,
        reference_values: &[1, 2],
        key_column: "contract id",
        key_values: &[0],
    };
    let messages: &'static Messages = match kind {
        Kind::Customers => &CUSTOMERS_M,
        Kind::Orders => &ORDERS_M,
        Kind::OrderLines => &ORDER_LINES_M,
        Kind::Products => &PRODUCTS_M,
        Kind::Complaints => &COMPLAINTS_M,
        Kind::Contracts => &CONTRACTS_M,
        Kind::Consents | Kind::Referrals => return None,
    };
    let param = |name: &str| format!("?{}", spec.stage_index(name) + 1);
    let mut names: Vec<&str> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for col in spec.cols {
        names.push(col.name);
        let source = col
            .source
            .strip_prefix("s.")
            .expect("staging sources are s.<column>");
        values.push(match source {
            // A large import looks the customer's id up in memory (`CustomerIds`) and binds
            // it as the staging column `customer_id`; otherwise (a small import, an unknown
            // id, a row naming only an e-mail address) SQL looks it up by external id, then
            // by address, as the staging path does. COALESCE stops at the first non-NULL.
            "customer_id" => format!(
                "coalesce({}, (select id from customers where external_id = {}), (select min(id) from customers where email = {}))",
                param("customer_id"),
                param("customer_external_id"),
                param("customer_email")
            ),
            "order_id" => format!(
                "(select id from orders where external_id = {})",
                param("order_external_id")
            ),
            other => param(other),
        });
    }
    if kind == Kind::Customers {
        names.push("imported_at");
        values.push(now.to_owned());
    }
    Some((
        format!(
            "insert into {} ({}) values ({})",
            spec.table,
            names.join(", "),
            values.join(", ")
        ),
        messages,
    ))
}

struct Fast {
    sql: std::ffi::CString,
    /// Secondary indexes dropped for the load and rebuilt (sorted, in one pass) before the
    /// commit. DDL is transactional in SQLite, so a killed import leaves them as they were.
    dropped_indexes: Vec<String>,
    messages: &'static Messages,
    problems: Vec<RowProblem>,
    inserted: u64,
    /// For kinds that refer to customers: every customer's id by external id, a hash
    /// lookup per row instead of a b-tree search in SQLite (a third of the writer's time).
    customer_ids: Option<CustomerIds>,
}

/// Customer ids by external id, read when a fast import fills its first whole batch (a
/// small import does not pay for reading every customer; nothing adds customers during a
/// fast import: `--create-customers` takes the staging path).
struct CustomerIds {
    /// `None` until the first whole batch.
    ids: Option<IdMap>,
    /// Index of the staged values holding the customer's external id and the resolved id.
    external_id: usize,
    resolved: usize,
}

/// Ids by external id, hashed with foldhash (SipHash's resistance to chosen keys buys nothing
/// for ids read from the company's own database, and costs a tenth of the writer's time).
type IdMap = std::collections::HashMap<Box<str>, i64, foldhash::fast::RandomState>;

async fn read_customer_ids(conn: &mut sqlx::SqliteConnection) -> Result<IdMap> {
    let mut ids = IdMap::default();
    sqlite_fast::for_each_row(conn, c"select external_id, id from customers", |row| {
        if let Some(external_id) = row.text(0)? {
            ids.insert(Box::from(external_id), row.int(1));
        }
        Ok(())
    })
    .await?;
    Ok(ids)
}

/// A record converted into the staging values of its kind, ready to bind.
pub struct StagedRow {
    kind: Kind,
    line: u64,
    values: Vec<V>,
}

/// Converts `record` for staging on `backend`. For SQLite, dates and instants are rendered
/// here to the text sqlx itself would store (`2024-01-03`, `2024-01-03T09:30:00+00:00`), so
/// both SQLite paths bind the same text and the writer thread formats nothing.
pub fn stage_row(backend: Backend, line: u64, record: Record) -> StagedRow {
    let kind = record.kind();
    let mut values = Vec::with_capacity(spec(kind).stage.len());
    stage_values(record, &mut values);
    if backend == Backend::Sqlite {
        for value in &mut values {
            match value {
                V::Date(Some(d)) => *value = sqlite_date(*d),
                V::Instant(Some(t)) => *value = sqlite_instant(*t),
                _ => {}
            }
        }
    }
    StagedRow { kind, line, values }
}

fn sqlite_date(d: NaiveDate) -> V {
    use chrono::Datelike;
    if !(0..=9999).contains(&d.year()) {
        return V::Text(Some(d.format("%F").to_string()));
    }
    let mut text = *b"0000-00-00";
    put_digits(&mut text[0..4], d.year() as u32);
    put_digits(&mut text[5..7], d.month());
    put_digits(&mut text[8..10], d.day());
    V::Fixed(Fixed::new(&text))
}

/// RFC 3339 in UTC with `+00:00`, as `to_rfc3339_opts(SecondsFormat::AutoSi, false)`
/// writes it (that is how sqlx stores a `DateTime<Utc>` in SQLite).
fn sqlite_instant(t: DateTime<Utc>) -> V {
    use chrono::{Datelike, Timelike};
    if t.nanosecond() != 0 || !(0..=9999).contains(&t.year()) {
        return V::Text(Some(
            t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
        ));
    }
    let mut text = *b"0000-00-00T00:00:00+00:00";
    put_digits(&mut text[0..4], t.year() as u32);
    put_digits(&mut text[5..7], t.month());
    put_digits(&mut text[8..10], t.day());
    put_digits(&mut text[11..13], t.hour());
    put_digits(&mut text[14..16], t.minute());
    put_digits(&mut text[17..19], t.second());
    V::Fixed(Fixed::new(&text))
}

/// Writes the last `out.len()` decimal digits of `n` into `out`, zero-padded (this runs
/// for every date of every imported row, so it neither formats nor allocates).
fn put_digits(out: &mut [u8], mut n: u32) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// One value in PostgreSQL's COPY CSV format.
fn copy_csv_value(out: &mut String, value: V) {
    use std::fmt::Write as _;
    match value {
        V::Text(Some(text)) => {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        }
        V::Int(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        V::Bool(b) => out.push(if b { 't' } else { 'f' }),
        V::Date(Some(d)) => {
            let _ = write!(out, "{}", d.format("%F"));
        }
        V::Instant(Some(t)) => {
            out.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        }
        V::Fixed(f) => out.push_str(f.as_str()),
        V::Text(None) | V::Int(None) | V::Date(None) | V::Instant(None) => {}
    }
}

enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs one statement on whichever backend the session is on; `$q` is expanded once per
/// backend so that its binds are typed for that driver.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

fn sql(s: String) -> AssertSqlSafe<String> {
    // Every dynamic statement here is assembled from the constant table and column names
    // of a `Spec`; user data is always bound, never spliced in.
    AssertSqlSafe(s)
}

/// An import in progress: one open transaction with a staging table.
pub struct ImportSession {
    tx: Tx,
    backend: Backend,
    kind: Kind,
    spec: &'static Spec,
    options: ImportOptions,
    buffer: Vec<(u64, Vec<V>)>,
    rows_per_statement: usize,
    staged: u64,
    counts: ImportCounts,
    /// Set when the SQLite fast path is used (the target table was empty at the start).
    fast: Option<Fast>,
    /// Set when the transaction runs in the rollback journal ([`ImportOptions::sole_writer`]):
    /// the pool on which WAL is restored after the commit or rollback.
    leave_rollback_journal: Option<sqlx::SqlitePool>,
}

/// Starts a transaction in the rollback journal, with full syncs (NORMAL is only crash-safe
/// in WAL). Fails with "database is locked" when another connection has the file open.
///
/// Foreign keys are not checked row by row during such a load (a b-tree search in the parent
/// table per row, a fifth of the load's time): the fast path only ever writes a reference
/// that it has just read from the parent table in the same transaction, or NULL, which the
/// NOT NULL constraint rejects as the row's problem (`fast_insert`). Debug builds, and so
/// every test, check that with `pragma foreign_key_check` before the commit.
const BEGIN_IN_ROLLBACK_JOURNAL: &str = "pragma journal_mode = delete; pragma synchronous = full; pragma foreign_keys = off; begin immediate";
/// Undoes [`BEGIN_IN_ROLLBACK_JOURNAL`]: the settings every connection opens with.
const BACK_TO_WAL: &str =
    "pragma journal_mode = wal; pragma synchronous = normal; pragma foreign_keys = on";

const STAGE: &str = "winback_stage";

impl Db {
    /// Starts an import of `kind` rows: opens the transaction and the staging table.
    pub async fn begin_import(&self, kind: Kind, options: ImportOptions) -> Result<ImportSession> {
        let spec = spec(kind);
        let fast_insert = match self.backend() {
            Backend::Sqlite if !options.create_customers => fast_insert(kind, spec, SQLITE_NOW),
            _ => None,
        };
        let mut leave_rollback_journal = None;
        let mut tx = match self {
            Db::Sqlite(pool) if options.sole_writer && fast_insert.is_some() => {
                // Checked again inside the transaction below; this one only decides whether
                // the rollback journal is worth trying.
                let empty: bool = sqlx::query_scalar(sql(format!(
                    "select not exists (select 1 from {})",
                    spec.table
                )))
                .fetch_one(pool)
                .await?;
                if !empty {
                    Tx::Sqlite(pool.begin().await?)
                } else {
                    match pool.begin_with(BEGIN_IN_ROLLBACK_JOURNAL).await {
                        Ok(mut tx) => {
                            // Restored afterwards in any case (the syncs were raised too).
                            leave_rollback_journal = Some(pool.clone());
                            let mode: String = sqlx::query_scalar("pragma journal_mode")
                                .fetch_one(&mut *tx)
                                .await?;
                            if mode == "delete" {
                                tracing::info!(
                                    "the import has the database file to itself: rollback journal"
                                );
                            } else {
                                tracing::info!(%mode, "the import stays in WAL");
                            }
                            Tx::Sqlite(tx)
                        }
                        Err(error) => {
                            tracing::info!(%error, "another connection has the database file open: the import stays in WAL");
                            back_to_wal(pool).await;
                            Tx::Sqlite(pool.begin().await?)
                        }
                    }
                }
            }
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        // The fast path needs an empty target table: then nothing is merged, only inserted.
        // The check runs inside the import's transaction.
        if let Some((insert, messages)) = fast_insert {
            let Tx::Sqlite(conn) = &mut tx else {
                unreachable!("the backend is SQLite")
            };
            let any: i64 =
                sqlx::query_scalar(sql(format!("select exists (select 1 from {})", spec.table)))
                    .fetch_one(&mut **conn)
                    .await?;
            if any == 0 {
                let indexes: Vec<(String, String)> = sqlx::query_as(
                    "select name, sql from sqlite_master where type = 'index' and tbl_name = $1 and sql is not null",
                )
                .bind(spec.table)
                .fetch_all(&mut **conn)
                .await?;
                for (name, _) in &indexes {
                    sqlx::query(sql(format!("drop index {name}")))
                        .execute(&mut **conn)
                        .await?;
                }
                let dropped_indexes = indexes.into_iter().map(|(_, create)| create).collect();
                let customer_ids = match spec.customer_links {
                    [link] => Some(CustomerIds {
                        ids: None,
                        external_id: spec.stage_index(link.external_id),
                        resolved: spec.stage_index(link.resolved),
                    }),
                    _ => None,
                };
                return Ok(ImportSession {
                    tx,
                    backend: Backend::Sqlite,
                    kind,
                    spec,
                    options,
                    buffer: Vec::with_capacity(FAST_BATCH),
                    rows_per_statement: FAST_BATCH,
                    staged: 0,
                    counts: ImportCounts::default(),
                    fast: Some(Fast {
                        sql: sqlite_fast::c_sql(insert),
                        dropped_indexes,
                        messages,
                        problems: Vec::new(),
                        inserted: 0,
                        customer_ids,
                    }),
                    leave_rollback_journal,
                });
            }
        }
        let columns: Vec<String> = spec
            .stage
            .iter()
            .map(|(name, ty)| format!("{name} {ty}"))
            .collect();
        let (create, drop) = match self.backend() {
            // A temporary table lives in the connection; drop a leftover of an earlier,
            // failed session on the same pooled connection first.
            Backend::Sqlite => (
                format!(
                    "create temp table {STAGE} (line bigint not null, {})",
                    columns.join(", ")
                ),
                format!("drop table if exists temp.{STAGE}"),
            ),
            Backend::Postgres => (
                format!(
                    "create temp table {STAGE} (line bigint not null, {}) on commit drop",
                    columns.join(", ")
                ),
                format!("drop table if exists {STAGE}"),
            ),
        };
        on_tx!(&mut tx, conn => {
            sqlx::query(sql(drop)).execute(&mut *conn).await?;
            sqlx::query(sql(create)).execute(&mut *conn).await?;
        });
        // SQLite allows 32766 bound parameters per statement, PostgreSQL 65535.
        let rows_per_statement = match self.backend() {
            Backend::Sqlite => (30_000 / (spec.stage.len() + 1)).min(1000),
            // COPY has no parameter limit; large batches amortise its round trips.
            Backend::Postgres => 50_000,
        };
        Ok(ImportSession {
            tx,
            backend: self.backend(),
            kind,
            spec,
            options,
            buffer: Vec::with_capacity(rows_per_statement),
            rows_per_statement,
            staged: 0,
            counts: ImportCounts::default(),
            fast: None,
            leave_rollback_journal,
        })
    }
}

/// Restores WAL after an import in the rollback journal. A failure only costs speed and is
/// logged: every new connection opens in WAL anyway.
async fn back_to_wal(pool: &sqlx::SqlitePool) {
    if let Err(error) = sqlx::raw_sql(BACK_TO_WAL).execute(pool).await {
        tracing::warn!(%error, "could not switch the database back to WAL; it will be on the next start");
    }
}

const FAST_BATCH: usize = 8192;
const SQLITE_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

impl ImportSession {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Stages one valid row. `line` is the file line reported in problems.
    ///
    /// # Panics
    /// If `record` is not of the session's kind (a programming error).
    pub async fn push(&mut self, line: u64, record: Record) -> Result<()> {
        self.push_staged(stage_row(self.backend, line, record))
            .await
    }

    /// Stages a row converted by [`stage_row`] (on another thread: the import pipeline
    /// converts on its parser thread, so that this, the single writer, only binds).
    ///
    /// # Panics
    /// If the row is not of the session's kind (a programming error).
    pub async fn push_staged(&mut self, row: StagedRow) -> Result<()> {
        assert_eq!(
            row.kind, self.kind,
            "record of the wrong kind pushed into an import"
        );
        debug_assert_eq!(row.values.len(), self.spec.stage.len());
        self.buffer.push((row.line, row.values));
        if self.buffer.len() >= self.rows_per_statement {
            self.flush().await?;
        }
        Ok(())
    }

    pub fn rows_staged(&self) -> u64 {
        self.staged + self.buffer.len() as u64
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        if let Some(fast) = &mut self.fast {
            let mut rows = std::mem::replace(&mut self.buffer, Vec::with_capacity(FAST_BATCH));
            self.staged += rows.len() as u64;
            let Tx::Sqlite(tx) = &mut self.tx else {
                unreachable!("the fast path is SQLite only")
            };
            if let Some(c) = &mut fast.customer_ids {
                if c.ids.is_none() && rows.len() >= FAST_BATCH {
                    c.ids = Some(read_customer_ids(tx).await?);
                }
                if let Some(ids) = &c.ids {
                    // Exports often list a customer's orders together: a row naming the same
                    // customer as the row before takes its id without a lookup.
                    let mut previous: Option<(usize, i64)> = None;
                    for i in 0..rows.len() {
                        let V::Text(Some(external_id)) = &rows[i].1[c.external_id] else {
                            continue;
                        };
                        let id = match previous {
                            Some((p, id))
                                if matches!(&rows[p].1[c.external_id],
                                    V::Text(Some(before)) if before == external_id) =>
                            {
                                Some(id)
                            }
                            _ => ids.get(external_id.as_str()).copied(),
                        };
                        if let Some(id) = id {
                            rows[i].1[c.resolved] = V::Int(Some(id));
                            previous = Some((i, id));
                        }
                    }
                }
            }
            fast.inserted +=
                sqlite_fast::insert_rows(tx, &fast.sql, rows, fast.messages, &mut fast.problems)
                    .await?;
            return Ok(());
        }
        let names: Vec<&str> = self.spec.stage.iter().map(|(name, _)| *name).collect();
        if let Tx::Postgres(tx) = &mut self.tx {
            // PostgreSQL's bulk path: COPY the batch in CSV (an unquoted empty field is
            // NULL, a quoted one an empty string), ten times faster than multi-row INSERTs.
            let rows = std::mem::replace(
                &mut self.buffer,
                Vec::with_capacity(self.rows_per_statement),
            );
            self.staged += rows.len() as u64;
            let mut data = String::with_capacity(rows.len() * 128);
            for (line, values) in rows {
                data.push_str(&line.to_string());
                for value in values {
                    data.push(',');
                    copy_csv_value(&mut data, value);
                }
                data.push('\n');
            }
            let statement = format!(
                "copy {STAGE} (line, {}) from stdin (format csv)",
                names.join(", ")
            );
            let mut copy = tx.copy_in_raw(&statement).await?;
            copy.send(data.into_bytes()).await?;
            copy.finish().await?;
            return Ok(());
        }
        let head = format!("insert into {STAGE} (line, {}) ", names.join(", "));
        let rows = std::mem::take(&mut self.buffer);
        self.staged += rows.len() as u64;
        macro_rules! insert {
            ($db:ty, $conn:expr) => {{
                let mut builder = QueryBuilder::<$db>::new(head);
                builder.push_values(rows, |mut b, (line, values)| {
                    b.push_bind(line as i64);
                    for value in values {
                        match value {
                            V::Text(v) => b.push_bind(v),
                            V::Int(v) => b.push_bind(v),
                            V::Bool(v) => b.push_bind(v),
                            V::Date(v) => b.push_bind(v),
                            V::Instant(v) => b.push_bind(v),
                            V::Fixed(f) => b.push_bind(f.as_str().to_owned()),
                        };
                    }
                });
                builder.build().execute($conn).await?;
            }};
        }
        match &mut self.tx {
            Tx::Sqlite(tx) => insert!(Sqlite, &mut **tx),
            Tx::Postgres(tx) => insert!(Postgres, &mut **tx),
        }
        self.buffer = Vec::with_capacity(self.rows_per_statement);
        Ok(())
    }

    async fn execute(&mut self, statement: String) -> Result<u64> {
        Ok(
            on_tx!(&mut self.tx, conn => sqlx::query(sql(statement)).execute(conn).await?.rows_affected()),
        )
    }

    async fn problems(
        &mut self,
        statement: String,
        column: &'static str,
    ) -> Result<Vec<RowProblem>> {
        let rows: Vec<(i64, String)> =
            on_tx!(&mut self.tx, conn => sqlx::query_as(sql(statement)).fetch_all(conn).await?);
        Ok(rows
            .into_iter()
            .map(|(line, reason)| RowProblem {
                line: line as u64,
                column,
                reason,
            })
            .collect())
    }

    async fn count(&mut self, statement: String) -> Result<u64> {
        let n: i64 =
            on_tx!(&mut self.tx, conn => sqlx::query_scalar(sql(statement)).fetch_one(conn).await?);
        Ok(n as u64)
    }

    /// Resolves references and checks keys. Returns every row the store cannot take; with
    /// `skip_invalid` those rows are dropped from the import, otherwise the caller should
    /// roll back when the list is not empty.
    pub async fn resolve(&mut self) -> Result<Vec<RowProblem>> {
        self.flush().await?;
        if let Some(fast) = &mut self.fast {
            // Failed rows were never inserted: with skip_invalid they are simply left out.
            let mut problems = std::mem::take(&mut fast.problems);
            problems.sort_by_key(|p| p.line);
            return Ok(problems);
        }
        let spec = self.spec;
        let mut problems = Vec::new();
        let started = std::time::Instant::now();
        // Statistics on the staging table let the planner join it by hash instead of
        // looping over millions of rows (PostgreSQL never analyses temporary tables itself).
        if self.backend == Backend::Postgres {
            self.execute(format!("analyze {STAGE}")).await?;
        }

        if self.kind == Kind::Orders && self.options.create_customers {
            self.counts.customers_created = self.create_missing_customers().await?;
        }
        for link in spec.customer_links {
            // By external id first; rows that name only an e-mail address match the
            // customer with that address (the oldest one if several share it).
            self.execute(format!(
                "update {STAGE} set {res} = coalesce(
                    (select c.id from customers c where c.external_id = {STAGE}.{ext}),
                    (select min(c.id) from customers c where c.email = {STAGE}.{email}))",
                res = link.resolved,
                ext = link.external_id,
                email = link.email,
            ))
            .await?;
            let hint = if self.kind == Kind::Orders {
                "; import the customers first, or use --create-customers"
            } else {
                "; import the customers first"
            };
            problems.extend(
                self.problems(
                    format!(
                        "select line, 'unknown customer ' || coalesce({ext}, {email}) || '{hint}'
                         from {STAGE} where {res} is null order by line",
                        res = link.resolved,
                        ext = link.external_id,
                        email = link.email,
                    ),
                    link.column,
                )
                .await?,
            );
        }
        if self.kind == Kind::OrderLines {
            self.execute(format!(
                "update {STAGE} set order_id = (select o.id from orders o where o.external_id = {STAGE}.order_external_id)"
            ))
            .await?;
            problems.extend(
                self.problems(
                    format!(
                        "select line, 'unknown order ' || order_external_id || '; import the orders first'
                         from {STAGE} where order_id is null order by line"
                    ),
                    "order id",
                )
                .await?,
            );
        }
        // The same key twice in one file is ambiguous: which row is right? Report every
        // later occurrence with the line of the first.
        let key = spec.key_stage.join(", ");
        let key_eq: Vec<String> = spec
            .key_stage
            .iter()
            .map(|k| format!("f.{k} = d.{k}"))
            .collect();
        problems.extend(
            self.problems(
                format!(
                    "select d.line, 'duplicate: {what} ' || coalesce(cast(d.{first} as text), '') || ' appears earlier in the file, on line ' || f.line
                     from {STAGE} d join (select {key}, min(line) as line from {STAGE} group by {key}) f
                       on {key_eq} and d.line > f.line
                     order by d.line",
                    what = spec.key_column,
                    first = spec.key_stage[0],
                    key_eq = key_eq.join(" and "),
                ),
                spec.key_column,
            )
            .await?,
        );
        problems.sort_by_key(|p| p.line);
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            problems = problems.len(),
            "references resolved"
        );
        if self.options.skip_invalid && !problems.is_empty() {
            // Drop the rejected rows; a temporary table of their lines keeps this one statement.
            let lines: Vec<String> = problems.iter().map(|p| p.line.to_string()).collect();
            for chunk in lines.chunks(10_000) {
                self.execute(format!(
                    "delete from {STAGE} where line in ({})",
                    chunk.join(",")
                ))
                .await?;
            }
        }
        Ok(problems)
    }

    /// Creates customers that staged orders refer to but that do not exist yet, from the
    /// customer columns the order file carries. Their external id is the file's customer
    /// id, or the e-mail address when the file has none.
    async fn create_missing_customers(&mut self) -> Result<u64> {
        self.execute(format!(
            "insert into customers (external_id, name, party, email, phone, street, postal_code, city, country, imported_at)
             select coalesce(s.customer_external_id, s.customer_email), max(s.c_name), max(s.c_party), max(s.customer_email),
                    max(s.c_phone), max(s.c_street), max(s.c_postal_code), max(s.c_city), max(s.c_country), {now}
             from {STAGE} s
             where not exists (select 1 from customers c where c.external_id = coalesce(s.customer_external_id, s.customer_email))
               and (s.customer_external_id is not null
                    or not exists (select 1 from customers c where c.email = s.customer_email))
             group by coalesce(s.customer_external_id, s.customer_email)",
            now = self.now_sql(),
        ))
        .await
    }

    fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => SQLITE_NOW,
            Backend::Postgres => "now()",
        }
    }

    /// Merges the staged rows into their table and records the import in the log. Only
    /// now does anything become visible.
    pub async fn commit(mut self, meta: ImportMeta) -> Result<ImportCounts> {
        self.flush().await?;
        if let Some(fast) = self.fast.take() {
            self.counts.inserted = fast.inserted;
            let started = std::time::Instant::now();
            for create in fast.dropped_indexes {
                self.execute(create).await?;
            }
            tracing::info!(seconds = started.elapsed().as_secs_f64(), "indexes rebuilt");
            if cfg!(debug_assertions) && self.leave_rollback_journal.is_some() {
                let dangling = self
                    .count(format!(
                        "select count(*) from pragma_foreign_key_check('{}')",
                        self.spec.table
                    ))
                    .await?;
                assert_eq!(
                    dangling, 0,
                    "a load without foreign-key checks wrote references to missing rows into {}",
                    self.spec.table
                );
            }
            return self.finish(meta).await;
        }
        let spec = self.spec;
        let total = self.count(format!("select count(*) from {STAGE}")).await?;
        let key_match: Vec<String> = spec
            .key_target
            .iter()
            .zip(spec.key_stage)
            .map(|(t, s)| format!("t.{t} = s.{s}"))
            .collect();
        let key_match = key_match.join(" and ");
        let existing = self
            .count(format!(
                "select count(*) from {STAGE} s where exists (select 1 from {table} t where {key_match})",
                table = spec.table
            ))
            .await?;

        let names: Vec<&str> = spec.cols.iter().map(|c| c.name).collect();
        let sources: Vec<&str> = spec.cols.iter().map(|c| c.source).collect();
        let mut extra_names = String::new();
        let mut extra_values = String::new();
        if self.kind == Kind::Customers {
            extra_names.push_str(", imported_at");
            extra_values = format!(", {}", self.now_sql());
        }
        let distinct = match self.backend {
            Backend::Sqlite => "is not",
            Backend::Postgres => "is distinct from",
        };
        let updatable: Vec<&Col> = spec
            .cols
            .iter()
            .filter(|c| !spec.key_target.contains(&c.name))
            .collect();
        let sets: Vec<String> = updatable
            .iter()
            .map(|c| {
                if c.keep_when_null {
                    format!(
                        "{n} = coalesce(excluded.{n}, {t}.{n})",
                        n = c.name,
                        t = spec.table
                    )
                } else {
                    format!("{n} = excluded.{n}", n = c.name)
                }
            })
            .collect();
        let changed: Vec<String> = updatable
            .iter()
            .map(|c| {
                if c.keep_when_null {
                    format!(
                        "(excluded.{n} is not null and excluded.{n} {distinct} {t}.{n})",
                        n = c.name,
                        t = spec.table
                    )
                } else {
                    format!(
                        "excluded.{n} {distinct} {t}.{n}",
                        n = c.name,
                        t = spec.table
                    )
                }
            })
            .collect();
        let on_conflict = if sets.is_empty() {
            "do nothing".to_owned()
        } else {
            format!(
                "do update set {} where {}",
                sets.join(", "),
                changed.join(" or ")
            )
        };
        // `where true`: SQLite needs it to parse an upsert after INSERT ... SELECT.
        let affected = self
            .execute(format!(
                "insert into {table} ({names}{extra_names})
                 select {sources}{extra_values} from {STAGE} s where true order by s.line
                 on conflict ({conflict}) {on_conflict}",
                table = spec.table,
                names = names.join(", "),
                sources = sources.join(", "),
                conflict = spec.key_target.join(", "),
            ))
            .await?;
        let inserted = total - existing;
        let updated = affected.saturating_sub(inserted);
        self.counts.inserted = inserted;
        self.counts.updated = updated;
        self.counts.unchanged = existing.saturating_sub(updated);
        self.finish(meta).await
    }

    /// Logs the import and commits.
    async fn finish(mut self, meta: ImportMeta) -> Result<ImportCounts> {
        let counts = self.counts;
        let finished_at = Utc::now();
        on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "insert into imports (kind, file_name, file_bytes, rows_read, rows_inserted, rows_updated,
                                      rows_unchanged, rows_rejected, started_at, finished_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(self.kind.as_str())
            .bind(meta.file_name.clone())
            .bind(meta.file_bytes as i64)
            .bind(meta.rows_read as i64)
            .bind(counts.inserted as i64)
            .bind(counts.updated as i64)
            .bind(counts.unchanged as i64)
            .bind(meta.rows_rejected as i64)
            .bind(meta.started_at)
            .bind(finished_at)
            .execute(conn)
            .await?;
        });
        let started = std::time::Instant::now();
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "committed");
        if let Some(pool) = &self.leave_rollback_journal {
            back_to_wal(pool).await;
        }
        Ok(counts)
    }

    /// Abandons the import: nothing of it was ever visible.
    pub async fn rollback(self) -> Result<()> {
        match self.tx {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        if let Some(pool) = &self.leave_rollback_journal {
            back_to_wal(pool).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{SecondsFormat, TimeZone};

    use super::*;

    #[test]
    fn sqlite_text_of_dates_and_instants_is_what_sqlx_writes() {
        for (y, mo, d, h, mi, s, nanos) in [
            (2024, 1, 3, 9, 30, 0, 0),
            (1999, 12, 31, 23, 59, 59, 0),
            (5, 2, 3, 4, 5, 6, 0),
            (2026, 11, 24, 0, 0, 0, 5_000_000),
        ] {
            let t = Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
                + chrono::Duration::nanoseconds(nanos);
            assert_eq!(
                text(&sqlite_instant(t)),
                t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
            );
            assert_eq!(
                text(&sqlite_date(t.date_naive())),
                t.date_naive().format("%F").to_string()
            );
        }
        // Inline where the layout is fixed, a heap string where it is not.
        let plain = Utc.with_ymd_and_hms(2024, 1, 3, 9, 30, 0).unwrap();
        assert!(matches!(sqlite_instant(plain), V::Fixed(_)));
        assert!(matches!(
            sqlite_instant(plain + chrono::Duration::milliseconds(5)),
            V::Text(Some(_))
        ));
    }

    fn text(value: &V) -> &str {
        match value {
            V::Text(Some(s)) => s,
            V::Fixed(f) => f.as_str(),
            other => panic!("not a text: {other:?}"),
        }
    }
}
