//! The CloudFormation functions.
//!
//! Heat's dialect (`HeatTemplateFormatVersion: 2012-12-12`, and the CFN-style functions of
//! HOT 2013-05-23) follows Heat; AWS templates (`AWSTemplateFormatVersion`) follow AWS where
//! the two differ:
//!
//! | function | Heat | AWS |
//! |---|---|---|
//! | `Fn::Base64` | returns the string unchanged (Heat passes user data as plain text) | Base64-encodes the UTF-8 bytes |
//! | `Fn::Select` | an index out of range, or a null list, gives `""`; a map can be indexed by key; a JSON string is parsed first | the index must be a non-negative integer within the list |
//! | `Fn::Join` | items must be strings | numbers and booleans are written as text |
//! | `Fn::Equals` | Python equality (`"1" != 1`) | scalars compare as text (`"1" == 1`), as parameter values are strings |
//!
//! Functions only AWS has follow AWS: `Fn::Sub`, `Fn::ImportValue` ("No export named X
//! found"), `Fn::Cidr`, `Fn::Length`, `Fn::ToJsonString`, the 4-argument `Fn::FindInMap` of
//! `AWS::LanguageExtensions` (`{DefaultValue: x}`), `Ref: AWS::NoValue` (the value is
//! omitted) and `{Condition: name}`. `Fn::Transform` and `Fn::ForEach` are macros that AWS
//! expands; they are refused with [`crate::diagnostic::Code::ValueUnavailable`].

use base64::Engine as _;
use serde_json::Value;

use crate::eval::hot::{JoinMode, Named, aws_semantics};
use crate::eval::py;
use crate::eval::{Evaluator, Res, pick, py_index};
use crate::span::Span;
use crate::template::expr::{Call, ExprKind};
use crate::template::version::Format;

impl Evaluator<'_, '_> {
    /// `Ref: name`: a pseudo-parameter, a parameter or a resource; `None` for
    /// `AWS::NoValue`.
    pub(crate) fn ref_(&self, call: &Call, span: Span) -> Res<Option<Value>> {
        let name = self.eval_name(call, &call.arg, "name")?;
        self.resolve_ref(call, span, &name)
    }

    /// What `Ref name` (or `${name}` in `Fn::Sub`) gives.
    pub(crate) fn resolve_ref(&self, call: &Call, span: Span, name: &str) -> Res<Option<Value>> {
        match self.parameter(call, span, name)? {
            Named::Value(v) => Ok(Some(v)),
            Named::NoValue => Ok(None),
            Named::NotFound => match self.ctx.resources.reference(name) {
                Ok(v) => Ok(Some(v.unwrap_or(Value::Null))),
                Err(crate::eval::LookupError::UnknownResource) => Err(self
                    .fail(
                        call,
                        span,
                        format!("there is no parameter or resource named \"{name}\""),
                    )
                    .with_hint(format!(
                        "declare a parameter or a resource named \"{name}\", or fix the name"
                    ))),
                Err(e) => Err(self.lookup_error(call, span, e, name, None)),
            },
        }
    }

    /// `Fn::GetAtt: [resource, attribute]` (AWS also `"resource.attribute"`).
    pub(crate) fn fn_get_att(&self, call: &Call, span: Span) -> Res<Value> {
        let (resource, attribute) = match (&call.arg.kind, self.format()) {
            (ExprKind::String(s), Format::Cfn) => match s.split_once('.') {
                Some((r, a)) => (r.to_string(), a.to_string()),
                None => {
                    return Err(self.fail(
                        call,
                        pick(call.arg.span, span),
                        "the argument must be [resource, attribute] or \"resource.attribute\"",
                    ));
                }
            },
            _ => {
                let items = self.raw_list(call, span, 2, 2, "[resource, attribute]")?;
                (
                    self.eval_name(call, &items[0], "resource name")?,
                    self.eval_name(call, &items[1], "attribute name")?,
                )
            }
        };
        self.attribute_of(call, span, &resource, &attribute, &[], true)
    }

    /// `Fn::Join: [delimiter, [string, ...]]`.
    pub(crate) fn fn_join(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[delimiter, [string, ...]]")?;
        let list = match self.eval(&items[1])? {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => {
                return Err(self
                    .fail_found(call, items[1].span, "joins a list", &other)
                    .with_hint(
                        "the second argument must evaluate to a list; a CommaDelimitedList or \
                         List<...> parameter is one",
                    ));
            }
        };
        let delim = self.eval_name(call, &items[0], "delimiter")?;
        let mode = if aws_semantics(self.format()) {
            JoinMode::Aws
        } else {
            JoinMode::Strict
        };
        self.join(call, span, &delim, list, mode)
    }

    /// `Fn::Select: [index, list]`.
    pub(crate) fn fn_select(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[index, list]")?;
        let index = self.eval(&items[0])?;
        let coll = self.eval(&items[1])?;
        if aws_semantics(self.format()) {
            let i = match &index {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => py::parse_int(s).and_then(|i| u64::try_from(i).ok()),
                _ => None,
            };
            let Some(i) = i else {
                return Err(self
                    .fail_found(
                        call,
                        items[0].span,
                        "the index must be a non-negative integer",
                        &index,
                    )
                    .with_hint(
                        "write the index as a whole number from 0 (AWS has no negative indexes)",
                    ));
            };
            let Value::Array(list) = coll else {
                return Err(self
                    .fail_found(call, items[1].span, "selects from a list", &coll)
                    .with_hint(
                        "the second argument must evaluate to a list, e.g. {Fn::GetAZs: ''} or a \
                         CommaDelimitedList parameter",
                    ));
            };
            return usize::try_from(i)
                .ok()
                .and_then(|i| list.get(i).cloned())
                .ok_or_else(|| {
                    self.fail(
                        call,
                        items[0].span,
                        format!(
                            "index {i} is out of range for a list of {} item(s)",
                            list.len()
                        ),
                    )
                    .with_hint(if list.is_empty() {
                        "the list is empty: check where it comes from".to_string()
                    } else {
                        format!("indexes start at 0: use 0 to {}", list.len() - 1)
                    })
                });
        }
        // Heat.
        let coll = match coll {
            Value::String(s) if s.is_empty() => return Ok(Value::String(String::new())),
            Value::String(s) => serde_json::from_str::<Value>(&s).map_err(|e| {
                self.fail(
                    call,
                    items[1].span,
                    format!("the collection is a string that is not JSON ({e})"),
                )
                .with_hint("give a list, a map, or a string that holds JSON")
            })?,
            other => other,
        };
        match coll {
            Value::Object(m) => match &index {
                Value::String(k) => Ok(m.get(k).cloned().unwrap_or(Value::String(String::new()))),
                other => Err(self
                    .fail_found(
                        call,
                        items[0].span,
                        "the index into a map must be a string",
                        other,
                    )
                    .with_hint("to select from a map, write the key as a string")),
            },
            Value::Array(list) => {
                let Some(i) = py::to_int(&index) else {
                    return Err(self.fail_found(
                        call,
                        items[0].span,
                        "the index must be an integer",
                        &index,
                    ));
                };
                Ok(py_index(i, list.len())
                    .and_then(|j| list.get(j).cloned())
                    .unwrap_or(Value::String(String::new())))
            }
            Value::Null => Ok(Value::String(String::new())),
            other => {
                Err(self.fail_found(call, items[1].span, "selects from a list or a map", &other))
            }
        }
    }

    /// `Fn::Split: [delimiter, string]`.
    pub(crate) fn fn_split(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[delimiter, string]")?;
        let delim = self.eval_name(call, &items[0], "delimiter")?;
        if delim.is_empty() {
            return Err(self
                .fail(call, items[0].span, "the delimiter must not be empty")
                .with_hint("use a non-empty delimiter, e.g. ','"));
        }
        let text = self.eval_name(call, &items[1], "value to split")?;
        Ok(Value::Array(
            text.split(delim.as_str())
                .map(|s| Value::String(s.into()))
                .collect(),
        ))
    }

    /// `Fn::Replace: [{name: value, ...}, template]` (Heat).
    pub(crate) fn fn_replace(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[{<name>: <value>, ...}, <string>]")?;
        self.replace(call, span, &items[1], &items[0], false, false, true)
    }

    /// `Fn::Base64: string` (AWS: encoded; Heat: unchanged).
    pub(crate) fn fn_base64(&self, call: &Call, span: Span) -> Res<Value> {
        let v = self.eval(&call.arg)?;
        let aws = aws_semantics(self.format());
        let text = match v {
            Value::String(s) => s,
            Value::Number(n) if aws => n.to_string(),
            Value::Bool(b) if aws => b.to_string(),
            other => {
                return Err(self
                    .fail_found(
                        call,
                        pick(call.arg.span, span),
                        "the argument must be a string",
                        &other,
                    )
                    .with_hint(
                        "Fn::Base64 takes one string: build it with Fn::Join (or Fn::Sub) first",
                    ));
            }
        };
        if aws {
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            ))
        } else {
            Ok(Value::String(text))
        }
    }

    /// `Fn::FindInMap: [mapping, top key, second key, {DefaultValue: x}?]`.
    pub(crate) fn fn_find_in_map(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(
            call,
            span,
            3,
            4,
            "[mapping, top-level key, second-level key, {DefaultValue: <value>} (optional)]",
        )?;
        let default = match items.get(3) {
            None => None,
            Some(e) => match (e.as_map(), e.get("DefaultValue")) {
                (Some(entries), Some(d)) if entries.len() == 1 => Some(d),
                _ => {
                    return Err(self
                        .fail(
                            call,
                            e.span,
                            "the fourth argument must be {DefaultValue: <value>}",
                        )
                        .with_hint(
                            "write the default as {DefaultValue: <value>} (needs Transform: \
                             AWS::LanguageExtensions)",
                        ));
                }
            },
        };
        let key = |i: usize, what: &str| -> Res<String> {
            match self.eval(&items[i])? {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(self.fail_found(
                    call,
                    items[i].span,
                    format_args!("the {what} must be a string"),
                    &other,
                )),
            }
        };
        let map_name = key(0, "mapping name")?;
        let top = key(1, "top-level key")?;
        let second = key(2, "second-level key")?;
        let Some(mapping) = self
            .ctx
            .mappings
            .iter()
            .rev()
            .find(|m| m.name.value == map_name)
        else {
            let names: Vec<&str> = self
                .ctx
                .mappings
                .iter()
                .map(|m| m.name.value.as_str())
                .collect();
            return Err(self
                .fail(
                    call,
                    items[0].span,
                    format!("there is no mapping named \"{map_name}\""),
                )
                .with_hint(name_hint(&map_name, &names, "the mappings")));
        };
        let found = mapping
            .entries
            .iter()
            .rev()
            .find(|(k, _)| k.value == top)
            .map(|(_, second_level)| second_level.iter().rev().find(|(k, _)| k.value == second));
        match found {
            Some(Some((_, node))) => Ok(node.to_json()),
            _ => match default {
                Some(d) => self.eval(d),
                None => {
                    let (at, msg, hint) = match found {
                        None => {
                            let keys: Vec<&str> = mapping
                                .entries
                                .iter()
                                .map(|(k, _)| k.value.as_str())
                                .collect();
                            (
                                items[1].span,
                                format!("mapping \"{map_name}\" has no key \"{top}\""),
                                name_hint(&top, &keys, &format!("the keys of \"{map_name}\"")),
                            )
                        }
                        Some(_) => {
                            let keys: Vec<&str> = mapping
                                .entries
                                .iter()
                                .rev()
                                .find(|(k, _)| k.value == top)
                                .map(|(_, level)| level.iter().map(|(k, _)| k.value.as_str()))
                                .into_iter()
                                .flatten()
                                .collect();
                            (
                                items[2].span,
                                format!(
                                    "mapping \"{map_name}\" has no key \"{second}\" under \"{top}\""
                                ),
                                name_hint(&second, &keys, &format!("the keys under \"{top}\"")),
                            )
                        }
                    };
                    Err(self.fail(call, at, msg).with_hint(hint))
                }
            },
        }
    }

    /// `Fn::GetAZs: region`.
    pub(crate) fn fn_get_azs(&self, call: &Call, span: Span) -> Res<Value> {
        match self.eval(&call.arg)? {
            Value::String(_) | Value::Null => {}
            other => {
                return Err(self
                    .fail_found(
                        call,
                        pick(call.arg.span, span),
                        "the argument must be a region name or \"\"",
                        &other,
                    )
                    .with_hint("write '' for the stack's region, or a region name"));
            }
        }
        match self.ctx.availability_zones {
            Some(zones) => Ok(Value::Array(
                zones.iter().map(|z| Value::String(z.clone())).collect(),
            )),
            None => Err(self
                .unavailable(call, span, "the availability zones are not known offline")
                .with_hint("give the availability zones to the evaluation context")),
        }
    }

    /// `Fn::MemberListToMap: [key name, value name, [".member.N.<name>=<value>", ...]]`.
    pub(crate) fn fn_member_list_to_map(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(
            call,
            span,
            3,
            3,
            "[<key name>, <value name>, [\".member.0.<key name>=<key>\", ...]]",
        )?;
        let (Some(key_name), Some(value_name)) = (items[0].as_str(), items[1].as_str()) else {
            return Err(self.fail(
                call,
                span,
                "the key name and the value name must be strings",
            ));
        };
        let list: Vec<Value> = match self.eval(&items[2])? {
            Value::Array(a) => a,
            Value::String(s) => s.chars().map(|c| Value::String(c.into())).collect(),
            other => {
                return Err(self.fail_found(
                    call,
                    items[2].span,
                    "the member list must be a list",
                    &other,
                ));
            }
        };
        let mut partials = serde_json::Map::new();
        for item in list {
            let Value::String(s) = item else {
                return Err(self.fail_found(
                    call,
                    items[2].span,
                    "the member list items must be strings",
                    &item,
                ));
            };
            let Some((k, v)) = s.split_once('=') else {
                return Err(self
                    .fail(
                        call,
                        items[2].span,
                        format!("the member list item \"{s}\" is not of the form <name>=<value>"),
                    )
                    .with_hint("write each item as \".member.<N>.<name>=<value>\""));
            };
            partials.insert(k.to_string(), Value::String(v.to_string()));
        }
        // Group ".member.<N>.<field>" by N (numerically), in order.
        let mut members: Vec<((usize, String), serde_json::Map<String, Value>)> = Vec::new();
        for (k, v) in partials {
            let Some(rest) = k.strip_prefix(".member.") else {
                continue;
            };
            let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits_len == 0 || rest.as_bytes().get(digits_len) != Some(&b'.') {
                continue;
            }
            let digits = rest[..digits_len].trim_start_matches('0');
            let index = (digits.len(), digits.to_string());
            let field = rest[digits_len + 1..]
                .split('\n')
                .next()
                .unwrap_or("")
                .to_string();
            match members.iter_mut().find(|(i, _)| *i == index) {
                Some((_, m)) => {
                    m.insert(field, v);
                }
                None => {
                    let mut m = serde_json::Map::new();
                    m.insert(field, v);
                    members.push((index, m));
                }
            }
        }
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = serde_json::Map::new();
        for (_, m) in members {
            if let (Some(Value::String(k)), Some(v)) = (m.get(key_name), m.get(value_name)) {
                out.insert(k.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }

    /// `Fn::Equals: [a, b]`.
    pub(crate) fn fn_equals(&self, call: &Call, span: Span) -> Res<Value> {
        let items = self.raw_list(call, span, 2, 2, "[value_1, value_2]")?;
        let a = self.eval(&items[0])?;
        let b = self.eval(&items[1])?;
        Ok(Value::Bool(if aws_semantics(self.format()) {
            aws_eq(&a, &b)
        } else {
            py::eq(&a, &b)
        }))
    }

    /// `Fn::ImportValue: export name`.
    pub(crate) fn fn_import_value(&self, call: &Call, span: Span) -> Res<Value> {
        let name = self.eval_name(call, &call.arg, "export name")?;
        match self.ctx.imports.import_value(&name) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self
                .fail(call, span, format!("No export named {name} found"))
                .with_hint(format!(
                    "export a value named {name} from another stack (an output with Export: \
                     {{Name: {name}}}), or fix the name"
                ))),
            Err(m) => Err(self.unavailable(call, span, m).with_hint(
                "the exports of other stacks exist only in AWS CloudFormation: the value is \
                 resolved when the stack is created",
            )),
        }
    }

    /// `Fn::Length: list`.
    pub(crate) fn fn_length(&self, call: &Call, span: Span) -> Res<Value> {
        match self.eval(&call.arg)? {
            Value::Array(a) => Ok(Value::from(a.len())),
            other => Err(self
                .fail_found(
                    call,
                    pick(call.arg.span, span),
                    "the argument must be a list",
                    &other,
                )
                .with_hint(
                    "Fn::Length counts the items of a list, e.g. a CommaDelimitedList or List<...> \
                     parameter",
                )),
        }
    }

    /// `Fn::ToJsonString: map or list` → compact JSON.
    pub(crate) fn fn_to_json_string(&self, call: &Call, span: Span) -> Res<Value> {
        match self.eval(&call.arg)? {
            v @ (Value::Array(_) | Value::Object(_)) => {
                Ok(Value::String(serde_json::to_string(&v).unwrap_or_default()))
            }
            other => Err(self.fail_found(
                call,
                pick(call.arg.span, span),
                "the argument must be a map or a list",
                &other,
            )),
        }
    }

    /// `Fn::Contains`, `Fn::EachMemberEquals`, `Fn::EachMemberIn` (parameter rules).
    pub(crate) fn rule_function(&self, call: &Call, span: Span) -> Res<Value> {
        use crate::template::expr::Func;
        let form = match call.func {
            Func::FnContains => "[[value, ...], value]",
            Func::FnEachMemberEquals => "[[value, ...], value]",
            _ => "[[value, ...], [allowed value, ...]]",
        };
        let items = self.raw_list(call, span, 2, 2, form)?;
        let Value::Array(list) = self.eval(&items[0])? else {
            return Err(self.fail(
                call,
                items[0].span,
                format!("the first argument must be a list: {form}"),
            ));
        };
        let second = self.eval(&items[1])?;
        Ok(Value::Bool(match call.func {
            Func::FnContains => list.iter().any(|v| aws_eq(v, &second)),
            Func::FnEachMemberEquals => list.iter().all(|v| aws_eq(v, &second)),
            _ => {
                let Value::Array(allowed) = second else {
                    return Err(self.fail(
                        call,
                        items[1].span,
                        format!("the second argument must be a list: {form}"),
                    ));
                };
                list.iter().all(|v| allowed.iter().any(|a| aws_eq(v, a)))
            }
        }))
    }

    /// `{Condition: name}`.
    pub(crate) fn condition_fn(&self, call: &Call, _span: Span) -> Res<bool> {
        let name = self.eval_name(call, &call.arg, "condition name")?;
        self.named_condition(&name, call.arg.span)
    }
}

/// "did you mean 'x'?" when `word` is close to one of `names`, else the list of `names` (at
/// most ten) under the title `what`.
fn name_hint(word: &str, names: &[&str], what: &str) -> String {
    if let Some(h) = crate::names::did_you_mean(word, names.iter().copied()) {
        return h;
    }
    if names.is_empty() {
        return format!("there are no {}", what.trim_start_matches("the "));
    }
    let shown: Vec<&str> = names.iter().take(10).copied().collect();
    let more = if names.len() > shown.len() {
        ", ..."
    } else {
        ""
    };
    format!("{what} are: {}{more}", shown.join(", "))
}

/// Equality as AWS compares values: scalars by their text, lists item by item, maps key by
/// key.
pub(crate) fn aws_eq(a: &Value, b: &Value) -> bool {
    fn text(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| aws_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| aws_eq(v, w)))
        }
        _ => match (text(a), text(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}
