//! The loaded document: a tree of [`Node`]s, each with its source [`Span`].
//!
//! YAML and JSON both load into this one shape. CloudFormation short-form tags are already
//! rewritten to their long form (`!Ref x` is the map `{Ref: x}`), and plain YAML scalars are
//! already resolved with Heat's YAML 1.1 rules, so nothing downstream sees YAML syntax.

use crate::span::Span;

/// One value in a loaded document.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value was written.
    pub span: Span,
}

/// The kinds of values a template document holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty value.
    Null,
    /// A boolean (YAML 1.1: `yes/no/on/off/true/false` in their case forms).
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A floating point number (or an integer too large for `i64`).
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys in document order.
    Map(Vec<(Key, Node)>),
}

/// A mapping key: always a string (non-string scalar keys are kept in their written form,
/// as Heat's JSON round-trip does), with its span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key was written.
    pub span: Span,
}

impl Node {
    /// A node from a value and a span.
    pub fn new(value: Value, span: Span) -> Node {
        Node { value, span }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks a key up in a mapping (the last one wins if a key is duplicated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Whether Python reads the value as false, as Heat does in `section or {}`: null,
    /// `false`, `0`, `0.0`, `""`, `[]` and `{}`.
    pub fn is_falsy(&self) -> bool {
        match &self.value {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Int(i) => *i == 0,
            Value::Float(f) => *f == 0.0,
            Value::String(s) => s.is_empty(),
            Value::Seq(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty(),
        }
    }

    /// A short name of the value's kind, for messages ("a string", "a list", ...).
    pub fn kind_name(&self) -> &'static str {
        self.value.kind_name()
    }

    /// Converts to a JSON value (spans dropped).
    pub fn to_json(&self) -> serde_json::Value {
        self.value.to_json()
    }
}

impl Value {
    /// A short name of the value's kind, for messages ("a string", "a list", ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// Converts to a JSON value (spans dropped; for duplicated keys the last one wins).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.name.clone(), v.to_json());
                }
                J::Object(map)
            }
        }
    }
}
