//! What an evaluation may look at: the template version, parameter values, pseudo-parameters,
//! resources, files, mappings, conditions, exports, availability zones and the parent resource
//! of a nested stack.
//!
//! Every source is a trait object (or a plain value) with a default that works offline: the
//! defaults either have nothing to offer (no parameters, no conditions) or answer with a
//! clear "not available offline" error (resources, exports, the parent resource).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::eval::EvalError;
use crate::template::model::{Mapping, Template};
use crate::template::version::{Format, Version};

// ------------------------------------------------------------------------------------------
// Parameters
// ------------------------------------------------------------------------------------------

/// Where parameter values come from (a bound parameter set, usually).
pub trait ParameterSource {
    /// The value of a declared parameter, or `None` when the template declares no parameter of
    /// that name (or it has no value). Pseudo-parameters are not asked for here.
    fn value(&self, name: &str) -> Option<Value>;

    /// Whether the parameter is hidden (`hidden: true` / `NoEcho`): its value must never
    /// appear in a message.
    fn is_hidden(&self, name: &str) -> bool;
}

/// No parameters at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoParameters;

impl ParameterSource for NoParameters {
    fn value(&self, _name: &str) -> Option<Value> {
        None
    }

    fn is_hidden(&self, _name: &str) -> bool {
        false
    }
}

/// A simple parameter set: name → value, plus the names of hidden parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParameterValues {
    /// The values by name.
    pub values: BTreeMap<String, Value>,
    /// Names of the hidden (`NoEcho`) parameters.
    pub hidden: BTreeSet<String>,
}

impl ParameterValues {
    /// An empty set.
    pub fn new() -> ParameterValues {
        ParameterValues::default()
    }

    /// Adds a visible parameter.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: Value) -> ParameterValues {
        self.values.insert(name.into(), value);
        self
    }

    /// Adds a hidden parameter.
    #[must_use]
    pub fn with_hidden(mut self, name: impl Into<String>, value: Value) -> ParameterValues {
        let name = name.into();
        self.hidden.insert(name.clone());
        self.values.insert(name, value);
        self
    }
}

impl ParameterSource for ParameterValues {
    fn value(&self, name: &str) -> Option<Value> {
        self.values.get(name).cloned()
    }

    fn is_hidden(&self, name: &str) -> bool {
        self.hidden.contains(name)
    }
}

impl ParameterSource for BTreeMap<String, Value> {
    fn value(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }

    fn is_hidden(&self, _name: &str) -> bool {
        false
    }
}

impl ParameterSource for HashMap<String, Value> {
    fn value(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }

    fn is_hidden(&self, _name: &str) -> bool {
        false
    }
}

// ------------------------------------------------------------------------------------------
// Pseudo-parameters
// ------------------------------------------------------------------------------------------

/// The values of the pseudo-parameters (`AWS::StackName`, `OS::stack_id`, ...).
///
/// Each value is optional: asking for one that is `None` is an evaluation error with code
/// [`crate::diagnostic::Code::ValueUnavailable`] (offline there is no stack yet).
/// CloudFormation-syntax templates see the `AWS::*` names, HOT templates the `OS::*` names
/// (as in Heat).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PseudoParams {
    /// `AWS::StackName`, `OS::stack_name`.
    pub stack_name: Option<String>,
    /// `OS::stack_id` (the stack's UUID); also the last part of a derived `AWS::StackId`.
    pub stack_id: Option<String>,
    /// `AWS::StackId` as is; when `None` it is derived from the other fields: Heat's
    /// `arn:openstack:heat::PROJECT:stacks/NAME/ID` for Heat's dialect,
    /// `arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID` for AWS templates.
    pub stack_arn: Option<String>,
    /// `AWS::Region`, `OS::region`.
    pub region: Option<String>,
    /// `OS::project_id`; also `AWS::AccountId` when `account_id` is `None` (on OpenStack the
    /// project plays the account's role).
    pub project_id: Option<String>,
    /// `AWS::AccountId`.
    pub account_id: Option<String>,
    /// `AWS::Partition`; when `None`, derived from the region (`aws-cn` for `cn-*`,
    /// `aws-us-gov` for `us-gov-*`, else `aws`).
    pub partition: Option<String>,
    /// `AWS::URLSuffix`; when `None`, `amazonaws.com.cn` for China regions, else
    /// `amazonaws.com`.
    pub url_suffix: Option<String>,
    /// `AWS::NotificationARNs`.
    pub notification_arns: Vec<String>,
}

/// What looking up a pseudo-parameter gives.
pub(crate) enum Pseudo {
    /// Not a pseudo-parameter of this format.
    Absent,
    /// `AWS::NoValue`: the enclosing property is removed.
    NoValue,
    /// The value.
    Value(Value),
    /// A pseudo-parameter whose value is not known; the message says which.
    Missing(String),
}

impl PseudoParams {
    /// No values at all (what offline validation has).
    pub const fn new() -> PseudoParams {
        PseudoParams {
            stack_name: None,
            stack_id: None,
            stack_arn: None,
            region: None,
            project_id: None,
            account_id: None,
            partition: None,
            url_suffix: None,
            notification_arns: Vec::new(),
        }
    }

    fn partition_value(&self) -> String {
        if let Some(p) = &self.partition {
            return p.clone();
        }
        match self.region.as_deref() {
            Some(r) if r.starts_with("cn-") => "aws-cn".into(),
            Some(r) if r.starts_with("us-gov-") => "aws-us-gov".into(),
            _ => "aws".into(),
        }
    }

    fn url_suffix_value(&self) -> String {
        if let Some(s) = &self.url_suffix {
            return s.clone();
        }
        match self.region.as_deref() {
            Some(r) if r.starts_with("cn-") => "amazonaws.com.cn".into(),
            _ => "amazonaws.com".into(),
        }
    }

    fn account(&self) -> Option<&String> {
        self.account_id.as_ref().or(self.project_id.as_ref())
    }

    /// The `AWS::StackId` value for a template of the given format, when it can be known.
    pub fn stack_arn(&self, format: Format) -> Option<String> {
        if let Some(arn) = &self.stack_arn {
            return Some(arn.clone());
        }
        let name = self.stack_name.as_ref()?;
        let id = self.stack_id.as_ref()?;
        match format {
            Format::Cfn => Some(format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/{}",
                self.partition_value(),
                self.region.as_ref()?,
                self.account()?,
                name,
                id
            )),
            _ => Some(format!(
                "arn:openstack:heat::{}:stacks/{}/{}",
                self.project_id.as_ref()?,
                name,
                id
            )),
        }
    }

    /// Looks a pseudo-parameter up, with the names the format has.
    pub(crate) fn lookup(&self, name: &str, format: Format) -> Pseudo {
        fn known(v: Option<&String>, name: &str) -> Pseudo {
            match v {
                Some(s) => Pseudo::Value(Value::String(s.clone())),
                None => Pseudo::Missing(format!(
                    "the pseudo-parameter {name} has no value here (there is no stack offline)"
                )),
            }
        }
        if format == Format::Hot {
            return match name {
                "OS::stack_name" => known(self.stack_name.as_ref(), name),
                "OS::stack_id" => known(self.stack_id.as_ref(), name),
                "OS::project_id" => known(self.project_id.as_ref(), name),
                "OS::region" => known(self.region.as_ref(), name),
                _ => Pseudo::Absent,
            };
        }
        match name {
            "AWS::StackName" => known(self.stack_name.as_ref(), name),
            "AWS::StackId" => known(self.stack_arn(format).as_ref(), name),
            "AWS::Region" => known(self.region.as_ref(), name),
            "AWS::AccountId" => known(self.account(), name),
            "AWS::Partition" => Pseudo::Value(Value::String(self.partition_value())),
            "AWS::URLSuffix" => Pseudo::Value(Value::String(self.url_suffix_value())),
            "AWS::NotificationARNs" => Pseudo::Value(Value::Array(
                self.notification_arns
                    .iter()
                    .map(|s| Value::String(s.clone()))
                    .collect(),
            )),
            "AWS::NoValue" => Pseudo::NoValue,
            _ => Pseudo::Absent,
        }
    }
}

/// Pseudo-parameters with no values, for the default context.
static NO_PSEUDO: PseudoParams = PseudoParams::new();

// ------------------------------------------------------------------------------------------
// Resources
// ------------------------------------------------------------------------------------------

/// Why a resource lookup gave no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// There is no resource of that name.
    UnknownResource,
    /// The resource has no attribute of that name.
    UnknownAttribute,
    /// The value cannot be had here (e.g. offline: nothing has been created); the message
    /// says why.
    Unavailable(String),
    /// The lookup failed; the message says why.
    Failed(String),
}

/// Gives resources' reference values and attributes (the engine, or a fixed table).
pub trait ResourceResolver {
    /// The reference value of a resource (`get_resource`, `Ref`): usually its physical id.
    /// `Ok(None)` means the resource exists but has no value yet.
    fn reference(&self, name: &str) -> Result<Option<Value>, LookupError>;

    /// One attribute of a resource, with the path into it (`get_attr: [r, a, k, 0]`); an
    /// implementation should apply the path with [`crate::eval::select_path`] (a path that
    /// does not fit gives `Ok(None)`, as in Heat). `Ok(None)` also means "not available yet".
    fn attribute(
        &self,
        name: &str,
        attribute: &str,
        path: &[Value],
    ) -> Result<Option<Value>, LookupError>;

    /// All attributes of a resource as one map (HOT 2015-10-15+ `get_attr: [r]`).
    fn all_attributes(&self, name: &str) -> Result<Option<Value>, LookupError>;
}

/// No resources: every lookup is "not available offline".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoResources;

impl ResourceResolver for NoResources {
    fn reference(&self, name: &str) -> Result<Option<Value>, LookupError> {
        Err(LookupError::Unavailable(format!(
            "the reference value of resource \"{name}\" is not available offline"
        )))
    }

    fn attribute(
        &self,
        name: &str,
        attribute: &str,
        _path: &[Value],
    ) -> Result<Option<Value>, LookupError> {
        Err(LookupError::Unavailable(format!(
            "attribute \"{attribute}\" of resource \"{name}\" is not available offline"
        )))
    }

    fn all_attributes(&self, name: &str) -> Result<Option<Value>, LookupError> {
        Err(LookupError::Unavailable(format!(
            "the attributes of resource \"{name}\" are not available offline"
        )))
    }
}

/// One resource of a [`StaticResources`] table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaticResource {
    /// The reference value (`None`: not available yet).
    pub reference: Option<Value>,
    /// The attributes by name.
    pub attributes: serde_json::Map<String, Value>,
}

/// A fixed table of resources (for previews, tests, or a stack already created).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaticResources {
    /// The resources by name.
    pub resources: BTreeMap<String, StaticResource>,
}

impl StaticResources {
    /// An empty table.
    pub fn new() -> StaticResources {
        StaticResources::default()
    }

    /// Adds a resource with a reference value and attributes (a JSON object; anything else
    /// means no attributes).
    #[must_use]
    pub fn with(
        mut self,
        name: impl Into<String>,
        reference: Option<Value>,
        attributes: Value,
    ) -> StaticResources {
        let attributes = match attributes {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        self.resources.insert(
            name.into(),
            StaticResource {
                reference,
                attributes,
            },
        );
        self
    }
}

impl ResourceResolver for StaticResources {
    fn reference(&self, name: &str) -> Result<Option<Value>, LookupError> {
        self.resources
            .get(name)
            .map(|r| r.reference.clone())
            .ok_or(LookupError::UnknownResource)
    }

    fn attribute(
        &self,
        name: &str,
        attribute: &str,
        path: &[Value],
    ) -> Result<Option<Value>, LookupError> {
        let r = self
            .resources
            .get(name)
            .ok_or(LookupError::UnknownResource)?;
        let v = r
            .attributes
            .get(attribute)
            .ok_or(LookupError::UnknownAttribute)?;
        Ok(crate::eval::select_path(v, path))
    }

    fn all_attributes(&self, name: &str) -> Result<Option<Value>, LookupError> {
        let r = self
            .resources
            .get(name)
            .ok_or(LookupError::UnknownResource)?;
        Ok(Some(Value::Object(r.attributes.clone())))
    }
}

// ------------------------------------------------------------------------------------------
// Conditions
// ------------------------------------------------------------------------------------------

/// Gives the value of named conditions.
pub trait ConditionLookup {
    /// The value of the named condition, or `None` when there is no condition of that name.
    /// `ctx` is the context the asking expression is evaluated in (a lazy implementation
    /// evaluates the condition's definition with it).
    fn condition(&self, name: &str, ctx: &EvalContext<'_>) -> Option<Result<bool, EvalError>>;
}

/// No conditions are defined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoConditions;

impl ConditionLookup for NoConditions {
    fn condition(&self, _name: &str, _ctx: &EvalContext<'_>) -> Option<Result<bool, EvalError>> {
        None
    }
}

impl ConditionLookup for BTreeMap<String, bool> {
    fn condition(&self, name: &str, _ctx: &EvalContext<'_>) -> Option<Result<bool, EvalError>> {
        self.get(name).copied().map(Ok)
    }
}

impl ConditionLookup for HashMap<String, bool> {
    fn condition(&self, name: &str, _ctx: &EvalContext<'_>) -> Option<Result<bool, EvalError>> {
        self.get(name).copied().map(Ok)
    }
}

// ------------------------------------------------------------------------------------------
// Exports (Fn::ImportValue)
// ------------------------------------------------------------------------------------------

/// Gives the values other stacks export (`Fn::ImportValue`).
pub trait ImportLookup {
    /// The exported value, `Ok(None)` when nothing is exported under that name, `Err` when
    /// exports cannot be looked up at all.
    fn import_value(&self, name: &str) -> Result<Option<Value>, String>;
}

/// No exports can be looked up (offline).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoImports;

impl ImportLookup for NoImports {
    fn import_value(&self, _name: &str) -> Result<Option<Value>, String> {
        Err("the exports of other stacks are not available offline".into())
    }
}

impl ImportLookup for BTreeMap<String, Value> {
    fn import_value(&self, name: &str) -> Result<Option<Value>, String> {
        Ok(self.get(name).cloned())
    }
}

// ------------------------------------------------------------------------------------------
// Parent resource (resource_facade)
// ------------------------------------------------------------------------------------------

/// What `resource_facade` / `Fn::ResourceFacade` asks of the parent resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FacadeAttribute {
    /// `metadata` / `Metadata`.
    Metadata,
    /// `deletion_policy` / `DeletionPolicy`.
    DeletionPolicy,
    /// `update_policy` / `UpdatePolicy`.
    UpdatePolicy,
}

/// The parent resource of a nested stack (the resource whose type is this template).
pub trait FacadeSource {
    /// The parent's metadata, deletion policy or update policy.
    fn facade(&self, attribute: FacadeAttribute) -> Result<Value, String>;
}

/// No parent resource (offline, or a top-level stack).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoFacade;

impl FacadeSource for NoFacade {
    fn facade(&self, _attribute: FacadeAttribute) -> Result<Value, String> {
        Err(
            "there is no parent resource: the template is not used as a nested stack \
             (not available offline)"
                .into(),
        )
    }
}

/// A parent resource given as values.
#[derive(Clone, Debug, PartialEq)]
pub struct ParentFacade {
    /// The parent's metadata (Heat: `{}` when it has none).
    pub metadata: Value,
    /// The parent's deletion policy (Heat: `Delete` when it has none).
    pub deletion_policy: Value,
    /// The parent's update policy (Heat: `{}` when it has none).
    pub update_policy: Value,
}

impl Default for ParentFacade {
    fn default() -> ParentFacade {
        ParentFacade {
            metadata: Value::Object(serde_json::Map::new()),
            deletion_policy: Value::String("Delete".into()),
            update_policy: Value::Object(serde_json::Map::new()),
        }
    }
}

impl FacadeSource for ParentFacade {
    fn facade(&self, attribute: FacadeAttribute) -> Result<Value, String> {
        Ok(match attribute {
            FacadeAttribute::Metadata => self.metadata.clone(),
            FacadeAttribute::DeletionPolicy => self.deletion_policy.clone(),
            FacadeAttribute::UpdatePolicy => self.update_policy.clone(),
        })
    }
}

// ------------------------------------------------------------------------------------------
// The context
// ------------------------------------------------------------------------------------------

/// Everything an evaluation may look at. Cheap to copy (it only borrows).
///
/// Build it with [`EvalContext::new`] (or [`EvalContext::for_template`]) and the `with_*`
/// methods; every source not given has an offline default.
#[derive(Clone, Copy)]
pub struct EvalContext<'a> {
    /// The template version: it decides the variant of several functions (`get_attr`,
    /// `list_join`, `str_replace`, `repeat`, `if`) and AWS-vs-Heat semantics (`Fn::Base64`,
    /// `Fn::Select`, `Fn::Join`, `Fn::Equals`).
    pub version: Version,
    /// Parameter values.
    pub parameters: &'a dyn ParameterSource,
    /// Pseudo-parameter values.
    pub pseudo: &'a PseudoParams,
    /// Resource references and attributes.
    pub resources: &'a dyn ResourceResolver,
    /// The `files` map for `get_file` (name → content); `None` when no files were given.
    pub files: Option<&'a BTreeMap<String, String>>,
    /// The template's mappings (`Fn::FindInMap`).
    pub mappings: &'a [Mapping],
    /// Condition values.
    pub conditions: &'a dyn ConditionLookup,
    /// Exports of other stacks (`Fn::ImportValue`).
    pub imports: &'a dyn ImportLookup,
    /// Availability zones for `Fn::GetAZs`; `None` when they are not known.
    pub availability_zones: Option<&'a [String]>,
    /// The parent resource, for `resource_facade` / `Fn::ResourceFacade`.
    pub facade: &'a dyn FacadeSource,
}

impl std::fmt::Debug for EvalContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalContext")
            .field("version", &self.version)
            .field("pseudo", &self.pseudo)
            .field("files", &self.files.map(|f| f.keys().collect::<Vec<_>>()))
            .field("mappings", &self.mappings.len())
            .field("availability_zones", &self.availability_zones)
            .finish_non_exhaustive()
    }
}

impl<'a> EvalContext<'a> {
    /// A context with only a version: no parameters, no pseudo-parameter values, no
    /// resources, no files, no mappings, no conditions, no exports, no zones, no parent.
    pub fn new(version: Version) -> EvalContext<'static> {
        EvalContext {
            version,
            parameters: &NoParameters,
            pseudo: &NO_PSEUDO,
            resources: &NoResources,
            files: None,
            mappings: &[],
            conditions: &NoConditions,
            imports: &NoImports,
            availability_zones: None,
            facade: &NoFacade,
        }
    }

    /// A context for a template: its version and mappings (conditions are not set: use
    /// [`crate::eval::TemplateConditions`] for them).
    pub fn for_template(template: &'a Template) -> EvalContext<'a> {
        EvalContext {
            mappings: &template.mappings,
            ..EvalContext::new(template.version)
        }
    }

    /// The template format.
    pub fn format(&self) -> Format {
        self.version.format()
    }

    /// With parameter values.
    #[must_use]
    pub fn with_parameters(self, parameters: &'a dyn ParameterSource) -> EvalContext<'a> {
        EvalContext { parameters, ..self }
    }

    /// With pseudo-parameter values.
    #[must_use]
    pub fn with_pseudo(self, pseudo: &'a PseudoParams) -> EvalContext<'a> {
        EvalContext { pseudo, ..self }
    }

    /// With a resource resolver.
    #[must_use]
    pub fn with_resources(self, resources: &'a dyn ResourceResolver) -> EvalContext<'a> {
        EvalContext { resources, ..self }
    }

    /// With a files map.
    #[must_use]
    pub fn with_files(self, files: &'a BTreeMap<String, String>) -> EvalContext<'a> {
        EvalContext {
            files: Some(files),
            ..self
        }
    }

    /// With mappings.
    #[must_use]
    pub fn with_mappings(self, mappings: &'a [Mapping]) -> EvalContext<'a> {
        EvalContext { mappings, ..self }
    }

    /// With condition values.
    #[must_use]
    pub fn with_conditions(self, conditions: &'a dyn ConditionLookup) -> EvalContext<'a> {
        EvalContext { conditions, ..self }
    }

    /// With an export lookup.
    #[must_use]
    pub fn with_imports(self, imports: &'a dyn ImportLookup) -> EvalContext<'a> {
        EvalContext { imports, ..self }
    }

    /// With availability zones.
    #[must_use]
    pub fn with_availability_zones(self, zones: &'a [String]) -> EvalContext<'a> {
        EvalContext {
            availability_zones: Some(zones),
            ..self
        }
    }

    /// With a parent resource.
    #[must_use]
    pub fn with_facade(self, facade: &'a dyn FacadeSource) -> EvalContext<'a> {
        EvalContext { facade, ..self }
    }
}
