//! The records an import produces: one plain struct per kind of input row, already parsed
//! and validated (money in cents, instants in UTC, calendar dates as dates).
//!
//! These are the contract between `winback-formats` (which builds them from files) and
//! `winback-store` (which commits them). They are not a wire format.

use chrono::{DateTime, NaiveDate, Utc};

use crate::Money;

/// The kinds of file `winback import <KIND>` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Customers,
    Orders,
    OrderLines,
    Products,
    Complaints,
    Contracts,
    Consents,
    Referrals,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Customers,
        Kind::Orders,
        Kind::OrderLines,
        Kind::Products,
        Kind::Complaints,
        Kind::Contracts,
        Kind::Consents,
        Kind::Referrals,
    ];

    /// The name used on the command line and in JSON output (`order-lines`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Orders => "orders",
            Kind::OrderLines => "order-lines",
            Kind::Products => "products",
            Kind::Complaints => "complaints",
            Kind::Contracts => "contracts",
            Kind::Consents => "consents",
            Kind::Referrals => "referrals",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a row refers to a customer: by the source system's customer id, or (as Shopify
/// order exports do) only by e-mail address. At least one is present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CustomerRef {
    ExternalId(String),
    Email(String),
}

/// B2B (a company) or B2C (a consumer). Matters for the consent rules (UWG §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    Business,
    Consumer,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Business => "b2b",
            Party::Consumer => "b2c",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostalAddress {
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 where the source gives one, else the source's text.
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub external_id: String,
    pub name: Option<String>,
    pub party: Option<Party>,
    /// Lower-cased, trimmed.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: PostalAddress,
    pub segment: Option<String>,
    pub industry: Option<String>,
    /// The staff user (by e-mail address) who owns the account.
    pub account_owner: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

impl CustomerRecord {
    pub fn new(external_id: impl Into<String>) -> Self {
        CustomerRecord {
            external_id: external_id.into(),
            name: None,
            party: None,
            email: None,
            phone: None,
            address: PostalAddress::default(),
            segment: None,
            industry: None,
            account_owner: None,
            created_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub external_id: String,
    pub customer: CustomerRef,
    pub ordered_at: DateTime<Utc>,
    /// What the customer paid, including taxes and shipping, after discounts.
    pub gross: Money,
    /// Contribution margin of the order, where the source has it.
    pub margin: Option<Money>,
    /// Cost of goods, where the source has it (margin = gross - cost when margin is missing).
    pub cost: Option<Money>,
    pub discount: Money,
    pub voucher_code: Option<String>,
    pub delivery_promised_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    pub channel: Option<String>,
    pub currency: Option<String>,
    pub returned: bool,
    pub cancelled: bool,
    /// Customer columns the order file carries (name, e-mail, address), used by
    /// `--create-customers` to create customers that are not known yet.
    pub customer_details: Option<CustomerRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineRecord {
    pub order_external_id: String,
    /// 1-based position within the order.
    pub line_no: u32,
    pub sku: Option<String>,
    pub product_name: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    pub discount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    pub sku: String,
    pub name: Option<String>,
    pub category: Option<String>,
    pub price: Option<Money>,
    /// The day the product was removed from the range (Auslistung).
    pub delisted_on: Option<NaiveDate>,
}

/// Whether the customer was satisfied with how a complaint was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Satisfaction {
    Yes,
    No,
    Unknown,
}

impl Satisfaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Yes => "yes",
            Satisfaction::No => "no",
            Satisfaction::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRecord {
    pub external_id: String,
    pub customer: CustomerRef,
    pub order_external_id: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub satisfied: Satisfaction,
    pub category: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRecord {
    pub external_id: String,
    pub customer: CustomerRef,
    pub product: Option<String>,
    pub started_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub renewal_on: Option<NaiveDate>,
    /// Recurring value per month, where the source has it.
    pub monthly_value: Option<Money>,
    /// When the cancellation (Kündigung) arrived.
    pub cancellation_received_at: Option<DateTime<Utc>>,
    /// When the cancellation takes effect.
    pub cancellation_effective_on: Option<NaiveDate>,
    pub cancellation_reason: Option<String>,
}

/// A contact channel that needs its own consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    Phone,
    Post,
    Messenger,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Email,
        Channel::Phone,
        Channel::Post,
        Channel::Messenger,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Post => "post",
            Channel::Messenger => "messenger",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What a consent row records: a permission given, a permission withdrawn, or an
/// objection (Widerspruch: do not contact on this channel at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentStatus {
    Granted,
    Revoked,
    Objection,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Granted => "granted",
            ConsentStatus::Revoked => "revoked",
            ConsentStatus::Objection => "objection",
        }
    }

    pub fn parse(s: &str) -> Option<ConsentStatus> {
        [
            ConsentStatus::Granted,
            ConsentStatus::Revoked,
            ConsentStatus::Objection,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub customer: CustomerRef,
    pub channel: Channel,
    pub status: ConsentStatus,
    pub recorded_at: DateTime<Utc>,
    /// Where the consent came from (e.g. "shop checkout v3", "phone call").
    pub source: Option<String>,
    /// Proof text (the wording agreed to, the double-opt-in confirmation, ...).
    pub proof: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRecord {
    pub referrer: CustomerRef,
    pub referred: CustomerRef,
    pub referred_on: NaiveDate,
    pub thanked_at: Option<DateTime<Utc>>,
}

/// One parsed row of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Customer(CustomerRecord),
    Order(OrderRecord),
    OrderLine(OrderLineRecord),
    Product(ProductRecord),
    Complaint(ComplaintRecord),
    Contract(ContractRecord),
    Consent(ConsentRecord),
    Referral(ReferralRecord),
}

impl Record {
    pub fn kind(&self) -> Kind {
        match self {
            Record::Customer(_) => Kind::Customers,
            Record::Order(_) => Kind::Orders,
            Record::OrderLine(_) => Kind::OrderLines,
            Record::Product(_) => Kind::Products,
            Record::Complaint(_) => Kind::Complaints,
            Record::Contract(_) => Kind::Contracts,
            Record::Consent(_) => Kind::Consents,
            Record::Referral(_) => Kind::Referrals,
        }
    }
}

/// Staff roles (used by the web application and for account ownership).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Manager,
    Sales,
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Sales => "sales",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::Manager, Role::Sales, Role::Analyst]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("order_lines"), None);
    }
}
