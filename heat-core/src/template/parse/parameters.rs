//! The parameters and parameter_groups sections.
//! OWNER: parameters helper.
//!
//! HOT follows Heat's `HOTParamSchema` classes: keys `type, description, default, label,
//! hidden, immutable, constraints` (+ `tags` from 2018-03-02, the version whose template class
//! uses `HOTParamSchema20180302`); types `string, number, comma_delimited_list, json, boolean`;
//! constraints a list of maps, each with one of `length, range, allowed_values,
//! allowed_pattern, custom_constraint` (+ `modulo` from 2017-02-24) and an optional
//! `description`.
//!
//! CloudFormation follows AWS for `AWSTemplateFormatVersion` templates (its parameter types,
//! including the AWS-specific and SSM ones) plus what Heat adds (`Json`, `Boolean`, `Label`);
//! Heat's 2012-12-12 dialect has Heat's five types only. Constraints come from `MinValue` /
//! `MaxValue`, `MinLength` / `MaxLength`, `AllowedValues`, `AllowedPattern`, with
//! `ConstraintDescription` as the description of all of them.
//!
//! Defaults are not checked here: [`crate::parameters::validate_defaults`] checks them against
//! the type and the constraints (the check pipeline calls it once per template).

use crate::diagnostic::{Code, Diagnostic};
use crate::parameters::{
    Number, check_pattern, constraint_applies, constraint_kind_name, did_you_mean, parse_bool,
    parse_number, type_name,
};
use crate::span::{Span, Spanned};
use crate::template::model::{
    Constraint, ConstraintKind, Parameter, ParameterGroup, ParameterType,
};
use crate::template::node::{Key, Node, Value};
use crate::template::parse::util::{list_hint, section_hint, string_hint};
use crate::template::version::{Format, Version};

/// HOT parameter keys of every version.
const HOT_KEYS: &[&str] = &[
    "type",
    "description",
    "default",
    "label",
    "hidden",
    "constraints",
    "immutable",
];

/// CloudFormation parameter keys (AWS's, plus Heat's `Label`).
const CFN_KEYS: &[&str] = &[
    "Type",
    "Default",
    "NoEcho",
    "AllowedValues",
    "AllowedPattern",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "Description",
    "ConstraintDescription",
    "Label",
];

/// HOT parameter types.
pub const HOT_TYPES: &[&str] = &[
    "string",
    "number",
    "comma_delimited_list",
    "json",
    "boolean",
];

/// The parameter types of Heat's CloudFormation (both dialects).
pub const HEAT_CFN_TYPES: &[&str] = &["String", "Number", "CommaDelimitedList", "Json", "Boolean"];

/// The AWS-specific parameter types (single values).
pub const AWS_SPECIFIC_TYPES: &[&str] = &[
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::Volume::Id",
    "AWS::EC2::VPC::Id",
    "AWS::Route53::HostedZone::Id",
];

/// The HOT constraint keys (Heat checks keys against this list in every version).
const HOT_CONSTRAINT_KEYS: &[&str] = &[
    "description",
    "length",
    "range",
    "modulo",
    "allowed_values",
    "allowed_pattern",
    "custom_constraint",
];

/// What to do about an allowed pattern that does not compile.
const PATTERN_HINT: &str = "fix the regular expression (Python `re` syntax): a literal '[', \
     '(', '{', '.', '*', '+', '?' or '\\' needs a backslash before it, and every '[' and '(' \
     needs its ']' or ')'";

/// How a modulo constraint is written.
const MODULO_HINT: &str = "write `modulo: {step: 2, offset: 1}` with whole numbers (accepts \
                           values where value % step == offset)";

/// Whether an AWS type name (other than the basic ones) is one AWS documents.
fn is_aws_specific_type(name: &str) -> bool {
    let listable = |inner: &str| {
        AWS_SPECIFIC_TYPES.contains(&inner) && inner != "AWS::EC2::KeyPair::KeyName"
            || inner == "String"
    };
    if AWS_SPECIFIC_TYPES.contains(&name) || name == "AWS::SSM::Parameter::Name" {
        return true;
    }
    if let Some(inner) = name.strip_prefix("List<").and_then(|s| s.strip_suffix('>')) {
        return listable(inner);
    }
    if let Some(inner) = name
        .strip_prefix("AWS::SSM::Parameter::Value<")
        .and_then(|s| s.strip_suffix('>'))
    {
        if matches!(
            inner,
            "String" | "Number" | "CommaDelimitedList" | "AWS::SSM::Parameter::Name"
        ) || AWS_SPECIFIC_TYPES.contains(&inner)
        {
            return true;
        }
        if let Some(list_inner) = inner
            .strip_prefix("List<")
            .and_then(|s| s.strip_suffix('>'))
        {
            return list_inner == "Number" || listable(list_inner);
        }
    }
    false
}

/// The type a CloudFormation type name denotes in this version, if it is one.
fn cfn_type(name: &str, version: Version) -> Option<ParameterType> {
    let basic = match name {
        "String" => Some(ParameterType::String),
        "Number" => Some(ParameterType::Number),
        "CommaDelimitedList" => Some(ParameterType::CommaDelimitedList),
        "Json" => Some(ParameterType::Json),
        "Boolean" => Some(ParameterType::Boolean),
        _ => None,
    };
    if basic.is_some() || version.format() != Format::Cfn {
        return basic;
    }
    if name == "List<Number>" {
        return Some(ParameterType::NumberList);
    }
    is_aws_specific_type(name).then(|| ParameterType::Aws(name.to_string()))
}

fn hot_type(name: &str) -> Option<ParameterType> {
    match name {
        "string" => Some(ParameterType::String),
        "number" => Some(ParameterType::Number),
        "comma_delimited_list" => Some(ParameterType::CommaDelimitedList),
        "json" => Some(ParameterType::Json),
        "boolean" => Some(ParameterType::Boolean),
        _ => None,
    }
}

/// A hint for an unknown HOT type name.
fn hot_type_hint(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let alias = match lower.as_str() {
        "string" | "str" | "text" | "unicode" => Some("string"),
        "number" | "integer" | "int" | "float" => Some("number"),
        "commadelimitedlist" | "list" | "array" => Some("comma_delimited_list"),
        "json" | "map" | "dict" | "object" => Some("json"),
        "boolean" | "bool" => Some("boolean"),
        _ => did_you_mean(name, HOT_TYPES.iter().copied()),
    };
    match alias {
        Some(t) => format!(
            "did you mean '{t}'? The HOT types are: {}",
            HOT_TYPES.join(", ")
        ),
        None => format!("the HOT types are: {}", HOT_TYPES.join(", ")),
    }
}

fn cfn_type_hint(name: &str, version: Version) -> String {
    if version.format() == Format::HeatCfn {
        if name.starts_with("AWS::") || name.starts_with("List<") {
            return format!(
                "AWS-specific types exist only in AWSTemplateFormatVersion templates; Heat's \
                 dialect has: {}",
                HEAT_CFN_TYPES.join(", ")
            );
        }
        return match did_you_mean(name, HEAT_CFN_TYPES.iter().copied()) {
            Some(t) => format!("did you mean '{t}'?"),
            None => format!("the types are: {}", HEAT_CFN_TYPES.join(", ")),
        };
    }
    let mut candidates: Vec<&str> = vec!["String", "Number", "List<Number>", "CommaDelimitedList"];
    candidates.extend(AWS_SPECIFIC_TYPES.iter().copied());
    match did_you_mean(name, candidates.iter().copied()) {
        Some(t) => format!("did you mean '{t}'?"),
        None => "the types are String, Number, List<Number>, CommaDelimitedList, the AWS-specific \
                 types (AWS::EC2::KeyPair::KeyName, List<AWS::EC2::Subnet::Id>, ...) and \
                 AWS::SSM::Parameter::Name / AWS::SSM::Parameter::Value<...>"
            .to_string(),
    }
}

/// Text of a scalar for a string-valued field (`description`, `label`, tags).
fn scalar_string(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::parameters::fmt_float(*f)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean field (`hidden`, `immutable`, `NoEcho`): a boolean or the strings true/false.
fn bool_field(node: &Node) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn node_number(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Int(i) => Some(Number::Int(*i).as_f64()),
        Value::Float(f) => Some(*f),
        Value::String(s) => parse_number(s).map(Number::as_f64),
        _ => None,
    }
}

fn span_from(key: &Key, value: &Node) -> Span {
    if value.span.is_known() && key.span.is_known() {
        Span::new(key.span.start, value.span.end)
    } else if key.span.is_known() {
        key.span
    } else {
        value.span
    }
}

struct Ctx<'a> {
    version: Version,
    name: &'a str,
    diags: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn error_hint(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, span, message).with_hint(hint));
    }

    fn constraint_error(
        &mut self,
        span: Span,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let name = self.name;
        self.error_hint(
            Code::BadConstraint,
            span,
            format!(
                "Invalid parameter constraints for parameter {name}: {}",
                message.into()
            ),
            hint,
        );
    }

    /// A string field; `None` (with E2024) when it is not a scalar.
    fn string_field(&mut self, key: &Key, node: &Node, null_is_error: bool) -> Option<String> {
        if node.is_null() && !null_is_error {
            return None;
        }
        match scalar_string(node) {
            Some(s) => Some(s),
            None => {
                let name = self.name;
                self.error_hint(
                    Code::BadParameterField,
                    node.span,
                    format!(
                        "'{}' of parameter {name} must be a string, found {}",
                        key.name,
                        node.kind_name()
                    ),
                    string_hint(node),
                );
                None
            }
        }
    }

    fn bool_flag(&mut self, key: &Key, node: &Node) -> Option<bool> {
        let value = bool_field(node);
        if value.is_none() {
            let name = self.name;
            self.error_hint(
                Code::BadParameterField,
                node.span,
                format!(
                    "'{}' of parameter {name} must be true or false, found {}",
                    key.name,
                    node.kind_name()
                ),
                format!("write `{}: true` or `{}: false`", key.name, key.name),
            );
        }
        value
    }

    /// `min`/`max` of a range or length constraint.
    fn bound(&mut self, node: &Node, integral: bool, what: &str) -> Result<Option<f64>, ()> {
        if node.is_null() {
            return Ok(None);
        }
        match node_number(node) {
            Some(x) if integral && x != x.trunc() => {
                self.constraint_error(
                    node.span,
                    format!("{what} must be an integer"),
                    format!(
                        "a length counts characters or items: write a whole number, e.g. {}",
                        x.trunc()
                    ),
                );
                Err(())
            }
            Some(x) => Ok(Some(x)),
            None => {
                self.constraint_error(
                    node.span,
                    format!("{what} must be a number, found {}", node.kind_name()),
                    format!("write a number, e.g. `{what}: 1`"),
                );
                Err(())
            }
        }
    }
}

/// Parses a `parameters` / `Parameters` section.
pub fn parse_parameters(
    section: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Parameter> {
    let Some(entries) = section.as_map() else {
        if !section.is_null() {
            let name = if version.is_hot() {
                "parameters"
            } else {
                "Parameters"
            };
            diags.push(
                Diagnostic::error(
                    Code::BadSectionShape,
                    section.span,
                    format!(
                        "the parameters section must be a map, found {}",
                        section.kind_name()
                    ),
                )
                .with_hint(section_hint(name, section)),
            );
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    // A name written twice: the last definition is the one (the duplicate is reported by
    // the structure parser).
    for (key, def) in crate::template::parse::util::last_wins(entries) {
        let mut ctx = Ctx {
            version,
            name: &key.name,
            diags,
        };
        let parsed = if version.is_hot() {
            parse_hot(&mut ctx, key, def)
        } else {
            parse_cfn(&mut ctx, key, def)
        };
        let (param, type_ok) = parsed;
        if type_ok {
            check_constraint_types(&param, version.format(), diags);
        }
        out.push(param);
    }
    out
}

/// Reports constraints that do not apply to the parameter's type, and allowed values that
/// cannot be values of the type.
fn check_constraint_types(param: &Parameter, format: Format, diags: &mut Vec<Diagnostic>) {
    let name = &param.name.value;
    let tn = type_name(&param.ty, format);
    for c in &param.constraints {
        if !constraint_applies(&c.kind, &param.ty, format) {
            diags.push(
                Diagnostic::error(
                    Code::BadConstraint,
                    c.span,
                    format!(
                        "Invalid parameter constraints for parameter {name}: {} is not valid for type {tn}",
                        constraint_kind_name(&c.kind, format)
                    ),
                )
                .with_hint(constraint_type_hint(&c.kind, &param.ty, format)),
            );
            continue;
        }
        if let ConstraintKind::AllowedValues(values) = &c.kind {
            for v in values {
                let bad = match param.ty {
                    ParameterType::Number => match v {
                        serde_json::Value::Number(_) => false,
                        serde_json::Value::String(s) => parse_number(s).is_none(),
                        _ => true,
                    },
                    ParameterType::Boolean => match v {
                        serde_json::Value::Bool(_) => false,
                        serde_json::Value::String(s) => parse_bool(s).is_none(),
                        serde_json::Value::Number(n) => parse_bool(&n.to_string()).is_none(),
                        _ => true,
                    },
                    _ => false,
                };
                if bad {
                    let example = if param.ty == ParameterType::Number {
                        "numbers (e.g. 3 or '3')"
                    } else {
                        "true or false"
                    };
                    diags.push(
                        Diagnostic::error(
                            Code::BadConstraint,
                            c.span,
                            format!(
                                "Invalid parameter constraints for parameter {name}: allowed \
                                 value {v} is not a valid {tn}"
                            ),
                        )
                        .with_hint(format!(
                            "the allowed values of a {tn} parameter must be {example}; or \
                             change the parameter's type"
                        )),
                    );
                }
            }
        }
    }
}

/// What to use instead of a constraint that does not apply to a type.
fn constraint_type_hint(kind: &ConstraintKind, ty: &ParameterType, format: Format) -> String {
    let samples = [
        ConstraintKind::Length {
            min: None,
            max: None,
        },
        ConstraintKind::Range {
            min: None,
            max: None,
        },
        ConstraintKind::Modulo {
            step: 1.0,
            offset: 0.0,
        },
        ConstraintKind::AllowedValues(Vec::new()),
        ConstraintKind::AllowedPattern(String::new()),
        ConstraintKind::Custom(String::new()),
    ];
    let name = |k: &ConstraintKind| constraint_kind_name(k, format);
    let usable: Vec<&str> = samples
        .iter()
        .filter(|k| {
            format == Format::Hot
                || !matches!(k, ConstraintKind::Modulo { .. } | ConstraintKind::Custom(_))
        })
        .filter(|k| constraint_applies(k, ty, format))
        .map(name)
        .collect();
    let tn = type_name(ty, format);
    let list = if usable.is_empty() {
        format!("type {tn} takes no constraints")
    } else {
        format!("type {tn} takes: {}", usable.join(", "))
    };
    let instead = match kind {
        ConstraintKind::Length { .. } if constraint_applies(&samples[1], ty, format) => {
            Some(format!("to bound a number use {}", name(&samples[1])))
        }
        ConstraintKind::Range { .. } | ConstraintKind::Modulo { .. }
            if constraint_applies(&samples[0], ty, format) =>
        {
            Some(format!("to bound the length use {}", name(&samples[0])))
        }
        _ => None,
    };
    match instead {
        Some(i) => format!("{i}; {list}"),
        None => list,
    }
}

/// Reports a parameter definition that is not a map. The parameter is still declared (as a
/// string without constraints), so that its uses are not reported as undefined too.
fn not_a_map(ctx: &mut Ctx<'_>, key: &Key, def: &Node) -> (Parameter, bool) {
    let name = ctx.name;
    let (ty, default) = if ctx.version.is_hot() {
        ("type: string", "default")
    } else {
        ("Type: String", "Default")
    };
    let hint = match &def.value {
        Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => format!(
            "write the parameter as a map; if this value was meant as its default: \
             `{name}: {{{ty}, {default}: ...}}`"
        ),
        _ => format!("write the parameter as a map, e.g. `{name}: {{{ty}}}`"),
    };
    ctx.error_hint(
        Code::ParameterNotAMapping,
        if def.span.is_known() {
            def.span
        } else {
            key.span
        },
        format!(
            "Invalid parameter ({name}), expected a mapping, found {}",
            def.kind_name()
        ),
        hint,
    );
    let ty_span = key.span;
    (
        new_parameter(key, def, ParameterType::String, ty_span),
        false,
    )
}

fn unknown_key(ctx: &mut Ctx<'_>, key: &Key, known: &[&str]) {
    let name = ctx.name;
    let mut d = Diagnostic::error(
        Code::UnknownParameterKey,
        key.span,
        format!("Invalid key '{}' for parameter ({name})", key.name),
    );
    if key.name == "tags" && ctx.version.is_hot() {
        d = d.with_hint(format!(
            "parameter tags need heat_template_version 2018-03-02 or later (this template is {})",
            ctx.version.date()
        ));
    } else if let Some(s) = did_you_mean(&key.name, known.iter().copied()) {
        d = d.with_hint(format!("did you mean '{s}'?"));
    } else {
        d = d.with_hint(format!("the keys are: {}", known.join(", ")));
    }
    ctx.diags.push(d);
}

/// Parses the type; `(type, valid)` — an invalid type falls back to `String` so that the
/// parameter still exists for reference checks.
fn parse_type(
    ctx: &mut Ctx<'_>,
    key: &Key,
    def: &Node,
    type_key: &str,
) -> (ParameterType, Span, bool) {
    let name = ctx.name;
    let Some(node) = def.get(type_key) else {
        ctx.error_hint(
            Code::MissingParameterType,
            key.span,
            format!("Missing parameter type for parameter: {name}"),
            if ctx.version.is_hot() {
                format!("add `type:` ({})", HOT_TYPES.join(", "))
            } else {
                "add `Type:` (String, Number, CommaDelimitedList, ...)".to_string()
            },
        );
        return (ParameterType::String, key.span, false);
    };
    let Some(text) = node.as_str() else {
        let hot = ctx.version.is_hot();
        let types = if hot {
            HOT_TYPES.join(", ")
        } else {
            "String, Number, CommaDelimitedList, ...".to_string()
        };
        // `type: {json: true}`: a map whose only key is a type name.
        let meant = node
            .as_map()
            .and_then(|entries| match entries {
                [(k, _)] => Some(k.name.as_str()),
                _ => None,
            })
            .filter(|k| {
                if hot {
                    hot_type(k).is_some()
                } else {
                    cfn_type(k, ctx.version).is_some()
                }
            });
        let hint = match (&node.value, meant) {
            (_, Some(t)) => format!("did you mean `{type_key}: {t}`?"),
            (Value::Map(_), None) => {
                format!("functions are not allowed here; write one of the types: {types}")
            }
            _ => format!("write one of the types: {types}"),
        };
        ctx.error_hint(
            Code::UnknownParameterType,
            node.span,
            format!(
                "parameter {name}: {type_key} must be a string, found {}",
                node.kind_name()
            ),
            hint,
        );
        return (ParameterType::String, node.span, false);
    };
    let parsed = if ctx.version.is_hot() {
        hot_type(text)
    } else {
        cfn_type(text, ctx.version)
    };
    match parsed {
        Some(ty) => (ty, node.span, true),
        None => {
            let hint = if ctx.version.is_hot() {
                hot_type_hint(text)
            } else {
                cfn_type_hint(text, ctx.version)
            };
            ctx.error_hint(
                Code::UnknownParameterType,
                node.span,
                format!("parameter {name} has unknown {type_key} '{text}'"),
                hint,
            );
            (ParameterType::String, node.span, false)
        }
    }
}

fn new_parameter(key: &Key, def: &Node, ty: ParameterType, ty_span: Span) -> Parameter {
    Parameter {
        name: Spanned::new(key.name.clone(), key.span),
        ty,
        ty_span,
        description: None,
        label: None,
        default: None,
        hidden: false,
        immutable: false,
        tags: Vec::new(),
        constraints: Vec::new(),
        span: if def.span.is_known() {
            span_from(key, def)
        } else {
            key.span
        },
    }
}

fn parse_hot(ctx: &mut Ctx<'_>, key: &Key, def: &Node) -> (Parameter, bool) {
    let Some(entries) = def.as_map() else {
        return not_a_map(ctx, key, def);
    };
    let with_tags = ctx.version >= Version::Hot20180302;
    let mut known: Vec<&str> = HOT_KEYS.to_vec();
    if with_tags {
        known.push("tags");
    }
    let (ty, ty_span, type_ok) = parse_type(ctx, key, def, "type");
    let mut param = new_parameter(key, def, ty, ty_span);
    for (k, v) in entries {
        match k.name.as_str() {
            "type" => {}
            "description" => param.description = ctx.string_field(k, v, false),
            "label" => param.label = ctx.string_field(k, v, false),
            "default" => param.default = (!v.is_null()).then(|| v.clone()),
            "hidden" => {
                if let Some(b) = ctx.bool_flag(k, v) {
                    param.hidden = b;
                } else {
                    param.hidden = true; // unclear: keep the value secret
                }
            }
            "immutable" => param.immutable = ctx.bool_flag(k, v).unwrap_or(false),
            "constraints" => param.constraints = parse_hot_constraints(ctx, v),
            "tags" if with_tags => param.tags = parse_tags(ctx, v),
            _ => unknown_key(ctx, k, &known),
        }
    }
    (param, type_ok)
}

fn parse_tags(ctx: &mut Ctx<'_>, node: &Node) -> Vec<String> {
    let name = ctx.name;
    let Some(items) = node.as_seq() else {
        ctx.error_hint(
            Code::BadParameterField,
            node.span,
            format!(
                "'tags' of parameter {name} must be a list, found {}",
                node.kind_name()
            ),
            list_hint(node, "the tags"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match scalar_string(item) {
            Some(s) => out.push(s),
            None => ctx.error_hint(
                Code::BadParameterField,
                item.span,
                format!(
                    "'tags' of parameter {name} must be a list of strings, found {} in the list",
                    item.kind_name()
                ),
                "write each tag as a plain string, e.g. `tags: [network, advanced]`",
            ),
        }
    }
    out
}

fn parse_hot_constraints(ctx: &mut Ctx<'_>, node: &Node) -> Vec<Constraint> {
    if node.is_null() {
        return Vec::new();
    }
    let name = ctx.name;
    let Some(items) = node.as_seq() else {
        ctx.error_hint(
            Code::BadConstraint,
            node.span,
            format!("Invalid parameter constraints for parameter {name}, expected a list"),
            "write one `- ` list item per constraint below `constraints:`, e.g. `- length: \
             {min: 6}`",
        );
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| parse_hot_constraint(ctx, item))
        .collect()
}

fn parse_hot_constraint(ctx: &mut Ctx<'_>, item: &Node) -> Option<Constraint> {
    let name = ctx.name;
    let Some(entries) = item.as_map() else {
        ctx.error_hint(
            Code::BadConstraint,
            item.span,
            format!(
                "Invalid parameter constraints, expected a mapping (parameter {name}), found {}",
                item.kind_name()
            ),
            "write each constraint as a map with one kind and an optional description, e.g. \
             `- allowed_values: [a, b]`",
        );
        return None;
    };
    let mut description = None;
    let mut kinds: Vec<(&Key, &Node)> = Vec::new();
    let mut ok = true;
    for (k, v) in entries {
        match k.name.as_str() {
            "description" => {
                description = ctx.string_field(k, v, false);
            }
            kind if HOT_CONSTRAINT_KEYS.contains(&kind) => kinds.push((k, v)),
            other => {
                ok = false;
                let mut d = Diagnostic::error(
                    Code::BadConstraint,
                    k.span,
                    format!("Invalid key '{other}' for parameter constraints (parameter {name})"),
                );
                d = match did_you_mean(other, HOT_CONSTRAINT_KEYS.iter().copied()) {
                    Some(s) => {
                        d.with_hint(format!("unknown constraint '{other}'; did you mean '{s}'?"))
                    }
                    None => d.with_hint(format!(
                        "unknown constraint '{other}'; the constraints are: {}",
                        HOT_CONSTRAINT_KEYS[1..].join(", ")
                    )),
                };
                ctx.diags.push(d);
            }
        }
    }
    if !ok {
        return None;
    }
    let Some(&(kind_key, kind_node)) = kinds.first() else {
        ctx.error_hint(
            Code::BadConstraint,
            item.span,
            format!("No constraint expressed (parameter {name})"),
            "a constraint needs one of: length, range, modulo, allowed_values, allowed_pattern, custom_constraint",
        );
        return None;
    };
    if kinds.len() > 1 {
        let names: Vec<&str> = kinds.iter().map(|(k, _)| k.name.as_str()).collect();
        ctx.error_hint(
            Code::BadConstraint,
            kinds[1].0.span,
            format!(
                "Invalid parameter constraints for parameter {name}: one constraint has several kinds ({})",
                names.join(", ")
            ),
            "write each constraint as its own list item",
        );
        return None;
    }
    let span = item.span;
    let kind = match kind_key.name.as_str() {
        "range" | "length" => {
            let what = kind_key.name.as_str();
            let Some(bounds) = kind_node.as_map() else {
                ctx.constraint_error(
                    kind_node.span,
                    format!("Invalid {what} constraint, expected a mapping"),
                    format!("write `{what}: {{min: 1, max: 10}}` (either bound may be left out)"),
                );
                return None;
            };
            let integral = what == "length";
            let (mut min, mut max) = (None, None);
            let mut good = true;
            for (bk, bv) in bounds {
                match bk.name.as_str() {
                    "min" => match ctx.bound(bv, integral, "min") {
                        Ok(x) => min = x,
                        Err(()) => good = false,
                    },
                    "max" => match ctx.bound(bv, integral, "max") {
                        Ok(x) => max = x,
                        Err(()) => good = false,
                    },
                    other => {
                        good = false;
                        ctx.error_hint(
                            Code::BadConstraint,
                            bk.span,
                            format!(
                                "Invalid key '{other}' for {what} constraint (parameter {name})"
                            ),
                            "the keys are: min, max",
                        );
                    }
                }
            }
            if !good {
                return None;
            }
            if min.is_none() && max.is_none() {
                ctx.constraint_error(
                    kind_node.span,
                    format!(
                        "a {what} constraint must have a min value and/or a max value specified"
                    ),
                    format!("add a bound, e.g. `{what}: {{min: 1, max: 10}}`"),
                );
                return None;
            }
            if what == "length" {
                ConstraintKind::Length { min, max }
            } else {
                ConstraintKind::Range { min, max }
            }
        }
        "modulo" => {
            if ctx.version < Version::Hot20170224 {
                ctx.error_hint(
                    Code::BadConstraint,
                    kind_key.span,
                    format!(
                        "Invalid parameter constraints for parameter {name}: the modulo \
                         constraint needs heat_template_version 2017-02-24 or later (this \
                         template is {})",
                        ctx.version.date()
                    ),
                    "use a range constraint, or raise heat_template_version",
                );
                return None;
            }
            parse_modulo(ctx, kind_node)?
        }
        "allowed_values" => {
            let Some(values) = kind_node.as_seq() else {
                ctx.constraint_error(
                    kind_node.span,
                    format!(
                        "allowed_values must be a list, found {}",
                        kind_node.kind_name()
                    ),
                    list_hint(kind_node, "allowed_values"),
                );
                return None;
            };
            allowed_values(ctx, values)?
        }
        "allowed_pattern" => {
            let Some(pattern) = kind_node.as_str() else {
                ctx.constraint_error(
                    kind_node.span,
                    format!(
                        "allowed_pattern must be a string, found {}",
                        kind_node.kind_name()
                    ),
                    "write the regular expression as a quoted string, e.g. `allowed_pattern: \
                     '[a-z][a-z0-9-]*'`",
                );
                return None;
            };
            if let Err(e) = check_pattern(pattern) {
                ctx.constraint_error(
                    kind_node.span,
                    format!("allowed_pattern is not a valid regular expression: {e}"),
                    PATTERN_HINT,
                );
                return None;
            }
            ConstraintKind::AllowedPattern(pattern.to_string())
        }
        "custom_constraint" => {
            let Some(custom) = kind_node.as_str() else {
                ctx.constraint_error(
                    kind_node.span,
                    format!(
                        "custom_constraint must be a constraint name, found {}",
                        kind_node.kind_name()
                    ),
                    "write the name of a custom constraint, e.g. `custom_constraint: nova.flavor`",
                );
                return None;
            };
            ConstraintKind::Custom(custom.to_string())
        }
        _ => return None,
    };
    Some(Constraint {
        kind,
        description,
        span,
    })
}

fn parse_modulo(ctx: &mut Ctx<'_>, node: &Node) -> Option<ConstraintKind> {
    let name = ctx.name;
    let Some(entries) = node.as_map() else {
        ctx.constraint_error(
            node.span,
            "Invalid modulo constraint, expected a mapping",
            MODULO_HINT,
        );
        return None;
    };
    let (mut step, mut offset) = (None, None);
    let mut good = true;
    for (k, v) in entries {
        let slot = match k.name.as_str() {
            "step" => &mut step,
            "offset" => &mut offset,
            other => {
                good = false;
                ctx.error_hint(
                    Code::BadConstraint,
                    k.span,
                    format!("Invalid key '{other}' for modulo constraint (parameter {name})"),
                    "the keys are: step, offset",
                );
                continue;
            }
        };
        match node_number(v) {
            Some(x) if x == x.trunc() => *slot = Some(x),
            Some(_) => {
                good = false;
                ctx.constraint_error(v.span, "step/offset must be integer", MODULO_HINT);
            }
            None => {
                good = false;
                ctx.constraint_error(
                    v.span,
                    format!("step/offset must be numeric, found {}", v.kind_name()),
                    MODULO_HINT,
                );
            }
        }
    }
    if !good {
        return None;
    }
    let (Some(step), Some(offset)) = (step, offset) else {
        ctx.constraint_error(
            node.span,
            "A modulo constraint must have a step value and an offset value specified.",
            MODULO_HINT,
        );
        return None;
    };
    let problem = if step == 0.0 {
        Some((
            "step cannot be 0.",
            "use a step of 1 or more (values are accepted when value % step == offset)",
        ))
    } else if offset.abs() >= step.abs() {
        Some((
            "offset must be smaller (by absolute value) than step.",
            "the offset is a remainder of the division by step: use 0 to step - 1 (e.g. step 2, \
             offset 1 for odd numbers)",
        ))
    } else if step * offset < 0.0 {
        Some((
            "step and offset must be both positive or both negative.",
            "give step and offset the same sign (or offset 0)",
        ))
    } else {
        None
    };
    if let Some((p, hint)) = problem {
        ctx.constraint_error(node.span, p, hint);
        return None;
    }
    Some(ConstraintKind::Modulo { step, offset })
}

fn allowed_values(ctx: &mut Ctx<'_>, values: &[Node]) -> Option<ConstraintKind> {
    let mut out = Vec::new();
    let mut good = true;
    for v in values {
        match &v.value {
            Value::Map(_) | Value::Seq(_) => {
                good = false;
                ctx.constraint_error(
                    v.span,
                    format!("an allowed value must be a scalar, found {}", v.kind_name()),
                    "list plain values (strings, numbers or booleans); quote a value that \
                     contains ': ' or starts with '[' or '{'",
                );
            }
            _ => out.push(v.to_json()),
        }
    }
    good.then_some(ConstraintKind::AllowedValues(out))
}

fn parse_cfn(ctx: &mut Ctx<'_>, key: &Key, def: &Node) -> (Parameter, bool) {
    let Some(entries) = def.as_map() else {
        return not_a_map(ctx, key, def);
    };
    let aws = ctx.version.format() == Format::Cfn;
    let (ty, ty_span, type_ok) = parse_type(ctx, key, def, "Type");
    let mut param = new_parameter(key, def, ty, ty_span);
    let constraint_description = def
        .get("ConstraintDescription")
        .and_then(scalar_string)
        .filter(|s| !s.trim().is_empty());
    let mut range: Option<(Span, Option<f64>, Option<f64>, bool)> = None;
    let mut length: Option<(Span, Option<f64>, Option<f64>, bool)> = None;
    let mut allowed: Option<Constraint> = None;
    let mut pattern: Option<Constraint> = None;
    for (k, v) in entries {
        let span = span_from(k, v);
        match k.name.as_str() {
            "Type" => {}
            "Description" | "Label" => {
                let s = ctx.string_field(k, v, aws);
                if k.name == "Label" {
                    param.label = s;
                } else {
                    param.description = s;
                }
            }
            "ConstraintDescription" => {
                ctx.string_field(k, v, aws);
            }
            "Default" => {
                if v.is_null() && aws {
                    let name = ctx.name;
                    ctx.error_hint(
                        Code::BadParameterField,
                        v.span,
                        format!("'Default' of parameter {name} must be a value, found null"),
                        "give a value, or remove Default",
                    );
                }
                param.default = (!v.is_null()).then(|| v.clone());
            }
            "NoEcho" => {
                param.hidden = ctx.bool_flag(k, v).unwrap_or(true);
            }
            "MinValue" | "MaxValue" | "MinLength" | "MaxLength" => {
                let is_length = k.name.ends_with("Length");
                let slot = if is_length { &mut length } else { &mut range };
                let entry = slot.get_or_insert((span, None, None, true));
                let value = if v.is_null() {
                    ctx.constraint_error(
                        v.span,
                        format!("{} must be a number, found null", k.name),
                        format!("write a number after {}:, or remove the key", k.name),
                    );
                    entry.3 = false;
                    None
                } else {
                    match ctx.bound(v, is_length, &k.name) {
                        Ok(x) => x,
                        Err(()) => {
                            entry.3 = false;
                            None
                        }
                    }
                };
                if k.name.starts_with("Min") {
                    entry.1 = value;
                } else {
                    entry.2 = value;
                }
            }
            "AllowedValues" => {
                let Some(values) = v.as_seq() else {
                    ctx.constraint_error(
                        v.span,
                        format!("AllowedValues must be a list, found {}", v.kind_name()),
                        list_hint(v, "AllowedValues"),
                    );
                    continue;
                };
                if let Some(kind) = allowed_values(ctx, values) {
                    allowed = Some(Constraint {
                        kind,
                        description: constraint_description.clone(),
                        span,
                    });
                }
            }
            "AllowedPattern" => {
                let Some(p) = v.as_str() else {
                    ctx.constraint_error(
                        v.span,
                        format!("AllowedPattern must be a string, found {}", v.kind_name()),
                        "write the regular expression as a quoted string, e.g. `AllowedPattern: \
                         '[a-zA-Z][a-zA-Z0-9]*'`",
                    );
                    continue;
                };
                if let Err(e) = check_pattern(p) {
                    ctx.constraint_error(
                        v.span,
                        format!("AllowedPattern is not a valid regular expression: {e}"),
                        PATTERN_HINT,
                    );
                    continue;
                }
                pattern = Some(Constraint {
                    kind: ConstraintKind::AllowedPattern(p.to_string()),
                    description: constraint_description.clone(),
                    span,
                });
            }
            _ => unknown_key(ctx, k, CFN_KEYS),
        }
    }
    // Heat's order: range, length, allowed values, pattern.
    for (slot, is_length) in [(range, false), (length, true)] {
        if let Some((span, min, max, true)) = slot {
            if min.is_none() && max.is_none() {
                continue;
            }
            let kind = if is_length {
                ConstraintKind::Length { min, max }
            } else {
                ConstraintKind::Range { min, max }
            };
            param.constraints.push(Constraint {
                kind,
                description: constraint_description.clone(),
                span,
            });
        }
    }
    param.constraints.extend(allowed);
    param.constraints.extend(pattern);
    (param, type_ok)
}

/// Parses a HOT `parameter_groups` section, or the value of CFN `Metadata:
/// AWS::CloudFormation::Interface: ParameterGroups` (the list itself, not the `Interface`
/// map around it). Either must be a list of groups; anything else but null is
/// [`Code::BadParameterGroups`].
///
/// Which parameters the groups name is checked by
/// [`crate::parameters::check_parameter_groups`], which needs the parameters.
pub fn parse_parameter_groups(
    section: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ParameterGroup> {
    if section.is_null() {
        return Vec::new();
    }
    if version.is_hot() {
        parse_hot_groups(section, diags)
    } else {
        parse_cfn_groups(section, diags)
    }
}

fn group_error(
    diags: &mut Vec<Diagnostic>,
    span: Span,
    label: &str,
    message: &str,
    hint: impl Into<String>,
) {
    diags.push(
        Diagnostic::error(
            Code::BadParameterGroups,
            span,
            format!("Parameter Groups error: parameter_groups.{label}: {message}"),
        )
        .with_hint(hint),
    );
}

/// The hint for an unknown key in a parameter group.
fn group_key_hint(key: &str, known: &[&str]) -> String {
    match did_you_mean(key, known.iter().copied()) {
        Some(s) => format!("did you mean '{s}'?"),
        None => "remove it: Heat does not read it".to_string(),
    }
}

fn group_names(items: &[Node], diags: &mut Vec<Diagnostic>, label: &str) -> Vec<Spanned<String>> {
    let mut out = Vec::new();
    for item in items {
        match scalar_string(item) {
            Some(s) => out.push(Spanned::new(s, item.span)),
            None => group_error(
                diags,
                item.span,
                label,
                &format!(
                    "a grouped parameter must be named by a string, found {}",
                    item.kind_name()
                ),
                "list the parameters by name, e.g. `[flavor, image]`",
            ),
        }
    }
    out
}

fn parse_hot_groups(section: &Node, diags: &mut Vec<Diagnostic>) -> Vec<ParameterGroup> {
    let Some(groups) = section.as_seq() else {
        diags.push(
            Diagnostic::error(
                Code::BadParameterGroups,
                section.span,
                format!(
                    "Parameter Groups error: parameter_groups: The parameter_groups should be a list, found {}.",
                    section.kind_name()
                ),
            )
            .with_hint(
                "write each group as a list item: `- label: Network` with `parameters: [net, \
                 subnet]` below it",
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for group in groups {
        let Some(entries) = group.as_map() else {
            diags.push(
                Diagnostic::error(
                    Code::BadParameterGroups,
                    group.span,
                    format!(
                        "Parameter Groups error: parameter_groups: a parameter group must be a \
                         map (label, description, parameters), found {}",
                        group.kind_name()
                    ),
                )
                .with_hint(
                    "write the group as a map: `- label: Network` with `parameters: [net, \
                     subnet]` indented below it",
                ),
            );
            continue;
        };
        let label = group.get("label").and_then(scalar_string);
        let label_text = label.clone().unwrap_or_default();
        let mut pg = ParameterGroup {
            label: label.clone(),
            description: None,
            parameters: Vec::new(),
            span: group.span,
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "label" | "description" => {
                    let text = scalar_string(v);
                    if text.is_none() && !v.is_null() {
                        group_error(
                            diags,
                            v.span,
                            &label_text,
                            &format!("the {} must be a string, found {}", k.name, v.kind_name()),
                            string_hint(v),
                        );
                    }
                    if k.name == "description" {
                        pg.description = text;
                    }
                }
                "parameters" => {}
                other => diags.push(
                    Diagnostic::warning(
                        Code::IgnoredKey,
                        k.span,
                        format!("key '{other}' in a parameter group is ignored (the keys are label, description, parameters)"),
                    )
                    .with_hint(group_key_hint(other, &["label", "description", "parameters"])),
                ),
            }
        }
        match group.get("parameters") {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => group_error(
                diags,
                group.span,
                &label_text,
                "The parameters must be provided for each parameter group.",
                "list the group's parameters: `parameters: [flavor, image]`",
            ),
            Some(node) => match node.as_seq() {
                Some(items) => pg.parameters = group_names(items, diags, &label_text),
                None => group_error(
                    diags,
                    node.span,
                    &label_text,
                    "The parameters of parameter group should be a list.",
                    list_hint(node, "the parameters"),
                ),
            },
        }
        out.push(pg);
    }
    out
}

fn parse_cfn_groups(list: &Node, diags: &mut Vec<Diagnostic>) -> Vec<ParameterGroup> {
    let Some(groups) = list.as_seq() else {
        let mut d = Diagnostic::error(
            Code::BadParameterGroups,
            list.span,
            format!(
                "AWS::CloudFormation::Interface ParameterGroups must be a list, found {}",
                list.kind_name()
            ),
        );
        d = d.with_hint(
            "write each group as a list item: `ParameterGroups: [{Label: {default: ...}, \
             Parameters: [...]}]`",
        );
        diags.push(d);
        return Vec::new();
    };
    let mut out = Vec::new();
    for group in groups {
        let Some(entries) = group.as_map() else {
            diags.push(
                Diagnostic::error(
                    Code::BadParameterGroups,
                    group.span,
                    format!(
                        "a parameter group must be a map (Label, Parameters), found {}",
                        group.kind_name()
                    ),
                )
                .with_hint(
                    "write the group as `- Label: {default: Network}` with `Parameters: [Vpc, \
                     Subnet]` indented below it",
                ),
            );
            continue;
        };
        let label = group.get("Label").and_then(|l| match &l.value {
            Value::Map(_) => l.get("default").and_then(scalar_string),
            _ => scalar_string(l),
        });
        let mut pg = ParameterGroup {
            label,
            description: None,
            parameters: Vec::new(),
            span: group.span,
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "Label" => {}
                "Parameters" => match v.as_seq() {
                    Some(items) => {
                        let label = pg.label.clone().unwrap_or_default();
                        pg.parameters = group_names(items, diags, &label);
                    }
                    None => diags.push(
                        Diagnostic::error(
                            Code::BadParameterGroups,
                            v.span,
                            format!("the Parameters of a parameter group must be a list, found {}", v.kind_name()),
                        )
                        .with_hint(list_hint(v, "the Parameters")),
                    ),
                },
                other => diags.push(
                    Diagnostic::warning(
                        Code::IgnoredKey,
                        k.span,
                        format!("key '{other}' in a parameter group is ignored (the keys are Label, Parameters)"),
                    )
                    .with_hint(group_key_hint(other, &["Label", "Parameters"])),
                ),
            }
        }
        out.push(pg);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::template::load::{Limits, load};

    /// Loads `text` and parses its `parameters` / `Parameters` (and groups) as `version`.
    fn run(version: Version, text: &str) -> (Vec<Parameter>, Vec<Diagnostic>) {
        let loaded = load(text, &Limits::default());
        assert!(
            loaded.diagnostics.is_empty(),
            "load: {:?}",
            loaded.diagnostics
        );
        let root = loaded.root.expect("a document");
        let key = if version.is_hot() {
            "parameters"
        } else {
            "Parameters"
        };
        let mut diags = Vec::new();
        let params = parse_parameters(
            root.get(key).expect("a parameters section"),
            version,
            &mut diags,
        );
        // As the check pipeline does: defaults after parsing.
        for p in &params {
            diags.extend(crate::parameters::check_default(p, version.format()));
        }
        (params, diags)
    }

    fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
        diags.iter().map(|d| d.code.as_str()).collect()
    }

    const HOT13: Version = Version::Hot20130523;
    const HOT17: Version = Version::Hot20170224;
    const HOT18: Version = Version::Hot20180302;
    const CFN: Version = Version::Cfn20100909;
    const HEAT: Version = Version::Heat20121212;

    #[test]
    fn rules_table() {
        // (version, parameters yaml, expected codes in order, a substring of the first message)
        let cases: &[(Version, &str, &[&str], &str)] = &[
            (HOT13, "p:\n  type: string\n", &[], ""),
            (
                HOT13,
                "p:\n  foo: bar\n",
                &["E2002", "E2004"],
                "Missing parameter type for parameter: p",
            ),
            (
                HOT13,
                "p: [a]\n",
                &["E2001"],
                "Invalid parameter (p), expected a mapping",
            ),
            (HOT13, "p:\n", &["E2001"], "expected a mapping, found null"),
            (
                HOT13,
                "p:\n  type: Unicode\n",
                &["E2003"],
                "parameter p has unknown type 'Unicode'",
            ),
            (
                HOT13,
                "p:\n  type: String\n",
                &["E2003"],
                "unknown type 'String'",
            ),
            (
                HOT13,
                "p:\n  type: '<the type>'\n",
                &["E2003"],
                "'<the type>'",
            ),
            (
                HOT13,
                "p:\n  type: {get_param: x}\n",
                &["E2003"],
                "parameter p: type must be a string, found a map",
            ),
            (
                HOT13,
                "p:\n  type: string\n  foo: 1\n",
                &["E2004"],
                "Invalid key 'foo' for parameter (p)",
            ),
            (
                HOT13,
                "p:\n  type: string\n  tags: [a]\n",
                &["E2004"],
                "Invalid key 'tags' for parameter (p)",
            ),
            (HOT18, "p:\n  type: string\n  tags: [a, b]\n", &[], ""),
            (
                HOT18,
                "p:\n  type: string\n  tags: feature\n",
                &["E2024"],
                "'tags' of parameter p must be a list, found a string",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints: foo\n",
                &["E2005"],
                "Invalid parameter constraints for parameter p, expected a list",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints: [foo]\n",
                &["E2005"],
                "Invalid parameter constraints, expected a mapping",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - description: a constraint\n",
                &["E2005"],
                "No constraint expressed",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - allowed_valus: [a]\n",
                &["E2005"],
                "Invalid key 'allowed_valus' for parameter constraints",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - range: {min: 1, foo: 2}\n",
                &["E2005"],
                "Invalid key 'foo' for range constraint",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - length: {foo: 2}\n",
                &["E2005"],
                "Invalid key 'foo' for length constraint",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - range: foo\n  default: foo\n",
                &["E2005", "E2006"],
                "Invalid range constraint, expected a mapping",
            ),
            (
                HOT13,
                "p:\n  type: number\n  default: foo\n",
                &["E2006"],
                "the default of parameter p is invalid: 'foo' is not a number",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - range: {}\n",
                &["E2005"],
                "min value and/or a max value",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - length: {min: 1.5}\n",
                &["E2005"],
                "min must be an integer",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - range: {min: a}\n",
                &["E2005"],
                "min must be a number",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - range: {min: '2', max: 5}\n  default: 3\n",
                &[],
                "",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - range: {min: 1}\n",
                &["E2005"],
                "range is not valid for type string",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - allowed_pattern: '[0-9]+'\n",
                &["E2005"],
                "allowed_pattern is not valid for type number",
            ),
            (
                HOT13,
                "p:\n  type: json\n  constraints:\n    - allowed_values: [a]\n",
                &["E2005"],
                "allowed_values is not valid for type json",
            ),
            (
                HOT13,
                "p:\n  type: json\n  constraints:\n    - length: {max: 2}\n  default: {a: 1}\n",
                &[],
                "",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - allowed_values: [1, x]\n",
                &["E2005"],
                "allowed value \"x\" is not a valid number",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - allowed_values: a\n",
                &["E2005"],
                "allowed_values must be a list",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - allowed_values: [{a: 1}]\n",
                &["E2005"],
                "must be a scalar",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - allowed_pattern: [a]\n",
                &["E2005"],
                "allowed_pattern must be a string",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - allowed_pattern: '[a-'\n",
                &["E2005"],
                "not a valid regular expression",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - custom_constraint: [a]\n",
                &["E2005"],
                "custom_constraint must be a constraint name",
            ),
            (
                HOT13,
                "p:\n  type: string\n  constraints:\n    - allowed_values: [a]\n      allowed_pattern: b\n",
                &["E2005"],
                "several kinds",
            ),
            (
                HOT13,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 2, offset: 1}\n",
                &["E2005"],
                "the modulo constraint needs heat_template_version 2017-02-24 or later (this template is 2013-05-23)",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 2, offset: 1}\n  default: 3\n",
                &[],
                "",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 2, offset: 1}\n  default: 4\n",
                &["E2006"],
                "not a multiple of 2 with an offset of 1",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 0, offset: 0}\n",
                &["E2005"],
                "step cannot be 0",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 2, offset: 2}\n",
                &["E2005"],
                "offset must be smaller",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: -3, offset: 1}\n",
                &["E2005"],
                "both positive or both negative",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 2}\n",
                &["E2005"],
                "step value and an offset value",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 2.5, offset: 1}\n",
                &["E2005"],
                "step/offset must be integer",
            ),
            (
                HOT17,
                "p:\n  type: number\n  constraints:\n    - modulo: {step: 2, offset: 1, x: 1}\n",
                &["E2005"],
                "Invalid key 'x' for modulo constraint",
            ),
            (
                HOT13,
                "p:\n  type: string\n  hidden: maybe\n",
                &["E2024"],
                "'hidden' of parameter p must be true or false",
            ),
            (
                HOT13,
                "p:\n  type: string\n  immutable: 3\n",
                &["E2024"],
                "'immutable'",
            ),
            (
                HOT13,
                "p:\n  type: string\n  description: {a: 1}\n",
                &["E2024"],
                "'description' of parameter p must be a string",
            ),
            (
                HOT13,
                "p:\n  type: boolean\n  default: maybe\n",
                &["E2006"],
                "not a boolean",
            ),
            (HOT13, "p:\n  type: boolean\n  default: 'Yes'\n", &[], ""),
            (
                HOT13,
                "p:\n  type: json\n  default: '{\"a\": '\n",
                &["E2006"],
                "not valid JSON",
            ),
            (
                HOT13,
                "p:\n  type: json\n  default: '{\"a\": 1}'\n",
                &[],
                "",
            ),
            (
                HOT13,
                "p:\n  type: comma_delimited_list\n  default: {a: 1}\n",
                &["E2006"],
                "comma-delimited",
            ),
            (
                HOT13,
                "p:\n  type: comma_delimited_list\n  default: [a, b]\n  constraints:\n    - allowed_values: [a, b]\n",
                &[],
                "",
            ),
            (
                HOT13,
                "p:\n  type: comma_delimited_list\n  default: a,c\n  constraints:\n    - allowed_values: [a, b]\n",
                &["E2006"],
                "is not an allowed value",
            ),
            (
                HOT13,
                "p:\n  type: string\n  default: [a]\n",
                &["E2006"],
                "expected a string, found [\"a\"]",
            ),
            (HOT13, "p:\n  type: string\n  default: false\n", &[], ""),
            (
                HOT13,
                "p:\n  type: string\n  default: abc\n  constraints:\n    - length: {min: 4}\n      description: at least four\n",
                &["E2006"],
                "at least four",
            ),
            (
                HOT13,
                "p:\n  type: string\n  default: AB\n  constraints:\n    - allowed_pattern: '[a-z]+'\n",
                &["E2006"],
                "\"AB\" does not match pattern \"[a-z]+\"",
            ),
            (
                HOT13,
                "p:\n  type: string\n  default: nope\n  constraints:\n    - custom_constraint: ip_addr\n",
                &[],
                "",
            ),
            // CloudFormation (AWS).
            (CFN, "P:\n  Type: String\n  Label: x\n", &[], ""),
            (
                CFN,
                "P:\n  NotType: String\n",
                &["E2002", "E2004"],
                "Missing parameter type for parameter: P",
            ),
            (
                CFN,
                "P:\n  Type: NotString\n",
                &["E2003"],
                "parameter P has unknown Type 'NotString'",
            ),
            (
                CFN,
                "P:\n  Type: null\n",
                &["E2003"],
                "parameter P: Type must be a string, found null",
            ),
            (
                CFN,
                "P:\n  Type: !Ref x\n",
                &["E2003"],
                "Type must be a string, found a map",
            ),
            (CFN, "P:\n  Type: AWS::EC2::KeyPair::KeyName\n", &[], ""),
            (CFN, "P:\n  Type: List<AWS::EC2::Subnet::Id>\n", &[], ""),
            (
                CFN,
                "P:\n  Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>\n  Default: /aws/service/ami\n",
                &[],
                "",
            ),
            (
                CFN,
                "P:\n  Type: AWS::SSM::Parameter::Value<List<String>>\n",
                &[],
                "",
            ),
            (
                CFN,
                "P:\n  Type: AWS::SSM::Parameter::Value<Test>\n",
                &["E2003"],
                "unknown Type",
            ),
            (
                CFN,
                "P:\n  Type: List<Number>\n  Default: '1, 2'\n",
                &[],
                "",
            ),
            (
                CFN,
                "P:\n  Type: List<Number>\n  Default: '1,a'\n",
                &["E2006"],
                "not a number",
            ),
            (CFN, "P:\n  Type: Json\n", &[], ""),
            (
                CFN,
                "P:\n  Type: Number\n  MaxLength: 10\n",
                &["E2005"],
                "MinLength/MaxLength is not valid for type Number",
            ),
            (
                CFN,
                "P:\n  Type: Number\n  MinValue: a\n",
                &["E2005"],
                "MinValue must be a number",
            ),
            (
                CFN,
                "P:\n  Type: Number\n  MaxValue: null\n",
                &["E2005"],
                "MaxValue must be a number, found null",
            ),
            (
                CFN,
                "P:\n  Type: String\n  NoEcho: 123\n",
                &["E2024"],
                "'NoEcho' of parameter P must be true or false",
            ),
            (CFN, "P:\n  Type: String\n  NoEcho: 'true'\n", &[], ""),
            (
                CFN,
                "P:\n  Type: String\n  AllowedValues: vpc\n",
                &["E2005"],
                "AllowedValues must be a list",
            ),
            (
                CFN,
                "P:\n  Type: String\n  Default: null\n",
                &["E2024"],
                "'Default' of parameter P must be a value, found null",
            ),
            (
                CFN,
                "P:\n  Type: String\n  Description: null\n",
                &["E2024"],
                "'Description'",
            ),
            (
                CFN,
                "P:\n  Type: String\n  Default: vpc!@#$\n  AllowedPattern: '^[a-zA-Z0-9]*$'\n",
                &["E2006"],
                "does not match pattern",
            ),
            (
                CFN,
                "P:\n  Type: Number\n  Default: 0\n  MinValue: 1\n",
                &["E2006"],
                "0 is out of range, it must be at least 1",
            ),
            (
                CFN,
                "P:\n  Type: String\n  Default: abc\n  MaxLength: 1\n  ConstraintDescription: short please\n",
                &["E2006"],
                "short please",
            ),
            (
                CFN,
                "P:\n  Type: CommaDelimitedList\n  Default: 'three, four'\n  AllowedValues: [one, two, three]\n",
                &["E2006"],
                "not an allowed value",
            ),
            (
                CFN,
                "P:\n  Type: CommaDelimitedList\n  Default: 'one, two'\n  AllowedValues: [one, two]\n",
                &[],
                "",
            ),
            (
                CFN,
                "P:\n  Type: CommaDelimitedList\n  Default: '1,2'\n  AllowedPattern: '[a-z]*$'\n",
                &["E2006"],
                "\"1\" does not match",
            ),
            (
                CFN,
                "P:\n  Type: String\n  Default: ab\n  AllowedPattern: 'a|ab'\n",
                &[],
                "",
            ),
            (
                CFN,
                "P:\n  Type: Number\n  Default: '1.0'\n  AllowedValues: [1, 2]\n",
                &["E2006"],
                "not an allowed value",
            ),
            (
                CFN,
                "P:\n  Type: AWS::EC2::KeyPair::KeyName\n  Default: ABC\n  AllowedPattern: '[a-z]+'\n",
                &["E2006"],
                "does not match",
            ),
            (
                CFN,
                "P:\n  Type: String\n  Default: true\n  AllowedValues: [true, false]\n",
                &[],
                "",
            ),
            // Heat's dialect.
            (
                HEAT,
                "P:\n  Type: AWS::EC2::KeyPair::KeyName\n",
                &["E2003"],
                "unknown Type 'AWS::EC2::KeyPair::KeyName'",
            ),
            (HEAT, "P:\n  Type: Boolean\n  Default: 'on'\n", &[], ""),
            (
                HEAT,
                "P:\n  Type: CommaDelimitedList\n  AllowedPattern: '[a-z]+'\n",
                &["E2005"],
                "AllowedPattern is not valid for type CommaDelimitedList",
            ),
            (
                HEAT,
                "P:\n  Type: String\n  Default: ab\n  AllowedPattern: 'a|ab'\n",
                &["E2006"],
                "does not match pattern",
            ),
            (
                HEAT,
                "P:\n  Type: Number\n  Default: '1.0'\n  AllowedValues: [1, 2]\n",
                &[],
                "",
            ),
        ];
        let mut failures = Vec::new();
        for (version, params, expected, message) in cases {
            let key = if version.is_hot() {
                "parameters"
            } else {
                "Parameters"
            };
            let doc = format!(
                "{}: {}\n{key}:\n{}",
                version.key(),
                version.date(),
                indent(params)
            );
            let (_, diags) = run(*version, &doc);
            if codes(&diags) != *expected {
                failures.push(format!(
                    "{version}: {params}\n  expected {expected:?}, got {diags:#?}"
                ));
            } else if let Some(first) = diags.first() {
                if !first.message.contains(message) {
                    failures.push(format!("{params}: {:?} lacks {message:?}", first.message));
                }
                if !first.span.is_known() {
                    failures.push(format!("{params}: no span on {first:?}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn indent(text: &str) -> String {
        text.lines().map(|l| format!("  {l}\n")).collect()
    }

    #[test]
    fn model_fields() {
        let doc = "heat_template_version: 2018-03-02\nparameters:\n  key:\n    type: string\n    label: Key\n    description: The key\n    default: k1\n    hidden: true\n    immutable: true\n    tags: [a, 2]\n    constraints:\n      - length: {min: 1, max: 9}\n        description: short\n      - allowed_pattern: '[a-z0-9]+'\n      - custom_constraint: nova.keypair\n  n:\n    type: number\n    constraints:\n      - range: {max: 5}\n      - modulo: {step: 2, offset: 0}\n";
        let (params, diags) = run(Version::Hot20180302, doc);
        assert!(diags.is_empty(), "{diags:#?}");
        let p = &params[0];
        assert_eq!(p.name.value, "key");
        assert_eq!(p.ty, ParameterType::String);
        assert_eq!(p.label.as_deref(), Some("Key"));
        assert_eq!(p.description.as_deref(), Some("The key"));
        assert!(p.hidden && p.immutable);
        assert_eq!(p.tags, vec!["a".to_string(), "2".to_string()]);
        assert_eq!(p.default.as_ref().and_then(Node::as_str), Some("k1"));
        assert_eq!(p.constraints.len(), 3);
        assert_eq!(
            p.constraints[0].kind,
            ConstraintKind::Length {
                min: Some(1.0),
                max: Some(9.0)
            }
        );
        assert_eq!(p.constraints[0].description.as_deref(), Some("short"));
        assert_eq!(
            p.constraints[2].kind,
            ConstraintKind::Custom("nova.keypair".into())
        );
        assert_eq!(p.name.span.start.line, 3);
        assert_eq!(p.constraints[1].span.start.line, 14);
        let n = &params[1];
        assert_eq!(
            n.constraints[0].kind,
            ConstraintKind::Range {
                min: None,
                max: Some(5.0)
            }
        );
        assert_eq!(
            n.constraints[1].kind,
            ConstraintKind::Modulo {
                step: 2.0,
                offset: 0.0
            }
        );
    }

    #[test]
    fn cfn_constraints_and_description() {
        let doc = "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  P:\n    Type: String\n    NoEcho: true\n    MinLength: 2\n    MaxLength: '8'\n    AllowedPattern: '[a-z]+'\n    AllowedValues: [ab, cd]\n    ConstraintDescription: lower-case please\n  N:\n    Type: Number\n    MinValue: 1\n    MaxValue: 5\n";
        let (params, diags) = run(CFN, doc);
        assert!(diags.is_empty(), "{diags:#?}");
        let p = &params[0];
        assert!(p.hidden);
        let kinds: Vec<&ConstraintKind> = p.constraints.iter().map(|c| &c.kind).collect();
        assert_eq!(
            kinds,
            vec![
                &ConstraintKind::Length {
                    min: Some(2.0),
                    max: Some(8.0)
                },
                &ConstraintKind::AllowedValues(vec!["ab".into(), "cd".into()]),
                &ConstraintKind::AllowedPattern("[a-z]+".into()),
            ]
        );
        assert!(
            p.constraints
                .iter()
                .all(|c| c.description.as_deref() == Some("lower-case please"))
        );
        assert_eq!(
            params[1].constraints[0].kind,
            ConstraintKind::Range {
                min: Some(1.0),
                max: Some(5.0)
            }
        );
    }

    #[test]
    fn hidden_default_is_never_echoed() {
        let secret = "S3cr3t-Value";
        let cases = [
            format!(
                "heat_template_version: 2013-05-23\nparameters:\n  pw:\n    type: number\n    hidden: true\n    default: {secret}\n"
            ),
            format!(
                "heat_template_version: 2013-05-23\nparameters:\n  pw:\n    type: string\n    hidden: true\n    default: {secret}\n    constraints:\n      - allowed_pattern: '[a-z]+'\n      - length: {{max: 3}}\n      - allowed_values: [a, b]\n"
            ),
            format!(
                "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Pw:\n    Type: String\n    NoEcho: true\n    Default: {secret}\n    AllowedPattern: '[a-z]+'\n    MinLength: 20\n"
            ),
            format!(
                "heat_template_version: 2013-05-23\nparameters:\n  pw:\n    type: json\n    hidden: true\n    default: '{{\"{secret}\": '\n"
            ),
        ];
        for doc in &cases {
            let version = if doc.starts_with("heat") { HOT13 } else { CFN };
            let (_, diags) = run(version, doc);
            assert!(!diags.is_empty(), "{doc}");
            for d in &diags {
                let text = format!("{d} {:?}", d.hint);
                assert!(!text.contains(secret), "secret leaked: {text}");
            }
        }
    }

    #[test]
    fn aws_type_names() {
        for ty in [
            "AWS::EC2::AvailabilityZone::Name",
            "AWS::EC2::Instance::Id",
            "AWS::EC2::SecurityGroup::GroupName",
            "AWS::EC2::Volume::Id",
            "AWS::Route53::HostedZone::Id",
            "List<AWS::EC2::VPC::Id>",
            "List<String>",
            "AWS::SSM::Parameter::Name",
            "AWS::SSM::Parameter::Value<String>",
            "AWS::SSM::Parameter::Value<Number>",
            "AWS::SSM::Parameter::Value<CommaDelimitedList>",
            "AWS::SSM::Parameter::Value<List<Number>>",
            "AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>",
            "AWS::SSM::Parameter::Value<AWS::EC2::KeyPair::KeyName>",
        ] {
            assert!(cfn_type(ty, CFN).is_some(), "{ty}");
            assert!(cfn_type(ty, HEAT).is_none(), "{ty} in Heat's dialect");
        }
        for ty in [
            "Unicode",
            "List<AWS::EC2::KeyPair::KeyName>",
            "List<Foo>",
            "AWS::EC2::Foo::Id",
            "string",
        ] {
            assert!(cfn_type(ty, CFN).is_none(), "{ty}");
        }
        assert_eq!(
            cfn_type("List<Number>", CFN),
            Some(ParameterType::NumberList)
        );
        assert_eq!(cfn_type("Boolean", HEAT), Some(ParameterType::Boolean));
    }

    #[test]
    fn type_hints() {
        let (_, diags) = run(
            HOT13,
            "heat_template_version: 2013-05-23\nparameters:\n  p:\n    type: String\n",
        );
        assert!(diags[0].hint.as_deref().unwrap_or("").contains("'string'"));
        let (_, diags) = run(
            HOT13,
            "heat_template_version: 2013-05-23\nparameters:\n  p:\n    type: integer\n",
        );
        assert!(diags[0].hint.as_deref().unwrap_or("").contains("'number'"));
        let (_, diags) = run(
            CFN,
            "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  P:\n    Type: Strng\n",
        );
        assert!(diags[0].hint.as_deref().unwrap_or("").contains("'String'"));
        let (_, diags) = run(
            HEAT,
            "HeatTemplateFormatVersion: '2012-12-12'\nParameters:\n  P:\n    Type: List<AWS::EC2::Subnet::Id>\n",
        );
        assert!(
            diags[0]
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("AWSTemplateFormatVersion")
        );
        let (_, diags) = run(
            HOT13,
            "heat_template_version: 2013-05-23\nparameters:\n  p:\n    type: string\n    tags: [a]\n",
        );
        assert!(
            diags[0]
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("2018-03-02")
        );
    }

    #[test]
    fn invalid_type_keeps_the_parameter() {
        let (params, diags) = run(
            HOT13,
            "heat_template_version: 2013-05-23\nparameters:\n  p:\n    type: nope\n    default: 5\n    constraints:\n      - range: {min: 9}\n",
        );
        assert_eq!(codes(&diags), ["E2003"]);
        assert_eq!(params.len(), 1);
        assert_eq!(params[0].name.value, "p");
    }

    #[test]
    fn malformed_parameters_stay_declared() {
        for (version, doc) in [
            (
                HOT13,
                "heat_template_version: 2013-05-23\nparameters:\n  flavor: m1.small\n  image:\n  key: [a]\n",
            ),
            (
                CFN,
                "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  flavor: m1.small\n  image:\n  key: [a]\n",
            ),
        ] {
            let (params, diags) = run(version, doc);
            assert_eq!(codes(&diags), ["E2001", "E2001", "E2001"], "{diags:#?}");
            let names: Vec<&str> = params.iter().map(|p| p.name.value.as_str()).collect();
            assert_eq!(names, ["flavor", "image", "key"]);
            assert!(
                params
                    .iter()
                    .all(|p| p.default.is_none() && p.constraints.is_empty())
            );
        }
        let (_, diags) = run(
            HOT13,
            "heat_template_version: 2013-05-23\nparameters:\n  flavor: m1.small\n  image:\n",
        );
        assert_eq!(
            diags[0].hint.as_deref(),
            Some(
                "write the parameter as a map; if this value was meant as its default: \
                 `flavor: {type: string, default: ...}`"
            )
        );
        assert!(!diags[0].to_string().contains("m1.small"));
        assert_eq!(
            diags[1].hint.as_deref(),
            Some("write the parameter as a map, e.g. `image: {type: string}`")
        );
    }

    #[test]
    fn non_string_types() {
        let (_, diags) = run(
            HOT13,
            "heat_template_version: 2013-05-23\nparameters:\n  config:\n    type: {json: true}\n",
        );
        assert_eq!(codes(&diags), ["E2003"]);
        assert_eq!(
            diags[0].message,
            "parameter config: type must be a string, found a map"
        );
        assert_eq!(diags[0].hint.as_deref(), Some("did you mean `type: json`?"));
        let (_, diags) = run(
            CFN,
            "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  P:\n    Type: [String]\n",
        );
        assert_eq!(
            diags[0].message,
            "parameter P: Type must be a string, found a list"
        );
        assert!(
            diags[0]
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("String, Number"))
        );
    }

    #[test]
    fn hot_messages_use_hot_key_names() {
        let (_, diags) = run(
            HOT13,
            "heat_template_version: 2013-05-23\nparameters:\n  p:\n    type: string\n    constraints:\n      - allowed_values: a\n      - allowed_pattern: [x]\n      - allowed_pattern: '[a-'\n",
        );
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(msgs.len(), 3, "{diags:#?}");
        assert!(msgs[0].contains("allowed_values must be a list"));
        assert!(msgs[1].contains("allowed_pattern must be a string"));
        assert!(msgs[2].contains("allowed_pattern is not a valid regular expression"));
        assert!(msgs.iter().all(|m| !m.contains("Allowed")), "{msgs:?}");
    }

    fn groups(version: Version, text: &str) -> (Vec<ParameterGroup>, Vec<Diagnostic>) {
        let loaded = load(text, &Limits::default());
        let root = loaded.root.expect("a document");
        let node = if version.is_hot() {
            root.get("parameter_groups").expect("groups").clone()
        } else {
            root.get("Metadata")
                .and_then(|m| m.get("AWS::CloudFormation::Interface"))
                .and_then(|i| i.get("ParameterGroups"))
                .expect("ParameterGroups")
                .clone()
        };
        let mut diags = Vec::new();
        let g = parse_parameter_groups(&node, version, &mut diags);
        (g, diags)
    }

    #[test]
    fn parameter_group_shapes() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "- label: G\n  description: d\n  parameters: [a, b]\n",
                &[],
                "",
            ),
            (
                "- label: Server Group\n  description: d\n",
                &["E2010"],
                "Parameter Groups error: parameter_groups.Server Group: The parameters must be provided for each parameter group.",
            ),
            (
                "- label: Server Group\n  parameters:\n    key_name: heat_key\n",
                &["E2010"],
                "Parameter Groups error: parameter_groups.Server Group: The parameters of parameter group should be a list.",
            ),
            (
                "{a: b}\n",
                &["E2010"],
                "The parameter_groups should be a list",
            ),
            ("- just a string\n", &["E2010"], "must be a map"),
            (
                "- parameters: [a, {x: 1}]\n",
                &["E2010"],
                "must be named by a string",
            ),
            (
                "- parameters: [a]\n  colour: red\n",
                &["W1001"],
                "key 'colour' in a parameter group is ignored",
            ),
        ];
        for (yaml, expected, message) in cases {
            let doc = format!(
                "heat_template_version: 2013-05-23\nparameter_groups:\n{}",
                indent(yaml)
            );
            let (_, diags) = groups(HOT13, &doc);
            assert_eq!(codes(&diags), *expected, "{yaml}: {diags:#?}");
            if let Some(d) = diags.first() {
                assert!(d.message.contains(message), "{:?}", d.message);
            }
        }
        let (g, diags) = groups(
            HOT13,
            "heat_template_version: 2013-05-23\nparameter_groups:\n- label: G\n  description: D\n  parameters: [a, b]\n",
        );
        assert!(diags.is_empty());
        assert_eq!(g[0].label.as_deref(), Some("G"));
        assert_eq!(g[0].description.as_deref(), Some("D"));
        let names: Vec<&str> = g[0].parameters.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(g[0].parameters[1].span.start.line, 5);
    }

    #[test]
    fn cfn_interface_groups() {
        let doc = "AWSTemplateFormatVersion: '2010-09-09'\nMetadata:\n  AWS::CloudFormation::Interface:\n    ParameterGroups:\n      - Label: {default: Network}\n        Parameters: [Vpc, Subnet]\n      - Parameters: [Key]\n        Label: {default: Access}\n      - Label: x\n        Parameters: Key\n    ParameterLabels:\n      Vpc: {default: The VPC}\n";
        let (g, diags) = groups(CFN, doc);
        assert_eq!(codes(&diags), ["E2010"]);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].label.as_deref(), Some("Network"));
        assert_eq!(g[1].label.as_deref(), Some("Access"));
        assert_eq!(g[1].parameters[0].value, "Key");
        // ParameterGroups that is not a list: a string, or a single group written as a map.
        for not_list in [
            Node::new(Value::String("x".into()), Span::default()),
            load(
                "Label: {default: Network}\nParameters: [Vpc]\n",
                &Limits::default(),
            )
            .root
            .expect("a map"),
        ] {
            let mut diags = Vec::new();
            assert!(parse_parameter_groups(&not_list, CFN, &mut diags).is_empty());
            assert_eq!(codes(&diags), ["E2010"]);
            assert!(diags[0].message.contains("must be a list"), "{diags:?}");
        }
    }

    /// The shared corpus (`$HEAT_CORPUS`, else `../shared/corpus` beside the workspace), if present.
    pub(crate) fn corpus_dir() -> Option<std::path::PathBuf> {
        let dir = std::env::var_os("HEAT_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
            });
        dir.join("MANIFEST.tsv").is_file().then_some(dir)
    }

    /// The parameters and parameter groups of every template the corpus calls valid parse
    /// without errors, and every corpus template whose note names a parameter problem gets one.
    #[test]
    fn corpus_parameters() {
        let Some(dir) = corpus_dir() else {
            eprintln!("corpus not found; skipped");
            return;
        };
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
        let mut failures = Vec::new();
        let mut checked = 0;
        for line in manifest.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 7 || cols[4] == "env" {
                continue;
            }
            let (path, expect, note) = (cols[3], cols[5], cols[6]);
            let Ok(text) = std::fs::read_to_string(dir.join(path)) else {
                continue;
            };
            let loaded = load(&text, &Limits::default());
            let Some(root) = loaded.root else { continue };
            let version = if let Some(v) = root.get("heat_template_version") {
                let v = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{:?}", v.value));
                match Version::from_key_value("heat_template_version", &v) {
                    Some(v) => v,
                    None => continue,
                }
            } else if root.get("HeatTemplateFormatVersion").is_some() {
                Version::Heat20121212
            } else {
                Version::Cfn20100909
            };
            let mut diags = Vec::new();
            let section = if version.is_hot() {
                "parameters"
            } else {
                "Parameters"
            };
            let params = match root.get(section) {
                Some(node) if node.as_map().is_some() => {
                    parse_parameters(node, version, &mut diags)
                }
                _ => Vec::new(),
            };
            let groups_node = if version.is_hot() {
                root.get("parameter_groups").cloned()
            } else {
                root.get("Metadata")
                    .and_then(|m| m.get("AWS::CloudFormation::Interface"))
                    .and_then(|i| i.get("ParameterGroups"))
                    .cloned()
            };
            if let Some(node) = groups_node {
                let groups = parse_parameter_groups(&node, version, &mut diags);
                crate::parameters::check_parameter_groups(&groups, &params, version, &mut diags);
            }
            for p in &params {
                diags.extend(crate::parameters::check_default(p, version.format()));
            }
            checked += 1;
            let errors: Vec<String> = diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{d}"))
                .collect();
            if expect == "valid" && !errors.is_empty() {
                failures.push(format!("{path} (valid): {errors:?}"));
            }
            let names_parameter_problem = note.contains("parameter ")
                && (note.contains("has no type")
                    || note.contains("has no Type")
                    || note.contains("unknown type")
                    || note.contains("unknown Type")
                    || note.contains("unknown key")
                    || note.contains("constraint")
                    || note.contains("default"))
                || note.contains("Parameter Groups error")
                || note.contains("Invalid key")
                || note.contains("No constraint expressed")
                || note.contains("Tags property");
            if expect == "invalid" && names_parameter_problem && errors.is_empty() {
                failures.push(format!("{path} (invalid: {note}): no parameter error"));
            }
        }
        assert!(checked > 500, "only {checked} templates checked");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
