//! Logging setup: `tracing` to stderr, filtered by `WINBACK_LOG` (or `RUST_LOG`), warnings
//! only by default so that command output stays clean.
//!
//! Record ids, never names, e-mail addresses or message bodies: customer data is personal data.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = std::env::var("WINBACK_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "warn".to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}
