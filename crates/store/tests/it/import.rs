use chrono::{NaiveDate, TimeZone, Utc};
use winback_engine::*;
use winback_store::{Db, ImportCounts, ImportMeta, ImportOptions, RowProblem};

use crate::both_backends;

fn meta(name: &str, rows: u64) -> ImportMeta {
    ImportMeta {
        file_name: name.into(),
        file_bytes: 100,
        rows_read: rows,
        rows_rejected: 0,
        started_at: Utc::now(),
    }
}

fn customer(id: &str, email: &str) -> Record {
    let mut c = CustomerRecord::new(id);
    c.name = Some(format!("Kunde {id}"));
    c.email = Some(email.into());
    c.address.city = Some("München".into());
    Record::Customer(c)
}

fn order(id: &str, customer: CustomerRef, cents: i64) -> Record {
    Record::Order(OrderRecord {
        external_id: id.into(),
        customer,
        ordered_at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
        gross: Money::from_cents(cents),
        margin: Some(Money::from_cents(cents / 3)),
        cost: None,
        discount: Money::ZERO,
        voucher_code: None,
        delivery_promised_on: NaiveDate::from_ymd_opt(2026, 3, 3),
        delivered_on: NaiveDate::from_ymd_opt(2026, 3, 5),
        channel: Some("web".into()),
        currency: Some("EUR".into()),
        returned: false,
        cancelled: false,
        customer_details: None,
    })
}

/// Imports `rows` (line numbers 2, 3, ...) and commits when nothing is wrong.
async fn import(
    db: &Db,
    kind: Kind,
    rows: &[Record],
    options: ImportOptions,
) -> Result<ImportCounts, Vec<RowProblem>> {
    let mut session = db.begin_import(kind, options).await.expect("begin");
    for (idx, row) in rows.iter().enumerate() {
        session
            .push(idx as u64 + 2, row.clone())
            .await
            .expect("push");
    }
    let problems = session.resolve().await.expect("resolve");
    if !problems.is_empty() && !options.skip_invalid {
        session.rollback().await.expect("rollback");
        return Err(problems);
    }
    Ok(session
        .commit(meta("test.csv", rows.len() as u64))
        .await
        .expect("commit"))
}

fn count_of(counts: &[(Kind, u64)], kind: Kind) -> u64 {
    counts
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, n)| *n)
        .unwrap()
}

async fn customers_and_orders_are_imported_and_counted(db: Db) {
    let customers = [
        customer("K1", "a@example.de"),
        customer("K2", "b@example.de"),
    ];
    let counts = import(&db, Kind::Customers, &customers, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            inserted: 2,
            ..Default::default()
        }
    );
    let orders = [
        order("A1", CustomerRef::ExternalId("K1".into()), 12_345),
        order("A2", CustomerRef::Email("b@example.de".into()), 999),
    ];
    let counts = import(&db, Kind::Orders, &orders, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(counts.inserted, 2);
    let stored = db.counts().await.unwrap();
    assert_eq!(count_of(&stored, Kind::Customers), 2);
    assert_eq!(count_of(&stored, Kind::Orders), 2);
    let snapshot = db.snapshot("orders").await.unwrap();
    assert!(snapshot[0].contains("12345"), "{snapshot:?}");
    assert!(
        snapshot[1].starts_with("2|A2|2|"),
        "the e-mail reference resolved to customer 2: {snapshot:?}"
    );
}
both_backends!(
    customers_and_orders_are_imported_and_counted,
    super::customers_and_orders_are_imported_and_counted
);

async fn importing_the_same_rows_twice_changes_nothing(db: Db) {
    let customers = [
        customer("K1", "a@example.de"),
        customer("K2", "b@example.de"),
    ];
    import(&db, Kind::Customers, &customers, ImportOptions::default())
        .await
        .unwrap();
    let orders = [order("A1", CustomerRef::ExternalId("K1".into()), 500)];
    import(&db, Kind::Orders, &orders, ImportOptions::default())
        .await
        .unwrap();
    let before: Vec<_> = db
        .snapshot_all()
        .await
        .unwrap()
        .into_iter()
        .filter(|(t, _)| t != "imports")
        .collect();

    let again = import(&db, Kind::Customers, &customers, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportCounts {
            unchanged: 2,
            ..Default::default()
        }
    );
    let again = import(&db, Kind::Orders, &orders, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportCounts {
            unchanged: 1,
            ..Default::default()
        }
    );

    let after: Vec<_> = db
        .snapshot_all()
        .await
        .unwrap()
        .into_iter()
        .filter(|(t, _)| t != "imports")
        .collect();
    assert_eq!(before, after);
}
both_backends!(
    importing_the_same_rows_twice_changes_nothing,
    super::importing_the_same_rows_twice_changes_nothing
);

async fn a_changed_value_updates_and_a_missing_one_keeps_the_stored_value(db: Db) {
    import(
        &db,
        Kind::Customers,
        &[customer("K1", "a@example.de")],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    let mut changed = CustomerRecord::new("K1");
    changed.email = Some("neu@example.de".into());
    let counts = import(
        &db,
        Kind::Customers,
        &[Record::Customer(changed)],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            updated: 1,
            ..Default::default()
        }
    );
    let row = &db.snapshot("customers").await.unwrap()[0];
    assert!(row.contains("neu@example.de"), "{row}");
    assert!(
        row.contains("Kunde K1") && row.contains("München"),
        "the name and city were kept: {row}"
    );
}
both_backends!(
    a_changed_value_updates_and_a_missing_one_keeps_the_stored_value,
    super::a_changed_value_updates_and_a_missing_one_keeps_the_stored_value
);

async fn orders_of_unknown_customers_are_rejected_with_their_line_and_nothing_is_stored(db: Db) {
    import(
        &db,
        Kind::Customers,
        &[customer("K1", "a@example.de")],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    let orders = [
        order("A1", CustomerRef::ExternalId("K1".into()), 100),
        order("A2", CustomerRef::ExternalId("K9".into()), 100),
        order("A3", CustomerRef::Email("x@example.de".into()), 100),
    ];
    let problems = import(&db, Kind::Orders, &orders, ImportOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        problems.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(problems[0].column, "customer");
    assert!(
        problems[0].reason.contains("unknown customer K9"),
        "{}",
        problems[0].reason
    );
    assert!(
        problems[1].reason.contains("x@example.de")
            && problems[1].reason.contains("--create-customers")
    );
    assert_eq!(count_of(&db.counts().await.unwrap(), Kind::Orders), 0);
    assert!(
        db.snapshot("imports").await.unwrap().len() == 1,
        "only the customer import is logged"
    );
}
both_backends!(
    orders_of_unknown_customers_are_rejected_with_their_line_and_nothing_is_stored,
    super::orders_of_unknown_customers_are_rejected_with_their_line_and_nothing_is_stored
);

async fn skip_invalid_imports_the_good_rows_only(db: Db) {
    import(
        &db,
        Kind::Customers,
        &[customer("K1", "a@example.de")],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    let orders = [
        order("A1", CustomerRef::ExternalId("K1".into()), 100),
        order("A2", CustomerRef::ExternalId("K9".into()), 100),
    ];
    let options = ImportOptions {
        skip_invalid: true,
        ..Default::default()
    };
    let counts = import(&db, Kind::Orders, &orders, options).await.unwrap();
    assert_eq!(counts.inserted, 1);
    assert_eq!(db.snapshot("orders").await.unwrap().len(), 1);
}
both_backends!(
    skip_invalid_imports_the_good_rows_only,
    super::skip_invalid_imports_the_good_rows_only
);

async fn create_customers_creates_them_from_the_order_columns_once(db: Db) {
    let mut details = CustomerRecord::new("neu@example.de");
    details.name = Some("Erika Mustermann".into());
    details.email = Some("neu@example.de".into());
    details.address.city = Some("Springfield".into());
    let mut first = order("#1001", CustomerRef::Email("neu@example.de".into()), 12_540);
    let mut second = order("#1002", CustomerRef::Email("neu@example.de".into()), 500);
    for o in [&mut first, &mut second] {
        if let Record::Order(o) = o {
            o.customer_details = Some(details.clone());
        }
    }
    let options = ImportOptions {
        create_customers: true,
        ..Default::default()
    };
    let counts = import(&db, Kind::Orders, &[first.clone(), second.clone()], options)
        .await
        .unwrap();
    assert_eq!((counts.inserted, counts.customers_created), (2, 1));
    let customers = db.snapshot("customers").await.unwrap();
    assert_eq!(customers.len(), 1);
    assert!(
        customers[0].starts_with("1|neu@example.de|Erika Mustermann|"),
        "{customers:?}"
    );

    let before = db
        .snapshot_all()
        .await
        .unwrap()
        .into_iter()
        .filter(|(t, _)| t != "imports")
        .collect::<Vec<_>>();
    let counts = import(&db, Kind::Orders, &[first, second], options)
        .await
        .unwrap();
    assert_eq!((counts.unchanged, counts.customers_created), (2, 0));
    let after = db
        .snapshot_all()
        .await
        .unwrap()
        .into_iter()
        .filter(|(t, _)| t != "imports")
        .collect::<Vec<_>>();
    assert_eq!(before, after);
}
both_backends!(
    create_customers_creates_them_from_the_order_columns_once,
    super::create_customers_creates_them_from_the_order_columns_once
);

async fn the_same_key_twice_in_one_file_is_rejected(db: Db) {
    let rows = [
        customer("K1", "a@example.de"),
        customer("K2", "b@example.de"),
        customer("K1", "c@example.de"),
    ];
    let problems = import(&db, Kind::Customers, &rows, ImportOptions::default())
        .await
        .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 4);
    assert!(
        problems[0].reason.contains("duplicate") && problems[0].reason.contains("K1"),
        "{}",
        problems[0].reason
    );
    assert!(db.snapshot("customers").await.unwrap().is_empty());

    // Into a table that already has rows (the merging path) the report names the first line.
    import(
        &db,
        Kind::Customers,
        &[customer("K0", "z@example.de")],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    let problems = import(&db, Kind::Customers, &rows, ImportOptions::default())
        .await
        .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 4);
    assert!(
        problems[0].reason.contains("line 2"),
        "{}",
        problems[0].reason
    );
    assert_eq!(db.snapshot("customers").await.unwrap().len(), 1);
}
both_backends!(
    the_same_key_twice_in_one_file_is_rejected,
    super::the_same_key_twice_in_one_file_is_rejected
);

async fn an_abandoned_import_leaves_nothing_behind(db: Db) {
    let mut session = db
        .begin_import(Kind::Customers, ImportOptions::default())
        .await
        .unwrap();
    for idx in 0..2500u64 {
        session
            .push(idx + 2, customer(&format!("K{idx}"), "x@example.de"))
            .await
            .unwrap();
    }
    drop(session);
    assert!(db.snapshot("customers").await.unwrap().is_empty());
    // The pooled connection that held the dropped transaction is usable again.
    import(
        &db,
        Kind::Customers,
        &[customer("K1", "a@example.de")],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(db.snapshot("customers").await.unwrap().len(), 1);
}
both_backends!(
    an_abandoned_import_leaves_nothing_behind,
    super::an_abandoned_import_leaves_nothing_behind
);

async fn every_kind_is_stored(db: Db) {
    let k1 = || CustomerRef::ExternalId("K1".into());
    let at = Utc.with_ymd_and_hms(2025, 5, 4, 8, 30, 0).unwrap();
    let day = NaiveDate::from_ymd_opt(2025, 5, 4).unwrap();
    import(
        &db,
        Kind::Customers,
        &[
            customer("K1", "a@example.de"),
            customer("K2", "b@example.de"),
        ],
        Default::default(),
    )
    .await
    .unwrap();
    import(
        &db,
        Kind::Orders,
        &[order("A1", k1(), 100)],
        Default::default(),
    )
    .await
    .unwrap();
    let cases: Vec<(Kind, Record)> = vec![
        (
            Kind::Products,
            Record::Product(ProductRecord {
                sku: "SKU-1".into(),
                name: Some("Jacke".into()),
                category: Some("Mode".into()),
                price: Some(Money::from_cents(4999)),
                delisted_on: Some(day),
            }),
        ),
        (
            Kind::OrderLines,
            Record::OrderLine(OrderLineRecord {
                order_external_id: "A1".into(),
                line_no: 1,
                sku: Some("SKU-1".into()),
                product_name: Some("Jacke".into()),
                quantity: 2,
                unit_price: Money::from_cents(4999),
                discount: Money::ZERO,
            }),
        ),
        (
            Kind::Complaints,
            Record::Complaint(ComplaintRecord {
                external_id: "R1".into(),
                customer: k1(),
                order_external_id: Some("A1".into()),
                opened_at: at,
                first_response_at: Some(at),
                resolved_at: None,
                satisfied: Satisfaction::No,
                category: Some("Lieferung".into()),
                text: Some("Paket kam zu spät".into()),
            }),
        ),
        (
            Kind::Contracts,
            Record::Contract(ContractRecord {
                external_id: "V1".into(),
                customer: k1(),
                product: Some("Abo".into()),
                started_on: day,
                ends_on: None,
                renewal_on: Some(day),
                monthly_value: Some(Money::from_cents(1999)),
                cancellation_received_at: Some(at),
                cancellation_effective_on: Some(day),
                cancellation_reason: Some("zu teuer".into()),
            }),
        ),
        (
            Kind::Consents,
            Record::Consent(ConsentRecord {
                customer: k1(),
                channel: Channel::Email,
                status: ConsentStatus::Granted,
                recorded_at: at,
                source: Some("Checkout".into()),
                proof: Some("DOI bestätigt".into()),
            }),
        ),
        (
            Kind::Referrals,
            Record::Referral(ReferralRecord {
                referrer: k1(),
                referred: CustomerRef::Email("b@example.de".into()),
                referred_on: day,
                thanked_at: None,
            }),
        ),
    ];
    for (kind, record) in cases {
        let counts = import(&db, kind, std::slice::from_ref(&record), Default::default())
            .await
            .unwrap();
        assert_eq!(counts.inserted, 1, "{kind}");
        let again = import(&db, kind, &[record], Default::default())
            .await
            .unwrap();
        assert_eq!(again.unchanged, 1, "{kind} is idempotent");
    }
    for (kind, n) in db.counts().await.unwrap() {
        let expected = match kind {
            Kind::Customers => 2,
            _ => 1,
        };
        assert_eq!(n, expected, "{kind}");
    }
}
both_backends!(every_kind_is_stored, super::every_kind_is_stored);

async fn connecting_twice_keeps_the_schema(db: Db) {
    let tables = db.tables().await.unwrap();
    assert!(tables.contains(&"orders".to_string()));
    assert!(tables.contains(&"staff_users".to_string()));
}
both_backends!(
    connecting_twice_keeps_the_schema,
    super::connecting_twice_keeps_the_schema
);

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let sqlite_db = winback_store::testing::TestDatabase::new(winback_store::Backend::Sqlite).await;
    let pg_db = winback_store::testing::TestDatabase::new(winback_store::Backend::Postgres).await;
    let sqlite = Db::connect(&sqlite_db.url).await.unwrap();
    let pg = Db::connect(&pg_db.url).await.unwrap();
    let tables = sqlite.tables().await.unwrap();
    assert_eq!(tables, pg.tables().await.unwrap());
    for table in tables {
        assert_eq!(
            sqlite.columns(&table).await.unwrap(),
            pg.columns(&table).await.unwrap(),
            "{table}"
        );
    }
    pg.close().await;
}

async fn text_with_quotes_separators_and_line_breaks_is_stored_exactly(db: Db) {
    let tricky = "Zoë \"Z\" Müller, GmbH; Tel\n2. Zeile\\N \u{20ac}";
    let mut c = CustomerRecord::new("K\"1,");
    c.name = Some(tricky.into());
    c.email = Some("z@example.de".into());
    import(
        &db,
        Kind::Customers,
        &[Record::Customer(c.clone())],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    // A second customer goes through the merging path (the table is not empty any more).
    let mut d = c.clone();
    d.external_id = "K2".into();
    import(
        &db,
        Kind::Customers,
        &[Record::Customer(d)],
        ImportOptions::default(),
    )
    .await
    .unwrap();
    let rows = db.snapshot("customers").await.unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert!(row.contains(tricky), "{row:?}");
    }
    assert!(rows.iter().any(|r| r.contains("|K\"1,|")), "{rows:?}");
}
both_backends!(
    text_with_quotes_separators_and_line_breaks_is_stored_exactly,
    super::text_with_quotes_separators_and_line_breaks_is_stored_exactly
);

/// More rows than one batch of the SQLite fast path, so its in-memory customer map is
/// used: every order must still reach the customer its row names, by id or by e-mail, and
/// an unknown customer must still be reported with its line.
async fn a_large_import_resolves_every_order_to_its_customer(db: Db) {
    let customers = [
        customer("K1", "a@example.de"),
        customer("K2", "b@example.de"),
        customer("K3", "c@example.de"),
    ];
    import(&db, Kind::Customers, &customers, ImportOptions::default())
        .await
        .unwrap();
    let reference = |i: usize| match i % 4 {
        0 => CustomerRef::ExternalId("K1".into()),
        1 => CustomerRef::ExternalId("K2".into()),
        2 => CustomerRef::Email("c@example.de".into()),
        _ => CustomerRef::ExternalId("K3".into()),
    };
    let mut orders: Vec<Record> = (0..20_000)
        .map(|i| order(&format!("A{i:05}"), reference(i), 100 + i as i64))
        .collect();
    orders.push(order("A99999", CustomerRef::ExternalId("K9".into()), 1));
    let problems = import(&db, Kind::Orders, &orders, ImportOptions::default())
        .await
        .unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 20_002);
    assert!(problems[0].reason.contains("K9"), "{problems:?}");
    assert_eq!(count_of(&db.counts().await.unwrap(), Kind::Orders), 0);

    orders.pop();
    let counts = import(&db, Kind::Orders, &orders, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(counts.inserted, 20_000);
    let id_of: std::collections::HashMap<String, String> = db
        .snapshot("customers")
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let fields: Vec<&str> = row.split('|').collect();
            (fields[1].to_owned(), fields[0].to_owned())
        })
        .collect();
    let snapshot = db.snapshot("orders").await.unwrap();
    assert_eq!(snapshot.len(), 20_000);
    for row in &snapshot {
        let fields: Vec<&str> = row.split('|').collect();
        let i: usize = fields[1][1..].parse().unwrap();
        let expected = &id_of[["K1", "K2", "K3", "K3"][i % 4]];
        assert_eq!(fields[2], expected, "order {} of row {row}", fields[1]);
    }
}
both_backends!(
    a_large_import_resolves_every_order_to_its_customer,
    super::a_large_import_resolves_every_order_to_its_customer
);
