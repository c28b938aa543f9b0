//! The typed expression tree that property values, outputs, conditions and metadata are
//! parsed into.
//!
//! An intrinsic function call (`{get_param: x}`, `{"Fn::Join": [...]}`) becomes an
//! [`ExprKind::Call`] whose [`Func`] is resolved once, at parse time; its argument is itself an
//! [`Expr`], with nested calls already parsed. Everything else is plain data. Which names are
//! functions, and where, depends on the template version: see [`crate::template::functions`].

use crate::span::Span;
use crate::template::node::Key;

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `null`.
    Null,
    /// A boolean literal.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A floating point literal.
    Float(f64),
    /// A string literal.
    String(String),
    /// A list of expressions.
    List(Vec<Expr>),
    /// A map of expressions, keys in document order.
    Map(Vec<(Key, Expr)>),
    /// An intrinsic function call.
    Call(Box<Call>),
}

/// One intrinsic function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Which function.
    pub func: Func,
    /// The span of the function's name (the key of the one-key map).
    pub name_span: Span,
    /// The argument, as written (a list for functions that take several arguments).
    pub arg: Expr,
}

impl Expr {
    /// An expression from a kind and a span.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// The string, if this is a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The call, if this is a function call.
    pub fn as_call(&self) -> Option<&Call> {
        match &self.kind {
            ExprKind::Call(c) => Some(c),
            _ => None,
        }
    }

    /// The items, if this is a list literal.
    pub fn as_list(&self) -> Option<&[Expr]> {
        match &self.kind {
            ExprKind::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a map literal.
    pub fn as_map(&self) -> Option<&[(Key, Expr)]> {
        match &self.kind {
            ExprKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Looks a key up in a map literal (last one wins).
    pub fn get(&self, key: &str) -> Option<&Expr> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// Calls `f` on this expression and every expression nested in it, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::List(items) => items.iter().for_each(|e| e.walk(f)),
            ExprKind::Map(entries) => entries.iter().for_each(|(_, e)| e.walk(f)),
            ExprKind::Call(call) => call.arg.walk(f),
            _ => {}
        }
    }

    /// A short name of the expression's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            ExprKind::Null => "null",
            ExprKind::Bool(_) => "a boolean",
            ExprKind::Int(_) | ExprKind::Float(_) => "a number",
            ExprKind::String(_) => "a string",
            ExprKind::List(_) => "a list",
            ExprKind::Map(_) => "a map",
            ExprKind::Call(_) => "a function call",
        }
    }
}

macro_rules! funcs {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal; )*) => {
        /// Every intrinsic function of every template format, identified once at parse time.
        ///
        /// The same `Func` can behave differently across HOT versions (e.g. `get_attr`,
        /// `list_join`, `repeat`, `if`); evaluation takes the template version into account.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Func {
            $( $(#[$doc])* $variant, )*
        }

        impl Func {
            /// Every function.
            pub const ALL: &'static [Func] = &[ $( Func::$variant, )* ];

            /// The name as written in templates.
            pub fn name(self) -> &'static str {
                match self { $( Func::$variant => $name, )* }
            }

            /// Looks up a function by the name written in a template.
            pub fn from_name(name: &str) -> Option<Func> {
                match name { $( $name => Some(Func::$variant), )* _ => None }
            }
        }
    };
}

funcs! {
    // ---- HOT ----
    /// `get_param`.
    GetParam = "get_param";
    /// `get_resource`.
    GetResource = "get_resource";
    /// `get_attr`.
    GetAttr = "get_attr";
    /// `get_file`.
    GetFile = "get_file";
    /// `list_join`.
    ListJoin = "list_join";
    /// `str_replace`.
    StrReplace = "str_replace";
    /// `str_replace_strict`.
    StrReplaceStrict = "str_replace_strict";
    /// `str_replace_vstrict`.
    StrReplaceVstrict = "str_replace_vstrict";
    /// `resource_facade`.
    ResourceFacade = "resource_facade";
    /// `repeat`.
    Repeat = "repeat";
    /// `digest`.
    Digest = "digest";
    /// `str_split`.
    StrSplit = "str_split";
    /// `map_merge`.
    MapMerge = "map_merge";
    /// `map_replace`.
    MapReplace = "map_replace";
    /// `yaql`.
    Yaql = "yaql";
    /// `if`.
    If = "if";
    /// `equals`.
    Equals = "equals";
    /// `not`.
    Not = "not";
    /// `and`.
    And = "and";
    /// `or`.
    Or = "or";
    /// `filter`.
    Filter = "filter";
    /// `make_url`.
    MakeUrl = "make_url";
    /// `list_concat`.
    ListConcat = "list_concat";
    /// `list_concat_unique`.
    ListConcatUnique = "list_concat_unique";
    /// `contains`.
    Contains = "contains";
    // ---- CloudFormation ----
    /// `Ref`.
    Ref = "Ref";
    /// `Fn::GetAtt`.
    FnGetAtt = "Fn::GetAtt";
    /// `Fn::Join`.
    FnJoin = "Fn::Join";
    /// `Fn::Select`.
    FnSelect = "Fn::Select";
    /// `Fn::Split`.
    FnSplit = "Fn::Split";
    /// `Fn::Replace` (Heat only).
    FnReplace = "Fn::Replace";
    /// `Fn::Base64`.
    FnBase64 = "Fn::Base64";
    /// `Fn::FindInMap`.
    FnFindInMap = "Fn::FindInMap";
    /// `Fn::GetAZs`.
    FnGetAZs = "Fn::GetAZs";
    /// `Fn::MemberListToMap` (Heat only).
    FnMemberListToMap = "Fn::MemberListToMap";
    /// `Fn::ResourceFacade` (Heat only).
    FnResourceFacade = "Fn::ResourceFacade";
    /// `Fn::If`.
    FnIf = "Fn::If";
    /// `Fn::Equals`.
    FnEquals = "Fn::Equals";
    /// `Fn::Not`.
    FnNot = "Fn::Not";
    /// `Fn::And`.
    FnAnd = "Fn::And";
    /// `Fn::Or`.
    FnOr = "Fn::Or";
    /// `Fn::Sub` (AWS; not in Heat).
    FnSub = "Fn::Sub";
    /// `Fn::ImportValue` (AWS; not in Heat).
    FnImportValue = "Fn::ImportValue";
    /// `Fn::Cidr` (AWS; not in Heat).
    FnCidr = "Fn::Cidr";
    /// `Fn::Length` (AWS::LanguageExtensions).
    FnLength = "Fn::Length";
    /// `Fn::ToJsonString` (AWS::LanguageExtensions).
    FnToJsonString = "Fn::ToJsonString";
    /// `Fn::Transform` (AWS macros).
    FnTransform = "Fn::Transform";
    /// `Fn::Contains` (AWS rules).
    FnContains = "Fn::Contains";
    /// `Fn::EachMemberEquals` (AWS rules).
    FnEachMemberEquals = "Fn::EachMemberEquals";
    /// `Fn::EachMemberIn` (AWS rules).
    FnEachMemberIn = "Fn::EachMemberIn";
    /// `Fn::ValueOf` (AWS rules).
    FnValueOf = "Fn::ValueOf";
    /// `Fn::ValueOfAll` (AWS rules).
    FnValueOfAll = "Fn::ValueOfAll";
    /// `Fn::RefAll` (AWS rules).
    FnRefAll = "Fn::RefAll";
    /// `Fn::ForEach::<loop>` (AWS::LanguageExtensions); the loop name follows the prefix.
    FnForEach = "Fn::ForEach";
    /// `Condition` — a reference to a named condition, inside condition functions.
    Condition = "Condition";
}
