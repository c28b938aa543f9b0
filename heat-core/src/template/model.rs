//! The typed model of a template: every section of CloudFormation and HOT, parsed once.
//!
//! Names are kept with their spans so that later stages (reference checks, the graph, the
//! engine) can point back at the source. Values that may hold functions are [`Expr`]s.

use crate::span::{Span, Spanned};
use crate::template::expr::Expr;
use crate::template::version::{Format, Version};

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// The version (and so the format) of the template.
    pub version: Version,
    /// Where the version was declared (the default span when it was implicit).
    pub version_span: Span,
    /// `description` / `Description`.
    pub description: Option<Spanned<String>>,
    /// `Transform` (CloudFormation): the transform names, in order.
    pub transforms: Vec<Spanned<String>>,
    /// `parameters` / `Parameters`, in document order.
    pub parameters: Vec<Parameter>,
    /// `parameter_groups` (HOT) or `Metadata: AWS::CloudFormation::Interface: ParameterGroups`.
    pub parameter_groups: Vec<ParameterGroup>,
    /// `Mappings` (CloudFormation).
    pub mappings: Vec<Mapping>,
    /// `conditions` / `Conditions`, in document order.
    pub conditions: Vec<ConditionDef>,
    /// `resources` / `Resources`, in document order.
    pub resources: Vec<Resource>,
    /// `outputs` / `Outputs`, in document order.
    pub outputs: Vec<Output>,
    /// Template-level `Metadata` (CloudFormation).
    pub metadata: Option<Expr>,
}

impl Template {
    /// A template of `version` (declared at `version_span`) with every section empty.
    pub fn new(version: Version, version_span: Span) -> Template {
        Template {
            version,
            version_span,
            description: None,
            transforms: Vec::new(),
            parameters: Vec::new(),
            parameter_groups: Vec::new(),
            mappings: Vec::new(),
            conditions: Vec::new(),
            resources: Vec::new(),
            outputs: Vec::new(),
            metadata: None,
        }
    }

    /// The format family.
    pub fn format(&self) -> Format {
        self.version.format()
    }

    /// Looks a parameter up by name.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name.value == name)
    }

    /// Looks a resource up by name.
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name.value == name)
    }

    /// Looks a condition up by name.
    pub fn condition(&self, name: &str) -> Option<&ConditionDef> {
        self.conditions.iter().find(|c| c.name.value == name)
    }

    /// Looks a mapping up by name.
    pub fn mapping(&self, name: &str) -> Option<&Mapping> {
        self.mappings.iter().find(|m| m.name.value == name)
    }

    /// Whether a transform that may add resources or rewrite references is declared
    /// (`AWS::Serverless-*`, `AWS::LanguageExtensions`, or any macro).
    pub fn has_transform(&self) -> bool {
        !self.transforms.is_empty()
    }
}

/// The type of a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterType {
    /// HOT `string`, CFN `String`.
    String,
    /// HOT `number`, CFN `Number`.
    Number,
    /// HOT `comma_delimited_list`, CFN `CommaDelimitedList`.
    CommaDelimitedList,
    /// HOT `json`, CFN `Json` (Heat).
    Json,
    /// HOT `boolean`, CFN `Boolean` (Heat).
    Boolean,
    /// CFN `List<Number>`.
    NumberList,
    /// An AWS-specific type (`AWS::EC2::KeyPair::KeyName`, `List<AWS::EC2::Subnet::Id>`,
    /// `AWS::SSM::Parameter::Value<String>`, ...), kept by name. Values are strings, or lists
    /// of strings when the name starts with `List<` or resolves to one.
    Aws(String),
}

impl ParameterType {
    /// Whether values of this type are lists.
    pub fn is_list(&self) -> bool {
        match self {
            ParameterType::CommaDelimitedList | ParameterType::NumberList => true,
            ParameterType::Aws(name) => {
                name.starts_with("List<") || name.contains("<List<") || name.ends_with("List>")
            }
            _ => false,
        }
    }
}

/// One parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The name, with its span.
    pub name: Spanned<String>,
    /// The declared type.
    pub ty: ParameterType,
    /// Where the type was written (the name's span when missing).
    pub ty_span: Span,
    /// `description`.
    pub description: Option<String>,
    /// `label` (HOT).
    pub label: Option<String>,
    /// `default` / `Default`, as written (functions are not allowed there).
    pub default: Option<crate::template::node::Node>,
    /// `hidden` (HOT) / `NoEcho` (CFN): the value is never shown.
    pub hidden: bool,
    /// `immutable` (HOT): the value may not change on update.
    pub immutable: bool,
    /// `tags` (HOT from 2018-03-02).
    pub tags: Vec<String>,
    /// Constraints, in document order.
    pub constraints: Vec<Constraint>,
    /// The whole definition's span.
    pub span: Span,
}

/// A parameter constraint.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// What it checks.
    pub kind: ConstraintKind,
    /// The constraint's own `description` (shown instead of the default message).
    pub description: Option<String>,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of constraints.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstraintKind {
    /// `length` / `MinLength` + `MaxLength`: the length of a string or list.
    Length {
        /// Inclusive minimum.
        min: Option<f64>,
        /// Inclusive maximum.
        max: Option<f64>,
    },
    /// `range` / `MinValue` + `MaxValue`: a numeric range.
    Range {
        /// Inclusive minimum.
        min: Option<f64>,
        /// Inclusive maximum.
        max: Option<f64>,
    },
    /// `modulo {step, offset}` (HOT from 2017-02-24).
    Modulo {
        /// The step.
        step: f64,
        /// The offset.
        offset: f64,
    },
    /// `allowed_values` / `AllowedValues`.
    AllowedValues(Vec<serde_json::Value>),
    /// `allowed_pattern` / `AllowedPattern`: the whole value must match.
    AllowedPattern(String),
    /// `custom_constraint`: recorded, checked by whoever knows the named service.
    Custom(String),
}

/// A parameter group.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterGroup {
    /// `label`.
    pub label: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// The parameters in this group, by name.
    pub parameters: Vec<Spanned<String>>,
    /// Where the group was written.
    pub span: Span,
}

/// One top-level key of a mapping and its second-level entries.
pub type MappingEntry = (
    Spanned<String>,
    Vec<(Spanned<String>, crate::template::node::Node)>,
);

/// A CloudFormation mapping: `name -> top key -> second key -> value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    /// The mapping's name.
    pub name: Spanned<String>,
    /// The top-level keys and their second-level maps.
    pub entries: Vec<MappingEntry>,
    /// Where it was written.
    pub span: Span,
}

/// A named condition.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionDef {
    /// The name.
    pub name: Spanned<String>,
    /// The condition expression (parsed in condition context).
    pub expr: Expr,
}

/// A resource's `condition` / `Condition`.
#[derive(Clone, Debug, PartialEq)]
pub enum ResourceCondition {
    /// The name of a condition.
    Named(Spanned<String>),
    /// A condition expression written inline (HOT allows `condition: {equals: ...}` and a
    /// boolean).
    Inline(Expr),
}

/// `deletion_policy` / `DeletionPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeletionPolicy {
    /// Delete the resource with the stack (the default).
    Delete,
    /// Keep the resource when the stack is deleted.
    Retain,
    /// Snapshot, then delete.
    Snapshot,
    /// AWS CloudFormation `RetainExceptOnCreate`: retain, except when the stack's creation
    /// fails (then delete). Not in Heat.
    RetainExceptOnCreate,
}

/// One resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// The logical name.
    pub name: Spanned<String>,
    /// The resource type (`OS::Nova::Server`, `AWS::EC2::Instance`, ...).
    pub ty: Spanned<String>,
    /// `properties` / `Properties` (a map expression, or a function producing one).
    pub properties: Option<Expr>,
    /// `metadata` / `Metadata`.
    pub metadata: Option<Box<Expr>>,
    /// `depends_on` / `DependsOn`, by name.
    pub depends_on: Vec<Spanned<String>>,
    /// `deletion_policy` / `DeletionPolicy` (a function in HOT is resolved later).
    pub deletion_policy: Option<Box<DeletionPolicySpec>>,
    /// `update_policy` / `UpdatePolicy`.
    pub update_policy: Option<Box<Expr>>,
    /// `CreationPolicy` (CloudFormation).
    pub creation_policy: Option<Box<Expr>>,
    /// `UpdateReplacePolicy` (CloudFormation).
    pub update_replace_policy: Option<Box<DeletionPolicySpec>>,
    /// `condition` / `Condition`.
    pub condition: Option<Box<ResourceCondition>>,
    /// `external_id` (HOT from 2016-10-14).
    pub external_id: Option<Box<Expr>>,
    /// `description` / `Description`.
    pub description: Option<String>,
    /// The whole definition's span.
    pub span: Span,
}

impl Resource {
    /// A resource with only a name, a type and a span; every optional field empty.
    pub fn new(name: Spanned<String>, ty: Spanned<String>, span: Span) -> Resource {
        Resource {
            name,
            ty,
            properties: None,
            metadata: None,
            depends_on: Vec::new(),
            deletion_policy: None,
            update_policy: None,
            creation_policy: None,
            update_replace_policy: None,
            condition: None,
            external_id: None,
            description: None,
            span,
        }
    }
}

/// A deletion policy as written: a known value, or an expression resolved at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum DeletionPolicySpec {
    /// One of the known policies.
    Known(Spanned<DeletionPolicy>),
    /// A function (HOT allows `get_param` here).
    Expr(Expr),
}

/// One output.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The name.
    pub name: Spanned<String>,
    /// `value` / `Value`.
    pub value: Expr,
    /// `description` / `Description`.
    pub description: Option<String>,
    /// `condition` / `Condition`.
    pub condition: Option<ResourceCondition>,
    /// `Export: {Name: ...}` (CloudFormation).
    pub export: Option<Expr>,
    /// The whole definition's span.
    pub span: Span,
}
