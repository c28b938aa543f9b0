//! Query strings as Heat reads them: repeated keys (`?status=A&status=B`), booleans and
//! integers with Heat's messages for bad values.

use super::fault::Fault;

/// The decoded `key=value` pairs of a query string, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// Percent-decodes a query component (`+` is a space); invalid escapes are kept as written,
/// and bytes that are not UTF-8 are replaced.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        // Two hex digits: at most 255.
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes one path segment (everything but unreserved characters and `:`).
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The strings Heat accepts as booleans.
const TRUE: &[&str] = &["1", "t", "true", "on", "y", "yes"];
const FALSE: &[&str] = &["0", "f", "false", "off", "n", "no"];

/// A boolean as Heat's `extract_bool` reads it.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, Fault> {
    let v = value.trim().to_ascii_lowercase();
    if TRUE.contains(&v.as_str()) {
        Ok(true)
    } else if FALSE.contains(&v.as_str()) {
        Ok(false)
    } else {
        Err(Fault::bad_request(format!(
            "Unrecognized value '{value}' for '{name}', acceptable values are: '0', '1', \
             'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
        )))
    }
}

/// A non-negative integer as Heat's `extract_int` reads it.
pub fn parse_int(name: &str, value: &str) -> Result<u64, Fault> {
    match value.trim().parse::<i64>() {
        Ok(n) => u64::try_from(n).map_err(|_| {
            Fault::bad_request(format!(
                "Only non-negative integer is acceptable by '{name}'."
            ))
        }),
        Err(_) => Err(Fault::bad_request(format!(
            "Only integer is acceptable by '{name}'."
        ))),
    }
}

impl Query {
    /// Parses a raw query string (`None`: no query).
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (decode(k), decode(v)),
                None => (decode(p), String::new()),
            })
            .collect();
        Query { pairs }
    }

    /// Every value of a key, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first value of a key.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The keys, in order (repeated ones repeated).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    /// A boolean parameter (`None` when absent).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, Fault> {
        self.first(key).map(|v| parse_bool(key, v)).transpose()
    }

    /// A non-negative integer parameter (`None` when absent).
    pub fn int(&self, key: &str) -> Result<Option<u64>, Fault> {
        self.first(key).map(|v| parse_int(key, v)).transpose()
    }

    /// Every value of a key, comma-separated values split (Heat's tag lists).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `sort_dir`: descending unless `asc` (Heat's default is `desc`).
    pub fn descending(&self) -> Result<bool, Fault> {
        match self.first("sort_dir") {
            None => Ok(true),
            Some(d) if d.eq_ignore_ascii_case("desc") => Ok(true),
            Some(d) if d.eq_ignore_ascii_case("asc") => Ok(false),
            Some(other) => Err(Fault::bad_request(format!(
                "Unknown sort direction '{other}', must be 'desc' or 'asc'"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_and_keep_repeated_keys() {
        let q = Query::parse(Some("status=A&status=B&name=a%20b+c&tags=x,y&tags=z&flag"));
        assert_eq!(q.all("status"), ["A", "B"]);
        assert_eq!(q.first("name"), Some("a b c"));
        assert_eq!(q.list("tags"), ["x", "y", "z"]);
        assert_eq!(q.first("flag"), Some(""));
        assert_eq!(q.keys().count(), 6);
        assert_eq!(Query::parse(None), Query::default());
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%41"), "%zzA");
        assert_eq!(decode("%C3%A9"), "é");
    }

    #[test]
    fn booleans_and_integers_follow_heat() {
        for (v, want) in [
            ("true", true),
            ("Yes", true),
            ("1", true),
            ("off", false),
            ("F", false),
        ] {
            assert_eq!(parse_bool("show_deleted", v).unwrap(), want, "{v}");
        }
        let err = parse_bool("show_deleted", "maybe").unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        assert!(
            err.message
                .starts_with("Unrecognized value 'maybe' for 'show_deleted'")
        );
        assert_eq!(parse_int("limit", " 5 ").unwrap(), 5);
        assert_eq!(
            parse_int("limit", "five").unwrap_err().message,
            "Only integer is acceptable by 'limit'."
        );
        assert_eq!(
            parse_int("limit", "-1").unwrap_err().message,
            "Only non-negative integer is acceptable by 'limit'."
        );
        let q = Query::parse(Some("sort_dir=asc&limit=x"));
        assert!(!q.descending().unwrap());
        assert!(q.int("limit").is_err());
        assert!(Query::parse(Some("sort_dir=up")).descending().is_err());
        assert!(Query::parse(None).descending().unwrap());
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("OS::Heat::None"), "OS::Heat::None");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }
}
