//! Browser tests in real headless Chromium (Debian `chromium` + `chromium-driver`) over
//! WebDriver: sign in, switch the language, upload an import with a bad row and read its
//! report, and keep a screenshot of every main page in `test-artefacts/browser/`.
//!
//! No skip: without Chromium the test fails and says to run scripts/test-setup.sh. Every
//! step has a timeout, so a stuck browser fails the test instead of hanging the suite.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use winback_store::Backend;

use crate::helpers::{PASSWORD, TestApp};

pub(crate) const STEP: Duration = Duration::from_secs(30);

/// chromedriver on a free loopback port; killed on drop.
pub(crate) struct Driver {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

pub(crate) fn start_driver() -> Driver {
    let driver = find_binary(&["chromedriver"]).unwrap_or_else(|| {
        panic!("chromedriver is not installed: run scripts/test-setup.sh (installs Debian's chromium and chromium-driver)")
    });
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "chromedriver did not listen within 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

/// A headless Chromium session over chromedriver, with its own profile directory; the
/// driver, and with it the browser, ends on drop.
pub(crate) struct Browser {
    pub client: fantoccini::Client,
    pub profile: tempfile::TempDir,
    _driver: Driver,
}

/// Starts Chromium as the project runs it (`--headless --no-sandbox --disable-gpu
/// --disable-background-networking`, German, 1280x900), with `extra` WebDriver capabilities.
pub(crate) async fn start_browser(extra: &[(&str, serde_json::Value)]) -> Browser {
    let chromium = find_binary(&["chromium", "chromium-browser"]).unwrap_or_else(|| {
        panic!("chromium is not installed: run scripts/test-setup.sh (installs Debian's chromium and chromium-driver)")
    });
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                "--no-first-run", "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                "--lang=de-DE", format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    for (name, value) in extra {
        capabilities.insert((*name).into(), value.clone());
    }
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = step(
        "start a browser session",
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port)),
    )
    .await;
    Browser {
        client,
        profile,
        _driver: driver,
    }
}

/// Signs in on `base`/login and waits for the overview.
pub(crate) async fn sign_in(
    client: &fantoccini::Client,
    base: &str,
    email: &str,
) -> fantoccini::elements::Element {
    step(
        "open the sign-in page",
        client.goto(&format!("{base}/login")),
    )
    .await;
    step("type the e-mail", async {
        client
            .find(Locator::Css("#email"))
            .await?
            .send_keys(email)
            .await
    })
    .await;
    step("type the password", async {
        client
            .find(Locator::Css("#password"))
            .await?
            .send_keys(PASSWORD)
            .await
    })
    .await;
    step("sign in", async {
        client
            .find(Locator::Css("#login-submit"))
            .await?
            .click()
            .await
    })
    .await;
    step(
        "see the overview",
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("#revenue")),
    )
    .await
}

pub(crate) fn artefacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-artefacts/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn step<T, E: std::fmt::Debug>(
    what: &str,
    future: impl std::future::Future<Output = Result<T, E>>,
) -> T {
    match tokio::time::timeout(STEP, future).await {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => panic!("browser step '{what}' failed: {error:?}"),
        Err(_) => panic!("browser step '{what}' took longer than {STEP:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_signs_in_switches_language_imports_a_bad_file_and_sees_every_page() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.seed().await;
    crate::helpers::store_analysis(&app.db, crate::helpers::demo_as_of())
        .await
        .unwrap();
    let browser = start_browser(&[]).await;
    let client = &browser.client;
    let profile = &browser.profile;
    let shots = artefacts();
    let base = app.url("");

    // Sign in.
    let figures = sign_in(client, &base, "manager@firma.de").await;
    let revenue = step("read the revenue", figures.text()).await;
    assert_eq!(
        revenue, "€1,384.56",
        "headless Chromium asks for English (Accept-Language en-US)"
    );
    step(
        "the chart draws",
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("#chart-revenue svg")),
    )
    .await;

    // Switch to German: stored for the user, it wins over the browser's language.
    step("switch to German", async {
        client.find(Locator::Css("#lang-de")).await?.click().await
    })
    .await;
    let revenue = step("see German", async {
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::XPath(
                "//dd[@id='revenue' and contains(., '1.384,56')]",
            ))
            .await
    })
    .await;
    // WebDriver's text() turns the no-break space into a plain one.
    assert_eq!(
        step("read", revenue.text()).await.replace('\u{a0}', " "),
        "1.384,56 €"
    );
    let heading = step("read the heading", async {
        client.find(Locator::Css("main h1")).await?.text().await
    })
    .await;
    assert_eq!(heading, "Übersicht");

    // Screenshot of every main page (in German now).
    let k1 = app.customer_id("K1").await;
    for (name, path) in [
        ("overview", "/".to_owned()),
        ("lost", "/lost?status=all".to_owned()),
        ("alerts", "/alerts".to_owned()),
        ("causes", "/causes".to_owned()),
        ("scoring", "/scoring".to_owned()),
        ("campaigns", "/campaigns".to_owned()),
        ("results", "/results".to_owned()),
        ("customers", "/customers".to_owned()),
        ("customer", format!("/customers/{k1}")),
        ("import", "/import".to_owned()),
        ("settings", "/settings".to_owned()),
    ] {
        step("open a page", client.goto(&format!("{base}{path}"))).await;
        step(
            "the page has its heading",
            client
                .wait()
                .at_most(STEP)
                .for_element(Locator::Css("main h1")),
        )
        .await;
        if name == "overview" {
            step(
                "the chart draws",
                client
                    .wait()
                    .at_most(STEP)
                    .for_element(Locator::Css("#chart-revenue svg")),
            )
            .await;
            // The quality section's chart (one shared axis for two series) draws too.
            let quality = step(
                "the quality chart draws",
                client
                    .wait()
                    .at_most(STEP)
                    .for_element(Locator::Css("#chart-calibration svg")),
            )
            .await;
            let png = step("screenshot of the quality chart", quality.screenshot()).await;
            std::fs::write(shots.join("overview-quality.png"), png).unwrap();
        }
        // No page scrolls sideways as a whole: a wide table scrolls in its own box.
        let widths = step(
            "measure the page's width",
            client.execute(
                "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];",
                vec![],
            ),
        )
        .await;
        let (scroll, client_width) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
        assert!(
            scroll <= client_width,
            "{name} is {scroll} px wide in a {client_width} px window"
        );
        let png = step("screenshot", client.screenshot()).await;
        assert!(png.len() > 1000, "a real screenshot of {name}");
        std::fs::write(shots.join(format!("{name}.png")), png).unwrap();
    }

    // Upload an import with a bad row and read its report.
    let file = profile.path().join("orders-with-a-bad-row.csv");
    std::fs::write(&file, "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\nO50;K1;01.03.2026;10,00\nO51;K1;31.02.2026;20,00\n").unwrap();
    step(
        "open the import page",
        client.goto(&format!("{base}/import")),
    )
    .await;
    step("choose the kind", async {
        client
            .find(Locator::Css("#kind option[value='orders']"))
            .await?
            .click()
            .await
    })
    .await;
    step("choose the file", async {
        client
            .find(Locator::Css("#file"))
            .await?
            .send_keys(&file.display().to_string())
            .await
    })
    .await;
    step("upload", async {
        client.find(Locator::Css("#upload")).await?.click().await
    })
    .await;
    let rejected = step(
        "see the rejected rows",
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("#rejected")),
    )
    .await;
    let text = step("read the report", rejected.text()).await;
    assert!(text.contains('3'), "line 3 is reported: {text}");
    step(
        "the confirm is blocked",
        client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("#commit-blocked")),
    )
    .await;
    let png = step("screenshot", client.screenshot()).await;
    std::fs::write(shots.join("import-report.png"), png).unwrap();

    step("close the browser", client.clone().close()).await;
    drop(browser);
    println!(
        "{{\"test\": \"browser\", \"screenshots\": 12, \"dir\": \"{}\"}}",
        shots.display()
    );
}
