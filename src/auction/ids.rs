//! The ids of an auction's teams and players: positions in its lists (teams in nomination
//! order, players in the order they joined the pool). Distinct types, so that a team is never
//! passed where a player is meant; on the wire and in stored state they are plain numbers.

use serde::{Deserialize, Serialize};

/// A team: its position among the auction's teams (nomination order).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    poem_openapi::NewType,
)]
#[serde(transparent)]
#[oai(from_parameter = false, from_multipart = false, to_header = false)]
pub struct TeamId(pub usize);

/// A player: its position in the auction's list of players.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    poem_openapi::NewType,
)]
#[serde(transparent)]
#[oai(from_parameter = false, from_multipart = false, to_header = false)]
pub struct PlayerId(pub usize);

impl TeamId {
    /// Its position in the auction's teams.
    pub fn index(self) -> usize {
        self.0
    }

    /// The team after this one in nomination order (wrapping is the caller's).
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl PlayerId {
    /// Its position in the auction's players.
    pub fn index(self) -> usize {
        self.0
    }
}

impl std::fmt::Display for TeamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for PlayerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_numbers_on_the_wire() {
        assert_eq!(serde_json::to_string(&TeamId(3)).unwrap(), "3");
        assert_eq!(serde_json::from_str::<PlayerId>("7").unwrap(), PlayerId(7));
        assert_eq!(
            serde_json::to_string(&vec![(PlayerId(1), 5u32)]).unwrap(),
            "[[1,5]]"
        );
    }
}
