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

/// Iterations every start gets before only the best one goes on.
const SCOUT_ITERS: usize = 8;

/// Minimises from every start, restarts BFGS from the best point until it stops improving, and
/// returns the best point. `None` if the objective is not finite at any start.
///
/// Every start first runs [`SCOUT_ITERS`] iterations; only the best of them (by value) runs on to
/// convergence, keeping its Hessian approximation. Starts that converge within the scouting
/// iterations compete as they are.
pub(crate) fn minimize(
    f: &Objective<'_>,
    starts: &[Vec<f64>],
    opts: &FitOptions,
) -> Option<Minimum> {
    let mut iterations = 0;
    let mut best: Option<Bfgs> = None;
    for u0 in starts {
        let mut run = Bfgs::new(f, u0, None);
        run.run(f, SCOUT_ITERS.min(opts.max_iters), opts);
        iterations += run.iterations;
        if run.fx.is_finite() && best.as_ref().is_none_or(|b| run.fx < b.fx) {
            best = Some(run);
        }
    }
    let mut run = best?;
    let before = run.iterations;
    run.run(f, opts.max_iters, opts);
    iterations += run.iterations - before;
    let mut best = run.minimum();
    restart_until_stuck(f, &mut best, &mut iterations, opts);
    best.iterations = iterations;
    Some(best)
}

/// Restarts from the best point with a fresh Hessian: a converged run stops at once; a run that
/// stalled on a poor Hessian approximation gets another chance.
fn restart_until_stuck(
    f: &Objective<'_>,
    best: &mut Minimum,
    iterations: &mut usize,
    opts: &FitOptions,
) {
    for _ in 0..3 {
        let m = bfgs(f, &best.u, opts);
        *iterations += m.iterations;
        let improved = m.value < best.value - 1e-14 * best.value.abs().max(1.0);
        if m.value <= best.value {
            *best = Minimum { iterations: 0, ..m };
        }
        if !improved {
            break;
        }
    }
}

/// Polishes a point found on a subsample on the full objective: BFGS that starts from the inverse
/// Hessian `h0` (of the subsample's mean objective, which estimates the full one), so that it
/// takes near-Newton steps from the first iteration. Falls back to [`minimize`] from that point
/// when the polish does not converge.
pub(crate) fn polish(
    f: &Objective<'_>,
    u0: &[f64],
    h0: Option<Vec<Vec<f64>>>,
    opts: &FitOptions,
) -> Option<Minimum> {
    let mut run = Bfgs::new(f, u0, h0);
    run.run(f, opts.max_iters, opts);
    let m = run.minimum();
    if m.value.is_finite() && m.termination.converged() {
        return Some(m);
    }
    let mut again = minimize(f, std::slice::from_ref(&m.u), opts)?;
    again.iterations += m.iterations;
    Some(if again.value <= m.value { again } else { m })
}

/// The inverse of the Hessian of `f` at `u`, by central differences of the analytic gradient
/// (`2n` evaluations), symmetrised. `None` unless it is positive definite.
#[allow(clippy::needless_range_loop)] // matrix code reads best with indices
pub(crate) fn inverse_hessian(f: &Objective<'_>, u: &[f64]) -> Option<Vec<Vec<f64>>> {
    let n = u.len();
    let h = 1e-4;
    let mut hess = vec![vec![0.0; n]; n];
    let mut up = u.to_vec();
    let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        up[j] = u[j] + h;
        let fp = f(&up, &mut gp);
        up[j] = u[j] - h;
        let fm = f(&up, &mut gm);
        up[j] = u[j];
        if !(fp.is_finite() && fm.is_finite()) {
            return None;
        }
        for i in 0..n {
            hess[i][j] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (hess[i][j] + hess[j][i]);
            hess[i][j] = m;
            hess[j][i] = m;
        }
    }
    invert_spd(&hess)
}

/// Inverse of a symmetric positive definite matrix by Cholesky; `None` if it is not.
#[allow(clippy::needless_range_loop)] // matrix code reads best with indices
fn invert_spd(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    // Columns of L⁻¹, then A⁻¹ = L⁻ᵀ L⁻¹.
    let mut li = vec![vec![0.0; n]; n];
    for c in 0..n {
        for i in c..n {
            let s: f64 =
                (if i == c { 1.0 } else { 0.0 }) - (c..i).map(|k| l[i][k] * li[k][c]).sum::<f64>();
            li[i][c] = s / l[i][i];
        }
    }
    let mut inv = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            inv[i][j] = (i.max(j)..n).map(|k| li[k][i] * li[k][j]).sum();
        }
    }
    Some(inv)
}

/// One BFGS run on the inverse Hessian approximation.
pub(crate) fn bfgs(f: &Objective<'_>, u0: &[f64], opts: &FitOptions) -> Minimum {
    let mut run = Bfgs::new(f, u0, None);
    run.run(f, opts.max_iters, opts);
    run.minimum()
}

/// The state of a BFGS run, so that a run can be paused and resumed with its Hessian.
struct Bfgs {
    u: Vec<f64>,
    g: Vec<f64>,
    fx: f64,
    h: Vec<Vec<f64>>,
    fresh: bool,
    no_progress: usize,
    iterations: usize,
    done: Option<Termination>,
}

impl Bfgs {
    fn new(f: &Objective<'_>, u0: &[f64], h0: Option<Vec<Vec<f64>>>) -> Bfgs {
        let n = u0.len();
        let u = u0.to_vec();
        let mut g = vec![0.0; n];
        let fx = f(&u, &mut g);
        let bad = !fx.is_finite() || g.iter().any(|v| !v.is_finite());
        let fresh = h0.is_none();
        Bfgs {
            u,
            g,
            fx: if bad { f64::INFINITY } else { fx },
            h: h0.unwrap_or_else(|| identity(n)),
            fresh,
            no_progress: 0,
            iterations: 0,
            done: bad.then_some(Termination::LineSearchFailed),
        }
    }

    fn minimum(&self) -> Minimum {
        // A run paused before it was done stopped with the gradient above the tolerance.
        let termination = self.done.unwrap_or(Termination::MaxIterations);
        Minimum {
            u: self.u.clone(),
            value: self.fx,
            iterations: self.iterations,
            termination,
        }
    }

    /// Runs until done or until `max_iters` iterations in all.
    fn run(&mut self, f: &Objective<'_>, max_iters: usize, opts: &FitOptions) {
        let n = self.u.len();
        let mut d = vec![0.0; n];
        let mut un = vec![0.0; n];
        let mut gn = vec![0.0; n];
        let mut s = vec![0.0; n];
        let mut y = vec![0.0; n];
        while self.done.is_none() {
            if max_abs(&self.g) < opts.gradient_tolerance {
                self.done = Some(Termination::GradientTolerance);
                break;
            }
            if self.iterations >= max_iters {
                if self.iterations >= opts.max_iters {
                    self.done = Some(Termination::MaxIterations);
                }
                break;
            }
            let (u, g, h) = (&self.u, &self.g, &self.h);
            for i in 0..n {
                d[i] = -(0..n).map(|j| h[i][j] * g[j]).sum::<f64>();
            }
            let mut slope = dot(g, &d);
            if slope >= 0.0 || !slope.is_finite() {
                self.h = identity(n);
                self.fresh = true;
                d.iter_mut().zip(g).for_each(|(di, gi)| *di = -gi);
                slope = dot(g, &d);
            }
            // Parameters are logarithms: a step of more than a factor e² in one go is never
            // useful, and it sends the likelihood into regions where it is slow to evaluate.
            let longest = max_abs(&d);
            if longest > 2.0 {
                let k = 2.0 / longest;
                d.iter_mut().for_each(|v| *v *= k);
                slope *= k;
            }
            let fx = self.fx;
            let mut step = 1.0;
            let mut accepted = None;
            for _ in 0..60 {
                for i in 0..n {
                    un[i] = u[i] + step * d[i];
                }
                let fnew = f(&un, &mut gn);
                if fnew.is_finite() && gn.iter().all(|v| v.is_finite()) {
                    // Armijo; or, within rounding noise of the value, a smaller gradient (near
                    // the minimum of a sum over a million rows the decrease drowns in rounding).
                    let noise = 1e-14 * fx.abs().max(1.0);
                    if fnew <= fx + 1e-4 * step * slope
                        || (fnew <= fx + noise && max_abs(&gn) < 0.5 * max_abs(g))
                    {
                        accepted = Some(fnew);
                        break;
                    }
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
                if self.fresh {
                    // Even a steepest-descent step fails: we are at the minimum within rounding.
                    self.done = Some(if max_abs(g) < 1e3 * opts.gradient_tolerance {
                        Termination::NoProgress
                    } else {
                        Termination::LineSearchFailed
                    });
                    break;
                }
                self.h = identity(n);
                self.fresh = true;
                self.iterations += 1;
                continue;
            };
            for i in 0..n {
                s[i] = un[i] - u[i];
                y[i] = gn[i] - g[i];
            }
            let sy = dot(&s, &y);
            if sy > 1e-14 * norm(&s) * norm(&y) && sy > 0.0 {
                if self.fresh {
                    let scale = sy / dot(&y, &y);
                    self.h = identity(n);
                    self.h
                        .iter_mut()
                        .enumerate()
                        .for_each(|(i, row)| row[i] = scale);
                }
                bfgs_update(&mut self.h, &s, &y, sy);
                self.fresh = false;
            }
            let decrease = fx - fnew;
            self.u.copy_from_slice(&un);
            self.g.copy_from_slice(&gn);
            self.fx = fnew;
            self.iterations += 1;
            if decrease <= 1e-15 * fnew.abs().max(1.0) {
                self.no_progress += 1;
                if self.no_progress >= 4 {
                    self.done = Some(Termination::NoProgress);
                }
            } else {
                self.no_progress = 0;
            }
        }
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
