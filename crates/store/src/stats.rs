//! Row counts per kind (`winback stats`).

use winback_engine::Kind;

use crate::{Db, Result};

/// The table that holds rows of `kind`.
pub fn table(kind: Kind) -> &'static str {
    match kind {
        Kind::Customers => "customers",
        Kind::Orders => "orders",
        Kind::OrderLines => "order_lines",
        Kind::Products => "products",
        Kind::Complaints => "complaints",
        Kind::Contracts => "contracts",
        Kind::Consents => "consents",
        Kind::Referrals => "referrals",
    }
}

impl Db {
    /// The number of stored rows of each kind, in `Kind::ALL` order.
    pub async fn counts(&self) -> Result<Vec<(Kind, u64)>> {
        let mut out = Vec::with_capacity(Kind::ALL.len());
        for kind in Kind::ALL {
            let statement = sqlx::AssertSqlSafe(format!("select count(*) from {}", table(kind)));
            let n: i64 = match self {
                Db::Sqlite(pool) => sqlx::query_scalar(statement).fetch_one(pool).await?,
                Db::Postgres(pool) => sqlx::query_scalar(statement).fetch_one(pool).await?,
            };
            out.push((kind, n as u64));
        }
        Ok(out)
    }
}
