//! `OS::Heat::None`: a resource that does nothing.
//!
//! Mapping a type to it in the environment's resource_registry stubs that resource out. As in
//! Heat it takes any properties (and ignores them), answers every attribute with null,
//! never needs replacing, and its create makes up a UUID as the physical id.

use async_trait::async_trait;
use serde_json::Value;

use crate::engine::builtins::uuid_from_token;
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use crate::engine::schema::ResourceSchema;

/// The type name.
pub const TYPE_NAME: &str = "OS::Heat::None";

/// Data key Heat sets on a `None` resource so a later delete knows there is nothing behind it.
pub const IS_PLACEHOLDER: &str = "is_placeholder";

/// The `OS::Heat::None` provider.
///
/// Its schema declares no properties and is `open`: the property validator lets any property
/// through for this type (Heat ignores them all), and an update planner must treat any change to
/// them as "nothing to do" (Heat never updates or replaces a `None` resource).
#[derive(Debug)]
pub struct NoneResource {
    schema: ResourceSchema,
}

impl NoneResource {
    /// The provider.
    pub fn new() -> NoneResource {
        NoneResource {
            schema: ResourceSchema {
                open: true,
                type_name: TYPE_NAME,
                description: "Does nothing. Map another resource type to it in the \
                              resource_registry to switch that resource off: it accepts any \
                              properties, ignores them, and every attribute reads as null.",
                properties: Vec::new(),
                attributes: Vec::new(),
            },
        }
    }
}

impl Default for NoneResource {
    fn default() -> NoneResource {
        NoneResource::new()
    }
}

#[async_trait]
impl ResourceProvider for NoneResource {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        _properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let mut data = ResourceData::new();
        data.insert(IS_PLACEHOLDER.to_string(), "True".to_string());
        Ok(Created {
            physical_id: uuid_from_token(ctx.idempotency_token),
            data,
            progress: Progress::Done,
        })
    }

    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        _old: &Properties,
        _new: &Properties,
    ) -> Result<Updated, ProviderError> {
        Ok(Updated::InPlace {
            data: ctx.data.clone(),
            progress: Progress::Done,
        })
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
        _name: &str,
    ) -> Result<Value, ProviderError> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::engine::builtins::testkit::{Harness, props};

    #[test]
    fn create_makes_a_uuid_and_marks_a_placeholder() {
        let h = Harness::new(1);
        let p = NoneResource::new();
        let empty = ResourceData::new();
        let ctx = h.ctx("stub", &empty);
        let created = block_on(p.create(
            &ctx,
            &props(json!({"flavor": "m1.small", "anything": [1, 2]})),
        ))
        .unwrap();
        assert_eq!(created.progress, Progress::Done);
        assert_eq!(created.physical_id.len(), 36);
        assert_eq!(
            created.data.get(IS_PLACEHOLDER).map(String::as_str),
            Some("True")
        );
        // Repeating the step (same token) gives the same id; another resource another one.
        let again = block_on(p.create(&ctx, &props(json!({})))).unwrap();
        assert_eq!(again.physical_id, created.physical_id);
        let other = block_on(p.create(&h.ctx("other", &empty), &props(json!({})))).unwrap();
        assert_ne!(other.physical_id, created.physical_id);
    }

    #[test]
    fn every_attribute_is_null() {
        let h = Harness::new(1);
        let p = NoneResource::new();
        let data = ResourceData::new();
        let ctx = h.ctx("stub", &data);
        for name in ["show", "first_address", "networks", "", "value"] {
            assert_eq!(
                block_on(p.attribute(&ctx, "id", name)),
                Ok(Value::Null),
                "{name}"
            );
        }
        assert!(p.schema().properties.is_empty());
        assert!(p.schema().attributes.is_empty());
    }

    #[test]
    fn updates_in_place_keeping_data_and_deletes_always_succeed() {
        let h = Harness::new(1);
        let p = NoneResource::new();
        let mut data = ResourceData::new();
        data.insert(IS_PLACEHOLDER.to_string(), "True".to_string());
        let ctx = h.ctx("stub", &data);
        let updated =
            block_on(p.update(&ctx, "id", &props(json!({"a": 1})), &props(json!({"a": 2}))))
                .unwrap();
        assert_eq!(
            updated,
            Updated::InPlace {
                data: data.clone(),
                progress: Progress::Done
            }
        );
        for _ in 0..2 {
            assert_eq!(block_on(p.delete(&ctx, "id")), Ok(Progress::Done));
            assert_eq!(block_on(p.check_delete(&ctx, "id")), Ok(Progress::Done));
        }
        assert_eq!(
            block_on(p.delete(&ctx, "never-existed")),
            Ok(Progress::Done)
        );
    }

    #[test]
    fn optional_actions_are_no_ops() {
        let h = Harness::new(1);
        let p = NoneResource::new();
        let mut data = ResourceData::new();
        data.insert(IS_PLACEHOLDER.to_string(), "True".to_string());
        let ctx = h.ctx("stub", &data);
        assert_eq!(block_on(p.suspend(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(block_on(p.resume(&ctx, "id")), Ok(Progress::Done));
        assert_eq!(block_on(p.snapshot(&ctx, "id")), Ok(data.clone()));
        assert_eq!(block_on(p.adopt(&ctx, "id", &data)), Ok(()));
        assert!(matches!(
            block_on(p.signal(&ctx, "id", &json!({}))),
            Err(ProviderError::NotSupported {
                operation: "signal",
                ..
            })
        ));
    }
}
