//! The pages of step 1 ("find lost and sleeping customers"): the analysis part of the
//! overview (customers counted vs. really active, lost by kind over time, revenue at risk,
//! the model), the list of lost and at-risk customers, the alert inbox with its feedback
//! buttons, the customer page's status and P(alive) history, and "run analysis now".

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use winback_store::results::{ALERT_STATES, STATUSES};
use winback_store::{AlertChange, AlertQuery, AlertView, RunInfo, RunSummary, StatusQuery};

use crate::AppState;
use crate::auth::{Permission, RequestLang, Viewer, allowed, owner_filter};
use crate::error::{Error, Result};
use crate::evidence::{label, render as render_evidence};
use crate::i18n::{Lang, Tr};
use crate::pages::{PAGE_SIZE, Page, Signed, percent_encode, render, script_json};

/// The fitted parameters of a run in their stored order; non-numbers are left out.
pub fn param_list(run: &RunInfo) -> Vec<(String, f64)> {
    match serde_json::from_str::<serde_json::Value>(&run.params) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_f64()?)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The analysis part of the overview, ready for the template.
pub struct OverviewAnalysis {
    pub summary: Option<RunSummary>,
    pub as_of: String,
    pub counted: u64,
    /// (status code, label, customers)
    pub statuses: Vec<(String, String, i64)>,
    pub status_chart: String,
    pub kinds: Vec<String>,
    /// (month, customers per kind in `kinds` order, total)
    pub lost_rows: Vec<(String, Vec<i64>, i64)>,
    pub lost_chart: String,
    pub clv_help: String,
    pub model: String,
    pub params: Vec<(String, String)>,
    pub loglik: String,
    pub finished: String,
    pub can_run: bool,
    pub message: Option<String>,
    /// The run under way and its step; the page looks again every few seconds while it is.
    pub running: Option<String>,
    pub quality: Option<Quality>,
}

/// How well the model and the statuses hold up on the company's own data (the reports kept
/// with the latest run that has them).
#[derive(Default)]
pub struct Quality {
    pub tracking_note: String,
    pub tracking_chart: String,
    pub frequency_chart: String,
    /// (repeat purchases, customers, expected mean, actual mean)
    pub frequency_rows: Vec<(String, String, String, String)>,
    pub backtest_note: String,
    pub calibration_chart: String,
    /// (P(alive) range, customers, mean P(alive), share that bought again)
    pub calibration_rows: Vec<(String, String, String, String)>,
    /// (status, customers, bought again, precision, recall)
    pub status_rows: Vec<(String, String, String, String, String)>,
}

fn quality(
    tr: &Tr,
    validation: Option<&serde_json::Value>,
    backtest: Option<&serde_json::Value>,
) -> Option<Quality> {
    if validation.is_none() && backtest.is_none() {
        return None;
    }
    let locale = tr.code();
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let date = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%F").ok())
            .map(|d| tr.date(d))
            .unwrap_or_default()
    };
    let mut q = Quality::default();
    if let Some(v) = validation {
        let weekly = v["weekly"].as_array().cloned().unwrap_or_default();
        q.tracking_note = tr.f(
            "quality.tracking_note",
            &[
                ("calibration_end", &date(&v["calibration_end"])),
                ("holdout_end", &date(&v["holdout_end"])),
                ("expected", &tr.dec(f(&v["expected_holdout_total"]), 0)),
                (
                    "actual",
                    &tr.num(v["actual_holdout_total"].as_u64().unwrap_or(0)),
                ),
            ],
        );
        q.tracking_chart = script_json(&serde_json::json!({
            "locale": locale,
            "shared": true,
            "labels": weekly.iter().map(|w| w["week"].to_string()).collect::<Vec<_>>(),
            "series": [
                {"name": tr.t("quality.expected"), "kind": "line", "money": false,
                 "values": weekly.iter().map(|w| (f(&w["expected"]) * 10.0).round() / 10.0).collect::<Vec<_>>()},
                {"name": tr.t("quality.actual"), "kind": "line", "money": false,
                 "values": weekly.iter().map(|w| w["actual"].as_u64().unwrap_or(0)).collect::<Vec<_>>()},
            ],
        }));
        let by_frequency = v["by_frequency"].as_array().cloned().unwrap_or_default();
        let label = |p: &serde_json::Value| {
            let n = p["frequency"].as_u64().unwrap_or(0).to_string();
            if p["and_more"].as_bool().unwrap_or(false) {
                format!("{n}+")
            } else {
                n
            }
        };
        q.frequency_rows = by_frequency
            .iter()
            .map(|p| {
                (
                    label(p),
                    tr.num(p["customers"].as_u64().unwrap_or(0)),
                    tr.dec(f(&p["expected"]), 2),
                    tr.dec(f(&p["actual"]), 2),
                )
            })
            .collect();
        q.frequency_chart = script_json(&serde_json::json!({
            "locale": locale,
            "shared": true,
            "labels": by_frequency.iter().map(label).collect::<Vec<_>>(),
            "series": [
                {"name": tr.t("quality.expected"), "kind": "line", "money": false,
                 "values": by_frequency.iter().map(|p| (f(&p["expected"]) * 100.0).round() / 100.0).collect::<Vec<_>>()},
                {"name": tr.t("quality.actual"), "kind": "bar", "money": false,
                 "values": by_frequency.iter().map(|p| (f(&p["actual"]) * 100.0).round() / 100.0).collect::<Vec<_>>()},
            ],
        }));
    }
    if let Some(b) = backtest {
        q.backtest_note = tr.f(
            "quality.backtest_note",
            &[
                ("as_of", &date(&b["as_of"])),
                ("days", &b["horizon_days"].to_string()),
                ("customers", &tr.num(b["customers"].as_u64().unwrap_or(0))),
                ("bought", &tr.num(b["bought_again"].as_u64().unwrap_or(0))),
                ("expected", &tr.dec(f(&b["expected_purchases"]), 0)),
                (
                    "actual",
                    &tr.num(b["actual_purchases"].as_u64().unwrap_or(0)),
                ),
            ],
        );
        q.status_rows = b["statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    label(tr, "status", s["status"].as_str().unwrap_or("")),
                    tr.num(s["customers"].as_u64().unwrap_or(0)),
                    tr.num(s["bought_again"].as_u64().unwrap_or(0)),
                    tr.pct(f(&s["precision"])),
                    tr.pct(f(&s["recall"])),
                )
            })
            .collect();
        let bins = b["calibration"].as_array().cloned().unwrap_or_default();
        let range =
            |c: &serde_json::Value| format!("{}–{}", tr.pct(f(&c["from"])), tr.pct(f(&c["to"])));
        q.calibration_rows = bins
            .iter()
            .map(|c| {
                (
                    range(c),
                    tr.num(c["customers"].as_u64().unwrap_or(0)),
                    tr.pct(f(&c["mean_p_alive"])),
                    tr.pct(f(&c["bought_again"])),
                )
            })
            .collect();
        q.calibration_chart = script_json(&serde_json::json!({
            "locale": locale,
            "shared": true,
            "labels": bins.iter().map(range).collect::<Vec<_>>(),
            "series": [
                {"name": tr.t("quality.mean_p_alive"), "kind": "line", "money": false,
                 "values": bins.iter().map(|c| (f(&c["mean_p_alive"]) * 1000.0).round() / 1000.0).collect::<Vec<_>>()},
                {"name": tr.t("quality.bought_again"), "kind": "bar", "money": false,
                 "values": bins.iter().map(|c| (f(&c["bought_again"]) * 1000.0).round() / 1000.0).collect::<Vec<_>>()},
            ],
        }));
    }
    Some(q)
}

pub(crate) fn overview_analysis(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    data: &crate::overview_cache::OverviewData,
    message: Option<String>,
) -> OverviewAnalysis {
    let counted = data.overview.customers;
    let summary = data.summary.clone();
    let can_run = allowed(viewer.user.role, Permission::RunAnalysis);
    let (running, last) = progress_notes(tr, state);
    let mut out = OverviewAnalysis {
        summary: None,
        as_of: String::new(),
        counted,
        statuses: Vec::new(),
        status_chart: String::new(),
        kinds: Vec::new(),
        lost_rows: Vec::new(),
        lost_chart: String::new(),
        clv_help: String::new(),
        model: String::new(),
        params: Vec::new(),
        loglik: String::new(),
        finished: String::new(),
        can_run,
        message: message.or(last),
        running,
        quality: None,
    };
    let Some(summary) = summary else {
        return out;
    };
    let report = |body: &Option<(i64, String)>| {
        body.as_ref()
            .and_then(|(_, json)| serde_json::from_str::<serde_json::Value>(json).ok())
    };
    let validation = report(&data.validation);
    let backtest = report(&data.backtest);
    out.quality = quality(tr, validation.as_ref(), backtest.as_ref());
    let locale = tr.code();
    out.as_of = tr.f(
        "analysis.as_of",
        &[
            ("date", &tr.date(summary.run.as_of)),
            ("id", &summary.run.id.to_string()),
        ],
    );
    out.statuses = summary
        .status_counts
        .iter()
        .map(|(s, n)| (s.clone(), label(tr, "status", s), *n))
        .collect();
    out.status_chart = script_json(&serde_json::json!({
        "locale": locale,
        "labels": out.statuses.iter().map(|(_, l, _)| l.clone()).collect::<Vec<_>>(),
        "series": [{"name": tr.t("analysis.customers"), "kind": "bar", "money": false,
                    "values": out.statuses.iter().map(|(_, _, n)| *n).collect::<Vec<_>>()}],
    }));
    let lost = &data.lost;
    let mut kind_codes: Vec<String> = Vec::new();
    let mut months: Vec<String> = Vec::new();
    for m in lost {
        if !kind_codes.contains(&m.loss_kind) {
            kind_codes.push(m.loss_kind.clone());
        }
        if !months.contains(&m.month) {
            months.push(m.month.clone());
        }
    }
    kind_codes.sort();
    out.lost_rows = months
        .iter()
        .map(|month| {
            let per_kind: Vec<i64> = kind_codes
                .iter()
                .map(|k| {
                    lost.iter()
                        .filter(|m| &m.month == month && &m.loss_kind == k)
                        .map(|m| m.customers)
                        .sum()
                })
                .collect();
            let total = per_kind.iter().sum();
            (month.clone(), per_kind, total)
        })
        .collect();
    out.kinds = kind_codes
        .iter()
        .map(|k| label(tr, "loss_kind", k))
        .collect();
    out.lost_chart = script_json(&serde_json::json!({
        "locale": locale,
        "labels": months,
        "stack": true,
        "series": kind_codes.iter().enumerate().map(|(idx, _)| serde_json::json!({
            "name": out.kinds[idx], "kind": "bar", "money": false,
            "values": out.lost_rows.iter().map(|(_, v, _)| v[idx]).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }));
    out.clv_help = tr.f(
        "analysis.at_risk_revenue_help",
        &[("clv", &tr.money(summary.at_risk_clv_cents))],
    );
    out.model = summary.run.model.clone();
    out.params = param_list(&summary.run)
        .into_iter()
        .map(|(k, v)| (k, tr.dec(v, 4)))
        .collect();
    out.loglik = summary.run.loglik.map(|l| tr.dec(l, 2)).unwrap_or_default();
    out.finished = tr.datetime(summary.run.finished_at);
    out.summary = Some(summary);
    out
}

// ---------------------------------------------------------------- run analysis now

pub async fn run_analysis(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
) -> Result<Response> {
    if !allowed(viewer.user.role, Permission::RunAnalysis) {
        return Err(Error::Forbidden);
    }
    let Some(analyzer) = state.config.analyzer.clone() else {
        let tr = Tr::new(lang);
        let message = tr.t("analysis.unavailable").to_owned();
        return crate::pages::overview_page(&state, &viewer, lang, Some(message)).await;
    };
    // In the background: a million customers take longer than a page should. The overview
    // shows the run's step and looks again until it is done; a run already under way is
    // shown the same way (it is as fresh as a new one would be).
    let as_of = chrono::Local::now().date_naive();
    if analyzer.start(as_of) {
        tracing::info!(user_id = viewer.user.id, %as_of, "analysis started from the web");
    }
    Ok(axum::response::Redirect::to("/#analysis").into_response())
}

/// How long the overview says how the last run ended.
const LAST_RUN_NOTICE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The overview's line about the analyzer: the run under way with its step, or how the last
/// run ended (for ten minutes after it did).
fn progress_notes(tr: &Tr, state: &AppState) -> (Option<String>, Option<String>) {
    let Some(analyzer) = &state.config.analyzer else {
        return (None, None);
    };
    let progress = analyzer.progress();
    if let Some(running) = progress.running {
        let step = match running.step {
            Some(step) => label(tr, "analysis_step", step.code()),
            None => tr.t("analysis.starting").to_owned(),
        };
        let note = tr.f(
            "analysis.running",
            &[("time", &tr.datetime(running.started_at)), ("step", &step)],
        );
        return (Some(note), None);
    }
    let last = progress
        .last
        .filter(|(ended, _)| chrono::Utc::now() - *ended < LAST_RUN_NOTICE)
        .map(|(_, result)| match result {
            Ok(id) => tr.f("analysis.run_done", &[("id", &id.to_string())]),
            Err(error) => tr.f("analysis.run_failed", &[("error", &error)]),
        });
    (None, last)
}

pub enum RunError {
    Unavailable,
    Failed(String),
}

/// Runs the server's analysis as of today; shared by the page and the API.
pub async fn run_now(state: &AppState, viewer: &Viewer) -> std::result::Result<i64, RunError> {
    let Some(analyzer) = state.config.analyzer.clone() else {
        return Err(RunError::Unavailable);
    };
    let as_of = chrono::Local::now().date_naive();
    tracing::info!(user_id = viewer.user.id, %as_of, "analysis started from the web");
    match analyzer.run(as_of).await {
        Ok(id) => {
            tracing::info!(run_id = id, "analysis stored");
            Ok(id)
        }
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "analysis failed");
            Err(RunError::Failed(format!("{error:#}")))
        }
    }
}

// ---------------------------------------------------------------- lost and at-risk customers

pub struct LostRow {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub owner: String,
    pub status: String,
    pub kind: String,
    pub lost_on: String,
    pub p_alive: String,
    pub clv: String,
    pub cause: String,
    pub evidence: Vec<String>,
}

#[derive(Template)]
#[template(path = "lost.html")]
struct LostTemplate {
    page: Page,
    has_run: bool,
    as_of: String,
    can_run: bool,
    current: String,
    filters: Vec<(String, String)>,
    rows: Vec<LostRow>,
    next: Option<String>,
    paged: bool,
    own_only: bool,
    /// Left out where every row would show the same: the owner for a sales user (their own)
    /// and where no customer has one, the status when one status is filtered. With the
    /// status shown (all statuses), the kind of loss goes under it instead of a column of
    /// its own, mostly empty.
    show_owner: bool,
    show_status: bool,
}

#[derive(Deserialize)]
pub struct LostQuery {
    status: Option<String>,
    after: Option<i64>,
}

pub async fn lost(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Query(query): Query<LostQuery>,
) -> Result<Response> {
    let page = Page::new(&viewer, lang, "lost");
    let tr = page.tr;
    let owner = owner_filter(&viewer.user);
    let current = query.status.unwrap_or_else(|| "lost".into());
    let status = match current.as_str() {
        "all" => None,
        s if STATUSES.contains(&s) => Some(s.to_owned()),
        _ => return Err(Error::BadRequest("unknown status".into())),
    };
    let run = state.db.latest_run().await?;
    let mut list = state
        .db
        .customers_by_status(&StatusQuery {
            owner: owner.clone(),
            status,
            after_id: query.after,
            limit: PAGE_SIZE + 1,
        })
        .await?;
    let next = (list.len() > PAGE_SIZE as usize).then(|| {
        list.truncate(PAGE_SIZE as usize);
        let last = list.last().map_or(0, |r| r.customer.id);
        format!("/lost?status={}&after={last}", percent_encode(&current))
    });
    let rows = list
        .into_iter()
        .map(|r| LostRow {
            id: r.customer.id,
            external_id: r.customer.external_id,
            name: r.customer.name.unwrap_or_default(),
            owner: r.customer.account_owner.unwrap_or_default(),
            status: label(&tr, "status", &r.status.status),
            kind: r
                .status
                .loss_kind
                .as_deref()
                .map(|k| label(&tr, "loss_kind", k))
                .unwrap_or_default(),
            lost_on: tr.opt_date(r.status.lost_on),
            p_alive: tr.pct(r.status.p_alive),
            clv: tr.money(r.status.clv_cents),
            cause: r
                .status
                .likely_cause
                .as_deref()
                .map(|c| label(&tr, "cause", c))
                .unwrap_or_default(),
            evidence: render_evidence(&tr, &r.status.evidence),
        })
        .collect();
    let mut filters = vec![("all".to_owned(), tr.t("lost.all").to_owned())];
    for s in ["lost", "at_risk", "sleeping", "active"] {
        filters.push((s.to_owned(), label(&tr, "status", s)));
    }
    render(&LostTemplate {
        show_status: current == "all",
        has_run: run.is_some(),
        as_of: run
            .map(|r| {
                tr.f(
                    "analysis.as_of",
                    &[("date", &tr.date(r.as_of)), ("id", &r.id.to_string())],
                )
            })
            .unwrap_or_default(),
        can_run: allowed(viewer.user.role, Permission::RunAnalysis),
        current,
        filters,
        rows,
        next,
        paged: query.after.is_some(),
        own_only: owner.is_some(),
        show_owner: owner.is_none() && state.db.any_account_owner().await?,
        page,
    })
}

// ---------------------------------------------------------------- alerts

pub struct AlertItem {
    pub id: i64,
    pub customer_id: i64,
    pub customer: String,
    pub owner: String,
    pub signal: String,
    pub raised: String,
    pub evidence: Vec<String>,
    pub state: String,
    pub state_code: String,
    pub changed: Option<String>,
    pub note: String,
}

pub fn alert_item(tr: &Tr, a: AlertView) -> AlertItem {
    let customer = match &a.customer.name {
        Some(name) => format!("{} · {name}", a.customer.external_id),
        None => a.customer.external_id.clone(),
    };
    let changed = match (&a.state_changed_by, a.state_changed_at) {
        (Some(who), Some(at)) => Some(tr.f(
            "alerts.changed",
            &[("who", who), ("when", &tr.datetime(at))],
        )),
        _ => None,
    };
    AlertItem {
        id: a.id,
        customer_id: a.customer.id,
        customer,
        owner: a.customer.account_owner.unwrap_or_default(),
        signal: label(tr, "signal", &a.signal),
        raised: tr.date(a.raised_on),
        evidence: render_evidence(tr, &a.evidence),
        state: label(tr, "alert_state", &a.state),
        state_code: a.state,
        changed,
        note: a.note.unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsTemplate {
    page: Page,
    current: String,
    /// (state code, label with count)
    filters: Vec<(String, String)>,
    items: Vec<AlertItem>,
    can_work: bool,
    back: String,
    next: Option<String>,
    paged: bool,
    own_only: bool,
    /// Left out for a sales user (their own) and where no customer has an owner.
    show_owner: bool,
}

#[derive(Deserialize)]
pub struct AlertsQuery {
    state: Option<String>,
    before: Option<i64>,
}

pub async fn alerts(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Extension(RequestLang(lang)): Extension<RequestLang>,
    Query(query): Query<AlertsQuery>,
) -> Result<Response> {
    let page = Page::new(&viewer, lang, "alerts");
    let tr = page.tr;
    let owner = owner_filter(&viewer.user);
    let current = query.state.unwrap_or_else(|| "new".into());
    let filter = match current.as_str() {
        "all" => None,
        s if ALERT_STATES.contains(&s) => Some(s.to_owned()),
        _ => return Err(Error::BadRequest("unknown state".into())),
    };
    let counts = state.db.alert_state_counts(owner.as_deref()).await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let mut filters = vec![(
        "all".to_owned(),
        format!("{} ({})", tr.t("alerts.all"), tr.num(total)),
    )];
    for (s, n) in &counts {
        filters.push((
            s.clone(),
            format!("{} ({})", label(&tr, "alert_state", s), tr.num(*n)),
        ));
    }
    let mut list = state
        .db
        .alerts(&AlertQuery {
            owner: owner.clone(),
            state: filter,
            customer_id: None,
            before_id: query.before,
            limit: PAGE_SIZE + 1,
        })
        .await?;
    let next = (list.len() > PAGE_SIZE as usize).then(|| {
        list.truncate(PAGE_SIZE as usize);
        let last = list.last().map_or(0, |a| a.id);
        format!("/alerts?state={}&before={last}", percent_encode(&current))
    });
    let items = list.into_iter().map(|a| alert_item(&tr, a)).collect();
    render(&AlertsTemplate {
        back: format!("/alerts?state={}", percent_encode(&current)),
        current,
        filters,
        items,
        can_work: allowed(viewer.user.role, Permission::WorkAlerts),
        next,
        paged: query.before.is_some(),
        own_only: owner.is_some(),
        show_owner: owner.is_none() && state.db.any_account_owner().await?,
        page,
    })
}

#[derive(Deserialize)]
pub struct AlertStateForm {
    state: String,
    note: Option<String>,
    back: Option<String>,
}

/// Changes an alert's state for the viewer; `None` when they may not see it.
pub async fn change_alert(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    to_state: &str,
    note: Option<&str>,
) -> Result<AlertView> {
    if !allowed(viewer.user.role, Permission::WorkAlerts) {
        return Err(Error::Forbidden);
    }
    if !ALERT_STATES.contains(&to_state) {
        return Err(Error::BadRequest(
            "state: one of new, acknowledged, action_taken, false_alarm".into(),
        ));
    }
    let owner = owner_filter(&viewer.user);
    let note = note.map(|n| n.chars().take(2000).collect::<String>());
    let changed = state
        .db
        .set_alert_state(
            id,
            owner.as_deref(),
            &AlertChange {
                to_state,
                by: &viewer.user.email,
                note: note.as_deref(),
                at: Utc::now(),
            },
        )
        .await?
        .ok_or(Error::NotFound)?;
    tracing::info!(
        alert_id = id,
        user_id = viewer.user.id,
        state = to_state,
        "alert feedback"
    );
    Ok(changed)
}

pub async fn alert_state(
    State(state): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<i64>,
    Form(form): Form<AlertStateForm>,
) -> Result<Response> {
    change_alert(&state, &viewer, id, &form.state, form.note.as_deref()).await?;
    let back = form
        .back
        .filter(|b| crate::pages::is_local_path(b))
        .unwrap_or_else(|| "/alerts".into());
    Ok(Redirect::to(&back).into_response())
}

// ---------------------------------------------------------------- the customer page

/// The analysis part of the customer page.
pub struct CustomerAnalysis {
    pub status: String,
    pub kind: String,
    pub lost_on: String,
    pub p_alive: String,
    pub clv: String,
    pub expected: String,
    pub cause: String,
    pub evidence: Vec<String>,
    /// (analysis date, status, P(alive))
    pub history: Vec<(String, String, String)>,
    pub chart: String,
    pub alerts: Vec<AlertItem>,
}

pub async fn customer_analysis(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    id: i64,
) -> Result<Option<CustomerAnalysis>> {
    let tr = Tr::new(lang);
    let owner = owner_filter(&viewer.user);
    let Some(history) = state.db.customer_history(id, owner.as_deref()).await? else {
        return Ok(None);
    };
    let Some(latest) = history.last() else {
        return Ok(None);
    };
    let s = &latest.status;
    let alerts = state
        .db
        .alerts(&AlertQuery {
            owner,
            customer_id: Some(id),
            limit: 100,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|a| alert_item(&tr, a))
        .collect();
    let dates: Vec<String> = history.iter().map(|h| tr.date(h.as_of)).collect();
    let chart = script_json(&serde_json::json!({
        "locale": tr.code(),
        "labels": dates,
        "series": [{"name": tr.t("customer.p_alive"), "kind": "line", "money": false,
                    "values": history.iter().map(|h| (h.status.p_alive * 1000.0).round() / 10.0).collect::<Vec<_>>()}],
    }));
    Ok(Some(CustomerAnalysis {
        status: label(&tr, "status", &s.status),
        kind: s
            .loss_kind
            .as_deref()
            .map(|k| label(&tr, "loss_kind", k))
            .unwrap_or_default(),
        lost_on: tr.opt_date(s.lost_on),
        p_alive: tr.pct(s.p_alive),
        clv: tr.money(s.clv_cents),
        expected: tr.dec(s.expected_transactions_52w, 2),
        cause: s
            .likely_cause
            .as_deref()
            .map(|c| label(&tr, "cause", c))
            .unwrap_or_default(),
        evidence: render_evidence(&tr, &s.evidence),
        history: history
            .iter()
            .map(|h| {
                (
                    tr.date(h.as_of),
                    label(&tr, "status", &h.status.status),
                    tr.pct(h.status.p_alive),
                )
            })
            .collect(),
        chart,
        alerts,
    }))
}
