//! The skeleton of one customer's story: which scenario they live through, their buying
//! rhythm, and the key days (first order, last order, the day they were lost, contract
//! dates). Days count from the start of the simulated history; `horizon` is the as-of day.
//!
//! A plan uses its own random stream, separate from the one that fills in the records, so
//! that a referred customer can look up when its referrer was created without generating
//! the referrer's orders.

use super::{Cause, Demo, LossKind, TruthStatus};
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scenario {
    Active,
    RiskFading,
    RiskLate,
    RiskComplaint,
    RiskCancelPending,
    RiskContractEnding,
    Sleeping,
    LostCompetitor,
    LostMovedAway,
    LostLate,
    LostDelisted,
    LostPrice,
    LostComplaint,
    LostFadeOut,
    LostLoud,
    LostQuiet,
    LostInsolvent,
}

use Scenario::*;

/// Target shares in percent: 55 active, 10 at risk, 10 sleeping, 25 lost.
const SHOP_MIX: &[(Scenario, f64)] = &[
    (Active, 55.0),
    (RiskFading, 5.5),
    (RiskLate, 1.5),
    (RiskComplaint, 1.5),
    (RiskCancelPending, 0.8),
    (RiskContractEnding, 0.7),
    (Sleeping, 10.0),
    (LostCompetitor, 3.5),
    (LostMovedAway, 2.0),
    (LostLate, 3.0),
    (LostDelisted, 3.0),
    (LostPrice, 2.5),
    (LostComplaint, 3.5),
    (LostFadeOut, 4.5),
    (LostLoud, 2.0),
    (LostQuiet, 1.0),
];

/// The wholesaler loses more customers through contracts and some through insolvency.
const TRADE_MIX: &[(Scenario, f64)] = &[
    (Active, 55.0),
    (RiskFading, 3.5),
    (RiskLate, 1.5),
    (RiskComplaint, 1.5),
    (RiskCancelPending, 2.0),
    (RiskContractEnding, 1.5),
    (Sleeping, 10.0),
    (LostCompetitor, 3.0),
    (LostMovedAway, 1.0),
    (LostLate, 2.5),
    (LostDelisted, 2.0),
    (LostPrice, 2.5),
    (LostComplaint, 2.5),
    (LostFadeOut, 2.0),
    (LostLoud, 4.5),
    (LostQuiet, 3.0),
    (LostInsolvent, 2.0),
];

pub(super) fn cumulative_mix(b2b: bool) -> Vec<(Scenario, f64)> {
    let mix = if b2b { TRADE_MIX } else { SHOP_MIX };
    let total: f64 = mix.iter().map(|(_, w)| w).sum();
    let mut acc = 0.0;
    mix.iter()
        .map(|&(s, w)| {
            acc += w / total;
            (s, acc)
        })
        .collect()
}

impl Scenario {
    pub fn status(self) -> TruthStatus {
        match self {
            Active => TruthStatus::Active,
            RiskFading | RiskLate | RiskComplaint | RiskCancelPending | RiskContractEnding => {
                TruthStatus::AtRisk
            }
            Sleeping => TruthStatus::Sleeping,
            _ => TruthStatus::Lost,
        }
    }

    pub fn loss_kind(self) -> Option<LossKind> {
        match self {
            Active | Sleeping | RiskLate => None,
            RiskFading | LostFadeOut => Some(LossKind::FadeOut),
            RiskComplaint | LostComplaint => Some(LossKind::ComplainerWhoLeft),
            RiskCancelPending | LostLoud => Some(LossKind::LoudCanceller),
            RiskContractEnding | LostQuiet => Some(LossKind::QuietNonRenewer),
            LostCompetitor | LostMovedAway | LostLate | LostDelisted | LostPrice
            | LostInsolvent => Some(LossKind::SilentDefector),
        }
    }
}

/// A contract (B2B frame contract or B2C subscription).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ContractPlan {
    /// Auto-renewing yearly until cancelled (one record); otherwise a chain of fixed
    /// 12-month terms, each renewal a new record.
    pub auto_renew: bool,
    pub start: i32,
    /// The last day of the contract when it was cancelled or not renewed (may lie after
    /// the as-of date when the end is still pending).
    pub end: Option<i32>,
    pub cancel_received: Option<i32>,
    pub reason: Option<&'static str>,
    /// For a fixed term that ends soon: whether its renewal has been agreed already.
    pub renewal_agreed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Plan {
    pub scenario: Scenario,
    pub cause: Option<Cause>,
    /// Mean days between orders.
    pub mean_gap: f64,
    /// Shape of the gamma-distributed gaps: 1 is erratic, 8 is clockwork.
    pub regularity: f64,
    /// Day of the first order (the customer account is created with it).
    pub created: i32,
    /// One or two stretches of buying: (first day, last day, orders). Two stretches mean a
    /// pause in between (an earlier sleep, or the time around a price rise).
    pub segments: [(i32, i32, u32); 2],
    pub two_segments: bool,
    /// The last gaps grow and the baskets shrink.
    pub fade: bool,
    /// How many of the last orders were delivered late.
    pub late_tail: u32,
    /// How many of the last orders were cancelled (payment trouble).
    pub cancelled_tail: u32,
    /// A planted favourite article (delisted or risen in price) and the order index from
    /// which on every order contains it.
    pub favourite: Option<(usize, u32)>,
    pub complaint_day: Option<i32>,
    pub lost_on: Option<i32>,
    pub returns_on: Option<i32>,
    pub contract: Option<ContractPlan>,
    pub bargain: bool,
}

impl Plan {
    pub fn n_orders(&self) -> u32 {
        self.segments[0].2
            + if self.two_segments {
                self.segments[1].2
            } else {
                0
            }
    }
}

/// Orders needed to cover `span` days at the given rhythm (at least one).
fn orders_for(span: i32, gap: f64) -> u32 {
    (1.0 + (span.max(0) as f64 / gap).round()).min(900.0) as u32
}

fn uniform_in(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + rng.uniform() * (hi - lo)
}

fn days_in(rng: &mut Rng, lo: i32, hi: i32) -> i32 {
    if hi <= lo {
        lo
    } else {
        rng.range(lo as i64, hi as i64) as i32
    }
}

impl Demo {
    pub(super) fn plan(&self, idx: u64) -> Plan {
        let mut rng = Rng::fork(self.config.seed ^ 0x9A1E_5EED_0000_0001, idx);
        let u = rng.uniform();
        let scenario = self
            .mix
            .iter()
            .find(|(_, acc)| u < *acc)
            .map_or(Active, |(s, _)| *s);
        let b2b = self.config.b2b;
        let bargain =
            !matches!(scenario, LostInsolvent) && rng.chance(if b2b { 0.03 } else { 0.06 });
        // Purchase rates vary between customers like the gamma mixing of BG/NBD: a few buy
        // weekly, most a few times a year.
        let annual = if b2b {
            rng.gamma(2.0, 5.5 / 2.0).clamp(2.0, 52.0)
        } else {
            rng.gamma(1.4, 5.0 / 1.4).clamp(1.5, 52.0)
        };
        let mut plan = Plan {
            scenario,
            cause: None,
            mean_gap: 365.0 / annual,
            regularity: uniform_in(&mut rng, 1.5, 8.0),
            created: 0,
            segments: [(0, 0, 1); 2],
            two_segments: false,
            fade: false,
            late_tail: 0,
            cancelled_tail: 0,
            favourite: None,
            complaint_day: None,
            lost_on: None,
            returns_on: None,
            contract: None,
            bargain,
        };
        match scenario.status() {
            TruthStatus::Active | TruthStatus::AtRisk => self.plan_current(&mut rng, &mut plan),
            TruthStatus::Sleeping => self.plan_sleeping(&mut rng, &mut plan),
            TruthStatus::Lost => self.plan_lost(&mut rng, &mut plan),
        }
        // A stretch that spans days needs an order at each end.
        for seg in &mut plan.segments {
            if seg.1 > seg.0 && seg.2 < 2 {
                seg.2 = 2;
            }
        }
        plan
    }

    /// Sets a single buying stretch ending on `last`, starting far enough back for at
    /// least `min_orders` orders.
    fn single_stretch(&self, rng: &mut Rng, plan: &mut Plan, last: i32, min_orders: u32) {
        let m = plan.mean_gap;
        let need = ((min_orders.max(1) - 1) as f64 * m).ceil() as i32;
        let span = need
            .max((rng.uniform() * last as f64) as i32)
            .min(last.max(0));
        let first = last - span;
        let mut n = orders_for(span, m).max(min_orders);
        if span == 0 {
            n = 1;
        }
        plan.created = first;
        plan.segments[0] = (first, last, n);
    }

    /// Customers who still buy: active ones and those at risk.
    fn plan_current(&self, rng: &mut Rng, plan: &mut Plan) {
        let h = self.horizon;
        let b2b = self.config.b2b;
        let m = plan.mean_gap;
        match plan.scenario {
            RiskFading => {
                // The last gaps grow by about a third each, so the silence since the last
                // order is longer than the customer's old rhythm but not yet a loss.
                let m = plan.mean_gap.min(h as f64 / 12.0);
                plan.mean_gap = m;
                plan.fade = true;
                let last = h - (uniform_in(rng, 1.0, 2.0) * m) as i32;
                self.single_stretch(rng, plan, last, 8);
            }
            RiskLate => {
                // Late enough before the as-of date that the late parcels have arrived.
                let m = plan.mean_gap.min(h as f64 / 6.0);
                plan.mean_gap = m;
                plan.cause = Some(Cause::LateDeliveries);
                plan.late_tail = 2;
                let last = h - days_in(rng, 25, 45);
                self.single_stretch(rng, plan, last, 3);
            }
            RiskComplaint => {
                plan.cause = Some(Cause::UnresolvedComplaint);
                let q = h - days_in(rng, 5, 45);
                plan.complaint_day = Some(q);
                let last = q - days_in(rng, 5, 14);
                self.single_stretch(rng, plan, last, 2);
            }
            _ => {
                // A pending cancellation needs a contract that started well before it.
                let latest = if plan.scenario == RiskCancelPending {
                    h - 120
                } else {
                    h - 1
                };
                let created = days_in(rng, 0, latest);
                let mut last = (h - (rng.uniform() * m) as i32).max(created);
                let n = orders_for(last - created, m);
                if n == 1 {
                    last = created;
                }
                plan.created = created;
                plan.segments[0] = (created, last, n);
            }
        }
        let created = plan.created;
        let contract_share = if b2b { 0.6 } else { 0.06 };
        match plan.scenario {
            RiskCancelPending => {
                // The cancellation arrived in the last weeks; it takes effect at the next
                // contract anniversary at least three months later.
                let received = h - days_in(rng, 1, 45);
                let start = days_in(rng, created, (received - 60).max(created));
                let mut k = 1;
                while self.add_years(start, k) < received + 90 {
                    k += 1;
                }
                let end = self.add_years(start, k) - 1;
                let (cause, reason) = cancel_reason(rng, b2b);
                plan.cause = cause;
                plan.contract = Some(ContractPlan {
                    auto_renew: true,
                    start,
                    end: Some(end),
                    cancel_received: Some(received),
                    reason: Some(reason),
                    renewal_agreed: false,
                });
            }
            RiskContractEnding => {
                // A fixed term ends within three months and nobody has renewed it.
                let end = h + days_in(rng, 2, 90);
                let mut k = 1;
                while k < 4 && self.add_years(end + 1, -(k + 1)) >= created {
                    k += 1;
                }
                let start = self.add_years(end + 1, -k);
                let end = self.add_years(start, k) - 1;
                plan.created = plan.created.min(start);
                plan.segments[0].0 = plan.created;
                plan.contract = Some(ContractPlan {
                    auto_renew: false,
                    start,
                    end: Some(end),
                    cancel_received: None,
                    reason: None,
                    renewal_agreed: false,
                });
            }
            _ if rng.chance(contract_share) => {
                let start = days_in(rng, created, (created + 60).min(h - 1));
                plan.contract = Some(ContractPlan {
                    auto_renew: rng.chance(0.5),
                    start,
                    end: None,
                    cancel_received: None,
                    reason: None,
                    renewal_agreed: true,
                });
            }
            _ => {}
        }
        // The first order of a contract customer cannot lie after the contract start.
        if plan.segments[0].0 > plan.created {
            plan.segments[0].0 = plan.created;
        }
    }

    fn plan_sleeping(&self, rng: &mut Rng, plan: &mut Plan) {
        let h = self.horizon;
        let m = plan.mean_gap.min(h as f64 / 8.0);
        plan.mean_gap = m;
        // A pause of three to six usual gaps, at least three months.
        let pause = ((uniform_in(rng, 3.0, 6.0) * m) as i32)
            .clamp(90, 600)
            .min(h / 2);
        let last = h - pause;
        plan.returns_on = Some(h + days_in(rng, 14, 180));
        self.single_stretch(rng, plan, last, 2);
        // Many sleepers have slept before: an earlier pause of similar length, after which
        // they came back. This is the trace that tells a sleeper from a lost customer.
        let (first, last, _) = plan.segments[0];
        let earlier = (pause as f64 * uniform_in(rng, 0.6, 1.1)) as i32;
        let span = last - first;
        if rng.chance(0.6) && span as f64 > earlier as f64 + 4.0 * m {
            let active = span - earlier;
            let a_len = ((active as f64 - 2.0 * m) * rng.uniform() + m) as i32;
            let a_end = first + a_len;
            let b_start = a_end + earlier;
            plan.segments = [
                (first, a_end, orders_for(a_len, m).max(2)),
                (b_start, last, orders_for(last - b_start, m).max(2)),
            ];
            plan.two_segments = true;
        }
    }

    /// Picks the day of the loss so that the customer had time for `min_orders` orders
    /// plus `lead` days before it, and has been silent for at least two and a half usual
    /// gaps (and two months) by the as-of date. Shortens the rhythm where the history is
    /// too short for it.
    fn lost_day(&self, rng: &mut Rng, plan: &mut Plan, min_orders: u32, lead: i32) -> i32 {
        let h = self.horizon;
        for _ in 0..12 {
            let m = plan.mean_gap;
            let quiet = (2.5 * m).max(60.0) as i32;
            let hi = h - quiet - 10;
            let lo = (((min_orders - 1) as f64 * m) as i32 + lead + 1).max(h - 1100);
            if lo <= hi {
                return days_in(rng, lo, hi);
            }
            plan.mean_gap = (m * 0.7).max(7.0);
        }
        h - 70
    }

    fn plan_lost(&self, rng: &mut Rng, plan: &mut Plan) {
        let b2b = self.config.b2b;
        match plan.scenario {
            LostCompetitor | LostMovedAway => {
                plan.cause = Some(if plan.scenario == LostCompetitor {
                    Cause::Competitor
                } else {
                    Cause::MovedAway
                });
                let lost = self.lost_day(rng, plan, 2, 0);
                plan.lost_on = Some(lost);
                self.single_stretch(rng, plan, lost, 2);
            }
            LostLate => {
                // The last two or three orders arrive one to three weeks late; the customer
                // is lost the day the last of them arrives at the latest.
                plan.cause = Some(Cause::LateDeliveries);
                plan.late_tail = days_in(rng, 2, 3) as u32;
                let lost = self.lost_day(rng, plan, 4, 30);
                plan.lost_on = Some(lost);
                self.single_stretch(rng, plan, lost - 30, 4);
            }
            LostComplaint => {
                plan.cause = Some(Cause::UnresolvedComplaint);
                let lost = self.lost_day(rng, plan, 2, 45);
                let q = lost - days_in(rng, 3, 30);
                plan.complaint_day = Some(q);
                plan.lost_on = Some(lost);
                let last = q - days_in(rng, 5, 14);
                self.single_stretch(rng, plan, last, 2);
            }
            LostFadeOut => {
                plan.cause = if rng.chance(0.5) {
                    Some(Cause::Competitor)
                } else {
                    None
                };
                plan.fade = true;
                let lost = self.lost_day(rng, plan, 8, 0);
                plan.lost_on = Some(lost);
                self.single_stretch(rng, plan, lost, 8);
            }
            LostInsolvent => {
                plan.cause = Some(Cause::Insolvency);
                plan.cancelled_tail = 2;
                let lost = self.lost_day(rng, plan, 5, 30);
                plan.lost_on = Some(lost);
                let last = lost - days_in(rng, 0, 30);
                self.single_stretch(rng, plan, last, 5);
            }
            LostDelisted => self.plan_delisted(rng, plan),
            LostPrice => self.plan_price(rng, plan),
            LostLoud | LostQuiet => {
                // At least a year of contract before the end.
                let lost = self.lost_day(rng, plan, 2, 400);
                let mut k = days_in(rng, 1, 3);
                while k > 1 && self.add_years(lost + 1, -k) < 0 {
                    k -= 1;
                }
                let start = self.add_years(lost + 1, -k).max(0);
                // Counted forward again, the end falls on the day before an anniversary even
                // when the calendar has a 29 February in between.
                let lost = self.add_years(start, k) - 1;
                let created = (start - days_in(rng, 0, 60)).max(0);
                plan.lost_on = Some(lost);
                if plan.scenario == LostLoud {
                    let received = lost - days_in(rng, 90, 200);
                    let (cause, reason) = cancel_reason(rng, b2b);
                    plan.cause = cause;
                    plan.contract = Some(ContractPlan {
                        auto_renew: true,
                        start,
                        end: Some(lost),
                        cancel_received: Some(received),
                        reason: Some(reason),
                        renewal_agreed: false,
                    });
                    let last = (received + days_in(rng, 0, 60)).min(lost).max(created);
                    plan.created = created;
                    plan.segments[0] = (created, last, orders_for(last - created, plan.mean_gap));
                } else {
                    plan.cause = if rng.chance(0.6) {
                        Some(Cause::Competitor)
                    } else {
                        None
                    };
                    plan.contract = Some(ContractPlan {
                        auto_renew: false,
                        start,
                        end: Some(lost),
                        cancel_received: None,
                        reason: None,
                        renewal_agreed: false,
                    });
                    let last = (lost - (rng.uniform() * plan.mean_gap) as i32).max(created);
                    plan.created = created;
                    plan.segments[0] = (created, last, orders_for(last - created, plan.mean_gap));
                }
                if plan.segments[0].2 == 1 {
                    plan.segments[0].1 = created;
                }
            }
            _ => unreachable!("not a loss scenario"),
        }
    }

    /// The customer's favourite everyday article is delisted; they try once or twice more
    /// elsewhere in the range and are gone within a month of the delisting.
    fn plan_delisted(&self, rng: &mut Rng, plan: &mut Plan) {
        let h = self.horizon;
        let cat = &self.catalogue;
        let f = cat.delisted_favourites
            [rng.range(0, cat.delisted_favourites.len() as i64 - 1) as usize];
        let d = cat.products[f].delisted_on.unwrap_or(h / 2);
        plan.cause = Some(Cause::DelistedFavourite);
        let lost = d + days_in(rng, 1, 30);
        plan.mean_gap = plan
            .mean_gap
            .min((h - lost - 10) as f64 / 2.5)
            .min((d - 31) as f64 / 3.5)
            .max(7.0);
        let last = d - days_in(rng, 1, (plan.mean_gap as i32).min(30));
        plan.lost_on = Some(lost);
        self.single_stretch(rng, plan, last, 4);
        let n = plan.n_orders();
        plan.favourite = Some((f, n.saturating_sub(3)));
    }

    /// The favourite article becomes at least 10 % dearer; the customer buys it once to
    /// three times at the new price and then stops.
    fn plan_price(&self, rng: &mut Rng, plan: &mut Plan) {
        let h = self.horizon;
        let cat = &self.catalogue;
        let f = cat.risen_favourites[rng.range(0, cat.risen_favourites.len() as i64 - 1) as usize];
        let p = cat.products[f].rise.map_or(h / 2, |(on, _)| on);
        plan.cause = Some(Cause::PriceIncrease);
        plan.mean_gap = plan.mean_gap.min((p - 10) as f64 / 3.0).max(7.0);
        let mut after = days_in(rng, 1, 3) as u32;
        loop {
            let m = plan.mean_gap;
            let b_start = p + (rng.uniform() * m) as i32;
            let last = b_start + ((after - 1) as f64 * m) as i32;
            if h - last >= (2.5 * m).max(60.0) as i32 || m <= 7.0 {
                let a_end = (p - 1 - (rng.uniform() * m) as i32).max(0);
                let span_a = ((2.0 * m) as i32)
                    .max((rng.uniform() * a_end as f64) as i32)
                    .min(a_end);
                let first = a_end - span_a;
                let n_a = orders_for(span_a, m).max(3);
                plan.created = first;
                plan.segments = [(first, a_end, n_a), (b_start, last, after)];
                plan.two_segments = true;
                plan.lost_on = Some(last);
                plan.favourite = Some((f, n_a - 2));
                return;
            }
            if after > 1 {
                after -= 1;
            } else {
                plan.mean_gap = (m * 0.7).max(7.0);
            }
        }
    }
}

/// The reason a loud canceller gives, and the cause it reveals.
fn cancel_reason(rng: &mut Rng, b2b: bool) -> (Option<Cause>, &'static str) {
    let u = rng.uniform();
    if u < 0.5 {
        (Some(Cause::Competitor), "Wechsel zu einem anderen Anbieter")
    } else if u < 0.75 {
        (
            Some(Cause::MovedAway),
            if b2b {
                "Standort wird geschlossen"
            } else {
                "Umzug ins Ausland"
            },
        )
    } else {
        (None, "Kein Bedarf mehr")
    }
}
