//! Diagnostics: what is wrong with a template, where, and what to do about it.
//!
//! Parsing and validation never stop at the first problem: every stage returns its result
//! together with a `Vec<Diagnostic>`. Each diagnostic has a stable [`Code`], a severity, a
//! message, an optional hint and the file, line and column it points at.

use crate::span::Span;
use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The template is valid, but something deserves attention.
    Warning,
    /// The template is invalid.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $slug:literal; )*) => {
        /// A stable diagnostic code. The string form (`E3001`) never changes meaning once
        /// released; new problems get new codes.
        ///
        /// Ranges: `E0xxx` loading (syntax, YAML, limits), `E1xxx` template structure,
        /// `E2xxx` parameters, constraints and environments, `E3xxx` functions and
        /// references, `E4xxx` dependency graph, `E5xxx` evaluation, `E6xxx` resource
        /// properties and types (checked against the engine's registry); `W` codes are
        /// warnings with the same ranges.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable code string, e.g. `E3001`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// A short kebab-case name, e.g. `unresolved-reference`.
            pub fn slug(self) -> &'static str {
                match self { $( Code::$variant => $slug, )* }
            }
        }
    };
}

codes! {
    // ---- E0xxx: loading ----
    /// The text is not well-formed YAML or JSON.
    Syntax = "E0001", "syntax";
    /// A mapping has the same key twice (error in CloudFormation).
    DuplicateKey = "E0002", "duplicate-key";
    /// A YAML tag that is not a CloudFormation short form or a core-schema tag.
    UnknownTag = "E0003", "unknown-tag";
    /// Alias expansion exceeded the limit (e.g. a "billion laughs" document).
    AliasLimit = "E0004", "alias-limit";
    /// Nesting deeper than the limit.
    DepthLimit = "E0005", "depth-limit";
    /// The template is larger than the maximum template size.
    SizeLimit = "E0006", "size-limit";
    /// The file holds no document.
    EmptyDocument = "E0007", "empty-document";
    /// The top level is not a mapping.
    NotAMapping = "E0008", "not-a-mapping";
    /// More than one YAML document in one file.
    MultipleDocuments = "E0009", "multiple-documents";
    /// An alias refers to an anchor that was never defined.
    UnknownAnchor = "E0010", "unknown-anchor";
    /// CloudFormation short-form tags (`!Ref`) in a HOT template, which Heat rejects.
    ShortFormInHot = "E0011", "short-form-in-hot";
    /// A mapping key that is not a scalar.
    ComplexKey = "E0012", "complex-key";
    /// A YAML merge key (`<<`) whose value is not a mapping or a list of mappings.
    BadMerge = "E0013", "bad-merge-key";
    /// A scalar or collection that does not fit its explicit core tag (`!!int abc`, `!!map [1]`).
    BadTaggedValue = "E0014", "bad-tagged-value";

    // ---- E1xxx: structure ----
    /// The template version key is missing or its value is unknown.
    UnknownVersion = "E1001", "unknown-version";
    /// A top-level section that the format does not have.
    UnknownSection = "E1002", "unknown-section";
    /// A section has the wrong shape (e.g. `resources` is a list).
    BadSectionShape = "E1003", "bad-section-shape";
    /// A resource definition is not a mapping.
    ResourceNotAMapping = "E1010", "resource-not-a-mapping";
    /// A resource has no type.
    MissingResourceType = "E1011", "missing-resource-type";
    /// A resource type is not a string.
    BadResourceType = "E1012", "bad-resource-type";
    /// A key in a resource definition that the format does not allow.
    UnknownResourceKey = "E1013", "unknown-resource-key";
    /// Resource properties are not a mapping.
    PropertiesNotAMapping = "E1014", "properties-not-a-mapping";
    /// depends_on / DependsOn is not a string or a list of strings.
    BadDependsOn = "E1015", "bad-depends-on";
    /// A deletion policy value that is not Delete, Retain or Snapshot.
    BadDeletionPolicy = "E1016", "bad-deletion-policy";
    /// A resource key that exists only in a later template version.
    KeyNotInVersion = "E1017", "key-not-in-version";
    /// Metadata, update policy or another resource field has the wrong shape.
    BadResourceField = "E1018", "bad-resource-field";
    /// An output is not a mapping.
    OutputNotAMapping = "E1020", "output-not-a-mapping";
    /// An output has no value.
    OutputMissingValue = "E1021", "output-missing-value";
    /// A key in an output that the format does not allow.
    UnknownOutputKey = "E1022", "unknown-output-key";
    /// A description that is not a string.
    BadDescription = "E1030", "bad-description";
    /// A condition definition with the wrong shape.
    BadCondition = "E1032", "bad-condition";
    /// Two entities share one name where names must be unique (e.g. a parameter and a resource).
    NameClash = "E1033", "name-clash";
    /// A name that is empty or otherwise not allowed.
    BadName = "E1034", "bad-name";
    /// A Transform section with the wrong shape or an unknown transform.
    BadTransform = "E1035", "bad-transform";
    /// More resources than the configured limit.
    TooManyResources = "E1036", "too-many-resources";

    // ---- E2xxx: parameters, constraints, environments ----
    /// A parameter definition is not a mapping.
    ParameterNotAMapping = "E2001", "parameter-not-a-mapping";
    /// A parameter has no type.
    MissingParameterType = "E2002", "missing-parameter-type";
    /// A parameter type that the format does not know.
    UnknownParameterType = "E2003", "unknown-parameter-type";
    /// A key in a parameter definition that is not allowed (in this version).
    UnknownParameterKey = "E2004", "unknown-parameter-key";
    /// A constraint with the wrong shape or an unknown kind.
    BadConstraint = "E2005", "bad-constraint";
    /// A default value that does not fit the type or the constraints.
    BadDefault = "E2006", "bad-default";
    /// A value given for a parameter that does not fit its type or constraints.
    BadParameterValue = "E2007", "bad-parameter-value";
    /// A required parameter (no default) got no value.
    MissingParameterValue = "E2008", "missing-parameter-value";
    /// A value given for a parameter the template does not declare.
    UnknownParameter = "E2009", "unknown-parameter";
    /// parameter_groups has the wrong shape or refers to unknown parameters.
    BadParameterGroups = "E2010", "bad-parameter-groups";
    /// An environment file section or entry with the wrong shape.
    BadEnvironment = "E2020", "bad-environment";
    /// A section that environment files do not have.
    UnknownEnvironmentSection = "E2021", "unknown-environment-section";
    /// A resource_registry entry with the wrong shape.
    BadResourceRegistry = "E2022", "bad-resource-registry";
    /// A parameter key/value given on the command line with the wrong form.
    BadParameterArgument = "E2023", "bad-parameter-argument";
    /// Another field of a parameter (hidden, label, tags, ...) has the wrong shape.
    BadParameterField = "E2024", "bad-parameter-field";

    // ---- E3xxx: functions and references ----
    /// A reference to a parameter, resource or pseudo-parameter that does not exist.
    UnresolvedReference = "E3001", "unresolved-reference";
    /// get_attr / Fn::GetAtt names a resource that does not exist.
    UnknownAttributeResource = "E3002", "unknown-attribute-resource";
    /// depends_on / DependsOn names a resource that does not exist.
    UnknownDependency = "E3003", "unknown-dependency";
    /// A condition name that is not defined.
    UnknownCondition = "E3004", "unknown-condition";
    /// Fn::FindInMap names a mapping that does not exist.
    UnknownMapping = "E3005", "unknown-mapping";
    /// get_param names a parameter that does not exist.
    UnknownParameterRef = "E3006", "unknown-parameter-ref";
    /// An intrinsic function the format does not know (e.g. `Fn::Foo`).
    UnknownFunction = "E3010", "unknown-function";
    /// A function used in a template version that does not have it.
    FunctionNotInVersion = "E3011", "function-not-in-version";
    /// A function that was removed in this template version.
    RemovedFunction = "E3012", "removed-function";
    /// A function's arguments have the wrong number or shape.
    BadArguments = "E3013", "bad-arguments";
    /// A condition function used outside conditions, or a regular function inside them.
    FunctionOutOfContext = "E3014", "function-out-of-context";
    /// A single-key map whose key looks like a function but sits next to other keys.
    FunctionWithSiblings = "E3015", "function-with-siblings";
    /// A reference that only outputs use is invalid in AWS CloudFormation.
    UnresolvedOutputReference = "E3016", "unresolved-output-reference";
    /// Fn::Sub refers to a variable that is neither a parameter, a resource nor a given variable.
    UnknownSubVariable = "E3017", "unknown-sub-variable";
    /// Fn::ImportValue or an export with the wrong shape.
    BadExport = "E3018", "bad-export";
    /// Named conditions that refer to each other in a circle.
    ConditionCycle = "E3019", "condition-cycle";

    // ---- E4xxx: dependency graph ----
    /// A circular dependency between resources.
    DependencyCycle = "E4001", "dependency-cycle";

    // ---- E5xxx: evaluation ----
    /// A function could not be evaluated with the given values.
    EvaluationFailed = "E5001", "evaluation-failed";
    /// A yaql expression: recognized, but heat cannot evaluate yaql yet.
    YaqlUnsupported = "E5002", "yaql-unsupported";
    /// get_file names a file that is not in the files map.
    MissingFile = "E5003", "missing-file";
    /// A value evaluation needs is not available here (offline: resources, exports, the
    /// parent resource, pseudo-parameters without a value, macros).
    ValueUnavailable = "E5004", "value-unavailable";

    // ---- E6xxx: resource properties (checked against a resource type's schema) ----
    /// A property the resource type does not have.
    UnknownProperty = "E6001", "unknown-property";
    /// A required property with no value.
    MissingRequiredProperty = "E6002", "missing-required-property";
    /// A property value of the wrong type.
    PropertyType = "E6003", "property-type";
    /// A property value that breaks one of the property's constraints.
    PropertyConstraint = "E6004", "property-constraint";
    /// A resource type the engine's registry does not have (online: an error; offline it is
    /// `W3001`).
    UnregisteredResourceType = "E6005", "unregistered-resource-type";

    // ---- warnings ----
    /// A mapping has the same key twice (HOT keeps the last one, as Heat does).
    DuplicateKeyWarning = "W0002", "duplicate-key-last-wins";
    /// A HOT key that Heat accepts but ignores.
    IgnoredKey = "W1001", "ignored-key";
    /// No resources: Heat accepts an empty stack, AWS CloudFormation requires a resource.
    NoResources = "W1004", "no-resources";
    /// A description that is not a string, which Heat accepts as it is.
    DescriptionNotString = "W1030", "description-not-string";
    /// A Mappings entry with the wrong shape: Heat only fails when `Fn::FindInMap` reads it
    /// (AWS CloudFormation rejects the template).
    BadMappingShape = "W1031", "bad-mapping-shape";
    /// A parameter that nothing uses.
    UnusedParameter = "W2001", "unused-parameter";
    /// A CloudFormation `AWS::CloudFormation::Interface` parameter group names a parameter the
    /// template does not have (console metadata; AWS does not enforce it).
    ParameterGroupUnknownParameter = "W2010", "parameter-group-unknown-parameter";
    /// An environment entry that Heat accepts but that has no effect (an unknown merge
    /// strategy, hooks outside `resources`, ...).
    IgnoredEnvironmentEntry = "W2020", "ignored-environment-entry";
    /// A resource type that this offline validation does not know.
    UnknownResourceType = "W3001", "unknown-resource-type";
    /// A reference only an output uses, which Heat reports lazily when the output is shown.
    OutputReferenceWarning = "W3002", "unresolved-output-reference-lazy";
    /// Reference checks skipped because a transform (e.g. AWS::Serverless) may satisfy them.
    TransformSkipsChecks = "W3003", "transform-skips-checks";
    /// A resource type (or function or key) that Heat has deprecated or hidden, still
    /// accepted.
    Deprecated = "W3004", "deprecated";
    /// A HOT map that looks like a function call but is data (as Heat reads it): a one-key
    /// map whose key is a near miss of a function name, or a function key next to other keys.
    PossibleFunctionTypo = "W3005", "possible-function-typo";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a template, environment or parameter set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence. Never contains a hidden parameter's value.
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
    /// The file the span points into, when known (set by whoever knows the file name).
    pub file: Option<String>,
    /// Where it is. `Span::default()` (line 0) when there is no position.
    pub span: Span,
}

impl Diagnostic {
    /// An error with the given code, span and message.
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            hint: None,
            file: None,
            span,
        }
    }

    /// A warning with the given code, span and message.
    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Warning,
            message: message.into(),
            hint: None,
            file: None,
            span,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the file name.
    #[must_use]
    pub fn in_file(mut self, file: impl Into<String>) -> Diagnostic {
        self.file = Some(file.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COL: error[CODE]: message` (file and position left out when unknown),
    /// followed by `\n  hint: ...` when there is a hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        if self.span.is_known() {
            write!(f, "{}:{}: ", self.span.start.line, self.span.start.col)?;
        } else if self.file.is_some() {
            f.write_str(" ")?;
        }
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// A sink that collects diagnostics in order.
pub type Diagnostics = Vec<Diagnostic>;

/// Whether any diagnostic in the list is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
