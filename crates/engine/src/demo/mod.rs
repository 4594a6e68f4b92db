//! The demo company: a deterministic, streaming simulation of a German online shop (or,
//! with `b2b`, a wholesaler for the hospitality trade) with planted, known truth.
//!
//! `winback demo` writes its customers, orders, order lines, products, complaints,
//! contracts, consents and referrals as export files, plus a truth file that says for every
//! customer whether they are active, at risk, sleeping or lost, how and why they were lost,
//! and whether they are a bargain hunter, insolvent or referred. Loss detection, cause
//! analysis and the exclusion rules are scored against that truth, so every planted story
//! leaves the traces in the data that a real shop's data would show: late deliveries before
//! the stop, an unsatisfied complaint shortly before leaving, a favourite article delisted,
//! a price rise on a favourite article, gaps that grow before a fade-out, cancellations and
//! contracts that end without renewal.
//!
//! Every customer is a pure function of `(seed, idx)` (see [`Demo::customer`]): customers
//! can be generated in any order, in parallel, and one at a time, so a demo of a million
//! customers never has to be held in memory. The simulation does no IO and reads no clock;
//! the as-of date is part of the configuration.

mod build;
mod catalogue;
mod plan;
mod tables;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, Utc};

use crate::Money;
use crate::records::{
    ComplaintRecord, ConsentRecord, ContractRecord, CustomerRecord, OrderLineRecord, OrderRecord,
    ProductRecord, ReferralRecord, Role,
};
use crate::rng::Rng;
use catalogue::Catalogue;
use plan::Scenario;

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    pub customers: u64,
    pub seed: u64,
    /// A wholesaler with business customers, contracts and account owners instead of a
    /// consumer shop.
    pub b2b: bool,
    /// The analysis date: nothing in the data happens after it.
    pub as_of: NaiveDate,
    /// How far back the shop's data goes (at least one year is used).
    pub history_years: u32,
}

impl DemoConfig {
    pub fn new(customers: u64, seed: u64, b2b: bool, as_of: NaiveDate) -> Self {
        DemoConfig {
            customers,
            seed,
            b2b,
            as_of,
            history_years: 4,
        }
    }
}

/// How experienced a staff member is with win-back conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Experience {
    Novice,
    Experienced,
    Expert,
}

impl Experience {
    pub fn as_str(self) -> &'static str {
        match self {
            Experience::Novice => "novice",
            Experience::Experienced => "experienced",
            Experience::Expert => "expert",
        }
    }
}

/// A member of the demo company's staff (the account owners of business customers are
/// the sales staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Win-back contacts this person can handle per week.
    pub capacity_per_week: u32,
    pub winback_experience: Experience,
}

/// The true state of a customer on the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TruthStatus {
    Active,
    AtRisk,
    Sleeping,
    Lost,
}

impl TruthStatus {
    pub const ALL: [TruthStatus; 4] = [
        TruthStatus::Active,
        TruthStatus::AtRisk,
        TruthStatus::Sleeping,
        TruthStatus::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TruthStatus::Active => "active",
            TruthStatus::AtRisk => "at_risk",
            TruthStatus::Sleeping => "sleeping",
            TruthStatus::Lost => "lost",
        }
    }
}

/// How a customer was lost (or, for customers at risk, how they are about to be lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossKind {
    LoudCanceller,
    QuietNonRenewer,
    ComplainerWhoLeft,
    FadeOut,
    SilentDefector,
}

impl LossKind {
    pub const ALL: [LossKind; 5] = [
        LossKind::LoudCanceller,
        LossKind::QuietNonRenewer,
        LossKind::ComplainerWhoLeft,
        LossKind::FadeOut,
        LossKind::SilentDefector,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LossKind::LoudCanceller => "loud_canceller",
            LossKind::QuietNonRenewer => "quiet_non_renewer",
            LossKind::ComplainerWhoLeft => "complainer_who_left",
            LossKind::FadeOut => "fade_out",
            LossKind::SilentDefector => "silent_defector",
        }
    }
}

/// Why a customer left (or is at risk). `None` in the truth means "cooled off without a
/// reason the company could fix".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    LateDeliveries,
    UnresolvedComplaint,
    DelistedFavourite,
    PriceIncrease,
    Competitor,
    MovedAway,
    Insolvency,
}

impl Cause {
    pub const ALL: [Cause; 7] = [
        Cause::LateDeliveries,
        Cause::UnresolvedComplaint,
        Cause::DelistedFavourite,
        Cause::PriceIncrease,
        Cause::Competitor,
        Cause::MovedAway,
        Cause::Insolvency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::LateDeliveries => "late_deliveries",
            Cause::UnresolvedComplaint => "unresolved_complaint",
            Cause::DelistedFavourite => "delisted_favourite",
            Cause::PriceIncrease => "price_increase",
            Cause::Competitor => "competitor",
            Cause::MovedAway => "moved_away",
            Cause::Insolvency => "insolvency",
        }
    }
}

/// The planted truth about one customer, for scoring the analyses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub external_id: String,
    pub status: TruthStatus,
    /// For lost customers how they left; for customers at risk the kind of loss under way
    /// where there is one.
    pub loss_kind: Option<LossKind>,
    pub cause: Option<Cause>,
    /// The day the customer was lost: the last purchase for silent defectors and
    /// fade-outs, the day a cancellation took effect or a contract ended, or the day of the
    /// triggering event (a late delivery, a complaint, a delisting) after the last purchase.
    pub lost_on: Option<NaiveDate>,
    /// For sleepers: the day they will buy again (after the as-of date).
    pub returns_on: Option<NaiveDate>,
    pub bargain_hunter: bool,
    pub insolvent: bool,
    /// The external id of the customer who referred this one.
    pub referred_by: Option<String>,
}

impl Truth {
    pub const CSV_HEADER: &'static str = concat!(
        "customer_id,status,loss_kind,cause,lost_on,returns_on,",
        "bargain_hunter,insolvent,referred_by"
    );

    /// One CSV line without the line break. No field can contain a comma or a quote (ids
    /// and snake_case names only), so no quoting is needed.
    pub fn to_csv_line(&self) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(96);
        let date = |d: Option<NaiveDate>| {
            d.map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let _ = write!(
            s,
            "{},{},{},{},{},{},{},{},{}",
            self.external_id,
            self.status.as_str(),
            self.loss_kind.map(LossKind::as_str).unwrap_or(""),
            self.cause.map(Cause::as_str).unwrap_or(""),
            date(self.lost_on),
            date(self.returns_on),
            self.bargain_hunter,
            self.insolvent,
            self.referred_by.as_deref().unwrap_or(""),
        );
        s
    }
}

/// Everything about one demo customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCustomer {
    pub customer: CustomerRecord,
    pub orders: Vec<OrderRecord>,
    pub lines: Vec<OrderLineRecord>,
    pub complaints: Vec<ComplaintRecord>,
    pub contracts: Vec<ContractRecord>,
    pub consents: Vec<ConsentRecord>,
    /// The referral that brought this customer, if any (recorded on the referred side so
    /// each customer stays independent of the others).
    pub referrals: Vec<ReferralRecord>,
    pub truth: Truth,
}

/// The demo company: its catalogue, staff and settings, derived from the configuration.
pub struct Demo {
    config: DemoConfig,
    start: NaiveDate,
    /// Days from `start` to `as_of`.
    horizon: i32,
    /// Calendar dates for day numbers `0..days.len()`, so the hot loop does no calendar
    /// arithmetic.
    days: Vec<NaiveDate>,
    catalogue: Catalogue,
    staff: Vec<StaffMember>,
    /// Indices into `staff` of the sales people who own business accounts.
    owners: Vec<usize>,
    /// The scenario mix as cumulative probabilities.
    mix: Vec<(Scenario, f64)>,
}

impl Demo {
    pub fn new(config: DemoConfig) -> Demo {
        let years = config.history_years.max(1);
        let start = config
            .as_of
            .checked_sub_months(Months::new(12 * years))
            .expect("as-of date too early for the demo history");
        let horizon = (config.as_of - start).num_days() as i32;
        // Scheduled dates (delivery promises, contract ends, returns of sleepers) lie up to
        // about two years after the as-of date.
        let days = (0..=horizon + 800)
            .map(|d| start + Days::new(d as u64))
            .collect();
        let catalogue = Catalogue::build(config.seed, config.b2b, horizon);
        let (staff, owners) = build::staff(&config);
        let mix = plan::cumulative_mix(config.b2b);
        Demo {
            config,
            start,
            horizon,
            days,
            catalogue,
            staff,
            owners,
            mix,
        }
    }

    pub fn config(&self) -> &DemoConfig {
        &self.config
    }

    pub fn staff(&self) -> Vec<StaffMember> {
        self.staff.clone()
    }

    /// The product range as of the as-of date: current prices, delisting dates.
    pub fn products(&self) -> Vec<ProductRecord> {
        self.catalogue
            .products
            .iter()
            .map(|p| {
                // A delisted article is exported with the last price it was sold at.
                let last_day = p.delisted_on.map_or(self.horizon, |d| d - 1);
                ProductRecord {
                    sku: p.sku.clone(),
                    name: Some(p.name.clone()),
                    category: Some(self.catalogue.categories[p.category].to_string()),
                    price: Some(Money::from_cents(p.price_at(last_day))),
                    delisted_on: p.delisted_on.map(|d| self.date(d)),
                }
            })
            .collect()
    }

    /// Customer number `idx` (0-based; its external id is `K` and `idx + 1`). A pure
    /// function of the seed and `idx`.
    pub fn customer(&self, idx: u64) -> DemoCustomer {
        build::customer(self, idx)
    }

    /// All customers of the configuration, one at a time.
    pub fn customers(&self) -> impl Iterator<Item = DemoCustomer> + '_ {
        (0..self.config.customers).map(|idx| self.customer(idx))
    }

    fn date(&self, day: i32) -> NaiveDate {
        match usize::try_from(day).ok().and_then(|d| self.days.get(d)) {
            Some(d) => *d,
            None => {
                if day >= 0 {
                    self.start + Days::new(day as u64)
                } else {
                    self.start - Days::new(day.unsigned_abs() as u64)
                }
            }
        }
    }

    fn at(&self, day: i32, seconds: u32) -> DateTime<Utc> {
        let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds.min(86_399), 0)
            .unwrap_or(NaiveTime::MIN);
        self.date(day).and_time(time).and_utc()
    }

    /// The day `years` calendar years after (or before) `day`.
    fn add_years(&self, day: i32, years: i32) -> i32 {
        let d = self.date(day);
        let moved = if years >= 0 {
            d.checked_add_months(Months::new(12 * years as u32))
        } else {
            d.checked_sub_months(Months::new(12 * years.unsigned_abs()))
        };
        moved.map_or(day, |m| (m - self.start).num_days() as i32)
    }

    fn rng_for(&self, idx: u64) -> Rng {
        Rng::fork(self.config.seed, idx)
    }
}
