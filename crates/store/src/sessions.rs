//! Sign-in sessions and API tokens.
//!
//! The client holds a random 256-bit token; the store sees and keeps only its SHA-256 (as
//! hex, computed by the caller), so a leaked database or log gives no usable session.
//! Lookups are by that hash: an equality lookup on a hash reveals nothing about the token.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::users::{USER_COLUMNS, User, on_pool, user_from_row};
use crate::{Db, Result};

/// A live session: its user and the CSRF token forms must carry.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    /// When the session was last used (refreshed by [`Db::touch_session`]); the web
    /// application ends a session idle for too long.
    pub last_seen_at: DateTime<Utc>,
}

/// The user behind an API token, and when the token was last used (None: never).
#[derive(Debug, Clone)]
pub struct TokenUse {
    pub user: User,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token's use is written at most this often.
fn token_use_interval() -> chrono::Duration {
    chrono::Duration::minutes(1)
}

impl TokenUse {
    /// Whether a request at `now` is due to record the token's use ([`Db::touch_api_token`]).
    pub fn touch_due(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at
            .is_none_or(|at| now - at >= token_use_interval())
    }
}

/// An API token as listed to its owner (never the token itself).
#[derive(Debug, Clone)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// When a request last came with the token (to the minute; None: never).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl Db {
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        const SQL: &str = "insert into sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
             values ($1, $2, $3, $4, $5, $4)";
        on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(token_hash.to_owned())
                .bind(user_id)
                .bind(csrf_token.to_owned())
                .bind(Utc::now())
                .bind(expires_at)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// The session with this token hash if it has not expired and its user is enabled.
    /// Whether it has been idle too long is the caller's rule (see `last_seen_at`).
    pub async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>> {
        let sql = format!(
            "select {USER_COLUMNS}, s.csrf_token, s.expires_at,
                 coalesce(s.last_seen_at, s.created_at) as last_seen_at
             from sessions s
             join staff_users u on u.id = s.user_id
             where s.token_hash = $1 and u.disabled_at is null"
        );
        let record = on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(token_hash.to_owned())
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Some(SessionRecord {
                    user: user_from_row(&row)?,
                    csrf_token: row.try_get("csrf_token")?,
                    expires_at: row.try_get("expires_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                }),
                None => None,
            }
        });
        Ok(record.filter(|s| s.expires_at > now))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query("delete from sessions where token_hash = $1")
                .bind(token_hash.to_owned())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Records that the session was used at `now`.
    pub async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query("update sessions set last_seen_at = $1 where token_hash = $2")
                .bind(now)
                .bind(token_hash.to_owned())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Removes sessions that expired before `now` or were last used before `idle_since`;
    /// returns how many.
    pub async fn delete_expired_sessions(
        &self,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<u64> {
        const SQL: &str = "delete from sessions
             where expires_at < $1 or coalesce(last_seen_at, created_at) < $2";
        let n = on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(now)
                .bind(idle_since)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    pub async fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str) -> Result<()> {
        const SQL: &str = "insert into api_tokens (token_hash, user_id, name, created_at) values ($1, $2, $3, $4)";
        on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(token_hash.to_owned())
                .bind(user_id)
                .bind(name.to_owned())
                .bind(Utc::now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// The user of a valid (not revoked) API token whose user is enabled, and when the token
    /// was last used (so that the caller writes [`Db::touch_api_token`] only when it is due:
    /// a write per request would queue every API read behind a running import).
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<TokenUse>> {
        let sql = format!(
            "select {USER_COLUMNS}, t.last_used_at as token_last_used_at
             from api_tokens t join staff_users u on u.id = t.user_id
             where t.token_hash = $1 and t.revoked_at is null and u.disabled_at is null"
        );
        on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(token_hash.to_owned())
                .fetch_optional(pool)
                .await?;
            row.as_ref()
                .map(|row| {
                    Ok(TokenUse {
                        user: user_from_row(row)?,
                        last_used_at: row.try_get("token_last_used_at")?,
                    })
                })
                .transpose()
        })
    }

    /// Records that a request came with the token at `now` (a no-op within a minute of the
    /// last record, also when two requests race past [`TokenUse::touch_due`]).
    pub async fn touch_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        const SQL: &str = "update api_tokens set last_used_at = $1
             where token_hash = $2 and (last_used_at is null or last_used_at < $3)";
        on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(now)
                .bind(token_hash.to_owned())
                .bind(now - token_use_interval())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// The user's tokens that are not revoked, newest first.
    pub async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiTokenInfo>> {
        const SQL: &str = "select id, name, created_at, last_used_at from api_tokens
             where user_id = $1 and revoked_at is null order by id desc";
        on_pool!(self, |pool| {
            let rows = sqlx::query(SQL).bind(user_id).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(ApiTokenInfo {
                        id: row.try_get("id")?,
                        name: row.try_get("name")?,
                        created_at: row.try_get("created_at")?,
                        last_used_at: row.try_get("last_used_at")?,
                    })
                })
                .collect()
        })
    }

    /// Revokes one of the user's tokens; false when it is not theirs or already revoked.
    pub async fn revoke_api_token(&self, user_id: i64, token_id: i64) -> Result<bool> {
        const SQL: &str = "update api_tokens set revoked_at = $1 where id = $2 and user_id = $3 and revoked_at is null";
        let n = on_pool!(self, |pool| {
            sqlx::query(SQL)
                .bind(Utc::now())
                .bind(token_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}
