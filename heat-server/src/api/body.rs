//! Request bodies: read within `max_json_body_size`, parsed as JSON, and the fields Heat's
//! requests share (template, files, environment, environment_files, parameters, tags,
//! timeouts, flags) taken apart with Heat's messages for bad values.

use axum::body::Body;
use serde_json::{Map, Value};

use super::fault::Fault;
use super::query::{parse_bool, parse_int};
use crate::engine_api::TemplateInput;

/// Reads a body of at most `limit` bytes and parses it as JSON; an empty body is `{}`.
pub async fn read_json(body: Body, limit: usize) -> Result<Value, Fault> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        Fault::too_large(format!(
            "Request limit exceeded: JSON body size exceeds maximum allowed size ({limit} \
             bytes)."
        ))
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&bytes).map_err(|e| Fault::bad_request(e.to_string()))
}

/// A body that must be a JSON object.
pub fn object(body: Value) -> Result<Map<String, Value>, Fault> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(Fault::bad_request("The request body must be a JSON object")),
    }
}

/// JSON given inline as a document's text (a map is written out as indented JSON, so
/// diagnostics point at lines of it).
fn document_text(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The template, files, environments and parameter values of a body.
pub fn template_input(body: &Map<String, Value>) -> Result<TemplateInput, Fault> {
    let template = match body.get("template") {
        None | Some(Value::Null) => {
            if body.get("template_url").is_some_and(|u| !u.is_null()) {
                return Err(Fault::bad_request(
                    "template_url is not supported by this server: send the template itself \
                     in 'template'",
                ));
            }
            None
        }
        Some(Value::String(text)) => Some(text.clone()),
        Some(doc @ Value::Object(_)) => Some(document_text(doc)),
        Some(_) => {
            return Err(Fault::bad_request("The template must be a map or a string"));
        }
    };
    let files: std::collections::BTreeMap<String, String> = match body.get("files") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => document_text(other),
                };
                (k.clone(), text)
            })
            .collect(),
        Some(_) => {
            return Err(Fault::bad_request(
                "'files' must be a map of names to contents",
            ));
        }
    };
    let mut environments = Vec::new();
    match body.get("environment") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) if text.trim().is_empty() => {}
        Some(Value::String(text)) => environments.push(text.clone()),
        Some(Value::Object(map)) if map.is_empty() => {}
        Some(doc @ Value::Object(_)) => environments.push(document_text(doc)),
        Some(_) => {
            return Err(Fault::bad_request(
                "The environment must be a map or a string",
            ));
        }
    }
    match body.get("environment_files") {
        None | Some(Value::Null) => {}
        Some(Value::Array(names)) => {
            for name in names {
                let Some(name) = name.as_str() else {
                    return Err(Fault::bad_request(
                        "'environment_files' must be a list of file names",
                    ));
                };
                let Some(text) = files.get(name) else {
                    return Err(Fault::bad_request(format!(
                        "The environment file {name} is not in 'files'"
                    )));
                };
                environments.push(text.clone());
            }
        }
        Some(_) => {
            return Err(Fault::bad_request(
                "'environment_files' must be a list of file names",
            ));
        }
    }
    let parameters = match body.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return Err(Fault::bad_request("'parameters' must be a map")),
    };
    Ok(TemplateInput {
        template,
        files,
        environments,
        parameters,
    })
}

/// A boolean given as JSON `true`/`false` or a string Heat accepts.
pub fn bool_field(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, Fault> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => parse_bool(name, s).map(Some),
        Some(other) => parse_bool(name, &other.to_string()).map(Some),
    }
}

/// `timeout_mins`: a non-negative integer (or its text).
pub fn timeout_field(body: &Map<String, Value>) -> Result<Option<u32>, Fault> {
    let name = "timeout_mins";
    let value = match body.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => parse_int(name, s)?,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) => v,
            None => parse_int(name, &n.to_string())?,
        },
        Some(other) => parse_int(name, &other.to_string())?,
    };
    u32::try_from(value)
        .map(Some)
        .map_err(|_| Fault::bad_request(format!("'{name}' is too large: {value}")))
}

/// `tags`: `"a,b"` or `["a", "b"]`.
pub fn tags_field(body: &Map<String, Value>) -> Result<Option<Vec<String>>, Fault> {
    match body.get("tags") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        )),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Fault::bad_request("'tags' must be strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(Fault::bad_request(
            "'tags' must be a comma-separated string or a list",
        )),
    }
}

/// A list of strings (`clear_parameters`).
pub fn string_list_field(body: &Map<String, Value>, name: &str) -> Result<Vec<String>, Fault> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Fault::bad_request(format!("'{name}' must be strings")))
            })
            .collect(),
        Some(_) => Err(Fault::bad_request(format!("'{name}' must be a list"))),
    }
}

/// A string field (`null`: absent).
pub fn string_field(body: &Map<String, Value>, name: &str) -> Result<Option<String>, Fault> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Fault::bad_request(format!("'{name}' must be a string"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        object(v).unwrap()
    }

    #[tokio::test]
    async fn bodies_are_limited_and_parsed() {
        assert_eq!(read_json(Body::from(""), 10).await.unwrap(), json!({}));
        assert_eq!(
            read_json(Body::from("{\"a\":1}"), 10).await.unwrap(),
            json!({"a": 1})
        );
        let err = read_json(Body::from("{not json"), 100).await.unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        let err = read_json(Body::from(vec![b' '; 11]), 10).await.unwrap_err();
        assert_eq!(err.status.as_u16(), 413);
        assert!(object(json!([1])).is_err());
    }

    #[test]
    fn template_inputs_accept_maps_and_strings() {
        let input = template_input(&obj(json!({
            "template": {"heat_template_version": "2018-08-31"},
            "files": {"env.yaml": "parameters: {a: 1}", "f": {"x": 1}},
            "environment": {"parameters": {"b": 2}},
            "environment_files": ["env.yaml"],
            "parameters": {"len": 16}
        })))
        .unwrap();
        assert!(
            input
                .template
                .unwrap()
                .contains("\"heat_template_version\"")
        );
        assert_eq!(input.environments.len(), 2);
        assert_eq!(input.environments[1], "parameters: {a: 1}");
        assert!(input.files["f"].contains("\"x\": 1"));
        assert_eq!(input.parameters["len"], json!(16));

        let bad = [
            json!({"template": 5}),
            json!({"template_url": "http://x/t.yaml"}),
            json!({"files": []}),
            json!({"environment_files": ["missing.yaml"]}),
            json!({"parameters": "a=1"}),
        ];
        for body in bad {
            assert_eq!(
                template_input(&obj(body.clone()))
                    .unwrap_err()
                    .status
                    .as_u16(),
                400,
                "{body}"
            );
        }
        let none = template_input(&obj(json!({}))).unwrap();
        assert!(none.template.is_none() && none.environments.is_empty());
    }

    #[test]
    fn flags_timeouts_and_tags_follow_heat() {
        let body = obj(json!({
            "disable_rollback": "False", "timeout_mins": "30", "tags": "a, b,,c"
        }));
        assert_eq!(bool_field(&body, "disable_rollback").unwrap(), Some(false));
        assert_eq!(timeout_field(&body).unwrap(), Some(30));
        assert_eq!(
            tags_field(&body).unwrap(),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        let body = obj(json!({"timeout_mins": -1, "tags": ["x", 1], "disable_rollback": "meh"}));
        assert_eq!(
            timeout_field(&body).unwrap_err().message,
            "Only non-negative integer is acceptable by 'timeout_mins'."
        );
        assert!(tags_field(&body).is_err());
        assert!(bool_field(&body, "disable_rollback").is_err());
        let body = obj(json!({"timeout_mins": 1.5}));
        assert_eq!(
            timeout_field(&body).unwrap_err().message,
            "Only integer is acceptable by 'timeout_mins'."
        );
        assert_eq!(tags_field(&obj(json!({}))).unwrap(), None);
        assert_eq!(
            string_list_field(&obj(json!({"clear_parameters": ["a"]})), "clear_parameters")
                .unwrap(),
            ["a"]
        );
    }
}
