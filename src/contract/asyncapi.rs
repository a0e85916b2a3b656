//! `openapi/asyncapi.json`: the Socket.IO contract as an AsyncAPI 3.0 document. One channel,
//! the `/auction` namespace; an operation per event (`receive` for what clients send, `send`
//! for what the server sends), the acks as the operations' replies; the payloads' JSON Schemas
//! (draft-07, which AsyncAPI's schema format extends) from the same Rust types, by schemars.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::catalog::{self, Direction, Payload};
use super::events::Stamp;

/// Where the generated document is committed, from the repository's root.
pub const PATH: &str = "openapi/asyncapi.json";

const SCHEMAS: &str = "#/components/schemas/";
const CHANNEL: &str = "auction";

/// `auction:join` → `auctionJoin`: ids AsyncAPI accepts as keys.
fn id(name: &str) -> String {
    let mut out = String::new();
    for (i, word) in name.split(':').enumerate() {
        let mut chars = word.chars();
        if let (true, Some(first)) = (i > 0, chars.next()) {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        } else {
            out.push_str(word);
        }
    }
    out
}

/// The first sentence of a description, as a summary.
fn summary(description: &str) -> String {
    let first = description.split_inclusive(". ").next().unwrap_or_default();
    first.trim().replace('\n', " ")
}

fn generator(settings: SchemaSettings) -> SchemaGenerator {
    settings
        .with(|s| s.definitions_path = SCHEMAS.into())
        .into_generator()
}

/// The schemas of one direction's payloads are read as their receiver reads them: what a
/// client sends as serde deserializes it (an `Option` may be left out), what the server sends
/// as serde serializes it.
struct Schemas {
    requests: SchemaGenerator,
    answers: SchemaGenerator,
}

impl Schemas {
    fn of(&mut self, direction: Direction) -> &mut SchemaGenerator {
        match direction {
            Direction::ClientToServer => &mut self.requests,
            Direction::ServerToClient => &mut self.answers,
        }
    }

    fn reference<T: JsonSchema>(&mut self) -> Schema {
        self.answers.subschema_for::<T>()
    }

    /// Both generators' definitions, as one map (a name defined twice must agree).
    fn into_components(mut self) -> Map<String, Value> {
        let mut all = self.requests.take_definitions(true);
        for (name, schema) in self.answers.take_definitions(true) {
            if let Some(other) = all.get(&name) {
                assert_eq!(other, &schema, "two schemas named {name}");
            }
            all.insert(name, schema);
        }
        all
    }
}

/// One message object.
fn message(name: &str, title: String, description: &str, payload: Value) -> Value {
    let mut m = json!({
        "name": name,
        "title": title,
        "summary": summary(description),
        "contentType": "application/json",
        "payload": payload,
    });
    if !description.is_empty() {
        m["description"] = description.into();
    }
    m
}

fn channel_message(key: &str) -> Value {
    json!({ "$ref": format!("#/channels/{CHANNEL}/messages/{key}") })
}

/// The payload schema of `event`.
fn payload(schemas: &mut Schemas, event: &catalog::Event) -> Value {
    let stamp = || schemas_ref::<Stamp>();
    let schema = (event.payload.shape().schema)(schemas.of(event.direction));
    let schema = serde_json::to_value(schema).expect("schemas are JSON");
    match event.payload {
        Payload::Plain(_) => schema,
        Payload::Stamped(_) => json!({ "allOf": [stamp(), schema] }),
        Payload::Seq(_) => json!({ "allOf": [
            stamp(),
            {
                "type": "object",
                "required": ["kind"],
                "properties": { "kind": { "const": event.name, "description": "The event's name." } },
            },
            schema,
        ] }),
    }
}

fn schemas_ref<T: JsonSchema>() -> Value {
    json!({ "$ref": format!("{SCHEMAS}{}", T::schema_name()) })
}

/// The document's text.
pub fn generate() -> String {
    let events = catalog::events();
    let mut schemas = Schemas {
        requests: generator(SchemaSettings::draft07().for_deserialize()),
        answers: generator(SchemaSettings::draft07().for_serialize()),
    };
    schemas.reference::<Stamp>();
    let channel_ref = json!({ "$ref": format!("#/channels/{CHANNEL}") });
    let (mut messages, mut channel_messages, mut operations) = (Map::new(), Map::new(), Map::new());
    for event in &events {
        let key = id(event.name);
        let description = event.description();
        let body = payload(&mut schemas, event);
        messages.insert(
            key.clone(),
            message(event.name, format!("`{}`", event.name), &description, body),
        );
        channel_messages.insert(
            key.clone(),
            json!({ "$ref": format!("#/components/messages/{key}") }),
        );
        let mut operation = json!({
            "action": match event.direction {
                Direction::ClientToServer => "receive",
                Direction::ServerToClient => "send",
            },
            "channel": channel_ref,
            "summary": summary(&description),
            "messages": [channel_message(&key)],
        });
        if let Some(ack) = event.ack {
            let ack_key = format!("{key}Ack");
            let ack_description = (ack.description)().unwrap_or_default();
            let ack_schema =
                serde_json::to_value((ack.schema)(&mut schemas.answers)).expect("schemas are JSON");
            messages.insert(
                ack_key.clone(),
                message(
                    &format!("{} ack", event.name),
                    format!("`{}` ack", event.name),
                    &ack_description,
                    ack_schema,
                ),
            );
            channel_messages.insert(
                ack_key.clone(),
                json!({ "$ref": format!("#/components/messages/{ack_key}") }),
            );
            operation["reply"] =
                json!({ "channel": channel_ref, "messages": [channel_message(&ack_key)] });
        }
        operations.insert(key, operation);
    }
    let document = json!({
        "asyncapi": "3.0.0",
        "info": info(),
        "defaultContentType": "application/json",
        "servers": servers(),
        "channels": { CHANNEL: {
            "address": "/auction",
            "title": "Namespace /auction",
            "description": "A room per auction. A client joins an auction's room with `auction:join` (membership required); the server then sends the auction's events to it, each stamped with the auction's `seq`. A client keeps the last `seq` it applied, ignores anything at or below it, and on a gap (or a reconnect) joins again with `last_seq`.",
            "messages": channel_messages,
        } },
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas.into_components(),
        },
    });
    serde_json::to_string_pretty(&document).expect("the document is JSON") + "\n"
}

fn info() -> Value {
    json!({
        "title": "Gavel live auctions",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "The Socket.IO events of Gavel's live auction rooms: every client → server event with its ack, every server → client event. Generated from the Rust types in src/contract; the REST API is described by openapi.json beside this file.",
        "license": { "name": env!("CARGO_PKG_LICENSE") },
    })
}

fn servers() -> Value {
    json!({ "local": {
        "host": "127.0.0.1:8000",
        "pathname": "/api/socket.io",
        "protocol": "ws",
        "description": "Socket.IO (protocol 5) over Engine.IO 4: websocket, or HTTP long-polling at the same path. The access token (a JWT) goes in the handshake's `auth` payload as `{token}`; without a valid one the connection is refused with a `connect_error` saying why. Every origin is checked by the server's origin policy.",
    } })
}
