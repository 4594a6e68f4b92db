//! Sign-in, sessions, CSRF, language, pages, the API and the import, over HTTP.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::Value;
use winback_engine::Kind;

use crate::both_backends;
use crate::helpers::{ORDERS_CSV, Session, TestApp};

async fn signing_in_sets_a_secure_host_cookie_and_signing_out_ends_the_session(app: &TestApp) {
    app.seed().await;
    let response = app
        .post_login("manager@firma.de", crate::helpers::PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "__Host-winback_session=",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} in {set_cookie}"
        );
    }
    let session = app.login("manager@firma.de").await;
    assert_eq!(app.get(Some(&session), "/").await.status(), StatusCode::OK);
    assert_eq!(
        app.get(None, "/").await.headers()["location"],
        "/login",
        "anonymous visitors go to the sign-in page"
    );

    let response = app.post_form(&session, "/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(Some(&session), "/").await.headers()["location"],
        "/login",
        "the old cookie is dead"
    );
}
both_backends!(signing_in_sets_a_secure_host_cookie_and_signing_out_ends_the_session);

async fn wrong_passwords_are_refused_and_the_eleventh_failure_in_a_minute_is_throttled(
    app: &TestApp,
) {
    app.seed().await;
    for _ in 0..10 {
        assert_eq!(
            app.post_login("manager@firma.de", "wrong password")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.post_login("nobody@firma.de", "wrong password")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let response = app
        .post_login("manager@firma.de", crate::helpers::PASSWORD)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
}
both_backends!(wrong_passwords_are_refused_and_the_eleventh_failure_in_a_minute_is_throttled);

async fn state_changing_requests_without_the_csrf_token_are_forbidden(app: &TestApp) {
    app.seed().await;
    let session = app.login("manager@firma.de").await;
    let forged = Session {
        csrf: "0".repeat(64),
        ..session.clone()
    };
    assert_eq!(
        app.post_form(&forged, "/settings/language", &[("lang", "en")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let no_token = app
        .client
        .post(app.url("/settings/language"))
        .header(COOKIE, &session.cookie)
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let cross_site = app
        .client
        .post(app.url("/settings/language"))
        .header(COOKIE, &session.cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", session.csrf.as_str()), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let upload = reqwest::multipart::Form::new()
        .text("kind", "customers")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.csv"),
        );
    let response = app
        .client
        .post(app.url("/import"))
        .header(COOKIE, &session.cookie)
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "an upload without the token"
    );
    assert_eq!(
        app.post_form(&session, "/settings/language", &[("lang", "en")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
both_backends!(state_changing_requests_without_the_csrf_token_are_forbidden);

async fn the_overview_shows_the_real_numbers_in_the_users_language(app: &TestApp) {
    app.seed().await;
    let session = app.login("manager@firma.de").await;
    let html = app.page(&session, "/").await;
    assert!(
        html.contains("<html lang=\"de\""),
        "German without Accept-Language"
    );
    assert!(html.contains("1.384,56\u{a0}€"), "revenue in German format");
    assert!(
        html.contains("<td>2026-02</td>"),
        "the chart's numbers as a table"
    );
    assert!(html.contains("data-chart=\"chart-revenue\""));

    let in_language = |lang: &'static str| {
        app.client
            .get(app.url("/"))
            .header(COOKIE, &session.cookie)
            .header("accept-language", lang)
            .send()
    };
    let english = in_language("en-US,en;q=0.9")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("€1,384.56"), "the browser's language");

    app.post_form(&session, "/settings/language", &[("lang", "de")])
        .await;
    let stored = in_language("en").await.unwrap().text().await.unwrap();
    assert!(
        stored.contains("Übersicht"),
        "the user's stored choice wins over the browser"
    );
}
both_backends!(the_overview_shows_the_real_numbers_in_the_users_language);

async fn every_page_renders_with_security_headers_and_empty_states_say_what_will_come(
    app: &TestApp,
) {
    app.seed().await;
    let session = app.login("admin@firma.de").await;
    let k1 = app.customer_id("K1").await;
    for path in [
        "/",
        "/lost",
        "/causes",
        "/scoring",
        "/campaigns",
        "/results",
        "/customers",
        &format!("/customers/{k1}"),
        "/import",
        "/settings",
    ] {
        let response = app.get(Some(&session), path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("nav.") && !html.contains("empty."),
            "an untranslated key on {path}"
        );
    }
    let html = app.page(&session, "/scoring").await;
    assert!(html.contains("Bewertungsmatrix") && html.contains("keine Beispieldaten"));
    assert_eq!(
        app.get(Some(&session), "/assets/vendor/echarts.min.js")
            .await
            .status(),
        StatusCode::OK
    );
}
both_backends!(every_page_renders_with_security_headers_and_empty_states_say_what_will_come);

async fn customer_pages_tell_the_story_and_escape_imported_text(app: &TestApp) {
    app.seed().await;
    let session = app.login("manager@firma.de").await;
    let list = app.page(&session, "/customers").await;
    assert!(list.contains("Anna Alt") && list.contains("Bernd Bauer"));
    assert!(
        list.contains("&#60;script&#62;alert(1)") && !list.contains("<script>alert(1)"),
        "imported text is escaped"
    );
    let k1 = app.customer_id("K1").await;
    let page = app.page(&session, &format!("/customers/{k1}")).await;
    assert!(
        page.contains("1.234,56\u{a0}€") && page.contains("O2") && page.contains("id=\"timeline\"")
    );
    assert!(page.contains("12.02.2026"));

    // Stored codes (party, consent channel and status) are shown in the page's language.
    app.import_csv(
        Kind::Customers,
        "Kundennummer;Name;Kundenart\nK1;Anna Alt;B2B\n",
    )
    .await;
    app.import_csv(
        Kind::Consents,
        "Kundennummer;Kanal;Status;Erfasst am;Quelle\nK1;E-Mail;erteilt;10.01.2026 10:00;Shop\nK1;Telefon;Widerspruch;11.01.2026 10:00;Anruf\n",
    )
    .await;
    let page = app.page(&session, &format!("/customers/{k1}")).await;
    for shown in [
        "<dd>Geschäftskunde (B2B)</dd>",
        "<td>E-Mail</td><td>erteilt</td>",
        "<td>Telefon</td><td>Widerspruch</td>",
    ] {
        assert!(page.contains(shown), "{shown} on the German page");
    }
    assert!(!page.contains("<td>granted</td>") && !page.contains("<dd>b2b</dd>"));
}
both_backends!(customer_pages_tell_the_story_and_escape_imported_text);

async fn the_api_pages_customers_with_a_bearer_token_and_answers_errors_in_one_shape(
    app: &TestApp,
) {
    app.seed().await;
    let session = app.login("analyst@firma.de").await;
    let token = app.token(&session).await;
    let settings = || async { app.page(&session, "/settings").await };
    assert!(
        settings()
            .await
            .contains("<td class=\"token-last-used\">noch nie</td>"),
        "a new token was never used"
    );
    let first: Value = app
        .get_bearer(&token, "/api/v1/customers?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let after = first["next_after"].as_i64().expect("a next page");
    let second: Value = app
        .get_bearer(&token, &format!("/api/v1/customers?limit=2&after={after}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["external_id"], "K3");
    assert!(second["next_after"].is_null());

    let k1 = first["items"][0]["id"].as_i64().unwrap();
    let detail: Value = app
        .get_bearer(&token, &format!("/api/v1/customers/{k1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            detail["n_orders"].as_i64(),
            detail["revenue_cents"].as_i64()
        ),
        (Some(2), Some(133_456))
    );

    let missing = app.get_bearer(&token, "/api/v1/customers/999999").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let anonymous = app.get(None, "/api/v1/customers").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
    assert_eq!(
        app.get_bearer("not-a-token", "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let html = settings().await;
    assert!(
        html.contains("<td class=\"token-last-used\">") && !html.contains("noch nie"),
        "the settings page shows when the token was last used: {html}"
    );
    let stored: Vec<String> = app.db.snapshot("api_tokens").await.unwrap();
    assert!(
        !stored.iter().any(|row| row.contains(&token)),
        "only the token's hash is stored"
    );
}
both_backends!(the_api_pages_customers_with_a_bearer_token_and_answers_errors_in_one_shape);

async fn the_openapi_document_and_the_reference_page_are_served(app: &TestApp) {
    let doc: Value = app
        .get(None, "/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/customers",
        "/customers/{id}",
        "/imports/{kind}",
        "/users",
        "/users/{id}/disable",
        "/users/{id}/enable",
        "/me",
        "/overview",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} in the document");
    }
    let page = app.get(None, "/api/docs/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("swagger"));
}
both_backends!(the_openapi_document_and_the_reference_page_are_served);

async fn an_upload_with_a_bad_row_shows_it_and_imports_nothing_until_confirmed(app: &TestApp) {
    app.seed().await;
    let session = app.login("manager@firma.de").await;
    let csv = "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\nO10;K1;01.03.2026;10,00\nO11;K1;31.02.2026;20,00\nO12;K9;02.03.2026;30,00\n";
    let response = app
        .upload(&session, "orders", "bestellungen.csv", csv)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("id=\"detected-format\"") && html.contains("id=\"mapping\""),
        "format and mapping shown"
    );
    assert!(
        html.contains("<td class=\"num\">3</td>"),
        "the bad date's line: {html}"
    );
    // The reasons in the page's language (German without an Accept-Language header).
    assert!(
        html.contains("„31.02.2026“ ist kein gültiges Datum"),
        "the bad date's reason in German: {html}"
    );
    assert!(
        html.contains("id=\"commit-blocked\""),
        "no confirm while rows are rejected"
    );
    let before = app.db.counts().await.unwrap();
    assert_eq!(
        before.iter().find(|(k, _)| *k == Kind::Orders).unwrap().1,
        3,
        "a check imports nothing"
    );

    let action_start = html.find("action=\"/import/").unwrap() + "action=\"".len();
    let action = &html[action_start..action_start + html[action_start..].find('"').unwrap()];
    let upload_path = action.trim_end_matches("/check");
    let html = app
        .post_form(
            &session,
            &format!("{upload_path}/check"),
            &[("skip_invalid", "true")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"commit\""),
        "leaving the bad rows out can be confirmed"
    );
    // The store's own check (an unknown customer) names its column in German too.
    assert!(
        html.contains("<td>Kunde</td><td>unbekannter Kunde"),
        "the unknown customer's column and reason in German: {html}"
    );
    let html = app
        .post_form(
            &session,
            &format!("{upload_path}/commit"),
            &[("skip_invalid", "true")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"import-done\""), "{html}");
    let after = app.db.counts().await.unwrap();
    assert_eq!(
        after.iter().find(|(k, _)| *k == Kind::Orders).unwrap().1,
        4,
        "the one good row"
    );
    let again = app
        .post_form(&session, &format!("{upload_path}/commit"), &[])
        .await;
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "an upload is used once"
    );
}
both_backends!(an_upload_with_a_bad_row_shows_it_and_imports_nothing_until_confirmed);

async fn the_api_imports_with_the_same_rules_as_the_command_line(app: &TestApp) {
    app.seed().await;
    let session = app.login("manager@firma.de").await;
    let token = app.token(&session).await;
    let post = |csv: &'static str, extra: &'static [(&'static str, &'static str)]| {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("orders.csv"),
        );
        for (k, v) in extra {
            form = form.text(*k, *v);
        }
        app.client
            .post(app.url("/api/v1/imports/orders"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    let bad = "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\nO20;K1;01.03.2026;10,00\nO21;K1;kein Datum;20,00\n";
    let report: Value = post(bad, &[]).await.unwrap().json().await.unwrap();
    assert_eq!(
        (
            report["committed"].as_bool(),
            report["rows_rejected"].as_u64()
        ),
        (Some(false), Some(1))
    );
    assert_eq!(report["rejected"][0]["line"], 3);
    let report: Value = post(ORDERS_CSV, &[]).await.unwrap().json().await.unwrap();
    assert_eq!(
        (report["committed"].as_bool(), report["unchanged"].as_u64()),
        (Some(true), Some(3)),
        "idempotent: {report}"
    );
    let dry: Value = post(
        "Bestellnummer;Kundennummer;Bestelldatum;Bruttobetrag\nO30;K2;01.03.2026;1,00\n",
        &[("dry_run", "true")],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        (dry["committed"].as_bool(), dry["dry_run"].as_bool()),
        (Some(false), Some(true))
    );
    let counts = app.db.counts().await.unwrap();
    assert_eq!(
        counts.iter().find(|(k, _)| *k == Kind::Orders).unwrap().1,
        3
    );
}
both_backends!(the_api_imports_with_the_same_rules_as_the_command_line);
