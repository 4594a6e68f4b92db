//! The JSON API under `/api/v1`: everything a page can do, for scripts and analysts.
//!
//! Authentication: `Authorization: Bearer TOKEN` (tokens from the settings page, stored
//! hashed) or the browser's session cookie (then state-changing calls need the
//! `X-CSRF-Token` header). Lists page by keyset (`after` = the last id seen, `limit`),
//! errors are `{"error": {"code", "message"}}`. The OpenAPI 3.1 document is generated from
//! these handlers (`/api/v1/openapi.json`, rendered at `/api/docs/`).

use axum::extract::{Multipart, Path, Query, State};
use axum::{Extension, Json};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use winback_engine::Kind;
use winback_store::CustomerQuery;

use crate::auth::{Permission, Viewer, allowed, owner_filter};
use crate::error::{Error, ErrorBody, Result};
use crate::pages::{
    Signed, UserInputError, UserStateError, create_user, receive_upload, run_import,
    set_user_disabled,
};
use crate::{AppState, CsrfInBody};

#[derive(OpenApi)]
#[openapi(
    info(title = "winback API", description = "Customer recovery (Kundenrückgewinnung): customers, analysis and alerts, imports, users."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "customers"), (name = "analysis"), (name = "imports"), (name = "users"), (name = "account"))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(overview))
        .routes(routes!(list_customers))
        .routes(routes!(get_customer))
        .routes(routes!(post_import))
        .routes(routes!(list_users, post_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(analysis_latest))
        .routes(routes!(analysis_lost_by_month))
        .routes(routes!(analysis_report))
        .routes(routes!(analysis_run))
        .routes(routes!(customer_history))
        .routes(routes!(list_alerts))
        .routes(routes!(post_alert_state))
        .fallback(|| async { Error::NotFound })
}

/// The OpenAPI document (for tests and tools).
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().into_openapi()
}

#[derive(Serialize, ToSchema)]
pub struct UserJson {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    /// `admin`, `manager`, `sales` or `analyst`.
    pub role: String,
    /// `de`, `en`, or null (follows the browser).
    pub language: Option<String>,
    /// A disabled user cannot sign in; their sessions and API tokens have ended.
    pub disabled: bool,
}

impl From<winback_store::User> for UserJson {
    fn from(u: winback_store::User) -> Self {
        UserJson {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_owned(),
            language: u.language,
            disabled: u.disabled,
        }
    }
}

/// Who the caller is.
#[utoipa::path(get, path = "/me", tag = "account",
    responses((status = 200, body = UserJson), (status = 401, body = ErrorBody)))]
async fn me(Signed(viewer): Signed) -> Json<UserJson> {
    Json(viewer.user.into())
}

#[derive(Serialize, ToSchema)]
pub struct MonthJson {
    /// `yyyy-mm`
    pub month: String,
    pub orders: u64,
    pub revenue_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OverviewJson {
    pub customers: u64,
    pub orders: u64,
    /// Orders not cancelled, in cents.
    pub revenue_cents: i64,
    pub months: Vec<MonthJson>,
}

/// Customers, orders and revenue by month (a sales user's own customers only).
#[utoipa::path(get, path = "/overview", tag = "customers",
    responses((status = 200, body = OverviewJson), (status = 401, body = ErrorBody)))]
async fn overview(
    State(state): State<AppState>,
    Signed(viewer): Signed,
) -> Result<Json<OverviewJson>> {
    let data = state
        .overview
        .get(&state.db, owner_filter(&viewer.user).as_deref())
        .await?;
    let o = data.overview.clone();
    Ok(Json(OverviewJson {
        customers: o.customers,
        orders: o.orders,
        revenue_cents: o.revenue_cents,
        months: o
            .months
            .into_iter()
            .map(|m| MonthJson {
                month: m.month,
                orders: m.orders,
                revenue_cents: m.revenue_cents,
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// An external id or e-mail address (exact), or the beginning of a name.
    pub q: Option<String>,
    /// Return customers after this id (the `next_after` of the previous page).
    pub after: Option<i64>,
    /// 1 to 500, default 50.
    pub limit: Option<u32>,
    /// `active`, `at_risk`, `sleeping`, `lost` or `all`: the customers of the latest
    /// analysis with that status, each with its `analysis` result (`q` is ignored then).
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerJson {
    pub id: i64,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub city: Option<String>,
    pub segment: Option<String>,
    /// `b2b` or `b2c`.
    pub party: Option<String>,
    pub account_owner: Option<String>,
    /// The latest analysis' result (only when listing by `status`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<CustomerStatusJson>,
}

impl From<winback_store::CustomerSummary> for CustomerJson {
    fn from(c: winback_store::CustomerSummary) -> Self {
        CustomerJson {
            id: c.id,
            external_id: c.external_id,
            name: c.name,
            email: c.email,
            city: c.city,
            segment: c.segment,
            party: c.party,
            account_owner: c.account_owner,
            analysis: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerJson>,
    /// Pass as `after` to get the next page; null on the last page.
    pub next_after: Option<i64>,
}

/// Customers in id order, one page at a time (a sales user sees only their own).
#[utoipa::path(get, path = "/customers", tag = "customers", params(ListParams),
    responses((status = 200, body = CustomerPage), (status = 401, body = ErrorBody)))]
async fn list_customers(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Query(params): Query<ListParams>,
) -> Result<Json<CustomerPage>> {
    let limit = params.limit.unwrap_or(50).clamp(1, 500);
    if let Some(status) = params.status {
        let status = match status.as_str() {
            "all" => None,
            s if winback_store::results::STATUSES.contains(&s) => Some(status),
            _ => {
                return Err(Error::BadRequest(
                    "status: one of active, at_risk, sleeping, lost, all".into(),
                ));
            }
        };
        let mut rows = state
            .db
            .customers_by_status(&winback_store::StatusQuery {
                owner: owner_filter(&viewer.user),
                status,
                after_id: params.after,
                limit: limit + 1,
            })
            .await?;
        let next_after = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.customer.id)
        } else {
            None
        };
        return Ok(Json(CustomerPage {
            items: rows
                .into_iter()
                .map(|r| {
                    let mut c: CustomerJson = r.customer.into();
                    c.analysis = Some(r.status.into());
                    c
                })
                .collect(),
            next_after,
        }));
    }
    let mut items = state
        .db
        .list_customers(&CustomerQuery {
            owner: owner_filter(&viewer.user),
            search: params.q,
            after_id: params.after,
            limit: limit + 1,
        })
        .await?;
    let next_after = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|c| c.id)
    } else {
        None
    };
    Ok(Json(CustomerPage {
        items: items.into_iter().map(Into::into).collect(),
        next_after,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct OrderJson {
    pub external_id: String,
    pub ordered_at: DateTime<Utc>,
    pub gross_cents: i64,
    pub discount_cents: i64,
    pub voucher_code: Option<String>,
    pub channel: Option<String>,
    pub delivery_promised_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    pub returned: bool,
    pub cancelled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintJson {
    pub external_id: String,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `yes`, `no` or `unknown`.
    pub satisfied: String,
    pub category: Option<String>,
    pub body: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ContractJson {
    pub external_id: String,
    pub product: Option<String>,
    pub started_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub renewal_on: Option<NaiveDate>,
    pub monthly_value_cents: Option<i64>,
    pub cancellation_received_at: Option<DateTime<Utc>>,
    pub cancellation_effective_on: Option<NaiveDate>,
    pub cancellation_reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentJson {
    pub channel: String,
    pub status: String,
    pub recorded_at: DateTime<Utc>,
    pub source: Option<String>,
    pub proof: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReferralJson {
    pub other_id: i64,
    pub other_external_id: String,
    pub other_name: Option<String>,
    /// True when this customer referred the other one.
    pub referred_by_them: bool,
    pub referred_on: NaiveDate,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerDetailJson {
    pub customer: CustomerJson,
    pub phone: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub industry: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub n_orders: u64,
    pub revenue_cents: i64,
    /// Newest first, at most 500.
    pub orders: Vec<OrderJson>,
    pub complaints: Vec<ComplaintJson>,
    pub contracts: Vec<ContractJson>,
    pub consents: Vec<ConsentJson>,
    pub referrals: Vec<ReferralJson>,
}

/// One customer's whole story. Another owner's customer is 404 for a sales user.
#[utoipa::path(get, path = "/customers/{id}", tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = CustomerDetailJson), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn get_customer(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<i64>,
) -> Result<Json<CustomerDetailJson>> {
    let owner = owner_filter(&viewer.user);
    let c = state
        .db
        .customer_detail(id, owner.as_deref())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(CustomerDetailJson {
        phone: c.info.phone,
        street: c.info.street,
        postal_code: c.info.postal_code,
        country: c.info.country,
        industry: c.info.industry,
        created_at: c.info.created_at,
        customer: c.info.summary.into(),
        n_orders: c.n_orders,
        revenue_cents: c.revenue_cents,
        orders: c
            .orders
            .into_iter()
            .map(|o| OrderJson {
                external_id: o.external_id,
                ordered_at: o.ordered_at,
                gross_cents: o.gross_cents,
                discount_cents: o.discount_cents,
                voucher_code: o.voucher_code,
                channel: o.channel,
                delivery_promised_on: o.delivery_promised_on,
                delivered_on: o.delivered_on,
                returned: o.returned,
                cancelled: o.cancelled,
            })
            .collect(),
        complaints: c
            .complaints
            .into_iter()
            .map(|x| ComplaintJson {
                external_id: x.external_id,
                opened_at: x.opened_at,
                first_response_at: x.first_response_at,
                resolved_at: x.resolved_at,
                satisfied: x.satisfied,
                category: x.category,
                body: x.body,
            })
            .collect(),
        contracts: c
            .contracts
            .into_iter()
            .map(|x| ContractJson {
                external_id: x.external_id,
                product: x.product,
                started_on: x.started_on,
                ends_on: x.ends_on,
                renewal_on: x.renewal_on,
                monthly_value_cents: x.monthly_value_cents,
                cancellation_received_at: x.cancellation_received_at,
                cancellation_effective_on: x.cancellation_effective_on,
                cancellation_reason: x.cancellation_reason,
            })
            .collect(),
        consents: c
            .consents
            .into_iter()
            .map(|x| ConsentJson {
                channel: x.channel,
                status: x.status,
                recorded_at: x.recorded_at,
                source: x.source,
                proof: x.proof,
            })
            .collect(),
        referrals: c
            .referrals
            .into_iter()
            .map(|x| ReferralJson {
                other_id: x.other_id,
                other_external_id: x.other_external_id,
                other_name: x.other_name,
                referred_by_them: x.referred_by_them,
                referred_on: x.referred_on,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct RowErrorJson {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportReportJson {
    pub file: String,
    pub kind: String,
    /// What was detected: container, encoding, delimiter, decimal, date order, header line, layout.
    #[schema(value_type = Object)]
    pub format: serde_json::Value,
    /// Which column feeds which field, and the ignored columns.
    #[schema(value_type = Object)]
    pub mapping: serde_json::Value,
    pub rows_read: u64,
    pub rows_rejected: u64,
    /// The first 1,000 rejected rows in line order.
    pub rejected: Vec<RowErrorJson>,
    pub committed: bool,
    pub dry_run: bool,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub customers_created: u64,
}

/// The multipart form of an import (documentation only; read field by field).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The CSV or XLSX file.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// `true`: check only (validate, resolve references, roll back).
    pub dry_run: Option<bool>,
    /// `true`: import the good rows, report the rejected ones.
    pub skip_invalid: Option<bool>,
    /// `true`: create customers that orders refer to from the order file's columns.
    pub create_customers: Option<bool>,
    /// A mapping file (TOML) for columns or formats the importer does not recognise.
    pub mapping: Option<String>,
}

/// Imports one file of `kind`, all or nothing, with the same rules as `winback import`.
/// A file with a rejected row imports nothing unless `skip_invalid` is set; the report
/// lists every rejected row with its line and reason.
#[utoipa::path(post, path = "/imports/{kind}", tag = "imports",
    params(("kind" = String, Path, description = "customers, orders, order-lines, products, complaints, contracts, consents or referrals")),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 200, body = ImportReportJson), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn post_import(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    csrf_in_body: Option<Extension<CsrfInBody>>,
    Path(kind): Path<String>,
    multipart: Multipart,
) -> Result<Json<ImportReportJson>> {
    require(&viewer, Permission::Import)?;
    let kind =
        Kind::parse(&kind).ok_or_else(|| Error::BadRequest(format!("unknown kind {kind:?}")))?;
    let (id, upload, choices) = receive_upload(
        &state,
        &viewer,
        csrf_in_body.is_some(),
        multipart,
        Some(kind),
    )
    .await?;
    let result = run_import(&state, &upload, &choices).await;
    state.uploads.remove(&id);
    let report = result?.map_err(Error::BadRequest)?;
    Ok(Json(ImportReportJson {
        file: report.file,
        kind: report.kind.to_owned(),
        format: report.format,
        mapping: report.mapping,
        rows_read: report.rows_read,
        rows_rejected: report.rows_rejected,
        rejected: report
            .rejected
            .into_iter()
            .map(|e| RowErrorJson {
                line: e.line,
                column: e.column,
                reason: e.reason,
            })
            .collect(),
        committed: report.committed,
        dry_run: report.dry_run,
        inserted: report.inserted,
        updated: report.updated,
        unchanged: report.unchanged,
        customers_created: report.customers_created,
    }))
}

/// Every user (admins only).
#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, body = Vec<UserJson>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    Signed(viewer): Signed,
) -> Result<Json<Vec<UserJson>>> {
    require(&viewer, Permission::ManageUsers)?;
    Ok(Json(
        state
            .db
            .users()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    pub email: String,
    pub name: Option<String>,
    /// `admin`, `manager`, `sales` or `analyst`.
    pub role: String,
    /// At least 8 characters.
    pub password: String,
}

/// Creates a user, or gives an existing one a new role and password (admins only).
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 200, body = UserJson), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn post_user(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Json(new): Json<NewUser>,
) -> Result<Json<UserJson>> {
    require(&viewer, Permission::ManageUsers)?;
    match create_user(
        &state,
        &new.email,
        new.name.as_deref(),
        &new.role,
        new.password,
    )
    .await
    {
        Ok(user) => Ok(Json(user.into())),
        Err(UserInputError::Email) => Err(Error::BadRequest(
            "email: not a valid e-mail address".into(),
        )),
        Err(UserInputError::Password) => {
            Err(Error::BadRequest("password: at least 8 characters".into()))
        }
        Err(UserInputError::Role) => Err(Error::BadRequest(
            "role: one of admin, manager, sales, analyst".into(),
        )),
        Err(UserInputError::Other(e)) => Err(e),
    }
}

/// Disables a user: their sessions end and their API tokens are revoked at once, so their
/// next request is 401 (admins only; not yourself).
#[utoipa::path(post, path = "/users/{id}/disable", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserJson), (status = 400, body = ErrorBody, description = "your own account"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn disable_user(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<i64>,
) -> Result<Json<UserJson>> {
    user_state(&state, &viewer, id, true).await
}

/// Enables a disabled user again: they sign in with their password; their old sessions
/// and tokens stay ended (admins only).
#[utoipa::path(post, path = "/users/{id}/enable", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserJson), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enable_user(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<i64>,
) -> Result<Json<UserJson>> {
    user_state(&state, &viewer, id, false).await
}

async fn user_state(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    disable: bool,
) -> Result<Json<UserJson>> {
    require(viewer, Permission::ManageUsers)?;
    match set_user_disabled(state, viewer, id, disable).await {
        Ok(user) => Ok(Json(user.into())),
        Err(UserStateError::Yourself) => Err(Error::BadRequest(
            "you cannot disable your own account".into(),
        )),
        Err(UserStateError::NotFound) => Err(Error::NotFound),
        Err(UserStateError::Other(e)) => Err(e),
    }
}

fn require(viewer: &Viewer, permission: Permission) -> Result<()> {
    if allowed(viewer.user.role, permission) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

// ---------------------------------------------------------------- analysis (step 1)

#[derive(Serialize, ToSchema)]
pub struct RunJson {
    pub id: i64,
    pub as_of: NaiveDate,
    /// The repeat-buying model, e.g. `bg_nbd`.
    pub model: String,
    /// The fitted parameters by name.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub loglik: Option<f64>,
    pub n_customers: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl From<&winback_store::RunInfo> for RunJson {
    fn from(r: &winback_store::RunInfo) -> Self {
        RunJson {
            id: r.id,
            as_of: r.as_of,
            model: r.model.clone(),
            params: serde_json::from_str(&r.params).unwrap_or(serde_json::Value::Null),
            loglik: r.loglik,
            n_customers: r.n_customers,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AnalysisJson {
    pub run: RunJson,
    /// Customers in the run (a sales user's own only).
    pub customers: i64,
    /// Customers per status: `active`, `at_risk`, `sleeping`, `lost`.
    #[schema(value_type = Object)]
    pub status: serde_json::Map<String, serde_json::Value>,
    /// Lost customers per kind of loss.
    #[schema(value_type = Object)]
    pub loss_kinds: serde_json::Map<String, serde_json::Value>,
    /// Revenue (orders not cancelled) of the at-risk customers in the 12 months up to `as_of`.
    pub at_risk_revenue_12m_cents: i64,
    /// The at-risk customers' summed CLV.
    pub at_risk_clv_cents: i64,
    pub alerts_new: i64,
}

/// The latest analysis run: statuses, kinds of loss, revenue at risk and the fitted model
/// (a sales user's own customers only). 404 before the first analysis.
#[utoipa::path(get, path = "/analysis/latest", tag = "analysis",
    responses((status = 200, body = AnalysisJson), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn analysis_latest(
    State(state): State<AppState>,
    Signed(viewer): Signed,
) -> Result<Json<AnalysisJson>> {
    let s = state
        .db
        .run_summary(owner_filter(&viewer.user).as_deref())
        .await?
        .ok_or(Error::NotFound)?;
    let map = |v: &[(String, i64)]| {
        v.iter()
            .map(|(k, n)| (k.clone(), serde_json::json!(n)))
            .collect()
    };
    Ok(Json(AnalysisJson {
        run: (&s.run).into(),
        customers: s.customers,
        status: map(&s.status_counts),
        loss_kinds: map(&s.loss_kinds),
        at_risk_revenue_12m_cents: s.at_risk_revenue_12m_cents,
        at_risk_clv_cents: s.at_risk_clv_cents,
        alerts_new: s.alerts_new,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct LostMonthJson {
    /// `yyyy-mm` of the day of loss.
    pub month: String,
    pub loss_kind: String,
    pub customers: i64,
}

/// Lost customers of the latest run by month of the loss and kind of loss.
#[utoipa::path(get, path = "/analysis/lost-by-month", tag = "analysis",
    responses((status = 200, body = Vec<LostMonthJson>), (status = 401, body = ErrorBody)))]
async fn analysis_lost_by_month(
    State(state): State<AppState>,
    Signed(viewer): Signed,
) -> Result<Json<Vec<LostMonthJson>>> {
    let rows = state
        .db
        .lost_by_month(owner_filter(&viewer.user).as_deref())
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| LostMonthJson {
                month: m.month,
                loss_kind: m.loss_kind,
                customers: m.customers,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ReportJson {
    pub run_id: i64,
    /// `validation` or `backtest`.
    pub kind: String,
    /// `validation`: the model fitted without the last 26 weeks, with `weekly` cumulative
    /// expected and actual repeat purchases and the conditional expectations `by_frequency`;
    /// `backtest`: the statuses as of 180 days before the run against what happened, per
    /// status (`precision`, `recall`) and as P(alive) `calibration` by decile.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

/// How well the analysis holds up on the company's own data: the model's holdout
/// validation or the backtest of the statuses, from the latest run that has one (company
/// wide aggregates). 404 before the first such run or for another kind.
#[utoipa::path(get, path = "/analysis/reports/{kind}", tag = "analysis",
    params(("kind" = String, Path, description = "validation or backtest")),
    responses((status = 200, body = ReportJson), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn analysis_report(
    State(state): State<AppState>,
    Signed(_viewer): Signed,
    Path(kind): Path<String>,
) -> Result<Json<ReportJson>> {
    if !matches!(kind.as_str(), "validation" | "backtest") {
        return Err(Error::NotFound);
    }
    let (run_id, body) = state
        .db
        .latest_report(&kind)
        .await?
        .ok_or(Error::NotFound)?;
    let report = serde_json::from_str(&body)
        .map_err(|e| Error::Internal(anyhow::anyhow!("the stored {kind} report: {e}")))?;
    Ok(Json(ReportJson {
        run_id,
        kind,
        report,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct RunStarted {
    pub run_id: i64,
}

/// Runs the analysis as of today and stores it (admins and managers).
#[utoipa::path(post, path = "/analysis/run", tag = "analysis",
    responses((status = 200, body = RunStarted), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn analysis_run(
    State(state): State<AppState>,
    Signed(viewer): Signed,
) -> Result<Json<RunStarted>> {
    require(&viewer, Permission::RunAnalysis)?;
    match crate::analysis_pages::run_now(&state, &viewer).await {
        Ok(run_id) => Ok(Json(RunStarted { run_id })),
        Err(crate::analysis_pages::RunError::Unavailable) => Err(Error::BadRequest(
            "this server cannot run an analysis itself: run `winback analyze`".into(),
        )),
        Err(crate::analysis_pages::RunError::Failed(e)) => {
            Err(Error::BadRequest(format!("the analysis failed: {e}")))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CustomerStatusJson {
    /// `active`, `at_risk`, `sleeping` or `lost`.
    pub status: String,
    pub loss_kind: Option<String>,
    pub lost_on: Option<NaiveDate>,
    pub likely_cause: Option<String>,
    pub p_alive: f64,
    pub expected_transactions_52w: f64,
    pub clv_cents: i64,
    pub bargain_hunter: bool,
    /// Machine-readable evidence: an array of `{"kind": ..., ...}`.
    #[schema(value_type = Vec<Object>)]
    pub evidence: serde_json::Value,
}

impl From<winback_store::CustomerStatus> for CustomerStatusJson {
    fn from(s: winback_store::CustomerStatus) -> Self {
        CustomerStatusJson {
            evidence: serde_json::from_str(&s.evidence).unwrap_or(serde_json::Value::Null),
            status: s.status,
            loss_kind: s.loss_kind,
            lost_on: s.lost_on,
            likely_cause: s.likely_cause,
            p_alive: s.p_alive,
            expected_transactions_52w: s.expected_transactions_52w,
            clv_cents: s.clv_cents,
            bargain_hunter: s.bargain_hunter,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPointJson {
    pub run_id: i64,
    pub as_of: NaiveDate,
    #[serde(flatten)]
    pub status: CustomerStatusJson,
}

/// One customer's status and P(alive) in every analysis run, oldest first. Another
/// owner's customer is 404 for a sales user.
#[utoipa::path(get, path = "/customers/{id}/history", tag = "analysis", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<HistoryPointJson>), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn customer_history(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<i64>,
) -> Result<Json<Vec<HistoryPointJson>>> {
    let points = state
        .db
        .customer_history(id, owner_filter(&viewer.user).as_deref())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Json(
        points
            .into_iter()
            .map(|p| HistoryPointJson {
                run_id: p.run_id,
                as_of: p.as_of,
                status: p.status.into(),
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AlertEventJson {
    pub from_state: String,
    pub to_state: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertJson {
    pub id: i64,
    pub customer: CustomerJson,
    /// `falling_frequency`, `falling_basket`, `unresolved_complaint`, ...
    pub signal: String,
    pub raised_on: NaiveDate,
    #[schema(value_type = Vec<Object>)]
    pub evidence: serde_json::Value,
    /// `new`, `acknowledged`, `action_taken` or `false_alarm`.
    pub state: String,
    pub state_changed_at: Option<DateTime<Utc>>,
    pub state_changed_by: Option<String>,
    pub note: Option<String>,
    /// The feedback history (only in the answer to a state change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<AlertEventJson>>,
}

impl From<winback_store::AlertView> for AlertJson {
    fn from(a: winback_store::AlertView) -> Self {
        AlertJson {
            id: a.id,
            customer: a.customer.into(),
            signal: a.signal,
            raised_on: a.raised_on,
            evidence: serde_json::from_str(&a.evidence).unwrap_or(serde_json::Value::Null),
            state: a.state,
            state_changed_at: a.state_changed_at,
            state_changed_by: a.state_changed_by,
            note: a.note,
            history: None,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertParams {
    /// `new`, `acknowledged`, `action_taken` or `false_alarm`; all when left out.
    pub state: Option<String>,
    /// Return alerts older than this id (the `next_before` of the previous page).
    pub before: Option<i64>,
    /// 1 to 500, default 50.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertPage {
    pub items: Vec<AlertJson>,
    pub next_before: Option<i64>,
}

/// Early-warning alerts, newest first (a sales user: those of their own customers).
#[utoipa::path(get, path = "/alerts", tag = "analysis", params(AlertParams),
    responses((status = 200, body = AlertPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_alerts(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Query(params): Query<AlertParams>,
) -> Result<Json<AlertPage>> {
    if let Some(s) = &params.state
        && !winback_store::results::ALERT_STATES.contains(&s.as_str())
    {
        return Err(Error::BadRequest(
            "state: one of new, acknowledged, action_taken, false_alarm".into(),
        ));
    }
    let limit = params.limit.unwrap_or(50).clamp(1, 500);
    let mut items = state
        .db
        .alerts(&winback_store::AlertQuery {
            owner: owner_filter(&viewer.user),
            state: params.state,
            customer_id: None,
            before_id: params.before,
            limit: limit + 1,
        })
        .await?;
    let next_before = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|a| a.id)
    } else {
        None
    };
    Ok(Json(AlertPage {
        items: items.into_iter().map(Into::into).collect(),
        next_before,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AlertStateChange {
    /// `new`, `acknowledged`, `action_taken` or `false_alarm`.
    pub state: String,
    pub note: Option<String>,
}

/// Gives feedback on an alert: its new state and an optional note; the change is kept in
/// the alert's history. Analysts may not; another owner's alert is 404 for a sales user.
#[utoipa::path(post, path = "/alerts/{id}/state", tag = "analysis", params(("id" = i64, Path)),
    request_body = AlertStateChange,
    responses((status = 200, body = AlertJson), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn post_alert_state(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<i64>,
    Json(change): Json<AlertStateChange>,
) -> Result<Json<AlertJson>> {
    let alert = crate::analysis_pages::change_alert(
        &state,
        &viewer,
        id,
        &change.state,
        change.note.as_deref(),
    )
    .await?;
    let history = state.db.alert_events(id).await?;
    let mut json: AlertJson = alert.into();
    json.history = Some(
        history
            .into_iter()
            .map(|e| AlertEventJson {
                from_state: e.from_state,
                to_state: e.to_state,
                changed_at: e.changed_at,
                changed_by: e.changed_by,
                note: e.note,
            })
            .collect(),
    );
    Ok(Json(json))
}
