//! Fit times at CDNOW size and at 1,000,000 customers, for BENCHMARKS.md.
//! Run with `cargo run --release -p winback-engine --example fit_speed`.
//!
//! The 1M data replicate the CDNOW summary 425 times. "day jitter": replica k ends its
//! calibration `(k mod 7) - 3` days later (T moves by that many days, at least to t_x; x and
//! t_x stay, so the data keep CDNOW's shape and the same maximum) — real data have day
//! resolution, so identical (x, t_x, T) rows are aggregated. "continuous jitter": T also gets a
//! deterministic sub-day offset, so (almost) no two rows are identical: the worst case.

use std::time::Instant;

use winback_engine::models::{
    CustomerSummary, FitOptions, ModelKind, fit_bgnbd, fit_pareto_nbd, fit_summary,
};

/// The tests' loaders of the data in `tests/data/` (one copy for tests and examples).
#[path = "../tests/it/models_common.rs"]
mod models_common;

fn replicate(base: &[CustomerSummary], n: usize, continuous: bool) -> Vec<CustomerSummary> {
    (0..n)
        .map(|i| {
            let (k, c) = (i / base.len(), base[i % base.len()]);
            let mut extra = ((k % 7) as f64 - 3.0) / 7.0;
            if continuous {
                extra += ((i as f64 * 0.618_033_988_749_895) % 1.0 - 0.5) / 7.0;
            }
            CustomerSummary {
                age: (c.age + extra).max(c.recency),
                ..c
            }
        })
        .collect()
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let t0 = Instant::now();
    let out = f();
    println!("{label:<46} {:>9.3} s", t0.elapsed().as_secs_f64());
    out
}

fn main() {
    let opts = FitOptions::default();
    let base = models_common::cdnow_summaries();
    let bg = time("BG/NBD fit, CDNOW (2,357)", || {
        fit_bgnbd(&base, &opts).expect("fit")
    });
    println!("  loglik {:.4}, {:?}", bg.loglik, bg.termination);
    let pn = time("Pareto/NBD fit, CDNOW (2,357)", || {
        fit_pareto_nbd(&base, &opts).expect("fit")
    });
    println!("  loglik {:.4}, {:?}", pn.loglik, pn.termination);
    for continuous in [false, true] {
        let big = replicate(&base, 1_000_000, continuous);
        let label = if continuous {
            "continuous jitter"
        } else {
            "day jitter"
        };
        let bg = time(&format!("BG/NBD fit, 1M, {label}"), || {
            fit_bgnbd(&big, &opts).expect("fit")
        });
        println!(
            "  loglik {:.2} (per customer {:.6}), {:?}",
            bg.loglik,
            bg.loglik / 1e6,
            bg.termination
        );
        let pn = time(&format!("Pareto/NBD fit, 1M, {label}"), || {
            fit_pareto_nbd(&big, &opts).expect("fit")
        });
        println!(
            "  loglik {:.2} (per customer {:.6}), {:?}",
            pn.loglik,
            pn.loglik / 1e6,
            pn.termination
        );
        let s = time(
            &format!("BG/NBD fit + score (fit_summary), 1M, {label}"),
            || {
                let fit = fit_summary(ModelKind::BgNbd, &big, 39.0).expect("fit");
                fit.scores(&big)
            },
        );
        println!("  scored {} customers", s.len());
    }
}
