//! A small BFGS minimiser for the model fits (dimension 2–4), with an Armijo backtracking line
//! search, several starts and a restart from the best point.
//!
//! The objective is the mean negative log-likelihood as a function of unconstrained
//! log-parameters `u = ln θ`, with an analytic gradient. A non-finite value is treated as "too
//! far": the line search backs off. Written here because argmin is not a dependency; the
//! restart guards against the false "converged" STACK.md §6 item 12 warns about.

use super::{FitOptions, Termination};

/// Objective: writes the gradient into the second argument and returns the value.
pub(crate) type Objective<'a> = dyn Fn(&[f64], &mut [f64]) -> f64 + Sync + 'a;

#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub u: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub termination: Termination,
}

/// Minimises from every start, restarts BFGS from the best point until it stops improving, and
/// returns the best point. `None` if the objective is not finite at any start.
pub(crate) fn minimize(
    f: &Objective<'_>,
    starts: &[Vec<f64>],
    opts: &FitOptions,
) -> Option<Minimum> {
    let mut best: Option<Minimum> = None;
    let mut iterations = 0;
    for u0 in starts {
        let m = bfgs(f, u0, opts);
        iterations += m.iterations;
        if m.value.is_finite() && best.as_ref().is_none_or(|b| m.value < b.value) {
            best = Some(m);
        }
    }
    let mut best = best?;
    // Restart from the best point with a fresh Hessian: a converged run stops at once; a run
    // that stalled on a poor Hessian approximation gets another chance.
    for _ in 0..3 {
        let m = bfgs(f, &best.u, opts);
        iterations += m.iterations;
        let improved = m.value < best.value - 1e-14 * best.value.abs().max(1.0);
        if m.value <= best.value {
            best = Minimum { iterations: 0, ..m };
        }
        if !improved {
            break;
        }
    }
    best.iterations = iterations;
    Some(best)
}

/// One BFGS run on the inverse Hessian approximation.
pub(crate) fn bfgs(f: &Objective<'_>, u0: &[f64], opts: &FitOptions) -> Minimum {
    let n = u0.len();
    let mut u = u0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = f(&u, &mut g);
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Minimum {
            u,
            value: f64::INFINITY,
            iterations: 0,
            termination: Termination::LineSearchFailed,
        };
    }
    let mut h = identity(n);
    let mut fresh = true;
    let mut d = vec![0.0; n];
    let mut un = vec![0.0; n];
    let mut gn = vec![0.0; n];
    let mut s = vec![0.0; n];
    let mut y = vec![0.0; n];
    let mut no_progress = 0;
    for it in 0..opts.max_iters {
        if max_abs(&g) < opts.gradient_tolerance {
            return Minimum {
                u,
                value: fx,
                iterations: it,
                termination: Termination::GradientTolerance,
            };
        }
        for i in 0..n {
            d[i] = -(0..n).map(|j| h[i][j] * g[j]).sum::<f64>();
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 || !slope.is_finite() {
            h = identity(n);
            fresh = true;
            d.iter_mut().zip(&g).for_each(|(di, gi)| *di = -gi);
            slope = dot(&g, &d);
        }
        // Parameters are logarithms: a step of more than a factor e² in one go is never
        // useful, and it sends the likelihood into regions where it is slow to evaluate.
        let longest = max_abs(&d);
        if longest > 2.0 {
            let k = 2.0 / longest;
            d.iter_mut().for_each(|v| *v *= k);
            slope *= k;
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            for i in 0..n {
                un[i] = u[i] + step * d[i];
            }
            let fnew = f(&un, &mut gn);
            if fnew.is_finite()
                && gn.iter().all(|v| v.is_finite())
                && fnew <= fx + 1e-4 * step * slope
            {
                accepted = Some(fnew);
                break;
            }
            // Quadratic interpolation of the step, kept within [0.1, 0.5] of the last.
            let next = if fnew.is_finite() {
                let denom = 2.0 * (fnew - fx - step * slope);
                if denom > 0.0 {
                    -slope * step * step / denom
                } else {
                    0.5 * step
                }
            } else {
                0.2 * step
            };
            step = next.clamp(0.1 * step, 0.5 * step);
        }
        let Some(fnew) = accepted else {
            if fresh {
                // Even a steepest-descent step fails: we are at the minimum within rounding.
                let termination = if max_abs(&g) < 1e3 * opts.gradient_tolerance {
                    Termination::NoProgress
                } else {
                    Termination::LineSearchFailed
                };
                return Minimum {
                    u,
                    value: fx,
                    iterations: it,
                    termination,
                };
            }
            h = identity(n);
            fresh = true;
            continue;
        };
        for i in 0..n {
            s[i] = un[i] - u[i];
            y[i] = gn[i] - g[i];
        }
        let sy = dot(&s, &y);
        if sy > 1e-14 * norm(&s) * norm(&y) && sy > 0.0 {
            if fresh {
                let scale = sy / dot(&y, &y);
                h = identity(n);
                h.iter_mut().enumerate().for_each(|(i, row)| row[i] = scale);
            }
            bfgs_update(&mut h, &s, &y, sy);
            fresh = false;
        }
        let decrease = fx - fnew;
        u.copy_from_slice(&un);
        g.copy_from_slice(&gn);
        fx = fnew;
        if decrease <= 1e-15 * fx.abs().max(1.0) {
            no_progress += 1;
            if no_progress >= 4 {
                return Minimum {
                    u,
                    value: fx,
                    iterations: it + 1,
                    termination: Termination::NoProgress,
                };
            }
        } else {
            no_progress = 0;
        }
    }
    let termination = if max_abs(&g) < opts.gradient_tolerance {
        Termination::GradientTolerance
    } else {
        Termination::MaxIterations
    };
    Minimum {
        u,
        value: fx,
        iterations: opts.max_iters,
        termination,
    }
}

/// `H ← (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ`, `ρ = 1 / sᵀy`.
fn bfgs_update(h: &mut [Vec<f64>], s: &[f64], y: &[f64], sy: f64) {
    let n = s.len();
    let rho = 1.0 / sy;
    let hy: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| h[i][j] * y[j]).sum())
        .collect();
    let yhy = dot(y, &hy);
    for i in 0..n {
        for j in 0..n {
            h[i][j] += -rho * (s[i] * hy[j] + hy[i] * s[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
        }
    }
}

fn identity(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfgs_finds_the_rosenbrock_minimum() {
        let f = |u: &[f64], g: &mut [f64]| {
            let (x, y) = (u[0], u[1]);
            g[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
            g[1] = 200.0 * (y - x * x);
            (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
        };
        let m = minimize(&f, &[vec![-1.2, 1.0]], &FitOptions::default()).expect("finite start");
        assert!(
            (m.u[0] - 1.0).abs() < 1e-6 && (m.u[1] - 1.0).abs() < 1e-6,
            "{:?}",
            m
        );
        assert!(m.termination.converged());
    }
}
