//! Users, sessions, API tokens and the customer queries of the web application.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use winback_engine::*;
use winback_store::{CustomerQuery, Db, ImportMeta, ImportOptions};

use crate::both_backends;

pub(crate) async fn import(db: &Db, kind: Kind, rows: Vec<Record>) {
    let mut session = db
        .begin_import(kind, ImportOptions::default())
        .await
        .expect("begin");
    let n = rows.len() as u64;
    for (idx, row) in rows.into_iter().enumerate() {
        session.push(idx as u64 + 2, row).await.expect("push");
    }
    assert!(session.resolve().await.expect("resolve").is_empty());
    let meta = ImportMeta {
        file_name: "t.csv".into(),
        file_bytes: 1,
        rows_read: n,
        rows_rejected: 0,
        started_at: Utc::now(),
    };
    session.commit(meta).await.expect("commit");
}

pub(crate) fn customer(id: &str, name: &str, owner: Option<&str>) -> Record {
    let mut c = CustomerRecord::new(id);
    c.name = Some(name.into());
    c.email = Some(format!("{}@example.de", id.to_lowercase()));
    c.account_owner = owner.map(str::to_owned);
    Record::Customer(c)
}

pub(crate) fn order(id: &str, customer: &str, month: u32, cents: i64, cancelled: bool) -> Record {
    Record::Order(OrderRecord {
        external_id: id.into(),
        customer: CustomerRef::ExternalId(customer.into()),
        ordered_at: Utc.with_ymd_and_hms(2026, month, 10, 10, 0, 0).unwrap(),
        gross: Money::from_cents(cents),
        margin: None,
        cost: None,
        discount: Money::ZERO,
        voucher_code: None,
        delivery_promised_on: None,
        delivered_on: NaiveDate::from_ymd_opt(2026, month, 12),
        channel: Some("web".into()),
        currency: Some("EUR".into()),
        returned: false,
        cancelled,
        customer_details: None,
    })
}

pub(crate) async fn seed(db: &Db) {
    import(
        db,
        Kind::Customers,
        vec![
            customer("K1", "Anna Alt", Some("rep.a@firma.de")),
            customer("K2", "Bernd Bauer", Some("rep.b@firma.de")),
            customer("K3", "Anton Arm", Some("rep.a@firma.de")),
        ],
    )
    .await;
    import(
        db,
        Kind::Orders,
        vec![
            order("O1", "K1", 1, 10_000, false),
            order("O2", "K1", 2, 5_050, false),
            order("O3", "K2", 2, 1_000, false),
            order("O4", "K3", 2, 999, true),
        ],
    )
    .await;
}

async fn a_user_signs_in_with_a_session_that_expires_and_can_be_ended(db: Db) {
    let user = db
        .put_user(
            "chef@firma.de",
            Some("Chefin"),
            Role::Admin,
            "$argon2id$fake",
        )
        .await
        .unwrap();
    assert_eq!(db.count_admins().await.unwrap(), 1);
    let (found, hash) = db.user_by_email("chef@firma.de").await.unwrap().unwrap();
    assert_eq!(
        (found.id, hash.as_deref()),
        (user.id, Some("$argon2id$fake"))
    );

    let now = Utc::now();
    db.create_session("h1", user.id, "csrf1", now + Duration::hours(8))
        .await
        .unwrap();
    db.create_session("h2", user.id, "csrf2", now - Duration::seconds(1))
        .await
        .unwrap();
    let session = db.session("h1", now).await.unwrap().expect("live session");
    assert_eq!(
        (session.user.email.as_str(), session.csrf_token.as_str()),
        ("chef@firma.de", "csrf1")
    );
    assert!(db.session("h2", now).await.unwrap().is_none(), "expired");
    assert_eq!(
        db.delete_expired_sessions(now, now - Duration::minutes(30))
            .await
            .unwrap(),
        1
    );

    db.set_user_language(user.id, Some("en")).await.unwrap();
    assert_eq!(
        db.session("h1", now)
            .await
            .unwrap()
            .unwrap()
            .user
            .language
            .as_deref(),
        Some("en")
    );

    db.create_api_token(user.id, "script", "t1").await.unwrap();
    assert_eq!(
        db.api_token_user("t1").await.unwrap().unwrap().user.id,
        user.id
    );
    let tokens = db.api_tokens(user.id).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].last_used_at, None, "a new token was never used");
    // Use is recorded at most once a minute per token.
    let used = |db: Db| async move { db.api_tokens(user.id).await.unwrap()[0].last_used_at };
    db.touch_api_token("t1", now).await.unwrap();
    let first = used(db.clone()).await.expect("recorded");
    assert!(
        (first - now).num_milliseconds().abs() < 1,
        "{first} vs {now}"
    );
    let found = db.api_token_user("t1").await.unwrap().unwrap();
    assert_eq!(
        found.last_used_at,
        Some(first),
        "the token's user comes with its last use, so callers write only when it is due"
    );
    assert!(!found.touch_due(now + Duration::seconds(30)));
    assert!(found.touch_due(now + Duration::seconds(90)));
    db.touch_api_token("t1", now + Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        used(db.clone()).await,
        Some(first),
        "not again within the minute"
    );
    db.touch_api_token("t1", now + Duration::seconds(90))
        .await
        .unwrap();
    assert!(used(db.clone()).await > Some(first), "again after it");

    db.disable_user(user.id).await.unwrap();
    assert!(
        db.session("h1", now).await.unwrap().is_none(),
        "disabling ends sessions"
    );
    assert!(
        db.api_token_user("t1").await.unwrap().is_none(),
        "and tokens"
    );
    assert!(db.user_by_email("chef@firma.de").await.unwrap().is_none());

    // Adding the user again enables them with the new password.
    db.put_user("chef@firma.de", None, Role::Manager, "$argon2id$new")
        .await
        .unwrap();
    let (again, _) = db.user_by_email("chef@firma.de").await.unwrap().unwrap();
    assert_eq!(
        (again.role, again.name.as_deref()),
        (Role::Manager, Some("Chefin"))
    );
}
both_backends!(
    a_user_signs_in_with_a_session_that_expires_and_can_be_ended,
    super::a_user_signs_in_with_a_session_that_expires_and_can_be_ended
);

async fn a_session_remembers_when_it_was_last_used_and_idle_ones_are_removed(db: Db) {
    let user = db
        .put_user("rep@firma.de", None, Role::Sales, "$argon2id$fake")
        .await
        .unwrap();
    let now = Utc::now();
    db.create_session("busy", user.id, "c1", now + Duration::hours(12))
        .await
        .unwrap();
    db.create_session("idle", user.id, "c2", now + Duration::hours(12))
        .await
        .unwrap();
    let busy = db.session("busy", now).await.unwrap().unwrap();
    assert!(
        (busy.last_seen_at - now).num_seconds().abs() < 5,
        "a new session was last seen when it was created: {}",
        busy.last_seen_at
    );

    // An hour later, only the busy session has been used in the meantime.
    let later = now + Duration::hours(1);
    db.touch_session("busy", later - Duration::minutes(1))
        .await
        .unwrap();
    let busy = db.session("busy", later).await.unwrap().unwrap();
    assert!(
        (busy.last_seen_at - (later - Duration::minutes(1)))
            .num_milliseconds()
            .abs()
            < 1,
        "{}",
        busy.last_seen_at
    );
    let idle = db.session("idle", later).await.unwrap().unwrap();
    assert!(
        idle.last_seen_at < later - Duration::minutes(30),
        "the store keeps the idle session; the idle rule is the web application's"
    );
    assert_eq!(
        db.delete_expired_sessions(later, later - Duration::minutes(30))
            .await
            .unwrap(),
        1,
        "the idle session is removed"
    );
    assert!(db.session("idle", later).await.unwrap().is_none());
    assert!(db.session("busy", later).await.unwrap().is_some());
}
both_backends!(
    a_session_remembers_when_it_was_last_used_and_idle_ones_are_removed,
    super::a_session_remembers_when_it_was_last_used_and_idle_ones_are_removed
);

async fn a_disabled_user_can_be_enabled_again_without_their_old_sessions_and_tokens(db: Db) {
    let user = db
        .put_user("rep@firma.de", None, Role::Sales, "$argon2id$fake")
        .await
        .unwrap();
    assert!(!user.disabled);
    let now = Utc::now();
    db.create_session("s1", user.id, "c1", now + Duration::hours(12))
        .await
        .unwrap();
    db.create_api_token(user.id, "script", "t1").await.unwrap();

    assert!(db.disable_user(user.id).await.unwrap());
    assert!(db.user_by_id(user.id).await.unwrap().unwrap().disabled);
    assert!(
        db.users()
            .await
            .unwrap()
            .iter()
            .any(|u| u.id == user.id && u.disabled),
        "the user list shows who is disabled"
    );
    assert!(db.session("s1", now).await.unwrap().is_none());
    assert!(db.api_token_user("t1").await.unwrap().is_none());
    assert!(db.user_by_email("rep@firma.de").await.unwrap().is_none());
    assert!(
        db.disable_user(user.id).await.unwrap(),
        "disabling twice is fine"
    );

    assert!(db.enable_user(user.id).await.unwrap());
    assert!(!db.user_by_id(user.id).await.unwrap().unwrap().disabled);
    let (again, hash) = db.user_by_email("rep@firma.de").await.unwrap().unwrap();
    assert_eq!(
        (again.id, hash.as_deref()),
        (user.id, Some("$argon2id$fake")),
        "the password is kept"
    );
    assert!(
        db.session("s1", now).await.unwrap().is_none(),
        "the old session stays ended"
    );
    assert!(
        db.api_token_user("t1").await.unwrap().is_none(),
        "the old token stays revoked"
    );

    assert!(!db.disable_user(999_999).await.unwrap());
    assert!(!db.enable_user(999_999).await.unwrap());
    assert!(db.user_by_id(999_999).await.unwrap().is_none());
}
both_backends!(
    a_disabled_user_can_be_enabled_again_without_their_old_sessions_and_tokens,
    super::a_disabled_user_can_be_enabled_again_without_their_old_sessions_and_tokens
);

async fn the_customer_list_pages_by_id_and_filters_by_owner_and_search(db: Db) {
    seed(&db).await;
    let all = db
        .list_customers(&CustomerQuery {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|c| c.external_id.as_str())
            .collect::<Vec<_>>(),
        ["K1", "K2"]
    );
    let next = db
        .list_customers(&CustomerQuery {
            limit: 2,
            after_id: Some(all[1].id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        next.iter()
            .map(|c| c.external_id.as_str())
            .collect::<Vec<_>>(),
        ["K3"]
    );

    let owned = CustomerQuery {
        owner: Some("rep.a@firma.de".into()),
        limit: 10,
        ..Default::default()
    };
    let owned = db.list_customers(&owned).await.unwrap();
    assert_eq!(
        owned
            .iter()
            .map(|c| c.external_id.as_str())
            .collect::<Vec<_>>(),
        ["K1", "K3"]
    );

    let search = |s: &str| CustomerQuery {
        search: Some(s.into()),
        limit: 10,
        ..Default::default()
    };
    let ids = |v: Vec<winback_store::CustomerSummary>| {
        v.into_iter().map(|c| c.external_id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(db.list_customers(&search("An")).await.unwrap()),
        ["K1", "K3"]
    );
    assert_eq!(ids(db.list_customers(&search("K2")).await.unwrap()), ["K2"]);
    assert_eq!(
        ids(db.list_customers(&search("k3@example.de")).await.unwrap()),
        ["K3"]
    );
}
both_backends!(
    the_customer_list_pages_by_id_and_filters_by_owner_and_search,
    super::the_customer_list_pages_by_id_and_filters_by_owner_and_search
);

async fn the_customer_detail_holds_the_story_and_respects_the_owner(db: Db) {
    seed(&db).await;
    let k1 = db
        .list_customers(&CustomerQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let detail = db
        .customer_detail(k1.id, None)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(detail.info.summary.name.as_deref(), Some("Anna Alt"));
    assert_eq!(
        detail
            .orders
            .iter()
            .map(|o| o.external_id.as_str())
            .collect::<Vec<_>>(),
        ["O2", "O1"],
        "newest first"
    );
    assert_eq!((detail.n_orders, detail.revenue_cents), (2, 15_050));
    assert_eq!(
        detail.orders[1].delivered_on,
        NaiveDate::from_ymd_opt(2026, 1, 12)
    );
    assert!(
        db.customer_detail(k1.id, Some("rep.a@firma.de"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        db.customer_detail(k1.id, Some("rep.b@firma.de"))
            .await
            .unwrap()
            .is_none(),
        "another owner's customer is not found"
    );
    assert!(db.customer_detail(999_999, None).await.unwrap().is_none());
}
both_backends!(
    the_customer_detail_holds_the_story_and_respects_the_owner,
    super::the_customer_detail_holds_the_story_and_respects_the_owner
);

async fn the_overview_sums_revenue_by_month_without_cancelled_orders(db: Db) {
    seed(&db).await;
    let overview = db.overview(None).await.unwrap();
    assert_eq!(
        (overview.customers, overview.orders, overview.revenue_cents),
        (3, 4, 16_050)
    );
    let months: Vec<_> = overview
        .months
        .iter()
        .map(|m| (m.month.as_str(), m.orders, m.revenue_cents))
        .collect();
    assert_eq!(months, [("2026-01", 1, 10_000), ("2026-02", 2, 6_050)]);
    let mine = db.overview(Some("rep.a@firma.de")).await.unwrap();
    assert_eq!(
        (mine.customers, mine.orders, mine.revenue_cents),
        (2, 3, 15_050)
    );
}
both_backends!(
    the_overview_sums_revenue_by_month_without_cancelled_orders,
    super::the_overview_sums_revenue_by_month_without_cancelled_orders
);
