//! winback's pure core.
//!
//! Domain types (records every import produces and every analysis consumes), money, the
//! demo-company simulation and (later) the customer-base models, early-warning signals,
//! causes, scoring, budget planning, consent rules and measurement.
//!
//! Architecture invariant: this crate does no IO. No files, no network, no database, no
//! clock: the analysis date is always an argument. It depends on no async runtime, sqlx or
//! axum, so `cargo test -p winback-engine` stays fast.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod demo;
pub mod models;
pub mod money;
pub mod records;
pub mod rng;
pub mod validation;

pub use money::Money;
pub use records::*;
