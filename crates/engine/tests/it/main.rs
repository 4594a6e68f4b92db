//! The engine's integration tests in one binary (one link instead of ten): known answers from
//! the published papers, model invariants and special functions at their edges, holdout
//! validation, and the analysis against the demo company's planted truth.

mod analysis_backtest;
mod analysis_leakage;
mod analysis_rhythm;
mod analysis_settings;
mod analysis_truth;
mod models_cdnow;
mod models_common;
mod models_invariants;
mod models_special;
mod validation_cdnow;
