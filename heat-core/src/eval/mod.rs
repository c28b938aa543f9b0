//! Evaluation of expressions given parameter values, pseudo-parameters and a provider of
//! resource references and attributes.
//!
//! [`evaluate`] turns an [`Expr`] into a JSON value. What it may look at is an
//! [`EvalContext`]: the template version (which picks each function's variant, as Heat
//! does per HOT version), parameters, pseudo-parameters, a [`ResourceResolver`], the `files`
//! map, mappings, conditions, exports, availability zones and the parent resource.
//!
//! Semantics follow Heat for HOT and for Heat's CloudFormation dialect, and AWS for the
//! functions Heat lacks (`Fn::Sub`, `Fn::ImportValue`, `Fn::Cidr`, `Fn::Length`,
//! `Fn::ToJsonString`). Where Heat and AWS differ on a function both have, the template's
//! format decides (see the notes on `Fn::Base64`, `Fn::Select`, `Fn::Join` and
//! `Fn::Equals` in [`cfn`]).
//!
//! **Omitted values.** The 2-argument `if` of HOT 2021-04-16 with a false condition, and
//! `Ref: AWS::NoValue`, mean "as if not written": inside a map the key is dropped, inside a
//! list the item is dropped. [`evaluate_nullable`] returns `None` for such a value at the top
//! (the caller drops the property); [`evaluate`] gives `null` there, as Heat does for a
//! function argument.
//!
//! **Secrets.** A hidden parameter's value never appears in an error: every value read from
//! a hidden parameter is masked as `******` in the messages of the errors that follow.
//!
//! Evaluation never panics; deep nesting and huge `repeat` products are refused with an
//! error.
//! OWNER: evaluation helper.

pub mod cfn;
mod cidr;
mod conditions;
mod context;
pub mod hot;
pub(crate) mod py;
mod sub;

#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::template::expr::{Call, Expr, ExprKind, Func};
use crate::template::version::{Format, Version};

pub use conditions::{ConditionValues, TemplateConditions, condition_enabled, evaluate_conditions};
pub use context::{
    ConditionLookup, EvalContext, FacadeAttribute, FacadeSource, ImportLookup, LookupError,
    NoConditions, NoFacade, NoImports, NoParameters, NoResources, ParameterSource, ParameterValues,
    ParentFacade, PseudoParams, ResourceResolver, StaticResource, StaticResources,
};

/// How deeply expressions may nest during evaluation.
pub const MAX_DEPTH: u32 = 512;

/// The most items one `repeat` may produce.
pub const MAX_REPEAT_ITEMS: usize = 100_000;

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// [`Code::EvaluationFailed`], [`Code::YaqlUnsupported`], [`Code::MissingFile`],
    /// [`Code::ValueUnavailable`], or [`Code::ConditionCycle`] (conditions that refer to each
    /// other in a cycle).
    pub code: Code,
    /// What went wrong, naming the function. Never contains a hidden parameter's value.
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
    /// The expression that failed.
    pub span: Span,
}

impl EvalError {
    /// An error with a code, span and message.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> EvalError {
        EvalError {
            code,
            message: message.into(),
            hint: None,
            span,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> EvalError {
        self.hint = Some(hint.into());
        self
    }
}

impl From<EvalError> for Diagnostic {
    fn from(e: EvalError) -> Diagnostic {
        let d = Diagnostic::error(e.code, e.span, e.message);
        match e.hint {
            Some(h) => d.with_hint(h),
            None => d,
        }
    }
}

/// Evaluates an expression. A value omitted at the top (a false 2-argument `if`,
/// `AWS::NoValue`) gives `null`.
pub fn evaluate(expr: &Expr, ctx: &EvalContext<'_>) -> Result<Value, EvalError> {
    evaluate_nullable(expr, ctx).map(|v| v.unwrap_or(Value::Null))
}

/// Evaluates an expression; `None` when the value is omitted (a false 2-argument `if` of
/// HOT 2021-04-16, `Ref: AWS::NoValue`): the caller drops the property or item.
pub fn evaluate_nullable(expr: &Expr, ctx: &EvalContext<'_>) -> Result<Option<Value>, EvalError> {
    let ev = Evaluator::new(ctx);
    ev.eval_opt(expr).map_err(|e| ev.redact(e))
}

/// Selects a path from an attribute value as Heat does: each component is a map key (a
/// string) or a list index (an integer, negative counting from the end); a string can be
/// indexed too (giving one character). Any component that does not fit gives `None`.
pub fn select_path(value: &Value, path: &[Value]) -> Option<Value> {
    let mut cur = value;
    for (n, key) in path.iter().enumerate() {
        cur = match (cur, key) {
            (Value::Object(m), Value::String(k)) => m.get(k)?,
            (Value::Array(items), k) => items.get(py_index(int_key(k)?, items.len())?)?,
            (Value::String(s), k) => {
                let chars: Vec<char> = s.chars().collect();
                let c = chars.get(py_index(int_key(k)?, chars.len())?)?;
                return select_path(&Value::String(c.to_string()), path.get(n + 1..)?);
            }
            _ => return None,
        };
    }
    Some(cur.clone())
}

/// An integer path key (booleans count, as in Python).
fn int_key(k: &Value) -> Option<i64> {
    match k {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// A Python index (negative from the end) into a sequence of `len` items.
pub(crate) fn py_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let j = if i < 0 { i + len } else { i };
    if (0..len).contains(&j) {
        usize::try_from(j).ok()
    } else {
        None
    }
}

type Res<T> = Result<T, EvalError>;

/// One evaluation: the context plus what it has seen (hidden values to mask) and how deep
/// it is.
pub(crate) struct Evaluator<'c, 'a> {
    pub(crate) ctx: &'c EvalContext<'a>,
    secrets: RefCell<Vec<String>>,
    depth: Cell<u32>,
}

impl<'c, 'a> Evaluator<'c, 'a> {
    fn new(ctx: &'c EvalContext<'a>) -> Evaluator<'c, 'a> {
        Evaluator {
            ctx,
            secrets: RefCell::new(Vec::new()),
            depth: Cell::new(0),
        }
    }

    pub(crate) fn version(&self) -> Version {
        self.ctx.version
    }

    pub(crate) fn format(&self) -> Format {
        self.ctx.version.format()
    }

    /// Remembers a hidden value so that no message shows it.
    pub(crate) fn note_secret(&self, v: &Value) {
        let mut s = self.secrets.borrow_mut();
        fn leaves(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Null => {}
                Value::Bool(b) => {
                    out.push(py::repr(v));
                    out.push(b.to_string());
                }
                Value::Number(n) => {
                    out.push(py::number_str(n));
                    out.push(n.to_string());
                }
                Value::String(x) => out.push(x.clone()),
                Value::Array(items) => items.iter().for_each(|i| leaves(i, out)),
                Value::Object(m) => m.values().for_each(|i| leaves(i, out)),
            }
        }
        leaves(v, &mut s);
        if matches!(v, Value::Array(_) | Value::Object(_)) {
            s.push(py::json_dumps(v));
            s.push(py::repr(v));
            s.push(serde_json::to_string(v).unwrap_or_default());
        }
    }

    /// Masks every hidden value seen in an error's message and hint.
    pub(crate) fn redact(&self, mut e: EvalError) -> EvalError {
        let mut secrets: Vec<String> = self
            .secrets
            .borrow()
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        if secrets.is_empty() {
            return e;
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for s in &secrets {
            e.message = e.message.replace(s.as_str(), "******");
            if let Some(h) = &mut e.hint {
                *h = h.replace(s.as_str(), "******");
            }
        }
        e
    }

    /// Evaluates; an omitted value gives `null` (a function argument, as in Heat).
    pub(crate) fn eval(&self, e: &Expr) -> Res<Value> {
        Ok(self.eval_opt(e)?.unwrap_or(Value::Null))
    }

    /// Evaluates; `None` for an omitted value.
    pub(crate) fn eval_opt(&self, e: &Expr) -> Res<Option<Value>> {
        let d = self.depth.get();
        if d >= MAX_DEPTH {
            return Err(EvalError::new(
                Code::EvaluationFailed,
                e.span,
                format!("expressions nest more than {MAX_DEPTH} levels deep"),
            )
            .with_hint(
                "nest fewer functions: split the expression, e.g. across several outputs or \
                 resources",
            ));
        }
        self.depth.set(d + 1);
        let r = self.eval_inner(e);
        self.depth.set(d);
        r
    }

    fn eval_inner(&self, e: &Expr) -> Res<Option<Value>> {
        Ok(Some(match &e.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::from(*i),
            ExprKind::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            ExprKind::String(s) => Value::String(s.clone()),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.eval_opt(item)? {
                        out.push(v);
                    }
                }
                Value::Array(out)
            }
            ExprKind::Map(entries) => {
                let mut out = serde_json::Map::with_capacity(entries.len());
                for (k, item) in entries {
                    if let Some(v) = self.eval_opt(item)? {
                        out.insert(k.name.clone(), v);
                    }
                }
                Value::Object(out)
            }
            ExprKind::Call(call) => return self.call(call, e.span),
        }))
    }

    /// An evaluation error naming the function, with a correct call of the function as its
    /// hint (a site with something more specific to say replaces it with `with_hint`).
    pub(crate) fn fail(&self, call: &Call, span: Span, msg: impl std::fmt::Display) -> EvalError {
        EvalError::new(
            Code::EvaluationFailed,
            span,
            format!("{}: {msg}", call.func.name()),
        )
        .with_hint(format!("a correct call: {}", usage(call.func)))
    }

    /// A [`fail`](Self::fail) that says what was expected and what the value was:
    /// "`expected`, found <the value>".
    pub(crate) fn fail_found(
        &self,
        call: &Call,
        span: Span,
        expected: impl std::fmt::Display,
        found: &Value,
    ) -> EvalError {
        self.fail(
            call,
            span,
            format!("{expected}, found {}", py::describe(found)),
        )
    }

    /// A "value not available here" error naming the function. The hint says where the
    /// value does exist (a site that knows better replaces it with `with_hint`).
    pub(crate) fn unavailable(
        &self,
        call: &Call,
        span: Span,
        msg: impl std::fmt::Display,
    ) -> EvalError {
        EvalError::new(
            Code::ValueUnavailable,
            span,
            format!("{}: {msg}", call.func.name()),
        )
        .with_hint(
            "nothing to fix in the template: the value exists once the stack is created, and \
             offline evaluation can only use what the evaluation context provides",
        )
    }

    /// The argument as a literal list with between `min` and `max` items (`usize::MAX`: no
    /// upper bound); `form` shows the expected shape in messages.
    pub(crate) fn raw_list<'e>(
        &self,
        call: &'e Call,
        span: Span,
        min: usize,
        max: usize,
        form: &str,
    ) -> Res<&'e [Expr]> {
        let at = pick(call.arg.span, span);
        let items = call.arg.as_list().ok_or_else(|| {
            self.fail(
                call,
                at,
                format!(
                    "the argument must be a list of the form {form}, found {}",
                    call.arg.kind_name()
                ),
            )
        })?;
        if items.len() < min || items.len() > max {
            let count = if min == max {
                min.to_string()
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(self.fail(
                call,
                at,
                format!(
                    "expected {count} arguments of the form {form}, found {}",
                    items.len()
                ),
            ));
        }
        Ok(items)
    }

    /// The argument as a literal map.
    pub(crate) fn raw_map<'e>(
        &self,
        call: &'e Call,
        span: Span,
        form: &str,
    ) -> Res<&'e [(crate::template::node::Key, Expr)]> {
        call.arg.as_map().ok_or_else(|| {
            self.fail(
                call,
                pick(call.arg.span, span),
                format!(
                    "the argument must be a map of the form {form}, found {}",
                    call.arg.kind_name()
                ),
            )
        })
    }

    /// Evaluates a call.
    fn call(&self, call: &Call, span: Span) -> Res<Option<Value>> {
        use Func::*;
        let v = match call.func {
            GetParam => self.get_param(call, span)?,
            GetResource => self.get_resource(call, span)?,
            GetAttr => self.get_attr(call, span)?,
            GetFile => self.get_file(call, span)?,
            ListJoin => self.list_join(call, span)?,
            StrReplace | StrReplaceStrict | StrReplaceVstrict => self.str_replace(call, span)?,
            ResourceFacade | FnResourceFacade => self.resource_facade(call, span)?,
            Repeat => self.repeat(call, span)?,
            Digest => self.digest(call, span)?,
            StrSplit => self.str_split(call, span)?,
            MapMerge => self.map_merge(call, span)?,
            MapReplace => self.map_replace(call, span)?,
            Yaql => self.yaql(call, span)?,
            If | FnIf => return self.if_(call, span),
            Equals => self.equals(call, span)?,
            Not | FnNot => self.not(call, span)?,
            And | FnAnd | Or | FnOr => self.and_or(call, span)?,
            Filter => self.filter(call, span)?,
            MakeUrl => self.make_url(call, span)?,
            ListConcat | ListConcatUnique => self.list_concat(call, span)?,
            Contains => self.contains(call, span)?,
            Ref => return self.ref_(call, span),
            FnGetAtt => self.fn_get_att(call, span)?,
            FnJoin => self.fn_join(call, span)?,
            FnSelect => self.fn_select(call, span)?,
            FnSplit => self.fn_split(call, span)?,
            FnReplace => self.fn_replace(call, span)?,
            FnBase64 => self.fn_base64(call, span)?,
            FnFindInMap => self.fn_find_in_map(call, span)?,
            FnGetAZs => self.fn_get_azs(call, span)?,
            FnMemberListToMap => self.fn_member_list_to_map(call, span)?,
            FnEquals => self.fn_equals(call, span)?,
            FnSub => self.fn_sub(call, span)?,
            FnImportValue => self.fn_import_value(call, span)?,
            FnCidr => self.fn_cidr(call, span)?,
            FnLength => self.fn_length(call, span)?,
            FnToJsonString => self.fn_to_json_string(call, span)?,
            FnTransform => {
                return Err(self
                    .unavailable(call, span, "macros are not evaluated offline")
                    .with_hint("the macro runs in AWS CloudFormation when the stack is created"));
            }
            FnForEach => {
                return Err(self
                    .unavailable(
                        call,
                        span,
                        "loops of the AWS::LanguageExtensions transform are not evaluated offline",
                    )
                    .with_hint(
                        "AWS expands the loops when the stack is created: create a change set to \
                         see the expanded template",
                    ));
            }
            FnContains | FnEachMemberEquals | FnEachMemberIn => self.rule_function(call, span)?,
            FnValueOf | FnValueOfAll | FnRefAll => {
                return Err(self
                    .unavailable(
                        call,
                        span,
                        "rule functions that look up AWS resources are not evaluated offline",
                    )
                    .with_hint(
                        "AWS CloudFormation checks Rules when the stack is created or updated",
                    ));
            }
            Condition => Value::Bool(self.condition_fn(call, span)?),
        };
        Ok(Some(v))
    }

    /// The value of a named condition.
    pub(crate) fn named_condition(&self, name: &str, span: Span) -> Res<bool> {
        match self.ctx.conditions.condition(name, self.ctx) {
            Some(r) => r,
            None => Err(EvalError::new(
                Code::EvaluationFailed,
                span,
                format!("there is no condition named \"{name}\""),
            )
            .with_hint("define it in the conditions section, or fix the name")),
        }
    }
}

/// A hint for a name that `func` does not know: "did you mean 'x'?" when it is close to one
/// of `candidates`, else a correct call of the function.
pub(crate) fn near_or_usage<'a>(
    func: Func,
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    crate::names::did_you_mean(word, candidates)
        .unwrap_or_else(|| format!("a correct call: {}", usage(func)))
}

/// A correct call of a function, for hints.
pub(crate) fn usage(func: Func) -> &'static str {
    use Func::*;
    match func {
        GetParam => "{get_param: image} or {get_param: [servers, 0, name]}",
        GetResource => "{get_resource: my_server}",
        GetAttr => "{get_attr: [my_server, networks, private, 0]}",
        GetFile => "{get_file: scripts/setup.sh}",
        ListJoin => "{list_join: [',', [a, b, c]]} gives \"a,b,c\"",
        StrReplace => {
            "{str_replace: {template: 'http://$host/', params: {$host: {get_attr: [lb, ip]}}}}"
        }
        StrReplaceStrict => {
            "{str_replace_strict: {template: 'http://$host/', params: {$host: example.org}}}"
        }
        StrReplaceVstrict => {
            "{str_replace_vstrict: {template: 'http://$host/', params: {$host: example.org}}}"
        }
        ResourceFacade => "{resource_facade: metadata}",
        Repeat => "{repeat: {for_each: {<%port%>: [80, 443]}, template: {port: <%port%>}}}",
        Digest => "{digest: [sha512, {get_param: password}]}",
        StrSplit => "{str_split: [',', 'apples,pears', 1]} gives \"pears\"",
        MapMerge => "{map_merge: [{a: 1}, {b: 2}]} gives {a: 1, b: 2}",
        MapReplace => {
            "{map_replace: [{k1: v1}, {keys: {k1: K1}, values: {v1: V1}}]} gives {K1: V1}"
        }
        Yaql => "{yaql: {expression: $.data.ports.max(), data: {ports: [80, 443]}}}",
        If => "{if: [is_prod, m1.large, m1.small]}",
        Equals => "{equals: [{get_param: env}, prod]}",
        Not => "{not: is_prod}",
        And => "{and: [is_prod, {equals: [{get_param: zone}, az1]}]}",
        Or => "{or: [is_prod, {equals: [{get_param: zone}, az1]}]}",
        Filter => "{filter: [[null, ''], {get_param: names}]}",
        MakeUrl => "{make_url: {scheme: https, host: {get_attr: [lb, ip]}, port: 443, path: /}}",
        ListConcat => "{list_concat: [[a, b], [c]]} gives [a, b, c]",
        ListConcatUnique => "{list_concat_unique: [[a, b], [b, c]]} gives [a, b, c]",
        Contains => "{contains: [{get_param: flavor}, [m1.small, m1.large]]}",
        Ref => "{Ref: InstanceType} or {Ref: MyBucket}",
        FnGetAtt => "{Fn::GetAtt: [MyBucket, Arn]}",
        FnJoin => "{Fn::Join: [',', [a, b, c]]} gives \"a,b,c\"",
        FnSelect => "{Fn::Select: [1, [a, b, c]]} gives b (indexes start at 0)",
        FnSplit => "{Fn::Split: [',', 'a,b,c']} gives [a, b, c]",
        FnReplace => "{Fn::Replace: [{$host: {Ref: Host}}, 'http://$host/']}",
        FnBase64 => "{Fn::Base64: {Fn::Sub: '#!/bin/bash\\necho ${AWS::StackName}'}}",
        FnFindInMap => "{Fn::FindInMap: [RegionMap, {Ref: AWS::Region}, AMI]}",
        FnGetAZs => "{Fn::GetAZs: ''} or {Fn::GetAZs: {Ref: AWS::Region}}",
        FnMemberListToMap => {
            "{Fn::MemberListToMap: [Name, Value, [.member.0.Name=k, .member.0.Value=v]]}"
        }
        FnResourceFacade => "{Fn::ResourceFacade: Metadata}",
        FnIf => "{Fn::If: [IsProd, m5.large, t3.micro]}",
        FnEquals => "{Fn::Equals: [{Ref: Env}, prod]}",
        FnNot => "{Fn::Not: [{Condition: IsProd}]}",
        FnAnd => "{Fn::And: [{Condition: IsProd}, {Fn::Equals: [{Ref: Zone}, az1]}]}",
        FnOr => "{Fn::Or: [{Condition: IsProd}, {Fn::Equals: [{Ref: Zone}, az1]}]}",
        FnSub => {
            "{Fn::Sub: 'arn:aws:s3:::${Bucket}/*'} or {Fn::Sub: ['${Name}-logs', {Name: app}]}"
        }
        FnImportValue => "{Fn::ImportValue: {Fn::Sub: '${NetworkStack}-VpcId'}}",
        FnCidr => "{Fn::Cidr: ['10.0.0.0/16', 6, 8]} gives six /24 blocks",
        FnLength => "{Fn::Length: {Ref: SubnetIds}}",
        FnToJsonString => "{Fn::ToJsonString: {key: value}}",
        FnTransform => {
            "{Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://bucket/x.yaml}}}"
        }
        FnContains => "{Fn::Contains: [[a, b], {Ref: Env}]}",
        FnEachMemberEquals => "{Fn::EachMemberEquals: [{Ref: Zones}, az1]}",
        FnEachMemberIn => "{Fn::EachMemberIn: [{Ref: Zones}, [az1, az2]]}",
        FnValueOf => "{Fn::ValueOf: [SubnetId, VpcId]}",
        FnValueOfAll => "{Fn::ValueOfAll: [AWS::EC2::Subnet::Id, VpcId]}",
        FnRefAll => "{Fn::RefAll: AWS::EC2::VPC::Id}",
        FnForEach => {
            "{Fn::ForEach::Topics: [Name, [a, b], {Topic${Name}: {Type: AWS::SNS::Topic}}]}"
        }
        Condition => "{Condition: IsProd}",
    }
}

/// The first known span of the two.
pub(crate) fn pick(a: Span, b: Span) -> Span {
    if a.is_known() { a } else { b }
}
