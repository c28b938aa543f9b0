//! Resource type schemas: properties (types, required, defaults, constraints, update_allowed,
//! immutable) and attributes, and the validation of a resource's properties against them.
//! OWNER: schema/registry helper (validation functions); the types below are the contract.
//!
//! # Validation, in two stages (as Heat does)
//!
//! 1. [`validate_static`], before anything is evaluated, looks at a resource's `properties`
//!    as written: unknown property names (`E6001`), required properties that are missing
//!    (`E6002`, unless the whole `properties` is a function call), literal values of the wrong
//!    type (`E6003`) and literal values that break a constraint (`E6004`). A function call can
//!    produce anything, so whatever contains one is left for the second stage. Diagnostics
//!    point at the offending key or value.
//! 2. [`resolve`], after evaluation, turns the evaluated values into the [`Properties`] a
//!    provider receives: defaults applied, values converted as Heat converts them, nested
//!    schemas checked, every problem reported as a [`PropertyError`] in Heat's style
//!    (`Property error: resources.web.properties.length: "abc" is not an integer`).
//!
//! Both stages share one implementation of the conversions and constraint checks; the
//! constraint checks themselves are [`crate::parameters::check_constraint`]'s.
//!
//! # Conversions (Heat's `Property.get_value`)
//!
//! | type      | accepts                                                                      |
//! |-----------|------------------------------------------------------------------------------|
//! | `String`  | strings; integers and booleans become text (`5` → `"5"`, `true` → `"True"`); floats, lists and maps are errors |
//! | `Integer` | integers; strings holding an integer (`" 5 "`, `"1_000"`); floats are truncated (`5.9` → `5`); booleans are `1`/`0` |
//! | `Number`  | numbers; strings holding an integer or a float; booleans are `1`/`0`          |
//! | `Boolean` | booleans; the strings `true`/`false` in any case (not `yes`, not `1`)        |
//! | `List`    | lists (a string is **not** split on commas: Heat only does that for template-resource properties); items follow the item schema |
//! | `Map`     | maps; with sub-properties, the map is itself validated as properties          |
//! | `Any`     | anything                                                                      |
//!
//! A property given as `null` gets its default, or the type's empty value (`""`, `0`,
//! `false`, `[]`, `{}`), as in Heat; this also holds for required properties. A property
//! that is not given and has no default is left out of [`Properties`] (Heat reads it as
//! `None`). Unlike Heat (where it is lost), the default of an `Any` property is applied.
//!
//! A [`PropertyType::Map`] with an empty list of sub-properties is a free-form map.
//!
//! # Updates
//!
//! [`update_kind`] compares old and new resolved properties: a change to an `immutable`
//! property is [`UpdateKind::Forbidden`]; otherwise a change to a property that is not
//! `update_allowed` means [`UpdateKind::Replace`]; otherwise the update is in place.

use std::fmt;

use serde_json::{Map, Value};

use crate::diagnostic::{Code, Diagnostic};
use crate::engine::provider::Properties;
use crate::names;
use crate::parameters::{
    self, CustomCheck, Number as ParamNumber, ParamValue, check_constraint, constraint_kind_name,
    scalar_text,
};
use crate::span::Span;
use crate::template::expr::{Expr, ExprKind};
use crate::template::model::{Constraint, ConstraintKind, ParameterType, Resource};
use crate::template::version::{Format, Version};

/// The type of a property value.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyType {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A number (integer or float).
    Number,
    /// A boolean (Heat accepts the strings `true`/`false` too).
    Boolean,
    /// A list; items follow the schema when one is given.
    List(Option<Box<PropertySchema>>),
    /// A map; with a schema, its keys are themselves properties.
    Map(Vec<PropertySchema>),
    /// Any JSON value.
    Any,
}

/// One property.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertySchema {
    /// The name.
    pub name: &'static str,
    /// What it does (shown by `resource type show`).
    pub description: &'static str,
    /// The value's type.
    pub ty: PropertyType,
    /// Whether a value must be given (there is no default).
    pub required: bool,
    /// The value used when none is given.
    pub default: Option<Value>,
    /// Constraints on the value (the same kinds as parameter constraints).
    pub constraints: Vec<ConstraintKind>,
    /// Whether a change can be applied in place (otherwise it means replacement).
    pub update_allowed: bool,
    /// Whether the value may never change after create (an update that changes it fails).
    pub immutable: bool,
}

impl PropertySchema {
    /// A property of the given type; not required, no default, replaced on change.
    pub fn new(name: &'static str, ty: PropertyType, description: &'static str) -> PropertySchema {
        PropertySchema {
            name,
            description,
            ty,
            required: false,
            default: None,
            constraints: Vec::new(),
            update_allowed: false,
            immutable: false,
        }
    }

    /// Marks the property required.
    #[must_use]
    pub fn required(mut self) -> PropertySchema {
        self.required = true;
        self
    }

    /// Sets the default.
    #[must_use]
    pub fn default(mut self, value: Value) -> PropertySchema {
        self.default = Some(value);
        self
    }

    /// Adds a constraint.
    #[must_use]
    pub fn constraint(mut self, constraint: ConstraintKind) -> PropertySchema {
        self.constraints.push(constraint);
        self
    }

    /// Allows in-place updates.
    #[must_use]
    pub fn update_allowed(mut self) -> PropertySchema {
        self.update_allowed = true;
        self
    }

    /// Forbids any change after create.
    #[must_use]
    pub fn immutable(mut self) -> PropertySchema {
        self.immutable = true;
        self
    }
}

/// One attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeSchema {
    /// The name.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// A resource type's schema.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSchema {
    /// The type name (`OS::Heat::RandomString`).
    pub type_name: &'static str,
    /// What the type does.
    pub description: &'static str,
    /// The properties.
    pub properties: Vec<PropertySchema>,
    /// The attributes (`show` is implied, as in Heat).
    pub attributes: Vec<AttributeSchema>,
    /// Whether the type accepts any properties (`OS::Heat::None`): unknown properties are
    /// neither reported by [`validate_static`] nor by [`resolve`], which passes them through
    /// unchanged.
    pub open: bool,
}

impl ResourceSchema {
    /// Looks a property up by name.
    pub fn property(&self, name: &str) -> Option<&PropertySchema> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Looks an attribute up by name.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl PropertyType {
    /// How messages name the type: `a string`, `an integer`, `a list`, ...
    pub fn phrase(&self) -> &'static str {
        match self {
            PropertyType::String => "a string",
            PropertyType::Integer => "an integer",
            PropertyType::Number => "a number",
            PropertyType::Boolean => "a boolean",
            PropertyType::List(_) => "a list",
            PropertyType::Map(_) => "a map",
            PropertyType::Any => "any value",
        }
    }

    /// The type's name as `resource type show` prints it (`string`, `integer`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            PropertyType::String => "string",
            PropertyType::Integer => "integer",
            PropertyType::Number => "number",
            PropertyType::Boolean => "boolean",
            PropertyType::List(_) => "list",
            PropertyType::Map(_) => "map",
            PropertyType::Any => "any",
        }
    }

    /// The value a property of this type gets when it is given as `null` and has no default.
    pub fn empty_value(&self) -> Value {
        match self {
            PropertyType::String => Value::String(String::new()),
            PropertyType::Integer | PropertyType::Number => Value::from(0),
            PropertyType::Boolean => Value::Bool(false),
            PropertyType::List(_) => Value::Array(Vec::new()),
            PropertyType::Map(_) => Value::Object(Map::new()),
            PropertyType::Any => Value::Null,
        }
    }

    /// Whether a constraint kind may be used on this type (Heat's rules: `range` and
    /// `modulo` on numbers; `length` on strings, lists and maps; `allowed_values` and
    /// `custom_constraint` on everything but maps; `allowed_pattern` on strings).
    pub fn allows_constraint(&self, kind: &ConstraintKind) -> bool {
        use PropertyType as T;
        match kind {
            ConstraintKind::Range { .. } | ConstraintKind::Modulo { .. } => {
                matches!(self, T::Integer | T::Number)
            }
            ConstraintKind::Length { .. } => matches!(self, T::String | T::List(_) | T::Map(_)),
            ConstraintKind::AllowedValues(_) | ConstraintKind::Custom(_) => matches!(
                self,
                T::String | T::Integer | T::Number | T::Boolean | T::List(_)
            ),
            ConstraintKind::AllowedPattern(_) => matches!(self, T::String),
        }
    }
}

impl ResourceSchema {
    /// Mistakes in the schema itself (for the tests of whoever writes one): duplicate
    /// property names, a property both `update_allowed` and `immutable`, a constraint the
    /// property's type does not allow, a default that does not convert to the type or breaks
    /// a constraint; nested schemas included. Empty when the schema is sound.
    pub fn schema_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        schema_errors_in(&self.properties, self.type_name, &mut out);
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.attributes {
            if !seen.insert(a.name) {
                out.push(format!(
                    "{}: attribute {} is defined twice",
                    self.type_name, a.name
                ));
            }
        }
        out
    }
}

fn schema_errors_in(props: &[PropertySchema], at: &str, out: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    for p in props {
        let here = format!("{at}.{}", p.name);
        if !seen.insert(p.name) {
            out.push(format!("{here}: defined twice"));
        }
        schema_errors_of(p, &here, out);
    }
}

fn schema_errors_of(p: &PropertySchema, here: &str, out: &mut Vec<String>) {
    if p.update_allowed && p.immutable {
        out.push(format!(
            "{here}: update_allowed and immutable cannot both be set"
        ));
    }
    for c in &p.constraints {
        if !p.ty.allows_constraint(c) {
            out.push(format!(
                "{here}: a {} constraint cannot be used on a {} property",
                constraint_kind_name(c, Format::Hot),
                p.ty.name()
            ));
        }
    }
    if let Some(default) = p.default.as_ref().filter(|d| !d.is_null()) {
        let mut errs = Vec::new();
        let _ = resolve_value(p, default, &mut Vec::new(), &mut errs);
        for e in errs {
            out.push(format!("{here}: the default is not valid: {}", e.message));
        }
    }
    match &p.ty {
        PropertyType::List(Some(item)) => schema_errors_of(item, &format!("{here}.*"), out),
        PropertyType::Map(sub) => schema_errors_in(sub, here, out),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Property errors
// ---------------------------------------------------------------------------------------------

/// What kind of problem a property value has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropertyErrorKind {
    /// A property the schema does not have (`E6001`).
    Unknown,
    /// A required property with no value (`E6002`).
    Missing,
    /// A value of the wrong type (`E6003`).
    Type,
    /// A value that breaks a constraint (`E6004`).
    Constraint,
}

impl PropertyErrorKind {
    /// The diagnostic code for this kind of problem.
    pub fn code(self) -> Code {
        match self {
            PropertyErrorKind::Unknown => Code::UnknownProperty,
            PropertyErrorKind::Missing => Code::MissingRequiredProperty,
            PropertyErrorKind::Type => Code::PropertyType,
            PropertyErrorKind::Constraint => Code::PropertyConstraint,
        }
    }
}

/// One problem with a resource's property values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyError {
    /// What kind of problem.
    pub kind: PropertyErrorKind,
    /// Where, from the properties map down: property names and list indices (as decimal
    /// text), e.g. `["networks", "0", "port"]`. For [`PropertyErrorKind::Unknown`] and
    /// [`PropertyErrorKind::Missing`] the last element is the property's own name. Empty
    /// when the properties as a whole are wrong (not a map).
    pub path: Vec<String>,
    /// What is wrong, without the path (`"abc" is not an integer`).
    pub message: String,
    /// What to do about it (the property's type and description, the constraint, a
    /// spelling suggestion, ...).
    pub hint: String,
}

impl PropertyError {
    /// The path shown in messages: the value's own for type and constraint errors, the map
    /// it is (or should be) in for unknown and missing properties, as Heat shows them.
    fn shown_path(&self) -> &[String] {
        match self.kind {
            PropertyErrorKind::Unknown | PropertyErrorKind::Missing => {
                &self.path[..self.path.len().saturating_sub(1)]
            }
            PropertyErrorKind::Type | PropertyErrorKind::Constraint => &self.path,
        }
    }

    /// The message in Heat's style for a resource:
    /// `Property error: resources.web.properties.length: "abc" is not an integer`.
    pub fn message_for(&self, resource_name: &str) -> String {
        format!(
            "Property error: {}: {}",
            dotted(
                &format!("resources.{resource_name}.properties"),
                self.shown_path()
            ),
            self.message
        )
    }
}

impl fmt::Display for PropertyError {
    /// `Property error: properties.length: "abc" is not an integer` (see
    /// [`PropertyError::message_for`] for the form naming the resource).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Property error: {}: {}",
            dotted("properties", self.shown_path()),
            self.message
        )
    }
}

impl std::error::Error for PropertyError {}

fn dotted(prefix: &str, path: &[String]) -> String {
    let mut out = prefix.to_string();
    for p in path {
        out.push('.');
        out.push_str(p);
    }
    out
}

/// A short text of a value for messages: strings in double quotes, the rest as JSON, at
/// most 80 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        text
    } else {
        let mut out: String = text.chars().take(80).collect();
        out.push_str("...");
        out
    }
}

/// The hint describing a property: its type and description.
fn property_hint(p: &PropertySchema) -> String {
    let desc = p.description.trim();
    if desc.is_empty() {
        format!("'{}' is {}", p.name, p.ty.phrase())
    } else {
        format!("'{}' is {}: {desc}", p.name, p.ty.phrase())
    }
}

fn describe_constraint(kind: &ConstraintKind) -> String {
    let num = |x: f64| {
        if x == x.trunc() && x.abs() < 1e16 {
            format!("{x:.0}")
        } else {
            format!("{x}")
        }
    };
    let bounds = |min: &Option<f64>, max: &Option<f64>| match (min, max) {
        (Some(lo), Some(hi)) => format!("from {} to {}", num(*lo), num(*hi)),
        (Some(lo), None) => format!("at least {}", num(*lo)),
        (None, Some(hi)) => format!("at most {}", num(*hi)),
        (None, None) => "any".to_string(),
    };
    match kind {
        ConstraintKind::Length { min, max } => format!("have a length {}", bounds(min, max)),
        ConstraintKind::Range { min, max } => format!("be {}", bounds(min, max)),
        ConstraintKind::Modulo { step, offset } => format!(
            "be a multiple of {} with an offset of {}",
            num(*step),
            num(*offset)
        ),
        ConstraintKind::AllowedValues(values) => {
            let items: Vec<String> = values.iter().map(Value::to_string).collect();
            format!("be one of [{}]", items.join(", "))
        }
        ConstraintKind::AllowedPattern(p) => format!("match the pattern \"{p}\""),
        ConstraintKind::Custom(name) => format!("be a valid {name}"),
    }
}

fn unknown_error(props: &[PropertySchema], name: &str, path: &[String]) -> PropertyError {
    let suggestion = names::did_you_mean(name, props.iter().map(|p| p.name));
    let message = format!("unknown property '{name}'");
    let hint = suggestion.unwrap_or_else(|| {
        if props.is_empty() {
            "this resource type has no properties: remove it".to_string()
        } else {
            let known: Vec<&str> = props.iter().map(|p| p.name).collect();
            format!("the properties here are: {}", known.join(", "))
        }
    });
    PropertyError {
        kind: PropertyErrorKind::Unknown,
        path: with(path, name),
        message,
        hint,
    }
}

fn missing_error(p: &PropertySchema, path: &[String]) -> PropertyError {
    PropertyError {
        kind: PropertyErrorKind::Missing,
        path: with(path, p.name),
        message: format!("the required property '{}' has no value", p.name),
        hint: format!("add it: {}", property_hint(p)),
    }
}

fn type_error(p: &PropertySchema, message: String, path: &[String]) -> PropertyError {
    PropertyError {
        kind: PropertyErrorKind::Type,
        path: path.to_vec(),
        message,
        hint: property_hint(p),
    }
}

fn with(path: &[String], last: &str) -> Vec<String> {
    let mut out = path.to_vec();
    out.push(last.to_string());
    out
}

// ---------------------------------------------------------------------------------------------
// Conversion (stage 2, and stage 1 for literal values)
// ---------------------------------------------------------------------------------------------

/// Resolves evaluated properties against a schema: applies defaults, converts values as Heat
/// does, checks nested schemas and constraints. `None` (no `properties` section) is an empty
/// map. Every problem is returned, not only the first.
pub fn resolve(
    schema: &ResourceSchema,
    evaluated: Option<Value>,
) -> Result<Properties, Vec<PropertyError>> {
    let data = match evaluated {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(vec![PropertyError {
                kind: PropertyErrorKind::Type,
                path: Vec::new(),
                message: format!("the properties must be a map, found {}", shown(&other)),
                hint: format!(
                    "write the properties of {} as a map of names to values",
                    schema.type_name
                ),
            }]);
        }
    };
    let mut errs = Vec::new();
    if schema.open {
        let (known, unknown): (Map<String, Value>, Map<String, Value>) = data
            .into_iter()
            .partition(|(k, _)| schema.property(k).is_some());
        let mut out = resolve_map(&schema.properties, &known, &mut Vec::new(), &mut errs);
        out.extend(unknown);
        return if errs.is_empty() { Ok(out) } else { Err(errs) };
    }
    let out = resolve_map(&schema.properties, &data, &mut Vec::new(), &mut errs);
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// Resolves one map of properties (the top level, or a map property's sub-properties).
fn resolve_map(
    props: &[PropertySchema],
    data: &Map<String, Value>,
    path: &mut Vec<String>,
    errs: &mut Vec<PropertyError>,
) -> Map<String, Value> {
    for key in data.keys() {
        if !props.iter().any(|p| p.name == key) {
            errs.push(unknown_error(props, key, path));
        }
    }
    let mut out = Map::new();
    for p in props {
        let given = data.get(p.name);
        let has_default = p.default.as_ref().is_some_and(|d| !d.is_null());
        if given.is_none() && !has_default {
            if p.required {
                errs.push(missing_error(p, path));
            }
            continue;
        }
        path.push(p.name.to_string());
        let value = resolve_value(p, given.unwrap_or(&Value::Null), path, errs);
        path.pop();
        if let Some(value) = value {
            out.insert(p.name.to_string(), value);
        }
    }
    out
}

/// Converts one value (`null` meaning "use the default") and checks its constraints. `None`
/// when it could not be converted (the reason is in `errs`).
fn resolve_value(
    p: &PropertySchema,
    value: &Value,
    path: &mut Vec<String>,
    errs: &mut Vec<PropertyError>,
) -> Option<Value> {
    let filled;
    let value = if value.is_null() {
        filled = match &p.default {
            Some(d) if !d.is_null() => d.clone(),
            _ => p.ty.empty_value(),
        };
        &filled
    } else {
        value
    };
    let converted = match (&p.ty, value) {
        (PropertyType::List(Some(item)), Value::Array(items)) => {
            let before = errs.len();
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                if let Some(v) = resolve_value(item, v, path, errs) {
                    out.push(v);
                }
                path.pop();
            }
            if errs.len() > before {
                return None;
            }
            Value::Array(out)
        }
        (PropertyType::Map(sub), Value::Object(map)) if !sub.is_empty() => {
            let before = errs.len();
            let out = resolve_map(sub, map, path, errs);
            if errs.len() > before {
                return None;
            }
            Value::Object(out)
        }
        _ => match convert(&p.ty, value) {
            Ok(v) => v,
            Err(message) => {
                errs.push(type_error(p, message, path));
                return None;
            }
        },
    };
    for c in &p.constraints {
        if let Some(message) = constraint_violation(c, &p.ty, &converted) {
            errs.push(PropertyError {
                kind: PropertyErrorKind::Constraint,
                path: path.clone(),
                message,
                hint: format!("'{}' must be {}", p.name, describe_constraint(c)),
            });
        }
    }
    Some(converted)
}

/// Converts a non-null value to a type, as Heat's `Property.get_value` does (the top level
/// only: items and sub-properties are converted by the caller).
fn convert(ty: &PropertyType, value: &Value) -> Result<Value, String> {
    let not = |what: &str| format!("{} is not {what}", shown(value));
    match ty {
        PropertyType::Any => Ok(value.clone()),
        PropertyType::String => match value {
            Value::String(_) => Ok(value.clone()),
            Value::Bool(_) => Ok(Value::String(scalar_text(value, Format::Hot))),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Value::String(n.to_string())),
            _ => Err(not("a string")),
        },
        PropertyType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                let t = f.trunc();
                // i64::MAX as f64 rounds up to 2^63, which is out of range.
                #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
                if t.is_finite() && t >= i64::MIN as f64 && t < i64::MAX as f64 {
                    Ok(Value::from(t as i64))
                } else {
                    Err(format!("{} is too large for an integer", shown(value)))
                }
            }
            Value::Bool(b) => Ok(Value::from(i64::from(*b))),
            Value::String(s) => parse_integer(s).ok_or_else(|| not("an integer")),
            _ => Err(not("an integer")),
        },
        PropertyType::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::Bool(b) => Ok(Value::from(i64::from(*b))),
            Value::String(s) => match parameters::parse_number(s) {
                Some(ParamNumber::Int(i)) => Ok(Value::from(i)),
                Some(ParamNumber::Float(f)) => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| not("a finite number")),
                None => parse_integer(s).ok_or_else(|| not("a number")),
            },
            _ => Err(not("a number")),
        },
        PropertyType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(format!(
                "{} is not a valid boolean (use true or false)",
                shown(value)
            )),
        },
        PropertyType::List(_) => match value {
            Value::Array(_) => Ok(value.clone()),
            _ => Err(not("a list")),
        },
        PropertyType::Map(_) => match value {
            Value::Object(_) => Ok(value.clone()),
            _ => Err(not("a map")),
        },
    }
}

/// Parses an integer as Python's `int(text)` does: blanks around it, an optional sign,
/// digits with single `_` between them.
fn parse_integer(text: &str) -> Option<Value> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let well_formed = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.ends_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && !digits.contains("__");
    if !well_formed {
        return None;
    }
    let plain: String = digits.chars().filter(|c| *c != '_').collect();
    let signed = if negative {
        format!("-{plain}")
    } else {
        plain.clone()
    };
    if let Ok(i) = signed.parse::<i64>() {
        return Some(Value::from(i));
    }
    if !negative && let Ok(u) = plain.parse::<u64>() {
        return Some(Value::from(u));
    }
    None
}

fn param_number(n: &serde_json::Number) -> ParamNumber {
    match n.as_i64() {
        Some(i) => ParamNumber::Int(i),
        None => ParamNumber::Float(n.as_f64().unwrap_or(f64::NAN)),
    }
}

/// What is wrong with a converted value under one constraint, or `None`. Uses the parameter
/// constraint checks ([`check_constraint`]) with Heat's rules; for a list, `allowed_values`
/// applies to every item.
fn constraint_violation(kind: &ConstraintKind, ty: &PropertyType, value: &Value) -> Option<String> {
    if !ty.allows_constraint(kind) {
        return None;
    }
    let constraint = Constraint {
        kind: kind.clone(),
        description: None,
        span: Span::default(),
    };
    let check = |pv: ParamValue, pt: ParameterType| {
        check_constraint(
            &constraint,
            &pv,
            &pt,
            Format::Hot,
            false,
            CustomCheck::Offline,
        )
        .map(|v| v.message)
    };
    match (ty, value) {
        (PropertyType::String, Value::String(s)) => {
            check(ParamValue::String(s.clone()), ParameterType::String)
        }
        (PropertyType::Integer | PropertyType::Number, Value::Number(n)) => {
            check(ParamValue::Number(param_number(n)), ParameterType::Number)
        }
        (PropertyType::Boolean, Value::Bool(b)) => {
            check(ParamValue::Boolean(*b), ParameterType::Boolean)
        }
        (PropertyType::List(_), Value::Array(items)) => match kind {
            ConstraintKind::AllowedValues(_) => items
                .iter()
                .find_map(|item| check(ParamValue::Json(item.clone()), ParameterType::Json)),
            ConstraintKind::Custom(_) => check(
                ParamValue::List(items.iter().map(|i| scalar_text(i, Format::Hot)).collect()),
                ParameterType::CommaDelimitedList,
            ),
            _ => check(ParamValue::Json(value.clone()), ParameterType::Json),
        },
        (PropertyType::Map(_), Value::Object(_)) => {
            check(ParamValue::Json(value.clone()), ParameterType::Json)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Static validation (stage 1)
// ---------------------------------------------------------------------------------------------

/// Checks a resource's `properties`, as written, against its type's schema, before anything
/// is evaluated: unknown properties (`E6001`), missing required ones (`E6002`; not when the
/// properties are a function call), literal values of the wrong type (`E6003`) and literal
/// values that break a constraint (`E6004`). Values that are or contain a function call are
/// left for [`resolve`]. Nested schemas are checked recursively.
pub fn validate_static(
    schema: &ResourceSchema,
    resource: &Resource,
    version: Version,
) -> Vec<Diagnostic> {
    let mut found: Vec<(PropertyError, Span)> = Vec::new();
    match resource.properties.as_ref() {
        None => {
            for p in schema.properties.iter().filter(|p| is_required(p)) {
                found.push((missing_error(p, &[]), resource.name.span));
            }
        }
        Some(expr) => match &expr.kind {
            ExprKind::Null => {
                for p in schema.properties.iter().filter(|p| is_required(p)) {
                    found.push((missing_error(p, &[]), expr.span));
                }
            }
            ExprKind::Map(entries) => {
                static_map(
                    &schema.properties,
                    entries,
                    expr.span,
                    &mut Vec::new(),
                    &mut found,
                );
            }
            // A function can produce any map; anything else is a structure error (E1014).
            _ => {}
        },
    }
    let (resources, properties) = match version.format() {
        Format::Hot => ("resources", "properties"),
        Format::Cfn | Format::HeatCfn => ("Resources", "Properties"),
    };
    if schema.open {
        found.retain(|(e, _)| !(e.kind == PropertyErrorKind::Unknown && e.path.len() <= 1));
    }
    let prefix = format!("{resources}.{}.{properties}", resource.name.value);
    found
        .into_iter()
        .map(|(e, span)| {
            let message = format!("{}: {}", dotted(&prefix, e.shown_path()), e.message);
            let message = if e.kind == PropertyErrorKind::Unknown && e.path.len() == 1 {
                format!("{message} for {}", schema.type_name)
            } else {
                message
            };
            Diagnostic::error(e.kind.code(), span, message).with_hint(e.hint)
        })
        .collect()
}

/// Whether a property must be written (required, with no default).
fn is_required(p: &PropertySchema) -> bool {
    p.required && p.default.as_ref().is_none_or(Value::is_null)
}

fn static_map(
    props: &[PropertySchema],
    entries: &[(crate::template::node::Key, Expr)],
    map_span: Span,
    path: &mut Vec<String>,
    found: &mut Vec<(PropertyError, Span)>,
) {
    for (key, value) in entries {
        match props.iter().find(|p| p.name == key.name) {
            None => found.push((unknown_error(props, &key.name, path), key.span)),
            Some(p) => {
                path.push(key.name.clone());
                static_value(p, value, path, found);
                path.pop();
            }
        }
    }
    for p in props.iter().filter(|p| is_required(p)) {
        if !entries.iter().any(|(k, _)| k.name == p.name) {
            found.push((missing_error(p, path), map_span));
        }
    }
}

fn static_value(
    p: &PropertySchema,
    expr: &Expr,
    path: &mut Vec<String>,
    found: &mut Vec<(PropertyError, Span)>,
) {
    match &expr.kind {
        // A function can produce anything; null means "the default".
        ExprKind::Call(_) | ExprKind::Null => return,
        _ => {}
    }
    if let Some(json) = literal(expr) {
        let mut errs = Vec::new();
        let _ = resolve_value(p, &json, path, &mut errs);
        for e in errs {
            let span = locate(expr, e.path.get(path.len()..).unwrap_or(&[]), e.kind);
            found.push((e, span));
        }
        return;
    }
    // A list or map literal with function calls inside: check its shape and what is literal.
    match (&p.ty, &expr.kind) {
        (PropertyType::List(Some(item)), ExprKind::List(items)) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                static_value(item, v, path, found);
                path.pop();
            }
        }
        (PropertyType::Map(sub), ExprKind::Map(entries)) if !sub.is_empty() => {
            static_map(sub, entries, expr.span, path, found);
        }
        // A free-form map, a list without an item schema, anything.
        (PropertyType::Map(_), ExprKind::Map(_))
        | (PropertyType::List(None), ExprKind::List(_))
        | (PropertyType::Any, _) => {}
        // Only a list or map can hold a call; a scalar that is not a literal is a float JSON
        // cannot hold (`.inf`), left for evaluation.
        (_, ExprKind::List(_) | ExprKind::Map(_)) => found.push((
            type_error(
                p,
                format!("expected {}, found {}", p.ty.phrase(), expr.kind_name()),
                path,
            ),
            expr.span,
        )),
        _ => {}
    }
}

/// The value of an expression with no function call in it.
fn literal(expr: &Expr) -> Option<Value> {
    Some(match &expr.kind {
        ExprKind::Null => Value::Null,
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Int(i) => Value::from(*i),
        ExprKind::Float(f) => Value::Number(serde_json::Number::from_f64(*f)?),
        ExprKind::String(s) => Value::String(s.clone()),
        ExprKind::List(items) => Value::Array(items.iter().map(literal).collect::<Option<_>>()?),
        ExprKind::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                map.insert(k.name.clone(), literal(v)?);
            }
            Value::Object(map)
        }
        ExprKind::Call(_) => return None,
    })
}

/// The span of what a relative error path points at inside `expr`: the key for an unknown
/// property, the enclosing map for a missing one, the value otherwise (the nearest
/// enclosing expression when the path leaves what was written, e.g. inside a default).
fn locate(expr: &Expr, rel: &[String], kind: PropertyErrorKind) -> Span {
    let mut cur = expr;
    for (i, seg) in rel.iter().enumerate() {
        let last = i + 1 == rel.len();
        match &cur.kind {
            ExprKind::Map(entries) => match entries.iter().rev().find(|(k, _)| k.name == *seg) {
                Some((k, v)) => {
                    if last && kind == PropertyErrorKind::Unknown {
                        return k.span;
                    }
                    cur = v;
                }
                None => return cur.span,
            },
            ExprKind::List(items) => match seg.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(v) => cur = v,
                None => return cur.span,
            },
            _ => return cur.span,
        }
    }
    cur.span
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

/// What an update of a resource's properties needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateKind {
    /// No property changed.
    Unchanged,
    /// Every changed property is `update_allowed`: the provider updates in place.
    InPlace {
        /// The changed properties, in schema order.
        changed: Vec<String>,
    },
    /// A changed property is not `update_allowed`: the resource is replaced.
    Replace {
        /// The first such property, in schema order.
        property: String,
    },
    /// An `immutable` property changed: the update fails.
    Forbidden {
        /// The first such property, in schema order.
        property: String,
    },
}

impl UpdateKind {
    /// Why the resource is replaced or cannot be updated (names the property), or `None`.
    pub fn reason(&self) -> Option<String> {
        match self {
            UpdateKind::Unchanged | UpdateKind::InPlace { .. } => None,
            UpdateKind::Replace { property } => Some(format!(
                "the property '{property}' changed and cannot be updated in place"
            )),
            UpdateKind::Forbidden { property } => Some(format!(
                "the property '{property}' is immutable: it cannot change after the resource is \
                 created"
            )),
        }
    }
}

/// The properties whose resolved values differ between `old` and `new` (a missing value and
/// `null` are the same): the schema's in schema order, then, for an open schema, the
/// undeclared ones in name order (those count as updatable in place).
pub fn changed_properties(
    schema: &ResourceSchema,
    old: &Properties,
    new: &Properties,
) -> Vec<String> {
    let get = |m: &'_ Properties, k: &str| m.get(k).filter(|v| !v.is_null()).cloned();
    let mut out: Vec<String> = schema
        .properties
        .iter()
        .filter(|p| get(old, p.name) != get(new, p.name))
        .map(|p| p.name.to_string())
        .collect();
    if schema.open {
        let undeclared: std::collections::BTreeSet<&String> = old
            .keys()
            .chain(new.keys())
            .filter(|k| schema.property(k).is_none())
            .collect();
        out.extend(
            undeclared
                .into_iter()
                .filter(|k| get(old, k) != get(new, k))
                .cloned(),
        );
    }
    out
}

/// Classifies an update from `old` to `new` resolved properties: an immutable property
/// changed (forbidden) before a property that is not `update_allowed` (replace) before an
/// in-place update.
pub fn update_kind(schema: &ResourceSchema, old: &Properties, new: &Properties) -> UpdateKind {
    let changed = changed_properties(schema, old, new);
    if changed.is_empty() {
        return UpdateKind::Unchanged;
    }
    let props = || changed.iter().filter_map(|n| schema.property(n));
    if let Some(p) = props().find(|p| p.immutable) {
        return UpdateKind::Forbidden {
            property: p.name.to_string(),
        };
    }
    if let Some(p) = props().find(|p| !p.update_allowed) {
        return UpdateKind::Replace {
            property: p.name.to_string(),
        };
    }
    UpdateKind::InPlace { changed }
}

/// Why the update from `old` to `new` needs a replacement (naming the property), or `None`
/// when it does not. A forbidden change (an immutable property) is not a replacement: see
/// [`update_kind`].
pub fn needs_replacement(
    schema: &ResourceSchema,
    old: &Properties,
    new: &Properties,
) -> Option<String> {
    match update_kind(schema, old, new) {
        kind @ UpdateKind::Replace { .. } => kind.reason(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::template::load::Limits;
    use serde_json::json;

    fn item(name: &'static str, ty: PropertyType) -> PropertySchema {
        PropertySchema::new(name, ty, "")
    }

    /// A schema with one property of every kind.
    fn thing() -> ResourceSchema {
        use PropertyType as T;
        let network = item(
            "network",
            T::Map(vec![
                item("uuid", T::String).required(),
                item("fixed_ip", T::String).constraint(ConstraintKind::Custom("ip_addr".into())),
                item("port", T::Integer).default(json!(80)),
            ]),
        );
        ResourceSchema {
            open: false,
            type_name: "Test::Thing",
            description: "A test resource.",
            properties: vec![
                PropertySchema::new("name", T::String, "The name.")
                    .required()
                    .constraint(ConstraintKind::Length {
                        min: Some(1.0),
                        max: Some(8.0),
                    }),
                PropertySchema::new("size", T::Integer, "How big.")
                    .default(json!(1))
                    .constraint(ConstraintKind::Range {
                        min: Some(1.0),
                        max: Some(10.0),
                    })
                    .update_allowed(),
                item("ratio", T::Number).update_allowed(),
                item("enabled", T::Boolean)
                    .default(json!(true))
                    .update_allowed(),
                item("tags", T::List(None))
                    .constraint(ConstraintKind::Length {
                        min: None,
                        max: Some(3.0),
                    })
                    .update_allowed(),
                item(
                    "ports",
                    T::List(Some(Box::new(item("port", T::Integer).constraint(
                        ConstraintKind::Range {
                            min: Some(1.0),
                            max: Some(65535.0),
                        },
                    )))),
                ),
                item("networks", T::List(Some(Box::new(network)))),
                item("meta", T::Map(Vec::new())).update_allowed(),
                item("mode", T::String)
                    .constraint(ConstraintKind::AllowedValues(vec![
                        json!("fast"),
                        json!("slow"),
                    ]))
                    .immutable(),
                item("slug", T::String).constraint(ConstraintKind::AllowedPattern("[a-z]+".into())),
                item("zones", T::List(None)).constraint(ConstraintKind::AllowedValues(vec![
                    json!("az1"),
                    json!("az2"),
                ])),
                item("step", T::Integer).constraint(ConstraintKind::Modulo {
                    step: 2.0,
                    offset: 0.0,
                }),
                item("data", T::Any).default(json!({"k": 1})),
            ],
            attributes: vec![AttributeSchema {
                name: "out",
                description: "An output.",
            }],
        }
    }

    #[test]
    fn the_test_schema_is_sound() {
        assert_eq!(thing().schema_errors(), Vec::<String>::new());
    }

    #[test]
    fn schema_errors_are_found() {
        use PropertyType as T;
        let schema = ResourceSchema {
            open: false,
            type_name: "Bad::Type",
            description: "",
            properties: vec![
                item("a", T::String).update_allowed().immutable(),
                item("b", T::String).constraint(ConstraintKind::Range {
                    min: Some(1.0),
                    max: None,
                }),
                item("c", T::Integer).default(json!("x")),
                item("d", T::Integer)
                    .default(json!(50))
                    .constraint(ConstraintKind::Range {
                        min: None,
                        max: Some(10.0),
                    }),
                item("a", T::Any),
                item(
                    "e",
                    T::List(Some(Box::new(
                        item("x", T::Boolean)
                            .constraint(ConstraintKind::AllowedPattern("x".into())),
                    ))),
                ),
            ],
            attributes: vec![
                AttributeSchema {
                    name: "z",
                    description: "",
                },
                AttributeSchema {
                    name: "z",
                    description: "",
                },
            ],
        };
        let errors = schema.schema_errors();
        let expected = [
            "Bad::Type.a: update_allowed and immutable cannot both be set",
            "Bad::Type.b: a range constraint cannot be used on a string property",
            "Bad::Type.c: the default is not valid: \"x\" is not an integer",
            "Bad::Type.d: the default is not valid: 50 is out of range, it must be at most 10",
            "Bad::Type.a: defined twice",
            "Bad::Type.e.*: a allowed_pattern constraint cannot be used on a boolean property",
            "Bad::Type: attribute z is defined twice",
        ];
        assert_eq!(errors, expected);
    }

    #[test]
    fn conversions_follow_heat() {
        use PropertyType as T;
        let ok = |v: Value| Ok::<Value, &str>(v);
        let cases: Vec<(PropertyType, Value, Result<Value, &str>)> = vec![
            (T::String, json!("x"), ok(json!("x"))),
            (T::String, json!(5), ok(json!("5"))),
            (T::String, json!(true), ok(json!("True"))),
            (T::String, json!(false), ok(json!("False"))),
            (T::String, json!(1.5), Err("1.5 is not a string")),
            (T::String, json!([1]), Err("[1] is not a string")),
            (T::String, json!({"a": 1}), Err("{\"a\":1} is not a string")),
            (T::Integer, json!(5), ok(json!(5))),
            (T::Integer, json!(" 5 "), ok(json!(5))),
            (T::Integer, json!("-12"), ok(json!(-12))),
            (T::Integer, json!("+7"), ok(json!(7))),
            (T::Integer, json!("1_000"), ok(json!(1000))),
            (
                T::Integer,
                json!("18446744073709551615"),
                ok(json!(u64::MAX)),
            ),
            (T::Integer, json!(5.9), ok(json!(5))),
            (T::Integer, json!(-5.9), ok(json!(-5))),
            (T::Integer, json!(true), ok(json!(1))),
            (
                T::Integer,
                json!(1e300),
                Err("1e+300 is too large for an integer"),
            ),
            (T::Integer, json!("abc"), Err("\"abc\" is not an integer")),
            (T::Integer, json!("5.0"), Err("\"5.0\" is not an integer")),
            (T::Integer, json!("1__0"), Err("\"1__0\" is not an integer")),
            (T::Integer, json!("_1"), Err("\"_1\" is not an integer")),
            (T::Integer, json!(""), Err("\"\" is not an integer")),
            (T::Integer, json!([5]), Err("[5] is not an integer")),
            (T::Number, json!(2.5), ok(json!(2.5))),
            (T::Number, json!("2.5"), ok(json!(2.5))),
            (T::Number, json!(" 3 "), ok(json!(3))),
            (T::Number, json!("1e3"), ok(json!(1000.0))),
            (T::Number, json!("1_000"), ok(json!(1000))),
            (T::Number, json!(false), ok(json!(0))),
            (
                T::Number,
                json!("inf"),
                Err("\"inf\" is not a finite number"),
            ),
            (T::Number, json!("x"), Err("\"x\" is not a number")),
            (T::Number, json!({}), Err("{} is not a number")),
            (T::Boolean, json!(true), ok(json!(true))),
            (T::Boolean, json!("TRUE"), ok(json!(true))),
            (T::Boolean, json!("False"), ok(json!(false))),
            (
                T::Boolean,
                json!("yes"),
                Err("\"yes\" is not a valid boolean"),
            ),
            (T::Boolean, json!(1), Err("1 is not a valid boolean")),
            (T::List(None), json!([1, "a"]), ok(json!([1, "a"]))),
            (T::List(None), json!("a,b"), Err("\"a,b\" is not a list")),
            (T::List(None), json!({}), Err("{} is not a list")),
            (T::Map(Vec::new()), json!({"a": [1]}), ok(json!({"a": [1]}))),
            (T::Map(Vec::new()), json!([]), Err("[] is not a map")),
            (T::Map(Vec::new()), json!("m"), Err("\"m\" is not a map")),
            (T::Any, json!([{"a": null}]), ok(json!([{"a": null}]))),
        ];
        for (ty, input, expected) in cases {
            let got = convert(&ty, &input);
            match expected {
                Ok(v) => assert_eq!(got, Ok(v), "{ty:?} {input}"),
                Err(msg) => {
                    let err = got.expect_err(&format!("{ty:?} {input} should fail"));
                    assert!(err.starts_with(msg), "{ty:?} {input}: {err}");
                }
            }
        }
    }

    #[test]
    fn resolve_applies_defaults_and_converts() {
        let schema = thing();
        let got = resolve(
            &schema,
            Some(json!({
                "name": "web",
                "size": "7",
                "enabled": "false",
                "ports": [80, "443"],
                "networks": [{"uuid": "n1"}, {"uuid": 5, "port": null}],
                "ratio": null,
            })),
        )
        .unwrap();
        assert_eq!(
            Value::Object(got),
            json!({
                "name": "web",
                "size": 7,
                // null: the default, or the type's empty value
                "ratio": 0,
                "enabled": false,
                "ports": [80, 443],
                "networks": [{"uuid": "n1", "port": 80}, {"uuid": "5", "port": 80}],
                "data": {"k": 1},
            })
        );
        // No properties at all: the defaults, and the missing required property.
        let errs = resolve(&schema, None).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].kind, PropertyErrorKind::Missing);
        assert_eq!(
            errs[0].message_for("web"),
            "Property error: resources.web.properties: the required property 'name' has no value"
        );
        assert_eq!(
            resolve(&schema, Some(json!(null))).unwrap_err(),
            resolve(&schema, None).unwrap_err()
        );
    }

    #[test]
    fn resolve_reports_every_problem() {
        let schema = thing();
        // (properties, expected errors as (kind, Heat-style message))
        let cases: Vec<(Value, Vec<(PropertyErrorKind, &str)>)> = vec![
            (
                json!({"name": "x", "sise": 2}),
                vec![(
                    PropertyErrorKind::Unknown,
                    "Property error: resources.r.properties: unknown property 'sise'",
                )],
            ),
            (
                json!({"name": "x", "size": "abc"}),
                vec![(
                    PropertyErrorKind::Type,
                    "Property error: resources.r.properties.size: \"abc\" is not an integer",
                )],
            ),
            (
                json!({"name": "x", "size": 11}),
                vec![(
                    PropertyErrorKind::Constraint,
                    "Property error: resources.r.properties.size: 11 is out of range, it must be between 1 and 10",
                )],
            ),
            (
                json!({"name": "", "tags": [1, 2, 3, 4], "mode": "medium"}),
                vec![
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.name: the length is 0, it must be between 1 and 8",
                    ),
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.tags: the length is 4, it must be at most 3",
                    ),
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.mode: \"medium\" is not an allowed value [\"fast\", \"slow\"]",
                    ),
                ],
            ),
            (
                json!({"name": "x", "ports": [80, 70000, "x"]}),
                vec![
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.ports.1: 70000 is out of range, it must be between 1 and 65535",
                    ),
                    (
                        PropertyErrorKind::Type,
                        "Property error: resources.r.properties.ports.2: \"x\" is not an integer",
                    ),
                ],
            ),
            (
                json!({"name": "x", "networks": [{"fixed_ip": "1.2.3"}, {"uuid": "u", "extra": 1}, 7]}),
                vec![
                    (
                        PropertyErrorKind::Missing,
                        "Property error: resources.r.properties.networks.0: the required property 'uuid' has no value",
                    ),
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.networks.0.fixed_ip: \"1.2.3\" is not a valid ip_addr: not an IP address",
                    ),
                    (
                        PropertyErrorKind::Unknown,
                        "Property error: resources.r.properties.networks.1: unknown property 'extra'",
                    ),
                    (
                        PropertyErrorKind::Type,
                        "Property error: resources.r.properties.networks.2: 7 is not a map",
                    ),
                ],
            ),
            (
                json!({"name": "x", "slug": "ab1", "zones": ["az1", "az3"], "step": 3}),
                vec![
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.slug: \"ab1\" does not match pattern \"[a-z]+\"",
                    ),
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.zones: \"az3\" is not an allowed value [\"az1\", \"az2\"]",
                    ),
                    (
                        PropertyErrorKind::Constraint,
                        "Property error: resources.r.properties.step: 3 is not a multiple of 2 with an offset of 0",
                    ),
                ],
            ),
            (
                json!({"name": "x", "enabled": 1, "meta": "m"}),
                vec![
                    (
                        PropertyErrorKind::Type,
                        "Property error: resources.r.properties.enabled: 1 is not a valid boolean (use true or false)",
                    ),
                    (
                        PropertyErrorKind::Type,
                        "Property error: resources.r.properties.meta: \"m\" is not a map",
                    ),
                ],
            ),
            (
                json!(["name"]),
                vec![(
                    PropertyErrorKind::Type,
                    "Property error: resources.r.properties: the properties must be a map, found [\"name\"]",
                )],
            ),
        ];
        for (input, expected) in cases {
            let errs = resolve(&schema, Some(input.clone())).expect_err(&input.to_string());
            let got: Vec<(PropertyErrorKind, String)> =
                errs.iter().map(|e| (e.kind, e.message_for("r"))).collect();
            let want: Vec<(PropertyErrorKind, String)> = expected
                .into_iter()
                .map(|(k, m)| (k, m.to_string()))
                .collect();
            assert_eq!(got, want, "{input}");
            assert!(errs.iter().all(|e| !e.hint.is_empty()), "{input}");
        }
    }

    #[test]
    fn unknown_property_hints() {
        let schema = thing();
        let hint = |v: Value| resolve(&schema, Some(v)).unwrap_err()[0].hint.clone();
        assert_eq!(
            hint(json!({"name": "x", "sise": 1})),
            "did you mean 'size'?"
        );
        assert_eq!(
            hint(json!({"name": "x", "networks": [{"uuid": "u", "zzz": 1}]})),
            "the properties here are: uuid, fixed_ip, port"
        );
        let empty = ResourceSchema {
            open: false,
            type_name: "Empty",
            description: "",
            properties: Vec::new(),
            attributes: Vec::new(),
        };
        let errs = resolve(&empty, Some(json!({"a": 1}))).unwrap_err();
        assert_eq!(
            errs[0].hint,
            "this resource type has no properties: remove it"
        );
        assert_eq!(resolve(&empty, None), Ok(Properties::new()));
    }

    #[test]
    fn property_error_display_and_paths() {
        let e = PropertyError {
            kind: PropertyErrorKind::Unknown,
            path: vec!["networks".into(), "0".into(), "x".into()],
            message: "unknown property 'x'".into(),
            hint: "h".into(),
        };
        assert_eq!(
            e.to_string(),
            "Property error: properties.networks.0: unknown property 'x'"
        );
        assert_eq!(e.kind.code(), Code::UnknownProperty);
        let t = PropertyError {
            kind: PropertyErrorKind::Type,
            path: vec!["size".into()],
            message: "m".into(),
            hint: "h".into(),
        };
        assert_eq!(t.to_string(), "Property error: properties.size: m");
        assert_eq!(
            PropertyErrorKind::Missing.code(),
            Code::MissingRequiredProperty
        );
        assert_eq!(PropertyErrorKind::Type.code(), Code::PropertyType);
        assert_eq!(
            PropertyErrorKind::Constraint.code(),
            Code::PropertyConstraint
        );
    }

    /// Runs static validation of the first resource of a template.
    fn static_diags(text: &str) -> Vec<String> {
        let parsed = crate::template::parse(text, &Limits::default());
        let template = parsed.template.expect("a template");
        let resource = &template.resources[0];
        validate_static(&thing(), resource, template.version)
            .into_iter()
            .map(|d| {
                assert!(d.hint.is_some(), "{d}");
                assert!(d.is_error(), "{d}");
                format!(
                    "{}:{} {} {}",
                    d.span.start.line, d.span.start.col, d.code, d.message
                )
            })
            .collect()
    }

    fn hot(properties: &str) -> String {
        format!(
            "heat_template_version: 2021-04-16\nparameters:\n  p: {{type: string}}\nresources:\n  r:\n    type: Test::Thing\n{properties}"
        )
    }

    #[test]
    fn an_open_schema_accepts_unknown_properties_and_passes_them_through() {
        let open = ResourceSchema {
            open: true,
            ..thing()
        };
        let parsed = crate::template::parse(
            &hot("    properties:\n      name: web\n      anything: 1\n      size: x\n"),
            &Limits::default(),
        );
        let template = parsed.template.expect("a template");
        let codes: Vec<Code> = validate_static(&open, &template.resources[0], template.version)
            .into_iter()
            .map(|d| d.code)
            .collect();
        // The unknown property is accepted; a known one is still checked.
        assert_eq!(codes, vec![Code::PropertyType]);
        let closed: Vec<Code> = validate_static(&thing(), &template.resources[0], template.version)
            .into_iter()
            .map(|d| d.code)
            .collect();
        assert!(closed.contains(&Code::UnknownProperty), "{closed:?}");

        let resolved = resolve(&open, Some(json!({"name": "web", "anything": [1]}))).unwrap();
        assert_eq!(resolved.get("anything"), Some(&json!([1])));
        assert_eq!(resolved.get("name"), Some(&json!("web")));
        assert!(resolve(&thing(), Some(json!({"name": "web", "anything": 1}))).is_err());
    }

    #[test]
    fn static_validation() {
        let cases: Vec<(&str, Vec<&str>)> = vec![
            // all fine
            ("    properties:\n      name: web\n      size: 3\n", vec![]),
            // functions are not checked, whatever the schema says
            (
                "    properties:\n      name: {get_param: p}\n      size: {get_param: p}\n      ports: {get_param: p}\n",
                vec![],
            ),
            // the properties are a function: required properties cannot be known
            ("    properties: {get_param: p}\n", vec![]),
            // no properties at all
            (
                "",
                vec!["5:3 E6002 resources.r.properties: the required property 'name' has no value"],
            ),
            (
                "    properties:\n",
                vec!["5:3 E6002 resources.r.properties: the required property 'name' has no value"],
            ),
            // unknown property, with a suggestion; null values are the default
            (
                "    properties:\n      name: web\n      sise: 2\n      size: null\n",
                vec!["9:7 E6001 resources.r.properties: unknown property 'sise' for Test::Thing"],
            ),
            (
                "    properties:\n      size: 2\n",
                vec!["8:7 E6002 resources.r.properties: the required property 'name' has no value"],
            ),
            // wrong literal types
            (
                "    properties:\n      name: [a]\n      size: abc\n      enabled: 1\n      tags: a,b\n      meta: [1]\n",
                vec![
                    "8:13 E6003 resources.r.properties.name: [\"a\"] is not a string",
                    "9:13 E6003 resources.r.properties.size: \"abc\" is not an integer",
                    "10:16 E6003 resources.r.properties.enabled: 1 is not a valid boolean (use true or false)",
                    "11:13 E6003 resources.r.properties.tags: \"a,b\" is not a list",
                    "12:13 E6003 resources.r.properties.meta: [1] is not a map",
                ],
            ),
            // Heat's conversions are accepted
            (
                "    properties:\n      name: 5\n      size: '7'\n      enabled: 'True'\n      ratio: '0.5'\n",
                vec![],
            ),
            // constraints on literal values
            (
                "    properties:\n      name: waytoolongname\n      size: 0\n      mode: medium\n",
                vec![
                    "8:13 E6004 resources.r.properties.name: the length is 14, it must be between 1 and 8",
                    "9:13 E6004 resources.r.properties.size: 0 is out of range, it must be between 1 and 10",
                    "10:13 E6004 resources.r.properties.mode: \"medium\" is not an allowed value [\"fast\", \"slow\"]",
                ],
            ),
            // nested: list items with a schema, literal lists are checked whole
            (
                "    properties:\n      name: x\n      ports: [80, 0, abc]\n",
                vec![
                    "9:19 E6004 resources.r.properties.ports.1: 0 is out of range, it must be between 1 and 65535",
                    "9:22 E6003 resources.r.properties.ports.2: \"abc\" is not an integer",
                ],
            ),
            // a list with a function inside: the literal items are still checked
            (
                "    properties:\n      name: x\n      ports: [{get_param: p}, 0]\n      tags: [{get_param: p}, 2, 3, 4]\n",
                vec![
                    "9:31 E6004 resources.r.properties.ports.1: 0 is out of range, it must be between 1 and 65535",
                ],
            ),
            // nested maps: unknown keys, missing required ones, types, with functions around
            (
                "    properties:\n      name: x\n      networks:\n        - {uuid: {get_param: p}, fixd_ip: 1.2.3.4}\n        - {fixed_ip: {get_param: p}}\n        - {uuid: u, fixed_ip: 300.1.1.1}\n        - bad\n",
                vec![
                    "10:34 E6001 resources.r.properties.networks.0: unknown property 'fixd_ip'",
                    "11:11 E6002 resources.r.properties.networks.1: the required property 'uuid' has no value",
                    "12:31 E6004 resources.r.properties.networks.2.fixed_ip: \"300.1.1.1\" is not a valid ip_addr: not an IP address",
                    "13:11 E6003 resources.r.properties.networks.3: \"bad\" is not a map",
                ],
            ),
            // free-form maps and lists without item schema may hold anything
            (
                "    properties:\n      name: x\n      meta: {a: {get_param: p}}\n      tags: [{get_param: p}]\n      data: [{get_param: p}]\n",
                vec![],
            ),
            // a float JSON cannot hold is left for evaluation
            (
                "    properties:\n      name: x\n      size: .inf\n      ratio: [.nan, {get_param: p}]\n",
                vec!["10:14 E6003 resources.r.properties.ratio: expected a number, found a list"],
            ),
            // a list literal with a function inside where a string is required
            (
                "    properties:\n      name: [{get_param: p}]\n      networks: {get_param: p}\n      meta: [{get_param: p}]\n",
                vec![
                    "8:13 E6003 resources.r.properties.name: expected a string, found a list",
                    "10:13 E6003 resources.r.properties.meta: expected a map, found a list",
                ],
            ),
        ];
        for (props, expected) in cases {
            let got = static_diags(&hot(props));
            assert_eq!(got, expected, "\n{props}");
        }
    }

    #[test]
    fn static_validation_cfn_paths() {
        let text = "HeatTemplateFormatVersion: '2012-12-12'\nResources:\n  r:\n    Type: Test::Thing\n    Properties:\n      name: x\n      size: big\n";
        assert_eq!(
            static_diags(text),
            vec!["7:13 E6003 Resources.r.Properties.size: \"big\" is not an integer"]
        );
    }

    fn props(v: Value) -> Properties {
        match v {
            Value::Object(m) => m,
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn update_kinds() {
        let schema = thing();
        let base = json!({"name": "a", "size": 1, "mode": "fast", "tags": ["x"]});
        let cases: Vec<(Value, UpdateKind)> = vec![
            (base.clone(), UpdateKind::Unchanged),
            (
                json!({"name": "a", "size": 2, "mode": "fast", "tags": ["x", "y"]}),
                UpdateKind::InPlace {
                    changed: vec!["size".into(), "tags".into()],
                },
            ),
            (
                json!({"name": "b", "size": 2, "mode": "fast", "tags": ["x"]}),
                UpdateKind::Replace {
                    property: "name".into(),
                },
            ),
            (
                json!({"name": "b", "size": 1, "mode": "slow", "tags": ["x"]}),
                UpdateKind::Forbidden {
                    property: "mode".into(),
                },
            ),
            // a missing value and null are the same
            (
                json!({"name": "a", "size": 1, "mode": "fast", "tags": ["x"], "ratio": null}),
                UpdateKind::Unchanged,
            ),
            (
                json!({"name": "a", "size": 1, "mode": "fast"}),
                UpdateKind::InPlace {
                    changed: vec!["tags".into()],
                },
            ),
        ];
        let old = props(base);
        for (new, expected) in cases {
            let new = props(new);
            let kind = update_kind(&schema, &old, &new);
            assert_eq!(kind, expected, "{new:?}");
            let replacement = needs_replacement(&schema, &old, &new);
            match &kind {
                UpdateKind::Replace { property } => {
                    let reason = replacement.expect("a reason");
                    assert!(reason.contains(property.as_str()), "{reason}");
                }
                _ => assert_eq!(replacement, None),
            }
            match &kind {
                UpdateKind::Forbidden { property } => {
                    assert!(kind.reason().unwrap().contains(property.as_str()));
                }
                UpdateKind::Unchanged | UpdateKind::InPlace { .. } => {
                    assert_eq!(kind.reason(), None);
                }
                UpdateKind::Replace { .. } => {}
            }
        }
        assert_eq!(
            changed_properties(
                &schema,
                &old,
                &props(json!({"name": "z", "size": 1, "mode": "slow", "tags": ["x"]}))
            ),
            vec!["name", "mode"]
        );
    }

    #[test]
    fn type_phrases_and_constraint_rules() {
        use PropertyType as T;
        let all = [
            T::String,
            T::Integer,
            T::Number,
            T::Boolean,
            T::List(None),
            T::Map(Vec::new()),
            T::Any,
        ];
        let names: Vec<&str> = all.iter().map(PropertyType::name).collect();
        assert_eq!(
            names,
            [
                "string", "integer", "number", "boolean", "list", "map", "any"
            ]
        );
        assert!(all.iter().all(|t| !t.phrase().is_empty()));
        let pattern = ConstraintKind::AllowedPattern("x".into());
        let allowed: Vec<bool> = all.iter().map(|t| t.allows_constraint(&pattern)).collect();
        assert_eq!(allowed, [true, false, false, false, false, false, false]);
        let length = ConstraintKind::Length {
            min: None,
            max: None,
        };
        let allowed: Vec<bool> = all.iter().map(|t| t.allows_constraint(&length)).collect();
        assert_eq!(allowed, [true, false, false, false, true, true, false]);
        let values = ConstraintKind::AllowedValues(vec![]);
        let allowed: Vec<bool> = all.iter().map(|t| t.allows_constraint(&values)).collect();
        assert_eq!(allowed, [true, true, true, true, true, false, false]);
        let range = ConstraintKind::Range {
            min: None,
            max: None,
        };
        let allowed: Vec<bool> = all.iter().map(|t| t.allows_constraint(&range)).collect();
        assert_eq!(allowed, [false, true, true, false, false, false, false]);
    }

    /// Arbitrary JSON, biased towards the shapes and names of [`thing`]'s properties.
    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            prop_oneof![
                Just("true".to_string()),
                Just("5".to_string()),
                Just(" 7 ".to_string()),
                Just("1.2.3.4".to_string()),
                Just("fast".to_string()),
                "[a-z0-9_.]{0,6}",
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            let key = prop_oneof![
                Just("name".to_string()),
                Just("size".to_string()),
                Just("ports".to_string()),
                Just("networks".to_string()),
                Just("uuid".to_string()),
                Just("fixed_ip".to_string()),
                Just("port".to_string()),
                Just("tags".to_string()),
                "[a-z]{1,4}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((key, inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Resolving never panics, and resolved properties resolve to themselves.
        #[test]
        fn resolve_is_total_and_idempotent(value in arb_json()) {
            let schema = thing();
            // Give most maps the required property, so that many of them resolve.
            let value = match value {
                Value::Object(mut m) => {
                    m.entry("name").or_insert_with(|| json!("n"));
                    Value::Object(m)
                }
                other => other,
            };
            if let Ok(first) = resolve(&schema, Some(value)) {
                let again = resolve(&schema, Some(Value::Object(first.clone())));
                proptest::prop_assert_eq!(again, Ok(first));
            }
        }
    }
}
