//! `/api/auth/*` and `/api/me`: magic-link login, token refresh, sign-out, who am I. Thin: the
//! login service decides.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use poem::Request;
use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::members::{MemberBody, member_body};
use super::problem::Problem;
use super::security::BearerAuth;
use crate::auction::requests::{MemberRequests, RequestError};
use crate::login::{LoginError, LoginService, Requester, Tokens};

pub struct LoginApi {
    /// `None` only while generating the OpenAPI document.
    inner: Option<(Arc<LoginService>, MemberRequests)>,
}

impl LoginApi {
    pub fn new(login: Arc<LoginService>, requests: MemberRequests) -> Self {
        Self {
            inner: Some((login, requests)),
        }
    }

    pub fn for_document() -> Self {
        Self { inner: None }
    }

    fn login(&self) -> &LoginService {
        &self.inner.as_ref().expect("a serving LoginApi").0
    }

    fn requests(&self) -> &MemberRequests {
        &self.inner.as_ref().expect("a serving LoginApi").1
    }
}

#[derive(Object)]
pub struct LinkRequest {
    #[oai(validator(max_length = 254))]
    pub email: String,
    /// Where the link leads (the frontend), `?token=…` appended. Its origin must be one the
    /// active origin policy allows.
    #[oai(validator(max_length = 2048))]
    pub redirect: String,
}

#[derive(Object)]
pub struct LinkSent {
    /// Always `sent`: the answer does not say whether the email was known.
    pub status: String,
    /// Seconds the link works.
    pub expires_in: u64,
}

#[derive(Object)]
pub struct TokenExchange {
    /// The `token` from the login link.
    #[oai(validator(max_length = 200))]
    pub token: String,
}

#[derive(Object)]
pub struct RefreshRequest {
    #[oai(validator(max_length = 200))]
    pub refresh_token: String,
}

#[derive(Object)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer …` and the Socket.IO handshake `auth.token`.
    pub access_token: String,
    /// Works once, for a new pair, within 30 days.
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds the access token works.
    pub expires_in: u64,
    pub sub: String,
}

#[derive(Object)]
pub struct Me {
    pub sub: String,
    /// `user` or `admin`.
    pub role: String,
    /// The auctions the caller belongs to.
    pub memberships: Vec<Membership>,
}

#[derive(Object)]
pub struct Membership {
    pub auction_id: i64,
    pub auction_name: String,
    /// `lobby`, `nominating`, `bidding`, `paused` or `completed` (as `GET …/{id}`).
    pub phase: String,
    /// The caller in that auction (with their own `sub`).
    #[oai(flatten)]
    pub member: MemberBody,
}

#[derive(ApiResponse)]
#[allow(dead_code)] // `UnsupportedMediaType` is answered before the handler.
pub enum LinkResponse {
    /// The body is not in a content type the operation accepts (answered before the handler).
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// The request body is over this route's size limit (answered before it is read).
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),

    /// Accepted: a link is on its way (when the address can receive mail).
    #[oai(status = 202)]
    Accepted(Json<LinkSent>),
    /// The email or the redirect is malformed, or the policy denies the redirect's origin
    /// (`/problems/redirect_not_allowed`).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Too many requests for this email or from this client.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooMany(Json<Problem>, #[oai(header = "Retry-After")] u64),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // `BadRequest`, `UnsupportedMediaType`: the body extractor answers those.
pub enum TokenResponse {
    /// The body is not a valid request.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// The body is not in a content type the operation accepts (answered before the handler).
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// The request body is over this route's size limit (answered before it is read).
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),

    #[oai(status = 200)]
    Ok(Json<TokenPair>),
    /// The token is unknown, already used or expired.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // `BadRequest`, `UnsupportedMediaType`: the body extractor answers those.
pub enum LogoutResponse {
    /// The body is not a valid request.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// The body is not in a content type the operation accepts (answered before the handler).
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// The request body is over this route's size limit (answered before it is read).
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),

    /// Signed out: the token's family is revoked (or the token was unknown: nothing to do).
    #[oai(status = 204)]
    SignedOut,
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // `Unauthorized` documents the bearer scheme's answer.
pub enum MeResponse {
    /// Missing, expired or invalid bearer token (answered by the security scheme before the
    /// handler runs).
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),

    #[oai(status = 200)]
    Ok(Json<Me>),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

/// The cause goes to the log; the client learns only that nothing happened.
fn unavailable(e: &dyn std::fmt::Display) -> Json<Problem> {
    tracing::error!(error = %e, "login failed");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the service is unavailable; nothing was changed",
    )
    .titled("Try again")
    .json()
}

fn token_response(result: Result<Tokens, LoginError>) -> TokenResponse {
    match result {
        Ok(t) => TokenResponse::Ok(Json(TokenPair {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer".into(),
            expires_in: t.expires_in,
            sub: t.sub,
        })),
        Err(e @ LoginError::InvalidToken) => TokenResponse::Unauthorized(
            Problem::new(StatusCode::UNAUTHORIZED, "invalid_token", e.to_string()).json(),
        ),
        Err(e) => TokenResponse::Unavailable(unavailable(&e)),
    }
}

#[OpenApi(tag = "ApiTags::Login")]
impl LoginApi {
    /// Ask for a login link by mail.
    #[oai(
        path = "/auth/magic-link",
        method = "post",
        operation_id = "requestLoginLink"
    )]
    async fn magic_link(&self, req: &Request, body: Json<LinkRequest>) -> LinkResponse {
        let peer = req
            .remote_addr()
            .as_socket_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let from = Requester {
            headers: req.headers(),
            peer,
        };
        let bad = |kind: &str, e: &LoginError| {
            LinkResponse::BadRequest(
                Problem::new(StatusCode::BAD_REQUEST, kind, e.to_string()).json(),
            )
        };
        match self
            .login()
            .request_link(&body.email, &body.redirect, from)
            .await
        {
            Ok(()) => LinkResponse::Accepted(Json(LinkSent {
                status: "sent".into(),
                expires_in: crate::login::LINK_TTL.as_secs(),
            })),
            Err(e @ LoginError::InvalidEmail(_)) => bad("invalid_email", &e),
            Err(e @ LoginError::InvalidRedirect(_)) => bad("invalid_redirect", &e),
            Err(e @ LoginError::RedirectDenied { .. }) => bad("redirect_not_allowed", &e),
            Err(e @ LoginError::RateLimited { retry_after }) => LinkResponse::TooMany(
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string()).json(),
                retry_after,
            ),
            Err(e) => LinkResponse::Unavailable(unavailable(&e)),
        }
    }

    /// Exchange a login link's token (once, within 15 minutes) for an access and a refresh token.
    #[oai(
        path = "/auth/token",
        method = "post",
        operation_id = "exchangeLoginToken"
    )]
    async fn token(&self, body: Json<TokenExchange>) -> TokenResponse {
        token_response(self.login().exchange(&body.token).await)
    }

    /// Exchange a refresh token (once) for a new pair.
    #[oai(
        path = "/auth/refresh",
        method = "post",
        operation_id = "refreshTokens"
    )]
    async fn refresh(&self, body: Json<RefreshRequest>) -> TokenResponse {
        token_response(self.login().refresh(&body.refresh_token).await)
    }

    /// Sign out: revoke the refresh token and every token of its login (its family), so none
    /// of them can be refreshed again. Answered 204 whether or not the token was known; needs no
    /// bearer. An access token already issued works until it expires (15 minutes at most).
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, body: Json<RefreshRequest>) -> LogoutResponse {
        match self.login().logout(&body.refresh_token).await {
            Ok(()) => LogoutResponse::SignedOut,
            Err(e) => LogoutResponse::Unavailable(unavailable(&e)),
        }
    }

    /// Who the bearer is, and the auctions they belong to (with each one's name and phase).
    #[oai(path = "/me", method = "get", operation_id = "getMe")]
    async fn me(&self, auth: BearerAuth) -> MeResponse {
        match self.requests().memberships(&auth.0.sub).await {
            Ok(list) => MeResponse::Ok(Json(Me {
                role: format!("{:?}", auth.0.role).to_lowercase(),
                memberships: list
                    .into_iter()
                    .map(|m| Membership {
                        auction_id: m.auction_id,
                        auction_name: m.auction_name,
                        phase: super::auctions::phase_name(&m.phase).to_owned(),
                        member: member_body(m.member, true),
                    })
                    .collect(),
                sub: auth.0.sub,
            })),
            Err(RequestError::Unavailable(e)) => MeResponse::Unavailable(unavailable(&e)),
            Err(e) => MeResponse::Unavailable(unavailable(&e)),
        }
    }
}
