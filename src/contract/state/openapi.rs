//! poem-openapi descriptions of the state shapes its derives cannot express: a [`Phase`] (a
//! string for `Lobby` and `Completed`, otherwise an object keyed by the phase's name, as serde
//! writes an externally tagged enum), a [`RosterSpot`] (a `[player, price]` pair) and a
//! [`Player`], whose `position` and `team_bye` are always there, `null` when absent (derived,
//! an `Option` would be an optional property, and clients would type it `string | undefined`
//! over REST but `string | null` over Socket.IO). All are read and written through serde, so
//! the JSON is serde's; only the schema is written here.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use super::{Lot, Phase, Player, RosterSpot};

/// `Type`, `ParseFromJSON` and `ToJSON` for a serde type registered as a named schema.
macro_rules! serde_backed {
    ($ty:ty, $name:literal, $schema:path) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Reference($name.into())
            }

            fn register(registry: &mut Registry) {
                registry.create_schema::<Self, _>($name.into(), $schema);
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl ParseFromJSON for $ty {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                serde_json::from_value(value.unwrap_or_default()).map_err(ParseError::custom)
            }
        }

        impl ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                serde_json::to_value(self).ok()
            }
        }
    };
}

serde_backed!(Phase, "Phase", phase_schema);
serde_backed!(RosterSpot, "RosterSpot", roster_spot_schema);
serde_backed!(Player, "Player", player_schema);

fn integer(format: &'static str, description: &'static str) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(description),
        ..MetaSchema::new_with_format("integer", format)
    }))
}

/// An object with exactly one required property, `key`.
fn keyed(key: &'static str, value: MetaSchemaRef) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        required: vec![key],
        properties: vec![(key, value)],
        ..MetaSchema::new("object")
    }))
}

fn object(properties: Vec<(&'static str, MetaSchemaRef)>) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        required: properties.iter().map(|(name, _)| *name).collect(),
        properties,
        ..MetaSchema::new("object")
    }))
}

fn phase_schema(registry: &mut Registry) -> MetaSchema {
    Lot::register(registry);
    let unit = MetaSchemaRef::Inline(Box::new(MetaSchema {
        enum_items: vec!["Lobby".into(), "Completed".into()],
        ..MetaSchema::new("string")
    }));
    let nominating = object(vec![
        ("nominator", integer("uint32", "The team nominating.")),
        (
            "deadline",
            integer("uint64", "When a player is nominated for it (server ms)."),
        ),
    ]);
    let paused = object(vec![
        ("was", Phase::schema_ref()),
        (
            "remaining",
            integer("uint64", "The time that was left (ms)."),
        ),
    ]);
    MetaSchema {
        description: Some(
            "Where the auction is: `\"Lobby\"`, `\"Completed\"`, or an object keyed by the \
             phase's name (`Nominating`, `Bidding` with the open lot, `Paused` with the phase \
             it froze and the time that was left).",
        ),
        one_of: vec![
            unit,
            keyed("Nominating", nominating),
            keyed("Bidding", Lot::schema_ref()),
            keyed("Paused", paused),
        ],
        ..MetaSchema::ANY
    }
}

fn roster_spot_schema(_: &mut Registry) -> MetaSchema {
    MetaSchema {
        description: Some("A player won and the price paid: `[player, price]`."),
        items: Some(Box::new(integer("uint32", "The player, then the price."))),
        min_items: Some(2),
        max_items: Some(2),
        ..MetaSchema::new("array")
    }
}

/// A string or `null`, of at most `max` characters.
fn nullable_text(max: usize, description: &'static str) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(description),
        nullable: true,
        min_length: Some(1),
        max_length: Some(max),
        ..MetaSchema::new("string")
    }))
}

fn player_schema(_: &mut Registry) -> MetaSchema {
    let name = MetaSchemaRef::Inline(Box::new(MetaSchema {
        min_length: Some(1),
        max_length: Some(200),
        ..MetaSchema::new("string")
    }));
    let rank = MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some("1 is the best; automatic nominations take the best available."),
        minimum: Some(1.0),
        ..MetaSchema::new_with_format("integer", "uint32")
    }));
    let MetaSchemaRef::Inline(object) = object(vec![
        ("name", name),
        ("rank", rank),
        (
            "position",
            nullable_text(10, "Free-form (`QB`, `WR/TE`); `null` when not given."),
        ),
        (
            "team_bye",
            nullable_text(
                40,
                "Free-form: the player's team and bye week (`KC (10)`); `null` when not given.",
            ),
        ),
    ]) else {
        unreachable!("`object` is inline")
    };
    MetaSchema {
        description: Some("A player of the auction's pool."),
        ..*object
    }
}
