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
        let mut log = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            staged = line.contains("staged");
            log.push(line);
            if staged {
                break;
            }
        }
        assert!(staged, "the import logged its progress");
        if env.db.backend == Backend::Sqlite {
            // Alone on an empty table, the import leaves WAL for the rollback journal: the
            // kill must be undone from that journal too.
            assert!(
                log.iter().any(|l| l.contains("rollback journal")),
                "the import had the file to itself: {log:?}"
            );
        }
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
    if let Some(file) = sqlite_file(&env) {
        // ... and leaves the file in WAL (header bytes 18 and 19 are 2; 1 is the rollback
        // journal), so that readers never wait for the next import.
        let header = std::fs::read(file).unwrap();
        assert_eq!(&header[18..20], &[2, 2], "the file is back in WAL");
    }
}
both_backends!(a_killed_import_leaves_the_data_as_before);

/// An import into an empty table while another connection has the file open (a running
/// server) stays in WAL, and goes through.
async fn an_import_beside_an_open_connection_stays_in_wal(env: TestEnv) {
    let (customers, orders) = files(&env);
    assert!(env.import("customers", &customers, &[]).status.success());
    let reader = winback_store::Db::connect(&env.db.url).await.unwrap();
    let orders_seen = |counts: Vec<(winback_engine::Kind, u64)>| {
        counts
            .into_iter()
            .find(|(kind, _)| *kind == winback_engine::Kind::Orders)
            .map(|(_, n)| n)
    };
    assert_eq!(orders_seen(reader.counts().await.unwrap()), Some(0));
    let out = env
        .command()
        .args(["import", "orders", orders.to_str().unwrap()])
        .env("WINBACK_LOG", "winback=info")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stays in WAL"),
        "the import saw the other connection: {}",
        stderr(&out)
    );
    // The other connection sees the import once it is committed.
    assert_eq!(
        orders_seen(reader.counts().await.unwrap()),
        Some(N_ORDERS as u64)
    );
    reader.close().await;
    assert_eq!(env.stats()["orders"], N_ORDERS as u64);
}
#[tokio::test]
async fn an_import_beside_an_open_connection_stays_in_wal_sqlite() {
    an_import_beside_an_open_connection_stays_in_wal(TestEnv::new(Backend::Sqlite).await).await;
}

/// The SQLite file of a test database (None on PostgreSQL).
fn sqlite_file(env: &TestEnv) -> Option<std::path::PathBuf> {
    let url = env.db.url.expose();
    (env.db.backend == Backend::Sqlite).then(|| {
        let path = url.trim_start_matches("sqlite://");
        std::path::PathBuf::from(path.split('?').next().unwrap())
    })
}
