//! Who is asking, and what they may do: passwords (Argon2id), sessions (cookie holding a
//! random 256-bit token; the store keeps only its SHA-256), API tokens (Bearer, hashed the
//! same way), CSRF tokens, the login rate limit, and the role rules.
//!
//! Roles: `admin` manages users and settings (and may do everything else); `manager` does
//! everything about customers, imports, campaigns and reports; `sales` sees and works only
//! the customers whose `account_owner` is their e-mail address; `analyst` reads everything
//! and changes nothing. [`Permission`] is the one place these rules live.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use winback_engine::Role;
use winback_store::User;

use crate::i18n::Lang;

/// The session cookie: `__Host-` binds it to this origin, path `/`, `Secure`.
pub const SESSION_COOKIE: &str = "__Host-winback_session";
pub const SESSION_HOURS: i64 = 12;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A random 256-bit token as 64 hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    hex(&bytes)
}

/// A readable random password for the first admin (about 120 bits).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!(
        "{}-{}-{}-{}",
        &chars[0..6],
        &chars[6..12],
        &chars[12..18],
        &chars[18..24]
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the store keeps of a session or API token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Argon2id with the library's recommended parameters, as a PHC string. CPU-heavy: call
/// from `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC string. CPU-heavy: call from `spawn_blocking`.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that a wrong e-mail address
/// takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        hash_password("not a real password at all").expect("hashing a fixed password works")
    })
}

/// Failed sign-ins per client address in a sliding minute.
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    pub max_failures: usize,
    pub window: Duration,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
            max_failures: 10,
            window: Duration::from_secs(60),
        }
    }
}

impl LoginLimiter {
    /// True when this address may try again.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .expect("the limiter lock is never poisoned");
        let entry = map.entry(ip).or_default();
        entry.retain(|t| now.duration_since(*t) < self.window);
        entry.len() < self.max_failures
    }

    pub fn fail(&self, ip: IpAddr) {
        let mut map = self
            .failures
            .lock()
            .expect("the limiter lock is never poisoned");
        // Bound memory: forget addresses with no recent failure when the map grows.
        if map.len() > 10_000 {
            let now = Instant::now();
            let window = self.window;
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < window));
        }
        map.entry(ip).or_default().push(Instant::now());
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    Token,
}

/// The signed-in user of a request, put into the request's extensions by the auth layer.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub via: Via,
    /// The session's CSRF token (sessions only).
    pub csrf: String,
    /// The session token's hash (sessions only), for sign-out.
    pub session_hash: Option<String>,
}

/// The language of a request: the user's choice, else the browser's.
#[derive(Debug, Clone, Copy)]
pub struct RequestLang(pub Lang);

/// Everything a role may or may not do; checked by every handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Overview, customers (sales: own only), customer pages, reports.
    ReadCustomers,
    /// Upload and commit imports.
    Import,
    /// Manage users.
    ManageUsers,
    /// Give feedback on alerts (sales: of their own customers only).
    WorkAlerts,
    /// Start an analysis run.
    RunAnalysis,
}

pub fn allowed(role: Role, permission: Permission) -> bool {
    match permission {
        Permission::ReadCustomers => true,
        Permission::Import => matches!(role, Role::Admin | Role::Manager),
        Permission::ManageUsers => role == Role::Admin,
        Permission::WorkAlerts => role != Role::Analyst,
        Permission::RunAnalysis => matches!(role, Role::Admin | Role::Manager),
    }
}

/// The owner filter for customer queries: sales users see only their own customers.
pub fn owner_filter(user: &User) -> Option<String> {
    (user.role == Role::Sales).then(|| user.email.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify_and_short_ones_are_refused() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse!", &hash));
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_256_bit_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(constant_time_eq(a.as_bytes(), a.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b.as_bytes()));
    }

    #[test]
    fn the_limiter_throttles_after_ten_failures_per_address() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..10 {
            assert!(limiter.allowed(ip));
            limiter.fail(ip);
        }
        assert!(!limiter.allowed(ip));
        assert!(limiter.allowed(other), "another address is not affected");
    }
}
