//! Step 1 over HTTP on a small demo company: the overview's counts equal the store's, the
//! lost list and the API agree, "run analysis now" stores a run, and alert feedback makes a
//! round trip (a sales user is 404 on another owner's alert).

use reqwest::StatusCode;
use winback_engine::Role;
use winback_store::{AlertQuery, StatusQuery};
use winback_web::i18n::{Lang, Tr};

use crate::both_backends;
use crate::helpers::{TestApp, import_demo};

async fn step_one_pages_and_api_show_the_stored_analysis(app: &TestApp) {
    for (email, role) in [
        ("manager@firma.de", Role::Manager),
        ("analyst@firma.de", Role::Analyst),
    ] {
        app.add_user(email, role).await;
    }
    let customers = import_demo(&app.db, 300).await;
    let manager = app.login("manager@firma.de").await;
    let analyst = app.login("analyst@firma.de").await;

    // Before any analysis: the pages say so; only the manager gets the button.
    let html = app.page(&manager, "/").await;
    assert!(html.contains("id=\"no-analysis\"") && html.contains("id=\"run-analysis\""));
    let html = app.page(&analyst, "/lost").await;
    assert!(html.contains("id=\"no-analysis\"") && !html.contains("id=\"run-analysis\""));
    let html = app.page(&manager, "/customers").await;
    assert!(html.contains("id=\"col-owner\"") && !html.contains("id=\"col-status\""));
    assert_eq!(
        app.get_bearer(&app.token(&analyst).await, "/api/v1/analysis/latest")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Run it from the overview (the same callback the server's schedule uses): it runs in
    // the background, and the overview shows its step until it is done, then how it ended.
    let response = app.post_form(&manager, "/analysis/run", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/#analysis");
    let started = std::time::Instant::now();
    let html = loop {
        let html = app.page(&manager, "/").await;
        if !html.contains("id=\"analysis-running\"") {
            break html;
        }
        assert!(html.contains("data-reload-seconds") && !html.contains("id=\"run-analysis\""));
        assert!(
            started.elapsed().as_secs() < 120,
            "the analysis never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let summary = app.db.run_summary(None).await.unwrap().expect("a run");
    assert!(
        html.contains(&format!(
            "id=\"analysis-message\" role=\"status\">Die Analyse ist fertig (Lauf {})",
            summary.run.id
        )),
        "{html}"
    );
    assert_eq!(summary.customers, 300);
    let tr = Tr::new(Lang::De);
    let html = app.page(&manager, "/").await;
    for (id, n) in [
        ("n-counted", 300),
        ("n-active", summary.active()),
        ("n-at_risk", summary.count("at_risk")),
        ("n-sleeping", summary.count("sleeping")),
        ("n-lost", summary.count("lost")),
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\">{}</dd>", tr.num(n))),
            "{id} = {n}"
        );
    }
    assert!(html.contains(&format!(
        "id=\"at-risk-revenue\">{}</dd>",
        tr.money(summary.at_risk_revenue_12m_cents)
    )));
    assert!(html.contains("id=\"chart-status\"") && html.contains("id=\"model\""));
    assert!(
        html.contains("<td>BG/NBD</td>"),
        "the model by its name, not its code"
    );
    let lost_months = app.db.lost_by_month(None).await.unwrap();
    let lost_with_day: i64 = lost_months.iter().map(|m| m.customers).sum();
    assert!(summary.count("lost") > 0 && lost_with_day > 0);
    assert!(html.contains("id=\"chart-lost\""));

    // How well it holds up: the reports kept with the run, on the page and in the API.
    for id in [
        "chart-tracking",
        "chart-frequency",
        "frequency-table",
        "backtest-statuses",
        "chart-calibration",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "{id} on the overview"
        );
    }
    let reader = app.token(&analyst).await;
    let v: serde_json::Value = app
        .get_bearer(&reader, "/api/v1/analysis/reports/validation")
        .await
        .json()
        .await
        .unwrap();
    let weekly = v["report"]["weekly"].as_array().unwrap();
    assert!(
        weekly.len() > 26,
        "weeks from the first purchase: {}",
        weekly.len()
    );
    let actual: Vec<u64> = weekly
        .iter()
        .map(|w| w["actual"].as_u64().unwrap())
        .collect();
    assert!(actual.windows(2).all(|w| w[0] <= w[1]), "cumulative");
    let holdout_actual = v["report"]["actual_holdout_total"].as_u64().unwrap();
    let holdout_expected = v["report"]["expected_holdout_total"].as_f64().unwrap();
    assert!(holdout_actual > 0 && holdout_expected > 0.0);
    assert!(
        html.contains(&tr.num(holdout_actual)),
        "the page names the holdout's {holdout_actual} repeat purchases"
    );
    let b: serde_json::Value = app
        .get_bearer(&reader, "/api/v1/analysis/reports/backtest")
        .await
        .json()
        .await
        .unwrap();
    let statuses = b["report"]["statuses"].as_array().unwrap();
    let scored: u64 = statuses
        .iter()
        .map(|s| s["customers"].as_u64().unwrap())
        .sum();
    assert_eq!(scored, b["report"]["customers"].as_u64().unwrap());
    assert!(
        statuses
            .iter()
            .all(|s| (0.0..=1.0).contains(&s["precision"].as_f64().unwrap()))
    );
    assert_eq!(
        b["report"]["calibration"].as_array().unwrap().len(),
        10,
        "deciles"
    );
    assert_eq!(
        app.get_bearer(&reader, "/api/v1/analysis/reports/other")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The API says the same.
    let token = app.token(&manager).await;
    let latest: serde_json::Value = app
        .get_bearer(&token, "/api/v1/analysis/latest")
        .await
        .json()
        .await
        .unwrap();
    for (status, n) in &summary.status_counts {
        assert_eq!(latest["status"][status], *n, "{status}");
    }
    assert_eq!(latest["run"]["id"], summary.run.id);
    assert!(
        latest["run"]["params"]
            .as_object()
            .is_some_and(|p| !p.is_empty())
    );
    let months: Vec<serde_json::Value> = app
        .get_bearer(&token, "/api/v1/analysis/lost-by-month")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(months.len(), lost_months.len());
    let lost: serde_json::Value = app
        .get_bearer(&token, "/api/v1/customers?status=lost&limit=500")
        .await
        .json()
        .await
        .unwrap();
    let items = lost["items"].as_array().unwrap();
    assert_eq!(items.len() as i64, summary.count("lost"));
    assert!(items.iter().all(|c| c["analysis"]["status"] == "lost"));

    // The lost page lists the same customers (first page) with their evidence.
    let first = app
        .db
        .customers_by_status(&StatusQuery {
            status: Some("lost".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let html = app.page(&manager, "/lost").await;
    let table = &html[html.find("id=\"lost-list\"").expect("the list")..];
    assert_eq!(table.matches("<a href=\"/customers/").count(), first.len());
    assert!(
        html.contains("Tagen still") || html.contains("Vertrag"),
        "evidence in German"
    );
    // Columns that would read the same in every row are left out: the status where one
    // status is filtered, the owner for a sales user (below). This demo's customers have
    // owners, so the manager sees them.
    assert!(html.contains("id=\"col-owner\"") && !html.contains("id=\"col-status\""));
    assert!(
        app.page(&manager, "/lost?status=all")
            .await
            .contains("id=\"col-status\"")
    );
    assert!(
        app.page(&manager, "/alerts")
            .await
            .contains("id=\"col-owner\"")
    );
    // The customer list shows each customer's status in the latest run.
    let html = app.page(&manager, "/customers").await;
    let rows = &html[html.find("id=\"customer-list\"").expect("the list")..];
    assert!(html.contains("id=\"col-status\""));
    assert_eq!(
        rows.matches("<td class=\"status\">").count(),
        rows.matches("<a href=\"/customers/").count()
    );
    assert!(rows.contains("<td class=\"status\">verloren</td>"));

    // The customer page: status, evidence, P(alive) history; a second run adds a point.
    let who = &first[0].customer;
    let html = app.page(&manager, &format!("/customers/{}", who.id)).await;
    assert!(html.contains("id=\"customer-status\">verloren</dd>"));
    assert!(html.contains("id=\"chart-p-alive\""));
    let run_again: serde_json::Value = app
        .client
        .post(app.url("/api/v1/analysis/run"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(run_again["run_id"].as_i64().unwrap() > summary.run.id);
    let history: Vec<serde_json::Value> = app
        .get_bearer(&token, &format!("/api/v1/customers/{}/history", who.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.len(), 2);

    // Alerts: a sales user sees their own, is 404 on another owner's, and the feedback is kept.
    let all = app
        .db
        .alerts(&AlertQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    // The inbox lists the newest alert first, and a run stores its alerts in the order they
    // were raised, so the most recently raised come first.
    assert!(all.len() > 1);
    assert!(all.windows(2).all(|w| w[0].raised_on >= w[1].raised_on));
    let mine = all
        .iter()
        .find(|a| a.customer.account_owner.is_some())
        .expect("the demo raises alerts for owned customers");
    let owner = mine.customer.account_owner.clone().unwrap();
    let other = all
        .iter()
        .find(|a| a.customer.account_owner.as_deref() != Some(owner.as_str()))
        .expect("an alert of another owner");
    assert!(
        customers
            .iter()
            .any(|c| c.customer.account_owner.as_deref() == Some(owner.as_str()))
    );
    app.add_user(&owner, Role::Sales).await;
    let sales = app.login(&owner).await;
    for path in ["/lost", "/alerts"] {
        assert!(!app.page(&sales, path).await.contains("id=\"col-owner\""));
    }
    let sales_token = app.token(&sales).await;
    let page: serde_json::Value = app
        .get_bearer(&sales_token, "/api/v1/alerts?limit=500")
        .await
        .json()
        .await
        .unwrap();
    let own_items = page["items"].as_array().unwrap();
    assert!(!own_items.is_empty());
    assert!(
        own_items
            .iter()
            .all(|a| a["customer"]["account_owner"] == owner.as_str())
    );
    let post = |token: String, id: i64, state: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/alerts/{id}/state")))
            .bearer_auth(token)
            .json(&serde_json::json!({"state": state, "note": "called, ordering again"}))
            .send()
    };
    assert_eq!(
        post(sales_token.clone(), other.id, "acknowledged")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // The overview counts new alerts; its figures are kept until the data changes, and
    // feedback on an alert is such a change.
    let new_alerts = |html: &str| -> String {
        let mark = "id=\"n-alerts-new\">";
        let at = html.find(mark).expect("the count") + mark.len();
        html[at..at + html[at..].find('<').unwrap()].to_owned()
    };
    let before = new_alerts(&app.page(&manager, "/").await);
    assert_eq!(before, new_alerts(&app.page(&manager, "/").await));
    let done: serde_json::Value = post(sales_token.clone(), mine.id, "action_taken")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["state"], "action_taken");
    let count = |s: &str| s.replace('.', "").parse::<i64>().unwrap();
    assert_eq!(
        new_alerts(&app.page(&manager, "/").await),
        tr.num(count(&before) - 1)
    );
    assert_eq!(done["state_changed_by"], owner.as_str());
    assert_eq!(done["history"].as_array().unwrap().len(), 1);
    // The analyst reads but gives no feedback.
    assert_eq!(
        post(app.token(&analyst).await, mine.id, "false_alarm")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // The manager marks it a false alarm from the inbox page.
    let response = app
        .post_form(
            &manager,
            &format!("/alerts/{}/state", mine.id),
            &[
                ("state", "false_alarm"),
                ("note", ""),
                ("back", "/alerts?state=false_alarm"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let events = app.db.alert_events(mine.id).await.unwrap();
    let steps: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.from_state.as_str(),
                e.to_state.as_str(),
                e.changed_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("new", "action_taken", owner.as_str()),
            ("action_taken", "false_alarm", "manager@firma.de"),
        ]
    );
    let html = app.page(&manager, "/alerts?state=false_alarm").await;
    assert!(html.contains(&format!("id=\"alert-{}\"", mine.id)));
    let html = app.page(&sales, "/alerts?state=all").await;
    assert!(!html.contains(&format!("id=\"alert-{}\"", other.id)));
}
both_backends!(step_one_pages_and_api_show_the_stored_analysis);

/// With the server computing the overview's figures in the background (as `winback serve`
/// does), the overview still follows every change: an import made while it runs shows up.
async fn the_overview_follows_the_data_while_its_figures_are_kept_current(app: &TestApp) {
    app.add_user("manager@firma.de", Role::Manager).await;
    let manager = app.login("manager@firma.de").await;
    let tr = Tr::new(Lang::De);
    let customers = |html: &str| html.contains(&format!("id=\"n-customers\">{}<", tr.num(0)));
    assert!(customers(&app.page(&manager, "/").await));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    import_demo(&app.db, 40).await;
    let started = std::time::Instant::now();
    loop {
        let html = app.page(&manager, "/").await;
        if html.contains(&format!("id=\"n-customers\">{}<", tr.num(40))) {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "the overview kept the old figures: {html}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

both_backends!(
    the_overview_follows_the_data_while_its_figures_are_kept_current,
    |config: &mut winback_web::WebConfig| {
        config.warm_overview_every = Some(std::time::Duration::from_millis(10));
    }
);

/// What `load_histories` reads back (on SQLite through the C API, on PostgreSQL through
/// sqlx) is what the demo company holds: every customer's orders, lines, complaints and
/// contracts, field by field (order within a customer aside).
async fn histories_load_back_exactly_as_imported(app: &TestApp) {
    use winback_engine::analysis::CustomerHistory;
    let customers = import_demo(&app.db, 120).await;
    let loaded = app.db.load_histories().await.unwrap();
    assert_eq!(loaded.histories.len(), customers.len());
    let normal = |h: &CustomerHistory| {
        let mut h = h.clone();
        h.orders.sort_by_key(|o| (o.ordered_at, o.gross));
        h.lines.sort_by(|a, b| {
            (a.ordered_at, a.sku(), a.unit_price, a.quantity).cmp(&(
                b.ordered_at,
                b.sku(),
                b.unit_price,
                b.quantity,
            ))
        });
        h.complaints.sort_by_key(|q| q.opened_at);
        h.contracts.sort_by_key(|k| k.started_on);
        h
    };
    let mut orders = 0;
    let mut lines = 0;
    for c in &customers {
        let expected = normal(&CustomerHistory::from_demo(c));
        let got = loaded
            .histories
            .iter()
            .find(|h| h.external_id == expected.external_id)
            .unwrap_or_else(|| panic!("{} is loaded", expected.external_id));
        let got = normal(got);
        assert_eq!(
            got.orders, expected.orders,
            "orders of {}",
            expected.external_id
        );
        assert_eq!(
            got.lines, expected.lines,
            "lines of {}",
            expected.external_id
        );
        assert_eq!(
            got.complaints, expected.complaints,
            "complaints of {}",
            expected.external_id
        );
        assert_eq!(
            got.contracts, expected.contracts,
            "contracts of {}",
            expected.external_id
        );
        orders += got.orders.len();
        lines += got.lines.len();
    }
    assert!(
        orders > 500 && lines > 500,
        "a real test: {orders} orders, {lines} lines"
    );
    // Lines of the same article share one string: as many distinct addresses as skus.
    let all_lines = loaded.histories.iter().flat_map(|h| &h.lines);
    let skus: std::collections::HashSet<&str> = all_lines.clone().filter_map(|l| l.sku()).collect();
    let addresses: std::collections::HashSet<*const u8> =
        all_lines.filter_map(|l| l.sku().map(str::as_ptr)).collect();
    assert!(
        skus.len() > 10 && skus.len() < lines / 5,
        "{} skus",
        skus.len()
    );
    assert_eq!(addresses.len(), skus.len());
    // With one connection (SQLite reads the lines after the orders instead of beside them),
    // the same histories in the same order.
    let single = winback_store::Db::connect_single(app.db_url())
        .await
        .unwrap();
    assert_eq!(
        single.load_histories().await.unwrap().histories,
        loaded.histories
    );
}
both_backends!(histories_load_back_exactly_as_imported);
