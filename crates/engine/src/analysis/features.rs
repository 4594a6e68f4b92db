//! What one customer's history (already cut at the analysis date) shows: purchases and
//! their rhythm, fading, deliveries, complaints, contracts, discounts, favourites.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::history::CustomerHistory;
use super::settings::Thresholds;
use crate::records::Satisfaction;

/// A calendar day as a number (days from the common era), for cheap arithmetic.
pub(super) type Day = i32;

pub(super) fn day_of(d: NaiveDate) -> Day {
    d.num_days_from_ce()
}

/// Days from the common era to 1970-01-01.
const UNIX_EPOCH_DAY: i64 = 719_163;

/// The UTC calendar day of an instant, by integer arithmetic (the hot loops call this for
/// every order and line).
pub(super) fn day_at(t: &DateTime<Utc>) -> Day {
    (t.timestamp().div_euclid(86_400) + UNIX_EPOCH_DAY) as Day
}

pub(super) fn date_of(d: Day) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d).unwrap_or(NaiveDate::MIN)
}

/// The state of a customer's contracts on the analysis date.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ContractState {
    None,
    /// A cancellation took effect and no other contract runs.
    Cancelled {
        received: Day,
        effective: Option<Day>,
        reason: Option<String>,
    },
    /// A cancellation arrived and takes effect later.
    CancelPending {
        received: Day,
        effective: Option<Day>,
        reason: Option<String>,
    },
    /// A term ended without renewal and no other contract runs.
    NotRenewed {
        ended: Day,
    },
    /// A term ends soon and no renewal is agreed.
    EndingSoon {
        ends: Day,
    },
}

/// The features of one customer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Features {
    /// Distinct days with a purchase (a non-cancelled order).
    pub purchase_days: u32,
    pub first: Option<Day>,
    pub last: Option<Day>,
    pub created: Option<Day>,
    /// The customer's usual gap between purchases in days (median of the gaps before the
    /// last three when there are enough, else of all), when they have a rhythm.
    pub usual_gap: Option<f64>,
    /// The longest pause the customer came back from (length in days, day it ended).
    pub longest_gap: Option<(i32, Day)>,
    /// Mean of the last three gaps and median of the earlier ones.
    pub recent_gap: Option<(f64, f64)>,
    /// Mean value of the last three orders and median of the earlier ones (cents).
    pub recent_basket: Option<(f64, f64)>,
    /// Repeat purchases, recency and age in weeks (BG/NBD convention).
    pub x: f64,
    pub t_x: f64,
    pub age: f64,
    /// Repeat purchase days with a positive spend and their mean spend (currency units).
    pub spend_x: f64,
    pub spend_mean: f64,
    /// Mean spend of all purchase days (currency units), for customers without repeats.
    pub first_spend: f64,
    pub margin_ratio: Option<f64>,
    /// Late deliveries among the last orders: count, mean days late, last late day.
    pub late: (u32, f64, Day),
    /// Cancelled orders among the last orders: count, day of the last one, and whether the
    /// very last order was cancelled.
    pub cancelled: (u32, Day, bool),
    /// The latest complaint not resolved to the customer's satisfaction.
    pub bad_complaint: Option<(Day, Satisfaction, Option<Day>)>,
    /// The latest complaint answered slowly: opened day and hours to the first answer.
    pub slow_complaint: Option<(Day, Option<f64>)>,
    pub contract: ContractState,
    /// Orders (not cancelled) and the share with a discount or voucher.
    pub orders: u32,
    pub discount_share: f64,
    /// Whether the history held nothing after the analysis date but, perhaps, order lines
    /// (set by the caller, who made the view): then only the lines need the date filter.
    pub clean_but_lines: bool,
}

/// Reusable buffers, one set per worker thread.
#[derive(Default)]
pub(super) struct Scratch {
    days: Vec<(Day, f64)>,
    gaps: Vec<f64>,
    sorted: Vec<f64>,
    baskets: Vec<f64>,
    skus: Vec<(u64, usize, Day, i64)>,
    /// BG/NBD's conditional factors for 52 and 104 weeks per distinct `(x, T)` (as bits).
    pub(super) factors: HashMap<(u64, u64), (f64, f64)>,
    /// A customer's evidence while it is collected.
    pub(super) evidence: Vec<crate::analysis::Evidence>,
}

fn median(values: &[f64], buf: &mut Vec<f64>) -> f64 {
    buf.clear();
    buf.extend_from_slice(values);
    buf.sort_unstable_by(f64::total_cmp);
    let n = buf.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        buf[n / 2]
    } else {
        0.5 * (buf[n / 2 - 1] + buf[n / 2])
    }
}

pub(super) fn features(
    h: &CustomerHistory,
    as_of: Day,
    t: &Thresholds,
    scratch: &mut Scratch,
) -> Features {
    // Purchase days with their spend (returned orders are purchases without spend).
    let days = &mut scratch.days;
    days.clear();
    let mut margin = 0i64;
    let mut margin_gross = 0i64;
    let mut orders = 0u32;
    let mut discounted = 0u32;
    let baskets = &mut scratch.baskets;
    baskets.clear();
    for o in &h.orders {
        if o.cancelled {
            continue;
        }
        orders += 1;
        if o.discount.cents() > 0 || o.voucher {
            discounted += 1;
        }
        let d = day_at(&o.ordered_at);
        let spend = if o.returned { 0 } else { o.gross.cents() };
        baskets.push(o.gross.cents() as f64);
        if let (Some(m), false) = (o.margin, o.returned) {
            margin += m.cents();
            margin_gross += o.gross.cents();
        }
        match days.last_mut() {
            Some(last) if last.0 == d => last.1 += spend as f64 / 100.0,
            _ => days.push((d, spend as f64 / 100.0)),
        }
    }
    let n = days.len();
    let first = days.first().map(|d| d.0);
    let last = days.last().map(|d| d.0);

    let gaps = &mut scratch.gaps;
    gaps.clear();
    gaps.extend(days.windows(2).map(|w| f64::from(w[1].0 - w[0].0)));
    let usual_gap = if n >= t.min_purchases_for_rhythm.max(2) as usize {
        let g = if gaps.len() >= 6 {
            median(&gaps[..gaps.len() - 3], &mut scratch.sorted)
        } else {
            median(gaps, &mut scratch.sorted)
        };
        Some(g.max(1.0))
    } else {
        None
    };
    // The longest pause after which the customer went back to their rhythm: a gap that is
    // followed by at least one gap within the at-risk limit (a pause among growing gaps at
    // the end is fading, not sleeping).
    let longest_gap = usual_gap.and_then(|g| {
        let normal = t.at_risk_rhythm_factor * g;
        days.windows(3)
            .filter(|w| f64::from(w[2].0 - w[1].0) <= normal)
            .map(|w| (w[1].0 - w[0].0, w[1].0))
            .max_by_key(|p| p.0)
    });
    let recent_gap = (gaps.len() >= 5).then(|| {
        let k = gaps.len() - 3;
        let recent = gaps[k..].iter().sum::<f64>() / 3.0;
        (recent, median(&gaps[..k], &mut scratch.sorted).max(1.0))
    });
    let recent_basket = (baskets.len() >= 6).then(|| {
        let k = baskets.len() - 3;
        let recent = baskets[k..].iter().sum::<f64>() / 3.0;
        (recent, median(&baskets[..k], &mut scratch.sorted))
    });

    let (x, t_x, age) = match (first, last) {
        (Some(f), Some(l)) => (
            (n - 1) as f64,
            f64::from(l - f) / 7.0,
            f64::from(as_of - f) / 7.0,
        ),
        _ => (0.0, 0.0, 0.0),
    };
    let (mut spend_x, mut spend_sum) = (0.0, 0.0);
    for d in days.iter().skip(1) {
        if d.1 > 0.0 {
            spend_x += 1.0;
            spend_sum += d.1;
        }
    }
    let all_spend: f64 = days.iter().map(|d| d.1).sum();
    let first_spend = if n > 0 { all_spend / n as f64 } else { 0.0 };

    // Deliveries and cancellations among the last orders.
    let tol = t.late_tolerance_days as i32;
    let mut late = (0u32, 0.0, 0);
    let mut late_days = 0i64;
    for o in h
        .orders
        .iter()
        .rev()
        .filter(|o| !o.cancelled)
        .take(t.late_lookback_orders as usize)
    {
        let Some(promised) = o.delivery_promised_on.map(day_of) else {
            continue;
        };
        let (arrived, days_late) = match o.delivered_on.map(day_of) {
            Some(d) => (d, d - promised),
            None => (as_of, as_of - promised),
        };
        if days_late > tol {
            late.0 += 1;
            late_days += i64::from(days_late);
            late.2 = late.2.max(arrived);
        }
    }
    if late.0 > 0 {
        late.1 = late_days as f64 / f64::from(late.0);
    }
    let mut cancelled = (0u32, 0, false);
    for (i, o) in h
        .orders
        .iter()
        .rev()
        .take(t.payment_trouble_orders as usize)
        .enumerate()
    {
        if o.cancelled {
            cancelled.0 += 1;
            cancelled.1 = cancelled.1.max(day_at(&o.ordered_at));
            if i == 0 {
                cancelled.2 = true;
            }
        }
    }

    // Complaints.
    let mut bad_complaint: Option<(Day, Satisfaction, Option<Day>)> = None;
    let mut slow_complaint: Option<(Day, Option<f64>)> = None;
    let slow = f64::from(t.slow_response_hours);
    for q in &h.complaints {
        let opened = day_at(&q.opened_at);
        let resolved = q.resolved_at.as_ref().map(day_at);
        if (q.satisfied == Satisfaction::No || resolved.is_none())
            && bad_complaint.is_none_or(|b| b.0 <= opened)
        {
            bad_complaint = Some((opened, q.satisfied, resolved));
        }
        let hours = q
            .first_response_at
            .map(|r| (r - q.opened_at).num_minutes() as f64 / 60.0);
        let waited = match hours {
            Some(hrs) => hrs > slow,
            // No answer yet: slow once the deadline has passed by the end of the day.
            None => {
                let end_of_day = date_of(as_of)
                    .succ_opt()
                    .and_then(|d| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
                end_of_day.is_some_and(|e| (e - q.opened_at).num_minutes() as f64 / 60.0 > slow)
            }
        };
        if waited && slow_complaint.is_none_or(|s| s.0 <= opened) {
            slow_complaint = Some((opened, hours));
        }
    }

    let contract = contract_state(h, as_of, t);
    let margin_ratio = (margin_gross > 0).then(|| margin as f64 / margin_gross as f64);
    Features {
        purchase_days: n as u32,
        first,
        last,
        created: h.created_at.as_ref().map(day_at),
        usual_gap,
        longest_gap,
        recent_gap,
        recent_basket,
        x,
        t_x,
        age,
        spend_x,
        spend_mean: if spend_x > 0.0 {
            spend_sum / spend_x
        } else {
            0.0
        },
        first_spend,
        margin_ratio,
        late,
        cancelled,
        bad_complaint,
        slow_complaint,
        contract,
        orders,
        discount_share: if orders > 0 {
            f64::from(discounted) / f64::from(orders)
        } else {
            0.0
        },
        clean_but_lines: false,
    }
}

fn contract_state(h: &CustomerHistory, as_of: Day, t: &Thresholds) -> ContractState {
    if h.contracts.is_empty() {
        return ContractState::None;
    }
    let mut cancellation: Option<(Day, Option<Day>, Option<&String>)> = None;
    let mut running = false;
    let mut not_renewed: Option<Day> = None;
    let mut ending: Option<Day> = None;
    let mut latest_start = i32::MIN;
    for k in &h.contracts {
        let start = day_of(k.started_on);
        latest_start = latest_start.max(start);
        if let Some(received) = k.cancellation_received_at.as_ref().map(day_at) {
            let effective = k.cancellation_effective_on.or(k.ends_on).map(day_of);
            if cancellation.is_none_or(|c| c.0 <= received) {
                cancellation = Some((received, effective, k.cancellation_reason.as_ref()));
            }
            if effective.is_some_and(|e| e >= as_of) {
                // Still in force until the cancellation takes effect; not "running" for good.
            }
            continue;
        }
        match k.ends_on.map(day_of) {
            None => running = true,
            Some(end) if end >= as_of => {
                if k.renewal_on.is_none() && end - as_of <= t.contract_end_warning_days as i32 {
                    ending = Some(ending.map_or(end, |e: Day| e.max(end)));
                } else {
                    running = true;
                }
            }
            Some(end) => {
                if k.renewal_on.is_none() {
                    not_renewed = Some(not_renewed.map_or(end, |e: Day| e.max(end)));
                }
            }
        }
    }
    if let Some((received, effective, reason)) = cancellation {
        let reason = reason.cloned();
        return match effective {
            Some(e) if e < as_of => {
                if running || ending.is_some() || latest_start > e {
                    ContractState::None
                } else {
                    ContractState::Cancelled {
                        received,
                        effective,
                        reason,
                    }
                }
            }
            _ => ContractState::CancelPending {
                received,
                effective,
                reason,
            },
        };
    }
    if let Some(end) = ending
        && !running
    {
        return ContractState::EndingSoon { ends: end };
    }
    if let Some(end) = not_renewed
        && !running
        && ending.is_none()
        && latest_start <= end
    {
        return ContractState::NotRenewed { ended: end };
    }
    ContractState::None
}

/// The articles delisted by the analysis date by sku hash: sku and delisting day.
pub(super) type Delistings<'a> = HashMap<u64, Vec<(&'a str, Day)>>;

/// A favourite article delisted shortly before the stop: sku, delisting day, times bought.
pub(super) type Delisted = (String, Day, u32);
/// A favourite article that became dearer shortly before the stop: sku, percent, old and
/// new unit price (cents), first day at the new price.
pub(super) type Risen = (String, f64, i64, i64, Day);

/// Looks at the articles bought at least `favourite_min_purchases` times (on distinct days)
/// for a delisting shortly before the stop and for a price rise within the customer's last
/// three purchases.
pub(super) fn favourites(
    h: &CustomerHistory,
    as_of: Day,
    delisted: &Delistings<'_>,
    f: &Features,
    t: &Thresholds,
    scratch: &mut Scratch,
) -> (Option<Delisted>, Option<Risen>) {
    let (Some(last), true) = (f.last, f.purchase_days >= t.favourite_min_purchases) else {
        return (None, None);
    };
    // The first day of the customer's last three purchases.
    let recent_from = {
        let (mut seen, mut day) = (0, last);
        for o in h.orders.iter().rev().filter(|o| !o.cancelled) {
            let d = day_at(&o.ordered_at);
            if seen == 0 || d != day {
                seen += 1;
                day = d;
                if seen == 3 {
                    break;
                }
            }
        }
        day
    };
    // Lines grouped by article: sorted by the sku's hash, then by day. The strings are
    // read only where a group has a finding; should two skus share a hash there, the
    // customer is grouped again by the strings themselves.
    let skus = &mut scratch.skus;
    skus.clear();
    let cutoff = date_of(as_of + 1)
        .and_hms_opt(0, 0, 0)
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc());
    for (i, l) in h.lines.iter().enumerate() {
        if l.sku().is_some() && l.quantity > 0 && l.ordered_at < cutoff {
            skus.push((l.sku_key(), i, day_at(&l.ordered_at), l.unit_price.cents()));
        }
    }
    skus.sort_unstable_by_key(|k| (k.0, k.2, k.1));
    match favourite_findings(h, skus, recent_from, last, delisted, t) {
        Some(found) => found,
        None => {
            group_by_strings(h, skus);
            favourite_findings(h, skus, recent_from, last, delisted, t)
                .expect("groups numbered by sku hold one sku each")
        }
    }
}

/// Sorts the lines by sku string and day and numbers the groups in the first field.
fn group_by_strings(h: &CustomerHistory, skus: &mut [(u64, usize, Day, i64)]) {
    let sku_of = |k: &(u64, usize, Day, i64)| h.lines[k.1].sku();
    skus.sort_unstable_by(|a, b| sku_of(a).cmp(&sku_of(b)).then(a.2.cmp(&b.2)));
    let mut group = 0;
    for i in 0..skus.len() {
        if i > 0 && sku_of(&skus[i - 1]) != sku_of(&skus[i]) {
            group += 1;
        }
        skus[i].0 = group;
    }
}

/// The findings over lines sorted into groups by their first field; `None` when a group
/// with a finding turns out to hold more than one sku.
fn favourite_findings(
    h: &CustomerHistory,
    skus: &[(u64, usize, Day, i64)],
    recent_from: Day,
    last: Day,
    delisted: &Delistings<'_>,
    t: &Thresholds,
) -> Option<(Option<Delisted>, Option<Risen>)> {
    let window = t.delisting_window_days as i32;
    let min_times = t.favourite_min_purchases;
    let mut best_delisted: Option<Delisted> = None;
    let mut best_risen: Option<Risen> = None;
    let mut start = 0;
    while start < skus.len() {
        let mut end = start + 1;
        while end < skus.len() && skus[end].0 == skus[start].0 {
            end += 1;
        }
        let group = &skus[start..end];
        start = end;
        // The group's sku, read only when the group has a finding.
        let sku = || {
            let sku = h.lines[group[0].1].sku().unwrap_or("");
            group
                .iter()
                .all(|g| h.lines[g.1].sku() == Some(sku))
                .then_some(sku)
        };
        let mut times = 0u32;
        let mut prev_day = None;
        for g in group {
            if prev_day != Some(g.2) {
                times += 1;
                prev_day = Some(g.2);
            }
        }
        if times < min_times {
            continue;
        }
        let last_bought = group[group.len() - 1].2;
        if let Some(entries) = delisted.get(&group[0].0) {
            let sku = sku()?;
            if let Some(&(_, d)) = entries.iter().find(|e| e.0 == sku)
                && d > last_bought
                && d >= last - window
                && d <= last + window
                && best_delisted.as_ref().is_none_or(|b| b.1 < d)
            {
                best_delisted = Some((sku.to_string(), d, times));
            }
        }
        // A rise: the first purchase at a price at least `price_increase_pct` above the
        // lowest price paid before it, within the customer's last three purchases.
        let mut lowest = i64::MAX;
        for g in group {
            if lowest > 0 && lowest < i64::MAX && g.2 >= recent_from {
                let pct = (g.3 - lowest) as f64 / lowest as f64 * 100.0;
                if pct >= t.price_increase_pct {
                    if best_risen.as_ref().is_none_or(|b| b.1 < pct) {
                        best_risen = Some((sku()?.to_string(), pct, lowest, g.3, g.2));
                    }
                    break;
                }
            }
            lowest = lowest.min(g.3);
        }
    }
    Some((best_delisted, best_risen))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::Money;
    use crate::analysis::history::LineFact;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 10, 0, 0).unwrap()
    }

    /// Two articles bought three times each, the second one 20 % dearer at the end.
    fn history() -> CustomerHistory {
        let line = |d, sku: &str, cents| {
            LineFact::new(at(d), Some(sku.into()), Money::from_cents(cents), 1)
        };
        CustomerHistory {
            external_id: "K1".into(),
            segment: None,
            industry: None,
            created_at: None,
            orders: Vec::new(),
            lines: vec![
                line(1, "A-1", 1000),
                line(1, "B-2", 500),
                line(5, "A-1", 1000),
                line(5, "B-2", 500),
                line(9, "A-1", 1000),
                line(9, "B-2", 600),
            ],
            complaints: Vec::new(),
            contracts: Vec::new(),
        }
    }

    #[test]
    fn a_shared_sku_hash_is_detected_and_grouping_falls_back_to_the_strings() {
        let h = history();
        let t = Thresholds::default();
        let no_delistings = Delistings::new();
        let rows = |key: &dyn Fn(&LineFact) -> u64| {
            let mut rows: Vec<_> = h
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| (key(l), i, day_at(&l.ordered_at), l.unit_price.cents()))
                .collect();
            rows.sort_unstable_by_key(|k| (k.0, k.2, k.1));
            rows
        };
        let (first, last) = (day_at(&at(1)), day_at(&at(9)));
        // Distinct keys: the rise of B-2 is found.
        let found =
            favourite_findings(&h, &rows(&|l| l.sku_key()), first, last, &no_delistings, &t)
                .expect("one sku per group");
        let risen = found.1.clone().expect("the price rise of B-2");
        assert_eq!((risen.0.as_str(), risen.2, risen.3), ("B-2", 500, 600));
        // One key for both skus (a hash collision): the mixed group is refused, not merged.
        assert_eq!(
            favourite_findings(&h, &rows(&|_| 7), first, last, &no_delistings, &t),
            None
        );
        // Grouped again by the strings, the same finding.
        let mut regrouped = rows(&|_| 7);
        group_by_strings(&h, &mut regrouped);
        let again = favourite_findings(&h, &regrouped, first, last, &no_delistings, &t)
            .expect("one sku per group");
        assert_eq!(again, found);
    }
}
