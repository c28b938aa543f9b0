//! Resource types known offline, and the check of each resource's type.
//!
//! For HOT and Heat's CloudFormation dialect the known types are the ones Heat registers
//! (every `resource_mapping()` of Heat's engine, hidden placeholders included) plus the
//! aliases of Heat's global environment (`OS::Quantum*` → `OS::Neutron*`, the old
//! Ceilometer alarm names, ...). A type that is not known and not a template file is a
//! warning (`W3001`): offline we cannot see the server's registry, which will make it an
//! error if it really is unknown. For AWS CloudFormation, any well-formed type name is
//! accepted (`AWS::Service::Type`, `Custom::Name`, third-party `Org::Service::Type`,
//! modules `Org::Service::Type::MODULE`); a malformed name is the warning.
//!
//! Types Heat has deprecated or hidden (its resource plugins' support status `DEPRECATED` or
//! `HIDDEN`; most hidden ones are now placeholders that create nothing) are `W3004`, with
//! what to use instead ([`HEAT_DEPRECATED_TYPES`]).

use crate::diagnostic::{Code, Diagnostic};
use crate::names;
use crate::template::model::Template;
use crate::template::version::Format;
use crate::validate::ValidateOptions;

/// Every resource type Heat registers (sorted).
pub const HEAT_RESOURCE_TYPES: &[&str] = &[
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::AutoScaling::LaunchConfiguration",
    "AWS::AutoScaling::ScalingPolicy",
    "AWS::CloudFormation::Stack",
    "AWS::CloudFormation::WaitCondition",
    "AWS::CloudFormation::WaitConditionHandle",
    "AWS::EC2::EIP",
    "AWS::EC2::EIPAssociation",
    "AWS::EC2::Instance",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NetworkInterface",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::Volume",
    "AWS::EC2::VolumeAttachment",
    "AWS::ElasticLoadBalancing::LoadBalancer",
    "AWS::IAM::AccessKey",
    "AWS::IAM::User",
    "AWS::S3::Bucket",
    "OS::Aodh::Alarm",
    "OS::Aodh::CombinationAlarm",
    "OS::Aodh::CompositeAlarm",
    "OS::Aodh::EventAlarm",
    "OS::Aodh::GnocchiAggregationByMetricsAlarm",
    "OS::Aodh::GnocchiAggregationByResourcesAlarm",
    "OS::Aodh::GnocchiResourcesAlarm",
    "OS::Aodh::LBMemberHealthAlarm",
    "OS::Aodh::PrometheusAlarm",
    "OS::Barbican::CertificateContainer",
    "OS::Barbican::GenericContainer",
    "OS::Barbican::Order",
    "OS::Barbican::RSAContainer",
    "OS::Barbican::Secret",
    "OS::Blazar::Host",
    "OS::Blazar::Lease",
    "OS::Cinder::EncryptedVolumeType",
    "OS::Cinder::QoSAssociation",
    "OS::Cinder::QoSSpecs",
    "OS::Cinder::Quota",
    "OS::Cinder::Volume",
    "OS::Cinder::VolumeAttachment",
    "OS::Cinder::VolumeType",
    "OS::Designate::Domain",
    "OS::Designate::Record",
    "OS::Designate::RecordSet",
    "OS::Designate::Zone",
    "OS::Glance::Image",
    "OS::Glance::WebImage",
    "OS::Heat::AccessPolicy",
    "OS::Heat::AutoScalingGroup",
    "OS::Heat::CloudConfig",
    "OS::Heat::Delay",
    "OS::Heat::DeployedServer",
    "OS::Heat::HARestarter",
    "OS::Heat::InstanceGroup",
    "OS::Heat::MultipartMime",
    "OS::Heat::None",
    "OS::Heat::RandomString",
    "OS::Heat::ResourceChain",
    "OS::Heat::ResourceGroup",
    "OS::Heat::ScalingPolicy",
    "OS::Heat::SoftwareComponent",
    "OS::Heat::SoftwareConfig",
    "OS::Heat::SoftwareDeployment",
    "OS::Heat::SoftwareDeploymentGroup",
    "OS::Heat::SoftwareDeployments",
    "OS::Heat::Stack",
    "OS::Heat::StructuredConfig",
    "OS::Heat::StructuredDeployment",
    "OS::Heat::StructuredDeploymentGroup",
    "OS::Heat::StructuredDeployments",
    "OS::Heat::SwiftSignal",
    "OS::Heat::SwiftSignalHandle",
    "OS::Heat::TestResource",
    "OS::Heat::UpdateWaitConditionHandle",
    "OS::Heat::Value",
    "OS::Heat::WaitCondition",
    "OS::Heat::WaitConditionHandle",
    "OS::Ironic::Port",
    "OS::Keystone::Domain",
    "OS::Keystone::Endpoint",
    "OS::Keystone::Group",
    "OS::Keystone::GroupRoleAssignment",
    "OS::Keystone::Project",
    "OS::Keystone::Region",
    "OS::Keystone::Role",
    "OS::Keystone::Service",
    "OS::Keystone::User",
    "OS::Keystone::UserRoleAssignment",
    "OS::Magnum::Bay",
    "OS::Magnum::BayModel",
    "OS::Magnum::Cluster",
    "OS::Magnum::ClusterTemplate",
    "OS::Manila::SecurityService",
    "OS::Manila::Share",
    "OS::Manila::ShareNetwork",
    "OS::Manila::ShareType",
    "OS::Mistral::CronTrigger",
    "OS::Mistral::ExternalResource",
    "OS::Mistral::Workflow",
    "OS::Monasca::AlarmDefinition",
    "OS::Monasca::Notification",
    "OS::Neutron::AddressScope",
    "OS::Neutron::ExtraRoute",
    "OS::Neutron::ExtraRouteSet",
    "OS::Neutron::Firewall",
    "OS::Neutron::FirewallPolicy",
    "OS::Neutron::FirewallRule",
    "OS::Neutron::FloatingIP",
    "OS::Neutron::FloatingIPAssociation",
    "OS::Neutron::FloatingIPPortForward",
    "OS::Neutron::FlowClassifier",
    "OS::Neutron::HealthMonitor",
    "OS::Neutron::IKEPolicy",
    "OS::Neutron::IPsecPolicy",
    "OS::Neutron::IPsecSiteConnection",
    "OS::Neutron::L2Gateway",
    "OS::Neutron::L2GatewayConnection",
    "OS::Neutron::LBaaS::HealthMonitor",
    "OS::Neutron::LBaaS::L7Policy",
    "OS::Neutron::LBaaS::L7Rule",
    "OS::Neutron::LBaaS::Listener",
    "OS::Neutron::LBaaS::LoadBalancer",
    "OS::Neutron::LBaaS::Pool",
    "OS::Neutron::LBaaS::PoolMember",
    "OS::Neutron::LoadBalancer",
    "OS::Neutron::MeteringLabel",
    "OS::Neutron::MeteringRule",
    "OS::Neutron::Net",
    "OS::Neutron::NetworkGateway",
    "OS::Neutron::Pool",
    "OS::Neutron::PoolMember",
    "OS::Neutron::Port",
    "OS::Neutron::PortChain",
    "OS::Neutron::PortPair",
    "OS::Neutron::PortPairGroup",
    "OS::Neutron::ProviderNet",
    "OS::Neutron::QoSBandwidthLimitRule",
    "OS::Neutron::QoSDscpMarkingRule",
    "OS::Neutron::QoSMinimumBandwidthRule",
    "OS::Neutron::QoSMinimumPacketRateRule",
    "OS::Neutron::QoSPolicy",
    "OS::Neutron::Quota",
    "OS::Neutron::RBACPolicy",
    "OS::Neutron::Router",
    "OS::Neutron::RouterGateway",
    "OS::Neutron::RouterInterface",
    "OS::Neutron::SecurityGroup",
    "OS::Neutron::SecurityGroupRule",
    "OS::Neutron::Segment",
    "OS::Neutron::Subnet",
    "OS::Neutron::SubnetPool",
    "OS::Neutron::TaaS::TapFlow",
    "OS::Neutron::TaaS::TapService",
    "OS::Neutron::Trunk",
    "OS::Neutron::VPNService",
    "OS::Nova::Flavor",
    "OS::Nova::FloatingIP",
    "OS::Nova::FloatingIPAssociation",
    "OS::Nova::HostAggregate",
    "OS::Nova::KeyPair",
    "OS::Nova::Quota",
    "OS::Nova::Server",
    "OS::Nova::ServerGroup",
    "OS::Octavia::AvailabilityZone",
    "OS::Octavia::AvailabilityZoneProfile",
    "OS::Octavia::Flavor",
    "OS::Octavia::FlavorProfile",
    "OS::Octavia::HealthMonitor",
    "OS::Octavia::L7Policy",
    "OS::Octavia::L7Rule",
    "OS::Octavia::Listener",
    "OS::Octavia::LoadBalancer",
    "OS::Octavia::Pool",
    "OS::Octavia::PoolMember",
    "OS::Octavia::Quota",
    "OS::Sahara::Cluster",
    "OS::Sahara::ClusterTemplate",
    "OS::Sahara::DataSource",
    "OS::Sahara::ImageRegistry",
    "OS::Sahara::Job",
    "OS::Sahara::JobBinary",
    "OS::Sahara::NodeGroupTemplate",
    "OS::Senlin::Cluster",
    "OS::Senlin::Node",
    "OS::Senlin::Policy",
    "OS::Senlin::Profile",
    "OS::Senlin::Receiver",
    "OS::Swift::Container",
    "OS::Trove::Cluster",
    "OS::Trove::Instance",
    "OS::Vitrage::Template",
    "OS::Zaqar::MistralTrigger",
    "OS::Zaqar::Queue",
    "OS::Zaqar::SignedQueueURL",
    "OS::Zaqar::Subscription",
    "OS::Zun::Container",
];

/// Type names Heat's global environment maps to other types or to template files.
pub const HEAT_GLOBAL_ALIASES: &[&str] = &[
    "AWS::CloudWatch::Alarm",
    "AWS::RDS::DBInstance",
    "OS::Metering::Alarm",
    "OS::Ceilometer::Alarm",
    "OS::Ceilometer::GnocchiResourcesAlarm",
    "OS::Ceilometer::GnocchiAggregationByMetricsAlarm",
    "OS::Ceilometer::GnocchiAggregationByResourcesAlarm",
    "OS::Ceilometer::CombinationAlarm",
];

/// How Heat treats a resource type it no longer recommends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deprecation {
    /// Deprecated: it still works, but will go away.
    Deprecated,
    /// Hidden: no longer listed or supported, though templates may still name it.
    Hidden,
    /// Hidden and now a placeholder that creates nothing (so existing stacks still load).
    Placeholder,
}

/// A resource type Heat has deprecated or hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeprecatedType {
    /// The type name.
    pub name: &'static str,
    /// What Heat does with it now.
    pub status: Deprecation,
    /// The Heat version since which it has that status.
    pub since: &'static str,
    /// What to do instead (names the replacement type when there is one).
    pub advice: &'static str,
}

const fn dep(
    name: &'static str,
    status: Deprecation,
    since: &'static str,
    advice: &'static str,
) -> DeprecatedType {
    DeprecatedType {
        name,
        status,
        since,
        advice,
    }
}

const RETIRED_SAHARA: &str = "the Sahara project was retired";
const RETIRED_SENLIN: &str = "the Senlin project was retired";
const RETIRED_MONASCA: &str = "the Monasca project was retired";

/// The resource types Heat's plugins mark `DEPRECATED` or `HIDDEN` (sorted by name).
pub const HEAT_DEPRECATED_TYPES: &[DeprecatedType] = {
    use Deprecation::*;
    &[
        dep(
            "OS::Aodh::Alarm",
            Deprecated,
            "10.0.0",
            "threshold alarms need ceilometer-api, which Aodh deprecated; use \
             OS::Aodh::GnocchiAggregationByResourcesAlarm instead",
        ),
        dep(
            "OS::Aodh::CombinationAlarm",
            Placeholder,
            "9.0.0",
            "Aodh removed combination alarms; use OS::Aodh::CompositeAlarm instead",
        ),
        dep(
            "OS::Designate::Domain",
            Placeholder,
            "10.0.0",
            "use OS::Designate::Zone instead",
        ),
        dep(
            "OS::Designate::Record",
            Placeholder,
            "10.0.0",
            "use OS::Designate::RecordSet instead",
        ),
        dep(
            "OS::Glance::Image",
            Placeholder,
            "22.0.0",
            "it needed the Glance v1 API; use OS::Glance::WebImage to import an image from a \
             URL",
        ),
        dep(
            "OS::Heat::HARestarter",
            Placeholder,
            "10.0.0",
            "it was removed; nothing replaces it in Heat",
        ),
        dep(
            "OS::Heat::SoftwareDeployments",
            Hidden,
            "7.0.0",
            "use OS::Heat::SoftwareDeploymentGroup instead",
        ),
        dep(
            "OS::Heat::StructuredDeployments",
            Hidden,
            "7.0.0",
            "use OS::Heat::StructuredDeploymentGroup instead",
        ),
        dep(
            "OS::Magnum::Bay",
            Placeholder,
            "11.0.0",
            "use OS::Magnum::Cluster instead",
        ),
        dep(
            "OS::Magnum::BayModel",
            Hidden,
            "11.0.0",
            "use OS::Magnum::ClusterTemplate instead",
        ),
        dep(
            "OS::Monasca::AlarmDefinition",
            Placeholder,
            "25.0.0",
            RETIRED_MONASCA,
        ),
        dep(
            "OS::Monasca::Notification",
            Placeholder,
            "25.0.0",
            RETIRED_MONASCA,
        ),
        dep(
            "OS::Neutron::HealthMonitor",
            Placeholder,
            "9.0.0",
            "Neutron LBaaS v1 was removed; use OS::Octavia::HealthMonitor instead",
        ),
        dep(
            "OS::Neutron::LBaaS::HealthMonitor",
            Placeholder,
            "21.0.0",
            "Neutron LBaaS was removed; use OS::Octavia::HealthMonitor instead",
        ),
        dep(
            "OS::Neutron::LBaaS::L7Policy",
            Placeholder,
            "21.0.0",
            "Neutron LBaaS was removed; use OS::Octavia::L7Policy instead",
        ),
        dep(
            "OS::Neutron::LBaaS::L7Rule",
            Placeholder,
            "21.0.0",
            "Neutron LBaaS was removed; use OS::Octavia::L7Rule instead",
        ),
        dep(
            "OS::Neutron::LBaaS::Listener",
            Placeholder,
            "21.0.0",
            "Neutron LBaaS was removed; use OS::Octavia::Listener instead",
        ),
        dep(
            "OS::Neutron::LBaaS::LoadBalancer",
            Placeholder,
            "21.0.0",
            "Neutron LBaaS was removed; use OS::Octavia::LoadBalancer instead",
        ),
        dep(
            "OS::Neutron::LBaaS::Pool",
            Placeholder,
            "21.0.0",
            "Neutron LBaaS was removed; use OS::Octavia::Pool instead",
        ),
        dep(
            "OS::Neutron::LBaaS::PoolMember",
            Placeholder,
            "21.0.0",
            "Neutron LBaaS was removed; use OS::Octavia::PoolMember instead",
        ),
        dep(
            "OS::Neutron::LoadBalancer",
            Placeholder,
            "9.0.0",
            "Neutron LBaaS v1 was removed; use OS::Octavia::LoadBalancer instead",
        ),
        dep(
            "OS::Neutron::Pool",
            Placeholder,
            "9.0.0",
            "Neutron LBaaS v1 was removed; use OS::Octavia::Pool instead",
        ),
        dep(
            "OS::Neutron::PoolMember",
            Placeholder,
            "9.0.0",
            "Neutron LBaaS v1 was removed; use OS::Octavia::PoolMember instead",
        ),
        dep(
            "OS::Neutron::RouterGateway",
            Hidden,
            "5.0.0",
            "set the external_gateway_info property of the OS::Neutron::Router instead",
        ),
        dep(
            "OS::Nova::FloatingIP",
            Hidden,
            "11.0.0",
            "use OS::Neutron::FloatingIP instead",
        ),
        dep(
            "OS::Nova::FloatingIPAssociation",
            Hidden,
            "11.0.0",
            "use OS::Neutron::FloatingIPAssociation instead",
        ),
        dep("OS::Sahara::Cluster", Placeholder, "23.0.0", RETIRED_SAHARA),
        dep(
            "OS::Sahara::ClusterTemplate",
            Placeholder,
            "23.0.0",
            RETIRED_SAHARA,
        ),
        dep(
            "OS::Sahara::DataSource",
            Placeholder,
            "23.0.0",
            RETIRED_SAHARA,
        ),
        dep(
            "OS::Sahara::ImageRegistry",
            Placeholder,
            "23.0.0",
            RETIRED_SAHARA,
        ),
        dep("OS::Sahara::Job", Placeholder, "23.0.0", RETIRED_SAHARA),
        dep(
            "OS::Sahara::JobBinary",
            Placeholder,
            "23.0.0",
            RETIRED_SAHARA,
        ),
        dep(
            "OS::Sahara::NodeGroupTemplate",
            Placeholder,
            "23.0.0",
            RETIRED_SAHARA,
        ),
        dep("OS::Senlin::Cluster", Placeholder, "23.0.0", RETIRED_SENLIN),
        dep("OS::Senlin::Node", Placeholder, "23.0.0", RETIRED_SENLIN),
        dep("OS::Senlin::Policy", Placeholder, "23.0.0", RETIRED_SENLIN),
        dep("OS::Senlin::Profile", Placeholder, "23.0.0", RETIRED_SENLIN),
        dep(
            "OS::Senlin::Receiver",
            Placeholder,
            "23.0.0",
            RETIRED_SENLIN,
        ),
        dep(
            "OS::Vitrage::Template",
            Placeholder,
            "27.0.0",
            "the Vitrage project was retired",
        ),
    ]
};

/// Names Heat's global environment maps to another type (an alias inherits the target's
/// deprecation).
pub const HEAT_TYPE_ALIASES: &[(&str, &str)] = &[
    ("OS::Ceilometer::Alarm", "OS::Aodh::Alarm"),
    (
        "OS::Ceilometer::CombinationAlarm",
        "OS::Aodh::CombinationAlarm",
    ),
    (
        "OS::Ceilometer::GnocchiAggregationByMetricsAlarm",
        "OS::Aodh::GnocchiAggregationByMetricsAlarm",
    ),
    (
        "OS::Ceilometer::GnocchiAggregationByResourcesAlarm",
        "OS::Aodh::GnocchiAggregationByResourcesAlarm",
    ),
    (
        "OS::Ceilometer::GnocchiResourcesAlarm",
        "OS::Aodh::GnocchiResourcesAlarm",
    ),
    ("OS::Metering::Alarm", "OS::Aodh::Alarm"),
];

/// The type an alias of Heat's global environment stands for (`OS::Quantum::Net` →
/// `OS::Neutron::Net`, `OS::Ceilometer::Alarm` → `OS::Aodh::Alarm`), if `ty` is one.
pub fn alias_target(ty: &str) -> Option<String> {
    if let Some((_, to)) = HEAT_TYPE_ALIASES.iter().find(|(from, _)| *from == ty) {
        return Some((*to).to_string());
    }
    HEAT_PREFIX_ALIASES
        .iter()
        .find_map(|(from, to)| ty.strip_prefix(from).map(|rest| format!("{to}{rest}")))
}

/// Whether Heat deprecated or hid `ty` (directly or through an alias): the entry and, for an
/// alias, the type it stands for.
pub fn deprecation(ty: &str) -> Option<(&'static DeprecatedType, Option<String>)> {
    let find = |name: &str| HEAT_DEPRECATED_TYPES.iter().find(|d| d.name == name);
    if let Some(d) = find(ty) {
        return Some((d, None));
    }
    let target = alias_target(ty)?;
    find(&target).map(|d| (d, Some(target)))
}

/// Prefix aliases of Heat's global environment (`OS::Quantum*` → `OS::Neutron*`): a type
/// with the first prefix is known when the same type with the second prefix is.
pub const HEAT_PREFIX_ALIASES: &[(&str, &str)] = &[("OS::Quantum", "OS::Neutron")];

/// Whether a type names a template file (a template resource): a name ending in `.yaml`,
/// `.yml`, `.template` or `.json`, or a URL.
pub fn is_template_reference(ty: &str) -> bool {
    let lower = ty.to_ascii_lowercase();
    [".yaml", ".yml", ".template", ".json"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || ["http://", "https://", "file://"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
}

fn is_segment(s: &str, extra: &[char]) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// Whether `ty` is a well-formed AWS CloudFormation resource type name:
/// `Org::Service::Type` (AWS, Alexa and registry extensions), `Org::Service::Type::MODULE`,
/// or `Custom::Name` (letters, digits, `_`, `@`, `-`).
pub fn is_well_formed_cfn_type(ty: &str) -> bool {
    if let Some(name) = ty.strip_prefix("Custom::") {
        return name.len() <= 60 && is_segment(name, &['_', '@', '-']);
    }
    let parts: Vec<&str> = ty.split("::").collect();
    (parts.len() == 3 || (parts.len() == 4 && parts[3] == "MODULE"))
        && parts[..3].iter().all(|p| is_segment(p, &['_']))
}

pub use crate::names::glob_match;

/// Whether Heat, offline, knows `ty` with these options: a built-in (or configured) type,
/// a global-environment alias, or an extra (registry) type.
pub fn is_known_heat_type(ty: &str, options: &ValidateOptions) -> bool {
    let builtin = |t: &str| match &options.known_resource_types {
        Some(list) => list.iter().any(|k| k == t),
        None => HEAT_RESOURCE_TYPES.contains(&t) || HEAT_GLOBAL_ALIASES.contains(&t),
    };
    if builtin(ty) {
        return true;
    }
    if options.known_resource_types.is_none() {
        for (from, to) in HEAT_PREFIX_ALIASES {
            if let Some(rest) = ty.strip_prefix(from)
                && builtin(&format!("{to}{rest}"))
            {
                return true;
            }
        }
    }
    options
        .extra_resource_types
        .iter()
        .any(|p| glob_match(p, ty))
}

/// Checks every resource's type (warnings only: the server decides for real).
pub fn check(template: &Template, options: &ValidateOptions, diags: &mut Vec<Diagnostic>) {
    if !options.check_resource_types || template.has_transform() {
        return;
    }
    let format = template.format();
    // The suggestion for each unknown type, computed once per type (a stack of thousands of
    // resources of one custom type must not pay an edit-distance search per resource).
    let mut suggestions: std::collections::HashMap<&str, Option<String>> =
        std::collections::HashMap::new();
    let mut known_types: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
    for res in &template.resources {
        let ty = res.ty.value.as_str();
        // A missing or non-string type is a structure error already.
        if ty.is_empty() || is_template_reference(ty) {
            continue;
        }
        check_deprecated(res, options, diags);
        match format {
            Format::Cfn => {
                if !is_well_formed_cfn_type(ty)
                    && !options
                        .extra_resource_types
                        .iter()
                        .any(|p| glob_match(p, ty))
                {
                    diags.push(
                        Diagnostic::warning(
                            Code::UnknownResourceType,
                            res.ty.span,
                            format!("resource {} has malformed type '{ty}'", res.name.value),
                        )
                        .with_hint(
                            "resource types are written Organization::Service::Type \
                             (e.g. AWS::EC2::Instance) or Custom::Name",
                        ),
                    );
                }
            }
            Format::Hot | Format::HeatCfn => {
                let known = *known_types
                    .entry(ty)
                    .or_insert_with(|| is_known_heat_type(ty, options));
                if known {
                    continue;
                }
                let mut d = Diagnostic::warning(
                    Code::UnknownResourceType,
                    res.ty.span,
                    format!(
                        "resource {} has type '{ty}', which is not a known resource type",
                        res.name.value
                    ),
                );
                let suggestion = suggestions.entry(ty).or_insert_with(|| {
                    let candidates: Vec<&str> = match &options.known_resource_types {
                        Some(list) => list.iter().map(String::as_str).collect(),
                        None => HEAT_RESOURCE_TYPES.to_vec(),
                    };
                    names::did_you_mean(ty, candidates)
                });
                d = d.with_hint(match suggestion.clone() {
                    Some(s) => s,
                    None => "checked offline against Heat's built-in types: if an \
                             environment's resource_registry maps this type, pass that \
                             environment (-e FILE); otherwise the server will reject it"
                        .to_string(),
                });
                diags.push(d);
            }
        }
    }
}

/// `W3004` for a resource whose type Heat deprecated or hid (unless the environment's
/// registry maps the name to something else).
fn check_deprecated(
    res: &crate::template::model::Resource,
    options: &ValidateOptions,
    diags: &mut Vec<Diagnostic>,
) {
    let ty = res.ty.value.as_str();
    if options
        .extra_resource_types
        .iter()
        .any(|p| glob_match(p, ty))
    {
        return;
    }
    let Some((entry, via)) = deprecation(ty) else {
        return;
    };
    let what = match &via {
        Some(target) => format!("'{ty}' (an alias of {target})"),
        None => format!("'{ty}'"),
    };
    let since = entry.since;
    let status = match entry.status {
        Deprecation::Deprecated => format!("which Heat has deprecated since {since}"),
        Deprecation::Hidden => format!("which Heat no longer supports (hidden since {since})"),
        Deprecation::Placeholder => {
            format!(
                "which Heat has removed: since {since} it is a placeholder that creates nothing"
            )
        }
    };
    diags.push(
        Diagnostic::warning(
            Code::Deprecated,
            res.ty.span,
            format!("resource {} has type {what}, {status}", res.name.value),
        )
        .with_hint(entry.advice),
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity)]
mod tests {
    use super::*;
    use crate::template::version::Version;
    use crate::validate::parse_json as template;
    use serde_json::json;

    #[test]
    fn lists() {
        assert_eq!(HEAT_RESOURCE_TYPES.len(), 201);
        let mut sorted = HEAT_RESOURCE_TYPES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), HEAT_RESOURCE_TYPES.len());
        for t in HEAT_GLOBAL_ALIASES {
            assert!(!HEAT_RESOURCE_TYPES.contains(t), "{t}");
        }
    }

    #[test]
    fn predicates() {
        let opts = ValidateOptions::default();
        for (ty, known) in [
            ("OS::Nova::Server", true),
            ("OS::Heat::None", true),
            ("AWS::EC2::Instance", true),
            ("AWS::RDS::DBInstance", true),
            ("OS::Quantum::Net", true),
            ("OS::Quantum::Nope", false),
            ("OS::Ceilometer::Alarm", true),
            ("OS::Nova::Servr", false),
            ("AWS::Lambda::Function", false),
        ] {
            assert_eq!(is_known_heat_type(ty, &opts), known, "{ty}");
        }
        for (ty, ok) in [
            ("AWS::EC2::Instance", true),
            ("Custom::My-Thing_1@x", true),
            ("Alexa::ASK::Skill", true),
            ("MyOrg::Svc::Thing", true),
            ("MyOrg::Svc::Thing::MODULE", true),
            ("AWS::EC2", false),
            ("AWS::EC2::Instance::Extra", false),
            ("Custom::", false),
            ("", false),
            ("AWS::EC2::Inst ance", false),
        ] {
            assert_eq!(is_well_formed_cfn_type(ty), ok, "{ty:?}");
        }
        for (ty, file) in [
            ("nested.yaml", true),
            ("x/y.YML", true),
            ("a.template", true),
            ("b.json", true),
            ("https://example.com/t", true),
            ("file:///etc/heat/templates/x", true),
            ("OS::Nova::Server", false),
        ] {
            assert_eq!(is_template_reference(ty), file, "{ty}");
        }
        for (pat, name, m) in [
            ("My::*", "My::Server", true),
            ("My::*", "Your::Server", false),
            ("*::Server", "My::Server", true),
            ("A*B*C", "AxxBxxC", true),
            ("A*B*C", "AxxBxx", false),
            ("exact", "exact", true),
        ] {
            assert_eq!(glob_match(pat, name), m, "{pat} {name}");
        }
    }

    fn warnings(version: Version, doc: serde_json::Value, opts: &ValidateOptions) -> Vec<String> {
        let t = template(version, doc);
        let mut d = Vec::new();
        check(&t, opts, &mut d);
        d.retain(|d| d.code != Code::Deprecated);
        assert!(d.iter().all(|d| d.code == Code::UnknownResourceType
            && d.severity == crate::diagnostic::Severity::Warning));
        d.into_iter()
            .map(|d| format!("{} | {}", d.message, d.hint.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn deprecated_list() {
        let names: Vec<&str> = HEAT_DEPRECATED_TYPES.iter().map(|d| d.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, names, "sorted and unique");
        for d in HEAT_DEPRECATED_TYPES {
            assert!(HEAT_RESOURCE_TYPES.contains(&d.name), "{}", d.name);
            // a named replacement is a type Heat has and supports
            for word in d.advice.split([' ', ',', ';']) {
                if word.starts_with("OS::") {
                    assert!(HEAT_RESOURCE_TYPES.contains(&word), "{word}");
                    assert!(deprecation(word).is_none(), "{word}");
                }
            }
        }
        for (from, to) in HEAT_TYPE_ALIASES {
            assert!(HEAT_GLOBAL_ALIASES.contains(from), "{from}");
            assert!(HEAT_RESOURCE_TYPES.contains(to), "{to}");
        }
    }

    #[test]
    fn deprecated_types_warn() {
        let doc = json!({"resources": {
            "deployments": {"type": "OS::Heat::SoftwareDeployments"},
            "alarm": {"type": "OS::Ceilometer::Alarm"},
            "lb": {"type": "OS::Quantum::LoadBalancer"},
            "cluster": {"type": "OS::Senlin::Cluster"},
            "ok": {"type": "OS::Heat::SoftwareDeploymentGroup"}}});
        let t = template(Version::Hot20210416, doc.clone());
        let mut d = Vec::new();
        check(&t, &ValidateOptions::default(), &mut d);
        let got: Vec<(String, String)> = d
            .iter()
            .map(|d| {
                assert_eq!(d.code, Code::Deprecated);
                assert_eq!(d.severity, crate::diagnostic::Severity::Warning);
                (d.message.clone(), d.hint.clone().unwrap())
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "resource deployments has type 'OS::Heat::SoftwareDeployments', which Heat \
                     no longer supports (hidden since 7.0.0)"
                        .to_string(),
                    "use OS::Heat::SoftwareDeploymentGroup instead".to_string()
                ),
                (
                    "resource alarm has type 'OS::Ceilometer::Alarm' (an alias of \
                     OS::Aodh::Alarm), which Heat has deprecated since 10.0.0"
                        .to_string(),
                    "threshold alarms need ceilometer-api, which Aodh deprecated; use \
                     OS::Aodh::GnocchiAggregationByResourcesAlarm instead"
                        .to_string()
                ),
                (
                    "resource lb has type 'OS::Quantum::LoadBalancer' (an alias of \
                     OS::Neutron::LoadBalancer), which Heat has removed: since 9.0.0 it is a \
                     placeholder that creates nothing"
                        .to_string(),
                    "Neutron LBaaS v1 was removed; use OS::Octavia::LoadBalancer instead"
                        .to_string()
                ),
                (
                    "resource cluster has type 'OS::Senlin::Cluster', which Heat has removed: \
                     since 23.0.0 it is a placeholder that creates nothing"
                        .to_string(),
                    "the Senlin project was retired".to_string()
                ),
            ]
        );
        // an environment that maps the name decides what it is
        let mapped = ValidateOptions {
            extra_resource_types: vec!["OS::Senlin::*".to_string()],
            ..ValidateOptions::default()
        };
        let mut d = Vec::new();
        check(&t, &mapped, &mut d);
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn check_by_format() {
        let opts = ValidateOptions::default();
        let hot = json!({"resources": {
            "a": {"type": "OS::Nova::Server"},
            "b": {"type": "OS::Nova::Servr"},
            "c": {"type": "My::Custom"},
            "d": {"type": "nested.yaml"}}});
        let w = warnings(Version::Hot20210416, hot.clone(), &opts);
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("resource b has type 'OS::Nova::Servr'"));
        assert!(w[0].contains("did you mean 'OS::Nova::Server'?"));
        assert!(w[1].contains("resource_registry"));
        // the environment's registry names more types
        let with_registry = ValidateOptions {
            extra_resource_types: vec!["My::*".to_string()],
            ..ValidateOptions::default()
        };
        assert_eq!(
            warnings(Version::Hot20210416, hot.clone(), &with_registry).len(),
            1
        );
        // a server's own list replaces the built-in one
        let server = ValidateOptions {
            known_resource_types: Some(vec!["OS::Nova::Servr".to_string()]),
            ..ValidateOptions::default()
        };
        let w = warnings(Version::Hot20210416, hot.clone(), &server);
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("resource a"));
        // off
        let off = ValidateOptions {
            check_resource_types: false,
            ..ValidateOptions::default()
        };
        assert!(warnings(Version::Hot20210416, hot, &off).is_empty());
        // Heat's CFN dialect knows only Heat's AWS types
        let w = warnings(
            Version::Heat20121212,
            json!({"Resources": {"a": {"Type": "AWS::EC2::Instance"}, "b": {"Type": "AWS::Lambda::Function"}}}),
            &opts,
        );
        assert_eq!(w.len(), 1);
        // AWS: any well-formed name
        let w = warnings(
            Version::Cfn20100909,
            json!({"Resources": {"a": {"Type": "AWS::Lambda::Function"}, "b": {"Type": "Custom::X"},
                                 "c": {"Type": "AWS::Lambda"}, "d": {"Type": "nested.template"}}}),
            &opts,
        );
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("resource c has malformed type 'AWS::Lambda'"));
        // transforms skip the check
        let w = warnings(
            Version::Cfn20100909,
            json!({"Transform": "MyMacro", "Resources": {"a": {"Type": "Bad"}}}),
            &opts,
        );
        assert!(w.is_empty());
    }
}
