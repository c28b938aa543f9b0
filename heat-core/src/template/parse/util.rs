//! Small helpers shared by the CloudFormation and HOT structure parsers: spelling
//! suggestions, section shapes, and the resource fields both formats have (type, depends_on,
//! deletion policy, map-valued fields, conditions).

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{Span, Spanned};
use crate::template::expr::{Expr, ExprKind};
use crate::template::model::{DeletionPolicy, DeletionPolicySpec, Resource, ResourceCondition};
use crate::template::node::{Key, Node, Value};
use crate::template::parse::expr::{ExprContext, parse_expr};
use crate::template::version::Version;

pub(crate) use crate::names::edit_distance;

/// Lower-cases and drops `_`, `-` and `:` so that `DependsOn` and `depends_on` compare equal.
fn normalize(word: &str) -> String {
    word.chars()
        .filter(|c| !matches!(c, '_' | '-' | ':'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two names differ only in case or separators (`DependsOn` / `depends_on`).
pub(crate) fn same_word(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// The candidate that `word` was most likely meant to be, if any is close enough.
///
/// Spellings that differ only in case or separators (`DependsOn` / `depends_on`) win;
/// otherwise the nearest candidate within a third of the word's length (at least 1, at most 3)
/// edits.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let norm = normalize(word);
    if norm.is_empty() {
        return None;
    }
    if let Some(c) = candidates.iter().find(|c| normalize(c) == norm) {
        return Some(c);
    }
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (edit_distance(&norm, &normalize(c)), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A "did you mean" hint, falling back to the list of valid names.
pub(crate) fn unknown_name_hint(word: &str, candidates: &[&str], what: &str) -> String {
    match suggest(word, candidates) {
        Some(s) => format!("did you mean '{s}'?"),
        None => format!("valid {what} are: {}", candidates.join(", ")),
    }
}

/// The entries of a mapping with duplicated keys removed: for each name only the last entry
/// is kept (as a JSON or YAML loader that keeps the last value does), in document order.
pub(crate) fn last_wins(entries: &[(Key, Node)]) -> Vec<&(Key, Node)> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    for (i, (k, _)) in entries.iter().enumerate() {
        last.insert(k.name.as_str(), i);
    }
    entries
        .iter()
        .enumerate()
        .filter(|(i, (k, _))| last.get(k.name.as_str()) == Some(i))
        .map(|(_, e)| e)
        .collect()
}

/// The last entry with this key.
pub(crate) fn field<'a>(entries: &'a [(Key, Node)], name: &str) -> Option<&'a (Key, Node)> {
    entries.iter().rev().find(|(k, _)| k.name == name)
}

/// The span to point at for a value: the value's own span when it has one (an empty value
/// may have none), else its key's.
pub(crate) fn value_span(key: &Key, node: &Node) -> Span {
    if node.span.is_known() {
        node.span
    } else {
        key.span
    }
}

/// A key's name with its span.
pub(crate) fn spanned_key(key: &Key) -> Spanned<String> {
    Spanned::new(key.name.clone(), key.span)
}

/// The kind of a value for messages, with null spelled out ("null", "a list", ...).
pub(crate) fn kind(node: &Node) -> &'static str {
    node.kind_name()
}

/// Renders a value roughly as Heat prints it in messages (`[1, 2]`, `{a: b}`, plain strings).
pub(crate) fn render_value(node: &Node) -> String {
    fn render(node: &Node, top: bool, out: &mut String, budget: &mut usize) {
        if *budget == 0 {
            out.push_str("...");
            return;
        }
        *budget -= 1;
        match &node.value {
            Value::Null => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&f.to_string()),
            Value::String(s) if top => out.push_str(s),
            Value::String(s) => {
                out.push('\'');
                out.push_str(s);
                out.push('\'');
            }
            Value::Seq(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    render(item, false, out, budget);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push('\'');
                    out.push_str(&k.name);
                    out.push_str("': ");
                    render(v, false, out, budget);
                }
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    let mut budget = 64;
    render(node, true, &mut out, &mut budget);
    if out.chars().count() > 200 {
        let cut: String = out.chars().take(200).collect();
        out = format!("{cut}...");
    }
    out
}

/// What to write where a string is expected but `node` is something else.
pub(crate) fn string_hint(node: &Node) -> String {
    match &node.value {
        Value::Map(_) => "quote the text ('...' or \"...\"): YAML reads an unquoted `a: b` or \
                          `{...}` as a map; for long text use a block scalar (`|`)"
            .to_string(),
        Value::Seq(_) => "quote the text ('...' or \"...\"): YAML reads `[...]` and `- ` lines \
                          as a list; for long text use a block scalar (`|`)"
            .to_string(),
        Value::Null => "write the text after the key, or remove the key".to_string(),
        _ => match short_scalar(node) {
            Some(shown) => format!("quote the value to make it a string: '{shown}'"),
            None => "quote the value to make it a string".to_string(),
        },
    }
}

/// What to write where a map (`what`) is expected but `node` is something else.
pub(crate) fn map_hint(node: &Node, what: &str) -> String {
    match &node.value {
        Value::Seq(_) => format!(
            "write {what} as `key: value` entries indented below it, without the leading `- `"
        ),
        Value::Null => {
            format!("write the `key: value` entries of {what} indented below it, or remove the key")
        }
        _ => format!(
            "write {what} as `key: value` entries indented below it (or `{{key: value}}` on \
             one line)"
        ),
    }
}

/// What to write where a list (`what`) is expected but `node` is something else.
pub(crate) fn list_hint(node: &Node, what: &str) -> String {
    match short_scalar(node) {
        Some(shown) if matches!(node.value, Value::String(_)) => {
            let items: Vec<&str> = shown.split(',').map(str::trim).collect();
            format!("write {what} as a list, e.g. `[{}]`", items.join(", "))
        }
        _ => format!("write {what} as a list: `[a, b]`, or one `- item` line per item"),
    }
}

/// Whether an expression is a function call.
pub(crate) fn is_call(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Call(_))
}

/// Checks the shape of a top-level section that must be a map of named entries.
///
/// Returns the entries (duplicates resolved, last wins). A null section is empty. In Heat's
/// formats (`lenient`), any value Heat treats as empty (`[]`, `""`, ...) is empty too; any
/// other non-map value is an [`Code::BadSectionShape`] error.
pub(crate) fn section_entries<'a>(
    name: &Key,
    node: &'a Node,
    lenient: bool,
    diags: &mut Vec<Diagnostic>,
) -> Vec<&'a (Key, Node)> {
    match &node.value {
        Value::Map(entries) => last_wins(entries),
        Value::Null => Vec::new(),
        _ if lenient && node.is_falsy() => Vec::new(),
        _ => {
            diags.push(
                Diagnostic::error(
                    Code::BadSectionShape,
                    value_span(name, node),
                    format!(
                        "section '{}' must be a map, found {}",
                        name.name,
                        kind(node)
                    ),
                )
                .with_hint(section_hint(&name.name, node)),
            );
            Vec::new()
        }
    }
}

/// The entries of a conditions section (duplicates resolved, last wins), or `None` after
/// reporting when it is not a map.
pub(crate) fn condition_entries<'a>(
    key: &Key,
    node: &'a Node,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<&'a (Key, Node)>> {
    let Some(entries) = node.as_map() else {
        diags.push(
            Diagnostic::error(
                Code::BadSectionShape,
                value_span(key, node),
                format!(
                    "Condition definitions must be a map: section '{}' is {}",
                    key.name,
                    kind(node)
                ),
            )
            .with_hint(section_hint(&key.name, node)),
        );
        return None;
    };
    Some(last_wins(entries))
}

/// The template description: a string. Anything else but null is a warning (Heat shows
/// any value as it is, but only a string is kept), or with `strict` (AWS) an error.
pub(crate) fn template_description(
    key: &Key,
    node: &Node,
    strict: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<String>> {
    let d = match &node.value {
        Value::String(s) => return Some(Spanned::new(s.clone(), node.span)),
        Value::Null => return None,
        _ if strict => Diagnostic::error(
            Code::BadDescription,
            value_span(key, node),
            format!("Description must be a string, found {}", kind(node)),
        ),
        _ => Diagnostic::warning(
            Code::DescriptionNotString,
            value_span(key, node),
            format!("the template {} is {}, not a string", key.name, kind(node)),
        ),
    };
    diags.push(d.with_hint(string_hint(node)));
    None
}

/// What to write where a section of named entries is not a map.
pub(crate) fn section_hint(section: &str, node: &Node) -> String {
    let base =
        format!("write each entry as `NAME:` and its definition, indented below '{section}:'");
    if matches!(node.value, Value::Seq(_)) {
        format!("{base}, without the leading `- `")
    } else {
        base
    }
}

/// Parses a resource field that must be a map or a function call that produces one
/// (`properties`, `metadata`, `update_policy`, `CreationPolicy`). Null is an error, as in Heat.
pub(crate) fn map_or_call(
    resource: &str,
    key: &Key,
    node: &Node,
    code: Code,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Option<Expr> {
    let bad = |diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::error(
                code,
                value_span(key, node),
                format!(
                    "resource '{resource}': {} must be a map, found {}",
                    key.name,
                    kind(node)
                ),
            )
            .with_hint(map_hint(node, &key.name)),
        );
    };
    match &node.value {
        Value::Map(_) => {
            let ctx = ExprContext {
                version,
                in_condition: false,
            };
            let expr = parse_expr(node, &ctx, diags);
            Some(expr)
        }
        _ => {
            bad(diags);
            None
        }
    }
}

/// Parses `depends_on` / `DependsOn`: a resource name or a list of them.
pub(crate) fn depends_on(
    resource: &str,
    key: &Key,
    node: &Node,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<String>> {
    match &node.value {
        Value::String(s) => vec![Spanned::new(s.clone(), value_span(key, node))],
        Value::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match &item.value {
                    Value::String(s) => out.push(Spanned::new(s.clone(), item.span)),
                    _ => diags.push(
                        Diagnostic::error(
                            Code::BadDependsOn,
                            item.span,
                            format!(
                                "Resource {resource} {} must be a list of strings, found {} \
                                 in the list",
                                key.name,
                                kind(item)
                            ),
                        )
                        .with_hint(format!(
                            "write the names of the resources this one depends on, e.g. `{}: \
                             [server, port]`",
                            key.name
                        )),
                    ),
                }
            }
            out
        }
        _ => {
            diags.push(
                Diagnostic::error(
                    Code::BadDependsOn,
                    value_span(key, node),
                    format!(
                        "Resource {resource} {} must be a resource name or a list of strings, \
                         found {}",
                        key.name,
                        kind(node)
                    ),
                )
                .with_hint(format!(
                    "write the names of the resources this one depends on, e.g. `{}: [server, \
                     port]`",
                    key.name
                )),
            );
            Vec::new()
        }
    }
}

/// The deletion policy a written value names, among those `allowed` in this format.
pub(crate) fn policy_from_name(name: &str, allowed: &[&str]) -> Option<DeletionPolicy> {
    if !allowed.contains(&name) {
        return None;
    }
    match name {
        "Delete" | "delete" => Some(DeletionPolicy::Delete),
        "Retain" | "retain" => Some(DeletionPolicy::Retain),
        "Snapshot" | "snapshot" => Some(DeletionPolicy::Snapshot),
        "RetainExceptOnCreate" => Some(DeletionPolicy::RetainExceptOnCreate),
        _ => None,
    }
}

/// Parses `deletion_policy` / `DeletionPolicy` / `UpdateReplacePolicy`: one of `allowed`, or
/// a function call (resolved later); anything else is [`Code::BadDeletionPolicy`].
/// `extra_hint` explains values that a later version accepts (lower-case HOT policies).
pub(crate) fn deletion_policy(
    resource: &str,
    key: &Key,
    node: &Node,
    allowed: &[&str],
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Option<DeletionPolicySpec> {
    let span = value_span(key, node);
    let invalid = |diags: &mut Vec<Diagnostic>| {
        let mut hint = format!("use one of: {}", allowed.join(", "));
        if let Value::String(s) = &node.value {
            if version.is_hot()
                && version < Version::Hot20161014
                && matches!(s.as_str(), "delete" | "retain" | "snapshot")
            {
                hint = format!(
                    "lower-case deletion policies are accepted from heat_template_version \
                     2016-10-14; {hint}"
                );
            } else if let Some(s) = suggest(s, allowed) {
                hint = format!("did you mean '{s}'?");
            }
        }
        diags.push(
            Diagnostic::error(
                Code::BadDeletionPolicy,
                span,
                format!(
                    "Invalid deletion policy \"{}\" in resource {resource} ({})",
                    render_value(node),
                    key.name
                ),
            )
            .with_hint(hint),
        );
    };
    match &node.value {
        Value::String(s) => match policy_from_name(s, allowed) {
            Some(p) => Some(DeletionPolicySpec::Known(Spanned::new(p, span))),
            None => {
                invalid(diags);
                None
            }
        },
        Value::Map(_) => {
            let ctx = ExprContext {
                version,
                in_condition: false,
            };
            let expr = parse_expr(node, &ctx, diags);
            if is_call(&expr) {
                Some(DeletionPolicySpec::Expr(expr))
            } else {
                invalid(diags);
                None
            }
        }
        _ => {
            invalid(diags);
            None
        }
    }
}

/// Parses a field that must be a string (`description` of a resource); anything else is
/// `code`.
pub(crate) fn string_field(
    resource: &str,
    key: &Key,
    node: &Node,
    code: Code,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        _ => {
            diags.push(
                Diagnostic::error(
                    code,
                    value_span(key, node),
                    format!(
                        "resource '{resource}': {} must be a string, found {}",
                        key.name,
                        kind(node)
                    ),
                )
                .with_hint(string_hint(node)),
            );
            None
        }
    }
}

/// Parses a HOT `condition:` field (of a resource or an output): a condition name, a
/// boolean, or a condition function written inline.
pub(crate) fn hot_condition_field(
    owner: &str,
    key: &Key,
    node: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Option<ResourceCondition> {
    match &node.value {
        Value::String(s) => Some(ResourceCondition::Named(Spanned::new(
            s.clone(),
            value_span(key, node),
        ))),
        Value::Bool(_) | Value::Map(_) => {
            let ctx = ExprContext {
                version,
                in_condition: true,
            };
            let expr = parse_expr(node, &ctx, diags);
            if matches!(expr.kind, ExprKind::Bool(_)) || is_call(&expr) {
                Some(ResourceCondition::Inline(expr))
            } else {
                bad_condition_field(owner, key, node, HOT_CONDITION_FIELD, diags);
                None
            }
        }
        _ => {
            bad_condition_field(owner, key, node, HOT_CONDITION_FIELD, diags);
            None
        }
    }
}

/// Parses a CloudFormation `Condition:` field (of a resource or an output): the name of a
/// condition.
pub(crate) fn cfn_condition_field(
    owner: &str,
    key: &Key,
    node: &Node,
    diags: &mut Vec<Diagnostic>,
) -> Option<ResourceCondition> {
    match &node.value {
        Value::String(s) => Some(ResourceCondition::Named(Spanned::new(
            s.clone(),
            value_span(key, node),
        ))),
        _ => {
            bad_condition_field(owner, key, node, CFN_CONDITION_FIELD, diags);
            None
        }
    }
}

/// What a HOT `condition:` field may be, and how to write it.
const HOT_CONDITION_FIELD: (&str, &str) = (
    "a condition name, a boolean or a condition function",
    "name a condition of the conditions section (`condition: is_prod`), write true or false, \
     or write a condition function inline (`condition: {equals: [{get_param: env}, prod]}`)",
);

/// What a CloudFormation `Condition:` field may be, and how to write it.
const CFN_CONDITION_FIELD: (&str, &str) = (
    "the name of a condition",
    "write the name of a condition defined in the Conditions section (`Condition: IsProd`); \
     to test something new, define a condition there and name it here",
);

fn bad_condition_field(
    owner: &str,
    key: &Key,
    node: &Node,
    (expected, hint): (&str, &str),
    diags: &mut Vec<Diagnostic>,
) {
    diags.push(
        Diagnostic::error(
            Code::BadCondition,
            value_span(key, node),
            format!(
                "{owner}: {} must be {expected}, found {}",
                key.name,
                kind(node)
            ),
        )
        .with_hint(hint),
    );
}

/// An example resource type for hints, in the format whose type key is `type_key`.
fn example_type(type_key: &str) -> &'static str {
    if type_key == "type" {
        "OS::Nova::Server"
    } else {
        "AWS::EC2::Instance"
    }
}

/// The resource type: a non-empty string. Reports [`Code::MissingResourceType`] or
/// [`Code::BadResourceType`] and returns an empty name otherwise (the resource is still
/// kept, so that references to it resolve).
pub(crate) fn resource_type(
    resource: &Key,
    entries: &[(Key, Node)],
    type_key: &str,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Spanned<String> {
    let Some((key, node)) = field(entries, type_key) else {
        let mut d = Diagnostic::error(
            Code::MissingResourceType,
            resource.span,
            format!(
                "resource '{}' has no {type_key}: each resource must contain a {type_key} key",
                resource.name
            ),
        );
        d = match entries.iter().find(|(k, _)| same_word(&k.name, type_key)) {
            Some((k, _)) => d.with_hint(format!(
                "it has '{}' (line {}), which is not '{type_key}': keys are case-sensitive",
                k.name, k.span.start.line
            )),
            None => d.with_hint(format!(
                "add the resource's type, e.g. `{type_key}: {}`",
                example_type(type_key)
            )),
        };
        diags.push(d);
        return Spanned::new(String::new(), resource.span);
    };
    match &node.value {
        Value::String(s) if !s.trim().is_empty() => Spanned::new(s.clone(), node.span),
        Value::String(_) | Value::Null => {
            diags.push(
                Diagnostic::error(
                    Code::MissingResourceType,
                    value_span(key, node),
                    format!(
                        "resource '{}' has an empty {type_key}: each resource must contain a \
                         {type_key} key",
                        resource.name
                    ),
                )
                .with_hint(format!(
                    "write the resource's type after '{type_key}:', e.g. `{type_key}: {}`",
                    example_type(type_key)
                )),
            );
            Spanned::new(String::new(), value_span(key, node))
        }
        _ => {
            // An unknown function in place of the type (`Type: !Rain::Module x` loads as
            // `{Fn::Rain::Module: x}`, a pre-processor directive): the expression parser
            // reports the function, and that is the one diagnostic.
            if let Some([(k, _)]) = node.as_map()
                && k.name.starts_with("Fn::")
                && crate::template::expr::Func::from_name(&k.name).is_none()
            {
                let before = diags.len();
                let ctx = ExprContext {
                    version,
                    in_condition: false,
                };
                let _ = parse_expr(node, &ctx, diags);
                let reported = diags
                    .get(before..)
                    .is_some_and(|new| new.iter().any(|d| d.code == Code::UnknownFunction));
                if reported {
                    return Spanned::new(String::new(), value_span(key, node));
                }
                diags.truncate(before);
            }
            let mut d = Diagnostic::error(
                Code::BadResourceType,
                value_span(key, node),
                format!(
                    "Resource {} {type_key} must be a string, found {}",
                    resource.name,
                    kind(node)
                ),
            );
            d = if let Some(first) = node.as_map().and_then(|m| m.first())
                && first.0.name.starts_with("Rain::")
            {
                d.with_hint(
                    "this is a Rain module directive; package the template with `rain pkg` \
                     first",
                )
            } else {
                d.with_hint(format!(
                    "a resource has exactly one type, written as a plain string: `{type_key}: \
                     {}`; a type cannot come from a function or a list",
                    example_type(type_key)
                ))
            };
            diags.push(d);
            Spanned::new(String::new(), value_span(key, node))
        }
    }
}

/// A scalar value as a short text for a hint (`None` for collections and null).
pub(crate) fn short_scalar(node: &Node) -> Option<String> {
    let text = match &node.value {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    if text.trim().is_empty() || text.contains('\n') {
        return None;
    }
    Some(if text.chars().count() > 60 {
        let cut: String = text.chars().take(60).collect();
        format!("{cut}...")
    } else {
        text
    })
}

/// Whether a key names an intrinsic function (`get_attr`, `Fn::GetAtt`, `Ref`, ...).
pub(crate) fn is_function_key(name: &str) -> bool {
    crate::template::expr::Func::from_name(name).is_some() || name.starts_with("Fn::")
}

/// The hint for a definition (resource or output) written as a scalar instead of a map:
/// `write `server: {type: OS::Nova::Server}``.
fn scalar_definition_hint(name: &Key, node: &Node, key: &str) -> Option<String> {
    let shown = short_scalar(node)?;
    Some(format!("write `{}: {{{key}: {shown}}}`", name.name))
}

/// An output definition (a map) without its value key (`Value` in CloudFormation, `value`
/// in HOT): the [`Code::OutputMissingValue`] diagnostic, and the key that explains what was
/// written instead — a function call written in place of the definition (`QueueArn: !GetAtt
/// Queue.Arn`), or the value key spelled differently (`Value` in HOT). That key is part of
/// this one diagnostic and must not be reported again as an unknown key. `(None, None)` when
/// the definition has its value key.
pub(crate) fn missing_output_value<'a>(
    name: &Key,
    entries: &'a [(Key, Node)],
    spelling: &Spelling,
) -> (Option<Diagnostic>, Option<&'a Key>) {
    let (value_key, format_name) = (spelling.value, spelling.format);
    if field(entries, value_key).is_some() {
        return (None, None);
    }
    let out = name.name.as_str();
    let base = format!("output '{out}' has no {value_key}");
    if let [(k, _)] = entries
        && is_function_key(&k.name)
    {
        let d = Diagnostic::error(
            Code::OutputMissingValue,
            name.span,
            format!(
                "{base}: its definition is a bare {} call; each output definition must \
                 contain a {value_key} key",
                k.name
            ),
        )
        .with_hint(format!(
            "put the call under {value_key}: write `{out}: {{{value_key}: {{{}: ...}}}}`",
            k.name
        ));
        return (Some(d), Some(k));
    }
    if let Some((k, _)) = entries.iter().find(|(k, _)| same_word(&k.name, value_key)) {
        let d = Diagnostic::error(
            Code::OutputMissingValue,
            name.span,
            format!(
                "{base}: it has '{}', but {format_name} spells the key '{value_key}'; each \
                 output definition must contain a {value_key} key",
                k.name
            ),
        )
        .with_hint(format!("did you mean '{value_key}'?"));
        return (Some(d), Some(k));
    }
    let d = Diagnostic::error(
        Code::OutputMissingValue,
        name.span,
        format!("{base}: each output definition must contain a {value_key} key"),
    )
    .with_hint(format!("write `{out}: {{{value_key}: ...}}`"));
    (Some(d), None)
}

/// How a format spells the resource and output keys CloudFormation and HOT share, and the
/// words its messages use for them.
pub(crate) struct Spelling {
    /// The format's name in messages (`CloudFormation`, `HOT`).
    pub(crate) format: &'static str,
    /// A resource's type key.
    pub(crate) ty: &'static str,
    /// A resource's properties key.
    pub(crate) properties: &'static str,
    /// A resource's metadata key.
    pub(crate) metadata: &'static str,
    /// A resource's update policy key.
    pub(crate) update_policy: &'static str,
    /// A resource's dependencies key.
    pub(crate) depends_on: &'static str,
    /// A resource's deletion policy key.
    pub(crate) deletion_policy: &'static str,
    /// The description key of resources and outputs.
    pub(crate) description: &'static str,
    /// The outputs section.
    pub(crate) outputs: &'static str,
    /// An output name as the format's examples write one.
    pub(crate) example_output: &'static str,
    /// An output's value key.
    pub(crate) value: &'static str,
}

/// CloudFormation's spelling (AWS and Heat's 2012-12-12 dialect).
pub(crate) const CFN_SPELLING: Spelling = Spelling {
    format: "CloudFormation",
    ty: "Type",
    properties: "Properties",
    metadata: "Metadata",
    update_policy: "UpdatePolicy",
    depends_on: "DependsOn",
    deletion_policy: "DeletionPolicy",
    description: "Description",
    outputs: "Outputs",
    example_output: "MyOutput",
    value: "Value",
};

/// HOT's spelling.
pub(crate) const HOT_SPELLING: Spelling = Spelling {
    format: "HOT",
    ty: "type",
    properties: "properties",
    metadata: "metadata",
    update_policy: "update_policy",
    depends_on: "depends_on",
    deletion_policy: "deletion_policy",
    description: "description",
    outputs: "outputs",
    example_output: "my_output",
    value: "value",
};

/// A resource definition that is not a map ([`Code::ResourceNotAMapping`]). The hint is
/// `hint` when the format has something particular to say, else what to write instead.
pub(crate) fn resource_not_a_mapping(
    name: &Key,
    node: &Node,
    spelling: &Spelling,
    hint: Option<String>,
) -> Diagnostic {
    let ty = spelling.ty;
    let hint = hint
        .or_else(|| {
            node.is_null()
                .then(|| format!("each resource must contain a {ty} key"))
        })
        .or_else(|| scalar_definition_hint(name, node, ty))
        .unwrap_or_else(|| {
            format!(
                "write the definition as a map: `{ty}:`, `{}:` and the other keys indented \
                 below `{}:`{}",
                spelling.properties,
                name.name,
                if matches!(node.value, Value::Seq(_)) {
                    ", without a leading `- `"
                } else {
                    ""
                }
            )
        });
    Diagnostic::error(
        Code::ResourceNotAMapping,
        value_span(name, node),
        format!(
            "resource '{}' is not a mapping, found {}",
            name.name,
            kind(node)
        ),
    )
    .with_hint(hint)
}

/// The resource fields both formats have: type, properties, metadata, update policy,
/// dependencies, deletion policy (one of `policies`) and description.
pub(crate) fn parse_shared_fields(
    resource: &mut Resource,
    name: &Key,
    entries: &[(Key, Node)],
    spelling: &Spelling,
    policies: &[&str],
    version: Version,
    diags: &mut Vec<Diagnostic>,
) {
    resource.ty = resource_type(name, entries, spelling.ty, version, diags);
    let rname = name.name.as_str();
    if let Some((k, v)) = field(entries, spelling.properties) {
        resource.properties = map_or_call(rname, k, v, Code::PropertiesNotAMapping, version, diags);
    }
    if let Some((k, v)) = field(entries, spelling.metadata) {
        resource.metadata =
            map_or_call(rname, k, v, Code::BadResourceField, version, diags).map(Box::new);
    }
    if let Some((k, v)) = field(entries, spelling.update_policy) {
        resource.update_policy =
            map_or_call(rname, k, v, Code::BadResourceField, version, diags).map(Box::new);
    }
    if let Some((k, v)) = field(entries, spelling.depends_on) {
        resource.depends_on = depends_on(rname, k, v, diags);
    }
    if let Some((k, v)) = field(entries, spelling.deletion_policy) {
        resource.deletion_policy =
            deletion_policy(rname, k, v, policies, version, diags).map(Box::new);
    }
    if let Some((k, v)) = field(entries, spelling.description) {
        resource.description = string_field(rname, k, v, Code::BadResourceField, diags);
    }
}

/// An output definition that is not a map ([`Code::OutputNotAMapping`]); `key_like` when
/// its name is one of the format's output keys (an output written without its name).
pub(crate) fn output_not_a_mapping(
    name: &Key,
    node: &Node,
    spelling: &Spelling,
    key_like: bool,
) -> Diagnostic {
    let value = spelling.value;
    let hint = if key_like {
        format!(
            "'{}' looks like an output key: output definitions go under their name \
             ({}: {{{}: {{{value}: ...}}}})",
            name.name, spelling.outputs, spelling.example_output
        )
    } else {
        scalar_definition_hint(name, node, value)
            .unwrap_or_else(|| format!("write `{}: {{{value}: ...}}`", name.name))
    };
    Diagnostic::error(
        Code::OutputNotAMapping,
        value_span(name, node),
        format!(
            "Output definitions must be a map: output '{}' is {}",
            name.name,
            kind(node)
        ),
    )
    .with_hint(hint)
}

/// An output's description: a string. Anything else but null is a warning, or with
/// `strict` (AWS) an error, null included.
pub(crate) fn output_description(
    output: &str,
    entries: &[(Key, Node)],
    spelling: &Spelling,
    strict: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let (k, v) = field(entries, spelling.description)?;
    if let Value::String(s) = &v.value {
        return Some(s.clone());
    }
    let d = if strict {
        Diagnostic::error(
            Code::BadDescription,
            value_span(k, v),
            format!(
                "the {} of output '{output}' must be a string, found {}",
                k.name,
                kind(v)
            ),
        )
    } else if !v.is_null() {
        Diagnostic::warning(
            Code::DescriptionNotString,
            value_span(k, v),
            format!(
                "the {} of output '{output}' is {}, not a string",
                k.name,
                kind(v)
            ),
        )
    } else {
        return None;
    };
    diags.push(d.with_hint(string_hint(v)));
    None
}

/// Checks a resource name: not empty, and (as Heat requires) without `/`.
pub(crate) fn check_resource_name(key: &Key, diags: &mut Vec<Diagnostic>) {
    if key.name.is_empty() {
        diags.push(
            Diagnostic::error(Code::BadName, key.span, "a resource name must not be empty")
                .with_hint("give the resource a name: the key its definition is written under"),
        );
    } else if key.name.trim().is_empty() {
        diags.push(
            Diagnostic::error(
                Code::BadName,
                key.span,
                format!("the resource name {:?} is only white space", key.name),
            )
            .with_hint("name the resource with letters, digits, '-' or '_'"),
        );
    } else if key.name.contains('/') {
        diags.push(
            Diagnostic::error(
                Code::BadName,
                key.span,
                format!("Resource name may not contain \"/\": '{}'", key.name),
            )
            .with_hint(format!(
                "rename it without '/', e.g. '{}', and update the references to it",
                key.name.replace('/', "-")
            )),
        );
    }
}

/// Helpers for the structure parser's tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::diagnostic::Diagnostic;
    use crate::template::load::Limits;
    use crate::template::parse::{Parsed, parse};

    /// Loads and parses a template text with the default limits. Leading blank lines and the
    /// common indentation are removed, so that tests can indent their templates.
    pub(crate) fn run(text: &str) -> Parsed {
        let lines: Vec<&str> = text.lines().skip_while(|l| l.trim().is_empty()).collect();
        let indent = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let body: Vec<&str> = lines
            .iter()
            .map(|l| {
                if l.len() >= indent {
                    &l[indent..]
                } else {
                    l.trim_start()
                }
            })
            .collect();
        parse(&(body.join("\n") + "\n"), &Limits::default())
    }

    /// The codes of all diagnostics, in order.
    pub(crate) fn codes(parsed: &Parsed) -> Vec<&'static str> {
        parsed.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    /// The first diagnostic with this code, or a panic listing what there was.
    pub(crate) fn find<'a>(parsed: &'a Parsed, code: &str) -> &'a Diagnostic {
        match parsed.diagnostics.iter().find(|d| d.code.as_str() == code) {
            Some(d) => d,
            None => panic!("no {code} in {:#?}", parsed.diagnostics),
        }
    }

    /// Runs a table of `(name, template, expected codes)` cases and reports every mismatch.
    pub(crate) fn table(cases: &[(&str, &str, &[&str])]) {
        let mut failures = Vec::new();
        for (name, text, expected) in cases {
            let parsed = run(text);
            let got = codes(&parsed);
            if got != *expected {
                let shown: Vec<String> = parsed.diagnostics.iter().map(|d| d.to_string()).collect();
                failures.push(format!(
                    "{name}: expected {expected:?}, got {got:?}\n    {}",
                    shown.join("\n    ")
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_table() {
        for (a, b, d) in [
            ("", "", 0),
            ("a", "", 1),
            ("", "abc", 3),
            ("output", "outputs", 1),
            ("kitten", "sitting", 3),
            ("Type", "type", 1),
            ("résumé", "resume", 2),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} -> {b}");
        }
    }

    #[test]
    fn suggestions() {
        let hot = [
            "type",
            "properties",
            "depends_on",
            "deletion_policy",
            "metadata",
        ];
        assert_eq!(suggest("Type", &hot), Some("type"));
        assert_eq!(suggest("DependsOn", &hot), Some("depends_on"));
        assert_eq!(suggest("DeletionPolicy", &hot), Some("deletion_policy"));
        assert_eq!(suggest("propertes", &hot), Some("properties"));
        assert_eq!(suggest("wibble", &hot), None);
        assert_eq!(suggest("", &hot), None);
        assert_eq!(
            suggest("output", &["outputs", "resources"]),
            Some("outputs")
        );
        assert_eq!(
            unknown_name_hint("wibble", &["a", "b"], "keys"),
            "valid keys are: a, b"
        );
    }

    fn n(value: Value) -> Node {
        Node::new(value, Span::default())
    }

    #[test]
    fn rendering_like_heat() {
        let list = n(Value::Seq(vec![n(Value::Int(1)), n(Value::Int(2))]));
        assert_eq!(render_value(&list), "[1, 2]");
        assert_eq!(render_value(&n(Value::String("dummy".into()))), "dummy");
        let strs = n(Value::Seq(vec![
            n(Value::String("a".into())),
            n(Value::Null),
        ]));
        assert_eq!(render_value(&strs), "['a', None]");
    }

    #[test]
    fn heat_empty_values() {
        assert!(n(Value::Null).is_falsy());
        assert!(n(Value::Seq(vec![])).is_falsy());
        assert!(n(Value::String(String::new())).is_falsy());
        assert!(!n(Value::String("x".into())).is_falsy());
        assert!(!n(Value::Bool(true)).is_falsy());
    }

    #[test]
    fn last_entry_wins() {
        let k = |s: &str| Key {
            name: s.into(),
            span: Span::default(),
        };
        let entries = vec![
            (k("a"), n(Value::Int(1))),
            (k("b"), n(Value::Int(2))),
            (k("a"), n(Value::Int(3))),
        ];
        let kept: Vec<_> = last_wins(&entries)
            .into_iter()
            .map(|(k, v)| (k.name.clone(), v.value.clone()))
            .collect();
        assert_eq!(
            kept,
            vec![("b".into(), Value::Int(2)), ("a".into(), Value::Int(3))]
        );
    }

    #[test]
    fn shape_hints_say_what_to_write() {
        use crate::template::parse::expr::testing::node;
        use serde_json::json;
        let cases: &[(&str, serde_json::Value, &str)] = &[
            ("string", json!({"a": "b"}), "YAML reads an unquoted `a: b`"),
            ("string", json!(["a"]), "as a list"),
            (
                "string",
                json!(42),
                "quote the value to make it a string: '42'",
            ),
            ("string", json!(null), "write the text after the key"),
            ("list", json!("a, b"), "write X as a list, e.g. `[a, b]`"),
            ("list", json!({"a": 1}), "one `- item` line per item"),
            ("map", json!([1]), "without the leading `- `"),
            ("map", json!("x"), "`{key: value}` on one line"),
            ("map", json!(null), "or remove the key"),
            (
                "section",
                json!([1]),
                "indented below 'S:', without the leading `- `",
            ),
            ("section", json!("x"), "indented below 'S:'"),
        ];
        for (helper, value, wanted) in cases {
            let n = node(value);
            let hint = match *helper {
                "string" => string_hint(&n),
                "list" => list_hint(&n, "X"),
                "map" => map_hint(&n, "X"),
                _ => section_hint("S", &n),
            };
            assert!(hint.contains(wanted), "{helper} of {value}: {hint}");
        }
    }
}
