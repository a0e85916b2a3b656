//! `/api/auctions/{id}/…` for members: invitations, joining, the member list and display names.
//! Members see each other by name; a member's `sub` (their email) is shown only to the
//! auction's commissioner and to the member themself.

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::failure::{Failure, bad_request};
use super::security::BearerAuth;
use crate::auction::TeamId;
use crate::auction::names::{DisplayName, NamedMember};
use crate::auction::requests::{MemberRequests, MemberRole};

pub struct MemberApi {
    /// `None` only while generating the OpenAPI document.
    requests: Option<MemberRequests>,
}

impl MemberApi {
    pub fn new(requests: MemberRequests) -> Self {
        Self {
            requests: Some(requests),
        }
    }

    pub fn for_document() -> Self {
        Self { requests: None }
    }

    fn requests(&self) -> &MemberRequests {
        self.requests.as_ref().expect("a serving MemberApi")
    }
}

#[derive(Object)]
pub struct InvitationBody {
    /// `manager` (with `team`) or `spectator`.
    pub role: MemberRole,
    /// The team a manager will manage (an index into the auction's teams).
    pub team: Option<u32>,
}

#[derive(Object)]
pub struct InvitationCreated {
    /// Shown once; whoever joins with it gets the role.
    pub code: String,
    pub role: MemberRole,
    #[oai(skip_serializing_if_is_none)]
    pub team: Option<u32>,
    pub expires_at: u64,
}

#[derive(Object)]
pub struct JoinBody {
    #[oai(validator(max_length = 200))]
    pub code: String,
    /// The name other members will see: 1 to 40 characters after trimming, no control
    /// characters. Omitted: the team's name for a manager, `Spectator` for a spectator.
    pub display_name: Option<String>,
}

#[derive(Object)]
pub struct DisplayNameBody {
    /// 1 to 40 characters after trimming, no control characters.
    pub display_name: String,
}

/// A member as the caller may see them.
#[derive(Object)]
pub struct MemberBody {
    /// What others see: the member's display name, or else the team's name for a manager,
    /// `Spectator` or `Commissioner`.
    pub name: String,
    pub role: MemberRole,
    /// The team managed, if any.
    #[oai(skip_serializing_if_is_none)]
    pub team: Option<u32>,
    /// The member's `sub` (their email): only to the auction's commissioner, and in the
    /// caller's own entry.
    #[oai(skip_serializing_if_is_none)]
    pub sub: Option<String>,
}

#[derive(ApiResponse)]
pub enum InvitationResponse {
    #[oai(status = 201)]
    Created(Json<InvitationCreated>),
}

/// `member` as shown to someone who may (`show_sub`) or may not see their `sub`.
pub fn member_body(member: NamedMember, show_sub: bool) -> MemberBody {
    MemberBody {
        name: member.name,
        role: member.member.role,
        team: member.member.team.map(|t| t.index() as u32),
        sub: show_sub.then_some(member.sub),
    }
}

/// A display name from the API, or a 400 naming what is wrong.
pub fn display_name(text: &str) -> Result<DisplayName, Failure> {
    DisplayName::parse(text).map_err(|e| bad_request("invalid_name", e))
}

type Answer<T> = Result<Json<T>, Failure>;

#[OpenApi(prefix_path = "/auctions", tag = "ApiTags::Auctions")]
impl MemberApi {
    /// Invite someone as a team's manager or as a spectator (commissioner).
    #[oai(
        path = "/:id/invitations",
        method = "post",
        operation_id = "createInvitation"
    )]
    async fn invite(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<InvitationBody>,
    ) -> Result<InvitationResponse, Failure> {
        let team = body.team.map(|t| TeamId(t as usize));
        let invitation = self
            .requests()
            .invite(id.0, &auth.0.sub, body.role, team)
            .await?;
        Ok(InvitationResponse::Created(Json(InvitationCreated {
            code: invitation.code,
            role: invitation.role,
            team: invitation.team.map(|t| t.index() as u32),
            expires_at: invitation.expires_at,
        })))
    }

    /// Join the auction with an invitation code (once), optionally with a display name.
    #[oai(path = "/:id/join", method = "post", operation_id = "joinAuction")]
    async fn join(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<JoinBody>,
    ) -> Answer<MemberBody> {
        let name = body.display_name.as_deref().map(display_name).transpose()?;
        let member = self
            .requests()
            .join(id.0, &auth.0.sub, &body.code, name.as_ref())
            .await?;
        Ok(Json(member_body(member, true)))
    }

    /// Who belongs to the auction, by name and role (their `sub`s to the commissioner only).
    #[oai(path = "/:id/members", method = "get", operation_id = "listMembers")]
    async fn members(&self, auth: BearerAuth, id: Path<i64>) -> Answer<Vec<MemberBody>> {
        let (caller, members) = self.requests().members(id.0, &auth.0.sub).await?;
        let commissioner = caller.role == MemberRole::Commissioner;
        Ok(Json(
            members
                .into_iter()
                .map(|m| {
                    let show_sub = commissioner || m.sub == auth.0.sub;
                    member_body(m, show_sub)
                })
                .collect(),
        ))
    }

    /// Set the name other members see you by (any member).
    #[oai(
        path = "/:id/members/me",
        method = "put",
        operation_id = "setDisplayName"
    )]
    async fn set_display_name(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<DisplayNameBody>,
    ) -> Answer<MemberBody> {
        let name = display_name(&body.display_name)?;
        let member = self
            .requests()
            .set_display_name(id.0, &auth.0.sub, &name)
            .await?;
        Ok(Json(member_body(member, true)))
    }
}
