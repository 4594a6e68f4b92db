//! The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), in the form of Fader &
//! Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions": purchases
//! follow a Poisson process with `λ ~ Gamma(r, α)`, and lifetimes are exponential with
//! `μ ~ Gamma(s, β)`. The CDNOW estimates are in Fader, Hardie & Lee (2005), Marketing
//! Science 24(2), section 7.

use statrs::function::gamma::{digamma, ln_gamma};

use super::bgnbd::{fit_patterns, rate_scale, theta_of};
use super::patterns::Patterns;
use std::cell::RefCell;

use super::special::{OneBC, OneBcSeries, one_bc};
use super::{
    CustomerSummary, Fit, FitError, FitOptions, MIN_CUSTOMERS, ParamError, check_positive,
    check_summaries,
};

/// Pareto/NBD parameters: purchase rates `λ ~ Gamma(shape r, rate α)`, drop-out rates
/// `μ ~ Gamma(shape s, rate β)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbdParams {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
}

/// The likelihood of one customer in pieces: `ln L` and `P(alive)`, with the gradient of `ln L`.
struct Pieces {
    ln_l: f64,
    p_alive: f64,
    grad: [f64; 4],
}

impl ParetoNbdParams {
    /// # Errors
    /// [`ParamError::NotPositive`] unless every parameter is finite and positive.
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<Self, ParamError> {
        Ok(ParetoNbdParams {
            r: check_positive("r", r)?,
            alpha: check_positive("alpha", alpha)?,
            s: check_positive("s", s)?,
            beta: check_positive("beta", beta)?,
        })
    }
    pub fn r(&self) -> f64 {
        self.r
    }
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    pub fn s(&self) -> f64 {
        self.s
    }
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// `[("r", r), ("alpha", α), ("s", s), ("beta", β)]`.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("r", self.r),
            ("alpha", self.alpha),
            ("s", self.s),
            ("beta", self.beta),
        ]
    }

    fn theta(&self) -> [f64; 4] {
        [self.r, self.alpha, self.s, self.beta]
    }

    /// Total log-likelihood of the customers.
    ///
    /// # Formula
    /// Fader & Hardie (2005 note), eq. 22, written as an integral over the drop-out time:
    /// `L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s ∫_{t_x}^{T} (α+τ)^-(r+x)
    /// (β+τ)^-(s+1) dτ ]`, where the integral is `(Y(t_x) - Y(T)) / (r+s+x)` with
    /// `Y(t) = (α+t)^-(r+s+x) 2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+t))` for `α >= β` (eq. 23's
    /// `A₀`) and the mirrored form for `α < β`. Both are evaluated after Euler's transformation,
    /// as `2F1(1, b; c; z)` series with `0 <= z < 1` and positive, decreasing terms.
    pub fn loglik(&self, customers: &[CustomerSummary]) -> f64 {
        loglik_grad(&Patterns::from_summaries(customers, 1), &self.theta(), 1).0
    }

    /// Probability that the customer is still alive at `T` (Fader & Hardie 2005 note, eq. 18;
    /// Schmittlein et al. 1987, eq. 11).
    ///
    /// # Formula
    /// `P(alive) = Γ(r+x) α^r β^s / (Γ(r) (α+T)^(r+x) (β+T)^s) / L(r, α, s, β | x, t_x, T)`.
    pub fn p_alive(&self, c: &CustomerSummary) -> f64 {
        let x = c.frequency;
        pieces(
            &self.theta(),
            x,
            c.recency,
            c.age,
            &XTerms::new(&self.theta(), x),
        )
        .p_alive
    }

    /// Expected number of purchases in `(T, T+t]` given the history (Fader & Hardie 2005 note,
    /// eq. 25; Schmittlein et al. 1987, eq. 22).
    ///
    /// # Formula
    /// `E[Y(t) | x, t_x, T] = (r+x)(β+T) / ((α+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)] ·
    /// P(alive)`, with the limit `(r+x)(β+T)/(α+T) · ln((β+T+t)/(β+T))` at `s = 1`.
    pub fn expected_transactions(&self, c: &CustomerSummary, t: f64) -> f64 {
        self.expected_transactions_given_p_alive(c, t, self.p_alive(c))
    }

    /// [`Self::expected_transactions`] with a `P(alive)` computed before.
    pub fn expected_transactions_given_p_alive(
        &self,
        c: &CustomerSummary,
        t: f64,
        p_alive: f64,
    ) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let bt = self.beta + c.age;
        let ln_ratio = (t / bt).ln_1p();
        (self.r + c.frequency) * bt / (self.alpha + c.age)
            * one_minus_pow_over(self.s - 1.0, ln_ratio)
            * p_alive
    }

    /// Expected number of repeat purchases of a new customer in `(0, t]` (Fader & Hardie 2005
    /// note, eq. 17; Schmittlein et al. 1987, eq. 17).
    ///
    /// # Formula
    /// `E[X(t)] = r β / (α (s-1)) · [1 - (β/(β+t))^(s-1)]`, `rβ/α · ln(1 + t/β)` at `s = 1`.
    pub fn expected_cumulative(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        self.r * self.beta / self.alpha * one_minus_pow_over(self.s - 1.0, (t / self.beta).ln_1p())
    }

    /// Discounted expected residual transactions with continuous discount rate `δ` per time unit
    /// and an infinite horizon (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4), eq. 2).
    ///
    /// # Formula
    /// `DERT = α^r β^s δ^(s-1) Γ(r+x+1) Ψ(s, s; δ(β+T)) / (Γ(r) (α+T)^(r+x+1) L)`, with Ψ the
    /// confluent hypergeometric function of the second kind. Evaluated through the equivalent
    /// `P(alive) · (r+x)/(α+T) · ∫₀^∞ e^(-δτ) ((β+T)/(β+T+τ))^s dτ` (Ψ's integral
    /// representation), by Gauss-Legendre quadrature after the substitution `τ = (β+T)(e^v - 1)`.
    pub fn dert(&self, c: &CustomerSummary, delta: f64) -> f64 {
        let p_alive = self.p_alive(c);
        let bt = self.beta + c.age;
        p_alive * (self.r + c.frequency) / (self.alpha + c.age)
            * bt
            * discounted_survival_integral(self.s, delta * bt)
    }
}

/// `(1 - e^(-k L)) / k`, continuous at `k = 0` (where it is `L`).
fn one_minus_pow_over(k: f64, ln_ratio: f64) -> f64 {
    let kl = k * ln_ratio;
    if kl.abs() < 1e-8 {
        ln_ratio * (1.0 - 0.5 * kl)
    } else {
        -(-kl).exp_m1() / k
    }
}

/// `∫₀^∞ e^(-z u) (1+u)^(-s) du = U(1, 2-s, z)` for `z > 0`, by 64-point Gauss-Legendre on
/// `v = ln(1+u)` over `[0, V]`, where the integrand has fallen below e^-40, split in 8 panels.
fn discounted_survival_integral(s: f64, z: f64) -> f64 {
    if z.is_nan() || z <= 0.0 {
        return if s > 1.0 {
            1.0 / (s - 1.0)
        } else {
            f64::INFINITY
        };
    }
    // e^{-z(e^v-1)} e^{(1-s)v} < e^-40 once z(e^v - 1) + (s-1)v > 40.
    let mut v_max = (1.0 + 45.0 / z).ln();
    if s > 1.0 {
        v_max = v_max.min(45.0 / (s - 1.0));
    }
    let panels = 16;
    let h = v_max / f64::from(panels);
    let mut total = 0.0;
    for p in 0..panels {
        let lo = f64::from(p) * h;
        for (x, w) in GL16 {
            for sign in [-1.0, 1.0] {
                let v = lo + 0.5 * h * (1.0 + sign * x);
                total += 0.5 * h * w * (-z * v.exp_m1() + (1.0 - s) * v).exp();
            }
        }
    }
    total
}

/// Nodes (positive half) and weights of 16-point Gauss-Legendre quadrature.
const GL16: [(f64, f64); 8] = [
    (0.095_012_509_837_637_44, 0.189_450_610_455_068_5),
    (0.281_603_550_779_258_9, 0.182_603_415_044_923_6),
    (0.458_016_777_657_227_4, 0.169_156_519_395_002_5),
    (0.617_876_244_402_643_7, 0.149_595_988_816_576_7),
    (0.755_404_408_355_003, 0.124_628_971_255_533_9),
    (0.865_631_202_387_831_7, 0.095_158_511_682_492_78),
    (0.944_575_023_073_232_6, 0.062_253_523_938_647_89),
    (0.989_400_934_991_649_9, 0.027_152_459_411_754_09),
];

/// Terms that depend on `x` only.
struct XTerms {
    ln_c: f64,
    d_ln_c: [f64; 4],
}

impl XTerms {
    fn new(theta: &[f64; 4], x: f64) -> XTerms {
        let [r, alpha, s, beta] = *theta;
        XTerms {
            ln_c: ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln(),
            d_ln_c: [
                digamma(r + x) - digamma(r) + alpha.ln(),
                r / alpha,
                beta.ln(),
                s / beta,
            ],
        }
    }
}

/// `K(t)` and its gradient, where the likelihood's integral term is `P(t) K(t)` with
/// `P(t) = (α+t)^-(r+x) (β+t)^-s`: `K = G(z)` with `G = 2F1(1, r+x; r+s+x+1; ·)` and
/// `z = (α-β)/(α+t)` for `α >= β`, `K = (α+t)/(β+t) G(z)` with `G = 2F1(1, s+1; r+s+x+1; ·)` and
/// `z = (β-α)/(β+t)` for `α < β`. `g` evaluates `G` with its derivatives `(b, c, z)`.
#[inline]
fn k_fac(theta: &[f64; 4], t: f64, g: impl Fn(f64) -> OneBC) -> (f64, [f64; 4]) {
    let [_, alpha, _, beta] = *theta;
    if alpha >= beta {
        let inv = 1.0 / (alpha + t);
        let z = (alpha - beta) * inv;
        let g = g(z);
        let dz_da = (beta + t) * inv * inv;
        let dz_db = -inv;
        (
            g.value,
            [g.d_b + g.d_c, g.d_z * dz_da, g.d_c, g.d_z * dz_db],
        )
    } else {
        let inv = 1.0 / (beta + t);
        let z = (beta - alpha) * inv;
        let g = g(z);
        let rho = (alpha + t) * inv;
        let dz_da = -inv;
        let dz_db = rho * inv;
        (
            rho * g.value,
            [
                rho * g.d_c,
                rho * g.d_z * dz_da + g.value * inv,
                rho * (g.d_b + g.d_c),
                rho * g.d_z * dz_db - g.value * rho * inv,
            ],
        )
    }
}

/// The `(b, c)` of `G` in [`k_fac`] and the `z` at time `t`.
fn series_bc(theta: &[f64; 4], x: f64) -> (f64, f64) {
    let [r, alpha, s, beta] = *theta;
    if alpha >= beta {
        (r + x, r + s + x + 1.0)
    } else {
        (s + 1.0, r + s + x + 1.0)
    }
}

fn z_at(theta: &[f64; 4], t: f64) -> f64 {
    let [_, alpha, _, beta] = *theta;
    (alpha - beta).abs() / (alpha.max(beta) + t)
}

/// `ln L`, its gradient and `P(alive)` for one customer; see [`ParetoNbdParams::loglik`].
fn pieces(theta: &[f64; 4], x: f64, t_x: f64, big_t: f64, xt: &XTerms) -> Pieces {
    let (b, c) = series_bc(theta, x);
    let g = |z: f64| one_bc(b, c, z);
    let k_t = k_fac(theta, big_t, g);
    let k_x = if t_x == big_t {
        k_t
    } else {
        k_fac(theta, t_x, g)
    };
    combine(theta, x, t_x, big_t, xt, k_x, k_t)
}

/// Puts the likelihood together from `K(t_x)` and `K(T)` (see [`k_fac`]).
#[inline]
fn combine(
    theta: &[f64; 4],
    x: f64,
    t_x: f64,
    big_t: f64,
    xt: &XTerms,
    (k_x, dk_x): (f64, [f64; 4]),
    (k_t, dk_t): (f64, [f64; 4]),
) -> Pieces {
    let [r, alpha, s, beta] = *theta;
    let rx = r + x;
    let a = rx + s;
    // ln P(t) = -(r+x) ln(α+t) - s ln(β+t) and its gradient.
    let ln_p = |t: f64| -> (f64, [f64; 4]) {
        let (la, lb) = ((alpha + t).ln(), (beta + t).ln());
        (
            -rx * la - s * lb,
            [-la, -rx / (alpha + t), -lb, -s / (beta + t)],
        )
    };
    let (lp_t, dlp_t) = ln_p(big_t);
    let (lp_x, dlp_x) = if t_x == big_t {
        (lp_t, dlp_t)
    } else {
        ln_p(t_x)
    };
    let m = lp_x; // P is decreasing in t, so P(t_x) >= P(T)
    let p_t = (lp_t - m).exp();
    let sa = s / a;
    let dsa = [-s / (a * a), 0.0, rx / (a * a), 0.0];
    let h_x = k_x; // P(t_x) / e^m = 1
    let h_t = p_t * k_t;
    let q = (p_t + sa * (h_x - h_t)).max(p_t);
    let inv_q = 1.0 / q;
    let mut grad = [0.0; 4];
    for i in 0..4 {
        let dh_x = h_x * dlp_x[i] + dk_x[i];
        let dh_t = h_t * dlp_t[i] + p_t * dk_t[i];
        let dq = p_t * dlp_t[i] + dsa[i] * (h_x - h_t) + sa * (dh_x - dh_t);
        grad[i] = xt.d_ln_c[i] + dq * inv_q;
    }
    Pieces {
        ln_l: xt.ln_c + m + q.ln(),
        p_alive: (p_t * inv_q).min(1.0),
        grad,
    }
}

thread_local! {
    /// The series coefficients of one group, reused across groups and evaluations.
    static SERIES: RefCell<OneBcSeries> = RefCell::new(OneBcSeries::new());
}

/// `(ln L, ∂ ln L / ∂θ)` summed over the patterns, `θ = (r, α, s, β)`.
///
/// Per group (one `x`), `2F1`'s coefficients are computed once ([`OneBcSeries`]), and `K` at
/// time 0 (every customer with `x = 0`, and `T = 0`) only once.
pub(crate) fn loglik_grad(pats: &Patterns, theta: &[f64; 4], threads: usize) -> (f64, [f64; 4]) {
    pats.par_sum(threads, |gi, rows| {
        let group = &pats.groups[gi];
        let x = group.x;
        let xt = XTerms::new(theta, x);
        let (b, c) = series_bc(theta, x);
        SERIES.with(|series| {
            let mut series = series.borrow_mut();
            series.prepare(b, c, z_at(theta, group.t_min));
            let series = &*series;
            let g = |z: f64| series.eval(z);
            let mut k_zero = None;
            let mut k_at = |t: f64| {
                if t == 0.0 {
                    *k_zero.get_or_insert_with(|| k_fac(theta, 0.0, |z| one_bc(b, c, z)))
                } else {
                    k_fac(theta, t, g)
                }
            };
            let mut v = 0.0;
            let mut d = [0.0; 4];
            for i in rows {
                let (w, t_x, big_t) = (pats.rows[i].weight, pats.rows[i].recency, pats.rows[i].age);
                let k_t = k_at(big_t);
                let k_x = if t_x == big_t { k_t } else { k_at(t_x) };
                let p = combine(theta, x, t_x, big_t, &xt, k_x, k_t);
                v += w * p.ln_l;
                d.iter_mut().zip(p.grad).for_each(|(d, g)| *d += w * g);
            }
            (v, d)
        })
    })
}

/// Maximum-likelihood Pareto/NBD fit, BFGS on `ln θ` with analytic gradient.
///
/// # Errors
/// [`FitError::TooFewCustomers`], [`FitError::InvalidCustomer`], [`FitError::NoRepeaters`],
/// [`FitError::NonFinite`].
pub fn fit_pareto_nbd(
    customers: &[CustomerSummary],
    opts: &FitOptions,
) -> Result<Fit<ParetoNbdParams>, FitError> {
    check_summaries(customers, MIN_CUSTOMERS)?;
    let pats = Patterns::from_summaries(customers, opts.threads);
    let alpha0 = rate_scale(&pats);
    let starts = [
        [1.0, alpha0, 1.0, alpha0],
        [0.5, 0.5 * alpha0, 0.5, 2.0 * alpha0],
        [1.0, 1.0, 1.0, 1.0],
    ];
    let m = fit_patterns(&pats, &starts, opts, loglik_grad)?;
    let [r, alpha, s, beta] = theta_of(&m);
    let params = ParetoNbdParams::new(r, alpha, s, beta).map_err(|_| FitError::NonFinite)?;
    Ok(Fit {
        params,
        loglik: -m.value * pats.total_weight,
        iterations: m.iterations,
        termination: m.termination,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::prec::GRADIENT_REL;

    /// Central differences of `ln L` against the analytic gradient, on both branches and on
    /// customers with x = 0, t_x = T and x in the hundreds.
    #[test]
    fn analytic_gradient_matches_central_differences() {
        let c = |x, t_x, t| CustomerSummary {
            frequency: x,
            recency: t_x,
            age: t,
            monetary: 0.0,
        };
        let pats = Patterns::from_summaries(
            &[
                c(0.0, 0.0, 30.0),
                c(2.0, 10.0, 38.0),
                c(5.0, 20.0, 20.0),
                c(300.0, 30.0, 39.0),
            ],
            1,
        );
        for theta in [
            [0.55, 10.6, 0.61, 11.7],
            [0.8, 20.0, 1.3, 0.5],
            [1.0, 1.0, 1.0, 1.0],
        ] {
            let (_, grad) = loglik_grad(&pats, &theta, 1);
            for i in 0..4 {
                let h = 1e-6 * theta[i];
                let (mut up, mut down) = (theta, theta);
                up[i] += h;
                down[i] -= h;
                let fd =
                    (loglik_grad(&pats, &up, 1).0 - loglik_grad(&pats, &down, 1).0) / (2.0 * h);
                assert!(
                    (grad[i] - fd).abs() <= GRADIENT_REL * fd.abs().max(1.0),
                    "θ {theta:?}, {i}: {} vs {fd}",
                    grad[i]
                );
            }
        }
    }
}
