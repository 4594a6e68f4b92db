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
    /// Admins and managers; 404 for sales (another owner's), 403 for analysts.
    WorkOthers,
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
        Rule::WorkOthers => match role {
            Role::Sales => StatusCode::NOT_FOUND,
            Role::Analyst => StatusCode::FORBIDDEN,
            _ => StatusCode::OK,
        },
    }
}

enum Call {
    Get(String),
    UploadPage,
    AddUserPage,
    ApiImport,
    ApiAddUser,
    AlertPage(i64),
    ApiAlert(i64),
    RunPage,
    ApiRun,
    /// Disable or enable a user on the settings page (`true`: disable).
    UserStatePage(i64, bool),
    ApiUserState(i64, bool),
}

fn user_state_path(id: i64, disable: bool) -> String {
    let verb = if disable { "disable" } else { "enable" };
    format!("/users/{id}/{verb}")
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
        Call::AlertPage(id) => with_auth(app.client.post(app.url(&format!("/alerts/{id}/state"))))
            .form(&[("csrf", csrf.as_str()), ("state", "acknowledged")]),
        Call::ApiAlert(id) => with_auth(app.client.post(app.url(&format!("/api/v1/alerts/{id}/state"))))
            .json(&serde_json::json!({"state": "acknowledged"})),
        Call::RunPage => with_auth(app.client.post(app.url("/analysis/run"))).form(&[("csrf", csrf.as_str())]),
        Call::ApiRun => with_auth(app.client.post(app.url("/api/v1/analysis/run"))),
        Call::UserStatePage(id, disable) => {
            with_auth(app.client.post(app.url(&format!("/settings{}", user_state_path(*id, *disable)))))
                .form(&[("csrf", csrf.as_str())])
        }
        Call::ApiUserState(id, disable) => {
            with_auth(app.client.post(app.url(&format!("/api/v1{}", user_state_path(*id, *disable)))))
        }
    };
    let response = request.send().await.unwrap();
    // A form that worked redirects to its page (anonymous visitors go to /login).
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if response.status() == StatusCode::SEE_OTHER && !location.starts_with("/login") {
        return StatusCode::OK;
    }
    response.status()
}

async fn every_role_gets_exactly_what_the_role_rules_allow(app: &TestApp) {
    app.seed().await;
    let own = app.customer_id("K1").await;
    let other = app.customer_id("K2").await;
    crate::helpers::store_analysis(&app.db, crate::helpers::demo_as_of())
        .await
        .unwrap();
    let alert_of = |customer: i64| async move {
        app.db
            .alerts(&winback_store::AlertQuery {
                customer_id: Some(customer),
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap()[0]
            .id
    };
    let own_alert = alert_of(own).await;
    let other_alert = alert_of(other).await;
    let workers: &'static [Role] = &[Role::Admin, Role::Manager, Role::Sales];
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
    // Disabling is tried on a user nobody in the matrix signs in as.
    app.add_user("target@firma.de", Role::Sales).await;
    let target = app
        .db
        .user_by_email("target@firma.de")
        .await
        .unwrap()
        .unwrap()
        .0
        .id;
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
        (Call::Get("/alerts".into()), Rule::SignedIn),
        (Call::Get("/alerts?state=all".into()), Rule::SignedIn),
        (Call::Get("/lost?status=at_risk".into()), Rule::SignedIn),
        (Call::AlertPage(own_alert), Rule::Only(workers)),
        (Call::AlertPage(other_alert), Rule::WorkOthers),
        (Call::RunPage, Rule::Only(importers)),
        (Call::UserStatePage(target, true), Rule::Only(admins)),
        (Call::UserStatePage(target, false), Rule::Only(admins)),
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
        (Call::Get("/api/v1/analysis/latest".into()), Rule::SignedIn),
        (
            Call::Get("/api/v1/analysis/lost-by-month".into()),
            Rule::SignedIn,
        ),
        (
            Call::Get("/api/v1/analysis/reports/backtest".into()),
            Rule::SignedIn,
        ),
        (
            Call::Get("/api/v1/customers?status=at_risk".into()),
            Rule::SignedIn,
        ),
        (
            Call::Get(format!("/api/v1/customers/{own}/history")),
            Rule::SignedIn,
        ),
        (
            Call::Get(format!("/api/v1/customers/{other}/history")),
            Rule::NotSales404,
        ),
        (Call::Get("/api/v1/alerts?state=new".into()), Rule::SignedIn),
        (Call::ApiAlert(own_alert), Rule::Only(workers)),
        (Call::ApiAlert(other_alert), Rule::WorkOthers),
        (Call::ApiRun, Rule::Only(importers)),
        (Call::ApiUserState(target, true), Rule::Only(admins)),
        (Call::ApiUserState(target, false), Rule::Only(admins)),
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
                        Call::AlertPage(id) => format!("POST /alerts/{id}/state"),
                        Call::ApiAlert(id) => format!("POST /api/v1/alerts/{id}/state"),
                        Call::RunPage => "POST /analysis/run".into(),
                        Call::ApiRun => "POST /api/v1/analysis/run".into(),
                        Call::UserStatePage(id, disable) => {
                            format!("POST /settings{}", user_state_path(*id, *disable))
                        }
                        Call::ApiUserState(id, disable) => {
                            format!("POST /api/v1{}", user_state_path(*id, *disable))
                        }
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
