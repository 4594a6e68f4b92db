//! A killed import leaves the database exactly as before.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::both_backends;
use crate::helpers::*;

const N_CUSTOMERS: usize = 2_000;
const N_ORDERS: usize = 150_000;

fn files(env: &TestEnv) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut customers = String::from("Kundennummer;Name;E-Mail\r\n");
    for idx in 0..N_CUSTOMERS {
        writeln!(customers, "K{idx};Kunde {idx};k{idx}@example.de\r").unwrap();
    }
    let mut orders = String::from("Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\r\n");
    for idx in 0..N_ORDERS {
        writeln!(
            orders,
            "A{idx};K{};{:02}.{:02}.2024;{},{:02}\r",
            idx % N_CUSTOMERS,
            idx % 28 + 1,
            idx % 12 + 1,
            idx % 500,
            idx % 100
        )
        .unwrap();
    }
    (
        env.write("kunden.csv", &customers, true),
        env.write("auftraege.csv", &orders, true),
    )
}

async fn a_killed_import_leaves_the_data_as_before(env: TestEnv) {
    let (customers, orders) = files(&env);
    assert!(env.import("customers", &customers, &[]).status.success());
    let before = env.snapshot().await;

    let mut n_interrupted = 0;
    for delay_ms in [0u64, 150, 400] {
        let mut child = env
            .command()
            .args(["import", "orders", orders.to_str().unwrap()])
            .env("WINBACK_LOG", "winback=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until rows are being staged inside the open transaction, then kill -9.
        let stderr = child.stderr.take().unwrap();
        let mut staged = false;
        for line in BufReader::new(stderr).lines() {
            if line.unwrap().contains("staged") {
                staged = true;
                break;
            }
        }
        assert!(staged, "the import logged its progress");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let after = env.snapshot().await;
        if status.success() {
            // Finished before the kill landed: then everything is there.
            assert_eq!(env.stats()["orders"], N_ORDERS as u64);
            break;
        }
        n_interrupted += 1;
        assert_eq!(
            before, after,
            "killed after {delay_ms} ms: nothing of the import may remain"
        );
    }
    assert!(
        n_interrupted >= 1,
        "at least the immediate kill must land inside the import"
    );
    // A new import after the kills goes through completely.
    let out = env.import("orders", &orders, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stats()["orders"], N_ORDERS as u64);
}
both_backends!(a_killed_import_leaves_the_data_as_before);
