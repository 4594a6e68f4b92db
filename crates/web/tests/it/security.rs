//! Session lifetime, disabling users and the sign-in throttle (SECURITY.md rows "Session"
//! and "Brute force"), over HTTP against both databases.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{PASSWORD, Session, TestApp, device_cookie, session_cookie};

/// The idle limit of the idle test: short, so the test waits seconds, not half an hour.
const IDLE: Duration = Duration::from_secs(3);

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.db.user_by_email(email).await.unwrap().unwrap().0.id
}

async fn api_me(app: &TestApp, session: &Session) -> StatusCode {
    app.client
        .get(app.url("/api/v1/me"))
        .header(COOKIE, &session.cookie)
        .send()
        .await
        .unwrap()
        .status()
}

async fn sessions_stored(app: &TestApp) -> usize {
    app.db.snapshot("sessions").await.unwrap().len()
}

async fn a_session_unused_for_longer_than_the_idle_limit_ends_while_a_busy_one_lives(
    app: &TestApp,
) {
    app.seed().await;
    let page = app.login("sales1@firma.de").await;
    let api = app.login("sales1@firma.de").await;
    let busy = app.login("sales1@firma.de").await;
    // Used every second for longer than the idle limit: each use refreshes it.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(app.get(Some(&busy), "/").await.status(), StatusCode::OK);
    }
    assert_eq!(sessions_stored(app).await, 3);

    // The other two have not been used for about five seconds.
    let response = app.get(Some(&page), "/customers").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login?expired=true");
    let cleared = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("__Host-winback_session=;") && cleared.contains("Max-Age=0"),
        "the dead cookie is cleared: {cleared}"
    );
    assert_eq!(
        api_me(app, &api).await,
        StatusCode::UNAUTHORIZED,
        "the API answers 401"
    );
    assert_eq!(
        sessions_stored(app).await,
        1,
        "idle sessions are deleted, not only refused"
    );
    assert_eq!(
        api_me(app, &busy).await,
        StatusCode::OK,
        "the busy session lives"
    );
    assert_eq!(
        app.get(Some(&page), "/").await.headers()["location"],
        "/login",
        "an ended session stays ended"
    );

    let html = app
        .get(None, "/login?expired=true")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("ohne Aktivität abgemeldet"),
        "the sign-in page says why"
    );
}
both_backends!(
    a_session_unused_for_longer_than_the_idle_limit_ends_while_a_busy_one_lives,
    |config: &mut winback_web::WebConfig| config.session_idle = super::IDLE
);

async fn a_busy_session_is_written_at_most_once_a_minute(app: &TestApp) {
    app.seed().await;
    let session = app.login("manager@firma.de").await;
    let token = session
        .cookie
        .strip_prefix("__Host-winback_session=")
        .unwrap();
    let hash = winback_web::auth::token_hash(token);
    let last_seen = || async {
        app.db
            .session(&hash, chrono::Utc::now())
            .await
            .unwrap()
            .expect("a live session")
            .last_seen_at
    };
    let created = last_seen().await;
    for path in ["/", "/customers", "/api/v1/me", "/settings"] {
        let response = app.get(Some(&session), path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(
        last_seen().await,
        created,
        "requests within the first minute write nothing"
    );
    // 30 minutes default: the session has not ended.
    assert_eq!(api_me(app, &session).await, StatusCode::OK);
}
both_backends!(a_busy_session_is_written_at_most_once_a_minute);

async fn a_disabled_sales_reps_open_session_gets_401_on_the_next_request(app: &TestApp) {
    app.seed().await;
    let admin = app.login("admin@firma.de").await;
    let admin_token = app.token(&admin).await;
    let rep = app.login("sales1@firma.de").await;
    let rep_token = app.token(&rep).await;
    let rep_id = user_id(app, "sales1@firma.de").await;
    let admin_id = user_id(app, "admin@firma.de").await;
    assert_eq!(api_me(app, &rep).await, StatusCode::OK);
    assert_eq!(
        app.get_bearer(&rep_token, "/api/v1/me").await.status(),
        StatusCode::OK
    );

    // The admin's user list offers to disable the rep, but not the admin themself.
    let html = app.page(&admin, "/settings").await;
    assert!(html.contains(&format!("action=\"/settings/users/{rep_id}/disable\"")));
    assert!(!html.contains(&format!("action=\"/settings/users/{admin_id}/disable\"")));

    let response = app
        .post_form(&admin, &format!("/settings/users/{rep_id}/disable"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("sales1@firma.de ist gesperrt"), "{html}");
    assert!(html.contains(&format!("action=\"/settings/users/{rep_id}/enable\"")));

    // The rep's open session and token are dead on the very next request.
    assert_eq!(api_me(app, &rep).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get(Some(&rep), "/customers").await.headers()["location"],
        "/login"
    );
    assert_eq!(
        app.get_bearer(&rep_token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_login("sales1@firma.de", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled user cannot sign in"
    );
    let users: Value = app
        .get_bearer(&admin_token, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let listed = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == rep_id)
        .unwrap();
    assert_eq!(listed["disabled"], true);

    // An admin cannot disable themself, on the page or by the API.
    let response = app
        .post_form(&admin, &format!("/settings/users/{admin_id}/disable"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Ihr eigenes Konto können Sie nicht sperren")
    );
    let post = |path: String| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&admin_token)
            .send()
    };
    let response = post(format!("/api/v1/users/{admin_id}/disable"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(api_me(app, &admin).await, StatusCode::OK);
    assert_eq!(
        post("/api/v1/users/999999/disable".into())
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Enabled again (API): the rep signs in with their password; the old session and token
    // stay dead.
    let response = post(format!("/api/v1/users/{rep_id}/enable"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let json: Value = response.json().await.unwrap();
    assert_eq!(
        (json["email"].as_str(), json["disabled"].as_bool()),
        (Some("sales1@firma.de"), Some(false))
    );
    assert_eq!(api_me(app, &rep).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get_bearer(&rep_token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let again = app.login("sales1@firma.de").await;
    assert_eq!(api_me(app, &again).await, StatusCode::OK);

    // Disabled by the API: the same at once.
    let response = post(format!("/api/v1/users/{rep_id}/disable"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["disabled"], true);
    assert_eq!(api_me(app, &again).await, StatusCode::UNAUTHORIZED);

    // And back on the page.
    let response = app
        .post_form(&admin, &format!("/settings/users/{rep_id}/enable"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("sales1@firma.de ist wieder entsperrt")
    );
    assert_eq!(
        app.post_login("sales1@firma.de", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}
both_backends!(a_disabled_sales_reps_open_session_gets_401_on_the_next_request);

/// A client whose requests come from 127.0.0.`n` (Linux routes all of 127/8 to loopback).
fn from_address(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    device: Option<&str>,
) -> reqwest::Response {
    let mut request = client
        .post(app.url("/login"))
        .form(&[("email", email), ("password", password)]);
    if let Some(device) = device {
        request = request.header(COOKIE, device);
    }
    request.send().await.unwrap()
}

async fn guessing_one_account_from_rotating_addresses_is_throttled_but_its_own_browser_gets_in(
    app: &TestApp,
) {
    app.seed().await;
    // The real user signed in from their browser before, which keeps the device cookie.
    let first = sign_in(app, &from_address(2), "sales1@firma.de", PASSWORD, None).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let device = device_cookie(first.headers()).expect("a device cookie");
    let set_cookies: Vec<_> = first
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("__Host-winback_device=")
                && c.contains("Secure")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Strict")),
        "{set_cookies:?}"
    );

    // Ten wrong passwords, each from another address: no address is throttled.
    for n in 0..10 {
        let response = sign_in(
            app,
            &from_address(10 + n),
            "sales1@firma.de",
            "wrong password",
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "try {n}");
    }
    // The account is.
    let response = sign_in(
        app,
        &from_address(30),
        "Sales1@Firma.de ",
        "wrong password",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "Retry-After: {retry}");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Zu viele Fehlversuche für diese E-Mail-Adresse")
    );
    assert_eq!(
        sign_in(app, &from_address(31), "sales1@firma.de", PASSWORD, None)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown browser waits, even with the right password"
    );
    let forged = format!("__Host-winback_device={}", "0".repeat(64));
    assert_eq!(
        sign_in(
            app,
            &from_address(32),
            "sales1@firma.de",
            PASSWORD,
            Some(&forged)
        )
        .await
        .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged device cookie does not help"
    );
    assert_eq!(
        sign_in(app, &from_address(33), "manager@firma.de", PASSWORD, None)
            .await
            .status(),
        StatusCode::SEE_OTHER,
        "other accounts are not affected"
    );

    // Twenty guesses at once: they count from the moment they arrive, so no more than ten
    // get their password checked.
    let tasks: Vec<_> = (0..20u8)
        .map(|n| {
            let client = from_address(80 + n);
            let url = app.url("/login");
            tokio::spawn(async move {
                client
                    .post(url)
                    .form(&[
                        ("email", "analyst@firma.de"),
                        ("password", "wrong password"),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (10, 10),
        "{statuses:?}"
    );

    // An address that does not belong to anyone is throttled the same way, so the
    // throttle does not tell which accounts exist.
    for n in 0..10 {
        let response = sign_in(
            app,
            &from_address(40 + n),
            "nobody@firma.de",
            "wrong password",
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sign_in(
            app,
            &from_address(50),
            "nobody@firma.de",
            "wrong password",
            None
        )
        .await
        .status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // 100 wrong sign-ins in a minute from one address, each for another account
    // (credential stuffing): the address is throttled after ten.
    let attacker = from_address(60);
    let mut throttled = 0;
    for n in 0..100 {
        let email = format!("user{n}@firma.de");
        let status = sign_in(app, &attacker, &email, "wrong password", None)
            .await
            .status();
        assert_ne!(status, StatusCode::SEE_OTHER);
        if status == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
        }
    }
    assert!(throttled >= 90, "{throttled} of 100 throttled");

    // The real user signs in from their own browser, from yet another address.
    let response = sign_in(
        app,
        &from_address(70),
        "sales1@firma.de",
        PASSWORD,
        Some(&device),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(response.headers()).is_some());
}
both_backends!(
    guessing_one_account_from_rotating_addresses_is_throttled_but_its_own_browser_gets_in
);
