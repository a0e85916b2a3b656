//! What members are called. A member's `sub` is their email: the commissioner sees it, other
//! members see a name instead — the display name the member chose, or else one their role
//! gives them (a manager's team's name, `Spectator`, `Commissioner`).

use super::requests::{Member, MemberRole};
use super::{Auction, Team};

/// The most characters of a display name (after trimming).
pub const MAX_DISPLAY_NAME_CHARS: usize = 40;

/// A display name: trimmed, 1 to [`MAX_DISPLAY_NAME_CHARS`] characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_DISPLAY_NAME_CHARS {
            return Err("a display name has 1 to 40 characters (after trimming)");
        }
        if text.chars().any(char::is_control) {
            return Err("a display name has no control characters");
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `display_name`, else the name `member`'s role gives them. A commissioner is `Commissioner`
/// even while managing a team: the role is what the room needs to recognise.
pub fn effective_name(display_name: Option<&str>, member: &Member, teams: &[Team]) -> String {
    if let Some(name) = display_name {
        return name.to_owned();
    }
    match member.role {
        MemberRole::Commissioner => "Commissioner".to_owned(),
        MemberRole::Spectator => "Spectator".to_owned(),
        MemberRole::Manager => member
            .team
            .and_then(|t| teams.get(t.index()))
            .map_or_else(|| "Manager".to_owned(), |t| t.name.clone()),
    }
}

/// A member with the name others see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedMember {
    pub sub: String,
    pub member: Member,
    pub name: String,
}

impl NamedMember {
    /// From a `members` row, in `auction`.
    pub(crate) fn of(row: &crate::db::entities::members::Model, auction: &Auction) -> Self {
        let member = Member::from_row(&row.role, row.team);
        Self {
            name: effective_name(row.display_name.as_deref(), &member, &auction.teams),
            sub: row.sub.clone(),
            member,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::TeamId;

    #[test]
    fn display_names_are_trimmed_bounded_and_printable() {
        assert_eq!(DisplayName::parse("  Ann  ").unwrap().as_str(), "Ann");
        assert!(DisplayName::parse(&"é".repeat(40)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(41)).is_err());
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("An\u{7}n").is_err());
        assert!(DisplayName::parse("Ann\nBob").is_err());
    }

    #[test]
    fn without_a_display_name_the_role_names_the_member() {
        let teams = [Team {
            name: "Sharks".into(),
            budget_left: 1,
            roster: vec![],
        }];
        let manager = Member {
            role: MemberRole::Manager,
            team: Some(TeamId(0)),
        };
        assert_eq!(effective_name(None, &manager, &teams), "Sharks");
        assert_eq!(effective_name(Some("Ann"), &manager, &teams), "Ann");
        let commissioner = Member {
            role: MemberRole::Commissioner,
            team: Some(TeamId(0)),
        };
        assert_eq!(effective_name(None, &commissioner, &teams), "Commissioner");
        let spectator = Member {
            role: MemberRole::Spectator,
            team: None,
        };
        assert_eq!(effective_name(None, &spectator, &teams), "Spectator");
    }
}
