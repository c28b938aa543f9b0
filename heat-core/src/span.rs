//! Source positions.
//!
//! Every node of a loaded template keeps a [`Span`], so that every diagnostic can name
//! file, line and column.

use std::fmt;

/// A position in a source text. Both `line` and `col` are 1-based and count characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line number, starting at 1 (0 means "unknown").
    pub line: u32,
    /// Column number in characters, starting at 1 (0 means "unknown").
    pub col: u32,
}

impl Pos {
    /// A position from a 1-based line and a 1-based column.
    pub const fn new(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A range in a source text: `start` inclusive, `end` exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First character of the range.
    pub start: Pos,
    /// Position just after the range.
    pub end: Pos,
}

impl Span {
    /// A span from two positions.
    pub const fn new(start: Pos, end: Pos) -> Span {
        Span { start, end }
    }

    /// An empty span at one position.
    pub const fn at(pos: Pos) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }

    /// Whether this span carries a real position (line 0 means "unknown").
    pub fn is_known(&self) -> bool {
        self.start.line > 0
    }
}

/// A value together with the span it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps a value with its span.
    pub fn new(value: T, span: Span) -> Spanned<T> {
        Spanned { value, span }
    }
}

impl Spanned<String> {
    /// The string value.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}
