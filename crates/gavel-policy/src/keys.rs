//! Unknown keys, all of them at once, in file order, each with `file:line:col` and the known
//! key it was probably meant to be.
//!
//! serde's `deny_unknown_fields` stops at the first unknown key of a run (and, tables being
//! maps, not necessarily the first in the file), so an admin fixing a file would meet its typos
//! one run at a time. This walks the parsed document against the schema first. The key lists
//! are asked of the schema types themselves, so they cannot drift from what serde accepts.

use serde::Deserialize;
use serde::de::{self, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostics::Diagnostics;
use super::schema::{
    RawCors, RawExpect, RawPolicy, RawRequest, RawRequests, RawRule, RawTrustedProxies,
};
use super::table::{RawCase, RawTable};

/// Reports every key of a policy file's `root` that the policy schema does not know.
pub(crate) fn check_policy_keys(root: &DeTable<'_>, d: &mut Diagnostics) {
    let children = [
        ("cors", fields_of::<RawCors>(), "[cors]"),
        ("requests", fields_of::<RawRequests>(), "[requests]"),
        (
            "trusted_proxies",
            fields_of::<RawTrustedProxies>(),
            "[trusted_proxies]",
        ),
        ("allow", fields_of::<RawRule>(), "[[allow]]"),
        ("deny", fields_of::<RawRule>(), "[[deny]]"),
        ("expect", fields_of::<RawExpect>(), "[[expect]]"),
    ];
    check_keys(root, fields_of::<RawPolicy>(), &children, d);
}

/// Reports every key of a policy table file's `root` that the table schema does not know.
pub(crate) fn check_table_keys(root: &DeTable<'_>, d: &mut Diagnostics) {
    let children = [
        ("defaults", fields_of::<RawRequest>(), "[defaults]"),
        ("case", fields_of::<RawCase>(), "[[case]]"),
    ];
    check_keys(root, fields_of::<RawTable>(), &children, d);
}

/// A table under the top level: its key, its known keys, how messages name it.
type Child = (&'static str, &'static [&'static str], &'static str);

fn check_keys(root: &DeTable<'_>, top: &[&str], children: &[Child], d: &mut Diagnostics) {
    let mut found = Vec::new();
    check_table(root, top, "the top level", &mut found);
    for (key, value) in root {
        let Some((_, fields, place)) = children.iter().find(|c| c.0 == key.get_ref()) else {
            continue;
        };
        // A value of the wrong type (`cors = 1`) is serde's to report.
        match value.get_ref() {
            DeValue::Table(t) => check_table(t, fields, place, &mut found),
            DeValue::Array(items) => {
                for item in items {
                    if let DeValue::Table(t) = item.get_ref() {
                        check_table(t, fields, place, &mut found);
                    }
                }
            }
            _ => {}
        }
    }
    found.sort_by_key(|(span, ..)| span.start);
    for (span, message, help) in found {
        d.push(super::Severity::Error, &span, message, Some(help));
    }
}

type Finding = (std::ops::Range<usize>, String, String);

fn check_table(table: &DeTable<'_>, fields: &[&str], place: &str, found: &mut Vec<Finding>) {
    for key in table.keys() {
        let name: &str = key.get_ref();
        if !fields.contains(&name) {
            found.push((
                Spanned::span(key),
                format!("unknown field `{name}` in {place}"),
                did_you_mean(name, fields),
            ));
        }
    }
}

/// The closest known key when it is close enough to be a typo, else the list of known keys.
fn did_you_mean(name: &str, fields: &[&str]) -> String {
    let closest = fields
        .iter()
        .map(|f| (strsim::jaro_winkler(name, f), *f))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((score, f)) if score >= 0.8 => format!("did you mean `{f}`?"),
        _ => format!(
            "expected one of {}",
            fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The field names serde accepts for a `#[derive(Deserialize)]` struct: a deserializer that
/// only records what `deserialize_struct` is told.
fn fields_of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only structs have field names"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_come_from_the_schema() {
        assert_eq!(
            fields_of::<RawRequests>(),
            ["missing_origin", "null_origin"]
        );
        assert!(fields_of::<RawRule>().contains(&"allow_credentials_with_wildcard"));
    }

    #[test]
    fn typos_get_a_suggestion_and_strangers_the_list() {
        let fields = fields_of::<RawCors>();
        assert_eq!(
            did_you_mean("credential", fields),
            "did you mean `credentials`?"
        );
        assert_eq!(
            did_you_mean("max_age", fields),
            "did you mean `max_age_secs`?"
        );
        assert!(did_you_mean("zzz", fields).starts_with("expected one of `credentials`"));
    }
}
