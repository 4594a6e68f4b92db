//! Users of the web application: sign-in credentials, role and language.
//!
//! Users are the rows of `staff_users` (the demo and staff imports create them without a
//! password; such a user cannot sign in until `winback user add` gives them one). Only
//! password hashes (PHC strings) are stored; this module never sees a password.

use chrono::Utc;
use sqlx::Row;
use winback_engine::Role;

use crate::{Db, Error, Result};

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds: the same SQL text and
/// row handling on both backends, compiled once per driver.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A user as the web application sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// `de` or `en`; `None` follows the browser.
    pub language: Option<String>,
    /// A disabled user cannot sign in; their sessions and API tokens have ended.
    pub disabled: bool,
}

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.role, u.language, (u.disabled_at is not null) as disabled";

pub(crate) fn user_from_row<R>(row: &R) -> Result<User>
where
    R: Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| Error::Sqlite(format!("unknown role {role:?} in staff_users")))?,
        language: row.try_get("language")?,
        disabled: row.try_get("disabled")?,
    })
}

impl Db {
    /// Creates the user, or (when the e-mail address exists) sets role, password and, if
    /// given, name; enables the user again. Returns the user.
    pub async fn put_user(
        &self,
        email: &str,
        name: Option<&str>,
        role: Role,
        password_hash: &str,
    ) -> Result<User> {
        const SQL: &str = "insert into staff_users (email, name, role, password_hash, created_at)
             values ($1, $2, $3, $4, $5)
             on conflict (email) do update set name = coalesce(excluded.name, staff_users.name),
                 role = excluded.role, password_hash = excluded.password_hash, disabled_at = null";
        on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(email.to_owned())
                .bind(name.map(str::to_owned))
                .bind(role.as_str())
                .bind(password_hash.to_owned())
                .bind(Utc::now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        self.user_by_email(email)
            .await?
            .map(|(user, _)| user)
            .ok_or(Error::NotFound)
    }

    /// An enabled user and their password hash (`None`: the user cannot sign in).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let sql = format!(
            "select {USER_COLUMNS}, u.password_hash from staff_users u where u.email = $1 and u.disabled_at is null"
        );
        on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(email.to_owned())
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some((user_from_row(&row)?, row.try_get("password_hash")?))),
                None => Ok(None),
            }
        })
    }

    /// The user with this id, enabled or not.
    pub async fn user_by_id(&self, user_id: i64) -> Result<Option<User>> {
        let sql = format!("select {USER_COLUMNS} from staff_users u where u.id = $1");
        on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user_id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    /// All users (enabled or not) that can sign in or own customers, by e-mail address.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("select {USER_COLUMNS} from staff_users u order by u.email");
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?;
            rows.iter().map(user_from_row).collect()
        })
    }

    /// The number of enabled admins who can sign in.
    pub async fn count_admins(&self) -> Result<u64> {
        const SQL: &str = "select count(*) from staff_users where role = 'admin' and password_hash is not null and disabled_at is null";
        let n: i64 = on_pool!(self, |pool| sqlx::query_scalar(SQL).fetch_one(pool).await?);
        Ok(n as u64)
    }

    /// Stores the user's language (`None`: follow the browser).
    pub async fn set_user_language(&self, user_id: i64, language: Option<&str>) -> Result<()> {
        const SQL: &str = "update staff_users set language = $1 where id = $2";
        on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(language.map(str::to_owned))
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Disables the user and ends their sessions and API tokens at once (an already
    /// disabled user keeps the first date). False when there is no such user.
    pub async fn disable_user(&self, user_id: i64) -> Result<bool> {
        let now = Utc::now();
        let found = on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "update staff_users set disabled_at = coalesce(disabled_at, $1) where id = $2",
            )
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("delete from sessions where user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "update api_tokens set revoked_at = $1 where user_id = $2 and revoked_at is null",
            )
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            n == 1
        });
        Ok(found)
    }

    /// Enables a disabled user again: they can sign in with their password. Their ended
    /// sessions and revoked API tokens stay ended. False when there is no such user.
    pub async fn enable_user(&self, user_id: i64) -> Result<bool> {
        let n = on_pool!(self, |pool| {
            sqlx::query("update staff_users set disabled_at = null where id = $1")
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}
