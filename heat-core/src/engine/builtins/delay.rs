//! `OS::Heat::Delay`: waits during the chosen actions, to put a pause at a point of the
//! dependency graph (and, with jitter, to spread out many resources that would otherwise
//! start together).
//!
//! The wait for an action is `min_wait + max_jitter × jitter_multiplier × u`, `u` uniform in
//! `[0, 1)` from [`Services::random`](crate::engine::Services), when the action is listed in
//! `actions`, else nothing. It is a [`Progress::CheckAfter`]; the deadline is kept in the
//! resource's data. Updates apply in place at once.

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::engine::builtins::{
    Wait, common_attribute, number_property, physical_resource_name, property_error, record_wait,
    wait_progress,
};
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use crate::engine::schema::{PropertySchema, PropertyType, ResourceSchema};
use crate::engine::services::Random;
use crate::template::model::ConstraintKind;

/// The type name.
pub const TYPE_NAME: &str = "OS::Heat::Delay";

/// The actions a delay can be attached to.
pub const DELAY_ACTIONS: &[&str] = &["CREATE", "DELETE", "SUSPEND", "RESUME"];

const DATA_MIN_WAIT: &str = "min_wait";
const DATA_MAX_JITTER: &str = "max_jitter_secs";
const DATA_ACTIONS: &str = "actions";

/// The delay settings, read from the properties (or from the data kept at the last create or
/// update, for the actions that get no properties).
#[derive(Clone, Debug, PartialEq)]
pub struct DelayParams {
    /// The minimum wait in seconds.
    pub min_wait: f64,
    /// The largest jitter in seconds (`max_jitter × jitter_multiplier`).
    pub max_jitter_secs: f64,
    /// The actions that wait (`CREATE`, `DELETE`, `SUSPEND`, `RESUME`).
    pub actions: Vec<String>,
}

impl DelayParams {
    /// Reads and checks the properties; reports every problem, naming the property.
    pub fn from_properties(properties: &Properties) -> Result<DelayParams, String> {
        let mut errors = Vec::new();
        let mut non_negative =
            |name: &str, default: f64| match number_property(properties, name, default) {
                Ok(n) if n < 0.0 => {
                    errors.push(format!("{name}: {n} is out of range (min: 0)"));
                    default
                }
                Ok(n) => n,
                Err(e) => {
                    errors.push(e);
                    default
                }
            };
        let min_wait = non_negative("min_wait", 0.0);
        let max_jitter = non_negative("max_jitter", 0.0);
        let multiplier = non_negative("jitter_multiplier", 1.0);
        let mut actions = Vec::new();
        match properties.get("actions") {
            None | Some(Value::Null) => actions.push("CREATE".to_string()),
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(a) if DELAY_ACTIONS.contains(&a) => actions.push(a.to_string()),
                        _ => errors.push(format!(
                            "actions.{i}: {item} is not one of the allowed values {}",
                            DELAY_ACTIONS.join(", ")
                        )),
                    }
                }
            }
            Some(other) => errors.push(format!("actions: {other} is not a list")),
        }
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(DelayParams {
            min_wait,
            max_jitter_secs: max_jitter * multiplier,
            actions,
        })
    }

    /// The settings kept in a resource's data (defaults where nothing was kept).
    pub fn from_data(data: &ResourceData) -> DelayParams {
        let number = |key| {
            data.get(key)
                .and_then(|s: &String| s.parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0)
                .unwrap_or(0.0)
        };
        DelayParams {
            min_wait: number(DATA_MIN_WAIT),
            max_jitter_secs: number(DATA_MAX_JITTER),
            actions: match data.get(DATA_ACTIONS) {
                Some(list) => list
                    .split(',')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect(),
                None => vec!["CREATE".to_string()],
            },
        }
    }

    /// The data to keep so delete, suspend and resume can compute their waits.
    fn to_data(&self) -> ResourceData {
        let mut data = ResourceData::new();
        data.insert(DATA_MIN_WAIT.to_string(), self.min_wait.to_string());
        data.insert(
            DATA_MAX_JITTER.to_string(),
            self.max_jitter_secs.to_string(),
        );
        data.insert(DATA_ACTIONS.to_string(), self.actions.join(","));
        data
    }

    /// The longest wait any action can have.
    pub fn max_wait(&self) -> f64 {
        self.min_wait + self.max_jitter_secs
    }

    /// The wait for `action` (`CREATE`, ...), drawing the jitter from `random`.
    pub fn wait_secs(&self, action: &str, random: &dyn Random) -> f64 {
        if !self.actions.iter().any(|a| a == action) {
            return 0.0;
        }
        const SCALE: u64 = 1 << 53;
        #[allow(clippy::cast_precision_loss)]
        let unit = random.below(SCALE) as f64 / SCALE as f64;
        self.min_wait + self.max_jitter_secs * unit
    }
}

/// Heat's strict validation of a delay against the stack timeout: the longest possible wait
/// (`min_wait + max_jitter × jitter_multiplier`) must not exceed it.
pub fn validate(properties: &Properties, stack_timeout: std::time::Duration) -> Result<(), String> {
    let params = DelayParams::from_properties(properties)?;
    let max_wait = params.max_wait();
    if max_wait > stack_timeout.as_secs_f64() {
        return Err(format!(
            "{TYPE_NAME} maximum delay {max_wait}s exceeds the stack timeout ({}s)",
            stack_timeout.as_secs_f64()
        ));
    }
    Ok(())
}

/// Starts the wait for `action` and returns its progress (no data can be kept).
fn start_unrecorded(ctx: &ResourceContext<'_>, action: &str) -> Progress {
    let params = DelayParams::from_data(ctx.data);
    Wait::from_secs(params.wait_secs(action, ctx.services.random.as_ref())).initial_progress()
}

/// The `OS::Heat::Delay` provider.
#[derive(Debug)]
pub struct DelayResource {
    schema: ResourceSchema,
}

impl DelayResource {
    /// The provider.
    pub fn new() -> DelayResource {
        let at_least_zero = || ConstraintKind::Range {
            min: Some(0.0),
            max: None,
        };
        DelayResource {
            schema: ResourceSchema {
                open: false,
                type_name: TYPE_NAME,
                description: "Pauses during the chosen actions: after the resources it depends \
                              on during create and suspend, before them during delete and \
                              resume. Optional random jitter spreads out many such pauses.",
                properties: vec![
                    PropertySchema::new(
                        "min_wait",
                        PropertyType::Number,
                        "The least number of seconds to wait during the chosen actions.",
                    )
                    .default(json!(0))
                    .constraint(at_least_zero())
                    .update_allowed(),
                    PropertySchema::new(
                        "max_jitter",
                        PropertyType::Number,
                        "The largest random extra wait, in units of jitter_multiplier.",
                    )
                    .default(json!(0))
                    .constraint(at_least_zero())
                    .update_allowed(),
                    PropertySchema::new(
                        "jitter_multiplier",
                        PropertyType::Number,
                        "The number of seconds one unit of max_jitter stands for.",
                    )
                    .default(json!(1.0))
                    .constraint(at_least_zero())
                    .update_allowed(),
                    PropertySchema::new(
                        "actions",
                        PropertyType::List(Some(Box::new(
                            PropertySchema::new(
                                "action",
                                PropertyType::String,
                                "An action during which to wait.",
                            )
                            .constraint(ConstraintKind::AllowedValues(
                                DELAY_ACTIONS.iter().map(|a| Value::from(*a)).collect(),
                            )),
                        ))),
                        "The actions during which to wait.",
                    )
                    .default(json!(["CREATE"]))
                    .update_allowed(),
                ],
                attributes: Vec::new(),
            },
        }
    }
}

impl Default for DelayResource {
    fn default() -> DelayResource {
        DelayResource::new()
    }
}

#[async_trait]
impl ResourceProvider for DelayResource {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let params =
            DelayParams::from_properties(properties).map_err(|e| property_error(ctx, &e))?;
        let wait = Wait::from_secs(params.wait_secs("CREATE", ctx.services.random.as_ref()));
        let mut data = params.to_data();
        record_wait(&mut data, wait, ctx.services.clock.now());
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
        wait_progress(ctx.data, ctx.services.clock.now())
    }

    /// Every property updates in place, without waiting (Heat's delay has no update step).
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        _old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        let params = DelayParams::from_properties(new).map_err(|e| property_error(ctx, &e))?;
        Ok(Updated::InPlace {
            data: params.to_data(),
            progress: Progress::Done,
        })
    }

    /// Waits when `DELETE` is listed. Delete can keep no data, so the wait is the
    /// `CheckAfter` returned here and `check_delete` then reports done.
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(start_unrecorded(ctx, "DELETE"))
    }

    /// Waits when `SUSPEND` is listed (a `CheckAfter`, as for delete).
    async fn suspend(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(start_unrecorded(ctx, "SUSPEND"))
    }

    /// Waits when `RESUME` is listed (a `CheckAfter`, as for delete).
    async fn resume(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(start_unrecorded(ctx, "RESUME"))
    }

    async fn attribute(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        common_attribute(name)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use futures::executor::block_on;

    use super::*;
    use crate::engine::builtins::testkit::{Harness, props};
    use crate::engine::services::SeededRandom;

    #[test]
    fn schema_defaults_constraints_and_flags_match_heat() {
        let p = DelayResource::new();
        let s = p.schema();
        let cases: &[(&str, serde_json::Value)] = &[
            ("min_wait", json!(0)),
            ("max_jitter", json!(0)),
            ("jitter_multiplier", json!(1.0)),
            ("actions", json!(["CREATE"])),
        ];
        for (name, default) in cases {
            let prop = s.property(name).unwrap();
            assert_eq!(prop.default.as_ref(), Some(default), "{name}");
            assert!(prop.update_allowed && !prop.required, "{name}");
        }
        for name in ["min_wait", "max_jitter", "jitter_multiplier"] {
            let prop = s.property(name).unwrap();
            assert_eq!(prop.ty, PropertyType::Number);
            assert_eq!(
                prop.constraints,
                [ConstraintKind::Range {
                    min: Some(0.0),
                    max: None
                }]
            );
        }
        let PropertyType::List(Some(item)) = &s.property("actions").unwrap().ty else {
            panic!("list");
        };
        assert_eq!(
            item.constraints,
            [ConstraintKind::AllowedValues(vec![
                json!("CREATE"),
                json!("DELETE"),
                json!("SUSPEND"),
                json!("RESUME")
            ])]
        );
        assert_eq!(s.properties.len(), cases.len());
        assert!(s.attributes.is_empty());
    }

    #[test]
    fn params_read_and_refuse_like_heat() {
        let p = DelayParams::from_properties(&props(json!({}))).unwrap();
        assert_eq!(
            p,
            DelayParams {
                min_wait: 0.0,
                max_jitter_secs: 0.0,
                actions: vec!["CREATE".to_string()]
            }
        );
        let p = DelayParams::from_properties(&props(json!({
            "min_wait": 5, "max_jitter": 3, "jitter_multiplier": 2, "actions": ["DELETE", "RESUME"]
        })))
        .unwrap();
        assert_eq!(p.min_wait, 5.0);
        assert_eq!(p.max_jitter_secs, 6.0);
        assert_eq!(p.max_wait(), 11.0);
        assert_eq!(DelayParams::from_data(&p.to_data()), p);
        let err = DelayParams::from_properties(&props(json!({
            "min_wait": -1, "max_jitter": "x", "actions": ["CREATE", "UPDATE"]
        })))
        .unwrap_err();
        for part in [
            "min_wait: -1 is out of range",
            "max_jitter: ",
            "actions.1: \"UPDATE\"",
        ] {
            assert!(err.contains(part), "{part} in {err}");
        }
        assert!(
            DelayParams::from_properties(&props(json!({"actions": "CREATE"})))
                .unwrap_err()
                .contains("actions: \"CREATE\" is not a list")
        );
        // Nothing kept: Heat's defaults.
        assert_eq!(
            DelayParams::from_data(&ResourceData::new()),
            DelayParams::from_properties(&props(json!({}))).unwrap()
        );
    }

    #[test]
    fn jitter_stays_in_range_and_unlisted_actions_do_not_wait() {
        let p = DelayParams {
            min_wait: 10.0,
            max_jitter_secs: 4.0,
            actions: vec!["CREATE".to_string()],
        };
        let random = SeededRandom::new(17);
        let waits: Vec<f64> = (0..500).map(|_| p.wait_secs("CREATE", &random)).collect();
        assert!(waits.iter().all(|w| (10.0..14.0).contains(w)));
        assert!(waits.iter().any(|w| *w < 11.0) && waits.iter().any(|w| *w > 13.0));
        assert_eq!(p.wait_secs("DELETE", &random), 0.0);
    }

    #[test]
    fn validate_checks_the_stack_timeout() {
        let cases: &[(serde_json::Value, u64, bool)] = &[
            (json!({"min_wait": 60}), 3600, true),
            (json!({"min_wait": 3600}), 3600, true),
            (json!({"min_wait": 3000, "max_jitter": 601}), 3600, false),
            (
                json!({"min_wait": 10, "max_jitter": 10, "jitter_multiplier": 0.5}),
                15,
                true,
            ),
        ];
        for (input, timeout, ok) in cases {
            let result = validate(&props(input.clone()), Duration::from_secs(*timeout));
            assert_eq!(result.is_ok(), *ok, "{input}: {result:?}");
        }
        let err =
            validate(&props(json!({"min_wait": 7200})), Duration::from_secs(3600)).unwrap_err();
        assert_eq!(
            err,
            "OS::Heat::Delay maximum delay 7200s exceeds the stack timeout (3600s)"
        );
    }

    #[test]
    fn create_waits_in_virtual_time() {
        let h = Harness::new(3);
        let p = DelayResource::new();
        let empty = ResourceData::new();
        let ctx = h.ctx("pause", &empty);
        let created = block_on(p.create(&ctx, &props(json!({"min_wait": 30})))).unwrap();
        assert_eq!(
            created.progress,
            Progress::CheckAfter(Duration::from_secs(30))
        );
        let ctx = h.ctx("pause", &created.data);
        h.clock.advance(Duration::from_secs(20));
        assert_eq!(
            block_on(p.check_create(&ctx, "id")),
            Ok(Progress::CheckAfter(Duration::from_secs(10)))
        );
        h.clock.advance(Duration::from_secs(10));
        assert_eq!(block_on(p.check_create(&ctx, "id")), Ok(Progress::Done));

        // With jitter the wait is between min_wait and min_wait + max_jitter × multiplier.
        let created = block_on(p.create(
            &h.ctx("pause", &empty),
            &props(json!({"min_wait": 1, "max_jitter": 2, "jitter_multiplier": 3})),
        ))
        .unwrap();
        let Progress::CheckAfter(wait) = created.progress else {
            panic!("waits");
        };
        assert!(
            wait >= Duration::from_secs(1) && wait < Duration::from_secs(7),
            "{wait:?}"
        );

        // Not listed, or no wait: done at once.
        for input in [json!({"min_wait": 5, "actions": ["DELETE"]}), json!({})] {
            let created = block_on(p.create(&h.ctx("pause", &empty), &props(input))).unwrap();
            assert_eq!(created.progress, Progress::Done);
            let ctx = h.ctx("pause", &created.data);
            assert_eq!(block_on(p.check_create(&ctx, "id")), Ok(Progress::Done));
        }
    }

    #[test]
    fn delete_suspend_and_resume_wait_when_listed() {
        let h = Harness::new(3);
        let p = DelayResource::new();
        let empty = ResourceData::new();
        let created = block_on(p.create(
            &h.ctx("pause", &empty),
            &props(json!({"min_wait": 4, "actions": ["DELETE", "SUSPEND"]})),
        ))
        .unwrap();
        assert_eq!(created.progress, Progress::Done);
        let ctx = h.ctx("pause", &created.data);
        let four = Progress::CheckAfter(Duration::from_secs(4));
        assert_eq!(block_on(p.suspend(&ctx, "id")), Ok(four));
        assert_eq!(block_on(p.resume(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(block_on(p.delete(&ctx, "id")), Ok(four));
        assert_eq!(block_on(p.check_delete(&ctx, "id")), Ok(Progress::Done));
        // Already gone (nothing kept): deleting succeeds at once, again and again.
        let ctx = h.ctx("pause", &empty);
        for _ in 0..2 {
            assert_eq!(block_on(p.delete(&ctx, "id")), Ok(Progress::Done));
        }
    }

    #[test]
    fn updates_apply_in_place_without_waiting() {
        let h = Harness::new(3);
        let p = DelayResource::new();
        let empty = ResourceData::new();
        let created =
            block_on(p.create(&h.ctx("pause", &empty), &props(json!({"min_wait": 4})))).unwrap();
        let ctx = h.ctx("pause", &created.data);
        let Updated::InPlace { data, progress } = block_on(p.update(
            &ctx,
            "id",
            &props(json!({"min_wait": 4})),
            &props(json!({"min_wait": 9, "actions": ["DELETE"]})),
        ))
        .unwrap() else {
            panic!("in place");
        };
        assert_eq!(progress, Progress::Done);
        let ctx = h.ctx("pause", &data);
        assert_eq!(block_on(p.check_update(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(
            block_on(p.delete(&ctx, "id")),
            Ok(Progress::CheckAfter(Duration::from_secs(9)))
        );
        let err = block_on(p.update(
            &ctx,
            "id",
            &props(json!({})),
            &props(json!({"actions": ["NOPE"]})),
        ))
        .unwrap_err();
        assert!(matches!(err, ProviderError::Failed(m) if m.contains("actions.0")));
        assert_eq!(block_on(p.attribute(&ctx, "id", "show")), Ok(Value::Null));
        assert_eq!(
            block_on(p.attribute(&ctx, "id", "value")),
            Err(ProviderError::UnknownAttribute("value".to_string()))
        );
    }
}
