//! The input of the analysis: one customer's facts as loaded from the database, and the
//! as-of view that hides everything the company could not have known on the analysis date.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::Money;
use crate::demo::DemoCustomer;
use crate::records::Satisfaction;

/// Everything the analysis knows about one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerHistory {
    pub external_id: String,
    pub segment: Option<String>,
    pub industry: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Orders in any order; the analysis sorts them by `ordered_at`.
    pub orders: Vec<OrderFact>,
    /// Order lines, tied to their order by `ordered_at` (the order's instant).
    pub lines: Vec<LineFact>,
    pub complaints: Vec<ComplaintFact>,
    pub contracts: Vec<ContractFact>,
}

/// One order. A cancelled order is not a purchase (it counts as payment trouble); a returned
/// order is a purchase without spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFact {
    pub ordered_at: DateTime<Utc>,
    pub gross: Money,
    pub margin: Option<Money>,
    pub discount: Money,
    pub voucher: bool,
    pub delivery_promised_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    pub returned: bool,
    pub cancelled: bool,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFact {
    pub ordered_at: DateTime<Utc>,
    /// Shared by every line of the same article (a loader keeps one per distinct sku: a
    /// million customers' 19 million lines name a few hundred articles).
    sku: Option<Arc<str>>,
    /// A 64-bit hash of the sku, kept beside it so that grouping a customer's lines by
    /// article never follows the string's pointer (a cache miss per line on a million
    /// customers).
    sku_key: u64,
    pub unit_price: Money,
    pub quantity: i64,
}

impl LineFact {
    pub fn new(
        ordered_at: DateTime<Utc>,
        sku: Option<Arc<str>>,
        unit_price: Money,
        quantity: i64,
    ) -> LineFact {
        let sku_key = sku.as_deref().map_or(0, sku_key);
        LineFact {
            ordered_at,
            sku,
            sku_key,
            unit_price,
            quantity,
        }
    }

    pub fn sku(&self) -> Option<&str> {
        self.sku.as_deref()
    }

    pub(super) fn sku_key(&self) -> u64 {
        self.sku_key
    }
}

/// FNV-1a, 64 bits: a fast hash to group order lines by article.
pub(super) fn sku_key(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One complaint or support ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintFact {
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub satisfied: Satisfaction,
}

/// One contract or subscription term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractFact {
    pub started_on: NaiveDate,
    /// The last day of the term, when it is fixed or a cancellation set it.
    pub ends_on: Option<NaiveDate>,
    /// The day the contract renews, when a renewal is agreed or automatic.
    pub renewal_on: Option<NaiveDate>,
    pub cancellation_received_at: Option<DateTime<Utc>>,
    pub cancellation_effective_on: Option<NaiveDate>,
    pub cancellation_reason: Option<String>,
}

/// One article of the range; only the delisting date matters to the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFact {
    pub sku: String,
    pub delisted_on: Option<NaiveDate>,
}

impl ProductFact {
    /// The products of the demo company.
    pub fn from_demo(products: &[crate::records::ProductRecord]) -> Vec<ProductFact> {
        products
            .iter()
            .map(|p| ProductFact {
                sku: p.sku.clone(),
                delisted_on: p.delisted_on,
            })
            .collect()
    }
}

impl CustomerHistory {
    /// A demo customer's facts, as the store would load them. Order lines are tied to their
    /// order's instant.
    pub fn from_demo(c: &DemoCustomer) -> CustomerHistory {
        let mut at_of_order = std::collections::HashMap::with_capacity(c.orders.len());
        for o in &c.orders {
            at_of_order.insert(o.external_id.as_str(), o.ordered_at);
        }
        CustomerHistory {
            external_id: c.customer.external_id.clone(),
            segment: c.customer.segment.clone(),
            industry: c.customer.industry.clone(),
            created_at: c.customer.created_at,
            orders: c
                .orders
                .iter()
                .map(|o| OrderFact {
                    ordered_at: o.ordered_at,
                    gross: o.gross,
                    margin: o.margin.or_else(|| o.cost.map(|cost| o.gross - cost)),
                    discount: o.discount,
                    voucher: o.voucher_code.is_some(),
                    delivery_promised_on: o.delivery_promised_on,
                    delivered_on: o.delivered_on,
                    returned: o.returned,
                    cancelled: o.cancelled,
                })
                .collect(),
            lines: c
                .lines
                .iter()
                .filter_map(|l| {
                    at_of_order
                        .get(l.order_external_id.as_str())
                        .map(|&ordered_at| {
                            let sku = l.sku.as_deref().map(Arc::from);
                            LineFact::new(ordered_at, sku, l.unit_price, l.quantity)
                        })
                })
                .collect(),
            complaints: c
                .complaints
                .iter()
                .map(|q| ComplaintFact {
                    opened_at: q.opened_at,
                    first_response_at: q.first_response_at,
                    resolved_at: q.resolved_at,
                    satisfied: q.satisfied,
                })
                .collect(),
            contracts: c
                .contracts
                .iter()
                .map(|k| ContractFact {
                    started_on: k.started_on,
                    ends_on: k.ends_on,
                    renewal_on: k.renewal_on,
                    cancellation_received_at: k.cancellation_received_at,
                    cancellation_effective_on: k.cancellation_effective_on,
                    cancellation_reason: k.cancellation_reason.clone(),
                })
                .collect(),
        }
    }

    /// The history as it was known at the end of `as_of`: orders, lines, complaints and
    /// contracts that begin later are dropped; answers, resolutions, deliveries and
    /// cancellations that came later are forgotten (a cancellation that had not arrived yet
    /// also takes back the end date it set). Borrows when nothing needs to change and the
    /// orders are already in time order, which is the common case.
    pub fn as_of(&self, as_of: NaiveDate) -> Cow<'_, CustomerHistory> {
        self.view(as_of, true)
    }

    /// [`CustomerHistory::as_of`] for analyses that do not look at order lines: the lines
    /// are neither checked nor kept (a borrowed view still has them, unchecked).
    pub(super) fn as_of_without_lines(&self, as_of: NaiveDate) -> Cow<'_, CustomerHistory> {
        self.view(as_of, false)
    }

    fn view(&self, as_of: NaiveDate, with_lines: bool) -> Cow<'_, CustomerHistory> {
        // Instants from the start of the next day on lie after the analysis date.
        let cutoff = as_of
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc());
        let after = |t: &DateTime<Utc>| *t >= cutoff;
        let sorted = self
            .orders
            .windows(2)
            .all(|w| w[0].ordered_at <= w[1].ordered_at);
        let clean = sorted
            && self
                .orders
                .iter()
                .all(|o| !after(&o.ordered_at) && o.delivered_on.is_none_or(|d| d <= as_of))
            && (!with_lines || self.lines.iter().all(|l| !after(&l.ordered_at)))
            && self.complaints.iter().all(|q| {
                !after(&q.opened_at)
                    && q.first_response_at.as_ref().is_none_or(|t| !after(t))
                    && q.resolved_at.as_ref().is_none_or(|t| !after(t))
            })
            && self.contracts.iter().all(|k| {
                k.started_on <= as_of
                    && k.cancellation_received_at
                        .as_ref()
                        .is_none_or(|t| !after(t))
            });
        if clean {
            return Cow::Borrowed(self);
        }
        let mut orders: Vec<OrderFact> = self
            .orders
            .iter()
            .filter(|o| !after(&o.ordered_at))
            .map(|o| OrderFact {
                delivered_on: o.delivered_on.filter(|d| *d <= as_of),
                ..o.clone()
            })
            .collect();
        orders.sort_by_key(|o| o.ordered_at);
        let complaints = self
            .complaints
            .iter()
            .filter(|q| !after(&q.opened_at))
            .map(|q| {
                let resolved = q.resolved_at.filter(|t| !after(t));
                ComplaintFact {
                    opened_at: q.opened_at,
                    first_response_at: q.first_response_at.filter(|t| !after(t)),
                    resolved_at: resolved,
                    // Satisfaction is known once the complaint is resolved.
                    satisfied: if resolved.is_none() && q.resolved_at.is_some() {
                        Satisfaction::Unknown
                    } else {
                        q.satisfied
                    },
                }
            })
            .collect();
        let contracts = self
            .contracts
            .iter()
            .filter(|k| k.started_on <= as_of)
            .map(|k| {
                if k.cancellation_received_at.as_ref().is_some_and(after) {
                    let end_from_cancellation =
                        k.ends_on.is_some() && k.ends_on == k.cancellation_effective_on;
                    ContractFact {
                        started_on: k.started_on,
                        ends_on: if end_from_cancellation {
                            None
                        } else {
                            k.ends_on
                        },
                        renewal_on: k.renewal_on,
                        cancellation_received_at: None,
                        cancellation_effective_on: None,
                        cancellation_reason: None,
                    }
                } else {
                    k.clone()
                }
            })
            .collect();
        Cow::Owned(CustomerHistory {
            external_id: self.external_id.clone(),
            segment: self.segment.clone(),
            industry: self.industry.clone(),
            created_at: self.created_at,
            orders,
            lines: if with_lines {
                self.lines
                    .iter()
                    .filter(|l| !after(&l.ordered_at))
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            },
            complaints,
            contracts,
        })
    }
}
