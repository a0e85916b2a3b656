//! HS256 access tokens. The algorithm is pinned (a token that says `alg: none` or `RS256` is
//! refused), and expiry, not-before (when present) and audience are always checked.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

/// The audience every Gavel token is issued for.
pub const AUDIENCE: &str = "gavel";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May read and reload the policy.
    Admin,
    /// A signed-in user (auction roles are per auction).
    User,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
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

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Mints a token for `sub` with `role`, valid for `ttl`.
    pub fn mint(&self, sub: &str, role: Role, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
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
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                    AuthError::BadSignature
                }
                _ => AuthError::Malformed,
            })
    }

    /// Verifies a token and requires the admin role.
    pub fn verify_admin(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.verify(token)?;
        if claims.role != Role::Admin {
            return Err(AuthError::NotAdmin);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn round_trip_and_refusals() {
        let k = keys();
        let t = k.mint("ann", Role::Admin, Duration::from_secs(60));
        assert_eq!(k.verify(&t).unwrap().sub, "ann");
        assert!(k.verify_admin(&t).is_ok());
        let user = k.mint("bob", Role::User, Duration::from_secs(60));
        assert_eq!(k.verify_admin(&user), Err(AuthError::NotAdmin));
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&t), Err(AuthError::BadSignature));
        assert_eq!(k.verify("not.a.jwt"), Err(AuthError::Malformed));
        assert_eq!(k.verify(""), Err(AuthError::Missing));
    }

    #[test]
    fn expired_wrong_audience_and_alg_none_are_refused() {
        let k = keys();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let enc = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let claims = |aud: &str, exp: u64| Claims {
            sub: "x".into(),
            role: Role::Admin,
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
        let k = keys();
        let enc = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let with_nbf = |nbf: u64| {
            let claims = serde_json::json!({
                "sub": "x", "role": "user", "aud": AUDIENCE, "iat": now, "exp": now + 3600, "nbf": nbf,
            });
            jsonwebtoken::encode(&Header::default(), &claims, &enc).unwrap()
        };
        assert_eq!(k.verify(&with_nbf(now + 600)), Err(AuthError::NotYetValid));
        // Within the 5 s leeway for clocks that differ a little, and in the past: valid.
        assert!(k.verify(&with_nbf(now + 2)).is_ok());
        assert!(k.verify(&with_nbf(now - 60)).is_ok());
    }
}
