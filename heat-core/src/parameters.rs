//! Parameter values: type conversion, constraint checks, binding user values with defaults
//! and environments. Hidden values never appear in messages.
//! OWNER: parameters helper.
//!
//! # Semantics
//!
//! The rules follow Heat for HOT and Heat's CloudFormation dialect, and AWS CloudFormation
//! for `AWSTemplateFormatVersion` templates:
//!
//! * `number`: an integer or a float, from a number or from a string (`" 5 "`, `"1e3"`,
//!   `"-2.5"`). Booleans are not numbers.
//! * `boolean`: `true`/`false` or one of the strings `t true on y yes 1` / `f false off n no 0`
//!   (any case, surrounding blanks ignored), as Heat's strict boolean parsing does.
//! * `comma_delimited_list`: a list, or a string split on commas. Heat keeps blanks around the
//!   items and turns `""` into an empty list; AWS trims every item.
//! * `json`: a map or list (or any value), or a string holding JSON text.
//! * `string`: a string; numbers and booleans are turned into text as Heat does (`True`).
//!
//! Constraints are checked as Heat checks them (length of a string, of a list or of a JSON
//! value; numeric range; modulo; allowed values compared after conversion to the parameter's
//! type; `allowed_pattern` must match from the first character up to the end with Python's
//! leftmost-first semantics). In AWS templates the rules are AWS's: `AllowedPattern` must match
//! the whole value, `AllowedValues` compare text, and for list types every item is checked
//! against `AllowedPattern`, `AllowedValues` and `MinLength`/`MaxLength`.
//!
//! A constraint's `description` replaces the default message.
//!
//! Custom constraints are recorded. Offline, only the generic ones that need no service are
//! checked: `ip_addr`, `net_cidr`, `ip_or_cidr`, `mac_addr`, `iso_8601`, `expiration` (the
//! format only; whether the time is in the future is checked when the stack is created),
//! `dns_name`, `dns_domain`, `rel_dns_name`, `json_string` and `cron_expression` (the field
//! count and numeric ranges). `timezone` (needs a time zone database) and every
//! service-backed constraint (`nova.flavor`, `glance.image`, ...) are left unchecked. As in
//! Heat, defaults are never checked against custom constraints.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value as Json;

use crate::diagnostic::{Code, Diagnostic};
use crate::environment::{EnvParameter, Environment};
use crate::span::Span;
use crate::template::model::{
    Constraint, ConstraintKind, Parameter, ParameterGroup, ParameterType, Template,
};
use crate::template::version::{Format, Version};

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// A number as Heat keeps it: an integer when the text is one, a float otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            // Precision loss above 2^53 is acceptable for comparisons.
            #[allow(clippy::cast_precision_loss)]
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The number as JSON (a non-finite float becomes its text, which JSON cannot hold).
    pub fn to_json(self) -> Json {
        match self {
            Number::Int(i) => Json::from(i),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map_or_else(|| Json::String(fmt_float(f)), Json::Number),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => f.write_str(&fmt_float(*x)),
        }
    }
}

/// Formats a float the way Python prints it in the common cases (`5.0`, `0.25`, `inf`).
pub(crate) fn fmt_float(f: f64) -> String {
    if f.is_nan() {
        "nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if f == f.trunc() && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// A typed parameter value.
#[derive(Clone, PartialEq)]
pub enum ParamValue {
    /// `string` / `String` and the AWS-specific single-value types.
    String(String),
    /// `number` / `Number`.
    Number(Number),
    /// `boolean` / `Boolean`.
    Boolean(bool),
    /// `comma_delimited_list`, `List<Number>` (items kept as text, as AWS does) and the AWS
    /// `List<...>` types.
    List(Vec<String>),
    /// `json` / `Json`.
    Json(Json),
}

impl fmt::Debug for ParamValue {
    /// Debug output shows the kind only: values may be secrets, and `Debug` output ends up in
    /// logs. Use [`ParamValue::to_json`] to see a value you know is not hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            ParamValue::String(_) => "String",
            ParamValue::Number(_) => "Number",
            ParamValue::Boolean(_) => "Boolean",
            ParamValue::List(_) => "List",
            ParamValue::Json(_) => "Json",
        };
        write!(f, "{kind}(..)")
    }
}

impl ParamValue {
    /// The value as JSON, as `get_param` / `Ref` returns it in HOT and Heat's dialect
    /// (numbers are numbers).
    pub fn to_json(&self) -> Json {
        match self {
            ParamValue::String(s) => Json::String(s.clone()),
            ParamValue::Number(n) => n.to_json(),
            ParamValue::Boolean(b) => Json::Bool(*b),
            ParamValue::List(items) => {
                Json::Array(items.iter().cloned().map(Json::String).collect())
            }
            ParamValue::Json(v) => v.clone(),
        }
    }

    /// The value as JSON as a template of the given format sees it: in AWS CloudFormation a
    /// `Number` parameter is referenced as a string; elsewhere as [`ParamValue::to_json`].
    pub fn to_json_for(&self, format: Format) -> Json {
        match (self, format) {
            (ParamValue::Number(n), Format::Cfn) => Json::String(n.to_string()),
            _ => self.to_json(),
        }
    }

    /// The value as text (lists joined with commas, JSON serialised), as Heat shows it.
    pub fn to_text(&self) -> String {
        match self {
            ParamValue::String(s) => s.clone(),
            ParamValue::Number(n) => n.to_string(),
            ParamValue::Boolean(b) => b.to_string(),
            ParamValue::List(items) => items.join(","),
            ParamValue::Json(v) => v.to_string(),
        }
    }
}

/// Parses a number the way Heat does (`int(text)`, else `float(text)`): blanks around the text
/// are ignored; `inf` and `nan` are floats.
pub fn parse_number(text: &str) -> Option<Number> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::Int(i));
    }
    // Rust accepts the same float spellings as Python (`1e3`, `.5`, `5.`, `inf`, `NaN`), but
    // also none that Python rejects, except that Python allows `_` separators (ignored here).
    t.parse::<f64>().ok().map(Number::Float)
}

/// Parses a boolean with Heat's strict rules: `1 t true on y yes` / `0 f false off n no`,
/// any case, surrounding blanks ignored.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Some(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// The text of a scalar as the template's engine sees it: Heat (Python) writes booleans as
/// `True`/`False`, AWS as `true`/`false`; floats as Python prints them. Lists and maps are
/// written as JSON.
pub fn scalar_text(value: &Json, format: Format) -> String {
    match value {
        Json::Null => match format {
            Format::Cfn => "null".to_string(),
            _ => "None".to_string(),
        },
        Json::Bool(b) => match (format, b) {
            (Format::Cfn, true) => "true".to_string(),
            (Format::Cfn, false) => "false".to_string(),
            (_, true) => "True".to_string(),
            (_, false) => "False".to_string(),
        },
        Json::Number(n) => json_number(n).to_string(),
        Json::String(s) => s.clone(),
        Json::Array(_) | Json::Object(_) => value.to_string(),
    }
}

fn json_number(n: &serde_json::Number) -> Number {
    match n.as_i64() {
        Some(i) => Number::Int(i),
        None => Number::Float(n.as_f64().unwrap_or(f64::NAN)),
    }
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}

/// Why a value could not be converted to its parameter's type. The public message never
/// contains the value; the detailed one may.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// The message without the value (for hidden parameters).
    pub public: String,
    /// The message naming the value.
    pub detailed: String,
}

impl ValueError {
    fn new(public: impl Into<String>, detailed: impl Into<String>) -> ValueError {
        ValueError {
            public: public.into(),
            detailed: detailed.into(),
        }
    }

    /// The message to show: without the value when the parameter is hidden.
    pub fn message(&self, hidden: bool) -> &str {
        if hidden { &self.public } else { &self.detailed }
    }
}

/// A short text of a value for messages (at most 80 characters).
fn shown(value: &Json) -> String {
    let text = match value {
        Json::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    truncate(&text, 80)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push_str("...");
        out
    }
}

/// Whether the type is an AWS `AWS::SSM::Parameter::Value<...>` type, whose value is the name
/// of an SSM parameter (a string), resolved when the stack is created.
fn is_ssm_value_type(name: &str) -> bool {
    name.starts_with("AWS::SSM::Parameter::Value<")
}

/// Converts a raw value (a user's string, an environment value, a default) to the parameter's
/// type.
pub fn convert(ty: &ParameterType, raw: &Json, format: Format) -> Result<ParamValue, ValueError> {
    match ty {
        ParameterType::String => to_string_value(raw, format).map(ParamValue::String),
        ParameterType::Aws(name) if is_ssm_value_type(name) || !name.starts_with("List<") => {
            to_string_value(raw, format).map(ParamValue::String)
        }
        ParameterType::Aws(_) | ParameterType::CommaDelimitedList => {
            to_list_value(raw, format).map(ParamValue::List)
        }
        ParameterType::NumberList => {
            let items = to_list_value(raw, format)?;
            for item in &items {
                if parse_number(item).is_none() {
                    return Err(ValueError::new(
                        "an item of the list is not a number",
                        format!("item '{}' of the list is not a number", truncate(item, 80)),
                    ));
                }
            }
            Ok(ParamValue::List(items))
        }
        ParameterType::Number => match raw {
            Json::Number(n) => Ok(ParamValue::Number(json_number(n))),
            Json::String(s) => parse_number(s).map(ParamValue::Number).ok_or_else(|| {
                ValueError::new(
                    "the value is not a number",
                    format!("{} is not a number", shown(raw)),
                )
            }),
            other => Err(ValueError::new(
                format!("expected a number, found {}", json_kind(other)),
                format!("expected a number, found {}", shown(other)),
            )),
        },
        ParameterType::Boolean => {
            let parsed = match raw {
                Json::Bool(b) => Some(*b),
                Json::String(s) => parse_bool(s),
                Json::Number(n) => parse_bool(&json_number(n).to_string()),
                _ => None,
            };
            parsed.map(ParamValue::Boolean).ok_or_else(|| {
                let accepted = "accepted: true/false, yes/no, on/off, y/n, t/f, 1/0";
                ValueError::new(
                    format!("the value is not a boolean ({accepted})"),
                    format!("{} is not a boolean ({accepted})", shown(raw)),
                )
            })
        }
        ParameterType::Json => match raw {
            Json::String(s) if s.trim().is_empty() => Ok(ParamValue::Json(raw.clone())),
            Json::String(s) => serde_json::from_str::<Json>(s)
                .map(ParamValue::Json)
                .map_err(|e| {
                    ValueError::new(
                        "the value is not valid JSON",
                        format!("the value is not valid JSON: {e}"),
                    )
                }),
            other => Ok(ParamValue::Json(other.clone())),
        },
    }
}

fn to_string_value(raw: &Json, format: Format) -> Result<String, ValueError> {
    match raw {
        Json::String(s) => Ok(s.clone()),
        Json::Number(_) | Json::Bool(_) => Ok(scalar_text(raw, format)),
        other => Err(ValueError::new(
            format!("expected a string, found {}", json_kind(other)),
            format!("expected a string, found {}", shown(other)),
        )),
    }
}

fn to_list_value(raw: &Json, format: Format) -> Result<Vec<String>, ValueError> {
    let aws = format == Format::Cfn;
    match raw {
        Json::String(s) => Ok(split_list(s, aws)),
        Json::Array(items) => Ok(items
            .iter()
            .map(|item| {
                let text = scalar_text(item, format);
                if aws { text.trim().to_string() } else { text }
            })
            .collect()),
        Json::Number(_) | Json::Bool(_) if aws => Ok(split_list(&scalar_text(raw, format), aws)),
        other => Err(ValueError::new(
            format!(
                "expected a comma-delimited string or a list, found {}",
                json_kind(other)
            ),
            format!(
                "expected a comma-delimited string or a list, found {}",
                shown(other)
            ),
        )),
    }
}

/// Splits a comma-delimited list: Heat splits on commas as they are and turns `""` into an
/// empty list; AWS trims every item.
fn split_list(text: &str, aws: bool) -> Vec<String> {
    if aws {
        text.split(',').map(|s| s.trim().to_string()).collect()
    } else if text.is_empty() {
        Vec::new()
    } else {
        text.split(',').map(str::to_string).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Constraints
// ---------------------------------------------------------------------------------------------

/// The name of a constraint kind as HOT writes it (`range`, `allowed_values`, ...).
pub fn constraint_kind_name(kind: &ConstraintKind, format: Format) -> &'static str {
    match (kind, format) {
        (ConstraintKind::Length { .. }, Format::Hot) => "length",
        (ConstraintKind::Length { .. }, _) => "MinLength/MaxLength",
        (ConstraintKind::Range { .. }, Format::Hot) => "range",
        (ConstraintKind::Range { .. }, _) => "MinValue/MaxValue",
        (ConstraintKind::Modulo { .. }, _) => "modulo",
        (ConstraintKind::AllowedValues(_), Format::Hot) => "allowed_values",
        (ConstraintKind::AllowedValues(_), _) => "AllowedValues",
        (ConstraintKind::AllowedPattern(_), Format::Hot) => "allowed_pattern",
        (ConstraintKind::AllowedPattern(_), _) => "AllowedPattern",
        (ConstraintKind::Custom(_), _) => "custom_constraint",
    }
}

/// Whether a constraint kind may be used on a parameter type.
///
/// Heat's rules (HOT, Heat's dialect, and the `Json`/`Boolean` types): `range` and `modulo`
/// only on numbers; `length` on strings, lists and JSON; `allowed_values` and
/// `custom_constraint` on everything but JSON; `allowed_pattern` only on strings. AWS's rules
/// for its own types: `MinValue`/`MaxValue` only on `Number`, `MinLength`/`MaxLength` and
/// `AllowedPattern` on everything but `Number`, `AllowedValues` on everything.
pub fn constraint_applies(kind: &ConstraintKind, ty: &ParameterType, format: Format) -> bool {
    use ParameterType as T;
    let aws_rules = format == Format::Cfn && !matches!(ty, T::Json | T::Boolean);
    if aws_rules {
        return match kind {
            ConstraintKind::Range { .. } => matches!(ty, T::Number),
            ConstraintKind::Length { .. } | ConstraintKind::AllowedPattern(_) => {
                !matches!(ty, T::Number)
            }
            ConstraintKind::AllowedValues(_) => true,
            ConstraintKind::Modulo { .. } => matches!(ty, T::Number),
            ConstraintKind::Custom(_) => true,
        };
    }
    match kind {
        ConstraintKind::Range { .. } | ConstraintKind::Modulo { .. } => matches!(ty, T::Number),
        ConstraintKind::Length { .. } => {
            matches!(ty, T::String | T::CommaDelimitedList | T::Json | T::Aws(_))
        }
        ConstraintKind::AllowedValues(_) | ConstraintKind::Custom(_) => !matches!(ty, T::Json),
        ConstraintKind::AllowedPattern(_) => matches!(ty, T::String | T::Aws(_)),
    }
}

/// A compiled `allowed_pattern`.
enum Pattern {
    Plain(regex::Regex),
    Fancy(Box<fancy_regex::Regex>),
}

impl Pattern {
    /// Compiles a pattern anchored at the start (Heat) or at both ends (AWS).
    fn compile(pattern: &str, whole: bool) -> Result<Pattern, String> {
        let anchored = if whole {
            format!("^(?:{pattern})$")
        } else {
            format!("^(?:{pattern})")
        };
        match regex::Regex::new(&anchored) {
            Ok(re) => Ok(Pattern::Plain(re)),
            Err(plain_err) => match fancy_regex::Regex::new(&anchored) {
                Ok(re) => Ok(Pattern::Fancy(Box::new(re))),
                Err(_) => Err(first_line(&plain_err.to_string())),
            },
        }
    }

    /// The end of the match at the start of `text`, if any.
    fn match_end(&self, text: &str) -> Option<usize> {
        match self {
            Pattern::Plain(re) => re.find(text).map(|m| m.end()),
            Pattern::Fancy(re) => re.find(text).ok().flatten().map(|m| m.end()),
        }
    }
}

fn first_line(text: &str) -> String {
    // The regex crate's errors are multi-line drawings; keep the last line (the reason).
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or_else(String::new, |l| {
            l.trim().trim_start_matches("error: ").to_string()
        })
}

/// Checks that an `allowed_pattern` / `AllowedPattern` is a regular expression heat can use.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    Pattern::compile(pattern, false).map(|_| ())
}

/// Whether `text` matches `pattern`: Heat's way (the match from the first character, with
/// leftmost-first alternation, must reach the end) or AWS's (the whole text must match).
pub fn pattern_matches(pattern: &str, text: &str, format: Format) -> Result<bool, String> {
    let whole = format == Format::Cfn;
    let compiled = Pattern::compile(pattern, whole)?;
    Ok(compiled.match_end(text) == Some(text.len()))
}

/// Whether custom constraints are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomCheck {
    /// Not checked (Heat does not check defaults against custom constraints).
    Skip,
    /// The generic, service-free ones are checked; the others are left for the server.
    Offline,
}

/// One constraint a value does not satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where the constraint was written.
    pub constraint_span: Span,
    /// The message: the constraint's description when it has one, otherwise ours. Never
    /// contains the value of a hidden parameter.
    pub message: String,
}

fn bound_text(min: Option<f64>, max: Option<f64>) -> String {
    let n = |x: f64| num_text(x);
    match (min, max) {
        (Some(lo), Some(hi)) => format!("between {} and {}", n(lo), n(hi)),
        (Some(lo), None) => format!("at least {}", n(lo)),
        (None, Some(hi)) => format!("at most {}", n(hi)),
        (None, None) => "anything".to_string(),
    }
}

/// A bound as written: integers without a fraction.
fn num_text(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e16 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

fn in_bounds(x: f64, min: Option<f64>, max: Option<f64>) -> bool {
    min.is_none_or(|lo| x >= lo) && max.is_none_or(|hi| x <= hi)
}

/// Python's `%` for floats: the result has the sign of the divisor.
fn py_mod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && (r < 0.0) != (b < 0.0) {
        r + b
    } else {
        r
    }
}

fn allowed_list_text(allowed: &[Json]) -> String {
    let items: Vec<String> = allowed.iter().map(Json::to_string).collect();
    truncate(&format!("[{}]", items.join(", ")), 200)
}

/// Whether `value` equals an allowed value after both are converted to the parameter's type
/// (Heat), or as text (AWS).
fn allowed_contains(
    allowed: &[Json],
    value: &ParamValue,
    ty: &ParameterType,
    format: Format,
) -> bool {
    let aws_rules =
        format == Format::Cfn && !matches!(ty, ParameterType::Json | ParameterType::Boolean);
    let text_in = |text: &str| {
        allowed
            .iter()
            .any(|a| scalar_text(a, format).trim() == text.trim())
    };
    if aws_rules {
        return match value {
            ParamValue::List(items) => items.iter().all(|item| text_in(item)),
            ParamValue::Number(n) => text_in(&n.to_string()),
            other => text_in(&other.to_text()),
        };
    }
    match value {
        ParamValue::List(items) => items
            .iter()
            .all(|item| allowed.iter().any(|a| a.as_str() == Some(item.as_str()))),
        ParamValue::String(s) => allowed.iter().any(|a| scalar_text(a, format) == *s),
        ParamValue::Number(n) => allowed.iter().any(|a| {
            let allowed_num = match a {
                Json::Number(x) => Some(json_number(x)),
                Json::String(s) => parse_number(s),
                _ => None,
            };
            allowed_num.is_some_and(|x| x.as_f64() == n.as_f64())
        }),
        ParamValue::Boolean(b) => allowed.iter().any(|a| {
            let parsed = match a {
                Json::Bool(x) => Some(*x),
                other => parse_bool(&scalar_text(other, format)),
            };
            parsed == Some(*b)
        }),
        ParamValue::Json(v) => allowed.contains(v),
    }
}

/// The length Heat measures: characters of a string, items of a list or map.
fn json_len(value: &Json) -> Option<usize> {
    match value {
        Json::String(s) => Some(s.chars().count()),
        Json::Array(items) => Some(items.len()),
        Json::Object(map) => Some(map.len()),
        _ => None,
    }
}

/// Checks one constraint. `None` when satisfied.
pub fn check_constraint(
    constraint: &Constraint,
    value: &ParamValue,
    ty: &ParameterType,
    format: Format,
    hidden: bool,
    custom: CustomCheck,
) -> Option<Violation> {
    let problem = constraint_problem(&constraint.kind, value, ty, format, hidden, custom)?;
    let message = match &constraint.description {
        Some(desc) if !desc.trim().is_empty() => desc.trim().to_string(),
        _ => problem,
    };
    Some(Violation {
        constraint_span: constraint.span,
        message,
    })
}

/// What is wrong with `value` under one constraint kind (our default message), or `None`.
fn constraint_problem(
    kind: &ConstraintKind,
    value: &ParamValue,
    ty: &ParameterType,
    format: Format,
    hidden: bool,
    custom: CustomCheck,
) -> Option<String> {
    let aws_lists = format == Format::Cfn;
    match kind {
        ConstraintKind::Length { min, max } => {
            let check_one = |len: usize, what: &str| -> Option<String> {
                #[allow(clippy::cast_precision_loss)]
                let ok = in_bounds(len as f64, *min, *max);
                if ok {
                    None
                } else if hidden {
                    Some(format!("the {what} must be {}", bound_text(*min, *max)))
                } else {
                    Some(format!(
                        "the {what} is {len}, it must be {}",
                        bound_text(*min, *max)
                    ))
                }
            };
            match value {
                ParamValue::String(s) => check_one(s.chars().count(), "length"),
                ParamValue::List(items) if aws_lists => items
                    .iter()
                    .find_map(|item| check_one(item.chars().count(), "length of an item")),
                ParamValue::List(items) => check_one(items.len(), "number of items"),
                ParamValue::Json(v) => match json_len(v) {
                    Some(len) => check_one(len, "length"),
                    None => Some("the value has no length".to_string()),
                },
                ParamValue::Number(n) => check_one(n.to_string().chars().count(), "length"),
                ParamValue::Boolean(_) => None,
            }
        }
        ConstraintKind::Range { min, max } => {
            let x = match value {
                ParamValue::Number(n) => n.as_f64(),
                ParamValue::String(s) => parse_number(s)?.as_f64(),
                _ => return None,
            };
            if in_bounds(x, *min, *max) {
                None
            } else if hidden {
                Some(format!("the value must be {}", bound_text(*min, *max)))
            } else {
                Some(format!(
                    "{} is out of range, it must be {}",
                    value.to_text(),
                    bound_text(*min, *max)
                ))
            }
        }
        ConstraintKind::Modulo { step, offset } => {
            let x = match value {
                ParamValue::Number(n) => n.as_f64(),
                _ => return None,
            };
            if *step == 0.0 || py_mod(x, *step) == *offset {
                None
            } else {
                let rule = format!(
                    "a multiple of {} with an offset of {}",
                    num_text(*step),
                    num_text(*offset)
                );
                if hidden {
                    Some(format!("the value must be {rule}"))
                } else {
                    Some(format!("{} is not {rule}", value.to_text()))
                }
            }
        }
        ConstraintKind::AllowedValues(allowed) => {
            if allowed_contains(allowed, value, ty, format) {
                None
            } else if hidden {
                Some(format!(
                    "the value is not one of the allowed values {}",
                    allowed_list_text(allowed)
                ))
            } else {
                Some(format!(
                    "{} is not an allowed value {}",
                    truncate(&value.to_json().to_string(), 80),
                    allowed_list_text(allowed)
                ))
            }
        }
        ConstraintKind::AllowedPattern(pattern) => {
            let items: Vec<String> = match value {
                ParamValue::List(items) => items.clone(),
                ParamValue::Json(_) => return None,
                other => vec![other.to_text()],
            };
            for item in &items {
                match pattern_matches(pattern, item, format) {
                    Ok(true) => {}
                    Ok(false) => {
                        return Some(if hidden {
                            format!("the value does not match pattern \"{pattern}\"")
                        } else {
                            format!(
                                "\"{}\" does not match pattern \"{pattern}\"",
                                truncate(item, 80)
                            )
                        });
                    }
                    Err(e) => return Some(format!("pattern \"{pattern}\" is not valid: {e}")),
                }
            }
            None
        }
        ConstraintKind::Custom(name) => {
            if custom == CustomCheck::Skip {
                return None;
            }
            let items: Vec<String> = match value {
                ParamValue::List(items) => items.clone(),
                ParamValue::Json(_) => return None,
                other => vec![other.to_text()],
            };
            for item in &items {
                if let CustomOutcome::Invalid(reason) = check_custom_constraint(name, item) {
                    return Some(if hidden {
                        format!("the value is not a valid {name}: {reason}")
                    } else {
                        format!("\"{}\" is not a valid {name}: {reason}", truncate(item, 80))
                    });
                }
            }
            None
        }
    }
}

/// Checks every constraint of a parameter; all violations, in order.
pub fn check_constraints(
    param: &Parameter,
    value: &ParamValue,
    format: Format,
    custom: CustomCheck,
) -> Vec<Violation> {
    param
        .constraints
        .iter()
        .filter(|c| constraint_applies(&c.kind, &param.ty, format))
        .filter_map(|c| check_constraint(c, value, &param.ty, format, param.hidden, custom))
        .collect()
}

/// Converts and checks a value for a parameter: the typed value, or every message that
/// explains why not (none of them contains the value when the parameter is hidden).
pub fn validate_value(
    param: &Parameter,
    raw: &Json,
    format: Format,
    custom: CustomCheck,
) -> Result<ParamValue, Vec<String>> {
    let value =
        convert(&param.ty, raw, format).map_err(|e| vec![e.message(param.hidden).to_string()])?;
    let violations = check_constraints(param, &value, format, custom);
    if violations.is_empty() {
        Ok(value)
    } else {
        Err(violations.into_iter().map(|v| v.message).collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Custom constraints that need no service
// ---------------------------------------------------------------------------------------------

/// The result of checking a custom constraint offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomOutcome {
    /// The value satisfies the constraint.
    Valid,
    /// The value does not; the reason never contains the value.
    Invalid(String),
    /// The constraint needs a service (or data heat does not carry) and was not checked.
    Unchecked,
}

/// The custom constraints [`check_custom_constraint`] checks offline.
pub const OFFLINE_CUSTOM_CONSTRAINTS: &[&str] = &[
    "ip_addr",
    "net_cidr",
    "ip_or_cidr",
    "mac_addr",
    "iso_8601",
    "expiration",
    "dns_name",
    "dns_domain",
    "rel_dns_name",
    "json_string",
    "cron_expression",
];

/// Checks a value against one of the generic custom constraints; the others (service-backed,
/// `timezone`, unknown names) are [`CustomOutcome::Unchecked`].
pub fn check_custom_constraint(name: &str, value: &str) -> CustomOutcome {
    let verdict = |ok: bool, reason: &str| {
        if ok {
            CustomOutcome::Valid
        } else {
            CustomOutcome::Invalid(reason.to_string())
        }
    };
    match name {
        "ip_addr" => verdict(is_ip_addr(value), "not an IP address"),
        "net_cidr" => verdict(is_cidr(value), "not a network in CIDR notation"),
        "ip_or_cidr" => {
            if value.contains('/') {
                verdict(is_cidr(value), "not a network in CIDR notation")
            } else {
                verdict(is_ip_addr(value), "not an IP address")
            }
        }
        "mac_addr" => verdict(is_mac_addr(value), "not a MAC address"),
        "iso_8601" => verdict(is_iso8601(value), "not an ISO 8601 date and time"),
        "expiration" => {
            // Whether the time is in the future depends on the clock: checked at create time.
            verdict(
                value.is_empty() || is_iso8601(value.trim()),
                "not an ISO 8601 date and time",
            )
        }
        "dns_name" => match dns_format_problem(value) {
            None => CustomOutcome::Valid,
            Some(reason) => CustomOutcome::Invalid(reason),
        },
        "dns_domain" => {
            if value.is_empty() {
                CustomOutcome::Valid
            } else if let Some(reason) = dns_format_problem(value) {
                CustomOutcome::Invalid(reason)
            } else {
                verdict(value.ends_with('.'), "a domain must end with '.'")
            }
        }
        "rel_dns_name" => {
            if value.is_empty() {
                CustomOutcome::Valid
            } else if value.ends_with('.') {
                CustomOutcome::Invalid("a fully qualified name, not a relative one".to_string())
            } else if value.chars().count() > FQDN_MAX_LEN - 3 {
                CustomOutcome::Invalid(format!(
                    "longer than {} characters; with a domain it would exceed {FQDN_MAX_LEN}",
                    FQDN_MAX_LEN - 3
                ))
            } else {
                match dns_format_problem(value) {
                    None => CustomOutcome::Valid,
                    Some(reason) => CustomOutcome::Invalid(reason),
                }
            }
        }
        "json_string" => verdict(
            value.is_empty() || serde_json::from_str::<Json>(value).is_ok(),
            "not valid JSON",
        ),
        "cron_expression" => match cron_problem(value) {
            None => CustomOutcome::Valid,
            Some(reason) => CustomOutcome::Invalid(reason),
        },
        _ => CustomOutcome::Unchecked,
    }
}

/// An IP address as neutron accepts it: canonical dotted-quad IPv4 (no leading zeros) or IPv6.
fn is_ip_addr(value: &str) -> bool {
    if value.contains(':') {
        value.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        parse_ipv4_canonical(value)
    }
}

fn parse_ipv4_canonical(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// A network in CIDR notation as neutron accepts it (`10.0.0.0/24`, `2001:db8::/32`).
fn is_cidr(value: &str) -> bool {
    let Some((addr, prefix)) = value.split_once('/') else {
        return false;
    };
    let canonical_prefix = |max: u8| {
        !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_digit())
            && (prefix.len() == 1 || !prefix.starts_with('0'))
            && prefix.parse::<u8>().is_ok_and(|p| p <= max)
    };
    if addr.contains(':') {
        addr.parse::<std::net::Ipv6Addr>().is_ok() && canonical_prefix(128)
    } else {
        parse_ipv4_canonical(addr) && canonical_prefix(32)
    }
}

/// A MAC address in one of the EUI-48 spellings netaddr accepts.
fn is_mac_addr(value: &str) -> bool {
    let hex = |s: &str, lo: usize, hi: usize| {
        (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
    };
    let groups = |sep: char, n: usize, lo: usize, hi: usize| {
        let parts: Vec<&str> = value.split(sep).collect();
        parts.len() == n && parts.iter().all(|p| hex(p, lo, hi))
    };
    groups(':', 6, 1, 2)
        || groups('-', 6, 1, 2)
        || groups(':', 3, 1, 4)
        || groups('-', 3, 1, 4)
        || groups('.', 3, 1, 4)
        || groups('-', 2, 5, 6)
        || groups(':', 2, 5, 6)
        || hex(value, 11, 12)
}

fn iso8601_regex() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"^(?P<year>[0-9]{4})",
            r"(?:(?:-(?P<monthdash>[0-9]{1,2})|(?P<month>[0-9]{2}))",
            r"(?:(?:-(?P<daydash>[0-9]{1,2})|(?P<day>[0-9]{2}))",
            r"(?:[ T](?P<hour>[0-9]{2})(?::?(?P<minute>[0-9]{2}))?",
            r"(?::?(?P<second>[0-9]{1,2})(?:[.,][0-9]+)?)?",
            r"(?P<tz>Z|[-+](?P<tzh>[0-9]{2}):?(?P<tzm>[0-9]{2})?)?",
            r")?)?)?$"
        ))
        .ok()
    })
    .as_ref()
}

/// An ISO 8601 date/time as Python's `iso8601` module parses it (`2017-12-28`,
/// `2017-12-28T19:14:44.18Z`, `20171228 191444+0100`, `2017`, `2017-12`), with the fields in
/// range.
fn is_iso8601(value: &str) -> bool {
    let Some(re) = iso8601_regex() else {
        return false;
    };
    let Some(c) = re.captures(value) else {
        return false;
    };
    let num = |name: &str| c.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    if c.name("month").is_some() && c.name("day").is_none() && c.name("daydash").is_none() {
        return false; // YYYYMM is ambiguous and refused
    }
    let year = num("year").unwrap_or(0);
    let month = num("month").or_else(|| num("monthdash")).unwrap_or(1);
    let day = num("day").or_else(|| num("daydash")).unwrap_or(1);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1
        && (1..=days_in_month).contains(&day)
        && num("hour").is_none_or(|h| h < 24)
        && num("minute").is_none_or(|m| m < 60)
        && num("second").is_none_or(|s| s < 60)
        && num("tzh").is_none_or(|h| h < 24)
        && num("tzm").is_none_or(|m| m < 60)
}

const FQDN_MAX_LEN: usize = 255;

/// Heat's DNS name rules: labels of 1-63 lower-case letters, digits and hyphens, not starting
/// or ending with a hyphen; at most 255 characters; a fully qualified name's top-level label
/// not all digits.
fn dns_format_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let trimmed = value.strip_suffix('.').unwrap_or(value);
    if trimmed.chars().count() > FQDN_MAX_LEN {
        return Some(format!(
            "longer than the {FQDN_MAX_LEN} character limit of a name"
        ));
    }
    let labels: Vec<&str> = trimmed.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Some("a label is empty".to_string());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a label starts or ends with a hyphen".to_string());
        }
        if label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Some(
                "labels must be 1-63 characters, each a lower-case letter, a digit or a hyphen"
                    .to_string(),
            );
        }
    }
    if value.ends_with('.')
        && labels.len() > 1
        && labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some("the top-level label must not be all digits".to_string());
    }
    None
}

/// A light check of a cron expression: 5 to 7 fields (or an `@daily`-style alias), each made
/// of the characters cron allows, with numbers in their field's range.
fn cron_problem(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Some(alias) = value.strip_prefix('@') {
        return match alias {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => None,
            _ => Some("unknown @ alias".to_string()),
        };
    }
    let fields: Vec<&str> = value.split_whitespace().collect();
    if !(5..=7).contains(&fields.len()) {
        return Some(format!("{} fields, expected 5 to 7", fields.len()));
    }
    // minute, hour, day of month, month, day of week, second, year
    const RANGES: [(u32, u32); 7] = [
        (0, 59),
        (0, 23),
        (1, 31),
        (1, 12),
        (0, 7),
        (0, 59),
        (1970, 2099),
    ];
    const NAMES: [&str; 7] = [
        "minute",
        "hour",
        "day of month",
        "month",
        "day of week",
        "second",
        "year",
    ];
    for (i, field) in fields.iter().enumerate() {
        let (lo, hi) = RANGES[i];
        if !field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "*/,?#-".contains(c))
        {
            return Some(format!(
                "the {} field has characters cron does not allow",
                NAMES[i]
            ));
        }
        for part in field.split(',') {
            let (range, step) = part.split_once('/').unwrap_or((part, ""));
            if !step.is_empty() && step.parse::<u32>().is_err() {
                return Some(format!("the {} field has a bad step", NAMES[i]));
            }
            for bound in range.split('-') {
                let bound = bound
                    .trim_end_matches(['L', 'W'])
                    .split('#')
                    .next()
                    .unwrap_or("");
                if let Ok(n) = bound.parse::<u32>()
                    && (n < lo || n > hi)
                {
                    return Some(format!(
                        "{n} is out of range for the {} field ({lo}-{hi})",
                        NAMES[i]
                    ));
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

/// The expected-type phrase for messages.
fn type_phrase(ty: &ParameterType) -> &'static str {
    match ty {
        ParameterType::Number => "a number",
        ParameterType::Boolean => "a boolean",
        ParameterType::Json => "JSON",
        ParameterType::CommaDelimitedList | ParameterType::NumberList => "a list",
        ParameterType::String | ParameterType::Aws(_) => "a string",
    }
}

/// The name of a parameter type as the template wrote it (for messages).
pub fn type_name(ty: &ParameterType, format: Format) -> String {
    let hot = format == Format::Hot;
    match ty {
        ParameterType::String => if hot { "string" } else { "String" }.to_string(),
        ParameterType::Number => if hot { "number" } else { "Number" }.to_string(),
        ParameterType::CommaDelimitedList => if hot {
            "comma_delimited_list"
        } else {
            "CommaDelimitedList"
        }
        .to_string(),
        ParameterType::Json => if hot { "json" } else { "Json" }.to_string(),
        ParameterType::Boolean => if hot { "boolean" } else { "Boolean" }.to_string(),
        ParameterType::NumberList => "List<Number>".to_string(),
        ParameterType::Aws(name) => name.clone(),
    }
}

/// Checks a parameter's default against its type and constraints (custom constraints are not
/// checked, as in Heat). Diagnostics are [`Code::BadDefault`], at the default.
pub fn check_default(param: &Parameter, format: Format) -> Vec<Diagnostic> {
    let Some(default) = &param.default else {
        return Vec::new();
    };
    if default.is_null() {
        return Vec::new();
    }
    let name = &param.name.value;
    let raw = default.to_json();
    let value = match convert(&param.ty, &raw, format) {
        Ok(v) => v,
        Err(e) => {
            let tn = type_name(&param.ty, format);
            let message = if param.hidden {
                format!(
                    "parameter {name} type {tn} has a default that is not {}: {}",
                    type_phrase(&param.ty),
                    e.public
                )
            } else if matches!(param.ty, ParameterType::Number) && matches!(raw, Json::String(_)) {
                format!(
                    "parameter {name} type {tn} with non-numeric default {}",
                    shown(&raw)
                )
            } else {
                format!(
                    "parameter {name} type {tn} has a default that is not {}: {}",
                    type_phrase(&param.ty),
                    e.detailed
                )
            };
            return vec![Diagnostic::error(Code::BadDefault, default.span, message)];
        }
    };
    check_constraints(param, &value, format, CustomCheck::Skip)
        .into_iter()
        .map(|v| {
            let d = Diagnostic::error(
                Code::BadDefault,
                default.span,
                format!("the default of parameter {name} is invalid: {}", v.message),
            );
            if v.constraint_span.is_known() {
                d.with_hint(format!(
                    "the constraint is at line {}, column {}",
                    v.constraint_span.start.line, v.constraint_span.start.col
                ))
            } else {
                d
            }
        })
        .collect()
}

/// Checks every parameter's default of a template (see [`check_default`]).
///
/// [`crate::template::parse::parameters::parse_parameters`] already runs this check on what
/// it parses; call this one for templates built or changed in other ways.
pub fn validate_defaults(template: &Template, diags: &mut Vec<Diagnostic>) {
    let format = template.format();
    for param in &template.parameters {
        diags.extend(check_default(param, format));
    }
}

// ---------------------------------------------------------------------------------------------
// Binding
// ---------------------------------------------------------------------------------------------

/// Where a bound value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueSource {
    /// A value given by the user (`--parameter KEY=VALUE`).
    User,
    /// An environment's `parameters` section (the file, when known).
    Environment {
        /// The environment file.
        file: Option<String>,
    },
    /// An environment's `parameter_defaults` section (the file, when known).
    ParameterDefault {
        /// The environment file.
        file: Option<String>,
    },
    /// The template's own default.
    TemplateDefault,
}

/// One bound parameter.
#[derive(Clone, PartialEq)]
pub struct BoundParameter {
    /// The parameter's name.
    pub name: String,
    /// The typed value.
    pub value: ParamValue,
    /// Where the value came from.
    pub source: ValueSource,
    /// Whether the parameter is hidden (`hidden` / `NoEcho`).
    pub hidden: bool,
}

/// What Heat shows instead of a hidden value.
pub const MASK: &str = "******";

impl BoundParameter {
    /// The value as text for display: [`MASK`] when hidden.
    pub fn display_value(&self) -> String {
        if self.hidden {
            MASK.to_string()
        } else {
            self.value.to_text()
        }
    }
}

impl fmt::Debug for BoundParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundParameter")
            .field("name", &self.name)
            .field("value", &self.display_value())
            .field("source", &self.source)
            .field("hidden", &self.hidden)
            .finish()
    }
}

/// The values of a stack's parameters, in template order, with the set of hidden ones.
/// `Debug` and `Display` mask hidden values with [`MASK`].
#[derive(Clone, Default, PartialEq)]
pub struct BoundParameters {
    params: Vec<BoundParameter>,
    hidden: BTreeSet<String>,
}

impl BoundParameters {
    /// An empty set.
    pub fn new() -> BoundParameters {
        BoundParameters::default()
    }

    /// Adds (or replaces) a value.
    pub fn insert(&mut self, param: BoundParameter) {
        if param.hidden {
            self.hidden.insert(param.name.clone());
        } else {
            self.hidden.remove(&param.name);
        }
        if let Some(slot) = self.params.iter_mut().find(|p| p.name == param.name) {
            *slot = param;
        } else {
            self.params.push(param);
        }
    }

    /// The value of a parameter.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.parameter(name).map(|p| &p.value)
    }

    /// A bound parameter with its source.
    pub fn parameter(&self, name: &str) -> Option<&BoundParameter> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether a parameter is hidden.
    pub fn is_hidden(&self, name: &str) -> bool {
        self.hidden.contains(name)
    }

    /// The names of the hidden parameters.
    pub fn hidden(&self) -> &BTreeSet<String> {
        &self.hidden
    }

    /// The bound parameters, in template order.
    pub fn iter(&self) -> impl Iterator<Item = &BoundParameter> {
        self.params.iter()
    }

    /// How many parameters have values.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether no parameter has a value.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The values as a JSON map, hidden ones replaced by [`MASK`] (what the API shows).
    pub fn to_masked_json(&self) -> Json {
        let mut map = serde_json::Map::new();
        for p in &self.params {
            let v = if p.hidden {
                Json::String(MASK.to_string())
            } else {
                p.value.to_json()
            };
            map.insert(p.name.clone(), v);
        }
        Json::Object(map)
    }
}

impl fmt::Debug for BoundParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for p in &self.params {
            map.entry(&p.name, &p.display_value());
        }
        map.finish()
    }
}

impl fmt::Display for BoundParameters {
    /// One `name=value` per line, hidden values masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.params {
            writeln!(f, "{}={}", p.name, p.display_value())?;
        }
        Ok(())
    }
}

/// How strictly to bind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BindMode {
    /// Creating or updating a stack: every parameter needs a value (E2008 otherwise).
    #[default]
    Create,
    /// Validating a template (Heat's `validate_template`): parameters without a value are
    /// left unbound without a diagnostic; the values that were given are still checked.
    Validate,
}

/// Binds parameter values with [`BindMode::Create`]; see [`bind_with`].
pub fn bind(
    template: &Template,
    env: &Environment,
    user: &[(String, String)],
) -> (BoundParameters, Vec<Diagnostic>) {
    bind_with(template, env, user, BindMode::Create)
}

fn env_diag(d: Diagnostic, file: &Option<String>) -> Diagnostic {
    match file {
        Some(f) => d.in_file(f.clone()),
        None => d,
    }
}

/// Binds parameter values. Precedence: user values, then the environment's `parameters`,
/// then its `parameter_defaults`, then the template's default.
///
/// Diagnostics: [`Code::UnknownParameter`] for a user value or an environment `parameters`
/// entry the template does not declare (`parameter_defaults` may target nested templates
/// and are never reported); [`Code::BadParameterValue`] for a value that does not fit (never
/// naming the value of a hidden parameter); [`Code::MissingParameterValue`] for a parameter
/// with no value at all (in [`BindMode::Create`]). A template default that does not fit is
/// reported by the parser ([`Code::BadDefault`]), not here; such a parameter stays unbound.
pub fn bind_with(
    template: &Template,
    env: &Environment,
    user: &[(String, String)],
    mode: BindMode,
) -> (BoundParameters, Vec<Diagnostic>) {
    let format = template.format();
    let mut diags = Vec::new();
    let mut bound = BoundParameters::new();
    let names: Vec<&str> = template
        .parameters
        .iter()
        .map(|p| p.name.value.as_str())
        .collect();

    for (key, _) in user {
        if template.parameter(key).is_none() {
            let mut d = Diagnostic::error(
                Code::UnknownParameter,
                Span::default(),
                format!("The Parameter ({key}) was not defined in template."),
            );
            if let Some(s) = did_you_mean(key, names.iter().copied()) {
                d = d.with_hint(format!("did you mean '{s}'?"));
            }
            diags.push(d);
        }
    }
    for entry in &env.parameters {
        if template.parameter(&entry.name.value).is_none() {
            let mut d = Diagnostic::error(
                Code::UnknownParameter,
                entry.name.span,
                format!(
                    "The Parameter ({}) was not defined in template.",
                    entry.name.value
                ),
            );
            if let Some(s) = did_you_mean(&entry.name.value, names.iter().copied()) {
                d = d.with_hint(format!("did you mean '{s}'?"));
            } else {
                d = d.with_hint("values meant for nested templates belong in parameter_defaults");
            }
            diags.push(env_diag(d, &entry.file));
        }
    }

    let last_env = |entries: &[EnvParameter], name: &str| -> Option<usize> {
        entries
            .iter()
            .rposition(|e| e.name.value == name && !e.value.is_null())
    };

    for param in &template.parameters {
        let name = param.name.value.as_str();
        let user_value = user.iter().rev().find(|(k, _)| k == name);
        let (raw, source, span, file): (Json, ValueSource, Span, Option<String>) =
            if let Some((_, v)) = user_value {
                (
                    Json::String(v.clone()),
                    ValueSource::User,
                    Span::default(),
                    None,
                )
            } else if let Some(i) = last_env(&env.parameters, name) {
                let e = &env.parameters[i];
                (
                    e.value.to_json(),
                    ValueSource::Environment {
                        file: e.file.clone(),
                    },
                    e.value.span,
                    e.file.clone(),
                )
            } else if let Some(i) = last_env(&env.parameter_defaults, name) {
                let e = &env.parameter_defaults[i];
                (
                    e.value.to_json(),
                    ValueSource::ParameterDefault {
                        file: e.file.clone(),
                    },
                    e.value.span,
                    e.file.clone(),
                )
            } else if let Some(default) = param.default.as_ref().filter(|d| !d.is_null()) {
                (
                    default.to_json(),
                    ValueSource::TemplateDefault,
                    default.span,
                    None,
                )
            } else {
                if mode == BindMode::Create {
                    diags.push(
                        Diagnostic::error(
                            Code::MissingParameterValue,
                            param.name.span,
                            format!("The Parameter ({name}) was not provided."),
                        )
                        .with_hint(format!(
                            "give it a value (--parameter {name}=VALUE or an environment file's \
                             parameters section), or a default in the template"
                        )),
                    );
                }
                continue;
            };
        let custom = if source == ValueSource::TemplateDefault {
            CustomCheck::Skip
        } else {
            CustomCheck::Offline
        };
        match validate_value(param, &raw, format, custom) {
            Ok(value) => bound.insert(BoundParameter {
                name: name.to_string(),
                value,
                source,
                hidden: param.hidden,
            }),
            Err(messages) => {
                if source == ValueSource::TemplateDefault {
                    continue; // reported as E2006 by the parser
                }
                let origin = match &source {
                    ValueSource::User => "the value given",
                    ValueSource::Environment { .. } => "the environment's value",
                    ValueSource::ParameterDefault { .. } => {
                        "the environment's parameter_defaults value"
                    }
                    ValueSource::TemplateDefault => "the default",
                };
                for message in messages {
                    let d = Diagnostic::error(
                        Code::BadParameterValue,
                        span,
                        format!("parameter {name}: {origin} is invalid: {message}"),
                    );
                    diags.push(env_diag(d, &file));
                }
            }
        }
    }
    (bound, diags)
}

// ---------------------------------------------------------------------------------------------
// Parameter groups
// ---------------------------------------------------------------------------------------------

/// HOT pseudo-parameters that Heat counts as parameters when it checks `parameter_groups`.
const HOT_GROUPABLE_PSEUDO: &[&str] = &["OS::stack_id", "OS::project_id"];

/// Checks parameter groups against the parameters: every grouped name must be a parameter and
/// appear in one group only ([`Code::BadParameterGroups`]), as Heat checks HOT templates. For
/// CloudFormation's `AWS::CloudFormation::Interface` (console metadata), AWS does not enforce
/// this: an unknown name is a warning ([`Code::ParameterGroupUnknownParameter`]) and
/// duplicates are allowed.
pub fn check_parameter_groups(
    groups: &[ParameterGroup],
    params: &[Parameter],
    version: Version,
    diags: &mut Vec<Diagnostic>,
) {
    let hot = version.is_hot();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for group in groups {
        let label = group.label.as_deref().unwrap_or("");
        for p in &group.parameters {
            let name = p.value.as_str();
            let known = params.iter().any(|q| q.name.value == name)
                || (hot && HOT_GROUPABLE_PSEUDO.contains(&name));
            if hot && !seen.insert(name) {
                diags.push(Diagnostic::error(
                    Code::BadParameterGroups,
                    p.span,
                    format!(
                        "Parameter Groups error: parameter_groups.{label}: The {name} parameter \
                         must be assigned to one parameter group only."
                    ),
                ));
                continue;
            }
            if !known {
                let mut d = if hot {
                    Diagnostic::error(
                        Code::BadParameterGroups,
                        p.span,
                        format!(
                            "Parameter Groups error: parameter_groups.{label}: The grouped \
                             parameter {name} does not reference a valid parameter."
                        ),
                    )
                } else {
                    Diagnostic::warning(
                        Code::ParameterGroupUnknownParameter,
                        p.span,
                        format!(
                            "parameter group '{label}' names {name}, which is not a parameter \
                             of this template"
                        ),
                    )
                };
                if let Some(s) = did_you_mean(name, params.iter().map(|q| q.name.value.as_str())) {
                    d = d.with_hint(format!("did you mean '{s}'?"));
                }
                diags.push(d);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with the parameter and environment parsers
// ---------------------------------------------------------------------------------------------

/// The candidate closest to `word` (edit distance at most a third of its length, and at
/// least 1), if any.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
