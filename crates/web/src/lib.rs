//! winback's web application: server-rendered pages in German and English and the JSON
//! API under `/api/v1` (with its OpenAPI document), from one binary with every asset
//! embedded.
//!
//! The only crate that knows HTTP, HTML and JSON. Handlers are thin: they check the role
//! (`auth::Permission`), call `winback-store` (or the shared import pipeline in
//! [`import_service`]), and render a template or a JSON body. Engine and store types never
//! become a wire contract: the API types and their OpenAPI derives live in `api`.
//!
//! Must never: build SQL, mark user data `|safe`, log names or e-mail addresses, or load
//! anything from another origin (strict CSP `script-src 'self'`).
#![forbid(unsafe_code)]

mod analysis_pages;
pub mod api;
mod assets;
pub mod auth;
pub mod error;
pub mod evidence;
pub mod i18n;
pub mod import_service;
mod overview_cache;
mod pages;
pub mod quality;
mod uploads;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use winback_store::Db;

use crate::auth::{
    LoginLimiter, RequestLang, SESSION_COOKIE, SessionUse, Via, Viewer, constant_time_eq,
    session_use, token_hash,
};
use crate::error::{Error, ErrorMark};
use crate::i18n::{Lang, Tr};

/// What an analysis run returns: the stored run's id.
pub type AnalysisFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<i64>> + Send>>;

/// The steps of an analysis run, in order, as its progress shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisStep {
    /// Loading every customer's history.
    Load,
    /// Fitting the model and classifying every customer.
    Analyse,
    /// Storing the statuses and alerts.
    Store,
    /// The holdout validation and the backtest.
    Quality,
}

impl AnalysisStep {
    pub const ALL: [AnalysisStep; 4] = [
        AnalysisStep::Load,
        AnalysisStep::Analyse,
        AnalysisStep::Store,
        AnalysisStep::Quality,
    ];

    /// The code of the step's label (`analysis_step.<code>` in the catalogues).
    pub fn code(self) -> &'static str {
        match self {
            AnalysisStep::Load => "load",
            AnalysisStep::Analyse => "analyse",
            AnalysisStep::Store => "store",
            AnalysisStep::Quality => "quality",
        }
    }
}

/// Hears which step of a run begins.
pub type StepFn = Arc<dyn Fn(AnalysisStep) + Send + Sync>;

/// What the analyzer is doing and how its last run ended, for the pages.
#[derive(Debug, Clone, Default)]
pub struct AnalysisProgress {
    pub running: Option<RunningAnalysis>,
    /// When the last run ended, and its stored run's id or its error.
    pub last: Option<(chrono::DateTime<chrono::Utc>, Result<i64, String>)>,
}

#[derive(Debug, Clone)]
pub struct RunningAnalysis {
    pub as_of: chrono::NaiveDate,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// `None` until the run reports its first step.
    pub step: Option<AnalysisStep>,
}

/// Runs and stores an analysis as of a date (the binary passes `analyze_and_store`; this
/// crate cannot depend on the binary). One run at a time: the "run analysis now" button and
/// the server's schedule share the lock. The button starts a run in the background
/// ([`Analyzer::start`]) and the overview shows its progress.
#[derive(Clone)]
pub struct Analyzer {
    run: Arc<dyn Fn(chrono::NaiveDate, StepFn) -> AnalysisFuture + Send + Sync>,
    lock: Arc<tokio::sync::Mutex<()>>,
    progress: Arc<std::sync::Mutex<AnalysisProgress>>,
}

impl Analyzer {
    pub fn new(
        run: impl Fn(chrono::NaiveDate, StepFn) -> AnalysisFuture + Send + Sync + 'static,
    ) -> Self {
        Analyzer {
            run: Arc::new(run),
            lock: Arc::new(tokio::sync::Mutex::new(())),
            progress: Arc::default(),
        }
    }

    /// Runs the analysis as of `as_of` (waits for a run already under way) and returns the
    /// stored run's id.
    pub async fn run(&self, as_of: chrono::NaiveDate) -> anyhow::Result<i64> {
        let _guard = self.lock.lock().await;
        self.run_locked(as_of).await
    }

    /// Starts a run as of `as_of` in the background and returns at once; `false` when a run
    /// is already under way (it is not queued: the one running is as fresh).
    pub fn start(&self, as_of: chrono::NaiveDate) -> bool {
        let Ok(guard) = self.lock.clone().try_lock_owned() else {
            return false;
        };
        self.mark_running(as_of);
        let this = self.clone();
        tokio::spawn(async move {
            let _guard = guard;
            if let Err(error) = this.run_locked(as_of).await {
                tracing::warn!(error = format!("{error:#}"), "analysis failed");
            }
        });
        true
    }

    /// What the analyzer is doing now, and how its last run ended.
    pub fn progress(&self) -> AnalysisProgress {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn mark_running(&self, as_of: chrono::NaiveDate) {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .running = Some(RunningAnalysis {
            as_of,
            started_at: chrono::Utc::now(),
            step: None,
        });
    }

    /// Runs with the lock held, keeping `progress` current; a run that panics or is dropped
    /// still ends as failed.
    async fn run_locked(&self, as_of: chrono::NaiveDate) -> anyhow::Result<i64> {
        struct Ending(Arc<std::sync::Mutex<AnalysisProgress>>);
        impl Drop for Ending {
            fn drop(&mut self) {
                let mut progress = self.0.lock().unwrap_or_else(|e| e.into_inner());
                if progress.running.take().is_some() {
                    progress.last = Some((
                        chrono::Utc::now(),
                        Err("the analysis stopped unexpectedly; see the server's log".into()),
                    ));
                }
            }
        }
        if self.progress().running.is_none() {
            self.mark_running(as_of);
        }
        let ending = Ending(Arc::clone(&self.progress));
        let progress = Arc::clone(&self.progress);
        let step: StepFn = Arc::new(move |step| {
            if let Some(running) = &mut progress.lock().unwrap_or_else(|e| e.into_inner()).running {
                running.step = Some(step);
            }
        });
        let result = (self.run)(as_of, step).await;
        {
            let mut progress = ending.0.lock().unwrap_or_else(|e| e.into_inner());
            progress.running = None;
            progress.last = Some((
                chrono::Utc::now(),
                result
                    .as_ref()
                    .map(|id| *id)
                    .map_err(|error| format!("{error:#}")),
            ));
        }
        result
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer")
    }
}

/// Process settings of the web server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Largest accepted upload in bytes.
    pub max_upload_bytes: usize,
    /// Where uploads wait between "check" and "import".
    pub upload_dir: PathBuf,
    /// Runs an analysis on demand ("run analysis now", `POST /api/v1/analysis/run`);
    /// without one, those answer that the server cannot analyse by itself.
    pub analyzer: Option<Analyzer>,
    /// A session unused for longer than this ends (besides its absolute expiry after
    /// `auth::SESSION_HOURS`); default 30 minutes.
    pub session_idle: std::time::Duration,
    /// How often the server looks whether the data changed and computes the overview's
    /// figures before anybody asks; `None` (the default, and in tests) computes them on
    /// the first view after a change.
    pub warm_overview_every: Option<std::time::Duration>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_upload_bytes: 2 << 30,
            upload_dir: std::env::temp_dir()
                .join(format!("winback-uploads-{}", std::process::id())),
            analyzer: None,
            session_idle: std::time::Duration::from_secs(auth::SESSION_IDLE_MINUTES * 60),
            warm_overview_every: None,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub limiter: Arc<LoginLimiter>,
    pub uploads: Arc<uploads::Uploads>,
    overview: Arc<overview_cache::OverviewCache>,
}

impl AppState {
    /// The idle limit of sessions (at most a century, so date arithmetic cannot overflow).
    pub fn idle_limit(&self) -> chrono::Duration {
        let century = chrono::Duration::days(36_525);
        chrono::Duration::from_std(self.config.session_idle)
            .unwrap_or(century)
            .min(century)
    }

    pub fn new(db: Db, config: WebConfig) -> AppState {
        let uploads = Arc::new(uploads::Uploads::new(config.upload_dir.clone()));
        AppState {
            db,
            config: Arc::new(config),
            limiter: Arc::new(LoginLimiter::default()),
            uploads,
            overview: Arc::default(),
        }
    }
}

/// The whole application: pages, API, OpenAPI document and reference, assets.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let swagger =
        utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi);
    Router::new()
        .merge(pages::router(&state.config))
        .nest("/api/v1", api_router)
        .merge(swagger)
        .route("/assets/{*path}", axum::routing::get(assets::serve))
        .fallback(|| async { Error::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A running server (tests, `winback serve`).
pub struct Server {
    pub addr: SocketAddr,
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds `listen` (port 0: any free port) and serves in a background task.
pub async fn spawn(db: Db, listen: &str, config: WebConfig) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let warm_every = config.warm_overview_every;
    let state = AppState::new(db, config);
    if let Some(every) = warm_every {
        tokio::spawn(Arc::clone(&state.overview).keep_current(state.db.clone(), every));
    }
    let router = app(state);
    let handle = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Ok(Server { addr, handle })
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Resolves who is asking (Bearer token or session cookie) and in which language, enforces
/// CSRF on every state-changing request made with a cookie, and renders error responses of
/// pages as HTML in that language.
async fn request_context(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let (viewer, ended) = match resolve_viewer(&state, &headers).await {
        Ok(Resolved::Viewer(viewer)) => (Some(viewer), false),
        Ok(Resolved::Anonymous) => (None, false),
        Ok(Resolved::Ended) => (None, true),
        Err(error) => return error.into_response(),
    };
    let lang = viewer
        .as_ref()
        .and_then(|v| v.user.language.as_deref())
        .and_then(Lang::parse)
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                request
                    .headers()
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        });
    request.extensions_mut().insert(RequestLang(lang));

    let method = request.method().clone();
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        if !same_origin(&request) {
            return finish(Error::Csrf.into_response(), &path, lang, ended);
        }
        if let Some(viewer) = &viewer
            && viewer.via == Via::Session
        {
            match check_csrf(viewer, request).await {
                Ok(checked) => request = checked,
                Err(error) => return finish(error.into_response(), &path, lang, ended),
            }
        }
    }
    if let Some(viewer) = viewer {
        request.extensions_mut().insert(viewer);
    }
    let response = next.run(request).await;
    finish(response, &path, lang, ended)
}

/// Turns error responses of pages into HTML (or a redirect to the sign-in page, which says
/// so when the session has just ended for being idle).
fn finish(response: Response, path: &str, lang: Lang, ended: bool) -> Response {
    if is_api(path) {
        return response;
    }
    let Some(mark) = response.extensions().get::<ErrorMark>().cloned() else {
        return response;
    };
    if mark.code == "unauthorized" {
        if ended {
            let mut response = axum::response::Redirect::to("/login?expired=true").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "__Host-winback_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
            return response;
        }
        return axum::response::Redirect::to("/login").into_response();
    }
    let status = response.status();
    pages::error_page(Tr::new(lang), status, mark)
}

/// Who is asking, as far as the request's credentials tell.
enum Resolved {
    Viewer(Viewer),
    Anonymous,
    /// The session cookie named a session that has just ended for being idle.
    Ended,
}

async fn resolve_viewer(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Resolved, Error> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Error::Unauthorized)?;
        let hash = token_hash(token);
        let found = state
            .db
            .api_token_user(&hash)
            .await?
            .ok_or(Error::Unauthorized)?;
        // Recorded at most once a minute, like a session's last use.
        let now = chrono::Utc::now();
        if found.touch_due(now) {
            state.db.touch_api_token(&hash, now).await?;
        }
        return Ok(Resolved::Viewer(Viewer {
            user: found.user,
            via: Via::Token,
            csrf: String::new(),
            session_hash: None,
        }));
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(Resolved::Anonymous);
    };
    let hash = token_hash(&token);
    let now = chrono::Utc::now();
    let Some(session) = state.db.session(&hash, now).await? else {
        return Ok(Resolved::Anonymous);
    };
    match session_use(now, session.last_seen_at, state.idle_limit()) {
        SessionUse::Idle => {
            state.db.delete_session(&hash).await?;
            tracing::info!(user_id = session.user.id, "session ended after being idle");
            return Ok(Resolved::Ended);
        }
        SessionUse::Touch => state.db.touch_session(&hash, now).await?,
        SessionUse::Fresh => {}
    }
    Ok(Resolved::Viewer(Viewer {
        user: session.user,
        via: Via::Session,
        csrf: session.csrf_token,
        session_hash: Some(hash),
    }))
}

pub(crate) fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| {
            line.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then(|| value.to_owned())
            })
        })
}

/// A browser sends `Origin` with every POST; when it names another site, refuse (this also
/// covers the sign-in form, which has no session yet).
fn same_origin(request: &Request) -> bool {
    let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin.split_once("://").map(|(_, rest)| rest) == Some(host)
}

/// Marks a multipart request whose CSRF token the handler must still read from the first
/// form field (uploads are streamed, never buffered here).
#[derive(Debug, Clone, Copy)]
pub struct CsrfInBody;

/// Accepts the `X-CSRF-Token` header, or a `csrf` field of a url-encoded form (buffered:
/// such forms are small); multipart uploads are checked by their handler.
async fn check_csrf(viewer: &Viewer, request: Request) -> Result<Request, Error> {
    let expected = viewer.csrf.as_bytes();
    if let Some(header) = request.headers().get("x-csrf-token") {
        return if constant_time_eq(header.as_bytes(), expected) {
            Ok(request)
        } else {
            Err(Error::Csrf)
        };
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if content_type.starts_with("multipart/form-data") {
        let mut request = request;
        request.extensions_mut().insert(CsrfInBody);
        return Ok(request);
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, 256 * 1024)
            .await
            .map_err(|_| Error::BadRequest("form too large".into()))?;
        let field = form_urlencoded_field(&bytes, "csrf");
        if field.is_some_and(|f| constant_time_eq(f.as_bytes(), expected)) {
            return Ok(Request::from_parts(parts, Body::from(bytes)));
        }
    }
    Err(Error::Csrf)
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let parsed: Vec<(String, String)> = serde_urlencoded_pairs(body);
    parsed.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Minimal `application/x-www-form-urlencoded` parsing for the CSRF field.
fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut idx = 0;
        while idx < bytes.len() {
            match bytes[idx] {
                b'+' => out.push(b' '),
                b'%' if idx + 2 < bytes.len() => {
                    match u8::from_str_radix(
                        std::str::from_utf8(&bytes[idx + 1..idx + 3]).unwrap_or("zz"),
                        16,
                    ) {
                        Ok(b) => {
                            out.push(b);
                            idx += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            idx += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((decode(k), decode(v)))
        })
        .collect()
}

/// CSP and friends on every response. Scripts only from this origin (no inline script:
/// chart data travels as `<script type="application/json">`); styles allow inline because
/// ECharts and Swagger UI set element styles.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run started in the background is visible with its step until it ends, a second
    /// start while it runs is refused, and the end is kept: the id, or the error.
    #[tokio::test]
    async fn a_background_run_shows_its_step_and_how_it_ended() {
        let (go_tx, go_rx) = tokio::sync::mpsc::unbounded_channel::<anyhow::Result<i64>>();
        let go_rx = Arc::new(tokio::sync::Mutex::new(go_rx));
        let analyzer = Analyzer::new(move |_as_of, step: StepFn| {
            let go_rx = Arc::clone(&go_rx);
            Box::pin(async move {
                step(AnalysisStep::Load);
                step(AnalysisStep::Store);
                go_rx.lock().await.recv().await.expect("an outcome")
            })
        });
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert!(analyzer.progress().running.is_none());
        assert!(analyzer.start(day));
        assert!(!analyzer.start(day), "one run at a time");
        let step = loop {
            let running = analyzer.progress().running.expect("under way");
            assert_eq!(running.as_of, day);
            if running.step == Some(AnalysisStep::Store) {
                break running.step;
            }
            tokio::task::yield_now().await;
        };
        assert_eq!(step, Some(AnalysisStep::Store));
        go_tx.send(Ok(42)).unwrap();
        let last = loop {
            let progress = analyzer.progress();
            if progress.running.is_none() {
                break progress.last.expect("an ending").1;
            }
            tokio::task::yield_now().await;
        };
        assert_eq!(last, Ok(42));

        // The next run fails; waiting for it (the API's and the schedule's way) gives the
        // error, and the progress keeps it.
        go_tx.send(Err(anyhow::anyhow!("disk full"))).unwrap();
        let error = analyzer.run(day).await.unwrap_err();
        assert_eq!(error.to_string(), "disk full");
        let progress = analyzer.progress();
        assert!(progress.running.is_none());
        assert_eq!(progress.last.unwrap().1, Err("disk full".to_owned()));
    }
}
