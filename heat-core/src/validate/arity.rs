//! The number and shape of every function's arguments (`E3013`).
//!
//! Only what is written literally is checked: an argument that is itself a function call may
//! produce anything when evaluated, so it is accepted. HOT functions get Heat's rules
//! (including the differences between versions, e.g. `get_attr` without an attribute from
//! 2015-10-15, several lists in `list_join` from 2015-10-15, the two-argument `if` of
//! 2021-04-16); CloudFormation functions get AWS's rules (Heat's agree where Heat has them).

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::template::expr::{Call, Expr, ExprKind, Func};
use crate::template::functions;
use crate::template::refs::sub_variables;
use crate::template::version::Version;

/// The hash algorithms `digest` accepts.
pub const DIGEST_ALGORITHMS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

/// The keys `make_url` accepts.
pub const MAKE_URL_KEYS: &[&str] = &[
    "scheme", "username", "password", "host", "port", "path", "query", "fragment",
];

/// Checks the arguments of every call in `expr` (nested calls included).
pub fn check_expr(expr: &Expr, version: Version, lang_ext: bool, diags: &mut Vec<Diagnostic>) {
    let mut checker = Checker {
        version,
        lang_ext,
        diags,
    };
    expr.walk(&mut |e| {
        // Calls to functions this version lacks were reported at parse time.
        if let ExprKind::Call(call) = &e.kind
            && functions::is_live(version, call.func)
        {
            checker.call(call);
        }
    });
}

struct Checker<'d> {
    version: Version,
    lang_ext: bool,
    diags: &'d mut Vec<Diagnostic>,
}

/// A call, or a one-key map naming an AWS function that has no [`Func`] yet
/// (`Fn::GetStackOutput`): either may produce any value.
fn is_call(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Call(_) => true,
        ExprKind::Map(entries) => match entries.as_slice() {
            [(k, _)] => functions::AWS_FUNCTIONS_WITHOUT_FUNC.contains(&k.name.as_str()),
            _ => false,
        },
        _ => false,
    }
}

fn is_string_or_call(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::String(_)) || is_call(e)
}

fn is_list_or_call(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::List(_)) || is_call(e)
}

fn is_map_or_call(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Map(_) | ExprKind::Call(_))
}

/// An integer, a string holding one, or a call.
fn integer_like(e: &Expr) -> Option<Option<i64>> {
    match &e.kind {
        ExprKind::Int(i) => Some(Some(*i)),
        ExprKind::String(s) => s.trim().parse::<i64>().ok().map(Some),
        ExprKind::Call(_) => Some(None),
        _ => None,
    }
}

/// A condition operand: a condition name, a boolean, or a call.
fn is_condition_operand(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::String(_) | ExprKind::Bool(_) | ExprKind::Call(_)
    )
}

/// `1 item`, `2 items`.
fn count_items(n: usize) -> String {
    if n == 1 {
        "1 item".to_string()
    } else {
        format!("{n} items")
    }
}

/// A literal as messages show it: a string in quotes, anything else by its kind.
fn shown(e: &Expr) -> String {
    match &e.kind {
        ExprKind::String(s) => format!("\"{s}\""),
        _ => e.kind_name().to_string(),
    }
}

impl Checker<'_> {
    fn bad(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(Code::BadArguments, span, message).with_hint(hint));
    }

    /// An error whose hint is a correct call (`example`), complementing the message, which
    /// says what is wrong.
    fn usage(&mut self, span: Span, message: impl Into<String>, example: &str) {
        self.bad(span, message, format!("e.g. {example}"));
    }

    /// The items of a list argument, or `None` (after reporting) when it is not a list.
    fn list<'e>(&mut self, arg: &'e Expr, message: &str, example: &str) -> Option<&'e [Expr]> {
        match &arg.kind {
            ExprKind::List(items) => Some(items),
            _ => {
                self.usage(arg.span, message, example);
                None
            }
        }
    }

    /// The items of a list argument whose length `len_ok` accepts, or `None` (after
    /// reporting): `not_a_list` when it is not a list, `wrong_len` with the count found when
    /// the length is wrong.
    fn sized_list<'e>(
        &mut self,
        arg: &'e Expr,
        not_a_list: &str,
        wrong_len: &str,
        len_ok: impl Fn(usize) -> bool,
        example: &str,
    ) -> Option<&'e [Expr]> {
        let items = self.list(arg, not_a_list, example)?;
        if len_ok(items.len()) {
            return Some(items);
        }
        self.usage(
            arg.span,
            format!("{wrong_len} (found {})", count_items(items.len())),
            example,
        );
        None
    }

    /// The delimiter of `list_join` / `str_split`: a string or a call.
    fn delimiter(&mut self, name: &str, delimiter: &Expr, example: &str) {
        if !is_string_or_call(delimiter) {
            self.usage(
                delimiter.span,
                format!(
                    "\"{name}\" delimiter must be a string, not {}",
                    delimiter.kind_name()
                ),
                example,
            );
        }
    }

    /// Each path component (after the first item) of `get_param` / `get_attr`: a string, an
    /// integer or a call.
    fn path_components(&mut self, name: &str, path: &[Expr], example: &str) {
        for p in path {
            if !matches!(
                p.kind,
                ExprKind::String(_) | ExprKind::Int(_) | ExprKind::Call(_)
            ) {
                self.usage(
                    p.span,
                    format!(
                        "Path components in \"{name}\" must be strings or integers, not {}",
                        p.kind_name()
                    ),
                    example,
                );
            }
        }
    }

    /// A map argument's required keys: when one is missing, reports it (at a misspelt key
    /// when there is one, with a suggestion) and returns `false`.
    fn required_keys(&mut self, name: &str, arg: &Expr, required: &[&str], example: &str) -> bool {
        let Some(entries) = arg.as_map() else {
            return true;
        };
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|k| arg.get(k).is_none())
            .collect();
        if missing.is_empty() {
            return true;
        }
        let mut reported = false;
        for want in &missing {
            let near = entries.iter().find(|(k, _)| {
                !required.contains(&k.name.as_str())
                    && crate::names::closest(&k.name, [*want]).is_some()
            });
            if let Some((key, _)) = near {
                self.bad(
                    key.span,
                    format!(
                        "\"{name}\" has no {want} key, and does not know the key '{}'",
                        key.name
                    ),
                    format!("did you mean '{want}'?"),
                );
                reported = true;
            }
        }
        if !reported {
            let missing_list = missing.join(" and ");
            let verb = if missing.len() == 1 { "is" } else { "are" };
            self.usage(
                arg.span,
                format!(
                    "\"{name}\" needs the keys {} ({missing_list} {verb} missing)",
                    required.join(" and ")
                ),
                example,
            );
        }
        false
    }

    fn call(&mut self, call: &Call) {
        let arg = &call.arg;
        // A computed argument list can be anything: nothing to check statically.
        if is_call(arg) {
            return;
        }
        let name = call.func.name();
        match call.func {
            Func::GetParam => self.get_param(arg),
            Func::GetResource | Func::GetFile => {
                if !is_string_or_call(arg) {
                    self.usage(
                        arg.span,
                        format!(
                            "Argument to \"{name}\" must be a string, not {}",
                            arg.kind_name()
                        ),
                        if call.func == Func::GetResource {
                            "{get_resource: my_server}"
                        } else {
                            "{get_file: scripts/setup.sh}"
                        },
                    );
                }
            }
            Func::GetAttr => self.get_attr(arg),
            Func::ListJoin => self.list_join(arg),
            Func::StrReplace | Func::StrReplaceStrict | Func::StrReplaceVstrict => {
                self.str_replace(name, arg)
            }
            Func::ResourceFacade => {
                self.one_of(name, arg, &["metadata", "deletion_policy", "update_policy"])
            }
            Func::FnResourceFacade => {
                self.one_of(name, arg, &["Metadata", "DeletionPolicy", "UpdatePolicy"])
            }
            Func::Repeat => self.repeat(arg),
            Func::Digest => self.digest(arg),
            Func::StrSplit => self.str_split(arg),
            Func::MapMerge => self.list_of(name, arg, "merge", true),
            Func::MapReplace => self.map_replace(arg),
            Func::Yaql => self.yaql(arg),
            Func::If | Func::FnIf => self.if_(call.func, arg),
            Func::Equals | Func::FnEquals => {
                let example = if call.func == Func::Equals {
                    "{equals: [{get_param: env}, prod]}"
                } else {
                    "{Fn::Equals: [{Ref: Env}, prod]}"
                };
                let form = format!("Arguments to \"{name}\" must be of the form: [value_1, value_2]");
                let not_a_list = format!("{form}, not {}", arg.kind_name());
                self.sized_list(arg, &not_a_list, &form, |n| n == 2, example);
            }
            Func::Not => {
                if !is_condition_operand(arg) {
                    self.usage(
                        arg.span,
                        format!(
                            "Argument to \"not\" must be a condition, not {}",
                            arg.kind_name()
                        ),
                        "{not: is_prod} or {not: {equals: [{get_param: env}, prod]}}",
                    );
                }
            }
            Func::FnNot => {
                let example = "{Fn::Not: [{Condition: IsProd}]}";
                let form = "Arguments to \"Fn::Not\" must be of the form: [condition]";
                let not_a_list = format!("{form}, not {}", arg.kind_name());
                self.sized_list(arg, &not_a_list, form, |n| n == 1, example);
            }
            Func::And | Func::Or | Func::FnAnd | Func::FnOr => self.and_or(call.func, arg),
            Func::Filter => self.fixed_list(
                name,
                arg,
                "[values, sequence]",
                &[Shape::ListOrNull, Shape::ListOrNull],
                "{filter: [[b], [a, b, c]]} gives [a, c]",
            ),
            Func::MakeUrl => self.make_url(arg),
            Func::ListConcat | Func::ListConcatUnique => self.list_of(name, arg, "concat", false),
            Func::Contains => self.fixed_list(
                name,
                arg,
                "[value, sequence]",
                &[Shape::Any, Shape::Sequence],
                "{contains: [a, [a, b]]} is true",
            ),
            Func::Ref => {
                if !is_string_or_call(arg) {
                    self.usage(
                        arg.span,
                        format!(
                            "Every Ref object must have a single string value, not {}",
                            arg.kind_name()
                        ),
                        "{Ref: InstanceType}",
                    );
                }
            }
            Func::FnGetAtt => self.fn_getatt(arg),
            Func::FnJoin => self.fixed_list(
                name,
                arg,
                "[delimiter, [value, ...]]",
                &[Shape::String, Shape::List],
                "{Fn::Join: [\"-\", [a, b]]} gives \"a-b\"",
            ),
            Func::FnSelect => {
                // AWS: the index is an integer (or a string holding one). Heat: a string
                // index selects a key of a map, so only a literal list needs an integer.
                let index_shape = match arg.as_list() {
                    _ if self.version == Version::Cfn20100909 => Shape::Index,
                    Some([_, coll]) if matches!(coll.kind, ExprKind::List(_)) => Shape::Index,
                    _ => Shape::Key,
                };
                self.fixed_list(
                    name,
                    arg,
                    "[index, collection]",
                    &[index_shape, Shape::Collection],
                    "{Fn::Select: [1, [a, b, c]]} gives b (indexes start at 0)",
                )
            }
            Func::FnSplit => self.fixed_list(
                name,
                arg,
                "[delimiter, string]",
                &[Shape::String, Shape::String],
                "{Fn::Split: [\",\", \"a,b\"]} gives [a, b]",
            ),
            Func::FnReplace => self.fixed_list(
                name,
                arg,
                "[{search: replacement, ...}, string]",
                &[Shape::Map, Shape::String],
                "{Fn::Replace: [{$host: example.com}, \"http://$host/\"]}",
            ),
            Func::FnMemberListToMap => self.fixed_list(
                name,
                arg,
                "[key_name, value_name, [member, ...]]",
                &[Shape::String, Shape::String, Shape::List],
                "{Fn::MemberListToMap: [Key, Value, [\".member.0.Key=k\", \".member.0.Value=v\"]]} \
                 gives {k: v}",
            ),
            // `Fn::GetAZs: null` (as `""`) means the stack's region.
            Func::FnGetAZs if matches!(arg.kind, ExprKind::Null) => {}
            Func::FnBase64
            | Func::FnGetAZs
            | Func::FnImportValue
            | Func::Condition
            | Func::FnRefAll => {
                if !is_string_or_call(arg) {
                    let example = match call.func {
                        Func::FnBase64 => "{Fn::Base64: {Fn::Sub: \"echo ${Env}\"}}",
                        Func::FnGetAZs => "{Fn::GetAZs: \"\"} (the stack's region)",
                        Func::FnImportValue => "{Fn::ImportValue: {Fn::Sub: \"${Network}-VpcId\"}}",
                        Func::Condition => "{Condition: IsProd}",
                        _ => "{Fn::RefAll: AWS::EC2::VPC::Id}",
                    };
                    self.usage(
                        arg.span,
                        format!("{name} takes a string, not {}", arg.kind_name()),
                        example,
                    );
                }
            }
            Func::FnFindInMap => self.find_in_map(arg),
            Func::FnSub => self.fn_sub(arg),
            Func::FnCidr => self.fn_cidr(arg),
            Func::FnLength => {
                self.needs_lang_ext(name, call.name_span);
                if !is_list_or_call(arg) {
                    self.usage(
                        arg.span,
                        format!("Fn::Length takes a list, not {}", arg.kind_name()),
                        "{Fn::Length: [a, b, c]} is 3",
                    );
                }
            }
            Func::FnToJsonString => {
                self.needs_lang_ext(name, call.name_span);
                if !matches!(arg.kind, ExprKind::List(_) | ExprKind::Map(_)) {
                    self.usage(
                        arg.span,
                        format!(
                            "Fn::ToJsonString takes a map or a list, not {}",
                            arg.kind_name()
                        ),
                        "{Fn::ToJsonString: {key: {Ref: Value}}}",
                    );
                }
            }
            Func::FnTransform => self.fn_transform(arg),
            Func::FnContains => self.fixed_list(
                name,
                arg,
                "[[value, ...], value]",
                &[Shape::List, Shape::Any],
                "{Fn::Contains: [[a, b], {Ref: Env}]}",
            ),
            Func::FnEachMemberEquals => self.fixed_list(
                name,
                arg,
                "[[value, ...], value]",
                &[Shape::List, Shape::Any],
                "{Fn::EachMemberEquals: [{Fn::ValueOfAll: [AWS::EC2::Subnet::Id, VpcId]}, {Ref: Vpc}]}",
            ),
            Func::FnEachMemberIn => self.fixed_list(
                name,
                arg,
                "[[value, ...], [value, ...]]",
                &[Shape::List, Shape::List],
                "{Fn::EachMemberIn: [{Fn::ValueOfAll: [AWS::EC2::Subnet::Id, VpcId]}, [vpc-1, vpc-2]]}",
            ),
            Func::FnValueOf | Func::FnValueOfAll => self.fixed_list(
                name,
                arg,
                "[parameter, attribute]",
                &[Shape::String, Shape::String],
                if call.func == Func::FnValueOf {
                    "{Fn::ValueOf: [Subnet, VpcId]}"
                } else {
                    "{Fn::ValueOfAll: [AWS::EC2::Subnet::Id, VpcId]}"
                },
            ),
            Func::FnForEach => {}
        }
    }

    fn needs_lang_ext(&mut self, name: &str, span: Span) {
        if !self.lang_ext && self.version == Version::Cfn20100909 {
            self.diags.push(
                Diagnostic::error(
                    Code::FunctionNotInVersion,
                    span,
                    format!("{name} requires the AWS::LanguageExtensions transform"),
                )
                .with_hint("add `Transform: AWS::LanguageExtensions` to the template"),
            );
        }
    }

    fn get_param(&mut self, arg: &Expr) {
        let usage = "{get_param: image} or {get_param: [servers, 0, name]}";
        match &arg.kind {
            ExprKind::String(_) => {}
            ExprKind::List(items) => {
                let Some(first) = items.first() else {
                    self.usage(
                        arg.span,
                        "Function \"get_param\" must have arguments",
                        usage,
                    );
                    return;
                };
                if !is_string_or_call(first) {
                    self.usage(
                        first.span,
                        format!(
                            "Parameter name in \"get_param\" must be string, not {}",
                            first.kind_name()
                        ),
                        usage,
                    );
                }
                self.path_components("get_param", &items[1..], usage);
            }
            ExprKind::Null => self.usage(
                arg.span,
                "Function \"get_param\" must have arguments",
                usage,
            ),
            _ => self.usage(
                arg.span,
                format!(
                    "Argument to \"get_param\" must be string or list, not {}",
                    arg.kind_name()
                ),
                usage,
            ),
        }
    }

    fn get_attr(&mut self, arg: &Expr) {
        let all_attributes = self.version >= Version::Hot20151015;
        let form = if all_attributes {
            "Arguments to \"get_attr\" can be of the next forms: [resource_name] or \
             [resource_name, attribute, (path), ...]"
        } else {
            "Arguments to \"get_attr\" must be of the form [resource_name, attribute, (path), ...]"
        };
        let usage = "{get_attr: [my_server, first_address]} or {get_attr: [my_server, \
                     addresses, private, 0, addr]}";
        let ExprKind::List(items) = &arg.kind else {
            self.usage(
                arg.span,
                format!(
                    "Argument to \"get_attr\" must be a list, not {}",
                    arg.kind_name()
                ),
                usage,
            );
            return;
        };
        let min = if all_attributes { 1 } else { 2 };
        if items.len() < min {
            self.usage(arg.span, form, usage);
            return;
        }
        if let Some(first) = items.first()
            && !is_string_or_call(first)
        {
            self.usage(first.span, form, usage);
            return;
        }
        if let Some(attr) = items.get(1)
            && !is_string_or_call(attr)
        {
            self.usage(attr.span, form, usage);
        }
        self.path_components("get_attr", items.get(2..).unwrap_or_default(), usage);
    }

    fn list_join(&mut self, arg: &Expr) {
        let multiple = self.version >= Version::Hot20151015;
        let (form, usage) = if multiple {
            (
                "[delimiter, list, ...]",
                "{list_join: [\", \", [a, b], [c]]} gives \"a, b, c\"",
            )
        } else {
            (
                "[delimiter, list]",
                "{list_join: [\", \", [a, b]]} gives \"a, b\"",
            )
        };
        let expected = if multiple {
            "a delimiter and one or more lists"
        } else {
            "a delimiter and one list"
        };
        let Some(items) = self.sized_list(
            arg,
            &format!(
                "Arguments to \"list_join\" must be a list {form}, not {}",
                arg.kind_name()
            ),
            &format!("Arguments to \"list_join\" must be {expected} {form}"),
            |n| if multiple { n >= 2 } else { n == 2 },
            usage,
        ) else {
            return;
        };
        self.delimiter("list_join", &items[0], usage);
        for list in &items[1..] {
            if !matches!(
                list.kind,
                ExprKind::List(_) | ExprKind::Call(_) | ExprKind::Null
            ) {
                self.usage(
                    list.span,
                    format!(
                        "\"list_join\" must operate on a list, not {}",
                        list.kind_name()
                    ),
                    usage,
                );
            }
        }
    }

    fn str_replace(&mut self, name: &str, arg: &Expr) {
        let usage = format!(
            "{{{name}: {{template: \"http://$host/\", params: {{$host: {{get_attr: [server, \
             first_address]}}}}}}}}"
        );
        if !matches!(arg.kind, ExprKind::Map(_)) {
            self.usage(
                arg.span,
                format!(
                    "Arguments to \"{name}\" must be a map {{template: ..., params: ...}}, not {}",
                    arg.kind_name()
                ),
                &usage,
            );
            return;
        }
        if !self.required_keys(name, arg, &["template", "params"], &usage) {
            return;
        }
        let (Some(template), Some(params)) = (arg.get("template"), arg.get("params")) else {
            return;
        };
        if !is_string_or_call(template) {
            self.usage(
                template.span,
                format!(
                    "\"{name}\" template must be a string, not {}",
                    template.kind_name()
                ),
                &usage,
            );
        }
        match &params.kind {
            ExprKind::Map(entries) => {
                // Before 2015-10-15 values must be strings or numbers; later ones are
                // JSON-serialised.
                if self.version < Version::Hot20151015 {
                    for (k, v) in entries {
                        if matches!(v.kind, ExprKind::List(_) | ExprKind::Map(_)) {
                            self.usage(
                                v.span,
                                format!(
                                    "\"{name}\" params must be strings or numbers, param {} is {}",
                                    k.name,
                                    v.kind_name()
                                ),
                                &usage,
                            );
                        }
                    }
                }
            }
            ExprKind::Call(_) => {}
            _ => self.usage(
                params.span,
                format!(
                    "\"{name}\" params must be a map, not {}",
                    params.kind_name()
                ),
                &usage,
            ),
        }
    }

    fn one_of(&mut self, name: &str, arg: &Expr, allowed: &[&str]) {
        let ok = match &arg.kind {
            ExprKind::String(s) => allowed.contains(&s.as_str()),
            ExprKind::Call(_) => true,
            _ => false,
        };
        if !ok {
            let hint = arg
                .as_str()
                .and_then(|s| crate::names::did_you_mean(s, allowed.iter().copied()))
                .unwrap_or_else(|| {
                    format!(
                        "write one of them as a plain string, e.g. {{{name}: {}}}",
                        allowed.first().copied().unwrap_or_default()
                    )
                });
            self.bad(
                arg.span,
                format!(
                    "Incorrect arguments to \"{name}\" should be one of: {}",
                    allowed.join(", ")
                ),
                hint,
            );
        }
    }

    fn repeat(&mut self, arg: &Expr) {
        let usage = "{repeat: {for_each: {<%port%>: [80, 443]}, template: {port: <%port%>}}}";
        if !matches!(arg.kind, ExprKind::Map(_)) {
            self.usage(
                arg.span,
                format!(
                    "Arguments to \"repeat\" must be a map {{for_each: ..., template: ...}}, not {}",
                    arg.kind_name()
                ),
                usage,
            );
            return;
        }
        if !self.required_keys("repeat", arg, &["for_each", "template"], usage) {
            return;
        }
        let Some(for_each) = arg.get("for_each") else {
            return;
        };
        let maps_allowed = self.version >= Version::Hot20161014;
        let mut lengths = Vec::new();
        match &for_each.kind {
            ExprKind::Map(entries) => {
                for (_, v) in entries {
                    match &v.kind {
                        ExprKind::List(items) => lengths.push(items.len()),
                        ExprKind::Call(_) => {}
                        ExprKind::Map(_) if maps_allowed => {}
                        _ => {
                            let what = if maps_allowed {
                                "lists or maps"
                            } else {
                                "lists"
                            };
                            self.usage(
                                v.span,
                                format!(
                                    "The values of the \"for_each\" argument to \"repeat\" must be \
                                     {what}, not {}",
                                    v.kind_name()
                                ),
                                usage,
                            );
                        }
                    }
                }
            }
            ExprKind::Call(_) => {}
            _ => self.usage(
                for_each.span,
                format!(
                    "The \"for_each\" argument to \"repeat\" must contain a map, not {}",
                    for_each.kind_name()
                ),
                usage,
            ),
        }
        if self.version >= Version::Hot20170901
            && let Some(p) = arg.get("permutations")
        {
            match &p.kind {
                ExprKind::Bool(false) => {
                    if lengths.windows(2).any(|w| w[0] != w[1]) {
                        self.usage(
                            for_each.span,
                            "For repeat, the length of for_each values should be equal if no \
                             nested loop (permutations: false)",
                            usage,
                        );
                    }
                }
                ExprKind::Bool(true) | ExprKind::Call(_) => {}
                _ => self.usage(
                    p.span,
                    format!(
                        "\"permutations\" should be boolean type for repeat function, not {}",
                        p.kind_name()
                    ),
                    usage,
                ),
            }
        }
    }

    fn digest(&mut self, arg: &Expr) {
        let usage = "{digest: [sha512, {get_param: password}]}";
        let Some(items) = self.sized_list(
            arg,
            "Argument to function \"digest\" must be a list of strings",
            "Arguments to \"digest\" must be of the form [algorithm, value]",
            |n| n == 2,
            usage,
        ) else {
            return;
        };
        for item in items {
            if !is_string_or_call(item) {
                self.usage(
                    item.span,
                    format!(
                        "Argument to function \"digest\" must be a list of strings, found {}",
                        item.kind_name()
                    ),
                    usage,
                );
            }
        }
        if let Some(alg) = items[0].as_str()
            && !DIGEST_ALGORITHMS.contains(&alg.to_ascii_lowercase().as_str())
        {
            let hint = crate::names::did_you_mean(alg, DIGEST_ALGORITHMS.iter().copied())
                .unwrap_or_else(|| "e.g. {digest: [sha256, my-value]}".to_string());
            self.bad(
                items[0].span,
                format!(
                    "Algorithm must be one of {} (found '{alg}')",
                    DIGEST_ALGORITHMS.join(", ")
                ),
                hint,
            );
        }
    }

    fn str_split(&mut self, arg: &Expr) {
        let usage = "{str_split: [\",\", \"apples,pears\", 1]} gives \"pears\"";
        let form = "[delimiter, string, (index)]";
        let Some(items) = self.sized_list(
            arg,
            &format!(
                "Arguments to \"str_split\" must be a list {form}, not {}",
                arg.kind_name()
            ),
            &format!("Arguments to \"str_split\" must be of the form {form}"),
            |n| (2..=3).contains(&n),
            usage,
        ) else {
            return;
        };
        self.delimiter("str_split", &items[0], usage);
        if !matches!(
            items[1].kind,
            ExprKind::String(_) | ExprKind::Call(_) | ExprKind::Null
        ) {
            self.usage(
                items[1].span,
                format!(
                    "\"str_split\" splits a string, not {}",
                    items[1].kind_name()
                ),
                usage,
            );
        }
        if let Some(index) = items.get(2)
            && integer_like(index).is_none()
        {
            self.usage(
                index.span,
                format!(
                    "Incorrect index to \"str_split\": it must be an integer, found {}",
                    shown(index)
                ),
                usage,
            );
        }
    }

    /// `map_merge` (`maps`) and `list_concat` (`lists`): a list whose items are all maps,
    /// or all lists (calls and nulls accepted).
    fn list_of(&mut self, name: &str, arg: &Expr, verb: &str, maps: bool) {
        let (what, usage) = if maps {
            (
                "maps",
                format!("{{{name}: [{{a: 1}}, {{b: 2}}]}} gives {{a: 1, b: 2}}"),
            )
        } else {
            (
                "lists",
                format!("{{{name}: [[a, b], [c]]}} gives [a, b, c]"),
            )
        };
        let message = format!(
            "Arguments to \"{name}\" must be a list of {what}, not {}",
            arg.kind_name()
        );
        let Some(items) = self.list(arg, &message, &usage) else {
            return;
        };
        for item in items {
            let ok = match item.kind {
                ExprKind::Map(_) => maps,
                ExprKind::List(_) => !maps,
                ExprKind::Call(_) | ExprKind::Null => true,
                _ => false,
            };
            if !ok {
                self.usage(
                    item.span,
                    format!(
                        "Incorrect arguments: Items to {verb} must be {what}, found {}",
                        item.kind_name()
                    ),
                    &usage,
                );
            }
        }
    }

    fn map_replace(&mut self, arg: &Expr) {
        let usage = "{map_replace: [{k1: v1}, {keys: {k1: K1}, values: {v1: V1}}]} gives {K1: V1}";
        let form = "[map, {keys: map, values: map}]";
        let Some(items) = self.sized_list(
            arg,
            &format!(
                "Arguments to \"map_replace\" must be a list {form}, not {}",
                arg.kind_name()
            ),
            &format!("Arguments to \"map_replace\" must be of the form {form}"),
            |n| n == 2,
            usage,
        ) else {
            return;
        };
        if !is_map_or_call(&items[0]) {
            self.usage(
                items[0].span,
                format!("Incorrect arguments: to \"map_replace\", arguments must be a list of maps, found {}", items[0].kind_name()),
                usage,
            );
        }
        match &items[1].kind {
            ExprKind::Map(entries) => {
                for (k, v) in entries {
                    if k.name != "keys" && k.name != "values" {
                        self.usage(
                            k.span,
                            format!("Incorrect arguments to \"map_replace\": unknown key '{}' (keys and values are allowed)", k.name),
                            usage,
                        );
                    } else if !matches!(v.kind, ExprKind::Map(_) | ExprKind::Call(_) | ExprKind::Null) {
                        self.usage(
                            v.span,
                            format!("\"map_replace\" {} must be a map, not {}", k.name, v.kind_name()),
                            usage,
                        );
                    }
                }
            }
            ExprKind::Call(_) => {}
            _ => self.usage(
                items[1].span,
                format!("Incorrect arguments: to \"map_replace\", arguments must be a list of maps, found {}", items[1].kind_name()),
                usage,
            ),
        }
    }

    fn yaql(&mut self, arg: &Expr) {
        let usage = "{yaql: {expression: $.data.ports.max(), data: {ports: [80, 443]}}}";
        let ExprKind::Map(entries) = &arg.kind else {
            self.usage(
                arg.span,
                format!(
                    "Arguments to \"yaql\" must be a map, not {}",
                    arg.kind_name()
                ),
                usage,
            );
            return;
        };
        let unknown: Vec<&str> = entries
            .iter()
            .map(|(k, _)| k.name.as_str())
            .filter(|k| *k != "expression" && *k != "data")
            .collect();
        if !self.required_keys("yaql", arg, &["expression"], usage) {
            return;
        }
        let Some(expression) = arg.get("expression") else {
            return;
        };
        if !unknown.is_empty() {
            self.usage(
                arg.span,
                format!(
                    "\"yaql\" takes the keys expression and data, and does not know {}",
                    unknown
                        .iter()
                        .map(|k| format!("'{k}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                usage,
            );
        }
        if !is_string_or_call(expression) {
            self.usage(
                expression.span,
                format!(
                    "The \"expression\" argument to yaql must contain a string, not {}",
                    expression.kind_name()
                ),
                usage,
            );
        }
    }

    fn if_(&mut self, func: Func, arg: &Expr) {
        let name = func.name();
        let nullable = func == Func::If && self.version >= Version::Hot20210416;
        let form = if nullable {
            format!(
                "Arguments to \"{name}\" must be of the form: [condition_name, value_if_true, \
                 (value_if_false)]"
            )
        } else {
            format!(
                "Arguments to \"{name}\" must be of the form: [condition_name, value_if_true, \
                 value_if_false]"
            )
        };
        let usage = if func == Func::If {
            "{if: [is_prod, m1.large, m1.small]}"
        } else {
            "{Fn::If: [IsProd, m5.large, t3.micro]}"
        };
        let not_a_list = format!("{form}, not {}", arg.kind_name());
        let len_ok = |n| {
            if nullable {
                (2..=3).contains(&n)
            } else {
                n == 3
            }
        };
        let Some(items) = self.sized_list(arg, &not_a_list, &form, len_ok, usage) else {
            return;
        };
        let cond = &items[0];
        if func == Func::FnIf && self.version == Version::Cfn20100909 {
            if cond.as_str().is_none() {
                self.usage(
                    cond.span,
                    format!(
                        "the condition of Fn::If must be a condition name, not {}",
                        cond.kind_name()
                    ),
                    usage,
                );
            }
        } else if !is_condition_operand(cond) {
            self.usage(
                cond.span,
                format!("the condition of \"{name}\" must be a condition name, a boolean or a condition function, not {}", cond.kind_name()),
                usage,
            );
        }
    }

    fn and_or(&mut self, func: Func, arg: &Expr) {
        let name = func.name();
        let usage = match func {
            Func::And => "{and: [is_prod, {equals: [{get_param: zone}, az1]}]}",
            Func::Or => "{or: [is_prod, {equals: [{get_param: zone}, az1]}]}",
            Func::FnAnd => "{Fn::And: [{Condition: IsProd}, {Fn::Equals: [{Ref: Zone}, az1]}]}",
            _ => "{Fn::Or: [{Condition: IsProd}, {Fn::Equals: [{Ref: Zone}, az1]}]}",
        };
        let Some(items) = self.list(
            arg,
            &format!(
                "Arguments to \"{name}\" must be a list of conditions, not {}",
                arg.kind_name()
            ),
            usage,
        ) else {
            return;
        };
        if items.len() < 2 {
            self.usage(
                arg.span,
                format!(
                    "The minimum number of condition arguments to \"{name}\" is 2 (found {}).",
                    items.len()
                ),
                usage,
            );
        }
        if matches!(func, Func::FnAnd | Func::FnOr) && items.len() > 10 {
            self.usage(
                arg.span,
                format!(
                    "The maximum number of condition arguments to \"{name}\" is 10 (found {}).",
                    items.len()
                ),
                usage,
            );
        }
        for item in items {
            if !is_condition_operand(item) {
                self.usage(
                    item.span,
                    format!(
                        "Arguments to \"{name}\" must be conditions, found {}",
                        item.kind_name()
                    ),
                    usage,
                );
            }
        }
    }

    fn make_url(&mut self, arg: &Expr) {
        let usage =
            "{make_url: {scheme: https, host: example.com, port: 8443, path: /v1, query: {a: b}}}";
        let ExprKind::Map(entries) = &arg.kind else {
            self.usage(
                arg.span,
                format!(
                    "The arguments to \"make_url\" must be a map, not {}",
                    arg.kind_name()
                ),
                usage,
            );
            return;
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "query" => {
                    if !is_map_or_call(v) {
                        self.usage(
                            v.span,
                            format!(
                                "The \"query\" argument to \"make_url\" must be a map, not {}",
                                v.kind_name()
                            ),
                            usage,
                        );
                    }
                }
                "port" => match integer_like(v) {
                    Some(Some(p)) if !(1..=65535).contains(&p) => self.usage(
                        v.span,
                        format!("Invalid URL port {p}, must be in range 1-65535"),
                        usage,
                    ),
                    Some(_) => {}
                    None => self.usage(
                        v.span,
                        format!(
                            "Invalid URL port for make_url: {} is not a port number",
                            v.kind_name()
                        ),
                        usage,
                    ),
                },
                key if MAKE_URL_KEYS.contains(&key) => {
                    if !is_string_or_call(v) {
                        self.usage(
                            v.span,
                            format!(
                                "The \"{key}\" argument to \"make_url\" must be a string, not {}",
                                v.kind_name()
                            ),
                            usage,
                        );
                    }
                }
                other => self.usage(
                    k.span,
                    format!(
                        "Invalid arguments to \"make_url\": {other} (allowed: {})",
                        MAKE_URL_KEYS.join(", ")
                    ),
                    usage,
                ),
            }
        }
    }

    /// A list of exactly `shapes.len()` arguments, each of its shape; `example` is a correct
    /// call for the hint.
    fn fixed_list(&mut self, name: &str, arg: &Expr, form: &str, shapes: &[Shape], example: &str) {
        let n = shapes.len();
        let message = format!("Arguments to \"{name}\" must be of the form {form}");
        let Some(items) = self.list(arg, &format!("{message}, not {}", arg.kind_name()), example)
        else {
            return;
        };
        if items.len() != n {
            self.usage(
                arg.span,
                format!(
                    "{message} (expected {}, found {})",
                    count_items(n),
                    items.len()
                ),
                example,
            );
            return;
        }
        for (item, shape) in items.iter().zip(shapes) {
            if !shape.accepts(item) {
                self.usage(
                    item.span,
                    format!(
                        "{message}: expected {} here, found {}",
                        shape.describe(),
                        shown(item)
                    ),
                    example,
                );
            }
        }
    }

    fn fn_getatt(&mut self, arg: &Expr) {
        let usage = "{Fn::GetAtt: [MyBucket, Arn]}";
        let form = "Arguments to \"Fn::GetAtt\" must be of the form [resource_name, attribute]";
        match &arg.kind {
            ExprKind::String(s) => {
                if !s
                    .split_once('.')
                    .is_some_and(|(r, a)| !r.is_empty() && !a.is_empty())
                {
                    self.usage(
                        arg.span,
                        format!("{form} (or \"resource_name.attribute\")"),
                        usage,
                    );
                }
            }
            ExprKind::List(items) => {
                if items.len() != 2 {
                    self.usage(
                        arg.span,
                        format!("{form} (found {})", count_items(items.len())),
                        usage,
                    );
                    return;
                }
                if items[0].as_str().is_none_or(str::is_empty) {
                    self.usage(
                        items[0].span,
                        format!(
                            "{form}: the resource name must be a string, found {}",
                            items[0].kind_name()
                        ),
                        usage,
                    );
                }
                if !is_string_or_call(&items[1]) {
                    self.usage(
                        items[1].span,
                        format!(
                            "{form}: the attribute name must be a string, found {}",
                            items[1].kind_name()
                        ),
                        usage,
                    );
                }
            }
            _ => self.usage(arg.span, format!("{form}, not {}", arg.kind_name()), usage),
        }
    }

    fn find_in_map(&mut self, arg: &Expr) {
        let usage = "{Fn::FindInMap: [RegionMap, {Ref: AWS::Region}, AMI]}";
        let form = "Arguments to \"Fn::FindInMap\" must be of the form [map_name, top_level_key, \
                    second_level_key]";
        let Some(items) = self.list(arg, &format!("{form}, not {}", arg.kind_name()), usage) else {
            return;
        };
        match items.len() {
            3 => {}
            4 if self.version == Version::Cfn20100909 => {
                let default = &items[3];
                if !self.lang_ext {
                    self.usage(
                        default.span,
                        "a fourth (default value) argument to Fn::FindInMap requires the \
                         AWS::LanguageExtensions transform",
                        usage,
                    );
                } else if !(default.get("DefaultValue").is_some()
                    && default.as_map().is_some_and(|m| m.len() == 1))
                {
                    self.usage(
                        default.span,
                        "the fourth argument to Fn::FindInMap must be {DefaultValue: <value>}",
                        "{Fn::FindInMap: [RegionMap, {Ref: AWS::Region}, AMI, {DefaultValue: \
                         ami-0abc}]}",
                    );
                }
            }
            n => {
                self.usage(
                    arg.span,
                    format!("{form} (found {})", count_items(n)),
                    usage,
                );
                return;
            }
        }
        for item in &items[..3] {
            if !matches!(
                item.kind,
                ExprKind::String(_) | ExprKind::Call(_) | ExprKind::Int(_)
            ) {
                self.usage(
                    item.span,
                    format!("{form}: expected a string, found {}", item.kind_name()),
                    usage,
                );
            }
        }
    }

    fn fn_sub(&mut self, arg: &Expr) {
        let usage = "{Fn::Sub: \"arn:aws:s3:::${Bucket}/*\"} or {Fn::Sub: [\"${Name}-logs\", \
                     {Name: {Ref: Env}}]}";
        let template = match &arg.kind {
            ExprKind::String(_) => arg,
            ExprKind::List(items) if (1..=2).contains(&items.len()) => {
                if let Some(vars) = items.get(1)
                    && !is_map_or_call(vars)
                {
                    self.usage(
                        vars.span,
                        format!(
                            "the variables of Fn::Sub must be a map, not {}",
                            vars.kind_name()
                        ),
                        usage,
                    );
                }
                &items[0]
            }
            ExprKind::List(items) => {
                self.usage(
                    arg.span,
                    format!(
                        "Fn::Sub takes a string or a list of [string, map], found {}",
                        count_items(items.len())
                    ),
                    usage,
                );
                return;
            }
            _ => {
                self.usage(
                    arg.span,
                    format!(
                        "Fn::Sub takes a string or a list of [string, map], not {}",
                        arg.kind_name()
                    ),
                    usage,
                );
                return;
            }
        };
        match &template.kind {
            ExprKind::String(s) => {
                if let Err(e) = sub_variables(s) {
                    self.bad(
                        template.span,
                        format!("Fn::Sub: {e}"),
                        "write ${!Name} for a literal ${Name}",
                    );
                }
            }
            ExprKind::Call(_) => {}
            _ => self.usage(
                template.span,
                format!(
                    "the string of Fn::Sub must be a string, not {}",
                    template.kind_name()
                ),
                usage,
            ),
        }
    }

    fn fn_cidr(&mut self, arg: &Expr) {
        let usage = "{Fn::Cidr: [\"10.0.0.0/16\", 6, 8]} gives six /24 blocks";
        let form = "Arguments to \"Fn::Cidr\" must be of the form [ip_block, count, cidr_bits]";
        let not_a_list = format!("{form}, not {}", arg.kind_name());
        let Some(items) = self.sized_list(arg, &not_a_list, form, |n| n == 3, usage) else {
            return;
        };
        if !is_string_or_call(&items[0]) {
            self.usage(
                items[0].span,
                format!(
                    "{form}: the ip block must be a string, found {}",
                    items[0].kind_name()
                ),
                usage,
            );
        }
        for (item, what, max) in [(&items[1], "count", 256), (&items[2], "cidr bits", 128)] {
            match integer_like(item) {
                Some(Some(n)) if !(1..=max).contains(&n) => self.usage(
                    item.span,
                    format!("{form}: {what} must be between 1 and {max}, found {n}"),
                    usage,
                ),
                Some(_) => {}
                None => self.usage(
                    item.span,
                    format!(
                        "{form}: {what} must be an integer, found {}",
                        item.kind_name()
                    ),
                    usage,
                ),
            }
        }
    }

    fn fn_transform(&mut self, arg: &Expr) {
        // A list runs several macros in turn.
        if let ExprKind::List(items) = &arg.kind {
            for item in items.iter().filter(|i| !is_call(i)) {
                self.fn_transform(item);
            }
            return;
        }
        let usage = "{Fn::Transform: {Name: AWS::Include, Parameters: {Location: \
                     s3://bucket/part.yaml}}}";
        let ExprKind::Map(entries) = &arg.kind else {
            self.usage(
                arg.span,
                format!(
                    "Fn::Transform takes a map (or a list of maps), not {}",
                    arg.kind_name()
                ),
                usage,
            );
            return;
        };
        match arg.get("Name") {
            Some(n) if is_string_or_call(n) => {}
            Some(n) => self.usage(
                n.span,
                format!(
                    "the Name of Fn::Transform must be a string, not {}",
                    n.kind_name()
                ),
                usage,
            ),
            None => self.usage(arg.span, "Fn::Transform needs a Name", usage),
        }
        for (k, v) in entries {
            match k.name.as_str() {
                "Name" => {}
                "Parameters" => {
                    if !is_map_or_call(v) {
                        self.usage(
                            v.span,
                            format!(
                                "the Parameters of Fn::Transform must be a map, not {}",
                                v.kind_name()
                            ),
                            usage,
                        );
                    }
                }
                other => self.usage(
                    k.span,
                    format!(
                        "unknown key '{other}' in Fn::Transform (Name and Parameters are allowed)"
                    ),
                    usage,
                ),
            }
        }
    }
}

/// What a fixed-position argument may be (calls are always accepted).
#[derive(Clone, Copy)]
enum Shape {
    Any,
    String,
    List,
    ListOrNull,
    Map,
    /// A list, map or string (`contains`' sequence).
    Sequence,
    /// A list or map (`Fn::Select`'s collection).
    Collection,
    /// An integer or a string holding one.
    Index,
    /// An integer or a string (an index or a map key).
    Key,
}

impl Shape {
    fn accepts(self, e: &Expr) -> bool {
        if is_call(e) {
            return true;
        }
        match self {
            Shape::Any => true,
            Shape::String => matches!(e.kind, ExprKind::String(_)),
            Shape::List => matches!(e.kind, ExprKind::List(_)),
            Shape::ListOrNull => matches!(e.kind, ExprKind::List(_) | ExprKind::Null),
            Shape::Map => matches!(e.kind, ExprKind::Map(_)),
            Shape::Sequence => matches!(e.kind, ExprKind::List(_) | ExprKind::String(_)),
            Shape::Collection => matches!(e.kind, ExprKind::List(_) | ExprKind::Map(_)),
            Shape::Index => integer_like(e).is_some(),
            Shape::Key => matches!(e.kind, ExprKind::Int(_) | ExprKind::String(_)),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Any => "any value",
            Shape::String => "a string",
            Shape::List => "a list",
            Shape::ListOrNull => "a list",
            Shape::Map => "a map",
            Shape::Sequence => "a list or a string",
            Shape::Collection => "a list or a map",
            Shape::Index => "an integer index",
            Shape::Key => "an integer index or a key",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity)]
mod tests {
    use super::*;
    use crate::template::parse::expr::testing::node;
    use crate::template::parse::expr::{ExprContext, parse_expr};
    use serde_json::json;

    fn check(
        version: Version,
        cond: bool,
        lang_ext: bool,
        j: serde_json::Value,
    ) -> Vec<Diagnostic> {
        let mut parse_diags = Vec::new();
        let ctx = ExprContext {
            version,
            in_condition: cond,
        };
        let e = parse_expr(&node(&j), &ctx, &mut parse_diags);
        let mut diags = Vec::new();
        check_expr(&e, version, lang_ext, &mut diags);
        diags
    }

    /// The hint adds to the message instead of repeating it, and counts are pluralised.
    fn assert_complementary(d: &Diagnostic) {
        assert!(!d.message.contains(" 1 items"), "{}", d.message);
        if let Some(hint) = &d.hint {
            let body = hint.strip_prefix("e.g. ").unwrap_or(hint);
            assert!(!d.message.contains(body), "{} / {hint}", d.message);
        }
    }

    /// `want` is `None` for no diagnostic, or a fragment of the message of the one
    /// diagnostic `d` must hold.
    fn assert_outcome(d: &[Diagnostic], case: &str, want: Option<&str>) {
        match want {
            None => assert!(d.is_empty(), "{case}: {d:#?}"),
            Some(fragment) => {
                assert_eq!(d.len(), 1, "{case}: {d:#?}");
                assert_complementary(&d[0]);
                assert!(
                    d[0].message.contains(fragment),
                    "{case}: {:?} lacks {fragment:?}",
                    d[0].message
                );
            }
        }
    }

    /// (version, expression, None = valid / Some(message fragment) = one E3013 error)
    #[test]
    fn hot_shapes() {
        use Version::*;
        let cases: Vec<(Version, serde_json::Value, Option<&str>)> = vec![
            (Hot20130523, json!({"get_param": "p"}), None),
            (Hot20130523, json!({"get_param": ["p", "k", 0]}), None),
            (
                Hot20130523,
                json!({"get_param": []}),
                Some("must have arguments"),
            ),
            (
                Hot20130523,
                json!({"get_param": 3}),
                Some("must be string or list"),
            ),
            (
                Hot20130523,
                json!({"get_param": [["p"]]}),
                Some("Parameter name in \"get_param\" must be string"),
            ),
            (
                Hot20130523,
                json!({"get_param": ["p", {"a": 1}]}),
                Some("Path components"),
            ),
            (
                Hot20130523,
                json!({"get_resource": ["r"]}),
                Some("Argument to \"get_resource\" must be a string"),
            ),
            (
                Hot20130523,
                json!({"get_file": {"a": 1}}),
                Some("Argument to \"get_file\" must be a string"),
            ),
            (
                Hot20130523,
                json!({"get_attr": [["random_str", "value"]]}),
                Some(
                    "Arguments to \"get_attr\" must be of the form [resource_name, attribute, (path), ...]",
                ),
            ),
            (
                Hot20130523,
                json!({"get_attr": ["r"]}),
                Some("must be of the form"),
            ),
            (Hot20151015, json!({"get_attr": ["r"]}), None),
            (
                Hot20151015,
                json!({"get_attr": []}),
                Some("can be of the next forms"),
            ),
            (
                Hot20151015,
                json!({"get_attr": "r.a"}),
                Some("must be a list"),
            ),
            (
                Hot20151015,
                json!({"get_attr": ["r", "a", "k", 1, {"get_param": "x"}]}),
                None,
            ),
            (
                Hot20151015,
                json!({"get_attr": [{"get_param": "r"}, "a"]}),
                None,
            ),
            (Hot20130523, json!({"list_join": [",", ["a"]]}), None),
            (
                Hot20130523,
                json!({"list_join": [",", ["a"], ["b"]]}),
                Some(
                    "Arguments to \"list_join\" must be a delimiter and one list [delimiter, list] (found 3 items)",
                ),
            ),
            (Hot20151015, json!({"list_join": [",", ["a"], ["b"]]}), None),
            (
                Hot20151015,
                json!({"list_join": [1, ["a"]]}),
                Some("delimiter must be a string"),
            ),
            (
                Hot20151015,
                json!({"list_join": [",", "a"]}),
                Some("must operate on a list"),
            ),
            (
                Hot20151015,
                json!({"str_replace": {"template": "x", "params": {"a": [1]}}}),
                None,
            ),
            (
                Hot20150430,
                json!({"str_replace": {"template": "x", "params": {"a": [1]}}}),
                Some("params must be strings or numbers"),
            ),
            (
                Hot20150430,
                json!({"str_replace": {"template": "x"}}),
                Some("\"str_replace\" needs the keys template and params (params is missing)"),
            ),
            (
                Hot20150430,
                json!({"str_replace": {"template": 1, "params": {}}}),
                Some("template must be a string"),
            ),
            (
                Hot20150430,
                json!({"str_replace": {"template": "x", "params": "y"}}),
                Some("params must be a map"),
            ),
            (
                Hot20170224,
                json!({"str_replace_strict": ["x"]}),
                Some("must be a map"),
            ),
            (Hot20130523, json!({"resource_facade": "metadata"}), None),
            (
                Hot20130523,
                json!({"resource_facade": "foo"}),
                Some("should be one of: metadata, deletion_policy, update_policy"),
            ),
            (
                Hot20150430,
                json!({"repeat": {"for_each": {"%x%": [1, 2]}, "template": "%x%"}}),
                None,
            ),
            (
                Hot20150430,
                json!({"repeat": {"for_each": {"%x%": {"a": 1}}, "template": "%x%"}}),
                Some("must be lists"),
            ),
            (
                Hot20161014,
                json!({"repeat": {"for_each": {"%x%": {"a": 1}}, "template": "%x%"}}),
                None,
            ),
            (
                Hot20150430,
                json!({"repeat": {"for_each": [1], "template": "%x%"}}),
                Some("must contain a map"),
            ),
            (
                Hot20150430,
                json!({"repeat": {"template": "%x%"}}),
                Some("\"repeat\" needs the keys for_each and template (for_each is missing)"),
            ),
            (
                Hot20150430,
                json!({"repeat": ["x"]}),
                Some("Arguments to \"repeat\" must be a map"),
            ),
            (
                Hot20170901,
                json!({"repeat": {"for_each": {"%a%": [1], "%b%": [1, 2]}, "template": "x", "permutations": false}}),
                Some("length of for_each values should be equal"),
            ),
            (
                Hot20170901,
                json!({"repeat": {"for_each": {"%a%": [1]}, "template": "x", "permutations": "no"}}),
                Some("\"permutations\" should be boolean"),
            ),
            (Hot20150430, json!({"digest": ["sha512", "v"]}), None),
            (Hot20150430, json!({"digest": ["SHA256", "v"]}), None),
            (
                Hot20150430,
                json!({"digest": ["crc32", "v"]}),
                Some("Algorithm must be one of md5, sha1"),
            ),
            (
                Hot20150430,
                json!({"digest": ["md5"]}),
                Some("[algorithm, value] (found 1 item)"),
            ),
            (
                Hot20150430,
                json!({"digest": "md5"}),
                Some("must be a list of strings"),
            ),
            (
                Hot20150430,
                json!({"digest": ["md5", 1]}),
                Some("must be a list of strings"),
            ),
            (Hot20151015, json!({"str_split": [",", "a,b"]}), None),
            (Hot20151015, json!({"str_split": [",", "a,b", "1"]}), None),
            (
                Hot20151015,
                json!({"str_split": [",", "a,b", "x"]}),
                Some("Incorrect index"),
            ),
            (
                Hot20151015,
                json!({"str_split": [","]}),
                Some("Arguments to \"str_split\" must be"),
            ),
            (
                Hot20151015,
                json!({"str_split": ","}),
                Some("Arguments to \"str_split\" must be"),
            ),
            (
                Hot20160408,
                json!({"map_merge": [{"a": 1}, {"get_param": "m"}]}),
                None,
            ),
            (
                Hot20160408,
                json!({"map_merge": [{"a": 1}, [1]]}),
                Some("Items to merge must be maps"),
            ),
            (
                Hot20160408,
                json!({"map_merge": {"a": 1}}),
                Some("Arguments to \"map_merge\" must be a list of maps, not a map"),
            ),
            (
                Hot20161014,
                json!({"map_replace": [{"a": 1}, {"keys": {"a": "b"}}]}),
                None,
            ),
            (
                Hot20161014,
                json!({"map_replace": [{"a": 1}, {"kees": {"a": "b"}}]}),
                Some("unknown key 'kees'"),
            ),
            (
                Hot20161014,
                json!({"map_replace": [{"a": 1}]}),
                Some(
                    "Arguments to \"map_replace\" must be of the form [map, {keys: map, values: map}] (found 1 item)",
                ),
            ),
            (
                Hot20161014,
                json!({"yaql": {"expression": "$.data", "data": {}}}),
                None,
            ),
            (
                Hot20161014,
                json!({"yaql": {"expression": {"foo": "bar"}, "data": "$.data"}}),
                Some("The \"expression\" argument to yaql must contain a string"),
            ),
            (
                Hot20161014,
                json!({"yaql": {"data": 1}}),
                Some("\"yaql\" needs the keys expression (expression is missing)"),
            ),
            (Hot20161014, json!({"yaql": "x"}), Some("must be a map")),
            (Hot20161014, json!({"if": ["c", 1, 2]}), None),
            (
                Hot20161014,
                json!({"if": ["c", 1]}),
                Some(
                    "Arguments to \"if\" must be of the form: [condition_name, value_if_true, value_if_false]",
                ),
            ),
            (Hot20210416, json!({"if": ["c", 1]}), None),
            (Hot20210416, json!({"if": ["c"]}), Some("(value_if_false)")),
            (
                Hot20161014,
                json!({"if": [[1], 1, 2]}),
                Some("the condition of \"if\""),
            ),
            (Hot20161014, json!({"if": [{"equals": [1, 1]}, 1, 2]}), None),
            (Hot20170224, json!({"filter": [[1], [1, 2]]}), None),
            (
                Hot20170224,
                json!({"filter": [[1]]}),
                Some("(expected 2 items, found 1)"),
            ),
            (
                Hot20170224,
                json!({"filter": ["a", [1]]}),
                Some("expected a list here"),
            ),
            (
                Hot20170901,
                json!({"make_url": {"scheme": "http", "host": "h", "port": 80, "query": {"a": "b"}}}),
                None,
            ),
            (Hot20170901, json!({"make_url": {"port": "8080"}}), None),
            (
                Hot20170901,
                json!({"make_url": {"port": 70000}}),
                Some("Invalid URL port 70000"),
            ),
            (
                Hot20170901,
                json!({"make_url": {"port": "http"}}),
                Some("Invalid URL port"),
            ),
            (
                Hot20170901,
                json!({"make_url": {"host": ["h"]}}),
                Some("The \"host\" argument to \"make_url\" must be a string"),
            ),
            (
                Hot20170901,
                json!({"make_url": {"query": "a=b"}}),
                Some("The \"query\" argument to \"make_url\" must be a map"),
            ),
            (
                Hot20170901,
                json!({"make_url": {"hots": "h"}}),
                Some("Invalid arguments to \"make_url\": hots"),
            ),
            (
                Hot20170901,
                json!({"make_url": "http://x"}),
                Some("must be a map"),
            ),
            (Hot20170901, json!({"list_concat": [[1], [2], null]}), None),
            (
                Hot20170901,
                json!({"list_concat_unique": [[1], "x"]}),
                Some("Items to concat must be lists"),
            ),
            (Hot20170901, json!({"contains": ["a", ["a"]]}), None),
            (Hot20170901, json!({"contains": ["a", "abc"]}), None),
            (
                Hot20170901,
                json!({"contains": ["a"]}),
                Some("(expected 2 items, found 1)"),
            ),
            (
                Hot20170901,
                json!({"contains": ["a", {"a": 1}]}),
                Some("a list or a string"),
            ),
            // a computed argument list is never checked
            (Hot20170901, json!({"list_join": {"get_param": "x"}}), None),
        ];
        for (version, input, want) in cases {
            let d = check(version, false, false, input.clone());
            assert_outcome(&d, &format!("{version} {input}"), want);
            if want.is_some() {
                assert_eq!(d[0].code, Code::BadArguments);
            }
        }
    }

    #[test]
    fn condition_shapes() {
        use Version::*;
        let cases: Vec<(Version, serde_json::Value, Option<&str>)> = vec![
            (Hot20161014, json!({"equals": [1, 2]}), None),
            (
                Hot20161014,
                json!({"equals": [1]}),
                Some("[value_1, value_2] (found 1 item)"),
            ),
            (
                Hot20161014,
                json!({"equals": "a"}),
                Some("must be of the form: [value_1, value_2]"),
            ),
            (Hot20161014, json!({"not": "c"}), None),
            (
                Hot20161014,
                json!({"not": [1]}),
                Some("Argument to \"not\" must be a condition"),
            ),
            (Hot20161014, json!({"and": ["a", true]}), None),
            (
                Hot20161014,
                json!({"and": ["a"]}),
                Some("The minimum number of condition arguments to \"and\" is 2 (found 1)."),
            ),
            (
                Hot20161014,
                json!({"or": "a"}),
                Some("must be a list of conditions"),
            ),
            (
                Hot20161014,
                json!({"or": ["a", 1]}),
                Some("must be conditions"),
            ),
            (Cfn20100909, json!({"Fn::Not": [{"Condition": "c"}]}), None),
            (
                Cfn20100909,
                json!({"Fn::Not": [{"Condition": "c"}, {"Condition": "d"}]}),
                Some("[condition] (found 2 items)"),
            ),
            (
                Cfn20100909,
                json!({"Fn::And": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]}),
                Some("maximum number"),
            ),
            (
                Cfn20100909,
                json!({"Condition": ["c"]}),
                Some("Condition takes a string"),
            ),
        ];
        for (version, input, want) in cases {
            let d = check(version, true, false, input.clone());
            assert_outcome(&d, &format!("{version} {input}"), want);
        }
    }

    #[test]
    fn cfn_shapes() {
        use Version::*;
        let cases: Vec<(Version, serde_json::Value, Option<&str>)> = vec![
            (Cfn20100909, json!({"Ref": "x"}), None),
            (
                Cfn20100909,
                json!({"Ref": ["x"]}),
                Some("Every Ref object must have a single string value"),
            ),
            (Cfn20100909, json!({"Fn::GetAtt": ["R", "Arn"]}), None),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": ["R", {"Ref": "A"}]}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": "R.Endpoint.Address"}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": "R"}),
                Some("resource_name.attribute"),
            ),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": ["R"]}),
                Some("[resource_name, attribute] (found 1 item)"),
            ),
            (
                Cfn20100909,
                json!({"Fn::GetAtt": [{"Ref": "R"}, "Arn"]}),
                Some("the resource name must be a string"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Join": ["", ["a", {"Ref": "b"}]]}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::Join": ["", "a"]}),
                Some("expected a list here"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Join": [["a"]]}),
                Some("(expected 2 items, found 1)"),
            ),
            (Cfn20100909, json!({"Fn::Select": ["0", ["a"]]}), None),
            (
                Cfn20100909,
                json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::Select": ["first", ["a"]]}),
                Some("an integer index"),
            ),
            (Cfn20100909, json!({"Fn::Split": [",", "a,b"]}), None),
            (
                Cfn20100909,
                json!({"Fn::Split": [",", ["a"]]}),
                Some("expected a string here"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Replace": [{"a": "b"}, "abc"]}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::MemberListToMap": ["Name", "Value", ["a"]]}),
                None,
            ),
            (Cfn20100909, json!({"Fn::ResourceFacade": "Metadata"}), None),
            (
                Cfn20100909,
                json!({"Fn::ResourceFacade": "metadata"}),
                Some("Metadata, DeletionPolicy, UpdatePolicy"),
            ),
            (Cfn20100909, json!({"Fn::Base64": "x"}), None),
            (
                Cfn20100909,
                json!({"Fn::Base64": ["x"]}),
                Some("Fn::Base64 takes a string"),
            ),
            (Cfn20100909, json!({"Fn::GetAZs": ""}), None),
            (
                Cfn20100909,
                json!({"Fn::GetAZs": {"Ref": "AWS::Region"}}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::ImportValue": {"Fn::Sub": "${S}-Vpc"}}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::ImportValue": ["x"]}),
                Some("Fn::ImportValue takes a string"),
            ),
            (Cfn20100909, json!({"Fn::FindInMap": ["M", "a", "b"]}), None),
            (
                Cfn20100909,
                json!({"Fn::FindInMap": ["M", "a"]}),
                Some("(found 2 items)"),
            ),
            (
                Cfn20100909,
                json!({"Fn::FindInMap": ["M", "a", "b", {"DefaultValue": 1}]}),
                Some("requires the AWS::LanguageExtensions transform"),
            ),
            (
                Cfn20100909,
                json!({"Fn::FindInMap": ["M", ["a"], "b"]}),
                Some("expected a string"),
            ),
            (Cfn20100909, json!({"Fn::If": ["C", 1, 2]}), None),
            (
                Cfn20100909,
                json!({"Fn::If": ["C", 1]}),
                Some("(found 2 items)"),
            ),
            (
                Cfn20100909,
                json!({"Fn::If": [{"Fn::Equals": [1, 1]}, 1, 2]}),
                Some("must be a condition name"),
            ),
            (Cfn20100909, json!({"Fn::Sub": "${A}-${B.C}"}), None),
            (Cfn20100909, json!({"Fn::Sub": ["${A}", {"A": "x"}]}), None),
            (
                Cfn20100909,
                json!({"Fn::Sub": ["${A}", ["x"]]}),
                Some("variables of Fn::Sub must be a map"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Sub": ["a", {}, 3]}),
                Some("found 3 items"),
            ),
            (Cfn20100909, json!({"Fn::Sub": 3}), Some("not a number")),
            (
                Cfn20100909,
                json!({"Fn::Sub": "echo ${unterminated"}),
                Some("Fn::Sub: unterminated ${ at offset 5"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Cidr": ["10.0.0.0/16", 6, "8"]}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::Cidr": ["10.0.0.0/16", 300, 8]}),
                Some("count must be between 1 and 256"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Cidr": ["10.0.0.0/16", 6, "x"]}),
                Some("cidr bits must be an integer"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Cidr": ["10.0.0.0/16", 6]}),
                Some("(found 2 items)"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://x"}}}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::Transform": {"Parameters": {}}}),
                Some("needs a Name"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Transform": {"Name": "X", "Other": 1}}),
                Some("unknown key 'Other'"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Transform": "X"}),
                Some("takes a map"),
            ),
            (
                Cfn20100909,
                json!({"Fn::Transform": [{"Name": "A"}, {"Name": "B", "Parameters": {}}]}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::Transform": [{"Parameters": {}}]}),
                Some("needs a Name"),
            ),
            (Cfn20100909, json!({"Fn::GetAZs": null}), None),
            (
                Cfn20100909,
                json!({"Fn::Base64": {"Fn::GetStackOutput": {"StackName": "s", "OutputName": "o"}}}),
                None,
            ),
            (
                Cfn20100909,
                json!({"Fn::Base64": {"Fn::GetStackOutput": 1, "x": 2}}),
                Some("takes a string"),
            ),
            (
                Hot20130523,
                json!({"Fn::Select": ["data_id", {"get_attr": ["w", "data"]}]}),
                None,
            ),
            (Hot20130523, json!({"Fn::Select": ["foo", {"a": 1}]}), None),
            (
                Hot20130523,
                json!({"Fn::Select": ["foo", [1]]}),
                Some("an integer index"),
            ),
            (Heat20121212, json!({"Fn::GetAtt": ["R", "Arn"]}), None),
            (Heat20121212, json!({"Fn::Select": [1, ["a", "b"]]}), None),
            (
                Hot20130523,
                json!({"Fn::Select": [1]}),
                Some("[index, collection]"),
            ),
        ];
        for (version, input, want) in cases {
            let d = check(version, false, false, input.clone());
            assert_outcome(&d, &format!("{version} {input}"), want);
        }
    }

    #[test]
    fn rules_and_language_extension_shapes() {
        let v = Version::Cfn20100909;
        let cases: Vec<(bool, serde_json::Value, Option<&str>)> = vec![
            (true, json!({"Fn::Contains": [["a"], {"Ref": "P"}]}), None),
            (
                true,
                json!({"Fn::Contains": ["a", "b"]}),
                Some("expected a list here"),
            ),
            (
                true,
                json!({"Fn::EachMemberEquals": [{"Fn::RefAll": "AWS::EC2::VPC::Id"}, "x"]}),
                None,
            ),
            (
                true,
                json!({"Fn::EachMemberIn": [["a"], "b"]}),
                Some("expected a list here"),
            ),
            (true, json!({"Fn::ValueOf": ["P", "Tags"]}), None),
            (
                true,
                json!({"Fn::ValueOfAll": ["AWS::EC2::VPC::Id", 1]}),
                Some("expected a string here"),
            ),
            (
                true,
                json!({"Fn::RefAll": ["x"]}),
                Some("Fn::RefAll takes a string"),
            ),
        ];
        for (cond, input, want) in cases {
            let d = check(v, cond, true, input.clone());
            assert_outcome(&d, &input.to_string(), want);
        }
        // LanguageExtensions functions
        assert!(check(v, false, true, json!({"Fn::Length": [1, 2]})).is_empty());
        assert!(check(v, false, true, json!({"Fn::Length": {"Ref": "L"}})).is_empty());
        let d = check(v, false, true, json!({"Fn::Length": "abc"}));
        assert!(d[0].message.contains("Fn::Length takes a list"));
        let d = check(v, false, true, json!({"Fn::ToJsonString": "abc"}));
        assert!(
            d[0].message
                .contains("Fn::ToJsonString takes a map or a list")
        );
        let d = check(
            v,
            false,
            true,
            json!({"Fn::FindInMap": ["M", "a", "b", {"Default": 1}]}),
        );
        assert!(d[0].message.contains("{DefaultValue: <value>}"));
        let d = check(v, false, false, json!({"Fn::Length": [1]}));
        assert_eq!(d[0].code, Code::FunctionNotInVersion);
        assert!(
            d[0].message
                .contains("requires the AWS::LanguageExtensions transform")
        );
    }

    #[test]
    fn select_index_follows_the_format() {
        let select = |version, j| check(version, false, false, j);
        // AWS: the index is an integer (or a string holding one), whatever the collection
        let d = select(
            Version::Cfn20100909,
            json!({"Fn::Select": ["first", {"Ref": "Names"}]}),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].message,
            "Arguments to \"Fn::Select\" must be of the form [index, collection]: expected an \
             integer index here, found \"first\""
        );
        assert_eq!(
            d[0].hint.as_deref(),
            Some("e.g. {Fn::Select: [1, [a, b, c]]} gives b (indexes start at 0)")
        );
        assert!(
            select(
                Version::Cfn20100909,
                json!({"Fn::Select": ["0", {"Ref": "Names"}]})
            )
            .is_empty()
        );
        assert!(
            select(
                Version::Cfn20100909,
                json!({"Fn::Select": [{"Ref": "I"}, {"Ref": "Names"}]})
            )
            .is_empty()
        );
        // Heat: a string selects a key of a map, so only a literal list needs an integer
        for v in [Version::Heat20121212, Version::Hot20130523] {
            assert!(select(v, json!({"Fn::Select": ["first", {"Ref": "Names"}]})).is_empty());
            assert_eq!(select(v, json!({"Fn::Select": ["first", ["a"]]})).len(), 1);
        }
    }

    #[test]
    fn misspelt_keys_are_pointed_at() {
        let n = node(&json!({"str_replace": {"template": "$a", "param": {"$a": 1}}}));
        let mut diags = Vec::new();
        let e = parse_expr(&n, &ExprContext::value(Version::Hot20210416), &mut diags);
        check_expr(&e, Version::Hot20210416, false, &mut diags);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(
            diags[0].message,
            "\"str_replace\" has no params key, and does not know the key 'param'"
        );
        assert_eq!(diags[0].hint.as_deref(), Some("did you mean 'params'?"));
        let param_key = &n.as_map().unwrap()[0].1.as_map().unwrap()[1].0;
        assert_eq!(diags[0].span, param_key.span);
        // repeat and yaql too; a key far from any required one is just "missing"
        let cases = [
            (
                json!({"repeat": {"for_each": {"%x%": [1]}, "templat": "%x%"}}),
                "\"repeat\" has no template key, and does not know the key 'templat'",
            ),
            (
                json!({"yaql": {"expresion": "$.data"}}),
                "\"yaql\" has no expression key, and does not know the key 'expresion'",
            ),
            (
                json!({"str_replace": {"text": "x"}}),
                "\"str_replace\" needs the keys template and params (template and params are \
                 missing)",
            ),
        ];
        for (j, want) in cases {
            let d = check(Version::Hot20210416, false, false, j.clone());
            assert_eq!(d.len(), 1, "{j}: {d:?}");
            assert_eq!(d[0].message, want);
            assert_complementary(&d[0]);
        }
    }

    #[test]
    fn unavailable_functions_are_not_rechecked() {
        // Fn::Join in HOT 2015-04-30 is removed (reported at parse time); its shape is not
        // checked again.
        assert!(check(Version::Hot20150430, false, false, json!({"Fn::Join": 3})).is_empty());
        // nested calls are checked
        let d = check(
            Version::Hot20210416,
            false,
            false,
            json!({"list_join": [",", [{"get_attr": []}]]}),
        );
        assert_eq!(d.len(), 1);
    }
}
