//! The evidence behind a status or an alert, on the wire and on the page: the JSON shape
//! stored with every analysis result (`evidence_json`, and `run_rows` for a whole run,
//! used by `winback analyze`, the server's scheduled analysis and the tests) and its
//! rendering per language (`render`), side by side so that the two never drift apart. Also the labels of the analysis' codes (statuses, kinds
//! of loss, causes, signals, alert states).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use winback_engine::analysis::{Analysis, Evidence};
use winback_store::analysis::{AlertRow, RunMeta, StatusRow};

use crate::i18n::Tr;

/// An analysis as the rows the store keeps of it: the run (model, parameters as JSON), one
/// status per customer and the alerts, each with its evidence as JSON. `ids` are the
/// stored customers' ids, parallel to `analysis.customers` (as `load_histories` returns
/// them). The one conversion used by `winback analyze`, the server's schedule and the tests.
pub fn run_rows(
    analysis: &Analysis,
    ids: &[i64],
    started_at: DateTime<Utc>,
) -> (RunMeta, Vec<StatusRow>, Vec<AlertRow>) {
    let status = |(c, id): (&winback_engine::analysis::CustomerResult, &i64)| StatusRow {
        customer_id: *id,
        status: c.status.as_str(),
        loss_kind: c.loss_kind.map(|k| k.as_str()),
        lost_on: c.lost_on,
        likely_cause: c.likely_cause.map(|k| k.as_str()),
        p_alive: c.p_alive,
        expected_transactions_52w: c.expected_transactions_52w,
        clv: c.clv,
        bargain_hunter: c.bargain_hunter,
        evidence: evidence_json(&c.evidence).to_string(),
    };
    // A million customers' evidence as JSON takes seconds: the second half on a thread of
    // its own.
    let half = analysis.customers.len() / 2;
    let (customers_a, customers_b) = analysis.customers.split_at(half);
    let (ids_a, ids_b) = ids.split_at(half.min(ids.len()));
    let statuses = std::thread::scope(|scope| {
        let second = scope.spawn(|| {
            customers_b
                .iter()
                .zip(ids_b)
                .map(status)
                .collect::<Vec<_>>()
        });
        let mut statuses: Vec<StatusRow> = Vec::with_capacity(analysis.customers.len());
        statuses.extend(customers_a.iter().zip(ids_a).map(status));
        statuses.extend(second.join().expect("turning statuses into rows panicked"));
        statuses
    });
    let mut alerts: Vec<AlertRow> = analysis
        .alerts
        .iter()
        .map(|a| AlertRow {
            customer_id: ids[a.customer_idx],
            signal: a.signal.as_str(),
            raised_on: a.raised_on,
            evidence: evidence_json(&a.evidence).to_string(),
        })
        .collect();
    // Stored in the order they were raised: the inbox lists the newest alert (highest id)
    // first, so within a run the most recently raised come first too.
    alerts.sort_by_key(|a| (a.raised_on, a.customer_id, a.signal));
    let params: serde_json::Map<String, Value> = analysis
        .model
        .params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let meta = RunMeta {
        as_of: analysis.as_of,
        model: analysis.model.model.as_str().to_owned(),
        params: Value::Object(params).to_string(),
        loglik: Some(analysis.model.loglik),
        started_at,
    };
    (meta, statuses, alerts)
}

/// Evidence as JSON for storage and the API: an array of `{"kind": ..., ...}` objects.
pub fn evidence_json(evidence: &[Evidence]) -> Value {
    let date = |d: &NaiveDate| d.format("%Y-%m-%d").to_string();
    Value::Array(
        evidence
            .iter()
            .map(|e| match e {
                Evidence::DaysSilent {
                    days,
                    usual_gap_days,
                    last_purchase_on,
                } => json!({
                "kind": "days_silent", "days": days, "usual_gap_days": usual_gap_days,
                "last_purchase_on": date(last_purchase_on)}),
                Evidence::NoPurchase { customer_since } => {
                    json!({"kind": "no_purchase", "customer_since": customer_since.as_ref().map(date)})
                }
                Evidence::PAlive { value } => json!({"kind": "p_alive", "value": value}),
                Evidence::PAliveDrop { from, to, since } => {
                    json!({"kind": "p_alive_drop", "from": from, "to": to, "since": date(since)})
                }
                Evidence::EarlierPause { days, ended_on } => {
                    json!({"kind": "earlier_pause", "days": days, "ended_on": date(ended_on)})
                }
                Evidence::Complaint {
                    opened_on,
                    satisfied,
                    resolved_on,
                } => json!({
                "kind": "complaint", "opened_on": date(opened_on), "satisfied": satisfied.as_str(),
                "resolved_on": resolved_on.as_ref().map(date)}),
                Evidence::SlowResponse { opened_on, hours } => {
                    json!({"kind": "slow_response", "opened_on": date(opened_on), "hours": hours})
                }
                Evidence::LateDeliveries {
                    count,
                    avg_days_late,
                    last_on,
                } => json!({
                "kind": "late_deliveries", "count": count, "avg_days_late": avg_days_late,
                "last_on": date(last_on)}),
                Evidence::CancelledOrders { count, last_on } => {
                    json!({"kind": "cancelled_orders", "count": count, "last_on": date(last_on)})
                }
                Evidence::ContractCancelled {
                    received_on,
                    effective_on,
                    reason,
                } => json!({
                "kind": "contract_cancelled", "received_on": date(received_on),
                "effective_on": effective_on.as_ref().map(date), "reason": reason}),
                Evidence::ContractNotRenewed { ended_on } => {
                    json!({"kind": "contract_not_renewed", "ended_on": date(ended_on)})
                }
                Evidence::ContractEnding { ends_on, days_left } => {
                    json!({"kind": "contract_ending", "ends_on": date(ends_on), "days_left": days_left})
                }
                Evidence::FrequencyDrop { from, to } => {
                    json!({"kind": "frequency_drop", "from": from, "to": to})
                }
                Evidence::BasketDrop { from, to } => {
                    json!({"kind": "basket_drop", "from": from.to_string(), "to": to.to_string()})
                }
                Evidence::DelistedFavourite {
                    sku,
                    delisted_on,
                    times_bought,
                } => json!({
                "kind": "delisted_favourite", "sku": sku, "delisted_on": date(delisted_on),
                "times_bought": times_bought}),
                Evidence::PriceIncrease {
                    sku,
                    pct,
                    from,
                    to,
                    first_paid_on,
                } => json!({
                "kind": "price_increase", "sku": sku, "pct": pct, "from": from.to_string(),
                "to": to.to_string(), "first_paid_on": date(first_paid_on)}),
                Evidence::Discounts { share, orders } => {
                    json!({"kind": "discounts", "share": share, "orders": orders})
                }
                other => json!({"kind": "other", "text": format!("{other:?}")}),
            })
            .collect(),
    )
}

/// The stored evidence text as one sentence per item in the page's language. Unknown or
/// malformed items are left out rather than shown raw.
pub fn render(tr: &Tr, stored: &str) -> Vec<String> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(stored) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| render_one(tr, item))
        .collect()
}

fn render_one(tr: &Tr, e: &Value) -> Option<String> {
    let date = |key: &str| {
        e[key]
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .map(|d| tr.date(d))
    };
    let int = |key: &str| e[key].as_f64().map(|v| tr.dec(v, 0));
    let dec = |key: &str| e[key].as_f64().map(|v| tr.dec(v, 1));
    let pct = |key: &str| e[key].as_f64().map(|v| tr.pct(v));
    // Amounts travel as decimal text ("12.34").
    let money = |key: &str| {
        e[key]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .map(|v| tr.money((v * 100.0).round() as i64))
    };
    Some(match e["kind"].as_str()? {
        "days_silent" => match int("usual_gap_days") {
            Some(gap) => tr.f(
                "evidence.days_silent_usual",
                &[("days", &int("days")?), ("gap", &gap)],
            ),
            None => tr.f("evidence.days_silent", &[("days", &int("days")?)]),
        },
        "no_purchase" => tr.t("evidence.no_purchase").to_owned(),
        "p_alive" => tr.f("evidence.p_alive", &[("value", &pct("value")?)]),
        "p_alive_drop" => tr.f(
            "evidence.p_alive_drop",
            &[
                ("from", &pct("from")?),
                ("to", &pct("to")?),
                ("date", &date("since")?),
            ],
        ),
        "earlier_pause" => tr.f(
            "evidence.earlier_pause",
            &[("days", &int("days")?), ("date", &date("ended_on")?)],
        ),
        "complaint" => match date("resolved_on") {
            Some(resolved) => tr.f(
                "evidence.complaint_resolved",
                &[("date", &date("opened_on")?), ("resolved", &resolved)],
            ),
            None => tr.f("evidence.complaint_open", &[("date", &date("opened_on")?)]),
        },
        "slow_response" => match int("hours") {
            Some(hours) => tr.f(
                "evidence.slow_response",
                &[("date", &date("opened_on")?), ("hours", &hours)],
            ),
            None => tr.f("evidence.no_response", &[("date", &date("opened_on")?)]),
        },
        "late_deliveries" => tr.f(
            "evidence.late_deliveries",
            &[
                ("count", &int("count")?),
                ("days", &dec("avg_days_late")?),
                ("date", &date("last_on")?),
            ],
        ),
        "cancelled_orders" => tr.f(
            "evidence.cancelled_orders",
            &[("count", &int("count")?), ("date", &date("last_on")?)],
        ),
        "contract_cancelled" => match e["reason"].as_str().filter(|r| !r.is_empty()) {
            Some(reason) => tr.f(
                "evidence.contract_cancelled_reason",
                &[("date", &date("received_on")?), ("reason", reason)],
            ),
            None => tr.f(
                "evidence.contract_cancelled",
                &[("date", &date("received_on")?)],
            ),
        },
        "contract_not_renewed" => tr.f(
            "evidence.contract_not_renewed",
            &[("date", &date("ended_on")?)],
        ),
        "contract_ending" => tr.f(
            "evidence.contract_ending",
            &[("date", &date("ends_on")?), ("days", &int("days_left")?)],
        ),
        "frequency_drop" => tr.f(
            "evidence.frequency_drop",
            &[("from", &dec("from")?), ("to", &dec("to")?)],
        ),
        "basket_drop" => tr.f(
            "evidence.basket_drop",
            &[("from", &money("from")?), ("to", &money("to")?)],
        ),
        "delisted_favourite" => tr.f(
            "evidence.delisted_favourite",
            &[
                ("sku", e["sku"].as_str()?),
                ("count", &int("times_bought")?),
                ("date", &date("delisted_on")?),
            ],
        ),
        "price_increase" => tr.f(
            "evidence.price_increase",
            &[
                ("sku", e["sku"].as_str()?),
                ("pct", &int("pct")?),
                ("from", &money("from")?),
                ("to", &money("to")?),
            ],
        ),
        "discounts" => tr.f(
            "evidence.discounts",
            &[("share", &pct("share")?), ("count", &int("orders")?)],
        ),
        _ => return None,
    })
}

/// The label of an analysis code (`status`, `loss_kind`, `cause`, `signal`, `alert_state`,
/// `analysis_step`) in the page's language; an unknown code shows as itself.
pub fn label(tr: &Tr, section: &str, code: &str) -> String {
    let key = format!("{section}.{code}");
    let text = tr.t(&key);
    if text == key {
        code.to_owned()
    } else {
        text.to_owned()
    }
}

/// Every code `label` is asked for, for the catalogue tidy tests.
pub fn label_keys() -> Vec<String> {
    use winback_engine::analysis::{Cause, LossKind, Signal, Status};
    let mut keys = Vec::new();
    for s in Status::ALL {
        keys.push(format!("status.{}", s.as_str()));
    }
    for k in LossKind::ALL {
        keys.push(format!("loss_kind.{}", k.as_str()));
    }
    for c in Cause::ALL {
        keys.push(format!("cause.{}", c.as_str()));
    }
    for s in Signal::ALL {
        keys.push(format!("signal.{}", s.as_str()));
    }
    for s in winback_store::results::ALERT_STATES {
        keys.push(format!("alert_state.{s}"));
    }
    for s in crate::AnalysisStep::ALL {
        keys.push(format!("analysis_step.{}", s.code()));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use winback_engine::{Money, Satisfaction};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_kind_of_evidence_renders_in_both_languages() {
        let all = vec![
            Evidence::DaysSilent {
                days: 143,
                usual_gap_days: Some(30.0),
                last_purchase_on: d(2026, 1, 2),
            },
            Evidence::DaysSilent {
                days: 200,
                usual_gap_days: None,
                last_purchase_on: d(2026, 1, 2),
            },
            Evidence::NoPurchase {
                customer_since: None,
            },
            Evidence::PAlive { value: 0.123 },
            Evidence::PAliveDrop {
                from: 0.9,
                to: 0.2,
                since: d(2026, 2, 1),
            },
            Evidence::EarlierPause {
                days: 90,
                ended_on: d(2025, 5, 1),
            },
            Evidence::Complaint {
                opened_on: d(2026, 1, 5),
                satisfied: Satisfaction::No,
                resolved_on: None,
            },
            Evidence::Complaint {
                opened_on: d(2026, 1, 5),
                satisfied: Satisfaction::No,
                resolved_on: Some(d(2026, 1, 9)),
            },
            Evidence::SlowResponse {
                opened_on: d(2026, 1, 5),
                hours: Some(80.0),
            },
            Evidence::SlowResponse {
                opened_on: d(2026, 1, 5),
                hours: None,
            },
            Evidence::LateDeliveries {
                count: 3,
                avg_days_late: 4.5,
                last_on: d(2026, 1, 5),
            },
            Evidence::CancelledOrders {
                count: 2,
                last_on: d(2026, 1, 5),
            },
            Evidence::ContractCancelled {
                received_on: d(2026, 1, 5),
                effective_on: None,
                reason: Some("zu teuer".into()),
            },
            Evidence::ContractCancelled {
                received_on: d(2026, 1, 5),
                effective_on: None,
                reason: None,
            },
            Evidence::ContractNotRenewed {
                ended_on: d(2026, 1, 5),
            },
            Evidence::ContractEnding {
                ends_on: d(2026, 3, 5),
                days_left: 40,
            },
            Evidence::FrequencyDrop {
                from: 12.0,
                to: 4.5,
            },
            Evidence::BasketDrop {
                from: Money::from_cents(123_456),
                to: Money::from_cents(5_000),
            },
            Evidence::DelistedFavourite {
                sku: "A-1".into(),
                delisted_on: d(2026, 1, 5),
                times_bought: 7,
            },
            Evidence::PriceIncrease {
                sku: "A-1".into(),
                pct: 12.0,
                from: Money::from_cents(1000),
                to: Money::from_cents(1120),
                first_paid_on: d(2026, 1, 5),
            },
            Evidence::Discounts {
                share: 0.8,
                orders: 10,
            },
        ];
        let stored = evidence_json(&all).to_string();
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            let lines = render(&tr, &stored);
            assert_eq!(lines.len(), all.len(), "{lang:?}: {lines:?}");
            for line in &lines {
                assert!(
                    !line.contains("evidence.") && !line.contains('{'),
                    "{lang:?}: {line}"
                );
            }
        }
        assert_eq!(
            render(&Tr::new(Lang::En), &stored)[0],
            "silent for 143 days (usually every 30 days)"
        );
        assert_eq!(
            render(&Tr::new(Lang::De), &stored)[0],
            "seit 143 Tagen still (sonst alle 30 Tage)"
        );
        assert!(render(&Tr::new(Lang::De), &stored)[17].contains("1.234,56"));
        assert!(render(&Tr::new(Lang::De), "not json").is_empty());
    }

    #[test]
    fn every_code_has_a_label_in_both_languages() {
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            for key in label_keys() {
                assert_ne!(tr.t(&key), key, "{lang:?}");
            }
        }
    }
}
