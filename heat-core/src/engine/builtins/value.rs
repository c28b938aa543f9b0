//! `OS::Heat::Value`: exposes its `value` property as the `value` attribute, optionally
//! converted to one of the template parameter types given in `type`.

use async_trait::async_trait;
use serde_json::Value;

use crate::engine::builtins::{
    common_attribute, number_value, physical_resource_name, property_error, string_value,
};
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use crate::engine::schema::{AttributeSchema, PropertySchema, PropertyType, ResourceSchema};
use crate::template::model::ConstraintKind;

/// The type name.
pub const TYPE_NAME: &str = "OS::Heat::Value";

/// The values `type` accepts: the HOT parameter types.
pub const VALUE_TYPES: &[&str] = &[
    "string",
    "number",
    "comma_delimited_list",
    "json",
    "boolean",
];

/// Data key holding the (converted) value as JSON text.
const DATA_VALUE: &str = "value";

/// The `OS::Heat::Value` provider.
#[derive(Debug)]
pub struct ValueResource {
    schema: ResourceSchema,
}

impl ValueResource {
    /// The provider.
    pub fn new() -> ValueResource {
        ValueResource {
            schema: ResourceSchema {
                open: false,
                type_name: TYPE_NAME,
                description: "Holds a value computed from the template (parameters, other \
                              resources' attributes, functions) and exposes it as its `value` \
                              attribute.",
                properties: vec![
                    PropertySchema::new(
                        "value",
                        PropertyType::Any,
                        "The value to expose as the `value` attribute.",
                    )
                    .required()
                    .update_allowed(),
                    PropertySchema::new(
                        "type",
                        PropertyType::String,
                        "The type `value` must have (a template parameter type); when \
                         given, `value` is checked and converted like a property of that type.",
                    )
                    .constraint(ConstraintKind::AllowedValues(
                        VALUE_TYPES.iter().map(|t| Value::from(*t)).collect(),
                    ))
                    .update_allowed(),
                ],
                attributes: vec![AttributeSchema {
                    name: "value",
                    description: "The `value` property, converted to the type given in `type`.",
                }],
            },
        }
    }
}

impl Default for ValueResource {
    fn default() -> ValueResource {
        ValueResource::new()
    }
}

/// The `value` property checked against and converted to `type`, as Heat does: `string`
/// takes strings, integers and booleans (as text); `number` takes numbers and numeric
/// strings; `comma_delimited_list` takes lists only; `json` takes maps only; `boolean`
/// takes booleans and the strings `true` / `false`. A null value becomes the type's empty
/// value; without `type` the value is kept as it is.
///
/// The error names the property (`value: ...` or `type: ...`). Usable for static checks.
pub fn typed_value(properties: &Properties) -> Result<Value, String> {
    let Some(value) = properties.get("value") else {
        return Err("value: the property is required".to_string());
    };
    let ty = match properties.get("type") {
        None | Some(Value::Null) => return Ok(value.clone()),
        Some(Value::String(ty)) => ty.as_str(),
        Some(other) => return Err(format!("type: {other} is not a string")),
    };
    let mismatch = |what: &str| format!("value: {value} is not {what}");
    match ty {
        "string" => match value {
            Value::Null => Ok(Value::String(String::new())),
            v => string_value(v)
                .map(Value::String)
                .ok_or_else(|| mismatch("a string")),
        },
        "number" => match value {
            Value::Null => Ok(Value::from(0)),
            Value::Number(_) | Value::Bool(_) => Ok(value.clone()),
            Value::String(s) => {
                let t = s.trim();
                if let Ok(i) = t.parse::<i64>() {
                    Ok(Value::from(i))
                } else {
                    number_value(value)
                        .map(Value::from)
                        .ok_or_else(|| mismatch("a number"))
                }
            }
            _ => Err(mismatch("a number")),
        },
        "comma_delimited_list" => match value {
            Value::Null => Ok(Value::Array(Vec::new())),
            Value::Array(_) => Ok(value.clone()),
            _ => Err(mismatch("a list")),
        },
        "json" => match value {
            Value::Null => Ok(Value::Object(serde_json::Map::new())),
            Value::Object(_) => Ok(value.clone()),
            _ => Err(mismatch("a map")),
        },
        "boolean" => match value {
            Value::Null => Ok(Value::Bool(false)),
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(mismatch("a valid boolean")),
        },
        other => Err(format!(
            "type: \"{other}\" is not one of the allowed values {}",
            VALUE_TYPES.join(", ")
        )),
    }
}

/// The data to keep: the converted value as JSON text.
fn value_data(
    ctx: &ResourceContext<'_>,
    properties: &Properties,
) -> Result<ResourceData, ProviderError> {
    let value = typed_value(properties).map_err(|e| property_error(ctx, &e))?;
    let mut data = ResourceData::new();
    data.insert(DATA_VALUE.to_string(), value.to_string());
    Ok(data)
}

#[async_trait]
impl ResourceProvider for ValueResource {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        Ok(Created {
            physical_id: physical_resource_name(ctx),
            data: value_data(ctx, properties)?,
            progress: Progress::Done,
        })
    }

    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        _old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        Ok(Updated::InPlace {
            data: value_data(ctx, new)?,
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
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        if name != "value" {
            return common_attribute(name);
        }
        match ctx.data.get(DATA_VALUE) {
            None => Ok(Value::Null),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ProviderError::Failed(format!("the stored value is not valid JSON: {e}"))
            }),
        }
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
    fn schema_matches_heat() {
        let p = ValueResource::new();
        let s = p.schema();
        let value = s.property("value").unwrap();
        assert_eq!(value.ty, PropertyType::Any);
        assert!(value.required && value.update_allowed && value.default.is_none());
        let ty = s.property("type").unwrap();
        assert_eq!(ty.ty, PropertyType::String);
        assert!(!ty.required && ty.update_allowed && ty.default.is_none());
        assert_eq!(
            ty.constraints,
            [ConstraintKind::AllowedValues(vec![
                json!("string"),
                json!("number"),
                json!("comma_delimited_list"),
                json!("json"),
                json!("boolean")
            ])]
        );
        assert_eq!(s.properties.len(), 2);
        assert!(s.attribute("value").is_some());
        assert_eq!(s.attributes.len(), 1);
    }

    #[test]
    fn typed_values_convert_like_heat() {
        let ok: &[(serde_json::Value, serde_json::Value)] = &[
            (json!({"value": {"a": [1]}}), json!({"a": [1]})),
            (json!({"value": null}), json!(null)),
            (json!({"value": "x", "type": null}), json!("x")),
            (json!({"value": "x", "type": "string"}), json!("x")),
            (json!({"value": 42, "type": "string"}), json!("42")),
            (json!({"value": true, "type": "string"}), json!("True")),
            (json!({"value": null, "type": "string"}), json!("")),
            (json!({"value": 3, "type": "number"}), json!(3)),
            (json!({"value": 2.5, "type": "number"}), json!(2.5)),
            (json!({"value": " 7 ", "type": "number"}), json!(7)),
            (json!({"value": "1e3", "type": "number"}), json!(1000.0)),
            (json!({"value": null, "type": "number"}), json!(0)),
            (
                json!({"value": ["a", "b"], "type": "comma_delimited_list"}),
                json!(["a", "b"]),
            ),
            (
                json!({"value": null, "type": "comma_delimited_list"}),
                json!([]),
            ),
            (
                json!({"value": {"k": "v"}, "type": "json"}),
                json!({"k": "v"}),
            ),
            (json!({"value": null, "type": "json"}), json!({})),
            (json!({"value": true, "type": "boolean"}), json!(true)),
            (json!({"value": "False", "type": "boolean"}), json!(false)),
            (json!({"value": null, "type": "boolean"}), json!(false)),
        ];
        for (input, want) in ok {
            assert_eq!(
                typed_value(&props(input.clone())).as_ref(),
                Ok(want),
                "{input}"
            );
        }
        let bad: &[(serde_json::Value, &str)] = &[
            (json!({}), "value: the property is required"),
            (
                json!({"value": 1.5, "type": "string"}),
                "value: 1.5 is not a string",
            ),
            (json!({"value": [1], "type": "string"}), "is not a string"),
            (json!({"value": "abc", "type": "number"}), "is not a number"),
            (json!({"value": "inf", "type": "number"}), "is not a number"),
            (json!({"value": [1], "type": "number"}), "is not a number"),
            (
                json!({"value": "a,b", "type": "comma_delimited_list"}),
                "is not a list",
            ),
            (json!({"value": [1], "type": "json"}), "is not a map"),
            (
                json!({"value": "yes", "type": "boolean"}),
                "is not a valid boolean",
            ),
            (
                json!({"value": 1, "type": "boolean"}),
                "is not a valid boolean",
            ),
            (
                json!({"value": 1, "type": "integer"}),
                "type: \"integer\" is not one of",
            ),
            (json!({"value": 1, "type": 5}), "type: 5 is not a string"),
        ];
        for (input, want) in bad {
            let err = typed_value(&props(input.clone())).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn create_update_and_attribute() {
        let h = Harness::new(1);
        let p = ValueResource::new();
        let empty = ResourceData::new();
        let ctx = h.ctx("val", &empty);
        let created =
            block_on(p.create(&ctx, &props(json!({"value": "12", "type": "number"})))).unwrap();
        assert_eq!(created.progress, Progress::Done);
        assert!(created.physical_id.starts_with("teststack-val-"));
        let ctx = h.ctx("val", &created.data);
        assert_eq!(
            block_on(p.attribute(&ctx, &created.physical_id, "value")),
            Ok(json!(12))
        );
        assert_eq!(
            block_on(p.attribute(&ctx, &created.physical_id, "show")),
            Ok(json!(null))
        );
        assert_eq!(
            block_on(p.attribute(&ctx, &created.physical_id, "output")),
            Err(ProviderError::UnknownAttribute("output".to_string()))
        );

        let old = props(json!({"value": "12", "type": "number"}));
        let new = props(json!({"value": {"nested": [1, 2]}}));
        let Updated::InPlace { data, progress } =
            block_on(p.update(&ctx, &created.physical_id, &old, &new)).unwrap()
        else {
            panic!("Value updates in place");
        };
        assert_eq!(progress, Progress::Done);
        let ctx = h.ctx("val", &data);
        assert_eq!(
            block_on(p.attribute(&ctx, &created.physical_id, "value")),
            Ok(json!({"nested": [1, 2]}))
        );
        assert_eq!(
            block_on(p.delete(&ctx, &created.physical_id)),
            Ok(Progress::Done)
        );
        assert_eq!(
            block_on(p.delete(&ctx, &created.physical_id)),
            Ok(Progress::Done)
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_fails_naming_the_property() {
        let h = Harness::new(1);
        let p = ValueResource::new();
        let empty = ResourceData::new();
        let ctx = h.ctx("val", &empty);
        let err =
            block_on(p.create(&ctx, &props(json!({"value": [1], "type": "json"})))).unwrap_err();
        assert_eq!(
            err,
            ProviderError::Failed(
                "Property error: resources.val.properties.value: [1] is not a map".to_string()
            )
        );
        let err = block_on(p.update(
            &ctx,
            "id",
            &props(json!({"value": 1})),
            &props(json!({"value": "x", "type": "boolean"})),
        ))
        .unwrap_err();
        assert!(matches!(err, ProviderError::Failed(m) if m.contains("not a valid boolean")));
    }

    #[test]
    fn attribute_before_create_is_null_and_corrupt_data_fails() {
        let h = Harness::new(1);
        let p = ValueResource::new();
        let empty = ResourceData::new();
        assert_eq!(
            block_on(p.attribute(&h.ctx("v", &empty), "id", "value")),
            Ok(json!(null))
        );
        let mut bad = ResourceData::new();
        bad.insert("value".to_string(), "{not json".to_string());
        assert!(matches!(
            block_on(p.attribute(&h.ctx("v", &bad), "id", "value")),
            Err(ProviderError::Failed(_))
        ));
    }
}
