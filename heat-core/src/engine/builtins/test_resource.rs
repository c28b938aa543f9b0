//! `OS::Heat::TestResource`: a resource for tests and benchmarks that stores a string and
//! has knobs to make its actions slow, fail, or need replacement — Heat's knobs, so the same
//! templates run on both.
//!
//! Waits never sleep: an action that has to wait returns [`Progress::CheckAfter`] and keeps
//! its deadline (on the engine clock) in the resource's data; the matching `check_*` reports
//! what is left until the deadline has passed. A negative wait never ends (the engine's
//! timeout or a cancel ends it).

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::engine::builtins::{
    ENDLESS_WAIT_POLL, Wait, bool_property, common_attribute, number_property, parse_nanos,
    physical_resource_name, property_error, record_wait, string_property, wait_progress,
};
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use crate::engine::schema::{AttributeSchema, PropertySchema, PropertyType, ResourceSchema};
use crate::template::model::ConstraintKind;

/// The type name.
pub const TYPE_NAME: &str = "OS::Heat::TestResource";

/// The value stored when none is given.
pub const DEFAULT_VALUE: &str = "test_string";

/// Data key: the stored string (the `output` attribute).
pub const DATA_VALUE: &str = "value";
/// Data key: whether the actions fail (`True` / `False`).
const DATA_FAIL: &str = "fail";
/// Data key: how long a delete waits, in seconds (delete has no properties to read).
const DATA_DELETE_WAIT: &str = "delete_wait_secs";
/// Data key: when the `output` attribute becomes readable (nanoseconds on the engine clock).
const DATA_ATTR_READY: &str = "attr_ready_ns";

/// The three actions that can be told to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WaitAction {
    Create,
    Update,
    Delete,
}

impl WaitAction {
    fn key(self) -> &'static str {
        match self {
            WaitAction::Create => "create",
            WaitAction::Update => "update",
            WaitAction::Delete => "delete",
        }
    }
}

/// The properties that drive behaviour.
#[derive(Clone, Debug, PartialEq)]
struct Knobs {
    value: String,
    fail: bool,
    update_replace: bool,
    wait_secs: f64,
    action_wait_secs: [Option<f64>; 3],
    attr_wait_secs: f64,
}

impl Knobs {
    /// Reads the knobs, reporting every malformed one.
    fn read(props: &Properties) -> Result<Knobs, String> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<_, String>, fallback| {
            r.unwrap_or_else(|e| {
                errors.push(e);
                fallback
            })
        };
        let value = keep(
            string_property(props, "value", DEFAULT_VALUE).map(Value::String),
            Value::Null,
        );
        let fail = keep(
            bool_property(props, "fail", false).map(Value::Bool),
            Value::Null,
        );
        let update_replace = keep(
            bool_property(props, "update_replace", false).map(Value::Bool),
            Value::Null,
        );
        let wait_secs = keep(
            number_property(props, "wait_secs", 0.0).map(Value::from),
            Value::Null,
        );
        let attr_wait_secs = keep(
            number_property(props, "attr_wait_secs", 0.0).map(Value::from),
            Value::Null,
        );
        let mut action_wait_secs = [None; 3];
        match props.get("action_wait_secs") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (slot, action) in action_wait_secs.iter_mut().zip([
                    WaitAction::Create,
                    WaitAction::Update,
                    WaitAction::Delete,
                ]) {
                    match map.get(action.key()) {
                        None | Some(Value::Null) => {}
                        Some(v) => match crate::engine::builtins::number_value(v) {
                            Some(n) => *slot = Some(n),
                            None => errors.push(format!(
                                "action_wait_secs.{}: {v} is not a number",
                                action.key()
                            )),
                        },
                    }
                }
            }
            Some(other) => errors.push(format!("action_wait_secs: {other} is not a map")),
        }
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(Knobs {
            value: value.as_str().unwrap_or(DEFAULT_VALUE).to_string(),
            fail: fail.as_bool().unwrap_or(false),
            update_replace: update_replace.as_bool().unwrap_or(false),
            wait_secs: wait_secs.as_f64().unwrap_or(0.0),
            action_wait_secs,
            attr_wait_secs: attr_wait_secs.as_f64().unwrap_or(0.0),
        })
    }

    /// How long `action` waits: its entry in `action_wait_secs`, else `wait_secs`.
    fn wait_secs_for(&self, action: WaitAction) -> f64 {
        let slot = match action {
            WaitAction::Create => 0,
            WaitAction::Update => 1,
            WaitAction::Delete => 2,
        };
        self.action_wait_secs[slot].unwrap_or(self.wait_secs)
    }

    /// Records in `data` what later calls (which get no properties) need: the fail flag, the
    /// delete wait, and when the `output` attribute becomes readable given that the current
    /// action waits `wait` from `now`.
    fn record(&self, data: &mut ResourceData, wait: Wait, now: std::time::Duration) {
        data.insert(
            DATA_FAIL.to_string(),
            if self.fail { "True" } else { "False" }.to_string(),
        );
        data.insert(
            DATA_DELETE_WAIT.to_string(),
            self.wait_secs_for(WaitAction::Delete).to_string(),
        );
        let done_at = match wait {
            Wait::None => Some(now),
            Wait::For(d) => Some(now.saturating_add(d)),
            Wait::Endless => None,
        };
        match (Wait::from_secs(self.attr_wait_secs), done_at) {
            (Wait::For(d), Some(at)) => {
                let ready = u64::try_from(at.saturating_add(d).as_nanos()).unwrap_or(u64::MAX);
                data.insert(DATA_ATTR_READY.to_string(), ready.to_string());
            }
            _ => {
                data.remove(DATA_ATTR_READY);
            }
        }
    }
}

/// The failure the `fail` knob causes.
fn failure(ctx: &ResourceContext<'_>) -> ProviderError {
    ProviderError::Failed(format!("Test Resource failed {}", ctx.resource_name))
}

/// The end of a create or update: the recorded wait, then the `fail` knob.
fn finish(ctx: &ResourceContext<'_>) -> Result<Progress, ProviderError> {
    let progress = wait_progress(ctx.data, ctx.services.clock.now())?;
    if progress == Progress::Done && ctx.data.get(DATA_FAIL).map(String::as_str) == Some("True") {
        return Err(failure(ctx));
    }
    Ok(progress)
}

/// The delete wait recorded at the last create or update.
fn delete_wait(data: &ResourceData) -> Wait {
    let secs = data
        .get(DATA_DELETE_WAIT)
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0);
    Wait::from_secs(secs)
}

/// The `OS::Heat::TestResource` provider.
#[derive(Debug)]
pub struct TestResource {
    schema: ResourceSchema,
}

impl TestResource {
    /// The provider.
    pub fn new() -> TestResource {
        let number = |name, description| {
            PropertySchema::new(name, PropertyType::Number, description).update_allowed()
        };
        TestResource {
            schema: ResourceSchema {
                open: false,
                type_name: TYPE_NAME,
                description: "For tests and benchmarks only: stores a string and exposes it as \
                              `output`, with knobs to make its actions wait, fail, or require \
                              replacement.",
                properties: vec![
                    PropertySchema::new("value", PropertyType::String, "The string to store.")
                        .default(json!(DEFAULT_VALUE))
                        .update_allowed(),
                    PropertySchema::new(
                        "update_replace",
                        PropertyType::Boolean,
                        "When true, an update that changes `value` replaces the resource \
                         instead of updating it in place.",
                    )
                    .default(json!(false))
                    .update_allowed(),
                    PropertySchema::new(
                        "fail",
                        PropertyType::Boolean,
                        "When true, create and update fail (after their wait), to exercise \
                         failure handling; delete still succeeds.",
                    )
                    .default(json!(false))
                    .update_allowed(),
                    PropertySchema::new(
                        "client_name",
                        PropertyType::String,
                        "The client Heat polls while waiting (accepted; nothing is polled \
                         here).",
                    )
                    .default(json!(""))
                    .update_allowed(),
                    PropertySchema::new(
                        "entity_name",
                        PropertyType::String,
                        "The client entity Heat polls while waiting (accepted; nothing is \
                         polled here).",
                    )
                    .default(json!(""))
                    .update_allowed(),
                    number(
                        "wait_secs",
                        "Seconds each action waits before it completes; negative waits for \
                         ever.",
                    )
                    .default(json!(0)),
                    PropertySchema::new(
                        "action_wait_secs",
                        PropertyType::Map(vec![
                            number("create", "Seconds a create waits (default: wait_secs)."),
                            number("update", "Seconds an update waits (default: wait_secs)."),
                            number("delete", "Seconds a delete waits (default: wait_secs)."),
                        ]),
                        "Per-action wait times, overriding wait_secs.",
                    )
                    .update_allowed(),
                    number(
                        "attr_wait_secs",
                        "Seconds after an action ends before the `output` attribute can be \
                         read.",
                    )
                    .default(json!(0)),
                    number(
                        "constraint_prop_secs",
                        "A number checked by the `test_constr` custom constraint (Heat delays \
                         validation by it; here it is accepted and not waited on).",
                    )
                    .default(json!(0))
                    .constraint(ConstraintKind::Custom("test_constr".to_string())),
                    PropertySchema::new(
                        "update_replace_value",
                        PropertyType::String,
                        "A string that can be stored but not updated: changing it replaces the \
                         resource.",
                    ),
                ],
                attributes: vec![AttributeSchema {
                    name: "output",
                    description: "The stored string.",
                }],
            },
        }
    }
}

impl Default for TestResource {
    fn default() -> TestResource {
        TestResource::new()
    }
}

#[async_trait]
impl ResourceProvider for TestResource {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let knobs = Knobs::read(properties).map_err(|e| property_error(ctx, &e))?;
        let wait = Wait::from_secs(knobs.wait_secs_for(WaitAction::Create));
        if knobs.fail && wait == Wait::None {
            return Err(failure(ctx));
        }
        let now = ctx.services.clock.now();
        let mut data = ResourceData::new();
        if !knobs.fail {
            data.insert(DATA_VALUE.to_string(), knobs.value.clone());
        }
        knobs.record(&mut data, wait, now);
        record_wait(&mut data, wait, now);
        Ok(Created {
            physical_id: physical_resource_name(ctx),
            data,
            progress: wait.initial_progress(),
        })
    }

    async fn check_create(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        finish(ctx)
    }

    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        let before = Knobs::read(old).map_err(|e| property_error(ctx, &e))?;
        let knobs = Knobs::read(new).map_err(|e| property_error(ctx, &e))?;
        let value_changed = before.value != knobs.value;
        if value_changed && knobs.update_replace {
            return Ok(Updated::NeedsReplacement {
                reason: "value changed and update_replace is true".to_string(),
            });
        }
        let mut data = ctx.data.clone();
        // As in Heat: only a change to a non-empty value is stored and waits.
        let wait = if value_changed && !knobs.value.is_empty() {
            if !knobs.fail {
                data.insert(DATA_VALUE.to_string(), knobs.value.clone());
            }
            Wait::from_secs(knobs.wait_secs_for(WaitAction::Update))
        } else {
            Wait::None
        };
        if knobs.fail && wait == Wait::None {
            return Err(failure(ctx));
        }
        let now = ctx.services.clock.now();
        knobs.record(&mut data, wait, now);
        record_wait(&mut data, wait, now);
        Ok(Updated::InPlace {
            data,
            progress: wait.initial_progress(),
        })
    }

    async fn check_update(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        finish(ctx)
    }

    /// Waits the delete time recorded at the last create or update. Delete can keep no data,
    /// so a finite wait is the `CheckAfter` returned here and `check_delete` then reports
    /// done; an endless wait stays endless.
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(delete_wait(ctx.data).initial_progress())
    }

    async fn check_delete(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(match delete_wait(ctx.data) {
            Wait::Endless => Progress::CheckAfter(ENDLESS_WAIT_POLL),
            Wait::None | Wait::For(_) => Progress::Done,
        })
    }

    /// `output` is the stored string; while `attr_wait_secs` has not passed since the last
    /// action ended it is a retryable error (Heat blocks instead).
    async fn attribute(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        if name != "output" {
            return common_attribute(name);
        }
        if let Some(ready) = ctx.data.get(DATA_ATTR_READY) {
            let ready = parse_nanos(ready, DATA_ATTR_READY)?;
            let now = u64::try_from(ctx.services.clock.now().as_nanos()).unwrap_or(u64::MAX);
            if now < ready {
                let left = std::time::Duration::from_nanos(ready - now);
                return Err(ProviderError::Retryable(format!(
                    "the output attribute of {} is not readable for another {:.3}s \
                     (attr_wait_secs)",
                    ctx.resource_name,
                    left.as_secs_f64()
                )));
            }
        }
        Ok(ctx
            .data
            .get(DATA_VALUE)
            .map_or(Value::Null, |v| Value::String(v.clone())))
    }

    /// Healthy whenever it has a physical id.
    async fn check(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<(), ProviderError> {
        if physical_id.is_empty() {
            Err(ProviderError::Failed("Resource not created".to_string()))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use futures::executor::block_on;

    use super::*;
    use crate::engine::builtins::testkit::{Harness, props};

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn create(h: &Harness, p: &TestResource, input: serde_json::Value) -> Created {
        let empty = ResourceData::new();
        block_on(p.create(&h.ctx("test", &empty), &props(input))).unwrap()
    }

    #[test]
    fn schema_defaults_and_flags_match_heat() {
        let p = TestResource::new();
        let s = p.schema();
        let cases: &[(&str, PropertyType, Option<serde_json::Value>, bool)] = &[
            (
                "value",
                PropertyType::String,
                Some(json!("test_string")),
                true,
            ),
            (
                "update_replace",
                PropertyType::Boolean,
                Some(json!(false)),
                true,
            ),
            ("fail", PropertyType::Boolean, Some(json!(false)), true),
            ("client_name", PropertyType::String, Some(json!("")), true),
            ("entity_name", PropertyType::String, Some(json!("")), true),
            ("wait_secs", PropertyType::Number, Some(json!(0)), true),
            ("attr_wait_secs", PropertyType::Number, Some(json!(0)), true),
            (
                "constraint_prop_secs",
                PropertyType::Number,
                Some(json!(0)),
                true,
            ),
            ("update_replace_value", PropertyType::String, None, false),
        ];
        for (name, ty, default, update_allowed) in cases {
            let prop = s.property(name).unwrap();
            assert_eq!(&prop.ty, ty, "{name}");
            assert_eq!(&prop.default, default, "{name}");
            assert_eq!(prop.update_allowed, *update_allowed, "{name}");
            assert!(!prop.required, "{name}");
        }
        let action = s.property("action_wait_secs").unwrap();
        assert!(action.update_allowed && action.default.is_none());
        let PropertyType::Map(keys) = &action.ty else {
            panic!("map");
        };
        let names: Vec<&str> = keys.iter().map(|k| k.name).collect();
        assert_eq!(names, ["create", "update", "delete"]);
        assert!(
            keys.iter()
                .all(|k| k.ty == PropertyType::Number && k.update_allowed)
        );
        assert_eq!(
            s.property("constraint_prop_secs").unwrap().constraints,
            [ConstraintKind::Custom("test_constr".to_string())]
        );
        assert_eq!(s.properties.len(), cases.len() + 1);
        assert!(s.attribute("output").is_some());
    }

    #[test]
    fn defaults_create_at_once_and_store_the_default_value() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let created = create(&h, &p, json!({}));
        assert_eq!(created.progress, Progress::Done);
        assert!(created.physical_id.starts_with("teststack-test-"));
        let ctx = h.ctx("test", &created.data);
        assert_eq!(block_on(p.check_create(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "output")),
            Ok(json!("test_string"))
        );
        assert_eq!(block_on(p.attribute(&ctx, "id", "show")), Ok(json!(null)));
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "value")),
            Err(ProviderError::UnknownAttribute("value".to_string()))
        );
    }

    #[test]
    fn create_waits_in_virtual_time() {
        // (properties, expected wait in seconds)
        let cases: &[(serde_json::Value, u64)] = &[
            (json!({"wait_secs": 10}), 10),
            (json!({"wait_secs": "10"}), 10),
            (
                json!({"wait_secs": 3, "action_wait_secs": {"create": 7}}),
                7,
            ),
            (
                json!({"wait_secs": 4, "action_wait_secs": {"update": 7}}),
                4,
            ),
            (
                json!({"wait_secs": 4, "action_wait_secs": {"create": null}}),
                4,
            ),
            (json!({"action_wait_secs": {"create": 2}}), 2),
        ];
        for (input, secs) in cases {
            let h = Harness::new(1);
            let p = TestResource::new();
            let created = create(&h, &p, input.clone());
            assert_eq!(created.progress, Progress::CheckAfter(S(*secs)), "{input}");
            let ctx = h.ctx("test", &created.data);
            h.clock.advance(S(1));
            assert_eq!(
                block_on(p.check_create(&ctx, "id")),
                Ok(Progress::CheckAfter(S(secs - 1))),
                "{input}"
            );
            h.clock.advance(S(secs - 1) - Duration::from_millis(1));
            assert_eq!(
                block_on(p.check_create(&ctx, "id")),
                Ok(Progress::CheckAfter(Duration::from_millis(1))),
                "{input}"
            );
            h.clock.advance(Duration::from_millis(1));
            assert_eq!(
                block_on(p.check_create(&ctx, "id")),
                Ok(Progress::Done),
                "{input}"
            );
            assert_eq!(
                block_on(p.check_create(&ctx, "id")),
                Ok(Progress::Done),
                "{input}"
            );
        }
    }

    #[test]
    fn fractional_and_endless_waits() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let created = create(&h, &p, json!({"wait_secs": 0.25}));
        assert_eq!(
            created.progress,
            Progress::CheckAfter(Duration::from_millis(250))
        );

        let created = create(&h, &p, json!({"wait_secs": -1}));
        assert_eq!(created.progress, Progress::CheckAfter(ENDLESS_WAIT_POLL));
        let ctx = h.ctx("test", &created.data);
        for _ in 0..3 {
            h.clock.advance(S(3600));
            assert_eq!(
                block_on(p.check_create(&ctx, "id")),
                Ok(Progress::CheckAfter(ENDLESS_WAIT_POLL))
            );
        }
    }

    #[test]
    fn the_fail_knob_fails_create_and_update_after_their_wait() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let empty = ResourceData::new();
        let ctx = h.ctx("test", &empty);
        assert_eq!(
            block_on(p.create(&ctx, &props(json!({"fail": true})))),
            Err(ProviderError::Failed(
                "Test Resource failed test".to_string()
            ))
        );

        let created = create(&h, &p, json!({"fail": true, "wait_secs": 5}));
        assert_eq!(created.progress, Progress::CheckAfter(S(5)));
        assert!(!created.data.contains_key(DATA_VALUE));
        let ctx = h.ctx("test", &created.data);
        assert_eq!(
            block_on(p.check_create(&ctx, "id")),
            Ok(Progress::CheckAfter(S(5)))
        );
        h.clock.advance(S(5));
        assert_eq!(
            block_on(p.check_create(&ctx, "id")),
            Err(ProviderError::Failed(
                "Test Resource failed test".to_string()
            ))
        );
        // Delete is not failed by the knob.
        assert_eq!(
            block_on(p.delete(&ctx, "id")),
            Ok(Progress::CheckAfter(S(5)))
        );
        assert_eq!(block_on(p.check_delete(&ctx, "id")), Ok(Progress::Done));

        // Update with fail set: at once without a wait, after it with one.
        let good = create(&h, &p, json!({}));
        let ctx = h.ctx("test", &good.data);
        assert_eq!(
            block_on(p.update(&ctx, "id", &props(json!({})), &props(json!({"fail": true})))),
            Err(ProviderError::Failed(
                "Test Resource failed test".to_string()
            ))
        );
        let Updated::InPlace { data, progress } = block_on(p.update(
            &ctx,
            "id",
            &props(json!({})),
            &props(json!({"fail": true, "value": "new", "wait_secs": 2})),
        ))
        .unwrap() else {
            panic!("in place");
        };
        assert_eq!(progress, Progress::CheckAfter(S(2)));
        // A failing update does not store the new value.
        assert_eq!(
            data.get(DATA_VALUE).map(String::as_str),
            Some("test_string")
        );
        let ctx = h.ctx("test", &data);
        h.clock.advance(S(2));
        assert_eq!(
            block_on(p.check_update(&ctx, "id")),
            Err(ProviderError::Failed(
                "Test Resource failed test".to_string()
            ))
        );
    }

    #[test]
    fn update_replace_asks_for_replacement_only_when_value_changes() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let created = create(&h, &p, json!({"value": "a"}));
        let ctx = h.ctx("test", &created.data);
        let cases: &[(serde_json::Value, serde_json::Value, bool)] = &[
            (
                json!({"value": "a"}),
                json!({"value": "b", "update_replace": true}),
                true,
            ),
            (
                json!({"value": "a", "update_replace": true}),
                json!({"value": "b", "update_replace": true}),
                true,
            ),
            (
                json!({"value": "a"}),
                json!({"value": "a", "update_replace": true}),
                false,
            ),
            (
                json!({"value": "a", "update_replace": true}),
                json!({"value": "b", "update_replace": false}),
                false,
            ),
            (json!({"value": "a"}), json!({"value": "b"}), false),
        ];
        for (old, new, replace) in cases {
            let updated =
                block_on(p.update(&ctx, "id", &props(old.clone()), &props(new.clone()))).unwrap();
            assert_eq!(
                matches!(&updated, Updated::NeedsReplacement { reason }
                    if reason.contains("update_replace")),
                *replace,
                "{old} -> {new}: {updated:?}"
            );
        }
    }

    #[test]
    fn update_in_place_stores_the_value_and_waits() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let created = create(&h, &p, json!({"value": "a", "wait_secs": 1}));
        let ctx = h.ctx("test", &created.data);
        let old = props(json!({"value": "a", "wait_secs": 1}));
        let new = props(json!({"value": "b", "wait_secs": 1, "action_wait_secs": {"update": 4}}));
        let Updated::InPlace { data, progress } =
            block_on(p.update(&ctx, "id", &old, &new)).unwrap()
        else {
            panic!("in place");
        };
        assert_eq!(progress, Progress::CheckAfter(S(4)));
        let ctx = h.ctx("test", &data);
        assert_eq!(block_on(p.attribute(&ctx, "id", "output")), Ok(json!("b")));
        h.clock.advance(S(3));
        assert_eq!(
            block_on(p.check_update(&ctx, "id")),
            Ok(Progress::CheckAfter(S(1)))
        );
        h.clock.advance(S(1));
        assert_eq!(block_on(p.check_update(&ctx, "id")), Ok(Progress::Done));

        // Without a change to `value` there is no wait (as in Heat), nor with an empty value,
        // which is not stored either.
        for new in [
            json!({"value": "b", "wait_secs": 9}),
            json!({"value": "", "wait_secs": 9}),
        ] {
            let Updated::InPlace {
                data: after,
                progress,
            } = block_on(p.update(
                &ctx,
                "id",
                &props(json!({"value": "b"})),
                &props(new.clone()),
            ))
            .unwrap()
            else {
                panic!("in place");
            };
            assert_eq!(progress, Progress::Done, "{new}");
            let ctx = h.ctx("test", &after);
            assert_eq!(block_on(p.check_update(&ctx, "id")), Ok(Progress::Done));
            assert_eq!(
                block_on(p.attribute(&ctx, "id", "output")),
                Ok(json!("b")),
                "{new}"
            );
            // But the new delete wait is recorded.
            assert_eq!(
                block_on(p.delete(&ctx, "id")),
                Ok(Progress::CheckAfter(S(9)))
            );
        }
    }

    #[test]
    fn delete_waits_and_succeeds_when_already_gone() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let cases: &[(serde_json::Value, Progress, Progress)] = &[
            (json!({}), Progress::Done, Progress::Done),
            (
                json!({"wait_secs": 3}),
                Progress::CheckAfter(S(3)),
                Progress::Done,
            ),
            (
                json!({"wait_secs": 3, "action_wait_secs": {"delete": 0}}),
                Progress::Done,
                Progress::Done,
            ),
            (
                json!({"action_wait_secs": {"delete": -1}}),
                Progress::CheckAfter(ENDLESS_WAIT_POLL),
                Progress::CheckAfter(ENDLESS_WAIT_POLL),
            ),
        ];
        for (input, first, check) in cases {
            let created = create(&h, &p, input.clone());
            let ctx = h.ctx("test", &created.data);
            assert_eq!(block_on(p.delete(&ctx, "id")), Ok(*first), "{input}");
            assert_eq!(block_on(p.check_delete(&ctx, "id")), Ok(*check), "{input}");
        }
        // Nothing recorded (never created, or already deleted): done at once, every time.
        let empty = ResourceData::new();
        let ctx = h.ctx("test", &empty);
        for _ in 0..2 {
            assert_eq!(block_on(p.delete(&ctx, "gone")), Ok(Progress::Done));
            assert_eq!(block_on(p.check_delete(&ctx, "gone")), Ok(Progress::Done));
        }
    }

    #[test]
    fn attr_wait_secs_delays_the_output_attribute() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let created = create(
            &h,
            &p,
            json!({"value": "v", "wait_secs": 2, "attr_wait_secs": 3}),
        );
        let ctx = h.ctx("test", &created.data);
        // Readable 3 s after the create's 2 s wait ends.
        for _ in 0..5 {
            assert!(matches!(
                block_on(p.attribute(&ctx, "id", "output")),
                Err(ProviderError::Retryable(m)) if m.contains("attr_wait_secs")
            ));
            h.clock.advance(S(1));
        }
        assert_eq!(block_on(p.attribute(&ctx, "id", "output")), Ok(json!("v")));
        // `show` is not delayed.
        let created = create(&h, &p, json!({"attr_wait_secs": 3}));
        let ctx = h.ctx("test", &created.data);
        assert_eq!(block_on(p.attribute(&ctx, "id", "show")), Ok(json!(null)));
    }

    #[test]
    fn malformed_knobs_are_all_reported() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let empty = ResourceData::new();
        let err = block_on(p.create(
            &h.ctx("test", &empty),
            &props(json!({
                "fail": "maybe",
                "wait_secs": "soon",
                "action_wait_secs": {"create": "later"},
                "value": [1]
            })),
        ))
        .unwrap_err();
        let ProviderError::Failed(msg) = err else {
            panic!("failed");
        };
        assert!(
            msg.starts_with("Property error: resources.test.properties."),
            "{msg}"
        );
        for part in ["fail:", "wait_secs:", "action_wait_secs.create:", "value:"] {
            assert!(msg.contains(part), "{part} in {msg}");
        }
        let err = block_on(p.create(
            &h.ctx("test", &empty),
            &props(json!({"action_wait_secs": [1]})),
        ))
        .unwrap_err();
        assert!(matches!(err, ProviderError::Failed(m)
                if m.contains("action_wait_secs: [1] is not a map")));
    }

    #[test]
    fn optional_actions() {
        let h = Harness::new(1);
        let p = TestResource::new();
        let created = create(&h, &p, json!({}));
        let ctx = h.ctx("test", &created.data);
        assert_eq!(block_on(p.check(&ctx, &created.physical_id)), Ok(()));
        assert_eq!(
            block_on(p.check(&ctx, "")),
            Err(ProviderError::Failed("Resource not created".to_string()))
        );
        assert_eq!(block_on(p.suspend(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(block_on(p.resume(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(block_on(p.snapshot(&ctx, "id")), Ok(created.data.clone()));
        assert_eq!(block_on(p.adopt(&ctx, "id", &created.data)), Ok(()));
    }
}
