//! The shifted-beta-geometric (sBG) model of Fader & Hardie (2007), "How to Project Customer
//! Retention", Journal of Interactive Marketing 21(1): each contract customer churns at the end
//! of a period with probability `θ ~ Beta(α, β)`.

use statrs::function::beta::ln_beta;
use statrs::function::gamma::digamma;

use super::optim::minimize;
use super::{Fit, FitError, FitOptions, ParamError, check_positive};

/// sBG parameters `α`, `β` of the churn probability's Beta distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SbgParams {
    alpha: f64,
    beta: f64,
}

impl SbgParams {
    /// # Errors
    /// [`ParamError::NotPositive`] unless both are finite and positive.
    pub fn new(alpha: f64, beta: f64) -> Result<Self, ParamError> {
        Ok(SbgParams {
            alpha: check_positive("alpha", alpha)?,
            beta: check_positive("beta", beta)?,
        })
    }
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// `[("alpha", α), ("beta", β)]`.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        vec![("alpha", self.alpha), ("beta", self.beta)]
    }

    /// Probability of churning at the end of period `t >= 1` (Fader & Hardie 2007, eq. 7).
    ///
    /// # Formula
    /// `P(T = t) = B(α+1, β+t-1) / B(α, β)`.
    pub fn p_churn_at(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        (ln_beta(self.alpha + 1.0, self.beta + f64::from(t) - 1.0) - ln_beta(self.alpha, self.beta))
            .exp()
    }

    /// Probability of still being a customer after `t` periods (Fader & Hardie 2007, eq. 8).
    ///
    /// # Formula
    /// `S(t) = B(α, β+t) / B(α, β)`.
    pub fn survival(&self, t: u32) -> f64 {
        (ln_beta(self.alpha, self.beta + f64::from(t)) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// Retention rate in period `t >= 1` (Fader & Hardie 2007, eq. 9): `r_t = (β+t-1)/(α+β+t-1)`.
    pub fn retention_rate(&self, t: u32) -> f64 {
        let t = f64::from(t);
        (self.beta + t - 1.0) / (self.alpha + self.beta + t - 1.0)
    }

    /// Log-likelihood of survivor counts `[(period, survivors)]` starting at period 0
    /// (Fader & Hardie 2007, eq. 10): `Σ_t n_t ln P(T=t) + n_last ln S(last)` with `n_t` the
    /// customers lost in period `t`.
    pub fn loglik(&self, survivors: &[(u32, f64)]) -> f64 {
        loglik_grad(survivors, [self.alpha, self.beta]).0
    }
}

fn loglik_grad(survivors: &[(u32, f64)], theta: [f64; 2]) -> (f64, [f64; 2]) {
    let [a, b] = theta;
    let lb = ln_beta(a, b);
    let (psi_a, psi_b, psi_ab) = (digamma(a), digamma(b), digamma(a + b));
    let mut ll = 0.0;
    let mut d = [0.0; 2];
    for w in survivors.windows(2) {
        let (t, lost) = (f64::from(w[1].0), w[0].1 - w[1].1);
        // ln B(a+1, b+t-1) - ln B(a, b)
        ll += lost * (ln_beta(a + 1.0, b + t - 1.0) - lb);
        let psi_all = digamma(a + b + t);
        d[0] += lost * (digamma(a + 1.0) - psi_all - psi_a + psi_ab);
        d[1] += lost * (digamma(b + t - 1.0) - psi_all - psi_b + psi_ab);
    }
    if let Some(&(t, alive)) = survivors.last() {
        let t = f64::from(t);
        ll += alive * (ln_beta(a, b + t) - lb);
        let psi_all = digamma(a + b + t);
        d[0] += alive * (psi_a - psi_all - psi_a + psi_ab);
        d[1] += alive * (digamma(b + t) - psi_all - psi_b + psi_ab);
    }
    (ll, d)
}

/// Maximum-likelihood sBG fit on survivor counts `[(period, survivors)]`: periods `0, 1, 2, …`
/// consecutive, survivors non-increasing (Fader & Hardie 2007, section 3).
///
/// # Errors
/// [`FitError::InvalidInput`] for fewer than two periods, a gap in the periods, negative or
/// increasing counts; [`FitError::NoRepeaters`] when nobody churns (α/β not identified).
pub fn fit_sbg_survivors(survivors: &[(u32, f64)]) -> Result<Fit<SbgParams>, FitError> {
    if survivors.len() < 2 {
        return Err(FitError::InvalidInput {
            index: 0,
            reason: "need survivor counts for at least two periods",
        });
    }
    for (index, w) in survivors.windows(2).enumerate() {
        if w[1].0 != w[0].0 + 1 {
            return Err(FitError::InvalidInput {
                index: index + 1,
                reason: "periods must be consecutive",
            });
        }
        if !(w[1].1.is_finite() && w[1].1 >= 0.0 && w[1].1 <= w[0].1) {
            return Err(FitError::InvalidInput {
                index: index + 1,
                reason: "survivors must be finite, >= 0 and non-increasing",
            });
        }
    }
    if survivors[0].0 != 0 || !(survivors[0].1 > 0.0 && survivors[0].1.is_finite()) {
        return Err(FitError::InvalidInput {
            index: 0,
            reason: "the first row must be period 0 with a positive count",
        });
    }
    let n0 = survivors[0].1;
    if survivors.last().is_some_and(|l| l.1 == n0) {
        return Err(FitError::NoRepeaters);
    }
    let f = |u: &[f64], grad: &mut [f64]| {
        let theta = [u[0].exp(), u[1].exp()];
        let (v, d) = loglik_grad(survivors, theta);
        grad[0] = -d[0] * theta[0] / n0;
        grad[1] = -d[1] * theta[1] / n0;
        -v / n0
    };
    let starts = vec![vec![0.0, 0.0], vec![-1.0, 1.0], vec![1.0, 2.0]];
    let opts = FitOptions {
        gradient_tolerance: 1e-11,
        ..FitOptions::default()
    };
    let m = minimize(&f, &starts, &opts).ok_or(FitError::NonFinite)?;
    let params = SbgParams::new(m.u[0].exp(), m.u[1].exp()).map_err(|_| FitError::NonFinite)?;
    Ok(Fit {
        params,
        loglik: -m.value * n0,
        iterations: m.iterations,
        termination: m.termination,
    })
}
