//! The canonical fields of every import kind: their names, types, whether they are required,
//! and the header texts (German and English, plus shop-system spellings) that name them.
//!
//! These tables are the single source for header recognition, the mapping file, the web
//! mapping editor and the docs. The first synonym of each field is the German header the
//! CSV writer prints, so the reader always recognises its own output. A normalised header
//! text must never name two fields of the same kind (a test checks this); layout-specific
//! meanings such as Shopify's order `Name` live in `layouts.rs`, not here.

use serde::Serialize;
use winback_engine::Kind;

/// What a field holds, which decides how its cells are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    /// An identifier: a leading `'` (Excel/Shopify formula guard) before digits is removed.
    Id,
    /// Lower-cased; must look like an address and contain no spaces.
    Email,
    Phone,
    PostalCode,
    Money,
    Integer,
    /// A calendar date.
    Date,
    /// A point in time, converted to UTC.
    Instant,
    /// Yes/no; a date or a non-zero amount also counts as yes (`Cancelled at`, `Refunded Amount`).
    Flag,
    /// b2b/b2c, Firma/Privat.
    Party,
    /// email, phone, post, messenger (E-Mail, Telefon, Brief, WhatsApp, ...).
    Channel,
    /// granted/revoked/objection (erteilt, widerrufen, Widerspruch, ...).
    ConsentStatus,
    /// ja/nein/unbekannt.
    Satisfaction,
    /// A shop's order status (`cancelled`, `refunded`, `storniert`); sets the order flags.
    OrderStatus,
}

/// One canonical field of an import kind.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldSpec {
    /// The canonical name, used in mapping files (`[columns] external_id = "Nr."`).
    pub name: &'static str,
    pub ty: FieldType,
    /// The column must exist.
    pub required: bool,
    /// At least one field of this group must have a column (customer id or e-mail).
    pub one_of: Option<&'static str>,
    /// Header texts that name this field, best first; the first is the German name the
    /// writer uses. Matching ignores case, spaces, punctuation and umlaut spelling.
    pub synonyms: &'static [&'static str],
}

const fn f(
    name: &'static str,
    ty: FieldType,
    required: bool,
    synonyms: &'static [&'static str],
) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required,
        one_of: None,
        synonyms,
    }
}

const fn one_of(
    group: &'static str,
    name: &'static str,
    ty: FieldType,
    synonyms: &'static [&'static str],
) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        one_of: Some(group),
        synonyms,
    }
}

use FieldType::*;

const CUSTOMER_ID: &[&str] = &[
    "Kundennummer",
    "Kunden-Nr.",
    "Kundennr",
    "Kd-Nr.",
    "KdNr",
    "Kunden-ID",
    "Debitorennummer",
    "Debitor",
    "Customer ID",
    "Customer Number",
    "Customer No",
    "Customer User ID",
    "customerNumber",
    "customer_number",
    "orderCustomer.customerNumber",
    "customer_user",
];

const ORDER_ID: &[&str] = &[
    "Bestellnummer",
    "Bestell-Nr.",
    "Bestellnr",
    "Auftragsnummer",
    "Auftrags-Nr.",
    "Auftragsnr",
    "Belegnummer",
    "Order Number",
    "Order No",
    "Order ID",
    "Order #",
    "orderNumber",
    "order_id",
];

pub(crate) mod customers {
    pub const EXTERNAL_ID: usize = 0;
    pub const NAME: usize = 1;
    pub const FIRST_NAME: usize = 2;
    pub const LAST_NAME: usize = 3;
    pub const COMPANY: usize = 4;
    pub const PARTY: usize = 5;
    pub const EMAIL: usize = 6;
    pub const PHONE: usize = 7;
    pub const STREET: usize = 8;
    pub const POSTAL_CODE: usize = 9;
    pub const CITY: usize = 10;
    pub const COUNTRY: usize = 11;
    pub const SEGMENT: usize = 12;
    pub const INDUSTRY: usize = 13;
    pub const ACCOUNT_OWNER: usize = 14;
    pub const CREATED_AT: usize = 15;
}

static CUSTOMERS: [FieldSpec; 16] = [
    one_of("customer", "external_id", Id, {
        const S: &[&str] = &[
            "Kundennummer",
            "Kunden-Nr.",
            "Kundennr",
            "Kd-Nr.",
            "KdNr",
            "Kunden-ID",
            "Debitorennummer",
            "Debitor",
            "Customer ID",
            "Customer Number",
            "Customer No",
            "customerNumber",
            "customer_number",
            "ID",
            "Nr.",
        ];
        S
    }),
    f(
        "name",
        Text,
        false,
        &["Name", "Kundenname", "Full Name", "Customer Name"],
    ),
    f(
        "first_name",
        Text,
        false,
        &[
            "Vorname",
            "First Name",
            "Billing First Name",
            "First Name (Billing)",
        ],
    ),
    f(
        "last_name",
        Text,
        false,
        &[
            "Nachname",
            "Last Name",
            "Billing Last Name",
            "Last Name (Billing)",
        ],
    ),
    f(
        "company",
        Text,
        false,
        &[
            "Firma",
            "Unternehmen",
            "Firmenname",
            "Company",
            "Default Address Company",
            "Billing Company",
            "Company (Billing)",
            "defaultBillingAddress.company",
        ],
    ),
    f(
        "party",
        Party,
        false,
        &[
            "Kundenart",
            "Kundentyp",
            "B2B/B2C",
            "Customer Type",
            "Account Type",
            "Party",
        ],
    ),
    one_of("customer", "email", Email, {
        const S: &[&str] = &[
            "E-Mail",
            "E-Mail-Adresse",
            "Mail",
            "Email Address",
            "Billing Email",
            "Email (Billing)",
            "user_email",
        ];
        S
    }),
    f(
        "phone",
        Phone,
        false,
        &[
            "Telefon",
            "Tel.",
            "Telefonnummer",
            "Mobil",
            "Handy",
            "Phone",
            "Phone Number",
            "Default Address Phone",
            "Billing Phone",
            "Phone (Billing)",
            "defaultBillingAddress.phoneNumber",
        ],
    ),
    f(
        "street",
        Text,
        false,
        &[
            "Straße",
            "Str.",
            "Anschrift",
            "Adresse",
            "Street",
            "Address",
            "Address1",
            "Default Address Address1",
            "Billing Address 1",
            "Address 1&2 (Billing)",
            "Billing Street",
            "defaultBillingAddress.street",
        ],
    ),
    f(
        "postal_code",
        PostalCode,
        false,
        &[
            "PLZ",
            "Postleitzahl",
            "Zip",
            "ZIP Code",
            "Postal Code",
            "Postcode",
            "Default Address Zip",
            "Billing Postcode",
            "Billing Zip",
            "Billing Zip Code",
            "Postcode (Billing)",
            "defaultBillingAddress.zipcode",
        ],
    ),
    f(
        "city",
        Text,
        false,
        &[
            "Ort",
            "Stadt",
            "Wohnort",
            "City",
            "Town",
            "Default Address City",
            "Billing City",
            "City (Billing)",
            "defaultBillingAddress.city",
        ],
    ),
    f(
        "country",
        Text,
        false,
        &[
            "Land",
            "Ländercode",
            "Country Code",
            "Default Address Country Code",
            "Country Code (Billing)",
            "Country",
            "Country / Region",
            "Billing Country",
            "defaultBillingAddress.country.iso",
        ],
    ),
    f(
        "segment",
        Text,
        false,
        &[
            "Segment",
            "Kundensegment",
            "Kundengruppe",
            "Customer Group",
            "Group",
        ],
    ),
    f(
        "industry",
        Text,
        false,
        &["Branche", "Wirtschaftszweig", "Industry", "Sector"],
    ),
    f(
        "account_owner",
        Text,
        false,
        &[
            "Kundenbetreuer",
            "Betreuer",
            "Vertriebsmitarbeiter",
            "Außendienst",
            "Account Owner",
            "Account Manager",
            "Owner",
        ],
    ),
    f(
        "created_at",
        Instant,
        false,
        &[
            "Kunde seit",
            "Angelegt am",
            "Erstellt am",
            "Registriert am",
            "Created at",
            "Customer Since",
            "Date Registered",
            "Date Created",
            "createdAt",
            "Registration Date",
        ],
    ),
];

pub(crate) mod orders {
    pub const EXTERNAL_ID: usize = 0;
    pub const CUSTOMER_ID: usize = 1;
    pub const CUSTOMER_EMAIL: usize = 2;
    pub const ORDERED_AT: usize = 3;
    pub const GROSS: usize = 4;
    pub const MARGIN: usize = 5;
    pub const COST: usize = 6;
    pub const DISCOUNT: usize = 7;
    pub const VOUCHER_CODE: usize = 8;
    pub const DELIVERY_PROMISED_ON: usize = 9;
    pub const DELIVERED_ON: usize = 10;
    pub const CHANNEL: usize = 11;
    pub const CURRENCY: usize = 12;
    pub const RETURNED: usize = 13;
    pub const CANCELLED: usize = 14;
    pub const STATUS: usize = 15;
    pub const CUSTOMER_NAME: usize = 16;
    pub const CUSTOMER_FIRST_NAME: usize = 17;
    pub const CUSTOMER_LAST_NAME: usize = 18;
    pub const CUSTOMER_COMPANY: usize = 19;
    pub const CUSTOMER_PHONE: usize = 20;
    pub const CUSTOMER_STREET: usize = 21;
    pub const CUSTOMER_POSTAL_CODE: usize = 22;
    pub const CUSTOMER_CITY: usize = 23;
    pub const CUSTOMER_COUNTRY: usize = 24;
}

static ORDERS: [FieldSpec; 25] = [
    f("external_id", Id, true, ORDER_ID),
    one_of("customer", "customer_id", Id, CUSTOMER_ID),
    one_of("customer", "customer_email", Email, {
        const S: &[&str] = &[
            "E-Mail",
            "E-Mail-Adresse",
            "Mail",
            "Email",
            "Email Address",
            "Customer Email",
            "Billing Email",
            "Email (Billing)",
            "orderCustomer.email",
            "customer_email",
            "user_email",
        ];
        S
    }),
    f(
        "ordered_at",
        Instant,
        true,
        &[
            "Bestelldatum",
            "Auftragsdatum",
            "Bestellt am",
            "Belegdatum",
            "Datum",
            "Order Date",
            "Date",
            "Created at",
            "Ordered at",
            "Date Created",
            "orderDateTime",
            "order_date_time",
        ],
    ),
    f(
        "gross",
        Money,
        true,
        &[
            "Bruttobetrag",
            "Brutto",
            "Gesamtbetrag",
            "Gesamt",
            "Gesamtsumme",
            "Rechnungsbetrag",
            "Umsatz",
            "Betrag",
            "Summe",
            "Total",
            "Order Total",
            "Order Total Amount",
            "Grand Total",
            "Total Amount",
            "Amount",
            "Gross",
            "amountTotal",
            "amount_total",
        ],
    ),
    f(
        "margin",
        Money,
        false,
        &[
            "Marge",
            "Deckungsbeitrag",
            "DB",
            "Rohertrag",
            "Rohgewinn",
            "Margin",
            "Gross Profit",
            "Profit",
        ],
    ),
    f(
        "cost",
        Money,
        false,
        &[
            "Kosten",
            "Einstandspreis",
            "Einkaufspreis",
            "Wareneinsatz",
            "EK",
            "Cost",
            "Costs",
            "COGS",
        ],
    ),
    f(
        "discount",
        Money,
        false,
        &[
            "Rabatt",
            "Rabattbetrag",
            "Nachlass",
            "Discount",
            "Discount Amount",
            "Cart Discount",
            "Cart Discount Amount",
            "Order Discount",
            "Discount Total",
        ],
    ),
    f(
        "voucher_code",
        Text,
        false,
        &[
            "Gutscheincode",
            "Gutschein",
            "Rabattcode",
            "Aktionscode",
            "Discount Code",
            "Coupon",
            "Coupon Code",
            "Coupons",
            "Voucher",
            "Voucher Code",
            "Promo Code",
        ],
    ),
    f(
        "delivery_promised_on",
        Date,
        false,
        &[
            "Liefertermin",
            "Lieferdatum zugesagt",
            "Zugesagtes Lieferdatum",
            "Wunschtermin",
            "Promised Delivery",
            "Promised Delivery Date",
            "Delivery Promised",
            "Expected Delivery",
        ],
    ),
    f(
        "delivered_on",
        Date,
        false,
        &[
            "Lieferdatum",
            "Geliefert am",
            "Zugestellt am",
            "Delivered at",
            "Delivered on",
            "Delivery Date",
        ],
    ),
    f(
        "channel",
        Text,
        false,
        &[
            "Kanal",
            "Vertriebskanal",
            "Verkaufskanal",
            "Herkunft",
            "Channel",
            "Sales Channel",
            "Source",
            "created_via",
        ],
    ),
    f(
        "currency",
        Text,
        false,
        &["Währung", "WKZ", "Currency", "Order Currency"],
    ),
    f(
        "returned",
        Flag,
        false,
        &[
            "Retoure",
            "Retourniert",
            "Zurückgesendet",
            "Rücksendung",
            "Erstattet",
            "Returned",
            "Refunded",
            "Refunded Amount",
            "Order Refund Amount",
        ],
    ),
    f(
        "cancelled",
        Flag,
        false,
        &[
            "Storniert",
            "Storno",
            "Storniert am",
            "Cancelled",
            "Canceled",
            "Cancelled at",
            "Canceled at",
        ],
    ),
    f(
        "status",
        OrderStatus,
        false,
        &[
            "Bestellstatus",
            "Auftragsstatus",
            "Status",
            "Order Status",
            "Financial Status",
        ],
    ),
    f(
        "customer_name",
        Text,
        false,
        &[
            "Kundenname",
            "Name",
            "Customer",
            "Customer Name",
            "Billing Name",
            "Full Name (Billing)",
            "Name (Billing)",
        ],
    ),
    f(
        "customer_first_name",
        Text,
        false,
        &[
            "Vorname",
            "First Name",
            "Billing First Name",
            "First Name (Billing)",
            "orderCustomer.firstName",
            "customer_firstname",
        ],
    ),
    f(
        "customer_last_name",
        Text,
        false,
        &[
            "Nachname",
            "Last Name",
            "Billing Last Name",
            "Last Name (Billing)",
            "orderCustomer.lastName",
            "customer_lastname",
        ],
    ),
    f(
        "customer_company",
        Text,
        false,
        &[
            "Firma",
            "Unternehmen",
            "Company",
            "Billing Company",
            "Company (Billing)",
            "billingAddress.company",
        ],
    ),
    f(
        "customer_phone",
        Phone,
        false,
        &[
            "Telefon",
            "Tel.",
            "Telefonnummer",
            "Phone",
            "Billing Phone",
            "Phone (Billing)",
        ],
    ),
    f(
        "customer_street",
        Text,
        false,
        &[
            "Straße",
            "Anschrift",
            "Street",
            "Address",
            "Billing Address1",
            "Billing Address 1",
            "Address 1&2 (Billing)",
            "Address 1 (Billing)",
            "billingAddress.street",
            "billing_address_street",
        ],
    ),
    f(
        "customer_postal_code",
        PostalCode,
        false,
        &[
            "PLZ",
            "Postleitzahl",
            "Zip",
            "Postal Code",
            "Postcode",
            "Billing Zip",
            "Billing Postcode",
            "Postcode (Billing)",
            "Post Code (Billing)",
            "billingAddress.zipcode",
            "billing_address_zipcode",
        ],
    ),
    f(
        "customer_city",
        Text,
        false,
        &[
            "Ort",
            "Stadt",
            "City",
            "Billing City",
            "City (Billing)",
            "billingAddress.city",
            "billing_address_city",
        ],
    ),
    f(
        "customer_country",
        Text,
        false,
        &[
            "Land",
            "Country",
            "Country Code",
            "Billing Country",
            "Country Code (Billing)",
            "Country (Billing)",
        ],
    ),
];

pub(crate) mod order_lines {
    pub const ORDER_EXTERNAL_ID: usize = 0;
    pub const LINE_NO: usize = 1;
    pub const SKU: usize = 2;
    pub const PRODUCT_NAME: usize = 3;
    pub const QUANTITY: usize = 4;
    pub const UNIT_PRICE: usize = 5;
    pub const DISCOUNT: usize = 6;
}

static ORDER_LINES: [FieldSpec; 7] = [
    f("order_external_id", Id, true, ORDER_ID),
    f(
        "line_no",
        Integer,
        false,
        &[
            "Position",
            "Pos.",
            "Positionsnummer",
            "Zeile",
            "Line",
            "Line No",
            "Line Number",
        ],
    ),
    f(
        "sku",
        Id,
        false,
        &[
            "Artikelnummer",
            "Art.-Nr.",
            "Artikel-Nr.",
            "ArtNr",
            "SKU",
            "Lineitem sku",
            "Product SKU",
            "productNumber",
        ],
    ),
    f(
        "product_name",
        Text,
        false,
        &[
            "Artikelbezeichnung",
            "Artikel",
            "Artikelname",
            "Bezeichnung",
            "Produkt",
            "Produktname",
            "Product",
            "Product Name",
            "Item Name",
            "Lineitem name",
        ],
    ),
    f(
        "quantity",
        Integer,
        true,
        &[
            "Menge",
            "Anzahl",
            "Stück",
            "Stk.",
            "Quantity",
            "Qty",
            "Lineitem quantity",
            "Item Quantity",
        ],
    ),
    f(
        "unit_price",
        Money,
        true,
        &[
            "Einzelpreis",
            "Stückpreis",
            "Preis",
            "Verkaufspreis",
            "VK",
            "Unit Price",
            "Price",
            "Item Price",
            "Item Cost",
            "Lineitem price",
            "unitPrice",
        ],
    ),
    f(
        "discount",
        Money,
        false,
        &[
            "Rabatt",
            "Positionsrabatt",
            "Discount",
            "Lineitem discount",
            "Line Discount",
            "Item Discount",
        ],
    ),
];

pub(crate) mod products {
    pub const SKU: usize = 0;
    pub const NAME: usize = 1;
    pub const CATEGORY: usize = 2;
    pub const PRICE: usize = 3;
    pub const DELISTED_ON: usize = 4;
}

static PRODUCTS: [FieldSpec; 5] = [
    f(
        "sku",
        Id,
        true,
        &[
            "Artikelnummer",
            "Art.-Nr.",
            "Artikel-Nr.",
            "ArtNr",
            "SKU",
            "Product Number",
            "productNumber",
            "Item Number",
        ],
    ),
    f(
        "name",
        Text,
        false,
        &[
            "Artikelbezeichnung",
            "Bezeichnung",
            "Artikelname",
            "Produktname",
            "Name",
            "Product Name",
            "Title",
            "Product",
        ],
    ),
    f(
        "category",
        Text,
        false,
        &[
            "Kategorie",
            "Warengruppe",
            "Produktgruppe",
            "Category",
            "Categories",
            "Product Type",
        ],
    ),
    f(
        "price",
        Money,
        false,
        &[
            "Preis",
            "Verkaufspreis",
            "VK",
            "Listenpreis",
            "Price",
            "Regular Price",
            "Unit Price",
        ],
    ),
    f(
        "delisted_on",
        Date,
        false,
        &[
            "Ausgelistet am",
            "Auslistung",
            "Auslistungsdatum",
            "Delisted on",
            "Delisted",
            "Discontinued",
            "Discontinued on",
        ],
    ),
];

pub(crate) mod complaints {
    pub const EXTERNAL_ID: usize = 0;
    pub const CUSTOMER_ID: usize = 1;
    pub const CUSTOMER_EMAIL: usize = 2;
    pub const ORDER_EXTERNAL_ID: usize = 3;
    pub const OPENED_AT: usize = 4;
    pub const FIRST_RESPONSE_AT: usize = 5;
    pub const RESOLVED_AT: usize = 6;
    pub const SATISFIED: usize = 7;
    pub const CATEGORY: usize = 8;
    pub const TEXT: usize = 9;
}

static COMPLAINTS: [FieldSpec; 10] = [
    f(
        "external_id",
        Id,
        true,
        &[
            "Reklamationsnummer",
            "Reklamations-Nr.",
            "Ticketnummer",
            "Ticket-Nr.",
            "Ticket",
            "Fallnummer",
            "Vorgangsnummer",
            "Complaint ID",
            "Ticket ID",
            "Case ID",
            "Case Number",
            "ID",
        ],
    ),
    one_of("customer", "customer_id", Id, CUSTOMER_ID),
    one_of("customer", "customer_email", Email, {
        const S: &[&str] = &["E-Mail", "Email", "Customer Email", "Requester Email"];
        S
    }),
    f("order_external_id", Id, false, ORDER_ID),
    f(
        "opened_at",
        Instant,
        true,
        &[
            "Eingegangen am",
            "Eröffnet am",
            "Gemeldet am",
            "Erstellt am",
            "Datum",
            "Opened at",
            "Created at",
            "Created",
            "Date",
        ],
    ),
    f(
        "first_response_at",
        Instant,
        false,
        &[
            "Erste Antwort am",
            "Erste Antwort",
            "Erstreaktion",
            "First Response at",
            "First Response",
            "First Reply at",
        ],
    ),
    f(
        "resolved_at",
        Instant,
        false,
        &[
            "Gelöst am",
            "Erledigt am",
            "Abgeschlossen am",
            "Geschlossen am",
            "Resolved at",
            "Resolved",
            "Closed at",
            "Solved at",
        ],
    ),
    f(
        "satisfied",
        Satisfaction,
        false,
        &[
            "Zufrieden",
            "Zufriedenheit",
            "Kunde zufrieden",
            "Satisfied",
            "Satisfaction",
            "CSAT",
        ],
    ),
    f(
        "category",
        Text,
        false,
        &[
            "Kategorie",
            "Reklamationsgrund",
            "Grund",
            "Category",
            "Reason",
            "Type",
        ],
    ),
    f(
        "text",
        Text,
        false,
        &[
            "Beschreibung",
            "Text",
            "Anliegen",
            "Bemerkung",
            "Betreff",
            "Description",
            "Subject",
            "Message",
        ],
    ),
];

pub(crate) mod contracts {
    pub const EXTERNAL_ID: usize = 0;
    pub const CUSTOMER_ID: usize = 1;
    pub const CUSTOMER_EMAIL: usize = 2;
    pub const PRODUCT: usize = 3;
    pub const STARTED_ON: usize = 4;
    pub const ENDS_ON: usize = 5;
    pub const RENEWAL_ON: usize = 6;
    pub const MONTHLY_VALUE: usize = 7;
    pub const CANCELLATION_RECEIVED_AT: usize = 8;
    pub const CANCELLATION_EFFECTIVE_ON: usize = 9;
    pub const CANCELLATION_REASON: usize = 10;
}

static CONTRACTS: [FieldSpec; 11] = [
    f(
        "external_id",
        Id,
        true,
        &[
            "Vertragsnummer",
            "Vertrags-Nr.",
            "Vertrag",
            "Abonummer",
            "Abo-Nr.",
            "Contract ID",
            "Contract Number",
            "Subscription ID",
            "ID",
        ],
    ),
    one_of("customer", "customer_id", Id, CUSTOMER_ID),
    one_of("customer", "customer_email", Email, {
        const S: &[&str] = &["E-Mail", "Email", "Customer Email"];
        S
    }),
    f(
        "product",
        Text,
        false,
        &["Produkt", "Tarif", "Leistung", "Product", "Plan"],
    ),
    f(
        "started_on",
        Date,
        true,
        &[
            "Vertragsbeginn",
            "Beginn",
            "Startdatum",
            "Laufzeitbeginn",
            "Started on",
            "Start Date",
            "Start",
        ],
    ),
    f(
        "ends_on",
        Date,
        false,
        &[
            "Vertragsende",
            "Ende",
            "Laufzeitende",
            "Enddatum",
            "Ends on",
            "End Date",
            "End",
        ],
    ),
    f(
        "renewal_on",
        Date,
        false,
        &[
            "Verlängerung am",
            "Verlängerung",
            "Nächste Verlängerung",
            "Renewal Date",
            "Renewal",
            "Renews on",
            "Next Renewal",
        ],
    ),
    f(
        "monthly_value",
        Money,
        false,
        &[
            "Monatlicher Wert",
            "Monatsbeitrag",
            "Monatsbetrag",
            "Monatlich",
            "MRR",
            "Monthly Value",
            "Monthly Fee",
            "Monthly Amount",
        ],
    ),
    f(
        "cancellation_received_at",
        Instant,
        false,
        &[
            "Kündigung eingegangen",
            "Kündigungseingang",
            "Gekündigt am",
            "Kündigungsdatum",
            "Cancellation Received",
            "Cancelled at",
            "Canceled at",
            "Cancellation Date",
        ],
    ),
    f(
        "cancellation_effective_on",
        Date,
        false,
        &[
            "Kündigung zum",
            "Kündigung wirksam",
            "Wirksam zum",
            "Cancellation Effective",
            "Effective on",
            "Cancels on",
        ],
    ),
    f(
        "cancellation_reason",
        Text,
        false,
        &["Kündigungsgrund", "Grund", "Cancellation Reason", "Reason"],
    ),
];

pub(crate) mod consents {
    pub const CUSTOMER_ID: usize = 0;
    pub const CUSTOMER_EMAIL: usize = 1;
    pub const CHANNEL: usize = 2;
    pub const STATUS: usize = 3;
    pub const RECORDED_AT: usize = 4;
    pub const SOURCE: usize = 5;
    pub const PROOF: usize = 6;
}

static CONSENTS: [FieldSpec; 7] = [
    one_of("customer", "customer_id", Id, CUSTOMER_ID),
    one_of("customer", "customer_email", Email, {
        const S: &[&str] = &["E-Mail", "Email", "E-Mail-Adresse", "Email Address"];
        S
    }),
    f(
        "channel",
        Channel,
        true,
        &["Kanal", "Kontaktkanal", "Channel", "Medium"],
    ),
    f(
        "status",
        ConsentStatus,
        true,
        &[
            "Status",
            "Einwilligung",
            "Einwilligungsstatus",
            "Consent",
            "Consent Status",
        ],
    ),
    f(
        "recorded_at",
        Instant,
        true,
        &[
            "Erfasst am",
            "Zeitpunkt",
            "Datum",
            "Erteilt am",
            "Recorded at",
            "Timestamp",
            "Date",
            "Created at",
        ],
    ),
    f(
        "source",
        Text,
        false,
        &["Quelle", "Herkunft", "Source", "Origin"],
    ),
    f(
        "proof",
        Text,
        false,
        &["Nachweis", "Beleg", "Proof", "Evidence"],
    ),
];

pub(crate) mod referrals {
    pub const REFERRER_ID: usize = 0;
    pub const REFERRER_EMAIL: usize = 1;
    pub const REFERRED_ID: usize = 2;
    pub const REFERRED_EMAIL: usize = 3;
    pub const REFERRED_ON: usize = 4;
    pub const THANKED_AT: usize = 5;
}

static REFERRALS: [FieldSpec; 6] = [
    one_of("referrer", "referrer_id", Id, {
        const S: &[&str] = &[
            "Werber",
            "Werber-Kundennummer",
            "Empfehler",
            "Referrer",
            "Referrer ID",
            "Referrer Customer ID",
        ];
        S
    }),
    one_of("referrer", "referrer_email", Email, {
        const S: &[&str] = &["Werber E-Mail", "Empfehler E-Mail", "Referrer Email"];
        S
    }),
    one_of("referred", "referred_id", Id, {
        const S: &[&str] = &[
            "Geworbener",
            "Geworbener Kundennummer",
            "Neukunde",
            "Empfohlener",
            "Referred",
            "Referred ID",
            "Referred Customer ID",
        ];
        S
    }),
    one_of("referred", "referred_email", Email, {
        const S: &[&str] = &["Geworbener E-Mail", "Neukunde E-Mail", "Referred Email"];
        S
    }),
    f(
        "referred_on",
        Date,
        true,
        &[
            "Empfohlen am",
            "Geworben am",
            "Datum",
            "Referred on",
            "Referral Date",
            "Date",
        ],
    ),
    f(
        "thanked_at",
        Instant,
        false,
        &[
            "Bedankt am",
            "Prämie am",
            "Thanked at",
            "Rewarded at",
            "Reward at",
        ],
    ),
];

/// The canonical fields of an import kind, in the order the writer prints them.
pub fn fields(kind: Kind) -> &'static [FieldSpec] {
    match kind {
        Kind::Customers => &CUSTOMERS,
        Kind::Orders => &ORDERS,
        Kind::OrderLines => &ORDER_LINES,
        Kind::Products => &PRODUCTS,
        Kind::Complaints => &COMPLAINTS,
        Kind::Contracts => &CONTRACTS,
        Kind::Consents => &CONSENTS,
        Kind::Referrals => &REFERRALS,
    }
}

/// Header text as compared: lower case, umlauts and ß spelled out, everything but letters
/// and digits removed, so `Kunden-Nr.`, `kunden nr` and `KUNDENNR` are the same.
pub fn normalise_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' | 'ẞ' => out.push_str("ss"),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            '#' => out.push_str("nr"),
            _ => {}
        }
    }
    out
}

/// What a user reads in messages: the first German and the first English name.
pub(crate) fn accepted_names(spec: &FieldSpec) -> String {
    let shown: Vec<String> = spec
        .synonyms
        .iter()
        .take(6)
        .map(|s| format!("\"{s}\""))
        .collect();
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn header_normalisation_ignores_case_punctuation_and_umlaut_spelling() {
        let cases: &[(&str, &str)] = &[
            ("Kunden-Nr.", "kundennr"),
            ("  KUNDEN NR ", "kundennr"),
            ("Straße", "strasse"),
            ("Strasse", "strasse"),
            ("Währung", "waehrung"),
            ("E-Mail", "email"),
            ("orderCustomer.email", "ordercustomeremail"),
            ("Order #", "ordernr"),
            ("Lieferdatum zugesagt", "lieferdatumzugesagt"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise_header(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn no_header_names_two_fields_of_the_same_kind() {
        for kind in Kind::ALL {
            let mut seen: HashMap<String, &str> = HashMap::new();
            for spec in fields(kind) {
                for synonym in spec.synonyms {
                    let key = normalise_header(synonym);
                    if let Some(other) = seen.insert(key.clone(), spec.name) {
                        assert_eq!(
                            other, spec.name,
                            "{kind}: \"{synonym}\" names {other} and {}",
                            spec.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn field_index_constants_point_at_their_fields() {
        let checks: &[(Kind, usize, &str)] = &[
            (Kind::Customers, customers::CREATED_AT, "created_at"),
            (Kind::Customers, customers::EMAIL, "email"),
            (Kind::Orders, orders::CUSTOMER_COUNTRY, "customer_country"),
            (Kind::Orders, orders::STATUS, "status"),
            (Kind::Orders, orders::GROSS, "gross"),
            (Kind::OrderLines, order_lines::DISCOUNT, "discount"),
            (Kind::Products, products::DELISTED_ON, "delisted_on"),
            (Kind::Complaints, complaints::TEXT, "text"),
            (
                Kind::Contracts,
                contracts::CANCELLATION_REASON,
                "cancellation_reason",
            ),
            (Kind::Consents, consents::PROOF, "proof"),
            (Kind::Referrals, referrals::THANKED_AT, "thanked_at"),
        ];
        for (kind, idx, name) in checks {
            assert_eq!(fields(*kind)[*idx].name, *name);
        }
        for kind in Kind::ALL {
            for (idx, spec) in fields(kind).iter().enumerate() {
                assert!(
                    !spec.synonyms.is_empty(),
                    "{kind} field {idx} has no header names"
                );
            }
        }
    }
}
