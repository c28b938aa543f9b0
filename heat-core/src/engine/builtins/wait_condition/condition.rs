//! The wait conditions: `AWS::CloudFormation::WaitCondition` and `OS::Heat::WaitCondition`.
//!
//! Both wait until their handle has received `count` signals with different ids, fail when one
//! of them is a `FAILURE`, and fail when `timeout` seconds pass first (see the
//! [module docs](super)). They differ as in Heat: the AWS one's properties are `Handle`,
//! `Timeout` (an integer) and `Count` and its attribute is `Data`, and its handle must be an
//! AWS handle; the OS one's are `handle`, `timeout` (a number) and `count`, its attribute is
//! `data`, and any handle type will do.
//!
//! - The handle is the dependency whose reference (or physical id) equals the handle property.
//! - `count` updates in place: the wait starts again, with a new deadline, against the
//!   signals the handle holds (done at once when it already has enough). A new handle or
//!   timeout means a new wait condition.
//! - The reference (`Ref` / `get_resource`) is the resource's name, as in Heat (it has no
//!   physical resource; the physical id the engine records is derived from the idempotency
//!   token, so a repeated create gives the same one).
//! - The data attribute is JSON text mapping each signal id to the data sent with it, in the
//!   order the ids arrived (`{"1": null, "i-2": "ready"}`); empty text when the handle cannot
//!   be found.
//! - A `NO_SIGNAL` OS handle counts as signalled: as in Heat, where each check of the wait
//!   adds a default signal to such a handle, the missing signals are taken to be Heat's
//!   defaults (`{"<n>": null}` in the data attribute), so the wait ends at the first check.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::engine::builtins::wait_condition::handle::{
    CFN_HANDLE_TYPE, DATA_TRANSPORT, HEAT_HANDLE_TYPE, UPDATE_HANDLE_TYPE,
};
use crate::engine::builtins::wait_condition::python_json;
use crate::engine::builtins::wait_condition::signal::{
    self, MAX_SIGNAL_IDS, Signal, SignalError, SignalStatus,
};
use crate::engine::builtins::{
    Wait, common_attribute, number_value, physical_resource_name, property_error, record_wait,
    string_property, wait_progress,
};
use crate::engine::provider::{
    Created, Peer, Progress, Properties, ProviderError, ResourceContext, ResourceData,
    ResourceProvider, Updated,
};
use crate::engine::schema::{AttributeSchema, PropertySchema, PropertyType, ResourceSchema};
use crate::template::model::ConstraintKind;

/// The AWS wait condition's type name.
pub const CFN_CONDITION_TYPE: &str = "AWS::CloudFormation::WaitCondition";
/// The OS wait condition's type name.
pub const HEAT_CONDITION_TYPE: &str = "OS::Heat::WaitCondition";

/// How often a wait condition asks to be checked again while it waits.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The longest timeout, in seconds (Heat's: 12 hours).
pub const MAX_TIMEOUT_SECS: f64 = 43200.0;

/// Data key: the handle's reference, as the handle property gave it.
const DATA_HANDLE: &str = "handle";
/// Data key: how many signals to wait for.
const DATA_COUNT: &str = "count";

/// Which of the two types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    Cfn,
    Heat,
}

impl Flavour {
    /// The property names: handle, timeout, count.
    fn props(self) -> [&'static str; 3] {
        match self {
            Flavour::Cfn => ["Handle", "Timeout", "Count"],
            Flavour::Heat => ["handle", "timeout", "count"],
        }
    }

    fn data_attribute(self) -> &'static str {
        match self {
            Flavour::Cfn => "Data",
            Flavour::Heat => "data",
        }
    }

    /// Whether a resource of this type can be the handle (Heat: the AWS wait condition
    /// wants an AWS handle, the OS one any wait condition handle).
    fn accepts(self, resource_type: &str) -> bool {
        match self {
            Flavour::Cfn => [CFN_HANDLE_TYPE, UPDATE_HANDLE_TYPE].contains(&resource_type),
            Flavour::Heat => {
                [CFN_HANDLE_TYPE, HEAT_HANDLE_TYPE, UPDATE_HANDLE_TYPE].contains(&resource_type)
            }
        }
    }
}

/// The settings read from the properties.
#[derive(Clone, Debug, PartialEq)]
struct Params {
    handle: String,
    timeout: f64,
    count: usize,
}

impl Params {
    /// Reads and checks the properties; reports every problem, naming the property.
    fn read(flavour: Flavour, props: &Properties) -> Result<Params, String> {
        let [handle_key, timeout_key, count_key] = flavour.props();
        let mut errors = Vec::new();
        let handle = match props.get(handle_key) {
            None | Some(Value::Null) => {
                errors.push(format!("{handle_key}: a value is required"));
                String::new()
            }
            Some(_) => string_property(props, handle_key, "").unwrap_or_else(|e| {
                errors.push(e);
                String::new()
            }),
        };
        let timeout = match props.get(timeout_key).map(|v| (v, number_value(v))) {
            None | Some((Value::Null, _)) => {
                errors.push(format!("{timeout_key}: a value is required"));
                0.0
            }
            Some((_, Some(t))) if (1.0..=MAX_TIMEOUT_SECS).contains(&t) => t,
            Some((v, Some(_))) => {
                errors.push(format!(
                    "{timeout_key}: {v} is out of range (min: 1, max: {MAX_TIMEOUT_SECS})"
                ));
                0.0
            }
            Some((v, None)) => {
                errors.push(format!("{timeout_key}: {v} is not a number"));
                0.0
            }
        };
        let count = match props.get(count_key).map(|v| (v, number_value(v))) {
            None | Some((Value::Null, _)) => 1,
            Some((v, Some(n))) if n.fract() != 0.0 => {
                errors.push(format!("{count_key}: {v} is not an integer"));
                1
            }
            Some((v, Some(n))) if n < 1.0 => {
                errors.push(format!("{count_key}: {v} is out of range (min: 1)"));
                1
            }
            Some((v, Some(n))) if n > MAX_SIGNAL_IDS as f64 => {
                errors.push(format!(
                    "{count_key}: {v} is more than the {MAX_SIGNAL_IDS} signals a handle can \
                     keep"
                ));
                1
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some((_, Some(n))) => n as usize,
            Some((v, None)) => {
                errors.push(format!("{count_key}: {v} is not an integer"));
                1
            }
        };
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(Params {
            handle,
            timeout,
            count,
        })
    }
}

/// What a wait condition keeps between its steps.
struct Kept {
    handle: String,
    count: usize,
}

impl Kept {
    fn read(data: &ResourceData) -> Result<Kept, ProviderError> {
        let missing = |key: &str| {
            ProviderError::Failed(format!(
                "the wait condition's stored {key} is missing or not valid; recreate it"
            ))
        };
        Ok(Kept {
            handle: data
                .get(DATA_HANDLE)
                .cloned()
                .ok_or_else(|| missing(DATA_HANDLE))?,
            count: data
                .get(DATA_COUNT)
                .and_then(|c| c.parse::<usize>().ok())
                .ok_or_else(|| missing(DATA_COUNT))?,
        })
    }
}

/// The `AWS::CloudFormation::WaitCondition` and `OS::Heat::WaitCondition` provider.
#[derive(Debug)]
pub struct WaitConditionResource {
    flavour: Flavour,
    schema: ResourceSchema,
}

impl WaitConditionResource {
    /// The `AWS::CloudFormation::WaitCondition` provider.
    pub fn cfn() -> WaitConditionResource {
        WaitConditionResource::new(Flavour::Cfn)
    }

    /// The `OS::Heat::WaitCondition` provider.
    pub fn heat() -> WaitConditionResource {
        WaitConditionResource::new(Flavour::Heat)
    }

    fn new(flavour: Flavour) -> WaitConditionResource {
        let [handle, timeout, count] = flavour.props();
        let (type_name, timeout_type, data_description) = match flavour {
            Flavour::Cfn => (
                CFN_CONDITION_TYPE,
                PropertyType::Integer,
                "JSON string containing data associated with wait condition signals sent to \
                 the handle.",
            ),
            Flavour::Heat => (
                HEAT_CONDITION_TYPE,
                PropertyType::Number,
                "JSON string containing data associated with wait condition signals sent to \
                 the handle.",
            ),
        };
        WaitConditionResource {
            flavour,
            schema: ResourceSchema {
                open: false,
                type_name,
                description: "Waits until its handle has received the given number of \
                              success signals, failing on a failure signal or at the timeout.",
                properties: vec![
                    PropertySchema::new(
                        handle,
                        PropertyType::String,
                        "A reference to the wait condition handle used to signal this wait \
                         condition.",
                    )
                    .required(),
                    PropertySchema::new(
                        timeout,
                        timeout_type,
                        "The number of seconds to wait for the correct number of signals to \
                         arrive.",
                    )
                    .required()
                    .constraint(ConstraintKind::Range {
                        min: Some(1.0),
                        max: Some(MAX_TIMEOUT_SECS),
                    }),
                    PropertySchema::new(
                        count,
                        PropertyType::Integer,
                        "The number of success signals that must be received before the stack \
                         creation process continues.",
                    )
                    .default(json!(1))
                    .constraint(ConstraintKind::Range {
                        min: Some(1.0),
                        max: None,
                    })
                    .update_allowed(),
                ],
                attributes: vec![AttributeSchema {
                    name: flavour.data_attribute(),
                    description: data_description,
                }],
            },
        }
    }

    fn params(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Properties,
    ) -> Result<Params, ProviderError> {
        Params::read(self.flavour, props).map_err(|e| property_error(ctx, &e))
    }

    /// The handle among the dependencies, checked as Heat checks it.
    fn find_handle<'p>(
        &self,
        ctx: &ResourceContext<'p>,
        reference: &str,
    ) -> Result<&'p Peer, ProviderError> {
        let found = ctx.peers.iter().find(|p| {
            p.reference.as_deref() == Some(reference) || p.physical_id.as_deref() == Some(reference)
        });
        let problem = match found {
            Some(peer) if self.flavour.accepts(&peer.resource_type) => return Ok(peer),
            Some(peer) => match self.flavour {
                Flavour::Cfn => format!(
                    "WaitCondition invalid Handle {} (it is an {}, not an {CFN_HANDLE_TYPE})",
                    peer.name, peer.resource_type
                ),
                Flavour::Heat => format!(
                    "{} is not a valid wait condition handle (it is an {})",
                    peer.name, peer.resource_type
                ),
            },
            None => {
                let [handle_key, ..] = self.flavour.props();
                let how = match self.flavour {
                    Flavour::Cfn => format!("{{Ref: <an {CFN_HANDLE_TYPE}>}}"),
                    Flavour::Heat => "{get_resource: <a wait condition handle>}".to_string(),
                };
                format!(
                    "{reference} is not a valid wait condition handle (the {handle_key} \
                     property must be {how} of this stack)"
                )
            }
        };
        Err(ProviderError::Failed(format!(
            "ValueError: resources.{}: {problem}",
            ctx.resource_name
        )))
    }

    /// Where the wait stands, given the wait condition's data: Heat's order (timeout, then
    /// failure, then count).
    fn progress(
        &self,
        ctx: &ResourceContext<'_>,
        data: &ResourceData,
    ) -> Result<Progress, ProviderError> {
        let kept = Kept::read(data)?;
        let handle = self.find_handle(ctx, &kept.handle)?;
        let signals = effective_signals(handle, kept.count).map_err(|e| stored_error(ctx, &e))?;
        let reasons = |status: SignalStatus| -> Vec<String> {
            signals
                .iter()
                .filter(|s| s.status == status)
                .map(Signal::reason_text)
                .collect()
        };
        let left = match wait_progress(data, ctx.services.clock.now())? {
            Progress::Done => {
                let success = reasons(SignalStatus::Success);
                let mut message = format!("{} of {} received", success.len(), kept.count);
                if !success.is_empty() {
                    message.push_str(" - ");
                    message.push_str(&success.join(";"));
                }
                return Err(ProviderError::Failed(format!(
                    "WaitConditionTimeout: resources.{}: {message}",
                    ctx.resource_name
                )));
            }
            Progress::CheckAfter(left) => left,
        };
        if signals.iter().any(|s| s.status != SignalStatus::Success) {
            return Err(ProviderError::Failed(format!(
                "WaitConditionFailure: resources.{}: {}",
                ctx.resource_name,
                reasons(SignalStatus::Failure).join(";")
            )));
        }
        if signals.len() >= kept.count {
            return Ok(Progress::Done);
        }
        Ok(Progress::CheckAfter(left.min(POLL_INTERVAL)))
    }

    /// The data to keep for a wait on `params` starting now.
    fn wait_data(
        ctx: &ResourceContext<'_>,
        mut data: ResourceData,
        params: &Params,
    ) -> ResourceData {
        data.insert(DATA_HANDLE.to_string(), params.handle.clone());
        data.insert(DATA_COUNT.to_string(), params.count.to_string());
        let wait = match Wait::from_secs(params.timeout) {
            // The timeout is at least a second; never wait for nothing or for ever.
            Wait::None | Wait::Endless => Wait::For(Duration::from_secs(1)),
            w => w,
        };
        record_wait(&mut data, wait, ctx.services.clock.now());
        data
    }
}

/// A failure to read the handle's signals.
fn stored_error(ctx: &ResourceContext<'_>, e: &SignalError) -> ProviderError {
    ProviderError::Failed(format!(
        "resources.{}: the handle's signals cannot be read: {e}",
        ctx.resource_name
    ))
}

/// The signals that count for a wait on `count` signals: those the handle recorded, and for a
/// `NO_SIGNAL` handle the default signals Heat would add, one per check, until the wait ends.
fn effective_signals(handle: &Peer, count: usize) -> Result<Vec<Signal>, SignalError> {
    let mut signals = signal::received(&handle.data)?;
    if handle.data.get(DATA_TRANSPORT).map(String::as_str) == Some("NO_SIGNAL") {
        loop {
            let before = signals.len();
            signal::merge(&mut signals, Signal::default_heat(before));
            let failed = signals.iter().any(|s| s.status != SignalStatus::Success);
            if failed || signals.len() >= count || signals.len() == before {
                break;
            }
        }
    }
    Ok(signals)
}

#[async_trait]
impl ResourceProvider for WaitConditionResource {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    fn watches_dependencies(&self) -> bool {
        true
    }

    /// Checks the handle (as Heat does at create), keeps the handle, count and deadline, and
    /// looks at the signals at once.
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let params = self.params(ctx, properties)?;
        self.find_handle(ctx, &params.handle)?;
        let data = Self::wait_data(ctx, ResourceData::new(), &params);
        let progress = self.progress(ctx, &data)?;
        Ok(Created {
            physical_id: physical_resource_name(ctx),
            data,
            progress,
        })
    }

    async fn check_create(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        self.progress(ctx, ctx.data)
    }

    /// A new `count` starts the wait again (new deadline) against the signals already
    /// received; a new handle or timeout needs a new wait condition.
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        let new_params = self.params(ctx, new)?;
        let [handle_key, timeout_key, _] = self.flavour.props();
        let before = Params::read(self.flavour, old).ok();
        for (key, changed) in [
            (
                handle_key,
                before
                    .as_ref()
                    .is_some_and(|b| b.handle != new_params.handle),
            ),
            (
                timeout_key,
                before
                    .as_ref()
                    .is_some_and(|b| b.timeout != new_params.timeout),
            ),
        ] {
            if changed {
                return Ok(Updated::NeedsReplacement {
                    reason: format!(
                        "the {key} property of {} cannot change in place",
                        self.schema.type_name
                    ),
                });
            }
        }
        let data = Self::wait_data(ctx, ctx.data.clone(), &new_params);
        let progress = self.progress(ctx, &data)?;
        Ok(Updated::InPlace { data, progress })
    }

    async fn check_update(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        self.progress(ctx, ctx.data)
    }

    /// Nothing to remove. (Heat also clears the handle's signals here; a provider cannot
    /// write another resource's data, so they stay with the handle.)
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
        if name != self.flavour.data_attribute() {
            return common_attribute(name);
        }
        let Ok(kept) = Kept::read(ctx.data) else {
            return Ok(Value::String(String::new()));
        };
        let Ok(handle) = self.find_handle(ctx, &kept.handle) else {
            return Ok(Value::String(String::new()));
        };
        let signals = effective_signals(handle, kept.count).map_err(|e| stored_error(ctx, &e))?;
        let map: Map<String, Value> = signals.into_iter().map(|s| (s.id, s.data)).collect();
        Ok(Value::String(python_json(&Value::Object(map))))
    }

    /// The resource's name, as in Heat (a wait condition has no physical resource).
    fn reference_id(&self, ctx: &ResourceContext<'_>, _physical_id: &str) -> Option<String> {
        Some(ctx.resource_name.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::engine::builtins::testkit::{Harness, props};
    use crate::engine::builtins::wait_condition::handle::{
        CfnWaitConditionHandle, HeatWaitConditionHandle,
    };

    /// A handle of `ty` created by its provider, with its reference as the engine records it.
    struct Handle {
        provider: Box<dyn ResourceProvider>,
        peer: Peer,
    }

    impl Handle {
        fn new(h: &Harness, ty: &str, properties: Value) -> Handle {
            let provider: Box<dyn ResourceProvider> = match ty {
                CFN_HANDLE_TYPE => Box::new(CfnWaitConditionHandle::new()),
                _ => Box::new(HeatWaitConditionHandle::new()),
            };
            let empty = ResourceData::new();
            let ctx = h.ctx("handle", &empty);
            let created = block_on(provider.create(&ctx, &props(properties))).unwrap();
            let ctx = h.ctx("handle", &created.data);
            let reference = provider
                .reference_id(&ctx, &created.physical_id)
                .unwrap_or_else(|| created.physical_id.clone());
            Handle {
                peer: Peer {
                    name: "handle".to_string(),
                    resource_type: ty.to_string(),
                    physical_id: Some(created.physical_id),
                    reference: Some(reference),
                    data: created.data,
                },
                provider,
            }
        }

        fn reference(&self) -> String {
            self.peer.reference.clone().unwrap()
        }

        /// Delivers a signal as the engine would: through the provider, keeping the data.
        fn signal(&mut self, h: &Harness, body: Value) {
            let ctx = h.ctx("handle", &self.peer.data);
            self.peer.data = block_on(self.provider.signal(&ctx, "id", &body)).unwrap();
        }
    }

    fn with_peers<'a>(
        h: &'a Harness,
        data: &'a ResourceData,
        peers: &'a [Peer],
    ) -> ResourceContext<'a> {
        let mut ctx = h.ctx("wait", data);
        ctx.peers = peers;
        ctx
    }

    fn failed(r: Result<impl std::fmt::Debug, ProviderError>) -> String {
        match r {
            Err(ProviderError::Failed(m)) => m,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn schemas_match_heat() {
        for (p, names, timeout_ty, attr) in [
            (
                WaitConditionResource::cfn(),
                ["Handle", "Timeout", "Count"],
                PropertyType::Integer,
                "Data",
            ),
            (
                WaitConditionResource::heat(),
                ["handle", "timeout", "count"],
                PropertyType::Number,
                "data",
            ),
        ] {
            let s = p.schema();
            assert!(s.schema_errors().is_empty());
            assert!(p.watches_dependencies());
            let [handle, timeout, count] = names.map(|n| s.property(n).unwrap());
            assert_eq!(s.properties.len(), 3);
            assert_eq!(handle.ty, PropertyType::String);
            assert!(handle.required && !handle.update_allowed);
            assert_eq!(timeout.ty, timeout_ty);
            assert!(timeout.required && !timeout.update_allowed);
            assert_eq!(
                timeout.constraints,
                [ConstraintKind::Range {
                    min: Some(1.0),
                    max: Some(43200.0)
                }]
            );
            assert_eq!(count.ty, PropertyType::Integer);
            assert_eq!(count.default, Some(json!(1)));
            assert!(count.update_allowed && !count.required);
            assert_eq!(
                count.constraints,
                [ConstraintKind::Range {
                    min: Some(1.0),
                    max: None
                }]
            );
            assert_eq!(s.attributes.len(), 1);
            assert_eq!(s.attributes[0].name, attr);
        }
    }

    #[test]
    fn one_success_signal_completes_and_a_repeated_create_gives_the_same_id() {
        let h = Harness::new(1);
        let mut handle = Handle::new(&h, HEAT_HANDLE_TYPE, json!({}));
        let p = WaitConditionResource::heat();
        let empty = ResourceData::new();
        let input = props(json!({"handle": handle.reference(), "timeout": 60}));
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &empty, &peers);
        let a = block_on(p.create(&ctx, &input)).unwrap();
        let b = block_on(p.create(&ctx, &input)).unwrap();
        assert_eq!(a.physical_id, b.physical_id);
        assert_eq!(a.data, b.data);
        assert_eq!(a.progress, Progress::CheckAfter(POLL_INTERVAL));
        assert_eq!(
            p.reference_id(&ctx, &a.physical_id).as_deref(),
            Some("wait")
        );

        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &a.data, &peers);
        h.clock.advance(Duration::from_secs(10));
        assert_eq!(
            block_on(p.check_create(&ctx, "id")),
            Ok(Progress::CheckAfter(POLL_INTERVAL))
        );
        handle.signal(&h, json!({"data": "ready"}));
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &a.data, &peers);
        assert_eq!(block_on(p.check_create(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "data")),
            Ok(json!("{\"1\": \"ready\"}"))
        );
    }

    #[test]
    fn counts_unique_ids_until_count() {
        let h = Harness::new(1);
        let mut handle = Handle::new(&h, CFN_HANDLE_TYPE, json!({}));
        let p = WaitConditionResource::cfn();
        let empty = ResourceData::new();
        let peers = [handle.peer.clone()];
        let created = block_on(p.create(
            &with_peers(&h, &empty, &peers),
            &props(json!({"Handle": handle.reference(), "Timeout": "300", "Count": "3"})),
        ))
        .unwrap();
        let mut progress = Vec::new();
        for id in ["a", "b", "a", "b", "c"] {
            handle.signal(
                &h,
                json!({"Status": "SUCCESS", "Reason": format!("r-{id}"), "UniqueId": id, "Data": id}),
            );
            let peers = [handle.peer.clone()];
            progress.push(
                block_on(p.check_create(&with_peers(&h, &created.data, &peers), "id")).unwrap(),
            );
        }
        let wait = Progress::CheckAfter(POLL_INTERVAL);
        assert_eq!(progress, [wait, wait, wait, wait, Progress::Done]);
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &created.data, &peers);
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "Data")),
            Ok(json!("{\"a\": \"a\", \"b\": \"b\", \"c\": \"c\"}"))
        );
        assert!(matches!(
            block_on(p.attribute(&ctx, "id", "data")),
            Err(ProviderError::UnknownAttribute(_))
        ));
        assert_eq!(block_on(p.attribute(&ctx, "id", "show")), Ok(Value::Null));
    }

    #[test]
    fn a_failure_signal_fails_the_wait_with_the_reasons() {
        let h = Harness::new(1);
        let mut handle = Handle::new(&h, HEAT_HANDLE_TYPE, json!({}));
        let p = WaitConditionResource::heat();
        let empty = ResourceData::new();
        let peers = [handle.peer.clone()];
        let created = block_on(p.create(
            &with_peers(&h, &empty, &peers),
            &props(json!({"handle": handle.reference(), "timeout": 60, "count": 5})),
        ))
        .unwrap();
        handle.signal(&h, json!({"status": "SUCCESS"}));
        handle.signal(&h, json!({"status": "FAILURE", "reason": "disk full"}));
        handle.signal(
            &h,
            json!({"status": "FAILURE", "reason": "no network", "id": "n"}),
        );
        let peers = [handle.peer.clone()];
        assert_eq!(
            failed(block_on(
                p.check_create(&with_peers(&h, &created.data, &peers), "id")
            )),
            "WaitConditionFailure: resources.wait: disk full;no network"
        );
        // A handle that already holds a failure fails the create itself.
        assert_eq!(
            failed(block_on(p.create(
                &with_peers(&h, &empty, &peers),
                &props(json!({"handle": handle.reference(), "timeout": 60})),
            ))),
            "WaitConditionFailure: resources.wait: disk full;no network"
        );
    }

    #[test]
    fn the_timeout_fails_the_wait_on_virtual_time() {
        let h = Harness::new(1);
        let mut handle = Handle::new(&h, HEAT_HANDLE_TYPE, json!({}));
        let p = WaitConditionResource::heat();
        let empty = ResourceData::new();
        let peers = [handle.peer.clone()];
        let input = props(json!({"handle": handle.reference(), "timeout": 2.5, "count": 3}));
        let created = block_on(p.create(&with_peers(&h, &empty, &peers), &input)).unwrap();
        let check = |handle: &Handle| {
            let peers = [handle.peer.clone()];
            block_on(p.check_create(&with_peers(&h, &created.data, &peers), "id"))
        };
        h.clock.advance(Duration::from_secs(2));
        // The last poll comes at the deadline, not after it.
        assert_eq!(
            check(&handle),
            Ok(Progress::CheckAfter(Duration::from_millis(500)))
        );
        h.clock.advance(Duration::from_millis(500));
        assert_eq!(
            failed(check(&handle)),
            "WaitConditionTimeout: resources.wait: 0 of 3 received"
        );

        // With some successes, their reasons are listed.
        let created = block_on(p.create(&with_peers(&h, &empty, &peers), &input)).unwrap();
        handle.signal(&h, json!({"reason": "one"}));
        handle.signal(&h, json!({"reason": "two"}));
        h.clock.advance(Duration::from_secs(3));
        let peers = [handle.peer.clone()];
        assert_eq!(
            failed(block_on(
                p.check_create(&with_peers(&h, &created.data, &peers), "id")
            )),
            "WaitConditionTimeout: resources.wait: 2 of 3 received - one;two"
        );
    }

    #[test]
    fn the_handle_must_be_a_handle_among_the_dependencies() {
        let h = Harness::new(1);
        let os_handle = Handle::new(&h, HEAT_HANDLE_TYPE, json!({}));
        let empty = ResourceData::new();
        let peers = [os_handle.peer.clone()];
        let ctx = with_peers(&h, &empty, &peers);
        // Not among the dependencies.
        let msg = failed(block_on(
            WaitConditionResource::heat()
                .create(&ctx, &props(json!({"handle": "elsewhere", "timeout": 10}))),
        ));
        assert_eq!(
            msg,
            "ValueError: resources.wait: elsewhere is not a valid wait condition handle (the \
             handle property must be {get_resource: <a wait condition handle>} of this stack)"
        );
        // The AWS wait condition wants an AWS handle.
        let msg = failed(block_on(WaitConditionResource::cfn().create(
            &ctx,
            &props(json!({"Handle": os_handle.reference(), "Timeout": 10})),
        )));
        assert_eq!(
            msg,
            "ValueError: resources.wait: WaitCondition invalid Handle handle (it is an \
             OS::Heat::WaitConditionHandle, not an AWS::CloudFormation::WaitConditionHandle)"
        );
        // A dependency of another type.
        let mut other = os_handle.peer.clone();
        other.resource_type = "OS::Heat::None".to_string();
        let peers = [other];
        let msg = failed(block_on(WaitConditionResource::heat().create(
            &with_peers(&h, &empty, &peers),
            &props(json!({"handle": os_handle.reference(), "timeout": 10})),
        )));
        assert!(
            msg.contains("handle is not a valid wait condition handle (it is an OS::Heat::None)"),
            "{msg}"
        );
        // The OS wait condition takes an AWS handle too, matched by physical id as well.
        let aws = Handle::new(&h, CFN_HANDLE_TYPE, json!({}));
        let peers = [aws.peer.clone()];
        let ctx = with_peers(&h, &empty, &peers);
        for reference in [aws.reference(), aws.peer.physical_id.clone().unwrap()] {
            let created = block_on(
                WaitConditionResource::heat()
                    .create(&ctx, &props(json!({"handle": reference, "timeout": 10}))),
            )
            .unwrap();
            assert_eq!(created.progress, Progress::CheckAfter(POLL_INTERVAL));
        }
        // The handle gone later: a clear failure, and an empty data attribute.
        let created = block_on(WaitConditionResource::heat().create(
            &ctx,
            &props(json!({"handle": aws.reference(), "timeout": 10})),
        ))
        .unwrap();
        let alone = with_peers(&h, &created.data, &[]);
        assert!(
            failed(block_on(
                WaitConditionResource::heat().check_create(&alone, "id")
            ))
            .contains("is not a valid wait condition handle")
        );
        assert_eq!(
            block_on(WaitConditionResource::heat().attribute(&alone, "id", "data")),
            Ok(json!(""))
        );
    }

    #[test]
    fn bad_properties_are_refused_naming_them() {
        let h = Harness::new(1);
        let empty = ResourceData::new();
        let ctx = h.ctx("wait", &empty);
        let msg = failed(block_on(
            WaitConditionResource::heat().create(&ctx, &props(json!({"timeout": 0, "count": 1.5}))),
        ));
        assert_eq!(
            msg,
            "Property error: resources.wait.properties.handle: a value is required; timeout: 0 \
             is out of range (min: 1, max: 43200); count: 1.5 is not an integer"
        );
        let msg = failed(block_on(WaitConditionResource::cfn().create(
            &ctx,
            &props(json!({"Handle": "h", "Timeout": "x", "Count": 2000})),
        )));
        assert!(msg.contains("Timeout: \"x\" is not a number"), "{msg}");
        assert!(
            msg.contains("Count: 2000 is more than the 1024 signals a handle can keep"),
            "{msg}"
        );
        // Stored data that lost its keys is reported, not guessed at.
        assert!(
            failed(block_on(
                WaitConditionResource::heat().check_create(&ctx, "id")
            ))
            .contains("stored handle is missing")
        );
    }

    #[test]
    fn data_attribute_is_json_text_keyed_by_id_in_arrival_order() {
        let h = Harness::new(1);
        let mut handle = Handle::new(&h, HEAT_HANDLE_TYPE, json!({}));
        let p = WaitConditionResource::heat();
        let empty = ResourceData::new();
        let peers = [handle.peer.clone()];
        let created = block_on(p.create(
            &with_peers(&h, &empty, &peers),
            &props(json!({"handle": handle.reference(), "timeout": 60, "count": 4})),
        ))
        .unwrap();
        let body: Value =
            serde_json::from_str(r#"{"id": "z", "data": {"zeta": 1, "alpha": [1.0, "é"]}}"#)
                .unwrap();
        handle.signal(&h, body);
        handle.signal(&h, json!({}));
        handle.signal(&h, json!({"id": 10, "data": 3}));
        handle.signal(&h, json!({"id": "z", "data": "replaced"}));
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &created.data, &peers);
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "data")),
            Ok(json!(r#"{"z": "replaced", "2": null, "10": 3}"#))
        );
        handle.signal(
            &h,
            json!({"id": "y", "data": {"zeta": 1, "alpha": [1.0, "é"]}}),
        );
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &created.data, &peers);
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "data")),
            Ok(json!(
                r#"{"z": "replaced", "2": null, "10": 3, "y": {"zeta": 1, "alpha": [1.0, "\u00e9"]}}"#
            ))
        );
        assert_eq!(block_on(p.check_create(&ctx, "id")), Ok(Progress::Done));
        // Without its handle among the peers, the attribute is empty text (Heat: '').
        let ctx = h.ctx("wait", &created.data);
        assert_eq!(block_on(p.attribute(&ctx, "id", "data")), Ok(json!("")));
    }

    #[test]
    fn a_no_signal_handle_counts_as_signalled() {
        let h = Harness::new(1);
        let handle = Handle::new(
            &h,
            HEAT_HANDLE_TYPE,
            json!({"signal_transport": "NO_SIGNAL"}),
        );
        let p = WaitConditionResource::heat();
        let empty = ResourceData::new();
        let peers = [handle.peer.clone()];
        let created = block_on(p.create(
            &with_peers(&h, &empty, &peers),
            &props(json!({"handle": handle.reference(), "timeout": 60, "count": 3})),
        ))
        .unwrap();
        assert_eq!(created.progress, Progress::Done);
        let ctx = with_peers(&h, &created.data, &peers);
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "data")),
            Ok(json!(r#"{"1": null, "2": null, "3": null}"#))
        );
        // A failure still fails it.
        let mut handle = handle;
        handle.signal(&h, json!({"status": "FAILURE", "reason": "no"}));
        let peers = [handle.peer.clone()];
        assert_eq!(
            failed(block_on(
                p.check_create(&with_peers(&h, &created.data, &peers), "id")
            )),
            "WaitConditionFailure: resources.wait: no"
        );
    }

    #[test]
    fn count_updates_in_place_and_wait_again() {
        let h = Harness::new(1);
        let mut handle = Handle::new(&h, HEAT_HANDLE_TYPE, json!({}));
        let p = WaitConditionResource::heat();
        let empty = ResourceData::new();
        let old = props(json!({"handle": handle.reference(), "timeout": 30, "count": 1}));
        let peers = [handle.peer.clone()];
        let created = block_on(p.create(&with_peers(&h, &empty, &peers), &old)).unwrap();
        handle.signal(&h, json!({}));
        handle.signal(&h, json!({}));
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &created.data, &peers);
        assert_eq!(block_on(p.check_create(&ctx, "id")), Ok(Progress::Done));
        h.clock.advance(Duration::from_secs(100));

        // Fewer or as many as received: done at once.
        let two = props(json!({"handle": handle.reference(), "timeout": 30, "count": 2}));
        let Updated::InPlace { data, progress } =
            block_on(p.update(&ctx, "id", &old, &two)).unwrap()
        else {
            panic!("in place");
        };
        assert_eq!(progress, Progress::Done);
        assert_eq!(data.get("count").map(String::as_str), Some("2"));

        // More: waits again, with a new deadline counted from the update.
        let three = props(json!({"handle": handle.reference(), "timeout": 30, "count": 3}));
        let Updated::InPlace { data, progress } =
            block_on(p.update(&ctx, "id", &two, &three)).unwrap()
        else {
            panic!("in place");
        };
        assert_eq!(progress, Progress::CheckAfter(POLL_INTERVAL));
        let ctx = with_peers(&h, &data, &peers);
        h.clock.advance(Duration::from_secs(29));
        assert_eq!(
            block_on(p.check_update(&ctx, "id")),
            Ok(Progress::CheckAfter(POLL_INTERVAL))
        );
        handle.signal(&h, json!({}));
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &data, &peers);
        assert_eq!(block_on(p.check_update(&ctx, "id")), Ok(Progress::Done));
        h.clock.advance(Duration::from_secs(2));
        // After the deadline the timeout wins, as in Heat (checked first).
        assert_eq!(
            failed(block_on(p.check_update(&ctx, "id"))),
            "WaitConditionTimeout: resources.wait: 3 of 3 received - Signal 1 received;Signal 2 \
             received;Signal 3 received"
        );

        // A new handle or timeout: replacement.
        for (changed, key) in [
            (
                json!({"handle": "other", "timeout": 30, "count": 3}),
                "handle",
            ),
            (
                json!({"handle": handle.reference(), "timeout": 31, "count": 3}),
                "timeout",
            ),
        ] {
            let result = block_on(p.update(&ctx, "id", &three, &props(changed))).unwrap();
            assert_eq!(
                result,
                Updated::NeedsReplacement {
                    reason: format!(
                        "the {key} property of OS::Heat::WaitCondition cannot change in place"
                    )
                }
            );
        }
        assert_eq!(block_on(p.delete(&ctx, "id")), Ok(Progress::Done));
    }

    #[test]
    fn corrupt_handle_data_is_reported() {
        let h = Harness::new(1);
        let mut handle = Handle::new(&h, HEAT_HANDLE_TYPE, json!({}));
        let p = WaitConditionResource::heat();
        let empty = ResourceData::new();
        let peers = [handle.peer.clone()];
        let created = block_on(p.create(
            &with_peers(&h, &empty, &peers),
            &props(json!({"handle": handle.reference(), "timeout": 30})),
        ))
        .unwrap();
        handle
            .peer
            .data
            .insert("signal:1".to_string(), "{".to_string());
        let peers = [handle.peer.clone()];
        let ctx = with_peers(&h, &created.data, &peers);
        let msg = failed(block_on(p.check_create(&ctx, "id")));
        assert!(msg.starts_with("resources.wait: the handle's signals cannot be read: the stored signal \"signal:1\""), "{msg}");
        assert!(matches!(
            block_on(p.attribute(&ctx, "id", "data")),
            Err(ProviderError::Failed(_))
        ));
    }
}
