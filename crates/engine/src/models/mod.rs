//! Customer-base models: who is still a customer, how much they will buy, and what they are worth.
//!
//! Non-contractual repeat buying: BG/NBD ([`bgnbd`]), Pareto/NBD ([`pareto_nbd`]) and MBG/NBD
//! ([`mbgnbd`]) on per-customer `(x, t_x, T)` summaries; the Gamma-Gamma spend model
//! ([`gamma_gamma`]); the shifted-beta-geometric model for contracts ([`sbg`]); and the discrete
//! BG/BB model ([`bgbb`]). Every model is fitted by maximum likelihood with an own BFGS on
//! log-transformed parameters and analytic gradients ([`optim`]), and validated against the
//! published results in `shared/data/README.md` (see `tests/models_*.rs`).
//!
//! This module must never do IO: no files, no clock, no environment. Time is in whatever unit
//! the caller uses consistently (weeks in the published CDNOW results).

pub mod bgbb;
pub mod bgnbd;
pub mod gamma_gamma;
pub mod mbgnbd;
pub(crate) mod optim;
pub mod pareto_nbd;
pub(crate) mod patterns;
pub mod prec;
pub mod sbg;
pub mod special;

pub use bgbb::{BgBbParams, DiscretePattern, fit_bgbb};
pub use bgnbd::{BgNbdParams, ConditionalFactors, fit_bgnbd};
pub use gamma_gamma::{GammaGammaParams, fit_gamma_gamma};
pub use mbgnbd::{MbgNbdParams, fit_mbgnbd};
pub use pareto_nbd::{ParetoNbdParams, fit_pareto_nbd};
pub use sbg::{SbgParams, fit_sbg_survivors};

use std::fmt;

/// One customer's purchase history, summarised (Fader, Hardie & Lee 2005 conventions).
///
/// `frequency` is the number of repeat purchases `x` (the first purchase is not counted),
/// `recency` is `t_x`, the time from the first to the last repeat purchase (0 when `x = 0`),
/// `age` is `T`, the time from the first purchase to the end of the calibration period, and
/// `monetary` is the mean spend per repeat purchase (0 when `x = 0`). Fields are public for
/// convenience; every fit checks them and reports [`FitError::InvalidCustomer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerSummary {
    pub frequency: f64,
    pub recency: f64,
    pub age: f64,
    pub monetary: f64,
}

impl CustomerSummary {
    /// A checked summary.
    ///
    /// # Errors
    /// [`InvalidCustomer`] when a value is not finite, negative, `x = 0` with `t_x > 0`, or
    /// `t_x > T`.
    pub fn new(
        frequency: f64,
        recency: f64,
        age: f64,
        monetary: f64,
    ) -> Result<Self, InvalidCustomer> {
        let c = CustomerSummary {
            frequency,
            recency,
            age,
            monetary,
        };
        c.check()?;
        Ok(c)
    }

    /// Checks the summary for use in a repeat-buying model.
    ///
    /// # Errors
    /// See [`CustomerSummary::new`].
    pub fn check(&self) -> Result<(), InvalidCustomer> {
        let vals = [self.frequency, self.recency, self.age, self.monetary];
        if vals.iter().any(|v| !v.is_finite()) {
            return Err(InvalidCustomer::NotFinite);
        }
        if vals.iter().any(|v| *v < 0.0) {
            return Err(InvalidCustomer::Negative);
        }
        if self.frequency == 0.0 && self.recency > 0.0 {
            return Err(InvalidCustomer::RecencyWithoutRepeat);
        }
        // A little slack: recency and age are often computed as day counts / 7.
        if self.recency > self.age * (1.0 + 1e-12) {
            return Err(InvalidCustomer::RecencyAfterAge);
        }
        Ok(())
    }
}

/// Why a [`CustomerSummary`] cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidCustomer {
    #[error("a value is NaN or infinite")]
    NotFinite,
    #[error("a value is negative")]
    Negative,
    #[error("recency is positive although there is no repeat purchase")]
    RecencyWithoutRepeat,
    #[error("recency (last purchase) lies after the age (end of calibration)")]
    RecencyAfterAge,
}

/// A model parameter failed its check in a `*Params::new` constructor.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// Every parameter of these models must be finite and strictly positive.
    #[error("parameter {name} must be finite and > 0, got {value}")]
    NotPositive { name: &'static str, value: f64 },
}

pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<f64, ParamError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ParamError::NotPositive { name, value })
    }
}

/// Why a fit could not be made. A fit that ran but did not meet its tolerance is *not* an
/// error: it is returned with [`Fit::termination`] saying why it stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    #[error("too few customers to fit ({got}, need at least {need})")]
    TooFewCustomers { got: usize, need: usize },
    #[error("no customer made a repeat purchase, so the purchase rate cannot be estimated")]
    NoRepeaters,
    #[error("customer {index}: {reason}")]
    InvalidCustomer {
        index: usize,
        reason: InvalidCustomer,
    },
    #[error("input row {index} is invalid: {reason}")]
    InvalidInput { index: usize, reason: &'static str },
    #[error("the log-likelihood is not finite at any starting point")]
    NonFinite,
}

/// Options for the maximum-likelihood fits.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Upper bound on BFGS iterations per start.
    pub max_iters: usize,
    /// Stop when the largest gradient component of the mean negative log-likelihood with
    /// respect to the log-parameters is below this.
    pub gradient_tolerance: f64,
    /// Worker threads for the likelihood sums over large data (1 = no threads). The engine does
    /// not ask the operating system; callers pass `std::thread::available_parallelism()`.
    pub threads: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            max_iters: 500,
            gradient_tolerance: 1e-9,
            threads: 2,
        }
    }
}

/// Why the optimiser stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Termination {
    /// The gradient fell below [`FitOptions::gradient_tolerance`].
    GradientTolerance,
    /// Several steps in a row changed the log-likelihood by less than rounding noise.
    NoProgress,
    /// [`FitOptions::max_iters`] was reached.
    MaxIterations,
    /// No step along the search direction improved the log-likelihood.
    LineSearchFailed,
}

impl Termination {
    /// True for the reasons that mean "at a maximum".
    pub fn converged(self) -> bool {
        matches!(
            self,
            Termination::GradientTolerance | Termination::NoProgress
        )
    }
}

/// A fitted model: the parameters at the maximum, the maximised log-likelihood and how the
/// optimiser got there.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit<P> {
    pub params: P,
    /// Total log-likelihood over all customers (not the mean).
    pub loglik: f64,
    /// BFGS iterations summed over all starts and restarts.
    pub iterations: usize,
    pub termination: Termination,
}

impl<P> Fit<P> {
    pub fn converged(&self) -> bool {
        self.termination.converged()
    }
}

/// The models [`fit_summary`] can fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    BgNbd,
    ParetoNbd,
    MbgNbd,
    GammaGamma,
    Sbg,
}

impl ModelKind {
    pub const ALL: [ModelKind; 5] = [
        ModelKind::BgNbd,
        ModelKind::ParetoNbd,
        ModelKind::MbgNbd,
        ModelKind::GammaGamma,
        ModelKind::Sbg,
    ];

    /// Parses `bgnbd`, `pareto-nbd`, `mbgnbd`, `gamma-gamma` or `sbg` (case-insensitive;
    /// `bg-nbd`, `paretonbd`, `mbg-nbd` and `gammagamma` are accepted too).
    ///
    /// # Errors
    /// [`UnknownModel`] for anything else.
    pub fn parse(s: &str) -> Result<ModelKind, UnknownModel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bgnbd" | "bg-nbd" | "bg/nbd" => Ok(ModelKind::BgNbd),
            "pareto-nbd" | "paretonbd" | "pareto/nbd" => Ok(ModelKind::ParetoNbd),
            "mbgnbd" | "mbg-nbd" | "mbg/nbd" => Ok(ModelKind::MbgNbd),
            "gamma-gamma" | "gammagamma" => Ok(ModelKind::GammaGamma),
            "sbg" => Ok(ModelKind::Sbg),
            _ => Err(UnknownModel(s.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::BgNbd => "bgnbd",
            ModelKind::ParetoNbd => "pareto-nbd",
            ModelKind::MbgNbd => "mbgnbd",
            ModelKind::GammaGamma => "gamma-gamma",
            ModelKind::Sbg => "sbg",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A model name [`ModelKind::parse`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model {0:?}; expected one of bgnbd, pareto-nbd, mbgnbd, gamma-gamma, sbg")]
pub struct UnknownModel(pub String);

/// A model-independent view of a fit, for callers that only need numbers to show, with the
/// fitted model to score customers.
#[derive(Debug)]
pub struct SummaryFit {
    pub kind: ModelKind,
    /// Parameter names as in the papers (`r`, `alpha`, `a`, `b`, ...) and their values.
    pub params: Vec<(&'static str, f64)>,
    pub loglik: f64,
    pub converged: bool,
    scorer: Scorer,
}

/// The fitted model behind a [`SummaryFit`] and the horizon of its expectations.
#[derive(Debug)]
enum Scorer {
    BgNbd(BgNbdParams, bgnbd::ConditionalFactors),
    ParetoNbd(ParetoNbdParams, f64),
    MbgNbd(MbgNbdParams, bgnbd::ConditionalFactors),
    GammaGamma(GammaGammaParams),
}

impl SummaryFit {
    /// `(p_alive, expected)` of one customer, where `expected` is the conditional expected
    /// number of transactions in `(T, T + horizon]`. For Gamma-Gamma, `p_alive` is 1 and
    /// `expected` is the conditional expected spend per transaction (customers without
    /// repeat purchases get the population mean).
    ///
    /// Cheap enough to call per customer where the scores are used (`winback model fit`
    /// formats them straight into its output), so that a million scores need not be kept.
    pub fn score(&self, c: &CustomerSummary) -> (f64, f64) {
        match &self.scorer {
            Scorer::BgNbd(p, factors) => {
                let p_alive = p.p_alive(c);
                (p_alive, factors.get(c.frequency, c.age) * p_alive)
            }
            Scorer::ParetoNbd(p, horizon) => {
                let p_alive = p.p_alive(c);
                let expected = p.expected_transactions_given_p_alive(c, *horizon, p_alive);
                (p_alive, expected)
            }
            Scorer::MbgNbd(p, factors) => {
                let p_alive = p.p_alive(c);
                (p_alive, factors.get(c.frequency, c.age) * p_alive)
            }
            Scorer::GammaGamma(p) => (1.0, p.expected_spend(c.frequency, c.monetary)),
        }
    }

    /// [`SummaryFit::score`] of every customer, in input order (in parallel chunks when there
    /// are many).
    pub fn scores(&self, customers: &[CustomerSummary]) -> Vec<(f64, f64)> {
        let threads = FitOptions::default().threads.max(1);
        if threads == 1 || customers.len() < 20_000 {
            return customers.iter().map(|c| self.score(c)).collect();
        }
        let mut out = vec![(0.0, 0.0); customers.len()];
        let chunk = customers.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for (cs, os) in customers.chunks(chunk).zip(out.chunks_mut(chunk)) {
                scope.spawn(move || {
                    for (c, o) in cs.iter().zip(os.iter_mut()) {
                        *o = self.score(c);
                    }
                });
            }
        });
        out
    }
}

/// Fits `kind` to the summaries; the result scores customers with the fitted model
/// ([`SummaryFit::score`]), with expectations over `horizon`.
///
/// For [`ModelKind::Gamma`-Gamma](ModelKind::GammaGamma) only customers with `x > 0` enter the
/// fit. [`ModelKind::Sbg`] takes cohort survivor counts rather than customer summaries: use
/// [`fit_sbg_survivors`].
///
/// # Errors
/// The fit's [`FitError`]; [`FitError::InvalidInput`] for [`ModelKind::Sbg`].
pub fn fit_summary(
    kind: ModelKind,
    customers: &[CustomerSummary],
    horizon: f64,
) -> Result<SummaryFit, FitError> {
    let opts = FitOptions::default();
    let (params, loglik, converged, scorer) = match kind {
        ModelKind::BgNbd => {
            let fit = fit_bgnbd(customers, &opts)?;
            let p = fit.params;
            let factors = p.conditional_factors(horizon);
            (
                p.named(),
                fit.loglik,
                fit.converged(),
                Scorer::BgNbd(p, factors),
            )
        }
        ModelKind::ParetoNbd => {
            let fit = fit_pareto_nbd(customers, &opts)?;
            let p = fit.params;
            let scorer = Scorer::ParetoNbd(p, horizon);
            (p.named(), fit.loglik, fit.converged(), scorer)
        }
        ModelKind::MbgNbd => {
            let fit = fit_mbgnbd(customers, &opts)?;
            let p = fit.params;
            let scorer = Scorer::MbgNbd(p, p.conditional_factors(horizon));
            (p.named(), fit.loglik, fit.converged(), scorer)
        }
        ModelKind::GammaGamma => {
            let fit = fit_gamma_gamma(customers, &opts)?;
            let p = fit.params;
            let scorer = Scorer::GammaGamma(p);
            (p.named(), fit.loglik, fit.converged(), scorer)
        }
        ModelKind::Sbg => {
            return Err(FitError::InvalidInput {
                index: 0,
                reason: "sbg needs survivor counts per period: use fit_sbg_survivors",
            });
        }
    };
    Ok(SummaryFit {
        kind,
        params,
        loglik,
        converged,
        scorer,
    })
}

/// Checks every summary and the minimum data a repeat-buying model needs.
pub(crate) fn check_summaries(
    customers: &[CustomerSummary],
    min_customers: usize,
) -> Result<(), FitError> {
    if customers.len() < min_customers {
        return Err(FitError::TooFewCustomers {
            got: customers.len(),
            need: min_customers,
        });
    }
    for (index, c) in customers.iter().enumerate() {
        c.check()
            .map_err(|reason| FitError::InvalidCustomer { index, reason })?;
    }
    if customers.iter().all(|c| c.frequency == 0.0) {
        return Err(FitError::NoRepeaters);
    }
    Ok(())
}

/// Smallest number of customers the repeat-buying fits accept.
pub const MIN_CUSTOMERS: usize = 10;
