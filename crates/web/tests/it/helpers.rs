//! `TestApp`: the real server on port 0 against a fresh database, with typed helpers.

use std::net::SocketAddr;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};
use winback_engine::{Kind, Role};
use winback_store::testing::TestDatabase;
use winback_store::{Backend, Db};
use winback_web::WebConfig;
use winback_web::import_service::{Settings, import_reader};

pub const PASSWORD: &str = "correct horse battery";

pub const CUSTOMERS_CSV: &str = "Kundennummer;Name;E-Mail;Ort;Kundenbetreuer\n\
K1;Anna Alt;anna@example.de;München;sales1@firma.de\n\
K2;Bernd Bauer;bernd@example.de;Köln;sales2@firma.de\n\
K3;<script>alert(1)</script>;x@example.de;Berlin;sales1@firma.de\n";

pub const ORDERS_CSV: &str = "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\n\
O1;K1;10.01.2026;1.234,56\n\
O2;K1;12.02.2026;100,00\n\
O3;K2;15.02.2026;50,00\n";

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Db,
    pub client: reqwest::Client,
    pub backend: Backend,
    database: TestDatabase,
    _uploads: tempfile::TempDir,
}

/// A signed-in browser-like client: the session cookie and the page's CSRF token.
#[derive(Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// The server with settings changed by `configure` (e.g. a short idle limit).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut WebConfig)) -> TestApp {
        let database = TestDatabase::new(backend).await;
        let db = Db::connect(&database.url).await.expect("connect");
        let uploads = tempfile::tempdir().unwrap();
        let analyzer_db = db.clone();
        let mut config = WebConfig {
            upload_dir: uploads.path().to_path_buf(),
            analyzer: Some(winback_web::Analyzer::new(move |_today, _step| {
                let db = analyzer_db.clone();
                Box::pin(async move { store_analysis(&db, demo_as_of()).await })
            })),
            ..WebConfig::default()
        };
        configure(&mut config);
        let server = winback_web::spawn(db.clone(), "127.0.0.1:0", config)
            .await
            .expect("bind");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            addr: server.addr,
            db,
            client,
            backend,
            database,
            _uploads: uploads,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn add_user(&self, email: &str, role: Role) {
        let hash = winback_web::auth::hash_password(PASSWORD).unwrap();
        self.db.put_user(email, None, role, &hash).await.unwrap();
    }

    /// Imports CSV text through the shared pipeline.
    pub async fn import_csv(&self, kind: Kind, csv: &str) {
        let reader = winback_formats::Reader::from_bytes(
            "t.csv",
            csv.as_bytes().to_vec(),
            winback_formats::ReadOptions::new(kind),
        )
        .unwrap();
        let report = import_reader(
            &self.db,
            reader,
            "t.csv",
            csv.len() as u64,
            &Settings::new(kind),
            std::time::Instant::now(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        assert!(report.committed, "{:?}", report.rejected);
    }

    /// Users of every role and three customers (K1, K3 of sales1; K2 of sales2) with orders.
    pub async fn seed(&self) {
        for (email, role) in [
            ("admin@firma.de", Role::Admin),
            ("manager@firma.de", Role::Manager),
            ("sales1@firma.de", Role::Sales),
            ("sales2@firma.de", Role::Sales),
            ("analyst@firma.de", Role::Analyst),
        ] {
            self.add_user(email, role).await;
        }
        self.import_csv(Kind::Customers, CUSTOMERS_CSV).await;
        self.import_csv(Kind::Orders, ORDERS_CSV).await;
    }

    pub async fn customer_id(&self, external_id: &str) -> i64 {
        let query = winback_store::CustomerQuery {
            search: Some(external_id.into()),
            limit: 1,
            ..Default::default()
        };
        self.db.list_customers(&query).await.unwrap()[0].id
    }

    /// Signs in through the form; panics unless it succeeds.
    pub async fn login(&self, email: &str) -> Session {
        let response = self.post_login(email, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {email}"
        );
        let cookie = session_cookie(response.headers()).expect("a session cookie");
        let page = self
            .client
            .get(self.url("/settings"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        let html = page.text().await.unwrap();
        let csrf = csrf_of(&html).expect("a csrf field on the settings page");
        Session { cookie, csrf }
    }

    pub async fn post_login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, session: Option<&Session>, path: &str) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(s) = session {
            request = request.header(COOKIE, &s.cookie);
        }
        request.send().await.unwrap()
    }

    /// The database's address, for a second connection of a test's own.
    pub fn db_url(&self) -> &winback_store::DbUrl {
        &self.database.url
    }

    /// The text of a page fetched with a session (whatever its status).
    pub async fn page(&self, session: &Session, path: &str) -> String {
        self.get(Some(session), path).await.text().await.unwrap()
    }

    pub async fn get_bearer(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post_form(
        &self,
        session: &Session,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &session.csrf)];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .header(COOKIE, &session.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a file to the import page (csrf first, as the page's form sends it).
    pub async fn upload(
        &self,
        session: &Session,
        kind: &str,
        name: &str,
        content: &str,
    ) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .text("csrf", session.csrf.clone())
            .text("kind", kind.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(content.as_bytes().to_vec())
                    .file_name(name.to_owned()),
            );
        self.client
            .post(self.url("/import"))
            .header(COOKIE, &session.cookie)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Creates an API token for the user through the settings page.
    pub async fn token(&self, session: &Session) -> String {
        let html = self
            .post_form(session, "/settings/tokens", &[("name", "test")])
            .await
            .text()
            .await
            .unwrap();
        let start = html
            .find("id=\"new-token\">")
            .expect("the new token is shown")
            + "id=\"new-token\">".len();
        html[start..start + 64].to_owned()
    }
}

pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| {
            v.starts_with("__Host-winback_session=") && !v.starts_with("__Host-winback_session=;")
        })
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// The "known browser" cookie a successful sign-in leaves (`name=value`).
pub fn device_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-winback_device="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

pub fn csrf_of(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The demo company's analysis date (the test analyzer ignores "today" and uses it).
pub fn demo_as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

/// Imports `n` customers of the B2B demo company (with account owners) through the store.
pub async fn import_demo(db: &Db, n: u64) -> Vec<winback_engine::demo::DemoCustomer> {
    use winback_engine::Record;
    use winback_engine::demo::{Demo, DemoConfig};
    let demo = Demo::new(DemoConfig::new(n, 7, true, demo_as_of()));
    let customers: Vec<_> = (0..n).map(|idx| demo.customer(idx)).collect();
    let mut by_kind: Vec<(Kind, Vec<Record>)> = vec![
        (
            Kind::Products,
            demo.products().into_iter().map(Record::Product).collect(),
        ),
        (
            Kind::Customers,
            customers
                .iter()
                .map(|c| Record::Customer(c.customer.clone()))
                .collect(),
        ),
        (
            Kind::Orders,
            customers
                .iter()
                .flat_map(|c| c.orders.iter().cloned().map(Record::Order))
                .collect(),
        ),
        (
            Kind::OrderLines,
            customers
                .iter()
                .flat_map(|c| c.lines.iter().cloned().map(Record::OrderLine))
                .collect(),
        ),
        (
            Kind::Complaints,
            customers
                .iter()
                .flat_map(|c| c.complaints.iter().cloned().map(Record::Complaint))
                .collect(),
        ),
        (
            Kind::Contracts,
            customers
                .iter()
                .flat_map(|c| c.contracts.iter().cloned().map(Record::Contract))
                .collect(),
        ),
    ];
    for (kind, rows) in by_kind.drain(..) {
        let mut session = db
            .begin_import(kind, winback_store::ImportOptions::default())
            .await
            .unwrap();
        let n = rows.len() as u64;
        for (idx, row) in rows.into_iter().enumerate() {
            session.push(idx as u64 + 2, row).await.unwrap();
        }
        let problems = session.resolve().await.unwrap();
        assert!(
            problems.is_empty(),
            "{kind:?}: {:?}",
            &problems[..problems.len().min(3)]
        );
        session
            .commit(winback_store::ImportMeta {
                file_name: format!("{}.csv", kind.as_str()),
                file_bytes: 1,
                rows_read: n,
                rows_rejected: 0,
                started_at: chrono::Utc::now(),
            })
            .await
            .unwrap();
    }
    customers
}

/// Stores an analysis as `analyze_and_store` does (the web crate cannot call the binary):
/// the engine's real analysis; with too few customers to fit a model (the small seed of
/// the access tests), a fixed stand-in: the first customer at risk, the others active, one
/// alert per customer.
pub async fn store_analysis(db: &Db, as_of: chrono::NaiveDate) -> anyhow::Result<i64> {
    use winback_engine::analysis::{self, Settings};
    use winback_store::analysis::{AlertRow, RunMeta, StatusRow};
    let loaded = db.load_histories().await?;
    let started_at = chrono::Utc::now();
    if loaded.histories.len() < 20 {
        let evidence = r#"[{"kind":"days_silent","days":143,"usual_gap_days":30.0,"last_purchase_on":"2026-02-12"}]"#;
        let statuses = loaded
            .ids
            .iter()
            .enumerate()
            .map(|(idx, id)| StatusRow {
                customer_id: *id,
                status: if idx == 0 { "at_risk" } else { "active" },
                loss_kind: None,
                lost_on: None,
                likely_cause: None,
                p_alive: 0.5,
                expected_transactions_52w: 1.0,
                clv: winback_engine::Money::from_cents(1000),
                bargain_hunter: false,
                evidence: evidence.into(),
            })
            .collect();
        let alerts = loaded
            .ids
            .iter()
            .map(|id| AlertRow {
                customer_id: *id,
                signal: "falling_frequency",
                raised_on: as_of,
                evidence: evidence.into(),
            })
            .collect();
        let meta = RunMeta {
            as_of,
            model: "bg_nbd".into(),
            params: r#"{"r":0.5,"alpha":2.0,"a":0.5,"b":1.5}"#.into(),
            loglik: Some(-10.0),
            started_at,
        };
        let run_id = db.save_analysis(&meta, statuses, alerts).await?;
        // A stand-in backtest report too (three customers are too few for a real one).
        let backtest = r#"{"as_of":"2025-09-02","horizon_days":180,"customers":3,"bought_again":2,"inactive_recall":1.0,"expected_purchases":2.5,"actual_purchases":2,"statuses":[{"status":"active","customers":2,"bought_again":2,"precision":1.0,"recall":1.0}],"calibration":[{"from":0.0,"to":1.0,"customers":3,"mean_p_alive":0.6,"bought_again":0.67}]}"#;
        db.save_report(run_id, "backtest", backtest).await?;
        return Ok(run_id);
    }
    let a = tokio::task::block_in_place(|| {
        analysis::analyze(
            &loaded.histories,
            &loaded.products,
            as_of,
            &Settings::default(),
        )
    })?;
    let (meta, statuses, alerts) = winback_web::evidence::run_rows(&a, &loaded.ids, started_at);
    let run_id = db.save_analysis(&meta, statuses, alerts).await?;
    // The quality reports, as `analyze_and_store` keeps them.
    let reports = tokio::task::block_in_place(|| {
        winback_web::quality::reports(&loaded, as_of, &Settings::default())
    });
    for (kind, body) in reports {
        db.save_report(run_id, kind, &body.to_string()).await?;
    }
    Ok(run_id)
}
