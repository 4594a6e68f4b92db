//! The XSS payload corpus in real headless Chromium (SECURITY.md row "XSS"): customers,
//! complaints, alert notes and a staff user's name full of classic payloads are imported,
//! then every page that renders them is opened. Each page must show every payload as
//! plain text, hold no element or attribute that came from one (event handlers,
//! `javascript:` URLs, inline scripts, frames, styles), open no dialog, and report no
//! Content-Security-Policy violation (a listener installed into every new document over
//! the DevTools protocol counts them). Two control steps prove that the dialog and the
//! violation detectors do fire.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{Value, json};
use winback_engine::{Kind, Role};
use winback_store::Backend;

use crate::browser::{STEP, sign_in, start_browser, step};
use crate::helpers::{PASSWORD, TestApp};

/// Classic payloads for HTML text, attribute, URL, script and template contexts.
const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "<svg onload=alert(1)>",
    "'-alert(1)-'",
    "{{7*7}}",
    "</script><script>alert(1)</script>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "'\"><body onload=alert(1)>",
    "<img src=x onerror=\"alert(1)\">",
    "${alert(1)}",
    "<details open ontoggle=alert(1)>",
    "<style>body{display:none}</style>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
];

/// Payloads that are also valid e-mail addresses (the importer checks those).
fn email(i: usize) -> String {
    const LOCAL: &[&str] = &[
        "\"><img/src=x/onerror=alert(1)>",
        "<script>alert(1)</script>",
        "'-alert(1)-'",
        "{{7*7}}",
        "<svg/onload=alert(1)>",
    ];
    format!("{}@x{i}.de", LOCAL[i % LOCAL.len()])
}

/// A CSV cell: quoted, with a formula guard where the importer would strip one.
fn cell(text: &str) -> String {
    let guarded = text.starts_with(['=', '+', '-', '@', '\'', '(']);
    let text = if guarded {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn payload(i: usize) -> &'static str {
    PAYLOADS[i % PAYLOADS.len()]
}

/// Runs in every new document before the page's own scripts: counts CSP violations.
const LISTENER: &str = "window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
}, true);";

/// What a page holds that it should not, as JSON.
const INSPECT: &str = "const expected = arguments[0];
const text = document.body.innerText;
const problems = [];
for (const p of expected) { if (!text.includes(p)) problems.push('not shown as text: ' + p); }
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    if (a.name.startsWith('on')) problems.push('event handler: ' + el.outerHTML.slice(0, 120));
    if (['href', 'src', 'action', 'formaction', 'data'].includes(a.name) && /^\\s*javascript:/i.test(a.value))
      problems.push('javascript: URL: ' + el.outerHTML.slice(0, 120));
  }
}
for (const s of document.scripts) {
  if (!s.src && s.type !== 'application/json') problems.push('inline script: ' + s.outerHTML.slice(0, 120));
}
for (const el of document.querySelectorAll('iframe, object, embed, base, style, meta[http-equiv], img[src=\"x\"], details[ontoggle], body[onload]')) {
  problems.push('injected element: ' + el.outerHTML.slice(0, 120));
}
return {problems: problems, violations: window.__cspViolations || null};";

/// `POST /session/{id}/goog/cdp/execute`: a Chrome DevTools command through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payload_corpus_renders_as_text_on_every_page_without_a_dialog_or_csp_violation() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.add_user("admin@firma.de", Role::Admin).await;
    // A staff user whose name is a payload (the admin's user list shows it).
    let hash = winback_web::auth::hash_password(PASSWORD).unwrap();
    app.db
        .put_user("staff@firma.de", Some(payload(3)), Role::Sales, &hash)
        .await
        .unwrap();

    // Customers: every text field a payload, shifted so each field meets each payload.
    let n = PAYLOADS.len();
    let mut customers =
        String::from("Kundennummer;Name;E-Mail;Ort;Segment;Branche;Kundenbetreuer\n");
    let mut orders = String::from("Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\n");
    let mut complaints =
        String::from("Reklamationsnummer;Kundennummer;Eingegangen am;Kategorie;Beschreibung\n");
    for i in 0..n {
        let row = [
            format!("X{i:02}"),
            payload(i).to_owned(),
            email(i),
            payload(i + 1).to_owned(),
            payload(i + 2).to_owned(),
            payload(i + 3).to_owned(),
            payload(i + 4).to_owned(),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        customers.push_str(&cells.join(";"));
        customers.push('\n');
        orders.push_str(&format!("O{i};X{i:02};10.01.2026;10,00\n"));
        let complaint = [
            payload(i + 5).to_owned(),
            format!("X{i:02}"),
            "12.01.2026".to_owned(),
            payload(i + 6).to_owned(),
            payload(i + 7).to_owned(),
        ];
        let cells: Vec<String> = complaint.iter().map(|c| cell(c)).collect();
        complaints.push_str(&cells.join(";"));
        complaints.push('\n');
    }
    app.import_csv(Kind::Customers, &customers).await;
    app.import_csv(Kind::Orders, &orders).await;
    app.import_csv(Kind::Complaints, &complaints).await;
    crate::helpers::store_analysis(&app.db, crate::helpers::demo_as_of())
        .await
        .unwrap();
    // Alert notes are what users type: one payload each.
    let session = app.login("admin@firma.de").await;
    let alerts = app
        .db
        .alerts(&winback_store::AlertQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts.len(), n, "one alert per customer");
    for (i, alert) in alerts.iter().enumerate() {
        let response = app
            .post_form(
                &session,
                &format!("/alerts/{}/state", alert.id),
                &[("state", "acknowledged"), ("note", payload(i + 8))],
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    }

    // Leave a dialog open so that it can be seen, instead of dismissing it.
    let browser = start_browser(&[("unhandledPromptBehavior", json!("ignore"))]).await;
    let client = &browser.client;
    step(
        "install the CSP violation listener",
        client.issue_cmd(Cdp {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({"source": LISTENER}),
        }),
    )
    .await;
    let base = app.url("");
    sign_in(client, &base, "admin@firma.de").await;

    // Every page that renders imported or typed text, with the payloads it must show.
    let all: Vec<String> = PAYLOADS.iter().map(|p| (*p).to_owned()).collect();
    let emails: Vec<String> = (0..n).map(email).collect();
    let mut pages: Vec<(String, Vec<String>)> = vec![
        ("/".into(), vec![]),
        (
            "/customers".into(),
            all.iter().chain(&emails).cloned().collect(),
        ),
        ("/lost?status=all".into(), all.clone()),
        ("/alerts?state=all".into(), all.clone()),
        ("/settings".into(), vec![payload(3).to_owned()]),
    ];
    for i in 0..n {
        let id = app.customer_id(&format!("X{i:02}")).await;
        let shown = (0..8).map(|k| payload(i + k).to_owned());
        pages.push((
            format!("/customers/{id}"),
            shown.chain([email(i)]).collect(),
        ));
    }
    // Reflected: the search box shows what was searched for.
    for p in [payload(0), payload(1), payload(9)] {
        pages.push((format!("/customers?q={}", urlencode(p)), Vec::new()));
    }

    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, expected) in &pages {
        step("open a page", client.goto(&format!("{base}{path}"))).await;
        step(
            "the page has its heading",
            client
                .wait()
                .at_most(STEP)
                .for_element(Locator::Css("main h1")),
        )
        .await;
        // Give anything that would run (onload, onerror, ontoggle, a chart) a moment.
        tokio::time::sleep(Duration::from_millis(150)).await;
        if let Ok(text) = client.get_alert_text().await {
            failures.push(format!("{path}: a dialog opened: {text}"));
            let _ = client.dismiss_alert().await;
            continue;
        }
        let found = step(
            "inspect the page",
            client.execute(INSPECT, vec![json!(expected)]),
        )
        .await;
        for problem in found["problems"].as_array().unwrap() {
            failures.push(format!("{path}: {}", problem.as_str().unwrap()));
        }
        match found["violations"].as_array() {
            Some(v) if v.is_empty() => {}
            Some(v) => failures.push(format!("{path}: CSP violations: {v:?}")),
            None => failures.push(format!("{path}: the CSP listener is missing")),
        }
        if let Some(q) = path.strip_prefix("/customers?q=") {
            let value = step(
                "read the search box",
                client.execute(
                    "return document.querySelector('input[name=q]').value",
                    vec![],
                ),
            )
            .await;
            let searched = PAYLOADS.iter().find(|p| urlencode(p) == q).unwrap();
            if value.as_str() != Some(*searched) {
                failures.push(format!("{path}: the search box holds {value}"));
            }
        }
        checked += expected.len();
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Controls: the detectors do see a dialog and a blocked inline script.
    step(
        "open a dialog on purpose",
        client.execute("setTimeout(function () { alert('control'); }, 0)", vec![]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        client.get_alert_text().await.ok().as_deref(),
        Some("control"),
        "the dialog detector works"
    );
    step("close the dialog", client.dismiss_alert()).await;
    step(
        "inject an inline script on purpose",
        client.execute(
            "const s = document.createElement('script'); s.textContent = 'window.__ran = true'; document.body.appendChild(s);
             const i = document.createElement('div'); i.innerHTML = '<img src=x onerror=\"window.__ran = true\">'; document.body.appendChild(i);",
            vec![],
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let found = step(
        "read the violations",
        client.execute(
            "return {violations: window.__cspViolations, ran: window.__ran === true}",
            vec![],
        ),
    )
    .await;
    assert_eq!(found["ran"], false, "the CSP blocks inline script");
    assert!(
        !found["violations"].as_array().unwrap().is_empty(),
        "the violation detector works: {found}"
    );

    step("close the browser", client.clone().close()).await;
    drop(browser);
    println!(
        "{{\"test\": \"xss_corpus\", \"payloads\": {}, \"pages\": {}, \"texts_checked\": {checked}, \"executions\": 0}}",
        PAYLOADS.len(),
        pages.len()
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
