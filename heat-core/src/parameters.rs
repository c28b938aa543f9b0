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

use std::collections::{BTreeMap, BTreeSet};
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

/// How many compiled patterns each thread keeps. Templates repeat the same few patterns
/// (names, CIDRs, key names), and compiling a Unicode-aware pattern costs far more than
/// matching it, so validating many templates is dominated by compilation without a cache.
const PATTERN_CACHE_SIZE: usize = 256;

/// Compiled patterns by (pattern, anchored at both ends).
type PatternCache = std::collections::HashMap<(String, bool), std::rc::Rc<Result<Pattern, String>>>;

thread_local! {
    static PATTERN_CACHE: std::cell::RefCell<PatternCache> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl Pattern {
    /// Compiles a pattern anchored at the start (Heat) or at both ends (AWS), reusing this
    /// thread's earlier compilation of the same pattern.
    fn compile(pattern: &str, whole: bool) -> std::rc::Rc<Result<Pattern, String>> {
        let key = (pattern.to_string(), whole);
        if let Some(hit) = PATTERN_CACHE.with(|cache| cache.borrow().get(&key).cloned()) {
            return hit;
        }
        let compiled = std::rc::Rc::new(Pattern::compile_uncached(pattern, whole));
        PATTERN_CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= PATTERN_CACHE_SIZE {
                cache.clear();
            }
            cache.insert(key, compiled.clone());
        });
        compiled
    }

    fn compile_uncached(pattern: &str, whole: bool) -> Result<Pattern, String> {
        let pattern = translate_pattern(pattern);
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

/// Rewrites the Python/Java spellings that Rust's regex engines read differently or refuse:
/// a `-` next to a class escape inside `[...]` (`[\w-\+]`) is a literal; `[`, `&` and `~`
/// inside a class are literals; a `{` that does not start a repetition is a literal;
/// `{,n}` is `{0,n}`; `\Z` is the end of the text; a look-around group with an optional
/// repetition (`(?=x)*`) matches nothing and is dropped, and with `+` is kept once.
pub(crate) fn translate_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    // For each open group: where it starts in `out`, and whether it is a look-around.
    let mut groups: Vec<(usize, bool)> = Vec::new();
    let mut in_class = false;
    let mut class_start = false; // just after `[` or `[^`
    let mut prev_class_escape = false; // the last class item was \w, \d, \s, ...
    let is_class_escape = |c: char| "wWdDsS".contains(c);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let next = chars.get(i + 1).copied();
            match next {
                Some('Z') if !in_class => out.push_str("\\z"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
            prev_class_escape = in_class && next.is_some_and(is_class_escape);
            class_start = false;
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' if !class_start => {
                    in_class = false;
                    out.push(']');
                }
                '-' => {
                    let next_is_escape = chars.get(i + 1) == Some(&'\\')
                        && chars.get(i + 2).is_some_and(|n| is_class_escape(*n));
                    if prev_class_escape || next_is_escape {
                        out.push_str("\\-");
                    } else {
                        out.push('-');
                    }
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '^' if class_start => {
                    out.push('^');
                    i += 1;
                    continue; // still at the start of the class
                }
                _ => out.push(c),
            }
            prev_class_escape = false;
            class_start = false;
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                class_start = true;
                prev_class_escape = false;
                out.push('[');
            }
            '{' => {
                let rest: String = chars[i + 1..].iter().take_while(|c| **c != '}').collect();
                let closed = chars.len() > i + 1 + rest.chars().count();
                let valid = closed && {
                    let (a, b) = rest.split_once(',').unwrap_or((rest.as_str(), ""));
                    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
                    digits(a)
                        && digits(b)
                        && (!a.is_empty() || (rest.contains(',') && !b.is_empty()))
                };
                if valid {
                    if rest.starts_with(',') {
                        out.push_str("{0");
                    } else {
                        out.push('{');
                    }
                } else {
                    out.push_str("\\{");
                }
            }
            '(' => {
                let look = ["(?=", "(?!", "(?<=", "(?<!"]
                    .iter()
                    .any(|p| chars[i..].iter().take(p.len()).copied().eq(p.chars()));
                groups.push((out.len(), look));
                out.push('(');
            }
            ')' => {
                out.push(')');
                if let Some((start, true)) = groups.pop() {
                    match chars.get(i + 1) {
                        Some('*' | '?') => {
                            out.truncate(start);
                            i += 2;
                            // a lazy/possessive marker after the quantifier goes too
                            if matches!(chars.get(i), Some('?' | '+')) {
                                i += 1;
                            }
                            continue;
                        }
                        Some('+') => {
                            i += 2;
                            if matches!(chars.get(i), Some('?' | '+')) {
                                i += 1;
                            }
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Checks that an `allowed_pattern` / `AllowedPattern` is a regular expression heat can use.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    match Pattern::compile(pattern, false).as_ref() {
        Ok(_) => Ok(()),
        Err(why) => Err(why.clone()),
    }
}

/// Whether `text` matches `pattern`: Heat's way (the match from the first character, with
/// leftmost-first alternation, must reach the end) or AWS's (the whole text must match).
pub fn pattern_matches(pattern: &str, text: &str, format: Format) -> Result<bool, String> {
    let whole = format == Format::Cfn;
    match Pattern::compile(pattern, whole).as_ref() {
        Ok(compiled) => Ok(compiled.match_end(text) == Some(text.len())),
        Err(why) => Err(why.clone()),
    }
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
    /// What is wrong, followed by the constraint's description when it has one
    /// (`... (constraint: 'Replicas must be 1-5')`). Never contains the value of a hidden
    /// parameter.
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
        Some(desc) if !desc.trim().is_empty() => {
            format!("{problem} (constraint: '{}')", truncate(desc.trim(), 200))
        }
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
    validate_value_at(param, raw, format, custom)
        .map_err(|problems| problems.into_iter().map(|(m, _)| m).collect())
}

/// As [`validate_value`], with the span of the violated constraint (when there is one) next
/// to each message.
fn validate_value_at(
    param: &Parameter,
    raw: &Json,
    format: Format,
    custom: CustomCheck,
) -> Result<ParamValue, Vec<(String, Option<Span>)>> {
    let value = convert(&param.ty, raw, format)
        .map_err(|e| vec![(e.message(param.hidden).to_string(), None)])?;
    let violations = check_constraints(param, &value, format, custom);
    if violations.is_empty() {
        Ok(value)
    } else {
        Err(violations
            .into_iter()
            .map(|v| {
                let span = v.constraint_span.is_known().then_some(v.constraint_span);
                (v.message, span)
            })
            .collect())
    }
}

/// `LINE:COL` of a span, for hints that point into another file.
fn at(span: Span) -> String {
    format!("{}:{}", span.start.line, span.start.col)
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
            let d = Diagnostic::error(
                Code::BadDefault,
                default.span,
                format!(
                    "the default of parameter {name} is invalid: {}",
                    e.message(param.hidden)
                ),
            )
            .with_hint(format!(
                "change the default to {}, or change the parameter's type (it is {tn})",
                type_phrase(&param.ty)
            ));
            return vec![d];
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
                    "change the default to a value the constraint at {} allows, or remove the \
                     default",
                    at(v.constraint_span)
                ))
            } else {
                d.with_hint("change the default to a value the constraints allow, or remove it")
            }
        })
        .collect()
}

/// Checks every parameter's default of a template (see [`check_default`]).
///
/// The parser does not check defaults; this is the one place they are checked (diagnostics
/// [`Code::BadDefault`], at the default).
pub fn validate_defaults(template: &Template, diags: &mut Vec<Diagnostic>) {
    let format = template.format();
    for param in &template.parameters {
        diags.extend(check_default(param, format));
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter arguments
// ---------------------------------------------------------------------------------------------

/// How much of a malformed argument a message shows.
const ARGUMENT_SHOWN: usize = 40;

/// Parses one `KEY=VALUE` parameter argument (as given with `--parameter`): the text is split
/// at the first `=`, so the value may be empty or contain `=` itself.
///
/// A text without `=`, or with nothing before it, is [`Code::BadParameterArgument`] (no
/// position). The message never shows anything after an `=` (it may be a secret value), and
/// at most the first 40 characters of the text.
pub fn parse_assignment(text: &str) -> Result<(String, String), Diagnostic> {
    let hint = "write parameter values as KEY=VALUE, e.g. flavor=m1.small";
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.to_string(), value.to_string())),
        Some(_) => Err(Diagnostic::error(
            Code::BadParameterArgument,
            Span::default(),
            "Malformed parameter argument '=...': the parameter name before '=' is empty",
        )
        .with_hint(hint)),
        None => {
            let shown = truncate(text, ARGUMENT_SHOWN);
            let message = if text.trim().is_empty() {
                "Malformed parameter argument: it is empty".to_string()
            } else {
                format!("Malformed parameter argument '{shown}': it has no '=' and no value")
            };
            Err(
                Diagnostic::error(Code::BadParameterArgument, Span::default(), message)
                    .with_hint(hint),
            )
        }
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
/// reported by [`validate_defaults`] ([`Code::BadDefault`]), not here; such a parameter stays
/// unbound.
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
            let hint = match did_you_mean(key, names.iter().copied()) {
                Some(s) => format!("did you mean '{s}'?"),
                None if names.is_empty() => "the template declares no parameters".to_string(),
                None => {
                    let mut listed: Vec<&str> = names.iter().copied().take(10).collect();
                    if names.len() > listed.len() {
                        listed.push("...");
                    }
                    format!("the template's parameters are: {}", listed.join(", "))
                }
            };
            diags.push(
                Diagnostic::error(
                    Code::UnknownParameter,
                    Span::default(),
                    format!("The Parameter ({key}) was not defined in template."),
                )
                .with_hint(hint),
            );
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

    // The last non-null value of `name` in an environment section, with its source.
    let from_env = |entries: &[EnvParameter],
                    name: &str,
                    source: fn(Option<String>) -> ValueSource|
     -> Option<(Json, ValueSource, Span, Option<String>)> {
        let e = entries
            .iter()
            .rfind(|e| e.name.value == name && !e.value.is_null())?;
        Some((
            e.value.to_json(),
            source(e.file.clone()),
            e.value.span,
            e.file.clone(),
        ))
    };

    for param in &template.parameters {
        let name = param.name.value.as_str();
        let user_value = user.iter().rev().find(|(k, _)| k == name);
        // A value given by the user is in no file: its diagnostics point at the parameter's
        // declaration.
        let (raw, source, span, file): (Json, ValueSource, Span, Option<String>) =
            if let Some((_, v)) = user_value {
                (
                    Json::String(v.clone()),
                    ValueSource::User,
                    param.name.span,
                    None,
                )
            } else if let Some(found) = from_env(&env.parameters, name, |file| {
                ValueSource::Environment { file }
            }) {
                found
            } else if let Some(found) = from_env(&env.parameter_defaults, name, |file| {
                ValueSource::ParameterDefault { file }
            }) {
                found
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
        match validate_value_at(param, &raw, format, custom) {
            Ok(value) => bound.insert(BoundParameter {
                name: name.to_string(),
                value,
                source,
                hidden: param.hidden,
            }),
            Err(messages) => {
                if source == ValueSource::TemplateDefault {
                    continue; // reported as E2006 by validate_defaults
                }
                let origin = match &source {
                    ValueSource::User => "the value given",
                    ValueSource::Environment { .. } => "the environment's value",
                    ValueSource::ParameterDefault { .. } => {
                        "the environment's parameter_defaults value"
                    }
                    ValueSource::TemplateDefault => "the default",
                };
                // The value is given outside the template (on the command line, or in an
                // environment file): say what to give instead, and where the parameter and
                // its constraint are.
                for (message, constraint) in messages {
                    let wanted = match constraint {
                        Some(c) => format!("a value the constraint at {} allows", at(c)),
                        None => type_phrase(&param.ty).to_string(),
                    };
                    let hint = if source == ValueSource::User {
                        format!("pass {wanted} (--parameter {name}=VALUE)")
                    } else {
                        format!(
                            "change the value in the environment file to {wanted} (parameter \
                             {name} is declared in the template at {})",
                            at(param.name.span)
                        )
                    };
                    let d = Diagnostic::error(
                        Code::BadParameterValue,
                        span,
                        format!("parameter {name}: {origin} is invalid: {message}"),
                    )
                    .with_hint(hint);
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
    // Where each grouped parameter was first listed.
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for group in groups {
        let label = group.label.as_deref().unwrap_or("");
        for p in &group.parameters {
            let name = p.value.as_str();
            let known = params.iter().any(|q| q.name.value == name)
                || (hot && HOT_GROUPABLE_PSEUDO.contains(&name));
            if hot && let Some(first) = seen.get(name) {
                diags.push(
                    Diagnostic::error(
                        Code::BadParameterGroups,
                        p.span,
                        format!(
                            "Parameter Groups error: parameter_groups.{label}: The {name} \
                             parameter must be assigned to one parameter group only."
                        ),
                    )
                    .with_hint(format!(
                        "it is already listed at {}: remove one of the two",
                        at(*first)
                    )),
                );
                continue;
            }
            if hot {
                seen.insert(name, p.span);
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
                d = match did_you_mean(name, params.iter().map(|q| q.name.value.as_str())) {
                    Some(s) => d.with_hint(format!("did you mean '{s}'?")),
                    None if params.is_empty() => {
                        d.with_hint("the template declares no parameters: remove the name")
                    }
                    None => {
                        let names: Vec<&str> = params
                            .iter()
                            .take(10)
                            .map(|q| q.name.value.as_str())
                            .collect();
                        let more = if params.len() > names.len() {
                            ", ..."
                        } else {
                            ""
                        };
                        d.with_hint(format!(
                            "list only parameters of this template ({}{more})",
                            names.join(", ")
                        ))
                    }
                };
                diags.push(d);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with the parameter and environment parsers
// ---------------------------------------------------------------------------------------------

/// The candidate closest to `word` (case-insensitively, or within a third of its length in
/// edits), if any.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    crate::names::closest(word, candidates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Spanned;
    use crate::template::load::Limits;
    use serde_json::json;

    const HOT: Format = Format::Hot;
    const CFN: Format = Format::Cfn;
    const HEAT: Format = Format::HeatCfn;

    #[test]
    fn numbers() {
        let cases: &[(&str, Option<Number>)] = &[
            ("5", Some(Number::Int(5))),
            (" -7 ", Some(Number::Int(-7))),
            ("+3", Some(Number::Int(3))),
            ("007", Some(Number::Int(7))),
            ("2.5", Some(Number::Float(2.5))),
            ("1e3", Some(Number::Float(1000.0))),
            (".5", Some(Number::Float(0.5))),
            ("5.", Some(Number::Float(5.0))),
            ("99999999999999999999", Some(Number::Float(1e20))),
            ("", None),
            ("  ", None),
            ("foo", None),
            ("1,000", None),
            ("0x10", None),
            ("5 apples", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_number(text), *expected, "{text:?}");
        }
        assert!(matches!(parse_number("inf"), Some(Number::Float(f)) if f.is_infinite()));
        assert!(matches!(parse_number("nan"), Some(Number::Float(f)) if f.is_nan()));
        assert_eq!(Number::Float(5.0).to_string(), "5.0");
        assert_eq!(Number::Float(0.25).to_string(), "0.25");
        assert_eq!(Number::Int(-3).to_string(), "-3");
        assert_eq!(Number::Float(f64::INFINITY).to_json(), json!("inf"));
    }

    #[test]
    fn booleans() {
        for t in ["1", "t", "true", "on", "y", "yes", "TRUE", " Yes ", "On"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "false", "off", "n", "no", "FALSE", "No", " off"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "2", "maybe", "truee", "yes please", "1.0"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn conversions() {
        use ParameterType as T;
        let s = |x: &str| ParamValue::String(x.to_string());
        let l = |xs: &[&str]| ParamValue::List(xs.iter().map(|x| x.to_string()).collect());
        let cases: Vec<(T, Json, Format, Option<ParamValue>)> = vec![
            (T::String, json!("abc"), HOT, Some(s("abc"))),
            (T::String, json!(5), HOT, Some(s("5"))),
            (T::String, json!(2.5), HOT, Some(s("2.5"))),
            (T::String, json!(true), HOT, Some(s("True"))),
            (T::String, json!(true), CFN, Some(s("true"))),
            (T::String, json!(["a"]), HOT, None),
            (T::String, json!({"a": 1}), HOT, None),
            (
                T::Number,
                json!("12"),
                HOT,
                Some(ParamValue::Number(Number::Int(12))),
            ),
            (
                T::Number,
                json!(1.5),
                HOT,
                Some(ParamValue::Number(Number::Float(1.5))),
            ),
            (T::Number, json!("x"), HOT, None),
            (T::Number, json!(true), HOT, None),
            (
                T::Boolean,
                json!("yes"),
                HOT,
                Some(ParamValue::Boolean(true)),
            ),
            (
                T::Boolean,
                json!(false),
                HOT,
                Some(ParamValue::Boolean(false)),
            ),
            (T::Boolean, json!(1), HOT, Some(ParamValue::Boolean(true))),
            (T::Boolean, json!(2), HOT, None),
            (T::Boolean, json!("maybe"), HOT, None),
            (
                T::CommaDelimitedList,
                json!("a, b,c"),
                HOT,
                Some(l(&["a", " b", "c"])),
            ),
            (
                T::CommaDelimitedList,
                json!("a, b,c"),
                CFN,
                Some(l(&["a", "b", "c"])),
            ),
            (T::CommaDelimitedList, json!(""), HOT, Some(l(&[]))),
            (T::CommaDelimitedList, json!(""), CFN, Some(l(&[""]))),
            (
                T::CommaDelimitedList,
                json!(["a", 1, true]),
                HOT,
                Some(l(&["a", "1", "True"])),
            ),
            (T::CommaDelimitedList, json!({"a": 1}), HOT, None),
            (T::CommaDelimitedList, json!(5), HEAT, None),
            (T::CommaDelimitedList, json!(5), CFN, Some(l(&["5"]))),
            (T::NumberList, json!("1, 2.5"), CFN, Some(l(&["1", "2.5"]))),
            (T::NumberList, json!("1,b"), CFN, None),
            (
                T::Json,
                json!({"a": [1]}),
                HOT,
                Some(ParamValue::Json(json!({"a": [1]}))),
            ),
            (
                T::Json,
                json!("{\"a\": 1}"),
                HOT,
                Some(ParamValue::Json(json!({"a": 1}))),
            ),
            (
                T::Json,
                json!("[1, 2]"),
                HOT,
                Some(ParamValue::Json(json!([1, 2]))),
            ),
            (T::Json, json!("{nope"), HOT, None),
            (T::Json, json!(""), HOT, Some(ParamValue::Json(json!("")))),
            (
                T::Aws("AWS::EC2::KeyPair::KeyName".into()),
                json!("k"),
                CFN,
                Some(s("k")),
            ),
            (
                T::Aws("List<AWS::EC2::Subnet::Id>".into()),
                json!("s-1, s-2"),
                CFN,
                Some(l(&["s-1", "s-2"])),
            ),
            (
                T::Aws("AWS::SSM::Parameter::Value<List<String>>".into()),
                json!("/p/name"),
                CFN,
                Some(s("/p/name")),
            ),
        ];
        for (ty, raw, format, expected) in cases {
            let got = convert(&ty, &raw, format).ok();
            assert!(
                got == expected,
                "{ty:?} {raw} {format:?}: {got:?} (as JSON {:?})",
                got.as_ref().map(ParamValue::to_json)
            );
        }
    }

    #[test]
    fn conversion_errors_hide_values() {
        let secret = json!("hunter2-secret");
        for ty in [
            ParameterType::Number,
            ParameterType::Boolean,
            ParameterType::Json,
            ParameterType::NumberList,
        ] {
            let raw = if ty == ParameterType::Json {
                json!("{hunter2-secret")
            } else {
                secret.clone()
            };
            let e = convert(&ty, &raw, CFN).expect_err("fails");
            assert!(
                !e.message(true).contains("hunter2"),
                "{ty:?}: {}",
                e.message(true)
            );
            assert!(
                e.message(false).contains("hunter2") || ty == ParameterType::Json,
                "{ty:?}: {}",
                e.message(false)
            );
        }
    }

    #[test]
    fn number_json_in_cfn_is_text() {
        let v = ParamValue::Number(Number::Int(3));
        assert_eq!(v.to_json_for(Format::Cfn), json!("3"));
        assert_eq!(v.to_json_for(Format::Hot), json!(3));
        assert_eq!(
            ParamValue::List(vec!["a".into(), "b".into()]).to_text(),
            "a,b"
        );
        assert_eq!(
            format!("{:?}", ParamValue::String("secret".into())),
            "String(..)"
        );
    }

    fn constraint(kind: ConstraintKind) -> Constraint {
        Constraint {
            kind,
            description: None,
            span: Span::default(),
        }
    }

    #[test]
    fn constraint_checks() {
        use ConstraintKind as K;
        use ParameterType as T;
        let s = |x: &str| ParamValue::String(x.to_string());
        let n = |x: f64| {
            ParamValue::Number(if x == x.trunc() {
                Number::Int(x as i64)
            } else {
                Number::Float(x)
            })
        };
        let l = |xs: &[&str]| ParamValue::List(xs.iter().map(|x| x.to_string()).collect());
        // (kind, type, format, value, passes, substring of the message when failing)
        let cases: Vec<(K, T, Format, ParamValue, bool, &str)> = vec![
            (
                K::Length {
                    min: Some(2.0),
                    max: Some(4.0),
                },
                T::String,
                HOT,
                s("abc"),
                true,
                "",
            ),
            (
                K::Length {
                    min: Some(2.0),
                    max: Some(4.0),
                },
                T::String,
                HOT,
                s("abcde"),
                false,
                "the length is 5, it must be between 2 and 4",
            ),
            (
                K::Length {
                    min: Some(2.0),
                    max: None,
                },
                T::String,
                HOT,
                s("a"),
                false,
                "at least 2",
            ),
            (
                K::Length {
                    min: None,
                    max: Some(1.0),
                },
                T::String,
                HOT,
                s("ab"),
                false,
                "at most 1",
            ),
            (
                K::Length {
                    min: Some(2.0),
                    max: None,
                },
                T::String,
                HOT,
                s("éé"),
                true,
                "",
            ),
            (
                K::Length {
                    min: Some(3.0),
                    max: None,
                },
                T::CommaDelimitedList,
                HOT,
                l(&["a", "b"]),
                false,
                "number of items is 2",
            ),
            (
                K::Length {
                    min: None,
                    max: Some(2.0),
                },
                T::CommaDelimitedList,
                CFN,
                l(&["ab", "abc"]),
                false,
                "length of an item is 3",
            ),
            (
                K::Length {
                    min: None,
                    max: Some(1.0),
                },
                T::Json,
                HOT,
                ParamValue::Json(json!({"a": 1, "b": 2})),
                false,
                "the length is 2",
            ),
            (
                K::Range {
                    min: Some(1.0),
                    max: Some(10.0),
                },
                T::Number,
                HOT,
                n(10.0),
                true,
                "",
            ),
            (
                K::Range {
                    min: Some(1.0),
                    max: Some(10.0),
                },
                T::Number,
                HOT,
                n(10.5),
                false,
                "10.5 is out of range, it must be between 1 and 10",
            ),
            (
                K::Range {
                    min: Some(0.5),
                    max: None,
                },
                T::Number,
                HOT,
                n(0.25),
                false,
                "at least 0.5",
            ),
            (
                K::Range {
                    min: None,
                    max: Some(-1.0),
                },
                T::Number,
                HOT,
                n(0.0),
                false,
                "at most -1",
            ),
            (
                K::Modulo {
                    step: 2.0,
                    offset: 1.0,
                },
                T::Number,
                HOT,
                n(7.0),
                true,
                "",
            ),
            (
                K::Modulo {
                    step: 2.0,
                    offset: 1.0,
                },
                T::Number,
                HOT,
                n(-1.0),
                true,
                "",
            ),
            (
                K::Modulo {
                    step: 2.0,
                    offset: 1.0,
                },
                T::Number,
                HOT,
                n(4.0),
                false,
                "4 is not a multiple of 2 with an offset of 1",
            ),
            (
                K::Modulo {
                    step: 2.0,
                    offset: 0.0,
                },
                T::Number,
                HOT,
                n(4.5),
                false,
                "not a multiple",
            ),
            (
                K::Modulo {
                    step: -3.0,
                    offset: -1.0,
                },
                T::Number,
                HOT,
                n(2.0),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!("a"), json!("b")]),
                T::String,
                HOT,
                s("b"),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!("a"), json!("b")]),
                T::String,
                HOT,
                s("c"),
                false,
                "\"c\" is not an allowed value [\"a\", \"b\"]",
            ),
            (
                K::AllowedValues(vec![json!(1), json!(2)]),
                T::String,
                HOT,
                s("1"),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!(true)]),
                T::String,
                HOT,
                s("True"),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!(true)]),
                T::String,
                CFN,
                s("true"),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!(1), json!("2")]),
                T::Number,
                HOT,
                n(2.0),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!(1)]),
                T::Number,
                HEAT,
                ParamValue::Number(Number::Float(1.0)),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!(1)]),
                T::Number,
                CFN,
                ParamValue::Number(Number::Float(1.0)),
                false,
                "not an allowed value",
            ),
            (
                K::AllowedValues(vec![json!("yes")]),
                T::Boolean,
                HOT,
                ParamValue::Boolean(true),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!(false)]),
                T::Boolean,
                HOT,
                ParamValue::Boolean(true),
                false,
                "true is not an allowed value",
            ),
            (
                K::AllowedValues(vec![json!("a"), json!("b")]),
                T::CommaDelimitedList,
                HOT,
                l(&["a", "b", "a"]),
                true,
                "",
            ),
            (
                K::AllowedValues(vec![json!("a"), json!("b")]),
                T::CommaDelimitedList,
                HOT,
                l(&["a", " b"]),
                false,
                "not an allowed value",
            ),
            (
                K::AllowedValues(vec![json!(1)]),
                T::CommaDelimitedList,
                HOT,
                l(&["1"]),
                false,
                "not an allowed value",
            ),
            (
                K::AllowedValues(vec![json!("a"), json!("b")]),
                T::CommaDelimitedList,
                CFN,
                l(&["a", "b"]),
                true,
                "",
            ),
            (
                K::AllowedPattern("[a-z]+".into()),
                T::String,
                HOT,
                s("abc"),
                true,
                "",
            ),
            (
                K::AllowedPattern("[a-z]+".into()),
                T::String,
                HOT,
                s("abC"),
                false,
                "\"abC\" does not match pattern \"[a-z]+\"",
            ),
            (
                K::AllowedPattern("[a-z]+".into()),
                T::String,
                HOT,
                s(""),
                false,
                "does not match",
            ),
            (
                K::AllowedPattern("a|ab".into()),
                T::String,
                HOT,
                s("ab"),
                false,
                "does not match",
            ),
            (
                K::AllowedPattern("a|ab".into()),
                T::String,
                CFN,
                s("ab"),
                true,
                "",
            ),
            (
                K::AllowedPattern("[a-z]*".into()),
                T::String,
                HOT,
                s(""),
                true,
                "",
            ),
            (
                K::AllowedPattern(r"[\w-\+]+@x".into()),
                T::String,
                CFN,
                s("a-b+c@x"),
                true,
                "",
            ),
            (
                K::AllowedPattern("[a-z]+(?=[.][a-z])*[.][a-z]+".into()),
                T::String,
                HOT,
                s("ab.cd"),
                true,
                "",
            ),
            (
                K::AllowedPattern("(a)\\1".into()),
                T::String,
                HOT,
                s("aa"),
                true,
                "",
            ),
            (
                K::AllowedPattern("[a-z]+".into()),
                T::CommaDelimitedList,
                CFN,
                l(&["ab", "C"]),
                false,
                "\"C\" does not match",
            ),
            (
                K::Custom("ip_addr".into()),
                T::String,
                HOT,
                s("10.0.0.1"),
                true,
                "",
            ),
            (
                K::Custom("ip_addr".into()),
                T::String,
                HOT,
                s("10.0.0.256"),
                false,
                "\"10.0.0.256\" is not a valid ip_addr: not an IP address",
            ),
            (
                K::Custom("nova.flavor".into()),
                T::String,
                HOT,
                s("anything"),
                true,
                "",
            ),
            (
                K::Custom("net_cidr".into()),
                T::CommaDelimitedList,
                HOT,
                l(&["10.0.0.0/8", "x"]),
                false,
                "\"x\" is not a valid net_cidr",
            ),
        ];
        let mut failures = Vec::new();
        for (kind, ty, format, value, passes, message) in cases {
            let c = constraint(kind.clone());
            let got = check_constraint(&c, &value, &ty, format, false, CustomCheck::Offline);
            match (&got, passes) {
                (None, true) => {}
                (Some(v), false) if v.message.contains(message) => {}
                _ => failures.push(format!(
                    "{kind:?} {ty:?} {format:?} {:?}: {got:?}",
                    value.to_json()
                )),
            }
            if !passes {
                // The same check on a hidden parameter never shows the value.
                let hidden = check_constraint(&c, &value, &ty, format, true, CustomCheck::Offline);
                let text = hidden.map(|v| v.message).unwrap_or_default();
                let shown = value.to_text();
                if shown.len() > 2 && text.contains(&shown) {
                    failures.push(format!("hidden value shown: {text}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn description_accompanies_message() {
        let c = Constraint {
            kind: ConstraintKind::Length {
                min: Some(8.0),
                max: None,
            },
            description: Some("Password must be at least 8 characters".into()),
            span: Span::default(),
        };
        let v = check_constraint(
            &c,
            &ParamValue::String("abc".into()),
            &ParameterType::String,
            HOT,
            false,
            CustomCheck::Offline,
        );
        assert_eq!(
            v.map(|v| v.message).as_deref(),
            Some(
                "the length is 3, it must be at least 8 (constraint: 'Password must be at \
                 least 8 characters')"
            )
        );
    }

    #[test]
    fn parameter_arguments() {
        let ok: &[(&str, (&str, &str))] = &[
            ("flavor=m1.small", ("flavor", "m1.small")),
            ("empty=", ("empty", "")),
            ("query=a=b", ("query", "a=b")),
            ("k = v", ("k ", " v")),
        ];
        for (text, (k, v)) in ok {
            assert_eq!(
                parse_assignment(text),
                Ok((k.to_string(), v.to_string())),
                "{text}"
            );
        }
        let bad: &[(&str, &str)] = &[
            (
                "novalue",
                "Malformed parameter argument 'novalue': it has no '='",
            ),
            ("", "it is empty"),
            ("=hunter2", "the parameter name before '=' is empty"),
            (" =hunter2", "the parameter name before '=' is empty"),
        ];
        for (text, message) in bad {
            let d = parse_assignment(text).expect_err(text);
            assert_eq!(d.code, Code::BadParameterArgument);
            assert!(!d.span.is_known());
            assert!(d.message.contains(message), "{text}: {}", d.message);
            assert!(!d.to_string().contains("hunter2"), "{d}");
            assert!(d.hint.as_deref().is_some_and(|h| h.contains("KEY=VALUE")));
        }
        // A long text (a value pasted without its name, say) is cut at 40 characters.
        let long = "x".repeat(39) + "SECRET-TAIL";
        let d = parse_assignment(&long).expect_err("no '='");
        assert!(!d.message.contains("SECRET"), "{}", d.message);
        assert!(d.message.contains(&"x".repeat(39)));
    }

    #[test]
    fn custom_constraints_offline() {
        use CustomOutcome::{Unchecked, Valid};
        let invalid = |r: CustomOutcome| matches!(r, CustomOutcome::Invalid(_));
        let table: &[(&str, &str, bool)] = &[
            ("ip_addr", "192.168.0.1", true),
            ("ip_addr", "::1", true),
            ("ip_addr", "2001:db8::ff00:42:8329", true),
            ("ip_addr", "01.2.3.4", false),
            ("ip_addr", "1.2.3", false),
            ("ip_addr", "1.2.3.4 ", false),
            ("ip_addr", "a.b.c.d", false),
            ("net_cidr", "10.0.0.0/24", true),
            ("net_cidr", "10.0.0.1/24", true),
            ("net_cidr", "2001:db8::/32", true),
            ("net_cidr", "10.0.0.0", false),
            ("net_cidr", "10.0.0.0/33", false),
            ("net_cidr", "10.0.0.0/08", false),
            ("net_cidr", "10/8", false),
            ("ip_or_cidr", "10.0.0.1", true),
            ("ip_or_cidr", "10.0.0.0/16", true),
            ("ip_or_cidr", "10.0.0.0/99", false),
            ("mac_addr", "01:23:45:67:89:ab", true),
            ("mac_addr", "01-23-45-67-89-AB", true),
            ("mac_addr", "0123.4567.89ab", true),
            ("mac_addr", "0123456789ab", true),
            ("mac_addr", "01:23:45:67:89", false),
            ("mac_addr", "01:23:45:67:89:zz", false),
            ("iso_8601", "2017-12-28T19:14:44.180394", true),
            ("iso_8601", "2017-12-28", true),
            ("iso_8601", "2017-12-28T19:14:44Z", true),
            ("iso_8601", "2017-12-28 19:14+01:00", true),
            ("iso_8601", "20171228T191444", true),
            ("iso_8601", "2017", true),
            ("iso_8601", "201712", false),
            ("iso_8601", "2017-13-01", false),
            ("iso_8601", "2017-02-30", false),
            ("iso_8601", "2016-02-29", true),
            ("iso_8601", "2017-12-28T25:00", false),
            ("iso_8601", "yesterday", false),
            ("expiration", "", true),
            ("expiration", "2099-01-01T00:00:00Z", true),
            ("expiration", "soon", false),
            ("dns_name", "www.example.com", true),
            ("dns_name", "www.example.com.", true),
            ("dns_name", "", true),
            ("dns_name", "Example.com", false),
            ("dns_name", "-a.com", false),
            ("dns_name", "a..com", false),
            ("dns_name", "a.123.", false),
            ("dns_domain", "example.com.", true),
            ("dns_domain", "example.com", false),
            ("rel_dns_name", "host", true),
            ("rel_dns_name", "host.", false),
            ("json_string", "{\"a\": 1}", true),
            ("json_string", "{a", false),
            ("cron_expression", "*/5 * * * *", true),
            ("cron_expression", "0 0 1-15 jan-mar mon#2", true),
            ("cron_expression", "@daily", true),
            ("cron_expression", "61 * * * *", false),
            ("cron_expression", "* * *", false),
        ];
        for (name, value, ok) in table {
            let got = check_custom_constraint(name, value);
            if *ok {
                assert_eq!(got, Valid, "{name} {value:?}");
            } else {
                assert!(invalid(got.clone()), "{name} {value:?}: {got:?}");
            }
        }
        assert_eq!(
            check_custom_constraint("timezone", "Nowhere/Land"),
            Unchecked
        );
        assert_eq!(check_custom_constraint("glance.image", "x"), Unchecked);
        for name in OFFLINE_CUSTOM_CONSTRAINTS {
            assert_ne!(
                check_custom_constraint(name, "\u{0}bad"),
                Unchecked,
                "{name}"
            );
        }
    }

    #[test]
    fn pattern_translation() {
        let cases: &[(&str, &str)] = &[
            (r"[\w-\+]+", r"[\w\-\+]+"),
            (r"[a-\d]", r"[a\-\d]"),
            ("a{", r"a\{"),
            ("a{1,2}", "a{1,2}"),
            ("a{,2}", "a{0,2}"),
            ("a{x}", r"a\{x}"),
            (r"ab\Z", r"ab\z"),
            ("[a&&b]", r"[a\&\&b]"),
            ("[[a]", r"[\[a]"),
            ("x(?=y)*z", "xz"),
            ("x(?!y)?z", "xz"),
            ("x(?=y)+", "x(?=y)"),
            ("(a)*", "(a)*"),
            ("[^]a]", "[^]a]"),
        ];
        for (python, rust) in cases {
            assert_eq!(translate_pattern(python), *rust, "{python}");
        }
        assert!(check_pattern("[a-").is_err());
        assert!(check_pattern("(").is_err());
        assert!(check_pattern("a\\").is_err());
        assert!(check_pattern(r"^[\w-\+]+(\.[\w]+)*@[\w-]+(\.[\w]+)*(\.[a-z]{2,})$|^$").is_ok());
    }

    fn template(text: &str) -> Template {
        let parsed = crate::template::parse(text, &Limits::default());
        parsed.template.expect("a template")
    }

    fn env(text: &str) -> Environment {
        let (env, diags) = Environment::parse("env.yaml", text, &Limits::default());
        assert!(diags.is_empty(), "{diags:#?}");
        env
    }

    const TEMPLATE: &str = "heat_template_version: 2016-10-14
parameters:
  flavor:
    type: string
    default: m1.small
  count:
    type: number
    default: 1
    constraints:
      - range: {min: 1, max: 5}
  password:
    type: string
    hidden: true
    constraints:
      - length: {min: 8}
      - allowed_pattern: '[a-zA-Z0-9]+'
  names:
    type: comma_delimited_list
    default: a,b
  debug:
    type: boolean
    default: false
  config:
    type: json
    default: {a: 1}
resources: {}
";

    fn user(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bind_precedence_and_types() {
        let t = template(TEMPLATE);
        let e = env(
            "parameters:\n  count: 3\n  flavor: m1.large\nparameter_defaults:\n  count: 4\n  names: [x, y]\n  debug: 'yes'\n  nested_only: 7\n",
        );
        let (bound, diags) = bind(
            &t,
            &e,
            &user(&[("flavor", "m1.tiny"), ("password", "abcdefgh1")]),
        );
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(
            bound.get("flavor"),
            Some(&ParamValue::String("m1.tiny".into()))
        );
        assert_eq!(
            bound.parameter("flavor").map(|p| &p.source),
            Some(&ValueSource::User)
        );
        assert_eq!(
            bound.get("count"),
            Some(&ParamValue::Number(Number::Int(3)))
        );
        assert_eq!(
            bound.parameter("count").map(|p| &p.source),
            Some(&ValueSource::Environment {
                file: Some("env.yaml".into())
            })
        );
        assert_eq!(
            bound.get("names"),
            Some(&ParamValue::List(vec!["x".into(), "y".into()]))
        );
        assert_eq!(
            bound.parameter("names").map(|p| &p.source),
            Some(&ValueSource::ParameterDefault {
                file: Some("env.yaml".into())
            })
        );
        assert_eq!(bound.get("debug"), Some(&ParamValue::Boolean(true)));
        assert_eq!(
            bound.get("config"),
            Some(&ParamValue::Json(json!({"a": 1})))
        );
        assert_eq!(
            bound.parameter("config").map(|p| &p.source),
            Some(&ValueSource::TemplateDefault)
        );
        assert!(bound.is_hidden("password"));
        assert!(!bound.is_hidden("flavor"));
        assert_eq!(bound.len(), 6);
    }

    #[test]
    fn bind_errors() {
        let t = template(TEMPLATE);
        let e = env(
            "parameters:\n  flavr: x\n  count: 9\nparameter_defaults:\n  other_stack_param: 1\n",
        );
        let (bound, diags) = bind(&t, &e, &user(&[("cuont", "2"), ("debug", "maybe")]));
        let got: Vec<(&str, String)> = diags
            .iter()
            .map(|d| (d.code.as_str(), d.message.clone()))
            .collect();
        let codes: Vec<&str> = got.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            codes,
            ["E2009", "E2009", "E2007", "E2008", "E2007"],
            "{got:#?}"
        );
        assert_eq!(
            got[0].1,
            "The Parameter (cuont) was not defined in template."
        );
        assert_eq!(diags[0].hint.as_deref(), Some("did you mean 'count'?"));
        assert_eq!(
            got[1].1,
            "The Parameter (flavr) was not defined in template."
        );
        assert_eq!(diags[1].file.as_deref(), Some("env.yaml"));
        assert_eq!(diags[1].span.start.line, 2);
        assert!(
            got[2]
                .1
                .contains("parameter count: the environment's value is invalid: 9 is out of range"),
            "{}",
            got[2].1
        );
        assert_eq!(diags[2].span.start.line, 3);
        assert_eq!(got[3].1, "The Parameter (password) was not provided.");
        assert!(diags[3].span.is_known());
        assert!(
            got[4]
                .1
                .contains("parameter debug: the value given is invalid")
        );
        assert!(bound.get("debug").is_none() && bound.get("count").is_none());

        // Validating does not require values.
        let (_, diags) = bind_with(&t, &Environment::default(), &[], BindMode::Validate);
        assert!(diags.is_empty(), "{diags:#?}");
    }

    #[test]
    fn hidden_values_never_leak() {
        let secret = "Sup3r$ecret!value";
        let t = template(TEMPLATE);
        let cfn = template(
            "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Pw:\n    Type: Number\n    NoEcho: true\n  Pw2:\n    Type: String\n    NoEcho: true\n    AllowedValues: [a, b]\n    MaxLength: 3\nResources:\n  T:\n    Type: AWS::SNS::Topic\n",
        );
        let e = env(&format!("parameters:\n  password: '{secret}'\n"));
        let (bound, diags) = bind(&t, &e, &[]);
        assert!(!diags.is_empty());
        let (bound2, diags2) = bind(
            &cfn,
            &Environment::default(),
            &user(&[("Pw", secret), ("Pw2", secret)]),
        );
        assert_eq!(diags2.len(), 3, "{diags2:#?}");
        for d in diags.iter().chain(&diags2) {
            let text = format!("{d} {:?}", d.hint);
            assert!(
                !text.contains(secret) && !text.contains("Sup3r"),
                "leak: {text}"
            );
        }
        // A valid hidden value is bound, and masked in every rendering.
        let (bound3, diags3) = bind(
            &t,
            &Environment::default(),
            &user(&[("password", "Abcdefgh12345")]),
        );
        assert!(diags3.is_empty());
        let rendered = format!(
            "{bound3:?} {bound3} {} {:?}",
            bound3.to_masked_json(),
            bound3.parameter("password")
        );
        assert!(!rendered.contains("Abcdefgh12345"), "{rendered}");
        assert!(rendered.contains(MASK));
        assert!(rendered.contains("m1.small"), "{rendered}");
        assert_eq!(
            bound3.get("password"),
            Some(&ParamValue::String("Abcdefgh12345".into()))
        );
        let _ = (bound, bound2);
    }

    #[test]
    fn bound_parameters_display() {
        let mut b = BoundParameters::new();
        assert!(b.is_empty());
        b.insert(BoundParameter {
            name: "a".into(),
            value: ParamValue::Number(Number::Int(1)),
            source: ValueSource::User,
            hidden: false,
        });
        b.insert(BoundParameter {
            name: "s".into(),
            value: ParamValue::String("x-secret".into()),
            source: ValueSource::User,
            hidden: true,
        });
        assert_eq!(b.to_string(), "a=1\ns=******\n");
        assert_eq!(format!("{b:?}"), "{\"a\": \"1\", \"s\": \"******\"}");
        assert_eq!(b.to_masked_json(), json!({"a": 1, "s": "******"}));
        assert_eq!(b.hidden().len(), 1);
        assert_eq!(b.iter().count(), 2);
    }

    #[test]
    fn default_checks() {
        let t = template(
            "heat_template_version: 2013-05-23\nparameters:\n  a:\n    type: number\n    default: 7\n    constraints:\n      - range: {max: 5}\n  b:\n    type: string\n    default: x\n    constraints:\n      - custom_constraint: ip_addr\nresources: {}\n",
        );
        let mut diags = Vec::new();
        validate_defaults(&t, &mut diags);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].code, Code::BadDefault);
        assert!(diags[0].message.contains(
            "the default of parameter a is invalid: 7 is out of range, it must be at most 5"
        ));
        assert_eq!(
            diags[0].hint.as_deref(),
            Some(
                "change the default to a value the constraint at 7:9 allows, or remove the default"
            )
        );

        // One wording for every bad default: "the default of parameter X is invalid: ...",
        // with the constraint's description next to the reason.
        let t = template(
            "heat_template_version: 2013-05-23\nparameters:\n  n:\n    type: number\n    default: two\n  r:\n    type: number\n    default: 7\n    constraints:\n      - range: {min: 1, max: 5}\n        description: Replicas must be 1-5\n  h:\n    type: number\n    hidden: true\n    default: s3cret\nresources: {}\n",
        );
        let mut diags = Vec::new();
        validate_defaults(&t, &mut diags);
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "the default of parameter n is invalid: 'two' is not a number",
                "the default of parameter r is invalid: 7 is out of range, it must be between \
                 1 and 5 (constraint: 'Replicas must be 1-5')",
                "the default of parameter h is invalid: the value is not a number",
            ]
        );
        assert_eq!(
            diags[0].hint.as_deref(),
            Some("change the default to a number, or change the parameter's type (it is number)")
        );
    }

    #[test]
    fn values_from_outside_the_template_point_at_the_declaration() {
        let t = template(TEMPLATE);
        let (_, diags) = bind_with(
            &t,
            &Environment::default(),
            &user(&[("count", "9"), ("debug", "maybe"), ("zzz", "1")]),
            BindMode::Validate,
        );
        let shown: Vec<(&str, Option<&str>)> = diags
            .iter()
            .map(|d| (d.code.as_str(), d.hint.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "E2009",
                    Some(
                        "the template's parameters are: flavor, count, password, names, debug, \
                         config"
                    )
                ),
                (
                    "E2007",
                    Some("pass a value the constraint at 10:9 allows (--parameter count=VALUE)")
                ),
                ("E2007", Some("pass a boolean (--parameter debug=VALUE)")),
            ],
            "{diags:#?}"
        );
        // A value given on the command line is in no file: an undeclared parameter has no
        // position, a rejected value points at the parameter's declaration.
        assert!(diags.iter().all(|d| d.file.is_none()));
        let spans: Vec<String> = diags.iter().map(|d| d.span.start.to_string()).collect();
        assert_eq!(spans, ["0:0", "6:3", "20:3"]);
        // A value from an environment file: the diagnostic is in that file, at the value.
        let e = env("parameters:\n  count: 9\n");
        let (_, diags) = bind_with(&t, &e, &[], BindMode::Validate);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].file.as_deref(), Some("env.yaml"));
        assert_eq!(diags[0].span.start.line, 2);
        assert_eq!(
            diags[0].hint.as_deref(),
            Some(
                "change the value in the environment file to a value the constraint at 10:9 \
                 allows (parameter count is declared in the template at 6:3)"
            )
        );
        let empty = template("heat_template_version: 2013-05-23\nresources: {}\n");
        let (_, diags) = bind_with(
            &empty,
            &Environment::default(),
            &user(&[("a", "1")]),
            BindMode::Validate,
        );
        assert_eq!(
            diags[0].hint.as_deref(),
            Some("the template declares no parameters")
        );
    }

    fn group(label: &str, names: &[&str]) -> ParameterGroup {
        ParameterGroup {
            label: Some(label.to_string()),
            description: None,
            parameters: names
                .iter()
                .map(|n| Spanned::new(n.to_string(), Span::default()))
                .collect(),
            span: Span::default(),
        }
    }

    #[test]
    fn parameter_group_references() {
        let t = template(TEMPLATE);
        let mut diags = Vec::new();
        check_parameter_groups(
            &[
                group("A", &["flavor", "count"]),
                group("B", &["flavor", "flavour", "OS::stack_id"]),
            ],
            &t.parameters,
            Version::Hot20161014,
            &mut diags,
        );
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "Parameter Groups error: parameter_groups.B: The flavor parameter must be assigned to one parameter group only.",
                "Parameter Groups error: parameter_groups.B: The grouped parameter flavour does not reference a valid parameter.",
            ]
        );
        assert!(diags.iter().all(|d| d.code == Code::BadParameterGroups));
        assert_eq!(diags[1].hint.as_deref(), Some("did you mean 'flavor'?"));

        let mut diags = Vec::new();
        check_parameter_groups(
            &[group("A", &["flavor"]), group("B", &["flavor", "Nope"])],
            &t.parameters,
            Version::Cfn20100909,
            &mut diags,
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::ParameterGroupUnknownParameter);
        assert!(!diags[0].is_error());
    }

    #[test]
    fn did_you_mean_picks_close_names() {
        let names = ["parameters", "parameter_defaults", "resource_registry"];
        assert_eq!(did_you_mean("paramters", names), Some("parameters"));
        assert_eq!(
            did_you_mean("resource_registy", names),
            Some("resource_registry")
        );
        assert_eq!(did_you_mean("xyz", names), None);
        assert_eq!(did_you_mean("parameters", names), None);
    }
}
