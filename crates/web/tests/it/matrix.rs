//! The access-control matrix: every role (and an anonymous visitor) against every page and
//! API endpoint, with the status the role rules promise. A sales user reaches only the
//! customers they own; another owner's customer is 404 by URL too.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use winback_engine::Role;

use crate::both_backends;
use crate::helpers::{CUSTOMERS_CSV, Session, TestApp};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Admin,
    Manager,
    Sales,
    Analyst,
}

const EVERYONE: [Who; 5] = [
    Who::Anonymous,
    Who::Admin,
    Who::Manager,
    Who::Sales,
    Who::Analyst,
];

#[derive(Clone, Copy)]
enum Rule {
    /// Every signed-in role.
    SignedIn,
    /// Every signed-in role, but 404 for sales (another owner's customer).
    NotSales404,
    Only(&'static [Role]),
}

fn expected(rule: Rule, who: Who, api: bool) -> StatusCode {
    let role = match who {
        Who::Anonymous => {
            return if api {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::SEE_OTHER
            };
        }
        Who::Admin => Role::Admin,
        Who::Manager => Role::Manager,
        Who::Sales => Role::Sales,
        Who::Analyst => Role::Analyst,
    };
    match rule {
        Rule::SignedIn => StatusCode::OK,
        Rule::NotSales404 if role == Role::Sales => StatusCode::NOT_FOUND,
        Rule::NotSales404 => StatusCode::OK,
        Rule::Only(roles) if roles.contains(&role) => StatusCode::OK,
        Rule::Only(_) => StatusCode::FORBIDDEN,
    }
}

enum Call {
    Get(String),
    UploadPage,
    AddUserPage,
    ApiImport,
    ApiAddUser,
}

async fn send(
    app: &TestApp,
    call: &Call,
    session: Option<&Session>,
    token: Option<&str>,
    n: usize,
) -> StatusCode {
    let with_auth = |request: reqwest::RequestBuilder| match (session, token) {
        (_, Some(token)) => request.bearer_auth(token),
        (Some(session), None) => request.header(COOKIE, &session.cookie),
        (None, None) => request,
    };
    let csrf = session.map(|s| s.csrf.clone()).unwrap_or_default();
    let request = match call {
        Call::Get(path) => with_auth(app.client.get(app.url(path))),
        Call::UploadPage => {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("kind", "customers")
                .part("file", reqwest::multipart::Part::bytes(CUSTOMERS_CSV.as_bytes().to_vec()).file_name("k.csv"));
            with_auth(app.client.post(app.url("/import"))).multipart(form)
        }
        Call::AddUserPage => {
            let email = format!("new{n}@firma.de");
            with_auth(app.client.post(app.url("/settings/users"))).form(&[
                ("csrf", csrf.as_str()),
                ("email", email.as_str()),
                ("role", "sales"),
                ("password", "long enough password"),
            ])
        }
        Call::ApiImport => {
            let form = reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(CUSTOMERS_CSV.as_bytes().to_vec()).file_name("k.csv"));
            with_auth(app.client.post(app.url("/api/v1/imports/customers"))).multipart(form)
        }
        Call::ApiAddUser => with_auth(app.client.post(app.url("/api/v1/users"))).json(&serde_json::json!({
            "email": format!("api{n}@firma.de"), "role": "analyst", "password": "long enough password"
        })),
    };
    request.send().await.unwrap().status()
}

async fn every_role_gets_exactly_what_the_role_rules_allow(app: &TestApp) {
    app.seed().await;
    let own = app.customer_id("K1").await;
    let other = app.customer_id("K2").await;
    let mut sessions = Vec::new();
    for (who, email) in [
        (Who::Admin, "admin@firma.de"),
        (Who::Manager, "manager@firma.de"),
        (Who::Sales, "sales1@firma.de"),
        (Who::Analyst, "analyst@firma.de"),
    ] {
        let session = app.login(email).await;
        let token = app.token(&session).await;
        sessions.push((who, session, token));
    }
    let importers: &'static [Role] = &[Role::Admin, Role::Manager];
    let admins: &'static [Role] = &[Role::Admin];
    let pages = vec![
        (Call::Get("/".into()), Rule::SignedIn),
        (Call::Get("/lost".into()), Rule::SignedIn),
        (Call::Get("/causes".into()), Rule::SignedIn),
        (Call::Get("/scoring".into()), Rule::SignedIn),
        (Call::Get("/campaigns".into()), Rule::SignedIn),
        (Call::Get("/results".into()), Rule::SignedIn),
        (Call::Get("/customers".into()), Rule::SignedIn),
        (Call::Get(format!("/customers/{own}")), Rule::SignedIn),
        (Call::Get(format!("/customers/{other}")), Rule::NotSales404),
        (Call::Get("/import".into()), Rule::Only(importers)),
        (Call::UploadPage, Rule::Only(importers)),
        (Call::Get("/settings".into()), Rule::SignedIn),
        (Call::AddUserPage, Rule::Only(admins)),
    ];
    let api = vec![
        (Call::Get("/api/v1/me".into()), Rule::SignedIn),
        (Call::Get("/api/v1/overview".into()), Rule::SignedIn),
        (Call::Get("/api/v1/customers".into()), Rule::SignedIn),
        (
            Call::Get(format!("/api/v1/customers/{own}")),
            Rule::SignedIn,
        ),
        (
            Call::Get(format!("/api/v1/customers/{other}")),
            Rule::NotSales404,
        ),
        (Call::ApiImport, Rule::Only(importers)),
        (Call::Get("/api/v1/users".into()), Rule::Only(admins)),
        (Call::ApiAddUser, Rule::Only(admins)),
    ];
    let mut cases = 0;
    let mut failures = Vec::new();
    for (is_api, table) in [(false, &pages), (true, &api)] {
        for (call, rule) in table.iter() {
            for who in EVERYONE {
                let found = sessions.iter().find(|(w, _, _)| *w == who);
                let (session, token) = match found {
                    Some((_, session, token)) => (Some(session), is_api.then_some(token.as_str())),
                    None => (None, None),
                };
                cases += 1;
                let status = send(app, call, session, token, cases).await;
                let want = expected(*rule, who, is_api);
                if status != want {
                    let what = match call {
                        Call::Get(p) => format!("GET {p}"),
                        Call::UploadPage => "POST /import".into(),
                        Call::AddUserPage => "POST /settings/users".into(),
                        Call::ApiImport => "POST /api/v1/imports/customers".into(),
                        Call::ApiAddUser => "POST /api/v1/users".into(),
                    };
                    failures.push(format!("{who:?} {what}: got {status}, want {want}"));
                }
            }
        }
    }
    println!(
        "{{\"test\": \"access_matrix\", \"backend\": \"{:?}\", \"cases\": {cases}, \"unexpected\": {}}}",
        app.backend,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The sales user's list holds only their own customers.
    let (_, sales, token) = sessions.iter().find(|(w, _, _)| *w == Who::Sales).unwrap();
    let list: serde_json::Value = app
        .get_bearer(token, "/api/v1/customers")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["external_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["K1", "K3"]);
    let html = app
        .get(Some(sales), "/customers")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("Bernd Bauer"),
        "another owner's customer is not listed"
    );
}
both_backends!(every_role_gets_exactly_what_the_role_rules_allow);
