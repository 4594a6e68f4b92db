//! Special functions the models need and statrs does not have: the Gauss hypergeometric
//! function 2F1 for real arguments and `z < 1`, and a `2F1(1, b; c; z)` series with its
//! parameter derivatives for the Pareto/NBD likelihood gradient.
//!
//! Checked against mpmath at the hard edges in `tests/models_special.rs`.

use statrs::function::gamma::{gamma_ur, ln_gamma};

/// Largest number of series terms before giving up (reached only for `z` within about 1e-5 of 1).
const MAX_TERMS: usize = 2_000_000;
/// Cap for the `2F1(1, b; c; z)` series inside the Pareto/NBD likelihood, which must stay fast.
const ONE_BC_MAX_TERMS: usize = 3_000;

/// The Gauss hypergeometric function `2F1(a, b; c; z)` for real parameters and real `z < 1`.
///
/// # Formula
/// `2F1(a, b; c; z) = Σ_n (a)_n (b)_n / ((c)_n n!) zⁿ` (Abramowitz & Stegun 15.1.1), summed with
/// the term ratio `(a+n)(b+n) z / ((c+n)(n+1))` and rescaled so that partial sums never
/// overflow. For `z < 0` the Pfaff transformation (A&S 15.3.4)
/// `2F1(a,b;c;z) = (1-z)^(-a) 2F1(a, c-b; c; z/(z-1))` maps to `0 < w < 1`, and for
/// `a + b > c` the Euler transformation (A&S 15.3.3)
/// `2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z)` makes the terms decay faster near `z = 1`.
///
/// Returns NaN for `z >= 1`, for non-finite input and when `c` is a non-positive integer
/// (unless the series terminates first).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (ln_abs, sign) = ln_hyp2f1(a, b, c, z);
    sign * ln_abs.exp()
}

/// `ln |2F1(a, b; c; z)|` and the sign of `2F1`, so that callers can combine very large or
/// very small values in log space. See [`hyp2f1`].
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> (f64, f64) {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) || z >= 1.0 {
        return (f64::NAN, f64::NAN);
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return (0.0, 1.0);
    }
    if z < 0.0 {
        // Pfaff: prefer the variant that keeps a terminating (polynomial) series terminating.
        let w = z / (z - 1.0);
        let ln1mz = (-z).ln_1p();
        let (pre, (l, s)) = if is_nonpos_int(b) && !is_nonpos_int(a) {
            (-b * ln1mz, ln_hyp2f1_unit(c - a, b, c, w))
        } else {
            (-a * ln1mz, ln_hyp2f1_unit(a, c - b, c, w))
        };
        return (pre + l, s);
    }
    ln_hyp2f1_unit(a, b, c, z)
}

fn is_nonpos_int(v: f64) -> bool {
    v <= 0.0 && v.fract() == 0.0
}

/// `0 < z < 1`.
fn ln_hyp2f1_unit(a: f64, b: f64, c: f64, z: f64) -> (f64, f64) {
    let terminating = is_nonpos_int(a) || is_nonpos_int(b);
    if !terminating && a + b > c {
        // Terms of the Euler series behave like n^(c-a-b-1) zⁿ instead of n^(a+b-c-1) zⁿ.
        let (l, s) = ln_series(c - a, c - b, c, z);
        return ((c - a - b) * (-z).ln_1p() + l, s);
    }
    ln_series(a, b, c, z)
}

/// The plain power series, `|z| < 1`, returning `(ln |sum|, sign)`.
fn ln_series(a: f64, b: f64, c: f64, z: f64) -> (f64, f64) {
    const BIG: f64 = 1e200;
    let mut scale = 0.0_f64; // sum and term are multiplied by exp(-scale)
    let mut term = 1.0_f64;
    let mut sum = 1.0_f64;
    let mut n = 0.0_f64;
    let mut small_in_row = 0;
    for _ in 0..MAX_TERMS {
        let den = (c + n) * (n + 1.0);
        if den == 0.0 {
            return (f64::NAN, f64::NAN);
        }
        let ratio = (a + n) * (b + n) / den * z;
        term *= ratio;
        n += 1.0;
        if term == 0.0 {
            break; // terminating series
        }
        sum += term;
        if sum.abs() > BIG || term.abs() > BIG {
            sum /= BIG;
            term /= BIG;
            scale += BIG.ln();
        }
        // Once the ratio is below 1 the tail is below |term| * r / (1 - r).
        let r = ratio.abs();
        if r < 1.0 && term.abs() * r / (1.0 - r) <= 1e-17 * sum.abs() {
            small_in_row += 1;
            if small_in_row >= 2 {
                break;
            }
        } else {
            small_in_row = 0;
        }
    }
    if sum == 0.0 {
        return (f64::NEG_INFINITY, 1.0);
    }
    (sum.abs().ln() + scale, sum.signum())
}

/// `G(b, c; z) = 2F1(1, b; c; z) = Σ_n (b)_n / (c)_n zⁿ` with its partial derivatives, for
/// `0 <= b < c` and `0 <= z < 1`, where every term is positive and smaller than the last.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OneBC {
    pub value: f64,
    pub d_b: f64,
    pub d_c: f64,
    pub d_z: f64,
}

/// See [`OneBC`]. The term ratio is `(b+n)/(c+n) z < z`, so the series converges at least
/// geometrically; the derivatives use `∂/∂b ln tₙ = Σ_{k<n} 1/(b+k)`, `∂/∂c ln tₙ = -Σ_{k<n}
/// 1/(c+k)` and `∂/∂z tₙ = n tₙ / z`.
pub(crate) fn one_bc(b: f64, c: f64, z: f64) -> OneBC {
    let mut t = 1.0;
    let mut value = 1.0;
    let (mut sb, mut sc) = (0.0, 0.0);
    let (mut d_b, mut d_c, mut d_z) = (0.0, 0.0, 0.0);
    if z <= 0.0 {
        return OneBC {
            value,
            d_b,
            d_c,
            d_z: b / c,
        };
    }
    let mut n = 0.0;
    let mut converged = false;
    let mut r = 0.0;
    for _ in 0..ONE_BC_MAX_TERMS {
        let q = (b + n) / (c + n);
        let t_over_z = t * q; // t_{n+1} / z
        sb += 1.0 / (b + n);
        sc += 1.0 / (c + n);
        n += 1.0;
        d_z += n * t_over_z;
        t = t_over_z * z;
        value += t;
        d_b += t * sb;
        d_c -= t * sc;
        r = q * z;
        if t * n <= 1e-17 * value * (1.0 - r) {
            converged = true;
            break;
        }
    }
    if !converged {
        // z close to 1: the terms behave like K m^p z^m with p = b - c, so the tail is about
        // t_N N^-p z^-N ∫_{N+1/2}^∞ m^p z^m dm = t_N N^-p z^-N λ^-(p+1) Γ(p+1, λ(N+1/2)),
        // λ = -ln z (Euler-Maclaurin, relative error O(1/N)). FIXME: the 1 - z connection
        // formula would be exact, but its degenerate cases (c - b - 1 an integer) need care.
        let p = b - c;
        let lambda = -z.ln();
        let tail = if p + 1.0 > 0.0 {
            let ln_scale = -p * n.ln() - n * z.ln() - (p + 1.0) * lambda.ln() + ln_gamma(p + 1.0);
            t * ln_scale.exp() * gamma_ur(p + 1.0, lambda * (n + 0.5))
        } else {
            // The sum converges at z = 1; the tail lies between the geometric sums with the
            // ratios r and z.
            0.5 * t * (r / (1.0 - r) + z / (1.0 - z))
        };
        value += tail;
        d_b += tail * sb;
        d_c -= tail * sc;
        d_z += tail * (n + 1.0 / lambda.max(1e-300)) / z;
    }
    OneBC {
        value,
        d_b,
        d_c,
        d_z,
    }
}

/// Most terms [`OneBcSeries`] keeps; rows that need more fall back to [`one_bc`].
const SERIES_TERMS: usize = 1024;

/// [`one_bc`] for many `z` with the same `b` and `c`: the coefficients `(b)_n / (c)_n`, their
/// `b` and `c` derivative factors and the `z` derivative's coefficients are computed once, so
/// that each `z` costs four multiply-adds per term and no division.
pub(crate) struct OneBcSeries {
    b: f64,
    c: f64,
    /// `[Cₙ, Cₙ Σ_{k<n} 1/(b+k), Cₙ Σ_{k<n} 1/(c+k), (n+1) Cₙ₊₁]` with `Cₙ = (b)_n / (c)_n`;
    /// reused from one [`OneBcSeries::prepare`] to the next, so that it allocates only while it
    /// grows.
    coef: Vec<[f64; 4]>,
}

impl OneBcSeries {
    /// An empty series; [`OneBcSeries::prepare`] fills it.
    pub fn new() -> OneBcSeries {
        OneBcSeries {
            b: f64::NAN,
            c: f64::NAN,
            coef: Vec::new(),
        }
    }

    /// Prepares the coefficients for `b`, `c` and every `0 <= z <= z_max` (as far as
    /// [`SERIES_TERMS`] terms reach).
    pub fn prepare(&mut self, b: f64, c: f64, z_max: f64) {
        self.b = b;
        self.c = c;
        let z_max = z_max.clamp(0.0, 1.0);
        let (mut cn, mut sb, mut sc) = (1.0, 0.0, 0.0);
        let mut zp = 1.0;
        self.coef.clear();
        while self.coef.len() < SERIES_TERMS {
            let n = self.coef.len() as f64;
            let q = (b + n) / (c + n);
            let next = cn * q;
            self.coef.push([cn, cn * sb, cn * sc, (n + 1.0) * next]);
            sb += 1.0 / (b + n);
            sc += 1.0 / (c + n);
            cn = next;
            if ((n + 1.0) * next * zp <= 1e-17 * (1.0 - z_max) || next == 0.0)
                && self.coef.len().is_multiple_of(2)
            {
                break;
            }
            zp *= z_max;
        }
    }

    /// `2F1(1, b; c; z)` and its derivatives, as [`one_bc`] computes them.
    pub fn eval(&self, z: f64) -> OneBC {
        if z <= 0.0 {
            return one_bc(self.b, self.c, z);
        }
        // Two terms per step, even and odd in separate sums, so that the additions of
        // consecutive terms do not wait on each other.
        let (mut v0, mut b0, mut c0, mut z0) = (0.0, 0.0, 0.0, 0.0);
        let (mut v1, mut b1, mut c1, mut z1) = (0.0, 0.0, 0.0, 0.0);
        let mut zp = 1.0;
        let z2 = z * z;
        let tol = 1e-17 * (1.0 - z);
        for k in self.coef.chunks_exact(2) {
            let zq = zp * z;
            v0 += k[0][0] * zp;
            b0 += k[0][1] * zp;
            c0 += k[0][2] * zp;
            z0 += k[0][3] * zp;
            v1 += k[1][0] * zq;
            b1 += k[1][1] * zq;
            c1 += k[1][2] * zq;
            z1 += k[1][3] * zq;
            if k[1][3] * zq <= tol * (v0 + v1) {
                return OneBC {
                    value: v0 + v1,
                    d_b: b0 + b1,
                    d_c: -(c0 + c1),
                    d_z: z0 + z1,
                };
            }
            zp *= z2;
        }
        one_bc(self.b, self.c, z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bc_matches_hyp2f1() {
        for &(b, c, z) in &[
            (0.5, 3.0, 0.3),
            (2.0, 2.5, 0.9),
            (10.0, 12.0, 0.0),
            (1.2, 300.0, 0.99),
        ] {
            let g = one_bc(b, c, z);
            let h = hyp2f1(1.0, b, c, z);
            assert!(
                (g.value - h).abs() <= 1e-13 * h,
                "{b} {c} {z}: {} vs {h}",
                g.value
            );
        }
        // Past the term cap, the tail estimate (Pareto/NBD with α << β and t_x = 0).
        for &(b, c, z) in &[(1.6, 2.2, 0.99999), (1.6, 2.2, 0.9999), (1.6, 5.2, 0.99999)] {
            let g = one_bc(b, c, z);
            let h = hyp2f1(1.0, b, c, z);
            assert!(
                (g.value - h).abs() <= 1e-3 * h,
                "{b} {c} {z}: {} vs {h}",
                g.value
            );
        }
    }

    #[test]
    fn one_bc_series_matches_one_bc() {
        let mut series = OneBcSeries::new();
        for &(b, c, z_max) in &[(0.5, 3.0, 0.3), (2.0, 2.5, 0.9), (1.6, 2.2, 0.99999)] {
            series.prepare(b, c, z_max);
            for z in [0.0, 0.1 * z_max, 0.5 * z_max, z_max] {
                let (g, h) = (series.eval(z), one_bc(b, c, z));
                for (u, v) in [
                    (g.value, h.value),
                    (g.d_b, h.d_b),
                    (g.d_c, h.d_c),
                    (g.d_z, h.d_z),
                ] {
                    assert!(
                        (u - v).abs() <= 1e-13 * v.abs().max(1.0),
                        "{b} {c} {z}: {u} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn one_bc_derivatives_match_differences() {
        let (b, c, z) = (1.7, 4.2, 0.6);
        let g = one_bc(b, c, z);
        let h = 1e-6;
        let fd_b = (one_bc(b + h, c, z).value - one_bc(b - h, c, z).value) / (2.0 * h);
        let fd_c = (one_bc(b, c + h, z).value - one_bc(b, c - h, z).value) / (2.0 * h);
        let fd_z = (one_bc(b, c, z + h).value - one_bc(b, c, z - h).value) / (2.0 * h);
        assert!((g.d_b - fd_b).abs() < 1e-7 * fd_b.abs().max(1.0));
        assert!((g.d_c - fd_c).abs() < 1e-7 * fd_c.abs().max(1.0));
        assert!((g.d_z - fd_z).abs() < 1e-7 * fd_z.abs().max(1.0));
    }
}
