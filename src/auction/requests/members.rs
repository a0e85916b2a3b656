//! Who belongs to an auction and what others see of them: invitations, joining, the member
//! list, display names, and the auctions a user belongs to.

use super::{Member, MemberRequests, MemberRole, RequestError};
use crate::auction::names::{DisplayName, NamedMember, effective_name};
use crate::auction::store::StoredAuction;
use crate::auction::{Phase, TeamId};
use crate::db::entities::members;

/// An invitation as created: the code is shown once.
pub struct Invitation {
    pub code: String,
    pub role: MemberRole,
    pub team: Option<TeamId>,
    pub expires_at: u64,
}

/// How long an invitation code works.
pub const INVITATION_TTL_MS: u64 = 7 * 24 * 3600 * 1000;

impl MemberRequests {
    /// The commissioner invites someone to join as `role` (a manager for `team`).
    pub async fn invite(
        &self,
        id: i64,
        sub: &str,
        role: MemberRole,
        team: Option<TeamId>,
    ) -> Result<Invitation, RequestError> {
        if self.member(id, sub).await?.role != MemberRole::Commissioner {
            return Err(RequestError::Forbidden("only the commissioner invites"));
        }
        let (state, _) = self.store.state(id).await?;
        match (role, team) {
            (MemberRole::Manager, Some(t)) if t.index() < state.teams.len() => {}
            (MemberRole::Manager, _) => {
                return Err(RequestError::Invalid(
                    "a manager invitation names one of the auction's teams",
                ));
            }
            (MemberRole::Spectator, None) => {}
            (MemberRole::Spectator, Some(_)) => {
                return Err(RequestError::Invalid("a spectator has no team"));
            }
            (MemberRole::Commissioner, _) => {
                return Err(RequestError::Invalid("an auction has one commissioner"));
            }
        }
        let code = crate::login::secret::generate();
        let expires_at = self.clock.now_ms() + INVITATION_TTL_MS;
        self.store
            .add_invitation(
                id,
                &crate::login::secret::hash(&code),
                role.as_str(),
                team,
                expires_at,
            )
            .await?;
        Ok(Invitation {
            code,
            role,
            team,
            expires_at,
        })
    }

    /// `sub` joins with an invitation code (once), named `display_name` if given.
    pub async fn join(
        &self,
        id: i64,
        sub: &str,
        code: &str,
        display_name: Option<&DisplayName>,
    ) -> Result<NamedMember, RequestError> {
        if self.store.membership(id, sub).await?.is_some() {
            return Err(RequestError::Conflict("already a member of this auction"));
        }
        let hash = crate::login::secret::hash(code);
        let name = display_name.map(DisplayName::as_str);
        let row = self
            .store
            .redeem_invitation(id, &hash, sub, name, self.clock.now_ms())
            .await?
            .ok_or(RequestError::Forbidden(
                "the invitation is unknown, used or expired",
            ))?;
        self.named(&row).await
    }

    /// Every member with their name, for a member; and who the caller is.
    pub async fn members(
        &self,
        id: i64,
        sub: &str,
    ) -> Result<(Member, Vec<NamedMember>), RequestError> {
        let caller = self.member(id, sub).await?;
        let (state, _) = self.store.state(id).await?;
        let rows = self.store.members(id).await?;
        Ok((
            caller,
            rows.iter().map(|m| NamedMember::of(m, &state)).collect(),
        ))
    }

    /// The caller, with the name others see; `Forbidden` for a non-member.
    pub async fn named_member(&self, id: i64, sub: &str) -> Result<NamedMember, RequestError> {
        let row = self.member_row(id, sub).await?;
        self.named(&row).await
    }

    /// The caller's membership row; `Forbidden` for a non-member.
    pub(super) async fn member_row(
        &self,
        id: i64,
        sub: &str,
    ) -> Result<members::Model, RequestError> {
        self.store
            .membership(id, sub)
            .await?
            .ok_or(RequestError::Forbidden("not a member of this auction"))
    }

    /// `row`'s member with the name others see; the auction's state is read only for a
    /// manager without a display name (named after their team).
    pub(super) async fn named(&self, row: &members::Model) -> Result<NamedMember, RequestError> {
        let member = Member::from_row(&row.role, row.team);
        if row.display_name.is_some() || member.role != MemberRole::Manager {
            return Ok(NamedMember {
                name: effective_name(row.display_name.as_deref(), &member, &[]),
                sub: row.sub.clone(),
                member,
            });
        }
        let (state, _) = self.store.state(row.auction_id).await?;
        Ok(NamedMember::of(row, &state))
    }

    /// Sets the caller's display name (any member); the caller as others now see them.
    pub async fn set_display_name(
        &self,
        id: i64,
        sub: &str,
        name: &DisplayName,
    ) -> Result<NamedMember, RequestError> {
        let row = self
            .store
            .set_display_name(id, sub, Some(name.as_str()))
            .await?
            .ok_or(RequestError::Forbidden("not a member of this auction"))?;
        self.named(&row).await
    }

    /// What members see of `stored`'s commissioner: their display name, or `Commissioner`.
    pub async fn commissioner_name(
        &self,
        id: i64,
        stored: &StoredAuction,
    ) -> Result<String, RequestError> {
        let row = self.store.membership(id, &stored.commissioner).await?;
        let display_name = row.as_ref().and_then(|r| r.display_name.as_deref());
        let commissioner = Member {
            role: MemberRole::Commissioner,
            team: None,
        };
        Ok(effective_name(
            display_name,
            &commissioner,
            &stored.state.teams,
        ))
    }

    /// The auctions `sub` belongs to, each with its name and phase.
    pub async fn memberships(&self, sub: &str) -> Result<Vec<MembershipSummary>, RequestError> {
        let mut out = Vec::new();
        for row in self.store.memberships_of(sub).await? {
            let stored = self.store.stored(row.auction_id).await?;
            out.push(MembershipSummary {
                auction_id: row.auction_id,
                member: NamedMember::of(&row, &stored.state),
                auction_name: stored.name,
                phase: stored.state.phase,
            });
        }
        Ok(out)
    }
}

/// One auction a user belongs to, for their list of auctions.
pub struct MembershipSummary {
    pub auction_id: i64,
    pub auction_name: String,
    pub phase: Phase,
    pub member: NamedMember,
}
