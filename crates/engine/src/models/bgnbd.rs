//! The BG/NBD model of Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way",
//! Marketing Science 24(2): purchases follow a Poisson process with Gamma(r, α) rates, and
//! after every purchase a customer drops out with a probability `p ~ Beta(a, b)`.

use std::sync::OnceLock;

use statrs::function::gamma::{digamma, ln_gamma};

use super::optim::Minimum;
use super::patterns::Patterns;
use super::special::{Hyp2f1Series, ln_hyp2f1};
use super::{
    CustomerSummary, Fit, FitError, FitOptions, MIN_CUSTOMERS, ParamError, check_positive,
    check_summaries,
};

/// BG/NBD parameters: purchase rates `λ ~ Gamma(shape r, rate α)`, drop-out probabilities
/// `p ~ Beta(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParams {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl BgNbdParams {
    /// # Errors
    /// [`ParamError::NotPositive`] unless every parameter is finite and positive.
    ///
    /// # Examples
    /// ```
    /// use winback_engine::models::{BgNbdParams, CustomerSummary};
    /// let p = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    /// let c = CustomerSummary::new(2.0, 30.43, 38.86, 0.0).unwrap();
    /// assert!((p.p_alive(&c) - 0.727).abs() < 5e-4);
    /// ```
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, ParamError> {
        Ok(BgNbdParams {
            r: check_positive("r", r)?,
            alpha: check_positive("alpha", alpha)?,
            a: check_positive("a", a)?,
            b: check_positive("b", b)?,
        })
    }

    pub fn r(&self) -> f64 {
        self.r
    }
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    pub fn a(&self) -> f64 {
        self.a
    }
    pub fn b(&self) -> f64 {
        self.b
    }

    /// `[("r", r), ("alpha", α), ("a", a), ("b", b)]`.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("r", self.r),
            ("alpha", self.alpha),
            ("a", self.a),
            ("b", self.b),
        ]
    }

    fn theta(&self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    /// Total log-likelihood of the customers (FHL 2005, eq. 6 summed over customers).
    ///
    /// # Formula
    /// `L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
    ///    + δ(x>0) B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))`.
    pub fn loglik(&self, customers: &[CustomerSummary]) -> f64 {
        loglik_grad(&Patterns::from_summaries(customers, 1), &self.theta(), 1).0
    }

    /// Probability that the customer is still alive at `T` (FHL 2005, eq. 12;
    /// Fader, Hardie & Lee 2008 note, eq. 9).
    ///
    /// # Formula
    /// `P(alive) = 1 / (1 + δ(x>0) · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))`.
    pub fn p_alive(&self, c: &CustomerSummary) -> f64 {
        let x = c.frequency;
        if x <= 0.0 {
            return 1.0;
        }
        let ln_odds = self.a.ln() - (self.b + x - 1.0).ln()
            + (self.r + x) * ((self.alpha + c.age).ln() - (self.alpha + c.recency).ln());
        1.0 / (1.0 + ln_odds.exp())
    }

    /// Expected number of purchases in `(T, T+t]` given the customer's history (FHL 2005,
    /// eq. 10).
    ///
    /// # Formula
    /// `E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ·
    ///  2F1(r+x, b+x; a+b+x-1; t/(α+T+t))] · P(alive)`.
    pub fn expected_transactions(&self, c: &CustomerSummary, t: f64) -> f64 {
        self.conditional_factor(c.frequency, c.age, t) * self.p_alive(c)
    }

    /// The part of [`BgNbdParams::expected_transactions`] before `P(alive)`:
    /// `(a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; t/(α+T+t))]`.
    /// It depends on `x`, `T` and `t` only (not on the recency), so an analysis of many
    /// customers can compute it once per distinct `(x, T)`; it holds the hypergeometric
    /// function, the expensive part.
    pub fn conditional_factor(&self, x: f64, age: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        at_a_not_one(self.a, |a| {
            self.factor_with(a, x, age, t, |z, _| {
                ln_hyp2f1(self.r + x, self.b + x, a + self.b + x - 1.0, z)
            })
        })
    }

    /// [`BgNbdParams::conditional_factor`] at horizon `t` for many customers, with the series
    /// of each frequency prepared once (see [`ConditionalFactors`]).
    pub fn conditional_factors(&self, t: f64) -> ConditionalFactors {
        ConditionalFactors {
            params: *self,
            t,
            series: (0..CACHED_FREQUENCIES).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The conditional factor at a given `a` with `ln 2F1(r+x, b+x; a+b+x-1; z)` from
    /// `ln_f(z, ln(1 - z))`.
    fn factor_with(
        &self,
        a: f64,
        x: f64,
        age: f64,
        t: f64,
        ln_f: impl Fn(f64, f64) -> (f64, f64),
    ) -> f64 {
        let z = t / (self.alpha + age + t);
        let ln_1mz = (-z).ln_1p();
        let (ln_f, sign) = ln_f(z, ln_1mz);
        let ln_term = (self.r + x) * ln_1mz + ln_f;
        let bracket = if sign > 0.0 {
            -ln_term.exp_m1()
        } else {
            1.0 + ln_term.exp()
        };
        (a + self.b + x - 1.0) / (a - 1.0) * bracket
    }

    /// Expected number of repeat purchases of a new customer in `(0, t]` (FHL 2005, eq. 7).
    ///
    /// # Formula
    /// `E[X(t)] = (a+b-1)/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b; a+b-1; t/(α+t))]`.
    pub fn expected_cumulative(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        at_a_not_one(self.a, |a| {
            let z = t / (self.alpha + t);
            let (ln_f, sign) = ln_hyp2f1(self.r, self.b, a + self.b - 1.0, z);
            let ln_term = self.r * (-z).ln_1p() + ln_f;
            let bracket = if sign > 0.0 {
                -ln_term.exp_m1()
            } else {
                1.0 + ln_term.exp()
            };
            (a + self.b - 1.0) / (a - 1.0) * bracket
        })
    }

    /// Discounted expected residual transactions over `periods` periods of one time unit:
    /// `Σ_{k=1..periods} (E[Y(k)] - E[Y(k-1)]) / (1+d)^k` with `d` the discount rate per period
    /// (a discrete approximation of DERT, which has no simple closed form for this model).
    pub fn discounted_expected_transactions(
        &self,
        c: &CustomerSummary,
        d: f64,
        periods: u32,
    ) -> f64 {
        let mut prev = 0.0;
        let mut total = 0.0;
        let mut discount = 1.0;
        for k in 1..=periods {
            let e = self.expected_transactions(c, f64::from(k));
            discount /= 1.0 + d;
            total += (e - prev) * discount;
            prev = e;
        }
        total
    }
}

/// Whole frequencies below this get their series prepared by [`ConditionalFactors`]; higher
/// (rarer) ones are computed as [`BgNbdParams::conditional_factor`] does.
const CACHED_FREQUENCIES: usize = 1024;
/// Term ratios prepared per frequency: enough for `z` up to about 0.6 at low frequencies
/// (higher ones need fewer terms); a longer series computes the rest as it goes.
const CACHED_TERMS: usize = 96;

/// [`BgNbdParams::conditional_factor`] at one horizon for many customers (FHL 2005, eq. 10):
/// the hypergeometric function's parameters depend on the frequency only, so its term ratios
/// are prepared once per whole frequency, on first use, and shared by every thread; a value
/// then costs multiplications only. The results are those of `conditional_factor`.
#[derive(Debug)]
pub struct ConditionalFactors {
    params: BgNbdParams,
    t: f64,
    series: Vec<OnceLock<Hyp2f1Series>>,
}

impl ConditionalFactors {
    /// [`BgNbdParams::conditional_factor`]`(x, age, t)`.
    pub fn get(&self, x: f64, age: f64) -> f64 {
        let p = &self.params;
        let slot = x as usize; // saturating: negative and NaN give 0, checked below
        let cached = self.t > 0.0
            && (p.a - 1.0).abs() >= A_NOT_ONE
            && slot as f64 == x
            && slot < self.series.len();
        if !cached {
            return p.conditional_factor(x, age, self.t);
        }
        let series = self.series[slot]
            .get_or_init(|| Hyp2f1Series::new(p.r + x, p.b + x, p.a + p.b + x - 1.0, CACHED_TERMS));
        p.factor_with(p.a, x, age, self.t, |z, ln_1mz| {
            series.ln_at_with(z, ln_1mz)
        })
    }
}

/// How close to 1 `a` may come before [`at_a_not_one`] averages the two sides.
const A_NOT_ONE: f64 = 1e-7;

/// The closed forms divide by `a - 1`; at `a = 1` take the mean of the two sides.
pub(crate) fn at_a_not_one(a: f64, f: impl Fn(f64) -> f64) -> f64 {
    const H: f64 = A_NOT_ONE;
    if (a - 1.0).abs() < H {
        0.5 * (f(1.0 - H) + f(1.0 + H))
    } else {
        f(a)
    }
}

/// `(ln L, ∂ ln L / ∂θ)` summed over the patterns, `θ = (r, α, a, b)`.
pub(crate) fn loglik_grad(pats: &Patterns, theta: &[f64; 4], threads: usize) -> (f64, [f64; 4]) {
    let [r, alpha, a, b] = *theta;
    let ln_alpha = alpha.ln();
    let (lg_r, psi_r) = (ln_gamma(r), digamma(r));
    let (lg_b, psi_b) = (ln_gamma(b), digamma(b));
    let (lg_ab, psi_ab) = (ln_gamma(a + b), digamma(a + b));
    pats.par_sum(threads, |gi, rows| {
        let x = pats.groups[gi].x;
        let rx = r + x;
        // Terms that depend on x only.
        let c1 = ln_gamma(rx) - lg_r + r * ln_alpha + ln_gamma(b + x) + lg_ab
            - lg_b
            - ln_gamma(a + b + x);
        let psi_abx = digamma(a + b + x);
        let d1 = [
            digamma(rx) - psi_r + ln_alpha,
            r / alpha,
            psi_ab - psi_abx,
            digamma(b + x) - psi_b + psi_ab - psi_abx,
        ];
        let (mut sw, mut sll) = (0.0, 0.0);
        let (mut s_ln3, mut s_ln4, mut s_inv3, mut s_inv4, mut s_w4) = (0.0, 0.0, 0.0, 0.0, 0.0);
        if x == 0.0 {
            for i in rows {
                let w = pats.rows[i].weight;
                let l = (alpha + pats.rows[i].age).ln();
                sw += w;
                sll -= w * r * l;
                s_ln3 += w * l;
                s_inv3 += w / (alpha + pats.rows[i].age);
            }
        } else {
            let c4 = a.ln() - (b + x - 1.0).ln();
            for i in rows {
                let w = pats.rows[i].weight;
                let (at, ax) = (alpha + pats.rows[i].age, alpha + pats.rows[i].recency);
                let (l3, l4) = (at.ln(), ax.ln());
                // ln(term3 / term4); add the two terms in log space from the larger one.
                let d = -rx * (l3 - l4) - c4;
                let (ll, w3) = if d <= 0.0 {
                    let e = d.exp();
                    (c4 - rx * l4 + e.ln_1p(), e / (1.0 + e))
                } else {
                    let e = (-d).exp();
                    (-rx * l3 + e.ln_1p(), 1.0 / (1.0 + e))
                };
                let w4 = 1.0 - w3;
                sw += w;
                sll += w * ll;
                s_ln3 += w * w3 * l3;
                s_ln4 += w * w4 * l4;
                s_inv3 += w * w3 / at;
                s_inv4 += w * w4 / ax;
                s_w4 += w * w4;
            }
        }
        let value = sw * c1 + sll;
        let grad = [
            sw * d1[0] - s_ln3 - s_ln4,
            sw * d1[1] - rx * (s_inv3 + s_inv4),
            sw * d1[2] + s_w4 / a,
            sw * d1[3] - if x == 0.0 { 0.0 } else { s_w4 / (b + x - 1.0) },
        ];
        (value, grad)
    })
}

/// Maximum-likelihood BG/NBD fit (FHL 2005, section 5), BFGS on `ln θ` with analytic gradient.
///
/// # Errors
/// [`FitError::TooFewCustomers`], [`FitError::InvalidCustomer`], [`FitError::NoRepeaters`],
/// [`FitError::NonFinite`].
pub fn fit_bgnbd(
    customers: &[CustomerSummary],
    opts: &FitOptions,
) -> Result<Fit<BgNbdParams>, FitError> {
    check_summaries(customers, MIN_CUSTOMERS)?;
    let pats = Patterns::from_summaries(customers, opts.threads);
    let alpha0 = rate_scale(&pats);
    let starts = [
        [1.0, alpha0, 1.0, 1.0],
        [0.5, 0.5 * alpha0, 0.5, 2.0],
        [1.0, 1.0, 1.0, 1.0],
    ];
    let m = fit_patterns(&pats, &starts, opts, loglik_grad)?;
    let [r, alpha, a, b] = theta_of(&m);
    let params = BgNbdParams::new(r, alpha, a, b).map_err(|_| FitError::NonFinite)?;
    Ok(Fit {
        params,
        loglik: -m.value * pats.total_weight,
        iterations: m.iterations,
        termination: m.termination,
    })
}

/// `mean(T) / (mean(x) + 1)`: the order of magnitude of α, the scale of the purchase rates.
pub(crate) fn rate_scale(pats: &Patterns) -> f64 {
    let mut sx = 0.0;
    let mut st = 0.0;
    for g in &pats.groups {
        for i in g.rows.clone() {
            sx += pats.rows[i].weight * g.x;
            st += pats.rows[i].weight * pats.rows[i].age;
        }
    }
    let w = pats.total_weight;
    ((st / w) / (sx / w + 1.0)).max(1e-3)
}

pub(crate) fn theta_of<const N: usize>(m: &Minimum) -> [f64; N] {
    let mut t = [0.0; N];
    t.iter_mut().zip(&m.u).for_each(|(t, u)| *t = u.exp());
    t
}

/// The log-likelihood and its gradient over patterns, for parameters `θ`, on `threads` threads.
pub(crate) type LogLik<const N: usize> = fn(&Patterns, &[f64; N], usize) -> (f64, [f64; N]);

/// Fits on patterns: the mean negative log-likelihood in `u = ln θ`. Small data are fitted from
/// all starts; larger data from all starts on a stratified subsample (a quarter of the rows, at
/// most 20,000), then polished on the full data from that point, starting from the subsample's
/// inverse Hessian, which takes a handful of passes over the full data.
pub(crate) fn fit_patterns<const N: usize>(
    pats: &Patterns,
    starts: &[[f64; N]],
    opts: &FitOptions,
    ll: LogLik<N>,
) -> Result<Minimum, FitError> {
    let starts: Vec<Vec<f64>> = starts
        .iter()
        .map(|s| s.iter().map(|v| v.ln()).collect())
        .collect();
    // Below this many rows, a plain fit from all starts; above, the starts run on a subsample.
    const SUBSAMPLE_ABOVE: usize = 800;
    if pats.len() <= SUBSAMPLE_ABOVE {
        return super::optim::minimize(&mean_neg_loglik(pats, ll, opts.threads), &starts, opts)
            .ok_or(FitError::NonFinite);
    }
    // All starts on a subsample; its maximum is within sampling error of the full one, and the
    // Hessian of its mean log-likelihood estimates the full data's, so that the polish on all
    // rows takes near-Newton steps and needs only a few passes.
    let sub = pats.subsample((pats.len() / 4).min(20_000));
    let f_sub = mean_neg_loglik(&sub, ll, opts.threads);
    let m = super::optim::minimize(&f_sub, &starts, opts).ok_or(FitError::NonFinite)?;
    let h0 = super::optim::inverse_hessian(&f_sub, &m.u);
    let mut full = super::optim::polish(&mean_neg_loglik(pats, ll, opts.threads), &m.u, h0, opts)
        .ok_or(FitError::NonFinite)?;
    full.iterations += m.iterations;
    Ok(full)
}

/// The mean negative log-likelihood in `u = ln θ` and its gradient.
fn mean_neg_loglik<const N: usize>(
    p: &Patterns,
    ll: LogLik<N>,
    threads: usize,
) -> impl Fn(&[f64], &mut [f64]) -> f64 + Sync + '_ {
    move |u: &[f64], g: &mut [f64]| {
        let mut theta = [0.0; N];
        theta.iter_mut().zip(u).for_each(|(t, u)| *t = u.exp());
        let (v, d) = ll(p, &theta, threads);
        let w = p.total_weight;
        g.iter_mut()
            .zip(d.iter().zip(&theta))
            .for_each(|(g, (d, t))| *g = -d * t / w);
        -v / w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::prec::GRADIENT_REL;

    #[test]
    fn analytic_gradients_match_central_differences() {
        let c = |x, t_x, t| CustomerSummary {
            frequency: x,
            recency: t_x,
            age: t,
            monetary: 0.0,
        };
        let pats = Patterns::from_summaries(
            &[
                c(0.0, 0.0, 30.0),
                c(1.0, 0.5, 38.0),
                c(5.0, 20.0, 20.0),
                c(300.0, 30.0, 39.0),
            ],
            1,
        );
        let lls: [LogLik<4>; 2] = [loglik_grad, crate::models::mbgnbd::loglik_grad];
        for ll in lls {
            for theta in [
                [0.24, 4.4, 0.79, 2.4],
                [2.0, 0.1, 5.0, 0.2],
                [1.0, 1.0, 1.0, 1.0],
            ] {
                let (_, grad) = ll(&pats, &theta, 1);
                for i in 0..4 {
                    let h = 1e-6 * theta[i];
                    let (mut up, mut down) = (theta, theta);
                    up[i] += h;
                    down[i] -= h;
                    let fd = (ll(&pats, &up, 1).0 - ll(&pats, &down, 1).0) / (2.0 * h);
                    assert!(
                        (grad[i] - fd).abs() <= GRADIENT_REL * fd.abs().max(1.0),
                        "θ {theta:?}, {i}: {} vs {fd}",
                        grad[i]
                    );
                }
            }
        }
    }
}
