//! Who counts as lost, from when, and who is about to be: statuses, kinds of loss, likely
//! causes, early-warning alerts and customer values, decided from the data as of a date.
//!
//! [`analyze`] takes every customer's history, the product range and the analysis date, and
//! returns for every customer a [`Status`] (active, at risk, sleeping, lost), the
//! [`LossKind`] (how they left or are leaving), the day of the loss, the
//! [`Cause`] the data point to, P(alive), expected purchases, a customer lifetime value, and
//! the machine-readable [`Evidence`] behind each decision; plus the early-warning
//! [`Alert`]s for the customers who can still be kept.
//!
//! How it decides, and why:
//! - **Nothing after the analysis date counts.** Every history is first cut to what was
//!   known at the end of `as_of` ([`CustomerHistory::as_of`]), so a backtest as of an
//!   earlier date sees exactly what the company saw then.
//! - **Contracts speak first.** A cancellation that has taken effect is a loud loss, a
//!   fixed term that ended without renewal a quiet one; a cancellation still pending or a
//!   term ending soon without renewal puts the customer at risk.
//! - **Otherwise each customer's own rhythm decides.** Silence is measured in the
//!   customer's own median gap between purchases ("a customer who buys every week and has
//!   been silent for two months is more likely gone than one who buys twice a year");
//!   customers without enough purchases for a rhythm fall back to the day thresholds of
//!   their segment or industry ([`Settings`], e.g. inactive after 180 days). P(alive) from
//!   BG/NBD (weeks, calibration up to `as_of`) must agree before a silent customer is
//!   called lost; a customer who came back from a pause as long as the current one before
//!   is sleeping, not lost.
//! - **A reason to leave makes an inactive customer lost, not sleeping**: one who went
//!   quiet after a complaint left unresolved, repeated late deliveries, their favourite
//!   article delisted or made dearer, or orders cancelled as in insolvency. Sleepers pause
//!   without such a reason.
//! - **The kind of loss follows the last traces**: a complaint not resolved to the
//!   customer's satisfaction shortly before they went quiet, gaps that grew or baskets that
//!   shrank before the stop, or nothing (a silent defector).
//! - **Causes come from the data only**: late deliveries, an unresolved complaint, a
//!   favourite article delisted or risen in price shortly before the stop, payment trouble,
//!   or the reason written on a cancellation. Competitors and moves are only known when a
//!   customer says so.
//!
//! [`score_against_truth`] compares the results with the demo company's planted truth and
//! [`backtest`] with what customers actually did after the analysis date.
//!
//! The module is pure: no IO, no clock, no randomness.

mod backtest;
mod classify;
mod features;
mod history;
mod score;
mod settings;

pub use backtest::{Backtest, CalibrationBin, StatusOutcome, backtest};
pub use history::{ComplaintFact, ContractFact, CustomerHistory, LineFact, OrderFact, ProductFact};
pub use score::{ClassScore, TruthScore, score_against_truth};
pub use settings::{RepeatModel, Scope, Settings, SettingsError, ThresholdOverrides, Thresholds};

pub use crate::demo::{Cause, LossKind};

use chrono::NaiveDate;

use crate::Money;
use crate::models::FitError;
use crate::records::Satisfaction;

/// A customer's status on the analysis date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Active,
    AtRisk,
    Sleeping,
    Lost,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Active,
        Status::AtRisk,
        Status::Sleeping,
        Status::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::AtRisk => "at_risk",
            Status::Sleeping => "sleeping",
            Status::Lost => "lost",
        }
    }
}

/// One piece of evidence behind a status, a kind of loss, a cause or an alert: what was
/// seen, with its numbers and dates.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Evidence {
    /// Days since the last purchase, and the customer's usual (median) gap where they have
    /// a rhythm.
    DaysSilent {
        days: i64,
        usual_gap_days: Option<f64>,
        last_purchase_on: NaiveDate,
    },
    /// The customer never bought (only cancelled orders, or none).
    NoPurchase {
        customer_since: Option<NaiveDate>,
    },
    /// P(alive) on the analysis date.
    PAlive {
        value: f64,
    },
    /// P(alive) fell from `from` (on `since`) to `to`.
    PAliveDrop {
        from: f64,
        to: f64,
        since: NaiveDate,
    },
    /// The customer came back after a pause of `days` before (which ended on `ended_on`).
    EarlierPause {
        days: i64,
        ended_on: NaiveDate,
    },
    /// A complaint not resolved to the customer's satisfaction.
    Complaint {
        opened_on: NaiveDate,
        satisfied: Satisfaction,
        resolved_on: Option<NaiveDate>,
    },
    /// A slow first answer from customer service (`None`: no answer yet).
    SlowResponse {
        opened_on: NaiveDate,
        hours: Option<f64>,
    },
    /// Late deliveries among the last orders.
    LateDeliveries {
        count: u32,
        avg_days_late: f64,
        last_on: NaiveDate,
    },
    /// Cancelled orders among the last orders (payment trouble).
    CancelledOrders {
        count: u32,
        last_on: NaiveDate,
    },
    ContractCancelled {
        received_on: NaiveDate,
        effective_on: Option<NaiveDate>,
        reason: Option<String>,
    },
    ContractNotRenewed {
        ended_on: NaiveDate,
    },
    /// A contract ends soon and no renewal is agreed.
    ContractEnding {
        ends_on: NaiveDate,
        days_left: i64,
    },
    /// Purchases per year: earlier rhythm and the recent one.
    FrequencyDrop {
        from: f64,
        to: f64,
    },
    /// Order value: earlier median and the mean of the last three orders.
    BasketDrop {
        from: Money,
        to: Money,
    },
    DelistedFavourite {
        sku: String,
        delisted_on: NaiveDate,
        times_bought: u32,
    },
    PriceIncrease {
        sku: String,
        pct: f64,
        from: Money,
        to: Money,
        first_paid_on: NaiveDate,
    },
    /// The share of orders with a discount or voucher.
    Discounts {
        share: f64,
        orders: u32,
    },
}

/// An early-warning signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    FallingFrequency,
    FallingBasket,
    UnresolvedComplaint,
    RepeatedLateDeliveries,
    SlowSupport,
    ContractEndApproaching,
    PaymentTrouble,
    PAliveDrop,
}

impl Signal {
    pub const ALL: [Signal; 8] = [
        Signal::FallingFrequency,
        Signal::FallingBasket,
        Signal::UnresolvedComplaint,
        Signal::RepeatedLateDeliveries,
        Signal::SlowSupport,
        Signal::ContractEndApproaching,
        Signal::PaymentTrouble,
        Signal::PAliveDrop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::FallingFrequency => "falling_frequency",
            Signal::FallingBasket => "falling_basket",
            Signal::UnresolvedComplaint => "unresolved_complaint",
            Signal::RepeatedLateDeliveries => "repeated_late_deliveries",
            Signal::SlowSupport => "slow_support",
            Signal::ContractEndApproaching => "contract_end_approaching",
            Signal::PaymentTrouble => "payment_trouble",
            Signal::PAliveDrop => "p_alive_drop",
        }
    }
}

/// An early-warning alert for one customer (for the customer's account owner).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Index into the input histories (and [`Analysis::customers`]).
    pub customer_idx: usize,
    pub signal: Signal,
    /// The day the signal first held (on or before the analysis date).
    pub raised_on: NaiveDate,
    pub evidence: Vec<Evidence>,
}

/// The result for one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerResult {
    pub status: Status,
    /// For lost customers how they left; for customers at risk the kind of loss under way.
    pub loss_kind: Option<LossKind>,
    /// The day the loss happened (lost customers only).
    pub lost_on: Option<NaiveDate>,
    pub evidence: Vec<Evidence>,
    pub p_alive: f64,
    pub expected_transactions_52w: f64,
    /// Discounted expected residual margin: expected purchases over `clv_years`, discounted
    /// at `discount_rate_per_year`, times the expected spend per purchase (Gamma-Gamma on
    /// gross order values), times the customer's margin ratio.
    pub clv: Money,
    pub bargain_hunter: bool,
    /// The cause the data point to (at-risk, sleeping and lost customers only).
    pub likely_cause: Option<Cause>,
}

/// The fitted models.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSummary {
    pub model: RepeatModel,
    /// Parameters as named in the papers (`r`, `alpha`, `a`, `b`; `s`, `beta`).
    pub params: Vec<(&'static str, f64)>,
    pub loglik: f64,
    pub converged: bool,
    /// Customers the model was fitted on (those with at least one purchase).
    pub customers: usize,
    /// Time unit of the model.
    pub time_unit: &'static str,
    /// The calibration period ends here (everything up to the analysis date).
    pub calibration_end: NaiveDate,
    /// Gamma-Gamma spend parameters `p`, `q`, `gamma` (currency units), when they could be
    /// fitted; otherwise every customer's own mean spend is used.
    pub spend_params: Option<Vec<(&'static str, f64)>>,
    /// Repeat buyers the spend model was fitted on.
    pub spend_customers: usize,
}

/// The analysis of a customer base as of one date.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub as_of: NaiveDate,
    pub model: ModelSummary,
    /// One result per input history, in input order.
    pub customers: Vec<CustomerResult>,
    /// Early-warning alerts, by customer index.
    pub alerts: Vec<Alert>,
}

impl Analysis {
    /// How many customers have each status, in [`Status::ALL`] order.
    pub fn status_counts(&self) -> [usize; 4] {
        let mut n = [0; 4];
        for c in &self.customers {
            n[c.status as usize] += 1;
        }
        n
    }
}

/// Why the analysis cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    #[error("invalid settings: {0}")]
    Settings(#[from] SettingsError),
    #[error(
        "the repeat-buying model cannot be fitted: {0}; import more orders (at least {min} customers with a purchase, some of them with two)",
        min = crate::models::MIN_CUSTOMERS
    )]
    Fit(FitError),
}

/// Analyses the customers as of the end of `as_of`: facts after it are ignored.
///
/// # Errors
/// [`AnalysisError::Settings`] for invalid settings, [`AnalysisError::Fit`] when the
/// repeat-buying model cannot be fitted (too few customers with purchases, or no repeat
/// purchase at all).
pub fn analyze(
    histories: &[CustomerHistory],
    products: &[ProductFact],
    as_of: NaiveDate,
    settings: &Settings,
) -> Result<Analysis, AnalysisError> {
    classify::run(histories, products, as_of, settings)
}
