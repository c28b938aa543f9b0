//! Value semantics Heat inherits from Python, written down so that HOT functions behave the
//! same: `str()` of scalars (`True`, `1.5`, `1e+16`), JSON serialisation as Heat does it
//! (sorted keys, `", "` and `": "` separators, non-ASCII escaped), equality (`1 == 1.0 ==
//! True`), truthiness, `int()` of indices, and URL quoting.

use serde_json::{Number, Value};
use std::fmt::Write as _;

/// Python's `repr()`/`str()` of a float.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Shortest round-trip digits and the decimal exponent.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        let pad = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{pad}.0")
    } else {
        let (i, frac) = digits.split_at(int_len);
        format!("{sign}{i}.{frac}")
    }
}

/// Python's `str()` of a number.
pub(crate) fn number_str(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        float_repr(n.as_f64().unwrap_or(0.0))
    }
}

/// Python's `str()` of a scalar (`None`, `True`, `1`, `1.5`, text); containers get
/// [`repr`].
pub(crate) fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// Python's `repr()` of a value (as Heat would print it in a message).
pub(crate) fn repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(v, &mut out);
    out
}

fn write_repr(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number_str(n)),
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            out.push(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                        let _ = write!(out, "\\x{:02x}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(&Value::String(k.clone()), out);
                out.push_str(": ");
                write_repr(item, out);
            }
            out.push('}');
        }
    }
}

/// JSON as Heat serialises values into strings (`jsonutils.dumps(v, sort_keys=True)`):
/// keys sorted, `", "` and `": "` separators, every non-ASCII character escaped.
pub(crate) fn json_dumps(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, true, &mut out);
    out
}

/// JSON as Python's plain `json.dumps(v)` writes it: like [`json_dumps`] but keys in their
/// order (not sorted).
pub(crate) fn json_dumps_unsorted(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, false, &mut out);
    out
}

fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn write_json(v: &Value, sort_keys: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f.is_nan() {
                    out.push_str("NaN");
                } else if f.is_infinite() {
                    out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
                } else {
                    out.push_str(&float_repr(f));
                }
            }
        }
        Value::String(s) => write_json_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, sort_keys, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            if sort_keys {
                keys.sort();
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_str(k, out);
                out.push_str(": ");
                if let Some(item) = map.get(*k) {
                    write_json(item, sort_keys, out);
                }
            }
            out.push('}');
        }
    }
}

/// A number as Python compares it: integers exactly, everything else as a float.
enum Num {
    Int(i128),
    Float(f64),
}

fn num_of(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Num::Int(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Some(Num::Int(i128::from(u)))
            } else {
                n.as_f64().map(Num::Float)
            }
        }
        _ => None,
    }
}

/// Python's `==` on JSON-like values (`1 == 1.0`, `True == 1`, maps compared as sets of
/// entries, lists element-wise).
pub(crate) fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| eq(v, w)))
        }
        _ => match (num_of(a), num_of(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(Num::Int(x)), Some(Num::Float(y))) | (Some(Num::Float(y)), Some(Num::Int(x))) => {
                (x as f64) == y
            }
            (Some(Num::Float(x)), Some(Num::Float(y))) => x == y,
            _ => false,
        },
    }
}

/// A canonical text of a value such that two values are Python-equal exactly when their
/// texts are equal (used to de-duplicate and filter in linear time).
pub(crate) fn canon(v: &Value) -> String {
    let mut out = String::new();
    write_canon(v, &mut out);
    out
}

fn write_canon(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push('n'),
        Value::Bool(_) | Value::Number(_) => match num_of(v) {
            Some(Num::Int(i)) => {
                let _ = write!(out, "i{i}");
            }
            Some(Num::Float(f)) if f.fract() == 0.0 && f.abs() < 1e30 => {
                let _ = write!(out, "i{}", f as i128);
            }
            Some(Num::Float(f)) => {
                let _ = write!(out, "f{}", float_repr(f));
            }
            None => out.push('?'),
        },
        Value::String(s) => {
            out.push('s');
            write_json_str(s, out);
        }
        Value::Array(items) => {
            out.push('[');
            for item in items {
                write_canon(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                write_json_str(k, out);
                out.push(':');
                if let Some(item) = map.get(k) {
                    write_canon(item, out);
                }
                out.push(',');
            }
            out.push('}');
        }
    }
}

/// Python's truthiness.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// Python's `int()` of a value: integers, booleans, floats (truncated) and decimal strings
/// (surrounding whitespace and a sign allowed).
pub(crate) fn to_int(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i)
            } else {
                let f = n.as_f64()?;
                if f.is_finite() && f.abs() < 9.0e18 {
                    Some(f.trunc() as i64)
                } else {
                    None
                }
            }
        }
        Value::String(s) => parse_int(s),
        _ => None,
    }
}

/// Python's `int(str)`: optional whitespace, optional sign, decimal digits (single
/// underscores between digits allowed).
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty()
        || body.starts_with('_')
        || body.ends_with('_')
        || body.contains("__")
        || !body.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let digits: String = body.chars().filter(|c| *c != '_').collect();
    let n: i64 = digits.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `urllib.parse.quote(s, safe)`: UTF-8 bytes, letters, digits and `_.-~` kept,
/// plus the `safe` characters; everything else `%XX`.
pub(crate) fn quote(s: &str, safe: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let c = b as char;
        if b.is_ascii_alphanumeric() || "_.-~".contains(c) || (b.is_ascii() && safe.contains(c)) {
            out.push(c);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Python's `quote_plus(s, safe='')`: like [`quote`], with spaces as `+`.
pub(crate) fn quote_plus(s: &str) -> String {
    quote(s, " ").replace(' ', "+")
}

/// A short description of a value for messages: its kind and a bounded preview.
pub(crate) fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => return "null".into(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    };
    let mut preview = serde_json::to_string(v).unwrap_or_default();
    if preview.chars().count() > 60 {
        preview = preview.chars().take(57).collect::<String>() + "...";
    }
    format!("{kind} ({preview})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.25e-7, "1.25e-07"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (123456.789, "123456.789"),
            (1e300, "1e+300"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(*f), *want, "{f}");
        }
    }

    #[test]
    fn json_dumps_matches_heat() {
        let cases = [
            (
                json!({"b": 1, "a": [1, 2.5, null, true]}),
                r#"{"a": [1, 2.5, null, true], "b": 1}"#,
            ),
            (json!("ü\n\"x\""), r#""\u00fc\n\"x\"""#),
            (json!("😀"), r#""\ud83d\ude00""#),
            (json!({}), "{}"),
            (json!([]), "[]"),
        ];
        for (v, want) in cases {
            assert_eq!(json_dumps(&v), want);
        }
    }

    #[test]
    fn python_equality() {
        assert!(eq(&json!(1), &json!(1.0)));
        assert!(eq(&json!(true), &json!(1)));
        assert!(!eq(&json!("1"), &json!(1)));
        assert!(eq(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1.0})));
        assert!(!eq(&json!([1, 2]), &json!([2, 1])));
        assert!(eq(&json!(null), &json!(null)));
    }

    #[test]
    fn python_int_and_repr() {
        assert_eq!(parse_int(" 42 "), Some(42));
        assert_eq!(parse_int("-3"), Some(-3));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(to_int(&json!(2.9)), Some(2));
        assert_eq!(to_int(&json!(true)), Some(1));
        assert_eq!(
            repr(&json!({"a": [1, "it's", null, false]})),
            r#"{'a': [1, "it's", None, False]}"#
        );
        assert_eq!(quote("a b/ü?", "/"), "a%20b/%C3%BC%3F");
        assert_eq!(quote_plus("bar & baz"), "bar+%26+baz");
        assert!(truthy(&json!([0])));
        assert!(!truthy(&json!(0.0)));
    }
}
