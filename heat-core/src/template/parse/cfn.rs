//! CloudFormation-syntax templates: AWS CloudFormation (`AWSTemplateFormatVersion`, or no
//! version key) and Heat's dialect (`HeatTemplateFormatVersion: 2012-12-12`).
//!
//! Where the two differ the format decides: AWS CloudFormation rejects unknown resource and
//! output keys (unless a transform may process them), Heat's dialect ignores them; only AWS
//! has `Conditions`, `Metadata`, `Rules`, `Transform`, `Hooks` and resource attributes such
//! as `CreationPolicy`.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{Span, Spanned};
use crate::template::model::{ConditionDef, Mapping, Output, Resource, Template};
use crate::template::node::{Key, Node, Value};
use crate::template::parse::expr::{ExprContext, parse_expr};
use crate::template::parse::parameters::{parse_parameter_groups, parse_parameters};
use crate::template::parse::util::{
    CFN_SPELLING, cfn_condition_field, check_resource_name, condition_entries, deletion_policy,
    field, is_call, is_function_key, kind, last_wins, map_or_call, missing_output_value,
    output_description, output_not_a_mapping, parse_shared_fields, resource_not_a_mapping,
    same_word, section_entries, short_scalar, spanned_key, suggest, template_description,
    unknown_name_hint, value_span,
};
use crate::template::version::{Format, Version};

/// Top-level sections of AWS CloudFormation.
const AWS_SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
];

/// Top-level sections of Heat's 2012-12-12 dialect.
const HEAT_SECTIONS: &[&str] = &[
    "HeatTemplateFormatVersion",
    "Description",
    "Parameters",
    "Mappings",
    "Resources",
    "Outputs",
];

/// Resource attributes of AWS CloudFormation (`Version` is that of custom resources;
/// `Description` is Heat's, accepted in both).
const AWS_RESOURCE_KEYS: &[&str] = &[
    "Type",
    "Properties",
    "Metadata",
    "DependsOn",
    "DeletionPolicy",
    "UpdatePolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "Condition",
    "Version",
    "Description",
];

/// Resource keys of Heat's 2012-12-12 dialect (other keys are ignored).
const HEAT_RESOURCE_KEYS: &[&str] = &[
    "Type",
    "Properties",
    "Metadata",
    "DependsOn",
    "DeletionPolicy",
    "UpdatePolicy",
    "Description",
];

const AWS_OUTPUT_KEYS: &[&str] = &["Description", "Value", "Condition", "Export"];
const HEAT_OUTPUT_KEYS: &[&str] = &["Description", "Value"];

const AWS_DELETION_POLICIES: &[&str] = &["Delete", "Retain", "Snapshot", "RetainExceptOnCreate"];
const HEAT_DELETION_POLICIES: &[&str] = &["Delete", "Retain", "Snapshot"];
const UPDATE_REPLACE_POLICIES: &[&str] = &["Delete", "Retain", "Snapshot"];

/// The prefix of `Fn::ForEach` loops (AWS::LanguageExtensions) written as section keys.
const FOR_EACH: &str = "Fn::ForEach::";

/// What the template's transforms allow.
struct Transforms {
    /// Any transform (a macro may process keys CloudFormation does not know).
    any: bool,
    /// `AWS::Serverless-*` (adds the `Globals` section).
    serverless: bool,
    /// `AWS::LanguageExtensions` (adds `Fn::ForEach` loops).
    language_extensions: bool,
    /// The names, for messages.
    names: String,
}

/// Parses the sections of a CloudFormation-syntax template whose version is already known.
pub(crate) fn parse_cfn(
    entries: &[(Key, Node)],
    version: Version,
    version_span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Template {
    let aws = version.format() == Format::Cfn;
    let mut template = Template::new(version, version_span);
    let entries = last_wins(entries);
    let section = |name: &str| entries.iter().copied().find(|(k, _)| k.name == name);

    if aws && let Some((key, node)) = section("Transform") {
        template.transforms = parse_transform(key, node, diags);
    }
    let tf = Transforms {
        any: !template.transforms.is_empty(),
        serverless: template
            .transforms
            .iter()
            .any(|t| t.value.starts_with("AWS::Serverless")),
        language_extensions: template
            .transforms
            .iter()
            .any(|t| t.value == "AWS::LanguageExtensions"),
        names: template
            .transforms
            .iter()
            .map(|t| t.value.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };

    check_sections(&entries, version, &tf, diags);

    if let Some((key, node)) = section("Description") {
        template.description = template_description(key, node, aws, diags);
    }
    if let Some((key, node)) = section("Parameters") {
        if matches!(node.value, Value::Map(_)) {
            template.parameters = parse_parameters(node, version, diags);
        } else {
            section_entries(key, node, !aws, diags);
        }
    }
    if let Some((key, node)) = section("Mappings") {
        template.mappings = parse_mappings(key, node, !aws, diags);
    }
    if aws {
        if let Some((key, node)) = section("Metadata") {
            parse_metadata(key, node, &mut template, diags);
        }
        if let Some((key, node)) = section("Conditions") {
            template.conditions = parse_conditions(key, node, version, &tf, diags);
        }
        for name in ["Rules", "Hooks"] {
            if let Some((key, node)) = section(name) {
                section_entries(key, node, false, diags);
            }
        }
    }
    if let Some((key, node)) = section("Resources") {
        let entries = section_entries(key, node, !aws, diags);
        template.resources.reserve_exact(entries.len());
        for (name, def) in entries {
            if name.name.starts_with(FOR_EACH) && tf.language_extensions {
                skipped_loop(name, "resources", diags);
                continue;
            }
            template
                .resources
                .push(parse_resource(name, def, version, &tf, diags));
        }
    }
    let resources_empty = section("Resources").is_none_or(|(_, node)| {
        node.is_null() || node.as_map().is_some_and(<[(Key, Node)]>::is_empty)
    });
    if aws && resources_empty && !tf.any {
        // Point at the Resources key, or at the top of the template when there is none.
        let present = section("Resources");
        let span = present
            .or_else(|| entries.first().copied())
            .map_or(Span::default(), |(k, _)| k.span);
        let (why, hint) = if present.is_some() {
            (
                "the Resources section is empty",
                "add at least one resource to the Resources section",
            )
        } else {
            (
                "there is no Resources section",
                "add a Resources section with at least one resource",
            )
        };
        diags.push(
            Diagnostic::warning(
                Code::NoResources,
                span,
                format!(
                    "the template has no resources ({why}): Heat accepts an empty stack, AWS \
                     CloudFormation requires at least one resource"
                ),
            )
            .with_hint(hint),
        );
    }
    if let Some((key, node)) = section("Outputs") {
        let entries = section_entries(key, node, !aws, diags);
        template.resources.reserve_exact(entries.len());
        for (name, def) in entries {
            if name.name.starts_with(FOR_EACH) && tf.language_extensions {
                skipped_loop(name, "outputs", diags);
                continue;
            }
            if let Some(output) = parse_output(name, def, version, &tf, diags) {
                template.outputs.push(output);
            }
        }
    }
    template
}

/// Reports unknown top-level sections.
fn check_sections(
    entries: &[&(Key, Node)],
    version: Version,
    tf: &Transforms,
    diags: &mut Vec<Diagnostic>,
) {
    let aws = version.format() == Format::Cfn;
    let known = if aws { AWS_SECTIONS } else { HEAT_SECTIONS };
    for (key, _) in entries {
        let k = key.name.as_str();
        // The other format's version key (with a non-string value, or the version would be
        // ambiguous) is a section Heat knows in both dialects.
        if known.contains(&k) || k == "AWSTemplateFormatVersion" || k == "HeatTemplateFormatVersion"
        {
            continue;
        }
        if aws && k == "Globals" && tf.serverless {
            continue;
        }
        if aws && tf.any {
            let hint = match suggest(k, known) {
                Some(s) => format!(
                    "if it is not meant for the transform, did you mean '{s}'? Otherwise the \
                     transform must remove it"
                ),
                None => format!(
                    "the transform must remove it; CloudFormation itself knows only: {}",
                    known.join(", ")
                ),
            };
            diags.push(
                Diagnostic::warning(
                    Code::IgnoredKey,
                    key.span,
                    format!(
                        "top-level section '{k}' is not a CloudFormation section; it is left \
                         for the transform ({}) to process",
                        tf.names
                    ),
                )
                .with_hint(hint),
            );
            continue;
        }
        let mut d = Diagnostic::error(
            Code::UnknownSection,
            key.span,
            format!("unknown top-level section '{k}'"),
        );
        d = if !aws
            && matches!(
                k,
                "Conditions" | "Metadata" | "Rules" | "Transform" | "Hooks"
            ) {
            d.with_hint(format!(
                "HeatTemplateFormatVersion 2012-12-12 has no {k} section; use \
                 AWSTemplateFormatVersion: '2010-09-09' or a HOT template"
            ))
        } else if k == "Globals" {
            d.with_hint("the Globals section needs Transform: AWS::Serverless-2016-10-31")
        } else {
            d.with_hint(unknown_name_hint(k, known, "sections"))
        };
        diags.push(d);
    }
}

/// A `Fn::ForEach::*` loop that AWS::LanguageExtensions expands; heat does not.
fn skipped_loop(name: &Key, section: &str, diags: &mut Vec<Diagnostic>) {
    diags.push(
        Diagnostic::warning(
            Code::TransformSkipsChecks,
            name.span,
            format!(
                "'{}' is a loop that the AWS::LanguageExtensions transform expands; the \
                 {section} it generates are not checked",
                name.name
            ),
        )
        .with_hint(
            "to check them, create a change set and validate the processed template \
             (`aws cloudformation get-template --template-stage Processed`)",
        ),
    );
}

/// `Transform`: a transform name or a list of them.
fn parse_transform(key: &Key, node: &Node, diags: &mut Vec<Diagnostic>) -> Vec<Spanned<String>> {
    let bad = |span, found: &str, diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::error(
                Code::BadTransform,
                span,
                format!("Transform must be a transform name or a list of names, found {found}"),
            )
            .with_hint("e.g. Transform: AWS::Serverless-2016-10-31"),
        );
    };
    match &node.value {
        Value::String(s) if !s.is_empty() => vec![Spanned::new(s.clone(), node.span)],
        Value::Seq(items) => {
            let mut out = Vec::new();
            for item in items {
                match &item.value {
                    Value::String(s) if !s.is_empty() => {
                        out.push(Spanned::new(s.clone(), item.span));
                    }
                    _ => bad(item.span, kind(item), diags),
                }
            }
            out
        }
        Value::String(_) => {
            bad(value_span(key, node), "an empty string", diags);
            Vec::new()
        }
        _ => {
            bad(value_span(key, node), kind(node), diags);
            Vec::new()
        }
    }
}

/// `Metadata` (AWS): kept as an expression; `AWS::CloudFormation::Interface` gives the
/// parameter groups.
fn parse_metadata(key: &Key, node: &Node, template: &mut Template, diags: &mut Vec<Diagnostic>) {
    match &node.value {
        Value::Map(_) => {
            let ctx = ExprContext {
                version: template.version,
                in_condition: false,
            };
            template.metadata = Some(parse_expr(node, &ctx, diags));
            if let Some(groups) = node
                .get("AWS::CloudFormation::Interface")
                .and_then(|i| i.get("ParameterGroups"))
                && !groups.is_null()
            {
                template.parameter_groups = parse_parameter_groups(groups, template.version, diags);
            }
        }
        Value::Null => {}
        _ => {
            section_entries(key, node, false, diags);
        }
    }
}

/// `Mappings`: name → top-level key → second-level key → value. Shape problems are
/// warnings: Heat only fails when `Fn::FindInMap` reads a bad entry.
fn parse_mappings(
    key: &Key,
    node: &Node,
    lenient: bool,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Mapping> {
    let mut out = Vec::new();
    for (name, def) in section_entries(key, node, lenient, diags) {
        let Some(top) = def.as_map() else {
            diags.push(bad_mapping(
                value_span(name, def),
                format!(
                    "mapping '{}' must be a map of keys to maps, found {}",
                    name.name,
                    kind(def)
                ),
                format!(
                    "write it as two levels of keys, e.g. `{}: {{us-east-1: {{Ami: ami-123}}}}`, \
                     read with Fn::FindInMap [{}, TopKey, SecondKey]",
                    name.name, name.name
                ),
            ));
            continue;
        };
        let mut entries = Vec::new();
        for (top_key, second) in last_wins(top) {
            let Some(second) = second.as_map() else {
                diags.push(bad_mapping(
                    value_span(top_key, second),
                    format!(
                        "mapping '{}': the value of key '{}' must be a map, found {}",
                        name.name,
                        top_key.name,
                        kind(second)
                    ),
                    format!(
                        "put the value under a second-level key, e.g. `{}: {{Value: ...}}`, \
                         read with Fn::FindInMap [{}, {}, Value]",
                        top_key.name, name.name, top_key.name
                    ),
                ));
                continue;
            };
            let values = last_wins(second)
                .into_iter()
                .map(|(k, v)| (spanned_key(k), v.clone()))
                .collect();
            entries.push((spanned_key(top_key), values));
        }
        out.push(Mapping {
            name: spanned_key(name),
            entries,
            span: value_span(name, def),
        });
    }
    out
}

fn bad_mapping(span: Span, message: String, fix: String) -> Diagnostic {
    Diagnostic::warning(Code::BadMappingShape, span, message).with_hint(format!(
        "{fix} (AWS CloudFormation rejects this; Heat fails only when Fn::FindInMap reads it)"
    ))
}

/// `Conditions` (AWS): name → condition function.
fn parse_conditions(
    key: &Key,
    node: &Node,
    version: Version,
    tf: &Transforms,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ConditionDef> {
    let Some(entries) = condition_entries(key, node, diags) else {
        return Vec::new();
    };
    let ctx = ExprContext {
        version,
        in_condition: true,
    };
    let mut out = Vec::new();
    for (name, def) in entries {
        if name.name.starts_with(FOR_EACH) && tf.language_extensions {
            skipped_loop(name, "conditions", diags);
            continue;
        }
        if matches!(def.value, Value::Map(_)) {
            let expr = parse_expr(def, &ctx, diags);
            if is_call(&expr) {
                out.push(ConditionDef {
                    name: spanned_key(name),
                    expr,
                });
                continue;
            }
        }
        diags.push(
            Diagnostic::error(
                Code::BadCondition,
                value_span(name, def),
                format!(
                    "The definition of condition \"{}\" is invalid: it must be a condition \
                     function, found {}",
                    name.name,
                    kind(def)
                ),
            )
            .with_hint("use Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition"),
        );
    }
    out
}

/// One resource definition.
fn parse_resource(
    name: &Key,
    node: &Node,
    version: Version,
    tf: &Transforms,
    diags: &mut Vec<Diagnostic>,
) -> Resource {
    let aws = version.format() == Format::Cfn;
    check_resource_name(name, diags);
    let mut resource = Resource::new(
        spanned_key(name),
        Spanned::new(String::new(), name.span),
        value_span(name, node),
    );
    let Some(entries) = node.as_map() else {
        let hint = name
            .name
            .starts_with(FOR_EACH)
            .then(|| "Fn::ForEach loops need Transform: AWS::LanguageExtensions".to_string());
        diags.push(resource_not_a_mapping(name, node, &CFN_SPELLING, hint));
        return resource;
    };

    let allowed = if aws {
        AWS_RESOURCE_KEYS
    } else {
        HEAT_RESOURCE_KEYS
    };
    for (key, _) in entries {
        let k = key.name.as_str();
        if allowed.contains(&k) {
            continue;
        }
        let hint = match suggest(k, allowed) {
            Some(s) if same_word(s, k) => Some(format!("CloudFormation spells it '{s}'")),
            Some(s) => Some(format!("did you mean '{s}'?")),
            None => None,
        };
        let d = if aws && !tf.any {
            Diagnostic::error(
                Code::UnknownResourceKey,
                key.span,
                format!("resource '{}' has unknown key '{k}'", name.name),
            )
            .with_hint(hint.unwrap_or_else(|| {
                format!("valid resource attributes are: {}", allowed.join(", "))
            }))
        } else if aws {
            let d = Diagnostic::warning(
                Code::IgnoredKey,
                key.span,
                format!(
                    "resource '{}' has key '{k}', which is not a CloudFormation resource \
                     attribute; it is left for the transform ({}) to process",
                    name.name, tf.names
                ),
            );
            d.with_hint(hint.unwrap_or_else(|| {
                "the transform must remove it; CloudFormation itself knows only these resource \
                 attributes: "
                    .to_string()
                    + &allowed.join(", ")
            }))
        } else {
            let d = Diagnostic::warning(
                Code::IgnoredKey,
                key.span,
                format!(
                    "resource '{}' has unknown key '{k}', which Heat's 2012-12-12 dialect \
                     ignores",
                    name.name
                ),
            );
            if k == "Condition" {
                d.with_hint(
                    "HeatTemplateFormatVersion 2012-12-12 has no conditions; use \
                     AWSTemplateFormatVersion: '2010-09-09'",
                )
            } else {
                d.with_hint(hint.unwrap_or_else(|| {
                    format!(
                        "remove it: Heat reads only these resource keys: {}",
                        allowed.join(", ")
                    )
                }))
            }
        };
        diags.push(d);
    }

    let policies = if aws {
        AWS_DELETION_POLICIES
    } else {
        HEAT_DELETION_POLICIES
    };
    parse_shared_fields(
        &mut resource,
        name,
        entries,
        &CFN_SPELLING,
        policies,
        version,
        diags,
    );
    let rname = name.name.as_str();
    if aws {
        if let Some((k, v)) = field(entries, "CreationPolicy") {
            resource.creation_policy =
                map_or_call(rname, k, v, Code::BadResourceField, version, diags).map(Box::new);
        }
        if let Some((k, v)) = field(entries, "UpdateReplacePolicy") {
            resource.update_replace_policy =
                deletion_policy(rname, k, v, UPDATE_REPLACE_POLICIES, version, diags).map(Box::new);
        }
        if let Some((k, v)) = field(entries, "Condition") {
            resource.condition =
                cfn_condition_field(&format!("resource '{rname}'"), k, v, diags).map(Box::new);
        }
    }
    resource
}

/// An `Export` that is not a map with a `Name` key.
fn bad_export(output: &str, key: &Key, node: &Node) -> Diagnostic {
    let span = value_span(key, node);
    let (message, hint) = match node.as_map() {
        Some([(k, _)]) if is_function_key(&k.name) => (
            format!(
                "the Export of output '{output}' is a {} call; Export must be a map with a \
                 Name key",
                k.name
            ),
            format!(
                "put the call under Name: `Export: {{Name: {{{}: ...}}}}`",
                k.name
            ),
        ),
        Some(entries) => {
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
            let hint = match keys.iter().find_map(|k| suggest(k, &["Name"]).map(|_| *k)) {
                Some(k) => format!("did you mean 'Name' (not '{k}')?"),
                None if keys.is_empty() => "write `Export: {Name: my-exported-name}`".to_string(),
                None => format!(
                    "Export has one key, Name (this one has: {}): write `Export: {{Name: \
                     my-exported-name}}`",
                    keys.join(", ")
                ),
            };
            (
                format!("the Export of output '{output}' has no Name key"),
                hint,
            )
        }
        None => (
            format!(
                "the Export of output '{output}' must be a map with a Name key, found {}",
                kind(node)
            ),
            match short_scalar(node) {
                Some(s) => format!("write `Export: {{Name: {s}}}`"),
                None => "write `Export: {Name: my-exported-name}`".to_string(),
            },
        ),
    };
    Diagnostic::error(Code::BadExport, span, message).with_hint(hint)
}

/// One output definition.
fn parse_output(
    name: &Key,
    node: &Node,
    version: Version,
    tf: &Transforms,
    diags: &mut Vec<Diagnostic>,
) -> Option<Output> {
    let aws = version.format() == Format::Cfn;
    let Some(entries) = node.as_map() else {
        let key_like = AWS_OUTPUT_KEYS.contains(&name.name.as_str());
        diags.push(output_not_a_mapping(name, node, &CFN_SPELLING, key_like));
        return None;
    };
    let allowed = if aws {
        AWS_OUTPUT_KEYS
    } else {
        HEAT_OUTPUT_KEYS
    };
    // Without a Value, one diagnostic says what was written instead.
    let (missing_value, explained) = missing_output_value(name, entries, &CFN_SPELLING);
    for (key, _) in entries {
        let k = key.name.as_str();
        if allowed.contains(&k) || explained.is_some_and(|e| std::ptr::eq(e, key)) {
            continue;
        }
        let hint = unknown_name_hint(k, allowed, "output keys");
        let d = if aws && !tf.any {
            Diagnostic::error(
                Code::UnknownOutputKey,
                key.span,
                format!("output '{}' has unknown key '{k}'", name.name),
            )
        } else {
            Diagnostic::warning(
                Code::IgnoredKey,
                key.span,
                format!("output '{}' has key '{k}', which is ignored", name.name),
            )
        };
        diags.push(d.with_hint(hint));
    }
    if let Some(d) = missing_value {
        diags.push(d);
    }
    let (_, value) = field(entries, "Value")?;
    let ctx = ExprContext {
        version,
        in_condition: false,
    };
    let value = parse_expr(value, &ctx, diags);
    let description = output_description(&name.name, entries, &CFN_SPELLING, aws, diags);
    let mut condition = None;
    let mut export = None;
    if aws {
        if let Some((k, v)) = field(entries, "Condition") {
            condition = cfn_condition_field(&format!("output '{}'", name.name), k, v, diags);
        }
        if let Some((k, v)) = field(entries, "Export") {
            if v.get("Name").is_some() {
                export = Some(parse_expr(v, &ctx, diags));
            } else {
                diags.push(bad_export(&name.name, k, v));
            }
        }
    }
    Some(Output {
        name: spanned_key(name),
        value,
        description,
        condition,
        export,
        span: value_span(name, node),
    })
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use crate::span::Span;
    use crate::template::model::{DeletionPolicy, DeletionPolicySpec, ResourceCondition};
    use crate::template::parse::util::testing::{codes, find, run, table};
    use crate::template::version::Version;

    #[test]
    fn sections() {
        table(&[
            (
                "minimal AWS",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Description: a bucket
                Resources:
                  Bucket:
                    Type: AWS::S3::Bucket
                ",
                &[],
            ),
            (
                "every AWS section",
                "
                AWSTemplateFormatVersion: '2010-09-09'
                Description: all of them
                Metadata: {License: Apache-2.0}
                Rules: {}
                Mappings: {}
                Conditions: {}
                Transform: AWS::LanguageExtensions
                Hooks: {}
                Resources:
                  H:
                    Type: AWS::CloudFormation::WaitConditionHandle
                Outputs: {}
                ",
                &[],
            ),
            (
                "Heat dialect: unknown sections",
                "
                HeatTemplateFormatVersion: 2012-12-12
                foo: bar
                blarg: wibble
                ",
                &["E1002", "E1002"],
            ),
            (
                "Heat dialect: no conditions",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Conditions: {}
                Resources: {}
                ",
                &["E1002"],
            ),
            (
                "AWS: unknown section",
                "
                AWSTemplateFormatVersion: '2010-09-09'
                Resource:
                  B: {Type: AWS::S3::Bucket}
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1002"],
            ),
            (
                "AWS: Globals with the serverless transform",
                "
                Transform: AWS::Serverless-2016-10-31
                Globals:
                  Function: {Timeout: 3}
                Resources:
                  F: {Type: AWS::Serverless::Function}
                ",
                &[],
            ),
            (
                "AWS: Globals without it",
                "
                Globals: {}
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1002"],
            ),
            (
                "AWS: other sections are the macro's business",
                "
                Transform: [MyMacro]
                Wibble: 1
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["W1001"],
            ),
            (
                "AWS: no resources",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Parameters:
                Resources:
                Outputs:
                ",
                &["W1004"],
            ),
            (
                "Heat dialect: no resources",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Outputs:
                  Foo:
                    Value: foo
                ",
                &[],
            ),
            (
                "AWS: Resources is a list",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources: [a]
                ",
                &["E1003"],
            ),
            (
                "AWS: an empty list is not an empty section",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Outputs: []
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1003"],
            ),
            (
                "Heat dialect: an empty list is",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Outputs: []
                ",
                &[],
            ),
            (
                "AWS: description must be a string",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Description: [a]
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1030"],
            ),
            (
                "Heat dialect: description may be anything",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Description: {a: b}
                ",
                &["W1030"],
            ),
            (
                "AWS: Metadata, Rules and Hooks must be maps",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Metadata: [a]
                Rules: 1
                Hooks: x
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1003", "E1003", "E1003"],
            ),
        ]);
    }

    #[test]
    fn unknown_section_hints() {
        let p = run("
            HeatTemplateFormatVersion: 2012-12-12
            Conditions: {}
            Outputz: {}
            ");
        let ds: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.code.as_str() == "E1002")
            .collect();
        assert_eq!(ds.len(), 2);
        assert!(ds[0].message.contains("'Conditions'"));
        assert!(
            ds[0]
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("2012-12-12 has no Conditions"))
        );
        assert_eq!(ds[1].hint.as_deref(), Some("did you mean 'Outputs'?"));
    }

    #[test]
    fn transforms() {
        table(&[
            (
                "a list of names",
                "
                Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &[],
            ),
            (
                "a map",
                "
                Transform: {Name: AWS::Include}
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1035"],
            ),
            (
                "a list with a number and an empty name",
                "
                Transform: [1, '']
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1035", "E1035"],
            ),
            (
                "Heat dialect has none",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Transform: AWS::Serverless-2016-10-31
                ",
                &["E1002"],
            ),
        ]);
        let p = run("
            Transform: [AWS::LanguageExtensions, Count]
            Resources:
              B: {Type: AWS::S3::Bucket}
            ");
        let t = p.template.as_ref().expect("template");
        let names: Vec<&str> = t.transforms.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(names, ["AWS::LanguageExtensions", "Count"]);
        assert!(t.has_transform());
    }

    #[test]
    fn resources() {
        table(&[
            (
                "resource is null",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources:
                  resource1:
                ",
                &["E1010"],
            ),
            (
                "no Type",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources:
                  resource1:
                    Properties:
                      property1: value1
                    Metadata:
                      foo: bar
                    DependsOn: dummy
                    DeletionPolicy: dummy
                    UpdatePolicy:
                      foo: bar
                ",
                &["E1011", "E1016"],
            ),
            (
                "Type is a list (Heat dialect)",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Resources:
                  Resource:
                    Type: [Wrong, Type]
                ",
                &["E1012"],
            ),
            (
                "Type is a Rain module",
                r#"
                {
                  "Resources": {
                    "Common": {"Type": {"Rain::Module": "./common.yaml"}}
                  }
                }
                "#,
                &["E1012"],
            ),
            (
                "AWS: unknown keys are errors",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources:
                  B:
                    Type: AWS::S3::Bucket
                    BadProperty: 1
                    Parameters: {}
                ",
                &["E1013", "E1013"],
            ),
            (
                "AWS: unknown keys are the transform's business",
                "
                Transform: Count
                Resources:
                  B:
                    Type: AWS::S3::Bucket
                    Count: 3
                ",
                &["W1001"],
            ),
            (
                "Heat dialect: unknown keys are ignored",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Resources:
                  B:
                    Type: AWS::S3::Bucket
                    Wibble: 1
                    Condition: c
                ",
                &["W1001", "W1001"],
            ),
            (
                "HOT spellings in AWS",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources:
                  B:
                    type: AWS::S3::Bucket
                ",
                &["E1011", "E1013"],
            ),
            (
                "every AWS attribute",
                r#"
                AWSTemplateFormatVersion: 2010-09-09
                Conditions:
                  C: {"Fn::Equals": [a, a]}
                Resources:
                  A:
                    Type: AWS::EC2::Instance
                    Properties: {ImageId: ami-1}
                    Metadata: {a: b}
                    DependsOn: [B]
                    DeletionPolicy: RetainExceptOnCreate
                    UpdateReplacePolicy: Snapshot
                    UpdatePolicy: {AutoScalingRollingUpdate: {}}
                    CreationPolicy: {ResourceSignal: {Count: 1}}
                    Condition: C
                    Description: Heat's own
                  B:
                    Type: Custom::Thing
                    Version: '1.0'
                    Properties: {ServiceToken: x}
                "#,
                &[],
            ),
            (
                "policy values",
                r#"
                AWSTemplateFormatVersion: 2010-09-09
                Conditions:
                  East: {"Fn::Equals": [a, a]}
                Resources:
                  A:
                    Type: AWS::S3::Bucket
                    DeletionPolicy: {"Fn::If": [East, Retain, Delete]}
                    UpdateReplacePolicy: {Ref: Policy}
                  B:
                    Type: AWS::S3::Bucket
                    UpdateReplacePolicy: RetainExceptOnCreate
                  C:
                    Type: AWS::S3::Bucket
                    DeletionPolicy: {a: b, c: d}
                "#,
                &["E1016", "E1016"],
            ),
            (
                "Heat dialect has no RetainExceptOnCreate",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Resources:
                  A:
                    Type: AWS::S3::Bucket
                    DeletionPolicy: RetainExceptOnCreate
                ",
                &["E1016"],
            ),
            (
                "field shapes",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources:
                  A:
                    Type: AWS::S3::Bucket
                    Properties: [1]
                    Metadata: x
                    CreationPolicy: 1
                    Condition: [c]
                    DependsOn: {a: b}
                    Description: 2
                ",
                &["E1014", "E1018", "E1018", "E1032", "E1015", "E1018"],
            ),
            (
                "ForEach with AWS::LanguageExtensions",
                "
                Transform: AWS::LanguageExtensions
                Conditions:
                  Fn::ForEach::Check:
                    - Id
                    - [A, B]
                    - IsParam${Id}: {Fn::Equals: [a, a]}
                Resources:
                  Fn::ForEach::Tables:
                    - TableName
                    - [Points, Score]
                    - DynamoDB${TableName}:
                        Type: AWS::DynamoDB::Table
                Outputs:
                  Fn::ForEach::Out:
                    - Id
                    - [A]
                    - Out${Id}: {Value: 1}
                ",
                &["W3003", "W3003", "W3003"],
            ),
            (
                "ForEach without it",
                "
                Resources:
                  Fn::ForEach::Tables:
                    - TableName
                    - [Points, Score]
                    - DynamoDB${TableName}:
                        Type: AWS::DynamoDB::Table
                ",
                &["E1010"],
            ),
        ]);
    }

    #[test]
    fn resource_messages_and_model() {
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              resource1:
                Type: AWS::S3::Bucket
                DeletionPolicy: dummy
                BadProperty: x
            ");
        let d = find(&p, "E1016");
        assert!(d.message.contains("Invalid deletion policy \"dummy\""));
        assert_eq!(d.span.start.line, 5);
        let d = find(&p, "E1013");
        assert!(
            d.message
                .contains("resource 'resource1' has unknown key 'BadProperty'")
        );
        assert_eq!((d.span.start.line, d.span.start.col), (6, 5));

        let p = run(r#"
            {"Resources": {"Common": {"Type": {"Rain::Module": "./common.yaml"}}}}
            "#);
        let d = find(&p, "E1012");
        assert!(
            d.message
                .contains("Resource Common Type must be a string, found a map")
        );
        assert!(d.hint.as_deref().is_some_and(|h| h.contains("rain pkg")));

        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              A:
                Type: AWS::S3::Bucket
                DeletionPolicy: Retain
                UpdateReplacePolicy: Delete
                Condition: Prod
                DependsOn: B
              B:
                Type: AWS::S3::Bucket
            ");
        let t = p.template.as_ref().expect("template");
        assert_eq!(t.version, Version::Cfn20100909);
        let a = t.resource("A").expect("A");
        assert!(matches!(
            a.deletion_policy.as_deref(),
            Some(DeletionPolicySpec::Known(p)) if p.value == DeletionPolicy::Retain
        ));
        assert!(matches!(
            a.update_replace_policy.as_deref(),
            Some(DeletionPolicySpec::Known(p)) if p.value == DeletionPolicy::Delete
        ));
        assert!(
            matches!(a.condition.as_deref(), Some(ResourceCondition::Named(n)) if n.value == "Prod")
        );
        assert_eq!(a.depends_on.len(), 1);
    }

    #[test]
    fn outputs() {
        table(&[
            (
                "output is a string",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Outputs:
                  Resource_attr:
                    This is wrong data
                ",
                &["E1020"],
            ),
            (
                "output without Value",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Outputs:
                  Resource_attr:
                    Description: no value
                ",
                &["E1021"],
            ),
            (
                "AWS: unknown output key",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources:
                  B: {Type: AWS::S3::Bucket}
                Outputs:
                  O:
                    Value: 1
                    Exports: {Name: x}
                ",
                &["E1022"],
            ),
            (
                "Heat dialect: unknown output keys are ignored",
                "
                HeatTemplateFormatVersion: '2012-12-12'
                Outputs:
                  O:
                    Value: 1
                    Condition: c
                ",
                &["W1001"],
            ),
            (
                "AWS: Export, Condition, Description",
                r#"
                AWSTemplateFormatVersion: 2010-09-09
                Conditions:
                  C: {"Fn::Equals": [a, a]}
                Resources:
                  B: {Type: AWS::S3::Bucket}
                Outputs:
                  O:
                    Value: {Ref: B}
                    Description: the bucket
                    Condition: C
                    Export: {Name: {"Fn::Sub": "${AWS::StackName}-bucket"}}
                "#,
                &[],
            ),
            (
                "AWS: bad Export, Condition, Description",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Resources:
                  B: {Type: AWS::S3::Bucket}
                Outputs:
                  O:
                    Value: 1
                    Description: [x]
                    Condition: true
                    Export: exported
                ",
                &["E1030", "E1032", "E3018"],
            ),
        ]);
        let p = run("
            HeatTemplateFormatVersion: '2012-12-12'
            Outputs:
              Resource_attr:
                value: 1
            ");
        assert_eq!(codes(&p), ["E1021"]);
        let d = find(&p, "E1021");
        assert!(d.message.contains("must contain a Value key"));
        assert!(
            d.message
                .contains("it has 'value', but CloudFormation spells the key 'Value'")
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean 'Value'?"));

        // One diagnostic for each output, saying what was written instead of a Value.
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              Queue: {Type: AWS::SQS::Queue}
            Outputs:
              QueueArn: !GetAtt Queue.Arn
              QueueUrl:
                value: !Ref Queue
              Region: us-east-1
              Export: x
            ");
        let msgs: Vec<String> = p.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "5:3: error[E1021]: output 'QueueArn' has no Value: its definition is a bare \
                 Fn::GetAtt call; each output definition must contain a Value key\n  hint: put \
                 the call under Value: write `QueueArn: {Value: {Fn::GetAtt: ...}}`",
                "6:3: error[E1021]: output 'QueueUrl' has no Value: it has 'value', but \
                 CloudFormation spells the key 'Value'; each output definition must contain a \
                 Value key\n  hint: did you mean 'Value'?",
                "8:11: error[E1020]: Output definitions must be a map: output 'Region' is a \
                 string\n  hint: write `Region: {Value: us-east-1}`",
                "9:11: error[E1020]: Output definitions must be a map: output 'Export' is a \
                 string\n  hint: 'Export' looks like an output key: output definitions go \
                 under their name (Outputs: {MyOutput: {Value: ...}})",
            ]
        );

        // Export: a call instead of a map, a map without Name, a scalar.
        let p = run(r#"
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              Vpc: {Type: AWS::EC2::VPC}
            Outputs:
              A:
                Value: 1
                Export: {"Fn::Sub": "${AWS::StackName}-a"}
              B:
                Value: 2
                Export: {Value: b}
              C:
                Value: 3
                Export: {name: c}
              D:
                Value: 4
                Export: d
            "#);
        let shown: Vec<(&str, &str, Option<&str>)> = p
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.message.as_str(), d.hint.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "E3018",
                    "the Export of output 'A' is a Fn::Sub call; Export must be a map with a \
                     Name key",
                    Some("put the call under Name: `Export: {Name: {Fn::Sub: ...}}`")
                ),
                (
                    "E3018",
                    "the Export of output 'B' has no Name key",
                    Some(
                        "Export has one key, Name (this one has: Value): write `Export: {Name: \
                         my-exported-name}`"
                    )
                ),
                (
                    "E3018",
                    "the Export of output 'C' has no Name key",
                    Some("did you mean 'Name' (not 'name')?")
                ),
                (
                    "E3018",
                    "the Export of output 'D' must be a map with a Name key, found a string",
                    Some("write `Export: {Name: d}`")
                ),
            ]
        );
        let p = run("
            HeatTemplateFormatVersion: '2012-12-12'
            Outputs:
              Resource_attr:
                This is wrong data
            ");
        let d = find(&p, "E1020");
        assert!(d.message.contains("Output definitions must be a map"));
        assert!(d.message.contains("Resource_attr") && d.message.contains("a string"));
    }

    #[test]
    fn no_resources_says_which() {
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Resources: {}
            ");
        let d = find(&p, "W1004");
        assert!(
            d.message.contains("(the Resources section is empty)"),
            "{}",
            d.message
        );
        assert_eq!(d.span.start.line, 2);
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Description: nothing
            ");
        let d = find(&p, "W1004");
        assert!(
            d.message.contains("(there is no Resources section)"),
            "{}",
            d.message
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("add a Resources section with at least one resource")
        );
    }

    #[test]
    fn resource_hints() {
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              Bucket: AWS::S3::Bucket
              Queue:
                type: AWS::SQS::Queue
            ");
        assert_eq!(codes(&p), ["E1010", "E1011", "E1013"]);
        assert_eq!(
            find(&p, "E1010").hint.as_deref(),
            Some("write `Bucket: {Type: AWS::S3::Bucket}`")
        );
        assert_eq!(
            find(&p, "E1011").hint.as_deref(),
            Some("it has 'type' (line 5), which is not 'Type': keys are case-sensitive")
        );
    }

    #[test]
    fn rain_module_as_type_is_an_unknown_function() {
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              Network:
                Type: !Rain::Module ../modules/vpc.yml
              Other:
                Type: {Ref: T}
            ");
        assert_eq!(codes(&p), ["E3010", "E1012"], "{:#?}", p.diagnostics);
        let d = find(&p, "E3010");
        assert!(d.message.contains("Fn::Rain::Module"), "{}", d.message);
        assert_eq!(d.span.start.line, 4);
        assert!(
            find(&p, "E1012")
                .message
                .contains("Resource Other Type must be a string")
        );
    }

    #[test]
    fn parameter_groups_written_as_a_map() {
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Metadata:
              AWS::CloudFormation::Interface:
                ParameterGroups:
                  Label: {default: Network}
                  Parameters: [VpcId]
            Parameters:
              VpcId: {Type: String}
            Resources:
              B: {Type: AWS::S3::Bucket}
            ");
        assert_eq!(codes(&p), ["E2010"]);
        let d = find(&p, "E2010");
        assert_eq!(d.span.start.line, 5);
        assert!(
            d.message
                .contains("ParameterGroups must be a list, found a map")
        );
        assert!(
            p.template
                .as_ref()
                .is_some_and(|t| t.parameter_groups.is_empty())
        );
    }

    #[test]
    fn mappings() {
        // Heat accepts badly shaped mappings until Fn::FindInMap reads them (corpus:
        // heat/tests/test_template.py#L39 is valid): warnings, and the good parts are kept.
        let p = run(r#"
            {
              "AWSTemplateFormatVersion" : "2010-09-09",
              "Mappings" : {
                "ValidMapping" : {
                  "TestKey" : { "TestValue" : "wibble" }
                },
                "InvalidMapping" : {
                  "ValueList" : [ "foo", "bar" ],
                  "ValueString" : "baz"
                },
                "MapList": [ "foo", { "bar" : "baz" } ],
                "MapString": "foobar"
              }
            }
            "#);
        assert_eq!(codes(&p), ["W1004", "W1031", "W1031", "W1031", "W1031"]);
        let t = p.template.as_ref().expect("template");
        let names: Vec<&str> = t.mappings.iter().map(|m| m.name.value.as_str()).collect();
        assert_eq!(names, ["ValidMapping", "InvalidMapping"]);
        let valid = t.mapping("ValidMapping").expect("mapping");
        assert_eq!(valid.entries.len(), 1);
        assert_eq!(valid.entries[0].0.value, "TestKey");
        assert_eq!(valid.entries[0].1[0].0.value, "TestValue");
        assert_eq!(valid.entries[0].1[0].1.as_str(), Some("wibble"));

        // Numbers as keys arrive as strings.
        let p = run("
            Mappings:
              Sizes:
                1: {small: 2}
            Resources:
              B: {Type: AWS::S3::Bucket}
            ");
        let t = p.template.as_ref().expect("template");
        assert_eq!(t.mappings[0].entries[0].0.value, "1");
        table(&[(
            "Mappings is a list",
            "
            Mappings: [a]
            Resources:
              B: {Type: AWS::S3::Bucket}
            ",
            &["E1003"],
        )]);
    }

    #[test]
    fn conditions() {
        table(&[
            (
                "Conditions is null",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Conditions:
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &["E1003"],
            ),
            (
                "definitions that are not condition functions",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Conditions:
                  A: true
                  B: other
                  C: {x: 1, y: 2}
                Resources:
                  R: {Type: AWS::S3::Bucket}
                ",
                &["E1032", "E1032", "E1032"],
            ),
            (
                "short forms are fine in CloudFormation",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Conditions:
                  A: !Equals [a, b]
                  B: !Not [!Condition A]
                Resources:
                  R:
                    Type: AWS::S3::Bucket
                    Condition: B
                ",
                &[],
            ),
        ]);
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Conditions:
              A: !Equals [a, b]
            Resources:
              R: {Type: AWS::S3::Bucket}
            ");
        let t = p.template.as_ref().expect("template");
        assert_eq!(t.conditions.len(), 1);
        assert_eq!(t.conditions[0].name.value, "A");
    }

    #[test]
    fn duplicate_keys_by_format() {
        let aws = run("
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              mySnsTopic:
                Type: AWS::SNS::Topic
              mySnsTopic:
                Type: AWS::SNS::Topic
            ");
        assert_eq!(codes(&aws), ["E0002"]);
        let d = find(&aws, "E0002");
        assert!(d.message.contains("'mySnsTopic'"));
        assert!(d.message.contains("line 3") && d.message.contains("line 5"));
        assert_eq!(d.span.start.line, 5);
        let heat = run("
            HeatTemplateFormatVersion: '2012-12-12'
            Resources:
              T:
                Type: AWS::SNS::Topic
              T:
                Type: AWS::SNS::Topic
            ");
        assert_eq!(codes(&heat), ["W0002"]);
    }

    #[test]
    fn parameters_and_metadata() {
        table(&[
            (
                "a parameter and a resource share a name",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Parameters:
                  Bucket: {Type: String}
                Resources:
                  Bucket: {Type: AWS::S3::Bucket}
                ",
                &["E1033"],
            ),
            (
                "Parameters is a string",
                "
                AWSTemplateFormatVersion: 2010-09-09
                Parameters: x
                Resources:
                  Bucket: {Type: AWS::S3::Bucket}
                ",
                &["E1003"],
            ),
        ]);
        let p = run("
            AWSTemplateFormatVersion: 2010-09-09
            Metadata:
              AWS::CloudFormation::Interface:
                ParameterGroups:
                  - Label: {default: Network}
                    Parameters: [Vpc]
            Parameters:
              Vpc: {Type: String}
            Resources:
              B: {Type: AWS::S3::Bucket}
            ");
        let t = p.template.as_ref().expect("template");
        assert!(t.metadata.is_some());
        assert_eq!(t.parameter_groups.len(), 1);
        assert_eq!(t.parameter_groups[0].parameters[0].value, "Vpc");
        assert_eq!(
            t.version_span,
            Span::new(crate::span::Pos::new(1, 27), crate::span::Pos::new(1, 37))
        );
    }
}
