//! Static checks of a parsed template: function arity and argument shapes, references to
//! parameters / resources / mappings / conditions / outputs, function contexts, per-version
//! availability, resource types.
//! OWNER: expression helper.
//!
//! Which function names are functions, in which context and version, is decided when
//! expressions are parsed ([`crate::template::parse::expr`]); this module checks what the
//! parsed template says:
//!
//! * [`arity`]: the number and shape of every call's arguments (`E3013`), and functions that
//!   need the `AWS::LanguageExtensions` transform (`E3011`);
//! * [`references`]: names that do not resolve (`E3001`–`E3006`, `E3016`, `E3017`, and the
//!   lazy output warning `W3002`), or the one `W3003` when a transform may define them;
//! * [`resource_types`]: resource types offline (`W3001`) and the ones Heat deprecated or
//!   hid (`W3004`);
//! * [`unused`]: parameters nothing refers to (`W2001`);
//! * [`check_resource_count`]: more resources than `max_resources_per_stack` (`E1036`).
//!
//! The dependency graph and its cycles are [`crate::graph`]'s business.

pub mod arity;
pub mod references;
pub mod resource_types;
pub mod unused;

use crate::diagnostic::{Code, Diagnostic};
use crate::template::expr::Expr;
use crate::template::model::{DeletionPolicySpec, ResourceCondition, Template};

/// What to validate a template against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidateOptions {
    /// The resource types Heat knows. `None` uses the built-in offline list (every type Heat
    /// registers plus its global environment aliases); `Some` replaces it, e.g. with a
    /// server's `GET /resource_types`.
    pub known_resource_types: Option<Vec<String>>,
    /// More accepted resource types, e.g. the names an environment's `resource_registry`
    /// maps; `*` matches any run of characters (`My::*`).
    pub extra_resource_types: Vec<String>,
    /// Whether to check resource types at all (default `true`).
    pub check_resource_types: bool,
    /// The most resources a template may have (Heat's `max_resources_per_stack`, default
    /// 1000; `usize::MAX` for no limit). More is `E1036`.
    pub max_resources_per_stack: usize,
}

impl Default for ValidateOptions {
    fn default() -> ValidateOptions {
        ValidateOptions {
            known_resource_types: None,
            extra_resource_types: Vec::new(),
            check_resource_types: true,
            max_resources_per_stack: crate::template::load::Limits::default()
                .max_resources_per_stack,
        }
    }
}

/// Where an expression sits in a template, for messages ("(in resource WebServer)").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location<'a> {
    /// Anywhere in a resource definition.
    Resource(&'a str),
    /// In an output (value, condition or export).
    Output(&'a str),
    /// In a named condition's definition.
    Condition(&'a str),
    /// In template-level `Metadata`.
    Metadata,
}

impl Location<'_> {
    /// The location as messages write it after "in": `resource WebServer`, `output Url`,
    /// `condition IsProd`, `Metadata`.
    pub fn describe(&self) -> String {
        match self {
            Location::Resource(n) => format!("resource {n}"),
            Location::Output(n) => format!("output {n}"),
            Location::Condition(n) => format!("condition {n}"),
            Location::Metadata => "Metadata".to_string(),
        }
    }
}

/// One expression of a template with where it is.
#[derive(Clone, Copy, Debug)]
pub struct Site<'a> {
    /// Where it is.
    pub location: Location<'a>,
    /// The expression.
    pub expr: &'a Expr,
    /// Whether it is a condition (a `conditions` entry or a `condition:` field).
    pub in_condition: bool,
}

/// Every expression of a template, in document order of sections: conditions, resources
/// (properties, metadata, policies, condition, external_id), outputs, template metadata.
pub fn sites(template: &Template) -> Vec<Site<'_>> {
    let mut out = Vec::new();
    for c in &template.conditions {
        out.push(Site {
            location: Location::Condition(&c.name.value),
            expr: &c.expr,
            in_condition: true,
        });
    }
    for r in &template.resources {
        let location = Location::Resource(&r.name.value);
        let policies = [
            r.deletion_policy.as_deref(),
            r.update_replace_policy.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|p| match p {
            DeletionPolicySpec::Expr(e) => Some(e),
            DeletionPolicySpec::Known(_) => None,
        });
        let values = [
            r.properties.as_ref(),
            r.metadata.as_deref(),
            r.update_policy.as_deref(),
            r.creation_policy.as_deref(),
            r.external_id.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(policies);
        for expr in values {
            out.push(Site {
                location,
                expr,
                in_condition: false,
            });
        }
        if let Some(ResourceCondition::Inline(e)) = r.condition.as_deref() {
            out.push(Site {
                location,
                expr: e,
                in_condition: true,
            });
        }
    }
    for o in &template.outputs {
        let location = Location::Output(&o.name.value);
        out.push(Site {
            location,
            expr: &o.value,
            in_condition: false,
        });
        if let Some(ResourceCondition::Inline(e)) = &o.condition {
            out.push(Site {
                location,
                expr: e,
                in_condition: true,
            });
        }
        if let Some(e) = &o.export {
            out.push(Site {
                location,
                expr: e,
                in_condition: false,
            });
        }
    }
    if let Some(m) = &template.metadata {
        out.push(Site {
            location: Location::Metadata,
            expr: m,
            in_condition: false,
        });
    }
    out
}

/// Whether the template declares the `AWS::LanguageExtensions` transform.
pub fn has_language_extensions(template: &Template) -> bool {
    template
        .transforms
        .iter()
        .any(|t| t.value == "AWS::LanguageExtensions")
}

/// Validates a parsed template; returns every problem found (errors and warnings).
pub fn validate(template: &Template, options: &ValidateOptions) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let all = sites(template);
    let lang_ext = has_language_extensions(template);
    for site in &all {
        arity::check_expr(site.expr, template.version, lang_ext, &mut diags);
    }
    references::check(template, &all, &mut diags);
    resource_types::check(template, options, &mut diags);
    unused::check(template, &all, &mut diags);
    check_resource_count(template, options.max_resources_per_stack, &mut diags);
    diags
}

/// More resources than Heat's `max_resources_per_stack` (`E1036`), reported at the first
/// resource over the limit. Heat counts the resources of nested stacks too; offline only
/// this template's own are counted.
pub fn check_resource_count(template: &Template, limit: usize, diags: &mut Vec<Diagnostic>) {
    let count = template.resources.len();
    let Some(first_over) = template.resources.get(limit) else {
        return;
    };
    diags.push(
        Diagnostic::error(
            Code::TooManyResources,
            first_over.name.span,
            format!(
                "the template has {count} {}, more than the maximum of {limit} \
                 (max_resources_per_stack); {} is the first one over",
                if count == 1 { "resource" } else { "resources" },
                first_over.name.value
            ),
        )
        .with_hint(
            "Heat refuses such a stack: split it into nested stacks, or raise \
             max_resources_per_stack in heat.conf (-1 means no limit)",
        ),
    );
}

/// Test support: parses `doc`, a template written as JSON without its version key, as a
/// template of `version` with the real parser. The tests' templates are well-formed: any
/// parse diagnostic fails the test.
#[cfg(test)]
pub(crate) fn parse_json(
    version: crate::template::version::Version,
    doc: serde_json::Value,
) -> Template {
    let mut map = serde_json::Map::new();
    map.insert(version.key().into(), version.date().into());
    if let serde_json::Value::Object(sections) = doc {
        map.extend(sections);
    }
    let text = serde_json::Value::Object(map).to_string();
    let parsed = crate::template::parse(&text, &crate::template::load::Limits::default());
    match parsed.template {
        Some(t) if parsed.diagnostics.is_empty() => t,
        _ => panic!("{text}\nparses with {:#?}", parsed.diagnostics),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity)]
mod tests {
    use super::parse_json as template;
    use super::*;
    use crate::diagnostic::{Code, Severity};
    use crate::template::version::Version::{self, *};
    use serde_json::json;

    /// Validates and returns `(code, severity, message)` for every diagnostic.
    fn run(version: Version, doc: serde_json::Value) -> Vec<(String, Severity, String)> {
        let t = template(version, doc);
        validate(&t, &ValidateOptions::default())
            .into_iter()
            .map(|d| (d.code.as_str().to_string(), d.severity, d.message))
            .collect()
    }

    /// (version, template, [(code, message fragment)]) — exactly these diagnostics.
    #[test]
    fn reference_checks() {
        let cases: Vec<(Version, serde_json::Value, Vec<(&str, &str)>)> = vec![
            // CFN Ref
            (
                Cfn20100909,
                json!({"Parameters": {"P": {"Type": "String"}}, "Resources": {
                    "A": {"Type": "AWS::S3::Bucket", "Properties": {"X": {"Ref": "P"}, "Y": {"Ref": "B"}, "Z": {"Ref": "AWS::Region"}}},
                    "B": {"Type": "AWS::S3::Bucket", "Properties": {"X": {"Ref": "Nope"}}}}}),
                vec![("E3001", "Ref to undefined Nope (in resource B)")],
            ),
            // GetAtt / Sub
            (
                Cfn20100909,
                json!({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Role": {"Fn::GetAtt": ["myLambdaExecutionRole", "Arn"]},
                    "Code": {"Fn::Sub": "${AWS::StackName}-${Missing}-${Fn.Arn}-${Gone.Arn}-${!Lit}"},
                    "Other": {"Fn::Sub": ["${Var}", {"Var": "x"}]}}}}}),
                vec![
                    (
                        "E3002",
                        "GetAtt to undefined resource myLambdaExecutionRole (in resource Fn)",
                    ),
                    (
                        "E3017",
                        "Fn::Sub variable ${Missing} is undefined (in resource Fn)",
                    ),
                    (
                        "E3017",
                        "${Gone.Arn} refers to undefined resource Gone (in resource Fn)",
                    ),
                ],
            ),
            // DependsOn, conditions, mappings
            (
                Cfn20100909,
                json!({
                    "Mappings": {"M": {"us-east-1": {"ami": "x"}}},
                    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]},
                                   "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "Nope"}]},
                                   "OnRes": {"Fn::Equals": [{"Ref": "R1"}, "x"]}},
                    "Resources": {
                        "R1": {"Type": "AWS::S3::Bucket", "DependsOn": ["dummy", "R2"], "Condition": "CreateAux"},
                        "R2": {"Type": "AWS::S3::Bucket", "Properties": {
                            "A": {"Fn::If": ["IsProd", 1, 2]},
                            "B": {"Fn::If": ["IsPrd", 1, 2]},
                            "C": {"Fn::FindInMap": ["M", "us-east-1", "ami"]},
                            "D": {"Fn::FindInMap": ["N", "us-east-1", "ami"]},
                            "E": {"Fn::FindInMap": ["M", "eu-west-1", "ami"]},
                            "F": {"Fn::FindInMap": ["M", "us-east-1", "amy"]},
                            "G": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "whatever"]}}}}}),
                vec![
                    ("E3004", "Condition Nope undefined (in condition Both)"),
                    (
                        "E3001",
                        "Ref to resource R1 in a condition: conditions can refer only to parameters (in condition OnRes)",
                    ),
                    ("E3004", "Fn::If Condition IsPrd undefined (in resource R2)"),
                    (
                        "E3005",
                        "Fn::FindInMap to undefined mapping N (in resource R2)",
                    ),
                    (
                        "E3005",
                        "key 'eu-west-1' is not in mapping M (in resource R2)",
                    ),
                    (
                        "E3005",
                        "key 'amy' is not under 'us-east-1' in mapping M (in resource R2)",
                    ),
                    ("E3004", "Condition CreateAux undefined (in resource R1)"),
                    (
                        "E3003",
                        "DependsOn undefined resource dummy (in resource R1)",
                    ),
                ],
            ),
            // HOT
            (
                Hot20161014,
                json!({
                    "parameters": {"p": {"type": "string"}},
                    "conditions": {"c": {"equals": [{"get_param": "p"}, "x"]},
                                   "d": {"not": "nope"}},
                    "resources": {
                        "server": {"type": "OS::Nova::Server", "properties": {
                            "image": {"get_param": "ImageId"},
                            "name": {"get_param": "OS::stack_name"},
                            "a": {"get_resource": "instance"},
                            "b": {"get_attr": ["server2", "x"]},
                            "c": {"if": ["c", 1, 2]},
                            "d": {"if": ["e", 1, 2]}},
                            "depends_on": "dummy", "condition": "zz"}},
                    "outputs": {"o": {"value": {"get_attr": ["gone", "x"]}},
                                "p": {"value": 1, "condition": "nah"}}}),
                vec![
                    ("E3004", "condition nope undefined (in condition d)"),
                    ("E3006", "get_param undefined ImageId (in resource server)"),
                    (
                        "E3002",
                        "get_resource to undefined resource instance (in resource server)",
                    ),
                    (
                        "E3002",
                        "get_attr to undefined resource server2 (in resource server)",
                    ),
                    ("E3004", "if condition e undefined (in resource server)"),
                    ("W3002", "get_attr to undefined resource gone (in output o)"),
                    ("E3004", "condition zz undefined (in resource server)"),
                    ("W3002", "condition nah undefined (in output p)"),
                    (
                        "E3003",
                        "depends_on undefined resource dummy (in resource server)",
                    ),
                ],
            ),
            // CFN outputs: errors
            (
                Cfn20100909,
                json!({"Resources": {"A": {"Type": "AWS::S3::Bucket"}},
                       "Outputs": {"O": {"Value": {"Ref": "B"}}, "P": {"Value": {"Fn::GetAtt": ["C", "Arn"]}}}}),
                vec![
                    ("E3016", "Ref to undefined B (in output O)"),
                    ("E3016", "GetAtt to undefined resource C (in output P)"),
                ],
            ),
            // Heat's CFN dialect: outputs warn, pseudo-parameters are Heat's three
            (
                Heat20121212,
                json!({"Resources": {"A": {"Type": "AWS::EC2::Instance", "Properties": {
                        "X": {"Ref": "AWS::StackName"}, "Y": {"Ref": "AWS::AccountId"}}}},
                       "Outputs": {"O": {"Value": {"Fn::GetAtt": ["B", "PublicIp"]}}}}),
                vec![
                    ("E3001", "Ref to undefined AWS::AccountId (in resource A)"),
                    ("W3002", "GetAtt to undefined resource B (in output O)"),
                ],
            ),
            // Transform: one warning, no reference errors
            (
                Cfn20100909,
                json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {
                    "F": {"Type": "AWS::Serverless::Function", "Properties": {"Role": {"Fn::GetAtt": ["FRole", "Arn"]}}}}}),
                vec![("W3003", "Transform AWS::Serverless-2016-10-31")],
            ),
            // 2013 HOT Ref works on parameters and resources
            (
                Hot20130523,
                json!({"parameters": {"p": {"type": "string"}},
                    "resources": {"r": {"type": "OS::Heat::None", "properties": {
                    "a": {"Ref": "p"}, "b": {"Ref": "r"}, "c": {"Ref": "q"}, "d": {"Ref": "OS::stack_id"}}}}}),
                vec![("E3001", "Ref to undefined q (in resource r)")],
            ),
        ];
        for (version, doc, want) in cases {
            let got = run(version, doc.clone());
            assert_eq!(
                got.len(),
                want.len(),
                "{version}: got {got:#?}\nwant {want:#?}"
            );
            for ((code, sev, msg), (wcode, wmsg)) in got.iter().zip(&want) {
                assert_eq!(code, wcode, "{msg}");
                assert!(msg.contains(wmsg), "{msg:?} should contain {wmsg:?}");
                let want_sev = if wcode.starts_with('W') {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                assert_eq!(*sev, want_sev, "{msg}");
            }
        }
    }

    #[test]
    fn condition_cycles() {
        let t = template(
            Cfn20100909,
            json!({"Conditions": {
                "A": {"Fn::And": [{"Condition": "B"}, {"Condition": "C"}]},
                "B": {"Fn::Not": [{"Condition": "A"}]},
                "C": {"Fn::Equals": ["x", "y"]},
                "Self": {"Fn::Not": [{"Condition": "Self"}]}},
                "Resources": {"R": {"Type": "AWS::S3::Bucket"}}}),
        );
        let d = validate(&t, &ValidateOptions::default());
        let msgs: Vec<(&str, &str)> = d
            .iter()
            .map(|d| (d.code.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(
            msgs,
            [
                ("E3019", "circular definition for condition A: A -> B -> A"),
                (
                    "E3019",
                    "circular definition for condition Self: Self -> Self"
                ),
            ]
        );
        // HOT: names in not/and/or are conditions too
        let t = template(
            Hot20161014,
            json!({"conditions": {"a": {"not": "b"}, "b": {"and": ["a", true]}}, "resources": {}}),
        );
        let d = validate(&t, &ValidateOptions::default());
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].message,
            "circular definition for condition a: a -> b -> a"
        );
    }

    #[test]
    fn hints_suggest_names() {
        let t = template(
            Cfn20100909,
            json!({"Parameters": {"InstanceType": {"Type": "String"}},
                "Resources": {"WebServer": {"Type": "AWS::EC2::Instance",
                "Properties": {"A": {"Ref": "InstanceTyp"}, "B": {"Fn::GetAtt": ["WebSrever", "Ip"]}}}}}),
        );
        let d = validate(&t, &ValidateOptions::default());
        assert_eq!(d[0].hint.as_deref(), Some("did you mean 'InstanceType'?"));
        assert_eq!(d[1].hint.as_deref(), Some("did you mean 'WebServer'?"));
        // spans point at the name
        assert!(d[0].span.is_known());
        assert_ne!(d[0].span, d[1].span);
    }

    #[test]
    fn find_in_map_key_hints() {
        let t = template(
            Cfn20100909,
            json!({"Mappings": {
                    "Small": {"dev": {"Size": "t3.micro"}, "prod": {"Size": "m5.large"}},
                    "Big": {"k0": {"a": 1}, "k1": {"a": 1}, "k2": {"a": 1}, "k3": {"a": 1},
                            "k4": {"a": 1}, "k5": {"a": 1}, "k6": {"a": 1}, "k7": {"a": 1},
                            "k8": {"a": 1}, "k9": {"a": 1}, "k10": {"a": 1}, "k11": {"a": 1}}},
                   "Resources": {"R": {"Type": "AWS::S3::Bucket", "Properties": {
                       "A": {"Fn::FindInMap": ["Small", "staging", "Size"]},
                       "B": {"Fn::FindInMap": ["Small", "dev", "ImageId"]},
                       "C": {"Fn::FindInMap": ["Big", "other", "a"]},
                       "D": {"Fn::FindInMap": ["Small", "prd", "Size"]}}}}}),
        );
        let hints: Vec<String> = validate(&t, &ValidateOptions::default())
            .into_iter()
            .map(|d| {
                assert_eq!(d.code, Code::UnknownMapping);
                d.hint.unwrap()
            })
            .collect();
        assert_eq!(
            hints,
            [
                "the keys of mapping Small are 'dev', 'prod'",
                "the keys of 'dev' in mapping Small are 'Size'",
                "the keys of mapping Big are 'k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', \
                 'k8', 'k9' and 2 more",
                "did you mean 'prod'?",
            ]
        );
    }

    #[test]
    fn too_many_resources() {
        let doc = json!({"resources": {
            "a": {"type": "OS::Heat::None"},
            "b": {"type": "OS::Heat::None"},
            "c": {"type": "OS::Heat::None"}}});
        let t = template(Hot20210416, doc);
        let with_limit = |max_resources_per_stack| {
            let options = ValidateOptions {
                max_resources_per_stack,
                ..ValidateOptions::default()
            };
            validate(&t, &options)
        };
        assert!(with_limit(3).is_empty());
        assert!(with_limit(usize::MAX).is_empty());
        assert_eq!(ValidateOptions::default().max_resources_per_stack, 1000);
        let d = with_limit(2);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::TooManyResources);
        assert_eq!(
            d[0].message,
            "the template has 3 resources, more than the maximum of 2 \
             (max_resources_per_stack); c is the first one over"
        );
        assert_eq!(d[0].span, t.resources[2].name.span);
        assert!(
            with_limit(0)[0]
                .message
                .starts_with("the template has 3 resources")
        );
    }

    #[test]
    fn language_extensions() {
        let doc = |transform: bool| {
            let mut j = json!({"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {
                "N": {"Fn::Length": [1, 2]}, "J": {"Fn::ToJsonString": {"a": 1}},
                "M": {"Fn::FindInMap": ["M", "a", "b", {"DefaultValue": "x"}]}}}},
                "Mappings": {"M": {"a": {"b": 1}}}});
            if transform {
                j["Transform"] = json!("AWS::LanguageExtensions");
            }
            j
        };
        let without: Vec<String> = run(Cfn20100909, doc(false))
            .into_iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(without, ["E3011", "E3011", "E3013"]);
        let with: Vec<String> = run(Cfn20100909, doc(true))
            .into_iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(with, ["W3003"]);
    }

    #[test]
    fn sites_cover_every_section() {
        let t = template(
            Hot20161014,
            json!({"conditions": {"c": true},
                   "resources": {"r": {"type": "OS::Heat::None", "properties": {}, "metadata": {},
                                       "update_policy": {}, "condition": {"equals": [1, 1]}}},
                   "outputs": {"o": {"value": 1, "condition": {"not": "c"}}}}),
        );
        let s = sites(&t);
        let locs: Vec<(String, bool)> = s
            .iter()
            .map(|s| (s.location.describe(), s.in_condition))
            .collect();
        assert_eq!(
            locs,
            [
                ("condition c".to_string(), true),
                ("resource r".to_string(), false),
                ("resource r".to_string(), false),
                ("resource r".to_string(), false),
                ("resource r".to_string(), true),
                ("output o".to_string(), false),
                ("output o".to_string(), true),
            ]
        );
        assert!(validate(&t, &ValidateOptions::default()).is_empty());
    }
}
