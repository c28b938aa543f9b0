//! References an expression makes: parameters, resources, attributes, conditions, mappings
//! (including those inside `Fn::Sub` strings). Shared by validation and the graph.
//! OWNER: expression helper (the body of `collect`).
//!
//! Only literal names are references: `{get_param: {get_param: x}}` refers to `x`, and the
//! outer call's target is computed at run time, so it is skipped. Every call's arguments are
//! searched too, so nested references are found wherever they are.

use crate::span::Span;
use crate::template::expr::{Expr, ExprKind, Func};

/// What a reference points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// `Ref` / `${Name}` in `Fn::Sub`: a parameter, a pseudo-parameter or a resource,
    /// decided by the template's names.
    Ref,
    /// `get_param` (HOT): a parameter or pseudo-parameter.
    Param,
    /// `get_resource` (HOT): a resource.
    Resource,
    /// `get_attr` / `Fn::GetAtt` / `${Name.Attr}`: a resource's attribute (attribute name
    /// when it is a literal).
    Attribute(Option<String>),
    /// `Condition` / a condition name used in `if` / `Fn::If`, or `condition:` fields.
    Condition,
    /// `Fn::FindInMap`: a mapping.
    Mapping,
}

/// One reference found in an expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// What kind of name it is.
    pub kind: RefKind,
    /// The name referred to (only literal names are references; computed ones are skipped).
    pub name: String,
    /// Where the name is written (for `Fn::Sub`, the variable inside the string when its
    /// columns can be known, else the whole string; see [`sub_var_span`]).
    pub span: Span,
    /// The function that makes the reference.
    pub func: Func,
}

/// Appends every reference that `expr` makes, in document order.
pub fn collect(expr: &Expr, out: &mut Vec<Reference>) {
    match &expr.kind {
        ExprKind::List(items) => items.iter().for_each(|e| collect(e, out)),
        ExprKind::Map(entries) => entries.iter().for_each(|(_, e)| collect(e, out)),
        ExprKind::Call(call) => {
            call_refs(call.func, &call.arg, out);
            collect(&call.arg, out);
        }
        _ => {}
    }
}

/// Every reference `expr` makes, in document order.
pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut out = Vec::new();
    collect(expr, &mut out);
    out
}

/// The names an expression may depend on as resources (from `Ref`, `get_resource`,
/// `get_attr` / `Fn::GetAtt` and `Fn::Sub` variables), with where each is written, in
/// document order and repeated as often as written. `Ref` names may also be parameters:
/// the caller decides which names are resources.
pub fn resource_dependencies(expr: &Expr) -> Vec<(String, Span)> {
    references(expr)
        .into_iter()
        .filter(|r| {
            matches!(
                r.kind,
                RefKind::Ref | RefKind::Resource | RefKind::Attribute(_)
            )
        })
        .map(|r| (r.name, r.span))
        .collect()
}

fn push(out: &mut Vec<Reference>, kind: RefKind, name: &str, span: Span, func: Func) {
    out.push(Reference {
        kind,
        name: name.to_string(),
        span,
        func,
    });
}

/// The references a call makes itself (not those of nested calls).
fn call_refs(func: Func, arg: &Expr, out: &mut Vec<Reference>) {
    match func {
        Func::GetParam => {
            if let Some(name) = first_literal(arg) {
                push(out, RefKind::Param, name.0, name.1, func);
            }
        }
        Func::GetResource => {
            if let Some(name) = arg.as_str() {
                push(out, RefKind::Resource, name, arg.span, func);
            }
        }
        Func::Ref => {
            if let Some(name) = arg.as_str() {
                push(out, RefKind::Ref, name, arg.span, func);
            }
        }
        Func::GetAttr | Func::FnGetAtt => getatt_refs(func, arg, out),
        Func::FnFindInMap => {
            if let Some(name) = arg.as_list().and_then(|l| l.first())
                && let Some(s) = name.as_str()
            {
                push(out, RefKind::Mapping, s, name.span, func);
            }
        }
        Func::If | Func::FnIf => {
            if let Some(cond) = arg.as_list().and_then(|l| l.first())
                && let Some(s) = cond.as_str()
            {
                push(out, RefKind::Condition, s, cond.span, func);
            }
        }
        // Condition operands written as plain strings are condition names (Heat).
        Func::Not | Func::FnNot | Func::And | Func::Or | Func::FnAnd | Func::FnOr => {
            let operands: &[Expr] = match &arg.kind {
                ExprKind::List(items) => items,
                _ => std::slice::from_ref(arg),
            };
            for op in operands {
                if let Some(s) = op.as_str() {
                    push(out, RefKind::Condition, s, op.span, func);
                }
            }
        }
        Func::Condition => {
            if let Some(name) = arg.as_str() {
                push(out, RefKind::Condition, name, arg.span, func);
            }
        }
        Func::FnValueOf => {
            if let Some(name) = arg.as_list().and_then(|l| l.first())
                && let Some(s) = name.as_str()
            {
                push(out, RefKind::Param, s, name.span, func);
            }
        }
        Func::FnSub => sub_refs(arg, out),
        _ => {}
    }
}

/// The first literal string of a string argument or of a list argument.
fn first_literal(arg: &Expr) -> Option<(&str, Span)> {
    match &arg.kind {
        ExprKind::String(s) => Some((s, arg.span)),
        ExprKind::List(items) => items.first().and_then(|e| e.as_str().map(|s| (s, e.span))),
        _ => None,
    }
}

fn getatt_refs(func: Func, arg: &Expr, out: &mut Vec<Reference>) {
    match &arg.kind {
        ExprKind::List(items) => {
            let Some(res) = items.first() else { return };
            let Some(name) = res.as_str() else { return };
            let attr = items.get(1).and_then(|a| a.as_str()).map(str::to_string);
            push(out, RefKind::Attribute(attr), name, res.span, func);
        }
        // `Fn::GetAtt: "Res.Attr"` (the dotted string form).
        ExprKind::String(s) => {
            let (name, attr) = match s.split_once('.') {
                Some((n, a)) => (n, Some(a.to_string())),
                None => (s.as_str(), None),
            };
            push(out, RefKind::Attribute(attr), name, arg.span, func);
        }
        _ => {}
    }
}

fn sub_refs(arg: &Expr, out: &mut Vec<Reference>) {
    let (template, vars) = match &arg.kind {
        ExprKind::String(_) => (arg, None),
        ExprKind::List(items) => match items.as_slice() {
            [t] => (t, None),
            [t, v] => (t, Some(v)),
            _ => return,
        },
        _ => return,
    };
    let Some(text) = template.as_str() else {
        return;
    };
    // Names the variable map defines are not references; when the map is computed we cannot
    // know them, so report nothing rather than guess.
    let defined: Vec<&str> = match vars {
        None => Vec::new(),
        Some(v) => match v.as_map() {
            Some(entries) => entries.iter().map(|(k, _)| k.name.as_str()).collect(),
            None => return,
        },
    };
    let Ok(vars) = sub_variables(text) else {
        return;
    };
    for var in vars {
        let full = var.full_name();
        if defined.contains(&full.as_str()) || defined.contains(&var.name.as_str()) {
            continue;
        }
        let span = sub_var_span(template.span, text, &var);
        match var.attr {
            Some(attr) => push(
                out,
                RefKind::Attribute(Some(attr)),
                &var.name,
                span,
                Func::FnSub,
            ),
            None => push(out, RefKind::Ref, &var.name, span, Func::FnSub),
        }
    }
}

/// The span of one `${...}` variable inside an `Fn::Sub` string, when it can be known: the
/// string is written on one line and its span is exactly as wide as its text (plain) or
/// its text plus two quotes (quoted, without escapes). Otherwise the string's span.
pub fn sub_var_span(string_span: Span, text: &str, var: &SubVar) -> Span {
    let (start, end) = (string_span.start, string_span.end);
    if start.line == 0 || start.line != end.line || end.col < start.col {
        return string_span;
    }
    let width = (end.col - start.col) as usize;
    let chars = text.chars().count();
    let quote = if width == chars {
        0
    } else if width == chars + 2 {
        1
    } else {
        return string_span;
    };
    let Some(before) = text.get(..var.offset) else {
        return string_span;
    };
    let Some(body) = text.get(var.offset..var.offset + var.len) else {
        return string_span;
    };
    let col = |n: usize| u32::try_from(n).ok().and_then(|n| start.col.checked_add(n));
    let (Some(from), Some(to)) = (
        col(quote + before.chars().count()),
        col(quote + before.chars().count() + body.chars().count()),
    ) else {
        return string_span;
    };
    Span::new(
        crate::span::Pos::new(start.line, from),
        crate::span::Pos::new(start.line, to),
    )
}

/// One `${...}` variable of an `Fn::Sub` template string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubVar {
    /// The name before the first `.` (`Res` of `${Res.Attr}`, `AWS::Region` of
    /// `${AWS::Region}`), without surrounding whitespace.
    pub name: String,
    /// The attribute after the first `.`, if any (`Attr`, or `Endpoint.Address` of
    /// `${Db.Endpoint.Address}`).
    pub attr: Option<String>,
    /// The byte offset of the `$` in the template string.
    pub offset: usize,
    /// The byte length of the whole `${...}` text.
    pub len: usize,
}

impl SubVar {
    /// The variable as written between the braces (`Res.Attr`), whitespace trimmed.
    pub fn full_name(&self) -> String {
        match &self.attr {
            Some(a) => format!("{}.{a}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The variables of an `Fn::Sub` template string, in order.
///
/// `${Name}` and `${Name.Attr}` are variables; `${!Literal}` is an escape that stands for the
/// literal text `${Literal}` and is skipped; a `$` not followed by `{` is plain text. A
/// variable ends at the first `}` (there is no nesting: `${a${b}}` is the variable `a${b`
/// followed by the text `}`, as in CloudFormation). An unterminated `${` or an empty `${}`
/// is an error, returned as a message naming the byte offset.
pub fn sub_variables(template: &str) -> Result<Vec<SubVar>, String> {
    let mut out = Vec::new();
    let bytes = template.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'$' || bytes[i + 1] != b'{' {
            i += 1;
            continue;
        }
        let start = i;
        let body_start = i + 2;
        let Some(close_rel) = template[body_start..].find('}') else {
            return Err(format!(
                "unterminated ${{ at offset {start} in the Fn::Sub string"
            ));
        };
        let body = &template[body_start..body_start + close_rel];
        let end = body_start + close_rel + 1;
        i = end;
        if body.starts_with('!') {
            continue;
        }
        let trimmed = body.trim();
        if trimmed.is_empty() {
            return Err(format!(
                "empty variable ${{}} at offset {start} in the Fn::Sub string"
            ));
        }
        let (name, attr) = match trimmed.split_once('.') {
            Some((n, a)) => (n.to_string(), Some(a.to_string())),
            None => (trimmed.to_string(), None),
        };
        out.push(SubVar {
            name,
            attr,
            offset: start,
            len: end - start,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity)]
mod tests {
    use super::*;
    use crate::template::parse::expr::testing::node;
    use crate::template::parse::expr::{ExprContext, parse_expr};
    use crate::template::version::Version;
    use serde_json::json;

    fn refs_of(version: Version, j: serde_json::Value) -> Vec<(RefKind, String, Func)> {
        let mut diags = Vec::new();
        let e = parse_expr(&node(&j), &ExprContext::value(version), &mut diags);
        references(&e)
            .into_iter()
            .map(|r| (r.kind, r.name, r.func))
            .collect()
    }

    fn attr(a: &str) -> RefKind {
        RefKind::Attribute(Some(a.to_string()))
    }

    #[test]
    fn reference_table() {
        use Version::*;
        let s = |x: &str| x.to_string();
        let cases: Vec<(Version, serde_json::Value, Vec<(RefKind, String, Func)>)> = vec![
            (
                Hot20210416,
                json!({"get_param": "p"}),
                vec![(RefKind::Param, s("p"), Func::GetParam)],
            ),
            (
                Hot20210416,
                json!({"get_param": ["p", "k", 0]}),
                vec![(RefKind::Param, s("p"), Func::GetParam)],
            ),
            (
                Hot20210416,
                json!({"get_param": [{"get_param": "q"}]}),
                vec![(RefKind::Param, s("q"), Func::GetParam)],
            ),
            (
                Hot20210416,
                json!({"get_resource": "r"}),
                vec![(RefKind::Resource, s("r"), Func::GetResource)],
            ),
            (
                Hot20210416,
                json!({"get_attr": ["r", "a", "k"]}),
                vec![(attr("a"), s("r"), Func::GetAttr)],
            ),
            (
                Hot20210416,
                json!({"get_attr": ["r"]}),
                vec![(RefKind::Attribute(None), s("r"), Func::GetAttr)],
            ),
            (
                Hot20210416,
                json!({"get_attr": ["r", {"get_param": "p"}]}),
                vec![
                    (RefKind::Attribute(None), s("r"), Func::GetAttr),
                    (RefKind::Param, s("p"), Func::GetParam),
                ],
            ),
            (
                Hot20210416,
                json!({"if": ["c", {"get_resource": "a"}, null]}),
                vec![
                    (RefKind::Condition, s("c"), Func::If),
                    (RefKind::Resource, s("a"), Func::GetResource),
                ],
            ),
            (
                Hot20130523,
                json!({"Ref": "x"}),
                vec![(RefKind::Ref, s("x"), Func::Ref)],
            ),
            (
                Cfn20100909,
                json!({"Ref": "x"}),
                vec![(RefKind::Ref, s("x"), Func::Ref)],
            ),
            (Cfn20100909, json!({"Ref": {"Fn::Sub": "x"}}), vec![]),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": ["R", "Arn"]}),
                vec![(attr("Arn"), s("R"), Func::FnGetAtt)],
            ),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": "R.Endpoint.Address"}),
                vec![(attr("Endpoint.Address"), s("R"), Func::FnGetAtt)],
            ),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": ["R", {"Ref": "P"}]}),
                vec![
                    (RefKind::Attribute(None), s("R"), Func::FnGetAtt),
                    (RefKind::Ref, s("P"), Func::Ref),
                ],
            ),
            (
                Cfn20100909,
                json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "k"]}),
                vec![
                    (RefKind::Mapping, s("M"), Func::FnFindInMap),
                    (RefKind::Ref, s("AWS::Region"), Func::Ref),
                ],
            ),
            (
                Cfn20100909,
                json!({"Fn::If": ["C", 1, 2]}),
                vec![(RefKind::Condition, s("C"), Func::FnIf)],
            ),
            (
                Hot20161014,
                json!({"if": [{"and": ["a", {"not": "b"}, true]}, 1, 2]}),
                vec![
                    (RefKind::Condition, s("a"), Func::And),
                    (RefKind::Condition, s("b"), Func::Not),
                ],
            ),
            (
                Cfn20100909,
                json!({"Fn::Sub": "a ${P} ${R.Arn} ${!Lit} ${AWS::Region}"}),
                vec![
                    (RefKind::Ref, s("P"), Func::FnSub),
                    (attr("Arn"), s("R"), Func::FnSub),
                    (RefKind::Ref, s("AWS::Region"), Func::FnSub),
                ],
            ),
            (
                Cfn20100909,
                json!({"Fn::Sub": ["${X}-${Y}", {"X": {"Ref": "Q"}}]}),
                vec![
                    (RefKind::Ref, s("Y"), Func::FnSub),
                    (RefKind::Ref, s("Q"), Func::Ref),
                ],
            ),
            (
                Cfn20100909,
                json!({"Fn::Sub": ["${X}", {"Fn::If": ["C", {}, {}]}]}),
                vec![(RefKind::Condition, s("C"), Func::FnIf)],
            ),
            (Cfn20100909, json!({"Fn::Sub": "${unterminated"}), vec![]),
            (
                Cfn20100909,
                json!({"a": [{"Ref": "x"}, {"b": {"Ref": "y"}}]}),
                vec![
                    (RefKind::Ref, s("x"), Func::Ref),
                    (RefKind::Ref, s("y"), Func::Ref),
                ],
            ),
        ];
        for (v, input, want) in cases {
            assert_eq!(refs_of(v, input.clone()), want, "{v} {input}");
        }
    }

    #[test]
    fn conditions_refer_to_conditions() {
        let mut diags = Vec::new();
        let e = parse_expr(
            &node(&json!({"Fn::And": [{"Condition": "A"}, {"Fn::Equals": [{"Ref": "P"}, "x"]}]})),
            &ExprContext::condition(Version::Cfn20100909),
            &mut diags,
        );
        let got: Vec<(RefKind, String)> = references(&e)
            .into_iter()
            .map(|r| (r.kind, r.name))
            .collect();
        assert_eq!(
            got,
            vec![
                (RefKind::Condition, "A".to_string()),
                (RefKind::Ref, "P".to_string())
            ]
        );
    }

    #[test]
    fn sub_variable_parsing() {
        let v = sub_variables("x${A}y${B.C.D}${!E}${ F }$G$").unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(
            (
                v[0].name.as_str(),
                v[0].attr.as_deref(),
                v[0].offset,
                v[0].len
            ),
            ("A", None, 1, 4)
        );
        assert_eq!(
            (v[1].name.as_str(), v[1].attr.as_deref()),
            ("B", Some("C.D"))
        );
        assert_eq!(v[1].full_name(), "B.C.D");
        assert_eq!(v[2].name, "F");
        assert_eq!(
            sub_variables("${AWS::Region}").unwrap()[0].name,
            "AWS::Region"
        );
        assert!(
            sub_variables("no vars, $ alone, {braces}")
                .unwrap()
                .is_empty()
        );
        assert!(sub_variables("${!Literal} only").unwrap().is_empty());
        // No nesting: the first `}` ends the variable.
        assert_eq!(sub_variables("${a${b}}").unwrap()[0].name, "a${b");
        let err = sub_variables("abc ${open").unwrap_err();
        assert!(
            err.contains("unterminated") && err.contains("offset 4"),
            "{err}"
        );
        assert!(sub_variables("${}").unwrap_err().contains("empty"));
        assert!(sub_variables("").unwrap().is_empty());
        assert!(sub_variables("$").unwrap().is_empty());
        // Multi-byte text around variables keeps byte offsets.
        assert_eq!(sub_variables("é${X}").unwrap()[0].offset, 2);
    }

    #[test]
    fn sub_variable_spans() {
        use crate::span::Pos;
        let text = "a-${Bé}-${C.D}";
        let vars = sub_variables(text).unwrap();
        let line = |a, b| Span::new(Pos::new(3, a), Pos::new(3, b));
        // plain scalar at column 10: 14 characters wide
        let plain = line(10, 24);
        assert_eq!(sub_var_span(plain, text, &vars[0]), line(12, 17));
        assert_eq!(sub_var_span(plain, text, &vars[1]), line(18, 24));
        // quoted: two more columns, shifted by the opening quote
        let quoted = line(10, 26);
        assert_eq!(sub_var_span(quoted, text, &vars[0]), line(13, 18));
        // escapes or several lines: the whole string
        let odd = line(10, 30);
        assert_eq!(sub_var_span(odd, text, &vars[0]), odd);
        let multi = Span::new(Pos::new(3, 10), Pos::new(5, 2));
        assert_eq!(sub_var_span(multi, text, &vars[0]), multi);
        assert_eq!(
            sub_var_span(Span::default(), text, &vars[0]),
            Span::default()
        );
    }

    #[test]
    fn dependencies() {
        let mut diags = Vec::new();
        let e = parse_expr(
            &node(
                &json!({"list_join": [",", [{"get_param": "p"}, {"get_resource": "a"}, {"get_attr": ["b", "x"]}, {"if": ["c", 1, 2]}]]}),
            ),
            &ExprContext::value(Version::Hot20210416),
            &mut diags,
        );
        let names: Vec<String> = resource_dependencies(&e)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["a", "b"]);
    }
}
