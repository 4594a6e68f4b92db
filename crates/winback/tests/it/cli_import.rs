//! `winback import` and `winback stats` on real files.

use crate::both_backends;
use crate::helpers::*;

const CUSTOMERS: &str = "Kundennummer;Name;E-Mail;Straße;PLZ;Ort;Kunde seit\r\n\
K001;Jürgen Müßig;juergen@example.de;Hauptstraße 1;80331;München;01.02.2021\r\n\
K002;Zoë Weiß;zoe@example.de;Am Markt 2;20095;Hamburg;15.03.2022\r\n\
K003;Ærøskøbing GmbH;info@example.com;Industrieweg 3;50667;Köln;31.12.2020\r\n";

const ORDERS: &str = "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag;Marge;Rabatt\r\n\
A1;K001;03.01.2024;1.234,56;400,00;0,00\r\n\
A2;K001;04.02.2024 14:30;99,90;30,00;10,00\r\n\
A3;K002;2024-03-05;12,50;4,00;0\r\n";

async fn a_german_excel_file_imports_and_counts(env: TestEnv) {
    let customers = env.write("kunden.csv", CUSTOMERS, true);
    let out = env.import("customers", &customers, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 rows read, 3 inserted"),
        "{}",
        stdout(&out)
    );
    // The detected format and the mapping are printed so the user can check them.
    assert!(stderr(&out).contains("Kundennummer"), "{}", stderr(&out));

    let orders = env.write("bestellungen.csv", ORDERS, true);
    let out = env.import("orders", &orders, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats = env.stats();
    assert_eq!(stats["customers"], 3);
    assert_eq!(stats["orders"], 3);
    assert_eq!(stats["order-lines"], 0);
    let snapshot = env.snapshot().await;
    let orders = &snapshot.iter().find(|(t, _)| t == "orders").unwrap().1;
    assert!(
        orders[0].contains("|123456|40000|"),
        "decimal comma and thousands point: {orders:?}"
    );
    let customers = &snapshot.iter().find(|(t, _)| t == "customers").unwrap().1;
    assert!(
        customers[0].contains("Jürgen Müßig"),
        "Windows-1252 decoded: {customers:?}"
    );
}
both_backends!(a_german_excel_file_imports_and_counts);

async fn importing_the_same_file_twice_changes_nothing(env: TestEnv) {
    let customers = env.write("kunden.csv", CUSTOMERS, true);
    let orders = env.write("bestellungen.csv", ORDERS, true);
    assert!(env.import("customers", &customers, &[]).status.success());
    assert!(env.import("orders", &orders, &[]).status.success());
    let before = env.snapshot().await;
    let out = env.import("orders", &orders, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["inserted"].as_u64(), report["unchanged"].as_u64()),
        (Some(0), Some(3))
    );
    assert!(env.import("customers", &customers, &[]).status.success());
    assert_eq!(before, env.snapshot().await);
}
both_backends!(importing_the_same_file_twice_changes_nothing);

async fn a_file_with_a_bad_row_imports_nothing_and_names_file_line_column_and_reason(env: TestEnv) {
    let customers = env.write("kunden.csv", CUSTOMERS, true);
    assert!(env.import("customers", &customers, &[]).status.success());
    let bad = "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\r\n\
A1;K001;03.01.2024;10,00\r\n\
A2;K001;31.02.2024;10,00\r\n\
A3;K009;03.01.2024;10,00\r\n\
A4;K002;03.01.2024;zehn\r\n";
    let file = env.write("bad.csv", bad, true);
    let out = env.import("orders", &file, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("bad.csv:3: Bestelldatum:"), "{err}");
    assert!(err.contains("bad.csv:5: Bruttobetrag:"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(env.stats()["orders"], 0);

    // The same as JSON, machine-readable.
    let out = env.import("orders", &file, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 5]);
    assert_eq!(report["committed"], false);

    // With --skip-invalid the good rows go in; the rejects, including the unknown
    // customer found only against the database, go to the reject file.
    let out = env.import("orders", &file, &["--skip-invalid"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stats()["orders"], 1);
    let rejects = std::fs::read_to_string(env.path("bad.csv.rejected.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 4, "{rejects}");
    assert!(
        rejects.contains(",4,") && rejects.contains("unknown customer K009"),
        "{rejects}"
    );
}
both_backends!(a_file_with_a_bad_row_imports_nothing_and_names_file_line_column_and_reason);

async fn orders_of_unknown_customers_need_create_customers(env: TestEnv) {
    let orders = "Bestellnummer;E-Mail;Name;Ort;Bestelldatum;Bruttobetrag\r\n\
B1;neu@example.de;Erika Mustermann;Berlin;03.01.2024;10,00\r\n\
B2;neu@example.de;Erika Mustermann;Berlin;05.01.2024;20,00\r\n";
    let file = env.write("shop.csv", orders, false);
    let out = env.import("orders", &file, &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--create-customers"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.stats()["customers"], 0);
    let out = env.import("orders", &file, &["--create-customers"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats = env.stats();
    assert_eq!(
        (stats["customers"].as_u64(), stats["orders"].as_u64()),
        (Some(1), Some(2))
    );
}
both_backends!(orders_of_unknown_customers_need_create_customers);

/// Order lines of an order that is not there are named with their line and import nothing
/// (on SQLite the first import of order lines runs without row-by-row foreign-key checks:
/// the missing order must still be caught).
async fn order_lines_of_unknown_orders_are_rejected_with_their_line(env: TestEnv) {
    let customers = env.write("kunden.csv", CUSTOMERS, true);
    let orders = env.write("bestellungen.csv", ORDERS, true);
    assert!(env.import("customers", &customers, &[]).status.success());
    assert!(env.import("orders", &orders, &[]).status.success());
    let lines = "Bestellnummer;Position;Artikelnummer;Artikelbezeichnung;Menge;Einzelpreis\r\n\
A1;1;AR-1;Brett;1;10,00\r\n\
A9;1;AR-2;Messer;2;5,00\r\n\
A2;1;AR-1;Brett;1;10,00\r\n";
    let file = env.write("positionen.csv", lines, true);
    let out = env.import("order-lines", &file, &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("positionen.csv:3: order id: unknown order"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.stats()["order-lines"], 0);
    let out = env.import("order-lines", &file, &["--skip-invalid"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stats()["order-lines"], 2);
}
both_backends!(order_lines_of_unknown_orders_are_rejected_with_their_line);

async fn the_shopify_samples_import_without_a_mapping(env: TestEnv) {
    let samples = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/data/samples/"
    );
    let customers = std::path::PathBuf::from(samples).join("customers_export_1.csv");
    let out = env.import("customers", &customers, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let orders = std::path::PathBuf::from(samples).join("orders_export_1.csv");
    let out = env.import("orders", &orders, &["--create-customers"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.import("order-lines", &orders, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats = env.stats();
    assert_eq!(stats["orders"], 6);
    assert_eq!(stats["order-lines"], 20);

    let broken = std::path::PathBuf::from(samples).join("customers_export.csv");
    let out = env.import("customers", &broken, &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("customers_export.csv:5"),
        "{}",
        stderr(&out)
    );
}
both_backends!(the_shopify_samples_import_without_a_mapping);

#[tokio::test]
async fn a_file_that_is_not_an_export_gets_a_clear_error() {
    let env = TestEnv::new(Backend::Sqlite).await;
    let file = env.write("notes.txt", "Liebe Grüße\nbis bald\n", false);
    let out = env.import("orders", &file, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("notes.txt"), "{err}");
    assert!(
        err.contains("--mapping"),
        "the error says what to do: {err}"
    );
}

#[tokio::test]
async fn a_missing_file_is_named() {
    let env = TestEnv::new(Backend::Sqlite).await;
    let out = env.run(&["import", "orders", "does-not-exist.csv"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does-not-exist.csv"),
        "{}",
        stderr(&out)
    );
}
