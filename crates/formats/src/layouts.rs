//! The standard exports of shop systems (Shopify, WooCommerce, Shopware 6): how to
//! recognise them from their header, and the few headers whose meaning differs from the
//! generic tables in `fields.rs` (Shopify's order `Name` is the order number, not a person).
//!
//! Recognition only labels the file and adds these overrides; it must never reject a file
//! that the generic tables can read.

use serde::Serialize;
use winback_engine::Kind;

use crate::fields::normalise_header;

/// Where the column meanings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// German/English header names from the generic tables.
    Generic,
    /// A Shopify orders or customers export (either customer layout).
    Shopify,
    /// WooCommerce core exports or the "Order Export" plugin.
    WooCommerce,
    /// A Shopware 6 import/export profile.
    Shopware6,
    /// The user's mapping file named at least one column.
    MappingFile,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Generic => "generic (German/English headers)",
            Layout::Shopify => "Shopify export",
            Layout::WooCommerce => "WooCommerce export",
            Layout::Shopware6 => "Shopware 6 export",
            Layout::MappingFile => "mapping file",
        }
    }
}

fn has(headers: &[String], name: &str) -> bool {
    let key = normalise_header(name);
    headers.contains(&key)
}

/// Recognises a shop export from its normalised header cells.
pub(crate) fn detect(normalised_headers: &[String]) -> Layout {
    let h = normalised_headers;
    let shopify_orders = has(h, "Lineitem quantity") && has(h, "Financial Status");
    let shopify_customers = has(h, "Accepts Email Marketing") && has(h, "Total Spent");
    if shopify_orders || shopify_customers {
        return Layout::Shopify;
    }
    let woo = has(h, "Order Status")
        && (has(h, "Order Total Amount")
            || has(h, "Order Total")
            || has(h, "Email (Billing)")
            || has(h, "Billing Email"))
        || has(h, "Customer User ID")
        || (has(h, "customer_id") && has(h, "billing_first_name"));
    if woo {
        return Layout::WooCommerce;
    }
    let shopware = has(h, "orderNumber")
        && (has(h, "orderCustomer.email") || has(h, "amountTotal"))
        || has(h, "order_number") && has(h, "amount_total")
        || has(h, "customerNumber")
            && (has(h, "firstName") || has(h, "defaultBillingAddress.street"))
        || has(h, "customer_number") && has(h, "billing_zip_code");
    if shopware {
        return Layout::Shopware6;
    }
    Layout::Generic
}

/// Headers whose meaning in this layout differs from (or is missing in) the generic table,
/// best first. They are consulted before the generic synonyms.
pub(crate) fn overrides(
    layout: Layout,
    kind: Kind,
) -> &'static [(&'static str, &'static [&'static str])] {
    match (layout, kind) {
        (Layout::Shopify, Kind::Orders) => &[
            ("external_id", &["Name"]),
            ("customer_email", &["Email"]),
            ("ordered_at", &["Created at"]),
            ("gross", &["Total"]),
            ("customer_name", &["Billing Name", "Shipping Name"]),
            (
                "customer_street",
                &["Billing Address1", "Shipping Address1"],
            ),
            ("customer_postal_code", &["Billing Zip", "Shipping Zip"]),
            ("customer_city", &["Billing City", "Shipping City"]),
            ("customer_country", &["Billing Country", "Shipping Country"]),
            (
                "customer_phone",
                &["Billing Phone", "Phone", "Shipping Phone"],
            ),
            ("customer_company", &["Billing Company", "Shipping Company"]),
            ("returned", &["Refunded Amount"]),
            ("cancelled", &["Cancelled at"]),
            ("channel", &["Source"]),
        ],
        (Layout::Shopify, Kind::OrderLines) => &[
            ("order_external_id", &["Name"]),
            ("quantity", &["Lineitem quantity"]),
            ("product_name", &["Lineitem name"]),
            ("unit_price", &["Lineitem price"]),
            ("sku", &["Lineitem sku"]),
            ("discount", &["Lineitem discount"]),
        ],
        (Layout::Shopify, Kind::Customers) => &[
            ("phone", &["Phone", "Default Address Phone"]),
            ("company", &["Default Address Company", "Company"]),
        ],
        (Layout::WooCommerce, Kind::Customers) => &[
            ("external_id", &["customer_id", "Customer ID", "ID"]),
            ("email", &["email", "billing_email"]),
            ("first_name", &["first_name", "billing_first_name"]),
            ("last_name", &["last_name", "billing_last_name"]),
            ("street", &["billing_address_1"]),
            ("postal_code", &["billing_postcode"]),
            ("city", &["billing_city"]),
            ("country", &["billing_country"]),
            ("phone", &["billing_phone"]),
            ("company", &["billing_company"]),
            ("created_at", &["date_created"]),
        ],
        (Layout::WooCommerce, Kind::Orders) => &[
            ("external_id", &["Order Number", "Order ID"]),
            ("ordered_at", &["Order Date"]),
            ("gross", &["Order Total Amount", "Order Total"]),
            ("customer_id", &["Customer User ID", "Customer ID"]),
            ("customer_email", &["Email (Billing)", "Billing Email"]),
        ],
        (Layout::Shopware6, Kind::Customers) => &[
            ("external_id", &["customerNumber", "customer_number", "id"]),
            ("first_name", &["firstName", "first_name"]),
            ("last_name", &["lastName", "last_name"]),
            (
                "street",
                &["defaultBillingAddress.street", "billing_street"],
            ),
            (
                "postal_code",
                &["defaultBillingAddress.zipcode", "billing_zip_code"],
            ),
            ("city", &["defaultBillingAddress.city", "billing_city"]),
            (
                "country",
                &["defaultBillingAddress.country.iso", "billing_country"],
            ),
        ],
        (Layout::Shopware6, Kind::Orders) => &[
            ("external_id", &["orderNumber", "order_number"]),
            ("ordered_at", &["orderDateTime", "order_date_time"]),
            ("gross", &["amountTotal", "amount_total"]),
            ("customer_email", &["orderCustomer.email", "customer_email"]),
            (
                "customer_first_name",
                &["orderCustomer.firstName", "customer_firstname"],
            ),
            (
                "customer_last_name",
                &["orderCustomer.lastName", "customer_lastname"],
            ),
            (
                "customer_street",
                &["billingAddress.street", "billing_address_street"],
            ),
            (
                "customer_postal_code",
                &["billingAddress.zipcode", "billing_address_zipcode"],
            ),
            (
                "customer_city",
                &["billingAddress.city", "billing_address_city"],
            ),
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(headers: &[&str]) -> Vec<String> {
        headers.iter().map(|h| normalise_header(h)).collect()
    }

    #[test]
    fn shop_exports_are_recognised_from_their_headers() {
        let cases: &[(&[&str], Layout)] = &[
            (
                &["Name", "Email", "Financial Status", "Lineitem quantity"],
                Layout::Shopify,
            ),
            (
                &[
                    "Customer ID",
                    "First Name",
                    "Accepts Email Marketing",
                    "Total Spent",
                ],
                Layout::Shopify,
            ),
            (
                &[
                    "Order Number",
                    "Order Status",
                    "Order Date",
                    "Order Total Amount",
                ],
                Layout::WooCommerce,
            ),
            (
                &["customer_id", "email", "first_name", "billing_first_name"],
                Layout::WooCommerce,
            ),
            (
                &[
                    "id",
                    "orderNumber",
                    "orderDateTime",
                    "amountTotal",
                    "orderCustomer.email",
                ],
                Layout::Shopware6,
            ),
            (
                &["customerNumber", "email", "firstName", "lastName"],
                Layout::Shopware6,
            ),
            (
                &["Bestellnummer", "Kundennummer", "Datum", "Betrag"],
                Layout::Generic,
            ),
        ];
        for (headers, expected) in cases {
            assert_eq!(detect(&norm(headers)), *expected, "{headers:?}");
        }
    }
}
