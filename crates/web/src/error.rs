//! One error type for every handler. `/api/v1` answers with
//! `{"error": {"code": "...", "message": "..."}}`; pages get the same status with an HTML
//! page in the user's language (rendered by `lib::request_context`), and a page that needs
//! a signed-in user redirects to `/login`.
//!
//! A 5xx is logged once, here, with its cause chain and an id; the user sees only the id.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sign in first (a session cookie or an Authorization: Bearer token)")]
    Unauthorized,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("missing or wrong CSRF token: reload the page, or send the X-CSRF-Token header")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many failed sign-ins from this address; wait a minute")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<winback_store::Error> for Error {
    fn from(error: winback_store::Error) -> Self {
        match error {
            winback_store::Error::NotFound => Error::NotFound,
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<askama::Error> for Error {
    fn from(error: askama::Error) -> Self {
        Error::Internal(anyhow::Error::new(error).context("while rendering a template"))
    }
}

/// Marks an error response so that the page layer can render it in the user's language.
#[derive(Debug, Clone)]
pub struct ErrorMark {
    pub code: &'static str,
    /// The id a 5xx was logged under.
    pub id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `unauthorized`, `forbidden`, `not_found`, `csrf`,
    /// `bad_request`, `too_many_requests`, `internal`.
    pub code: String,
    pub message: String,
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden | Error::Csrf => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized => "unauthorized",
            Error::Forbidden => "forbidden",
            Error::NotFound => "not_found",
            Error::Csrf => "csrf",
            Error::BadRequest(_) => "bad_request",
            Error::TooManyRequests => "too_many_requests",
            Error::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (message, id) = match &self {
            Error::Internal(error) => {
                let id = crate::auth::random_token()[..12].to_owned();
                tracing::error!(error.id = %id, error.cause_chain = ?error, "request failed");
                (
                    format!("an unexpected error happened; it was logged with id {id}"),
                    Some(id),
                )
            }
            other => (other.to_string(), None),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        response.extensions_mut().insert(ErrorMark {
            code: self.code(),
            id,
        });
        response
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
