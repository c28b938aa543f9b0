//! Node → Expr: recognising intrinsic functions per template version.
//! OWNER: expression helper.
//!
//! A mapping with exactly one key that names a function of the template's format becomes a
//! [`ExprKind::Call`]; every other mapping is data. What counts as a function name follows
//! the engines the formats come from:
//!
//! * HOT (Heat): the names of [`functions`] for the version, the names some other HOT
//!   version has (a later one → `E3011` naming the versions that have it; a removed one →
//!   `E3012` with Heat's hint), and in `conditions` only the condition functions (any other
//!   function there is `E3014`, Heat's "invalid in this context"). Outside conditions the
//!   condition-only names (`equals`, `not`, `and`, `or`) are plain data, as in Heat (e.g.
//!   Aodh composite alarm rules use `and`/`or` keys). Multi-key maps are always data.
//!   What Heat silently treats as data but was most likely meant as a call is the warning
//!   `W3005`: a one-key map whose key is a near miss of a function name (`get_parm`,
//!   `str_joinn` → `list_join`; common data keys such as `container` are exempt), or a
//!   function key of this version next to other keys (`{get_param: x, default: y}`).
//! * AWS CloudFormation: `Ref` and every `Fn::*` key. Unknown `Fn::` names are `E3010`
//!   (and stay data); `Condition` is a function only inside conditions (elsewhere, e.g. in
//!   IAM policies, it is data); `Fn::ForEach::<loop>` keys are data whose value is parsed;
//!   condition functions outside conditions and `Rules` functions outside rules are
//!   `E3014`; a `Ref`/`Fn::` key next to other keys is `E3015` (once per map, naming every
//!   function key).
//! * Heat's 2012-12-12 dialect: its 11 functions; AWS-only `Fn::` names are `E3011`.
//!
//! The first argument of `if` / `Fn::If` is parsed in condition context, as Heat does.
//! `Rules` sections (AWS) are parsed with `in_condition: true`.

use crate::diagnostic::{Code, Diagnostic};
use crate::template::expr::{Call, Expr, ExprKind, Func};
use crate::template::functions::{self, Availability};
use crate::template::node::{Key, Node, Value};
use crate::template::version::{Format, Version};

/// Where an expression is being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExprContext {
    /// The template version (decides which names are functions).
    pub version: Version,
    /// Inside `conditions` or a `condition:` field, where only condition functions apply.
    /// Also `true` for the AWS `Rules` section.
    pub in_condition: bool,
}

impl ExprContext {
    /// A context for values (resources, outputs, metadata) of a version.
    pub fn value(version: Version) -> ExprContext {
        ExprContext {
            version,
            in_condition: false,
        }
    }

    /// A context for conditions (and `Rules`) of a version.
    pub fn condition(version: Version) -> ExprContext {
        ExprContext {
            version,
            in_condition: true,
        }
    }
}

/// Parses a node into an expression, recognising function calls.
pub fn parse_expr(node: &Node, ctx: &ExprContext, diags: &mut Vec<Diagnostic>) -> Expr {
    let kind = match &node.value {
        Value::Null => ExprKind::Null,
        Value::Bool(b) => ExprKind::Bool(*b),
        Value::Int(i) => ExprKind::Int(*i),
        Value::Float(f) => ExprKind::Float(*f),
        Value::String(s) => ExprKind::String(s.clone()),
        Value::Seq(items) => {
            ExprKind::List(items.iter().map(|n| parse_expr(n, ctx, diags)).collect())
        }
        Value::Map(entries) => return parse_map(node, entries, ctx, diags),
    };
    Expr::new(kind, node.span)
}

fn parse_map(
    node: &Node,
    entries: &[(Key, Node)],
    ctx: &ExprContext,
    diags: &mut Vec<Diagnostic>,
) -> Expr {
    let format = ctx.version.format();
    if let [(key, value)] = entries {
        if let Some(func) = recognise(key, ctx, diags) {
            let arg = parse_args(func, value, ctx, diags);
            return Expr::new(
                ExprKind::Call(Box::new(Call {
                    func,
                    name_span: key.span,
                    arg,
                })),
                node.span,
            );
        }
        if format == Format::Hot {
            check_hot_typo(key, ctx, diags);
        }
    } else if format == Format::Cfn {
        check_siblings(entries, diags);
    } else if format == Format::Hot {
        check_hot_siblings(entries, ctx, diags);
    }
    let parsed = entries
        .iter()
        .map(|(k, v)| (k.clone(), parse_expr(v, ctx, diags)))
        .collect();
    Expr::new(ExprKind::Map(parsed), node.span)
}

/// In AWS CloudFormation, a `Ref` or `Fn::` key must be alone in its map. Reported once per
/// map, at its first function key, naming every function key.
fn check_siblings(entries: &[(Key, Node)], diags: &mut Vec<Diagnostic>) {
    let is_function_key = |name: &str| {
        name == "Ref"
            || (name.starts_with("Fn::")
                && !name.starts_with("Fn::ForEach::")
                && name != "Fn::Transform")
    };
    let (funcs, others): (Vec<&Key>, Vec<&Key>) = entries
        .iter()
        .map(|(k, _)| k)
        .partition(|k| is_function_key(&k.name));
    let Some(first) = funcs.first() else { return };
    let others: Vec<&str> = others.iter().map(|k| k.name.as_str()).collect();
    let d = if let [only] = funcs.as_slice() {
        let name = only.name.as_str();
        Diagnostic::error(
            Code::FunctionWithSiblings,
            first.span,
            format!(
                "{name} must be the only key of its map, but the map also has {}",
                quote_list(&others)
            ),
        )
        .with_hint(format!(
            "move the other keys out, or the map is plain data and {name} is not called"
        ))
    } else {
        let names: Vec<&str> = funcs.iter().map(|k| k.name.as_str()).collect();
        let also = if others.is_empty() {
            String::new()
        } else {
            format!(" (the map also has {})", quote_list(&others))
        };
        Diagnostic::error(
            Code::FunctionWithSiblings,
            first.span,
            format!(
                "one map has the function keys {}, but a function must be the only key of \
                 its map{also}",
                and_list(&names)
            ),
        )
        .with_hint("write each call as a map of its own; as written, none of them is called")
    };
    diags.push(d);
}

fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Near misses of HOT function names that are ordinary data keys (Swift `container`, the
/// `get_input` of structured software configs, ...).
const NOT_FUNCTION_TYPOS: &[&str] = &["container", "containers", "filters", "get_input", "yaml"];

/// Prefixes only HOT function names have; a key with one of them is meant as a call.
const HOT_FUNCTION_PREFIXES: &[&str] = &["get_", "list_", "map_", "str_"];

/// The HOT function names a map key could mean here: the version's functions (and, in
/// conditions, its condition functions; outside them the condition-only names are data).
fn hot_function_names(ctx: &ExprContext) -> Vec<&'static str> {
    let version = ctx.version;
    let in_condition = ctx.in_condition && version.has_conditions();
    let mut names: Vec<&'static str> = functions::functions(version)
        .iter()
        .filter(|i| in_condition || !functions::is_condition_only(Format::Hot, i.func))
        .map(|i| i.name)
        .collect();
    if in_condition {
        for info in functions::condition_functions(version) {
            if !names.contains(&info.name) {
                names.push(info.name);
            }
        }
    }
    names
}

/// Whether a HOT key names a function callable here (a live function of the version; the
/// condition-only ones only in conditions).
fn is_hot_function_here(name: &str, ctx: &ExprContext) -> bool {
    match functions::lookup(ctx.version, name) {
        Availability::Live(func) => {
            (ctx.in_condition && ctx.version.has_conditions())
                || !functions::is_condition_only(Format::Hot, func)
        }
        _ => false,
    }
}

/// The HOT function a data key probably means: a close spelling (at most one edit for names
/// shorter than 8 characters, two for longer ones; case differences are free), or for a key
/// with a function prefix (`str_joinn`), the function whose last word matches the key's.
/// `None` when no function stands out (`get_vm_id` may well be data, e.g. a Mistral task).
fn intended_function(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let lower = name.to_lowercase();
    let length = name.chars().count();
    let mut best: Option<(usize, &'static str)> = None;
    for cand in candidates.iter().copied() {
        let limit = if cand.len() >= 8 { 2 } else { 1 };
        let d = if cand.eq_ignore_ascii_case(&lower) {
            0
        } else if cand.len().abs_diff(length) > limit {
            // The distance is at least the difference in length (function names are
            // ASCII).
            continue;
        } else {
            crate::names::edit_distance(name, cand)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    if let Some((_, cand)) = best {
        return Some(cand);
    }
    let prefix = HOT_FUNCTION_PREFIXES
        .iter()
        .find(|p| lower.starts_with(*p))?;
    let rest = &lower[prefix.len()..];
    // The function whose last word is (a near miss of, or a prefix of) the key's last word.
    let last_word = |c: &str| c.rsplit('_').next().unwrap_or(c).to_string();
    let words: Vec<String> = candidates.iter().map(|c| last_word(c)).collect();
    let key_word = last_word(rest);
    candidates
        .iter()
        .zip(&words)
        .find(|(_, w)| {
            **w == key_word
                || (w.len() >= 4 && key_word.starts_with(w.as_str()))
                || (w.len() >= 4 && crate::names::edit_distance(&key_word, w) == 1)
        })
        .map(|(cand, _)| *cand)
}

/// HOT: a one-key map whose key is not a function but looks like a misspelt one is data, as
/// in Heat; warn, since the author most likely meant the call.
/// [`intended_function`] against the HOT functions of the context, remembered per thread
/// (the same keys repeat across thousands of resources; the answer depends only on the key,
/// the version and whether this is a condition).
fn cached_intended_function(name: &str, ctx: &ExprContext) -> Option<&'static str> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    type Cache = HashMap<(String, crate::template::version::Version, bool), Option<&'static str>>;
    thread_local! {
        static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
    }
    let key = (name.to_string(), ctx.version, ctx.in_condition);
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&key).copied()) {
        return hit;
    }
    let found = intended_function(name, &hot_function_names(ctx));
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        // Bounded: a template of random keys must not grow it without end.
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(key, found);
    });
    found
}

fn check_hot_typo(key: &Key, ctx: &ExprContext, diags: &mut Vec<Diagnostic>) {
    let name = key.name.as_str();
    if name.starts_with("Fn::")
        || name.chars().count() < 4
        || NOT_FUNCTION_TYPOS.contains(&name)
        || functions::lookup(ctx.version, name) != Availability::Unknown
    {
        return;
    }
    let Some(func) = cached_intended_function(name, ctx) else {
        return;
    };
    let hint = format!("did you mean {func}?");
    diags.push(
        Diagnostic::warning(
            Code::PossibleFunctionTypo,
            key.span,
            format!(
                "'{name}' is not a function in heat_template_version {}, so this map is \
                 passed on as data",
                ctx.version.date()
            ),
        )
        .with_hint(hint),
    );
}

/// HOT: a function key next to other keys is not called (Heat treats the map as data); warn.
fn check_hot_siblings(entries: &[(Key, Node)], ctx: &ExprContext, diags: &mut Vec<Diagnostic>) {
    let (funcs, others): (Vec<&Key>, Vec<&Key>) = entries
        .iter()
        .map(|(k, _)| k)
        .partition(|k| is_hot_function_here(&k.name, ctx));
    let Some(first) = funcs.first() else { return };
    let names: Vec<&str> = funcs.iter().map(|k| k.name.as_str()).collect();
    let others: Vec<&str> = others.iter().map(|k| k.name.as_str()).collect();
    let message = match (names.as_slice(), others.is_empty()) {
        ([one], _) => format!(
            "{one} is not called: a function must be the only key of its map, but this map \
             also has {}",
            quote_list(&others)
        ),
        (_, true) => format!(
            "{} are not called: a function must be the only key of its map",
            and_list(&names)
        ),
        (_, false) => format!(
            "{} are not called: a function must be the only key of its map, but this map \
             also has {}",
            and_list(&names),
            quote_list(&others)
        ),
    };
    let hint = if names == ["get_param"] && others.contains(&"default") {
        "get_param takes no default: give the parameter a default in its definition \
         (Heat passes this map on as data)"
            .to_string()
    } else {
        format!(
            "Heat passes this map on as data; move the other keys out to call {}",
            first.name
        )
    };
    diags
        .push(Diagnostic::warning(Code::PossibleFunctionTypo, first.span, message).with_hint(hint));
}

/// Decides whether a one-key map's key is a function call here; reports misuse.
fn recognise(key: &Key, ctx: &ExprContext, diags: &mut Vec<Diagnostic>) -> Option<Func> {
    let version = ctx.version;
    let format = version.format();
    let name = key.name.as_str();
    match functions::lookup(version, name) {
        Availability::Unknown => {
            let known_elsewhere =
                format == Format::Cfn && functions::AWS_FUNCTIONS_WITHOUT_FUNC.contains(&name);
            if format != Format::Hot && name.starts_with("Fn::") && !known_elsewhere {
                diags.push(
                    Diagnostic::error(
                        Code::UnknownFunction,
                        key.span,
                        format!("unknown intrinsic function {name}"),
                    )
                    .with_hint(unknown_hint(version, name)),
                );
            }
            None
        }
        Availability::Live(Func::FnForEach) => None,
        Availability::Live(func) => check_context(func, key, ctx, diags),
        Availability::Removed { func, hint } => {
            diags.push(
                Diagnostic::error(
                    Code::RemovedFunction,
                    key.span,
                    format!(
                        "the function {name} is not supported in heat_template_version {}",
                        version.date()
                    ),
                )
                .with_hint(hint),
            );
            Some(func)
        }
        Availability::NotInVersion { func, versions } => {
            let recognised = match format {
                Format::Hot => {
                    versions.iter().any(|v| v.is_hot())
                        && (ctx.in_condition || !functions::is_condition_only(format, func))
                }
                Format::HeatCfn => name.starts_with("Fn::"),
                Format::Cfn => false,
            };
            if !recognised {
                return None;
            }
            let message = format!(
                "{name} is not available in {}: {}",
                version.key(),
                version.date()
            );
            diags.push(
                Diagnostic::error(Code::FunctionNotInVersion, key.span, message)
                    .with_hint(functions::availability_message(func, &versions)),
            );
            Some(func)
        }
    }
}

/// Checks that a live function is used where the format allows it.
fn check_context(
    func: Func,
    key: &Key,
    ctx: &ExprContext,
    diags: &mut Vec<Diagnostic>,
) -> Option<Func> {
    let version = ctx.version;
    let name = key.name.as_str();
    match version.format() {
        Format::Hot => {
            if ctx.in_condition && version.has_conditions() {
                if !functions::is_condition_function(version, func) {
                    let allowed: Vec<&str> = functions::condition_functions(version)
                        .iter()
                        .map(|i| i.name)
                        .collect();
                    diags.push(
                        Diagnostic::error(
                            Code::FunctionOutOfContext,
                            key.span,
                            format!("the function \"{name}\" is invalid in conditions"),
                        )
                        .with_hint(format!(
                            "conditions may use only {} and condition names",
                            allowed.join(", ")
                        )),
                    );
                }
            } else if functions::is_condition_only(Format::Hot, func) {
                // Heat parses these only in conditions; elsewhere the map is data.
                return None;
            }
        }
        Format::Cfn => {
            if ctx.in_condition {
                if matches!(
                    func,
                    Func::FnGetAtt
                        | Func::FnTransform
                        | Func::FnReplace
                        | Func::FnMemberListToMap
                        | Func::FnResourceFacade
                ) {
                    diags.push(
                        Diagnostic::error(
                            Code::FunctionOutOfContext,
                            key.span,
                            format!("{name} cannot be used in Conditions"),
                        )
                        .with_hint(
                            "conditions are evaluated before any resource exists; use \
                             parameters, mappings and other conditions",
                        ),
                    );
                }
            } else if func == Func::Condition {
                // Outside conditions `Condition` is an ordinary key (e.g. in IAM policies).
                return None;
            } else if functions::is_condition_only(Format::Cfn, func) {
                diags.push(
                    Diagnostic::error(
                        Code::FunctionOutOfContext,
                        key.span,
                        format!("{name} can only be used in Conditions and Rules"),
                    )
                    .with_hint(
                        "define a named condition in the Conditions section and refer to \
                         it with Fn::If or a Condition attribute",
                    ),
                );
            } else if functions::is_rules_function(version, func) {
                diags.push(
                    Diagnostic::error(
                        Code::FunctionOutOfContext,
                        key.span,
                        format!("{name} can only be used in the Rules section"),
                    )
                    .with_hint("rule functions check parameter values in Rules assertions"),
                );
            }
        }
        Format::HeatCfn => {}
    }
    Some(func)
}

fn unknown_hint(version: Version, name: &str) -> String {
    let mut known: Vec<&str> = Vec::new();
    for info in functions::functions(version)
        .iter()
        .chain(functions::condition_functions(version).iter())
    {
        let shown = if info.func == Func::FnForEach {
            "Fn::ForEach::<loop>"
        } else {
            info.name
        };
        if shown.starts_with("Fn::") && !known.contains(&shown) {
            known.push(shown);
        }
    }
    if let Some(close) = crate::names::closest(name, known.iter().copied()) {
        return format!("did you mean {close}?");
    }
    if name.starts_with("Fn::Rain::") {
        return "Fn::Rain::* directives are expanded by the rain tool (rain pkg) before \
                deployment; CloudFormation itself does not know them"
            .to_string();
    }
    format!(
        "the intrinsic functions of {} are: {}",
        version,
        known.join(", ")
    )
}

/// Parses a call's argument; `if`'s condition is parsed in condition context.
fn parse_args(func: Func, value: &Node, ctx: &ExprContext, diags: &mut Vec<Diagnostic>) -> Expr {
    if matches!(func, Func::If | Func::FnIf)
        && let Value::Seq(items) = &value.value
    {
        let cond_ctx = ExprContext {
            version: ctx.version,
            in_condition: ctx.version.has_conditions(),
        };
        let parsed = items
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if i == 0 {
                    parse_expr(n, &cond_ctx, diags)
                } else {
                    parse_expr(n, ctx, diags)
                }
            })
            .collect();
        return Expr::new(ExprKind::List(parsed), value.span);
    }
    parse_expr(value, ctx, diags)
}

/// Test support: builds [`Node`] trees from JSON with synthetic spans (line = depth-first
/// index), so tests need no loader.
#[cfg(test)]
pub(crate) mod testing {
    use crate::span::{Pos, Span};
    use crate::template::node::{Key, Node, Value};

    /// A node tree from a JSON value; every node and key gets a distinct span.
    pub(crate) fn node(json: &serde_json::Value) -> Node {
        let mut counter = 0;
        build(json, &mut counter)
    }

    fn next(counter: &mut u32) -> Span {
        *counter += 1;
        Span::new(Pos::new(*counter, 1), Pos::new(*counter, 2))
    }

    fn build(json: &serde_json::Value, counter: &mut u32) -> Node {
        use serde_json::Value as J;
        let span = next(counter);
        let value = match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => Value::String(s.clone()),
            J::Array(items) => Value::Seq(items.iter().map(|i| build(i, counter)).collect()),
            J::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| {
                        let key = Key {
                            name: k.clone(),
                            span: next(counter),
                        };
                        (key, build(v, counter))
                    })
                    .collect(),
            ),
        };
        Node::new(value, span)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity)]
mod tests {
    use super::testing::node;
    use super::*;
    use serde_json::json;

    fn parse(
        version: Version,
        in_condition: bool,
        j: serde_json::Value,
    ) -> (Expr, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let ctx = ExprContext {
            version,
            in_condition,
        };
        let e = parse_expr(&node(&j), &ctx, &mut diags);
        (e, diags)
    }

    fn codes(d: &[Diagnostic]) -> Vec<&'static str> {
        d.iter().map(|d| d.code.as_str()).collect()
    }

    /// (version, in_condition, input, expected top-level call (None = data), expected codes)
    #[test]
    fn recognition_table() {
        use Version::*;
        let cases: Vec<(Version, bool, serde_json::Value, Option<Func>, Vec<&str>)> = vec![
            // HOT basics
            (
                Hot20130523,
                false,
                json!({"get_param": "p"}),
                Some(Func::GetParam),
                vec![],
            ),
            (
                Hot20130523,
                false,
                json!({"Fn::Join": ["", []]}),
                Some(Func::FnJoin),
                vec![],
            ),
            (
                Hot20130523,
                false,
                json!({"Ref": "x"}),
                Some(Func::Ref),
                vec![],
            ),
            (
                Hot20150430,
                false,
                json!({"Fn::Join": ["", []]}),
                Some(Func::FnJoin),
                vec!["E3012"],
            ),
            (
                Hot20151015,
                false,
                json!({"Fn::Select": [0, []]}),
                Some(Func::FnSelect),
                vec!["E3012"],
            ),
            (
                Hot20150430,
                false,
                json!({"Fn::Select": [0, []]}),
                Some(Func::FnSelect),
                vec![],
            ),
            (
                Hot20161014,
                false,
                json!({"filter": [[], []]}),
                Some(Func::Filter),
                vec!["E3011"],
            ),
            (
                Hot20130523,
                false,
                json!({"repeat": {}}),
                Some(Func::Repeat),
                vec!["E3011"],
            ),
            // CFN-only names and unknown keys are data in HOT
            (Hot20210416, false, json!({"Fn::Sub": "x"}), None, vec![]),
            (
                Hot20210416,
                false,
                json!({"Fn::GetAtt": ["a", "b"]}),
                None,
                vec![],
            ),
            (Hot20210416, false, json!({"Fn::Foo": "x"}), None, vec![]),
            (Hot20210416, false, json!({"foo": "x"}), None, vec![]),
            // condition-only names outside conditions are data (Heat)
            (Hot20161014, false, json!({"and": [1, 2]}), None, vec![]),
            (Hot20151015, false, json!({"equals": [1, 2]}), None, vec![]),
            // conditions
            (
                Hot20161014,
                true,
                json!({"equals": [1, 2]}),
                Some(Func::Equals),
                vec![],
            ),
            (
                Hot20161014,
                true,
                json!({"get_param": "p"}),
                Some(Func::GetParam),
                vec![],
            ),
            (
                Hot20161014,
                true,
                json!({"get_attr": ["r", "a"]}),
                Some(Func::GetAttr),
                vec!["E3014"],
            ),
            (
                Hot20161014,
                true,
                json!({"if": ["c", 1, 2]}),
                Some(Func::If),
                vec!["E3014"],
            ),
            (
                Hot20161014,
                true,
                json!({"yaql": {"expression": "1"}}),
                Some(Func::Yaql),
                vec!["E3014"],
            ),
            (
                Hot20170901,
                true,
                json!({"yaql": {"expression": "1"}}),
                Some(Func::Yaql),
                vec![],
            ),
            (
                Hot20161014,
                true,
                json!({"contains": ["a", []]}),
                Some(Func::Contains),
                vec!["E3011"],
            ),
            (
                Hot20170901,
                true,
                json!({"Fn::Join": ["", []]}),
                Some(Func::FnJoin),
                vec!["E3012"],
            ),
            // multi-key maps are data in HOT; a function key among them is a warning
            (
                Hot20210416,
                false,
                json!({"get_attr": ["a", "b"], "x": 1}),
                None,
                vec!["W3005"],
            ),
            (
                Hot20210416,
                false,
                json!({"image": "a", "flavor": "b"}),
                None,
                vec![],
            ),
            // ... but not a condition-only name outside conditions, nor a removed function
            (
                Hot20210416,
                false,
                json!({"and": [], "or": []}),
                None,
                vec![],
            ),
            (
                Hot20210416,
                false,
                json!({"Fn::Join": [], "x": 1}),
                None,
                vec![],
            ),
            (
                Hot20210416,
                true,
                json!({"equals": [1, 1], "x": 1}),
                None,
                vec!["W3005"],
            ),
            // one-key near misses of function names are warnings in HOT
            (
                Hot20210416,
                false,
                json!({"get_parm": "p"}),
                None,
                vec!["W3005"],
            ),
            (
                Hot20210416,
                false,
                json!({"Get_Param": "p"}),
                None,
                vec!["W3005"],
            ),
            (
                Hot20210416,
                false,
                json!({"str_joinn": []}),
                None,
                vec!["W3005"],
            ),
            (
                Hot20210416,
                false,
                json!({"list_jion": []}),
                None,
                vec!["W3005"],
            ),
            (
                Hot20210416,
                false,
                json!({"repaet": {}}),
                None,
                vec!["W3005"],
            ),
            // ... not common data keys, short keys or far-off names
            (Hot20210416, false, json!({"container": "c"}), None, vec![]),
            (Hot20210416, false, json!({"get_input": "i"}), None, vec![]),
            (Hot20210416, false, json!({"net": "n"}), None, vec![]),
            (Hot20210416, false, json!({"port": "p"}), None, vec![]),
            (Hot20210416, false, json!({"files": "f"}), None, vec![]),
            (Hot20210416, false, json!({"direct": "d"}), None, vec![]),
            (Hot20210416, false, json!({"user_data": "d"}), None, vec![]),
            // ... nor names that are functions of another version (E3011 or data)
            (
                Hot20130523,
                false,
                json!({"yaql": {}}),
                Some(Func::Yaql),
                vec!["E3011"],
            ),
            (
                Hot20210416,
                false,
                json!({"Fn::Selct": [0, []]}),
                None,
                vec![],
            ),
            // AWS and Heat's CFN dialect do not warn about data keys
            (Cfn20100909, false, json!({"get_parm": "p"}), None, vec![]),
            (
                Heat20121212,
                false,
                json!({"get_param": "p", "x": 1}),
                None,
                vec![],
            ),
            // AWS CloudFormation
            (
                Cfn20100909,
                false,
                json!({"Ref": "x"}),
                Some(Func::Ref),
                vec![],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::Sub": "x"}),
                Some(Func::FnSub),
                vec![],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::Rain::Embed": "x"}),
                None,
                vec!["E3010"],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::GetStackOutput": {"StackName": "s", "OutputName": "o"}}),
                None,
                vec![],
            ),
            (
                Heat20121212,
                false,
                json!({"Fn::GetStackOutput": {"StackName": "s", "OutputName": "o"}}),
                None,
                vec!["E3010"],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::join": ["", []]}),
                None,
                vec!["E3010"],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::ForEach::Topics": ["T", [], {}]}),
                None,
                vec![],
            ),
            (
                Cfn20100909,
                false,
                json!({"Condition": {"StringEquals": {}}}),
                None,
                vec![],
            ),
            (
                Cfn20100909,
                true,
                json!({"Condition": "IsProd"}),
                Some(Func::Condition),
                vec![],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::Equals": ["a", "b"]}),
                Some(Func::FnEquals),
                vec!["E3014"],
            ),
            (
                Cfn20100909,
                true,
                json!({"Fn::Equals": ["a", "b"]}),
                Some(Func::FnEquals),
                vec![],
            ),
            (
                Cfn20100909,
                true,
                json!({"Fn::Sub": "x"}),
                Some(Func::FnSub),
                vec![],
            ),
            (
                Cfn20100909,
                true,
                json!({"Fn::GetAtt": ["a", "b"]}),
                Some(Func::FnGetAtt),
                vec!["E3014"],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::Contains": [[], "a"]}),
                Some(Func::FnContains),
                vec!["E3014"],
            ),
            (
                Cfn20100909,
                true,
                json!({"Fn::Contains": [[], "a"]}),
                Some(Func::FnContains),
                vec![],
            ),
            (
                Cfn20100909,
                false,
                json!({"Ref": "x", "Other": 1}),
                None,
                vec!["E3015"],
            ),
            (
                Cfn20100909,
                false,
                json!({"Fn::ForEach::L": [], "Other": 1}),
                None,
                vec![],
            ),
            // Heat's CFN dialect
            (
                Heat20121212,
                false,
                json!({"Fn::GetAtt": ["a", "b"]}),
                Some(Func::FnGetAtt),
                vec![],
            ),
            (
                Heat20121212,
                false,
                json!({"Fn::Sub": "x"}),
                Some(Func::FnSub),
                vec!["E3011"],
            ),
            (
                Heat20121212,
                false,
                json!({"Fn::If": ["c", 1, 2]}),
                Some(Func::FnIf),
                vec!["E3011"],
            ),
            (Heat20121212, false, json!({"Condition": "c"}), None, vec![]),
            (Heat20121212, false, json!({"get_param": "c"}), None, vec![]),
            (
                Heat20121212,
                false,
                json!({"Fn::Nope": "c"}),
                None,
                vec!["E3010"],
            ),
        ];
        for (version, in_cond, input, want_func, want_codes) in cases {
            let (expr, diags) = parse(version, in_cond, input.clone());
            let got = expr.as_call().map(|c| c.func);
            assert_eq!(got, want_func, "{version} cond={in_cond} {input}");
            assert_eq!(
                codes(&diags),
                want_codes,
                "{version} cond={in_cond} {input}: {diags:?}"
            );
        }
    }

    #[test]
    fn nested_calls_and_spans() {
        let j = json!({"Fn::Join": ["-", [{"Ref": "A"}, {"Fn::GetAtt": ["R", "Arn"]}]]});
        let n = node(&j);
        let mut diags = Vec::new();
        let e = parse_expr(&n, &ExprContext::value(Version::Cfn20100909), &mut diags);
        assert!(diags.is_empty());
        assert_eq!(e.span, n.span);
        let call = e.as_call().unwrap();
        assert_eq!(call.func, Func::FnJoin);
        assert_eq!(call.name_span, n.as_map().unwrap()[0].0.span);
        let args = call.arg.as_list().unwrap();
        assert_eq!(args[0].as_str(), Some("-"));
        let items = args[1].as_list().unwrap();
        assert_eq!(items[0].as_call().unwrap().func, Func::Ref);
        assert_eq!(items[1].as_call().unwrap().func, Func::FnGetAtt);
        let mut calls = 0;
        e.walk(&mut |x| calls += usize::from(x.as_call().is_some()));
        assert_eq!(calls, 3);
    }

    #[test]
    fn literals() {
        let (e, d) = parse(
            Version::Hot20210416,
            false,
            json!([null, true, 3, 1.5, "s", {"a": 1, "b": [2]}]),
        );
        assert!(d.is_empty());
        let items = e.as_list().unwrap();
        assert_eq!(items[0].kind, ExprKind::Null);
        assert_eq!(items[1].kind, ExprKind::Bool(true));
        assert_eq!(items[2].kind, ExprKind::Int(3));
        assert_eq!(items[3].kind, ExprKind::Float(1.5));
        assert_eq!(items[4].as_str(), Some("s"));
        assert_eq!(items[5].get("b").unwrap().as_list().unwrap().len(), 1);
    }

    #[test]
    fn if_condition_argument_is_condition_context() {
        // HOT: inline condition functions in if's first argument are calls.
        let (e, d) = parse(
            Version::Hot20161014,
            false,
            json!({"if": [{"equals": [{"get_param": "p"}, "x"]}, {"get_attr": ["r", "a"]}, 2]}),
        );
        assert!(d.is_empty(), "{d:?}");
        let args = e.as_call().unwrap().arg.as_list().unwrap().to_vec();
        assert_eq!(args[0].as_call().unwrap().func, Func::Equals);
        assert_eq!(args[1].as_call().unwrap().func, Func::GetAttr);
        // ... but a regular function in the value branches of a condition is still invalid
        // when the whole if sits in conditions.
        let (_, d) = parse(Version::Hot20161014, true, json!({"if": ["c", 1, 2]}));
        assert_eq!(codes(&d), ["E3014"]);
        // CFN: Fn::If's first argument may hold Condition (AWS requires a name; validation
        // reports that), value branches are value context.
        let (e, d) = parse(
            Version::Cfn20100909,
            false,
            json!({"Fn::If": ["C", {"Ref": "AWS::NoValue"}, {"Condition": "x"}]}),
        );
        assert!(d.is_empty(), "{d:?}");
        let args = e.as_call().unwrap().arg.as_list().unwrap().to_vec();
        assert!(args[2].as_call().is_none());
    }

    #[test]
    fn messages_and_hints() {
        let (_, d) = parse(Version::Cfn20100909, false, json!({"Fn::Rain::Embed": "x"}));
        assert_eq!(d[0].message, "unknown intrinsic function Fn::Rain::Embed");
        assert!(d[0].hint.as_deref().unwrap().contains("rain"));
        let (_, d) = parse(Version::Cfn20100909, false, json!({"Fn::join": "x"}));
        assert!(
            d[0].hint
                .as_deref()
                .unwrap()
                .contains("did you mean Fn::Join?")
        );
        let (_, d) = parse(Version::Cfn20100909, false, json!({"Fn::Joinn": "x"}));
        assert_eq!(d[0].hint.as_deref(), Some("did you mean Fn::Join?"));
        let (_, d) = parse(Version::Cfn20100909, false, json!({"Fn::Nothing": "x"}));
        let hint = d[0].hint.clone().unwrap();
        assert!(hint.contains("Fn::ForEach::<loop>"), "{hint}");
        assert_eq!(hint.matches("Fn::FindInMap").count(), 1, "{hint}");
        let (_, d) = parse(Version::Hot20161014, false, json!({"filter": [[], []]}));
        assert_eq!(
            d[0].hint.as_deref(),
            Some("filter is available from heat_template_version 2017-02-24 (ocata)")
        );
        let (_, d) = parse(Version::Hot20150430, false, json!({"Fn::Join": ["", []]}));
        assert!(d[0].message.contains("Fn::Join"));
        assert_eq!(d[0].hint.as_deref(), Some("use list_join instead"));
        let (_, d) = parse(
            Version::Cfn20100909,
            false,
            json!({"a": {"Ref": "x", "b": 1}}),
        );
        assert_eq!(
            d[0].message,
            "Ref must be the only key of its map, but the map also has 'b'"
        );
        // the span points at the key
        assert_eq!(d[0].span.start.line, 4);
    }

    #[test]
    fn siblings_are_reported_once_per_map() {
        let (_, d) = parse(
            Version::Cfn20100909,
            false,
            json!({"Ref": "Env", "Fn::Join": ["-", []], "Other": 1}),
        );
        assert_eq!(codes(&d), ["E3015"]);
        assert_eq!(
            d[0].message,
            "one map has the function keys Ref and Fn::Join, but a function must be the only \
             key of its map (the map also has 'Other')"
        );
        // at the first function key
        assert_eq!(d[0].span.start.line, 2);
        let (_, d) = parse(
            Version::Cfn20100909,
            false,
            json!({"Ref": "Env", "Fn::Join": ["-", []]}),
        );
        assert_eq!(codes(&d), ["E3015"]);
        assert!(
            d[0].message.ends_with("the only key of its map"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn hot_typo_and_sibling_messages() {
        let one = |j: serde_json::Value| {
            let (_, d) = parse(Version::Hot20210416, false, j);
            assert_eq!(d.len(), 1, "{d:?}");
            assert_eq!(d[0].severity, crate::diagnostic::Severity::Warning);
            (d[0].message.clone(), d[0].hint.clone().unwrap_or_default())
        };
        let (m, h) = one(json!({"get_parm": "p"}));
        assert_eq!(
            m,
            "'get_parm' is not a function in heat_template_version 2021-04-16, so this map is \
             passed on as data"
        );
        assert_eq!(h, "did you mean get_param?");
        assert_eq!(one(json!({"str_joinn": []})).1, "did you mean list_join?");
        assert_eq!(
            one(json!({"get_attribute": []})).1,
            "did you mean get_attr?"
        );
        // a prefix alone is not enough (Mistral task names like get_vm_id are data)
        let (_, d) = parse(Version::Hot20210416, false, json!({"get_vm_id": "x"}));
        assert!(d.is_empty(), "{d:?}");
        let (m, h) = one(json!({"get_param": "image", "default": "cirros"}));
        assert_eq!(
            m,
            "get_param is not called: a function must be the only key of its map, but this \
             map also has 'default'"
        );
        assert!(h.starts_with("get_param takes no default"), "{h}");
        let (m, h) = one(json!({"get_attr": ["a", "b"], "get_resource": "r"}));
        assert_eq!(
            m,
            "get_attr and get_resource are not called: a function must be the only key of its \
             map"
        );
        assert_eq!(
            h,
            "Heat passes this map on as data; move the other keys out to call get_attr"
        );
        // in conditions the condition functions count
        let (_, d) = parse(Version::Hot20161014, true, json!({"equls": [1, 2]}));
        assert_eq!(d[0].hint.as_deref(), Some("did you mean equals?"));
    }

    #[test]
    fn foreach_value_is_parsed() {
        let (e, d) = parse(
            Version::Cfn20100909,
            false,
            json!({"Fn::ForEach::L": ["X", ["a"], {"R${X}": {"Type": {"Fn::Bad": 1}}}]}),
        );
        assert_eq!(codes(&d), ["E3010"]);
        assert!(e.as_map().is_some());
    }
}
