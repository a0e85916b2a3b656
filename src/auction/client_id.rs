//! The id a client gives a command so that a retry gets the first answer (`client_bid_id` in a
//! bid, or the `Idempotency-Key` header over REST). Parsed once at the edge, whatever the
//! transport; the store only ever sees a [`ClientId`], so nothing longer or stranger reaches
//! the database.

use serde::{Deserialize, Serialize};

/// 1 to [`ClientId::MAX_BYTES`] visible ASCII characters (`!` to `~`: UUIDs, ULIDs, base64 and
/// the like; no spaces or control characters, so that an id logs, prints and fits a header as it
/// is).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    #[error("a client id is empty; send 1 to 200 visible ASCII characters or none")]
    Empty,
    // The input is never quoted: only its size, so an error about 1 MiB stays short.
    #[error("a client id is at most 200 bytes; this one has {0}")]
    TooLong(usize),
    #[error(
        "a client id is visible ASCII (`!` to `~`); byte {0} is a space, a control character or not ASCII"
    )]
    NotVisibleAscii(usize),
}

impl ClientId {
    /// The most bytes a client id has: REST and Socket.IO share it.
    pub const MAX_BYTES: usize = 200;
    /// The same rule as a regular expression, as the OpenAPI document states it.
    pub const PATTERN: &'static str = "^[!-~]{1,200}$";

    pub fn parse(text: &str) -> Result<Self, ClientIdError> {
        if text.is_empty() {
            return Err(ClientIdError::Empty);
        }
        if text.len() > Self::MAX_BYTES {
            return Err(ClientIdError::TooLong(text.len()));
        }
        if let Some(at) = text.bytes().position(|b| !b.is_ascii_graphic()) {
            return Err(ClientIdError::NotVisibleAscii(at + 1));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = ClientIdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_within_the_rule_parse() {
        for ok in [
            "k",
            "bob-7",
            "0c8f6a2e-9a3b-4b8e-8f6e-2f1d4c5b6a7e",
            &"x".repeat(200),
        ] {
            assert_eq!(ClientId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn ids_outside_it_are_refused_without_quoting_them() {
        assert_eq!(ClientId::parse(""), Err(ClientIdError::Empty));
        let long = "y".repeat(1 << 20);
        let e = ClientId::parse(&long).unwrap_err();
        assert_eq!(e, ClientIdError::TooLong(1 << 20));
        assert!(!e.to_string().contains("yy"), "{e}");
        assert_eq!(
            ClientId::parse("a b"),
            Err(ClientIdError::NotVisibleAscii(2))
        );
        assert_eq!(ClientId::parse("é"), Err(ClientIdError::NotVisibleAscii(1)));
        assert_eq!(
            ClientId::parse("a\u{7f}"),
            Err(ClientIdError::NotVisibleAscii(2))
        );
    }

    #[test]
    fn the_documented_pattern_is_the_rule() {
        let pattern = regex::Regex::new(ClientId::PATTERN).unwrap();
        let long = "x".repeat(201);
        for text in ["k", "bob-7", "", "a b", "é", "tab\t", &long[..200], &long] {
            assert_eq!(
                pattern.is_match(text),
                ClientId::parse(text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn serde_goes_through_parse() {
        let id: ClientId = serde_json::from_str("\"k-1\"").unwrap();
        assert_eq!(id.as_str(), "k-1");
        let e = serde_json::from_str::<ClientId>(&format!("\"{}\"", "z".repeat(201))).unwrap_err();
        assert!(e.to_string().contains("at most 200 bytes"), "{e}");
    }
}
