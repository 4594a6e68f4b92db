//! Staff users: who works the win-back cases (roles, capacity, experience).

use chrono::Utc;
use winback_engine::Role;

use crate::{Db, Result};

/// A staff user as the store keeps it (without credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub capacity_per_week: Option<u32>,
    /// `novice`, `experienced` or `expert`.
    pub winback_experience: Option<String>,
}

impl Db {
    /// Creates the user or updates name, role, capacity and experience; the password and
    /// the disabled flag are left as they are.
    pub async fn upsert_staff_user(&self, user: &StaffUser) -> Result<()> {
        const SQL: &str = "insert into staff_users (email, name, role, capacity_per_week, winback_experience, created_at)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (email) do update set name = excluded.name, role = excluded.role,
                 capacity_per_week = excluded.capacity_per_week, winback_experience = excluded.winback_experience";
        let capacity = user.capacity_per_week.map(i64::from);
        match self {
            Db::Sqlite(pool) => {
                sqlx::query(SQL)
                    .bind(user.email.clone())
                    .bind(user.name.clone())
                    .bind(user.role.as_str())
                    .bind(capacity)
                    .bind(user.winback_experience.clone())
                    .bind(Utc::now())
                    .execute(pool)
                    .await?;
            }
            Db::Postgres(pool) => {
                sqlx::query(SQL)
                    .bind(user.email.clone())
                    .bind(user.name.clone())
                    .bind(user.role.as_str())
                    .bind(capacity.map(|c| c as i32))
                    .bind(user.winback_experience.clone())
                    .bind(Utc::now())
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}
