//! The Gamma-Gamma spend model of Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value
//! Curves for Customer Base Analysis", JMR 42(4), in the form of Fader & Hardie (2013), "The
//! Gamma-Gamma Model of Monetary Value": each transaction's value is Gamma(p, ν), and the
//! customers' ν are Gamma(q, γ). Fitted on customers with at least one repeat purchase.

use statrs::function::gamma::{digamma, ln_gamma};

use super::optim::minimize;
use super::{
    CustomerSummary, Fit, FitError, FitOptions, InvalidCustomer, ParamError, check_positive,
};

/// Gamma-Gamma parameters `p`, `q`, `γ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGammaParams {
    p: f64,
    q: f64,
    gamma: f64,
}

impl GammaGammaParams {
    /// # Errors
    /// [`ParamError::NotPositive`] unless every parameter is finite and positive.
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<Self, ParamError> {
        Ok(GammaGammaParams {
            p: check_positive("p", p)?,
            q: check_positive("q", q)?,
            gamma: check_positive("gamma", gamma)?,
        })
    }
    pub fn p(&self) -> f64 {
        self.p
    }
    pub fn q(&self) -> f64 {
        self.q
    }
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// `[("p", p), ("q", q), ("gamma", γ)]`.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        vec![("p", self.p), ("q", self.q), ("gamma", self.gamma)]
    }

    /// Log-likelihood of the mean spends of the customers with `x > 0` (others are skipped).
    ///
    /// # Formula
    /// Fader & Hardie (2013), eq. 3: `f(m̄ | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q m̄^(px-1) x^(px) /
    /// (γ + x m̄)^(px+q)`.
    pub fn loglik(&self, customers: &[CustomerSummary]) -> f64 {
        let rows: Vec<(f64, f64)> = spend_rows(customers);
        loglik_grad(&rows, [self.p, self.q, self.gamma]).0
    }

    /// Mean spend per transaction of a customer with `x` repeat purchases of mean value `m̄`
    /// (FHL 2005 "RFM and CLV", eq. 5; Fader & Hardie 2013, eq. 5). For `x = 0` it is the
    /// population mean `pγ/(q-1)` (infinite when `q <= 1`).
    ///
    /// # Formula
    /// `E[M | p, q, γ, m̄, x] = p (γ + x m̄) / (p x + q - 1)`.
    pub fn expected_spend(&self, x: f64, mean_spend: f64) -> f64 {
        let (p, q, g) = (self.p, self.q, self.gamma);
        if x <= 0.0 {
            return if q > 1.0 {
                p * g / (q - 1.0)
            } else {
                f64::INFINITY
            };
        }
        p * (g + x * mean_spend) / (p * x + q - 1.0)
    }
}

fn spend_rows(customers: &[CustomerSummary]) -> Vec<(f64, f64)> {
    customers
        .iter()
        .filter(|c| c.frequency > 0.0)
        .map(|c| (c.frequency, c.monetary))
        .collect()
}

fn loglik_grad(rows: &[(f64, f64)], theta: [f64; 3]) -> (f64, [f64; 3]) {
    let [p, q, g] = theta;
    let (lg_q, psi_q, ln_g) = (ln_gamma(q), digamma(q), g.ln());
    let mut ll = 0.0;
    let mut d = [0.0; 3];
    for &(x, m) in rows {
        let px = p * x;
        let (lgm, lx, lden) = (m.ln(), x.ln(), (g + x * m).ln());
        let psi_pxq = digamma(px + q);
        ll += ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_g + (px - 1.0) * lgm + px * lx
            - (px + q) * lden;
        d[0] += x * (psi_pxq - digamma(px) + lgm + lx - lden);
        d[1] += psi_pxq - psi_q + ln_g - lden;
        d[2] += q / g - (px + q) / (g + x * m);
    }
    (ll, d)
}

/// Maximum-likelihood Gamma-Gamma fit on the customers with `x > 0`.
///
/// # Errors
/// [`FitError::InvalidCustomer`] for a repeat buyer with a non-positive or non-finite mean
/// spend; [`FitError::TooFewCustomers`] with fewer than 10 repeat buyers.
pub fn fit_gamma_gamma(
    customers: &[CustomerSummary],
    opts: &FitOptions,
) -> Result<Fit<GammaGammaParams>, FitError> {
    for (index, c) in customers.iter().enumerate() {
        c.check()
            .map_err(|reason| FitError::InvalidCustomer { index, reason })?;
        if c.frequency > 0.0 && c.monetary <= 0.0 {
            return Err(FitError::InvalidCustomer {
                index,
                reason: InvalidCustomer::Negative,
            });
        }
    }
    let rows = spend_rows(customers);
    if rows.len() < super::MIN_CUSTOMERS {
        return Err(FitError::TooFewCustomers {
            got: rows.len(),
            need: super::MIN_CUSTOMERS,
        });
    }
    let n = rows.len() as f64;
    let mean = rows.iter().map(|r| r.1).sum::<f64>() / n;
    let f = |u: &[f64], grad: &mut [f64]| {
        let theta = [u[0].exp(), u[1].exp(), u[2].exp()];
        let (v, d) = loglik_grad(&rows, theta);
        for i in 0..3 {
            grad[i] = -d[i] * theta[i] / n;
        }
        -v / n
    };
    let starts: Vec<Vec<f64>> = [[1.0, 1.0, 1.0], [2.0, 3.0, mean], [1.0, 2.0, 0.5 * mean]]
        .iter()
        .map(|s| s.iter().map(|v: &f64| v.ln()).collect())
        .collect();
    let m = minimize(&f, &starts, opts).ok_or(FitError::NonFinite)?;
    let params = GammaGammaParams::new(m.u[0].exp(), m.u[1].exp(), m.u[2].exp())
        .map_err(|_| FitError::NonFinite)?;
    Ok(Fit {
        params,
        loglik: -m.value * n,
        iterations: m.iterations,
        termination: m.termination,
    })
}
