//! Client → server events on `/auction`, each with the ack the server answers it with. A
//! [`Command`] ties an event's name, its payload and its ack together: the handlers parse
//! exactly the payload type and answer exactly the ack type named here.
//!
//! Every ack is either done (`{ok: true, …}`) or a [`Refusal`] (`{ok: false, error}`); `ok` is
//! typed as the literal `true` or `false`, so a client narrows on it.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use ts_rs::TS;

use crate::auction::ClientId;
use crate::auction::requests::MemberRole;

/// A client → server event: its name, its payload (`Self`) and its ack.
pub trait Command: DeserializeOwned + TS + JsonSchema + 'static {
    /// The Socket.IO event name.
    const NAME: &'static str;
    /// What the server answers.
    type Ack: Serialize + From<Refusal> + TS + JsonSchema + 'static;
}

/// Declares a literal boolean type: `ok` is always this value in its ack.
macro_rules! literal_bool {
    ($name:ident, $value:literal) => {
        #[doc = concat!("The literal `", stringify!($value), "`.")]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bool($value)
            }
        }

        impl TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                stringify!($value).to_owned()
            }
            fn inline(cfg: &ts_rs::Config) -> String {
                <Self as TS>::name(cfg)
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "boolean", "const": $value })
            }
        }
    };
}

literal_bool!(True, true);
literal_bool!(False, false);

/// Why an event was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct ErrorBody {
    /// A rule's refusal (`outbid`, `stale`, `lot_closed`, …), `forbidden`, `not_found`,
    /// `conflict`, `unavailable`, `bad_request` (a malformed or oversized event, or one with no
    /// handler; the detail quotes at most a short excerpt of it), `rate_limited` (the
    /// connection or the member sent events too fast: retry later; kept up, the socket is
    /// disconnected; or, for `chat:send`, the member's chat rate: the detail says when to
    /// retry), `token_expired` (the session's token expired), for `chat:send`
    /// `invalid_message`, or for `auth:refresh` `invalid_token` and `wrong_subject`.
    #[serde(rename = "type")]
    pub kind: String,
    pub detail: String,
}

/// The ack of a refused event (any event's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct Refusal {
    pub ok: False,
    pub error: ErrorBody,
}

impl Refusal {
    pub fn new(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: False,
            error: ErrorBody {
                kind: kind.into(),
                detail: detail.into(),
            },
        }
    }
}

/// Declares an ack: done (`$done`) or refused.
macro_rules! ack {
    ($(#[doc = $doc:literal])* $name:ident($done:ident)) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
        #[serde(untagged)]
        pub enum $name {
            Done($done),
            Refused(Refusal),
        }

        impl From<Refusal> for $name {
            fn from(r: Refusal) -> Self {
                Self::Refused(r)
            }
        }

        impl From<$done> for $name {
            fn from(d: $done) -> Self {
                Self::Done(d)
            }
        }
    };
}

/// `auction:join`: enter an auction's room. The server then sends what the client missed
/// since `last_seq` (the events one by one, then every team as it stands), or the auction as
/// it stands (`auction:snapshot`) without `last_seq` or when too far behind.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS, JsonSchema)]
pub struct JoinRequest {
    pub auction_id: i64,
    /// The last `seq` the client applied.
    #[ts(optional)]
    pub last_seq: Option<i64>,
}

impl Command for JoinRequest {
    const NAME: &'static str = "auction:join";
    type Ack = JoinAck;
}

/// A joined auction: its `seq` now, and who the caller is in it.
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct Joined {
    pub ok: True,
    pub seq: i64,
    /// The server clock, ms since the Unix epoch.
    pub server_now: u64,
    pub role: MemberRole,
    /// The team the caller manages, if any.
    pub team: Option<u32>,
    /// The name others see the caller by (their display name, or one their role gives them).
    pub name: String,
}

ack!(
    /// The answer to `auction:join`.
    JoinAck(Joined)
);

/// `lot:nominate`: nominate a player for the caller's team (as REST's `POST …/lots`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS, JsonSchema)]
pub struct NominateRequest {
    pub auction_id: i64,
    /// The player's index in the auction's `players`.
    pub player: u32,
    pub opening_bid: u32,
}

impl Command for NominateRequest {
    const NAME: &'static str = "lot:nominate";
    type Ack = CommandAck;
}

/// `bid:place`: bid on the open lot for the caller's team (as REST's `POST …/lots/{lot}/bids`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS, JsonSchema)]
pub struct BidRequest {
    pub auction_id: i64,
    pub lot_id: u64,
    pub amount: u32,
    /// Makes a retry return the first answer: 1 to 200 visible ASCII characters.
    #[ts(optional)]
    pub client_bid_id: Option<ClientId>,
    /// The lot `version` the bidder saw; an older one is refused as `stale`.
    #[ts(optional)]
    pub expected_version: Option<u32>,
}

impl Command for BidRequest {
    const NAME: &'static str = "bid:place";
    type Ack = CommandAck;
}

/// A command carried out: the auction's `seq` after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct Done {
    pub ok: True,
    pub seq: i64,
}

ack!(
    /// The answer to `lot:nominate` and `bid:place`.
    CommandAck(Done)
);

/// `time:sync`: the server clock, for a client that counts down locally. Naming a joined
/// auction also asks for its latest `seq` (a client behind it resyncs).
#[derive(Clone, Debug, PartialEq, Deserialize, TS, JsonSchema)]
pub struct TimeSyncRequest {
    /// The client's clock when it sent this (echoed back with the answer).
    pub sent: f64,
    #[ts(optional)]
    pub auction_id: Option<i64>,
}

impl Command for TimeSyncRequest {
    const NAME: &'static str = "time:sync";
    type Ack = TimeSyncAck;
}

/// The server clock.
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct TimeSynced {
    pub ok: True,
    /// The server clock, ms since the Unix epoch.
    pub server_now: u64,
    /// The request's payload, echoed as received.
    #[ts(type = "TimeSyncRequest")]
    #[schemars(schema_with = "echoed")]
    pub client: serde_json::Value,
    /// The named auction's latest `seq`, when the socket has joined it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seq: Option<i64>,
}

fn echoed(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "description": "The request's payload, echoed as received." })
}

ack!(
    /// The answer to `time:sync`.
    TimeSyncAck(TimeSynced)
);

/// `auth:refresh`: a fresh access token for the socket's subject, sent before the current one
/// expires; the session then lasts until the new token's `exp`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS, JsonSchema)]
pub struct AuthRefreshRequest {
    pub token: String,
}

impl Command for AuthRefreshRequest {
    const NAME: &'static str = "auth:refresh";
    type Ack = AuthRefreshAck;
}

/// The session now lasts until `exp`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct Refreshed {
    pub ok: True,
    /// The new token's `exp` (Unix time, seconds).
    pub exp: u64,
}

ack!(
    /// The answer to `auth:refresh` (refused, the old token holds until it expires).
    AuthRefreshAck(Refreshed)
);

/// `chat:send`: a message to the auction's room (any member, spectators too). The text is
/// trimmed and has 1 to 500 characters; it is sent to everyone as given, to be shown as text.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS, JsonSchema)]
pub struct ChatSendRequest {
    pub auction_id: i64,
    pub text: String,
}

impl Command for ChatSendRequest {
    const NAME: &'static str = "chat:send";
    type Ack = ChatSendAck;
}

/// A message stored and sent to the room (`chat:message`, the sender included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct ChatSent {
    pub ok: True,
    /// The message's id.
    pub id: i64,
}

ack!(
    /// The answer to `chat:send`: refused as `invalid_message` (empty, over 500 characters, or
    /// with control characters), `rate_limited` (the member's chat rate), `forbidden` (not a
    /// member), or as any event.
    ChatSendAck(ChatSent)
);

/// `chat:delete`: the commissioner deletes a message; everyone is sent `chat:deleted`, and it
/// is never sent again.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS, JsonSchema)]
pub struct ChatDeleteRequest {
    pub auction_id: i64,
    /// The message's id.
    pub id: i64,
}

impl Command for ChatDeleteRequest {
    const NAME: &'static str = "chat:delete";
    type Ack = ChatDeleteAck;
}

/// Done, with nothing more to say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct Acknowledged {
    pub ok: True,
}

ack!(
    /// The answer to `chat:delete`: done (also when it was deleted before), or refused as
    /// `forbidden` (not the commissioner), `not_found` (no such message in this auction), or as
    /// any event.
    ChatDeleteAck(Acknowledged)
);

/// A `client_bid_id` on the wire: a string (checked when parsed).
impl TS for ClientId {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        <Self as TS>::name(cfg)
    }
}

impl JsonSchema for ClientId {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "ClientId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^[!-~]{1,200}$",
        })
    }
}
