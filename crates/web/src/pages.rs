//! The HTML pages: sign-in, overview, the work steps (empty states until they are built),
//! customers, import and settings. Thin handlers: check the role, ask the store, render.

use std::net::SocketAddr;
use std::time::Duration;

use askama::Template;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use winback_engine::{Kind, Role};
use winback_store::customers::{CustomerDetail, Overview};
use winback_store::{CustomerQuery, CustomerSummary, User};

use crate::auth::{
    self, DEVICE_COOKIE, DEVICE_COOKIE_DAYS, Permission, RequestLang, SESSION_COOKIE,
    SESSION_HOURS, Throttled, Viewer, allowed, owner_filter,
};
use crate::error::{Error, ErrorMark, Result};
use crate::i18n::{Lang, Tr};
use crate::import_service::FileReport;
use crate::{AppState, CsrfInBody, WebConfig};

pub fn router(config: &WebConfig) -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/", get(overview))
        .route("/lost", get(crate::analysis_pages::lost))
        .route("/alerts", get(crate::analysis_pages::alerts))
        .route(
            "/alerts/{id}/state",
            post(crate::analysis_pages::alert_state),
        )
        .route("/analysis/run", post(crate::analysis_pages::run_analysis))
        .route("/causes", get(|v, l| empty(v, l, "causes")))
        .route("/scoring", get(|v, l| empty(v, l, "scoring")))
        .route("/campaigns", get(|v, l| empty(v, l, "campaigns")))
        .route("/results", get(|v, l| empty(v, l, "results")))
        .route("/customers", get(customers))
        .route("/customers/{id}", get(customer))
        .route(
            "/import",
            get(import_form)
                .post(import_upload)
                .layer(DefaultBodyLimit::max(config.max_upload_bytes)),
        )
        .route("/import/{upload}/check", post(import_check))
        .route("/import/{upload}/commit", post(import_commit))
        .route("/settings", get(settings))
        .route("/settings/language", post(set_language))
        .route("/settings/tokens", post(create_token))
        .route("/settings/tokens/{id}/revoke", post(revoke_token))
        .route("/settings/users", post(add_user))
        .route("/settings/users/{id}/disable", post(disable_user))
        .route("/settings/users/{id}/enable", post(enable_user))
}

/// The signed-in user; pages without one redirect to `/login` (see `lib::finish`).
pub struct Signed(pub Viewer);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Signed {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self> {
        parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .map(Signed)
            .ok_or(Error::Unauthorized)
    }
}

/// What every page's layout needs.
pub struct Page {
    pub tr: Tr,
    pub user: Option<User>,
    pub csrf: String,
    pub nav: &'static str,
    pub signed_in_as: String,
    pub can_import: bool,
}

impl Page {
    pub(crate) fn new(viewer: &Viewer, lang: Lang, nav: &'static str) -> Page {
        let tr = Tr::new(lang);
        let role = tr.t(role_key(viewer.user.role));
        Page {
            tr,
            signed_in_as: tr.f(
                "nav.signed_in_as",
                &[("email", &viewer.user.email), ("role", role)],
            ),
            can_import: allowed(viewer.user.role, Permission::Import),
            user: Some(viewer.user.clone()),
            csrf: viewer.csrf.clone(),
            nav,
        }
    }

    /// The path of the current section, for the language switch to return to.
    pub fn nav_path(&self) -> &'static str {
        match self.nav {
            "overview" | "" => "",
            "lost" => "lost",
            "alerts" => "alerts",
            "causes" => "causes",
            "scoring" => "scoring",
            "campaigns" => "campaigns",
            "results" => "results",
            "customers" => "customers",
            "import" => "import",
            _ => "settings",
        }
    }

    fn anonymous(lang: Lang) -> Page {
        Page {
            tr: Tr::new(lang),
            user: None,
            csrf: String::new(),
            nav: "",
            signed_in_as: String::new(),
            can_import: false,
        }
    }
}

pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Admin => "role.admin",
        Role::Manager => "role.manager",
        Role::Sales => "role.sales",
        Role::Analyst => "role.analyst",
    }
}

/// A path on this site to return to after a form: starts with one `/`, and neither `//`
/// nor `/\\` (browsers read both as another host), nor control characters.
pub(crate) fn is_local_path(back: &str) -> bool {
    back.starts_with('/')
        && !back.starts_with("//")
        && !back.starts_with("/\\")
        && !back.chars().any(|c| c.is_control())
}

pub(crate) fn render(template: &impl Template) -> Result<Response> {
    Ok(Html(template.render()?).into_response())
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped so the
/// text can never close the element, whatever the data holds.
pub(crate) fn script_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

// ---------------------------------------------------------------- errors

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    page: Page,
    message: String,
}

pub fn error_page(tr: Tr, status: StatusCode, mark: ErrorMark) -> Response {
    let key = match mark.code {
        "not_found" => "error.not_found",
        "forbidden" => "error.forbidden",
        "csrf" => "error.csrf",
        "too_many_requests" => "error.too_many",
        "bad_request" => "error.bad_request",
        _ => "error.internal",
    };
    let message = tr.f(key, &[("id", mark.id.as_deref().unwrap_or("-"))]);
    let template = ErrorTemplate {
        page: Page::anonymous(tr.lang),
        message,
    };
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    page: Page,
    message: Option<String>,
    email: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    signed_out: bool,
    /// The session ended after being idle.
    #[serde(default)]
    expired: bool,
}

async fn login_form(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Query(query): Query<LoginQuery>,
) -> Result<Response> {
    if viewer.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let tr = Tr::new(lang);
    let message = if query.expired {
        let minutes = (state.config.session_idle.as_secs() / 60).max(1);
        Some(tr.f("login.expired", &[("minutes", &minutes.to_string())]))
    } else {
        query
            .signed_out
            .then(|| tr.t("login.signed_out").to_owned())
    };
    render(&LoginTemplate {
        page: Page::anonymous(lang),
        message,
        email: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let tr = Tr::new(lang);
    let ip = peer.ip();
    let throttled = |message: String, email: String, wait: Duration| -> Result<Response> {
        let template = LoginTemplate {
            page: Page::anonymous(lang),
            message: Some(message),
            email,
        };
        let mut response =
            (StatusCode::TOO_MANY_REQUESTS, Html(template.render()?)).into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&seconds_up(wait).to_string()).expect("a number"),
        );
        Ok(response)
    };
    let email = form.email.trim().to_lowercase();
    // A browser that signed in to this account before is counted on its own, so that
    // failures from elsewhere do not lock the real user out.
    let device = crate::cookie(&headers, DEVICE_COOKIE);
    let key = state.limiter.key_for(&email, device.as_deref());
    let attempt = match state.limiter.begin(ip, key) {
        Ok(attempt) => attempt,
        Err(Throttled::Address(wait)) => {
            tracing::warn!(%ip, "sign-in throttled for the address");
            return throttled(tr.t("login.throttled").to_owned(), form.email, wait);
        }
        Err(Throttled::Account(wait)) => {
            tracing::warn!(%ip, "sign-in throttled for the account");
            let seconds = seconds_up(wait).to_string();
            let message = tr.f("login.throttled_account", &[("seconds", &seconds)]);
            return throttled(message, form.email, wait);
        }
    };
    if let Some(backoff) = attempt.backoff {
        tracing::warn!(
            %ip,
            backoff_secs = backoff.as_secs(),
            "repeated failed sign-ins; the account is held back"
        );
    }
    let found = state.db.user_by_email(&email).await?;
    let (user, hash) = match found {
        Some((user, Some(hash))) => (Some(user), hash),
        _ => (None, auth::dummy_hash().to_owned()),
    };
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => {
            // The attempt stays counted as a failure.
            tracing::info!(%ip, "sign-in failed");
            let template = LoginTemplate {
                page: Page::anonymous(lang),
                message: Some(tr.t("login.failed").to_owned()),
                email: form.email,
            };
            return Ok((StatusCode::UNAUTHORIZED, Html(template.render()?)).into_response());
        }
    };
    state.limiter.succeed(attempt);
    let token = auth::random_token();
    let now = Utc::now();
    let expires = now + chrono::Duration::hours(SESSION_HOURS);
    state
        .db
        .create_session(
            &auth::token_hash(&token),
            user.id,
            &auth::random_token(),
            expires,
        )
        .await?;
    let _ = state
        .db
        .delete_expired_sessions(now, now - state.idle_limit())
        .await;
    tracing::info!(user_id = user.id, "signed in");
    let mut response = Redirect::to("/").into_response();
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_HOURS * 3600
    );
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("a valid header"),
    );
    let device = format!(
        "{DEVICE_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        state.limiter.device_token(&email),
        DEVICE_COOKIE_DAYS * 24 * 3600
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&device).expect("a valid header"),
    );
    Ok(response)
}

/// Whole seconds, rounded up (a wait of 0.2 s is 1 s, never 0).
fn seconds_up(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

async fn logout(State(state): State<AppState>, Signed(viewer): Signed) -> Result<Response> {
    if let Some(hash) = &viewer.session_hash {
        state.db.delete_session(hash).await?;
    }
    let mut response = Redirect::to("/login?signed_out=true").into_response();
    let cookie = format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("a valid header"),
    );
    Ok(response)
}

// ---------------------------------------------------------------- overview and empty states

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewTemplate {
    page: Page,
    overview: Overview,
    chart_json: String,
    a: crate::analysis_pages::OverviewAnalysis,
}

async fn overview(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
) -> Result<Response> {
    overview_page(&state, &viewer, lang, None).await
}

/// The overview, with a message after "run analysis now".
pub(crate) async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    message: Option<String>,
) -> Result<Response> {
    let owner = owner_filter(&viewer.user);
    let data = state.overview.get(&state.db, owner.as_deref()).await?;
    let overview = data.overview.clone();
    let page = Page::new(viewer, lang, "overview");
    let chart = serde_json::json!({
        "locale": lang.code(),
        "labels": overview.months.iter().map(|m| m.month.clone()).collect::<Vec<_>>(),
        "series": [
            {"name": page.tr.t("overview.revenue"), "kind": "bar", "money": true,
             "values": overview.months.iter().map(|m| m.revenue_cents as f64 / 100.0).collect::<Vec<_>>()},
            {"name": page.tr.t("overview.orders"), "kind": "line", "money": false,
             "values": overview.months.iter().map(|m| m.orders).collect::<Vec<_>>()},
        ],
    });
    let a = crate::analysis_pages::overview_analysis(state, viewer, &page.tr, &data, message);
    render(&OverviewTemplate {
        page,
        overview,
        chart_json: script_json(&chart),
        a,
    })
}

#[derive(Template)]
#[template(path = "empty.html")]
struct EmptyTemplate {
    page: Page,
    title_key: String,
    text_key: String,
}

async fn empty(
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    which: &'static str,
) -> Result<Response> {
    render(&EmptyTemplate {
        page: Page::new(&viewer, lang, which),
        title_key: format!("nav.{which}"),
        text_key: format!("empty.{which}"),
    })
}

// ---------------------------------------------------------------- customers

pub const PAGE_SIZE: u32 = 50;

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    after: Option<i64>,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersTemplate {
    page: Page,
    /// Each customer with their status in the latest analysis, in the page's language
    /// (empty before the first analysis, or for a customer added since).
    customers: Vec<(CustomerSummary, String)>,
    q: String,
    next: Option<String>,
    paged: bool,
    own_only: bool,
    /// Left out for a sales user (their own) and where no customer has an owner.
    show_owner: bool,
    /// Left out before the first analysis.
    show_status: bool,
}

async fn customers(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Query(query): Query<ListQuery>,
) -> Result<Response> {
    let owner = owner_filter(&viewer.user);
    let own_only = owner.is_some();
    let q = query.q.clone().unwrap_or_default();
    let mut customers = state
        .db
        .list_customers(&CustomerQuery {
            owner,
            search: query.q.clone(),
            after_id: query.after,
            limit: PAGE_SIZE + 1,
        })
        .await?;
    let next = if customers.len() > PAGE_SIZE as usize {
        customers.truncate(PAGE_SIZE as usize);
        let last = customers.last().map_or(0, |c| c.id);
        let mut url = format!("/customers?after={last}");
        if !q.is_empty() {
            url.push_str("&q=");
            url.push_str(&percent_encode(&q));
        }
        Some(url)
    } else {
        None
    };
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    let statuses = state.db.latest_statuses(&ids).await?;
    let page = Page::new(&viewer, lang, "customers");
    let customers = customers
        .into_iter()
        .map(|c| {
            let status = statuses
                .get(&c.id)
                .map(|s| crate::evidence::label(&page.tr, "status", s))
                .unwrap_or_default();
            (c, status)
        })
        .collect();
    render(&CustomersTemplate {
        show_owner: !own_only && state.db.any_account_owner().await?,
        show_status: !statuses.is_empty(),
        page,
        customers,
        q,
        next,
        paged: query.after.is_some(),
        own_only,
    })
}

pub(crate) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub when: String,
    pub text: String,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerTemplate {
    page: Page,
    c: CustomerDetail,
    title: String,
    more_orders: Option<String>,
    timeline: Vec<TimelineEntry>,
    referrals: Vec<(i64, String)>,
    analysis: Option<crate::analysis_pages::CustomerAnalysis>,
}

fn day_start(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(12, 0, 0).expect("noon exists").and_utc()
}

fn timeline(tr: &Tr, c: &CustomerDetail) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    for o in &c.orders {
        let key = if o.cancelled {
            "timeline.order_cancelled"
        } else {
            "timeline.order"
        };
        out.push(TimelineEntry {
            at: o.ordered_at,
            when: tr.day(o.ordered_at),
            text: tr.f(
                key,
                &[("id", &o.external_id), ("amount", &tr.money(o.gross_cents))],
            ),
            class: "order",
        });
    }
    for x in &c.complaints {
        out.push(TimelineEntry {
            at: x.opened_at,
            when: tr.day(x.opened_at),
            text: tr.f("timeline.complaint", &[("id", &x.external_id)]),
            class: "complaint",
        });
        if let Some(at) = x.resolved_at {
            out.push(TimelineEntry {
                at,
                when: tr.day(at),
                text: tr.f("timeline.complaint_resolved", &[("id", &x.external_id)]),
                class: "complaint",
            });
        }
    }
    for x in &c.contracts {
        out.push(TimelineEntry {
            at: day_start(x.started_on),
            when: tr.date(x.started_on),
            text: tr.f("timeline.contract_started", &[("id", &x.external_id)]),
            class: "contract",
        });
        if let Some(at) = x.cancellation_received_at {
            out.push(TimelineEntry {
                at,
                when: tr.day(at),
                text: tr.f("timeline.contract_cancelled", &[("id", &x.external_id)]),
                class: "cancellation",
            });
        }
    }
    for x in &c.consents {
        out.push(TimelineEntry {
            at: x.recorded_at,
            when: tr.day(x.recorded_at),
            text: tr.f(
                "timeline.consent",
                &[("channel", &x.channel), ("status", &x.status)],
            ),
            class: "consent",
        });
    }
    for x in &c.referrals {
        let name = x
            .other_name
            .clone()
            .unwrap_or_else(|| x.other_external_id.clone());
        let key = if x.referred_by_them {
            "customer.referred"
        } else {
            "customer.referred_by"
        };
        out.push(TimelineEntry {
            at: day_start(x.referred_on),
            when: tr.date(x.referred_on),
            text: tr.f(key, &[("name", &name)]),
            class: "referral",
        });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out
}

async fn customer(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let owner = owner_filter(&viewer.user);
    let c = state
        .db
        .customer_detail(id, owner.as_deref())
        .await?
        .ok_or(Error::NotFound)?;
    let page = Page::new(&viewer, lang, "customers");
    let tr = page.tr;
    let title = tr.f("customer.title", &[("id", &c.info.summary.external_id)]);
    let more_orders = (c.n_orders > c.orders.len() as u64).then(|| {
        tr.f(
            "customer.more_orders",
            &[
                ("shown", &c.orders.len().to_string()),
                ("total", &c.n_orders.to_string()),
            ],
        )
    });
    let referrals = c
        .referrals
        .iter()
        .map(|r| {
            let name = r
                .other_name
                .clone()
                .unwrap_or_else(|| r.other_external_id.clone());
            let key = if r.referred_by_them {
                "customer.referred"
            } else {
                "customer.referred_by"
            };
            (
                r.other_id,
                format!(
                    "{}: {}",
                    tr.date(r.referred_on),
                    tr.f(key, &[("name", &name)])
                ),
            )
        })
        .collect();
    let timeline = timeline(&tr, &c);
    let analysis = crate::analysis_pages::customer_analysis(&state, &viewer, lang, id).await?;
    render(&CustomerTemplate {
        page,
        c,
        title,
        more_orders,
        timeline,
        referrals,
        analysis,
    })
}

// ---------------------------------------------------------------- import

pub fn kind_key(kind: Kind) -> String {
    format!("kind.{}", kind.as_str())
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportTemplate {
    page: Page,
    kinds: Vec<(&'static str, String)>,
    message: Option<String>,
}

fn kinds(tr: &Tr) -> Vec<(&'static str, String)> {
    Kind::ALL
        .iter()
        .map(|k| (k.as_str(), tr.t(&kind_key(*k)).to_owned()))
        .collect()
}

async fn import_form(
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
) -> Result<Response> {
    if !allowed(viewer.user.role, Permission::Import) {
        return Err(Error::Forbidden);
    }
    let page = Page::new(&viewer, lang, "import");
    let kinds = kinds(&page.tr);
    render(&ImportTemplate {
        page,
        kinds,
        message: None,
    })
}

/// Options of an import as a form or the API sends them.
#[derive(Debug, Default, Clone)]
pub struct ImportChoices {
    pub kind: Option<Kind>,
    pub create_customers: bool,
    pub skip_invalid: bool,
    pub dry_run: bool,
    /// Field -> header text, from the mapping form.
    pub columns: Vec<(String, String)>,
    /// A whole mapping file (API).
    pub mapping_toml: Option<String>,
}

impl ImportChoices {
    fn set(&mut self, name: &str, value: String) -> Result<()> {
        let truthy = |v: &str| matches!(v, "1" | "true" | "on" | "yes");
        match name {
            "kind" => {
                self.kind = Some(
                    Kind::parse(&value)
                        .ok_or_else(|| Error::BadRequest(format!("unknown kind {value:?}")))?,
                )
            }
            "create_customers" => self.create_customers = truthy(&value),
            "skip_invalid" => self.skip_invalid = truthy(&value),
            "dry_run" => self.dry_run = truthy(&value),
            "mapping" if !value.trim().is_empty() => self.mapping_toml = Some(value),
            other => {
                if let Some(field) = other.strip_prefix("map_")
                    && !value.is_empty()
                {
                    self.columns.push((field.to_owned(), value));
                }
            }
        }
        Ok(())
    }

    pub fn settings(&self, kind: Kind) -> Result<crate::import_service::Settings> {
        use crate::import_service::{RejectFile, Settings};
        let mut mapping = match &self.mapping_toml {
            Some(text) => Some(
                winback_formats::MappingFile::from_toml_str(text)
                    .map_err(|e| Error::BadRequest(e.to_string()))?,
            ),
            None => None,
        };
        if !self.columns.is_empty() {
            let m = mapping.get_or_insert_with(Default::default);
            for (field, header) in &self.columns {
                m.columns.retain(|(f, _)| f != field);
                m.columns.push((field.clone(), vec![header.clone()]));
            }
        }
        Ok(Settings {
            mapping,
            options: winback_store::ImportOptions {
                create_customers: self.create_customers,
                skip_invalid: self.skip_invalid,
                // The server's pages keep reading while an upload imports.
                sole_writer: false,
            },
            reject_file: RejectFile::Off,
            dry_run: self.dry_run,
            ..Settings::new(kind)
        })
    }
}

/// Reads a multipart import request: the CSRF token first (for session requests whose
/// token did not come as a header), the choices, and the file streamed to disk.
pub async fn receive_upload(
    state: &AppState,
    viewer: &Viewer,
    csrf_in_body: bool,
    mut multipart: Multipart,
    fixed_kind: Option<Kind>,
) -> Result<(String, crate::uploads::Upload, ImportChoices)> {
    use tokio::io::AsyncWriteExt;
    let bad = |e: axum::extract::multipart::MultipartError| Error::BadRequest(e.body_text());
    let mut choices = ImportChoices {
        kind: fixed_kind,
        ..Default::default()
    };
    let mut csrf_ok = !csrf_in_body;
    let mut stored: Option<(String, std::path::PathBuf, String, u64)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if !csrf_ok {
            // The token must come before anything is read or written.
            let value = if name == "csrf" {
                field.text().await.map_err(bad)?
            } else {
                String::new()
            };
            if !auth::constant_time_eq(value.as_bytes(), viewer.csrf.as_bytes()) {
                return Err(Error::Csrf);
            }
            csrf_ok = true;
            continue;
        }
        if name == "file" {
            let file_name = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "upload".to_owned());
            let (id, path) = state
                .uploads
                .reserve()
                .map_err(|e| Error::Internal(e.into()))?;
            let mut file = tokio::fs::File::create(&path)
                .await
                .map_err(|e| Error::Internal(e.into()))?;
            let mut n = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                n += chunk.len() as u64;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Error::Internal(e.into()))?;
            }
            file.flush().await.map_err(|e| Error::Internal(e.into()))?;
            stored = Some((id, path, file_name, n));
        } else if name != "csrf" {
            let value = field.text().await.map_err(bad)?;
            choices.set(&name, value)?;
        }
    }
    if !csrf_ok {
        return Err(Error::Csrf);
    }
    let (id, path, file_name, n) =
        stored.ok_or_else(|| Error::BadRequest("no file in the form field \"file\"".into()))?;
    let kind = choices
        .kind
        .ok_or_else(|| Error::BadRequest("say what the file holds (field \"kind\")".into()))?;
    state
        .uploads
        .insert(id.clone(), viewer.user.id, kind, file_name, path, n);
    let upload = state
        .uploads
        .get(&id, viewer.user.id)
        .expect("just inserted");
    Ok((id, upload, choices))
}

/// Runs the shared pipeline on an upload. A file that cannot be read at all is a 400 with
/// the reader's message.
pub async fn run_import(
    state: &AppState,
    upload: &crate::uploads::Upload,
    choices: &ImportChoices,
) -> Result<std::result::Result<FileReport, String>> {
    let settings = choices.settings(upload.kind)?;
    let reader = match winback_formats::Reader::open(
        &upload.path,
        winback_formats::ReadOptions {
            kind: upload.kind,
            mapping: settings.mapping.clone(),
            zone: settings.zone,
        },
    ) {
        Ok(reader) => reader,
        Err(error) => {
            // The reader names the temporary file; the user knows it by their own name.
            let message = error
                .to_string()
                .replace(&upload.path.display().to_string(), &upload.file_name);
            return Ok(Err(message));
        }
    };
    let report = crate::import_service::import_reader(
        &state.db,
        reader,
        &upload.file_name,
        upload.bytes,
        &settings,
        std::time::Instant::now(),
        Utc::now(),
    )
    .await?;
    Ok(Ok(report))
}

pub struct FieldRow {
    pub field: &'static str,
    pub required: bool,
    pub current: String,
}

#[derive(Template)]
#[template(path = "import_check.html")]
struct ImportCheckTemplate {
    page: Page,
    upload_id: String,
    file_name: String,
    kind_label: String,
    report: Option<FileReport>,
    file_error: Option<String>,
    format_rows: Vec<(String, String)>,
    fields: Vec<FieldRow>,
    headers: Vec<String>,
    ignored: Vec<String>,
    more_rejected: Option<String>,
    choices_create: bool,
    choices_skip: bool,
    can_commit: bool,
    done: bool,
}

fn check_page(
    page: Page,
    upload_id: String,
    upload: &crate::uploads::Upload,
    choices: &ImportChoices,
    result: std::result::Result<FileReport, String>,
    done: bool,
) -> Result<Response> {
    let tr = page.tr;
    let kind_label = tr.t(&kind_key(upload.kind)).to_owned();
    let (report, file_error) = match result {
        Ok(report) => (Some(report), None),
        Err(message) => (None, Some(message)),
    };
    let mut format_rows = Vec::new();
    let mut fields = Vec::new();
    let mut headers = Vec::new();
    let mut ignored = Vec::new();
    if let Some(report) = &report {
        let f = &report.format;
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) if s == "\t" => "tab".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        for (key, label) in [
            ("container", "import.fmt_container"),
            ("encoding", "import.fmt_encoding"),
            ("delimiter", "import.fmt_delimiter"),
            ("decimal", "import.fmt_decimal"),
            ("thousands", "import.fmt_thousands"),
            ("date_order", "import.fmt_dates"),
            ("header_line", "import.fmt_header"),
            ("layout", "import.fmt_layout"),
            ("sheet", "import.fmt_sheet"),
        ] {
            let value = text(&f[key]);
            if !value.is_empty() {
                format_rows.push((tr.t(label).to_owned(), value));
            }
        }
        let mapped: Vec<(String, String)> = report.mapping["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| {
                        Some((
                            m["field"].as_str()?.to_owned(),
                            m["columns"][0]["header"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (_, header) in &mapped {
            if !headers.contains(header) {
                headers.push(header.clone());
            }
        }
        if let Some(a) = report.mapping["ignored"].as_array() {
            for c in a {
                if let Some(h) = c["header"].as_str() {
                    ignored.push(h.to_owned());
                    if !headers.iter().any(|x| x == h) {
                        headers.push(h.to_owned());
                    }
                }
            }
        }
        for spec in winback_formats::fields(upload.kind) {
            let current = choices
                .columns
                .iter()
                .find(|(f, _)| f == spec.name)
                .map(|(_, h)| h.clone())
                .or_else(|| {
                    mapped
                        .iter()
                        .find(|(f, _)| f == spec.name)
                        .map(|(_, h)| h.clone())
                })
                .unwrap_or_default();
            fields.push(FieldRow {
                field: spec.name,
                required: spec.required,
                current,
            });
        }
    }
    let more_rejected = report.as_ref().and_then(|r| {
        (r.rows_rejected as usize > r.rejected.len()).then(|| {
            tr.f(
                "import.more_rejected",
                &[(
                    "n",
                    &(r.rows_rejected as usize - r.rejected.len()).to_string(),
                )],
            )
        })
    });
    let can_commit = report
        .as_ref()
        .is_some_and(|r| r.rows_rejected == 0 || choices.skip_invalid);
    render(&ImportCheckTemplate {
        page,
        upload_id,
        file_name: upload.file_name.clone(),
        kind_label,
        report,
        file_error,
        format_rows,
        fields,
        headers,
        ignored,
        more_rejected,
        choices_create: choices.create_customers,
        choices_skip: choices.skip_invalid,
        can_commit,
        done,
    })
}

async fn import_upload(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    csrf_in_body: Option<Extension<CsrfInBody>>,
    multipart: Multipart,
) -> Result<Response> {
    if !allowed(viewer.user.role, Permission::Import) {
        return Err(Error::Forbidden);
    }
    let (id, upload, mut choices) =
        receive_upload(&state, &viewer, csrf_in_body.is_some(), multipart, None).await?;
    choices.dry_run = true;
    let result = run_import(&state, &upload, &choices).await?;
    check_page(
        Page::new(&viewer, lang, "import"),
        id,
        &upload,
        &choices,
        result,
        false,
    )
}

fn choices_from_form(form: &[(String, String)]) -> Result<ImportChoices> {
    let mut choices = ImportChoices::default();
    for (name, value) in form {
        if name != "csrf" {
            choices.set(name, value.clone())?;
        }
    }
    Ok(choices)
}

/// What the check and the commit of an uploaded file share: the role check, the upload
/// (`Err` holds the "expired" page when it is gone) and the choices of the form.
fn upload_and_choices(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    id: &str,
    form: &[(String, String)],
    dry_run: bool,
) -> Result<std::result::Result<(crate::uploads::Upload, ImportChoices), Response>> {
    if !allowed(viewer.user.role, Permission::Import) {
        return Err(Error::Forbidden);
    }
    let Some(upload) = state.uploads.get(id, viewer.user.id) else {
        return expired(viewer, lang).map(Err);
    };
    let mut choices = choices_from_form(form)?;
    choices.dry_run = dry_run;
    Ok(Ok((upload, choices)))
}

async fn import_check(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (upload, choices) = match upload_and_choices(&state, &viewer, lang, &id, &form, true)? {
        Ok(found) => found,
        Err(expired) => return Ok(expired),
    };
    let result = run_import(&state, &upload, &choices).await?;
    check_page(
        Page::new(&viewer, lang, "import"),
        id,
        &upload,
        &choices,
        result,
        false,
    )
}

async fn import_commit(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (upload, choices) = match upload_and_choices(&state, &viewer, lang, &id, &form, false)? {
        Ok(found) => found,
        Err(expired) => return Ok(expired),
    };
    let result = run_import(&state, &upload, &choices).await?;
    let committed = result.as_ref().is_ok_and(|r| r.committed);
    if committed {
        tracing::info!(
            user_id = viewer.user.id,
            kind = upload.kind.as_str(),
            "import committed from the web"
        );
        state.uploads.remove(&id);
    }
    check_page(
        Page::new(&viewer, lang, "import"),
        id,
        &upload,
        &choices,
        result,
        committed,
    )
}

fn expired(viewer: &Viewer, lang: Lang) -> Result<Response> {
    let page = Page::new(viewer, lang, "import");
    let kinds = kinds(&page.tr);
    let message = Some(page.tr.t("import.expired").to_owned());
    Ok((
        StatusCode::NOT_FOUND,
        Html(
            ImportTemplate {
                page,
                kinds,
                message,
            }
            .render()?,
        ),
    )
        .into_response())
}

// ---------------------------------------------------------------- settings

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsTemplate {
    page: Page,
    tokens: Vec<winback_store::ApiTokenInfo>,
    new_token: Option<String>,
    users: Vec<(User, String)>,
    roles: Vec<(&'static str, String)>,
    message: Option<String>,
    is_admin: bool,
    language: String,
    /// The signed-in user's id: an admin cannot disable themself.
    me: i64,
}

async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    new_token: Option<String>,
    message: Option<String>,
) -> Result<Response> {
    let page = Page::new(viewer, lang, "settings");
    let tr = page.tr;
    let is_admin = allowed(viewer.user.role, Permission::ManageUsers);
    let users = if is_admin {
        state
            .db
            .users()
            .await?
            .into_iter()
            .map(|u| {
                let role = tr.t(role_key(u.role)).to_owned();
                (u, role)
            })
            .collect()
    } else {
        Vec::new()
    };
    let roles = [Role::Admin, Role::Manager, Role::Sales, Role::Analyst]
        .into_iter()
        .map(|r| (r.as_str(), tr.t(role_key(r)).to_owned()))
        .collect();
    render(&SettingsTemplate {
        page,
        tokens: state.db.api_tokens(viewer.user.id).await?,
        new_token,
        users,
        roles,
        message,
        is_admin,
        language: viewer.user.language.clone().unwrap_or_default(),
        me: viewer.user.id,
    })
}

async fn settings(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
) -> Result<Response> {
    settings_page(&state, &viewer, lang, None, None).await
}

#[derive(Deserialize)]
struct LanguageForm {
    lang: String,
    back: Option<String>,
}

async fn set_language(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Form(form): Form<LanguageForm>,
) -> Result<Response> {
    let lang = Lang::parse(&form.lang).map(Lang::code);
    state.db.set_user_language(viewer.user.id, lang).await?;
    let back = form
        .back
        .filter(|b| is_local_path(b))
        .unwrap_or_else(|| "/settings".into());
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Form(form): Form<TokenForm>,
) -> Result<Response> {
    let name = form.name.trim();
    let name = if name.is_empty() { "token" } else { name };
    let token = auth::random_token();
    state
        .db
        .create_api_token(viewer.user.id, name, &auth::token_hash(&token))
        .await?;
    settings_page(&state, &viewer, lang, Some(token), None).await
}

async fn revoke_token(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<i64>,
) -> Result<Response> {
    if !state.db.revoke_api_token(viewer.user.id, id).await? {
        return Err(Error::NotFound);
    }
    Ok(Redirect::to("/settings").into_response())
}

#[derive(Deserialize)]
struct UserForm {
    email: String,
    name: Option<String>,
    role: String,
    password: String,
}

async fn add_user(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Form(form): Form<UserForm>,
) -> Result<Response> {
    if !allowed(viewer.user.role, Permission::ManageUsers) {
        return Err(Error::Forbidden);
    }
    let tr = Tr::new(lang);
    let message = match create_user(
        &state,
        &form.email,
        form.name.as_deref(),
        &form.role,
        form.password,
    )
    .await
    {
        Ok(_) => tr.t("settings.user_added").to_owned(),
        Err(UserInputError::Email) => tr.t("settings.email_invalid").to_owned(),
        Err(UserInputError::Password) => tr.t("settings.password_too_short").to_owned(),
        Err(UserInputError::Role) => tr.t("error.bad_request").to_owned(),
        Err(UserInputError::Other(e)) => return Err(e),
    };
    settings_page(&state, &viewer, lang, None, Some(message)).await
}

async fn disable_user(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Path(id): Path<i64>,
) -> Result<Response> {
    user_state_page(state, viewer, lang, id, true).await
}

async fn enable_user(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Path(id): Path<i64>,
) -> Result<Response> {
    user_state_page(state, viewer, lang, id, false).await
}

async fn user_state_page(
    state: AppState,
    viewer: Viewer,
    lang: Lang,
    id: i64,
    disable: bool,
) -> Result<Response> {
    if !allowed(viewer.user.role, Permission::ManageUsers) {
        return Err(Error::Forbidden);
    }
    let tr = Tr::new(lang);
    match set_user_disabled(&state, &viewer, id, disable).await {
        Ok(user) => {
            let email = [("email", user.email.as_str())];
            let message = if disable {
                tr.f("settings.user_disabled_done", &email)
            } else {
                tr.f("settings.user_enabled_done", &email)
            };
            settings_page(&state, &viewer, lang, None, Some(message)).await
        }
        Err(UserStateError::Yourself) => {
            let message = tr.t("settings.cannot_disable_yourself").to_owned();
            let mut response = settings_page(&state, &viewer, lang, None, Some(message)).await?;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(UserStateError::NotFound) => Err(Error::NotFound),
        Err(UserStateError::Other(e)) => Err(e),
    }
}

pub enum UserStateError {
    /// An admin cannot disable themself (and so never the last admin).
    Yourself,
    NotFound,
    Other(Error),
}

/// Disables a user (their sessions end and their API tokens are revoked at once) or
/// enables them again; shared by the settings page and the API. The caller checks the
/// role.
pub async fn set_user_disabled(
    state: &AppState,
    viewer: &Viewer,
    user_id: i64,
    disable: bool,
) -> std::result::Result<User, UserStateError> {
    if disable && user_id == viewer.user.id {
        return Err(UserStateError::Yourself);
    }
    let other = |e: winback_store::Error| UserStateError::Other(e.into());
    let found = if disable {
        state.db.disable_user(user_id).await.map_err(other)?
    } else {
        state.db.enable_user(user_id).await.map_err(other)?
    };
    if !found {
        return Err(UserStateError::NotFound);
    }
    tracing::info!(
        user_id,
        by = viewer.user.id,
        disabled = disable,
        "user state changed"
    );
    state
        .db
        .user_by_id(user_id)
        .await
        .map_err(other)?
        .ok_or(UserStateError::NotFound)
}

pub enum UserInputError {
    Email,
    Password,
    Role,
    Other(Error),
}

/// Creates (or re-enables with a new password) a user; shared by the settings page and
/// the API.
pub async fn create_user(
    state: &AppState,
    email: &str,
    name: Option<&str>,
    role: &str,
    password: String,
) -> std::result::Result<User, UserInputError> {
    let email = email.trim().to_lowercase();
    if !valid_email(&email) {
        return Err(UserInputError::Email);
    }
    let role = Role::parse(role).ok_or(UserInputError::Role)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| UserInputError::Other(Error::Internal(e.into())))?
        .map_err(|_| UserInputError::Password)?;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    state
        .db
        .put_user(&email, name, role, &hash)
        .await
        .map_err(|e| UserInputError::Other(e.into()))
}

pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !email.contains(char::is_whitespace)
        && email.len() <= 254
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_places_to_return_to() {
        for ok in ["/", "/alerts?status=new", "/customers/K1"] {
            assert!(super::is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            r"/\evil.example",
            "https://evil.example",
            "evil",
            "/\tx",
            "",
        ] {
            assert!(!super::is_local_path(bad), "{bad}");
        }
    }
}
