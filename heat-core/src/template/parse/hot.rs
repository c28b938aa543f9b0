//! HOT templates (`heat_template_version`): sections, resources, outputs and conditions,
//! with the keys each HOT version allows.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{Span, Spanned};
use crate::template::expr::ExprKind;
use crate::template::model::{ConditionDef, Output, Resource, Template};
use crate::template::node::{Key, Node, Value};
use crate::template::parse::expr::{ExprContext, parse_expr};
use crate::template::parse::parameters::{parse_parameter_groups, parse_parameters};
use crate::template::parse::util::{
    HOT_SPELLING, check_resource_name, condition_entries, field, hot_condition_field, is_call,
    kind, missing_output_value, output_description, output_not_a_mapping, parse_shared_fields,
    resource_not_a_mapping, same_word, section_entries, spanned_key, suggest, template_description,
    unknown_name_hint, value_span,
};
use crate::template::version::Version;

/// Top-level sections every HOT version has.
const SECTIONS: &[&str] = &[
    "heat_template_version",
    "description",
    "parameter_groups",
    "parameters",
    "resources",
    "outputs",
];

/// Resource keys every HOT version has.
const RESOURCE_KEYS: &[&str] = &[
    "type",
    "properties",
    "metadata",
    "depends_on",
    "deletion_policy",
    "update_policy",
    "description",
];

/// Resource keys added in 2016-10-14.
const RESOURCE_KEYS_2016_10_14: &[&str] = &["external_id", "condition"];

/// Output keys every HOT version has.
const OUTPUT_KEYS: &[&str] = &["description", "value"];

/// The top-level sections of a HOT version.
pub(crate) fn sections(version: Version) -> Vec<&'static str> {
    let mut out = SECTIONS.to_vec();
    if version.has_conditions() {
        out.push("conditions");
    }
    out
}

/// The keys a resource may have in a HOT version.
pub(crate) fn resource_keys(version: Version) -> Vec<&'static str> {
    let mut out = RESOURCE_KEYS.to_vec();
    if version >= Version::Hot20161014 {
        out.extend_from_slice(RESOURCE_KEYS_2016_10_14);
    }
    out
}

/// The keys an output may have in a HOT version.
fn output_keys(version: Version) -> Vec<&'static str> {
    let mut out = OUTPUT_KEYS.to_vec();
    if version >= Version::Hot20161014 {
        out.push("condition");
    }
    out
}

/// The deletion policies a HOT version accepts.
fn deletion_policies(version: Version) -> &'static [&'static str] {
    if version >= Version::Hot20161014 {
        &[
            "Delete", "Retain", "Snapshot", "delete", "retain", "snapshot",
        ]
    } else {
        &["Delete", "Retain", "Snapshot"]
    }
}

/// Parses the sections of a HOT template whose version is already known.
pub(crate) fn parse_hot(
    entries: &[(Key, Node)],
    version: Version,
    version_span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Template {
    let mut template = Template::new(version, version_span);
    let known = sections(version);
    let mut parameters = None;
    let mut groups = None;
    let mut conditions = None;
    let mut resources = None;
    let mut outputs = None;
    for entry in crate::template::parse::util::last_wins(entries) {
        let (key, node) = entry;
        match key.name.as_str() {
            "heat_template_version" => {}
            "description" => template.description = template_description(key, node, false, diags),
            "parameters" => parameters = Some(entry),
            "parameter_groups" => groups = Some(entry),
            "resources" => resources = Some(entry),
            "outputs" => outputs = Some(entry),
            "conditions" if version.has_conditions() => conditions = Some(entry),
            "conditions" => diags.push(
                Diagnostic::error(
                    Code::UnknownSection,
                    key.span,
                    format!(
                        "unknown top-level section 'conditions': heat_template_version {} \
                         has no conditions",
                        version.date()
                    ),
                )
                .with_hint("conditions exist from heat_template_version 2016-10-14 (newton)"),
            ),
            other => diags.push(
                Diagnostic::error(
                    Code::UnknownSection,
                    key.span,
                    format!("unknown top-level section '{other}' in a HOT template"),
                )
                .with_hint(unknown_name_hint(other, &known, "sections")),
            ),
        }
    }

    if let Some((key, node)) = parameters {
        if matches!(node.value, Value::Map(_)) {
            template.parameters = parse_parameters(node, version, diags);
        } else {
            // Checks the shape (null and Heat's other empty values are fine).
            section_entries(key, node, true, diags);
        }
    }
    if let Some((_, node)) = groups
        && !node.is_null()
    {
        template.parameter_groups = parse_parameter_groups(node, version, diags);
    }
    if let Some((key, node)) = conditions {
        template.conditions = parse_conditions(key, node, version, diags);
    }
    if let Some((key, node)) = resources {
        let entries = section_entries(key, node, true, diags);
        template.resources.reserve_exact(entries.len());
        for (name, def) in entries {
            template
                .resources
                .push(parse_resource(name, def, version, diags));
        }
    }
    if let Some((key, node)) = outputs {
        for (name, def) in section_entries(key, node, true, diags) {
            if let Some(output) = parse_output(name, def, version, diags) {
                template.outputs.push(output);
            }
        }
    }
    template
}

/// `conditions`: a map of names to condition definitions (a boolean or a condition function).
fn parse_conditions(
    key: &Key,
    node: &Node,
    version: Version,
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
        match &def.value {
            Value::Bool(_) | Value::Map(_) => {
                let expr = parse_expr(def, &ctx, diags);
                if matches!(expr.kind, ExprKind::Bool(_)) || is_call(&expr) {
                    out.push(ConditionDef {
                        name: spanned_key(name),
                        expr,
                    });
                } else {
                    bad_condition(name, def, diags);
                }
            }
            _ => bad_condition(name, def, diags),
        }
    }
    out
}

fn bad_condition(name: &Key, def: &Node, diags: &mut Vec<Diagnostic>) {
    let mut d = Diagnostic::error(
        Code::BadCondition,
        value_span(name, def),
        format!(
            "The definition of condition \"{}\" is invalid: it must be a boolean or a \
             condition function, found {}",
            name.name,
            kind(def)
        ),
    );
    d = if matches!(def.value, Value::String(_)) {
        d.with_hint("to reuse another condition, combine it with not/and/or (e.g. {not: other})")
    } else {
        d.with_hint(format!(
            "write true, false or a condition function, e.g. `{}: {{equals: [{{get_param: \
             env}}, prod]}}`",
            name.name
        ))
    };
    diags.push(d);
}

/// One resource definition.
fn parse_resource(
    name: &Key,
    node: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Resource {
    check_resource_name(name, diags);
    let mut resource = Resource::new(
        spanned_key(name),
        Spanned::new(String::new(), name.span),
        value_span(name, node),
    );
    let Some(entries) = node.as_map() else {
        let hint = RESOURCE_KEYS.contains(&name.name.as_str()).then(|| {
            format!(
                "'{}' looks like a resource key: resource definitions go under their name \
                 (resources: {{my_resource: {{type: ...}}}})",
                name.name
            )
        });
        diags.push(resource_not_a_mapping(name, node, &HOT_SPELLING, hint));
        return resource;
    };

    let allowed = resource_keys(version);
    for (key, _) in entries {
        let k = key.name.as_str();
        if allowed.contains(&k) {
            continue;
        }
        if RESOURCE_KEYS_2016_10_14.contains(&k) {
            diags.push(
                Diagnostic::error(
                    Code::KeyNotInVersion,
                    key.span,
                    format!(
                        "resource '{}' uses '{k}', which heat_template_version {} does not \
                         have",
                        name.name,
                        version.date()
                    ),
                )
                .with_hint(format!(
                    "'{k}' is available from heat_template_version 2016-10-14 (newton)"
                )),
            );
            continue;
        }
        let hint = match suggest(k, &allowed) {
            Some(s) if same_word(s, k) => format!("HOT spells it '{s}'"),
            Some(s) => format!("did you mean '{s}'?"),
            None => format!("valid resource keys are: {}", allowed.join(", ")),
        };
        diags.push(
            Diagnostic::error(
                Code::UnknownResourceKey,
                key.span,
                format!("resource '{}' has unknown key '{k}'", name.name),
            )
            .with_hint(hint),
        );
    }

    parse_shared_fields(
        &mut resource,
        name,
        entries,
        &HOT_SPELLING,
        deletion_policies(version),
        version,
        diags,
    );
    let rname = name.name.as_str();
    if version >= Version::Hot20161014 {
        if let Some((k, v)) = field(entries, "external_id") {
            resource.external_id = external_id(rname, k, v, version, diags).map(Box::new);
        }
        if let Some((k, v)) = field(entries, "condition") {
            resource.condition =
                hot_condition_field(&format!("resource '{rname}'"), k, v, version, diags)
                    .map(Box::new);
        }
    }
    resource
}

/// `external_id`: a string or a function that yields one.
fn external_id(
    resource: &str,
    key: &Key,
    node: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Option<crate::template::expr::Expr> {
    let ctx = ExprContext {
        version,
        in_condition: false,
    };
    match &node.value {
        Value::String(_) => Some(parse_expr(node, &ctx, diags)),
        Value::Map(_) => {
            let expr = parse_expr(node, &ctx, diags);
            if is_call(&expr) {
                Some(expr)
            } else {
                bad_external_id(resource, key, node, diags);
                None
            }
        }
        _ => {
            bad_external_id(resource, key, node, diags);
            None
        }
    }
}

fn bad_external_id(resource: &str, key: &Key, node: &Node, diags: &mut Vec<Diagnostic>) {
    diags.push(
        Diagnostic::error(
            Code::BadResourceField,
            value_span(key, node),
            format!(
                "resource '{resource}': external_id must be a string, found {}",
                kind(node)
            ),
        )
        .with_hint(
            "write the ID of the existing resource to adopt, as a string or a function that \
             gives one (e.g. `external_id: {get_param: volume_id}`)",
        ),
    );
}

/// One output definition. Unknown keys are warnings: Heat's validation ignores them.
fn parse_output(
    name: &Key,
    node: &Node,
    version: Version,
    diags: &mut Vec<Diagnostic>,
) -> Option<Output> {
    let Some(entries) = node.as_map() else {
        let key_like = output_keys(Version::Hot20161014).contains(&name.name.as_str());
        diags.push(output_not_a_mapping(name, node, &HOT_SPELLING, key_like));
        return None;
    };
    let allowed = output_keys(version);
    // Without a value, one diagnostic says what was written instead.
    let (missing_value, explained) = missing_output_value(name, entries, &HOT_SPELLING);
    for (key, _) in entries {
        let k = key.name.as_str();
        if allowed.contains(&k) || explained.is_some_and(|e| std::ptr::eq(e, key)) {
            continue;
        }
        let hint = if k == "condition" {
            "output conditions exist from heat_template_version 2016-10-14 (newton)".to_string()
        } else {
            unknown_name_hint(k, &allowed, "output keys")
        };
        diags.push(
            Diagnostic::warning(
                Code::IgnoredKey,
                key.span,
                format!(
                    "output '{}' has key '{k}', which heat_template_version {} does not have; \
                     Heat ignores it",
                    name.name,
                    version.date()
                ),
            )
            .with_hint(hint),
        );
    }
    if let Some(d) = missing_value {
        diags.push(d);
    }
    let (_, value) = field(entries, "value")?;
    let ctx = ExprContext {
        version,
        in_condition: false,
    };
    let value = parse_expr(value, &ctx, diags);
    let description = output_description(&name.name, entries, &HOT_SPELLING, false, diags);
    let condition = if version >= Version::Hot20161014 {
        match field(entries, "condition") {
            Some((_, v)) if v.is_null() => None,
            Some((k, v)) => {
                hot_condition_field(&format!("output '{}'", name.name), k, v, version, diags)
            }
            None => None,
        }
    } else {
        None
    };
    Some(Output {
        name: spanned_key(name),
        value,
        description,
        condition,
        export: None,
        span: value_span(name, node),
    })
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use crate::template::model::{DeletionPolicy, DeletionPolicySpec, ResourceCondition};
    use crate::template::parse::util::testing::{codes, find, run, table};
    use crate::template::version::Version;

    #[test]
    fn sections_and_shapes() {
        table(&[
            (
                "minimal",
                "
                heat_template_version: 2013-05-23
                resources:
                  r:
                    type: OS::Heat::None
                ",
                &[],
            ),
            (
                "empty stack: no resources at all",
                "heat_template_version: 2013-05-23",
                &[],
            ),
            (
                "null and empty sections are empty",
                "
                heat_template_version: 2015-04-30
                description:
                parameters:
                resources: []
                outputs: ''
                ",
                &[],
            ),
            (
                "unknown section",
                "
                heat_template_version: 2013-05-23
                resources:
                  server:
                    type: OS::Nova::Server
                output:
                ",
                &["E1002"],
            ),
            (
                "CFN section names in HOT",
                "
                heat_template_version: 2013-05-23
                Resources: {}
                Mappings: {}
                ",
                &["E1002", "E1002"],
            ),
            (
                "conditions before 2016-10-14",
                "
                heat_template_version: 2016-04-08
                conditions:
                  c: true
                ",
                &["E1002"],
            ),
            (
                "resources is a list",
                "
                heat_template_version: 2013-05-23
                resources:
                  - r
                ",
                &["E1003"],
            ),
            (
                "outputs is a string",
                "
                heat_template_version: 2013-05-23
                outputs: hello
                ",
                &["E1003"],
            ),
            (
                "parameters is a list",
                "
                heat_template_version: 2013-05-23
                parameters: [a, b]
                ",
                &["E1003"],
            ),
            (
                "description may be anything (Heat shows it as it is)",
                "
                heat_template_version: 2013-05-23
                description: {0}
                ",
                &["W1030"],
            ),
        ]);
    }

    #[test]
    fn unknown_section_suggests_the_right_one() {
        let p = run("
            heat_template_version: 2013-05-23
            output:
            ");
        let d = find(&p, "E1002");
        assert!(d.message.contains("'output'"), "{}", d.message);
        assert_eq!(d.hint.as_deref(), Some("did you mean 'outputs'?"));
        assert_eq!((d.span.start.line, d.span.start.col), (2, 1));
        let p = run("
            heat_template_version: 2015-10-15
            conditions: {}
            ");
        let d = find(&p, "E1002");
        assert!(d.hint.as_deref().is_some_and(|h| h.contains("2016-10-14")));
    }

    #[test]
    fn resources() {
        table(&[
            (
                "resource is null",
                "
                heat_template_version: 2013-05-23
                resources:
                  resource1:
                ",
                &["E1010"],
            ),
            (
                "resource keys written one level too high",
                "
                heat_template_version: 2013-05-23
                resources:
                  type: AWS::EC2::Instance
                  properties:
                    property1: value1
                  metadata:
                    foo: bar
                  depends_on: dummy
                  deletion_policy: dummy
                ",
                &[
                    "E1010", "E1011", "E1013", "E1011", "E1013", "E1010", "E1010",
                ],
            ),
            (
                "CFN spelling of type",
                "
                heat_template_version: 2013-05-23
                resources:
                  resource1:
                    Type: AWS::EC2::Instance
                ",
                &["E1011", "E1013"],
            ),
            (
                "CFN spellings of other keys",
                "
                heat_template_version: 2013-05-23
                resources:
                  resource1:
                    type: AWS::EC2::Instance
                    Properties: {a: b}
                    DependsOn: dummy
                    DeletionPolicy: Retain
                ",
                &["E1013", "E1013", "E1013"],
            ),
            (
                "unknown key",
                "
                heat_template_version: 2013-05-23
                resources:
                  resource:
                    type: OS::Heat::TestResource
                    wibble: bar
                ",
                &["E1013"],
            ),
            (
                "type is a list",
                "
                heat_template_version: 2013-05-23
                resources:
                  r:
                    type: [Wrong, Type]
                ",
                &["E1012"],
            ),
            (
                "type is a function",
                "
                heat_template_version: 2013-05-23
                resources:
                  r:
                    type: {get_param: t}
                ",
                &["E1012"],
            ),
            (
                "empty type",
                "
                heat_template_version: 2013-05-23
                resources:
                  r:
                    type: ''
                ",
                &["E1011"],
            ),
            (
                "empty resource map",
                "
                heat_template_version: 2013-05-23
                resources:
                  r: {}
                ",
                &["E1011"],
            ),
            (
                "keys from 2016-10-14 used earlier",
                "
                heat_template_version: 2016-04-08
                resources:
                  r:
                    type: OS::Heat::None
                    condition: c
                    external_id: abc
                ",
                &["E1017", "E1017"],
            ),
            (
                "keys from 2016-10-14 used there",
                "
                heat_template_version: 2016-10-14
                conditions:
                  c: true
                resources:
                  r:
                    type: OS::Heat::None
                    condition: c
                    external_id: abc
                ",
                &[],
            ),
            (
                "properties not a map",
                "
                heat_template_version: 2013-05-23
                resources:
                  a:
                    type: OS::Heat::None
                    properties: [1, 2]
                  b:
                    type: OS::Heat::None
                    properties:
                  c:
                    type: OS::Heat::None
                    properties: just a string
                ",
                &["E1014", "E1014", "E1014"],
            ),
            (
                "properties from a function",
                "
                heat_template_version: 2016-04-08
                resources:
                  a:
                    type: OS::Heat::None
                    properties: {map_merge: [{a: 1}, {b: 2}]}
                ",
                &[],
            ),
            (
                "metadata, update_policy and description shapes",
                "
                heat_template_version: 2013-05-23
                resources:
                  a:
                    type: OS::Heat::None
                    metadata: a string
                    update_policy: [x]
                    description: [not, a, string]
                ",
                &["E1018", "E1018", "E1018"],
            ),
            (
                "depends_on shapes",
                "
                heat_template_version: 2013-05-23
                resources:
                  a:
                    type: OS::Heat::None
                  b:
                    type: OS::Heat::None
                    depends_on: a
                  c:
                    type: OS::Heat::None
                    depends_on: [a, b]
                  d:
                    type: OS::Heat::None
                    depends_on: [{foo: bar}]
                  e:
                    type: OS::Heat::None
                    depends_on: {a: b}
                  f:
                    type: OS::Heat::None
                    depends_on:
                ",
                &["E1015", "E1015", "E1015"],
            ),
            (
                "deletion policies",
                "
                heat_template_version: 2013-05-23
                resources:
                  a:
                    type: OS::Heat::None
                    deletion_policy: Retain
                  b:
                    type: OS::Heat::None
                    deletion_policy: dummy
                  c:
                    type: OS::Heat::None
                    deletion_policy: [1, 2]
                  d:
                    type: OS::Heat::None
                    deletion_policy: retain
                  e:
                    type: OS::Heat::None
                    deletion_policy: {get_param: p}
                ",
                &["E1016", "E1016", "E1016"],
            ),
            (
                "lower-case deletion policies from 2016-10-14",
                "
                heat_template_version: 2016-10-14
                resources:
                  d:
                    type: OS::Heat::None
                    deletion_policy: snapshot
                ",
                &[],
            ),
            (
                "resource name with a slash",
                "
                heat_template_version: 2013-05-23
                resources:
                  a/b:
                    type: OS::Heat::None
                ",
                &["E1034"],
            ),
        ]);
    }

    #[test]
    fn resource_messages_name_the_cause() {
        let p = run("
            heat_template_version: 2013-05-23
            resources:
              resource1:
                Type: AWS::EC2::Instance
                wibble: 1
            ");
        let missing = find(&p, "E1011");
        assert!(missing.message.contains("resource1"));
        assert!(missing.message.contains("has no type"));
        let unknown: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.code.as_str() == "E1013")
            .collect();
        assert_eq!(unknown.len(), 2);
        assert!(unknown[0].message.contains("unknown key 'Type'"));
        assert_eq!(unknown[0].hint.as_deref(), Some("HOT spells it 'type'"));
        assert_eq!(
            (unknown[0].span.start.line, unknown[0].span.start.col),
            (4, 5)
        );
        assert!(unknown[1].message.contains("unknown key 'wibble'"));

        let p = run("
            heat_template_version: 2013-05-23
            resources:
              r:
                type: OS::Heat::None
                deletion_policy: [1, 2]
            ");
        let d = find(&p, "E1016");
        assert!(
            d.message.contains("Invalid deletion policy \"[1, 2]\""),
            "{}",
            d.message
        );
        assert_eq!(d.span.start.line, 5);

        let p = run("
            heat_template_version: 2013-05-23
            resources:
              random_str:
                type: OS::Heat::RandomString
                depends_on: [{foo: bar}]
            ");
        let d = find(&p, "E1015");
        assert!(
            d.message
                .contains("Resource random_str depends_on must be a list of strings")
        );

        let p = run("
            heat_template_version: 2015-04-30
            resources:
              r:
                type: OS::Heat::None
                condition: c
            ");
        let d = find(&p, "E1017");
        assert!(d.message.contains("2015-04-30") && d.message.contains("'condition'"));
        assert!(d.hint.as_deref().is_some_and(|h| h.contains("2016-10-14")));
    }

    #[test]
    fn resource_model() {
        let p = run("
            heat_template_version: 2016-10-14
            conditions:
              prod: {equals: [{get_param: env}, prod]}
            resources:
              a:
                type: OS::Heat::RandomString
                properties: {length: 4}
                metadata: {k: v}
                depends_on: [b, c]
                deletion_policy: retain
                update_policy: {x: 1}
                description: the a
                condition: prod
                external_id: {get_param: id}
              b:
                type: OS::Heat::None
                condition: {not: prod}
              c:
                type: OS::Heat::None
                condition: false
            ");
        let t = p.template.as_ref().expect("template");
        assert_eq!(t.version, Version::Hot20161014);
        assert_eq!(t.conditions.len(), 1);
        let a = t.resource("a").expect("a");
        assert_eq!(a.ty.value, "OS::Heat::RandomString");
        assert_eq!(a.ty.span.start.line, 6);
        assert!(a.properties.is_some() && a.metadata.is_some() && a.update_policy.is_some());
        let deps: Vec<&str> = a.depends_on.iter().map(|d| d.value.as_str()).collect();
        assert_eq!(deps, ["b", "c"]);
        assert!(matches!(
            a.deletion_policy.as_deref(),
            Some(DeletionPolicySpec::Known(p)) if p.value == DeletionPolicy::Retain
        ));
        assert_eq!(a.description.as_deref(), Some("the a"));
        assert!(
            matches!(a.condition.as_deref(), Some(ResourceCondition::Named(n)) if n.value == "prod")
        );
        assert!(a.external_id.is_some());
        let b = t.resource("b").expect("b");
        assert!(matches!(
            b.condition.as_deref(),
            Some(ResourceCondition::Inline(_))
        ));
        let c = t.resource("c").expect("c");
        assert!(matches!(
            c.condition.as_deref(),
            Some(ResourceCondition::Inline(_))
        ));
        assert!(
            !p.diagnostics.iter().any(|d| d.is_error()),
            "{:#?}",
            p.diagnostics
        );
    }

    #[test]
    fn a_bad_resource_is_kept_so_references_resolve() {
        let p = run("
            heat_template_version: 2013-05-23
            resources:
              a:
                type: [x]
              b:
              c:
                type: OS::Heat::None
            ");
        let t = p.template.as_ref().expect("template");
        let names: Vec<&str> = t.resources.iter().map(|r| r.name.value.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(t.resource("a").map(|r| r.ty.value.as_str()), Some(""));
        assert_eq!(codes(&p), ["E1012", "E1010"]);
    }

    #[test]
    fn conditions() {
        table(&[
            (
                "booleans and functions",
                "
                heat_template_version: 2016-10-14
                conditions:
                  a: true
                  b: {equals: [{get_param: env}, prod]}
                  c: {not: b}
                ",
                &[],
            ),
            (
                "null conditions section",
                "
                heat_template_version: 2016-10-14
                conditions:
                ",
                &["E1003"],
            ),
            (
                "conditions is a list",
                "
                heat_template_version: 2016-10-14
                conditions: [a]
                ",
                &["E1003"],
            ),
            (
                "a definition that is a string, a number or a plain map",
                "
                heat_template_version: 2016-10-14
                conditions:
                  a: other
                  b: 1
                  c: {x: 1, y: 2}
                ",
                &["E1032", "E1032", "E1032"],
            ),
            (
                "resource condition of the wrong shape",
                "
                heat_template_version: 2016-10-14
                resources:
                  r:
                    type: OS::Heat::None
                    condition: [a]
                  s:
                    type: OS::Heat::None
                    condition:
                ",
                &["E1032", "E1032"],
            ),
        ]);
    }

    #[test]
    fn outputs() {
        table(&[
            (
                "null output",
                "
                heat_template_version: 2013-05-23
                outputs:
                  output1:
                ",
                &["E1020"],
            ),
            (
                "outputs written without names",
                "
                heat_template_version: 2013-05-23
                outputs:
                  description: wrong output
                  value: value1
                ",
                &["E1020", "E1020"],
            ),
            (
                "output without value",
                "
                heat_template_version: 2013-05-23
                outputs:
                  output1:
                    description: output1
                    Value: value1
                ",
                &["E1021"],
            ),
            (
                "output written as a call",
                "
                heat_template_version: 2013-05-23
                outputs:
                  ip: {get_attr: [server, first_address]}
                ",
                &["E1021"],
            ),
            (
                "a call and other keys: the keys are reported",
                "
                heat_template_version: 2013-05-23
                outputs:
                  ip:
                    get_attr: [server, first_address]
                    description: the address
                ",
                &["E1021", "W1001"],
            ),
            (
                "unknown output keys are ignored by Heat",
                "
                heat_template_version: 2013-05-23
                outputs:
                  output1:
                    Description: output1
                    value: value1
                ",
                &["W1001"],
            ),
            (
                "output condition before 2016-10-14",
                "
                heat_template_version: 2016-04-08
                outputs:
                  o:
                    value: 1
                    condition: c
                ",
                &["W1001"],
            ),
            (
                "output condition",
                "
                heat_template_version: 2016-10-14
                conditions:
                  c: false
                outputs:
                  o:
                    value: 1
                    description: one
                    condition: c
                  p:
                    value: 2
                    condition: {not: c}
                ",
                &[],
            ),
            (
                "output description not a string",
                "
                heat_template_version: 2013-05-23
                outputs:
                  o:
                    value: 1
                    description: [a]
                ",
                &["W1030"],
            ),
        ]);
        let p = run("
            heat_template_version: 2013-05-23
            outputs:
              output1:
            ");
        let d = find(&p, "E1020");
        assert!(d.message.contains("Output definitions must be a map"));
        assert!(d.message.contains("output1") && d.message.contains("null"));
        let p = run("
            heat_template_version: 2013-05-23
            outputs:
              output1:
                Value: 1
            ");
        let d = find(&p, "E1021");
        assert!(d.message.contains("must contain a value key"));
        assert!(
            d.message
                .contains("it has 'Value', but HOT spells the key 'value'")
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean 'value'?"));
        assert_eq!(d.span.start.line, 3);

        let p = run("
            heat_template_version: 2013-05-23
            outputs:
              ip: {get_attr: [server, first_address]}
              name:
                description: no value
              address: 10.0.0.1
              value: 1
            ");
        let msgs: Vec<String> = p.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "3:3: error[E1021]: output 'ip' has no value: its definition is a bare get_attr \
                 call; each output definition must contain a value key\n  hint: put the call \
                 under value: write `ip: {value: {get_attr: ...}}`",
                "4:3: error[E1021]: output 'name' has no value: each output definition must \
                 contain a value key\n  hint: write `name: {value: ...}`",
                "6:12: error[E1020]: Output definitions must be a map: output 'address' is a \
                 string\n  hint: write `address: {value: 10.0.0.1}`",
                "7:10: error[E1020]: Output definitions must be a map: output 'value' is a \
                 number\n  hint: 'value' looks like an output key: output definitions go under \
                 their name (outputs: {my_output: {value: ...}})",
            ]
        );
    }

    #[test]
    fn resource_hints() {
        let p = run("
            heat_template_version: 2013-05-23
            resources:
              server: OS::Nova::Server
              resource1:
                Type: AWS::EC2::Instance
              \" \":
                type: OS::Heat::None
              \"\":
                type: OS::Heat::None
            ");
        let msgs: Vec<String> = p.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "3:11: error[E1010]: resource 'server' is not a mapping, found a string\n  \
                 hint: write `server: {type: OS::Nova::Server}`",
                // Both are reported (Heat names both), the missing type pointing at the key.
                "4:3: error[E1011]: resource 'resource1' has no type: each resource must \
                 contain a type key\n  hint: it has 'Type' (line 5), which is not 'type': keys \
                 are case-sensitive",
                "5:5: error[E1013]: resource 'resource1' has unknown key 'Type'\n  hint: HOT \
                 spells it 'type'",
                "6:3: error[E1034]: the resource name \" \" is only white space\n  hint: name \
                 the resource with letters, digits, '-' or '_'",
                "8:3: error[E1034]: a resource name must not be empty\n  hint: give the \
                 resource a name: the key its definition is written under",
            ]
        );
    }

    #[test]
    fn load_issues_in_hot() {
        let p = run("
            heat_template_version: 2013-05-23
            resources:
              r:
                type: OS::Heat::None
              r:
                type: OS::Heat::RandomString
            ");
        assert_eq!(codes(&p), ["W0002"]);
        let d = find(&p, "W0002");
        assert!(d.message.contains("'r'") && d.message.contains("last"));
        assert_eq!(d.span.start.line, 5);
        let t = p.template.as_ref().expect("template");
        assert_eq!(t.resources.len(), 1);
        assert_eq!(t.resources[0].ty.value, "OS::Heat::RandomString");

        let p = run("
            heat_template_version: 2013-05-23
            resources:
              r:
                type: OS::Heat::None
                properties:
                  a: !Ref p
            ");
        assert!(codes(&p).contains(&"E0011"), "{:#?}", p.diagnostics);
        assert_eq!(find(&p, "E0011").span.start.line, 6);
    }

    #[test]
    fn parameters_and_groups() {
        table(&[
            (
                "a parameter and a resource share a name",
                "
                heat_template_version: 2013-05-23
                parameters:
                  server: {type: string}
                resources:
                  server:
                    type: OS::Heat::None
                ",
                &["E1033"],
            ),
            (
                "a deletion policy whose parameter default is not a policy",
                "
                heat_template_version: 2013-05-23
                parameters:
                  deletion_policy:
                    type: string
                    default: Forever
                resources:
                  AResource:
                    type: OS::Heat::None
                    deletion_policy: {get_param: deletion_policy}
                ",
                &["E1016"],
            ),
            (
                "a deletion policy whose parameter default is a policy",
                "
                heat_template_version: 2013-05-23
                parameters:
                  deletion_policy:
                    type: string
                    default: Retain
                resources:
                  AResource:
                    type: OS::Heat::None
                    deletion_policy: {get_param: deletion_policy}
                ",
                &[],
            ),
        ]);
        let p = run("
            heat_template_version: 2013-05-23
            parameters:
              dp:
                type: string
                default: Forever
                hidden: true
            resources:
              r:
                type: OS::Heat::None
                deletion_policy: {get_param: dp}
            ");
        let d = find(&p, "E1016");
        assert!(
            !d.message.contains("Forever"),
            "a hidden value leaked: {}",
            d.message
        );
        let p = run("
            heat_template_version: 2013-05-23
            parameter_groups:
              - label: servers
                parameters: [key_name]
            parameters:
              key_name: {type: string}
            ");
        let t = p.template.as_ref().expect("template");
        assert_eq!(t.parameter_groups.len(), 1);
        assert_eq!(t.parameter_groups[0].parameters[0].value, "key_name");
        assert_eq!(t.parameters.len(), 1);
    }
}
