//! Invariants every model must pass (in the spirit of statrs' `check_continuous_distribution`),
//! extreme customers, and clear errors on unusable data.

use crate::models_common::{cdnow_summaries, sbg_cohorts};
use winback_engine::models::{
    BgNbdParams, CustomerSummary, FitError, FitOptions, MbgNbdParams, ModelKind, ParetoNbdParams,
    fit_bgnbd, fit_gamma_gamma, fit_mbgnbd, fit_pareto_nbd, fit_sbg_survivors, fit_summary,
};

/// The three repeat-buying models behind one face, for the shared checks.
trait RepeatModel {
    fn p_alive(&self, c: &CustomerSummary) -> f64;
    fn expected(&self, c: &CustomerSummary, t: f64) -> f64;
    fn cumulative(&self, t: f64) -> f64;
    fn loglik(&self, cs: &[CustomerSummary]) -> f64;
    fn nudged(&self, i: usize, factor: f64) -> Self;
}

macro_rules! repeat_model {
    ($ty:ty, $($get:ident),+) => {
        impl RepeatModel for $ty {
            fn p_alive(&self, c: &CustomerSummary) -> f64 { <$ty>::p_alive(self, c) }
            fn expected(&self, c: &CustomerSummary, t: f64) -> f64 { <$ty>::expected_transactions(self, c, t) }
            fn cumulative(&self, t: f64) -> f64 { <$ty>::expected_cumulative(self, t) }
            fn loglik(&self, cs: &[CustomerSummary]) -> f64 { <$ty>::loglik(self, cs) }
            fn nudged(&self, i: usize, factor: f64) -> Self {
                let mut v = [$(self.$get()),+];
                v[i] *= factor;
                <$ty>::new(v[0], v[1], v[2], v[3]).expect("a nudged positive parameter stays positive")
            }
        }
    };
}
repeat_model!(BgNbdParams, r, alpha, a, b);
repeat_model!(ParetoNbdParams, r, alpha, s, beta);
repeat_model!(MbgNbdParams, r, alpha, a, b);

fn extreme_customers() -> Vec<CustomerSummary> {
    let c = |x, t_x, t| CustomerSummary::new(x, t_x, t, 10.0).expect("valid extreme");
    vec![
        c(0.0, 0.0, 0.0),        // just acquired
        c(0.0, 0.0, 1e-9),       // T near 0
        c(1.0, 1e-9, 1e-9),      // T = t_x near 0
        c(500.0, 39.0, 39.0),    // x in the hundreds, t_x = T
        c(300.0, 0.5, 39.0),     // x in the hundreds long ago
        c(300.0, 1e-3, 1e-3),    // x in the hundreds within a moment
        c(0.0, 0.0, 5000.0),     // very old, never came back
        c(50.0, 4999.0, 5000.0), // very old, still buying
        c(2.0, 30.43, 38.86),    // customer 1 of CDNOW
    ]
}

fn check_model<M: RepeatModel>(name: &str, m: &M, customers: &[CustomerSummary], fitted_ll: f64) {
    let horizons = [0.0, 1e-6, 0.1, 1.0, 5.0, 39.0, 52.0, 200.0, 1000.0];
    for c in customers.iter().chain(&extreme_customers()) {
        let p = m.p_alive(c);
        assert!((0.0..=1.0).contains(&p), "{name}: P(alive) {p} for {c:?}");
        let mut last = 0.0_f64;
        for t in horizons {
            let e = m.expected(c, t);
            assert!(
                e.is_finite() && e >= 0.0,
                "{name}: E[Y({t})] = {e} for {c:?}"
            );
            assert!(
                e >= last - 1e-12 * last.max(1.0),
                "{name}: E[Y] falls at t = {t} ({last} -> {e}) for {c:?}"
            );
            last = e;
        }
        assert!(
            m.loglik(&[*c]).is_finite(),
            "{name}: ln L not finite for {c:?}"
        );
    }
    let mut last = 0.0_f64;
    for t in horizons {
        let e = m.cumulative(t);
        assert!(
            e.is_finite() && e >= last,
            "{name}: E[X({t})] = {e} after {last}"
        );
        last = e;
    }
    // A nudged parameter never beats the fitted log-likelihood.
    for i in 0..4 {
        for factor in [0.999, 1.001, 0.99, 1.01] {
            let ll = m.nudged(i, factor).loglik(customers);
            assert!(
                ll <= fitted_ll + 1e-7,
                "{name}: parameter {i} × {factor} gives {ll} > {fitted_ll}"
            );
        }
    }
}

#[test]
fn fitted_repeat_buying_models_pass_the_invariants() {
    let customers = cdnow_summaries();
    let opts = FitOptions::default();
    let bg = fit_bgnbd(&customers, &opts).expect("fits");
    check_model("BG/NBD", &bg.params, &customers, bg.loglik);
    let pn = fit_pareto_nbd(&customers, &opts).expect("fits");
    check_model("Pareto/NBD", &pn.params, &customers, pn.loglik);
    let mbg = fit_mbgnbd(&customers, &opts).expect("fits");
    check_model("MBG/NBD", &mbg.params, &customers, mbg.loglik);
}

#[test]
fn gamma_gamma_and_sbg_fits_cannot_be_beaten_by_a_nudge() {
    let customers = cdnow_summaries();
    let gg = fit_gamma_gamma(&customers, &FitOptions::default()).expect("fits");
    let p = gg.params;
    for (i, factor) in (0..3).flat_map(|i| [0.999, 1.001].map(|f| (i, f))) {
        let mut v = [p.p(), p.q(), p.gamma()];
        v[i] *= factor;
        let nudged =
            winback_engine::models::GammaGammaParams::new(v[0], v[1], v[2]).expect("positive");
        assert!(nudged.loglik(&customers) <= gg.loglik + 1e-7);
    }
    assert!(p.expected_spend(0.0, 0.0).is_finite() && p.expected_spend(500.0, 1e6).is_finite());
    let (high, _) = sbg_cohorts();
    let fit = fit_sbg_survivors(&high[..=7]).expect("fits");
    let s = fit.params;
    for (a, b) in [(1.001, 1.0), (0.999, 1.0), (1.0, 1.001), (1.0, 0.999)] {
        let nudged =
            winback_engine::models::SbgParams::new(s.alpha() * a, s.beta() * b).expect("positive");
        assert!(nudged.loglik(&high[..=7]) <= fit.loglik + 1e-9);
    }
    let survival: Vec<f64> = (0..50).map(|t| s.survival(t)).collect();
    assert!(survival.windows(2).all(|w| w[1] <= w[0]) && survival[0] == 1.0);
}

#[test]
fn fits_stay_finite_with_extreme_customers_in_the_data() {
    let mut customers = cdnow_summaries();
    customers.extend(extreme_customers());
    let opts = FitOptions::default();
    let bg = fit_bgnbd(&customers, &opts).expect("fits");
    assert!(bg.converged() && bg.loglik.is_finite(), "{bg:?}");
    let pn = fit_pareto_nbd(&customers, &opts).expect("fits");
    assert!(pn.converged() && pn.loglik.is_finite(), "{pn:?}");
    // 300 purchases within 1e-3 weeks pull the maximum to α << β, where 2F1(1, b; c; z) is
    // needed at z within about 1e-4 of 1 for every customer with t_x = 0 (the connection
    // formula): the fit is still a maximum that no nudge of a parameter improves.
    assert!(pn.params.alpha() < 0.01 * pn.params.beta(), "{pn:?}");
    check_model(
        "Pareto/NBD with extremes",
        &pn.params,
        &customers,
        pn.loglik,
    );
    let mbg = fit_mbgnbd(&customers, &opts).expect("fits");
    assert!(mbg.converged() && mbg.loglik.is_finite(), "{mbg:?}");
}

#[test]
fn fits_on_tiny_or_unusable_data_fail_with_a_clear_error() {
    let c = |x, t_x, t| CustomerSummary {
        frequency: x,
        recency: t_x,
        age: t,
        monetary: 1.0,
    };
    let few = vec![c(1.0, 1.0, 2.0); 3];
    assert!(matches!(
        fit_bgnbd(&few, &FitOptions::default()),
        Err(FitError::TooFewCustomers { got: 3, .. })
    ));
    let none = vec![c(0.0, 0.0, 10.0); 50];
    assert_eq!(
        fit_pareto_nbd(&none, &FitOptions::default()),
        Err(FitError::NoRepeaters)
    );
    assert_eq!(
        fit_mbgnbd(&none, &FitOptions::default()),
        Err(FitError::NoRepeaters)
    );
    let mut bad = vec![c(1.0, 1.0, 2.0); 20];
    bad[7] = c(1.0, f64::NAN, 2.0);
    assert!(matches!(
        fit_bgnbd(&bad, &FitOptions::default()),
        Err(FitError::InvalidCustomer { index: 7, .. })
    ));
    bad[7] = c(1.0, 3.0, 2.0);
    assert!(matches!(
        fit_bgnbd(&bad, &FitOptions::default()),
        Err(FitError::InvalidCustomer { index: 7, .. })
    ));
    assert!(fit_sbg_survivors(&[(0, 100.0)]).is_err());
    assert!(fit_sbg_survivors(&[(0, 100.0), (1, 120.0)]).is_err());
    assert!(BgNbdParams::new(0.0, 1.0, 1.0, 1.0).is_err());
    assert!(ParetoNbdParams::new(1.0, f64::INFINITY, 1.0, 1.0).is_err());
}

#[test]
fn model_kinds_parse_and_fit_summary_scores_every_customer() {
    for kind in ModelKind::ALL {
        assert_eq!(ModelKind::parse(kind.as_str()), Ok(kind));
    }
    assert!(ModelKind::parse("arima").is_err());
    let customers = cdnow_summaries();
    for kind in [
        ModelKind::BgNbd,
        ModelKind::ParetoNbd,
        ModelKind::MbgNbd,
        ModelKind::GammaGamma,
    ] {
        let fit = fit_summary(kind, &customers, 39.0).expect("fits");
        assert!(fit.converged, "{kind}");
        let scores = fit.scores(&customers);
        assert_eq!(scores.len(), customers.len());
        assert!(
            scores
                .iter()
                .all(|(p, e)| (0.0..=1.0).contains(p) && e.is_finite() && *e >= 0.0),
            "{kind}"
        );
        for (c, score) in customers.iter().zip(&scores) {
            assert_eq!(fit.score(c), *score, "{kind}: one score as in all scores");
        }
        // The scorers' series prepared per frequency give the direct formulas' values: the
        // same arithmetic for BG/NBD, BG/NBD's with b + 1 for MBG/NBD (equal up to rounding).
        let named = |n: &str| fit.params.iter().find(|(k, _)| *k == n).unwrap().1;
        let (r, alpha) = (|| named("r"), || named("alpha"));
        if kind == ModelKind::BgNbd {
            let p = BgNbdParams::new(r(), alpha(), named("a"), named("b")).unwrap();
            for (c, &(p_alive, expected)) in customers.iter().zip(&scores) {
                assert_eq!(p_alive, p.p_alive(c));
                let direct = p.expected_transactions(c, 39.0);
                assert_eq!(expected, direct, "x {} T {}", c.frequency, c.age);
            }
        }
        if kind == ModelKind::MbgNbd {
            let p = MbgNbdParams::new(r(), alpha(), named("a"), named("b")).unwrap();
            for (c, &(p_alive, expected)) in customers.iter().zip(&scores) {
                assert_eq!(p_alive, p.p_alive(c));
                let direct = p.expected_transactions(c, 39.0);
                assert!(
                    (expected - direct).abs() <= 1e-13 * direct,
                    "x {} T {}: {expected} vs {direct}",
                    c.frequency,
                    c.age
                );
            }
        }
    }
    assert!(fit_summary(ModelKind::Sbg, &customers, 39.0).is_err());
}
