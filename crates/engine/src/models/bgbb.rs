//! The discrete-time BG/BB model of Fader, Hardie & Shang (2010), "Customer-Base Analysis in a
//! Discrete-Time Noncontractual Setting", Marketing Science 29(6): at each of `n` transaction
//! opportunities an alive customer buys with probability `p ~ Beta(α, β)`, and drops out before
//! the next one with probability `θ ~ Beta(γ, δ)`.

use statrs::function::beta::ln_beta;
use statrs::function::gamma::{digamma, ln_gamma};

use super::optim::minimize;
use super::{Fit, FitError, FitOptions, ParamError, check_positive};

/// A group of customers with the same history: `frequency` = number of opportunities with a
/// transaction `x`, `recency` = the last such opportunity `t_x` (0 when `x = 0`), out of
/// `periods` = `n` opportunities; `weight` customers share it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscretePattern {
    pub frequency: u32,
    pub recency: u32,
    pub periods: u32,
    pub weight: f64,
}

/// BG/BB parameters: `p ~ Beta(α, β)`, `θ ~ Beta(γ, δ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgBbParams {
    alpha: f64,
    beta: f64,
    gamma: f64,
    delta: f64,
}

impl BgBbParams {
    /// # Errors
    /// [`ParamError::NotPositive`] unless every parameter is finite and positive.
    pub fn new(alpha: f64, beta: f64, gamma: f64, delta: f64) -> Result<Self, ParamError> {
        Ok(BgBbParams {
            alpha: check_positive("alpha", alpha)?,
            beta: check_positive("beta", beta)?,
            gamma: check_positive("gamma", gamma)?,
            delta: check_positive("delta", delta)?,
        })
    }
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    pub fn beta(&self) -> f64 {
        self.beta
    }
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// `[("alpha", α), ("beta", β), ("gamma", γ), ("delta", δ)]`.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("alpha", self.alpha),
            ("beta", self.beta),
            ("gamma", self.gamma),
            ("delta", self.delta),
        ]
    }

    fn theta(&self) -> [f64; 4] {
        [self.alpha, self.beta, self.gamma, self.delta]
    }

    /// Weighted total log-likelihood (FHS 2010, eq. 5).
    ///
    /// # Formula
    /// `L = B(α+x, β+n-x)/B(α,β) · B(γ, δ+n)/B(γ,δ) + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β)
    /// · B(γ+1, δ+t_x+i)/B(γ,δ)`.
    pub fn loglik(&self, patterns: &[DiscretePattern]) -> f64 {
        patterns
            .iter()
            .map(|p| p.weight * one(&self.theta(), p).0)
            .sum()
    }

    /// Probability of being alive after the `n` opportunities (FHS 2010, eq. 11).
    pub fn p_alive(&self, p: &DiscretePattern) -> f64 {
        let (ln_l, _, first) = one(&self.theta(), p);
        (first - ln_l).exp()
    }

    /// Expected transactions in the next `n_star` opportunities (FHS 2010, eq. 13).
    ///
    /// # Formula
    /// `E[X(n, n+n*)] = 1/L · B(α+x+1, β+n-x)/B(α,β) · δ/(γ-1) · Γ(γ+δ)/Γ(1+δ) ·
    /// [Γ(1+δ+n)/Γ(γ+δ+n) - Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)]`.
    pub fn expected_transactions(&self, p: &DiscretePattern, n_star: u32) -> f64 {
        let [a, b, g, d] = self.theta();
        let (x, n, ns) = (
            f64::from(p.frequency),
            f64::from(p.periods),
            f64::from(n_star),
        );
        let (ln_l, _, _) = one(&self.theta(), p);
        let gam = |g: f64| {
            let head = ln_gamma(g + d) - ln_gamma(1.0 + d);
            let diff = (ln_gamma(1.0 + d + n) - ln_gamma(g + d + n)).exp()
                - (ln_gamma(1.0 + d + n + ns) - ln_gamma(g + d + n + ns)).exp();
            d / (g - 1.0) * head.exp() * diff
        };
        let factor = if (g - 1.0).abs() < 1e-7 {
            0.5 * (gam(1.0 - 1e-7) + gam(1.0 + 1e-7))
        } else {
            gam(g)
        };
        (ln_beta(a + x + 1.0, b + n - x) - ln_beta(a, b) - ln_l).exp() * factor
    }
}

/// `(ln L, ∇ ln L, ln of the "alive" term)` for one pattern.
fn one(theta: &[f64; 4], p: &DiscretePattern) -> (f64, [f64; 4], f64) {
    let [a, b, g, d] = *theta;
    let (x, tx, n) = (
        f64::from(p.frequency),
        f64::from(p.recency),
        f64::from(p.periods),
    );
    let (lb_ab, lb_gd) = (ln_beta(a, b), ln_beta(g, d));
    let (psi_a, psi_b, psi_ab) = (digamma(a), digamma(b), digamma(a + b));
    let (psi_g, psi_d, psi_gd) = (digamma(g), digamma(d), digamma(g + d));
    let psi_ax = digamma(a + x);
    // Term 0: alive after n opportunities.
    let t0 = ln_beta(a + x, b + n - x) - lb_ab + ln_beta(g, d + n) - lb_gd;
    let g0 = [
        psi_ax - digamma(a + b + n) - psi_a + psi_ab,
        digamma(b + n - x) - digamma(a + b + n) - psi_b + psi_ab,
        psi_g - digamma(g + d + n) - psi_g + psi_gd,
        digamma(d + n) - digamma(g + d + n) - psi_d + psi_gd,
    ];
    let mut terms = vec![(t0, g0)];
    let n_drop = p.periods.saturating_sub(p.recency);
    for i in 0..n_drop {
        let i = f64::from(i);
        let t = ln_beta(a + x, b + tx - x + i) - lb_ab + ln_beta(g + 1.0, d + tx + i) - lb_gd;
        let grad = [
            psi_ax - digamma(a + b + tx + i) - psi_a + psi_ab,
            digamma(b + tx - x + i) - digamma(a + b + tx + i) - psi_b + psi_ab,
            digamma(g + 1.0) - digamma(g + d + tx + i + 1.0) - psi_g + psi_gd,
            digamma(d + tx + i) - digamma(g + d + tx + i + 1.0) - psi_d + psi_gd,
        ];
        terms.push((t, grad));
    }
    let m = terms.iter().fold(f64::NEG_INFINITY, |m, t| m.max(t.0));
    let sum: f64 = terms.iter().map(|t| (t.0 - m).exp()).sum();
    let mut grad = [0.0; 4];
    for (t, gr) in &terms {
        let w = (t - m).exp() / sum;
        grad.iter_mut().zip(gr).for_each(|(g, v)| *g += w * v);
    }
    (m + sum.ln(), grad, t0)
}

/// Maximum-likelihood BG/BB fit on weighted patterns (FHS 2010, section 3).
///
/// # Errors
/// [`FitError::InvalidInput`] for a pattern with `x > t_x`, `t_x > n`, `x > 0` with
/// `t_x = 0`, or a negative weight; [`FitError::TooFewCustomers`] below 10 customers;
/// [`FitError::NoRepeaters`] when nobody ever transacts.
pub fn fit_bgbb(
    patterns: &[DiscretePattern],
    opts: &FitOptions,
) -> Result<Fit<BgBbParams>, FitError> {
    for (index, p) in patterns.iter().enumerate() {
        let ok = p.frequency <= p.recency
            && p.recency <= p.periods
            && (p.frequency > 0 || p.recency == 0)
            && p.weight.is_finite()
            && p.weight >= 0.0;
        if !ok {
            return Err(FitError::InvalidInput {
                index,
                reason: "need x <= t_x <= n, t_x = 0 when x = 0, weight >= 0",
            });
        }
    }
    let total: f64 = patterns.iter().map(|p| p.weight).sum();
    if total < super::MIN_CUSTOMERS as f64 {
        return Err(FitError::TooFewCustomers {
            got: total as usize,
            need: super::MIN_CUSTOMERS,
        });
    }
    if patterns.iter().all(|p| p.frequency == 0 || p.weight == 0.0) {
        return Err(FitError::NoRepeaters);
    }
    let f = |u: &[f64], grad: &mut [f64]| {
        let theta = [u[0].exp(), u[1].exp(), u[2].exp(), u[3].exp()];
        let mut v = 0.0;
        let mut d = [0.0; 4];
        for p in patterns {
            let (l, g, _) = one(&theta, p);
            v += p.weight * l;
            d.iter_mut().zip(g).for_each(|(d, g)| *d += p.weight * g);
        }
        for i in 0..4 {
            grad[i] = -d[i] * theta[i] / total;
        }
        -v / total
    };
    let starts = vec![
        vec![0.0; 4],
        vec![0.5, 0.0, -0.5, 1.0],
        vec![-0.5, 0.5, 0.5, -0.5],
    ];
    let m = minimize(&f, &starts, opts).ok_or(FitError::NonFinite)?;
    let [a, b, g, d] = [m.u[0].exp(), m.u[1].exp(), m.u[2].exp(), m.u[3].exp()];
    let params = BgBbParams::new(a, b, g, d).map_err(|_| FitError::NonFinite)?;
    Ok(Fit {
        params,
        loglik: -m.value * total,
        iterations: m.iterations,
        termination: m.termination,
    })
}
