//! Special functions and single-customer likelihoods at their hard edges, against reference
//! values computed with Python mpmath 1.3 at 40 digits (`mp.dps = 40`; `hyp2f1`, `hyperu`,
//! and the Pareto/NBD likelihood by `quad` over the drop-out time from first principles, on
//! geometric panels, agreeing with the 2F1 closed form to 1e-15).

use winback_engine::models::prec::{SPECIAL_REL, rel_eq};
use winback_engine::models::special::hyp2f1;
use winback_engine::models::{CustomerSummary, ParetoNbdParams};

#[test]
#[allow(clippy::excessive_precision)] // reference values are pasted with all mpmath digits
fn hyp2f1_matches_mpmath_at_the_edges() {
    // (a, b, c, z, 2F1): small z, z < 0 (Pfaff), z -> 1 (Euler), huge parameters (x in the
    // hundreds), a terminating series, c - a - b = 0 (log singularity), z = -1000.
    let table: &[(f64, f64, f64, f64, f64)] = &[
        (1.0, 1.0, 2.0, 0.5, 1.3862943611198906188),
        (0.5, 2.0, 3.5, -0.9, 8.1884291921273430979e-1),
        (0.243, 2.426, 2.219, 0.5, 1.2070970070440423133),
        (0.243, 2.426, 2.219, 0.95, 2.4461866770309916718),
        (0.243, 2.426, 2.219, 0.999, 1.109650428868049392e+1),
        (1.5, 0.7, 2.3, -50.0, 1.0308074522788328569e-1),
        (2.5, 3.5, 1.5, 0.9, 6.9570108523704415755e+4),
        (-3.0, 2.0, 1.5, 0.4, 5.0971428571428548387e-2),
        (0.5, 0.5, 1.5, 0.99, 1.4780376623747747643),
        (1.0, 1.0, 2.0, 0.9999, 9.2112614981261053793),
        (300.0, 1.6, 301.0, 0.999, 1.5122338578533681747e+4),
        (300.24, 302.4, 302.2, 0.3, 3.456015030697695387e+46),
        (300.24, 302.4, 302.2, 0.05, 4.9282400443768298665e+6),
        (2.243, 4.426, 6.219, 0.45, 2.4804886408389296666),
        (0.553, 1.606, 2.159, 1e-10, 1.0000000000411356183),
        (10.5, 0.5, 11.5, -1000.0, 3.3185484361610965218e-2),
        (1.0, 0.25, 3.0, -0.999, 9.3503954469401787333e-1),
        (5.5, 6.5, 3.25, 0.75, 5.7693901349763010683e+5),
        (0.1, 0.2, 0.3, -0.5, 9.7305824614137901852e-1),
        (1.0, 2.5, 1.5, 0.995, 2.6733333333333285905e+4),
        (150.5, 1.6, 152.1, 0.9, 3.4744968910237178727e+1),
        (0.7, 0.8, 40.0, 0.99999, 1.0145564966141710305),
    ];
    for &(a, b, c, z, want) in table {
        let got = hyp2f1(a, b, c, z);
        // Near z = 1 with slowly decaying terms the sum loses a few digits to rounding.
        let tol = if z > 0.999 { 1e-9 } else { SPECIAL_REL };
        assert!(
            rel_eq(got, want, tol),
            "2F1({a}, {b}; {c}; {z}) = {got}, want {want}"
        );
    }
}

#[test]
fn hyp2f1_is_nan_outside_its_domain() {
    assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_nan());
    assert!(hyp2f1(1.0, 1.0, 2.0, f64::NAN).is_nan());
    assert_eq!(hyp2f1(1.0, 1.0, 2.0, 0.0), 1.0);
}

#[test]
#[allow(clippy::excessive_precision)]
fn pareto_nbd_single_customers_match_mpmath() {
    // Published CDNOW maximum; (x, t_x, T, ln L, P(alive), DERT at δ = ln(1.15)/52).
    let p = ParetoNbdParams::new(0.553277, 10.577683, 0.606240, 11.668736).expect("valid");
    let delta = 1.15_f64.ln() / 52.0;
    let table: &[(f64, f64, f64, f64, f64, f64)] = &[
        (
            2.0,
            30.428571428571429,
            38.857142857142857,
            -9.5541735858469587442,
            0.86913426357268659494,
            6.5003517167021436599,
        ),
        (
            0.0,
            0.0,
            38.857142857142857,
            -0.52119298290308161465,
            0.29511258431419197982,
            0.478280194731993793,
        ),
        (
            300.0,
            30.0,
            39.0,
            293.16756819721051879,
            3.223279114796910754e-24,
            2.8326969977992187129e-21,
        ),
        (
            5.0,
            10.0,
            10.0,
            -12.294891025503977954,
            1.0,
            27.316985550255124862,
        ),
        (
            1.0,
            0.1,
            0.2,
            -2.9848736894377659351,
            0.99484656564534783974,
            10.955441399451930833,
        ),
        (
            50.0,
            1.0,
            500.0,
            19.176720119018927271,
            7.2214153169638345664e-83,
            2.0353399388022216325e-81,
        ),
    ];
    for &(x, t_x, big_t, ln_l, p_alive, dert) in table {
        let c = CustomerSummary::new(x, t_x, big_t, 0.0).expect("valid");
        let got = p.loglik(&[c]);
        assert!(
            (got - ln_l).abs() < 1e-10 * ln_l.abs().max(1.0),
            "ln L({x}, {t_x}, {big_t}) = {got}, want {ln_l}"
        );
        assert!(
            rel_eq(p.p_alive(&c), p_alive, 1e-9),
            "P(alive) {} vs {p_alive}",
            p.p_alive(&c)
        );
        assert!(
            rel_eq(p.dert(&c, delta), dert, 1e-8),
            "DERT {} vs {dert}",
            p.dert(&c, delta)
        );
    }
    // α > β takes the other branch of the likelihood.
    let p = ParetoNbdParams::new(0.8, 20.0, 1.3, 0.5).expect("valid");
    let table: &[(f64, f64, f64, f64, f64)] = &[
        (
            2.0,
            20.0,
            38.0,
            -13.019520609284895039,
            0.29070742317553800549,
        ),
        (
            0.0,
            0.0,
            10.0,
            -0.034660168271769124926,
            0.014298636623790156068,
        ),
        (
            120.0,
            35.0,
            36.0,
            -32.616391053721123573,
            0.88254915033500603307,
        ),
    ];
    for &(x, t_x, big_t, ln_l, p_alive) in table {
        let c = CustomerSummary::new(x, t_x, big_t, 0.0).expect("valid");
        let got = p.loglik(&[c]);
        assert!(
            (got - ln_l).abs() < 1e-10 * ln_l.abs().max(1.0),
            "ln L({x}, {t_x}, {big_t}) = {got}, want {ln_l}"
        );
        assert!(
            rel_eq(p.p_alive(&c), p_alive, 1e-9),
            "P(alive) {} vs {p_alive}",
            p.p_alive(&c)
        );
    }
}
