//! The function catalogue: which functions exist in which template version, which are
//! condition functions, which were removed (and the hint Heat gives).
//! OWNER: expression helper.
//!
//! The per-version lists follow Heat's template classes: the HOT lists are those of
//! `heat_template_version` 2013-05-23 … 2021-04-16 (16, 8, 10, 10, 11, 14, 16, 21, 21, 21, 21
//! live functions), `HeatTemplateFormatVersion: 2012-12-12` has Heat's 11 CloudFormation-style
//! functions, and `AWSTemplateFormatVersion: 2010-09-09` has Heat's 12 plus the functions AWS
//! CloudFormation has and Heat lacks (`Fn::Sub`, `Fn::ImportValue`, `Fn::Cidr`, `Fn::Length`,
//! `Fn::ToJsonString`, `Fn::Transform`, `Fn::ForEach::<loop>`), its condition functions
//! (with `Condition`) and the functions of the `Rules` section.
//!
//! [`lookup`] answers "what is this key in this version"; [`functions`] and
//! [`condition_functions`] are what `heat template functions VERSION` and Heat's API
//! `GET /template_versions/{v}/functions` list.

use crate::template::expr::Func;
use crate::template::version::{Format, Version};

/// What a name means in one template version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    /// A function of this version (a regular function, a condition function, or — in
    /// AWS CloudFormation — a `Rules` function; see [`is_function`],
    /// [`is_condition_function`] and [`is_rules_function`] for where it may be used).
    Live(Func),
    /// A function this HOT version removed; using it is an error with `hint`.
    Removed {
        /// The removed function.
        func: Func,
        /// What to use instead (Heat's advice, in our words).
        hint: String,
    },
    /// A function that exists, but not in this version.
    NotInVersion {
        /// The function.
        func: Func,
        /// Every version that has it (oldest first).
        versions: Vec<Version>,
    },
    /// Not a function name in any version.
    Unknown,
}

/// One entry of a version's function list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    /// The function.
    pub func: Func,
    /// The name as written in templates (`Fn::ForEach` stands for `Fn::ForEach::<loop>`).
    pub name: &'static str,
    /// A one-line description.
    pub description: &'static str,
}

use Func::*;

const HOT_20130523: &[Func] = &[
    GetParam,
    GetResource,
    GetAttr,
    GetFile,
    ListJoin,
    StrReplace,
    ResourceFacade,
    FnGetAZs,
    Ref,
    FnSelect,
    FnJoin,
    FnSplit,
    FnReplace,
    FnBase64,
    FnMemberListToMap,
    FnResourceFacade,
];

/// The regular functions of HOT from 2014-10-16 on, in the order Heat lists them: each with
/// the first version that has it and, for one that a later version dropped, the last.
const HOT_FUNCTIONS: &[(Func, Version, Option<Version>)] = &[
    (GetAttr, Version::Hot20141016, None),
    (GetFile, Version::Hot20141016, None),
    (GetParam, Version::Hot20141016, None),
    (GetResource, Version::Hot20141016, None),
    (ListJoin, Version::Hot20141016, None),
    (Repeat, Version::Hot20150430, None),
    (ResourceFacade, Version::Hot20141016, None),
    (StrReplace, Version::Hot20141016, None),
    (FnSelect, Version::Hot20141016, Some(Version::Hot20150430)),
    (Digest, Version::Hot20150430, None),
    (StrSplit, Version::Hot20151015, None),
    (MapMerge, Version::Hot20160408, None),
    (Yaql, Version::Hot20161014, None),
    (MapReplace, Version::Hot20161014, None),
    (If, Version::Hot20161014, None),
    (Filter, Version::Hot20170224, None),
    (StrReplaceStrict, Version::Hot20170224, None),
    (MakeUrl, Version::Hot20170901, None),
    (ListConcat, Version::Hot20170901, None),
    (StrReplaceVstrict, Version::Hot20170901, None),
    (ListConcatUnique, Version::Hot20170901, None),
    (Contains, Version::Hot20170901, None),
];

const HOT_COND_2016: &[Func] = &[GetParam, Equals, Not, And, Or];
const HOT_COND_2017: &[Func] = &[GetParam, Equals, Not, And, Or, Yaql, Contains];

const HEAT_CFN: &[Func] = &[
    FnFindInMap,
    FnGetAZs,
    Ref,
    FnGetAtt,
    FnSelect,
    FnJoin,
    FnSplit,
    FnReplace,
    FnBase64,
    FnMemberListToMap,
    FnResourceFacade,
];

/// The regular functions of AWS CloudFormation after Heat's ([`HEAT_CFN`]).
const AWS_ONLY: &[Func] = &[
    FnIf,
    FnSub,
    FnImportValue,
    FnCidr,
    FnLength,
    FnToJsonString,
    FnTransform,
    FnForEach,
];
const AWS_COND: &[Func] = &[FnEquals, Ref, FnFindInMap, FnNot, FnAnd, FnOr, Condition];
const AWS_RULES: &[Func] = &[
    FnContains,
    FnEachMemberEquals,
    FnEachMemberIn,
    FnValueOf,
    FnValueOfAll,
    FnRefAll,
];

/// The regular functions of a version (usable in resources, outputs, metadata...).
fn regular(version: Version) -> impl Iterator<Item = Func> {
    let (base, more): (&[Func], &[Func]) = match version {
        Version::Cfn20100909 => (HEAT_CFN, AWS_ONLY),
        Version::Heat20121212 => (HEAT_CFN, &[]),
        Version::Hot20130523 => (HOT_20130523, &[]),
        _ => (&[], &[]),
    };
    let later = HOT_FUNCTIONS
        .iter()
        .filter(move |(_, first, last)| {
            version.is_hot() && version >= *first && last.is_none_or(|last| version <= last)
        })
        .map(|(func, ..)| *func);
    base.iter().chain(more).copied().chain(later)
}

/// The condition functions of a version (usable in `conditions` and `condition:` fields).
fn conditional(version: Version) -> &'static [Func] {
    match version {
        Version::Cfn20100909 => AWS_COND,
        Version::Heat20121212
        | Version::Hot20130523
        | Version::Hot20141016
        | Version::Hot20150430
        | Version::Hot20151015
        | Version::Hot20160408 => &[],
        Version::Hot20161014 | Version::Hot20170224 => HOT_COND_2016,
        Version::Hot20170901
        | Version::Hot20180302
        | Version::Hot20180831
        | Version::Hot20210416 => HOT_COND_2017,
    }
}

/// The functions a HOT version removed: those of 2013-05-23 that it lacks.
fn removed(version: Version) -> impl Iterator<Item = Func> {
    let later = version.is_hot() && version > Version::Hot20130523;
    HOT_20130523
        .iter()
        .copied()
        .filter(move |func| later && !is_function(version, *func))
}

/// The `Rules` functions of a version (AWS CloudFormation only).
fn rules(version: Version) -> &'static [Func] {
    match version {
        Version::Cfn20100909 => AWS_RULES,
        _ => &[],
    }
}

/// AWS CloudFormation intrinsic functions that have no [`Func`] yet. They are accepted as
/// data (no diagnostic) in AWS-format templates rather than reported as unknown.
pub const AWS_FUNCTIONS_WITHOUT_FUNC: &[&str] = &["Fn::GetStackOutput"];

/// Whether `func` is a regular function of `version`.
pub fn is_function(version: Version, func: Func) -> bool {
    regular(version).any(|f| f == func)
}

/// Whether `func` is a condition function of `version`.
pub fn is_condition_function(version: Version, func: Func) -> bool {
    conditional(version).contains(&func)
}

/// Whether `func` is a `Rules` function of `version` (AWS CloudFormation only).
pub fn is_rules_function(version: Version, func: Func) -> bool {
    rules(version).contains(&func)
}

/// Whether `func` is usable at all in `version` (regular, condition or rules function).
pub fn is_live(version: Version, func: Func) -> bool {
    is_function(version, func)
        || is_condition_function(version, func)
        || is_rules_function(version, func)
}

/// Whether `func` is a function that `version` removed.
pub fn is_removed(version: Version, func: Func) -> bool {
    removed(version).any(|f| f == func)
}

/// Every version in which `func` is live (oldest first).
pub fn versions_with(func: Func) -> Vec<Version> {
    Version::ALL
        .iter()
        .copied()
        .filter(|v| is_live(*v, func))
        .collect()
}

/// The function a template key names, whatever the version (`Fn::ForEach::Loop` names
/// [`Func::FnForEach`]).
pub fn func_from_key(name: &str) -> Option<Func> {
    if let Some(rest) = name.strip_prefix("Fn::ForEach::") {
        return (!rest.is_empty()).then_some(FnForEach);
    }
    match Func::from_name(name) {
        // Only `Fn::ForEach::<loop>` is a key; a bare `Fn::ForEach` is not.
        Some(FnForEach) => None,
        other => other,
    }
}

/// What `name` (a one-key map's key) means in `version`.
pub fn lookup(version: Version, name: &str) -> Availability {
    let Some(func) = func_from_key(name) else {
        return Availability::Unknown;
    };
    if is_live(version, func) {
        return Availability::Live(func);
    }
    if is_removed(version, func) {
        return Availability::Removed {
            func,
            hint: removed_hint(version, func),
        };
    }
    Availability::NotInVersion {
        func,
        versions: versions_with(func),
    }
}

/// What Heat advises instead of a function removed from HOT.
pub fn removed_hint(version: Version, func: Func) -> String {
    let since = |v: Version, f: Func| {
        if version >= v {
            format!("use {} instead", f.name())
        } else {
            format!(
                "{} is available from heat_template_version {}",
                f.name(),
                v.date()
            )
        }
    };
    match func {
        FnJoin => "use list_join instead".to_string(),
        FnReplace => "use str_replace instead".to_string(),
        FnResourceFacade => "use resource_facade instead".to_string(),
        Ref => "use get_param for a parameter or get_resource for a resource".to_string(),
        FnSplit => since(Version::Hot20151015, StrSplit),
        FnGetAZs => {
            "HOT has no equivalent; pass the availability zone in as a parameter".to_string()
        }
        FnBase64 => "HOT has no equivalent; give the value as it is (resources encode user_data \
             themselves)"
            .to_string(),
        FnMemberListToMap => "HOT has no equivalent; write the map directly".to_string(),
        FnSelect => {
            if version >= Version::Hot20161014 {
                "use the path arguments of get_attr, the index argument of str_split, or yaql"
                    .to_string()
            } else {
                "use the path arguments of get_attr or the index argument of str_split".to_string()
            }
        }
        other => format!("{} is not supported in this version of HOT", other.name()),
    }
}

/// A sentence saying where a function is available, e.g. `filter is available from
/// heat_template_version 2017-02-24 (ocata)`.
pub fn availability_message(func: Func, versions: &[Version]) -> String {
    let describe = |v: Version| match v.alias() {
        Some(alias) => format!("{} ({alias})", v.date()),
        None => v.date().to_string(),
    };
    let hot: Vec<Version> = versions.iter().copied().filter(|v| v.is_hot()).collect();
    let cfn: Vec<Version> = versions.iter().copied().filter(|v| !v.is_hot()).collect();
    let mut parts = Vec::new();
    if let Some(first) = hot.first() {
        let all_from_first = Version::hot_versions()
            .filter(|v| v >= first)
            .all(|v| hot.contains(&v));
        if all_from_first {
            parts.push(format!("from heat_template_version {}", describe(*first)));
        } else {
            let list: Vec<String> = hot.iter().map(|v| describe(*v)).collect();
            parts.push(format!("in heat_template_version {}", list.join(", ")));
        }
    }
    for v in cfn {
        parts.push(format!("in {}: {} templates", v.key(), v.date()));
    }
    if parts.is_empty() {
        format!("{} is not available in any template version", func.name())
    } else {
        format!("{} is available {}", func.name(), parts.join(" and "))
    }
}

fn infos(list: impl Iterator<Item = Func>) -> Vec<FunctionInfo> {
    list.map(|func| FunctionInfo {
        func,
        name: func.name(),
        description: description(func),
    })
    .collect()
}

/// The regular functions of `version`, as Heat's API lists them (without removed ones).
pub fn functions(version: Version) -> Vec<FunctionInfo> {
    infos(regular(version))
}

/// The condition functions of `version` (empty when the version has no conditions).
pub fn condition_functions(version: Version) -> Vec<FunctionInfo> {
    infos(conditional(version).iter().copied())
}

/// The functions of the `Rules` section (AWS CloudFormation only; empty otherwise).
pub fn rules_functions(version: Version) -> Vec<FunctionInfo> {
    infos(rules(version).iter().copied())
}

/// What `GET /template_versions/{v}/functions?with_condition_func=true` lists: the regular
/// functions followed by the condition functions not already listed.
pub fn functions_with_conditions(version: Version) -> Vec<FunctionInfo> {
    let mut out = functions(version);
    for info in condition_functions(version) {
        if !out.iter().any(|i| i.func == info.func) {
            out.push(info);
        }
    }
    out
}

/// The functions `version` removed, with the hint for each.
pub fn removed_functions(version: Version) -> Vec<(Func, String)> {
    removed(version)
        .map(|f| (f, removed_hint(version, f)))
        .collect()
}

/// Whether the format treats `func` as a condition-only function (never a regular one).
pub fn is_condition_only(format: Format, func: Func) -> bool {
    match format {
        Format::Hot => matches!(func, Equals | Not | And | Or),
        Format::Cfn | Format::HeatCfn => {
            matches!(func, FnEquals | FnNot | FnAnd | FnOr | Condition)
        }
    }
}

/// A one-line description of a function.
pub fn description(func: Func) -> &'static str {
    match func {
        GetParam => "Returns the value of a template parameter or pseudo-parameter.",
        GetResource => "Returns the reference ID of a resource of this template.",
        GetAttr => "Returns an attribute of a resource, optionally following a path into it.",
        GetFile => "Returns the contents of a file passed along with the template.",
        ListJoin => "Joins lists of strings into one string with a delimiter.",
        StrReplace => "Substitutes parameters into a template string.",
        StrReplaceStrict => {
            "Substitutes parameters into a template string; every parameter must occur."
        }
        StrReplaceVstrict => {
            "Substitutes parameters into a template string; every parameter must occur and \
             have a non-empty value."
        }
        ResourceFacade => {
            "Returns metadata, deletion_policy or update_policy of the parent template resource."
        }
        Repeat => "Builds a list by repeating a template for each value of one or more lists.",
        Digest => "Returns the hex digest of a value with a named hash algorithm.",
        StrSplit => "Splits a string into a list by a delimiter, optionally taking one item.",
        MapMerge => "Merges several maps into one; later keys win.",
        MapReplace => "Renames the keys and/or replaces the values of a map.",
        Yaql => "Evaluates a YAQL expression on the given data.",
        If => "Chooses between two values by a condition.",
        Equals => "Is true when its two arguments are equal.",
        Not => "Negates a condition.",
        And => "Is true when all of its conditions are true.",
        Or => "Is true when any of its conditions is true.",
        Filter => "Removes the given values from a list.",
        MakeUrl => "Builds a URL from its parts, quoting them as needed.",
        ListConcat => "Concatenates several lists into one.",
        ListConcatUnique => "Concatenates several lists into one, dropping repeated items.",
        Contains => "Is true when a value is a member of a sequence.",
        Ref => "Returns the value of a parameter or the reference ID of a resource.",
        FnGetAtt => "Returns an attribute of a resource.",
        FnJoin => "Joins a list of strings into one string with a delimiter.",
        FnSelect => "Returns the item at an index of a list (or a key of a map).",
        FnSplit => "Splits a string into a list by a delimiter.",
        FnReplace => "Replaces substrings of a string with the given values.",
        FnBase64 => "Returns the Base64 encoding of a string.",
        FnFindInMap => "Returns the value of a second-level key of a Mappings entry.",
        FnGetAZs => "Returns the list of availability zones of a region.",
        FnMemberListToMap => "Turns a list of key/value member strings into a map.",
        FnResourceFacade => "Returns a section of the parent template resource's definition.",
        FnIf => "Returns one of two values depending on a named condition.",
        FnEquals => "Is true when its two arguments are equal.",
        FnNot => "Negates a condition.",
        FnAnd => "Is true when all of its conditions are true.",
        FnOr => "Is true when any of its conditions is true.",
        FnSub => "Substitutes ${Name} and ${Resource.Attribute} variables into a string.",
        FnImportValue => "Returns the value of an output exported by another stack.",
        FnCidr => "Returns a list of CIDR blocks carved out of an address block.",
        FnLength => "Returns the number of items of a list.",
        FnToJsonString => "Returns a map or list serialised as a JSON string.",
        FnTransform => "Runs a macro on a part of the template.",
        FnContains => "Rules: is true when a value is one of a list of strings.",
        FnEachMemberEquals => "Rules: is true when every member of a list equals a value.",
        FnEachMemberIn => "Rules: is true when every member of a list is in another list.",
        FnValueOf => "Rules: returns an attribute value of a parameter.",
        FnValueOfAll => "Rules: returns an attribute's values of every parameter of a type.",
        FnRefAll => "Rules: returns every value of a parameter type in the account and region.",
        FnForEach => "Repeats a template fragment for each item of a collection.",
        Condition => "Refers to a named condition.",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity)]
mod tests {
    use super::*;

    #[test]
    fn hot_counts_match_heat() {
        let expected = [16, 8, 10, 10, 11, 14, 16, 21, 21, 21, 21];
        let got: Vec<usize> = Version::hot_versions()
            .map(|v| functions(v).len())
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn cfn_counts() {
        assert_eq!(functions(Version::Heat20121212).len(), 11);
        // Heat's 12 plus 7 AWS functions.
        assert_eq!(functions(Version::Cfn20100909).len(), 19);
        assert_eq!(condition_functions(Version::Cfn20100909).len(), 7);
        assert_eq!(condition_functions(Version::Heat20121212).len(), 0);
        assert_eq!(rules_functions(Version::Cfn20100909).len(), 6);
        assert!(rules_functions(Version::Hot20210416).is_empty());
    }

    #[test]
    fn condition_function_counts() {
        let got: Vec<usize> = Version::hot_versions()
            .map(|v| condition_functions(v).len())
            .collect();
        assert_eq!(got, [0, 0, 0, 0, 0, 5, 5, 7, 7, 7, 7]);
        // Union as Heat's API lists it with with_condition_func=true.
        assert_eq!(
            functions_with_conditions(Version::Hot20161014).len(),
            14 + 4
        );
        assert_eq!(
            functions_with_conditions(Version::Hot20170901).len(),
            21 + 4
        );
    }

    #[test]
    fn removed_counts() {
        let got: Vec<usize> = Version::hot_versions()
            .map(|v| removed_functions(v).len())
            .collect();
        assert_eq!(got, [0, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9]);
    }

    #[test]
    fn lookup_table() {
        let cases: &[(Version, &str, Availability)] = &[
            (Version::Hot20130523, "Fn::Join", Availability::Live(FnJoin)),
            (
                Version::Hot20130523,
                "get_param",
                Availability::Live(GetParam),
            ),
            (Version::Hot20161014, "equals", Availability::Live(Equals)),
            (Version::Cfn20100909, "Fn::Sub", Availability::Live(FnSub)),
            (
                Version::Cfn20100909,
                "Fn::ForEach::Topics",
                Availability::Live(FnForEach),
            ),
            (Version::Cfn20100909, "Fn::ForEach", Availability::Unknown),
            (
                Version::Cfn20100909,
                "Fn::Rain::Embed",
                Availability::Unknown,
            ),
            (
                Version::Cfn20100909,
                "Condition",
                Availability::Live(Condition),
            ),
            (
                Version::Cfn20100909,
                "Fn::Contains",
                Availability::Live(FnContains),
            ),
            (Version::Hot20210416, "nonsense", Availability::Unknown),
        ];
        for (v, name, want) in cases {
            assert_eq!(&lookup(*v, name), want, "{v} {name}");
        }
    }

    #[test]
    fn removed_with_hints() {
        match lookup(Version::Hot20150430, "Fn::Join") {
            Availability::Removed { func, hint } => {
                assert_eq!(func, FnJoin);
                assert_eq!(hint, "use list_join instead");
            }
            other => panic!("{other:?}"),
        }
        match lookup(Version::Hot20141016, "Fn::Split") {
            Availability::Removed { hint, .. } => {
                assert!(
                    hint.contains("from heat_template_version 2015-10-15"),
                    "{hint}"
                )
            }
            other => panic!("{other:?}"),
        }
        match lookup(Version::Hot20210416, "Fn::Split") {
            Availability::Removed { hint, .. } => assert_eq!(hint, "use str_split instead"),
            other => panic!("{other:?}"),
        }
        // Fn::Select lives in 2014-10-16 and 2015-04-30, removed from 2015-10-15.
        assert_eq!(
            lookup(Version::Hot20150430, "Fn::Select"),
            Availability::Live(FnSelect)
        );
        assert!(matches!(
            lookup(Version::Hot20151015, "Fn::Select"),
            Availability::Removed { func: FnSelect, .. }
        ));
        assert!(matches!(
            lookup(Version::Hot20141016, "Ref"),
            Availability::Removed { func: Ref, .. }
        ));
    }

    #[test]
    fn not_in_version_messages() {
        let Availability::NotInVersion { func, versions } = lookup(Version::Hot20161014, "filter")
        else {
            panic!("filter should not be in 2016-10-14");
        };
        assert_eq!(
            availability_message(func, &versions),
            "filter is available from heat_template_version 2017-02-24 (ocata)"
        );
        let Availability::NotInVersion { func, versions } = lookup(Version::Hot20130523, "repeat")
        else {
            panic!()
        };
        assert_eq!(
            availability_message(func, &versions),
            "repeat is available from heat_template_version 2015-04-30"
        );
        let Availability::NotInVersion { func, versions } = lookup(Version::Heat20121212, "Fn::If")
        else {
            panic!()
        };
        assert_eq!(
            availability_message(func, &versions),
            "Fn::If is available in AWSTemplateFormatVersion: 2010-09-09 templates"
        );
        let Availability::NotInVersion { func, versions } = lookup(Version::Hot20160408, "equals")
        else {
            panic!()
        };
        assert!(availability_message(func, &versions).contains("2016-10-14 (newton)"));
    }

    #[test]
    fn every_func_is_somewhere_and_described() {
        for f in Func::ALL {
            assert!(!versions_with(*f).is_empty(), "{f:?} is in no version");
            assert!(!description(*f).is_empty());
        }
    }

    #[test]
    fn condition_only() {
        assert!(is_condition_only(Format::Hot, Equals));
        assert!(!is_condition_only(Format::Hot, GetParam));
        assert!(is_condition_only(Format::Cfn, FnAnd));
        assert!(!is_condition_only(Format::Cfn, Ref));
    }
}
