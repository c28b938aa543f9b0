//! The registry of resource providers by type name, and how a resource's type resolves to
//! one through an environment's `resource_registry`.
//! OWNER: schema/registry helper.
//!
//! Resolution follows Heat: the user's environment first (per-resource overrides by name,
//! exact entries, wildcards such as `"OS::Quantum*": "OS::Neutron*"`, mappings to
//! `OS::Heat::None` or to a template file), then the server's global registry
//! ([`ProviderRegistry::set_global_registry`]), until a type with a provider, a template
//! resource, an unknown type or a loop is reached.
//!
//! Online validation ([`check_types`], [`check_resources`]) treats the registry as
//! authoritative: an unknown type is an error (`E6005`), where the offline check can only
//! warn (`W3001`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic};
use crate::engine::provider::ResourceProvider;
use crate::engine::schema::validate_static;
use crate::environment::{Environment, ResolvedType, ResourceRegistry};
use crate::names;
use crate::template::model::{Resource, Template};

/// How many times resolution may go back and forth between the user's and the global
/// registry before it is called a loop.
const MAX_ROUNDS: usize = 16;

/// Resource providers by type name.
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    providers: BTreeMap<String, Arc<dyn ResourceProvider>>,
    global: ResourceRegistry,
}

impl fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("types", &self.types())
            .field("global", &self.global)
            .finish()
    }
}

/// What a resource's type resolves to.
#[derive(Clone)]
pub enum Resolved {
    /// A type with a provider: the provider and the type name it is registered under (after
    /// the registry's mappings).
    Provider(Arc<dyn ResourceProvider>, String),
    /// A template resource: the template file or URL (a nested stack).
    TemplateResource(String),
    /// No provider has the type.
    Unknown {
        /// The type reached after the registry's mappings.
        type_name: String,
        /// The type as the template wrote it.
        requested: String,
        /// The registered type closest to `type_name`, when one is a plausible typo.
        did_you_mean: Option<String>,
    },
    /// The registries map the type in a circle.
    Loop {
        /// The types visited, the repeated one last.
        chain: Vec<String>,
    },
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolved::Provider(provider, name) => f
                .debug_tuple("Provider")
                .field(&provider.schema().type_name)
                .field(name)
                .finish(),
            Resolved::TemplateResource(file) => {
                f.debug_tuple("TemplateResource").field(file).finish()
            }
            Resolved::Unknown {
                type_name,
                requested,
                did_you_mean,
            } => f
                .debug_struct("Unknown")
                .field("type_name", type_name)
                .field("requested", requested)
                .field("did_you_mean", did_you_mean)
                .finish(),
            Resolved::Loop { chain } => f.debug_struct("Loop").field("chain", chain).finish(),
        }
    }
}

impl Resolved {
    /// The provider, when the type has one.
    pub fn provider(&self) -> Option<&Arc<dyn ResourceProvider>> {
        match self {
            Resolved::Provider(p, _) => Some(p),
            _ => None,
        }
    }

    /// Whether the resource is disabled: its type resolved to `OS::Heat::None`.
    pub fn is_none_type(&self) -> bool {
        matches!(self, Resolved::Provider(_, name) if name == "OS::Heat::None")
    }
}

impl ProviderRegistry {
    /// An empty registry.
    pub fn new() -> ProviderRegistry {
        ProviderRegistry::default()
    }

    /// A registry with every built-in provider ([`crate::engine::builtins::providers`])
    /// registered under its type name.
    pub fn with_builtins() -> ProviderRegistry {
        let mut registry = ProviderRegistry::new();
        for (type_name, provider) in crate::engine::builtins::providers() {
            registry.register(type_name, provider);
        }
        registry
    }

    /// Registers a provider for a type; returns the provider it replaces, if any.
    pub fn register(
        &mut self,
        type_name: impl Into<String>,
        provider: Arc<dyn ResourceProvider>,
    ) -> Option<Arc<dyn ResourceProvider>> {
        self.providers.insert(type_name.into(), provider)
    }

    /// The provider registered for exactly this type name (no mapping applied).
    pub fn get(&self, type_name: &str) -> Option<&Arc<dyn ResourceProvider>> {
        self.providers.get(type_name)
    }

    /// Whether a provider is registered for exactly this type name.
    pub fn contains(&self, type_name: &str) -> bool {
        self.providers.contains_key(type_name)
    }

    /// The registered type names, sorted (what `resource type list` shows).
    pub fn types(&self) -> Vec<&str> {
        self.providers.keys().map(String::as_str).collect()
    }

    /// How many types are registered.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// Whether no type is registered.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Sets the server's global registry (Heat's global environment: aliases such as
    /// `"OS::Quantum*": "OS::Neutron*"`), applied after the user's environment.
    pub fn set_global_registry(&mut self, registry: ResourceRegistry) {
        self.global = registry;
    }

    /// The server's global registry.
    pub fn global_registry(&self) -> &ResourceRegistry {
        &self.global
    }

    /// Resolves a resource's type through the environment's `resource_registry` (for this
    /// resource's name) and then the global registry, to a provider, a template resource,
    /// an unknown type or a loop.
    pub fn resolve(&self, env: &Environment, resource_name: &str, type_name: &str) -> Resolved {
        // Every type name mapped on the way, in order.
        let mut chain: Vec<String> = Vec::new();
        let mut current = type_name.to_string();
        for _ in 0..MAX_ROUNDS {
            for (is_global, registry) in [(false, &env.resource_registry), (true, &self.global)] {
                match registry.resolve_type(Some(resource_name), &current) {
                    ResolvedType::Type { name, via } => {
                        if via.is_empty() && is_global {
                            // Neither registry maps it any further.
                            return self.unknown(type_name, name);
                        }
                        chain.extend(via);
                        if chain.contains(&name) {
                            chain.push(name);
                            return Resolved::Loop { chain };
                        }
                        current = name;
                    }
                    ResolvedType::Template { file, .. } => {
                        return Resolved::TemplateResource(file);
                    }
                    ResolvedType::Loop { chain: looped } => {
                        chain.extend(looped);
                        return Resolved::Loop { chain };
                    }
                }
                if let Some(provider) = self.providers.get(&current) {
                    return Resolved::Provider(Arc::clone(provider), current);
                }
            }
        }
        chain.push(current);
        Resolved::Loop { chain }
    }

    fn unknown(&self, requested: &str, type_name: String) -> Resolved {
        let did_you_mean = names::closest(&type_name, self.types()).map(str::to_string);
        Resolved::Unknown {
            type_name,
            requested: requested.to_string(),
            did_you_mean,
        }
    }
}

/// Checks one resource's type against the registry: `E6005` when no provider has it,
/// `E2022` when the registries map it in a circle. Template resources are accepted (they
/// become nested stacks), and so is a type mapped to `OS::Heat::None` when that type is
/// registered (as the built-in types are).
pub fn check_type(
    resource: &Resource,
    env: &Environment,
    registry: &ProviderRegistry,
) -> Option<Diagnostic> {
    let ty = resource.ty.value.as_str();
    // A missing or non-string type is a structure error already.
    if ty.is_empty() {
        return None;
    }
    let name = &resource.name.value;
    match registry.resolve(env, name, ty) {
        Resolved::Provider(..) | Resolved::TemplateResource(_) => None,
        Resolved::Unknown {
            type_name,
            requested,
            did_you_mean,
        } => {
            let message = if type_name == requested {
                format!("resource {name} has type '{requested}', which this server does not have")
            } else {
                format!(
                    "resource {name} has type '{requested}', which the resource_registry maps \
                     to '{type_name}', a type this server does not have"
                )
            };
            let hint = match did_you_mean {
                Some(s) => format!("did you mean '{s}'?"),
                None => "`heat resource type list` shows the types this server has; an \
                         environment's resource_registry can map this type to one of them or \
                         to a template"
                    .to_string(),
            };
            Some(
                Diagnostic::error(Code::UnregisteredResourceType, resource.ty.span, message)
                    .with_hint(hint),
            )
        }
        Resolved::Loop { chain } => Some(
            Diagnostic::error(
                Code::BadResourceRegistry,
                resource.ty.span,
                format!(
                    "the type of resource {name} cannot be resolved: the resource_registry \
                     maps it in a circle: {}",
                    chain.join(" -> ")
                ),
            )
            .with_hint("remove one of the mappings so that the chain ends at a real type"),
        ),
    }
}

/// Checks every resource's type against the registry (see [`check_type`]), in template
/// order. All resources are checked, whatever their conditions say; a caller that knows the
/// condition values checks only the enabled ones with [`check_type`].
pub fn check_types(
    template: &Template,
    env: &Environment,
    registry: &ProviderRegistry,
) -> Vec<Diagnostic> {
    template
        .resources
        .iter()
        .filter_map(|r| check_type(r, env, registry))
        .collect()
}

/// Everything the registry can check before anything is evaluated, for one resource: its
/// type ([`check_type`]) and, when a provider has it, its properties as written against the
/// provider's schema ([`validate_static`]).
pub fn check_resource(
    resource: &Resource,
    template: &Template,
    env: &Environment,
    registry: &ProviderRegistry,
) -> Vec<Diagnostic> {
    if let Some(d) = check_type(resource, env, registry) {
        return vec![d];
    }
    match registry.resolve(env, &resource.name.value, &resource.ty.value) {
        Resolved::Provider(provider, _) => {
            validate_static(provider.schema(), resource, template.version)
        }
        _ => Vec::new(),
    }
}

/// [`check_resource`] for every resource of the template, in template order.
pub fn check_resources(
    template: &Template,
    env: &Environment,
    registry: &ProviderRegistry,
) -> Vec<Diagnostic> {
    template
        .resources
        .iter()
        .flat_map(|r| check_resource(r, template, env, registry))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::engine::provider::{Created, Progress, Properties, ProviderError, ResourceContext};
    use crate::engine::schema::{PropertySchema, PropertyType, ResourceSchema};
    use crate::template::load::Limits;
    use async_trait::async_trait;
    use serde_json::Value;

    /// A provider that does nothing, with a schema.
    struct Fake {
        schema: ResourceSchema,
    }

    #[async_trait]
    impl ResourceProvider for Fake {
        fn schema(&self) -> &ResourceSchema {
            &self.schema
        }

        async fn create(
            &self,
            ctx: &ResourceContext<'_>,
            _properties: &Properties,
        ) -> Result<Created, ProviderError> {
            Ok(Created::done(ctx.resource_name))
        }

        async fn delete(
            &self,
            _ctx: &ResourceContext<'_>,
            _physical_id: &str,
        ) -> Result<Progress, ProviderError> {
            Ok(Progress::Done)
        }

        async fn attribute(
            &self,
            _ctx: &ResourceContext<'_>,
            _physical_id: &str,
            name: &str,
        ) -> Result<Value, ProviderError> {
            Err(ProviderError::UnknownAttribute(name.to_string()))
        }
    }

    fn fake(type_name: &'static str) -> Arc<dyn ResourceProvider> {
        Arc::new(Fake {
            schema: ResourceSchema {
                open: false,
                type_name,
                description: "",
                properties: vec![
                    PropertySchema::new("size", PropertyType::Integer, "How big.").required(),
                ],
                attributes: Vec::new(),
            },
        })
    }

    fn registry() -> ProviderRegistry {
        let mut r = ProviderRegistry::new();
        for t in [
            "OS::Neutron::Net",
            "OS::Heat::None",
            "OS::Nova::Server",
            "OS::Heat::Value",
            "My::Real",
        ] {
            assert!(r.register(t, fake(t)).is_none());
        }
        r
    }

    fn env(text: &str) -> Environment {
        let (env, diags) = Environment::parse("env.yaml", text, &Limits::default());
        assert!(diags.is_empty(), "{diags:?}");
        env
    }

    /// A resolution as a short string, for tables.
    fn show(r: &Resolved) -> String {
        match r {
            Resolved::Provider(p, name) => {
                format!("provider {name} ({})", p.schema().type_name)
            }
            Resolved::TemplateResource(file) => format!("template {file}"),
            Resolved::Unknown {
                type_name,
                requested,
                did_you_mean,
            } => format!("unknown {type_name} from {requested} ~{did_you_mean:?}"),
            Resolved::Loop { chain } => format!("loop {}", chain.join(">")),
        }
    }

    #[test]
    fn with_builtins_registers_every_builtin_type() {
        let r = ProviderRegistry::with_builtins();
        let names: Vec<&str> = crate::engine::builtins::providers()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(r.len(), names.len());
        for name in names {
            assert_eq!(r.get(name).map(|p| p.schema().type_name), Some(name));
        }
        // OS::Heat::None takes any properties.
        assert!(r.get("OS::Heat::None").is_some_and(|p| p.schema().open));
    }

    #[test]
    fn register_get_and_list() {
        let mut r = registry();
        assert_eq!(
            r.types(),
            [
                "My::Real",
                "OS::Heat::None",
                "OS::Heat::Value",
                "OS::Neutron::Net",
                "OS::Nova::Server"
            ]
        );
        assert_eq!(r.len(), 5);
        assert!(!r.is_empty());
        assert!(ProviderRegistry::new().is_empty());
        assert!(r.contains("My::Real"));
        assert!(!r.contains("My::Fake"));
        assert_eq!(
            r.get("OS::Heat::Value").map(|p| p.schema().type_name),
            Some("OS::Heat::Value")
        );
        assert!(r.get("OS::Heat::Nope").is_none());
        // Registering again replaces (and returns) the old provider.
        let old = r.register("My::Real", fake("My::Other")).expect("replaced");
        assert_eq!(old.schema().type_name, "My::Real");
        assert_eq!(r.get("My::Real").unwrap().schema().type_name, "My::Other");
        assert!(format!("{r:?}").contains("My::Real"));
    }

    #[test]
    fn resolution_through_environments() {
        let user = env(concat!(
            "resource_registry:\n",
            "  \"OS::Quantum*\": \"OS::Neutron*\"\n",
            "  My::Alias: My::Real\n",
            "  My::Chain: My::Alias\n",
            "  My::Off: OS::Heat::None\n",
            "  My::Tpl: my.yaml\n",
            "  Loop::A: Loop::B\n",
            "  Loop::B: Loop::A\n",
            "  My::Global: Old::Name\n",
            "  resources:\n",
            "    special:\n",
            "      OS::Nova::Server: OS::Heat::None\n",
        ));
        let cases: &[(&str, &str, &str)] = &[
            (
                "r",
                "OS::Nova::Server",
                "provider OS::Nova::Server (OS::Nova::Server)",
            ),
            (
                "r",
                "OS::Quantum::Net",
                "provider OS::Neutron::Net (OS::Neutron::Net)",
            ),
            ("r", "My::Alias", "provider My::Real (My::Real)"),
            ("r", "My::Chain", "provider My::Real (My::Real)"),
            ("r", "My::Off", "provider OS::Heat::None (OS::Heat::None)"),
            ("r", "My::Tpl", "template my.yaml"),
            ("r", "nested.yaml", "template nested.yaml"),
            ("r", "Loop::A", "loop Loop::A>Loop::B>Loop::A"),
            // per-resource overrides, by the resource's name
            (
                "special",
                "OS::Nova::Server",
                "provider OS::Heat::None (OS::Heat::None)",
            ),
            (
                "other",
                "OS::Nova::Server",
                "provider OS::Nova::Server (OS::Nova::Server)",
            ),
            // unknown, with and without a suggestion, directly and after a mapping
            (
                "r",
                "OS::Nova::Sever",
                "unknown OS::Nova::Sever from OS::Nova::Sever ~Some(\"OS::Nova::Server\")",
            ),
            (
                "r",
                "Acme::Thing",
                "unknown Acme::Thing from Acme::Thing ~None",
            ),
            (
                "r",
                "OS::Quantum::Port",
                "unknown OS::Neutron::Port from OS::Quantum::Port ~Some(\"OS::Neutron::Net\")",
            ),
            // the global registry, after the user's
            (
                "r",
                "Old::Name",
                "provider OS::Heat::Value (OS::Heat::Value)",
            ),
            (
                "r",
                "My::Global",
                "provider OS::Heat::Value (OS::Heat::Value)",
            ),
            ("r", "Glob::Tpl", "template global.yaml"),
            // global -> user -> global: still resolved
            ("r", "Back::Start", "provider My::Real (My::Real)"),
            ("r", "GLoop::A", "loop GLoop::A>GLoop::B>GLoop::A"),
            ("r", "Ping", "loop Ping>Pong>Ping"),
        ];
        let global = env(concat!(
            "resource_registry:\n",
            "  Old::Name: OS::Heat::Value\n",
            "  Glob::Tpl: global.yaml\n",
            "  Back::Start: My::Alias\n",
            "  GLoop::A: GLoop::B\n",
            "  GLoop::B: GLoop::A\n",
            "  Ping: Pong\n",
        ));
        let user = {
            let mut u = user;
            // Pong goes back to Ping in the user's registry: a loop across registries.
            u.resource_registry.entries.extend(
                env("resource_registry:\n  Pong: Ping\n")
                    .resource_registry
                    .entries,
            );
            u
        };
        let mut r = registry();
        r.set_global_registry(global.resource_registry.clone());
        assert_eq!(r.global_registry(), &global.resource_registry);
        for (name, ty, expected) in cases {
            let got = r.resolve(&user, name, ty);
            assert_eq!(show(&got), *expected, "{name} {ty}");
            assert_eq!(got.is_none_type(), expected.contains("OS::Heat::None ("));
            assert_eq!(got.provider().is_some(), expected.starts_with("provider"));
            assert!(!format!("{got:?}").is_empty());
        }
    }

    fn template(text: &str) -> Template {
        let parsed = crate::template::parse(text, &Limits::default());
        parsed.template.expect("a template")
    }

    #[test]
    fn type_checks() {
        let t = template(concat!(
            "heat_template_version: 2021-04-16\n",
            "resources:\n",
            "  ok: {type: OS::Nova::Server, properties: {size: 1}}\n",
            "  typo: {type: OS::Nova::Sever}\n",
            "  unknown: {type: Acme::Thing}\n",
            "  mapped: {type: My::Gone}\n",
            "  off: {type: My::Off}\n",
            "  tpl: {type: nested.yaml}\n",
            "  looped: {type: Loop::A}\n",
        ));
        let e = env(concat!(
            "resource_registry:\n",
            "  My::Gone: Acme::Gone\n",
            "  My::Off: OS::Heat::None\n",
            "  Loop::A: Loop::B\n",
            "  Loop::B: Loop::A\n",
        ));
        let got: Vec<String> = check_types(&t, &e, &registry())
            .iter()
            .map(|d| {
                assert!(d.is_error());
                assert!(d.hint.is_some());
                format!(
                    "{}:{} {} {} | {}",
                    d.span.start.line,
                    d.span.start.col,
                    d.code,
                    d.message,
                    d.hint.as_deref().unwrap_or("")
                )
            })
            .collect();
        let expected = [
            "4:16 E6005 resource typo has type 'OS::Nova::Sever', which this server does not have | did you mean 'OS::Nova::Server'?",
            "5:19 E6005 resource unknown has type 'Acme::Thing', which this server does not have | `heat resource type list` shows the types this server has; an environment's resource_registry can map this type to one of them or to a template",
            "6:18 E6005 resource mapped has type 'My::Gone', which the resource_registry maps to 'Acme::Gone', a type this server does not have | `heat resource type list` shows the types this server has; an environment's resource_registry can map this type to one of them or to a template",
            "9:18 E2022 the type of resource looped cannot be resolved: the resource_registry maps it in a circle: Loop::A -> Loop::B -> Loop::A | remove one of the mappings so that the chain ends at a real type",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn resource_checks_include_properties() {
        let t = template(concat!(
            "heat_template_version: 2021-04-16\n",
            "resources:\n",
            "  good: {type: OS::Nova::Server, properties: {size: 1}}\n",
            "  bad: {type: OS::Nova::Server, properties: {size: big, colour: red}}\n",
            "  missing: {type: My::Real}\n",
            "  unknown: {type: Acme::Thing, properties: {anything: 1}}\n",
            "  tpl: {type: nested.yaml, properties: {anything: 1}}\n",
        ));
        let got: Vec<String> = check_resources(&t, &Environment::default(), &registry())
            .iter()
            .map(|d| format!("{}:{} {}", d.span.start.line, d.span.start.col, d.code))
            .collect();
        assert_eq!(got, ["4:52 E6003", "4:57 E6001", "5:3 E6002", "6:19 E6005"]);
    }
}
