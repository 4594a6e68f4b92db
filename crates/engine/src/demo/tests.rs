//! Tests of the demo company: determinism, independence, the invariants every export must
//! satisfy, and that each planted story is visible in the data.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::records::{CustomerRef, Satisfaction};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
}

fn demo(customers: u64, seed: u64, b2b: bool) -> Demo {
    Demo::new(DemoConfig::new(customers, seed, b2b, as_of()))
}

#[test]
fn the_same_seed_gives_the_same_customer_and_another_seed_another() {
    let a = demo(100, 7, false);
    let b = demo(100, 7, false);
    for idx in [0, 1, 42, 99] {
        assert_eq!(a.customer(idx), b.customer(idx));
    }
    assert_eq!(a.products(), b.products());
    assert_eq!(a.staff(), b.staff());
    let other = demo(100, 8, false);
    assert_ne!(a.customer(42), other.customer(42));
    assert_ne!(a.products(), other.products());
}

#[test]
fn a_customer_does_not_depend_on_which_others_were_generated() {
    let fresh = demo(1000, 3, true).customer(5);
    let busy = demo(1000, 3, true);
    for idx in (0..200).rev() {
        busy.customer(idx);
    }
    assert_eq!(busy.customer(5), fresh);
    // Nor on the configured number of customers.
    assert_eq!(demo(10, 3, true).customer(5), fresh);
}

#[test]
fn truth_lines_have_as_many_fields_as_the_header() {
    let d = demo(500, 1, false);
    let fields = Truth::CSV_HEADER.split(',').count();
    for c in d.customers() {
        let line = c.truth.to_csv_line();
        assert_eq!(line.split(',').count(), fields, "{line}");
        assert!(line.starts_with(&format!("{},", c.customer.external_id)));
    }
    let lost = d
        .customers()
        .find(|c| c.truth.status == TruthStatus::Lost)
        .unwrap();
    let line = lost.truth.to_csv_line();
    let lost_on = lost.truth.lost_on.unwrap().format("%Y-%m-%d").to_string();
    assert!(line.contains(",lost,") && line.contains(&lost_on), "{line}");
}

#[test]
fn staff_and_products_are_plausible() {
    let d = demo(10_000, 1, true);
    let staff = d.staff();
    let emails: HashSet<_> = staff.iter().map(|s| s.email.as_str()).collect();
    assert_eq!(emails.len(), staff.len());
    assert!(staff.iter().filter(|s| s.role == Role::Sales).count() >= 4);
    assert!(staff.iter().all(|s| s.email.ends_with("@example.com")));
    let products = d.products();
    assert!(products.len() >= 100);
    assert!(products.iter().any(|p| p.delisted_on.is_some()));
    assert!(
        products
            .iter()
            .all(|p| p.delisted_on.is_none_or(|d| d <= as_of()))
    );
    // Every account owner is a member of staff.
    for c in d.customers().take(300) {
        let owner = c
            .customer
            .account_owner
            .expect("business customers have an owner");
        assert!(emails.contains(owner.as_str()));
    }
}

/// Aggregates over many customers, for the checks that hold on average.
#[derive(Default)]
struct Tally {
    customers: u64,
    status: HashMap<&'static str, u64>,
    orders: u64,
    lines: u64,
    discounted_plain: u64,
    orders_plain: u64,
    gross: i64,
    margin: i64,
    fade_outs: u64,
    fade_gaps_grow: u64,
    fade_baskets_shrink: u64,
    kinds: HashSet<&'static str>,
    causes: HashSet<&'static str>,
}

fn days(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}

fn mean(xs: &[i64]) -> f64 {
    xs.iter().sum::<i64>() as f64 / xs.len().max(1) as f64
}

/// Checks one customer against every invariant; panics with the customer's id.
fn check(
    d: &Demo,
    products: &HashMap<String, ProductRecord>,
    c: &DemoCustomer,
    first_order: &HashMap<String, NaiveDate>,
    t: &mut Tally,
) {
    let id = c.customer.external_id.as_str();
    let a = as_of();
    let me = CustomerRef::ExternalId(id.to_string());
    let b2b = d.config().b2b;
    let shipping = if b2b { 990 } else { 495 };

    assert!(!c.orders.is_empty(), "{id}: no orders");
    let created = c.customer.created_at.unwrap();
    let first = c.orders[0].ordered_at;
    let history_start = a
        .checked_sub_months(Months::new(12 * d.config().history_years))
        .unwrap();
    assert!(
        created.date_naive() >= history_start,
        "{id}: created {created} before the history"
    );
    assert!(
        created <= first && created.date_naive() == first.date_naive(),
        "{id}: created {created} vs first order {first}"
    );
    let email = c.customer.email.as_deref().unwrap();
    assert!(
        ["@example.de", "@example.com", "@example.org"]
            .iter()
            .any(|d| email.ends_with(d)),
        "{id}: {email}"
    );
    assert!(
        email.is_ascii() && email == email.to_lowercase(),
        "{id}: {email}"
    );
    assert!(
        c.customer
            .phone
            .as_deref()
            .is_none_or(|p| p.starts_with("+49 "))
    );

    // Orders and lines.
    let mut by_order: HashMap<&str, Vec<&OrderLineRecord>> = HashMap::new();
    for l in &c.lines {
        by_order
            .entry(l.order_external_id.as_str())
            .or_default()
            .push(l);
    }
    for (i, o) in c.orders.iter().enumerate() {
        assert_eq!(o.customer, me);
        let day = o.ordered_at.date_naive();
        assert!(day <= a, "{id}: order after as-of");
        if i > 0 {
            assert!(
                c.orders[i - 1].ordered_at.date_naive() <= day,
                "{id}: orders out of order"
            );
        }
        if let Some(delivered) = o.delivered_on {
            assert!(
                delivered > day && delivered <= a,
                "{id}: delivered {delivered} for order of {day}"
            );
        }
        assert!(
            !(o.cancelled && o.delivered_on.is_some()),
            "{id}: a cancelled order was delivered"
        );
        let lines = &by_order[o.external_id.as_str()];
        for (j, l) in lines.iter().enumerate() {
            assert_eq!(l.line_no as usize, j + 1);
            assert!(l.quantity >= 1 && l.unit_price.cents() > 0 && l.discount.cents() >= 0);
            assert!(l.discount.cents() <= l.unit_price.cents() * l.quantity);
            let p = &products[l.sku.as_deref().unwrap()];
            assert!(
                p.delisted_on.is_none_or(|d| day < d),
                "{id}: {} sold after its delisting",
                p.sku
            );
        }
        let net: i64 = lines
            .iter()
            .map(|l| l.unit_price.cents() * l.quantity - l.discount.cents())
            .sum();
        let discount: i64 = lines.iter().map(|l| l.discount.cents()).sum();
        assert_eq!(
            discount,
            o.discount.cents(),
            "{id}: line discounts vs order discount"
        );
        let fee = o.gross.cents() - net;
        assert!(
            fee == 0 || fee == shipping,
            "{id}: gross {} vs lines {net}",
            o.gross
        );
        let margin = o.margin.unwrap().cents();
        assert!(
            margin < o.gross.cents(),
            "{id}: margin {margin} not below gross {}",
            o.gross
        );
        assert_eq!(o.cost.unwrap().cents(), o.gross.cents() - margin);
        t.orders += 1;
        t.lines += lines.len() as u64;
        t.gross += o.gross.cents();
        t.margin += margin;
        if !c.truth.bargain_hunter && i > 0 {
            t.orders_plain += 1;
            t.discounted_plain += (o.discount.cents() > 0) as u64;
        }
    }
    let last = c.orders.last().unwrap();
    let last_day = last.ordered_at.date_naive();

    // Complaints, contracts, consents, referrals.
    for x in &c.complaints {
        assert_eq!(x.customer, me);
        assert!(x.opened_at.date_naive() <= a);
        let order = c
            .orders
            .iter()
            .find(|o| Some(&o.external_id) == x.order_external_id.as_ref())
            .expect("complaint about an order of the customer");
        assert!(order.ordered_at < x.opened_at);
        if let Some(r) = x.first_response_at {
            assert!(r > x.opened_at && r.date_naive() <= a);
        }
        if let Some(r) = x.resolved_at {
            assert!(r > x.first_response_at.unwrap() && r.date_naive() <= a);
        }
    }
    for x in &c.contracts {
        assert_eq!(x.customer, me);
        assert!(
            x.started_on <= a && x.ends_on.is_none_or(|e| e > x.started_on),
            "{id}: {x:?}"
        );
        assert!(
            x.cancellation_received_at
                .is_none_or(|r| r.date_naive() <= a && r.date_naive() > x.started_on)
        );
    }
    for x in &c.consents {
        assert_eq!(x.customer, me);
        assert!(
            x.recorded_at.date_naive() <= a && x.recorded_at >= created,
            "{id}: consent at {}",
            x.recorded_at
        );
    }
    if let Some(by) = &c.truth.referred_by {
        let r = &c.referrals[0];
        assert_eq!(r.referrer, CustomerRef::ExternalId(by.clone()));
        assert_eq!(r.referred, me);
        assert!(by.as_str() < id, "{id}: referred by the later {by}");
        let referrer_first = first_order[by];
        assert!(
            referrer_first < r.referred_on && r.referred_on == created.date_naive(),
            "{id}: referred before {by} bought"
        );
        assert!(
            r.thanked_at
                .is_none_or(|t| t.date_naive() <= a && t.date_naive() > r.referred_on)
        );
    } else {
        assert!(c.referrals.is_empty());
    }

    // The planted truth.
    let truth = &c.truth;
    *t.status.entry(truth.status.as_str()).or_default() += 1;
    if let Some(k) = truth.loss_kind {
        t.kinds.insert(k.as_str());
    }
    if let Some(cause) = truth.cause {
        t.causes.insert(cause.as_str());
    }
    let silence = days(last_day, a);
    match truth.status {
        TruthStatus::Active => {
            assert!(
                truth.lost_on.is_none() && truth.returns_on.is_none() && truth.loss_kind.is_none()
            );
        }
        TruthStatus::Sleeping => {
            assert!(
                truth.returns_on.is_some_and(|r| r > a),
                "{id}: sleeper without a return"
            );
            assert!(silence >= 90, "{id}: sleeper bought {silence} days ago");
        }
        TruthStatus::Lost => {
            let lost = truth
                .lost_on
                .unwrap_or_else(|| panic!("{id}: lost without lost_on"));
            assert!(
                lost <= a && days(last_day, lost) >= -14,
                "{id}: ordered {last_day} after being lost on {lost}"
            );
            assert!(silence >= 60, "{id}: lost but bought {silence} days ago");
        }
        TruthStatus::AtRisk => {
            assert!(truth.lost_on.is_none());
        }
    }
    let limit = truth.lost_on.unwrap_or(a);
    match truth.cause {
        Some(Cause::LateDeliveries) => {
            for o in &c.orders[c.orders.len() - 2..] {
                let late = days(
                    o.delivery_promised_on.unwrap(),
                    o.delivered_on.expect("late orders arrive"),
                );
                assert!(
                    late >= 5,
                    "{id}: one of the last orders only {late} days late"
                );
            }
        }
        Some(Cause::UnresolvedComplaint) => {
            assert!(
                c.complaints.iter().any(|x| x.satisfied == Satisfaction::No
                    && (0..=60).contains(&days(x.opened_at.date_naive(), limit))
                    && x.first_response_at
                        .is_none_or(|r| (r - x.opened_at).num_days() >= 2)),
                "{id}: no unsatisfied complaint within 60 days before {limit}"
            );
        }
        Some(Cause::DelistedFavourite) => {
            let mut counts: HashMap<&str, u32> = HashMap::new();
            for o in &c.orders {
                let skus: HashSet<&str> = by_order[o.external_id.as_str()]
                    .iter()
                    .map(|l| l.sku.as_deref().unwrap())
                    .collect();
                for s in skus {
                    *counts.entry(s).or_default() += 1;
                }
            }
            assert!(
                counts.iter().any(|(s, n)| *n >= 3
                    && products[*s]
                        .delisted_on
                        .is_some_and(|d| d <= limit && days(d, limit) <= 31)),
                "{id}: no favourite bought three times and delisted shortly before {limit}"
            );
        }
        Some(Cause::PriceIncrease) if truth.loss_kind == Some(LossKind::SilentDefector) => {
            let mut seen: HashMap<&str, i64> = HashMap::new();
            let mut rise = false;
            for l in &c.lines {
                let sku = l.sku.as_deref().unwrap();
                let old = *seen.entry(sku).or_insert(l.unit_price.cents());
                rise |= l.unit_price.cents() * 10 >= old * 11;
            }
            assert!(
                rise,
                "{id}: no price rise of 10 % visible in the order lines"
            );
        }
        Some(Cause::Insolvency) => {
            assert!(
                truth.insolvent && last.cancelled,
                "{id}: insolvent without payment trouble"
            );
        }
        _ => {}
    }
    match (truth.loss_kind, truth.status) {
        (Some(LossKind::LoudCanceller), status) => {
            let x = c
                .contracts
                .iter()
                .find(|x| x.cancellation_received_at.is_some())
                .expect("a cancelled contract");
            let effective = x.cancellation_effective_on.unwrap();
            assert!(x.cancellation_reason.is_some());
            if status == TruthStatus::Lost {
                assert_eq!(Some(effective), truth.lost_on);
            } else {
                assert!(effective > a);
            }
        }
        (Some(LossKind::QuietNonRenewer), status) => {
            let x = c.contracts.last().expect("a contract");
            assert!(x.renewal_on.is_none() && x.cancellation_received_at.is_none());
            let end = x.ends_on.unwrap();
            if status == TruthStatus::Lost {
                assert_eq!(Some(end), truth.lost_on);
            } else {
                assert!(end > a && days(a, end) <= 90, "{id}: contract ends {end}");
            }
        }
        (Some(LossKind::FadeOut), _) => {
            let n = c.orders.len();
            assert!(n >= 6, "{id}: fade-out with {n} orders");
            let dates: Vec<NaiveDate> =
                c.orders.iter().map(|o| o.ordered_at.date_naive()).collect();
            let gaps: Vec<i64> = dates.windows(2).map(|w| days(w[0], w[1])).collect();
            let (early, late) = gaps.split_at(gaps.len() - 3);
            t.fade_outs += 1;
            t.fade_gaps_grow += (mean(late) > mean(early)) as u64;
            let gross: Vec<i64> = c.orders.iter().map(|o| o.gross.cents()).collect();
            let (early, late) = gross.split_at(n - 3);
            t.fade_baskets_shrink += (mean(late) < mean(early)) as u64;
        }
        _ => {}
    }
    if truth.bargain_hunter {
        let discounted = c.orders.iter().filter(|o| o.discount.cents() > 0).count();
        assert!(
            discounted * 10 >= c.orders.len() * 6,
            "{id}: bargain hunter with {discounted}/{} discounted orders",
            c.orders.len()
        );
        assert!(c.orders.iter().any(|o| o.voucher_code.is_some()));
    }
    assert_eq!(
        truth.insolvent,
        truth.cause == Some(Cause::Insolvency) && truth.status == TruthStatus::Lost
    );
    t.customers += 1;
}

fn check_many(b2b: bool, n: u64) -> Tally {
    let d = demo(n, 11, b2b);
    let mut t = Tally::default();
    let mut first_order = HashMap::new();
    let mut ids = HashSet::new();
    let mut emails = HashSet::new();
    let products: HashMap<String, ProductRecord> = d
        .products()
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect();
    for c in d.customers() {
        check(&d, &products, &c, &first_order, &mut t);
        first_order.insert(
            c.customer.external_id.clone(),
            c.orders[0].ordered_at.date_naive(),
        );
        assert!(ids.insert(c.customer.external_id.clone()));
        assert!(
            emails.insert(c.customer.email.clone().unwrap()),
            "e-mail address used twice"
        );
        for o in &c.orders {
            assert!(
                ids.insert(o.external_id.clone()),
                "order id {} used twice",
                o.external_id
            );
        }
        for x in &c.complaints {
            assert!(ids.insert(x.external_id.clone()));
        }
        for x in &c.contracts {
            assert!(ids.insert(x.external_id.clone()));
        }
    }
    // The mix: 55 % active, 10 % at risk, 10 % sleeping, 25 % lost, within 3 points.
    for (status, target) in [
        ("active", 55.0),
        ("at_risk", 10.0),
        ("sleeping", 10.0),
        ("lost", 25.0),
    ] {
        let share = 100.0 * t.status.get(status).copied().unwrap_or(0) as f64 / t.customers as f64;
        assert!(
            (share - target).abs() <= 3.0,
            "{status}: {share:.1} % instead of {target} %"
        );
    }
    let per_customer = t.orders as f64 / t.customers as f64;
    assert!(
        (8.0..=12.0).contains(&per_customer),
        "{per_customer:.2} orders per customer"
    );
    let per_order = t.lines as f64 / t.orders as f64;
    assert!(
        (1.6..=3.0).contains(&per_order),
        "{per_order:.2} lines per order"
    );
    let discounted = t.discounted_plain as f64 / t.orders_plain as f64;
    assert!(
        (0.10..=0.20).contains(&discounted),
        "{discounted:.3} of ordinary orders discounted"
    );
    let margin = t.margin as f64 / t.gross as f64;
    assert!(
        (0.25..=0.45).contains(&margin),
        "margin {margin:.3} of gross"
    );
    assert!(
        t.fade_gaps_grow as f64 >= 0.85 * t.fade_outs as f64,
        "{} of {} fade-outs slow down",
        t.fade_gaps_grow,
        t.fade_outs
    );
    assert!(
        t.fade_baskets_shrink as f64 >= 0.8 * t.fade_outs as f64,
        "{} of {} fade-outs buy less",
        t.fade_baskets_shrink,
        t.fade_outs
    );
    t
}

#[test]
fn a_shop_of_twenty_thousand_customers_keeps_every_invariant() {
    let t = check_many(false, 20_000);
    for kind in LossKind::ALL {
        assert!(t.kinds.contains(kind.as_str()), "no {}", kind.as_str());
    }
    for cause in Cause::ALL.iter().filter(|c| **c != Cause::Insolvency) {
        assert!(t.causes.contains(cause.as_str()), "no {}", cause.as_str());
    }
    let mean_gross = t.gross as f64 / t.orders as f64 / 100.0;
    assert!(
        (40.0..=150.0).contains(&mean_gross),
        "mean order {mean_gross:.2} EUR"
    );
}

#[test]
fn a_wholesaler_of_ten_thousand_customers_keeps_every_invariant() {
    let t = check_many(true, 10_000);
    for cause in Cause::ALL {
        assert!(t.causes.contains(cause.as_str()), "no {}", cause.as_str());
    }
}
