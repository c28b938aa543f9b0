//! The handles: `AWS::CloudFormation::WaitConditionHandle` and
//! `OS::Heat::WaitConditionHandle`.
//!
//! A handle is ready as soon as it is created; its physical id is a UUID derived from the
//! idempotency token (Heat uses the id of the Keystone user it creates). It keeps a random
//! secret and the URLs described in the [module docs](super), and records the signals it
//! receives ([`super::signal`]).
//!
//! - The AWS handle has no properties and no attributes; its reference (`Ref`) is its signal
//!   URL: the native signal endpoint with `?token=<secret>` (Heat: an EC2-signed URL).
//! - The OS handle's reference is its physical id. Its `signal_transport` (default
//!   `TOKEN_SIGNAL`) decides what it hands out:
//!
//! | transport | `token` | `endpoint` | `curl_cli` | `signal` |
//! |---|---|---|---|---|
//! | `TOKEN_SIGNAL` | the secret | the signal endpoint | a `curl` command line (null without an HTTP endpoint) | `null` |
//! | `CFN_SIGNAL` | null | null | null | `{"alarm_url": <the pre-signed URL>}` |
//! | `NO_SIGNAL` | null | null | null | `{}`; the wait condition counts the handle as signalled, as Heat does |
//!
//!   `HEAT_SIGNAL`, `TEMP_URL_SIGNAL` and `ZAQAR_SIGNAL` need Keystone users, Swift or
//!   Zaqar, which this cloud-free provider does not use: creating a handle with one of them
//!   fails with a message saying so (the schema still accepts them, as Heat's does, so a
//!   provider that supports them can be registered in this one's place).

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::engine::builtins::wait_condition::signal::{self, SignalFormat};
use crate::engine::builtins::wait_condition::{python_json, quote};
use crate::engine::builtins::{common_attribute, property_error, string_property, uuid_from_token};
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
};
use crate::engine::schema::{AttributeSchema, PropertySchema, PropertyType, ResourceSchema};
use crate::template::model::ConstraintKind;

/// The AWS handle's type name.
pub const CFN_HANDLE_TYPE: &str = "AWS::CloudFormation::WaitConditionHandle";
/// The OS handle's type name.
pub const HEAT_HANDLE_TYPE: &str = "OS::Heat::WaitConditionHandle";
/// Heat's AWS-style handle that is replaced on every update. Not provided here; a wait
/// condition accepts it as a handle when a provider for it keeps signals as
/// [`super::signal`] does.
pub const UPDATE_HANDLE_TYPE: &str = "OS::Heat::UpdateWaitConditionHandle";

/// Data key: the handle's secret (64 hex characters).
pub const DATA_TOKEN: &str = "token";
/// Data key: the signal endpoint (OS handle, `TOKEN_SIGNAL`).
pub const DATA_ENDPOINT: &str = "endpoint";
/// Data key: the pre-signed signal URL (AWS handle; OS handle with `CFN_SIGNAL`).
pub const DATA_SIGNAL_URL: &str = "signal_url";
/// Data key: the OS handle's signal transport.
pub const DATA_TRANSPORT: &str = "signal_transport";

/// The scheme of the URN used when the host has no signal endpoint.
pub const URN_SCHEME: &str = "heat-signal:";

/// How an OS handle is signalled (Heat's `signal_transport` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalTransport {
    /// A POST to a pre-signed URL.
    Cfn,
    /// A PUT to a Swift TempURL (needs Swift).
    TempUrl,
    /// heat-api's resource-signal with Keystone credentials of a stack user (needs Keystone).
    Heat,
    /// No signal: the handle counts as signalled.
    None,
    /// A Zaqar queue (needs Zaqar).
    Zaqar,
    /// A POST to the signal endpoint with a token.
    Token,
}

impl SignalTransport {
    /// Every transport, in Heat's order.
    pub const ALL: [SignalTransport; 6] = [
        SignalTransport::Cfn,
        SignalTransport::TempUrl,
        SignalTransport::Heat,
        SignalTransport::None,
        SignalTransport::Zaqar,
        SignalTransport::Token,
    ];

    /// The name as templates write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalTransport::Cfn => "CFN_SIGNAL",
            SignalTransport::TempUrl => "TEMP_URL_SIGNAL",
            SignalTransport::Heat => "HEAT_SIGNAL",
            SignalTransport::None => "NO_SIGNAL",
            SignalTransport::Zaqar => "ZAQAR_SIGNAL",
            SignalTransport::Token => "TOKEN_SIGNAL",
        }
    }

    /// Reads a transport name.
    pub fn parse(text: &str) -> Option<SignalTransport> {
        SignalTransport::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
    }

    /// What the transport needs that this provider does not have, if anything.
    fn unsupported_because(self) -> Option<&'static str> {
        match self {
            SignalTransport::Heat => Some("Keystone users for the stack"),
            SignalTransport::TempUrl => Some("Swift"),
            SignalTransport::Zaqar => Some("Zaqar"),
            SignalTransport::Cfn | SignalTransport::None | SignalTransport::Token => None,
        }
    }
}

/// Whether `presented` is the secret kept in a handle's `data` (compared in constant time).
/// What a signal API checks before delivering a signal authenticated by a handle's token.
pub fn token_matches(data: &ResourceData, presented: &str) -> bool {
    let Some(token) = data.get(DATA_TOKEN) else {
        return false;
    };
    let (a, b) = (token.as_bytes(), presented.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new secret: 32 random bytes as hex.
fn new_token(ctx: &ResourceContext<'_>) -> String {
    let mut bytes = [0u8; 32];
    ctx.services.random.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The host's HTTP signal base, when it has one.
fn http_base<'a>(ctx: &ResourceContext<'a>) -> Option<&'a str> {
    ctx.services
        .signal_endpoint
        .as_deref()
        .map(|b| b.trim_end_matches('/'))
        .filter(|b| !b.is_empty())
}

/// The resource's signal endpoint: `<base>/stacks/<stack>/<id>/resources/<name>/signal`, or
/// the `heat-signal:` URN when the host has no signal endpoint.
pub fn signal_endpoint(ctx: &ResourceContext<'_>) -> String {
    let path = format!(
        "stacks/{}/{}/resources/{}/signal",
        quote(ctx.stack_name),
        quote(ctx.stack_id),
        quote(ctx.resource_name)
    );
    match http_base(ctx) {
        Some(base) => format!("{base}/{path}"),
        None => format!("{URN_SCHEME}{path}"),
    }
}

/// The pre-signed URL: the signal endpoint with the secret as the `token` query parameter
/// (the bare URN when the host has no signal endpoint).
fn presigned_url(ctx: &ResourceContext<'_>, token: &str) -> String {
    let endpoint = signal_endpoint(ctx);
    if http_base(ctx).is_some() {
        format!("{endpoint}?token={token}")
    } else {
        endpoint
    }
}

/// The `AWS::CloudFormation::WaitConditionHandle` provider.
#[derive(Debug)]
pub struct CfnWaitConditionHandle {
    schema: ResourceSchema,
}

impl CfnWaitConditionHandle {
    /// The provider.
    pub fn new() -> CfnWaitConditionHandle {
        CfnWaitConditionHandle {
            schema: ResourceSchema {
                open: false,
                type_name: CFN_HANDLE_TYPE,
                description: "Receives the signals an AWS::CloudFormation::WaitCondition waits \
                              for. Its reference is a pre-signed URL to which cfn-signal sends \
                              {\"Status\", \"Reason\", \"UniqueId\", \"Data\"}.",
                properties: Vec::new(),
                attributes: Vec::new(),
            },
        }
    }
}

impl Default for CfnWaitConditionHandle {
    fn default() -> CfnWaitConditionHandle {
        CfnWaitConditionHandle::new()
    }
}

/// Records a signal in `format` into the handle's data.
fn receive(
    ctx: &ResourceContext<'_>,
    format: SignalFormat,
    details: &Value,
) -> Result<ResourceData, ProviderError> {
    let failed = |e: signal::SignalError| {
        ProviderError::Failed(format!(
            "Metadata format invalid for resources.{}: {e}",
            ctx.resource_name
        ))
    };
    let received = signal::received_count(ctx.data);
    match signal::parse_signal(format, details, received).map_err(failed)? {
        None => Ok(ctx.data.clone()),
        Some(s) => signal::record(ctx.data, &s).map_err(failed),
    }
}

#[async_trait]
impl ResourceProvider for CfnWaitConditionHandle {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        _properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let token = new_token(ctx);
        let mut data = ResourceData::new();
        data.insert(DATA_SIGNAL_URL.to_string(), presigned_url(ctx, &token));
        data.insert(DATA_TOKEN.to_string(), token);
        Ok(Created {
            physical_id: uuid_from_token(ctx.idempotency_token),
            data,
            progress: Progress::Done,
        })
    }

    /// Nothing outside the engine to remove; the signals go with the resource's data.
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
        common_attribute(name)
    }

    /// The pre-signed signal URL kept at create (the bare endpoint for a handle that has
    /// none kept, e.g. an adopted one).
    fn reference_id(&self, ctx: &ResourceContext<'_>, _physical_id: &str) -> Option<String> {
        Some(
            ctx.data
                .get(DATA_SIGNAL_URL)
                .cloned()
                .unwrap_or_else(|| signal_endpoint(ctx)),
        )
    }

    /// `{"Status": "SUCCESS" | "FAILURE", "Reason": ..., "UniqueId": ..., "Data": ...}`;
    /// a null body changes nothing.
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        details: &Value,
    ) -> Result<ResourceData, ProviderError> {
        receive(ctx, SignalFormat::Cfn, details)
    }
}

/// The `OS::Heat::WaitConditionHandle` provider.
#[derive(Debug)]
pub struct HeatWaitConditionHandle {
    schema: ResourceSchema,
}

impl HeatWaitConditionHandle {
    /// The provider.
    pub fn new() -> HeatWaitConditionHandle {
        HeatWaitConditionHandle {
            schema: ResourceSchema {
                open: false,
                type_name: HEAT_HANDLE_TYPE,
                description: "Receives the signals an OS::Heat::WaitCondition waits for: \
                              {\"status\", \"reason\", \"id\", \"data\"}, every key optional.",
                properties: vec![
                    PropertySchema::new(
                        "signal_transport",
                        PropertyType::String,
                        "How the client signals the wait condition. TOKEN_SIGNAL: an HTTP POST \
                         to the endpoint attribute with the token attribute as X-Auth-Token. \
                         CFN_SIGNAL: an HTTP POST to a pre-signed URL (the alarm_url in the \
                         signal attribute). NO_SIGNAL: the handle counts as signalled without \
                         waiting. HEAT_SIGNAL, TEMP_URL_SIGNAL and ZAQAR_SIGNAL need Keystone, \
                         Swift or Zaqar, which the built-in provider does not use.",
                    )
                    .default(json!("TOKEN_SIGNAL"))
                    .constraint(ConstraintKind::AllowedValues(
                        SignalTransport::ALL
                            .iter()
                            .map(|t| Value::from(t.as_str()))
                            .collect(),
                    )),
                ],
                attributes: vec![
                    AttributeSchema {
                        name: "token",
                        description: "The token to signal the handle with when \
                                      signal_transport is TOKEN_SIGNAL; null otherwise.",
                    },
                    AttributeSchema {
                        name: "endpoint",
                        description: "The URL to signal the handle at when signal_transport \
                                      is TOKEN_SIGNAL; null otherwise.",
                    },
                    AttributeSchema {
                        name: "curl_cli",
                        description: "A curl command line that signals the handle when \
                                      signal_transport is TOKEN_SIGNAL: add --data-binary \
                                      '{\"status\": \"SUCCESS\"}' (or FAILURE). Null for the \
                                      other transports and when the host has no HTTP endpoint.",
                    },
                    AttributeSchema {
                        name: "signal",
                        description: "JSON text of the map a client needs to signal the handle \
                                      (its contents depend on signal_transport).",
                    },
                ],
            },
        }
    }
}

impl Default for HeatWaitConditionHandle {
    fn default() -> HeatWaitConditionHandle {
        HeatWaitConditionHandle::new()
    }
}

/// The transport kept in a handle's data (Heat's default when none is kept).
fn kept_transport(data: &ResourceData) -> SignalTransport {
    data.get(DATA_TRANSPORT)
        .and_then(|t| SignalTransport::parse(t))
        .unwrap_or(SignalTransport::Token)
}

#[async_trait]
impl ResourceProvider for HeatWaitConditionHandle {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let name = string_property(properties, "signal_transport", "TOKEN_SIGNAL")
            .map_err(|e| property_error(ctx, &e))?;
        let transport = SignalTransport::parse(&name).ok_or_else(|| {
            property_error(
                ctx,
                &format!(
                    "signal_transport: \"{name}\" is not one of the allowed values {}",
                    SignalTransport::ALL.map(SignalTransport::as_str).join(", ")
                ),
            )
        })?;
        if let Some(needs) = transport.unsupported_because() {
            return Err(ProviderError::Failed(format!(
                "resources.{}: signal_transport {name} needs {needs}, which the built-in \
                 {HEAT_HANDLE_TYPE} does not use; use TOKEN_SIGNAL, CFN_SIGNAL or NO_SIGNAL, or \
                 register a provider that supports {name}",
                ctx.resource_name
            )));
        }
        let mut data = ResourceData::new();
        data.insert(DATA_TRANSPORT.to_string(), name);
        match transport {
            SignalTransport::Token => {
                data.insert(DATA_ENDPOINT.to_string(), signal_endpoint(ctx));
                data.insert(DATA_TOKEN.to_string(), new_token(ctx));
            }
            SignalTransport::Cfn => {
                let token = new_token(ctx);
                data.insert(DATA_SIGNAL_URL.to_string(), presigned_url(ctx, &token));
                data.insert(DATA_TOKEN.to_string(), token);
            }
            _ => {}
        }
        Ok(Created {
            physical_id: uuid_from_token(ctx.idempotency_token),
            data,
            progress: Progress::Done,
        })
    }

    /// Nothing outside the engine to remove; the signals go with the resource's data.
    async fn delete(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    async fn attribute(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        let transport = kept_transport(ctx.data);
        let token_only = |key: &str| match transport {
            SignalTransport::Token => ctx
                .data
                .get(key)
                .cloned()
                .map_or(Value::Null, Value::String),
            _ => Value::Null,
        };
        match name {
            "token" => Ok(token_only(DATA_TOKEN)),
            "endpoint" => Ok(token_only(DATA_ENDPOINT)),
            "curl_cli" => Ok(match (token_only(DATA_TOKEN), token_only(DATA_ENDPOINT)) {
                (Value::String(token), Value::String(endpoint))
                    if !endpoint.starts_with(URN_SCHEME) =>
                {
                    Value::String(format!(
                        "curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: \
                         application/json' -H 'Accept: application/json' {endpoint}"
                    ))
                }
                _ => Value::Null,
            }),
            "signal" => {
                let signal = match transport {
                    SignalTransport::Cfn => json!({
                        "alarm_url": ctx.data.get(DATA_SIGNAL_URL).cloned().unwrap_or_default()
                    }),
                    SignalTransport::None => json!({}),
                    _ => Value::Null,
                };
                Ok(Value::String(python_json(&signal)))
            }
            other => common_attribute(other),
        }
    }

    /// `{"status": "SUCCESS" | "FAILURE", "reason": ..., "id": ..., "data": ...}`, every key
    /// optional.
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        details: &Value,
    ) -> Result<ResourceData, ProviderError> {
        receive(ctx, SignalFormat::Heat, details)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::engine::builtins::testkit::{Harness, props};
    use crate::engine::builtins::wait_condition::signal::{SignalStatus, received};

    fn with_endpoint(seed: u64, endpoint: Option<&str>) -> Harness {
        let mut h = Harness::new(seed);
        h.services.signal_endpoint = endpoint.map(str::to_string);
        h
    }

    const BASE: &str = "http://heat.example:8004/v1/tenant-1";

    #[test]
    fn cfn_handle_reference_is_a_presigned_url_and_create_is_idempotent() {
        let h = with_endpoint(1, Some("http://heat.example:8004/v1/tenant-1/"));
        let p = CfnWaitConditionHandle::new();
        assert!(p.schema().properties.is_empty());
        assert!(p.schema().schema_errors().is_empty());
        let empty = ResourceData::new();
        let ctx = h.ctx("My Handle", &empty);
        let a = block_on(p.create(&ctx, &props(json!({})))).unwrap();
        let b = block_on(p.create(&ctx, &props(json!({})))).unwrap();
        assert_eq!(a.physical_id, b.physical_id);
        assert_eq!(a.progress, Progress::Done);
        let token = a.data.get(DATA_TOKEN).unwrap().clone();
        assert_eq!(token.len(), 64);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        // A new secret each time; only the one kept counts.
        assert_ne!(b.data.get(DATA_TOKEN), Some(&token));
        let ctx = h.ctx("My Handle", &a.data);
        assert_eq!(
            p.reference_id(&ctx, &a.physical_id).unwrap(),
            format!(
                "{BASE}/stacks/teststack/0b6a3c1e-stack/resources/My%20Handle/signal?token={token}"
            )
        );
        assert!(token_matches(&a.data, &token));
        assert!(!token_matches(&a.data, &token[1..]));
        assert!(!token_matches(&a.data, &"0".repeat(64)));
        assert!(!token_matches(&ResourceData::new(), ""));
        assert_eq!(block_on(p.attribute(&ctx, "id", "show")), Ok(Value::Null));
        assert!(matches!(
            block_on(p.attribute(&ctx, "id", "token")),
            Err(ProviderError::UnknownAttribute(_))
        ));
        assert_eq!(block_on(p.delete(&ctx, "id")), Ok(Progress::Done));
    }

    #[test]
    fn cfn_handle_without_an_endpoint_is_named_by_a_urn() {
        let h = with_endpoint(1, None);
        let p = CfnWaitConditionHandle::new();
        let empty = ResourceData::new();
        let created = block_on(p.create(&h.ctx("handle", &empty), &props(json!({})))).unwrap();
        let ctx = h.ctx("handle", &created.data);
        let want = "heat-signal:stacks/teststack/0b6a3c1e-stack/resources/handle/signal";
        assert_eq!(p.reference_id(&ctx, "id").as_deref(), Some(want));
        // Nothing kept (adopted): the bare endpoint.
        assert_eq!(
            p.reference_id(&h.ctx("handle", &empty), "id").as_deref(),
            Some(want)
        );
        // An empty endpoint is no endpoint.
        let h = with_endpoint(1, Some(""));
        assert_eq!(signal_endpoint(&h.ctx("handle", &empty)), want);
    }

    #[test]
    fn cfn_handle_records_signals() {
        let h = Harness::new(1);
        let p = CfnWaitConditionHandle::new();
        let empty = ResourceData::new();
        let created = block_on(p.create(&h.ctx("handle", &empty), &props(json!({})))).unwrap();
        let ctx = h.ctx("handle", &created.data);
        let data = block_on(p.signal(
            &ctx,
            "id",
            &json!({"Status": "SUCCESS", "Reason": "up", "UniqueId": "i-1", "Data": "web"}),
        ))
        .unwrap();
        assert_eq!(data.get(DATA_TOKEN), created.data.get(DATA_TOKEN));
        let got = received(&data).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].id.as_str(), got[0].status),
            ("i-1", SignalStatus::Success)
        );
        // No body: nothing changes.
        let ctx = h.ctx("handle", &data);
        assert_eq!(block_on(p.signal(&ctx, "id", &Value::Null)).unwrap(), data);
        // A body in the OS format is refused with the keys to use.
        let err = block_on(p.signal(&ctx, "id", &json!({"status": "SUCCESS"}))).unwrap_err();
        let ProviderError::Failed(msg) = err else {
            panic!("failed");
        };
        assert!(
            msg.starts_with("Metadata format invalid for resources.handle: the signal is missing Data, Reason, Status, UniqueId"),
            "{msg}"
        );
    }

    #[test]
    fn heat_handle_schema_matches_heat() {
        let p = HeatWaitConditionHandle::new();
        let s = p.schema();
        assert!(s.schema_errors().is_empty());
        let t = s.property("signal_transport").unwrap();
        assert_eq!(t.ty, PropertyType::String);
        assert_eq!(t.default, Some(json!("TOKEN_SIGNAL")));
        assert!(!t.update_allowed && !t.required);
        assert_eq!(
            t.constraints,
            [ConstraintKind::AllowedValues(vec![
                json!("CFN_SIGNAL"),
                json!("TEMP_URL_SIGNAL"),
                json!("HEAT_SIGNAL"),
                json!("NO_SIGNAL"),
                json!("ZAQAR_SIGNAL"),
                json!("TOKEN_SIGNAL"),
            ])]
        );
        let attrs: Vec<&str> = s.attributes.iter().map(|a| a.name).collect();
        assert_eq!(attrs, ["token", "endpoint", "curl_cli", "signal"]);
    }

    fn attrs(p: &HeatWaitConditionHandle, ctx: &ResourceContext<'_>) -> Vec<Value> {
        ["token", "endpoint", "curl_cli", "signal"]
            .iter()
            .map(|n| block_on(p.attribute(ctx, "id", n)).unwrap())
            .collect()
    }

    #[test]
    fn heat_handle_attributes_with_a_signal_endpoint() {
        let h = with_endpoint(5, Some(BASE));
        let p = HeatWaitConditionHandle::new();
        let empty = ResourceData::new();
        let created = block_on(p.create(&h.ctx("wh", &empty), &props(json!({})))).unwrap();
        assert_eq!(created.progress, Progress::Done);
        assert_eq!(p.reference_id(&h.ctx("wh", &created.data), "id"), None);
        let ctx = h.ctx("wh", &created.data);
        let token = created.data.get(DATA_TOKEN).unwrap().clone();
        let endpoint = format!("{BASE}/stacks/teststack/0b6a3c1e-stack/resources/wh/signal");
        assert_eq!(
            attrs(&p, &ctx),
            [
                json!(token),
                json!(endpoint),
                json!(format!(
                    "curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: \
                     application/json' -H 'Accept: application/json' {endpoint}"
                )),
                json!("null"),
            ]
        );

        let created = block_on(p.create(
            &h.ctx("wh", &empty),
            &props(json!({"signal_transport": "CFN_SIGNAL"})),
        ))
        .unwrap();
        let ctx = h.ctx("wh", &created.data);
        let token = created.data.get(DATA_TOKEN).unwrap();
        assert_eq!(
            attrs(&p, &ctx),
            [
                Value::Null,
                Value::Null,
                Value::Null,
                json!(format!("{{\"alarm_url\": \"{endpoint}?token={token}\"}}")),
            ]
        );

        let created = block_on(p.create(
            &h.ctx("wh", &empty),
            &props(json!({"signal_transport": "NO_SIGNAL"})),
        ))
        .unwrap();
        assert_eq!(created.data.get(DATA_TOKEN), None);
        let ctx = h.ctx("wh", &created.data);
        assert_eq!(
            attrs(&p, &ctx),
            [Value::Null, Value::Null, Value::Null, json!("{}")]
        );
        assert_eq!(block_on(p.attribute(&ctx, "id", "show")), Ok(Value::Null));
        assert!(matches!(
            block_on(p.attribute(&ctx, "id", "data")),
            Err(ProviderError::UnknownAttribute(_))
        ));
    }

    #[test]
    fn heat_handle_attributes_without_a_signal_endpoint() {
        let h = with_endpoint(5, None);
        let p = HeatWaitConditionHandle::new();
        let empty = ResourceData::new();
        let created = block_on(p.create(&h.ctx("wh", &empty), &props(json!({})))).unwrap();
        let ctx = h.ctx("wh", &created.data);
        let token = created.data.get(DATA_TOKEN).unwrap().clone();
        assert_eq!(
            attrs(&p, &ctx),
            [
                json!(token),
                json!("heat-signal:stacks/teststack/0b6a3c1e-stack/resources/wh/signal"),
                Value::Null,
                json!("null"),
            ]
        );
        // Nothing kept at all (adopted): Heat's TOKEN_SIGNAL shape with nulls.
        let ctx = h.ctx("wh", &empty);
        assert_eq!(
            attrs(&p, &ctx),
            [Value::Null, Value::Null, Value::Null, json!("null")]
        );
    }

    #[test]
    fn heat_handle_refuses_transports_it_cannot_serve() {
        let h = Harness::new(5);
        let p = HeatWaitConditionHandle::new();
        let empty = ResourceData::new();
        for (transport, needs) in [
            ("HEAT_SIGNAL", "Keystone"),
            ("TEMP_URL_SIGNAL", "Swift"),
            ("ZAQAR_SIGNAL", "Zaqar"),
        ] {
            let err = block_on(p.create(
                &h.ctx("wh", &empty),
                &props(json!({"signal_transport": transport})),
            ))
            .unwrap_err();
            let ProviderError::Failed(msg) = err else {
                panic!("failed");
            };
            assert!(msg.contains(transport) && msg.contains(needs), "{msg}");
            assert!(
                msg.contains("use TOKEN_SIGNAL, CFN_SIGNAL or NO_SIGNAL"),
                "{msg}"
            );
        }
        let err = block_on(p.create(
            &h.ctx("wh", &empty),
            &props(json!({"signal_transport": "SMOKE"})),
        ))
        .unwrap_err();
        assert!(matches!(err, ProviderError::Failed(m)
            if m.starts_with("Property error: resources.wh.properties.signal_transport: \"SMOKE\"")));
    }

    #[test]
    fn heat_handle_numbers_signals_without_ids() {
        let h = Harness::new(5);
        let p = HeatWaitConditionHandle::new();
        let empty = ResourceData::new();
        let mut data = block_on(p.create(&h.ctx("wh", &empty), &props(json!({}))))
            .unwrap()
            .data;
        for body in [
            json!(null),
            json!({"id": "x", "data": "first"}),
            json!({}),
            json!({"id": "1", "reason": "again"}),
            json!({"status": "FAILURE", "reason": "broke"}),
        ] {
            data = block_on(p.signal(&h.ctx("wh", &data), "id", &body)).unwrap();
        }
        let got: Vec<(String, &str, String)> = received(&data)
            .unwrap()
            .into_iter()
            .map(|s| (s.id.clone(), s.status.as_str(), s.reason_text()))
            .collect();
        assert_eq!(
            got,
            [
                ("1".to_string(), "SUCCESS", "again".to_string()),
                ("x".to_string(), "SUCCESS", "Signal 2 received".to_string()),
                ("3".to_string(), "SUCCESS", "Signal 3 received".to_string()),
                ("4".to_string(), "FAILURE", "broke".to_string()),
            ]
        );
        let err =
            block_on(p.signal(&h.ctx("wh", &data), "id", &json!({"status": "ok"}))).unwrap_err();
        assert!(matches!(err, ProviderError::Failed(m)
            if m.contains("status \"ok\" is not a valid status: it must be SUCCESS or FAILURE")));
    }
}
