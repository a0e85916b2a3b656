//! The list of every event on `/auction`, in both directions, with its payload and ack types:
//! what the TypeScript and AsyncAPI generators walk. Names come from the types' own constants
//! ([`Command::NAME`], [`Message::NAME`], [`AuctionEvent::NAMES`]), so the list cannot name an
//! event differently from the code that sends or handles it.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use ts_rs::TS;

use super::commands::{
    AuthRefreshRequest, BidRequest, ChatDeleteRequest, ChatSendRequest, Command, JoinRequest,
    NominateRequest, TimeSyncRequest,
};
use super::events::{
    AuctionEvent, AuctionSnapshot, AuthExpired, BidRejected, ChatDeleted, ChatHistory, ChatMessage,
    Message, PolicyRevoked, Presence, TeamUpdated,
};
use super::typescript::Declarations;

/// Who sends an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

/// One Rust type of the contract, as the generators need it.
#[derive(Clone, Copy)]
pub struct Shape {
    /// Its TypeScript name.
    pub ts_name: fn(&ts_rs::Config) -> String,
    /// Adds its TypeScript declaration and its dependencies' to the file being generated.
    pub declare: fn(&mut Declarations),
    /// Its JSON Schema (a `$ref` into the generator's definitions).
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// Its doc comment.
    pub description: fn() -> Option<String>,
}

impl Shape {
    pub fn of<T: TS + JsonSchema + 'static>() -> Self {
        Self {
            ts_name: |cfg| T::ident(cfg),
            declare: |d| d.add::<T>(),
            schema: |g| g.subschema_for::<T>(),
            description: || {
                let schema = SchemaGenerator::default().into_root_schema_for::<T>();
                let text = schema.get("description")?.as_str()?;
                Some(text.to_owned())
            },
        }
    }
}

/// How an event's payload is made of its type.
#[derive(Clone, Copy)]
pub enum Payload {
    /// The type alone.
    Plain(Shape),
    /// The type with a [`super::Stamp`] beside its fields.
    Stamped(Shape),
    /// An [`AuctionEvent`]: stamped, and tagged `kind` with the event's name.
    Seq(Shape),
}

impl Payload {
    pub fn shape(&self) -> Shape {
        match *self {
            Self::Plain(s) | Self::Stamped(s) | Self::Seq(s) => s,
        }
    }
}

/// One event of the namespace.
#[derive(Clone, Copy)]
pub struct Event {
    pub name: &'static str,
    pub direction: Direction,
    pub payload: Payload,
    /// What the server answers (client → server events only).
    pub ack: Option<Shape>,
}

impl Event {
    /// Its description: its payload type's doc comment.
    pub fn description(&self) -> String {
        (self.payload.shape().description)().unwrap_or_default()
    }
}

fn command<C: Command>() -> Event {
    Event {
        name: C::NAME,
        direction: Direction::ClientToServer,
        payload: Payload::Plain(Shape::of::<C>()),
        ack: Some(Shape::of::<C::Ack>()),
    }
}

fn message<M: Message>() -> Event {
    let shape = Shape::of::<M>();
    Event {
        name: M::NAME,
        direction: Direction::ServerToClient,
        payload: if M::STAMPED {
            Payload::Stamped(shape)
        } else {
            Payload::Plain(shape)
        },
        ack: None,
    }
}

/// Every event: client → server first, then server → client, each in a reading order.
pub fn events() -> Vec<Event> {
    let mut all = vec![
        command::<JoinRequest>(),
        command::<NominateRequest>(),
        command::<BidRequest>(),
        command::<TimeSyncRequest>(),
        command::<AuthRefreshRequest>(),
        command::<ChatSendRequest>(),
        command::<ChatDeleteRequest>(),
        message::<AuctionSnapshot>(),
    ];
    all.extend(
        AuctionEvent::catalog()
            .into_iter()
            .map(|(name, shape)| Event {
                name,
                direction: Direction::ServerToClient,
                payload: Payload::Seq(shape),
                ack: None,
            }),
    );
    all.extend([
        message::<TeamUpdated>(),
        message::<BidRejected>(),
        message::<Presence>(),
        message::<ChatMessage>(),
        message::<ChatDeleted>(),
        message::<ChatHistory>(),
        message::<PolicyRevoked>(),
        message::<AuthExpired>(),
    ]);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_listed_once() {
        let events = events();
        let mut names: Vec<&str> = events.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), events.len(), "no name twice");
        assert_eq!(events.len(), 7 + 9 + AuctionEvent::NAMES.len());
        assert!(
            events
                .iter()
                .all(|e| e.ack.is_some() == (e.direction == Direction::ClientToServer)),
            "client events, and only they, have acks"
        );
    }
}
