//! Fits every model on the CDNOW sample summary and prints parameters, log-likelihoods and times.
//! Run with `cargo run --release -p winback-engine --example fit_cdnow`.

use std::time::Instant;

use winback_engine::models::{
    FitOptions, fit_bgnbd, fit_gamma_gamma, fit_mbgnbd, fit_pareto_nbd, fit_sbg_survivors,
};

/// The tests' loaders of the data in `tests/data/` (one copy for tests and examples).
#[path = "../tests/it/models_common.rs"]
mod models_common;

fn main() {
    let customers = models_common::cdnow_summaries();
    let opts = FitOptions::default();
    let t0 = Instant::now();
    let bg = fit_bgnbd(&customers, &opts).expect("fit");
    println!(
        "BG/NBD     {:?} ll={:.6} iters={} {:?} in {:?}",
        bg.params.named(),
        bg.loglik,
        bg.iterations,
        bg.termination,
        t0.elapsed()
    );
    let t0 = Instant::now();
    let pn = fit_pareto_nbd(&customers, &opts).expect("fit");
    println!(
        "Pareto/NBD {:?} ll={:.6} iters={} {:?} in {:?}",
        pn.params.named(),
        pn.loglik,
        pn.iterations,
        pn.termination,
        t0.elapsed()
    );
    let t0 = Instant::now();
    let mbg = fit_mbgnbd(&customers, &opts).expect("fit");
    println!(
        "MBG/NBD    {:?} ll={:.6} iters={} {:?} in {:?}",
        mbg.params.named(),
        mbg.loglik,
        mbg.iterations,
        mbg.termination,
        t0.elapsed()
    );
    let t0 = Instant::now();
    let gg = fit_gamma_gamma(&customers, &opts).expect("fit");
    println!(
        "GammaGamma {:?} ll={:.6} iters={} {:?} in {:?}",
        gg.params.named(),
        gg.loglik,
        gg.iterations,
        gg.termination,
        t0.elapsed()
    );
    let high: Vec<(u32, f64)> = [1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0]
        .iter()
        .enumerate()
        .map(|(i, v)| (i as u32, *v))
        .collect();
    let reg: Vec<(u32, f64)> = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0]
        .iter()
        .enumerate()
        .map(|(i, v)| (i as u32, *v))
        .collect();
    for (name, data) in [("high-end", high), ("regular", reg)] {
        let f = fit_sbg_survivors(&data).expect("fit");
        println!(
            "sBG {name} {:?} ll={:.6} {:?}",
            f.params.named(),
            f.loglik,
            f.termination
        );
    }
    let c1 = customers[0];
    println!(
        "customer 1 BG/NBD fitted: p_alive={:.4} E[Y(39)]={:.4}",
        bg.params.p_alive(&c1),
        bg.params.expected_transactions(&c1, 39.0)
    );
    let holdout: f64 = customers
        .iter()
        .map(|c| bg.params.expected_transactions(c, 39.0))
        .sum();
    let holdout_pn: f64 = customers
        .iter()
        .map(|c| pn.params.expected_transactions(c, 39.0))
        .sum();
    println!("sum E[Y(39)]: BG/NBD {holdout:.1}, Pareto/NBD {holdout_pn:.1} (observed 1882)");
    let cum = |f: &dyn Fn(f64) -> f64| {
        customers
            .iter()
            .map(|c| f(c.age + 274.0 / 7.0))
            .sum::<f64>()
    };
    println!(
        "cum week 78: BG {:.1} PN {:.1} MBG {:.1}",
        cum(&|t| bg.params.expected_cumulative(t)),
        cum(&|t| pn.params.expected_cumulative(t)),
        cum(&|t| mbg.params.expected_cumulative(t))
    );
}
