//! References that do not resolve: parameters, resources, attributes' resources, conditions,
//! mappings (and their keys), `Fn::Sub` variables, `depends_on` targets.
//!
//! Messages follow the words of the engines (`Ref to undefined X`, `GetAtt to undefined
//! resource X`, `get_attr to undefined resource X`, `get_param undefined X`, `depends_on
//! undefined resource X`, `Condition X undefined`) and end with where the reference is:
//! `(in resource Y)`, `(in output Y)`, `(in condition Y)` or `(in Metadata)`.
//!
//! A reference made only in an output is an error in AWS CloudFormation (`E3016`), but Heat
//! reports it lazily, when the output is shown, so in HOT and Heat's 2012-12-12 dialect it is
//! a warning (`W3002`). When the template declares a transform, references it could satisfy
//! are not checked; one `W3003` says so.

use std::collections::HashSet;

use crate::diagnostic::{Code, Diagnostic};
use crate::names::did_you_mean;
use crate::span::Span;
use crate::template::expr::{ExprKind, Func};
use crate::template::functions;
use crate::template::model::{ResourceCondition, Template};
use crate::template::refs::{RefKind, Reference, references};
use crate::template::version::Format;
use crate::validate::{Location, Site};

/// The pseudo-parameters of AWS CloudFormation.
pub const AWS_PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// The pseudo-parameters of Heat's CloudFormation dialect.
pub const HEAT_CFN_PSEUDO_PARAMETERS: &[&str] = &["AWS::StackId", "AWS::StackName", "AWS::Region"];

/// The pseudo-parameters of HOT.
pub const HOT_PSEUDO_PARAMETERS: &[&str] = &[
    "OS::stack_id",
    "OS::stack_name",
    "OS::region",
    "OS::project_id",
];

/// The pseudo-parameters a template's format has.
pub fn pseudo_parameters(format: Format) -> &'static [&'static str] {
    match format {
        Format::Cfn => AWS_PSEUDO_PARAMETERS,
        Format::HeatCfn => HEAT_CFN_PSEUDO_PARAMETERS,
        Format::Hot => HOT_PSEUDO_PARAMETERS,
    }
}

/// The names a template declares: in document order (for hints) and as sets.
struct Names<'t> {
    param_list: Vec<&'t str>,
    resource_list: Vec<&'t str>,
    condition_list: Vec<&'t str>,
    params: HashSet<&'t str>,
    resources: HashSet<&'t str>,
    conditions: HashSet<&'t str>,
    pseudo: &'static [&'static str],
    template: &'t Template,
}

impl<'t> Names<'t> {
    fn new(template: &'t Template) -> Names<'t> {
        let param_list: Vec<&str> = template
            .parameters
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let resource_list: Vec<&str> = template.resources.iter().map(|r| r.name.as_str()).collect();
        let condition_list: Vec<&str> = template
            .conditions
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        Names {
            params: param_list.iter().copied().collect(),
            resources: resource_list.iter().copied().collect(),
            conditions: condition_list.iter().copied().collect(),
            param_list,
            resource_list,
            condition_list,
            pseudo: pseudo_parameters(template.format()),
            template,
        }
    }

    fn is_param(&self, name: &str) -> bool {
        self.params.contains(name) || self.pseudo.contains(&name)
    }

    /// The declared parameters, then the pseudo-parameters.
    fn param_candidates(&self) -> Vec<&str> {
        self.param_list.iter().chain(self.pseudo).copied().collect()
    }

    fn resource_candidates(&self) -> Vec<&str> {
        self.resource_list.clone()
    }

    fn declared_parameters(&self) -> Vec<&str> {
        self.param_list.clone()
    }

    fn condition_candidates(&self) -> Vec<&str> {
        self.condition_list.clone()
    }
}

struct Reporter<'d> {
    format: Format,
    diags: &'d mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    /// Reports an unresolved name at `location` with `code`; in outputs the code and severity
    /// follow the format (error `E3016` in AWS CloudFormation, warning `W3002` in Heat).
    fn unresolved(
        &mut self,
        location: Location<'_>,
        code: Code,
        span: Span,
        message: String,
        hint: Option<String>,
    ) {
        let mut d = match location {
            Location::Output(_) => match self.format {
                Format::Cfn => Diagnostic::error(Code::UnresolvedOutputReference, span, message),
                Format::Hot | Format::HeatCfn => {
                    let d = Diagnostic::warning(Code::OutputReferenceWarning, span, message);
                    let lazy = "Heat reports this only when the output is shown";
                    let hint = match hint {
                        Some(h) => format!("{h} ({lazy})"),
                        None => lazy.to_string(),
                    };
                    self.diags.push(d.with_hint(hint));
                    return;
                }
            },
            _ => Diagnostic::error(code, span, message),
        };
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.diags.push(d);
    }
}

/// Checks every reference of the template's expressions and fields.
pub fn check(template: &Template, sites: &[Site<'_>], diags: &mut Vec<Diagnostic>) {
    if let Some(first) = template.transforms.first() {
        let list: Vec<&str> = template
            .transforms
            .iter()
            .map(|t| t.value.as_str())
            .collect();
        diags.push(
            Diagnostic::warning(
                Code::TransformSkipsChecks,
                first.span,
                format!(
                    "reference and resource type checks skipped: Transform {} may add \
                     resources, parameters, conditions and outputs this template does not \
                     define",
                    list.join(", ")
                ),
            )
            .with_hint("deploy or expand the transform (e.g. `sam validate`) to check the result"),
        );
        return;
    }
    let names = Names::new(template);
    let mut rep = Reporter {
        format: template.format(),
        diags,
    };
    for site in sites {
        for r in references(site.expr) {
            if !functions::is_live(template.version, r.func) {
                continue; // already reported as unavailable
            }
            check_reference(&names, &mut rep, site, &r);
        }
        check_find_in_map_keys(&names, &mut rep, site);
    }
    check_condition_fields(&names, &mut rep);
    check_depends_on(&names, &mut rep);
    check_condition_cycles(template, rep.diags);
}

/// Conditions whose definitions refer to each other in a circle (Heat: "Circular definition
/// for condition"). Each cycle is reported once, at its first condition in document order.
pub fn check_condition_cycles(template: &Template, diags: &mut Vec<Diagnostic>) {
    let index: std::collections::HashMap<&str, usize> = template
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.value.as_str(), i))
        .collect();
    let edges: Vec<Vec<usize>> = template
        .conditions
        .iter()
        .map(|c| {
            let mut out: Vec<usize> = references(&c.expr)
                .into_iter()
                .filter(|r| r.kind == RefKind::Condition)
                .filter_map(|r| index.get(r.name.as_str()).copied())
                .collect();
            out.dedup();
            out
        })
        .collect();
    // Iterative depth-first search: 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; edges.len()];
    let mut reported: HashSet<Vec<usize>> = HashSet::new();
    for start in 0..edges.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some((node, next)) = stack.last().copied() {
            if let Some(&succ) = edges[node].get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match state[succ] {
                    0 => {
                        state[succ] = 1;
                        stack.push((succ, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == succ).unwrap_or(0);
                        let cycle: Vec<usize> = stack[from..].iter().map(|(n, _)| *n).collect();
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if reported.insert(key) {
                            report_cycle(template, &cycle, diags);
                        }
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
}

fn report_cycle(template: &Template, cycle: &[usize], diags: &mut Vec<Diagnostic>) {
    // Start the description at the condition written first.
    let first = cycle
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| **c)
        .map_or(0, |(i, _)| i);
    let names: Vec<&str> = cycle[first..]
        .iter()
        .chain(&cycle[..first])
        .chain(std::iter::once(&cycle[first]))
        .map(|i| template.conditions[*i].name.value.as_str())
        .collect();
    let head = &template.conditions[cycle[first]].name;
    diags.push(
        Diagnostic::error(
            Code::ConditionCycle,
            head.span,
            format!(
                "circular definition for condition {}: {}",
                head.value,
                names.join(" -> ")
            ),
        )
        .with_hint("a condition cannot depend on itself, directly or through other conditions"),
    );
}

fn check_reference(names: &Names<'_>, rep: &mut Reporter<'_>, site: &Site<'_>, r: &Reference) {
    let loc = site.location;
    let name = r.name.as_str();
    match &r.kind {
        RefKind::Param => {
            if !names.is_param(name) {
                let hint = did_you_mean(name, names.param_candidates()).unwrap_or_else(|| {
                    format!(
                        "declare it under {}; {}",
                        section_word(rep.format, "parameters"),
                        listing("parameters", &names.declared_parameters())
                    )
                });
                rep.unresolved(
                    loc,
                    Code::UnknownParameterRef,
                    r.span,
                    format!("{} undefined {name} (in {})", r.func.name(), loc.describe()),
                    Some(hint),
                );
            }
        }
        RefKind::Ref if r.func == Func::FnSub => {
            if !names.is_param(name) && !names.resources.contains(name) {
                let mut cands = names.param_candidates();
                cands.extend(names.resource_candidates());
                rep.unresolved(
                    loc,
                    Code::UnknownSubVariable,
                    r.span,
                    format!(
                        "Fn::Sub variable ${{{name}}} is undefined (in {})",
                        loc.describe()
                    ),
                    did_you_mean(name, cands).or_else(|| {
                        Some(
                            "a variable must be a parameter, a resource, a pseudo-parameter or \
                             a key of the variables map; write ${!Name} for a literal ${Name}"
                                .to_string(),
                        )
                    }),
                );
            } else if site.in_condition && !names.is_param(name) {
                conditions_only_params(rep, loc, r);
            }
        }
        RefKind::Ref => {
            if !names.is_param(name) && !names.resources.contains(name) {
                let mut cands = names.param_candidates();
                cands.extend(names.resource_candidates());
                rep.unresolved(
                    loc,
                    Code::UnresolvedReference,
                    r.span,
                    format!("Ref to undefined {name} (in {})", loc.describe()),
                    did_you_mean(name, cands).or_else(|| {
                        let mut declared = names.declared_parameters();
                        declared.extend(names.resource_candidates());
                        Some(format!(
                            "Ref names a parameter, a pseudo-parameter or a resource: declare \
                             '{name}', or use one of them; {}",
                            listing("parameters and resources", &declared)
                        ))
                    }),
                );
            } else if site.in_condition && !names.is_param(name) {
                conditions_only_params(rep, loc, r);
            }
        }
        RefKind::Resource | RefKind::Attribute(_) => {
            if names.resources.contains(name) {
                return;
            }
            let hint = did_you_mean(name, names.resource_candidates());
            let resources = listing("resources", &names.resource_candidates());
            if r.func == Func::FnSub {
                let attr = match &r.kind {
                    RefKind::Attribute(Some(a)) => format!("{name}.{a}"),
                    _ => name.to_string(),
                };
                rep.unresolved(
                    loc,
                    Code::UnknownSubVariable,
                    r.span,
                    format!(
                        "Fn::Sub variable ${{{attr}}} refers to undefined resource {name} (in {})",
                        loc.describe()
                    ),
                    hint.or_else(|| {
                        Some(format!(
                            "${{Name.Attribute}} names a resource of this template ({resources}); \
                             write ${{!Name}} for a literal ${{Name}}"
                        ))
                    }),
                );
                return;
            }
            let what = match r.func {
                Func::FnGetAtt => "GetAtt",
                other => other.name(),
            };
            let message = format!(
                "{what} to undefined resource {name} (in {})",
                loc.describe()
            );
            let hint = hint.or_else(|| {
                Some(format!(
                    "{} names a resource of this template; {resources}",
                    r.func.name()
                ))
            });
            rep.unresolved(loc, Code::UnknownAttributeResource, r.span, message, hint);
        }
        RefKind::Condition => {
            if names.conditions.contains(name) {
                return;
            }
            let what = match (r.func, rep.format) {
                (Func::FnIf, _) => "Fn::If Condition",
                (Func::If, _) => "if condition",
                (_, Format::Hot) => "condition",
                _ => "Condition",
            };
            let hint = did_you_mean(name, names.condition_candidates())
                .or_else(|| Some(define_condition_hint(names, rep.format)));
            rep.unresolved(
                loc,
                Code::UnknownCondition,
                r.span,
                format!("{what} {name} undefined (in {})", loc.describe()),
                hint,
            );
        }
        RefKind::Mapping => {
            if names.template.mapping(name).is_none() {
                let cands: Vec<&str> = names
                    .template
                    .mappings
                    .iter()
                    .map(|m| m.name.value.as_str())
                    .collect();
                rep.unresolved(
                    loc,
                    Code::UnknownMapping,
                    r.span,
                    format!(
                        "Fn::FindInMap to undefined mapping {name} (in {})",
                        loc.describe()
                    ),
                    did_you_mean(name, cands.iter().copied()).or_else(|| {
                        Some(format!(
                            "define it under Mappings; {}",
                            listing("mappings", &cands)
                        ))
                    }),
                );
            }
        }
    }
}

fn conditions_only_params(rep: &mut Reporter<'_>, loc: Location<'_>, r: &Reference) {
    rep.diags.push(
        Diagnostic::error(
            Code::UnresolvedReference,
            r.span,
            format!(
                "Ref to resource {} in a condition: conditions can refer only to parameters \
                 (in {})",
                r.name,
                loc.describe()
            ),
        )
        .with_hint(
            "conditions are evaluated before any resource exists: test a parameter instead (e.g. \
             a parameter that says whether to create the resource)",
        ),
    );
}

/// With literal keys, `Fn::FindInMap`'s keys must exist in the mapping (unless a default
/// value is given).
fn check_find_in_map_keys(names: &Names<'_>, rep: &mut Reporter<'_>, site: &Site<'_>) {
    let loc = site.location;
    site.expr.walk(&mut |e| {
        let ExprKind::Call(call) = &e.kind else { return };
        if call.func != Func::FnFindInMap {
            return;
        }
        let Some(args) = call.arg.as_list() else { return };
        if args.len() != 3 {
            return; // wrong arity (reported elsewhere) or a default value
        }
        let (Some(map_name), Some(top)) = (args[0].as_str(), args[1].as_str()) else {
            return;
        };
        let Some(mapping) = names.template.mapping(map_name) else { return };
        let Some((_, second_level)) = mapping.entries.iter().find(|(k, _)| k.value == top) else {
            let cands: Vec<&str> = mapping.entries.iter().map(|(k, _)| k.value.as_str()).collect();
            rep.unresolved(
                loc,
                Code::UnknownMapping,
                args[1].span,
                format!(
                    "Fn::FindInMap key '{top}' is not in mapping {map_name} (in {})",
                    loc.describe()
                ),
                Some(
                    did_you_mean(top, cands.iter().copied())
                        .unwrap_or_else(|| available_keys(&format!("mapping {map_name}"), &cands)),
                ),
            );
            return;
        };
        let Some(second) = args[2].as_str() else { return };
        if !second_level.iter().any(|(k, _)| k.value == second) {
            let cands: Vec<&str> = second_level.iter().map(|(k, _)| k.value.as_str()).collect();
            rep.unresolved(
                loc,
                Code::UnknownMapping,
                args[2].span,
                format!(
                    "Fn::FindInMap key '{second}' is not under '{top}' in mapping {map_name} (in {})",
                    loc.describe()
                ),
                Some(did_you_mean(second, cands.iter().copied()).unwrap_or_else(|| {
                    available_keys(&format!("'{top}' in mapping {map_name}"), &cands)
                })),
            );
        }
    });
}

/// A section's name as the format spells it (`parameters` / `Parameters`).
fn section_word(format: Format, hot_name: &str) -> String {
    if format == Format::Hot {
        return hot_name.to_string();
    }
    let mut chars = hot_name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The hint for a condition name that is not defined (and not close to one that is).
fn define_condition_hint(names: &Names<'_>, format: Format) -> String {
    format!(
        "define it in the {} section; {}",
        section_word(format, "conditions"),
        listing("conditions", &names.condition_candidates())
    )
}

/// "the WHAT are: a, b, c" (at most [`KEYS_SHOWN`], then "and N more"), or "the template has
/// no WHAT".
fn listing(what: &str, names: &[&str]) -> String {
    if names.is_empty() {
        return format!("the template has no {what}");
    }
    let more = names.len().saturating_sub(KEYS_SHOWN);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let shown: Vec<&str> = names.iter().take(KEYS_SHOWN).copied().collect();
    format!("the {what} are: {}{tail}", shown.join(", "))
}

/// How many keys [`available_keys`] lists at most.
const KEYS_SHOWN: usize = 10;

/// "the keys of WHERE are: a, b, c" (at most [`KEYS_SHOWN`], then "and N more").
fn available_keys(place: &str, keys: &[&str]) -> String {
    if keys.is_empty() {
        return format!("{place} has no keys");
    }
    let shown: Vec<String> = keys
        .iter()
        .take(KEYS_SHOWN)
        .map(|k| format!("'{k}'"))
        .collect();
    let more = keys.len().saturating_sub(KEYS_SHOWN);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("the keys of {place} are {}{tail}", shown.join(", "))
}

/// `condition:` / `Condition:` fields of resources and outputs that name a condition.
fn check_condition_fields(names: &Names<'_>, rep: &mut Reporter<'_>) {
    let word = if rep.format == Format::Hot {
        "condition"
    } else {
        "Condition"
    };
    let template = names.template;
    let fields = template
        .resources
        .iter()
        .map(|r| (Location::Resource(&r.name.value), r.condition.as_deref()))
        .chain(
            template
                .outputs
                .iter()
                .map(|o| (Location::Output(&o.name.value), o.condition.as_ref())),
        );
    for (loc, cond) in fields {
        let Some(ResourceCondition::Named(name)) = cond else {
            continue;
        };
        if names.conditions.contains(name.value.as_str()) {
            continue;
        }
        let hint = did_you_mean(&name.value, names.condition_candidates())
            .or_else(|| Some(define_condition_hint(names, rep.format)));
        rep.unresolved(
            loc,
            Code::UnknownCondition,
            name.span,
            format!("{word} {} undefined (in {})", name.value, loc.describe()),
            hint,
        );
    }
}

fn check_depends_on(names: &Names<'_>, rep: &mut Reporter<'_>) {
    let word = if rep.format == Format::Hot {
        "depends_on"
    } else {
        "DependsOn"
    };
    for r in &names.template.resources {
        for dep in &r.depends_on {
            if names.resources.contains(dep.value.as_str()) {
                continue;
            }
            let hint = did_you_mean(&dep.value, names.resource_candidates()).or_else(|| {
                Some(format!(
                    "{word} names resources of this template; {}",
                    listing("resources", &names.resource_candidates())
                ))
            });
            rep.unresolved(
                Location::Resource(&r.name.value),
                Code::UnknownDependency,
                dep.span,
                format!(
                    "{word} undefined resource {} (in resource {})",
                    dep.value, r.name.value
                ),
                hint,
            );
        }
    }
}
