//! Environment files: parameters, parameter_defaults, resource_registry, event_sinks,
//! encrypted_param_names, parameter_merge_strategies; parsed, validated, merged in order.
//! OWNER: parameters helper.
//!
//! # Semantics (Heat's)
//!
//! * An environment is a YAML (or JSON) map with at most the six sections above; an empty
//!   file is an empty environment; a section written with no value is an error.
//! * `resource_registry` maps resource types to implementations: another type (an alias; a key
//!   ending in `*` maps every type with that prefix, and a value ending in `*` receives the
//!   rest of the name), a template file (a value, or a key, ending in `.yaml` or `.template`),
//!   or `null` (removes an entry registered earlier in the same registry). The `resources`
//!   key holds per-resource settings keyed by resource name (a glob for hooks and restricted
//!   actions): type overrides for that resource only, `hooks` (`pre-create`, `pre-update`,
//!   `pre-delete`, `post-create`, `post-update`, `post-delete`, one or a list),
//!   `restricted_actions` (`update`, `replace`, one or a list), and maps for the resources of
//!   a nested stack.
//! * Type lookup ([`ResourceRegistry::resolve_type`]) follows Heat's order: a per-resource
//!   entry (exact resource name) first, then the top-level entries sorted by name (so a
//!   wildcard entry sorts before, and wins over, the exact types it covers), following alias
//!   chains until a type without an entry or a template; a chain that comes back to a type it
//!   has seen is reported as a loop instead of recursing.
//! * Merging several files ([`merge`], [`merge_with`]) is Heat's `merge_environments`:
//!   `parameters` and `parameter_defaults` merge per parameter with the strategy the files
//!   give (`overwrite` by default; `merge` concatenates strings, extends lists, updates JSON
//!   maps and adds numbers; `deep_merge` merges JSON maps recursively); a parameter keeps the
//!   strategy it first got, and a file that names a different one is an error. The other
//!   sections merge key by key at their top level: a later `resource_registry` entry replaces
//!   an earlier one with the same key — including the whole `resources` map — and a `null`
//!   entry in a later file is ignored (Heat skips null values when merging). `event_sinks` and
//!   `encrypted_param_names` are concatenated.

use crate::diagnostic::{Code, Diagnostic};
use crate::parameters::{Number, did_you_mean, parse_number};
use crate::span::{Span, Spanned};
use crate::template::load::{Limits, load};
use crate::template::model::ParameterType;
use crate::template::node::{Key, Node, Value};

/// The sections an environment may have.
pub const SECTIONS: &[&str] = &[
    "parameters",
    "resource_registry",
    "parameter_defaults",
    "encrypted_param_names",
    "event_sinks",
    "parameter_merge_strategies",
];

/// The event sink types heat knows.
pub const EVENT_SINK_TYPES: &[&str] = &["zaqar-queue"];

/// How an event sink is written.
const EVENT_SINK_HINT: &str =
    "write each sink as a list item: `- {type: zaqar-queue, target: my-queue, ttl: 3600}`";

/// How per-resource settings in `resource_registry: resources:` are written.
const RESOURCE_SETTINGS_HINT: &str = "write `resources: {my_server: {hooks: pre-create, \
     \"OS::Nova::Server\": server.yaml}}`: a map of resource names (or patterns) to their \
     settings";

/// A parsed (or merged) environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Environment {
    /// The files this environment came from, in merge order.
    pub files: Vec<String>,
    /// `parameters`: values for the template's parameters.
    pub parameters: Vec<EnvParameter>,
    /// `parameter_defaults`: defaults for the template's and nested templates' parameters.
    pub parameter_defaults: Vec<EnvParameter>,
    /// `resource_registry`.
    pub resource_registry: ResourceRegistry,
    /// `event_sinks`.
    pub event_sinks: Vec<EventSink>,
    /// `encrypted_param_names` (managed by the engine).
    pub encrypted_param_names: Vec<Spanned<String>>,
    /// `parameter_merge_strategies`.
    pub parameter_merge_strategies: MergeStrategies,
}

/// One entry of `parameters` or `parameter_defaults`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvParameter {
    /// The parameter's name.
    pub name: Spanned<String>,
    /// The value as written (any shape; converted when bound).
    pub value: Node,
    /// The file it came from.
    pub file: Option<String>,
}

/// How values of one parameter from several environment files combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MergeStrategy {
    /// The later value replaces the earlier one (the default).
    Overwrite,
    /// Strings are concatenated, lists extended, JSON maps updated, numbers added.
    Merge,
    /// Like `merge`, but JSON maps are merged recursively.
    DeepMerge,
}

impl MergeStrategy {
    /// Every strategy.
    pub const ALL: &'static [MergeStrategy] = &[
        MergeStrategy::Overwrite,
        MergeStrategy::Merge,
        MergeStrategy::DeepMerge,
    ];

    /// The name as written in environments.
    pub fn name(self) -> &'static str {
        match self {
            MergeStrategy::Overwrite => "overwrite",
            MergeStrategy::Merge => "merge",
            MergeStrategy::DeepMerge => "deep_merge",
        }
    }

    /// The strategy with this name.
    pub fn from_name(name: &str) -> Option<MergeStrategy> {
        MergeStrategy::ALL
            .iter()
            .copied()
            .find(|s| s.name() == name)
    }
}

/// `parameter_merge_strategies`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MergeStrategies {
    /// The `default` entry: the strategy of parameters not named.
    pub default: Option<MergeStrategy>,
    /// Strategies per parameter.
    pub per_parameter: Vec<(Spanned<String>, MergeStrategy)>,
}

impl MergeStrategies {
    /// The strategy written for one parameter (not the default).
    pub fn get(&self, name: &str) -> Option<(MergeStrategy, Span)> {
        self.per_parameter
            .iter()
            .rev()
            .find(|(n, _)| n.value == name)
            .map(|(n, s)| (*s, n.span))
    }
}

/// A stack-operation hook that pauses heat at a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    /// `pre-create`.
    PreCreate,
    /// `pre-update`.
    PreUpdate,
    /// `pre-delete`.
    PreDelete,
    /// `post-create`.
    PostCreate,
    /// `post-update`.
    PostUpdate,
    /// `post-delete`.
    PostDelete,
}

impl Hook {
    /// Every hook.
    pub const ALL: &'static [Hook] = &[
        Hook::PreCreate,
        Hook::PreUpdate,
        Hook::PreDelete,
        Hook::PostCreate,
        Hook::PostUpdate,
        Hook::PostDelete,
    ];

    /// The name as written (`pre-create`).
    pub fn name(self) -> &'static str {
        match self {
            Hook::PreCreate => "pre-create",
            Hook::PreUpdate => "pre-update",
            Hook::PreDelete => "pre-delete",
            Hook::PostCreate => "post-create",
            Hook::PostUpdate => "post-update",
            Hook::PostDelete => "post-delete",
        }
    }

    /// The hook with this name.
    pub fn from_name(name: &str) -> Option<Hook> {
        Hook::ALL.iter().copied().find(|h| h.name() == name)
    }
}

/// An action that may be forbidden for a resource during stack updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RestrictedAction {
    /// `update`: the resource may not be updated in place.
    Update,
    /// `replace`: the resource may not be replaced.
    Replace,
}

impl RestrictedAction {
    /// Every restricted action.
    pub const ALL: &'static [RestrictedAction] =
        &[RestrictedAction::Update, RestrictedAction::Replace];

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            RestrictedAction::Update => "update",
            RestrictedAction::Replace => "replace",
        }
    }

    /// The action with this name.
    pub fn from_name(name: &str) -> Option<RestrictedAction> {
        RestrictedAction::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name)
    }
}

/// What a registry entry maps a type to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryTarget {
    /// Another resource type (for a wildcard key, a value ending in `*` receives the rest of
    /// the name).
    Alias(String),
    /// A template file or URL (a template resource).
    Template(String),
    /// `null`: removes an entry registered earlier in the same registry.
    Remove,
}

/// One `type: implementation` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryEntry {
    /// The type (or type pattern ending in `*`) being mapped.
    pub name: Spanned<String>,
    /// What it maps to.
    pub target: RegistryTarget,
    /// Where the value was written.
    pub value_span: Span,
    /// The file it came from.
    pub file: Option<String>,
}

impl RegistryEntry {
    /// Whether the key is a wildcard (`OS::Quantum*`).
    pub fn is_glob(&self) -> bool {
        self.name.value.ends_with('*')
    }
}

/// Per-resource settings under `resource_registry: resources: <name-glob>:`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceOverride {
    /// The resource name (a glob for hooks and restricted actions).
    pub pattern: Spanned<String>,
    /// Type overrides for this resource only.
    pub types: Vec<RegistryEntry>,
    /// Hooks set on the resource.
    pub hooks: Vec<Spanned<Hook>>,
    /// Restricted actions.
    pub restricted_actions: Vec<Spanned<RestrictedAction>>,
    /// Settings for the resources of the nested stack this resource creates.
    pub nested: Vec<ResourceOverride>,
    /// The file it came from.
    pub file: Option<String>,
}

/// `resource_registry`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceRegistry {
    /// Top-level type mappings, in order.
    pub entries: Vec<RegistryEntry>,
    /// The `resources` section, in order.
    pub resources: Vec<ResourceOverride>,
}

/// The result of looking a resource type up in a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolvedType {
    /// A type with no (further) registry entry: a built-in or plug-in type such as
    /// `OS::Nova::Server` or `OS::Heat::None`. `via` lists the types mapped on the way.
    Type {
        /// The final type.
        name: String,
        /// The types that were mapped to reach it, first the one asked for.
        via: Vec<String>,
    },
    /// A template resource.
    Template {
        /// The template file or URL.
        file: String,
        /// The types that were mapped to reach it, first the one asked for.
        via: Vec<String>,
    },
    /// The aliases form a loop (or a chain longer than [`MAX_ALIAS_STEPS`]).
    Loop {
        /// The types in the order they were visited, the repeated one last.
        chain: Vec<String>,
    },
}

impl ResolvedType {
    /// Whether the resource is disabled (resolved to `OS::Heat::None`).
    pub fn is_none_type(&self) -> bool {
        matches!(self, ResolvedType::Type { name, .. } if name == "OS::Heat::None")
    }
}

/// The longest alias chain [`ResourceRegistry::resolve_type`] follows.
pub const MAX_ALIAS_STEPS: usize = 64;

fn is_template_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".template")
}

impl ResourceRegistry {
    /// Resolves the implementation of a resource type, optionally for one named resource.
    pub fn resolve_type(&self, resource_name: Option<&str>, type_name: &str) -> ResolvedType {
        let mut via: Vec<String> = Vec::new();
        let mut current = type_name.to_string();
        loop {
            if via.contains(&current) || via.len() >= MAX_ALIAS_STEPS {
                via.push(current);
                return ResolvedType::Loop { chain: via };
            }
            if is_template_name(&current) {
                return ResolvedType::Template { file: current, via };
            }
            let Some(entry) = self.lookup(resource_name, &current) else {
                return ResolvedType::Type { name: current, via };
            };
            let next = match &entry.target {
                RegistryTarget::Template(file) => {
                    via.push(current);
                    return ResolvedType::Template {
                        file: file.clone(),
                        via,
                    };
                }
                RegistryTarget::Alias(target) => {
                    if entry.is_glob() {
                        let name = &entry.name.value;
                        let prefix = name.strip_suffix('*').unwrap_or(name);
                        match target.strip_suffix('*') {
                            Some(t) => format!("{t}{}", current.get(prefix.len()..).unwrap_or("")),
                            None => target.clone(),
                        }
                    } else {
                        target.clone()
                    }
                }
                RegistryTarget::Remove => return ResolvedType::Type { name: current, via },
            };
            via.push(current);
            current = next;
        }
    }

    /// The entry Heat would pick for one type (before following it).
    fn lookup(&self, resource_name: Option<&str>, type_name: &str) -> Option<&RegistryEntry> {
        if let Some(name) = resource_name {
            // Heat looks the resource up by its exact name for type overrides.
            let found = self
                .resources
                .iter()
                .rev()
                .filter(|r| r.pattern.value == name)
                .flat_map(|r| r.types.iter().rev())
                .find(|e| e.name.value == type_name && e.target != RegistryTarget::Remove);
            if found.is_some() {
                return found;
            }
        }
        let mut candidates: Vec<&RegistryEntry> = Vec::new();
        for entry in &self.entries {
            if entry.target == RegistryTarget::Remove {
                continue;
            }
            let matches = if entry.is_glob() {
                let prefix = &entry.name.value[..entry.name.value.len() - 1];
                let same = matches!(&entry.target, RegistryTarget::Alias(t) if t == type_name);
                type_name.starts_with(prefix) && !same
            } else {
                entry.name.value == type_name
            };
            if matches {
                // A later entry with the same key replaced an earlier one.
                candidates.retain(|c| c.name.value != entry.name.value);
                candidates.push(entry);
            }
        }
        candidates
            .into_iter()
            .min_by(|a, b| a.name.value.cmp(&b.name.value))
    }

    /// The hooks set on a resource (every `resources` pattern that matches its name).
    pub fn hooks_for(&self, resource_name: &str) -> Vec<Hook> {
        let mut out: Vec<Hook> = self
            .resources
            .iter()
            .filter(|r| glob_match(&r.pattern.value, resource_name))
            .flat_map(|r| r.hooks.iter().map(|h| h.value))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether a resource has a hook.
    pub fn has_hook(&self, resource_name: &str, hook: Hook) -> bool {
        self.hooks_for(resource_name).contains(&hook)
    }

    /// The restricted actions of a resource.
    pub fn restricted_actions_for(&self, resource_name: &str) -> Vec<RestrictedAction> {
        let mut out: Vec<RestrictedAction> = self
            .resources
            .iter()
            .filter(|r| glob_match(&r.pattern.value, resource_name))
            .flat_map(|r| r.restricted_actions.iter().map(|a| a.value))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The `resources` settings that apply inside the nested stack of a resource (Heat gives
    /// a nested stack the nested maps of every pattern matching its resource's name).
    pub fn nested_resources_for(&self, resource_name: &str) -> Vec<&ResourceOverride> {
        self.resources
            .iter()
            .filter(|r| glob_match(&r.pattern.value, resource_name))
            .flat_map(|r| r.nested.iter())
            .collect()
    }
}

/// Shell-style matching as Python's `fnmatchcase` (re-exported from [`crate::names`]).
pub use crate::names::glob_match;

/// One entry of `event_sinks`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventSink {
    /// `type` (`zaqar-queue`).
    pub ty: Spanned<String>,
    /// `target`: the queue name.
    pub target: Option<Spanned<String>>,
    /// `ttl`: how long events stay in the queue, in seconds.
    pub ttl: Option<i64>,
    /// Where the entry was written.
    pub span: Span,
    /// The file it came from.
    pub file: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

struct EnvParser<'a> {
    file: Option<&'a str>,
    diags: Vec<Diagnostic>,
}

impl EnvParser<'_> {
    fn push(&mut self, d: Diagnostic) {
        let d = match self.file {
            Some(f) => d.in_file(f),
            None => d,
        };
        self.diags.push(d);
    }

    fn error(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(Diagnostic::error(code, span, message).with_hint(hint));
    }

    fn file(&self) -> Option<String> {
        self.file.map(str::to_string)
    }
}

impl Environment {
    /// Parses an environment file. `name` is the file name diagnostics and entries carry.
    pub fn parse(name: &str, text: &str, limits: &Limits) -> (Environment, Vec<Diagnostic>) {
        let loaded = load(text, limits);
        let mut diags: Vec<Diagnostic> = loaded
            .diagnostics
            .into_iter()
            // An empty environment file is an empty environment.
            .filter(|d| d.code != Code::EmptyDocument)
            .map(|d| if d.file.is_none() { d.in_file(name) } else { d })
            .collect();
        for dup in &loaded.duplicate_keys {
            diags.push(
                Diagnostic::warning(
                    Code::DuplicateKeyWarning,
                    dup.duplicate,
                    format!("key '{}' is written twice; the last one is used", dup.name),
                )
                .with_hint(format!(
                    "the first one is at line {}, column {}",
                    dup.first.start.line, dup.first.start.col
                ))
                .in_file(name),
            );
        }
        let env = match &loaded.root {
            Some(root) => {
                let (mut env, more) = Environment::from_node(root, Some(name));
                diags.extend(more);
                env.files = vec![name.to_string()];
                env
            }
            None => Environment {
                files: vec![name.to_string()],
                ..Environment::default()
            },
        };
        // Source order; positionless ones last. Stable: one position keeps finding order.
        diags.sort_by_key(|d| (!d.span.is_known(), d.span.start));
        (env, diags)
    }

    /// Builds an environment from a loaded document.
    pub fn from_node(root: &Node, file: Option<&str>) -> (Environment, Vec<Diagnostic>) {
        let mut p = EnvParser {
            file,
            diags: Vec::new(),
        };
        let mut env = Environment {
            files: file.map(|f| vec![f.to_string()]).unwrap_or_default(),
            ..Environment::default()
        };
        if root.is_null() {
            return (env, p.diags);
        }
        let Some(entries) = root.as_map() else {
            p.error(
                Code::BadEnvironment,
                root.span,
                format!(
                    "The environment is not a valid YAML mapping data type: found {}.",
                    root.kind_name()
                ),
                format!(
                    "an environment is a map of sections ({}), e.g. `parameters: {{flavor: \
                     m1.small}}`",
                    SECTIONS.join(", ")
                ),
            );
            return (env, p.diags);
        };
        for (key, value) in entries {
            let section = key.name.as_str();
            if !SECTIONS.contains(&section) {
                let mut d = Diagnostic::error(
                    Code::UnknownEnvironmentSection,
                    key.span,
                    format!("environment has unknown section '{section}'"),
                );
                d = match did_you_mean(section, SECTIONS.iter().copied()) {
                    Some(s) => d.with_hint(format!("did you mean '{s}'?")),
                    None => d.with_hint(format!("the sections are: {}", SECTIONS.join(", "))),
                };
                p.push(d);
                continue;
            }
            if value.is_null() {
                p.error(
                    Code::BadEnvironment,
                    key.span,
                    format!("environment has empty section '{section}'"),
                    format!("write the section's entries below `{section}:`, or remove the key"),
                );
                continue;
            }
            match section {
                "parameters" => env.parameters.extend(parse_params(&mut p, key, value)),
                "parameter_defaults" => env
                    .parameter_defaults
                    .extend(parse_params(&mut p, key, value)),
                "resource_registry" => parse_registry(&mut p, value, &mut env.resource_registry),
                "encrypted_param_names" => {
                    env.encrypted_param_names
                        .extend(parse_string_list(&mut p, key, value));
                }
                "event_sinks" => env.event_sinks.extend(parse_event_sinks(&mut p, value)),
                "parameter_merge_strategies" => {
                    env.parameter_merge_strategies = parse_strategies(&mut p, value);
                }
                _ => {}
            }
        }
        (env, p.diags)
    }

    /// The value the environment's `parameters` give a parameter (the last one written).
    pub fn parameter(&self, name: &str) -> Option<&EnvParameter> {
        self.parameters.iter().rev().find(|p| p.name.value == name)
    }

    /// The value the environment's `parameter_defaults` give a parameter.
    pub fn parameter_default(&self, name: &str) -> Option<&EnvParameter> {
        self.parameter_defaults
            .iter()
            .rev()
            .find(|p| p.name.value == name)
    }

    /// Resolves a resource type through the registry (see [`ResourceRegistry::resolve_type`]).
    pub fn resolve_type(&self, resource_name: Option<&str>, type_name: &str) -> ResolvedType {
        self.resource_registry
            .resolve_type(resource_name, type_name)
    }
}

fn parse_params(p: &mut EnvParser<'_>, key: &Key, value: &Node) -> Vec<EnvParameter> {
    let Some(entries) = value.as_map() else {
        p.error(
            Code::BadEnvironment,
            value.span,
            format!(
                "environment section '{}' must be a map of parameter names to values, found {}",
                key.name,
                value.kind_name()
            ),
            format!(
                "write one `name: value` line per parameter below `{}:`{}",
                key.name,
                if matches!(value.value, Value::Seq(_)) {
                    ", without a leading `- `"
                } else {
                    ""
                }
            ),
        );
        return Vec::new();
    };
    entries
        .iter()
        .map(|(k, v)| EnvParameter {
            name: Spanned::new(k.name.clone(), k.span),
            value: v.clone(),
            file: p.file(),
        })
        .collect()
}

fn parse_string_list(p: &mut EnvParser<'_>, key: &Key, value: &Node) -> Vec<Spanned<String>> {
    let Some(items) = value.as_seq() else {
        p.error(
            Code::BadEnvironment,
            value.span,
            format!(
                "environment section '{}' must be a list, found {}",
                key.name,
                value.kind_name()
            ),
            format!(
                "list the parameter names: `{}: [db_password, api_key]`",
                key.name
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str() {
            Some(s) => out.push(Spanned::new(s.to_string(), item.span)),
            None => p.error(
                Code::BadEnvironment,
                item.span,
                format!(
                    "'{}' must list parameter names, found {}",
                    key.name,
                    item.kind_name()
                ),
                "write each item as a parameter name (a plain string)",
            ),
        }
    }
    out
}

fn parse_strategies(p: &mut EnvParser<'_>, value: &Node) -> MergeStrategies {
    let mut out = MergeStrategies::default();
    let Some(entries) = value.as_map() else {
        p.error(
            Code::BadEnvironment,
            value.span,
            format!(
                "parameter_merge_strategies must be a map of parameter names to strategies, found {}",
                value.kind_name()
            ),
            "write `parameter_merge_strategies: {default: overwrite, my_param: merge}` (the \
             strategies are overwrite, merge, deep_merge)",
        );
        return out;
    };
    let names: Vec<&str> = MergeStrategy::ALL.iter().map(|s| s.name()).collect();
    for (k, v) in entries {
        let Some(strategy) = v.as_str().and_then(MergeStrategy::from_name) else {
            let shown = v
                .as_str()
                .map_or_else(|| v.kind_name().to_string(), |s| format!("'{s}'"));
            let mut d = Diagnostic::warning(
                Code::IgnoredEnvironmentEntry,
                v.span,
                format!(
                    "unknown merge strategy {shown} for '{}'; Heat uses the file's default instead",
                    k.name
                ),
            );
            d = match v
                .as_str()
                .and_then(|s| did_you_mean(s, names.iter().copied()))
            {
                Some(s) => d.with_hint(format!("did you mean '{s}'?")),
                None => d.with_hint("the strategies are: overwrite, merge, deep_merge"),
            };
            p.push(d);
            continue;
        };
        if k.name == "default" {
            out.default = Some(strategy);
        } else {
            out.per_parameter
                .push((Spanned::new(k.name.clone(), k.span), strategy));
        }
    }
    out
}

fn parse_event_sinks(p: &mut EnvParser<'_>, value: &Node) -> Vec<EventSink> {
    let Some(items) = value.as_seq() else {
        p.error(
            Code::BadEnvironment,
            value.span,
            format!(
                "event_sinks must be a list of maps, found {}",
                value.kind_name()
            ),
            EVENT_SINK_HINT,
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(entries) = item.as_map() else {
            p.error(
                Code::BadEnvironment,
                item.span,
                format!(
                    "an event sink must be a map with a type, found {}",
                    item.kind_name()
                ),
                EVENT_SINK_HINT,
            );
            continue;
        };
        let ty = match item.get("type") {
            Some(t) => match t.as_str() {
                Some(s) if EVENT_SINK_TYPES.contains(&s) => Spanned::new(s.to_string(), t.span),
                Some(s) => {
                    p.push(
                        Diagnostic::error(
                            Code::BadEnvironment,
                            t.span,
                            format!("unknown event sink type '{s}'"),
                        )
                        .with_hint(format!(
                            "the known types are: {}",
                            EVENT_SINK_TYPES.join(", ")
                        )),
                    );
                    continue;
                }
                None => {
                    p.error(
                        Code::BadEnvironment,
                        t.span,
                        format!(
                            "an event sink's type must be a string, found {}",
                            t.kind_name()
                        ),
                        format!("the known types are: {}", EVENT_SINK_TYPES.join(", ")),
                    );
                    continue;
                }
            },
            None => {
                p.error(
                    Code::BadEnvironment,
                    item.span,
                    "an event sink has no type",
                    EVENT_SINK_HINT,
                );
                continue;
            }
        };
        let mut sink = EventSink {
            ty,
            target: None,
            ttl: None,
            span: item.span,
            file: p.file(),
        };
        for (k, v) in entries {
            match k.name.as_str() {
                "type" => {}
                "target" => match v.as_str() {
                    Some(s) => sink.target = Some(Spanned::new(s.to_string(), v.span)),
                    None => p.error(
                        Code::BadEnvironment,
                        v.span,
                        format!(
                            "an event sink's target must be a string, found {}",
                            v.kind_name()
                        ),
                        "write the name of the queue as a string, e.g. `target: my-queue`",
                    ),
                },
                "ttl" => {
                    let ttl = match &v.value {
                        Value::Int(i) => Some(*i),
                        Value::String(s) => match parse_number(s) {
                            Some(Number::Int(i)) => Some(i),
                            _ => None,
                        },
                        _ => None,
                    };
                    match ttl {
                        Some(t) => sink.ttl = Some(t),
                        None => p.error(
                            Code::BadEnvironment,
                            v.span,
                            format!(
                                "an event sink's ttl must be an integer, found {}",
                                v.kind_name()
                            ),
                            "write the time to live in seconds as a whole number, e.g. `ttl: \
                             3600`",
                        ),
                    }
                }
                other => p.error(
                    Code::BadEnvironment,
                    k.span,
                    format!(
                        "unknown key '{other}' in an event sink of type {}",
                        sink.ty.value
                    ),
                    did_you_mean(other, ["type", "target", "ttl"])
                        .map(|s| format!("did you mean '{s}'?"))
                        .unwrap_or_else(|| {
                            "remove it: an event sink has the keys type, target and ttl".to_string()
                        }),
                ),
            }
        }
        if sink.target.is_none() {
            p.error(
                Code::BadEnvironment,
                item.span,
                format!("an event sink of type {} needs a target", sink.ty.value),
                "add the queue to send events to, e.g. `target: my-queue`",
            );
            continue;
        }
        out.push(sink);
    }
    out
}

/// Parses the value of a `type: implementation` entry.
fn registry_entry(p: &mut EnvParser<'_>, key: &Key, value: &Node) -> Option<RegistryEntry> {
    let name = key.name.as_str();
    if name.is_empty() {
        p.error(
            Code::BadResourceRegistry,
            key.span,
            "resource_registry has an empty type name",
            "write the resource type to map before the ':', e.g. `\"My::Server\": \
             server.yaml`",
        );
        return None;
    }
    let target = match &value.value {
        Value::Null => RegistryTarget::Remove,
        _ if is_template_name(name) => RegistryTarget::Template(name.to_string()),
        Value::String(s) if is_template_name(s) => RegistryTarget::Template(s.clone()),
        Value::String(s) if s.is_empty() => {
            p.error(
                Code::BadResourceRegistry,
                value.span,
                format!("resource_registry maps '{name}' to an empty name"),
                format!(
                    "write the type or template file it stands for (`{name}: OS::Nova::Server` \
                     or `{name}: server.yaml`), or `{name}: null` to remove a mapping"
                ),
            );
            return None;
        }
        Value::String(s) => {
            let looks_like_file = s.contains('/')
                || [".yml", ".json", ".hot", ".txt"]
                    .iter()
                    .any(|e| s.ends_with(e));
            if looks_like_file {
                p.push(
                    Diagnostic::warning(
                        Code::IgnoredEnvironmentEntry,
                        value.span,
                        format!(
                            "'{s}' looks like a file, but only names ending in .yaml or .template \
                             are template resources; Heat takes it as a resource type name"
                        ),
                    )
                    .with_hint("rename the template to end in .yaml or .template"),
                );
            }
            RegistryTarget::Alias(s.clone())
        }
        _ => {
            p.error(
                Code::BadResourceRegistry,
                value.span,
                format!(
                    "resource_registry entry '{name}' must map to a resource type or a template \
                     file, found {}",
                    value.kind_name()
                ),
                format!(
                    "write a resource type or a template file name (`{name}: OS::Nova::Server` \
                     or `{name}: server.yaml`)"
                ),
            );
            return None;
        }
    };
    if name.contains('*') && !name.ends_with('*') {
        p.push(
            Diagnostic::warning(
                Code::IgnoredEnvironmentEntry,
                key.span,
                format!("'{name}' has a '*' that is not at the end; it matches no type"),
            )
            .with_hint(
                "a wildcard matches by prefix only: put the '*' last (e.g. `\"OS::Nova::*\"`), \
                 or write one entry per type",
            ),
        );
    }
    Some(RegistryEntry {
        name: Spanned::new(name.to_string(), key.span),
        target,
        value_span: value.span,
        file: p.file(),
    })
}

/// Adds an entry to a list of entries as Heat's registry does: a `null` removes earlier
/// entries (all with the prefix, for a wildcard) and is kept; a repeated key replaces.
fn add_entry(entries: &mut Vec<RegistryEntry>, entry: RegistryEntry) {
    if entry.target == RegistryTarget::Remove {
        let name = entry.name.value.clone();
        match name.strip_suffix('*') {
            Some(prefix) => entries.retain(|e| !e.name.value.starts_with(prefix)),
            None => entries.retain(|e| e.name.value != name),
        }
    } else {
        entries.retain(|e| e.name.value != entry.name.value);
    }
    entries.push(entry);
}

fn parse_list_of<T: Copy>(
    p: &mut EnvParser<'_>,
    key: &Key,
    value: &Node,
    from_name: fn(&str) -> Option<T>,
    names: &[&str],
    what: &str,
) -> Vec<Spanned<T>> {
    let items: Vec<&Node> = match &value.value {
        Value::String(_) => vec![value],
        Value::Seq(items) => items.iter().collect(),
        _ => {
            p.error(
                Code::BadResourceRegistry,
                value.span,
                format!(
                    "'{}' must be a {what} name or a list of them, found {}",
                    key.name,
                    value.kind_name()
                ),
                format!(
                    "write one of {} or a list of them, e.g. `{}: [{}]`",
                    names.join(", "),
                    key.name,
                    names.first().copied().unwrap_or_default()
                ),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str().and_then(from_name) {
            Some(v) => out.push(Spanned::new(v, item.span)),
            None => {
                let shown = item
                    .as_str()
                    .map_or_else(|| item.kind_name().to_string(), |s| format!("\"{s}\""));
                let mut d = Diagnostic::error(
                    Code::BadResourceRegistry,
                    item.span,
                    format!(
                        "Invalid {what} type {shown}, acceptable {what} types are: {}",
                        names.join(", ")
                    ),
                );
                d = match item
                    .as_str()
                    .and_then(|s| did_you_mean(s, names.iter().copied()))
                {
                    Some(s) => d.with_hint(format!("did you mean '{s}'?")),
                    None => d.with_hint(format!(
                        "use {}; a list may hold several",
                        names.join(" or ")
                    )),
                };
                p.push(d);
            }
        }
    }
    out
}

fn parse_hooks(p: &mut EnvParser<'_>, key: &Key, value: &Node) -> Vec<Spanned<Hook>> {
    let names: Vec<&str> = Hook::ALL.iter().map(|h| h.name()).collect();
    parse_list_of(p, key, value, Hook::from_name, &names, "hook")
}

fn parse_restricted(
    p: &mut EnvParser<'_>,
    key: &Key,
    value: &Node,
) -> Vec<Spanned<RestrictedAction>> {
    let names: Vec<&str> = RestrictedAction::ALL.iter().map(|a| a.name()).collect();
    parse_list_of(
        p,
        key,
        value,
        RestrictedAction::from_name,
        &names,
        "restricted_action",
    )
}

fn parse_registry(p: &mut EnvParser<'_>, value: &Node, registry: &mut ResourceRegistry) {
    let Some(entries) = value.as_map() else {
        p.error(
            Code::BadResourceRegistry,
            value.span,
            format!(
                "resource_registry must be a map, found {}",
                value.kind_name()
            ),
            "write one `\"Type::Name\": implementation` line per entry below `resource_registry:` \
             (and per-resource settings under `resources:`)",
        );
        return;
    };
    for (k, v) in entries {
        match k.name.as_str() {
            "resources" => {
                let Some(items) = v.as_map() else {
                    if !v.is_null() {
                        p.error(
                            Code::BadResourceRegistry,
                            v.span,
                            format!(
                                "resource_registry's resources must be a map of resource names to \
                                 settings, found {}",
                                v.kind_name()
                            ),
                            RESOURCE_SETTINGS_HINT,
                        );
                    }
                    continue;
                };
                registry.resources = items
                    .iter()
                    .filter_map(|(name, settings)| parse_override(p, name, settings))
                    .collect();
            }
            "hooks" | "restricted_actions" => {
                if k.name == "hooks" {
                    parse_hooks(p, k, v);
                } else {
                    parse_restricted(p, k, v);
                }
                p.push(
                    Diagnostic::warning(
                        Code::IgnoredEnvironmentEntry,
                        k.span,
                        format!("'{}' has no effect at the top of resource_registry", k.name),
                    )
                    .with_hint(format!(
                        "put it under resources: <resource name>: {}: ...",
                        k.name
                    )),
                );
            }
            _ => {
                if v.as_map().is_some() {
                    p.push(
                        Diagnostic::error(
                            Code::BadResourceRegistry,
                            v.span,
                            format!(
                                "resource_registry entry '{}' must map to a resource type or a \
                                 template file, found a map",
                                k.name
                            ),
                        )
                        .with_hint("per-resource settings go under resources: <resource name>:"),
                    );
                    continue;
                }
                if let Some(entry) = registry_entry(p, k, v) {
                    add_entry(&mut registry.entries, entry);
                }
            }
        }
    }
}

fn parse_override(p: &mut EnvParser<'_>, name: &Key, settings: &Node) -> Option<ResourceOverride> {
    let Some(entries) = settings.as_map() else {
        p.error(
            Code::BadResourceRegistry,
            settings.span,
            format!(
                "the settings of resource '{}' must be a map (types, hooks, restricted_actions), \
                 found {}",
                name.name,
                settings.kind_name()
            ),
            RESOURCE_SETTINGS_HINT,
        );
        return None;
    };
    let mut out = ResourceOverride {
        pattern: Spanned::new(name.name.clone(), name.span),
        types: Vec::new(),
        hooks: Vec::new(),
        restricted_actions: Vec::new(),
        nested: Vec::new(),
        file: p.file(),
    };
    for (k, v) in entries {
        match k.name.as_str() {
            "hooks" => out.hooks.extend(parse_hooks(p, k, v)),
            "restricted_actions" => out.restricted_actions.extend(parse_restricted(p, k, v)),
            _ if v.as_map().is_some() => {
                if let Some(nested) = parse_override(p, k, v) {
                    out.nested.push(nested);
                }
            }
            _ => {
                if let Some(entry) = registry_entry(p, k, v) {
                    add_entry(&mut out.types, entry);
                }
            }
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Merging
// ---------------------------------------------------------------------------------------------

/// Merges environments in order (later files win), without knowing the parameters' types: the
/// `merge` strategies infer the kind of value from its shape. Problems are dropped; use
/// [`merge_with`] to get them.
pub fn merge(envs: impl IntoIterator<Item = Environment>) -> Environment {
    merge_with(envs, |_| None).0
}

/// Merges environments in order, as Heat's `merge_environments` does. `param_type` gives the
/// type of a parameter when known (the template's, or a nested template's); unknown ones are
/// merged by the shape of their values.
///
/// Diagnostics ([`Code::BadEnvironment`]): a parameter whose strategy differs from the one an
/// earlier file gave it; a `merge` of values that cannot merge (booleans, a map with a string).
/// [`Code::IgnoredEnvironmentEntry`]: a `null` registry entry in a later file.
pub fn merge_with(
    envs: impl IntoIterator<Item = Environment>,
    param_type: impl Fn(&str) -> Option<ParameterType>,
) -> (Environment, Vec<Diagnostic>) {
    let mut out = Environment::default();
    let mut diags = Vec::new();
    // The strategy each parameter got first (Heat's `available_strategies`).
    let mut fixed: Vec<(String, MergeStrategy, Option<String>)> = Vec::new();

    for env in envs {
        let file = env.files.last().cloned();
        let strategies = &env.parameter_merge_strategies;
        for (section, target) in [
            (&env.parameters, &mut out.parameters),
            (&env.parameter_defaults, &mut out.parameter_defaults),
        ] {
            merge_params(
                section,
                target,
                strategies,
                &mut fixed,
                &file,
                &param_type,
                &mut diags,
            );
        }
        merge_registry(
            &mut out.resource_registry,
            env.resource_registry,
            &mut diags,
        );
        out.event_sinks.extend(env.event_sinks);
        for name in env.encrypted_param_names {
            if !out
                .encrypted_param_names
                .iter()
                .any(|n| n.value == name.value)
            {
                out.encrypted_param_names.push(name);
            }
        }
        out.files.extend(env.files);
    }
    out.parameter_merge_strategies = MergeStrategies {
        default: None,
        per_parameter: fixed
            .into_iter()
            .filter(|(_, s, _)| *s != MergeStrategy::Overwrite)
            .map(|(n, s, _)| (Spanned::new(n, Span::default()), s))
            .collect(),
    };
    (out, diags)
}

fn with_file(d: Diagnostic, file: &Option<String>) -> Diagnostic {
    match file {
        Some(f) => d.in_file(f.clone()),
        None => d,
    }
}

#[allow(clippy::too_many_arguments)]
fn merge_params(
    new: &[EnvParameter],
    old: &mut Vec<EnvParameter>,
    strategies: &MergeStrategies,
    fixed: &mut Vec<(String, MergeStrategy, Option<String>)>,
    file: &Option<String>,
    param_type: &impl Fn(&str) -> Option<ParameterType>,
    diags: &mut Vec<Diagnostic>,
) {
    for entry in new {
        if entry.value.is_null() {
            continue; // Heat skips null values
        }
        let name = entry.name.value.as_str();
        let written = strategies.get(name);
        let previous = fixed
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, f)| (*s, f.clone()));
        let strategy = match (written, &previous) {
            (Some((s, _)), _) => s,
            (None, Some((s, _))) => *s,
            (None, None) => strategies.default.unwrap_or(MergeStrategy::Overwrite),
        };
        match previous {
            None => fixed.push((name.to_string(), strategy, file.clone())),
            Some((prev, prev_file)) if prev != strategy => {
                let span = written.map_or(entry.name.span, |(_, s)| s);
                let mut d = Diagnostic::error(
                    Code::BadEnvironment,
                    span,
                    format!(
                        "Conflicting merge strategy '{}' for parameter '{name}' in file '{}'.",
                        strategy.name(),
                        file.as_deref().unwrap_or("<environment>")
                    ),
                );
                d = d.with_hint(format!(
                    "an earlier file{} gave it '{}'; a parameter keeps one strategy: give it \
                     '{}' here too, or leave it out of this file's parameter_merge_strategies",
                    prev_file.map(|f| format!(" ({f})")).unwrap_or_default(),
                    prev.name(),
                    prev.name()
                ));
                diags.push(with_file(d, file));
            }
            Some(_) => {}
        }
        let existing = old.iter().rposition(|e| e.name.value == name);
        let Some(index) = existing else {
            old.push(entry.clone());
            continue;
        };
        // After a conflict, the strategy the parameter first got stays in force.
        let strategy = fixed
            .iter()
            .find(|(n, _, _)| n == name)
            .map_or(strategy, |(_, s, _)| *s);
        let merged = match strategy {
            MergeStrategy::Overwrite => Ok(entry.value.clone()),
            MergeStrategy::Merge | MergeStrategy::DeepMerge => merge_param_value(
                &old[index].value,
                &entry.value,
                param_type(name),
                strategy == MergeStrategy::DeepMerge,
            ),
        };
        let value = match merged {
            Ok(v) => v,
            Err(why) => {
                let d = Diagnostic::error(
                    Code::BadEnvironment,
                    entry.value.span,
                    format!(
                        "Invalid merge strategy '{}' for parameter '{name}': {why}",
                        strategy.name()
                    ),
                )
                .with_hint("use overwrite for this parameter");
                diags.push(with_file(d, file));
                entry.value.clone()
            }
        };
        old[index] = EnvParameter {
            name: entry.name.clone(),
            value,
            file: entry.file.clone(),
        };
    }
}

/// A JSON text turned into a node (all spans at `span`).
fn json_to_node(value: &serde_json::Value, span: Span) -> Node {
    use serde_json::Value as J;
    let v = match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::Seq(items.iter().map(|i| json_to_node(i, span)).collect()),
        J::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| {
                    (
                        Key {
                            name: k.clone(),
                            span,
                        },
                        json_to_node(v, span),
                    )
                })
                .collect(),
        ),
    };
    Node::new(v, span)
}

/// A JSON parameter's value as a node: strings holding JSON are parsed.
fn as_json_node(node: &Node) -> Result<Node, String> {
    match &node.value {
        Value::String(s) if s.trim().is_empty() => Ok(Node::new(Value::Map(Vec::new()), node.span)),
        Value::String(s) => serde_json::from_str::<serde_json::Value>(s)
            .map(|j| json_to_node(&j, node.span))
            .map_err(|_| "the value is not valid JSON".to_string()),
        _ => Ok(node.clone()),
    }
}

fn text_of(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::parameters::fmt_float(*f)),
        _ => None,
    }
}

/// Heat's `merge_list`: an empty old value gives the new one; a list extends; strings join
/// with a comma.
fn merge_list(old: &Node, new: &Node) -> Result<Node, String> {
    if old.is_falsy() {
        return Ok(new.clone());
    }
    let to_items = |n: &Node| -> Option<Vec<Node>> {
        match &n.value {
            Value::Seq(items) => Some(items.clone()),
            Value::String(s) => Some(
                s.split(',')
                    .map(|part| Node::new(Value::String(part.to_string()), n.span))
                    .collect(),
            ),
            _ => None,
        }
    };
    match (&old.value, &new.value) {
        (Value::String(a), Value::String(b)) => {
            Ok(Node::new(Value::String(format!("{a},{b}")), new.span))
        }
        _ => match (to_items(old), to_items(new)) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Ok(Node::new(Value::Seq(a), new.span))
            }
            _ => Err(format!(
                "cannot merge {} with {} as lists",
                old.kind_name(),
                new.kind_name()
            )),
        },
    }
}

/// Heat's `merge_map`: each non-null entry of `new` replaces the old one; with `deep`, maps
/// merge recursively, lists extend and strings concatenate.
fn merge_map(old: &Node, new: &Node, deep: bool) -> Result<Node, String> {
    if old.is_falsy() {
        return Ok(new.clone());
    }
    let (Some(old_entries), Some(new_entries)) = (old.as_map(), new.as_map()) else {
        return Err(format!(
            "cannot merge {} with {} as maps",
            old.kind_name(),
            new.kind_name()
        ));
    };
    let mut entries: Vec<(Key, Node)> = old_entries.to_vec();
    for (k, v) in new_entries {
        if v.is_null() {
            continue;
        }
        let pos = entries.iter().rposition(|(ok, _)| ok.name == k.name);
        let merged = match (deep, pos) {
            (false, _) | (true, None) => v.clone(),
            (true, Some(i)) => {
                let old_v = &entries[i].1;
                match &v.value {
                    Value::Map(_) if !old_v.is_falsy() && old_v.as_map().is_some() => {
                        merge_map(old_v, v, true)?
                    }
                    Value::Seq(_) if !old_v.is_falsy() && old_v.as_seq().is_some() => {
                        merge_list(old_v, v)?
                    }
                    Value::String(s) => match &old_v.value {
                        Value::String(o) => Node::new(Value::String(format!("{o}{s}")), v.span),
                        _ => v.clone(),
                    },
                    _ => v.clone(),
                }
            }
        };
        match pos {
            Some(i) => entries[i] = (entries[i].0.clone(), merged),
            None => entries.push((k.clone(), merged)),
        }
    }
    Ok(Node::new(Value::Map(entries), new.span))
}

/// Heat's `param_merge`, by the parameter's type (or, when unknown, by the values' shapes).
fn merge_param_value(
    old: &Node,
    new: &Node,
    ty: Option<ParameterType>,
    deep: bool,
) -> Result<Node, String> {
    let inferred = match (&old.value, &new.value) {
        (Value::Map(_), _) | (_, Value::Map(_)) => ParameterType::Json,
        (Value::Seq(_), _) | (_, Value::Seq(_)) => ParameterType::CommaDelimitedList,
        (Value::Bool(_), _) | (_, Value::Bool(_)) => ParameterType::Boolean,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => ParameterType::Number,
        _ => ParameterType::String,
    };
    let ty = ty.unwrap_or(inferred);
    match ty {
        ParameterType::Json => merge_map(&as_json_node(old)?, &as_json_node(new)?, deep),
        ParameterType::CommaDelimitedList | ParameterType::NumberList => merge_list(old, new),
        ParameterType::Aws(name) if name.starts_with("List<") => merge_list(old, new),
        ParameterType::String | ParameterType::Aws(_) => match (text_of(old), text_of(new)) {
            (Some(a), Some(b)) => Ok(Node::new(Value::String(a + &b), new.span)),
            _ => Err(format!(
                "cannot concatenate {} and {}",
                old.kind_name(),
                new.kind_name()
            )),
        },
        ParameterType::Number => {
            let num = |n: &Node| match &n.value {
                Value::Int(i) => Some(Number::Int(*i)),
                Value::Float(f) => Some(Number::Float(*f)),
                Value::String(s) => parse_number(s),
                _ => None,
            };
            match (num(old), num(new)) {
                (Some(Number::Int(a)), Some(Number::Int(b))) => match a.checked_add(b) {
                    Some(sum) => Ok(Node::new(Value::Int(sum), new.span)),
                    None => Ok(Node::new(
                        Value::Float(Number::Int(a).as_f64() + Number::Int(b).as_f64()),
                        new.span,
                    )),
                },
                (Some(a), Some(b)) => {
                    Ok(Node::new(Value::Float(a.as_f64() + b.as_f64()), new.span))
                }
                _ => Err("the values are not numbers".to_string()),
            }
        }
        ParameterType::Boolean => Err("booleans cannot be merged".to_string()),
    }
}

fn merge_registry(out: &mut ResourceRegistry, new: ResourceRegistry, diags: &mut Vec<Diagnostic>) {
    let first = out.entries.is_empty() && out.resources.is_empty();
    for entry in new.entries {
        if entry.target == RegistryTarget::Remove && !first {
            let d = Diagnostic::warning(
                Code::IgnoredEnvironmentEntry,
                entry.value_span,
                format!(
                    "the null entry for '{}' has no effect: Heat ignores null values when it \
                     merges environment files",
                    entry.name.value
                ),
            )
            .with_hint("remove the entry from the earlier file instead");
            diags.push(with_file(d, &entry.file));
            continue;
        }
        match out
            .entries
            .iter()
            .position(|e| e.name.value == entry.name.value)
        {
            Some(i) => out.entries[i] = entry,
            None => out.entries.push(entry),
        }
    }
    if !new.resources.is_empty() {
        // Heat merges resource_registry one level deep: a later `resources` map replaces the
        // earlier one as a whole.
        out.resources = new.resources;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::load::Limits;

    fn parse(text: &str) -> (Environment, Vec<Diagnostic>) {
        Environment::parse("env.yaml", text, &Limits::default())
    }

    fn ok(text: &str) -> Environment {
        let (env, diags) = parse(text);
        assert!(diags.is_empty(), "{text}\n{diags:#?}");
        env
    }

    fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
        diags.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn diagnostics_come_in_source_order() {
        let (_, diags) = parse("bogus: 1\nparameters:\n  a: 1\n  a: 2\nevent_sinks: 3\n");
        let got: Vec<(&str, u32)> = diags
            .iter()
            .map(|d| (d.code.as_str(), d.span.start.line))
            .collect();
        assert_eq!(
            got,
            [("E2021", 1), ("W0002", 4), ("E2020", 5)],
            "{diags:#?}"
        );
    }

    #[test]
    fn corpus_environments_parse() {
        let Some(dir) = crate::template::parse::parameters::tests::corpus_dir() else {
            eprintln!("corpus not found; skipped");
            return;
        };
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
        let mut count = 0;
        for line in manifest.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 6 || cols[4] != "env" {
                continue;
            }
            let text = std::fs::read_to_string(dir.join(cols[3])).expect("env file");
            let (env, diags) = Environment::parse(cols[3], &text, &Limits::default());
            assert!(
                diags.iter().all(|d| !d.is_error()),
                "{}: {diags:#?}",
                cols[3]
            );
            assert_eq!(env.files, vec![cols[3].to_string()]);
            count += 1;
        }
        assert_eq!(count, 17);
    }

    #[test]
    fn shape_rules() {
        // (text, expected codes, substring of the first message)
        let cases: &[(&str, &[&str], &str)] = &[
            ("", &[], ""),
            ("{}", &[], ""),
            (
                "paramters: {a: 1}\n",
                &["E2021"],
                "environment has unknown section 'paramters'",
            ),
            (
                "parameters:\n",
                &["E2020"],
                "environment has empty section 'parameters'",
            ),
            ("- a\n- b\n", &["E2020"], "not a valid YAML mapping"),
            (
                "parameters: [a]\n",
                &["E2020"],
                "must be a map of parameter names",
            ),
            ("parameter_defaults: 5\n", &["E2020"], "must be a map"),
            ("encrypted_param_names: a\n", &["E2020"], "must be a list"),
            (
                "encrypted_param_names: [a, {b: 1}]\n",
                &["E2020"],
                "must list parameter names",
            ),
            (
                "event_sinks:\n  - {type: zaqar-queue, target: q, ttl: 1200}\n",
                &[],
                "",
            ),
            (
                "event_sinks: {type: zaqar-queue}\n",
                &["E2020"],
                "event_sinks must be a list",
            ),
            (
                "event_sinks:\n  - {type: kafka, target: q}\n",
                &["E2020"],
                "unknown event sink type 'kafka'",
            ),
            ("event_sinks:\n  - {target: q}\n", &["E2020"], "has no type"),
            (
                "event_sinks:\n  - {type: zaqar-queue}\n",
                &["E2020"],
                "needs a target",
            ),
            (
                "event_sinks:\n  - {type: zaqar-queue, target: q, ttl: soon}\n",
                &["E2020"],
                "ttl must be an integer",
            ),
            (
                "event_sinks:\n  - {type: zaqar-queue, target: q, colour: red}\n",
                &["E2020"],
                "unknown key 'colour'",
            ),
            ("event_sinks:\n  - x\n", &["E2020"], "must be a map"),
            (
                "parameter_merge_strategies: {default: merge, a: deep_merge, b: overwrite}\n",
                &[],
                "",
            ),
            (
                "parameter_merge_strategies: {a: deepmerge}\n",
                &["W2020"],
                "unknown merge strategy 'deepmerge'",
            ),
            (
                "parameter_merge_strategies: [a]\n",
                &["E2020"],
                "must be a map",
            ),
            (
                "resource_registry: [a]\n",
                &["E2022"],
                "resource_registry must be a map",
            ),
            (
                "resource_registry:\n  OS::A: 5\n",
                &["E2022"],
                "must map to a resource type or a template file, found a number",
            ),
            (
                "resource_registry:\n  OS::A: {b: c}\n",
                &["E2022"],
                "found a map",
            ),
            (
                "resource_registry:\n  '': OS::B\n",
                &["E2022"],
                "empty type name",
            ),
            (
                "resource_registry:\n  OS::A: ''\n",
                &["E2022"],
                "to an empty name",
            ),
            (
                "resource_registry:\n  OS::A: templates/a.yml\n",
                &["W2020"],
                "looks like a file",
            ),
            (
                "resource_registry:\n  OS::*::Server: OS::B\n",
                &["W2020"],
                "'*' that is not at the end",
            ),
            (
                "resource_registry:\n  hooks: pre-create\n",
                &["W2020"],
                "no effect at the top",
            ),
            (
                "resource_registry:\n  resources: [a]\n",
                &["E2022"],
                "resources must be a map",
            ),
            (
                "resource_registry:\n  resources:\n    r: OS::B\n",
                &["E2022"],
                "settings of resource 'r' must be a map",
            ),
            (
                "resource_registry:\n  resources:\n    r:\n      hooks: pre-creat\n",
                &["E2022"],
                "Invalid hook type \"pre-creat\"",
            ),
            (
                "resource_registry:\n  resources:\n    r:\n      hooks: [pre-create, 5]\n",
                &["E2022"],
                "Invalid hook type a number",
            ),
            (
                "resource_registry:\n  resources:\n    r:\n      hooks: {a: b}\n",
                &["E2022"],
                "'hooks' must be a hook name or a list",
            ),
            (
                "resource_registry:\n  resources:\n    r:\n      restricted_actions: delete\n",
                &["E2022"],
                "Invalid restricted_action type \"delete\"",
            ),
            (
                "resource_registry:\n  resources:\n    r:\n      restricted_actions: [update, replace]\n      hooks: [pre-create, post-delete]\n",
                &[],
                "",
            ),
            (
                "parameters: {a: 1}\nparameters: {b: 2}\n",
                &["W0002"],
                "written twice",
            ),
        ];
        let mut failures = Vec::new();
        for (text, expected, message) in cases {
            let (_, diags) = parse(text);
            if codes(&diags) != *expected {
                failures.push(format!("{text:?}: expected {expected:?}, got {diags:#?}"));
            } else if let Some(d) = diags.first() {
                if !d.message.contains(message) {
                    failures.push(format!("{text:?}: {:?} lacks {message:?}", d.message));
                }
                if d.file.as_deref() != Some("env.yaml") || !d.span.is_known() {
                    failures.push(format!("{text:?}: no file or span on {d:?}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let (_, diags) = parse("paramters: {}\n");
        assert_eq!(diags[0].hint.as_deref(), Some("did you mean 'parameters'?"));
    }

    #[test]
    fn parses_every_section() {
        let env = ok(
            "parameters:\n  key_name: mykey\n  count: 3\nparameter_defaults:\n  net: private\nencrypted_param_names: [password]\nevent_sinks:\n  - type: zaqar-queue\n    target: myqueue\n    ttl: 1200\nparameter_merge_strategies:\n  default: merge\n  key_name: overwrite\nresource_registry:\n  \"OS::Quantum*\": \"OS::Neutron*\"\n  My::Server: server.yaml\n  AWS::CloudWatch::Alarm: file:///etc/heat/templates/AWS_CloudWatch_Alarm.yaml\n  OS::Old: null\n  resources:\n    my_server:\n      OS::DBInstance: file:///db.yaml\n      hooks: pre-create\n      restricted_actions: replace\n    nested_stack:\n      nested_resource:\n        hooks: pre-update\n",
        );
        assert_eq!(env.parameters.len(), 2);
        assert_eq!(
            env.parameter("count").map(|p| &p.value.value),
            Some(&Value::Int(3))
        );
        assert_eq!(
            env.parameter("key_name").and_then(|p| p.file.as_deref()),
            Some("env.yaml")
        );
        assert_eq!(
            env.parameter_default("net").and_then(|p| p.value.as_str()),
            Some("private")
        );
        assert_eq!(env.encrypted_param_names[0].value, "password");
        assert_eq!(env.event_sinks[0].ty.value, "zaqar-queue");
        assert_eq!(
            env.event_sinks[0].target.as_ref().map(|t| t.value.as_str()),
            Some("myqueue")
        );
        assert_eq!(env.event_sinks[0].ttl, Some(1200));
        assert_eq!(
            env.parameter_merge_strategies.default,
            Some(MergeStrategy::Merge)
        );
        assert_eq!(
            env.parameter_merge_strategies.get("key_name").map(|s| s.0),
            Some(MergeStrategy::Overwrite)
        );
        let reg = &env.resource_registry;
        let targets: Vec<(&str, &RegistryTarget)> = reg
            .entries
            .iter()
            .map(|e| (e.name.value.as_str(), &e.target))
            .collect();
        assert_eq!(
            targets,
            vec![
                (
                    "OS::Quantum*",
                    &RegistryTarget::Alias("OS::Neutron*".into())
                ),
                (
                    "My::Server",
                    &RegistryTarget::Template("server.yaml".into())
                ),
                (
                    "AWS::CloudWatch::Alarm",
                    &RegistryTarget::Template(
                        "file:///etc/heat/templates/AWS_CloudWatch_Alarm.yaml".into()
                    )
                ),
                ("OS::Old", &RegistryTarget::Remove),
            ]
        );
        assert!(reg.entries[0].is_glob());
        assert_eq!(reg.resources.len(), 2);
        assert_eq!(reg.resources[0].hooks[0].value, Hook::PreCreate);
        assert_eq!(
            reg.resources[0].restricted_actions[0].value,
            RestrictedAction::Replace
        );
        assert_eq!(reg.resources[1].nested[0].pattern.value, "nested_resource");
        assert_eq!(
            reg.nested_resources_for("nested_stack")[0].hooks[0].value,
            Hook::PreUpdate
        );
        assert!(reg.nested_resources_for("my_server").is_empty());
    }

    #[test]
    fn json_environment() {
        let env =
            ok("{\"parameters\": {\"a\": \"b\"}, \"resource_registry\": {\"X::Y\": \"z.yaml\"}}");
        assert_eq!(env.parameter("a").and_then(|p| p.value.as_str()), Some("b"));
        assert_eq!(
            env.resolve_type(None, "X::Y"),
            ResolvedType::Template {
                file: "z.yaml".into(),
                via: vec!["X::Y".into()]
            }
        );
    }

    #[test]
    fn null_removes_earlier_entries() {
        let env = ok(
            "resource_registry:\n  OS::A: a.yaml\n  OS::B: b.yaml\n  C::D: OS::A\n  \"OS::*\": null\n",
        );
        let names: Vec<&str> = env
            .resource_registry
            .entries
            .iter()
            .map(|e| e.name.value.as_str())
            .collect();
        assert_eq!(names, ["C::D", "OS::*"]);
        assert_eq!(
            env.resolve_type(None, "OS::A"),
            ResolvedType::Type {
                name: "OS::A".into(),
                via: vec![]
            }
        );
    }

    #[test]
    fn type_resolution() {
        let env = ok(
            "resource_registry:\n  \"OS::Quantum*\": \"OS::Neutron*\"\n  OS::Networking::FloatingIP: OS::Neutron::FloatingIP\n  My::Alias: OS::Networking::FloatingIP\n  My::Tpl: my.template\n  \"AWS::*\": OS::Heat::None\n  Loop::A: Loop::B\n  Loop::B: Loop::A\n  OS::Nova::Server: plain.yaml\n  \"OS::Nova::*\": \"Other::*\"\n  resources:\n    web:\n      OS::Networking::FloatingIP: special.yaml\n",
        );
        let ty = |name: &str, via: &[&str]| ResolvedType::Type {
            name: name.to_string(),
            via: via.iter().map(|s| s.to_string()).collect(),
        };
        let cases: Vec<(Option<&str>, &str, ResolvedType)> = vec![
            (
                None,
                "OS::Nova::Flavor",
                ty("Other::Flavor", &["OS::Nova::Flavor"]),
            ),
            (
                None,
                "OS::Quantum::Net",
                ty("OS::Neutron::Net", &["OS::Quantum::Net"]),
            ),
            (
                None,
                "My::Alias",
                ty(
                    "OS::Neutron::FloatingIP",
                    &["My::Alias", "OS::Networking::FloatingIP"],
                ),
            ),
            (
                Some("web"),
                "My::Alias",
                ResolvedType::Template {
                    file: "special.yaml".into(),
                    via: vec!["My::Alias".into(), "OS::Networking::FloatingIP".into()],
                },
            ),
            (
                Some("web2"),
                "OS::Networking::FloatingIP",
                ty("OS::Neutron::FloatingIP", &["OS::Networking::FloatingIP"]),
            ),
            (
                None,
                "My::Tpl",
                ResolvedType::Template {
                    file: "my.template".into(),
                    via: vec!["My::Tpl".into()],
                },
            ),
            (
                None,
                "AWS::EC2::Instance",
                ty("OS::Heat::None", &["AWS::EC2::Instance"]),
            ),
            (None, "OS::Heat::None", ty("OS::Heat::None", &[])),
            (
                None,
                "nested.yaml",
                ResolvedType::Template {
                    file: "nested.yaml".into(),
                    via: vec![],
                },
            ),
            (
                None,
                "Loop::A",
                ResolvedType::Loop {
                    chain: vec!["Loop::A".into(), "Loop::B".into(), "Loop::A".into()],
                },
            ),
            // Heat sorts top-level entries by name: the wildcard `OS::Nova::*` sorts before
            // `OS::Nova::Server` and wins.
            (
                None,
                "OS::Nova::Server",
                ty("Other::Server", &["OS::Nova::Server"]),
            ),
            (None, "Unknown::Type", ty("Unknown::Type", &[])),
        ];
        for (resource, type_name, expected) in cases {
            assert_eq!(
                env.resolve_type(resource, type_name),
                expected,
                "{resource:?} {type_name}"
            );
        }
        assert!(env.resolve_type(None, "AWS::S3::Bucket").is_none_type());
        assert!(!env.resolve_type(None, "OS::Nova::Server").is_none_type());
    }

    #[test]
    fn long_alias_chains_are_bounded() {
        let mut text = String::from("resource_registry:\n");
        for i in 0..200 {
            text.push_str(&format!("  T::{i}: T::{}\n", i + 1));
        }
        let env = ok(&text);
        match env.resolve_type(None, "T::0") {
            ResolvedType::Loop { chain } => assert_eq!(chain.len(), MAX_ALIAS_STEPS + 1),
            other => panic!("{other:?}"),
        }
        // A self-mapping wildcard does not loop on its own target.
        let env = ok("resource_registry:\n  \"OS::*\": OS::Heat::None\n");
        assert!(env.resolve_type(None, "OS::Heat::None").is_none_type());
    }

    #[test]
    fn hooks_and_restricted_actions() {
        let env = ok(
            "resource_registry:\n  resources:\n    \"*_server\":\n      hooks: pre-create\n    app_server:\n      hooks: [pre-update, pre-create]\n      restricted_actions: [update]\n    \"db?\":\n      restricted_actions: replace\n",
        );
        let reg = &env.resource_registry;
        assert_eq!(
            reg.hooks_for("app_server"),
            vec![Hook::PreCreate, Hook::PreUpdate]
        );
        assert_eq!(reg.hooks_for("database_server"), vec![Hook::PreCreate]);
        assert!(reg.hooks_for("server").is_empty());
        assert!(reg.hooks_for("app_network").is_empty());
        assert!(reg.has_hook("web_server", Hook::PreCreate));
        assert!(!reg.has_hook("web_server", Hook::PostDelete));
        assert_eq!(
            reg.restricted_actions_for("app_server"),
            vec![RestrictedAction::Update]
        );
        assert_eq!(
            reg.restricted_actions_for("db1"),
            vec![RestrictedAction::Replace]
        );
        assert!(reg.restricted_actions_for("db12").is_empty());
        for h in Hook::ALL {
            assert_eq!(Hook::from_name(h.name()), Some(*h));
        }
    }

    #[test]
    fn globbing() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("*_server", "app_server", true),
            ("*_server", "server", false),
            ("app_*", "app_", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("[ab]x", "bx", true),
            ("[!ab]x", "bx", false),
            ("[a-c]1", "b1", true),
            ("[a-c]1", "d1", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("[x", "[x", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
        ];
        for (p, t, expected) in cases {
            assert_eq!(glob_match(p, t), *expected, "{p} {t}");
        }
    }

    fn file(name: &str, text: &str) -> Environment {
        let (env, diags) = Environment::parse(name, text, &Limits::default());
        assert!(diags.is_empty(), "{diags:#?}");
        env
    }

    fn value_json(env: &Environment, name: &str) -> serde_json::Value {
        env.parameter_default(name)
            .or_else(|| env.parameter(name))
            .map(|p| p.value.to_json())
            .unwrap_or(serde_json::Value::Null)
    }

    #[test]
    fn merge_like_heat_validate_test() {
        // heat/tests/test_validate.py: two environment files with a merged list parameter.
        let a = file(
            "env1.yaml",
            "parameter_defaults:\n  net_name: net1\n  merged_param: [net1, net2]\nparameter_merge_strategies:\n  merged_param: merge\n",
        );
        let b = file(
            "env2.yaml",
            "parameter_defaults:\n  net_name: net2\n  net_name2: net3\n  merged_param: [net3, net4]\nparameter_merge_strategies:\n  merged_param: merge\n",
        );
        let (m, diags) = merge_with([a, b], |_| None);
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(value_json(&m, "net_name"), serde_json::json!("net2"));
        assert_eq!(value_json(&m, "net_name2"), serde_json::json!("net3"));
        assert_eq!(
            value_json(&m, "merged_param"),
            serde_json::json!(["net1", "net2", "net3", "net4"])
        );
        assert_eq!(
            m.files,
            vec!["env1.yaml".to_string(), "env2.yaml".to_string()]
        );
        assert_eq!(
            m.parameter_default("net_name")
                .and_then(|p| p.file.as_deref()),
            Some("env2.yaml")
        );
    }

    #[test]
    fn merge_strategies() {
        use serde_json::json;
        let first = "parameters:\n  s: abc\n  l: a,b\n  ll: [a]\n  j: {a: 1, n: {x: 1, y: [1]}, t: p}\n  jd: {a: 1, n: {x: 1, y: [1]}, t: p}\n  js: '{\"a\": 1}'\n  n: 2\n  o: old\n  b: true\n  keep: 1\n";
        let strategies =
            "parameter_merge_strategies:\n  default: merge\n  jd: deep_merge\n  o: overwrite\n";
        let first = format!("{first}{strategies}");
        let second = format!(
            "parameters:\n  s: def\n  l: c\n  ll: [b]\n  j: {{n: {{z: 2}}, t: q}}\n  jd: {{n: {{z: 2, y: [2]}}, t: q}}\n  js: '{{\"b\": 2}}'\n  n: 3.5\n  o: new\n  b: false\n  keep: null\n{strategies}"
        );
        let types = |name: &str| match name {
            "l" => Some(ParameterType::CommaDelimitedList),
            "js" => Some(ParameterType::Json),
            _ => None,
        };
        let (m, diags) = merge_with([file("1.yaml", &first), file("2.yaml", &second)], types);
        let expected = [
            ("s", json!("abcdef")),
            ("l", json!("a,b,c")),
            ("ll", json!(["a", "b"])),
            ("j", json!({"a": 1, "n": {"z": 2}, "t": "q"})),
            (
                "jd",
                json!({"a": 1, "n": {"x": 1, "y": [1, 2], "z": 2}, "t": "pq"}),
            ),
            ("js", json!({"a": 1, "b": 2})),
            ("n", json!(5.5)),
            ("o", json!("new")),
            ("b", json!(false)),
            ("keep", json!(1)),
        ];
        for (name, want) in expected {
            assert_eq!(value_json(&m, name), want, "{name}");
        }
        assert_eq!(codes(&diags), ["E2020"], "{diags:#?}");
        assert!(
            diags[0]
                .message
                .contains("Invalid merge strategy 'merge' for parameter 'b'")
        );
        assert_eq!(diags[0].file.as_deref(), Some("2.yaml"));
        let strategies: Vec<(&str, MergeStrategy)> = m
            .parameter_merge_strategies
            .per_parameter
            .iter()
            .map(|(n, s)| (n.value.as_str(), *s))
            .collect();
        assert!(strategies.contains(&("jd", MergeStrategy::DeepMerge)));
        assert!(!strategies.iter().any(|(n, _)| *n == "o"));

        // As in Heat, a parameter's strategy is fixed by the first file that sets it: a later
        // file's `default` does not change it.
        let (m, diags) = merge_with(
            [
                file("1.yaml", "parameters:\n  s: abc\n"),
                file(
                    "2.yaml",
                    "parameters:\n  s: def\nparameter_merge_strategies:\n  default: merge\n",
                ),
            ],
            |_| None,
        );
        assert!(diags.is_empty());
        assert_eq!(value_json(&m, "s"), json!("def"));
    }

    #[test]
    fn merge_conflicting_strategies() {
        let a = file(
            "a.yaml",
            "parameters:\n  p: [x]\nparameter_merge_strategies:\n  p: merge\n",
        );
        let b = file(
            "b.yaml",
            "parameters:\n  p: [y]\nparameter_merge_strategies:\n  p: overwrite\n",
        );
        let c = file(
            "c.yaml",
            "parameters:\n  p: [z]\nparameter_merge_strategies:\n  default: overwrite\n",
        );
        let (m, diags) = merge_with([a, b, c], |_| None);
        assert_eq!(codes(&diags), ["E2020"]);
        assert_eq!(
            diags[0].message,
            "Conflicting merge strategy 'overwrite' for parameter 'p' in file 'b.yaml'."
        );
        assert!(diags[0].hint.as_deref().unwrap_or("").contains("a.yaml"));
        assert_eq!(diags[0].span.start.line, 4);
        // The first strategy stays: c's default does not override it.
        assert_eq!(value_json(&m, "p"), serde_json::json!(["x", "y", "z"]));
    }

    #[test]
    fn merge_registry_and_other_sections() {
        let a = file(
            "a.yaml",
            "resource_registry:\n  OS::A: a.yaml\n  OS::B: OS::C\n  resources:\n    r1:\n      hooks: pre-create\nevent_sinks:\n  - {type: zaqar-queue, target: q1}\nencrypted_param_names: [x, y]\n",
        );
        let b = file(
            "b.yaml",
            "resource_registry:\n  OS::A: a2.yaml\n  OS::B: null\n  OS::D: OS::E\n  resources:\n    r2:\n      hooks: pre-delete\nevent_sinks:\n  - {type: zaqar-queue, target: q2}\nencrypted_param_names: [y, z]\n",
        );
        let (m, diags) = merge_with([a, b], |_| None);
        assert_eq!(codes(&diags), ["W2020"], "{diags:#?}");
        assert_eq!(diags[0].file.as_deref(), Some("b.yaml"));
        let reg = &m.resource_registry;
        assert_eq!(
            m.resolve_type(None, "OS::A"),
            ResolvedType::Template {
                file: "a2.yaml".into(),
                via: vec!["OS::A".into()]
            }
        );
        assert_eq!(
            m.resolve_type(None, "OS::B"),
            ResolvedType::Type {
                name: "OS::C".into(),
                via: vec!["OS::B".into()]
            }
        );
        assert_eq!(
            m.resolve_type(None, "OS::D"),
            ResolvedType::Type {
                name: "OS::E".into(),
                via: vec!["OS::D".into()]
            }
        );
        // Heat merges resource_registry one level deep: b's `resources` replaces a's.
        assert!(reg.hooks_for("r1").is_empty());
        assert_eq!(reg.hooks_for("r2"), vec![Hook::PreDelete]);
        assert_eq!(m.event_sinks.len(), 2);
        let names: Vec<&str> = m
            .encrypted_param_names
            .iter()
            .map(|n| n.value.as_str())
            .collect();
        assert_eq!(names, ["x", "y", "z"]);
        // `merge` is `merge_with` without diagnostics.
        let again = merge([
            file("a.yaml", "parameters: {p: 1}\n"),
            file("b.yaml", "parameters: {p: 2}\n"),
        ]);
        assert_eq!(value_json(&again, "p"), serde_json::json!(2));
        assert_eq!(merge(Vec::new()), Environment::default());
    }

    #[test]
    fn merge_shape_mismatch() {
        let a = file(
            "a.yaml",
            "parameters:\n  p: {a: 1}\nparameter_merge_strategies: {default: merge}\n",
        );
        let b = file("b.yaml", "parameters:\n  p: text\n");
        let (m, diags) = merge_with([a, b], |_| None);
        assert_eq!(codes(&diags), ["E2020"]);
        assert_eq!(value_json(&m, "p"), serde_json::json!("text"));
    }
}
