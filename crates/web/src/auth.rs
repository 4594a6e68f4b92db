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

/// How long a session may go unused before it ends (`WebConfig::session_idle`).
pub const SESSION_IDLE_MINUTES: u64 = 30;
/// The browser's "known device" cookie: lets the account's own browser sign in while the
/// account is throttled (see [`LoginLimiter`]).
pub const DEVICE_COOKIE: &str = "__Host-winback_device";
pub const DEVICE_COOKIE_DAYS: i64 = 180;

/// What a request does with its session, given when the session was last used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUse {
    /// Used recently: nothing to write.
    Fresh,
    /// Live, but `last_seen_at` is old enough to be refreshed.
    Touch,
    /// Unused for longer than the idle limit: the session ends.
    Idle,
}

/// How often a live session's `last_seen_at` is written: once a minute, or a tenth of the
/// idle limit when that is shorter, so the write load stays at most one update per session
/// and minute while a busy session never looks idle.
pub fn touch_interval(idle: chrono::Duration) -> chrono::Duration {
    (idle / 10).min(chrono::Duration::minutes(1))
}

pub fn session_use(
    now: chrono::DateTime<chrono::Utc>,
    last_seen: chrono::DateTime<chrono::Utc>,
    idle: chrono::Duration,
) -> SessionUse {
    let unused = now - last_seen;
    if unused > idle {
        SessionUse::Idle
    } else if unused >= touch_interval(idle) {
        SessionUse::Touch
    } else {
        SessionUse::Fresh
    }
}

/// HMAC-SHA-256 (RFC 2104) for keys of at most one block (64 bytes).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    assert!(key.len() <= 64, "a key of at most 64 bytes");
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(&inner[..]);
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize()[..]);
    out
}

/// Whom a sign-in failure is counted against, besides the client address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LoginKey {
    /// The e-mail address typed in (normalised; counted whether or not such a user exists,
    /// so the throttle tells nothing about which accounts exist).
    Account(String),
    /// A browser that has signed in to this account before (its device cookie): it is not
    /// held back by failures of other clients, only by its own.
    Device(String),
}

#[derive(Debug, Default)]
struct Failures {
    /// Failures within the window, oldest first (at most the allowed number).
    at: Vec<Instant>,
    last: Option<Instant>,
    /// Throttled until then.
    blocked_until: Option<Instant>,
    /// Back-offs since the last quiet period; each one doubles the next.
    backoffs: u32,
}

impl Failures {
    /// Since when nothing has happened: the last failure or the end of the back-off.
    fn quiet_since(&self) -> Option<Instant> {
        self.last.max(self.blocked_until)
    }
}

/// The sign-in throttle, against password guessing without letting an attacker lock the
/// real user out:
///
/// - **per client address**: 10 failures in a sliding minute, then 429 until the oldest
///   one is a minute old;
/// - **per account** (e-mail address typed in, from any address): 10 failures in 15
///   minutes, then 429 for that e-mail address for a back-off of 30 s; every further
///   failure starts the next one, twice as long (1 min, 2 min, ...), up to 15 minutes.
///   15 quiet minutes after the last failure or back-off forget it all. Guessing one
///   account from rotating addresses gets 10 tries, then one per back-off (four an hour).
/// - **known browsers**: a successful sign-in leaves a device cookie bound to the account
///   (HMAC of the e-mail address under a per-process key). A browser presenting it is
///   counted on its own (same rule) instead of against the account, so the real user signs
///   in from their own browser while the account is under attack.
///
/// An attempt counts as a failure from the moment it begins, so parallel guesses cannot
/// slip past the limits while their passwords are checked; a successful sign-in takes its
/// attempt back and clears what was counted against its account or browser. State lives in memory: a
/// restart forgets it (and the device key, so known browsers must sign in once more).
pub struct LoginLimiter {
    by_ip: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    by_key: Mutex<HashMap<LoginKey, Failures>>,
    /// Per client address: failures allowed in `window`.
    pub max_failures: usize,
    pub window: Duration,
    /// Per account or device: failures allowed in `key_window` before the back-off.
    pub key_max_failures: usize,
    pub key_window: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    device_key: [u8; 32],
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let mut device_key = [0u8; 32];
        getrandom::fill(&mut device_key).expect("the operating system provides random bytes");
        LoginLimiter {
            by_ip: Mutex::new(HashMap::new()),
            by_key: Mutex::new(HashMap::new()),
            max_failures: 10,
            window: Duration::from_secs(60),
            key_max_failures: 10,
            key_window: Duration::from_secs(15 * 60),
            first_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(15 * 60),
            device_key,
        }
    }
}

/// Bounds memory: maps with more entries than this forget the ones with nothing recent.
const MAX_TRACKED: usize = 10_000;

/// Why a sign-in attempt may not go ahead, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// Too many failures from this client address.
    Address(Duration),
    /// Too many failures for this account (or this known browser).
    Account(Duration),
}

/// A sign-in attempt under way. It counts as a failure from the moment it begins (so that
/// parallel guesses cannot slip past the limits while their passwords are checked) until
/// [`LoginLimiter::succeed`] takes it back.
#[derive(Debug)]
pub struct Attempt {
    ip: IpAddr,
    key: LoginKey,
    at: Instant,
    /// The back-off this attempt started for its key, if any (for the log).
    pub backoff: Option<Duration>,
}

impl LoginLimiter {
    /// Begins a sign-in attempt from `ip` for `key`, or says why it must wait.
    pub fn begin(&self, ip: IpAddr, key: LoginKey) -> Result<Attempt, Throttled> {
        self.begin_at(ip, key, Instant::now())
    }

    pub fn begin_at(&self, ip: IpAddr, key: LoginKey, now: Instant) -> Result<Attempt, Throttled> {
        {
            let mut map = self
                .by_ip
                .lock()
                .expect("the limiter lock is never poisoned");
            if map.len() > MAX_TRACKED {
                let window = self.window;
                map.retain(|_, v| v.iter().any(|t| now.saturating_duration_since(*t) < window));
            }
            let entry = map.entry(ip).or_default();
            entry.retain(|t| now.saturating_duration_since(*t) < self.window);
            if entry.len() >= self.max_failures {
                let oldest = entry[0];
                return Err(Throttled::Address(
                    self.window
                        .saturating_sub(now.saturating_duration_since(oldest)),
                ));
            }
            entry.push(now);
        }
        match self.count_key(key.clone(), now) {
            Ok(backoff) => Ok(Attempt {
                ip,
                key,
                at: now,
                backoff,
            }),
            Err(wait) => {
                self.forget_ip_attempt(ip, now);
                Err(Throttled::Account(wait))
            }
        }
    }

    /// A successful sign-in: its attempt is no failure, and what was counted against its
    /// account or browser is forgotten.
    pub fn succeed(&self, attempt: Attempt) {
        self.forget_ip_attempt(attempt.ip, attempt.at);
        self.by_key
            .lock()
            .expect("the limiter lock is never poisoned")
            .remove(&attempt.key);
    }

    fn forget_ip_attempt(&self, ip: IpAddr, at: Instant) {
        let mut map = self
            .by_ip
            .lock()
            .expect("the limiter lock is never poisoned");
        if let Some(entry) = map.get_mut(&ip)
            && let Some(idx) = entry.iter().rposition(|t| *t == at)
        {
            entry.remove(idx);
        }
    }

    /// Counts an attempt against the account or device: `Err(wait)` while it is held back
    /// (nothing counted), else the back-off this attempt starts, if any.
    fn count_key(&self, key: LoginKey, now: Instant) -> Result<Option<Duration>, Duration> {
        let mut map = self
            .by_key
            .lock()
            .expect("the limiter lock is never poisoned");
        if let Some(until) = map.get(&key).and_then(|f| f.blocked_until)
            && until > now
        {
            return Err(until - now);
        }
        if map.len() > MAX_TRACKED {
            let window = self.key_window;
            map.retain(|_, f| {
                f.quiet_since()
                    .is_some_and(|q| now.saturating_duration_since(q) < window)
            });
        }
        let entry = map.entry(key).or_default();
        if entry
            .quiet_since()
            .is_some_and(|q| now.saturating_duration_since(q) >= self.key_window)
        {
            *entry = Failures::default();
        }
        entry
            .at
            .retain(|t| now.saturating_duration_since(*t) < self.key_window);
        entry.at.push(now);
        entry.last = Some(now);
        // Only the last few matter; a long attack must not grow the list.
        if entry.at.len() > self.key_max_failures {
            let extra = entry.at.len() - self.key_max_failures;
            entry.at.drain(..extra);
        }
        if entry.backoffs == 0 && entry.at.len() < self.key_max_failures {
            return Ok(None);
        }
        let doublings = entry.backoffs.min(16);
        entry.backoffs += 1;
        let backoff = self
            .first_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        entry.blocked_until = Some(now + backoff);
        Ok(Some(backoff))
    }

    /// The device cookie's value for an account (64 hex characters).
    pub fn device_token(&self, email: &str) -> String {
        hex(&hmac_sha256(
            &self.device_key,
            format!("winback device\n{email}").as_bytes(),
        ))
    }

    /// Whom to count a sign-in for `email` against: the browser when it presents this
    /// account's device cookie, else the account.
    pub fn key_for(&self, email: &str, device_cookie: Option<&str>) -> LoginKey {
        match device_cookie {
            Some(cookie)
                if constant_time_eq(cookie.as_bytes(), self.device_token(email).as_bytes()) =>
            {
                LoginKey::Device(cookie.to_owned())
            }
            _ => LoginKey::Account(email.to_owned()),
        }
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
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_session_is_touched_at_most_once_a_minute_and_ends_when_idle() {
        let idle = chrono::Duration::minutes(30);
        let seen = chrono::Utc::now();
        let at = |secs: i64| seen + chrono::Duration::seconds(secs);
        assert_eq!(session_use(at(0), seen, idle), SessionUse::Fresh);
        assert_eq!(session_use(at(59), seen, idle), SessionUse::Fresh);
        assert_eq!(session_use(at(60), seen, idle), SessionUse::Touch);
        assert_eq!(session_use(at(30 * 60), seen, idle), SessionUse::Touch);
        assert_eq!(session_use(at(30 * 60 + 1), seen, idle), SessionUse::Idle);
        // A short idle limit is refreshed more often, so a busy session never looks idle.
        let short = chrono::Duration::seconds(2);
        assert_eq!(touch_interval(short), chrono::Duration::milliseconds(200));
        assert_eq!(session_use(at(3), seen, short), SessionUse::Idle);
    }

    /// Attempts from ever new addresses for `key` at second `secs` after `t0`.
    fn attempt(
        limiter: &LoginLimiter,
        key: &LoginKey,
        t0: Instant,
        secs: u64,
    ) -> Result<Option<u64>, Throttled> {
        let n = u32::try_from(secs % 4_000_000).unwrap();
        let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        limiter
            .begin_at(ip, key.clone(), t0 + Duration::from_secs(secs))
            .map(|a| a.backoff.map(|b| b.as_secs()))
    }

    #[test]
    fn an_account_is_throttled_after_ten_failures_with_a_growing_back_off() {
        let limiter = LoginLimiter::default();
        let account = LoginKey::Account("rep@firma.de".into());
        let other = LoginKey::Account("chef@firma.de".into());
        let t0 = Instant::now();
        let try_at = |secs| attempt(&limiter, &account, t0, secs);
        for n in 0..9 {
            assert_eq!(try_at(n), Ok(None));
        }
        assert_eq!(
            try_at(9),
            Ok(Some(30)),
            "the tenth failure in 15 minutes starts a back-off"
        );
        assert_eq!(
            try_at(10),
            Err(Throttled::Account(Duration::from_secs(29))),
            "from any address"
        );
        assert_eq!(
            attempt(&limiter, &other, t0, 10),
            Ok(None),
            "only that account"
        );
        assert_eq!(try_at(39), Ok(Some(60)), "each further failure doubles it");
        assert!(try_at(98).is_err());
        let mut t = 99;
        for backoff in [120, 240, 480, 900, 900] {
            assert_eq!(try_at(t), Ok(Some(backoff)), "at {t} s");
            assert!(try_at(t + backoff - 1).is_err());
            t += backoff;
        }
        // 15 quiet minutes after the last back-off forget the account's history.
        assert_eq!(try_at(t + 15 * 60), Ok(None));
    }

    #[test]
    fn attempts_count_before_their_passwords_are_checked_and_success_takes_one_back() {
        let limiter = LoginLimiter::default();
        let account = LoginKey::Account("rep@firma.de".into());
        let t0 = Instant::now();
        // Ten guesses in parallel: none has failed yet, all are counted.
        let attempts: Vec<_> = (0..10)
            .map(|n| attempt(&limiter, &account, t0, n))
            .collect();
        assert!(attempts.iter().all(Result::is_ok));
        assert!(matches!(
            attempt(&limiter, &account, t0, 10),
            Err(Throttled::Account(_))
        ));

        // A success forgets the account's count and is no failure of its address.
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for n in 0..9 {
            let key = LoginKey::Account(format!("user{n}@firma.de"));
            limiter.begin_at(ip, key, t0).unwrap();
        }
        let real = limiter.begin_at(ip, account.clone(), t0).unwrap();
        limiter.succeed(real);
        assert!(
            limiter.begin_at(ip, account.clone(), t0).is_ok(),
            "the address has 9 failures, not 10"
        );
    }

    #[test]
    fn a_known_browser_is_counted_on_its_own() {
        let limiter = LoginLimiter::default();
        let token = limiter.device_token("rep@firma.de");
        assert_eq!(token.len(), 64);
        assert_eq!(
            limiter.key_for("rep@firma.de", Some(&token)),
            LoginKey::Device(token.clone())
        );
        assert_eq!(
            limiter.key_for("chef@firma.de", Some(&token)),
            LoginKey::Account("chef@firma.de".into()),
            "the cookie is bound to its account"
        );
        assert_eq!(
            limiter.key_for("rep@firma.de", Some("forged")),
            LoginKey::Account("rep@firma.de".into())
        );
        assert_ne!(
            LoginLimiter::default().device_token("rep@firma.de"),
            token,
            "the key is random per process"
        );
        let t0 = Instant::now();
        let account = LoginKey::Account("rep@firma.de".into());
        for n in 0..10 {
            attempt(&limiter, &account, t0, n).unwrap();
        }
        assert!(attempt(&limiter, &account, t0, 10).is_err());
        let own = limiter.key_for("rep@firma.de", Some(&token));
        assert_eq!(
            attempt(&limiter, &own, t0, 10),
            Ok(None),
            "the account's own browser may still sign in"
        );
    }

    #[test]
    fn the_limiter_throttles_after_ten_failures_per_address() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        let key = |n: u64| LoginKey::Account(format!("user{n}@firma.de"));
        for n in 0..10 {
            assert!(
                limiter
                    .begin_at(ip, key(n), t0 + Duration::from_secs(n))
                    .is_ok()
            );
        }
        assert_eq!(
            limiter
                .begin_at(ip, key(10), t0 + Duration::from_secs(10))
                .err(),
            Some(Throttled::Address(Duration::from_secs(50)))
        );
        assert!(
            limiter
                .begin_at(other, key(11), t0 + Duration::from_secs(10))
                .is_ok(),
            "another address is not affected"
        );
        assert!(
            limiter
                .begin_at(ip, key(12), t0 + Duration::from_secs(60))
                .is_ok(),
            "a minute after the first failure"
        );
    }
}
