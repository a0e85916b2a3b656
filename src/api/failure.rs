//! The error answers the auction endpoints share, each `application/problem+json` with a
//! stable `type`.

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use super::problem::Problem;
use crate::auction::requests::RequestError;

// `Unauthorized` and `UnsupportedMediaType` are built by poem-openapi itself (the bearer
// scheme and the body extractor); they are here to document those answers.
#[derive(ApiResponse, Debug)]
#[allow(dead_code)]
pub enum Failure {
    /// The request is malformed or breaks a documented limit.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Missing, expired or invalid bearer token (answered by the security scheme before the
    /// handler runs).
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// Not a member of the auction, or not in a role that may do this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Refused by the auction rules: `type` is `/problems/<kind>` (`outbid`, `stale`,
    /// `over_max_bid`, `lot_closed`, `not_your_turn`, …), or a conflict with what exists
    /// (`conflict`: already a member, the team has a manager).
    #[oai(status = 409, content_type = "application/problem+json")]
    Rejected(Json<Problem>),
    /// The body is not in a content type the operation accepts (answered before the handler).
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// The request body is over this route's size limit (answered before it is read).
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),
    /// The database failed; nothing changed. Retry (with the same client id for a bid).
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

pub fn bad_request(kind: &str, detail: &str) -> Failure {
    Failure::BadRequest(Problem::new(StatusCode::BAD_REQUEST, kind, detail).json())
}

impl From<RequestError> for Failure {
    fn from(e: RequestError) -> Self {
        let problem = |title: &str, status: u16| {
            let status = StatusCode::from_u16(status).expect("a status of this table");
            Problem::new(status, e.kind(), e.to_string())
                .titled(title)
                .json()
        };
        match &e {
            RequestError::NotFound => Failure::NotFound(problem("Not found", 404)),
            RequestError::Forbidden(_) => Failure::Forbidden(problem("Forbidden", 403)),
            RequestError::Invalid(_) => Failure::BadRequest(problem("Bad request", 400)),
            RequestError::Conflict(_) => Failure::Rejected(problem("Conflict", 409)),
            RequestError::Rejected(_) => {
                Failure::Rejected(problem("Refused by the auction rules", 409))
            }
            RequestError::Unavailable(cause) => {
                tracing::error!(error = %cause, "auction store failed");
                Failure::Unavailable(problem("Try again", 503))
            }
        }
    }
}
