//! `/api/admin/policy`: status, explain, reload (role `admin`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::problem::Problem;
use super::security::BearerAuth;
use crate::auth::AccountRole;
use crate::reload::Reloader;
use gavel_policy::{
    ConnScheme, DEFAULT_PEER, PolicyError, ReloadOutcome, RequestFacts, Surface, header,
};

pub struct AdminApi {
    /// `None` only while generating the OpenAPI document (`gavel openapi`).
    reloader: Option<Arc<Reloader>>,
}

impl AdminApi {
    pub fn new(reloader: Arc<Reloader>) -> Self {
        Self {
            reloader: Some(reloader),
        }
    }

    /// An instance that only describes the API.
    pub fn for_document() -> Self {
        Self { reloader: None }
    }

    fn reloader(&self) -> &Arc<Reloader> {
        self.reloader
            .as_ref()
            .expect("a serving AdminApi has a reloader")
    }
}

/// The active policy and the reload history, like OPA's status.
#[derive(Object)]
pub struct PolicyStatus {
    /// `counter-hash`, e.g. `3-1db5841628f5`.
    pub version: String,
    pub sha256: String,
    /// The policy file.
    pub source: String,
    /// `enforce` or `report-only`.
    pub mode: String,
    pub rules: u32,
    /// When the active policy was activated (RFC 3339).
    pub loaded_at: String,
    /// The same instant: the last successful activation.
    pub last_successful_reload: String,
    pub activations: u64,
    pub failures: u64,
    pub last_error: Option<ReloadError>,
    /// Warnings of the active policy, `file:line:col: …`.
    pub warnings: Vec<String>,
}

#[derive(Object)]
pub struct ReloadError {
    pub at: String,
    pub message: String,
    pub diagnostics: Vec<String>,
}

/// The request whose decision to explain. Omitted fields: no Origin, surface `http`,
/// peer `192.0.2.1`, no Host, scheme `http`.
#[derive(Object, Default)]
pub struct ExplainRequest {
    pub origin: Option<String>,
    pub surface: Option<String>,
    pub peer: Option<String>,
    pub host: Option<String>,
    pub scheme: Option<String>,
    #[oai(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Object)]
pub struct ReloadResult {
    /// `activated` or `unchanged`.
    pub outcome: String,
    pub version: String,
}

#[derive(ApiResponse)]
#[allow(dead_code)] // `Unauthorized` documents the bearer scheme's answer.
pub enum StatusResponse {
    /// Missing, expired or invalid bearer token (answered by the security scheme before the
    /// handler runs).
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    #[oai(status = 200)]
    Ok(Json<PolicyStatus>),
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // `Unauthorized`, `UnsupportedMediaType`: answered before the handler.
pub enum ExplainResponse {
    /// Missing, expired or invalid bearer token (answered by the security scheme before the
    /// handler runs).
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// The body is not in a content type the operation accepts (answered before the handler).
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// The request body is over this route's size limit (answered before it is read).
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),

    /// The decision, as `gavel policy explain --format json` prints it.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // `Unauthorized` documents the bearer scheme's answer.
pub enum ReloadResponse {
    /// Missing, expired or invalid bearer token (answered by the security scheme before the
    /// handler runs).
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),

    #[oai(status = 200)]
    Ok(Json<ReloadResult>),
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// The file was refused; the last good policy stays active.
    #[oai(status = 422, content_type = "application/problem+json")]
    Refused(Json<Problem>),
}

fn forbidden() -> Json<Problem> {
    Problem::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "this needs the admin role",
    )
    .json()
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

fn diagnostics(e: &PolicyError) -> Vec<String> {
    e.diagnostics().iter().map(ToString::to_string).collect()
}

#[OpenApi(prefix_path = "/admin", tag = "ApiTags::Admin")]
impl AdminApi {
    /// The active policy: version, hash, source, when it was loaded, the last reload error.
    #[oai(path = "/policy", method = "get", operation_id = "getPolicy")]
    async fn policy(&self, auth: BearerAuth) -> StatusResponse {
        if auth.0.role != AccountRole::Admin {
            return StatusResponse::Forbidden(forbidden());
        }
        let gate = self.reloader().gate();
        let status = gate.store.status();
        let policy = gate.store.current();
        StatusResponse::Ok(Json(PolicyStatus {
            version: status.version,
            sha256: status.sha256,
            source: status.source.display().to_string(),
            mode: policy.mode().as_str().to_owned(),
            rules: policy.rules().count() as u32,
            loaded_at: rfc3339(status.activated_at),
            last_successful_reload: rfc3339(status.activated_at),
            activations: status.activations,
            failures: status.failures,
            last_error: status.last_error.map(|f| ReloadError {
                at: rfc3339(f.at),
                message: f.error.to_string(),
                diagnostics: diagnostics(&f.error),
            }),
            warnings: policy
                .diagnostics()
                .iter()
                .map(ToString::to_string)
                .collect(),
        }))
    }

    /// The decision the active policy gives a described request.
    #[oai(
        path = "/policy/explain",
        method = "post",
        operation_id = "explainPolicy"
    )]
    async fn explain(&self, auth: BearerAuth, body: Json<ExplainRequest>) -> ExplainResponse {
        if auth.0.role != AccountRole::Admin {
            return ExplainResponse::Forbidden(forbidden());
        }
        let bad = |detail: String| {
            ExplainResponse::BadRequest(
                Problem::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
                    .titled("Invalid request description")
                    .json(),
            )
        };
        let req = body.0;
        let surface: Surface = match req.surface.as_deref().unwrap_or("http").parse() {
            Ok(s) => s,
            Err(e) => return bad(e),
        };
        let scheme: ConnScheme = match req.scheme.as_deref().unwrap_or("http").parse() {
            Ok(s) => s,
            Err(e) => return bad(e),
        };
        let peer_text = req.peer.as_deref().unwrap_or(DEFAULT_PEER);
        let Ok(peer) = peer_text.parse() else {
            return bad(format!("`{peer_text}` is not an IP address"));
        };
        let mut headers = http::HeaderMap::new();
        let pairs = req
            .origin
            .iter()
            .map(|o| ("origin", o.as_str()))
            .chain(req.host.iter().map(|h| ("host", h.as_str())))
            .chain(req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for (name, value) in pairs {
            match header(name, value) {
                Ok((n, v)) => {
                    headers.append(n, v);
                }
                Err(e) => return bad(e),
            }
        }
        let policy = self.reloader().gate().store.current();
        let decision = policy.explain(&RequestFacts {
            headers: &headers,
            peer,
            scheme,
            surface,
            path: "/",
        });
        ExplainResponse::Ok(Json(decision.to_json()))
    }

    /// Reloads the policy file now. A file that fails any check is refused (422) and the last
    /// good policy stays active.
    #[oai(
        path = "/policy/reload",
        method = "post",
        operation_id = "reloadPolicy"
    )]
    async fn reload(&self, auth: BearerAuth) -> ReloadResponse {
        if auth.0.role != AccountRole::Admin {
            return ReloadResponse::Forbidden(forbidden());
        }
        let reloader = self.reloader().clone();
        let outcome = tokio::task::spawn_blocking(move || reloader.reload("admin-api"))
            .await
            .expect("reload task");
        match outcome {
            Ok(ReloadOutcome::Activated(version)) => ReloadResponse::Ok(Json(ReloadResult {
                outcome: "activated".into(),
                version,
            })),
            Ok(ReloadOutcome::Unchanged(version)) => ReloadResponse::Ok(Json(ReloadResult {
                outcome: "unchanged".into(),
                version,
            })),
            Err(refused) => {
                let detail = if refused.repeated {
                    "the policy file has not changed since it was refused; the last good policy stays active"
                } else {
                    "the policy file was refused; the last good policy stays active"
                };
                let problem =
                    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "policy_refused", detail)
                        .titled("Policy refused")
                        .with_diagnostics(diagnostics(&refused.error));
                ReloadResponse::Refused(problem.json())
            }
        }
    }
}
