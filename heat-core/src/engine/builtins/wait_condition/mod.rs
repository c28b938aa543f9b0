//! Wait conditions: `AWS::CloudFormation::WaitConditionHandle`,
//! `AWS::CloudFormation::WaitCondition`, `OS::Heat::WaitConditionHandle` and
//! `OS::Heat::WaitCondition`, with Heat's properties, attributes, signal formats and failure
//! messages.
//!
//! # How they work together
//!
//! A *handle* has nothing to wait for itself: it is created at once and hands out where to
//! signal it (the AWS handle's reference is a URL; the OS handle has `endpoint`, `token`,
//! `curl_cli` and `signal` attributes). Each signal delivered to it
//! ([`ResourceProvider::signal`](crate::engine::ResourceProvider::signal)) is validated
//! ([`signal::parse_signal`]) and recorded in the handle's data ([`signal::record`]), keyed
//! by its unique id, in the order the ids first arrived; a signal with an id already seen
//! replaces the earlier one in place, as in Heat.
//!
//! A *wait condition* depends on its handle (its `handle` / `Handle` property refers to it)
//! and watches it: its provider's
//! [`watches_dependencies`](crate::engine::ResourceProvider::watches_dependencies) is true,
//! so every call gets the handle's recorded data in
//! [`ResourceContext::peers`](crate::engine::ResourceContext::peers). `create` keeps the
//! handle's reference, the count and the deadline (engine clock + timeout) in the wait
//! condition's data; `check_create` then, in Heat's order, fails when the deadline has
//! passed (`WaitConditionTimeout: resources.<name>: 1 of 2 received - <reasons>`), fails when
//! any recorded signal is a `FAILURE` (`WaitConditionFailure: resources.<name>: <reasons>`),
//! succeeds when at least `count` different ids were recorded, and otherwise asks to be
//! checked again after [`condition::POLL_INTERVAL`] (or at the deadline, when sooner).
//!
//! # Signal URLs and tokens
//!
//! Heat hands out Keystone tokens and EC2-signed URLs; heat-core has neither. A handle instead
//! keeps a random secret (64 hex characters, from
//! [`Services::random`](crate::engine::Services)) in its data; whoever serves the signal API
//! accepts it as the credential for signalling that one resource ([`handle::token_matches`]).
//! URLs are built from [`Services::signal_endpoint`](crate::engine::Services) (the native
//! API's base, e.g. `http://127.0.0.1:8004/v1/<tenant>`):
//!
//! - the resource's signal endpoint is `<base>/stacks/<stack>/<stack id>/resources/<name>/signal`
//!   (each part percent-encoded), Heat's native signal route;
//! - the AWS handle's reference (and an OS handle's `CFN_SIGNAL` `alarm_url`) is that endpoint
//!   with `?token=<secret>`: a pre-signed URL that `cfn-signal` can use without credentials;
//! - with no signal endpoint (a host without an API), both are the URN
//!   `heat-signal:stacks/<stack>/<stack id>/resources/<name>/signal` (no secret): it names the
//!   resource for in-process signalling, and `curl_cli` is null.
//!
//! The URLs are computed once, at create, and kept in the handle's data, so the reference
//! never changes under a wait condition that matched it.
//!
//! # Limits
//!
//! A handle keeps at most [`signal::MAX_SIGNAL_IDS`] different ids and
//! [`signal::MAX_SIGNALS_BYTES`] bytes of recorded signals; a signal beyond either is refused
//! with an error naming the limit (a wait condition's `count` is limited to the same number of
//! ids).

pub mod condition;
pub mod handle;
pub mod signal;

use serde_json::Value;

pub use condition::WaitConditionResource;
pub use handle::{CfnWaitConditionHandle, HeatWaitConditionHandle};

use crate::eval::py;

/// Percent-encodes every byte but the unreserved ones, as Python's
/// `urllib.parse.quote(s, safe='')` (how Heat quotes identifier parts).
pub(crate) fn quote(s: &str) -> String {
    py::quote(s, "")
}

/// Python's `str()` of a JSON scalar (`None`, `True`, `5`, `1.5`, text); `None` for lists
/// and maps.
pub(crate) fn py_str(v: &Value) -> Option<String> {
    match v {
        Value::Array(_) | Value::Object(_) => None,
        scalar => Some(py::str_of(scalar)),
    }
}

/// A value as text in a message: scalars as Python's `str()`, lists and maps as JSON.
pub(crate) fn text_of(v: &Value) -> String {
    py_str(v).unwrap_or_else(|| python_json(v))
}

/// JSON as Python's `json.dumps(v)` writes it (what Heat's `jsonutils.dumps` gives): keys in
/// their order (not sorted), `", "` and `": "` separators, non-ASCII characters escaped.
pub(crate) fn python_json(v: &Value) -> String {
    py::json_dumps_unsorted(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engine::registry::{ProviderRegistry, check_resources};
    use crate::environment::Environment;
    use crate::template::load::Limits;

    #[test]
    fn quoting_follows_python() {
        let cases: &[(&str, &str)] = &[
            ("plain-Name_1.x~", "plain-Name_1.x~"),
            ("a b/c:d", "a%20b%2Fc%3Ad"),
            ("é", "%C3%A9"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), *want, "{input}");
        }
    }

    #[test]
    fn floats_and_scalars_print_like_python() {
        let floats: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (1.0, "1.0"),
            (-2.0, "-2.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1.25e17, "1.25e+17"),
            (123456789012345.6, "123456789012345.6"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.00001, "1e-05"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
        ];
        for (f, want) in floats {
            assert_eq!(py::float_repr(*f), *want, "{f}");
        }
        let scalars: &[(Value, Option<&str>)] = &[
            (json!(null), Some("None")),
            (json!(true), Some("True")),
            (json!(false), Some("False")),
            (json!(7), Some("7")),
            (json!(-7), Some("-7")),
            (json!(2.5), Some("2.5")),
            (json!("x y"), Some("x y")),
            (json!([1]), None),
            (json!({"a": 1}), None),
        ];
        for (v, want) in scalars {
            assert_eq!(py_str(v).as_deref(), *want, "{v}");
        }
        assert_eq!(text_of(&json!({"a": [1, "b"]})), "{\"a\": [1, \"b\"]}");
    }

    #[test]
    fn json_keeps_key_order_and_escapes_like_python() {
        let v: Value = serde_json::from_str(
            r#"{"z": 1, "a": [true, null, 1.0, "é\n\"q\""], "m": {"y": 1e20, "b": {}}}"#,
        )
        .unwrap();
        assert_eq!(
            python_json(&v),
            r#"{"z": 1, "a": [true, null, 1.0, "\u00e9\n\"q\""], "m": {"y": 1e+20, "b": {}}}"#
        );
        assert_eq!(python_json(&json!("😀")), r#""\ud83d\ude00""#);
        assert_eq!(python_json(&json!([])), "[]");
    }

    fn codes(text: &str) -> Vec<String> {
        let parsed = crate::template::parse(text, &Limits::default());
        let template = parsed.template.expect("a template");
        assert!(
            parsed.diagnostics.iter().all(|d| !d.is_error()),
            "{:?}",
            parsed.diagnostics
        );
        check_resources(
            &template,
            &Environment::default(),
            &ProviderRegistry::with_builtins(),
        )
        .iter()
        .map(|d| format!("{}:{} {}", d.span.start.line, d.span.start.col, d.code))
        .collect()
    }

    /// The four types' schemas, through the registry, on small HOT and CFN templates: what
    /// Heat accepts passes, and each kind of mistake is reported where it is written.
    #[test]
    fn schemas_validate_templates_through_the_registry() {
        let hot = |body: &str| {
            format!(
                "heat_template_version: 2018-08-31\nresources:\n  handle:\n    type: OS::Heat::WaitConditionHandle\n{body}"
            )
        };
        let cfn = |body: &str| {
            format!(
                "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Handle:\n    Type: AWS::CloudFormation::WaitConditionHandle\n{body}"
            )
        };
        let cases: Vec<(String, Vec<&str>)> = vec![
            // A complete HOT pair, with and without optional properties.
            (
                hot(
                    "  wait:\n    type: OS::Heat::WaitCondition\n    properties:\n      handle: {get_resource: handle}\n      timeout: 600\n      count: 2\n",
                ),
                vec![],
            ),
            (
                hot(
                    "    properties: {signal_transport: NO_SIGNAL}\n  wait:\n    type: OS::Heat::WaitCondition\n    properties: {handle: {get_resource: handle}, timeout: 1.5}\n",
                ),
                vec![],
            ),
            // Missing timeout; count below 1; timeout above 43200; an unknown transport.
            (
                hot(
                    "  wait:\n    type: OS::Heat::WaitCondition\n    properties:\n      handle: {get_resource: handle}\n",
                ),
                vec!["8:7 E6002"],
            ),
            (
                hot(
                    "  wait:\n    type: OS::Heat::WaitCondition\n    properties:\n      handle: {get_resource: handle}\n      timeout: 43201\n      count: 0\n",
                ),
                vec!["9:16 E6004", "10:14 E6004"],
            ),
            (
                hot("    properties: {signal_transport: SMOKE_SIGNAL}\n"),
                vec!["5:36 E6004"],
            ),
            // HOT property names are lower case.
            (
                hot(
                    "  wait:\n    type: OS::Heat::WaitCondition\n    properties: {Handle: x, timeout: 5}\n",
                ),
                vec!["7:18 E6001", "7:17 E6002"],
            ),
            // A complete CFN pair; CloudFormation writes numbers as strings.
            (
                cfn(
                    "  Wait:\n    Type: AWS::CloudFormation::WaitCondition\n    Properties:\n      Handle: {Ref: Handle}\n      Timeout: '300'\n      Count: '3'\n",
                ),
                vec![],
            ),
            // CFN: Timeout is an integer and required; the handle takes no properties.
            (
                cfn(
                    "  Wait:\n    Type: AWS::CloudFormation::WaitCondition\n    Properties:\n      Handle: {Ref: Handle}\n      Timeout: 1.5x\n",
                ),
                vec!["9:16 E6003"],
            ),
            (
                cfn(
                    "  Wait:\n    Type: AWS::CloudFormation::WaitCondition\n    Properties: {Handle: {Ref: Handle}}\n",
                ),
                vec!["7:17 E6002"],
            ),
            (cfn("    Properties: {Timeout: 5}\n"), vec!["5:18 E6001"]),
        ];
        for (text, want) in cases {
            let got = codes(&text);
            assert_eq!(got, want, "{text}");
        }
    }
}
