//! The one home of the numerical tolerances the models are held to (as statrs' `prec`).
//!
//! The published-results tests in `tests/models_*.rs` use these constants, so a tolerance is
//! changed here or nowhere.

/// Log-likelihoods agree with a published maximum to this absolute difference.
pub const LOGLIK_ABS: f64 = 0.01;
/// Parameters agree with a published exact maximum to this relative difference.
pub const PARAM_REL: f64 = 1e-3;
/// Special functions (2F1) agree with mpmath reference values to this relative difference.
pub const SPECIAL_REL: f64 = 1e-12;
/// Analytic gradients agree with central differences to this relative difference.
pub const GRADIENT_REL: f64 = 1e-5;

/// `|a - b| <= tol * max(|a|, |b|, tiny)`.
pub fn rel_eq(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

/// Agreement to the printed digits: `|a - printed| <= 0.5 * 10^-digits` (plus rounding noise).
pub fn eq_printed(a: f64, printed: f64, digits: i32) -> bool {
    (a - printed).abs() <= 0.5 * 10f64.powi(-digits) * (1.0 + 1e-9)
}
