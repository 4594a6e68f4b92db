//! Turns a customer's plan into the records a shop system would export: the customer,
//! orders with lines, complaints, contracts, consents and the referral, plus the truth.

use super::plan::{Plan, Scenario};
use super::tables::*;
use super::{Demo, DemoConfig, DemoCustomer, Experience, StaffMember, Truth};
use crate::Money;
use crate::records::{
    Channel, ComplaintRecord, ConsentRecord, ConsentStatus, ContractRecord, CustomerRecord,
    CustomerRef, OrderLineRecord, OrderRecord, Party, PostalAddress, ReferralRecord, Role,
    Satisfaction,
};
use crate::rng::Rng;

/// Order hours of consumers (weighted by repetition): evenings are busiest.
const SHOP_HOURS: &[u32] = &[
    7, 8, 9, 9, 10, 10, 11, 11, 12, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19,
    19, 20, 20, 20, 20, 21, 21, 21, 22, 22, 23,
];
/// Order hours of businesses: office hours.
const TRADE_HOURS: &[u32] = &[
    7, 8, 8, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 13, 13, 14, 14, 15, 15, 16, 17,
];

const SHOP_CHANNELS: &[&str] = &["Webshop", "App", "Telefon", "Marktplatz"];
const SHOP_CHANNEL_WEIGHTS: &[f64] = &[0.58, 0.22, 0.05, 0.15];
const TRADE_CHANNELS: &[&str] = &["Webshop", "Telefon", "E-Mail", "Außendienst", "EDI"];
const TRADE_CHANNEL_WEIGHTS: &[f64] = &[0.45, 0.2, 0.15, 0.12, 0.08];

/// Shipping is free above a minimum order value (goods after discount).
const SHOP_SHIPPING: (i64, i64) = (5000, 495);
const TRADE_SHIPPING: (i64, i64) = (25000, 990);

/// Appends `s` lower-cased with German umlauts transliterated and everything but letters,
/// digits and hyphens dropped, as e-mail addresses are written.
fn push_mail_part(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            '-' => out.push('-'),
            _ => {}
        }
    }
}

/// A time of day during office hours, in seconds after midnight.
fn office_seconds(rng: &mut Rng) -> u32 {
    rng.range(8 * 3600, 18 * 3600) as u32
}

fn weighted(rng: &mut Rng, weights: &[f64]) -> usize {
    let mut u = rng.uniform();
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// The demo company's staff. Sales staff scale with the customer base (a wholesaler needs
/// far more account managers per customer than a shop needs win-back callers).
pub(super) fn staff(config: &DemoConfig) -> (Vec<StaffMember>, Vec<usize>) {
    let mut rng = Rng::fork(config.seed ^ 0x57AF_F000_0000_0001, 0);
    let sales = if config.b2b {
        (config.customers / 400).clamp(4, 40)
    } else {
        (config.customers / 20_000).clamp(3, 15)
    } as usize;
    let managers = if config.b2b { 2 } else { 1 };
    let mut roles = vec![Role::Admin, Role::Analyst];
    roles.extend(std::iter::repeat_n(Role::Manager, managers));
    roles.extend(std::iter::repeat_n(Role::Sales, sales));
    let mut staff: Vec<StaffMember> = Vec::with_capacity(roles.len());
    let mut owners = Vec::new();
    for role in roles {
        // Staff e-mails carry no digits, customer e-mails always do, so they never clash.
        let (name, email) = loop {
            let names = if rng.chance(0.5) {
                FIRST_NAMES_F
            } else {
                FIRST_NAMES_M
            };
            let first = *rng.pick(names);
            let last = *rng.pick(LAST_NAMES);
            let mut email = String::new();
            push_mail_part(&mut email, first);
            email.push('.');
            push_mail_part(&mut email, last);
            email.push_str("@example.com");
            if staff.iter().all(|s| s.email != email) {
                break (format!("{first} {last}"), email);
            }
        };
        let (capacity, experience) = match role {
            Role::Sales => {
                let e = match weighted(&mut rng, &[0.3, 0.45, 0.25]) {
                    0 => Experience::Novice,
                    1 => Experience::Experienced,
                    _ => Experience::Expert,
                };
                (rng.range(15, 40) as u32, e)
            }
            Role::Manager => (rng.range(5, 10) as u32, Experience::Expert),
            _ => (0, Experience::Novice),
        };
        if role == Role::Sales {
            owners.push(staff.len());
        }
        staff.push(StaffMember {
            email,
            name,
            role,
            capacity_per_week: capacity,
            winback_experience: experience,
        });
    }
    (staff, owners)
}

/// Per-customer buying preferences.
struct Taste {
    categories: [usize; 2],
    staples: [usize; 3],
    staple_share: f64,
    more_lines: f64,
    discount_share: f64,
    /// Typical quantity per line for business customers.
    quantity: f64,
    channel: usize,
}

/// One line being assembled: product, quantity, unit price in cents.
#[derive(Clone, Copy, Default)]
struct Line {
    product: usize,
    quantity: i64,
    unit: i64,
}

const MAX_LINES: usize = 8;

pub(super) fn customer(demo: &Demo, idx: u64) -> DemoCustomer {
    let plan = demo.plan(idx);
    let mut rng = demo.rng_for(idx);
    let b2b = demo.config.b2b;
    let h = demo.horizon;
    let number = idx + 1;
    let ext = format!("K{number:06}");
    let cref = || CustomerRef::ExternalId(ext.clone());

    let referrer = pick_referrer(demo, &mut rng, idx, &plan);
    let mut days = Vec::with_capacity(plan.n_orders() as usize + 1);
    order_days(&mut rng, &plan, &mut days);
    let n = days.len();

    let hours = if b2b { TRADE_HOURS } else { SHOP_HOURS };
    let first_seconds = *rng.pick(hours) * 3600 + rng.range(0, 3599) as u32;
    let created_at = demo.at(plan.created, first_seconds - rng.range(120, 1500) as u32);

    let cat = &demo.catalogue;
    let taste = Taste {
        categories: [
            rng.range(0, cat.categories.len() as i64 - 1) as usize,
            rng.range(0, cat.categories.len() as i64 - 1) as usize,
        ],
        staples: std::array::from_fn(|_| *rng.pick(&cat.staples)),
        staple_share: if b2b { 0.55 } else { 0.3 },
        more_lines: if b2b { 0.55 } else { 0.42 } + 0.16 * rng.uniform(),
        // About one order in seven carries a discount, some customers more, most fewer.
        discount_share: rng.beta(1.5, 8.5),
        quantity: if b2b {
            rng.log_normal(6.0, 0.6).clamp(1.0, 60.0)
        } else {
            1.0
        },
        channel: weighted(
            &mut rng,
            if b2b {
                TRADE_CHANNEL_WEIGHTS
            } else {
                SHOP_CHANNEL_WEIGHTS
            },
        ),
    };

    // Business customers are segmented by the volume they buy.
    let volume = taste.quantity * 365.0 / plan.mean_gap;
    let size = match volume {
        v if v >= 80.0 => "Großkunde",
        v if v >= 25.0 => "Mittelstand",
        _ => "Kleinbetrieb",
    };
    let customer = identity(demo, &mut rng, &ext, number, created_at, size);

    let mut orders = Vec::with_capacity(n);
    let mut lines = Vec::with_capacity(n * 3);
    let fade_from = if plan.fade {
        n.saturating_sub(4)
    } else {
        usize::MAX
    };
    let (free_from, shipping_fee) = if b2b { TRADE_SHIPPING } else { SHOP_SHIPPING };
    for (i, &day) in days.iter().enumerate() {
        let seconds = if i == 0 {
            first_seconds
        } else {
            *rng.pick(hours) * 3600 + rng.range(0, 3599) as u32
        };
        let order_id = format!("A{number:07}{:03}", i + 1);
        let fading = i >= fade_from;
        let favourite = plan
            .favourite
            .filter(|&(_, from)| i as u32 >= from || rng.chance(0.5))
            .map(|(f, _)| f);

        // The basket.
        let mut basket = [Line::default(); MAX_LINES];
        let mut len = 0;
        let wanted = if fading {
            1
        } else {
            let mut k = 1;
            while k < 6 && rng.chance(taste.more_lines) {
                k += 1;
            }
            k
        };
        if let Some(f) = favourite {
            basket[0].product = f;
            len = 1;
        }
        while len < wanted {
            let chosen = &basket[..len];
            match pick_product(demo, &mut rng, &taste, day, fading, |p| {
                chosen.iter().any(|l| l.product == p)
            }) {
                Some(p) => {
                    basket[len].product = p;
                    len += 1;
                }
                None => break,
            }
        }
        if len == 0 {
            // Every stretch of the range has something listed; this is only a safety net.
            basket[0].product = cat.staples.first().copied().unwrap_or(0);
            len = 1;
        }
        let mut goods = 0;
        for line in &mut basket[..len] {
            let p = &cat.products[line.product];
            line.unit = p.price_at(day);
            line.quantity = if b2b {
                let scale = if fading {
                    1.0 - 0.2 * (i - fade_from + 1) as f64
                } else {
                    1.0
                };
                (taste.quantity * scale * rng.log_normal(1.0, 0.4))
                    .round()
                    .max(1.0) as i64
            } else if p.repeat && !fading {
                rng.range(1, 3)
            } else if !fading && rng.chance(0.1) {
                2
            } else {
                1
            };
            goods += line.unit * line.quantity;
        }

        // Discounts: vouchers and promotions on about one order in seven; bargain hunters
        // almost never pay full price; referred customers get their welcome voucher.
        let welcome = i == 0 && referrer.is_some();
        let discounted = if plan.bargain {
            i % 8 != 7
        } else {
            welcome || rng.chance(taste.discount_share)
        };
        let (discount, voucher) = if !discounted {
            (0, None)
        } else if welcome {
            (goods / 10, Some("FREUNDE10".to_string()))
        } else if plan.bargain || rng.chance(if b2b { 0.4 } else { 0.7 }) {
            // Bargain hunters go for the big percentages.
            let table = if b2b { TRADE_VOUCHERS } else { SHOP_VOUCHERS };
            let mut voucher = table[0];
            for _ in 0..6 {
                let v = *rng.pick(table);
                let fits = v.2 == 0 || goods >= 2 * v.2;
                if fits && (!plan.bargain || v.1 >= 15) {
                    voucher = v;
                    break;
                }
            }
            let (code, pct, fixed) = voucher;
            let amount = if fixed > 0 { fixed } else { goods * pct / 100 };
            (amount.max(1), Some(code.to_string()))
        } else {
            // A promotion without a code (sale prices, a campaign for a category).
            let pct = *rng.pick(&[10, 15, 20]);
            ((goods * pct / 100).max(1), None)
        };
        let mut rest = discount;
        let mut margin = -discount;
        for (j, line) in basket[..len].iter().enumerate() {
            let total = line.unit * line.quantity;
            let share = if j + 1 == len {
                rest
            } else {
                discount * total / goods.max(1)
            };
            rest -= share;
            let p = &cat.products[line.product];
            margin += (total as f64 * p.margin_rate).round() as i64;
            lines.push(OrderLineRecord {
                order_external_id: order_id.clone(),
                line_no: j as u32 + 1,
                sku: Some(p.sku.clone()),
                product_name: Some(p.name.clone()),
                quantity: line.quantity,
                unit_price: Money::from_cents(line.unit),
                discount: Money::from_cents(share),
            });
        }
        let net = goods - discount;
        let gross = net + if net < free_from { shipping_fee } else { 0 };

        // Delivery and the order's fate. The last orders carry the planted signals, so the
        // random cancellations stay away from them.
        let from_end = n - i;
        let cancelled = from_end as u32 <= plan.cancelled_tail
            || (from_end > 3 && favourite.is_none() && rng.chance(0.012));
        let returned = !cancelled && rng.chance(if b2b { 0.01 } else { 0.03 });
        let promised = day
            + if b2b {
                rng.range(1, 3)
            } else {
                rng.range(2, 4)
            } as i32;
        let delivered = if cancelled {
            None
        } else if from_end as u32 <= plan.late_tail {
            Some(promised + rng.range(5, 21) as i32)
        } else if rng.chance(0.05) {
            Some(promised + rng.range(1, 3) as i32)
        } else {
            Some((promised - rng.range(0, 1) as i32).max(day + 1))
        };
        let channel = if rng.chance(0.8) {
            taste.channel
        } else {
            weighted(
                &mut rng,
                if b2b {
                    TRADE_CHANNEL_WEIGHTS
                } else {
                    SHOP_CHANNEL_WEIGHTS
                },
            )
        };
        orders.push(OrderRecord {
            external_id: order_id,
            customer: cref(),
            ordered_at: demo.at(day, seconds),
            gross: Money::from_cents(gross),
            margin: Some(Money::from_cents(margin)),
            cost: Some(Money::from_cents(gross - margin)),
            discount: Money::from_cents(discount),
            voucher_code: voucher,
            delivery_promised_on: Some(demo.date(promised)),
            delivered_on: delivered.filter(|d| *d <= h).map(|d| demo.date(d)),
            channel: Some(if b2b { TRADE_CHANNELS } else { SHOP_CHANNELS }[channel].to_string()),
            currency: Some("EUR".to_string()),
            returned,
            cancelled,
            customer_details: None,
        });
    }

    let complaints = complaints(demo, &mut rng, &plan, number, &orders, &cref);
    let contracts = contracts(demo, &mut rng, &plan, number, &cref);
    let consents = consents(demo, &mut rng, &plan, &customer, &cref);
    let referrals = referrer
        .map(|r| {
            let thanked = rng
                .chance(0.6)
                .then(|| plan.created + rng.range(1, 21) as i32)
                .filter(|d| *d <= h);
            let seconds = office_seconds(&mut rng);
            vec![ReferralRecord {
                referrer: CustomerRef::ExternalId(format!("K{:06}", r + 1)),
                referred: cref(),
                referred_on: demo.date(plan.created),
                thanked_at: thanked.map(|d| demo.at(d, seconds)),
            }]
        })
        .unwrap_or_default();

    // A not-renewed fixed term ends on the day recorded in its last contract.
    let lost_on = match (plan.scenario, contracts.last()) {
        (Scenario::LostQuiet, Some(c)) => c.ends_on,
        _ => plan.lost_on.map(|d| demo.date(d)),
    };
    let truth = Truth {
        external_id: ext.clone(),
        status: plan.scenario.status(),
        loss_kind: plan.scenario.loss_kind(),
        cause: plan.cause,
        lost_on,
        returns_on: plan.returns_on.map(|d| demo.date(d)),
        bargain_hunter: plan.bargain,
        insolvent: plan.scenario == Scenario::LostInsolvent,
        referred_by: referrer.map(|r| format!("K{:06}", r + 1)),
    };
    DemoCustomer {
        customer,
        orders,
        lines,
        complaints,
        contracts,
        consents,
        referrals,
        truth,
    }
}

/// About one customer in twelve came through a referral by an earlier customer who was
/// already buying when this one signed up.
fn pick_referrer(demo: &Demo, rng: &mut Rng, idx: u64, plan: &Plan) -> Option<u64> {
    if idx == 0 || !rng.chance(0.08) {
        return None;
    }
    for _ in 0..4 {
        let r = rng.range(0, idx as i64 - 1) as u64;
        if demo.plan(r).created < plan.created {
            return Some(r);
        }
    }
    None
}

/// The order days of all stretches. Gaps are gamma-distributed with the customer's
/// regularity and scaled to fill each stretch exactly; in a fade-out the last four gaps
/// grow.
fn order_days(rng: &mut Rng, plan: &Plan, out: &mut Vec<i32>) {
    let stretches = if plan.two_segments {
        &plan.segments[..]
    } else {
        &plan.segments[..1]
    };
    let mut gaps: Vec<f64> = Vec::with_capacity(plan.n_orders() as usize);
    for (s, &(first, last, n)) in stretches.iter().enumerate() {
        let fade = plan.fade && s + 1 == stretches.len();
        if n <= 1 || last <= first {
            out.push(first);
            continue;
        }
        gaps.clear();
        let k = n as usize - 1;
        for g in 0..k {
            let grow = if fade && g + 4 >= k {
                1.4f64.powi((g + 5 - k) as i32)
            } else {
                1.0
            };
            gaps.push(rng.gamma(plan.regularity, 1.0) * grow);
        }
        let scale = (last - first) as f64 / gaps.iter().sum::<f64>();
        let mut t = first as f64;
        out.push(first);
        for g in &gaps[..k - 1] {
            t += g * scale;
            out.push((t.round() as i32).clamp(first, last));
        }
        out.push(last);
    }
}

fn pick_product(
    demo: &Demo,
    rng: &mut Rng,
    taste: &Taste,
    day: i32,
    cheap: bool,
    taken: impl Fn(usize) -> bool,
) -> Option<usize> {
    let cat = &demo.catalogue;
    let draw = |rng: &mut Rng| {
        let u = rng.uniform();
        if u < taste.staple_share && !cat.staples.is_empty() {
            taste.staples[rng.range(0, 2) as usize]
        } else if u < 0.85 {
            let c = taste.categories[rng.range(0, 1) as usize];
            *rng.pick(&cat.by_category[c])
        } else {
            rng.range(0, cat.products.len() as i64 - 1) as usize
        }
    };
    for _ in 0..8 {
        let mut p = draw(rng);
        if cheap {
            // A fading customer's basket shrinks: of two candidates the cheaper one.
            let q = draw(rng);
            if cat.products[q].price < cat.products[p].price {
                p = q;
            }
        }
        if cat.products[p].listed_on(day) && !taken(p) {
            return Some(p);
        }
    }
    None
}

fn identity(
    demo: &Demo,
    rng: &mut Rng,
    ext: &str,
    number: u64,
    created_at: chrono::DateTime<chrono::Utc>,
    size: &'static str,
) -> CustomerRecord {
    let b2b = demo.config.b2b;
    let names = if rng.chance(0.5) {
        FIRST_NAMES_F
    } else {
        FIRST_NAMES_M
    };
    let first = *rng.pick(names);
    let last = *rng.pick(LAST_NAMES);
    // Big cities are picked more often than small ones.
    let city = &CITIES[((CITIES.len() as f64) * rng.uniform().powf(1.6)) as usize];
    let plz = rng.range(city.plz_lo as i64, city.plz_hi as i64);
    let street = *rng.pick(if b2b { BUSINESS_STREETS } else { STREETS });
    let house = rng.range(1, if b2b { 60 } else { 140 });
    let suffix = if rng.chance(0.08) { "a" } else { "" };

    // The number makes every address unique; names never contain digits, so no two
    // patterns can produce the same address.
    let mut email = String::with_capacity(40);
    match rng.range(0, 2) {
        0 => {
            push_mail_part(&mut email, first);
            email.push('.');
            push_mail_part(&mut email, last);
        }
        1 => {
            push_mail_part(
                &mut email,
                &first[..first.chars().next().map_or(0, char::len_utf8)],
            );
            push_mail_part(&mut email, last);
        }
        _ => {
            push_mail_part(&mut email, last);
            email.push('.');
            push_mail_part(&mut email, first);
        }
    }
    use std::fmt::Write;
    let _ = write!(email, "{number}@{}", rng.pick(EMAIL_DOMAINS));

    let phone = if b2b || rng.chance(0.55) {
        Some(if !b2b && rng.chance(0.7) {
            format!(
                "+49 {} {}",
                rng.pick(MOBILE_PREFIXES),
                rng.range(1_000_000, 99_999_999)
            )
        } else {
            format!("+49 {} {}", city.area, rng.range(100_000, 9_999_999))
        })
    } else {
        None
    };
    let (name, segment, industry, owner) = if b2b {
        let (industry, words) = INDUSTRIES[rng.range(0, INDUSTRIES.len() as i64 - 1) as usize];
        let word = *rng.pick(words);
        let form = *rng.pick(LEGAL_FORMS);
        let name = match rng.range(0, 2) {
            0 => format!("{word} {last} {form}"),
            1 => format!("{last} {word} {form}"),
            _ => format!("{last} & {} {form}", rng.pick(LAST_NAMES)),
        };
        let owner = demo
            .owners
            .get(rng.range(0, demo.owners.len().max(1) as i64 - 1) as usize)
            .map(|&s| demo.staff[s].email.clone());
        (name, size, Some(industry.to_string()), owner)
    } else {
        let segment = if rng.chance(0.6) {
            "Mode"
        } else {
            "Wohnen & Haushalt"
        };
        (format!("{first} {last}"), segment, None, None)
    };
    CustomerRecord {
        external_id: ext.to_string(),
        name: Some(name),
        party: Some(if b2b {
            Party::Business
        } else {
            Party::Consumer
        }),
        email: Some(email),
        phone,
        address: PostalAddress {
            street: Some(format!("{street} {house}{suffix}")),
            postal_code: Some(format!("{plz:05}")),
            city: Some(city.name.to_string()),
            country: Some("DE".to_string()),
        },
        segment: Some(segment.to_string()),
        industry,
        account_owner: owner,
        created_at: Some(created_at),
    }
}

fn complaints(
    demo: &Demo,
    rng: &mut Rng,
    plan: &Plan,
    number: u64,
    orders: &[OrderRecord],
    cref: &dyn Fn() -> CustomerRef,
) -> Vec<ComplaintRecord> {
    let h = demo.horizon;
    let mut out = Vec::new();
    if let Some(q) = plan.complaint_day {
        // Planted: a complaint about the last order, answered after days, resolved weeks
        // later or never, and the customer not satisfied.
        let (category, text) = *rng.pick(UNRESOLVED_TEXTS);
        let opened = office_seconds(rng);
        let (response, response_at) = (q + rng.range(3, 9) as i32, office_seconds(rng));
        let (resolved, resolved_at) = (q + rng.range(20, 50) as i32, office_seconds(rng));
        out.push(ComplaintRecord {
            external_id: format!("R{number:07}01"),
            customer: cref(),
            order_external_id: orders.last().map(|o| o.external_id.clone()),
            opened_at: demo.at(q, opened),
            first_response_at: (response <= h).then(|| demo.at(response, response_at)),
            resolved_at: (rng.chance(0.5) && resolved <= h).then(|| demo.at(resolved, resolved_at)),
            satisfied: Satisfaction::No,
            category: Some(category.to_string()),
            text: Some(text.to_string()),
        });
    } else if orders.len() >= 2 && rng.chance(0.05) {
        // Everyday complaints, answered within hours and mostly settled to satisfaction.
        // Only active customers keep buying after an unsatisfying one; a lost customer with
        // one would blur the planted cause.
        let o = &orders[rng.range(0, orders.len() as i64 - 2) as usize];
        let opened = o.ordered_at + chrono::Duration::days(rng.range(3, 20));
        if (opened.date_naive() - demo.start).num_days() as i32 <= h {
            let response = opened + chrono::Duration::hours(rng.range(1, 30));
            let resolved = response + chrono::Duration::days(rng.range(1, 10));
            let (category, text) = *rng.pick(COMPLAINT_CATEGORIES);
            let u = rng.uniform();
            let satisfied = if u < 0.8 {
                Satisfaction::Yes
            } else if u < 0.95 || plan.scenario != Scenario::Active {
                Satisfaction::Unknown
            } else {
                Satisfaction::No
            };
            let within = |t: chrono::DateTime<chrono::Utc>| {
                (t.date_naive() - demo.start).num_days() as i32 <= h
            };
            out.push(ComplaintRecord {
                external_id: format!("R{number:07}01"),
                customer: cref(),
                order_external_id: Some(o.external_id.clone()),
                opened_at: opened,
                first_response_at: Some(response).filter(|t| within(*t)),
                resolved_at: Some(resolved).filter(|t| within(*t)),
                satisfied,
                category: Some(category.to_string()),
                text: Some(text.to_string()),
            });
        }
    }
    out
}

fn contracts(
    demo: &Demo,
    rng: &mut Rng,
    plan: &Plan,
    number: u64,
    cref: &dyn Fn() -> CustomerRef,
) -> Vec<ContractRecord> {
    let Some(cp) = plan.contract else {
        return Vec::new();
    };
    let h = demo.horizon;
    let b2b = demo.config.b2b;
    let (product, value) = if b2b {
        let product = *rng.pick(&[
            "Rahmenvertrag Verbrauchsmaterial",
            "Kaffee-Vollservice",
            "Hygiene-Service",
        ]);
        (
            product,
            (rng.log_normal(450.0, 0.6).round() as i64).max(50) * 100,
        )
    } else if rng.chance(0.6) {
        ("Plus-Mitgliedschaft", 249)
    } else {
        ("Socken-Abo", 1290)
    };
    let mut out = Vec::new();
    if cp.auto_renew {
        let renewal = cp.end.is_none().then(|| {
            let mut k = 1;
            while demo.add_years(cp.start, k) <= h {
                k += 1;
            }
            demo.date(demo.add_years(cp.start, k))
        });
        out.push(ContractRecord {
            external_id: format!("V{number:07}01"),
            customer: cref(),
            product: Some(product.to_string()),
            started_on: demo.date(cp.start),
            ends_on: cp.end.map(|d| demo.date(d)),
            renewal_on: renewal,
            monthly_value: Some(Money::from_cents(value)),
            cancellation_received_at: cp.cancel_received.map(|d| demo.at(d, office_seconds(rng))),
            cancellation_effective_on: cp.cancel_received.and(cp.end).map(|d| demo.date(d)),
            cancellation_reason: cp.reason.map(str::to_string),
        });
    } else {
        // A chain of fixed 12-month terms: every renewal is a new contract.
        let stop = cp.end.unwrap_or(h);
        let mut j = 0;
        loop {
            let ts = demo.add_years(cp.start, j);
            let te = demo.add_years(cp.start, j + 1) - 1;
            let last = te >= stop || j >= 40;
            let ends = if last && cp.end.is_some() { stop } else { te };
            let renewal = if !last || (cp.renewal_agreed && te - h <= 90) {
                Some(demo.date(te))
            } else {
                None
            };
            out.push(ContractRecord {
                external_id: format!("V{number:07}{:02}", j + 1),
                customer: cref(),
                product: Some(format!("{product} (12 Monate)")),
                started_on: demo.date(ts),
                ends_on: Some(demo.date(ends)),
                renewal_on: renewal,
                monthly_value: Some(Money::from_cents(value)),
                cancellation_received_at: None,
                cancellation_effective_on: None,
                cancellation_reason: None,
            });
            if last {
                break;
            }
            j += 1;
        }
    }
    out
}

fn consents(
    demo: &Demo,
    rng: &mut Rng,
    plan: &Plan,
    customer: &CustomerRecord,
    cref: &dyn Fn() -> CustomerRef,
) -> Vec<ConsentRecord> {
    let h = demo.horizon;
    let b2b = demo.config.b2b;
    let created = plan.created;
    let created_at = customer
        .created_at
        .unwrap_or_else(|| demo.at(created, 12 * 3600));
    let mut out = Vec::new();
    let mut push = |channel, status, at, source: &str, proof: Option<String>| {
        out.push(ConsentRecord {
            customer: cref(),
            channel,
            status,
            recorded_at: at,
            source: Some(source.to_string()),
            proof,
        });
    };
    let some_day = |rng: &mut Rng| {
        demo.at(
            rng.range(created as i64 + 1, h.max(created + 1) as i64) as i32,
            office_seconds(rng),
        )
    };
    let lost = plan.scenario.status() == super::TruthStatus::Lost;
    let granted_email = rng.chance(if b2b { 0.85 } else { 0.75 });
    if granted_email {
        let at = created_at + chrono::Duration::minutes(1);
        let proof = if b2b {
            "Einwilligung bei Kontoeröffnung im Händlerportal (Formular v2)".to_string()
        } else {
            format!(
                concat!(
                    "Checkbox „Ja, ich möchte den Newsletter erhalten“ im Checkout; ",
                    "Double-Opt-in bestätigt am {}"
                ),
                demo.date(created).format("%d.%m.%Y")
            )
        };
        push(
            Channel::Email,
            ConsentStatus::Granted,
            at,
            if b2b { "Händlerportal" } else { "Checkout" },
            Some(proof),
        );
        // Lost customers often unsubscribe when they go.
        if rng.chance(if lost { 0.3 } else { 0.08 }) {
            let day = match plan.lost_on {
                Some(l) if lost => l + rng.range(0, 60) as i32,
                _ => rng.range(created as i64 + 1, h.max(created + 1) as i64) as i32,
            };
            if day <= h && day > created {
                push(
                    Channel::Email,
                    ConsentStatus::Revoked,
                    demo.at(day, rng.range(7 * 3600, 23 * 3600) as u32),
                    "Abmeldelink im Newsletter",
                    None,
                );
            }
        }
    } else if rng.chance(0.02) {
        let at = some_day(rng);
        push(
            Channel::Email,
            ConsentStatus::Objection,
            at,
            "E-Mail an Kundenservice",
            Some("Widerspruch gegen Werbung per E-Mail".to_string()),
        );
    }
    if b2b {
        if rng.chance(0.65) {
            let day = plan.contract.map_or(created, |c| c.start.min(h));
            let at = demo
                .at(day, office_seconds(rng))
                .max(created_at + chrono::Duration::minutes(2));
            let proof = format!(
                "Einwilligung in Anrufe zu Angeboten, dokumentiert von {}",
                customer.account_owner.as_deref().unwrap_or("Vertrieb")
            );
            push(
                Channel::Phone,
                ConsentStatus::Granted,
                at,
                if plan.contract.is_some() {
                    "Rahmenvertrag"
                } else {
                    "Telefonat"
                },
                Some(proof),
            );
            if rng.chance(0.05) {
                let at = some_day(rng);
                push(
                    Channel::Phone,
                    ConsentStatus::Revoked,
                    at,
                    "Telefonat",
                    None,
                );
            }
        }
    } else {
        if rng.chance(0.04) {
            let at = some_day(rng);
            push(
                Channel::Phone,
                ConsentStatus::Granted,
                at,
                "Telefonat Kundenservice",
                Some("Mündliche Einwilligung, Gesprächsnotiz im CRM".to_string()),
            );
        }
        if rng.chance(0.05) {
            let at = some_day(rng);
            push(
                Channel::Messenger,
                ConsentStatus::Granted,
                at,
                "App-Einstellungen",
                Some("Opt-in für Nachrichten in der App".to_string()),
            );
        }
        if rng.chance(0.02) {
            let at = some_day(rng);
            push(
                Channel::Post,
                ConsentStatus::Objection,
                at,
                "Brief",
                Some("Widerspruch gegen Werbung per Post".to_string()),
            );
        }
    }
    out
}
