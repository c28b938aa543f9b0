//! `OS::Heat::RandomString`: generates a random string (passwords, secrets) once, at create,
//! and keeps it in the resource's data.
//!
//! Generation follows Heat's rules: first, for each character sequence and then each
//! character class in turn, its `min` characters are drawn from it; the rest of the `length`
//! is drawn from the union of all of them; then the whole string is shuffled. Every draw is
//! uniform over the distinct characters of the set drawn from, and all randomness comes from
//! [`Services::random`](crate::engine::Services).
//!
//! No property can change in place: any change, `salt` included (that is what `salt` is
//! for), replaces the resource, which makes a new string.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::engine::builtins::{common_attribute, physical_resource_name, property_error};
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use crate::engine::schema::{AttributeSchema, PropertySchema, PropertyType, ResourceSchema};
use crate::engine::services::Random;
use crate::template::model::ConstraintKind;

/// The type name.
pub const TYPE_NAME: &str = "OS::Heat::RandomString";

/// The named character classes, in Heat's order.
pub const CHARACTER_CLASSES: &[&str] = &[
    "lettersdigits",
    "letters",
    "lowercase",
    "uppercase",
    "digits",
    "hexdigits",
    "octdigits",
];

/// The length when none is given.
pub const DEFAULT_LENGTH: u64 = 32;
/// The longest string (and largest per-class minimum) allowed.
pub const MAX_LENGTH: u64 = 512;

/// Data key holding the generated string.
pub const DATA_VALUE: &str = "value";

/// The members of a named character class (`hexdigits` is upper-case only, as in Heat).
pub fn class_members(class: &str) -> Option<&'static str> {
    const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    Some(match class {
        "lettersdigits" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "letters" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "lowercase" => LOWER,
        "uppercase" => UPPER,
        "digits" => "0123456789",
        "hexdigits" => "0123456789ABCDEF",
        "octdigits" => "01234567",
        _ => return None,
    })
}

/// One set of characters to draw from and how many characters must come from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharPool {
    /// The distinct characters, in ascending order.
    pub chars: Vec<char>,
    /// How many characters of the result are drawn from this set first.
    pub min: usize,
}

/// What to generate: a length and the character sets, sequences first, then classes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharSpec {
    /// The length of the string.
    pub length: usize,
    /// The character sets.
    pub pools: Vec<CharPool>,
}

fn default_classes() -> Value {
    json!([{"class": "lettersdigits", "min": 1}])
}

/// Reads an integer property (a JSON integer or an integer string) in `1..=MAX_LENGTH`.
fn bounded_integer(value: Option<&Value>, path: &str, default: u64) -> Result<usize, String> {
    let n = match value {
        None | Some(Value::Null) => default,
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_i64().map(|_| 0))
            .ok_or_else(|| format!("{path}: {n} is not an integer"))?,
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => u64::try_from(i).unwrap_or(0),
            Err(_) => return Err(format!("{path}: \"{s}\" is not an integer")),
        },
        Some(other) => return Err(format!("{path}: {other} is not an integer")),
    };
    if !(1..=MAX_LENGTH).contains(&n) {
        let shown = value.map_or_else(|| n.to_string(), Value::to_string);
        return Err(format!(
            "{path}: {shown} is out of range (min: 1, max: {MAX_LENGTH})"
        ));
    }
    usize::try_from(n).map_err(|_| format!("{path}: {n} is too large"))
}

/// The list items of a list-of-maps property.
fn list_of_maps<'a>(
    value: &'a Value,
    name: &str,
) -> Result<Vec<&'a serde_json::Map<String, Value>>, String> {
    let Value::Array(items) = value else {
        return Err(format!("{name}: {value} is not a list"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) => Ok(map),
            other => Err(format!("{name}.{i}: {other} is not a map")),
        })
        .collect()
}

impl CharSpec {
    /// Reads and checks the properties: `length`, `character_classes`, `character_sequences`
    /// and the deprecated `sequence` (which, as in Heat, adds its class with a minimum of 1 to
    /// the classes that were written; when `sequence` is given, a `character_classes` equal to
    /// the default is taken as not written). Fails, naming the property, on wrong types,
    /// values out of range, unknown classes, empty sequences, nothing to draw from, or
    /// minimums that add up to more than `length`.
    pub fn from_properties(properties: &Properties) -> Result<CharSpec, String> {
        let length = bounded_integer(properties.get("length"), "length", DEFAULT_LENGTH)?;
        let mut pools = Vec::new();
        let mut errors = Vec::new();

        match properties.get("character_sequences") {
            None | Some(Value::Null) => {}
            Some(value) => {
                let items = list_of_maps(value, "character_sequences").unwrap_or_else(|e| {
                    errors.push(e);
                    Vec::new()
                });
                for (i, item) in items.iter().enumerate() {
                    let path = format!("character_sequences.{i}");
                    let chars: BTreeSet<char> = match item.get("sequence") {
                        Some(Value::String(s)) => s.chars().collect(),
                        None | Some(Value::Null) => {
                            errors.push(format!("{path}.sequence: the property is required"));
                            continue;
                        }
                        Some(other) => {
                            errors.push(format!("{path}.sequence: {other} is not a string"));
                            continue;
                        }
                    };
                    if chars.is_empty() {
                        errors.push(format!("{path}.sequence: the sequence is empty"));
                        continue;
                    }
                    match bounded_integer(item.get("min"), &format!("{path}.min"), 1) {
                        Ok(min) => pools.push(CharPool {
                            chars: chars.into_iter().collect(),
                            min,
                        }),
                        Err(e) => errors.push(e),
                    }
                }
            }
        }

        let written = properties.get("character_classes").filter(|v| !v.is_null());
        let mut classes: Vec<Value> = match written {
            None => Vec::new(),
            Some(value) => match list_of_maps(value, "character_classes") {
                Ok(_) => value.as_array().cloned().unwrap_or_default(),
                Err(e) => {
                    errors.push(e);
                    Vec::new()
                }
            },
        };
        match properties.get("sequence") {
            Some(Value::String(seq)) if !seq.is_empty() => {
                if written == Some(&default_classes()) {
                    classes.clear();
                }
                if class_members(seq).is_none() {
                    errors.push(format!(
                        "sequence: \"{seq}\" is not one of the allowed values {}",
                        CHARACTER_CLASSES.join(", ")
                    ));
                }
                classes.push(json!({"class": seq, "min": 1}));
            }
            None | Some(Value::Null) | Some(Value::String(_)) => {
                if written.is_none() {
                    classes = default_classes().as_array().cloned().unwrap_or_default();
                }
            }
            Some(other) => errors.push(format!("sequence: {other} is not a string")),
        }
        for (i, item) in classes.iter().enumerate() {
            let path = format!("character_classes.{i}");
            let class = match item.get("class") {
                None | Some(Value::Null) => "lettersdigits",
                Some(Value::String(c)) => c.as_str(),
                Some(other) => {
                    errors.push(format!("{path}.class: {other} is not a string"));
                    continue;
                }
            };
            let Some(members) = class_members(class) else {
                // A bad `sequence` was reported above.
                if properties.get("sequence").and_then(Value::as_str) != Some(class) {
                    errors.push(format!(
                        "{path}.class: \"{class}\" is not one of the allowed values {}",
                        CHARACTER_CLASSES.join(", ")
                    ));
                }
                continue;
            };
            match bounded_integer(item.get("min"), &format!("{path}.min"), 1) {
                Ok(min) => pools.push(CharPool {
                    chars: members
                        .chars()
                        .collect::<BTreeSet<char>>()
                        .into_iter()
                        .collect(),
                    min,
                }),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }

        if pools.is_empty() {
            return Err(
                "character_classes: there are no characters to choose from (no \
                        character classes and no character sequences)"
                    .to_string(),
            );
        }
        let minimums: usize = pools.iter().map(|p| p.min).sum();
        if minimums > length {
            return Err(format!(
                "length: {length} is smaller than the character class and character sequence \
                 minimums added together ({minimums})"
            ));
        }
        Ok(CharSpec { length, pools })
    }

    /// Generates a string: each set's minimum first, the rest from the union of all sets,
    /// then a uniform shuffle.
    pub fn generate(&self, random: &dyn Random) -> String {
        let pick = |chars: &[char]| -> Option<char> {
            let n = u64::try_from(chars.len()).ok()?;
            chars.get(usize::try_from(random.below(n)).ok()?).copied()
        };
        let mut out: Vec<char> = Vec::with_capacity(self.length);
        for pool in &self.pools {
            for _ in 0..pool.min {
                out.extend(pick(&pool.chars));
            }
        }
        let union: Vec<char> = self
            .pools
            .iter()
            .flat_map(|p| p.chars.iter().copied())
            .collect::<BTreeSet<char>>()
            .into_iter()
            .collect();
        while out.len() < self.length {
            match pick(&union) {
                Some(c) => out.push(c),
                None => break,
            }
        }
        // Fisher-Yates.
        for i in (1..out.len()).rev() {
            let j = usize::try_from(random.below(i as u64 + 1)).unwrap_or(0);
            out.swap(i, j.min(i));
        }
        out.into_iter().collect()
    }
}

/// Checks the properties without generating anything (for static validation); the error
/// names the property.
pub fn validate(properties: &Properties) -> Result<(), String> {
    CharSpec::from_properties(properties).map(|_| ())
}

/// The `OS::Heat::RandomString` provider.
#[derive(Debug)]
pub struct RandomStringResource {
    schema: ResourceSchema,
}

impl RandomStringResource {
    /// The provider.
    pub fn new() -> RandomStringResource {
        let classes = || {
            ConstraintKind::AllowedValues(
                CHARACTER_CLASSES.iter().map(|c| Value::from(*c)).collect(),
            )
        };
        let min_range = || ConstraintKind::Range {
            min: Some(1.0),
            max: Some(MAX_LENGTH as f64),
        };
        RandomStringResource {
            schema: ResourceSchema {
                open: false,
                type_name: TYPE_NAME,
                description: "Generates a random string once, when created (for passwords and \
                              other secrets), from named character classes and/or custom \
                              character sequences, each with a minimum number of characters. \
                              Referencing the resource gives the string too.",
                properties: vec![
                    PropertySchema::new(
                        "length",
                        PropertyType::Integer,
                        "How many characters to generate.",
                    )
                    .default(json!(DEFAULT_LENGTH))
                    .constraint(min_range()),
                    PropertySchema::new(
                        "sequence",
                        PropertyType::String,
                        "Deprecated (use character_classes): a character class to draw every \
                         character from.",
                    )
                    .constraint(classes()),
                    PropertySchema::new(
                        "character_classes",
                        PropertyType::List(Some(Box::new(PropertySchema::new(
                            "character_class",
                            PropertyType::Map(vec![
                                PropertySchema::new(
                                    "class",
                                    PropertyType::String,
                                    "The name of a character class.",
                                )
                                .default(json!("lettersdigits"))
                                .constraint(classes()),
                                PropertySchema::new(
                                    "min",
                                    PropertyType::Integer,
                                    "At least this many characters of the result come from \
                                     the class.",
                                )
                                .default(json!(1))
                                .constraint(min_range()),
                            ]),
                            "A character class and its minimum.",
                        )))),
                        "Named character classes to draw from, each with the least number of \
                         characters that must come from it.",
                    )
                    .default(default_classes()),
                    PropertySchema::new(
                        "character_sequences",
                        PropertyType::List(Some(Box::new(PropertySchema::new(
                            "character_sequence",
                            PropertyType::Map(vec![
                                PropertySchema::new(
                                    "sequence",
                                    PropertyType::String,
                                    "The characters to draw from.",
                                )
                                .required(),
                                PropertySchema::new(
                                    "min",
                                    PropertyType::Integer,
                                    "At least this many characters of the result come from \
                                     the sequence.",
                                )
                                .default(json!(1))
                                .constraint(min_range()),
                            ]),
                            "A character sequence and its minimum.",
                        )))),
                        "Custom character sequences to draw from, each with the least number \
                         of characters that must come from it.",
                    ),
                    PropertySchema::new(
                        "salt",
                        PropertyType::String,
                        "Not used in generating the string: give it a new value in a stack \
                         update to replace the resource, and so get a new string.",
                    ),
                ],
                attributes: vec![AttributeSchema {
                    name: "value",
                    description: "The generated string (referencing the resource gives it \
                                  too).",
                }],
            },
        }
    }
}

impl Default for RandomStringResource {
    fn default() -> RandomStringResource {
        RandomStringResource::new()
    }
}

#[async_trait]
impl ResourceProvider for RandomStringResource {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    fn reference_id(&self, ctx: &ResourceContext<'_>, _physical_id: &str) -> Option<String> {
        ctx.data.get(DATA_VALUE).cloned()
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let spec = CharSpec::from_properties(properties).map_err(|e| property_error(ctx, &e))?;
        let value = spec.generate(ctx.services.random.as_ref());
        let mut data = ResourceData::new();
        data.insert(DATA_VALUE.to_string(), value);
        Ok(Created {
            physical_id: physical_resource_name(ctx),
            data,
            progress: Progress::Done,
        })
    }

    async fn update(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
        old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        let changed: Vec<&str> = self
            .schema
            .properties
            .iter()
            .map(|p| p.name)
            .filter(|name| old.get(*name) != new.get(*name))
            .collect();
        let reason = if changed.is_empty() {
            "a random string cannot be updated in place".to_string()
        } else {
            format!(
                "{} changed and a random string is regenerated only by replacement",
                changed.join(", ")
            )
        };
        Ok(Updated::NeedsReplacement { reason })
    }

    async fn delete(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    async fn attribute(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        if name == "value" {
            Ok(ctx
                .data
                .get(DATA_VALUE)
                .map_or(Value::Null, |v| Value::String(v.clone())))
        } else {
            common_attribute(name)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
mod tests {
    use futures::executor::block_on;
    use proptest::prelude::*;

    use super::*;
    use crate::engine::builtins::testkit::{Harness, props};
    use crate::engine::services::SeededRandom;

    fn count_in(s: &str, set: &str) -> usize {
        s.chars().filter(|c| set.contains(*c)).count()
    }

    #[test]
    fn schema_defaults_constraints_and_flags_match_heat() {
        let p = RandomStringResource::new();
        let s = p.schema();
        let names: Vec<&str> = s.properties.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "length",
                "sequence",
                "character_classes",
                "character_sequences",
                "salt"
            ]
        );
        assert!(
            s.properties
                .iter()
                .all(|p| !p.update_allowed && !p.required)
        );
        let length = s.property("length").unwrap();
        assert_eq!(length.ty, PropertyType::Integer);
        assert_eq!(length.default, Some(json!(32)));
        assert_eq!(
            length.constraints,
            [ConstraintKind::Range {
                min: Some(1.0),
                max: Some(512.0)
            }]
        );
        assert_eq!(
            s.property("character_classes").unwrap().default,
            Some(json!([{"class": "lettersdigits", "min": 1}]))
        );
        let PropertyType::List(Some(item)) = &s.property("character_classes").unwrap().ty else {
            panic!("list of maps");
        };
        let PropertyType::Map(keys) = &item.ty else {
            panic!("map");
        };
        assert_eq!(keys[0].default, Some(json!("lettersdigits")));
        assert_eq!(keys[1].default, Some(json!(1)));
        let PropertyType::List(Some(item)) = &s.property("character_sequences").unwrap().ty else {
            panic!("list of maps");
        };
        let PropertyType::Map(keys) = &item.ty else {
            panic!("map");
        };
        assert!(keys[0].required && keys[0].default.is_none());
        assert_eq!(keys[1].default, Some(json!(1)));
        for name in ["sequence", "character_sequences", "salt"] {
            assert!(s.property(name).unwrap().default.is_none(), "{name}");
        }
        assert_eq!(s.attributes.len(), 1);
        assert!(s.attribute("value").is_some());
    }

    #[test]
    fn class_members_are_heats() {
        let cases = [
            ("lettersdigits", 62),
            ("letters", 52),
            ("lowercase", 26),
            ("uppercase", 26),
            ("digits", 10),
            ("hexdigits", 16),
            ("octdigits", 8),
        ];
        for (class, n) in cases {
            assert_eq!(class_members(class).unwrap().len(), n, "{class}");
        }
        assert_eq!(CHARACTER_CLASSES.len(), cases.len());
        assert!(!class_members("hexdigits").unwrap().contains('a'));
        assert_eq!(class_members("punctuation"), None);
    }

    #[test]
    fn specs_read_like_heat() {
        let cases: &[(serde_json::Value, usize, &[(&str, usize)])] = &[
            (json!({}), 32, &[("lettersdigits", 1)]),
            (json!({"length": 10}), 10, &[("lettersdigits", 1)]),
            (json!({"length": "12"}), 12, &[("lettersdigits", 1)]),
            // Sequences alone still get the default class (Heat applies its default).
            (
                json!({"length": 10, "character_sequences": [{"sequence": "$_", "min": 2}]}),
                10,
                &[("$_", 2), ("lettersdigits", 1)],
            ),
            (
                json!({"character_classes": [{"class": "digits"}]}),
                32,
                &[("digits", 1)],
            ),
            (
                json!({"character_classes": [{"min": 3}]}),
                32,
                &[("lettersdigits", 3)],
            ),
            (
                json!({"character_classes": null}),
                32,
                &[("lettersdigits", 1)],
            ),
            // The deprecated `sequence` replaces the default classes and adds to written ones.
            (json!({"sequence": "octdigits"}), 32, &[("octdigits", 1)]),
            (
                json!({"sequence": "octdigits",
                       "character_classes": [{"class": "lettersdigits", "min": 1}]}),
                32,
                &[("octdigits", 1)],
            ),
            (
                json!({"sequence": "octdigits", "character_classes": [{"class": "digits"}]}),
                32,
                &[("digits", 1), ("octdigits", 1)],
            ),
            (
                json!({"length": 5, "character_classes": [{"class": "digits", "min": 5}]}),
                5,
                &[("digits", 5)],
            ),
            (
                json!({"character_classes": [],
                       "character_sequences": [{"sequence": "aab", "min": 1}]}),
                32,
                &[("ab", 1)],
            ),
        ];
        for (input, length, pools) in cases {
            let spec = CharSpec::from_properties(&props(input.clone())).unwrap();
            assert_eq!(spec.length, *length, "{input}");
            let want: Vec<CharPool> = pools
                .iter()
                .map(|(set, min)| CharPool {
                    chars: class_members(set)
                        .unwrap_or(set)
                        .chars()
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    min: *min,
                })
                .collect();
            assert_eq!(spec.pools, want, "{input}");
        }
    }

    #[test]
    fn impossible_or_malformed_specs_are_refused() {
        let cases: &[(serde_json::Value, &str)] = &[
            (
                json!({"length": 5, "character_classes": [{"class": "digits", "min": 5}],
                       "character_sequences": [{"sequence": "(),[]{}", "min": 1}]}),
                "length: 5 is smaller than the character class and character sequence \
                 minimums added together (6)",
            ),
            (
                json!({"length": 0}),
                "length: 0 is out of range (min: 1, max: 512)",
            ),
            (json!({"length": 513}), "length: 513 is out of range"),
            (json!({"length": -3}), "length: -3 is out of range"),
            (json!({"length": 1.5}), "length: 1.5 is not an integer"),
            (
                json!({"length": "ten"}),
                "length: \"ten\" is not an integer",
            ),
            (
                json!({"character_classes": [{"class": "emoji"}]}),
                "character_classes.0.class: \"emoji\" is not one of",
            ),
            (
                json!({"character_classes": [{"min": 0}]}),
                "character_classes.0.min: 0 is out of range",
            ),
            (
                json!({"character_classes": "digits"}),
                "character_classes: \"digits\" is not a list",
            ),
            (
                json!({"character_classes": ["digits"]}),
                "character_classes.0: \"digits\" is not a map",
            ),
            (
                json!({"character_sequences": [{"min": 1}]}),
                "character_sequences.0.sequence: the property is required",
            ),
            (
                json!({"character_sequences": [{"sequence": ""}]}),
                "character_sequences.0.sequence: the sequence is empty",
            ),
            (
                json!({"character_sequences": [{"sequence": 5}]}),
                "character_sequences.0.sequence: 5 is not a string",
            ),
            (
                json!({"character_sequences": [{"sequence": "ab", "min": 600}]}),
                "character_sequences.0.min: 600 is out of range",
            ),
            (
                json!({"sequence": "emoji"}),
                "sequence: \"emoji\" is not one of",
            ),
            (json!({"sequence": 3}), "sequence: 3 is not a string"),
            (
                json!({"character_classes": []}),
                "no characters to choose from",
            ),
        ];
        for (input, want) in cases {
            let err = validate(&props(input.clone())).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
        // Every problem is reported, not just the first.
        let err = validate(&props(json!({
            "character_classes": [{"class": "emoji"}, {"min": 0}],
            "character_sequences": [{"sequence": ""}]
        })))
        .unwrap_err();
        assert_eq!(err.matches("; ").count(), 2, "{err}");
    }

    #[test]
    fn generation_meets_heats_examples() {
        // The cases Heat's own tests use: each minimum is met and the length is exact.
        let spec = CharSpec::from_properties(&props(json!({
            "length": 32,
            "character_classes": [
                {"class": "digits", "min": 1},
                {"class": "uppercase", "min": 1},
                {"class": "lowercase", "min": 20}
            ],
            "character_sequences": [
                {"sequence": "(),[]{}", "min": 1},
                {"sequence": "$_", "min": 2},
                {"sequence": "@", "min": 5}
            ]
        })))
        .unwrap();
        let random = SeededRandom::new(99);
        for _ in 0..50 {
            let s = spec.generate(&random);
            assert_eq!(s.chars().count(), 32);
            assert!(count_in(&s, "0123456789") >= 1, "{s}");
            assert!(count_in(&s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") >= 1, "{s}");
            assert!(count_in(&s, "abcdefghijklmnopqrstuvwxyz") >= 20, "{s}");
            assert!(count_in(&s, "(),[]{}") >= 1, "{s}");
            assert!(count_in(&s, "$_") >= 2, "{s}");
            assert!(count_in(&s, "@") >= 5, "{s}");
        }
    }

    #[test]
    fn fill_draws_from_the_union_and_the_shuffle_moves_minimums() {
        let spec = CharSpec::from_properties(&props(json!({
            "length": 400,
            "character_classes": [{"class": "octdigits", "min": 1}],
            "character_sequences": [{"sequence": "xy", "min": 1}]
        })))
        .unwrap();
        let random = SeededRandom::new(5);
        let s = spec.generate(&random);
        let seen: BTreeSet<char> = s.chars().collect();
        assert_eq!(seen, "01234567xy".chars().collect());
        // The minimums are drawn first, so without a shuffle the first character would
        // always be from the sequence.
        let firsts: BTreeSet<char> = (0..40)
            .filter_map(|_| spec.generate(&random).chars().next())
            .collect();
        assert!(firsts.iter().any(|c| c.is_ascii_digit()), "{firsts:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_string() {
        let spec = CharSpec::from_properties(&props(json!({}))).unwrap();
        let a = spec.generate(&SeededRandom::new(3));
        let b = spec.generate(&SeededRandom::new(3));
        let c = spec.generate(&SeededRandom::new(4));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    proptest! {
        #[test]
        fn generated_strings_have_the_length_and_every_minimum(
            seed in any::<u64>(),
            classes in prop::collection::vec((0usize..7, 1usize..6), 0..4),
            sequences in prop::collection::vec(("[!-~]{1,6}", 1usize..6), 0..4),
            extra in 0usize..40,
        ) {
            prop_assume!(!classes.is_empty() || !sequences.is_empty());
            let minimums: usize =
                classes.iter().map(|c| c.1).sum::<usize>()
                    + sequences.iter().map(|s| s.1).sum::<usize>();
            let length = (minimums + extra).clamp(1, 512);
            let input = json!({
                "length": length,
                "character_classes": classes
                    .iter()
                    .map(|(c, m)| json!({"class": CHARACTER_CLASSES[*c], "min": m}))
                    .collect::<Vec<_>>(),
                "character_sequences": sequences
                    .iter()
                    .map(|(s, m)| json!({"sequence": s, "min": m}))
                    .collect::<Vec<_>>(),
            });
            let spec = CharSpec::from_properties(&props(input)).unwrap();
            let s = spec.generate(&SeededRandom::new(seed));
            prop_assert_eq!(s.chars().count(), length);
            for (c, m) in &classes {
                let members = class_members(CHARACTER_CLASSES[*c]).unwrap();
                prop_assert!(count_in(&s, members) >= *m, "{} {} {}", s, members, m);
            }
            for (set, m) in &sequences {
                prop_assert!(count_in(&s, set) >= *m, "{} {} {}", s, set, m);
            }
            let allowed: String = classes
                .iter()
                .map(|(c, _)| class_members(CHARACTER_CLASSES[*c]).unwrap().to_string())
                .chain(sequences.iter().map(|(s, _)| s.clone()))
                .collect();
            prop_assert!(s.chars().all(|ch| allowed.contains(ch)));
        }

        #[test]
        fn minimums_beyond_the_length_are_refused(
            length in 1usize..20,
            mins in prop::collection::vec(1usize..10, 1..5),
        ) {
            let sum: usize = mins.iter().sum();
            let input = json!({
                "length": length,
                "character_classes": mins
                    .iter()
                    .map(|m| json!({"class": "digits", "min": m}))
                    .collect::<Vec<_>>(),
            });
            let result = validate(&props(input));
            prop_assert_eq!(result.is_ok(), sum <= length);
        }
    }

    #[test]
    fn create_keeps_the_string_and_the_attribute_returns_it() {
        let h = Harness::new(11);
        let p = RandomStringResource::new();
        let empty = ResourceData::new();
        let ctx = h.ctx("secret", &empty);
        let created = block_on(p.create(&ctx, &props(json!({"length": 10, "salt": "1"})))).unwrap();
        assert_eq!(created.progress, Progress::Done);
        assert!(created.physical_id.starts_with("teststack-secret-"));
        let value = created.data.get(DATA_VALUE).unwrap().clone();
        assert_eq!(value.len(), 10);
        let ctx = h.ctx("secret", &created.data);
        for _ in 0..2 {
            assert_eq!(
                block_on(p.attribute(&ctx, "id", "value")),
                Ok(Value::String(value.clone()))
            );
        }
        assert_eq!(p.reference_id(&ctx, "id"), Some(value.clone()));
        assert_eq!(p.reference_id(&h.ctx("secret", &empty), "id"), None);
        assert_eq!(block_on(p.attribute(&ctx, "id", "show")), Ok(Value::Null));
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "length")),
            Err(ProviderError::UnknownAttribute("length".to_string()))
        );
        assert_eq!(
            block_on(p.attribute(&h.ctx("secret", &empty), "id", "value")),
            Ok(Value::Null)
        );
        assert_eq!(block_on(p.delete(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(block_on(p.delete(&ctx, "id")), Ok(Progress::Done));
    }

    #[test]
    fn create_refuses_an_impossible_spec() {
        let h = Harness::new(1);
        let p = RandomStringResource::new();
        let empty = ResourceData::new();
        let err = block_on(p.create(
            &h.ctx("secret", &empty),
            &props(json!({"length": 2, "character_classes": [{"class": "digits", "min": 3}]})),
        ))
        .unwrap_err();
        assert!(
            matches!(&err, ProviderError::Failed(m)
            if m.starts_with(
                "Property error: resources.secret.properties.length: 2 is smaller"
            )),
            "{err}"
        );
    }

    #[test]
    fn any_change_means_replacement_naming_the_property() {
        let h = Harness::new(1);
        let p = RandomStringResource::new();
        let empty = ResourceData::new();
        let ctx = h.ctx("secret", &empty);
        let cases: &[(serde_json::Value, serde_json::Value, &str)] = &[
            (json!({"salt": "a"}), json!({"salt": "b"}), "salt changed"),
            (json!({"length": 8}), json!({"length": 9}), "length changed"),
            (json!({}), json!({}), "cannot be updated in place"),
        ];
        for (old, new, want) in cases {
            let updated =
                block_on(p.update(&ctx, "id", &props(old.clone()), &props(new.clone()))).unwrap();
            assert!(
                matches!(&updated, Updated::NeedsReplacement { reason } if reason.contains(want)),
                "{updated:?}"
            );
        }
    }
}
