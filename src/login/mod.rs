//! Passwordless login: a one-time link by mail, exchanged for a short-lived JWT access token
//! and a refresh token that rotates on every use (a replayed one revokes its family: see
//! `refresh`).
//!
//! The link points at the frontend (`redirect`), which must be an origin the active policy
//! allows by an explicit rule — the same decision the gate makes, decided on the redirect's
//! origin alone — so a login can never hand a token to an origin the policy denies (no open
//! redirect), whatever `Host` the requester sends. Requests are rate-limited so that a stranger
//! cannot lock anyone else out (see [`link_limits`]); the answer to a well-formed request is
//! the same whether or not anyone has used that email before.

mod email;
pub mod limits;
pub mod link_limits;
mod mailer;
mod refresh;
pub mod secret;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};

pub use email::Email;
use link_limits::LinkLimits;
pub use mailer::{DevOutbox, Mail, MailError, Mailer, SmtpMailer};

use crate::auth::{AccountRole, JwtKeys};
use crate::clock::SharedClock;
use crate::db::entities::login_tokens;
use gavel_policy::{ConnScheme, Policy, PolicyStore, RequestFacts, Surface};

pub const LINK_TTL: Duration = Duration::from_secs(15 * 60);
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("{0}")]
    InvalidEmail(String),
    #[error("{0}")]
    InvalidRedirect(String),
    #[error("the redirect origin {origin} is not allowed by the policy: {detail}")]
    RedirectDenied { origin: String, detail: String },
    #[error("too many login requests; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("the token is unknown, used or expired")]
    InvalidToken,
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// What a successful login or refresh hands out.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub sub: String,
}

/// Where a login request came from, for the policy decision and the per-address limit.
pub struct Requester<'a> {
    pub headers: &'a HeaderMap,
    pub peer: IpAddr,
}

pub struct LoginService {
    db: DatabaseConnection,
    keys: JwtKeys,
    mailer: Arc<dyn Mailer>,
    policy: Arc<PolicyStore>,
    limits: LinkLimits,
    /// Link and refresh token expiry are on this clock.
    clock: SharedClock,
}

/// A login redirect: an http(s) URL without credentials and without a `token` parameter.
fn redirect_link(redirect: &str) -> Result<url::Url, LoginError> {
    let link = url::Url::parse(redirect)
        .map_err(|e| LoginError::InvalidRedirect(format!("redirect: {e}")))?;
    if !matches!(link.scheme(), "http" | "https")
        || !link.username().is_empty()
        || link.password().is_some()
        || link.host().is_none()
    {
        return Err(LoginError::InvalidRedirect(
            "redirect must be an http(s) URL without credentials".into(),
        ));
    }
    if link.query_pairs().any(|(k, _)| k == "token") {
        // The page reads the first `token`: a planted one would sign the user in as someone
        // else.
        return Err(LoginError::InvalidRedirect(
            "redirect must not carry a `token` parameter".into(),
        ));
    }
    Ok(link)
}

/// The same decision the gate makes, for a request from the redirect's origin — with only the
/// `Origin` header: `Host` and forwarding headers come from whoever asks for the link, so a
/// `same_origin` rule must not be able to approve an origin they name. Only the policy's
/// explicit allow rules approve a login redirect.
fn approve_redirect(policy: &Policy, link: &url::Url, peer: IpAddr) -> Result<(), LoginError> {
    let origin = link.origin().ascii_serialization();
    let mut origin_only = HeaderMap::new();
    origin_only.insert(
        http::header::ORIGIN,
        HeaderValue::from_str(&origin).map_err(|e| LoginError::InvalidRedirect(e.to_string()))?,
    );
    let decision = policy.decide(&RequestFacts {
        headers: &origin_only,
        peer,
        scheme: ConnScheme::Http,
        surface: Surface::Http,
        path: "/api/auth/magic-link",
    });
    if decision.is_allowed() {
        return Ok(());
    }
    tracing::warn!(%origin, reason = ?decision.reason(), "login link refused: redirect origin denied");
    Err(LoginError::RedirectDenied {
        origin,
        detail: decision.summary(),
    })
}

/// The client's address as the trusted proxies report it (the peer without them).
fn client_address(policy: &Policy, from: &Requester<'_>) -> String {
    let (_, proxy) = policy.trusted_proxies().public_origin(&RequestFacts {
        headers: from.headers,
        peer: from.peer,
        scheme: ConnScheme::Http,
        surface: Surface::Http,
        path: "/api/auth/magic-link",
    });
    proxy.client.unwrap_or_else(|| from.peer.to_string())
}

impl LoginService {
    /// `shared_limits`: the Redis store when several processes serve logins, so the rate
    /// limits hold across them; `None` keeps them in this process.
    pub fn new(
        db: DatabaseConnection,
        keys: JwtKeys,
        mailer: Arc<dyn Mailer>,
        policy: Arc<PolicyStore>,
        shared_limits: Option<limits::SharedStore>,
        clock: SharedClock,
    ) -> Self {
        Self {
            db,
            keys,
            mailer,
            policy,
            limits: LinkLimits::new(shared_limits),
            clock,
        }
    }

    pub fn mailer(&self) -> &Arc<dyn Mailer> {
        &self.mailer
    }

    /// Sends a login link for `email` that leads to `redirect` (with `?token=…`): the redirect
    /// must be a plain http(s) URL whose origin the policy's allow rules approve, and the
    /// email and the client's address within their rate limits.
    pub async fn request_link(
        &self,
        email: &str,
        redirect: &str,
        from: Requester<'_>,
    ) -> Result<(), LoginError> {
        let email = Email::parse(email).map_err(LoginError::InvalidEmail)?;
        let mut link = redirect_link(redirect)?;
        let policy = self.policy.current();
        approve_redirect(&policy, &link, from.peer)?;
        let client = client_address(&policy, &from);
        if let Err((limit, wait)) = self.limits.check(email.as_str(), &client).await {
            let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
            tracing::debug!(%client, limit, retry_after, "login link refused: rate limited");
            return Err(LoginError::RateLimited { retry_after });
        }

        let token = secret::generate();
        let now = self.clock.now_ms();
        login_tokens::Entity::insert(login_tokens::ActiveModel {
            token_hash: Set(secret::hash(&token)),
            email: Set(email.to_string()),
            redirect: Set(link.to_string()),
            expires_at: Set((now + LINK_TTL.as_millis() as u64) as i64),
            ..Default::default()
        })
        .exec(&self.db)
        .await?;
        link.query_pairs_mut().append_pair("token", &token);
        self.mailer
            .send(Mail {
                to: email.to_string(),
                subject: "Your Gavel login link".into(),
                body: format!(
                    "Open this link within 15 minutes to sign in to Gavel:\n\n{link}\n\n\
                     If you did not ask for it, ignore this mail."
                ),
                link: link.to_string(),
            })
            .await?;
        Ok(())
    }

    /// Exchanges a login link's token (once, before it expires) for tokens.
    pub async fn exchange(&self, token: &str) -> Result<Tokens, LoginError> {
        let hash = secret::hash(token);
        let now = self.clock.now_ms() as i64;
        // One conditional update: of two concurrent exchanges, one wins.
        let used = login_tokens::Entity::update_many()
            .col_expr(login_tokens::Column::UsedAt, Expr::value(now))
            .filter(login_tokens::Column::TokenHash.eq(&hash))
            .filter(login_tokens::Column::UsedAt.is_null())
            .filter(login_tokens::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        if used.rows_affected != 1 {
            return Err(LoginError::InvalidToken);
        }
        let row = login_tokens::Entity::find()
            .filter(login_tokens::Column::TokenHash.eq(&hash))
            .one(&self.db)
            .await?
            .ok_or(LoginError::InvalidToken)?;
        self.issue(&row.email, &refresh::new_family()).await
    }

    /// Exchanges a refresh token (once) for a new pair of the same family; a token presented
    /// again after that revokes the family (RFC 9700 §4.14; see `login/refresh.rs`).
    pub async fn refresh(&self, token: &str) -> Result<Tokens, LoginError> {
        let rotated = refresh::rotate(&self.db, token, self.clock.now_ms()).await?;
        self.issue(&rotated.sub, &rotated.family).await
    }

    /// Signs out: revokes `token`'s family. An unknown token changes nothing and is not an
    /// error (the answer must not tell a guesser which tokens exist).
    pub async fn logout(&self, token: &str) -> Result<(), LoginError> {
        refresh::sign_out(&self.db, token, self.clock.now_ms()).await?;
        Ok(())
    }

    async fn issue(&self, sub: &str, family: &str) -> Result<Tokens, LoginError> {
        let refresh = refresh::issue(&self.db, sub, family, self.clock.now_ms()).await?;
        Ok(Tokens {
            access_token: self.keys.mint(sub, AccountRole::User, ACCESS_TTL),
            refresh_token: refresh,
            expires_in: ACCESS_TTL.as_secs(),
            sub: sub.to_owned(),
        })
    }
}
