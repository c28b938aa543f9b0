//! Table-driven tests of evaluation: every function, its normal cases and edge cases
//! (empty lists, wrong types, out of range, unicode, nested calls, per-version variants).
//! Many cases restate, as data, the facts Heat's own unit tests pin down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::diagnostic::Code;
use crate::span::Pos;
use crate::template::expr::{Call, Expr, ExprKind, Func};
use crate::template::load::{Limits, load};
use crate::template::model::Mapping;
use crate::template::node::Node;
use crate::template::parse::expr::{ExprContext, parse_expr};
use crate::template::version::Version;
use crate::template::version::Version::*;

// ------------------------------------------------------------------------------------------
// Harness
// ------------------------------------------------------------------------------------------

const H13: Version = Hot20130523;
const H14: Version = Hot20141016;
const H15A: Version = Hot20150430;
const H15B: Version = Hot20151015;
const H16A: Version = Hot20160408;
const H16B: Version = Hot20161014;
const H17A: Version = Hot20170224;
const H17B: Version = Hot20170901;
const H18: Version = Hot20180302;
const H21: Version = Hot20210416;
const CFN: Version = Cfn20100909;
const HCFN: Version = Heat20121212;

/// Loads one YAML/JSON value (written on one line) as the value of a key.
fn node(src: &str) -> Node {
    let loaded = load(&format!("v: {src}\n"), &Limits::default());
    assert!(
        loaded.diagnostics.is_empty(),
        "{src}: {:?}",
        loaded.diagnostics
    );
    loaded
        .root
        .and_then(|r| r.get("v").cloned())
        .unwrap_or_else(|| panic!("{src}: no value"))
}

/// Parses a value expression (or, with `cond`, a condition expression) of a version.
fn parse(v: Version, src: &str, cond: bool) -> Expr {
    let ctx = if cond {
        ExprContext::condition(v)
    } else {
        ExprContext::value(v)
    };
    let mut diags = Vec::new();
    parse_expr(&node(src), &ctx, &mut diags)
}

/// Everything the test context offers.
struct Fixture {
    params: ParameterValues,
    pseudo: PseudoParams,
    resources: StaticResources,
    files: BTreeMap<String, String>,
    mappings: Vec<Mapping>,
    conditions: BTreeMap<String, bool>,
    imports: BTreeMap<String, Value>,
    zones: Vec<String>,
    facade: ParentFacade,
}

fn mapping(name: &str, src: &str) -> Mapping {
    use crate::span::Spanned;
    let n = node(src);
    let entries = n
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, inner)| {
            (
                Spanned::new(k.name.clone(), k.span),
                inner
                    .as_map()
                    .unwrap()
                    .iter()
                    .map(|(k2, v)| (Spanned::new(k2.name.clone(), k2.span), v.clone()))
                    .collect(),
            )
        })
        .collect();
    Mapping {
        name: Spanned::new(name.to_string(), n.span),
        entries,
        span: n.span,
    }
}

impl Fixture {
    fn new() -> Fixture {
        let params = ParameterValues::new()
            .with("name", json!("web"))
            .with("count", json!(3))
            .with("list", json!(["a", "b", "c"]))
            .with("json", json!({"k": {"n": [1, 2]}, "x": "y"}))
            .with("flag", json!(true))
            .with("env", json!("prod"))
            .with("pointer", json!("name"))
            .with("res_name", json!("server"))
            .with("attr_name", json!("name"))
            .with("block", json!("10.1.0.0/16"))
            .with("empty", json!(""))
            .with_hidden("secret", json!("s3cr3t-pass"))
            .with_hidden("secret_map", json!({"pw": "hunter22"}))
            .with_hidden("secret_num", json!(918273));
        let pseudo = PseudoParams {
            stack_name: Some("teststack".into()),
            stack_id: Some("11111111-2222".into()),
            region: Some("us-east-1".into()),
            project_id: Some("proj".into()),
            account_id: Some("123456789012".into()),
            ..PseudoParams::default()
        };
        let resources = StaticResources::new()
            .with(
                "server",
                Some(json!("srv-id")),
                json!({
                    "first_address": "10.0.0.5",
                    "networks": {"private": ["10.0.0.5", "fe80::1"]},
                    "name": "srv",
                }),
            )
            .with("vol", Some(json!("vol-id")), json!({"size": 10}))
            .with("pending", None, json!({}));
        let files = BTreeMap::from([
            ("script.sh".to_string(), "#!/bin/sh\necho hi\n".to_string()),
            ("ü.txt".to_string(), "unicode".to_string()),
        ]);
        Fixture {
            params,
            pseudo,
            resources,
            files,
            mappings: vec![mapping(
                "RegionMap",
                "{us-east-1: {AMI: ami-1, Bits: 64}, '1': {x: y}}",
            )],
            conditions: BTreeMap::from([
                ("is_prod".to_string(), true),
                ("is_dev".to_string(), false),
            ]),
            imports: BTreeMap::from([
                ("VpcId".to_string(), json!("vpc-123")),
                ("teststack-Vpc".to_string(), json!("vpc-9")),
            ]),
            zones: vec!["az-1".into(), "az-2".into()],
            facade: ParentFacade {
                metadata: json!({"a": 1}),
                deletion_policy: json!("Retain"),
                update_policy: json!({}),
            },
        }
    }

    fn ctx(&self, v: Version) -> EvalContext<'_> {
        EvalContext::new(v)
            .with_parameters(&self.params)
            .with_pseudo(&self.pseudo)
            .with_resources(&self.resources)
            .with_files(&self.files)
            .with_mappings(&self.mappings)
            .with_conditions(&self.conditions)
            .with_imports(&self.imports)
            .with_availability_zones(&self.zones)
            .with_facade(&self.facade)
    }
}

/// What a case expects.
enum Want {
    /// This value.
    Val(Value),
    /// The value is omitted (`None` from `evaluate_nullable`).
    Omit,
    /// An error with this code whose message contains the text.
    Err(Code, &'static str),
}

struct Case {
    v: Version,
    src: &'static str,
    cond: bool,
    want: Want,
}

fn ok(v: Version, src: &'static str, want: Value) -> Case {
    Case {
        v,
        src,
        cond: false,
        want: Want::Val(want),
    }
}
fn okc(v: Version, src: &'static str, want: Value) -> Case {
    Case {
        v,
        src,
        cond: true,
        want: Want::Val(want),
    }
}
fn omit(v: Version, src: &'static str) -> Case {
    Case {
        v,
        src,
        cond: false,
        want: Want::Omit,
    }
}
fn err(v: Version, src: &'static str, msg: &'static str) -> Case {
    Case {
        v,
        src,
        cond: false,
        want: Want::Err(Code::EvaluationFailed, msg),
    }
}
fn errc(v: Version, src: &'static str, msg: &'static str) -> Case {
    Case {
        v,
        src,
        cond: true,
        want: Want::Err(Code::EvaluationFailed, msg),
    }
}
fn err_code(v: Version, src: &'static str, code: Code, msg: &'static str) -> Case {
    Case {
        v,
        src,
        cond: false,
        want: Want::Err(code, msg),
    }
}

/// Runs a table against the standard fixture; reports every failing row at once.
fn run(cases: &[Case]) {
    let fx = Fixture::new();
    run_with(cases, |v| fx.ctx(v));
}

fn run_with<'a>(cases: &[Case], ctx: impl Fn(Version) -> EvalContext<'a>) {
    let mut failures = Vec::new();
    for c in cases {
        let expr = parse(c.v, c.src, c.cond);
        let got = evaluate_nullable(&expr, &ctx(c.v));
        let fine = match (&c.want, &got) {
            (Want::Val(w), Ok(Some(g))) => w == g,
            (Want::Omit, Ok(None)) => true,
            (Want::Err(code, msg), Err(e)) => e.code == *code && e.message.contains(msg),
            _ => false,
        };
        if !fine {
            let want = match &c.want {
                Want::Val(w) => format!("{w}"),
                Want::Omit => "omitted".into(),
                Want::Err(code, m) => format!("error {code} containing {m:?}"),
            };
            failures.push(format!(
                "[{}] {}\n    want {want}\n    got  {got:?}",
                c.v.date(),
                c.src
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------------------------------------------------
// HOT
// ------------------------------------------------------------------------------------------

#[test]
fn get_param() {
    run(&[
        ok(H21, "{get_param: name}", json!("web")),
        ok(H21, "{get_param: count}", json!(3)),
        ok(H21, "{get_param: [json, k, n, 1]}", json!(2)),
        ok(H21, "{get_param: [list, '1']}", json!("b")),
        ok(H21, "{get_param: [list, -1]}", json!("c")),
        ok(H21, "{get_param: [list, 5]}", json!("")),
        ok(H21, "{get_param: [list, x]}", json!("")),
        ok(H21, "{get_param: [json, missing]}", json!("")),
        ok(H21, "{get_param: [json, 0]}", json!("")),
        ok(H21, "{get_param: [json, x, 0]}", json!("y")),
        ok(H21, "{get_param: [name, 0]}", json!("w")),
        ok(H21, "{get_param: [count, 0]}", json!("")),
        ok(H21, "{get_param: [json, [a]]}", json!("")),
        ok(H21, "{get_param: {get_param: pointer}}", json!("web")),
        ok(H21, "{get_param: [{get_param: pointer}]}", json!("web")),
        ok(H21, "{get_param: secret}", json!("s3cr3t-pass")),
        ok(H21, "{get_param: OS::stack_name}", json!("teststack")),
        ok(H21, "{get_param: OS::stack_id}", json!("11111111-2222")),
        ok(H21, "{get_param: OS::project_id}", json!("proj")),
        ok(H21, "{get_param: OS::region}", json!("us-east-1")),
        ok(H13, "{get_param: name}", json!("web")),
        err(
            H21,
            "{get_param: nope}",
            "there is no parameter named \"nope\"",
        ),
        err(
            H21,
            "{get_param: AWS::StackName}",
            "no parameter named \"AWS::StackName\"",
        ),
        err(H21, "{get_param: []}", "needs a parameter name"),
        err(H21, "{get_param: ''}", "needs a parameter name"),
        err(H21, "{get_param: null}", "needs a parameter name"),
        err(H21, "{get_param: {a: b}}", "a parameter name or a list"),
        err(
            H21,
            "{get_param: [1]}",
            "the parameter name must be a string",
        ),
    ]);
}

#[test]
fn get_resource() {
    run(&[
        ok(H21, "{get_resource: server}", json!("srv-id")),
        ok(
            H21,
            "{get_resource: {get_param: res_name}}",
            json!("srv-id"),
        ),
        ok(H21, "{get_resource: pending}", Value::Null),
        err(
            H21,
            "{get_resource: nope}",
            "there is no resource named \"nope\"",
        ),
        err(
            H21,
            "{get_resource: [a]}",
            "the resource name must be a string",
        ),
    ]);
}

#[test]
fn get_attr() {
    run(&[
        ok(
            H21,
            "{get_attr: [server, first_address]}",
            json!("10.0.0.5"),
        ),
        ok(
            H21,
            "{get_attr: [server, networks, private, 0]}",
            json!("10.0.0.5"),
        ),
        ok(
            H21,
            "{get_attr: [server, networks, private, -1]}",
            json!("fe80::1"),
        ),
        ok(
            H13,
            "{get_attr: [server, networks, private, 1]}",
            json!("fe80::1"),
        ),
        ok(
            H14,
            "{get_attr: [server, networks, private, 1]}",
            json!("fe80::1"),
        ),
        ok(
            H21,
            "{get_attr: [server, networks, public, 0]}",
            Value::Null,
        ),
        ok(
            H21,
            "{get_attr: [server, networks, private, '0']}",
            Value::Null,
        ),
        ok(
            H21,
            "{get_attr: [server, networks, private, 9]}",
            Value::Null,
        ),
        ok(
            H21,
            "{get_attr: [{get_param: res_name}, {get_param: attr_name}]}",
            json!("srv"),
        ),
        ok(H21, "{get_attr: [vol, size]}", json!(10)),
        ok(
            H21,
            "{get_attr: [server]}",
            json!({"first_address": "10.0.0.5", "networks": {"private": ["10.0.0.5", "fe80::1"]}, "name": "srv"}),
        ),
        ok(H15B, "{get_attr: [vol]}", json!({"size": 10})),
        err(H15A, "{get_attr: [vol]}", "expected at least 2 arguments"),
        err(H14, "{get_attr: [vol]}", "expected at least 2 arguments"),
        err(H21, "{get_attr: []}", "expected at least 1 arguments"),
        err(H21, "{get_attr: server}", "must be a list"),
        err(H21, "{get_attr: {server: name}}", "must be a list"),
        err(
            H21,
            "{get_attr: [server, nope]}",
            "resource \"server\" has no attribute \"nope\"",
        ),
        err(
            H21,
            "{get_attr: [nope, name]}",
            "there is no resource named \"nope\"",
        ),
        err(
            H21,
            "{get_attr: [nope]}",
            "there is no resource named \"nope\"",
        ),
        err(
            H21,
            "{get_attr: [server, [name]]}",
            "the attribute name must be a string",
        ),
    ]);
}

#[test]
fn get_file() {
    run(&[
        ok(H21, "{get_file: script.sh}", json!("#!/bin/sh\necho hi\n")),
        ok(H13, "{get_file: ü.txt}", json!("unicode")),
        err_code(
            H21,
            "{get_file: missing.sh}",
            Code::MissingFile,
            "\"missing.sh\"",
        ),
        err(
            H21,
            "{get_file: [script.sh]}",
            "the file name must be a string",
        ),
    ]);
    // No files given at all.
    let expr = parse(H21, "{get_file: script.sh}", false);
    let e = evaluate(&expr, &EvalContext::new(H21)).unwrap_err();
    assert_eq!(e.code, Code::MissingFile);
}

#[test]
fn list_join() {
    run(&[
        ok(H15A, "{list_join: [',', [a, b]]}", json!("a,b")),
        ok(H15A, "{list_join: [',', []]}", json!("")),
        ok(H15B, "{list_join: [',', []]}", json!("")),
        ok(H15A, "{list_join: [',', [a, null]]}", json!("a,")),
        ok(H15A, "{list_join: [',', null]}", json!("")),
        ok(H15A, "{list_join: ['', {get_param: list}]}", json!("abc")),
        ok(H15B, "{list_join: ['-', [é, 日本]]}", json!("é-日本")),
        ok(
            H15B,
            r#"{list_join: [',', [{foo: json}, {foo2: json2}]]}"#,
            json!(r#"{"foo": "json"},{"foo2": "json2"}"#),
        ),
        ok(
            H15B,
            "{list_join: [',', [[1, ü]]]}",
            json!(r#"[1, "\u00fc"]"#),
        ),
        ok(
            H15B,
            "{list_join: [',', [bar, baz], [bar2, baz2]]}",
            json!("bar,baz,bar2,baz2"),
        ),
        ok(H15B, "{list_join: [',', '', [a], null, []]}", json!("a")),
        ok(
            H21,
            "{list_join: [', ', {get_param: list}, [d]]}",
            json!("a, b, c, d"),
        ),
        err(
            H15A,
            "{list_join: [',', [{foo: json}]]}",
            "must be strings, found a map",
        ),
        err(
            H15A,
            "{list_join: [',', [1]]}",
            "must be strings, found a number",
        ),
        err(H15A, "{list_join: [',', [a], [b]]}", "expected 2 arguments"),
        err(H15B, "{list_join: [',', bad, [foo]]}", "joins lists only"),
        err(
            H15B,
            "{list_join: [',', [1]]}",
            "strings, maps or lists, found a number",
        ),
        err(H15B, "{list_join: [',', [true]]}", "strings, maps or lists"),
        err(H15A, "{list_join: [',', bad]}", "joins lists only"),
        err(H15B, "{list_join: [',']}", "at least 2"),
        err(H15A, "{list_join: [',']}", "expected 2 arguments"),
        err(H15B, "{list_join: bad}", "must be a list"),
        err(H15B, "{list_join: 5}", "must be a list"),
        err(
            H15B,
            "{list_join: [1, [a]]}",
            "the delimiter must be a string",
        ),
    ]);
}

#[test]
fn str_replace() {
    run(&[
        ok(
            H15A,
            "{str_replace: {template: 'Template var1 string var2', params: {var1: foo, var2: bar}}}",
            json!("Template foo string bar"),
        ),
        ok(
            H15A,
            "{str_replace: {template: 'Template number string bar', params: {number: 1}}}",
            json!("Template 1 string bar"),
        ),
        ok(
            H15A,
            "{str_replace: {template: '1234567890', params: {'1': a, '12': b, '123': c, '1234': d, '12345': e, '123456': f, '1234567': g}}}",
            json!("g890"),
        ),
        ok(
            H15A,
            "{str_replace: {template: '1234567890', params: {'1': a, '4': d, '8': h, '9': i, '123': '1', '456': '4', '890': '8', '90': '9'}}}",
            json!("1478"),
        ),
        ok(
            H15A,
            "{str_replace: {template: '9876543210', params: {'987654': a, '876543': b, '765432': c, '654321': d, '543210': e}}}",
            json!("9876e"),
        ),
        ok(
            H21,
            "{str_replace: {template: 'x=$v', params: {$v: true}}}",
            json!("x=True"),
        ),
        ok(
            H21,
            "{str_replace: {template: 'x=$v', params: {$v: 1.5}}}",
            json!("x=1.5"),
        ),
        ok(
            H21,
            "{str_replace: {template: 'x=$v.', params: {$v: null}}}",
            json!("x=."),
        ),
        ok(
            H21,
            "{str_replace: {template: 'héllo wörld', params: {ö: o}}}",
            json!("héllo world"),
        ),
        ok(
            H21,
            "{str_replace: {template: 'no match', params: {}}}",
            json!("no match"),
        ),
        ok(
            H21,
            "{str_replace: {template: '', params: {a: b}}}",
            json!(""),
        ),
        ok(
            H21,
            "{str_replace: {template: 'aaa', params: {a: aa}}}",
            json!("aaaaaa"),
        ),
        ok(
            H21,
            "{str_replace: {template: 'x k', params: {get_param: json}}}",
            json!(r#"y {"n": [1, 2]}"#),
        ),
        ok(
            H21,
            "{str_replace: {template: {get_param: name}, params: {e: E}}}",
            json!("wEb"),
        ),
        ok(
            H15B,
            "{str_replace: {template: jsonvar1, params: {jsonvar1: {foo: 123}}}}",
            json!(r#"{"foo": 123}"#),
        ),
        ok(
            H15B,
            "{str_replace: {template: listvar1, params: {listvar1: [foo, 123]}}}",
            json!(r#"["foo", 123]"#),
        ),
        err(
            H15A,
            "{str_replace: {template: jsonvar1, params: {jsonvar1: {foo: 123}}}}",
            "param \"jsonvar1\" is a map",
        ),
        err(
            H15A,
            "{str_replace: {template: listvar1, params: {listvar1: [foo, 123]}}}",
            "must be strings or numbers",
        ),
        err(
            H21,
            "{str_replace: [{template: a}, {params: {a: b}}]}",
            "must be a map",
        ),
        err(
            H21,
            "{str_replace: {template: a}}",
            "needs both \"template\" and \"params\"",
        ),
        err(H21, "{str_replace: {params: {a: b}}}", "needs both"),
        err(
            H21,
            "{str_replace: {template: a, params: notamap}}",
            "the params must be a map",
        ),
        err(
            H21,
            "{str_replace: {template: a, params: {get_param: name}}}",
            "the params must be a map, found a string",
        ),
        err(
            H21,
            "{str_replace: {template: [a], params: {}}}",
            "the template must be a string",
        ),
        err(
            H21,
            "{str_replace: {template: abc, params: {'': x}}}",
            "must not be empty",
        ),
        // str_replace_strict: every param must occur.
        ok(
            H17A,
            "{str_replace_strict: {template: 'foo var1', params: {var1: a}}}",
            json!("foo a"),
        ),
        ok(
            H17A,
            "{str_replace_strict: {template: 'a$x', params: {$x: ''}}}",
            json!("a"),
        ),
        ok(
            H17A,
            "{str_replace_strict: {template: 'a$x', params: {$x: null}}}",
            json!("a"),
        ),
        ok(
            H17A,
            "{str_replace_strict: {template: 'a$x', params: {$x: [1]}}}",
            json!("a[1]"),
        ),
        err(
            H17A,
            "{str_replace_strict: {template: 'foo var1', params: {var1: a, var2: b, var3: c}}}",
            "do not occur in the template: var2, var3",
        ),
        err(
            H17A,
            "{str_replace_strict: {template: var1, params: {var1: a, var: b}}}",
            "do not occur in the template: var",
        ),
        // str_replace_vstrict: also no null or empty values.
        ok(
            H17B,
            "{str_replace_vstrict: {template: 'a$x', params: {$x: b}}}",
            json!("ab"),
        ),
        ok(
            H17B,
            "{str_replace_vstrict: {template: 'a$x', params: {$x: 0}}}",
            json!("a0"),
        ),
        err(
            H17B,
            "{str_replace_vstrict: {template: 'a$x', params: {$x: ''}}}",
            "param \"$x\" has no value",
        ),
        err(
            H17B,
            "{str_replace_vstrict: {template: 'a$x', params: {$x: null}}}",
            "has no value",
        ),
        err(
            H17B,
            "{str_replace_vstrict: {template: 'a$x', params: {$x: []}}}",
            "has no value",
        ),
        err(
            H17B,
            "{str_replace_vstrict: {template: 'a$x', params: {$x: {}}}}",
            "has no value",
        ),
        err(
            H17B,
            "{str_replace_vstrict: {template: 'a', params: {$x: b}}}",
            "do not occur",
        ),
    ]);
}

#[test]
fn resource_facade() {
    run(&[
        ok(H21, "{resource_facade: metadata}", json!({"a": 1})),
        ok(H13, "{resource_facade: deletion_policy}", json!("Retain")),
        ok(H21, "{resource_facade: update_policy}", json!({})),
        err(
            H21,
            "{resource_facade: foo}",
            "one of metadata, deletion_policy, update_policy",
        ),
        err(H21, "{resource_facade: Metadata}", "one of metadata"),
        err(
            H21,
            "{resource_facade: {get_param: name}}",
            "one of metadata",
        ),
        ok(HCFN, "{'Fn::ResourceFacade': Metadata}", json!({"a": 1})),
        ok(
            CFN,
            "{'Fn::ResourceFacade': DeletionPolicy}",
            json!("Retain"),
        ),
        err(
            HCFN,
            "{'Fn::ResourceFacade': metadata}",
            "one of Metadata, DeletionPolicy, UpdatePolicy",
        ),
    ]);
    // No parent resource: not available.
    run_with(
        &[err_code(
            H21,
            "{resource_facade: metadata}",
            Code::ValueUnavailable,
            "no parent resource",
        )],
        EvalContext::new,
    );
    // The default parent facade (Heat's defaults).
    let parent = ParentFacade::default();
    let ctx = EvalContext::new(H21).with_facade(&parent);
    let expr = parse(H21, "{resource_facade: deletion_policy}", false);
    assert_eq!(evaluate(&expr, &ctx).unwrap(), json!("Delete"));
}

#[test]
fn repeat() {
    let big: &'static str = Box::leak(
        format!(
            "{{repeat: {{template: x, for_each: {{{}}}}}}}",
            (1..=6)
                .map(|i| format!("'%{i}%': [a, b, c, d, e, f, g, h, i, j]"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .into_boxed_str(),
    );
    run(&[
        ok(
            H15A,
            "{repeat: {template: 'this is %var%', for_each: {'%var%': [a, b, c]}}}",
            json!(["this is a", "this is b", "this is c"]),
        ),
        ok(
            H17B,
            "{repeat: {template: 'this is %var%', for_each: {'%var%': [a, b, c]}}}",
            json!(["this is a", "this is b", "this is c"]),
        ),
        ok(
            H15A,
            "{repeat: {template: {'key-%var%': 'this is %var%'}, for_each: {'%var%': [a, b]}}}",
            json!([{"key-a": "this is a"}, {"key-b": "this is b"}]),
        ),
        ok(
            H15A,
            "{repeat: {template: ['this is %var%', static], for_each: {'%var%': [a, b]}}}",
            json!([["this is a", "static"], ["this is b", "static"]]),
        ),
        ok(
            H15A,
            "{repeat: {template: '%a%-%b%', for_each: {'%a%': [x, y], '%b%': ['1', '2']}}}",
            json!(["x-1", "x-2", "y-1", "y-2"]),
        ),
        ok(
            H16B,
            "{repeat: {template: '%a%-%b%', for_each: {'%a%': [x], '%b%': {k1: v, k2: v}}}}",
            json!(["x-k1", "x-k2"]),
        ),
        ok(
            H16B,
            "{repeat: {template: {SERVICE_enabled: true}, for_each: {SERVICE: [x, y]}}}",
            json!([{"x_enabled": true}, {"y_enabled": true}]),
        ),
        ok(
            H15A,
            "{repeat: {template: 'this is var%', for_each: {'var%': {get_param: list}}}}",
            json!(["this is a", "this is b", "this is c"]),
        ),
        ok(
            H15A,
            "{repeat: {template: x, for_each: {'%v%': null}}}",
            json!([]),
        ),
        ok(
            H15A,
            "{repeat: {template: x, for_each: {'%v%': []}}}",
            json!([]),
        ),
        ok(
            H15A,
            "{repeat: {template: 5, for_each: {'%v%': [1, 2]}}}",
            json!([5, 5]),
        ),
        ok(
            H15A,
            "{repeat: {template: 'é%v%', for_each: {'%v%': [ü, 日]}}}",
            json!(["éü", "é日"]),
        ),
        ok(
            H15A,
            "{repeat: {template: '%a%', for_each: {'%a%': ['%b%'], '%b%': [z]}}}",
            json!(["z"]),
        ),
        ok(
            H17B,
            "{repeat: {template: {network: '%net%', port: '%port%'}, for_each: {'%net%': [n1, n2], '%port%': [p1, p2]}, permutations: false}}",
            json!([{"network": "n1", "port": "p1"}, {"network": "n2", "port": "p2"}]),
        ),
        ok(
            H17B,
            "{repeat: {template: '%a%%b%', for_each: {'%a%': [x, y], '%b%': null}, permutations: false}}",
            json!([]),
        ),
        // Before 2017-09-01 `permutations` is not an argument: the product is taken.
        ok(
            H16B,
            "{repeat: {template: '%a%%b%', for_each: {'%a%': [x, y], '%b%': ['1', '2']}, permutations: false}}",
            json!(["x1", "x2", "y1", "y2"]),
        ),
        err(
            H15A,
            "{repeat: {template: x, for_each: {'%v%': {k: v}}}}",
            "must be lists",
        ),
        err(
            H17B,
            "{repeat: {template: x, for_each: {'%v%': {k: v}}, permutations: false}}",
            "must be lists",
        ),
        err(
            H17B,
            "{repeat: {template: x, for_each: {'%a%': [n1, n2, n3], '%b%': [p1, p2]}, permutations: false}}",
            "the same length",
        ),
        err(
            H17B,
            "{repeat: {template: x, for_each: {'%a%': [n1]}, permutations: 'non bool'}}",
            "\"permutations\" must be a boolean",
        ),
        err(
            H15A,
            "{repeat: {template: 'this is %var%'}}",
            "needs both \"for_each\" and \"template\"",
        ),
        err(
            H15A,
            "{repeat: {template: 'x', foreach: {'%var%': [a]}}}",
            "needs both",
        ),
        err(
            H15A,
            "{repeat: {templte: 'x', for_each: {'%var%': [a]}}}",
            "needs both",
        ),
        err(
            H15A,
            "{repeat: {template: x, for_each: '%var%'}}",
            "\"for_each\" must be a map",
        ),
        err(
            H15A,
            "{repeat: {template: x, for_each: {get_param: list}}}",
            "must be a non-empty map",
        ),
        err(
            H15A,
            "{repeat: {template: x, for_each: {}}}",
            "non-empty map",
        ),
        err(
            H15A,
            "{repeat: {template: x, for_each: {'%v%': abc}}}",
            "must be lists",
        ),
        err(
            H15A,
            "{repeat: {template: 'n%v%', for_each: {'%v%': [1, 2]}}}",
            "must be strings",
        ),
        err(H15A, "{repeat: [template, for_each]}", "must be a map"),
        err(H21, big, "more than 100000 items"),
    ]);
}

#[test]
fn digest() {
    run(&[
        ok(
            H15A,
            "{digest: [md5, foobar]}",
            json!("3858f62230ac3c915f300c664312c63f"),
        ),
        ok(
            H15A,
            "{digest: [MD5, foobar]}",
            json!("3858f62230ac3c915f300c664312c63f"),
        ),
        ok(
            H15A,
            "{digest: [sha1, foobar]}",
            json!("8843d7f92416211de9ebb963ff4ce28125932878"),
        ),
        ok(
            H15A,
            "{digest: [sha224, foobar]}",
            json!("de76c3e567fca9d246f5f8d3b2e704a38c3c5e258988ab525f941db8"),
        ),
        ok(
            H15A,
            "{digest: [sha256, foobar]}",
            json!("c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"),
        ),
        ok(
            H15A,
            "{digest: [sha384, foobar]}",
            json!(
                "3c9c30d9f665e74d515c842960d4a451c83a0125fd3de7392d7b37231af10c72ea58aedfcdf89a5765bf902af93ecf06"
            ),
        ),
        ok(
            H15A,
            "{digest: [sha512, foobar]}",
            json!(
                "0a50261ebd1a390fed2bf326f2673c145582a6342d523204973d0219337f81616a8069b012587cf5635f6925f1b56c360230c19b273500ee013e030601bf2425"
            ),
        ),
        ok(
            H15A,
            "{digest: [sha512_224, foobar]}",
            json!("39e7c95bf3f92dcd171d452d060a3dc3b7ca979e0457f10ca5b0e4b3"),
        ),
        ok(
            H15A,
            "{digest: [sha512_256, foobar]}",
            json!("d014c752bc2be868e16330f47e0c316a5967bcbc9c286a457761d7055b9214ce"),
        ),
        ok(
            H15A,
            "{digest: [sha256, '']}",
            json!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ),
        ok(
            H15A,
            "{digest: [md5, é]}",
            json!("3406877694691ddd1dfb0aca54681407"),
        ),
        ok(
            H15A,
            "{digest: [md5, {get_param: name}]}",
            json!("2567a5ec9705eb7ac2c984033e06189d"),
        ),
        err(H15A, "{digest: [md5, 日本]}", "outside Latin-1"),
        err(H15A, "{digest: invalid}", "must be a list of two strings"),
        err(
            H15A,
            "{digest: {foo: invalid}}",
            "must be a list of two strings",
        ),
        err(H15A, "{digest: [123]}", "must be a list of two strings"),
        err(H15A, "{digest: []}", "expected [algorithm, value], found 0"),
        err(H15A, "{digest: [foo]}", "expected [algorithm, value]"),
        err(
            H15A,
            "{digest: [md5, foo, bar]}",
            "expected [algorithm, value], found 3",
        ),
        err(
            H15A,
            "{digest: [invalid_algorithm, foobar]}",
            "unknown algorithm \"invalid_algorithm\"",
        ),
    ]);
}

#[test]
fn str_split() {
    run(&[
        ok(H15B, "{str_split: [',', 'bar,baz']}", json!(["bar", "baz"])),
        ok(H15B, "{str_split: [',', 'bar,baz', 1]}", json!("baz")),
        ok(H15B, "{str_split: [',', 'bar,baz', '1']}", json!("baz")),
        ok(H15B, "{str_split: [',', 'bar,baz', -1]}", json!("baz")),
        ok(H15B, "{str_split: [',', ',a,']}", json!(["", "a", ""])),
        ok(H15B, "{str_split: [',', '']}", json!([""])),
        ok(H15B, "{str_split: [é, aébéc]}", json!(["a", "b", "c"])),
        ok(H15B, "{str_split: ['.', null]}", Value::Null),
        ok(H15B, "{str_split: [null, check]}", json!(["check"])),
        ok(H15B, "{str_split: [null, ' a  b ']}", json!(["a", "b"])),
        ok(
            H15B,
            "{str_split: [',', {list_join: [',', [x, y]]}, 0]}",
            json!("x"),
        ),
        err(
            H15B,
            "{str_split: [',', 'bar,baz', bad]}",
            "the index must be an integer",
        ),
        err(
            H15B,
            "{str_split: [',', 'bar,baz', '2']}",
            "index 2 is out of range: the split gives 2 item(s), indexes 0 to 1",
        ),
        err(
            H15B,
            "{str_split: [',']}",
            "expected [delimiter, string, index (optional)]",
        ),
        err(H15B, "{str_split: []}", "expected [delimiter"),
        err(
            H15B,
            "{str_split: ['', abc]}",
            "the delimiter must not be empty",
        ),
        err(
            H15B,
            "{str_split: [1, abc]}",
            "the delimiter must be a string",
        ),
        err(
            H15B,
            "{str_split: [',', 5]}",
            "the value to split must be a string",
        ),
        err(H15B, "{str_split: 'a,b'}", "must be a list"),
        err(H15B, "{str_split: {a: b}}", "must be a list"),
    ]);
}

#[test]
fn map_merge() {
    run(&[
        ok(
            H16A,
            "{map_merge: [{f1: b1, f2: b2}, {f1: b2}]}",
            json!({"f1": "b2", "f2": "b2"}),
        ),
        ok(
            H16A,
            "{map_merge: [{f1: b1, f2: b2}, null]}",
            json!({"f1": "b1", "f2": "b2"}),
        ),
        ok(H16A, "{map_merge: []}", json!({})),
        ok(
            H16A,
            "{map_merge: [{}, {a: {b: 1}}, {a: {c: 2}}]}",
            json!({"a": {"c": 2}}),
        ),
        ok(
            H16A,
            "{map_merge: [{get_param: json}, {x: z}]}",
            json!({"k": {"n": [1, 2]}, "x": "z"}),
        ),
        ok(
            H16A,
            "{map_merge: {repeat: {template: {ROLE: ROLE}, for_each: {ROLE: [role1, role2]}}}}",
            json!({"role1": "role1", "role2": "role2"}),
        ),
        ok(
            H16A,
            "{map_merge: {repeat: {template: {ROLE: ROLE}, for_each: {ROLE: null}}}}",
            json!({}),
        ),
        ok(
            H17B,
            "{map_merge: {repeat: {template: {ROLE: ROLE, NAME: NAME}, for_each: {ROLE: null, NAME: [n1, n2]}, permutations: false}}}",
            json!({}),
        ),
        err(
            H16A,
            "{map_merge: [{f1: b1, f2: b2}, [f1, b2]]}",
            "the items to merge must be maps, found a list",
        ),
        err(H16A, "{map_merge: {a: b}}", "must be a list of maps"),
        err(H16A, "{map_merge: 5}", "must be a list of maps"),
        err(H16A, "{map_merge: abc}", "must be maps, found a string"),
    ]);
    // Later maps win, and a key keeps the position it first had.
    let fx = Fixture::new();
    let expr = parse(H16A, "{map_merge: [{a: 1, b: 2}, {c: 3, a: 4}]}", false);
    let v = evaluate(&expr, &fx.ctx(H16A)).unwrap();
    assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":4,"b":2,"c":3}"#);
}

#[test]
fn map_replace() {
    run(&[
        ok(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {keys: {f1: F1}, values: {b2: B2}}]}",
            json!({"F1": "b1", "f2": "B2"}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {values: {b2: B2}}]}",
            json!({"f1": "b1", "f2": "B2"}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {keys: {f2: F2}}]}",
            json!({"f1": "b1", "F2": "b2"}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {keys: {f2: f2}}]}",
            json!({"f1": "b1", "f2": "b2"}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {values: null}]}",
            json!({"f1": "b1", "f2": "b2"}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {keys: null}]}",
            json!({"f1": "b1", "f2": "b2"}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: b1, f2: []}, {values: {}}]}",
            json!({"f1": "b1", "f2": []}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: 1, f2: '1'}, {values: {'1': one}}]}",
            json!({"f1": 1, "f2": "one"}),
        ),
        ok(
            H16B,
            "{map_replace: [{f1: b1}, {keys: {f1: 7}}]}",
            json!({"7": "b1"}),
        ),
        ok(H16B, "{map_replace: [null, {keys: {f1: x}}]}", json!({})),
        ok(
            H16B,
            "{map_replace: [{é: ü}, {keys: {é: e}, values: {ü: u}}]}",
            json!({"e": "u"}),
        ),
        err(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {keys: {f2: f1}}]}",
            "the key replacement \"f1\" collides with a key of the input map",
        ),
        err(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {keys: {f1: f3, f2: f3}}]}",
            "\"f3\" collides with another replaced key",
        ),
        err(H16B, "{map_replace: ab}", "expected [{<key>: <value>"),
        err(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, ab]}",
            "the arguments must be maps, found a string",
        ),
        err(H16B, "{map_replace: []}", "expected"),
        err(H16B, "{map_replace: [{f1: b1, f2: b2}]}", "expected"),
        err(
            H16B,
            "{map_replace: [{f1: b1}, {keys: {}}, {}]}",
            "expected",
        ),
        err(
            H16B,
            "{map_replace: [{f1: b1, f2: b2}, {notkeys: {f2: F2}}]}",
            "may only have \"keys\" and \"values\", found \"notkeys\"",
        ),
        err(
            H16B,
            "{map_replace: [{f1: b1}, {keys: {f1: [x]}}]}",
            "the replacement for key \"f1\" must be a string",
        ),
        err(
            H16B,
            "{map_replace: [{f1: b1}, {keys: [f1]}]}",
            "the arguments must be maps",
        ),
    ]);
}

#[test]
fn yaql() {
    run(&[
        err_code(
            H16B,
            "{yaql: {expression: '$.data.var1.sum()', data: {var1: [3, 2, 1]}}}",
            Code::YaqlUnsupported,
            "yaql is not supported yet",
        ),
        err_code(
            H21,
            "{yaql: {expression: {str_replace: {template: '$.data.x', params: {x: y}}}}}",
            Code::YaqlUnsupported,
            "not supported yet",
        ),
        err(H16B, "{yaql: '$.data'}", "must be a map"),
        err(
            H16B,
            "{yaql: {expression: 1}}",
            "the \"expression\" must be a string",
        ),
        err(
            H16B,
            "{yaql: {expression: x, bogus: 1}}",
            "unknown key \"bogus\"",
        ),
        err(H16B, "{yaql: {data: {}}}", "needs \"expression\""),
    ]);
}

#[test]
fn if_function() {
    run(&[
        ok(
            H16B,
            "{if: [is_prod, value_if_true, value_if_false]}",
            json!("value_if_true"),
        ),
        ok(
            H16B,
            "{if: [is_dev, value_if_true, value_if_false]}",
            json!("value_if_false"),
        ),
        ok(H16B, "{if: [true, a, b]}", json!("a")),
        ok(H16B, "{if: [false, a, b]}", json!("b")),
        ok(H16B, "{if: [true, null, b]}", Value::Null),
        ok(
            H17B,
            "{if: [{equals: [{get_param: env}, prod]}, a, b]}",
            json!("a"),
        ),
        ok(H17B, "{if: [{not: is_prod}, a, b]}", json!("b")),
        ok(
            H16B,
            "{if: [is_prod, {get_param: name}, {get_param: nope}]}",
            json!("web"),
        ),
        ok(H16B, "{if: [false, {get_param: nope}, ok]}", json!("ok")),
        ok(
            H16B,
            "{if: [is_prod, [1, {if: [is_dev, x, y]}], z]}",
            json!([1, "y"]),
        ),
        // Heat counts a null condition as true.
        ok(H16B, "{if: [null, a, b]}", json!("a")),
        // 2021-04-16: the third argument is optional; a false condition omits the value.
        ok(H21, "{if: [is_prod, a]}", json!("a")),
        omit(H21, "{if: [is_dev, a]}"),
        omit(H21, "{if: [false, a]}"),
        ok(H21, "{if: [false, a, null]}", Value::Null),
        ok(H21, "[x, {if: [false, y]}, z]", json!(["x", "z"])),
        ok(H21, "{a: {if: [false, 1]}, b: 2}", json!({"b": 2})),
        ok(
            H21,
            "{single: {if: [false, value_if_true]}, nested_true: {if: [true, {if: [false, foo]}, bar]}, nested_false: {if: [false, baz, {if: [false, quux]}]}, control: {if: [false, true, null]}}",
            json!({"control": null}),
        ),
        // Omitted inside a function argument: null there, as in Heat.
        ok(
            H21,
            "{list_join: [',', [a, {if: [false, b]}, c]]}",
            json!("a,c"),
        ),
        ok(
            H21,
            "{str_replace: {template: 'x$v', params: {$v: {if: [false, b]}}}}",
            json!("x$v"),
        ),
        err(
            H16B,
            "{if: [is_prod, one_value]}",
            "expected 3 arguments of the form [condition, value_if_true, value_if_false], found 2",
        ),
        err(H18, "{if: [is_prod, one_value]}", "expected 3 arguments"),
        err(H16B, "{if: [is_prod, a, b, c]}", "expected 3 arguments"),
        err(H21, "{if: [is_prod]}", "expected 2 to 3 arguments"),
        err(H21, "{if: [is_prod, a, b, c]}", "expected 2 to 3 arguments"),
        err(H16B, "{if: is_prod}", "must be a list"),
        err(
            H16B,
            "{if: [cd_not_existing, a, b]}",
            "there is no condition named \"cd_not_existing\"",
        ),
        err(
            H16B,
            "{if: [1, a, b]}",
            "a condition must be a boolean, a condition name or a condition function, found a number",
        ),
    ]);
}

#[test]
fn condition_functions() {
    run(&[
        okc(H16B, "{equals: [1, 1.0]}", json!(true)),
        okc(H16B, "{equals: [a, a]}", json!(true)),
        okc(H16B, "{equals: ['1', 1]}", json!(false)),
        okc(H16B, "{equals: [true, 1]}", json!(true)),
        okc(H16B, "{equals: [null, null]}", json!(true)),
        okc(
            H16B,
            "{equals: [{a: 1, b: [2]}, {b: [2], a: 1}]}",
            json!(true),
        ),
        okc(H16B, "{equals: [[1, 2], [2, 1]]}", json!(false)),
        okc(H16B, "{equals: [é, é]}", json!(true)),
        okc(H16B, "{equals: [{get_param: env}, prod]}", json!(true)),
        okc(H16B, "{equals: [{get_param: count}, 3]}", json!(true)),
        errc(
            H16B,
            "{equals: [a]}",
            "expected 2 arguments of the form [value_1, value_2], found 1",
        ),
        errc(H16B, "{equals: [a, b, c]}", "expected 2 arguments"),
        errc(H16B, "{equals: {get_param: list}}", "must be a list"),
        okc(H16B, "{not: true}", json!(false)),
        okc(H16B, "{not: is_prod}", json!(false)),
        okc(H16B, "{not: is_dev}", json!(true)),
        okc(H16B, "{not: {equals: [a, b]}}", json!(true)),
        okc(H16B, "{not: {not: {not: false}}}", json!(true)),
        errc(H16B, "{not: null}", "needs a condition"),
        errc(H16B, "{not: 5}", "a condition must be"),
        errc(H16B, "{not: nope}", "there is no condition named \"nope\""),
        okc(H16B, "{and: [true, true]}", json!(true)),
        okc(H16B, "{and: [true, false]}", json!(false)),
        okc(H16B, "{and: [is_prod, {not: is_dev}]}", json!(true)),
        okc(H16B, "{and: [true, true, true, false]}", json!(false)),
        okc(H16B, "{or: [false, is_dev]}", json!(false)),
        okc(H16B, "{or: [false, is_prod]}", json!(true)),
        okc(
            H16B,
            "{or: [{equals: [a, b]}, {equals: [c, c]}]}",
            json!(true),
        ),
        // Condition names after the deciding one are not looked up.
        okc(H16B, "{and: [false, nope]}", json!(false)),
        okc(H16B, "{or: [true, nope]}", json!(true)),
        errc(
            H16B,
            "{and: [true, nope]}",
            "there is no condition named \"nope\"",
        ),
        errc(H16B, "{and: [true]}", "expected at least 2 arguments"),
        errc(H16B, "{or: []}", "expected at least 2 arguments"),
        errc(H16B, "{and: x}", "must be a list"),
        errc(H16B, "{or: [false, [x]]}", "a condition must be"),
        okc(H16B, "{or: [true, [x]]}", json!(true)),
        okc(
            H17B,
            "{contains: [{get_param: env}, [prod, dev]]}",
            json!(true),
        ),
    ]);
}

#[test]
fn filter() {
    run(&[
        ok(
            H17A,
            "{filter: [[null], [1, null, 4, 2, null]]}",
            json!([1, 4, 2]),
        ),
        ok(H17A, "{filter: [[], [1, 2]]}", json!([1, 2])),
        ok(H17A, "{filter: [null, [1, 2]]}", json!([1, 2])),
        ok(H17A, "{filter: [[1], []]}", json!([])),
        ok(H17A, "{filter: [[1], null]}", Value::Null),
        ok(
            H17A,
            "{filter: [[1], [1.0, true, 2, '1']]}",
            json!([2, "1"]),
        ),
        ok(
            H17A,
            "{filter: [[{a: 1}], [{a: 1}, {a: 2}]]}",
            json!([{"a": 2}]),
        ),
        ok(
            H17A,
            "{filter: [[b], {get_param: list}]}",
            json!(["a", "c"]),
        ),
        ok(H17A, "{filter: [[ü], [ü, u]]}", json!(["u"])),
        err(H17A, "{filter: foo}", "must be a list"),
        err(
            H17A,
            "{filter: [[null], [1, 2], foo]}",
            "expected 2 arguments",
        ),
        err(
            H17A,
            "{filter: [[null], {a: 1}]}",
            "filters lists only, found a map",
        ),
        err(
            H17A,
            "{filter: [[a], abcd]}",
            "filters lists only, found a string",
        ),
        err(
            H17A,
            "{filter: [abcd, [a, b, c, d]]}",
            "the values to remove must be a list",
        ),
    ]);
}

#[test]
fn make_url() {
    run(&[
        ok(
            H17B,
            "{make_url: {scheme: http, host: example.com, path: /foo/bar}}",
            json!("http://example.com/foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, host: '::1', path: /foo/bar}}",
            json!("http://[::1]/foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, host: '[::1]', path: /foo/bar}}",
            json!("http://[::1]/foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: https, host: example.com, port: '80', path: /foo/bar}}",
            json!("https://example.com:80/foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: https, host: example.com, port: 80, path: /foo/bar}}",
            json!("https://example.com:80/foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, username: wibble, host: example.com, path: /foo/bar}}",
            json!("http://wibble@example.com/foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, username: wibble, password: blarg, host: example.com, path: /foo/bar}}",
            json!("http://wibble:blarg@example.com/foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, username: 'a@b', password: 'p:w', host: h}}",
            json!("http://a%40b:p%3Aw@h"),
        ),
        ok(
            H17B,
            "{make_url: {password: pw, host: h}}",
            json!("//:pw@h"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, host: example.com, path: '/foo/?bar', query: {'foo#': 'bar & baz', blarg: '/wib=ble/'}}}",
            json!("http://example.com/foo/%3Fbar?foo%23=bar+%26+baz&blarg=/wib%3Dble/"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, host: h, query: {n: 1, b: true}}}",
            json!("http://h?n=1&b=True"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, host: example.com, path: foo/bar, fragment: baz}}",
            json!("http://example.com/foo/bar#baz"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, host: h, fragment: 'a b'}}",
            json!("http://h#a%20b"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: file, path: foo/bar}}",
            json!("file:foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: file, path: /foo/bar}}",
            json!("file:///foo/bar"),
        ),
        ok(
            H17B,
            "{make_url: {scheme: http, host: h, path: /ü}}",
            json!("http://h/%C3%BC"),
        ),
        ok(H17B, "{make_url: {path: a}}", json!("a")),
        ok(H17B, "{make_url: {}}", json!("")),
        ok(
            H17B,
            "{make_url: {scheme: http, host: {get_attr: [server, first_address]}, port: 8080}}",
            json!("http://10.0.0.5:8080"),
        ),
        err(
            H17B,
            "{make_url: {scheme: https, host: example.com, port: 100000}}",
            "invalid port 100000; it must be in the range 1-65535",
        ),
        err(
            H17B,
            "{make_url: {scheme: https, host: example.com, port: '0'}}",
            "invalid port 0",
        ),
        err(
            H17B,
            "{make_url: {scheme: https, host: example.com, port: '1.1'}}",
            "invalid port a string (\"1.1\")",
        ),
        err(
            H17B,
            "{make_url: {scheme: https, host: example.com, port: abc}}",
            "it must be an integer",
        ),
        err(
            H17B,
            "{make_url: {scheme: https, host: example.com, port: [1]}}",
            "it must be an integer",
        ),
        err(
            H17B,
            "{make_url: 'http://example.com/foo/bar'}",
            "must be a map",
        ),
        err(
            H17B,
            "{make_url: {scheme: http, host: example.com, foo: bar}}",
            "unknown argument(s) foo",
        ),
        err(
            H17B,
            "{make_url: {scheme: 'ht:tp', host: h}}",
            "\"scheme\" must not contain ':'",
        ),
        err(
            H17B,
            "{make_url: {scheme: http, host: 5}}",
            "\"host\" must be a string, found a number",
        ),
        err(
            H17B,
            "{make_url: {scheme: http, host: h, query: x}}",
            "\"query\" must be a map",
        ),
        err(
            H17B,
            "{make_url: {scheme: http, host: null}}",
            "\"host\" must be a string, found null",
        ),
    ]);
}

#[test]
fn list_concat() {
    run(&[
        ok(
            H17B,
            "{list_concat: [[v1, v2], [v3, v4]]}",
            json!(["v1", "v2", "v3", "v4"]),
        ),
        ok(
            H17B,
            "{list_concat: [[v1, v2], [v3, v4], null]}",
            json!(["v1", "v2", "v3", "v4"]),
        ),
        ok(
            H17B,
            "{list_concat: [[{v1: v2}], [{v1: v2}]]}",
            json!([{"v1": "v2"}, {"v1": "v2"}]),
        ),
        ok(
            H17B,
            "{list_concat: [[v1, v2], [v2, v3]]}",
            json!(["v1", "v2", "v2", "v3"]),
        ),
        ok(H17B, "{list_concat: []}", json!([])),
        ok(H17B, "{list_concat: [[], []]}", json!([])),
        ok(
            H17B,
            "{list_concat: [{get_param: list}, [d]]}",
            json!(["a", "b", "c", "d"]),
        ),
        ok(
            H17B,
            "{list_concat_unique: [[{v1: v2}], [{v1: v2}]]}",
            json!([{"v1": "v2"}]),
        ),
        ok(
            H17B,
            "{list_concat_unique: [[v1, v2], [v1, v3]]}",
            json!(["v1", "v2", "v3"]),
        ),
        ok(
            H17B,
            "{list_concat_unique: [[1, '1', 1.0, true, null, null]]}",
            json!([1, "1", null]),
        ),
        ok(
            H17B,
            "{list_concat_unique: [[{a: 1, b: 2}], [{b: 2, a: 1}]]}",
            json!([{"a": 1, "b": 2}]),
        ),
        err(
            H17B,
            "{list_concat: [{k1: v2}, [v3, v4]]}",
            "the items to concatenate must be lists, found a map",
        ),
        err(
            H17B,
            "{list_concat: 'I am string'}",
            "must be a list of lists",
        ),
        err(
            H17B,
            "{list_concat: [v1, v2]}",
            "must be lists, found a string",
        ),
        err(
            H17B,
            "{list_concat_unique: {a: b}}",
            "must be a list of lists",
        ),
    ]);
}

#[test]
fn contains() {
    run(&[
        ok(H17B, "{contains: [v1, [v1, v2]]}", json!(true)),
        ok(H17B, "{contains: [v3, [v1, v2]]}", json!(false)),
        ok(H17B, "{contains: [a, abc]}", json!(true)),
        ok(H17B, "{contains: [x, abc]}", json!(false)),
        ok(H17B, "{contains: ['', abc]}", json!(true)),
        ok(H17B, "{contains: [1, [1.0]]}", json!(true)),
        ok(H17B, "{contains: [[1], [[1], [2]]]}", json!(true)),
        ok(H17B, "{contains: [é, [é]]}", json!(true)),
        ok(H17B, "{contains: [b, {get_param: list}]}", json!(true)),
        err(H17B, "{contains: {key: value}}", "must be a list"),
        err(
            H17B,
            "{contains: [v1, [v1, v2], redundant]}",
            "expected 2 arguments",
        ),
        err(
            H17B,
            "{contains: [v1, {key: value}]}",
            "the second argument must be a list, found a map",
        ),
        err(H17B, "{contains: [1, abc]}", "the value must be a string"),
    ]);
}

// ------------------------------------------------------------------------------------------
// CloudFormation
// ------------------------------------------------------------------------------------------

#[test]
fn ref_and_pseudo_parameters() {
    run(&[
        ok(CFN, "{Ref: name}", json!("web")),
        ok(CFN, "{Ref: list}", json!(["a", "b", "c"])),
        ok(CFN, "{Ref: server}", json!("srv-id")),
        ok(CFN, "{Ref: pending}", Value::Null),
        ok(CFN, "{Ref: secret}", json!("s3cr3t-pass")),
        ok(CFN, "{Ref: AWS::Region}", json!("us-east-1")),
        ok(CFN, "{Ref: AWS::StackName}", json!("teststack")),
        ok(CFN, "{Ref: AWS::AccountId}", json!("123456789012")),
        ok(CFN, "{Ref: AWS::Partition}", json!("aws")),
        ok(CFN, "{Ref: AWS::URLSuffix}", json!("amazonaws.com")),
        ok(CFN, "{Ref: AWS::NotificationARNs}", json!([])),
        ok(
            CFN,
            "{Ref: AWS::StackId}",
            json!("arn:aws:cloudformation:us-east-1:123456789012:stack/teststack/11111111-2222"),
        ),
        ok(
            HCFN,
            "{Ref: AWS::StackId}",
            json!("arn:openstack:heat::proj:stacks/teststack/11111111-2222"),
        ),
        ok(HCFN, "{Ref: AWS::Region}", json!("us-east-1")),
        ok(H13, "{Ref: name}", json!("web")),
        ok(H13, "{Ref: OS::stack_name}", json!("teststack")),
        ok(CFN, "!Ref name", json!("web")),
        ok(CFN, "{Ref: {Ref: pointer}}", json!("web")),
        omit(CFN, "{Ref: AWS::NoValue}"),
        omit(HCFN, "{Ref: AWS::NoValue}"),
        ok(CFN, "{a: {Ref: AWS::NoValue}, b: 1}", json!({"b": 1})),
        ok(CFN, "[1, !Ref 'AWS::NoValue', 2]", json!([1, 2])),
        err(
            CFN,
            "{Ref: nope}",
            "there is no parameter or resource named \"nope\"",
        ),
        err(
            H13,
            "{Ref: AWS::Region}",
            "no parameter or resource named \"AWS::Region\"",
        ),
        err(CFN, "{Ref: [a]}", "the name must be a string"),
    ]);
    // Pseudo-parameters derived from the region.
    let pseudo = PseudoParams {
        region: Some("cn-north-1".into()),
        ..PseudoParams::new()
    };
    run_with(
        &[
            ok(CFN, "{Ref: AWS::Partition}", json!("aws-cn")),
            ok(CFN, "{Ref: AWS::URLSuffix}", json!("amazonaws.com.cn")),
            err_code(
                CFN,
                "{Ref: AWS::StackName}",
                Code::ValueUnavailable,
                "AWS::StackName has no value",
            ),
            err_code(
                CFN,
                "{Ref: AWS::StackId}",
                Code::ValueUnavailable,
                "AWS::StackId",
            ),
        ],
        |v| EvalContext::new(v).with_pseudo(&pseudo),
    );
    let gov = PseudoParams {
        region: Some("us-gov-west-1".into()),
        stack_arn: Some("arn:x".into()),
        notification_arns: vec!["arn:sns".into()],
        ..PseudoParams::new()
    };
    run_with(
        &[
            ok(CFN, "{Ref: AWS::Partition}", json!("aws-us-gov")),
            ok(CFN, "{Ref: AWS::StackId}", json!("arn:x")),
            ok(CFN, "{Ref: AWS::NotificationARNs}", json!(["arn:sns"])),
        ],
        |v| EvalContext::new(v).with_pseudo(&gov),
    );
    // Offline: nothing known.
    run_with(
        &[
            err_code(
                CFN,
                "{Ref: AWS::Region}",
                Code::ValueUnavailable,
                "AWS::Region has no value",
            ),
            err_code(
                H21,
                "{get_param: OS::stack_id}",
                Code::ValueUnavailable,
                "OS::stack_id has no value",
            ),
            err_code(
                CFN,
                "{Ref: server}",
                Code::ValueUnavailable,
                "not available offline",
            ),
            err_code(
                H21,
                "{get_resource: server}",
                Code::ValueUnavailable,
                "not available offline",
            ),
            err_code(
                H21,
                "{get_attr: [server, name]}",
                Code::ValueUnavailable,
                "not available offline",
            ),
            err_code(
                H21,
                "{get_attr: [server]}",
                Code::ValueUnavailable,
                "not available offline",
            ),
            err_code(
                CFN,
                "{'Fn::GetAtt': [server, name]}",
                Code::ValueUnavailable,
                "not available offline",
            ),
        ],
        EvalContext::new,
    );
}

#[test]
fn fn_get_att() {
    run(&[
        ok(CFN, "{'Fn::GetAtt': [server, name]}", json!("srv")),
        ok(CFN, "!GetAtt server.name", json!("srv")),
        ok(CFN, "{'Fn::GetAtt': server.name}", json!("srv")),
        ok(
            CFN,
            "{'Fn::GetAtt': [server, networks]}",
            json!({"private": ["10.0.0.5", "fe80::1"]}),
        ),
        ok(
            CFN,
            "{'Fn::GetAtt': [server, {Ref: attr_name}]}",
            json!("srv"),
        ),
        ok(HCFN, "{'Fn::GetAtt': [vol, size]}", json!(10)),
        err(HCFN, "{'Fn::GetAtt': server.name}", "must be a list"),
        err(
            CFN,
            "{'Fn::GetAtt': servername}",
            "[resource, attribute] or \"resource.attribute\"",
        ),
        err(CFN, "{'Fn::GetAtt': [server]}", "expected 2 arguments"),
        err(
            CFN,
            "{'Fn::GetAtt': [server, name, x]}",
            "expected 2 arguments",
        ),
        err(
            CFN,
            "{'Fn::GetAtt': [server, nope]}",
            "has no attribute \"nope\"",
        ),
        err(
            CFN,
            "{'Fn::GetAtt': [pending, x]}",
            "resource \"pending\" has no attribute \"x\"",
        ),
        err(
            CFN,
            "{'Fn::GetAtt': [nope, x]}",
            "there is no resource named \"nope\"",
        ),
    ]);
}

#[test]
fn fn_join() {
    run(&[
        ok(CFN, "{'Fn::Join': [',', [a, b]]}", json!("a,b")),
        ok(CFN, "{'Fn::Join': ['', []]}", json!("")),
        ok(
            CFN,
            "{'Fn::Join': [',', [a, 1, true, 2.5]]}",
            json!("a,1,true,2.5"),
        ),
        ok(CFN, "{'Fn::Join': [',', {Ref: list}]}", json!("a,b,c")),
        ok(
            CFN,
            "{'Fn::Join': [',', [a, {Ref: AWS::NoValue}, b]]}",
            json!("a,b"),
        ),
        ok(
            CFN,
            "!Join ['-', [!Ref name, !Ref 'AWS::Region']]",
            json!("web-us-east-1"),
        ),
        ok(HCFN, "{'Fn::Join': [',', [a, null]]}", json!("a,")),
        ok(H13, "{'Fn::Join': [' ', [a, b]]}", json!("a b")),
        err(
            HCFN,
            "{'Fn::Join': [',', [a, 1]]}",
            "the items to join must be strings, found a number",
        ),
        err(
            CFN,
            "{'Fn::Join': [',', [[a]]]}",
            "must be strings or numbers, found a list",
        ),
        err(CFN, "{'Fn::Join': [',']}", "expected 2 arguments"),
        err(CFN, "{'Fn::Join': [',', a, [b]]}", "expected 2 arguments"),
        err(
            CFN,
            "{'Fn::Join': [',', abc]}",
            "joins a list, found a string",
        ),
        err(
            CFN,
            "{'Fn::Join': [[','], [a]]}",
            "the delimiter must be a string",
        ),
    ]);
}

#[test]
fn fn_select() {
    run(&[
        // Heat (2012-12-12 and HOT 2013-05-23).
        ok(HCFN, "{'Fn::Select': ['1', [a, b]]}", json!("b")),
        ok(HCFN, "{'Fn::Select': [1, [a, b]]}", json!("b")),
        ok(HCFN, "{'Fn::Select': [5, [a, b]]}", json!("")),
        ok(HCFN, "{'Fn::Select': [-1, [a, b]]}", json!("b")),
        ok(HCFN, "{'Fn::Select': [k, {k: v}]}", json!("v")),
        ok(HCFN, "{'Fn::Select': [z, {k: v}]}", json!("")),
        ok(HCFN, "{'Fn::Select': [1, '']}", json!("")),
        ok(HCFN, "{'Fn::Select': [0, null]}", json!("")),
        ok(HCFN, r#"{'Fn::Select': ['1', '["x", "y"]']}"#, json!("y")),
        ok(HCFN, r#"{'Fn::Select': [k, '{"k": 1}']}"#, json!(1)),
        ok(H13, "{'Fn::Select': [0, [a]]}", json!("a")),
        ok(H15A, "{'Fn::Select': [2, {get_param: list}]}", json!("c")),
        err(HCFN, "{'Fn::Select': [0, notjson]}", "not JSON"),
        err(
            HCFN,
            "{'Fn::Select': [x, [a]]}",
            "the index must be an integer",
        ),
        err(
            HCFN,
            "{'Fn::Select': [1, {k: v}]}",
            "the index into a map must be a string",
        ),
        err(
            HCFN,
            "{'Fn::Select': [0, 5]}",
            "selects from a list or a map, found a number",
        ),
        err(HCFN, "{'Fn::Select': [0]}", "expected 2 arguments"),
        // AWS.
        ok(CFN, "{'Fn::Select': [1, [a, b]]}", json!("b")),
        ok(CFN, "{'Fn::Select': ['1', [a, b]]}", json!("b")),
        ok(CFN, "!Select [0, !GetAZs '']", json!("az-1")),
        ok(CFN, "{'Fn::Select': [0, [ü]]}", json!("ü")),
        err(
            CFN,
            "{'Fn::Select': [2, [a, b]]}",
            "index 2 is out of range for a list of 2 item(s)",
        ),
        err(CFN, "{'Fn::Select': [0, []]}", "out of range"),
        err(
            CFN,
            "{'Fn::Select': [-1, [a, b]]}",
            "must be a non-negative integer",
        ),
        err(
            CFN,
            "{'Fn::Select': [x, [a, b]]}",
            "must be a non-negative integer",
        ),
        err(
            CFN,
            "{'Fn::Select': [0, {a: b}]}",
            "selects from a list, found a map",
        ),
        err(
            CFN,
            "{'Fn::Select': [0, null]}",
            "selects from a list, found null",
        ),
    ]);
}

#[test]
fn fn_split() {
    run(&[
        ok(CFN, "{'Fn::Split': [',', 'a,b']}", json!(["a", "b"])),
        ok(CFN, "{'Fn::Split': [',', '']}", json!([""])),
        ok(CFN, "{'Fn::Split': [',', 'a,,b']}", json!(["a", "", "b"])),
        ok(CFN, "{'Fn::Split': [',', {Ref: name}]}", json!(["web"])),
        ok(CFN, "!Split [é, aéb]", json!(["a", "b"])),
        ok(HCFN, "{'Fn::Split': ['::', 'a::b']}", json!(["a", "b"])),
        err(
            CFN,
            "{'Fn::Split': ['', ab]}",
            "the delimiter must not be empty",
        ),
        err(
            CFN,
            "{'Fn::Split': [',', 5]}",
            "the value to split must be a string",
        ),
        err(CFN, "{'Fn::Split': 'a,b'}", "must be a list"),
        err(CFN, "{'Fn::Split': [',']}", "expected 2 arguments"),
        err(
            CFN,
            "{'Fn::Split': [5, a]}",
            "the delimiter must be a string",
        ),
    ]);
}

#[test]
fn fn_replace() {
    run(&[
        ok(
            HCFN,
            "{'Fn::Replace': [{$var1: foo, $var2: bar}, 'Template $var1 string $var2']}",
            json!("Template foo string bar"),
        ),
        ok(H13, "{'Fn::Replace': [{'%a%': 1}, 'x%a%']}", json!("x1")),
        err(
            CFN,
            "{'Fn::Replace': [{Ref: json}, 'k x']}",
            "param \"k\" is a map",
        ),
        err(
            HCFN,
            "{'Fn::Replace': [{a: [1]}, a]}",
            "must be strings or numbers",
        ),
        err(HCFN, "{'Fn::Replace': [a, b]}", "the params must be a map"),
        err(HCFN, "{'Fn::Replace': [{a: b}]}", "expected 2 arguments"),
        err(
            HCFN,
            "{'Fn::Replace': [{a: b}, [a]]}",
            "the template must be a string",
        ),
    ]);
}

#[test]
fn fn_base64() {
    run(&[
        ok(CFN, "{'Fn::Base64': hello}", json!("aGVsbG8=")),
        ok(CFN, "{'Fn::Base64': ''}", json!("")),
        ok(CFN, "{'Fn::Base64': ü}", json!("w7w=")),
        ok(
            CFN,
            "!Base64 {'Fn::Sub': 'x-${AWS::Region}'}",
            json!("eC11cy1lYXN0LTE="),
        ),
        ok(CFN, "{'Fn::Base64': 12}", json!("MTI=")),
        // Heat passes the text through unchanged.
        ok(HCFN, "{'Fn::Base64': hello}", json!("hello")),
        ok(H13, "{'Fn::Base64': hello}", json!("hello")),
        err(
            HCFN,
            "{'Fn::Base64': 12}",
            "must be a string, found a number",
        ),
        err(CFN, "{'Fn::Base64': [a]}", "must be a string, found a list"),
    ]);
}

#[test]
fn fn_find_in_map() {
    run(&[
        ok(
            CFN,
            "{'Fn::FindInMap': [RegionMap, us-east-1, AMI]}",
            json!("ami-1"),
        ),
        ok(
            CFN,
            "!FindInMap [RegionMap, !Ref 'AWS::Region', Bits]",
            json!(64),
        ),
        ok(HCFN, "{'Fn::FindInMap': [RegionMap, 1, x]}", json!("y")),
        ok(
            CFN,
            "{'Fn::FindInMap': [RegionMap, nope, AMI, {DefaultValue: def}]}",
            json!("def"),
        ),
        ok(
            CFN,
            "{'Fn::FindInMap': [RegionMap, us-east-1, nope, {DefaultValue: [a]}]}",
            json!(["a"]),
        ),
        ok(
            CFN,
            "{'Fn::FindInMap': [RegionMap, us-east-1, AMI, {DefaultValue: def}]}",
            json!("ami-1"),
        ),
        err(
            CFN,
            "{'Fn::FindInMap': [RegionMap, nope, AMI]}",
            "mapping \"RegionMap\" has no key \"nope\"",
        ),
        err(
            CFN,
            "{'Fn::FindInMap': [RegionMap, us-east-1, nope]}",
            "has no key \"nope\" under \"us-east-1\"",
        ),
        err(
            CFN,
            "{'Fn::FindInMap': [Nope, a, b]}",
            "there is no mapping named \"Nope\"",
        ),
        err(
            CFN,
            "{'Fn::FindInMap': [Nope, a, b, {DefaultValue: x}]}",
            "there is no mapping named \"Nope\"",
        ),
        err(
            CFN,
            "{'Fn::FindInMap': [RegionMap, a, b, {X: 1}]}",
            "{DefaultValue: <value>}",
        ),
        err(
            CFN,
            "{'Fn::FindInMap': [RegionMap, a]}",
            "expected 3 to 4 arguments",
        ),
        err(
            CFN,
            "{'Fn::FindInMap': [RegionMap, [a], b]}",
            "the top-level key must be a string",
        ),
    ]);
}

#[test]
fn fn_get_azs() {
    run(&[
        ok(CFN, "{'Fn::GetAZs': ''}", json!(["az-1", "az-2"])),
        ok(
            CFN,
            "{'Fn::GetAZs': {Ref: AWS::Region}}",
            json!(["az-1", "az-2"]),
        ),
        ok(HCFN, "{'Fn::GetAZs': null}", json!(["az-1", "az-2"])),
        err(CFN, "{'Fn::GetAZs': [a]}", "a region name"),
    ]);
    run_with(
        &[err_code(
            CFN,
            "{'Fn::GetAZs': ''}",
            Code::ValueUnavailable,
            "availability zones are not known offline",
        )],
        EvalContext::new,
    );
}

#[test]
fn fn_member_list_to_map() {
    run(&[
        ok(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, ['.member.0.Name=key', '.member.0.Value=door', '.member.1.Name=colour', '.member.1.Value=green']]}",
            json!({"key": "door", "colour": "green"}),
        ),
        ok(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, ['.member.0.Name=k', '.member.0.Value=a=b']]}",
            json!({"k": "a=b"}),
        ),
        ok(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, ['.member.0.Name=k']]}",
            json!({}),
        ),
        ok(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, ['x.member.0.Name=k', 'x.member.0.Value=v']]}",
            json!({}),
        ),
        ok(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, []]}",
            json!({}),
        ),
        err(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, [novalue]]}",
            "not of the form <name>=<value>",
        ),
        err(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, [1]]}",
            "items must be strings",
        ),
        err(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value]}",
            "expected 3 arguments",
        ),
        err(
            HCFN,
            "{'Fn::MemberListToMap': [1, Value, []]}",
            "must be strings",
        ),
        err(
            HCFN,
            "{'Fn::MemberListToMap': [Name, Value, 5]}",
            "the member list must be a list",
        ),
    ]);
    // Members are ordered by their number (10 after 2).
    let fx = Fixture::new();
    let expr = parse(
        HCFN,
        "{'Fn::MemberListToMap': [Name, Value, ['.member.10.Name=b', '.member.10.Value=2', '.member.2.Name=a', '.member.02.Value=1']]}",
        false,
    );
    let v = evaluate(&expr, &fx.ctx(HCFN)).unwrap();
    assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":"1","b":"2"}"#);
}

#[test]
fn cfn_conditions() {
    run(&[
        okc(CFN, "{'Fn::Equals': [a, a]}", json!(true)),
        okc(CFN, "{'Fn::Equals': ['1', 1]}", json!(true)),
        okc(CFN, "{'Fn::Equals': [true, 'true']}", json!(true)),
        okc(CFN, "{'Fn::Equals': [[a, 1], [a, '1']]}", json!(true)),
        okc(CFN, "{'Fn::Equals': [{Ref: env}, prod]}", json!(true)),
        okc(CFN, "!Equals [!Ref 'AWS::Region', us-east-1]", json!(true)),
        okc(CFN, "{'Fn::Equals': [a, b]}", json!(false)),
        okc(CFN, "{'Fn::Equals': [null, '']}", json!(false)),
        errc(CFN, "{'Fn::Equals': [a]}", "expected 2 arguments"),
        okc(CFN, "{'Fn::Not': [true]}", json!(false)),
        okc(CFN, "{'Fn::Not': [{Condition: is_prod}]}", json!(false)),
        okc(CFN, "{'Fn::Not': [is_dev]}", json!(true)),
        errc(CFN, "{'Fn::Not': true}", "must be a list"),
        errc(CFN, "{'Fn::Not': [true, false]}", "expected 1 arguments"),
        okc(
            CFN,
            "{'Fn::And': [{Condition: is_prod}, {'Fn::Equals': [a, a]}]}",
            json!(true),
        ),
        okc(
            CFN,
            "{'Fn::Or': [{Condition: is_dev}, false]}",
            json!(false),
        ),
        okc(CFN, "!Or [!Condition is_dev, !Equals [x, x]]", json!(true)),
        errc(
            CFN,
            "{'Fn::And': [{Condition: is_prod}]}",
            "expected at least 2",
        ),
        okc(CFN, "{Condition: is_prod}", json!(true)),
        errc(
            CFN,
            "{Condition: nope}",
            "there is no condition named \"nope\"",
        ),
        errc(
            CFN,
            "{Condition: [a]}",
            "the condition name must be a string",
        ),
        // Python equality in Heat's dialect.
        okc(HCFN, "{'Fn::Equals': ['1', 1]}", json!(false)),
        ok(CFN, "{'Fn::If': [is_prod, a, b]}", json!("a")),
        ok(CFN, "!If [is_dev, a, b]", json!("b")),
        omit(CFN, "{'Fn::If': [is_dev, a, {Ref: AWS::NoValue}]}"),
        ok(
            CFN,
            "[{'Fn::If': [is_dev, a, {Ref: AWS::NoValue}]}, b]",
            json!(["b"]),
        ),
        err(CFN, "{'Fn::If': [is_dev, a]}", "expected 3 arguments"),
        err(
            CFN,
            "{'Fn::If': [nope, a, b]}",
            "there is no condition named \"nope\"",
        ),
    ]);
}

#[test]
fn fn_sub() {
    run(&[
        ok(
            CFN,
            "{'Fn::Sub': '${AWS::Region}-${name}'}",
            json!("us-east-1-web"),
        ),
        ok(CFN, "!Sub '${server}'", json!("srv-id")),
        ok(CFN, "!Sub '${server.name}'", json!("srv")),
        ok(CFN, "!Sub '${!Literal} ${name}'", json!("${Literal} web")),
        ok(CFN, "!Sub 'a${!b}c${!d}'", json!("a${b}c${d}")),
        ok(CFN, "!Sub ['${a}-${name}', {a: x}]", json!("x-web")),
        ok(CFN, "!Sub ['${name}', {name: over}]", json!("over")),
        ok(CFN, "!Sub ['${v}', {v: !Ref count}]", json!("3")),
        ok(CFN, "!Sub ['${v}', {v: true}]", json!("true")),
        ok(CFN, "!Sub ['${v}', {v: null}]", json!("")),
        ok(CFN, "!Sub ['${a.b}', {a.b: dotted}]", json!("dotted")),
        ok(
            CFN,
            "!Sub ['${v}', {v: !GetAtt server.first_address}]",
            json!("10.0.0.5"),
        ),
        ok(CFN, "!Sub [plain]", json!("plain")),
        ok(CFN, "!Sub 'no vars'", json!("no vars")),
        ok(CFN, "!Sub ''", json!("")),
        ok(CFN, "!Sub '${ name }'", json!("web")),
        ok(CFN, "!Sub '$name and $'", json!("$name and $")),
        ok(CFN, "!Sub 'ü-${name}-日本'", json!("ü-web-日本")),
        ok(
            CFN,
            "!Sub '${AWS::AccountId}:${AWS::Partition}'",
            json!("123456789012:aws"),
        ),
        ok(CFN, "{'Fn::Sub': {Ref: name}}", json!("web")),
        err(CFN, "!Sub ['${v}', {v: [1]}]", "\"${v}\" is a list (["),
        err(CFN, "!Sub '${list}'", "only strings can be substituted"),
        err(CFN, "!Sub 'a ${unterminated'", "unterminated"),
        err(CFN, "!Sub 'a ${}'", "empty variable"),
        err(
            CFN,
            "!Sub '${nope}'",
            "there is no parameter or resource named \"nope\"",
        ),
        err(CFN, "!Sub '${server.nope}'", "has no attribute \"nope\""),
        err(
            CFN,
            "!Sub '${server.networks.private}'",
            "has no attribute \"networks.private\"",
        ),
        err(CFN, "!Sub '${AWS::NoValue}'", "has no value (AWS::NoValue)"),
        err(CFN, "!Sub [a, b, c]", "expected 1 to 2 arguments"),
        err(CFN, "!Sub [x, notmap]", "the variables must be a map"),
        err(
            CFN,
            "!Sub ['${v}', {v: !Ref 'AWS::NoValue'}]",
            "variable \"v\" has no value",
        ),
        err(CFN, "{'Fn::Sub': [[a]]}", "the template must be a string"),
    ]);
}

#[test]
fn fn_import_value() {
    run(&[
        ok(CFN, "{'Fn::ImportValue': VpcId}", json!("vpc-123")),
        ok(
            CFN,
            "!ImportValue {'Fn::Sub': '${AWS::StackName}-Vpc'}",
            json!("vpc-9"),
        ),
        err(
            CFN,
            "{'Fn::ImportValue': Nope}",
            "No export named Nope found",
        ),
        err(
            CFN,
            "{'Fn::ImportValue': [a]}",
            "the export name must be a string",
        ),
    ]);
    run_with(
        &[err_code(
            CFN,
            "{'Fn::ImportValue': VpcId}",
            Code::ValueUnavailable,
            "not available offline",
        )],
        EvalContext::new,
    );
}

#[test]
fn fn_cidr() {
    run(&[
        ok(
            CFN,
            "{'Fn::Cidr': ['10.0.0.0/16', 2, 8]}",
            json!(["10.0.0.0/24", "10.0.1.0/24"]),
        ),
        ok(
            CFN,
            "!Cidr ['10.0.0.0/16', '2', '8']",
            json!(["10.0.0.0/24", "10.0.1.0/24"]),
        ),
        ok(CFN, "!Cidr [!Ref block, 1, 12]", json!(["10.1.0.0/20"])),
        ok(
            CFN,
            "!Cidr ['2001:db8::/56', 2, 64]",
            json!(["2001:db8::/64", "2001:db8:0:1::/64"]),
        ),
        err(
            CFN,
            "!Cidr ['10.0.0.0/24', 2, 8]",
            "holds only 1 subnets of /24, 2 were asked for",
        ),
        err(CFN, "!Cidr [x, 1, 1]", "not a CIDR block"),
        err(CFN, "!Cidr ['10.0.0.0/16', 2]", "expected 3 arguments"),
        err(
            CFN,
            "!Cidr ['10.0.0.0/16', x, 8]",
            "the count must be an integer",
        ),
        err(
            CFN,
            "!Cidr ['10.0.0.0/16', 1, 1.5]",
            "the cidr bits must be an integer",
        ),
        err(CFN, "!Cidr [[a], 1, 8]", "the ip block must be a string"),
    ]);
}

#[test]
fn language_extensions() {
    run(&[
        ok(CFN, "{'Fn::Length': [a, b]}", json!(2)),
        ok(CFN, "!Length []", json!(0)),
        ok(CFN, "!Length {Ref: list}", json!(3)),
        ok(CFN, "!Length [a, !Ref 'AWS::NoValue']", json!(1)),
        err(
            CFN,
            "!Length abc",
            "the argument must be a list, found a string",
        ),
        ok(
            CFN,
            "{'Fn::ToJsonString': {b: 1, a: [x]}}",
            json!(r#"{"b":1,"a":["x"]}"#),
        ),
        ok(CFN, "!ToJsonString []", json!("[]")),
        ok(CFN, "!ToJsonString {k: ü}", json!(r#"{"k":"ü"}"#)),
        ok(CFN, "!ToJsonString {k: !Ref name}", json!(r#"{"k":"web"}"#)),
        err(CFN, "!ToJsonString x", "must be a map or a list"),
        err_code(
            CFN,
            "{'Fn::Transform': {Name: 'AWS::Include', Parameters: {Location: 's3://x'}}}",
            Code::ValueUnavailable,
            "macros are not evaluated offline",
        ),
    ]);
}

#[test]
fn rule_functions() {
    run(&[
        okc(CFN, "{'Fn::Contains': [[a, b], a]}", json!(true)),
        okc(CFN, "{'Fn::Contains': [[a, b], c]}", json!(false)),
        okc(CFN, "{'Fn::EachMemberEquals': [[a, a], a]}", json!(true)),
        okc(CFN, "{'Fn::EachMemberEquals': [[a, b], a]}", json!(false)),
        okc(CFN, "{'Fn::EachMemberIn': [[a], [a, b]]}", json!(true)),
        okc(CFN, "{'Fn::EachMemberIn': [[c], [a]]}", json!(false)),
        errc(
            CFN,
            "{'Fn::EachMemberIn': [[c], a]}",
            "the second argument must be a list",
        ),
        errc(
            CFN,
            "{'Fn::Contains': [a, a]}",
            "the first argument must be a list",
        ),
        Case {
            v: CFN,
            src: "{'Fn::ValueOf': [p, Tags]}",
            cond: true,
            want: Want::Err(Code::ValueUnavailable, "not evaluated offline"),
        },
    ]);
}

// ------------------------------------------------------------------------------------------
// Cross-cutting
// ------------------------------------------------------------------------------------------

/// The same expression across versions: the version picks the function's variant.
#[test]
fn version_variants() {
    run(&[
        err(H14, "{get_attr: [vol]}", "at least 2"),
        ok(H15B, "{get_attr: [vol]}", json!({"size": 10})),
        err(H15A, "{list_join: [',', [a], [b]]}", "expected 2 arguments"),
        ok(H15B, "{list_join: [',', [a], [b]]}", json!("a,b")),
        err(
            H15A,
            "{str_replace: {template: x, params: {x: [1]}}}",
            "must be strings or numbers",
        ),
        ok(
            H15B,
            "{str_replace: {template: x, params: {x: [1]}}}",
            json!("[1]"),
        ),
        err(
            H16A,
            "{repeat: {template: '%v%', for_each: {'%v%': {k: v}}}}",
            "must be lists",
        ),
        ok(
            H16B,
            "{repeat: {template: '%v%', for_each: {'%v%': {k: v}}}}",
            json!(["k"]),
        ),
        ok(
            H17A,
            "{repeat: {template: '%a%%b%', for_each: {'%a%': [x, y], '%b%': ['1', '2']}, permutations: false}}",
            json!(["x1", "x2", "y1", "y2"]),
        ),
        ok(
            H17B,
            "{repeat: {template: '%a%%b%', for_each: {'%a%': [x, y], '%b%': ['1', '2']}, permutations: false}}",
            json!(["x1", "y2"]),
        ),
        err(H18, "{if: [false, a]}", "expected 3 arguments"),
        omit(H21, "{if: [false, a]}"),
        ok(
            H13,
            "{get_attr: [server, networks, private, 0]}",
            json!("10.0.0.5"),
        ),
    ]);
}

/// Hidden values never appear in messages.
#[test]
fn hidden_values_are_masked() {
    let fx = Fixture::new();
    let cases = [
        (
            H15A,
            "{list_join: [',', [{get_param: secret_map}]]}",
            "hunter22",
        ),
        (
            H17B,
            "{make_url: {scheme: http, host: h, port: {get_param: secret}}}",
            "s3cr3t-pass",
        ),
        (
            H15B,
            "{str_split: [',', 'a,b', {get_param: secret}]}",
            "s3cr3t-pass",
        ),
        (
            H15B,
            "{str_split: [',', 'a,b', {get_param: secret_num}]}",
            "918273",
        ),
        (CFN, "{'Fn::Select': [{Ref: secret}, [a]]}", "s3cr3t-pass"),
        (
            CFN,
            "{'Fn::GetAtt': [server, {Ref: secret}]}",
            "s3cr3t-pass",
        ),
        (H21, "{get_resource: {get_param: secret}}", "s3cr3t-pass"),
        (H21, "{get_file: {get_param: secret}}", "s3cr3t-pass"),
    ];
    for (v, src, secret) in cases {
        let e = evaluate(&parse(v, src, false), &fx.ctx(v)).expect_err(src);
        assert!(!e.message.contains(secret), "{src}: {}", e.message);
        assert!(e.message.contains("******"), "{src}: {}", e.message);
        let d: crate::diagnostic::Diagnostic = e.into();
        assert!(!d.to_string().contains(secret));
    }
    // A visible parameter with the same kind of error is shown.
    let e = evaluate(
        &parse(H15B, "{str_split: [',', 'a,b', {get_param: name}]}", false),
        &fx.ctx(H15B),
    )
    .unwrap_err();
    assert!(e.message.contains("web"), "{}", e.message);
}

#[test]
fn errors_become_diagnostics_with_spans() {
    let fx = Fixture::new();
    // `v: {list_join: [',', [a, 5]]}`: the error points at the call.
    let expr = parse(H15A, "{list_join: [',', [a, 5]]}", false);
    let e = evaluate(&expr, &fx.ctx(H15A)).unwrap_err();
    assert_eq!(e.span.start, Pos::new(1, 4));
    let d: crate::diagnostic::Diagnostic = e.into();
    assert_eq!(d.code, Code::EvaluationFailed);
    assert!(d.is_error());
    assert!(d.message.starts_with("list_join: "), "{}", d.message);
    // A wrong argument points at the argument itself.
    let expr = parse(CFN, "{'Fn::Select': [x, [a, b]]}", false);
    let e = evaluate(&expr, &fx.ctx(CFN)).unwrap_err();
    assert_eq!(e.span.start, Pos::new(1, 20));
    // Hints carry over.
    let expr = parse(H21, "{yaql: {expression: x}}", false);
    let d: crate::diagnostic::Diagnostic = evaluate(&expr, &fx.ctx(H21)).unwrap_err().into();
    assert_eq!(d.code, Code::YaqlUnsupported);
    assert!(d.hint.is_some());
}

/// Plain data evaluates to itself; omitted values vanish from lists and maps only.
#[test]
fn plain_data() {
    run(&[
        ok(
            H21,
            "{a: [1, 2.5, true, null, x], b: {c: ü}}",
            json!({"a": [1, 2.5, true, null, "x"], "b": {"c": "ü"}}),
        ),
        ok(H21, "[]", json!([])),
        ok(H21, "{}", json!({})),
        ok(H21, "~", Value::Null),
        ok(CFN, "{a: 1, b: 2}", json!({"a": 1, "b": 2})),
    ]);
    // A non-finite float becomes null.
    let e = Expr::new(ExprKind::Float(f64::NAN), Default::default());
    assert_eq!(evaluate(&e, &EvalContext::new(H21)).unwrap(), Value::Null);
}

/// Every function, with arguments of every shape, in every version: never a panic, and
/// every error has an evaluation code.
#[test]
fn no_panics_on_odd_arguments() {
    let fx = Fixture::new();
    let args = [
        "null",
        "0",
        "-1",
        "''",
        "x",
        "[]",
        "{}",
        "[null]",
        "[[]]",
        "[{}, {}]",
        "[a, b, c, d, e]",
        "{a: b}",
        "[server, name]",
        "[',', [a]]",
        "{template: x, params: {}}",
        "{for_each: {x: [a]}, template: x}",
        "[true, a, b]",
        "[0, [a]]",
        "[-5, [a]]",
        "[RegionMap, a, b]",
        "['10.0.0.0/8', 300, 1]",
        "['::/0', 256, 128]",
        "[md5, x]",
        "{expression: x}",
        "'${x'",
        "['${x}', {x: [1]}]",
        "[[], [], []]",
    ];
    for &v in Version::ALL {
        for &func in Func::ALL {
            for a in args {
                let arg = parse(v, a, false);
                let call = Expr::new(
                    ExprKind::Call(Box::new(Call {
                        func,
                        name_span: Default::default(),
                        arg,
                    })),
                    Default::default(),
                );
                if let Err(e) = evaluate_nullable(&call, &fx.ctx(v)) {
                    assert!(e.code.as_str().starts_with("E5"), "{func:?} {a}: {e:?}");
                    assert!(!e.message.is_empty());
                }
            }
        }
    }
}

#[test]
fn deep_nesting_is_refused() {
    let mut e = Expr::new(ExprKind::String("x".into()), Default::default());
    for _ in 0..(MAX_DEPTH + 10) {
        e = Expr::new(ExprKind::List(vec![e]), Default::default());
    }
    let err = evaluate(&e, &EvalContext::new(H21)).unwrap_err();
    assert!(err.message.contains("nest more than"), "{}", err.message);
    let ok_depth = {
        let mut e = Expr::new(ExprKind::Int(1), Default::default());
        for _ in 0..100 {
            e = Expr::new(ExprKind::List(vec![e]), Default::default());
        }
        e
    };
    assert!(evaluate(&ok_depth, &EvalContext::new(H21)).is_ok());
}

#[test]
fn for_each_macro_is_refused() {
    let call = Expr::new(
        ExprKind::Call(Box::new(Call {
            func: Func::FnForEach,
            name_span: Default::default(),
            arg: Expr::new(ExprKind::List(vec![]), Default::default()),
        })),
        Default::default(),
    );
    let e = evaluate(&call, &EvalContext::new(CFN)).unwrap_err();
    assert_eq!(e.code, Code::ValueUnavailable);
}

// ------------------------------------------------------------------------------------------
// Conditions sections
// ------------------------------------------------------------------------------------------

fn template(text: &str) -> crate::template::model::Template {
    let parsed = crate::template::parse(text, &Limits::default());
    parsed
        .template
        .unwrap_or_else(|| panic!("no template: {:?}", parsed.diagnostics))
}

#[test]
fn conditions_section_cfn() {
    let t = template(
        "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  env: {Type: String}
Conditions:
  Both: !And [!Condition IsProd, !Condition IsNotProd]
  IsProd: !Equals [!Ref env, prod]
  IsNotProd: !Not [!Condition IsProd]
  Either: {'Fn::Or': [{Condition: IsProd}, {Condition: IsNotProd}]}
  InUs: !Equals [!Select [0, !Split ['-', !Ref 'AWS::Region']], us]
Resources:
  R: {Type: 'AWS::SNS::Topic', Condition: IsProd}
",
    );
    let params = ParameterValues::new().with("env", json!("prod"));
    let pseudo = PseudoParams {
        region: Some("us-east-1".into()),
        ..PseudoParams::new()
    };
    let ctx = EvalContext::for_template(&t)
        .with_parameters(&params)
        .with_pseudo(&pseudo);
    let values = evaluate_conditions(&t.conditions, &ctx);
    assert!(values.errors.is_empty(), "{:?}", values.errors);
    let want: BTreeMap<String, bool> = [
        ("Both", false),
        ("IsProd", true),
        ("IsNotProd", false),
        ("Either", true),
        ("InUs", true),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(values.values, want);
    // A resource's condition, against the computed values.
    let ctx = ctx.with_conditions(&values.values);
    let r = t.resource("R").unwrap();
    assert!(condition_enabled(r.condition.as_deref(), &ctx).unwrap());
    assert!(condition_enabled(None, &ctx).unwrap());
    // Lazily, through TemplateConditions.
    let lazy = TemplateConditions::new(&t.conditions);
    let ctx2 = EvalContext::for_template(&t)
        .with_parameters(&params)
        .with_pseudo(&pseudo)
        .with_conditions(&lazy);
    let expr = parse(CFN, "!If [Both, a, b]", false);
    assert_eq!(evaluate(&expr, &ctx2).unwrap(), json!("b"));
    assert!(format!("{lazy:?}").contains("TemplateConditions"));
}

#[test]
fn conditions_section_errors() {
    let t = template(
        "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  pw: {Type: String, NoEcho: true}
Conditions:
  A: !Not [!Condition B]
  B: !Not [!Condition A]
  Ok: !Equals [a, a]
  UsesMissing: !Not [!Condition Missing]
  Secret: !Equals [!Select [!Ref pw, [x]], x]
Resources:
  R: {Type: 'AWS::SNS::Topic'}
",
    );
    let params = ParameterValues::new().with_hidden("pw", json!("topsecret"));
    let ctx = EvalContext::for_template(&t).with_parameters(&params);
    let values = evaluate_conditions(&t.conditions, &ctx);
    assert_eq!(values.values.get("Ok"), Some(&true));
    let messages: Vec<&str> = values.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(values.errors.len(), 3, "{messages:?}");
    assert!(messages[0].contains("cycle: A -> B -> A"), "{messages:?}");
    assert_eq!(values.errors[0].code, Code::ConditionCycle);
    assert!(
        messages[1].contains("no condition named \"Missing\""),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("******") && !messages[2].contains("topsecret"),
        "{messages:?}"
    );
}

#[test]
fn conditions_section_hot() {
    let t = template(
        "heat_template_version: 2016-10-14
parameters:
  env: {type: string, default: prod}
conditions:
  c1: {equals: [{get_param: env}, prod]}
  c2: {not: c1}
  c3: true
  c4: {and: [c1, c3, {not: c2}]}
  bad: {get_param: env}
resources:
  r1: {type: OS::Heat::None, condition: c2}
  r2: {type: OS::Heat::None, condition: {not: c2}}
  r3: {type: OS::Heat::None, condition: false}
",
    );
    let params = ParameterValues::new().with("env", json!("prod"));
    let ctx = EvalContext::for_template(&t).with_parameters(&params);
    let values = evaluate_conditions(&t.conditions, &ctx);
    assert_eq!(values.values.get("c1"), Some(&true));
    assert_eq!(values.values.get("c2"), Some(&false));
    assert_eq!(values.values.get("c3"), Some(&true));
    assert_eq!(values.values.get("c4"), Some(&true));
    assert_eq!(values.errors.len(), 1);
    assert!(
        values.errors[0]
            .message
            .contains("condition \"bad\" must evaluate to a boolean")
    );
    let ctx = ctx.with_conditions(&values.values);
    let enabled =
        |name: &str| condition_enabled(t.resource(name).unwrap().condition.as_deref(), &ctx);
    assert!(!enabled("r1").unwrap());
    assert!(enabled("r2").unwrap());
    assert!(!enabled("r3").unwrap());
    // Unknown names.
    let none = BTreeMap::new();
    let ctx = ctx.with_conditions(&none);
    let e = condition_enabled(t.resource("r1").unwrap().condition.as_deref(), &ctx).unwrap_err();
    assert!(
        e.message.contains("no condition named \"c2\""),
        "{}",
        e.message
    );
}

#[test]
fn select_path_follows_heat() {
    let v = json!({"a": [10, {"b": "xyz"}], "n": 1});
    let cases: &[(&[Value], Option<Value>)] = &[
        (&[], Some(v.clone())),
        (&[json!("a"), json!(0)], Some(json!(10))),
        (&[json!("a"), json!(-1), json!("b")], Some(json!("xyz"))),
        (
            &[json!("a"), json!(1), json!("b"), json!(1)],
            Some(json!("y")),
        ),
        (
            &[json!("a"), json!(1), json!("b"), json!(-1), json!(0)],
            Some(json!("z")),
        ),
        (&[json!("a"), json!(true)], Some(json!({"b": "xyz"}))),
        (&[json!("a"), json!("0")], None),
        (&[json!("a"), json!(2)], None),
        (&[json!("missing")], None),
        (&[json!(0)], None),
        (&[json!("n"), json!(0)], None),
        (&[json!("a"), json!(1.5)], None),
    ];
    for (path, want) in cases {
        assert_eq!(select_path(&v, path), *want, "{path:?}");
    }
}

/// Plain maps work as sources.
#[test]
fn maps_as_sources() {
    use std::collections::HashMap;
    let params: HashMap<String, Value> = HashMap::from([("p".to_string(), json!("hm"))]);
    let bparams: BTreeMap<String, Value> = BTreeMap::from([("p".to_string(), json!("bt"))]);
    let conds: HashMap<String, bool> = HashMap::from([("c".to_string(), true)]);
    let exports: BTreeMap<String, Value> = BTreeMap::from([("E".to_string(), json!(1))]);
    let hot = parse(H21, "[{get_param: p}, {if: [c, y, n]}]", false);
    let ctx = EvalContext::new(H21)
        .with_parameters(&params)
        .with_conditions(&conds);
    assert_eq!(evaluate(&hot, &ctx).unwrap(), json!(["hm", "y"]));
    let ctx = ctx.with_parameters(&bparams);
    assert_eq!(evaluate(&hot, &ctx).unwrap(), json!(["bt", "y"]));
    let cfn = parse(CFN, "!ImportValue E", false);
    let ctx = EvalContext::new(CFN).with_imports(&exports);
    assert_eq!(evaluate(&cfn, &ctx).unwrap(), json!(1));
    assert!(!NoParameters.is_hidden("p"));
    assert!(!params.is_hidden("p") && !bparams.is_hidden("p"));
    assert!(format!("{ctx:?}").contains("EvalContext"));
}

#[test]
fn every_function_has_a_usage_example_and_failures_show_it() {
    for func in Func::ALL {
        let example = crate::eval::usage(*func);
        assert!(example.starts_with('{'), "{func:?}: {example}");
        assert!(example.contains(func.name()), "{func:?}: {example}");
    }
    // A shape error with nothing more specific to say shows a correct call.
    let fx = Fixture::new();
    let expr = parse(H16A, "{map_merge: 42}", false);
    let e = evaluate(&expr, &fx.ctx(H16A)).unwrap_err();
    assert_eq!(
        e.hint.as_deref(),
        Some("a correct call: {map_merge: [{a: 1}, {b: 2}]} gives {a: 1, b: 2}")
    );
}
