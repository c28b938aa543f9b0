//! YAML 1.1 scalar resolution, as Heat's loader (PyYAML's `SafeLoader`) applies it.
//!
//! Heat loads YAML with PyYAML's safe loader, whose implicit resolvers follow YAML 1.1:
//! `yes`/`no`/`on`/`off` are booleans, `0755` is octal, `1:20` is sexagesimal (80), a float
//! needs a dot (`1e3` stays a string while `1.5e+3` is a float), and `-.5` is a string
//! (PyYAML's float pattern allows no sign before a leading dot). Heat keeps timestamps such
//! as `2013-05-23` as strings. Each rule is pinned by `test_data/load/yaml11.tsv`.
//!
//! Only plain (unquoted, untagged) scalars go through [`resolve_plain`]; quoted and block
//! scalars are always strings. The `construct_*` functions give the value of a scalar with
//! an explicit core tag (`!!int`, `!!float`, `!!bool`), which accept more spellings than the
//! implicit patterns.

use crate::template::node::Value;

/// Resolves a plain scalar's text to a value with PyYAML's YAML 1.1 implicit rules.
///
/// Null (`~`, `null`, `Null`, `NULL`, empty), booleans, integers (decimal, `0b` binary,
/// `0`-prefixed octal, `0x` hexadecimal, sexagesimal, `_` separators) and floats (with a dot,
/// `.inf`, `.nan`, sexagesimal); everything else is a string. Integers that do not fit in
/// 64 bits become floats.
pub fn resolve_plain(s: &str) -> Value {
    let Some(&first) = s.as_bytes().first() else {
        return Value::Null;
    };
    match first {
        b'~' | b'n' | b'N' if is_null(s) => Value::Null,
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' => match bool_word(s) {
            Some(b) => Value::Bool(b),
            None => Value::String(s.to_owned()),
        },
        b'-' | b'+' | b'.' | b'0'..=b'9' => {
            if is_float(s) {
                match construct_float(s) {
                    Some(f) => Value::Float(f),
                    None => Value::String(s.to_owned()),
                }
            } else if is_int(s) {
                // PyYAML raises on degenerate matches such as `0x_`; they stay strings here.
                construct_int(s).unwrap_or_else(|| Value::String(s.to_owned()))
            } else {
                Value::String(s.to_owned())
            }
        }
        _ => Value::String(s.to_owned()),
    }
}

/// Whether a plain scalar is YAML 1.1's merge key `<<`.
pub fn is_merge_key(s: &str) -> bool {
    s == "<<"
}

/// Whether a plain scalar is YAML 1.1's value key `=`, for which PyYAML's safe loader has no
/// constructor (loading it is an error in Heat).
pub fn is_value_key(s: &str) -> bool {
    s == "="
}

/// The value of a `!!bool` scalar: PyYAML lower-cases the text and accepts
/// `yes/no/true/false/on/off`.
pub fn construct_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Some(true),
        "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// The value of a `!!int` scalar (or of a plain scalar that matched the integer pattern):
/// `_` removed, optional sign, then `0` / `0b…` / `0x…` / `0…` (octal, `0o` accepted) /
/// sexagesimal `a:b:c` / decimal. `None` when the text is not an integer. Values outside
/// `i64` are returned as [`Value::Float`].
pub fn construct_int(s: &str) -> Option<Value> {
    let cleaned: String = s.trim().chars().filter(|&c| c != '_').collect();
    let (negative, body) = split_sign(&cleaned);
    if body.is_empty() {
        return None;
    }
    let magnitude = if body == "0" {
        Magnitude::Exact(0)
    } else if let Some(digits) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        parse_radix(digits, 2)?
    } else if let Some(digits) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        parse_radix(digits, 16)?
    } else if let Some(digits) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        parse_radix(digits, 8)?
    } else if body.starts_with('0') {
        parse_radix(body, 8)?
    } else if body.contains(':') {
        let mut total = Magnitude::Exact(0);
        for part in body.split(':') {
            let digit = parse_radix(part, 10)?;
            total = total.times_plus(60, digit);
        }
        total
    } else {
        parse_radix(body, 10)?
    };
    Some(magnitude.into_value(negative))
}

/// The value of a `!!float` scalar (or of a plain scalar that matched the float pattern):
/// `_` removed, lower-cased, optional sign, `.inf`, `.nan`, sexagesimal `a:b.c`, or a decimal
/// number. `None` when the text is not a number.
pub fn construct_float(s: &str) -> Option<f64> {
    let cleaned: String = s
        .trim()
        .chars()
        .filter(|&c| c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let (negative, body) = split_sign(&cleaned);
    if body.is_empty() {
        return None;
    }
    let sign = if negative { -1.0 } else { 1.0 };
    let magnitude = if body == ".inf" {
        f64::INFINITY
    } else if body == ".nan" {
        return Some(f64::NAN);
    } else if body.contains(':') {
        let mut total = 0.0_f64;
        for part in body.split(':') {
            total = total * 60.0 + parse_decimal_float(part)?;
        }
        total
    } else {
        parse_decimal_float(body)?
    };
    Some(sign * magnitude)
}

/// Parses a float the way Python's `float()` does for the texts that reach it here.
fn parse_decimal_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.starts_with(['+', '-']) && s.len() == 1 {
        return None;
    }
    s.parse::<f64>().ok()
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else {
        (false, s)
    }
}

/// An integer magnitude: exact while it fits, approximate (as Python's big int converted to
/// a float) beyond.
#[derive(Clone, Copy)]
enum Magnitude {
    Exact(u128),
    Approx(f64),
}

impl Magnitude {
    fn times_plus(self, base: u32, digit: Magnitude) -> Magnitude {
        match (self, digit) {
            (Magnitude::Exact(a), Magnitude::Exact(d)) => a
                .checked_mul(u128::from(base))
                .and_then(|m| m.checked_add(d))
                .map_or_else(
                    || Magnitude::Approx(a as f64 * f64::from(base) + d as f64),
                    Magnitude::Exact,
                ),
            (a, d) => Magnitude::Approx(a.as_f64() * f64::from(base) + d.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Magnitude::Exact(v) => v as f64,
            Magnitude::Approx(v) => v,
        }
    }

    fn into_value(self, negative: bool) -> Value {
        if let Magnitude::Exact(v) = self {
            let signed = if negative {
                i128::try_from(v).ok().map(|v| -v)
            } else {
                i128::try_from(v).ok()
            };
            if let Some(i) = signed.and_then(|v| i64::try_from(v).ok()) {
                return Value::Int(i);
            }
        }
        let f = self.as_f64();
        Value::Float(if negative { -f } else { f })
    }
}

fn parse_radix(digits: &str, radix: u32) -> Option<Magnitude> {
    if digits.is_empty() {
        return None;
    }
    let mut total = Magnitude::Exact(0);
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        total = total.times_plus(radix, Magnitude::Exact(u128::from(d)));
    }
    Some(total)
}

/// `^(?: ~ | null | Null | NULL | )$`
fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// `yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`
fn bool_word(s: &str) -> Option<bool> {
    match s {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// A cursor over ASCII bytes for the hand-written versions of PyYAML's patterns.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_sign(&mut self) {
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.i += 1;
        }
    }
    /// Eats bytes while `f` holds; returns how many.
    fn eat_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        self.i - start
    }
    fn at_end(&self) -> bool {
        self.i == self.b.len()
    }
    fn rest_is(&self, alternatives: &[&str]) -> bool {
        let rest = &self.b[self.i.min(self.b.len())..];
        alternatives.iter().any(|a| a.as_bytes() == rest)
    }
}

fn digit_or_us(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// `(?:[eE][-+][0-9]+)?` then end of text.
fn exponent_then_end(c: &mut Cur<'_>) -> bool {
    if c.eat(b'e') || c.eat(b'E') {
        if !(c.eat(b'-') || c.eat(b'+')) {
            return false;
        }
        if c.eat_while(|b| b.is_ascii_digit()) == 0 {
            return false;
        }
    }
    c.at_end()
}

/// `(?::[0-5]?[0-9])+`; true if at least one group was eaten.
fn sexagesimal_groups(c: &mut Cur<'_>) -> bool {
    let mut groups = 0;
    loop {
        let save = c.i;
        if !c.eat(b':') {
            break;
        }
        let a = c.peek();
        let b = c.b.get(c.i + 1).copied();
        match (a, b) {
            (Some(x), Some(y)) if (b'0'..=b'5').contains(&x) && y.is_ascii_digit() => c.i += 2,
            (Some(x), _) if x.is_ascii_digit() => c.i += 1,
            _ => {
                c.i = save;
                break;
            }
        }
        groups += 1;
    }
    groups > 0
}

/// PyYAML's float pattern:
/// ```text
/// [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
/// | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
/// | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
/// | [-+]?\.(?:inf|Inf|INF)
/// | \.(?:nan|NaN|NAN)
/// ```
fn is_float(s: &str) -> bool {
    let b = s.as_bytes();
    // Alternatives 2 and 5: a leading dot, no sign.
    if b.first() == Some(&b'.') {
        let mut c = Cur { b, i: 1 };
        if c.rest_is(&["nan", "NaN", "NAN", "inf", "Inf", "INF"]) {
            return true;
        }
        if !c.peek().is_some_and(|x| x.is_ascii_digit()) {
            return false;
        }
        c.eat_while(digit_or_us);
        return exponent_then_end(&mut c);
    }
    let mut c = Cur { b, i: 0 };
    c.eat_sign();
    // Alternative 4: signed infinity.
    if c.eat(b'.') {
        return c.rest_is(&["inf", "Inf", "INF"]);
    }
    // Alternatives 1 and 3 start with a digit.
    if !c.peek().is_some_and(|x| x.is_ascii_digit()) {
        return false;
    }
    c.eat_while(digit_or_us);
    let after_digits = c.i;
    // Alternative 1.
    if c.eat(b'.') {
        c.eat_while(digit_or_us);
        if exponent_then_end(&mut c) {
            return true;
        }
    }
    // Alternative 3.
    c.i = after_digits;
    if sexagesimal_groups(&mut c) && c.eat(b'.') {
        c.eat_while(digit_or_us);
        return c.at_end();
    }
    false
}

/// PyYAML's int pattern:
/// ```text
/// [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
/// | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
/// ```
fn is_int(s: &str) -> bool {
    let mut c = Cur {
        b: s.as_bytes(),
        i: 0,
    };
    c.eat_sign();
    let body = c.i;
    match c.peek() {
        Some(b'0') => {
            c.i += 1;
            if c.at_end() {
                return true;
            }
            if c.eat(b'b') {
                return c.eat_while(|x| matches!(x, b'0' | b'1' | b'_')) > 0 && c.at_end();
            }
            if c.eat(b'x') {
                return c.eat_while(|x| x.is_ascii_hexdigit() || x == b'_') > 0 && c.at_end();
            }
            c.i = body + 1;
            c.eat_while(|x| matches!(x, b'0'..=b'7' | b'_')) > 0 && c.at_end()
        }
        Some(b'1'..=b'9') => {
            c.eat_while(digit_or_us);
            if c.at_end() {
                return true;
            }
            sexagesimal_groups(&mut c) && c.at_end()
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Parses an expectation column of `test_data/load/yaml11.tsv`.
    fn expected(kind: &str, text: &str) -> Value {
        match kind {
            "null" => Value::Null,
            "bool" => Value::Bool(text == "true"),
            "int" => Value::Int(text.parse().expect("int in fixture")),
            "float" => Value::Float(match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                t => t.parse().expect("float in fixture"),
            }),
            "str" => Value::String(text.to_owned()),
            other => panic!("unknown kind {other} in fixture"),
        }
    }

    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-9 * x.abs().max(1.0)
            }
            _ => a == b,
        }
    }

    /// Every row of the fixture: `input <TAB> kind <TAB> value`. The expectations were
    /// taken from PyYAML 6.0 `safe_load` (timestamps as strings, as Heat configures it).
    #[test]
    fn fixture_table() {
        let table = include_str!("../../test_data/load/yaml11.tsv");
        let mut rows = 0;
        for (n, line) in table.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "line {}: {line:?}", n + 1);
            let input = if cols[0] == "<empty>" { "" } else { cols[0] };
            let want = expected(cols[1], cols[2]);
            let got = resolve_plain(input);
            assert!(
                same(&got, &want),
                "line {}: {input:?} resolved to {got:?}, expected {want:?}",
                n + 1
            );
            rows += 1;
        }
        assert!(rows > 80, "fixture has only {rows} rows");
    }

    #[test]
    fn explicit_tags_construct() {
        assert_eq!(construct_bool("YeS"), Some(true));
        assert_eq!(construct_bool("1"), None);
        assert_eq!(construct_int("0o17"), Some(Value::Int(15)));
        assert_eq!(construct_int("0755"), Some(Value::Int(493)));
        assert_eq!(construct_int("-1:20"), Some(Value::Int(-80)));
        assert_eq!(construct_int("abc"), None);
        assert_eq!(construct_int("0x"), None);
        assert_eq!(construct_float("1e3"), Some(1000.0));
        assert_eq!(construct_float("1"), Some(1.0));
        assert_eq!(construct_float("-.INF"), Some(f64::NEG_INFINITY));
        assert_eq!(construct_float("abc"), None);
        assert_eq!(construct_float("-"), None);
        assert_eq!(
            construct_int("-9223372036854775808"),
            Some(Value::Int(i64::MIN))
        );
    }

    #[test]
    fn merge_and_value_keys() {
        assert!(is_merge_key("<<"));
        assert!(!is_merge_key("<<<"));
        assert!(is_value_key("="));
    }
}
