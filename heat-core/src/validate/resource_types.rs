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

use crate::diagnostic::{Code, Diagnostic};
use crate::template::model::Template;
use crate::template::version::Format;
use crate::validate::ValidateOptions;
use crate::validate::names;

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

/// A glob match where `*` stands for any run of characters (resource_registry style).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob_match(rest, &tail[i..]))
        }
    }
}

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
    for res in &template.resources {
        let ty = res.ty.value.as_str();
        // A missing or non-string type is a structure error already.
        if ty.is_empty() || is_template_reference(ty) {
            continue;
        }
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
                if is_known_heat_type(ty, options) {
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
                let candidates: Vec<&str> = match &options.known_resource_types {
                    Some(list) => list.iter().map(String::as_str).collect(),
                    None => HEAT_RESOURCE_TYPES.to_vec(),
                };
                d = d.with_hint(match names::did_you_mean(ty, candidates) {
                    Some(s) => s,
                    None => "checked offline against Heat's built-in types; a type the \
                             server's environment (resource_registry) defines is fine, \
                             otherwise the server will reject it"
                        .to_string(),
                });
                diags.push(d);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::type_complexity)]
mod tests {
    use super::*;
    use crate::template::version::Version;
    use crate::validate::testing::template;
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
        assert!(d.iter().all(|d| d.code == Code::UnknownResourceType
            && d.severity == crate::diagnostic::Severity::Warning));
        d.into_iter()
            .map(|d| format!("{} | {}", d.message, d.hint.unwrap_or_default()))
            .collect()
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
