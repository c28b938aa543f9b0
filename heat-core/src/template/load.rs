//! The one loader for YAML and JSON templates and environments.
//!
//! Heat's own loader (`heat/common/template_format.py`, `simple_parse`) first tries the text as
//! JSON (`json.loads`) and, when that fails, loads it as YAML with PyYAML's safe loader (YAML 1.1
//! scalar rules, timestamps kept as strings). This loader does the same:
//!
//! * JSON goes through a small strict JSON reader (Python's `json.loads` rules: `NaN`,
//!   `Infinity` accepted, `1e5` is a float, big integers become floats) that keeps spans.
//! * YAML goes through saphyr-parser's event API, building the tree with an explicit stack
//!   (no recursion, bounded depth), resolving plain scalars with [`yaml11`], rewriting
//!   CloudFormation short forms (`!Ref x` → `{Ref: x}`), expanding aliases under a node
//!   budget, and applying YAML 1.1 merge keys (`<<`).
//!
//! Nothing here panics on any input; every problem is a [`Diagnostic`]. Fatal problems
//! (syntax, limits, several documents, no document) leave [`Loaded::root`] empty.
//!
//! [`yaml11`]: crate::template::yaml11

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span as YSpan, Tag};

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{Pos, Span};
use crate::template::node::{Key, Node, Value};
use crate::template::yaml11;

/// Bounds on what the loader accepts (principle 8: limits are explicit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of a template in bytes (Heat's `max_template_size`, default 524288).
    pub max_template_size: usize,
    /// Maximum nesting depth of collections.
    pub max_depth: usize,
    /// Maximum number of nodes that alias expansion may produce in one document.
    pub max_alias_nodes: usize,
    /// Maximum number of resources in one template (Heat's `max_resources_per_stack`,
    /// default 1000; Heat's `-1`, no limit, is `usize::MAX`). Checked by validation (`E1036`).
    pub max_resources_per_stack: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_template_size: 524_288,
            max_depth: 256,
            max_alias_nodes: 100_000,
            max_resources_per_stack: 1000,
        }
    }
}

/// How the text was loaded. Heat tries `json.loads` first and falls back to YAML, so a text
/// is JSON exactly when it is valid JSON (which, for a template, means it starts with `{`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// JSON text.
    Json,
    /// YAML text.
    Yaml,
}

/// A key written twice in one mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key.
    pub name: String,
    /// The first occurrence.
    pub first: Span,
    /// The later occurrence.
    pub duplicate: Span,
}

/// What the loader produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The document, unless the text could not be loaded at all.
    pub root: Option<Node>,
    /// JSON or YAML.
    pub kind: SourceKind,
    /// Keys written twice; the tree keeps both entries, in order (lookups take the last).
    /// Whether this is an error depends on the format, which the loader does not know.
    pub duplicate_keys: Vec<DuplicateKey>,
    /// Spans of CloudFormation short-form tags (`!Ref`, ...) that were rewritten.
    pub short_forms: Vec<Span>,
    /// Load errors (syntax, limits, unknown tags), without file names.
    pub diagnostics: Vec<Diagnostic>,
}

/// The CloudFormation short-form tags and the long-form key each one becomes.
pub const SHORT_FORMS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Not", "Fn::Not"),
    ("FindInMap", "Fn::FindInMap"),
    ("Base64", "Fn::Base64"),
    ("GetAZs", "Fn::GetAZs"),
    ("ImportValue", "Fn::ImportValue"),
    ("Cidr", "Fn::Cidr"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("Transform", "Fn::Transform"),
    ("Contains", "Fn::Contains"),
    ("EachMemberEquals", "Fn::EachMemberEquals"),
    ("EachMemberIn", "Fn::EachMemberIn"),
    ("ValueOf", "Fn::ValueOf"),
    ("ValueOfAll", "Fn::ValueOfAll"),
    ("RefAll", "Fn::RefAll"),
];

/// The long-form key of a short-form tag suffix (`GetAtt` → `Fn::GetAtt`), if it is one.
pub fn short_form(suffix: &str) -> Option<&'static str> {
    SHORT_FORMS
        .iter()
        .find(|(tag, _)| *tag == suffix)
        .map(|(_, long)| *long)
}

/// Loads a YAML or JSON text into a [`Node`] tree.
///
/// The text is tried as JSON first and loaded as YAML if it is not JSON, as Heat does. The
/// result always comes back: when the text cannot be loaded, `root` is `None` and
/// `diagnostics` holds at least one error saying why.
pub fn load(text: &str, limits: &Limits) -> Loaded {
    if text.len() > limits.max_template_size {
        let diag = Diagnostic::error(
            Code::SizeLimit,
            Span::at(pos_at_byte(text, limits.max_template_size)),
            format!(
                "template is {} bytes; the maximum is {} (max_template_size)",
                text.len(),
                limits.max_template_size
            ),
        )
        .with_hint(
            "the position shown is where the limit is reached: make the template smaller (e.g. \
             move parts into nested stacks), or raise the limit (`heat template validate \
             --max-template-size BYTES`, Heat's max_template_size setting)",
        );
        return Loaded {
            root: None,
            kind: if looks_like_json(text) {
                SourceKind::Json
            } else {
                SourceKind::Yaml
            },
            duplicate_keys: Vec::new(),
            short_forms: Vec::new(),
            diagnostics: vec![diag],
        };
    }
    match json::parse(text, limits.max_depth) {
        Ok(doc) => {
            let mut loaded = Loaded {
                root: Some(doc.root),
                kind: SourceKind::Json,
                duplicate_keys: doc.duplicate_keys,
                short_forms: Vec::new(),
                diagnostics: Vec::new(),
            };
            reject_null_root(&mut loaded);
            loaded
        }
        Err(json::Failure::Depth(diag)) => Loaded {
            root: None,
            kind: SourceKind::Json,
            duplicate_keys: Vec::new(),
            short_forms: Vec::new(),
            diagnostics: vec![diag],
        },
        Err(json::Failure::Syntax { pos, message }) => {
            let mut loaded = YamlLoader::new(text, limits).run();
            let yaml_syntax_error =
                loaded.root.is_none() && loaded.diagnostics.iter().any(|d| d.code == Code::Syntax);
            if yaml_syntax_error && looks_like_json(text) {
                // Meant as JSON: the JSON error is the useful one.
                let yaml_note = loaded
                    .diagnostics
                    .iter()
                    .find(|d| d.code == Code::Syntax)
                    .map(|d| format!(" ({} at {})", d.message, d.span.start))
                    .unwrap_or_default();
                loaded.kind = SourceKind::Json;
                loaded.diagnostics = vec![
                    Diagnostic::error(
                        Code::Syntax,
                        Span::at(pos),
                        format!("invalid JSON: {message}"),
                    )
                    .with_hint(format!(
                        "{}; the text starts with '{{' but is not valid JSON, and loading it as \
                         YAML failed too{yaml_note}",
                        json_syntax_hint(&message)
                    )),
                ];
            }
            loaded
        }
    }
}

/// What to do about a JSON syntax error, by its message.
fn json_syntax_hint(message: &str) -> &'static str {
    if message.contains("after an object member") || message.contains("after an array item") {
        "a ',' is missing between two items, or a bracket is not closed here"
    } else if message.contains("':'") {
        "put a ':' between a name and its value"
    } else if message.contains("property name") {
        "write names in double quotes (\"name\"); JSON allows no ',' before '}' and no comments"
    } else if message.contains("expected a value") {
        "write a value here (\"text\", a number, true, false, null, [...] or {...}); JSON allows \
         no ',' before ']' or '}'"
    } else if message.contains("unterminated") {
        "close the string with a '\"'"
    } else if message.contains("control character") {
        "inside a JSON string write a line break as \\n and a tab as \\t"
    } else if message.contains("escape") {
        "inside a JSON string write a backslash as \\\\; the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \
         \\uXXXX"
    } else if message.contains("extra data") {
        "a template is one JSON object: remove what follows its closing '}'"
    } else {
        "every '[' and '{' needs its matching ']' and '}'"
    }
}

/// What to do about a YAML syntax error, by the parser's message.
fn yaml_syntax_hint(info: &str) -> &'static str {
    if info.contains("tab") {
        "YAML does not allow tabs for indentation; indent with spaces"
    } else if info.contains("handle wasn't declared") {
        "a tag like !x!y needs a %TAG directive for !x!; CloudFormation short forms are written \
         !Ref, !GetAtt, ..."
    } else if info.contains("mapping values are not allowed") {
        "a ': ' inside a plain value starts a map: quote the value ('...' or \"...\"), or put \
         a nested map on its own, more indented lines"
    } else if info.contains("flow") || info.contains("bracket") {
        "check the brackets: each '[' needs a ']', each '{' a '}', items are separated by ','; \
         quote values that contain ',', '[', ']', '{', '}' or ': '"
    } else if info.contains("quoted scalar") {
        "close the quote; inside \"...\" write \\\" and \\\\, inside '...' write '' for a quote"
    } else if info.contains("unexpected end") || info.contains("unexpected eof") {
        "the file ends inside an open bracket or quote: close it"
    } else if info.contains("duplicated anchor") {
        "give each anchor (&name) its own name"
    } else if info.contains("anchor or alias") {
        "an anchor or alias needs a name after '&' or '*'; quote a value that starts with & or *"
    } else if info.contains("unexpected character") || info.contains("plain scalar cannot start") {
        "quote the value: a plain value cannot start with '@', '`', '%' or a '-' followed by a \
         bracket"
    } else if info.contains("block scalar") {
        "indent the lines of a `|` or `>` text more than its key, all by the same amount"
    } else if info.contains("document") || info.contains("directive") {
        "a template is one YAML document: remove stray `---`, `...` or `%` lines"
    } else {
        "check the indentation here: keys of one map (and `-` items of one list) start at the \
         same column, nested ones further right; quote values that contain ': ' or ' #'"
    }
}

/// The line and column of the character that holds byte `offset` of `text` (the end of the
/// text when `offset` is past it).
fn pos_at_byte(text: &str, offset: usize) -> Pos {
    let mut line = 1u32;
    let mut col = 1u32;
    for (i, c) in text.char_indices() {
        if i >= offset || i.saturating_add(c.len_utf8()) > offset {
            break;
        }
        if c == '\n' {
            line = line.saturating_add(1);
            col = 1;
        } else {
            col = col.saturating_add(1);
        }
    }
    Pos::new(line, col)
}

/// Whether the text starts with `{` after leading whitespace.
fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// A document that is only `null` (empty, `---`, `~`) is no template: E0007.
fn reject_null_root(loaded: &mut Loaded) {
    if let Some(root) = &loaded.root
        && root.is_null()
    {
        let span = root.span;
        loaded.root = None;
        loaded.diagnostics.push(empty_document(span));
    }
}

fn empty_document(span: Span) -> Diagnostic {
    Diagnostic::error(
        Code::EmptyDocument,
        span,
        "the file holds no template (it is empty, only comments, or null)",
    )
    .with_hint("a template is a mapping with a version key, e.g. `heat_template_version: 2021-04-16` or `AWSTemplateFormatVersion: 2010-09-09`")
}

fn depth_error(pos: Pos, max_depth: usize) -> Diagnostic {
    Diagnostic::error(
        Code::DepthLimit,
        Span::at(pos),
        format!("collections are nested more than {max_depth} levels deep (max_depth)"),
    )
    .with_hint("flatten the structure, or raise max_depth")
}

fn short_form_list() -> String {
    let names: Vec<String> = SHORT_FORMS.iter().map(|(t, _)| format!("!{t}")).collect();
    names.join(" ")
}

// ---------------------------------------------------------------------------------------------
// Keys and duplicates
// ---------------------------------------------------------------------------------------------

/// Finds earlier occurrences of a key in a mapping: a linear scan for small mappings, a hash
/// index once a mapping grows (a 5,000-resource `Resources` section stays linear time).
#[derive(Default)]
struct KeyIndex {
    map: Option<HashMap<String, Span>>,
}

impl KeyIndex {
    const LINEAR: usize = 16;

    /// The span of an earlier key of the same name, if any; remembers this key.
    fn first_of(&mut self, entries: &[(Key, Node)], key: &Key) -> Option<Span> {
        if self.map.is_none() && entries.len() < Self::LINEAR {
            return entries
                .iter()
                .find(|(k, _)| k.name == key.name)
                .map(|(k, _)| k.span);
        }
        let map = self.map.get_or_insert_with(|| {
            let mut m = HashMap::with_capacity(entries.len() * 2);
            for (k, _) in entries {
                m.entry(k.name.clone()).or_insert(k.span);
            }
            m
        });
        match map.get(&key.name) {
            Some(first) => Some(*first),
            None => {
                map.insert(key.name.clone(), key.span);
                None
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

mod json {
    //! A strict JSON reader with Python's `json.loads` semantics, keeping spans.

    use super::{DuplicateKey, KeyIndex, depth_error};
    use crate::diagnostic::Diagnostic;
    use crate::span::{Pos, Span};
    use crate::template::node::{Key, Node, Value};

    /// A JSON document.
    pub(super) struct Doc {
        pub(super) root: Node,
        pub(super) duplicate_keys: Vec<DuplicateKey>,
    }

    /// Why the text is not (loadable) JSON.
    pub(super) enum Failure {
        /// Not JSON at this position.
        Syntax { pos: Pos, message: String },
        /// Valid so far, but nested deeper than the limit.
        Depth(Diagnostic),
    }

    enum Frame {
        Array {
            start: Pos,
            items: Vec<Node>,
        },
        Object {
            start: Pos,
            entries: Vec<(Key, Node)>,
            key: Option<Key>,
            index: KeyIndex,
        },
    }

    struct Reader<'t> {
        text: &'t str,
        bytes: &'t [u8],
        i: usize,
        // Incremental position tracking.
        pos_i: usize,
        line: u32,
        col: u32,
    }

    type R<T> = Result<T, Failure>;

    impl<'t> Reader<'t> {
        /// The position of byte `i` (1-based line and character column).
        fn pos_of(&mut self, i: usize) -> Pos {
            if i < self.pos_i {
                self.pos_i = 0;
                self.line = 1;
                self.col = 1;
            }
            let end = i.min(self.bytes.len());
            for &b in &self.bytes[self.pos_i..end] {
                if b == b'\n' {
                    self.line = self.line.saturating_add(1);
                    self.col = 1;
                } else if b & 0xC0 != 0x80 {
                    self.col = self.col.saturating_add(1);
                }
            }
            self.pos_i = end;
            Pos::new(self.line, self.col)
        }

        fn pos(&mut self) -> Pos {
            self.pos_of(self.i)
        }

        fn fail<T>(&mut self, message: &str) -> R<T> {
            let pos = self.pos();
            Err(Failure::Syntax {
                pos,
                message: message.to_owned(),
            })
        }

        fn skip_ws(&mut self) {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.i) {
                self.i += 1;
            }
        }

        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.i).copied()
        }

        fn literal(&mut self, word: &str, value: Value) -> R<Value> {
            if self.bytes[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(value)
            } else {
                self.fail("expected a value")
            }
        }

        fn number(&mut self) -> R<Value> {
            let start = self.i;
            if self.peek() == Some(b'-') {
                self.i += 1;
                if self.bytes[self.i..].starts_with(b"Infinity") {
                    self.i += 8;
                    return Ok(Value::Float(f64::NEG_INFINITY));
                }
            }
            match self.peek() {
                Some(b'0') => self.i += 1,
                Some(b'1'..=b'9') => {
                    while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                        self.i += 1;
                    }
                }
                _ => {
                    self.i = start;
                    return self.fail("expected a value");
                }
            }
            let mut is_float = false;
            if self.peek() == Some(b'.')
                && self
                    .bytes
                    .get(self.i + 1)
                    .is_some_and(|b| b.is_ascii_digit())
            {
                is_float = true;
                self.i += 1;
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.i += 1;
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                let mut j = self.i + 1;
                if matches!(self.bytes.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if self.bytes.get(j).is_some_and(|b| b.is_ascii_digit()) {
                    is_float = true;
                    self.i = j;
                    while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                        self.i += 1;
                    }
                }
            }
            let text = &self.text[start..self.i];
            if !is_float && let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
            match text.parse::<f64>() {
                Ok(f) => Ok(Value::Float(f)),
                Err(_) => {
                    self.i = start;
                    self.fail("expected a value")
                }
            }
        }

        fn hex4(&mut self) -> R<u32> {
            let digits = self.bytes.get(self.i..self.i + 4);
            let value = digits.and_then(|d| {
                let s = std::str::from_utf8(d).ok()?;
                if s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    u32::from_str_radix(s, 16).ok()
                } else {
                    None
                }
            });
            match value {
                Some(v) => {
                    self.i += 4;
                    Ok(v)
                }
                None => self.fail("invalid \\u escape in a string"),
            }
        }

        /// Reads a string; `self.i` is at the opening quote.
        fn string(&mut self) -> R<String> {
            let open = self.i;
            self.i += 1;
            let run_start = self.i;
            // Fast path: no escapes.
            while let Some(&b) = self.bytes.get(self.i) {
                match b {
                    b'"' => {
                        let s = self.text[run_start..self.i].to_owned();
                        self.i += 1;
                        return Ok(s);
                    }
                    b'\\' => break,
                    0..=0x1F => return self.fail("invalid control character in a string"),
                    _ => self.i += 1,
                }
            }
            let mut out = String::from(&self.text[run_start..self.i]);
            loop {
                let Some(&b) = self.bytes.get(self.i) else {
                    self.i = open;
                    return self.fail("unterminated string");
                };
                match b {
                    b'"' => {
                        self.i += 1;
                        return Ok(out);
                    }
                    b'\\' => {
                        self.i += 1;
                        let Some(&e) = self.bytes.get(self.i) else {
                            self.i = open;
                            return self.fail("unterminated string");
                        };
                        self.i += 1;
                        match e {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{C}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let first = self.hex4()?;
                                let code = if (0xD800..0xDC00).contains(&first)
                                    && self.bytes[self.i..].starts_with(b"\\u")
                                {
                                    let save = self.i;
                                    self.i += 2;
                                    let second = self.hex4()?;
                                    if (0xDC00..0xE000).contains(&second) {
                                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                    } else {
                                        self.i = save;
                                        first
                                    }
                                } else {
                                    first
                                };
                                // Lone surrogates (Python keeps them) cannot be held in a Rust
                                // string; they become U+FFFD.
                                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            }
                            _ => {
                                self.i -= 2;
                                return self.fail("invalid escape in a string");
                            }
                        }
                    }
                    0..=0x1F => return self.fail("invalid control character in a string"),
                    _ => {
                        let run = self.i;
                        while let Some(&c) = self.bytes.get(self.i) {
                            if c == b'"' || c == b'\\' || c < 0x20 {
                                break;
                            }
                            self.i += 1;
                        }
                        out.push_str(&self.text[run..self.i]);
                    }
                }
            }
        }

        /// Reads a key: `"name"` then `:`.
        fn key(&mut self) -> R<Key> {
            if self.peek() != Some(b'"') {
                return self.fail("expected a property name in double quotes");
            }
            let start = self.pos();
            let name = self.string()?;
            let end = self.pos();
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.fail("expected ':' after a property name");
            }
            self.i += 1;
            self.skip_ws();
            Ok(Key {
                name,
                span: Span::new(start, end),
            })
        }
    }

    /// Parses a whole text as JSON.
    pub(super) fn parse(text: &str, max_depth: usize) -> Result<Doc, Failure> {
        let mut r = Reader {
            text,
            bytes: text.as_bytes(),
            i: 0,
            pos_i: 0,
            line: 1,
            col: 1,
        };
        let mut stack: Vec<Frame> = Vec::new();
        let mut duplicate_keys = Vec::new();
        r.skip_ws();
        'value: loop {
            // Read one value; containers push a frame and read their first member.
            let start = r.pos();
            let mut node = match r.peek() {
                Some(b'{') | Some(b'[') => {
                    if stack.len() >= max_depth {
                        return Err(Failure::Depth(depth_error(start, max_depth)));
                    }
                    let open = r.peek();
                    r.i += 1;
                    r.skip_ws();
                    if open == Some(b'{') {
                        if r.peek() == Some(b'}') {
                            r.i += 1;
                            Node::new(Value::Map(Vec::new()), Span::new(start, r.pos()))
                        } else {
                            let key = r.key()?;
                            stack.push(Frame::Object {
                                start,
                                entries: Vec::new(),
                                key: Some(key),
                                index: KeyIndex::default(),
                            });
                            continue 'value;
                        }
                    } else if r.peek() == Some(b']') {
                        r.i += 1;
                        Node::new(Value::Seq(Vec::new()), Span::new(start, r.pos()))
                    } else {
                        stack.push(Frame::Array {
                            start,
                            items: Vec::new(),
                        });
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    let s = r.string()?;
                    Node::new(Value::String(s), Span::new(start, r.pos()))
                }
                Some(c) => {
                    let value = match c {
                        b't' => r.literal("true", Value::Bool(true))?,
                        b'f' => r.literal("false", Value::Bool(false))?,
                        b'n' => r.literal("null", Value::Null)?,
                        b'N' => r.literal("NaN", Value::Float(f64::NAN))?,
                        b'I' => r.literal("Infinity", Value::Float(f64::INFINITY))?,
                        b'-' | b'0'..=b'9' => r.number()?,
                        _ => return r.fail("expected a value"),
                    };
                    Node::new(value, Span::new(start, r.pos()))
                }
                None => return r.fail("expected a value"),
            };
            // Put the value into its container; close containers that end here.
            loop {
                r.skip_ws();
                match stack.last_mut() {
                    None => {
                        if r.i < r.bytes.len() {
                            return r.fail("extra data after the JSON value");
                        }
                        return Ok(Doc {
                            root: node,
                            duplicate_keys,
                        });
                    }
                    Some(Frame::Array { items, .. }) => {
                        items.push(node);
                        match r.peek() {
                            Some(b',') => {
                                r.i += 1;
                                r.skip_ws();
                                continue 'value;
                            }
                            Some(b']') => {
                                r.i += 1;
                            }
                            _ => return r.fail("expected ',' or ']' after an array item"),
                        }
                    }
                    Some(Frame::Object {
                        entries,
                        key,
                        index,
                        ..
                    }) => {
                        if let Some(k) = key.take() {
                            if let Some(first) = index.first_of(entries, &k) {
                                duplicate_keys.push(DuplicateKey {
                                    name: k.name.clone(),
                                    first,
                                    duplicate: k.span,
                                });
                            }
                            entries.push((k, node));
                        }
                        match r.peek() {
                            Some(b',') => {
                                r.i += 1;
                                r.skip_ws();
                                *key = Some(r.key()?);
                                continue 'value;
                            }
                            Some(b'}') => {
                                r.i += 1;
                            }
                            _ => return r.fail("expected ',' or '}' after an object member"),
                        }
                    }
                }
                // The top container just closed.
                let end = r.pos();
                node = match stack.pop() {
                    Some(Frame::Array { start, items }) => {
                        Node::new(Value::Seq(items), Span::new(start, end))
                    }
                    Some(Frame::Object { start, entries, .. }) => {
                        Node::new(Value::Map(entries), Span::new(start, end))
                    }
                    None => return r.fail("unbalanced brackets"),
                };
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------------------------

/// Core-schema tags (`!!str`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Core {
    Str,
    Int,
    Float,
    Bool,
    Null,
    Binary,
    Timestamp,
    Map,
    Seq,
    Set,
    Omap,
    Pairs,
    Merge,
    Value,
}

impl Core {
    fn from_suffix(s: &str) -> Option<Core> {
        Some(match s {
            "str" => Core::Str,
            "int" => Core::Int,
            "float" => Core::Float,
            "bool" => Core::Bool,
            "null" => Core::Null,
            "binary" => Core::Binary,
            "timestamp" => Core::Timestamp,
            "map" => Core::Map,
            "seq" => Core::Seq,
            "set" => Core::Set,
            "omap" => Core::Omap,
            "pairs" => Core::Pairs,
            "merge" => Core::Merge,
            "value" => Core::Value,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Core::Str => "!!str",
            Core::Int => "!!int",
            Core::Float => "!!float",
            Core::Bool => "!!bool",
            Core::Null => "!!null",
            Core::Binary => "!!binary",
            Core::Timestamp => "!!timestamp",
            Core::Map => "!!map",
            Core::Seq => "!!seq",
            Core::Set => "!!set",
            Core::Omap => "!!omap",
            Core::Pairs => "!!pairs",
            Core::Merge => "!!merge",
            Core::Value => "!!value",
        }
    }
}

/// What a node's tag asks for.
#[derive(Clone, Debug)]
enum TagAction {
    /// No tag, or a tag already reported as unknown: resolve as written.
    None,
    /// The non-specific tag `!`: PyYAML resolves the text as if it were plain.
    NonSpecific,
    /// A core-schema tag.
    Core(Core),
    /// A CloudFormation short form: wrap the node in `{long: node}`.
    Short {
        long: Cow<'static, str>,
        tag_span: Span,
        content_start: Pos,
    },
}

/// Where an anchored node can be found when an alias asks for it.
enum AnchorLoc {
    /// The anchored collection is still being built (an alias to it is recursive).
    Pending,
    /// A copy (scalars, and collections whose place in the tree changed).
    Owned(Node),
    /// Inside the children of the open frame `level`, entry `slot` of its anchor list.
    InFrame { level: usize, slot: usize },
    /// The node was dropped (a complex key or its value); an error was already reported.
    Dropped,
}

struct Anchor {
    loc: AnchorLoc,
    /// Nodes in the anchored subtree (what one alias of it costs).
    count: usize,
    /// Nesting height (0 for a scalar).
    height: usize,
    /// The written text, when the anchored node is a scalar (for aliases used as keys).
    raw: Option<String>,
}

/// What a mapping expects next.
enum Pending {
    /// A key.
    Key,
    /// The value of this key.
    Value(Key),
    /// The value of a `<<` merge key.
    Merge(Span),
    /// The value of an invalid (complex) key: dropped.
    Skip,
}

enum Items {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Key, Node)>,
        pending: Pending,
        /// Indices of `<<` entries in `entries`.
        merges: Vec<usize>,
        index: KeyIndex,
    },
}

struct Frame {
    items: Items,
    /// Start of the collection, if known at its start event.
    start: Option<Pos>,
    /// Start of the first child (used when `start` is unknown).
    first_child: Option<Pos>,
    /// End of the last child.
    last_end: Option<Pos>,
    /// The collection's start event span end (fallback end of an empty block collection).
    open_end: Pos,
    anchor: usize,
    tag: TagAction,
    /// Nodes in this subtree so far (this one included).
    count: usize,
    /// Height of the tallest child so far.
    child_height: usize,
    /// Anchored collections completed inside, with their path: indices from the deepest
    /// level up, the last one indexing this frame's children.
    anchors: Vec<(usize, Vec<u32>)>,
    /// This collection sits in key position (an error; it will be dropped).
    is_key: bool,
}

/// Maps saphyr's character indices to byte offsets (needed to look at the source around an
/// event: tag widths, alias names).
struct CharMap<'t> {
    text: &'t str,
    ascii: Option<bool>,
    marks: Vec<usize>,
}

impl<'t> CharMap<'t> {
    const STEP: usize = 64;

    fn new(text: &'t str) -> CharMap<'t> {
        CharMap {
            text,
            ascii: None,
            marks: Vec::new(),
        }
    }

    fn byte_at(&mut self, char_index: usize) -> usize {
        let text = self.text;
        if *self.ascii.get_or_insert_with(|| text.is_ascii()) {
            return char_index.min(text.len());
        }
        if self.marks.is_empty() {
            self.marks = text
                .char_indices()
                .step_by(Self::STEP)
                .map(|(b, _)| b)
                .collect();
        }
        let Some(&base) = self.marks.get(char_index / Self::STEP) else {
            return text.len();
        };
        text[base..]
            .char_indices()
            .nth(char_index % Self::STEP)
            .map_or(text.len(), |(b, _)| base + b)
    }

    /// The text from a marker on.
    fn rest(&mut self, m: &Marker) -> &'t str {
        let b = self.byte_at(m.index());
        self.text.get(b..).unwrap_or("")
    }
}

fn pos_of(m: &Marker) -> Pos {
    let line = u32::try_from(m.line()).unwrap_or(u32::MAX).max(1);
    let col = u32::try_from(m.col()).unwrap_or(u32::MAX - 1) + 1;
    Pos::new(line, col)
}

fn span_of(s: &YSpan) -> Span {
    Span::new(pos_of(&s.start), pos_of(&s.end))
}

/// A fatal problem: loading stops.
type Fatal = Diagnostic;

struct YamlLoader<'t, 'l> {
    text: &'t str,
    limits: &'l Limits,
    chars: CharMap<'t>,
    frames: Vec<Frame>,
    anchors: Vec<Option<Anchor>>,
    alias_nodes: usize,
    root: Option<Node>,
    documents: usize,
    duplicate_keys: Vec<DuplicateKey>,
    short_forms: Vec<Span>,
    diagnostics: Vec<Diagnostic>,
}

impl<'t, 'l> YamlLoader<'t, 'l> {
    fn new(text: &'t str, limits: &'l Limits) -> YamlLoader<'t, 'l> {
        YamlLoader {
            text,
            limits,
            chars: CharMap::new(text),
            frames: Vec::new(),
            anchors: Vec::new(),
            alias_nodes: 0,
            root: None,
            documents: 0,
            duplicate_keys: Vec::new(),
            short_forms: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    fn run(mut self) -> Loaded {
        let mut parser = Parser::new_from_str(self.text);
        let mut fatal = None;
        while let Some(next) = parser.next_event() {
            let step = match next {
                Ok((event, span)) => self.event(event, span),
                Err(e) => Err(self.scan_error(&e)),
            };
            if let Err(diag) = step {
                fatal = Some(diag);
                break;
            }
        }
        let mut loaded = Loaded {
            root: None,
            kind: SourceKind::Yaml,
            duplicate_keys: self.duplicate_keys,
            short_forms: self.short_forms,
            diagnostics: self.diagnostics,
        };
        if let Some(diag) = fatal {
            loaded.diagnostics.push(diag);
            return loaded;
        }
        match self.root {
            Some(root) => {
                loaded.root = Some(root);
                reject_null_root(&mut loaded);
            }
            None => loaded
                .diagnostics
                .push(empty_document(Span::at(Pos::new(1, 1)))),
        }
        loaded
    }

    fn scan_error(&mut self, e: &ScanError) -> Diagnostic {
        let marker = e.marker();
        let pos = pos_of(marker);
        let info = e.info();
        if info.contains("unknown anchor") {
            let name = self.name_after(marker, '*');
            return Diagnostic::error(
                Code::UnknownAnchor,
                Span::at(pos),
                format!("unknown anchor: alias *{name} refers to no node anchored with &{name} before it"),
            )
            .with_hint("define the anchor (`&name`) on a node before the alias (`*name`) that copies it");
        }
        if info.contains("recursion limit exceeded") {
            return Diagnostic::error(
                Code::DepthLimit,
                Span::at(pos),
                "flow collections ([...] / {...}) are nested more than 255 levels deep, the YAML parser's limit",
            )
            .with_hint(
                "write the inner levels in block style (indented lines) instead of [...] / \
                 {...}, or flatten the structure",
            );
        }
        Diagnostic::error(Code::Syntax, Span::at(pos), format!("invalid YAML: {info}"))
            .with_hint(yaml_syntax_hint(info))
    }

    /// The anchor or alias name written at `m` after `sigil` (for messages).
    fn name_after(&mut self, m: &Marker, sigil: char) -> String {
        let rest = self.chars.rest(m);
        let rest = rest.strip_prefix(sigil).unwrap_or(rest);
        rest.chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
            .take(100)
            .collect()
    }

    fn event(&mut self, event: Event<'t>, span: YSpan) -> Result<(), Fatal> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::error(
                        Code::MultipleDocuments,
                        span_of(&span),
                        "the file holds more than one YAML document; a template is a single document",
                    )
                    .with_hint("remove the second `---` (and what follows), or split the file"));
                }
                Ok(())
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.scalar(value, style, anchor, tag.as_deref(), span)
            }
            Event::SequenceStart(anchor, tag) => {
                self.start_collection(false, anchor, tag.as_deref(), span)
            }
            Event::MappingStart(anchor, tag) => {
                self.start_collection(true, anchor, tag.as_deref(), span)
            }
            Event::SequenceEnd | Event::MappingEnd => self.end_collection(span),
            Event::Alias(id) => self.alias(id, span),
        }
    }

    /// Whether the next completed node is a mapping key.
    fn expects_key(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame {
                items: Items::Map {
                    pending: Pending::Key,
                    ..
                },
                ..
            })
        )
    }

    fn set_pending(&mut self, p: Pending) {
        if let Some(Frame {
            items: Items::Map { pending, .. },
            ..
        }) = self.frames.last_mut()
        {
            *pending = p;
        }
    }

    /// Reads a node's tag (reporting unknown ones).
    fn tag_action(&mut self, tag: Option<&Tag>, start: &Marker) -> TagAction {
        let Some(tag) = tag else {
            return TagAction::None;
        };
        let (handle, suffix) = (tag.handle.as_str(), tag.suffix.as_str());
        if handle.is_empty() && suffix == "!" {
            return TagAction::NonSpecific;
        }
        if handle == "!" {
            if let Some(long) = short_form(suffix) {
                let (tag_span, content_start) = self.locate_tag(start, suffix);
                return TagAction::Short {
                    long: Cow::Borrowed(long),
                    tag_span,
                    content_start,
                };
            }
            // Any other `!Name` is read the way AWS and cfn-lint read it: as the function
            // `Fn::Name`. Whether that function exists is the expression parser's call
            // (E3010 for CloudFormation, E0011 for any tag in HOT).
            if suffix.is_empty() || suffix.contains(char::is_whitespace) {
                let (tag_span, _) = self.locate_tag(start, suffix);
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownTag,
                        tag_span,
                        format!("unknown tag !{suffix}: it is not a CloudFormation short form"),
                    )
                    .with_hint(format!(
                        "the short forms are {}; the node is loaded as if untagged",
                        short_form_list()
                    )),
                );
                return TagAction::None;
            }
            let (tag_span, content_start) = self.locate_tag(start, suffix);
            return TagAction::Short {
                long: Cow::Owned(format!("Fn::{suffix}")),
                tag_span,
                content_start,
            };
        }
        let core = if handle == "tag:yaml.org,2002:" {
            Some(suffix)
        } else if handle.is_empty() {
            suffix.strip_prefix("tag:yaml.org,2002:")
        } else {
            None
        };
        if let Some(c) = core.and_then(Core::from_suffix) {
            return TagAction::Core(c);
        }
        let shown = match core {
            Some(s) => format!("!!{s}"),
            None => tag.to_string(),
        };
        let (tag_span, _) = self.locate_tag(start, "");
        self.diagnostics.push(
            Diagnostic::error(
                Code::UnknownTag,
                tag_span,
                format!("unknown tag {shown}: heat knows the YAML core tags (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq, ...) and the CloudFormation short forms"),
            )
            .with_hint(format!(
                "the short forms are {}; the node is loaded as if untagged",
                short_form_list()
            )),
        );
        TagAction::None
    }

    /// The span of a `!suffix` tag written at (or, after an anchor, near) `start`, and the
    /// position where the node's content starts on the same line.
    fn locate_tag(&mut self, start: &Marker, suffix: &str) -> (Span, Pos) {
        let origin = pos_of(start);
        let fallback = (Span::at(origin), origin);
        let rest = self.chars.rest(start);
        let mut chars = rest.chars().peekable();
        let mut col = origin.col;
        // `&anchor !Tag` or `!Tag &anchor`: skip an anchor first.
        let skip_anchor = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, col: &mut u32| {
            if chars.peek() == Some(&'&') {
                while chars.peek().is_some_and(|c| !c.is_whitespace()) {
                    chars.next();
                    *col += 1;
                }
                while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                    chars.next();
                    *col += 1;
                }
            }
        };
        skip_anchor(&mut chars, &mut col);
        if chars.peek() != Some(&'!') {
            return fallback;
        }
        let width = if suffix.is_empty() {
            let mut w = 0;
            while chars.peek().is_some_and(|c| !c.is_whitespace()) {
                chars.next();
                w += 1;
            }
            w
        } else {
            let w = 1 + u32::try_from(suffix.chars().count()).unwrap_or(0);
            for _ in 0..w {
                chars.next();
            }
            w
        };
        let tag_span = Span::new(
            Pos::new(origin.line, col),
            Pos::new(origin.line, col + width),
        );
        col += width;
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
            col += 1;
        }
        skip_anchor(&mut chars, &mut col);
        (tag_span, Pos::new(origin.line, col))
    }

    fn report_tag_mismatch(&mut self, core: Core, found: &str, span: Span) {
        self.diagnostics.push(
            Diagnostic::error(
                Code::BadTaggedValue,
                span,
                format!("a {} tag cannot be applied to {found}", core.name()),
            )
            .with_hint("remove the tag or change the value"),
        );
    }

    fn scalar(
        &mut self,
        value: Cow<'t, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: YSpan,
    ) -> Result<(), Fatal> {
        let sp = span_of(&span);
        let action = self.tag_action(tag, &span.start);
        let plain = style == ScalarStyle::Plain;
        if self.expects_key() {
            let raw = value.into_owned();
            if anchor > 0 {
                self.set_anchor(
                    anchor,
                    Anchor {
                        loc: AnchorLoc::Owned(Node::new(Value::String(raw.clone()), sp)),
                        count: 1,
                        height: 0,
                        raw: Some(raw.clone()),
                    },
                );
            }
            let next = match action {
                TagAction::Short { long, .. } => {
                    self.diagnostics.push(complex_key(
                        sp,
                        &format!("the short form {long} (a function) cannot be a mapping key"),
                    ));
                    Pending::Skip
                }
                TagAction::Core(Core::Merge) => Pending::Merge(sp),
                TagAction::None if plain && tag.is_none() && yaml11::is_merge_key(&raw) => {
                    Pending::Merge(sp)
                }
                _ => Pending::Value(Key {
                    name: raw,
                    span: sp,
                }),
            };
            self.set_pending(next);
            return Ok(());
        }
        let raw_for_anchor = (anchor > 0).then(|| value.to_string());
        let (node, wrapped) = self.scalar_node(value, plain, action, sp);
        let count = if wrapped { 2 } else { 1 };
        if anchor > 0 {
            self.set_anchor(
                anchor,
                Anchor {
                    loc: AnchorLoc::Owned(node.clone()),
                    count,
                    height: usize::from(wrapped),
                    raw: raw_for_anchor,
                },
            );
        }
        self.complete(node, count, usize::from(wrapped), Vec::new(), false, 0)
    }

    /// The node of a scalar in value position; `true` if it was wrapped in a short form.
    fn scalar_node(
        &mut self,
        value: Cow<'t, str>,
        plain: bool,
        action: TagAction,
        sp: Span,
    ) -> (Node, bool) {
        let resolved = |value: Cow<'t, str>| {
            if plain {
                yaml11::resolve_plain(&value)
            } else {
                Value::String(value.into_owned())
            }
        };
        let v = match action {
            TagAction::None => resolved(value),
            TagAction::NonSpecific => yaml11::resolve_plain(&value),
            TagAction::Core(core) => match core {
                Core::Str | Core::Binary | Core::Timestamp => Value::String(value.into_owned()),
                Core::Null => Value::Null,
                Core::Int => match yaml11::construct_int(&value) {
                    Some(v) => v,
                    None => {
                        self.report_tag_mismatch(core, &format!("{value:?} (not an integer)"), sp);
                        Value::String(value.into_owned())
                    }
                },
                Core::Float => match yaml11::construct_float(&value) {
                    Some(f) => Value::Float(f),
                    None => {
                        self.report_tag_mismatch(core, &format!("{value:?} (not a number)"), sp);
                        Value::String(value.into_owned())
                    }
                },
                Core::Bool => match yaml11::construct_bool(&value) {
                    Some(b) => Value::Bool(b),
                    None => {
                        self.report_tag_mismatch(
                            core,
                            &format!("{value:?} (not yes/no/true/false/on/off)"),
                            sp,
                        );
                        Value::String(value.into_owned())
                    }
                },
                Core::Map | Core::Seq | Core::Set | Core::Omap | Core::Pairs => {
                    self.report_tag_mismatch(core, "a scalar", sp);
                    resolved(value)
                }
                Core::Merge | Core::Value => resolved(value),
            },
            TagAction::Short {
                long,
                tag_span,
                content_start,
            } => {
                let inner_span = Span::new(content_start.min(sp.end), sp.end);
                let inner = if long == "Fn::GetAtt" {
                    // `!GetAtt A.B.C` is `[A, B.C]`: split at the first dot (AWS, cfn-lint).
                    let parts: Vec<Node> = match value.split_once('.') {
                        Some((a, b)) => vec![
                            Node::new(Value::String(a.to_owned()), inner_span),
                            Node::new(Value::String(b.to_owned()), inner_span),
                        ],
                        None => vec![Node::new(Value::String(value.into_owned()), inner_span)],
                    };
                    Node::new(Value::Seq(parts), inner_span)
                } else {
                    // A short form's scalar content is a string, quoted or not (cfn-lint).
                    Node::new(Value::String(value.into_owned()), inner_span)
                };
                return (self.wrap(long, tag_span, inner), true);
            }
        };
        (Node::new(v, sp), false)
    }

    fn wrap(&mut self, long: Cow<'static, str>, tag_span: Span, inner: Node) -> Node {
        self.short_forms.push(tag_span);
        let span = Span::new(tag_span.start, inner.span.end.max(tag_span.end));
        Node::new(
            Value::Map(vec![(
                Key {
                    name: long.into_owned(),
                    span: tag_span,
                },
                inner,
            )]),
            span,
        )
    }

    fn set_anchor(&mut self, id: usize, anchor: Anchor) {
        if id == 0 || id > self.text.len().saturating_add(2) {
            return;
        }
        if self.anchors.len() <= id {
            self.anchors.resize_with(id + 1, || None);
        }
        self.anchors[id] = Some(anchor);
    }

    fn start_collection(
        &mut self,
        is_map: bool,
        anchor: usize,
        tag: Option<&Tag>,
        span: YSpan,
    ) -> Result<(), Fatal> {
        let sp = span_of(&span);
        if self.frames.len() >= self.limits.max_depth {
            return Err(depth_error(sp.start, self.limits.max_depth));
        }
        let is_key = self.expects_key();
        let action = self.tag_action(tag, &span.start);
        let start = match &action {
            TagAction::Short { content_start, .. } => {
                // Content on the tag's line (`!Sub [..]`) starts there; a block collection on
                // the next lines starts at its first child.
                let rest = self.chars.rest(&span.start);
                let same_line = rest.lines().next().is_some_and(|line| {
                    let skip = content_start.col.saturating_sub(sp.start.col) as usize;
                    line.chars()
                        .nth(skip)
                        .is_some_and(|c| c != '#' && !c.is_whitespace())
                });
                same_line.then_some(*content_start)
            }
            _ => Some(sp.start),
        };
        if anchor > 0 {
            self.set_anchor(
                anchor,
                Anchor {
                    loc: AnchorLoc::Pending,
                    count: 0,
                    height: 0,
                    raw: None,
                },
            );
        }
        let items = if is_map {
            Items::Map {
                entries: Vec::new(),
                pending: Pending::Key,
                merges: Vec::new(),
                index: KeyIndex::default(),
            }
        } else {
            Items::Seq(Vec::new())
        };
        self.frames.push(Frame {
            items,
            start,
            first_child: None,
            last_end: None,
            open_end: sp.end,
            anchor,
            tag: action,
            count: 1,
            child_height: 0,
            anchors: Vec::new(),
            is_key,
        });
        Ok(())
    }

    fn end_collection(&mut self, span: YSpan) -> Result<(), Fatal> {
        let Some(frame) = self.frames.pop() else {
            return Ok(());
        };
        let end_sp = span_of(&span);
        let start = frame.start.or(frame.first_child).unwrap_or(frame.open_end);
        let end = if span.is_empty() {
            frame.last_end.unwrap_or(frame.open_end)
        } else {
            end_sp.end
        };
        let sp = Span::new(start, end.max(start));
        let mut anchors = frame.anchors;
        let (value, kind) = match frame.items {
            Items::Seq(mut items) => {
                // The tree lives until the template is parsed: no growth slack in it.
                items.shrink_to_fit();
                (Value::Seq(items), "a sequence")
            }
            Items::Map {
                mut entries,
                merges,
                ..
            } => {
                entries.shrink_to_fit();
                if merges.is_empty() {
                    (Value::Map(entries), "a mapping")
                } else {
                    // The merge rearranges the entries: copy the anchored nodes inside first.
                    for (id, path) in std::mem::take(&mut anchors) {
                        let copy = resolve_path(Children::Map(&entries), &path).cloned();
                        if let Some(Some(a)) = self.anchors.get_mut(id) {
                            a.loc = copy.map_or(AnchorLoc::Dropped, AnchorLoc::Owned);
                        }
                    }
                    (Value::Map(self.merge(entries, &merges)), "a mapping")
                }
            }
        };
        let mut node = Node::new(value, sp);
        let mut wrapped = false;
        match frame.tag {
            TagAction::Short { long, tag_span, .. } => {
                node = self.wrap(long, tag_span, node);
                node.span.start = node.span.start.min(sp.start);
                wrapped = true;
            }
            TagAction::Core(core) => {
                let fits = match core {
                    Core::Map | Core::Set => kind == "a mapping",
                    Core::Seq | Core::Omap | Core::Pairs => kind == "a sequence",
                    Core::Merge | Core::Value => true,
                    _ => false,
                };
                if !fits {
                    self.report_tag_mismatch(core, kind, sp);
                }
            }
            TagAction::None | TagAction::NonSpecific => {}
        }
        let height = frame.child_height + 1 + usize::from(wrapped);
        let count = frame.count + usize::from(wrapped);
        if frame.is_key {
            self.diagnostics.push(complex_key(
                node.span,
                &format!("{kind} cannot be a mapping key"),
            ));
            self.drop_anchors(&anchors, frame.anchor);
            self.set_pending(Pending::Skip);
            return Ok(());
        }
        if frame.anchor > 0 {
            self.set_anchor(
                frame.anchor,
                Anchor {
                    // Placed by `complete`.
                    loc: AnchorLoc::Dropped,
                    count,
                    height,
                    raw: None,
                },
            );
        }
        self.complete(node, count, height, anchors, wrapped, frame.anchor)
    }

    fn drop_anchors(&mut self, anchors: &[(usize, Vec<u32>)], own: usize) {
        for id in anchors
            .iter()
            .map(|(id, _)| *id)
            .chain(std::iter::once(own))
        {
            if let Some(Some(a)) = self.anchors.get_mut(id) {
                a.loc = AnchorLoc::Dropped;
            }
        }
    }

    /// YAML 1.1 merge keys, as PyYAML applies them: the merged mappings' entries come first,
    /// a later merge source wins over an earlier one (in a `[*a, *b]` list the first wins),
    /// and explicit keys win over merged ones.
    fn merge(&mut self, entries: Vec<(Key, Node)>, merges: &[usize]) -> Vec<(Key, Node)> {
        let mut merged: Vec<(Key, Node)> = Vec::new();
        let mut explicit: Vec<(Key, Node)> = Vec::with_capacity(entries.len());
        for (i, (key, value)) in entries.into_iter().enumerate() {
            if !merges.contains(&i) {
                explicit.push((key, value));
                continue;
            }
            match value.value {
                Value::Map(m) => merged.extend(m),
                Value::Seq(items) => {
                    for item in items.into_iter().rev() {
                        match item.value {
                            Value::Map(m) => merged.extend(m),
                            _ => self.bad_merge(item.span, item.value.kind_name()),
                        }
                    }
                }
                other => self.bad_merge(value.span, other.kind_name()),
            }
        }
        let explicit_names: HashSet<&str> = explicit.iter().map(|(k, _)| k.name.as_str()).collect();
        let mut out: Vec<(Key, Node)> = Vec::with_capacity(merged.len() + explicit.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (key, value) in merged {
            if explicit_names.contains(key.name.as_str()) {
                continue;
            }
            match seen.get(&key.name) {
                Some(&at) => out[at].1 = value,
                None => {
                    seen.insert(key.name.clone(), out.len());
                    out.push((key, value));
                }
            }
        }
        drop(explicit_names);
        out.extend(explicit);
        out
    }

    fn bad_merge(&mut self, span: Span, found: &str) {
        self.diagnostics.push(
            Diagnostic::error(
                Code::BadMerge,
                span,
                format!("a `<<` merge key needs a mapping or a list of mappings, found {found}"),
            )
            .with_hint(
                "merge an anchored mapping (`<<: *name`) or a list of them (`<<: [*a, *b]`)",
            ),
        );
    }

    fn alias(&mut self, id: usize, span: YSpan) -> Result<(), Fatal> {
        let sp = span_of(&span);
        let key_position = self.expects_key();
        let name = self.name_after(&span.start, '*');
        let found = match self.anchors.get(id).and_then(Option::as_ref) {
            None => Err(format!(
                "unknown anchor: alias *{name} refers to no node anchored with &{name} before it"
            )),
            Some(Anchor {
                loc: AnchorLoc::Pending,
                ..
            }) => Err(format!(
                "alias *{name} refers to a node that contains it (a recursive alias)"
            )),
            Some(a) => Ok((a.count, a.height, a.raw.clone())),
        };
        let (count, height, raw) = match found {
            Ok(x) => x,
            Err(message) => {
                let hint = if message.contains("recursive") {
                    "an alias cannot copy the node it is part of: write the repeated part out, \
                     or anchor a smaller node that does not contain the alias"
                } else {
                    "define the anchor (`&name`) on a node before the alias (`*name`) that \
                     copies it"
                };
                self.diagnostics
                    .push(Diagnostic::error(Code::UnknownAnchor, sp, message).with_hint(hint));
                if key_position {
                    self.set_pending(Pending::Skip);
                    return Ok(());
                }
                return self.complete(Node::new(Value::Null, sp), 1, 0, Vec::new(), false, 0);
            }
        };
        self.alias_nodes = self.alias_nodes.saturating_add(count.max(1));
        if self.alias_nodes > self.limits.max_alias_nodes {
            return Err(Diagnostic::error(
                Code::AliasLimit,
                sp,
                format!(
                    "alias *{name} would expand the document past {} nodes (max_alias_nodes)",
                    self.limits.max_alias_nodes
                ),
            )
            .with_hint("aliases copy their anchored node; this looks like an alias bomb (\"billion laughs\"). Write the content out, or raise max_alias_nodes"));
        }
        if self.frames.len().saturating_add(height) > self.limits.max_depth {
            return Err(depth_error(sp.start, self.limits.max_depth));
        }
        if key_position {
            match raw {
                Some(name) if height == 0 => {
                    self.set_pending(Pending::Value(Key { name, span: sp }))
                }
                _ => {
                    self.diagnostics.push(complex_key(
                        sp,
                        &format!("alias *{name} of a collection cannot be a mapping key"),
                    ));
                    self.set_pending(Pending::Skip);
                }
            }
            return Ok(());
        }
        let copy = match self
            .anchors
            .get(id)
            .and_then(Option::as_ref)
            .map(|a| &a.loc)
        {
            Some(AnchorLoc::Owned(node)) => Some(node.clone()),
            Some(AnchorLoc::InFrame { level, slot }) => self.frames.get(*level).and_then(|f| {
                let (_, path) = f.anchors.get(*slot)?;
                resolve_path(Children::of(&f.items), path).cloned()
            }),
            _ => None,
        };
        let mut node = copy.unwrap_or_else(|| Node::new(Value::Null, sp));
        node.span = sp;
        self.complete(node, count, height, Vec::new(), false, 0)
    }

    /// Puts a finished node into its parent (or makes it the root). `anchors` are the
    /// anchored collections inside it (paths relative to the node), `own_anchor` the node's
    /// own anchor (collections only; scalars record theirs as a copy).
    fn complete(
        &mut self,
        node: Node,
        count: usize,
        height: usize,
        anchors: Vec<(usize, Vec<u32>)>,
        wrapped: bool,
        own_anchor: usize,
    ) -> Result<(), Fatal> {
        let level = self.frames.len().wrapping_sub(1);
        let Some(parent) = self.frames.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return Ok(());
        };
        let node_start = node.span.start;
        let node_end = node.span.end;
        let index = match &mut parent.items {
            Items::Seq(items) => {
                items.push(node);
                Some(items.len() - 1)
            }
            Items::Map {
                entries,
                pending,
                merges,
                index,
            } => match std::mem::replace(pending, Pending::Key) {
                Pending::Value(key) => {
                    if let Some(first) = index.first_of(entries, &key) {
                        self.duplicate_keys.push(DuplicateKey {
                            name: key.name.clone(),
                            first,
                            duplicate: key.span,
                        });
                    }
                    entries.push((key, node));
                    Some(entries.len() - 1)
                }
                Pending::Merge(span) => {
                    entries.push((
                        Key {
                            name: "<<".to_owned(),
                            span,
                        },
                        node,
                    ));
                    merges.push(entries.len() - 1);
                    Some(entries.len() - 1)
                }
                // A key that is a collection was handled by `end_collection`; a dropped value.
                Pending::Key | Pending::Skip => None,
            },
        };
        parent.count = parent.count.saturating_add(count);
        parent.child_height = parent.child_height.max(height);
        if parent.first_child.is_none() {
            parent.first_child = Some(node_start);
        }
        parent.last_end = Some(parent.last_end.map_or(node_end, |e| e.max(node_end)));
        if anchors.is_empty() && own_anchor == 0 {
            return Ok(());
        }
        let Some(j) = index.and_then(|j| u32::try_from(j).ok()) else {
            self.drop_anchors(&anchors, own_anchor);
            return Ok(());
        };
        let mut moved = Vec::with_capacity(anchors.len() + 1);
        for (id, mut path) in anchors {
            if wrapped {
                path.push(0);
            }
            path.push(j);
            moved.push((id, path));
        }
        if own_anchor > 0 {
            moved.push((own_anchor, vec![j]));
        }
        let parent_anchors = &mut parent.anchors;
        for (id, path) in moved {
            let slot = parent_anchors.len();
            parent_anchors.push((id, path));
            if let Some(Some(a)) = self.anchors.get_mut(id) {
                a.loc = AnchorLoc::InFrame { level, slot };
            }
        }
        Ok(())
    }
}

fn complex_key(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::ComplexKey,
        span,
        format!("{what}; the entry is skipped"),
    )
    .with_hint("mapping keys must be plain strings (write the key as text)")
}

/// Borrowed children of a collection.
enum Children<'a> {
    Seq(&'a [Node]),
    Map(&'a [(Key, Node)]),
}

impl<'a> Children<'a> {
    fn of(items: &'a Items) -> Children<'a> {
        match items {
            Items::Seq(v) => Children::Seq(v),
            Items::Map { entries, .. } => Children::Map(entries),
        }
    }

    fn get(&self, i: u32) -> Option<&'a Node> {
        let i = usize::try_from(i).ok()?;
        match self {
            Children::Seq(v) => v.get(i),
            Children::Map(m) => m.get(i).map(|(_, n)| n),
        }
    }
}

/// Follows a reversed path (last element first) from a list of children.
fn resolve_path<'a>(children: Children<'a>, path: &[u32]) -> Option<&'a Node> {
    let (&first, rest) = path.split_last()?;
    let mut node = children.get(first)?;
    for &i in rest.iter().rev() {
        let i = usize::try_from(i).ok()?;
        node = match &node.value {
            Value::Seq(items) => items.get(i)?,
            Value::Map(entries) => &entries.get(i)?.1,
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use serde_json::json;
    use std::time::{Duration, Instant};

    fn ld(text: &str) -> Loaded {
        load(text, &Limits::default())
    }

    fn value(text: &str) -> serde_json::Value {
        let l = ld(text);
        assert!(
            l.diagnostics.is_empty(),
            "unexpected diagnostics for {text:?}: {:#?}",
            l.diagnostics
        );
        l.root.expect("a root").to_json()
    }

    fn codes(l: &Loaded) -> Vec<&'static str> {
        l.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    fn p(line: u32, col: u32) -> Pos {
        Pos::new(line, col)
    }

    fn sp(l1: u32, c1: u32, l2: u32, c2: u32) -> Span {
        Span::new(p(l1, c1), p(l2, c2))
    }

    /// Every failed load carries an error, and `root` is empty exactly then.
    fn assert_fatal(l: &Loaded, code: &str) {
        assert!(l.root.is_none(), "root should be empty");
        assert!(
            l.diagnostics
                .iter()
                .any(|d| d.code.as_str() == code && d.severity == Severity::Error),
            "expected {code}, got {:#?}",
            l.diagnostics
        );
    }

    // ---- limits ----

    #[test]
    fn size_limit_is_checked_first() {
        let text = format!("a: \"{}\"\n", "x".repeat(600_000 - 6));
        assert_eq!(text.len(), 600_000);
        let l = ld(&text);
        assert_fatal(&l, "E0006");
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(
            l.diagnostics[0].message,
            "template is 600000 bytes; the maximum is 524288 (max_template_size)"
        );
        let small = Limits {
            max_template_size: 10,
            ..Limits::default()
        };
        assert_fatal(&load("{\"a\": 1234567}", &small), "E0006");
        assert!(load("{\"a\": 1}", &small).root.is_some());
        // The diagnostic points at the character where the limit is reached.
        assert_eq!(l.diagnostics[0].span.start, Pos::new(1, 524_289));
        let d = &load("a: 1\nbé: 23456\n", &small).diagnostics[0];
        assert_eq!(
            d.span.start,
            Pos::new(2, 5),
            "byte 10 is the '2' after 'bé: '"
        );
    }

    #[test]
    fn positions_of_byte_offsets() {
        let cases = [
            ("", 0, (1, 1)),
            ("abc", 0, (1, 1)),
            ("abc", 2, (1, 3)),
            ("abc", 9, (1, 4)),
            ("a\nb", 2, (2, 1)),
            // 'é' is two bytes: both of them are in the second column.
            ("xé!", 1, (1, 2)),
            ("xé!", 2, (1, 2)),
            ("xé!", 3, (1, 3)),
        ];
        for (text, offset, (line, col)) in cases {
            assert_eq!(
                pos_at_byte(text, offset),
                Pos::new(line, col),
                "{text:?} at byte {offset}"
            );
        }
    }

    #[test]
    fn syntax_hints_say_what_to_fix() {
        let cases = [
            ("a: b: c\n", "quote the value"),
            ("a: [1, 2\n", "check the brackets"),
            ("a: \"open\n", "close"),
            ("a:\n\t- 1\n", "tabs"),
            ("a: @x\n", "quote the value"),
        ];
        for (text, wanted) in cases {
            let l = ld(text);
            let d = l
                .diagnostics
                .iter()
                .find(|d| d.code == Code::Syntax)
                .unwrap_or_else(|| panic!("{text:?}: {:#?}", l.diagnostics));
            let hint = d.hint.as_deref().unwrap_or_default();
            assert!(hint.contains(wanted), "{text:?}: {d}");
        }
        let json = [
            ("{\"a\": 1 \"b\": 2}", "a ',' is missing"),
            ("{\"a\": 1,,}", "no ',' before '}'"),
            ("{\"a\": [1,,]}", "no ',' before ']'"),
            ("{\"a\" 1}", "put a ':'"),
            ("{\"a\": \"x\\q\"}", "the escapes are"),
        ];
        for (text, wanted) in json {
            let l = ld(text);
            let d = l
                .diagnostics
                .iter()
                .find(|d| d.code == Code::Syntax)
                .unwrap_or_else(|| panic!("{text:?}: {:#?}", l.diagnostics));
            let hint = d.hint.as_deref().unwrap_or_default();
            assert!(hint.contains(wanted), "{text:?}: {d}");
        }
    }

    #[test]
    fn depth_bomb_in_flow_style_is_refused_without_overflow() {
        let n = 100_000;
        let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
        // JSON path.
        let l = ld(&text);
        assert_fatal(&l, "E0005");
        assert_eq!(l.diagnostics[0].span.start, p(1, 257));
        // YAML path (not valid JSON because of the prefix).
        let l = ld(&format!("a: {text}"));
        assert_fatal(&l, "E0005");
        // A smaller limit than the YAML parser's own.
        let limits = Limits {
            max_depth: 10,
            ..Limits::default()
        };
        let l = load(&format!("a: {}{}", "[".repeat(11), "]".repeat(11)), &limits);
        assert_fatal(&l, "E0005");
        assert!(l.diagnostics[0].message.contains("more than 10 levels"));
        let l = load(&format!("a: {}{}", "[".repeat(9), "]".repeat(9)), &limits);
        assert!(l.root.is_some());
    }

    #[test]
    fn depth_bomb_in_block_style_is_refused() {
        let mut text = String::new();
        for i in 0..600 {
            text.push_str(&" ".repeat(i));
            text.push_str("k:\n");
        }
        let l = ld(&text);
        assert_fatal(&l, "E0005");
        assert_eq!(l.diagnostics[0].span.start.line, 257);
    }

    #[test]
    fn billion_laughs_is_refused_quickly() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let (prev, name) = (w[0], w[1]);
            let refs = vec![format!("*{prev}"); 9].join(",");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let started = Instant::now();
        let l = ld(&text);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        assert_fatal(&l, "E0004");
        let d = l
            .diagnostics
            .iter()
            .find(|d| d.code == Code::AliasLimit)
            .expect("E0004");
        assert!(
            d.message.contains("100000 nodes (max_alias_nodes)"),
            "{}",
            d.message
        );
        // The same shape below the limit expands.
        let small = "a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b, *b]\n";
        assert_eq!(
            value(small)["c"],
            json!([[[1, 2], [1, 2]], [[1, 2], [1, 2]]])
        );
        let tight = Limits {
            max_alias_nodes: 5,
            ..Limits::default()
        };
        assert_fatal(&load(small, &tight), "E0004");
    }

    // ---- JSON ----

    #[test]
    fn json_with_tabs_and_slash_escapes_loads() {
        let text = "{\n\t\"AWSTemplateFormatVersion\": \"2010-09-09\",\n\t\"Url\": \"http:\\/\\/x\\/y\",\n\t\"E\": \"\\ud83d\\ude00 \\u00e9\\n\"\n}\n";
        let l = ld(text);
        assert_eq!(l.kind, SourceKind::Json);
        assert!(l.diagnostics.is_empty());
        let root = l.root.expect("root");
        assert_eq!(root.to_json()["Url"], json!("http://x/y"));
        assert_eq!(root.to_json()["E"], json!("😀 é\n"));
        let (key, _) = &root.as_map().expect("map")[1];
        assert_eq!(key.span, sp(3, 2, 3, 7));
        assert_eq!(root.span, sp(1, 1, 5, 2));
    }

    #[test]
    fn json_numbers_follow_json_rules() {
        let v = value(
            r#"{"a": 1e5, "b": 10, "c": -0, "d": 1.5, "e": 99999999999999999999, "f": NaN,
                "g": -Infinity, "h": "yes", "i": true, "j": null, "k": 0.5E-1, "l": "1e3"}"#,
        );
        assert_eq!(v["a"], json!(100000.0));
        assert_eq!(v["b"], json!(10));
        assert_eq!(v["c"], json!(0));
        assert_eq!(v["d"], json!(1.5));
        assert_eq!(v["e"], json!(1e20));
        assert_eq!(v["f"], json!(null)); // NaN has no JSON form
        assert_eq!(v["h"], json!("yes"));
        assert_eq!(v["i"], json!(true));
        assert_eq!(v["j"], json!(null));
        assert_eq!(v["k"], json!(0.05));
        assert_eq!(v["l"], json!("1e3"));
        let l = ld(r#"{"g": -Infinity}"#);
        let root = l.root.expect("root");
        assert_eq!(
            root.get("g").map(|n| &n.value),
            Some(&Value::Float(f64::NEG_INFINITY))
        );
    }

    #[test]
    fn invalid_json_reports_the_json_position() {
        // The corpus' config_invalid_json.json: a missing comma in a tab-indented list.
        let text = "{\n\t\"A\": {\n\t\t\"r\": [\n\t\t\t\"us-east-1\"\n\t\t\t\"us-east-2\"\n\t\t]\n\t}\n}\n";
        let l = ld(text);
        assert_fatal(&l, "E0001");
        assert_eq!(l.kind, SourceKind::Json);
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].span.start, p(5, 4));
        assert!(l.diagnostics[0].message.contains("expected ',' or ']'"));
        let l = ld("{\"a\": \"b}");
        assert_fatal(&l, "E0001");
        assert_eq!(l.diagnostics[0].span.start, p(1, 7));
        assert!(l.diagnostics[0].message.contains("unterminated string"));
    }

    #[test]
    fn json_that_json_rejects_but_yaml_accepts_loads_as_yaml_like_heat() {
        // Heat: json.loads fails, yaml.load succeeds (flow collections allow trailing commas).
        let l = ld("{\"a\": [1, 2,], \"b\": yes,}");
        assert_eq!(l.kind, SourceKind::Yaml);
        assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
        assert_eq!(
            l.root.expect("root").to_json(),
            json!({"a": [1, 2], "b": true})
        );
    }

    #[test]
    fn json_duplicate_keys_are_kept_and_recorded() {
        let l = ld("{\"a\": 1,\n \"a\": 2}");
        assert_eq!(l.duplicate_keys.len(), 1);
        let d = &l.duplicate_keys[0];
        assert_eq!(d.name, "a");
        assert_eq!(d.first, sp(1, 2, 1, 5));
        assert_eq!(d.duplicate, sp(2, 2, 2, 5));
        assert_eq!(l.root.expect("root").as_map().map(<[_]>::len), Some(2));
    }

    // ---- YAML scalars and keys ----

    #[test]
    fn yaml_scalars_use_yaml_1_1_rules_and_quoted_scalars_are_strings() {
        let v = value(
            "a: yes\nb: 'yes'\nc: 0755\nd: 1e3\ne: 1.5e+3\nf: 2013-05-23\ng: ~\nh:\ni: \"12\"\nj: |\n  12\nk: Off\nl: 1:20\nm: 0x1F\n",
        );
        assert_eq!(
            v,
            json!({"a": true, "b": "yes", "c": 493, "d": "1e3", "e": 1500.0, "f": "2013-05-23",
                   "g": null, "h": null, "i": "12", "j": "12\n", "k": false, "l": 80, "m": 31})
        );
    }

    #[test]
    fn keys_keep_their_written_form() {
        let l = ld("1: a\ntrue: b\n'q': c\n~: d\n0x10: e\n");
        let root = l.root.expect("root");
        let names: Vec<&str> = root
            .as_map()
            .expect("map")
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(names, ["1", "true", "q", "~", "0x10"]);
    }

    #[test]
    fn core_tags_are_honoured() {
        let v = value(
            "a: !!str 12\nb: !!int 0x1F\nc: !!float 1\nd: !!bool yes\ne: !!null x\nf: !!binary aGk=\ng: !!map {x: 1}\nh: !!seq [1]\ni: ! 12\nj: !<tag:yaml.org,2002:str> 7\nk: !!timestamp 2001-01-01\n",
        );
        assert_eq!(
            v,
            json!({"a": "12", "b": 31, "c": 1.0, "d": true, "e": null, "f": "aGk=",
                   "g": {"x": 1}, "h": [1], "i": 12, "j": "7", "k": "2001-01-01"})
        );
    }

    #[test]
    fn core_tags_that_do_not_fit_are_reported() {
        for (text, needle) in [
            ("a: !!int abc\n", "!!int"),
            ("a: !!float x\n", "!!float"),
            ("a: !!bool 1\n", "!!bool"),
            ("a: !!map [1]\n", "!!map"),
            ("a: !!seq {b: 1}\n", "!!seq"),
            ("a: !!str [1]\n", "!!str"),
        ] {
            let l = ld(text);
            assert_eq!(codes(&l), ["E0014"], "{text}");
            assert!(l.diagnostics[0].message.contains(needle), "{text}");
            assert_eq!(l.diagnostics[0].span.start, p(1, 4), "{text}");
            assert!(l.root.is_some(), "{text}: the document is kept");
        }
    }

    // ---- short forms ----

    #[test]
    fn every_short_form_is_rewritten_to_its_long_form() {
        for (tag, long) in SHORT_FORMS {
            let text = format!("x: !{tag} arg\n");
            let l = ld(&text);
            assert!(l.diagnostics.is_empty(), "{tag}: {:#?}", l.diagnostics);
            let want = if *tag == "GetAtt" {
                json!({ *long: ["arg"] })
            } else {
                json!({ *long: "arg" })
            };
            let root = l.root.expect("root");
            assert_eq!(root.to_json()["x"], want, "{tag}");
            let tag_span = sp(1, 4, 1, 5 + u32::try_from(tag.len()).expect("short"));
            assert_eq!(l.short_forms, [tag_span], "{tag}");
            let node = root.get("x").expect("x");
            let (key, inner) = &node.as_map().expect("map")[0];
            assert_eq!(key.span, tag_span, "{tag}");
            assert_eq!(node.span.start, p(1, 4), "{tag}");
            assert_eq!(
                inner.span.start,
                tag_span
                    .end
                    .max(p(1, 6 + u32::try_from(tag.len()).expect("short"))),
                "{tag}"
            );
        }
        assert_eq!(short_form("Sub"), Some("Fn::Sub"));
        assert_eq!(short_form("ForEach"), None);
    }

    #[test]
    fn short_form_arguments() {
        let v = value(
            "a: !GetAtt A.B.C\nb: !GetAtt [A, B]\nc: !Ref 123\nd: !GetAZs ''\ne: !GetAZs\nf: !Join [',', [!Ref A, !GetAtt B.C]]\ng: !Sub\n  - '${x}'\n  - x: !Ref Y\nh: !If [C, yes, !Ref AWS::NoValue]\ni: !Equals\n  [a, b]\nj: !FindInMap {k: v}\nk: !Ref \"q\"\n",
        );
        assert_eq!(
            v,
            json!({
                "a": {"Fn::GetAtt": ["A", "B.C"]},
                "b": {"Fn::GetAtt": ["A", "B"]},
                "c": {"Ref": "123"},
                "d": {"Fn::GetAZs": ""},
                "e": {"Fn::GetAZs": ""},
                "f": {"Fn::Join": [",", [{"Ref": "A"}, {"Fn::GetAtt": ["B", "C"]}]]},
                "g": {"Fn::Sub": ["${x}", {"x": {"Ref": "Y"}}]},
                "h": {"Fn::If": ["C", true, {"Ref": "AWS::NoValue"}]},
                "i": {"Fn::Equals": ["a", "b"]},
                "j": {"Fn::FindInMap": {"k": "v"}},
                "k": {"Ref": "q"},
            })
        );
    }

    #[test]
    fn short_form_spans_point_at_the_tag() {
        let text =
            "Resources:\n  R:\n    P: !Ref X\n    Q: [1, !GetAtt A.B]\n    S: !Sub\n      - x\n";
        let l = ld(text);
        assert!(l.diagnostics.is_empty());
        assert_eq!(
            l.short_forms,
            [sp(3, 8, 3, 12), sp(4, 12, 4, 19), sp(5, 8, 5, 12)]
        );
        let root = l.root.expect("root");
        let r = root.get("Resources").and_then(|n| n.get("R")).expect("R");
        let pnode = r.get("P").expect("P");
        assert_eq!(pnode.span, sp(3, 8, 3, 14));
        let (key, inner) = &pnode.as_map().expect("map")[0];
        assert_eq!(key.name, "Ref");
        assert_eq!(inner.span, sp(3, 13, 3, 14));
        let snode = r.get("S").expect("S");
        let (_, seq) = &snode.as_map().expect("map")[0];
        assert_eq!(seq.span.start, p(6, 9));
        // An anchor before the tag.
        let l = ld("a: &x !Ref X\nb: *x\n");
        assert_eq!(l.short_forms, [sp(1, 7, 1, 11)]);
        assert_eq!(
            l.root.expect("root").to_json(),
            json!({"a": {"Ref": "X"}, "b": {"Ref": "X"}})
        );
        // Non-ASCII text before the tag on the same line and earlier lines.
        let l = ld("é: ü\nñ: !Ref X\n");
        assert_eq!(l.short_forms, [sp(2, 4, 2, 8)]);
    }

    #[test]
    fn unknown_bang_tags_become_functions_and_others_are_reported() {
        // `!Name` that is not a short form is read as `Fn::Name`, as AWS and cfn-lint do;
        // the expression parser then decides (E3010 unknown intrinsic function).
        let text = "a: !Rain::Embed file.py\nb: !Foo [1, 2]\nc: !!python/object x\nd: 1\n";
        let l = ld(text);
        assert_eq!(codes(&l), ["E0003"]);
        assert!(l.diagnostics[0].message.contains("!!python/object"));
        assert_eq!(l.diagnostics[0].span, sp(3, 4, 3, 19));
        assert_eq!(
            l.root.expect("root").to_json(),
            json!({"a": {"Fn::Rain::Embed": "file.py"}, "b": {"Fn::Foo": [1, 2]}, "c": "x", "d": 1})
        );
        assert_eq!(l.short_forms.len(), 2);
        assert_eq!(l.short_forms[0], sp(1, 4, 1, 16));
        assert_eq!(l.short_forms[1].start, p(2, 4));
        // `!ForEach` is not a short form either: it becomes `Fn::ForEach`.
        assert!(codes(&ld("a: !ForEach [x]\n")).is_empty());
    }

    // ---- anchors, aliases, merges ----

    #[test]
    fn aliases_copy_the_anchored_node() {
        let text = "base: &b\n  x: 1\n  y: [a, b]\nother:\n  inner: &i {k: v}\n  again: *i\n  copy: *b\nlast: *i\nsc: &s hello\nuse: [*s, *s]\n";
        assert_eq!(
            value(text),
            json!({
                "base": {"x": 1, "y": ["a", "b"]},
                "other": {"inner": {"k": "v"}, "again": {"k": "v"}, "copy": {"x": 1, "y": ["a", "b"]}},
                "last": {"k": "v"},
                "sc": "hello",
                "use": ["hello", "hello"],
            })
        );
        let l = ld(text);
        let root = l.root.expect("root");
        assert_eq!(root.get("last").expect("last").span, sp(8, 7, 8, 9));
        // Anchors inside a short form, aliased from outside it.
        assert_eq!(
            value("a: !Join ['', [&p x, &q [1]]]\nb: [*p, *q]\n"),
            json!({"a": {"Fn::Join": ["", ["x", [1]]]}, "b": ["x", [1]]})
        );
        // An alias used as a key.
        assert_eq!(
            value("a: &k name\n*k : v\n"),
            json!({"a": "name", "name": "v"})
        );
        // Anchors can be redefined; an alias takes the latest.
        assert_eq!(
            value("a: &x 1\nb: &x 2\nc: *x\n"),
            json!({"a": 1, "b": 2, "c": 2})
        );
    }

    #[test]
    fn unknown_and_recursive_aliases() {
        let l = ld("a: 1\nb: *nope\n");
        assert_fatal(&l, "E0010");
        assert_eq!(l.diagnostics[0].span.start, p(2, 4));
        assert!(l.diagnostics[0].message.contains("*nope"));
        let l = ld("a: &r [1, *r]\n");
        assert_eq!(codes(&l), ["E0010"]);
        assert!(l.diagnostics[0].message.contains("recursive"));
        assert_eq!(l.root.expect("root").to_json(), json!({"a": [1, null]}));
    }

    #[test]
    fn merge_keys_are_applied() {
        let text = "base: &base {a: 1, b: 2}\nextra: &extra {b: 20, c: 30}\none:\n  <<: *base\n  b: 3\nmany:\n  <<: [*base, *extra]\n  d: 4\ninline:\n  <<: {z: 26}\n  y: 25\n";
        let l = ld(text);
        assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
        assert!(l.duplicate_keys.is_empty());
        let v = l.root.expect("root").to_json();
        assert_eq!(v["one"], json!({"a": 1, "b": 3}));
        // The first mapping in the list wins (PyYAML), explicit keys win over all.
        assert_eq!(v["many"], json!({"a": 1, "b": 2, "c": 30, "d": 4}));
        assert_eq!(v["inline"], json!({"z": 26, "y": 25}));
        // A quoted "<<" is an ordinary key.
        assert_eq!(value("'<<': {a: 1}\n"), json!({"<<": {"a": 1}}));
        // Anchors inside a mapping that merges stay usable.
        assert_eq!(
            value("m:\n  <<: {a: 1}\n  b: &x [2]\nc: *x\n"),
            json!({"m": {"a": 1, "b": [2]}, "c": [2]})
        );
    }

    #[test]
    fn bad_merge_values_are_reported() {
        let l = ld("a:\n  <<: 1\n  b: 2\nc:\n  <<: [{x: 1}, 2]\n");
        assert_eq!(codes(&l), ["E0013", "E0013"]);
        assert_eq!(l.diagnostics[0].span.start, p(2, 7));
        assert_eq!(
            l.root.expect("root").to_json(),
            json!({"a": {"b": 2}, "c": {"x": 1}})
        );
    }

    // ---- mappings ----

    #[test]
    fn duplicate_keys_are_kept_in_order_and_recorded() {
        let l = ld("a: 1\nb: 2\na: 3\n");
        assert!(l.diagnostics.is_empty());
        assert_eq!(
            l.duplicate_keys,
            [DuplicateKey {
                name: "a".into(),
                first: sp(1, 1, 1, 2),
                duplicate: sp(3, 1, 3, 2),
            }]
        );
        let root = l.root.expect("root");
        let entries = root.as_map().expect("map");
        assert_eq!(entries.len(), 3);
        assert_eq!(root.get("a").map(|n| &n.value), Some(&Value::Int(3)));
        // Large mappings (hash index) find them too.
        let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: again\nk99: again\n");
        let l = ld(&text);
        let names: Vec<&str> = l.duplicate_keys.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["k7", "k99"]);
        assert_eq!(l.duplicate_keys[0].first, sp(8, 1, 8, 3));
    }

    #[test]
    fn complex_keys_are_reported_and_skipped() {
        let l = ld("? [a]\n: b\nc: d\n? {x: 1}\n: e\n");
        assert_eq!(codes(&l), ["E0012", "E0012"]);
        assert_eq!(l.diagnostics[0].span.start, p(1, 3));
        assert_eq!(l.root.expect("root").to_json(), json!({"c": "d"}));
        let l = ld("a: [!Ref x: y]\n");
        assert_eq!(codes(&l), ["E0012"]);
    }

    #[test]
    fn spans_of_maps_sequences_and_scalars() {
        let text = "top:\n  key: value\n  list:\n    - 1\n    - two\n  flow: {a: [1, 2]}\n";
        let l = ld(text);
        let root = l.root.expect("root");
        assert_eq!(root.span, sp(1, 1, 6, 20));
        let top = root.get("top").expect("top");
        assert_eq!(top.span, sp(2, 3, 6, 20));
        let (k, v) = &top.as_map().expect("map")[0];
        assert_eq!(k.span, sp(2, 3, 2, 6));
        assert_eq!(v.span, sp(2, 8, 2, 13));
        let list = top.get("list").expect("list");
        assert_eq!(list.span, sp(4, 5, 5, 10));
        assert_eq!(list.as_seq().expect("seq")[1].span, sp(5, 7, 5, 10));
        let flow = top.get("flow").expect("flow");
        assert_eq!(flow.span, sp(6, 9, 6, 20));
        assert_eq!(flow.get("a").expect("a").span, sp(6, 13, 6, 19));
    }

    // ---- documents and syntax ----

    #[test]
    fn several_documents_are_refused() {
        let l = ld("a: 1\n---\nb: 2\n");
        assert_fatal(&l, "E0009");
        assert_eq!(l.diagnostics[0].span.start, p(2, 1));
        // PyYAML refuses an empty second document too.
        assert_fatal(&ld("---\na: 1\n---\n"), "E0009");
        // A document end marker alone is fine.
        assert_eq!(value("a: 1\n...\n"), json!({"a": 1}));
    }

    #[test]
    fn empty_documents_are_refused() {
        for text in [
            "",
            "   \n",
            "# only a comment\n",
            "---\n",
            "~\n",
            "null",
            "--- # c\n...\n",
        ] {
            let l = ld(text);
            assert_fatal(&l, "E0007");
            assert_eq!(l.diagnostics.len(), 1, "{text:?}");
        }
    }

    #[test]
    fn syntax_errors_give_the_scanner_position() {
        let l = ld("a: 1\nb: [1, 2\nc: 3\n");
        assert_fatal(&l, "E0001");
        assert!(l.diagnostics[0].message.starts_with("invalid YAML: "));
        assert_eq!(l.diagnostics[0].span.start.line, 3);
        let l = ld("a:\n\t- b\n");
        assert_fatal(&l, "E0001");
        assert_eq!(l.diagnostics[0].span.start, p(2, 2));
        assert!(
            l.diagnostics[0]
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("tabs"))
        );
        let l = ld("a: 1\n b: 2\n");
        assert_fatal(&l, "E0001");
        assert_eq!(l.diagnostics[0].span.start, p(2, 3));
        // An undeclared tag handle is a syntax error from the parser.
        assert_fatal(&ld("a: !e!foo x\n"), "E0001");
    }

    #[test]
    fn a_scalar_root_is_returned_for_the_parser_to_judge() {
        let l = ld("just text\n");
        assert!(l.diagnostics.is_empty());
        assert_eq!(
            l.root.map(|r| r.value),
            Some(Value::String("just text".into()))
        );
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        assert_eq!(value("\u{feff}a: 1\n"), json!({"a": 1}));
    }
}
