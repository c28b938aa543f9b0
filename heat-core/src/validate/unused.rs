//! Parameters that nothing refers to (`W2001`, as cfn-lint's rule of that number).
//!
//! A parameter is used when some expression of the template names it: `Ref`, `get_param`,
//! a `${Name}` of `Fn::Sub`, `Fn::ValueOf`, in resources, outputs, conditions or metadata.
//! Parameter groups only arrange parameters for display, so they do not count. Nothing is
//! reported when the template has a transform (it may use the parameters in what it adds) or
//! when some reference is computed (`{get_param: {get_param: which}}` may name any of them).
//!
//! Known gap: the AWS `Rules` section is not in the template model, so a parameter that only
//! a rule uses is reported.

use std::collections::HashSet;

use crate::diagnostic::{Code, Diagnostic};
use crate::template::expr::{Expr, ExprKind, Func};
use crate::template::model::Template;
use crate::template::refs::{RefKind, references};
use crate::template::version::Format;
use crate::validate::Site;

/// Reports every parameter of `template` that no expression of `sites` refers to.
pub fn check(template: &Template, sites: &[Site<'_>], diags: &mut Vec<Diagnostic>) {
    if template.has_transform() || template.parameters.is_empty() {
        return;
    }
    let mut used: HashSet<String> = HashSet::new();
    for site in sites {
        if has_computed_parameter_reference(site.expr) {
            return;
        }
        used.extend(
            references(site.expr)
                .into_iter()
                .filter(|r| matches!(r.kind, RefKind::Ref | RefKind::Param))
                .map(|r| r.name),
        );
    }
    let hint = match template.format() {
        Format::Cfn => {
            "no Ref, Fn::Sub or Fn::ValueOf refers to it; remove it, or refer to it where it \
             was meant to be used"
        }
        Format::Hot | Format::HeatCfn => {
            "nothing refers to it with get_param (or Ref); remove it, unless a parent stack or \
             an environment passes it to this template on purpose"
        }
    };
    for p in &template.parameters {
        if !used.contains(&p.name.value) {
            diags.push(
                Diagnostic::warning(
                    Code::UnusedParameter,
                    p.name.span,
                    format!("parameter {} is declared but never used", p.name.value),
                )
                .with_hint(hint),
            );
        }
    }
}

/// Whether some parameter reference in `expr` has a name only known at run time.
fn has_computed_parameter_reference(expr: &Expr) -> bool {
    let mut computed = false;
    expr.walk(&mut |e| {
        let ExprKind::Call(call) = &e.kind else {
            return;
        };
        let arg = &call.arg;
        let literal = |x: &Expr| matches!(x.kind, ExprKind::String(_));
        computed |= match call.func {
            Func::Ref => !literal(arg),
            Func::GetParam | Func::FnValueOf => match &arg.kind {
                ExprKind::List(items) => items.first().is_some_and(|first| !literal(first)),
                _ => !literal(arg),
            },
            Func::FnSub => match &arg.kind {
                ExprKind::String(_) => false,
                ExprKind::List(items) => {
                    items.first().is_some_and(|t| !literal(t))
                        || items
                            .get(1)
                            .is_some_and(|vars| !matches!(vars.kind, ExprKind::Map(_)))
                }
                _ => true,
            },
            _ => false,
        };
    });
    computed
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::diagnostic::{Code, Severity};
    use crate::template::version::Version::{self, *};
    use crate::validate::parse_json as template;
    use crate::validate::{ValidateOptions, validate};
    use serde_json::json;

    /// The names of the parameters reported unused.
    fn unused(version: Version, doc: serde_json::Value) -> Vec<String> {
        let t = template(version, doc);
        validate(&t, &ValidateOptions::default())
            .into_iter()
            .filter(|d| d.code == Code::UnusedParameter)
            .map(|d| {
                assert_eq!(d.severity, Severity::Warning);
                assert!(d.span.is_known());
                d.message
            })
            .collect()
    }

    #[test]
    fn parameters_nothing_refers_to() {
        let cases: Vec<(Version, serde_json::Value, Vec<&str>)> = vec![
            (
                Cfn20100909,
                json!({"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"},
                        "C": {"Type": "String"}, "D": {"Type": "String"}, "E": {"Type": "String"},
                        "Unused": {"Type": "String"}},
                    "Conditions": {"IsA": {"Fn::Equals": [{"Ref": "A"}, "x"]}},
                    "Resources": {"R": {"Type": "AWS::S3::Bucket", "Properties": {
                        "N": {"Fn::Sub": "${B}-${AWS::Region}"},
                        "M": {"Fn::Sub": ["${X}", {"X": {"Ref": "C"}}]}}}},
                    "Outputs": {"O": {"Value": {"Fn::Sub": ["${E}", {"Unused": 1}]}}},
                    "Metadata": {"Note": {"Ref": "D"}}}),
                vec!["parameter Unused is declared but never used"],
            ),
            (
                Hot20161014,
                json!({"parameters": {"a": {"type": "string"}, "b": {"type": "string"},
                        "c": {"type": "string"}},
                    "resources": {"r": {"type": "OS::Heat::None",
                        "properties": {"x": {"get_param": ["a", "key", 0]}}}},
                    "outputs": {"o": {"value": {"str_replace": {"template": "c", "params": {"c": "1"}}}}},
                    "conditions": {"k": {"equals": [{"get_param": "b"}, 1]}}}),
                vec!["parameter c is declared but never used"],
            ),
            // HOT 2013 Ref counts
            (
                Hot20130523,
                json!({"parameters": {"a": {"type": "string"}},
                    "resources": {"r": {"type": "OS::Heat::None", "properties": {"x": {"Ref": "a"}}}}}),
                vec![],
            ),
            // a computed name may be any parameter
            (
                Hot20161014,
                json!({"parameters": {"which": {"type": "string"}, "a": {"type": "string"},
                        "b": {"type": "string"}},
                    "resources": {"r": {"type": "OS::Heat::None",
                        "properties": {"x": {"get_param": {"get_param": "which"}}}}}}),
                vec![],
            ),
            (
                Cfn20100909,
                json!({"Parameters": {"A": {"Type": "String"}},
                    "Resources": {"R": {"Type": "AWS::S3::Bucket",
                        "Properties": {"N": {"Fn::Sub": ["${A}", {"Ref": "M"}]}}}}}),
                vec![],
            ),
            // a transform may use them
            (
                Cfn20100909,
                json!({"Transform": "AWS::Serverless-2016-10-31",
                    "Parameters": {"A": {"Type": "String"}},
                    "Resources": {"R": {"Type": "AWS::S3::Bucket"}}}),
                vec![],
            ),
        ];
        for (version, doc, want) in cases {
            assert_eq!(unused(version, doc.clone()), want, "{version}: {doc}");
        }
    }
}
