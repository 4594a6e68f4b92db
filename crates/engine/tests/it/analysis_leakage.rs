//! No leakage: analysing as of a date on the full history gives exactly the result of
//! analysing a history cut at that date by hand, and facts invented after the date change
//! nothing.

use chrono::{DateTime, Days, NaiveDate, Utc};
use winback_engine::Money;
use winback_engine::analysis::{
    Analysis, ComplaintFact, ContractFact, CustomerHistory, OrderFact, ProductFact, Settings,
    analyze, backtest,
};
use winback_engine::demo::{Demo, DemoConfig};
use winback_engine::records::Satisfaction;

/// The history as the company knew it at the end of `d`, written out independently of the
/// engine's own view.
fn cut(h: &CustomerHistory, d: NaiveDate) -> CustomerHistory {
    let known = |t: &DateTime<Utc>| t.date_naive() <= d;
    let mut orders: Vec<OrderFact> = h
        .orders
        .iter()
        .filter(|o| known(&o.ordered_at))
        .cloned()
        .collect();
    for o in &mut orders {
        o.delivered_on = o.delivered_on.filter(|x| *x <= d);
    }
    CustomerHistory {
        orders,
        lines: h
            .lines
            .iter()
            .filter(|l| known(&l.ordered_at))
            .cloned()
            .collect(),
        complaints: h
            .complaints
            .iter()
            .filter(|q| known(&q.opened_at))
            .map(|q| {
                let resolved_later = q.resolved_at.is_some_and(|t| !known(&t));
                ComplaintFact {
                    opened_at: q.opened_at,
                    first_response_at: q.first_response_at.filter(known),
                    resolved_at: q.resolved_at.filter(known),
                    satisfied: if resolved_later {
                        Satisfaction::Unknown
                    } else {
                        q.satisfied
                    },
                }
            })
            .collect(),
        contracts: h
            .contracts
            .iter()
            .filter(|k| k.started_on <= d)
            .map(|k| {
                if k.cancellation_received_at.is_some_and(|t| !known(&t)) {
                    ContractFact {
                        ends_on: k
                            .ends_on
                            .filter(|e| Some(*e) != k.cancellation_effective_on),
                        cancellation_received_at: None,
                        cancellation_effective_on: None,
                        cancellation_reason: None,
                        ..k.clone()
                    }
                } else {
                    k.clone()
                }
            })
            .collect(),
        ..h.clone()
    }
}

/// The same history with invented facts after `d`: orders, complaints, a new contract and a
/// cancellation of the first one.
fn with_future(h: &CustomerHistory, d: NaiveDate) -> CustomerHistory {
    let mut h = h.clone();
    let later = |days: u64| {
        (d + Days::new(days))
            .and_hms_opt(10, 0, 0)
            .expect("a valid time")
            .and_utc()
    };
    for k in 1..4 {
        h.orders.push(OrderFact {
            ordered_at: later(k * 9),
            gross: Money::from_cents(12_345),
            margin: Some(Money::from_cents(-500)),
            discount: Money::from_cents(1_000),
            voucher: true,
            delivery_promised_on: Some(d + Days::new(k * 9 + 2)),
            delivered_on: Some(d + Days::new(k * 9 + 30)),
            returned: false,
            cancelled: k == 3,
        });
    }
    h.complaints.push(ComplaintFact {
        opened_at: later(3),
        first_response_at: None,
        resolved_at: None,
        satisfied: Satisfaction::No,
    });
    if let Some(k) = h.contracts.first_mut() {
        // An auto-renewing contract: the cancellation sets its end.
        if k.cancellation_received_at.is_none() && k.ends_on.is_none() {
            k.cancellation_received_at = Some(later(5));
            k.cancellation_effective_on = Some(d + Days::new(40));
            k.ends_on = Some(d + Days::new(40));
            k.cancellation_reason = Some("Wechsel zu einem anderen Anbieter".to_string());
        }
    }
    h.contracts.push(ContractFact {
        started_on: d + Days::new(1),
        ends_on: Some(d + Days::new(20)),
        renewal_on: None,
        cancellation_received_at: None,
        cancellation_effective_on: None,
        cancellation_reason: None,
    });
    h
}

/// Equality with a short message: the first customer or alert that differs.
fn same(a: &Analysis, b: &Analysis, what: &str) {
    assert_eq!(a.model, b.model, "{what}: model");
    assert_eq!(a.customers.len(), b.customers.len(), "{what}");
    for (i, (x, y)) in a.customers.iter().zip(&b.customers).enumerate() {
        assert_eq!(x, y, "{what}: customer {i}");
    }
    assert_eq!(a.alerts.len(), b.alerts.len(), "{what}: alerts");
    for (x, y) in a.alerts.iter().zip(&b.alerts) {
        assert_eq!(x, y, "{what}: alert");
    }
    assert!(a == b);
}

fn check(b2b: bool) {
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a valid date");
    let demo = Demo::new(DemoConfig::new(4_000, 7, b2b, as_of));
    let histories: Vec<CustomerHistory> = demo
        .customers()
        .map(|c| CustomerHistory::from_demo(&c))
        .collect();
    let products = ProductFact::from_demo(&demo.products());
    let settings = Settings::default();
    for back in [200u64, 500] {
        let d = as_of - Days::new(back);
        let full = analyze(&histories, &products, d, &settings).expect("analysis");
        let truncated: Vec<CustomerHistory> = histories.iter().map(|h| cut(h, d)).collect();
        let known_products: Vec<ProductFact> = products
            .iter()
            .map(|p| ProductFact {
                sku: p.sku.clone(),
                delisted_on: p.delisted_on.filter(|x| *x <= d),
            })
            .collect();
        let by_hand = analyze(&truncated, &known_products, d, &settings).expect("analysis");
        same(
            &full,
            &by_hand,
            &format!("as of {d}: the full history leaks"),
        );
        let invented: Vec<CustomerHistory> = truncated.iter().map(|h| with_future(h, d)).collect();
        let future = analyze(&invented, &known_products, d, &settings).expect("analysis");
        same(
            &full,
            &future,
            &format!("as of {d}: invented future facts change the result"),
        );
        // The backtest analyses on the same view.
        let bt = backtest(&histories, &products, d, 180, &settings).expect("backtest");
        same(&bt.analysis, &full, "backtest");
    }
}

#[test]
fn no_leakage_shop() {
    check(false);
}

#[test]
fn no_leakage_wholesaler() {
    check(true);
}
