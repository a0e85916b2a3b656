//! HS256 access tokens. The algorithm is pinned (a token that says `alg: none` or `RS256` is
//! refused), and expiry, not-before (when present) and audience are always checked — times
//! against the server's [`Clock`](crate::clock::Clock), in the order jsonwebtoken checks them
//! (expiry, not-before, audience), with the same 5 s leeway for clocks that differ a little.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::clock::{SharedClock, SystemClock};

/// The audience every Gavel token is issued for.
pub const AUDIENCE: &str = "gavel";
/// Seconds a token is still taken past its `exp`, and before its `nbf`.
const LEEWAY_SECS: u64 = 5;

/// An account's role, carried in its token (a member's role in one auction is
/// [`crate::auction::requests::MemberRole`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AccountRole {
    /// May read and reload the policy.
    Admin,
    /// A signed-in user (auction roles are per auction).
    User,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: AccountRole,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// Why a token was refused; the message is what clients see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing token")]
    Missing,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid (nbf is in the future)")]
    NotYetValid,
    #[error("token has the wrong audience")]
    WrongAudience,
    #[error("token signature or algorithm is not valid")]
    BadSignature,
    #[error("malformed token")]
    Malformed,
    #[error("this needs the admin role")]
    NotAdmin,
}

/// A token's claims and its optional `nbf`, which [`Claims`] does not keep.
#[derive(Deserialize)]
struct Decoded {
    #[serde(flatten)]
    claims: Claims,
    #[serde(default)]
    nbf: Option<serde_json::Value>,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Signature, algorithm and the claims' presence; times and audience are checked here.
    validation: Validation,
    clock: SharedClock,
}

impl JwtKeys {
    /// Keys on the system clock.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            clock: SystemClock::shared(),
        }
    }

    /// The same keys minting and verifying on `clock`.
    pub fn with_clock(self, clock: SharedClock) -> Self {
        Self { clock, ..self }
    }

    /// The clock tokens are minted and verified on.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    fn now_secs(&self) -> u64 {
        self.clock.now_ms() / 1000
    }

    /// Mints a token for `sub` with `role`, valid for `ttl`.
    pub fn mint(&self, sub: &str, role: AccountRole, ttl: Duration) -> String {
        let now = self.now_secs();
        let claims = Claims {
            sub: sub.to_owned(),
            role,
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let Decoded { claims, nbf } =
            jsonwebtoken::decode::<Decoded>(token, &self.decoding, &self.validation)
                .map(|data| data.claims)
                .map_err(|e| match e.kind() {
                    ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                        AuthError::BadSignature
                    }
                    _ => AuthError::Malformed,
                })?;
        let now = self.now_secs();
        if claims.exp < now.saturating_sub(LEEWAY_SECS) {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = nbf.as_ref().and_then(seconds)
            && nbf > now + LEEWAY_SECS
        {
            return Err(AuthError::NotYetValid);
        }
        if claims.aud != AUDIENCE {
            return Err(AuthError::WrongAudience);
        }
        Ok(claims)
    }

    /// Verifies a token and requires the admin role.
    pub fn verify_admin(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.verify(token)?;
        if claims.role != AccountRole::Admin {
            return Err(AuthError::NotAdmin);
        }
        Ok(claims)
    }
}

/// A NumericDate as jsonwebtoken reads one: whole or fractional seconds (rounded), not
/// negative; anything else is no date (and is not checked).
fn seconds(value: &serde_json::Value) -> Option<u64> {
    let number = value.as_number()?;
    number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    /// Where the test clock starts (ms): any time will do, none is read from the wall.
    const START_MS: u64 = 1_700_000_000_000;

    fn keys_at(clock: &std::sync::Arc<ManualClock>) -> JwtKeys {
        JwtKeys::new(SECRET).with_clock(clock.clone())
    }

    fn keys() -> JwtKeys {
        keys_at(&ManualClock::starting_at(START_MS))
    }

    #[test]
    fn round_trip_and_refusals() {
        let k = keys();
        let t = k.mint("ann", AccountRole::Admin, Duration::from_secs(60));
        assert_eq!(k.verify(&t).unwrap().sub, "ann");
        assert!(k.verify_admin(&t).is_ok());
        let user = k.mint("bob", AccountRole::User, Duration::from_secs(60));
        assert_eq!(k.verify_admin(&user), Err(AuthError::NotAdmin));
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&t), Err(AuthError::BadSignature));
        assert_eq!(k.verify("not.a.jwt"), Err(AuthError::Malformed));
        assert_eq!(k.verify(""), Err(AuthError::Missing));
    }

    #[test]
    fn a_token_expires_at_its_exp_after_the_leeway() {
        let clock = ManualClock::starting_at(START_MS);
        let k = keys_at(&clock);
        let t = k.mint("ann", AccountRole::User, Duration::from_secs(60));
        clock.advance_ms(60_000 + LEEWAY_SECS * 1000);
        assert!(k.verify(&t).is_ok(), "within the leeway");
        clock.advance_ms(1000);
        assert_eq!(k.verify(&t), Err(AuthError::Expired));
    }

    #[test]
    fn expired_wrong_audience_and_alg_none_are_refused() {
        let k = keys();
        let now = k.clock().now_ms() / 1000;
        let enc = EncodingKey::from_secret(SECRET);
        let claims = |aud: &str, exp: u64| Claims {
            sub: "x".into(),
            role: AccountRole::Admin,
            aud: aud.into(),
            iat: now,
            exp,
        };
        let expired =
            jsonwebtoken::encode(&Header::default(), &claims(AUDIENCE, now - 120), &enc).unwrap();
        assert_eq!(k.verify(&expired), Err(AuthError::Expired));
        let wrong =
            jsonwebtoken::encode(&Header::default(), &claims("other", now + 60), &enc).unwrap();
        assert_eq!(k.verify(&wrong), Err(AuthError::WrongAudience));
        // Expired and for another audience: expiry is what is reported, as jsonwebtoken did.
        let both =
            jsonwebtoken::encode(&Header::default(), &claims("other", now - 120), &enc).unwrap();
        assert_eq!(k.verify(&both), Err(AuthError::Expired));
        // alg: none — header {"alg":"none"} with no signature.
        use base64::Engine;
        let encode = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let none = format!(
            "{}.{}.",
            encode(br#"{"alg":"none","typ":"JWT"}"#),
            encode(
                serde_json::to_string(&claims(AUDIENCE, now + 60))
                    .unwrap()
                    .as_bytes()
            )
        );
        assert!(k.verify(&none).is_err());
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(AUDIENCE, now + 60),
            &enc,
        )
        .unwrap();
        assert_eq!(k.verify(&hs512), Err(AuthError::BadSignature));
    }

    #[test]
    fn a_token_not_yet_valid_is_refused_until_its_nbf() {
        let clock = ManualClock::starting_at(START_MS);
        let k = keys_at(&clock);
        let enc = EncodingKey::from_secret(SECRET);
        let now = START_MS / 1000;
        let with_nbf = |nbf: serde_json::Value| {
            let claims = serde_json::json!({
                "sub": "x", "role": "user", "aud": AUDIENCE, "iat": now, "exp": now + 3600, "nbf": nbf,
            });
            jsonwebtoken::encode(&Header::default(), &claims, &enc).unwrap()
        };
        let later = with_nbf((now + 600).into());
        assert_eq!(k.verify(&later), Err(AuthError::NotYetValid));
        // Within the 5 s leeway for clocks that differ a little, and in the past: valid.
        assert!(k.verify(&with_nbf((now + 2).into())).is_ok());
        assert!(k.verify(&with_nbf((now - 60).into())).is_ok());
        // Fractional seconds are rounded; a negative nbf is no date and is not checked.
        assert_eq!(
            k.verify(&with_nbf((now as f64 + 599.6).into())),
            Err(AuthError::NotYetValid)
        );
        assert!(k.verify(&with_nbf((-1).into())).is_ok());
        // Once the clock reaches it (less the leeway), the token is valid.
        clock.advance_ms((600 - LEEWAY_SECS) * 1000);
        assert!(k.verify(&later).is_ok());
    }
}
