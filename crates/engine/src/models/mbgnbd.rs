//! The MMBG/NBD model of Batislam, Denizel & Filiztekin (2007), "Empirical validation and
//! comparison of models for customer base analysis", IJRM 24(3): as MBG/NBD, but a customer may
//! also drop out right after the first purchase, so customers without repeat purchases can be
//! inactive too.

use statrs::function::gamma::{digamma, ln_gamma};

use super::bgnbd::{
    BgNbdParams, ConditionalFactors, at_a_not_one, fit_patterns, rate_scale, theta_of,
};
use super::patterns::Patterns;
use super::special::ln_hyp2f1;
use super::{
    CustomerSummary, Fit, FitError, FitOptions, MIN_CUSTOMERS, ParamError, check_positive,
    check_summaries,
};

/// MBG/NBD parameters: purchase rates `λ ~ Gamma(shape r, rate α)`, drop-out probabilities
/// `p ~ Beta(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MbgNbdParams {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl MbgNbdParams {
    /// # Errors
    /// [`ParamError::NotPositive`] unless every parameter is finite and positive.
    ///
    /// # Examples
    /// ```
    /// use winback_engine::models::{MbgNbdParams, CustomerSummary};
    /// let p = MbgNbdParams::new(0.525, 6.18, 0.891, 1.614).unwrap();
    /// let c = CustomerSummary::new(0.0, 0.0, 38.86, 0.0).unwrap();
    /// assert!(p.p_alive(&c) < 1.0);
    /// ```
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, ParamError> {
        Ok(MbgNbdParams {
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

    /// Total log-likelihood of the customers (Batislam et al. 2007, eq. 9).
    ///
    /// # Formula
    /// `L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
    ///    + B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))`.
    pub fn loglik(&self, customers: &[CustomerSummary]) -> f64 {
        loglik_grad(&Patterns::from_summaries(customers, 1), &self.theta(), 1).0
    }

    /// Probability that the customer is still alive at `T` (Batislam et al. 2007, eq. 11).
    ///
    /// # Formula
    /// `P(alive) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x))`.
    pub fn p_alive(&self, c: &CustomerSummary) -> f64 {
        let x = c.frequency;
        let ln_odds = self.a.ln() - (self.b + x).ln()
            + (self.r + x) * ((self.alpha + c.age).ln() - (self.alpha + c.recency).ln());
        1.0 / (1.0 + ln_odds.exp())
    }

    /// Expected number of purchases in `(T, T+t]` given the customer's history (Batislam et
    /// al. 2007, eq. 12): alive customers have `p ~ Beta(a, b+x+1)` and `λ ~ Gamma(r+x, α+T)`.
    ///
    /// # Formula
    /// `E[Y(t) | x, t_x, T] = (a+b+x)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ·
    ///  2F1(r+x, b+x+1; a+b+x; t/(α+T+t))] · P(alive)`.
    pub fn expected_transactions(&self, c: &CustomerSummary, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let x = c.frequency;
        let p_alive = self.p_alive(c);
        at_a_not_one(self.a, |a| {
            let z = t / (self.alpha + c.age + t);
            let (ln_f, sign) = ln_hyp2f1(self.r + x, self.b + x + 1.0, a + self.b + x, z);
            let ln_term = (self.r + x) * (-z).ln_1p() + ln_f;
            let bracket = if sign > 0.0 {
                -ln_term.exp_m1()
            } else {
                1.0 + ln_term.exp()
            };
            (a + self.b + x) / (a - 1.0) * bracket * p_alive
        })
    }

    /// [`MbgNbdParams::expected_transactions`] at horizon `t` for many customers, before
    /// `P(alive)`: the factor is BG/NBD's with `b + 1` (compare the formulas), so BG/NBD's
    /// [`ConditionalFactors`] with their series prepared per frequency serve both models.
    /// Equal to `expected_transactions / p_alive` up to rounding.
    pub fn conditional_factors(&self, t: f64) -> ConditionalFactors {
        BgNbdParams::new(self.r, self.alpha, self.a, self.b + 1.0)
            .expect("the parameters were checked, and b + 1 is positive too")
            .conditional_factors(t)
    }

    /// Expected number of repeat purchases of a new customer in `(0, t]` (Batislam et al.
    /// 2007, eq. 10).
    ///
    /// # Formula
    /// `E[X(t)] = b/(a-1) · [1 - (α/(α+t))^r · 2F1(r, b+1; a+b; t/(α+t))]`.
    pub fn expected_cumulative(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        at_a_not_one(self.a, |a| {
            let z = t / (self.alpha + t);
            let (ln_f, sign) = ln_hyp2f1(self.r, self.b + 1.0, a + self.b, z);
            let ln_term = self.r * (-z).ln_1p() + ln_f;
            let bracket = if sign > 0.0 {
                -ln_term.exp_m1()
            } else {
                1.0 + ln_term.exp()
            };
            self.b / (a - 1.0) * bracket
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
        let c1 = ln_gamma(rx) - lg_r + r * ln_alpha + ln_gamma(b + x + 1.0) + lg_ab
            - lg_b
            - ln_gamma(a + b + x + 1.0);
        let psi_abx = digamma(a + b + x + 1.0);
        let d1 = [
            digamma(rx) - psi_r + ln_alpha,
            r / alpha,
            psi_ab - psi_abx,
            digamma(b + x + 1.0) - psi_b + psi_ab - psi_abx,
        ];
        let (mut sw, mut sll) = (0.0, 0.0);
        let (mut s_ln3, mut s_ln4, mut s_inv3, mut s_inv4, mut s_w4) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let c4 = a.ln() - (b + x).ln();
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
        let value = sw * c1 + sll;
        let grad = [
            sw * d1[0] - s_ln3 - s_ln4,
            sw * d1[1] - rx * (s_inv3 + s_inv4),
            sw * d1[2] + s_w4 / a,
            sw * d1[3] - s_w4 / (b + x),
        ];
        (value, grad)
    })
}

/// Maximum-likelihood MBG/NBD fit (Batislam et al. 2007, section 3), BFGS on `ln θ` with analytic gradient.
///
/// # Errors
/// [`FitError::TooFewCustomers`], [`FitError::InvalidCustomer`], [`FitError::NoRepeaters`],
/// [`FitError::NonFinite`].
pub fn fit_mbgnbd(
    customers: &[CustomerSummary],
    opts: &FitOptions,
) -> Result<Fit<MbgNbdParams>, FitError> {
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
    let params = MbgNbdParams::new(r, alpha, a, b).map_err(|_| FitError::NonFinite)?;
    Ok(Fit {
        params,
        loglik: -m.value * pats.total_weight,
        iterations: m.iterations,
        termination: m.termination,
    })
}
