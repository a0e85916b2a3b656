//! Bearer tokens for the API.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::{Claims, JwtKeys};

/// A JWT access token (`Authorization: Bearer …`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_token")]
pub struct BearerAuth(pub Claims);

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<Claims> {
    let keys = req
        .data::<JwtKeys>()
        .expect("JwtKeys is installed as request data");
    let claims = keys.verify(&bearer.token).map_err(|e| {
        poem::Error::from_string(e.to_string(), poem::http::StatusCode::UNAUTHORIZED)
    })?;
    // The request's span (telemetry::request_span) names who asked from here on.
    tracing::Span::current().record("member", claims.sub.as_str());
    Ok(claims)
}
