//! Router-level tests of the native API beyond the captured samples: tenancy, methods,
//! limits, bad input, abandon/export/adopt, listings, actions, signals, software configs
//! and deployments, types, validation, authentication errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;

use std::sync::Arc;
use std::time::Duration;

use api_support::Harness;
use async_trait::async_trait;
use axum::http::HeaderMap;
use heat_server::api::ApiSettings;
use heat_server::auth::{AuthError, Authenticator, NoAuth, RequestContext};
use heat_server::engine_api::EngineOptions;
use serde_json::{Value, json};

fn random_template() -> Value {
    json!({
        "heat_template_version": "2018-08-31",
        "description": "one random string",
        "parameters": {"len": {"type": "number", "default": 8}},
        "resources": {
            "rs": {"type": "OS::Heat::RandomString", "properties": {"length": {"get_param": "len"}}}
        },
        "outputs": {"value": {"value": {"get_attr": ["rs", "value"]}}}
    })
}

/// A template whose create (or update) waits `secs` on the engine clock.
fn waiting_template(create: u64, update: u64, value: &str) -> Value {
    json!({
        "heat_template_version": "2018-08-31",
        "resources": {
            "tr": {"type": "OS::Heat::TestResource", "properties": {
                "value": value,
                "action_wait_secs": {"create": create, "update": update}
            }}
        }
    })
}

async fn state_of(h: &Harness, path: &str) -> String {
    let reply = h.get(path).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["stack"]["stack_status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Lets spawned operations run up to their next wait (virtual time: nothing really waits).
async fn let_run() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test(start_paused = true)]
async fn another_projects_stacks_are_not_found() {
    let h = Harness::new();
    let path = h.create("p1", "web", &random_template()).await;
    let id = path.rsplit('/').next().unwrap();
    let elsewhere = format!("/v1/p2/stacks/web/{id}");
    for (method, uri) in [
        ("GET", elsewhere.clone()),
        ("GET", format!("{elsewhere}/resources")),
        ("GET", format!("{elsewhere}/events")),
        ("GET", format!("{elsewhere}/template")),
        ("DELETE", elsewhere.clone()),
        ("GET", "/v1/p2/stacks/web".to_string()),
        ("GET", format!("/v1/p2/stacks/{id}")),
    ] {
        let reply = h.send(method, &uri, None, &[]).await;
        assert_eq!(reply.status, 404, "{method} {uri}: {:?}", reply.body);
        assert_eq!(reply.fault().0, "EntityNotFound", "{method} {uri}");
    }
    let listed = h.get("/v1/p2/stacks").await;
    assert_eq!(listed.body["stacks"], json!([]));
    // Names are unique per project only.
    h.create("p2", "web", &random_template()).await;
    assert_eq!(
        h.get("/v1/p1/stacks").await.body["stacks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(state_of(&h, &path).await, "CREATE_COMPLETE");
}

#[tokio::test(start_paused = true)]
async fn wrong_methods_are_405_and_options_204() {
    let h = Harness::new();
    let path = h.create("p", "web", &random_template()).await;
    for (method, uri) in [
        ("DELETE", "/v1/p/stacks".to_string()),
        ("PATCH", "/v1/p/build_info".to_string()),
        ("POST", path.clone()),
        ("GET", format!("{path}/actions")),
        ("PUT", "/v1/p/software_configs".to_string()),
    ] {
        let reply = h.send(method, &uri, None, &[]).await;
        assert_eq!(reply.status, 405, "{method} {uri}");
        assert_eq!(reply.fault().0, "HTTPMethodNotAllowed");
        assert!(reply.header("allow").is_some(), "{method} {uri}: Allow");
        assert_eq!(reply.body["title"], "Method Not Allowed");
    }
    for uri in ["/v1/p/stacks", path.as_str(), "/v1/p/software_configs"] {
        let reply = h.send("OPTIONS", uri, None, &[]).await;
        assert_eq!(
            reply.status, 204,
            "{uri}: {:?} {:?}",
            reply.headers, reply.body
        );
        let allow = reply.header("allow").unwrap();
        assert!(allow.contains("GET"), "{uri}: {allow:?}");
    }
    let reply = h.get("/v1/p/nothing/here").await;
    assert_eq!((reply.status, reply.fault().0), (404, "HTTPNotFound"));
    assert_eq!(h.get("/versions").await.status, 300);
}

#[tokio::test(start_paused = true)]
async fn limits_are_enforced_with_heats_errors() {
    let h = Harness::with(
        EngineOptions {
            max_stacks_per_tenant: Some(1),
            max_template_size: 600,
            ..EngineOptions::default()
        },
        Arc::new(NoAuth),
        ApiSettings {
            max_json_body_size: 2000,
            ..ApiSettings::default()
        },
    );
    let big = json!({"stack_name": "big", "template": "x".repeat(3000)});
    let reply = h.json("POST", "/v1/p/stacks", &big).await;
    assert_eq!(
        (reply.status, reply.fault().0),
        (413, "RequestLimitExceeded")
    );

    let mut template = random_template();
    template["description"] = json!("d".repeat(500));
    let reply = h
        .json(
            "POST",
            "/v1/p/stacks",
            &json!({"stack_name": "t", "template": template}),
        )
        .await;
    assert_eq!(reply.status, 413);
    assert!(
        reply
            .fault()
            .1
            .contains("exceeds maximum allowed size (600 bytes)")
    );

    h.create("p", "one", &random_template()).await;
    let reply = h
        .json(
            "POST",
            "/v1/p/stacks",
            &json!({"stack_name": "two", "template": random_template()}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.fault().0),
        (400, "RequestLimitExceeded")
    );
    assert!(reply.fault().1.contains("maximum stacks per tenant, 1"));
    // Another project has its own quota.
    h.create("q", "one", &random_template()).await;
}

#[tokio::test(start_paused = true)]
async fn bad_input_is_a_4xx_fault_never_a_500() {
    let h = Harness::new();
    let path = h.create("p", "web", &random_template()).await;
    let create = |extra: Value| {
        let mut body = json!({"stack_name": "s", "template": random_template()});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(&str, String, Option<String>, u16)> = vec![
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"tags": 5})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"timeout_mins": "x"})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"disable_rollback": "maybe"})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"parameters": [1]})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"parameters": {"len": "abc"}})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"parameters": {"nope": 1}})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"stack_name": "1abc"})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"template": 5})).to_string()),
            400,
        ),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some(create(json!({"template": "a: [b"})).to_string()),
            400,
        ),
        ("POST", "/v1/p/stacks".into(), Some("[1, 2]".into()), 400),
        (
            "POST",
            "/v1/p/stacks".into(),
            Some("\u{0}\u{1}".into()),
            400,
        ),
        ("GET", "/v1/p/stacks?limit=-1".into(), None, 400),
        ("GET", "/v1/p/stacks?sort_keys=colour".into(), None, 400),
        ("GET", "/v1/p/stacks?sort_dir=sideways".into(), None, 400),
        ("GET", "/v1/p/stacks?marker=nope".into(), None, 400),
        ("GET", "/v1/p/stacks?global_tenant=true".into(), None, 403),
        ("GET", format!("{path}/resources?colour=red"), None, 400),
        ("GET", format!("{path}/events?sort_keys=colour"), None, 400),
        ("GET", format!("{path}/events?marker=999"), None, 404),
        ("GET", format!("{path}/resources/rs/events/999"), None, 404),
        ("GET", format!("{path}/resources/ghost/events"), None, 404),
        ("GET", format!("{path}?resolve_outputs=perhaps"), None, 400),
        (
            "POST",
            format!("{path}/actions"),
            Some(r#"{"suspend": null, "resume": null}"#.into()),
            400,
        ),
        (
            "POST",
            format!("{path}/actions"),
            Some(r#"{"explode": null}"#.into()),
            400,
        ),
        (
            "POST",
            format!("{path}/actions"),
            Some(r#"{"cancel_update": null}"#.into()),
            400,
        ),
        (
            "POST",
            format!("{path}/actions"),
            Some(r#"{"resume": null}"#.into()),
            400,
        ),
        ("PUT", path.clone(), Some("{}".into()), 400),
        (
            "PATCH",
            path.clone(),
            Some(r#"{"parameters": {"len": "abc"}}"#.into()),
            400,
        ),
        (
            "POST",
            format!("{path}/resources/ghost/signal"),
            Some("{}".into()),
            404,
        ),
        (
            "POST",
            format!("{path}/resources/rs/signal"),
            Some("{}".into()),
            400,
        ),
        ("GET", "/v1/p/resource_types/OS::Nope".into(), None, 404),
        (
            "GET",
            "/v1/p/resource_types/OS::Heat::None/template?template_type=xml".into(),
            None,
            400,
        ),
        ("GET", "/v1/p/resource_types?name=(".into(), None, 400),
        (
            "GET",
            "/v1/p/template_versions/heat_template_version.1999-01-01/functions".into(),
            None,
            404,
        ),
        ("POST", "/v1/p/validate".into(), Some("{}".into()), 400),
        (
            "POST",
            "/v1/p/stacks/preview".into(),
            Some(r#"{"stack_name": "x"}"#.into()),
            400,
        ),
        ("GET", "/v1/p/software_configs/nope".into(), None, 404),
        (
            "POST",
            "/v1/p/software_deployments".into(),
            Some(r#"{"config_id": "c"}"#.into()),
            400,
        ),
        ("GET", format!("{path}/export"), None, 400),
        ("DELETE", format!("{path}/abandon"), None, 400),
    ];
    for (method, uri, body, status) in cases {
        let reply = h.send(method, &uri, body.clone(), &[]).await;
        assert_eq!(
            reply.status, status,
            "{method} {uri} {body:?}: {:#}",
            reply.body
        );
        assert_eq!(reply.body["code"], json!(status), "{method} {uri}: a fault");
        assert!(
            !reply.fault().1.is_empty(),
            "{method} {uri}: the fault says what is wrong"
        );
    }
    assert_eq!(state_of(&h, &path).await, "CREATE_COMPLETE");
}

#[tokio::test(start_paused = true)]
async fn export_matches_abandon_and_adopt_takes_it_back() {
    let h = Harness::with_options(EngineOptions {
        enable_stack_abandon: true,
        enable_stack_adopt: true,
        ..EngineOptions::default()
    });
    let path = h.create("p", "web", &random_template()).await;
    let value =
        h.get(&format!("{path}/outputs/value")).await.body["output"]["output_value"].clone();
    let exported = h.get(&format!("{path}/export")).await;
    assert_eq!(exported.status, 200);
    assert_eq!(
        state_of(&h, &path).await,
        "CREATE_COMPLETE",
        "export changes nothing"
    );
    let abandoned = h
        .send("DELETE", &format!("{path}/abandon"), None, &[])
        .await;
    assert_eq!(abandoned.status, 200);
    assert_eq!(
        exported.body, abandoned.body,
        "export is what abandon returns"
    );
    assert_eq!(h.get("/v1/p/stacks/web").await.status, 404, "abandoned");

    let reply = h
        .json(
            "POST",
            "/v1/p/stacks",
            &json!({"stack_name": "web2", "adopt_stack_data": abandoned.body.to_string()}),
        )
        .await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
    h.settle().await;
    let adopted = h
        .get("/v1/p/stacks/web2")
        .await
        .header("location")
        .unwrap()
        .to_string();
    let adopted = adopted.trim_start_matches("http://127.0.0.1:8004");
    assert_eq!(state_of(&h, adopted).await, "ADOPT_COMPLETE");
    let again = h.get(&format!("{adopted}/outputs/value")).await;
    assert_eq!(
        again.body["output"]["output_value"], value,
        "the same resource"
    );
}

#[tokio::test(start_paused = true)]
async fn adopt_is_off_by_default() {
    let h = Harness::new();
    let reply = h
        .json(
            "POST",
            "/v1/p/stacks",
            &json!({"stack_name": "s", "template": random_template(), "adopt_stack_data": {"resources": {}}}),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.fault(),
        ("NotSupported", "Stack Adopt is not supported.")
    );
}

#[tokio::test(start_paused = true)]
async fn listings_filter_sort_page_and_count() {
    let h = Harness::new();
    for (name, tags) in [("a", "x,y"), ("b", "y"), ("c", "")] {
        let reply = h
            .json(
                "POST",
                "/v1/p/stacks",
                &json!({"stack_name": name, "template": random_template(), "tags": tags}),
            )
            .await;
        assert_eq!(reply.status, 201);
        h.settle().await;
    }
    let names = |reply: &api_support::Reply| -> Vec<String> {
        reply.body["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["stack_name"].as_str().unwrap().to_string())
            .collect()
    };
    let reply = h
        .get("/v1/p/stacks?sort_keys=stack_name&sort_dir=asc")
        .await;
    assert_eq!(names(&reply), ["a", "b", "c"]);
    let reply = h
        .get("/v1/p/stacks?tags=y&sort_keys=stack_name&sort_dir=asc")
        .await;
    assert_eq!(names(&reply), ["a", "b"]);
    let reply = h
        .get("/v1/p/stacks?not_tags_any=x&sort_keys=name&sort_dir=asc")
        .await;
    assert_eq!(names(&reply), ["b", "c"]);
    let reply = h
        .get("/v1/p/stacks?name=a&name=c&sort_keys=stack_name&sort_dir=desc")
        .await;
    assert_eq!(names(&reply), ["c", "a"]);
    let first = h
        .get("/v1/p/stacks?sort_keys=stack_name&sort_dir=asc&limit=1&with_count=true")
        .await;
    assert_eq!(names(&first), ["a"]);
    assert_eq!(first.body["count"], 3);
    let marker = first.body["stacks"][0]["id"].as_str().unwrap();
    let next = h
        .get(&format!(
            "/v1/p/stacks?sort_keys=stack_name&sort_dir=asc&limit=1&marker={marker}"
        ))
        .await;
    assert_eq!(names(&next), ["b"]);
    // The project is shown to admins only (noauth callers are admins unless X-Roles says).
    assert_eq!(first.body["stacks"][0]["project"], "p");
    let member = h
        .send("GET", "/v1/p/stacks", None, &[("x-roles", "member")])
        .await;
    assert!(member.body["stacks"][0].get("project").is_none());
    assert!(
        h.get("/v1/p/stacks/detail").await.body["stacks"][0]
            .get("project")
            .is_none()
    );

    let b = h
        .get("/v1/p/stacks/b")
        .await
        .header("location")
        .unwrap()
        .to_string();
    let b = b.trim_start_matches("http://127.0.0.1:8004").to_string();
    assert_eq!(h.send("DELETE", &b, None, &[]).await.status, 204);
    h.settle().await;
    assert_eq!(
        names(
            &h.get("/v1/p/stacks?sort_keys=stack_name&sort_dir=asc")
                .await
        ),
        ["a", "c"]
    );
    let deleted = h
        .get("/v1/p/stacks?show_deleted=true&status=DELETE_COMPLETE")
        .await;
    assert_eq!(names(&deleted), ["b"]);
    assert_eq!(deleted.body["stacks"][0]["stack_status"], "DELETE_COMPLETE");
    assert!(deleted.body["stacks"][0]["deletion_time"].is_string());
}

#[tokio::test(start_paused = true)]
async fn cancels_stop_updates_and_creates() {
    let h = Harness::new();
    let path = h
        .create("p", "slow", &waiting_template(0, 600, "one"))
        .await;
    let reply = h
        .json(
            "PUT",
            &path,
            &json!({"template": waiting_template(0, 600, "two")}),
        )
        .await;
    assert_eq!(reply.status, 202);
    let_run().await;
    assert_eq!(state_of(&h, &path).await, "UPDATE_IN_PROGRESS");
    // Busy: another update is refused.
    let busy = h
        .json(
            "PUT",
            &path,
            &json!({"template": waiting_template(0, 600, "three")}),
        )
        .await;
    assert_eq!((busy.status, busy.fault().0), (409, "ActionInProgress"));
    let reply = h
        .json(
            "POST",
            &format!("{path}/actions"),
            &json!({"cancel_update": null}),
        )
        .await;
    assert_eq!(reply.status, 200);
    h.settle().await;
    assert_eq!(state_of(&h, &path).await, "ROLLBACK_COMPLETE");

    let reply = h
        .json(
            "POST",
            "/v1/p/stacks",
            &json!({"stack_name": "slower", "template": waiting_template(600, 0, "x")}),
        )
        .await;
    let id = reply.body["stack"]["id"].as_str().unwrap();
    let slower = format!("/v1/p/stacks/slower/{id}");
    let_run().await;
    let reply = h
        .json(
            "POST",
            &format!("{slower}/actions"),
            &json!({"cancel_without_rollback": null}),
        )
        .await;
    assert_eq!(reply.status, 200);
    h.settle().await;
    assert_eq!(state_of(&h, &slower).await, "CREATE_FAILED");
}

#[tokio::test(start_paused = true)]
async fn suspend_resume_and_check() {
    let h = Harness::new();
    let path = h.create("p", "web", &random_template()).await;
    for (action, state) in [
        ("suspend", "SUSPEND_COMPLETE"),
        ("resume", "RESUME_COMPLETE"),
        ("check", "CHECK_COMPLETE"),
    ] {
        let reply = h
            .json("POST", &format!("{path}/actions"), &json!({action: null}))
            .await;
        assert_eq!((reply.status, &reply.body), (200, &Value::Null), "{action}");
        h.settle().await;
        assert_eq!(state_of(&h, &path).await, state, "{action}");
    }
    // Lookup by name keeps sub-paths and query strings.
    let reply = h
        .send(
            "POST",
            "/v1/p/stacks/web/actions?x=1",
            Some("{}".into()),
            &[],
        )
        .await;
    assert_eq!(reply.status, 302);
    assert!(reply.header("location").unwrap().ends_with("/actions?x=1"));
}

#[tokio::test(start_paused = true)]
async fn a_signal_clears_a_hook() {
    let h = Harness::new();
    let body = json!({
        "stack_name": "hooked",
        "template": random_template(),
        "environment": {"resource_registry": {"resources": {"rs": {"hooks": "pre-create"}}}}
    });
    let reply = h.json("POST", "/v1/p/stacks", &body).await;
    assert_eq!(reply.status, 201);
    let id = reply.body["stack"]["id"].as_str().unwrap();
    let path = format!("/v1/p/stacks/hooked/{id}");
    let_run().await;
    let events = h.get(&format!("{path}/resources/rs/events")).await;
    assert!(
        events.body["events"][0]["resource_status_reason"]
            .as_str()
            .unwrap()
            .contains("pre-create"),
        "{:#}",
        events.body
    );
    assert_eq!(state_of(&h, &path).await, "CREATE_IN_PROGRESS");
    let environment = h.get(&format!("{path}/environment")).await;
    assert_eq!(
        environment.body["resource_registry"]["resources"]["rs"]["hooks"],
        "pre-create"
    );
    let reply = h
        .json(
            "POST",
            &format!("{path}/resources/rs/signal"),
            &json!({"unset_hook": "pre-create"}),
        )
        .await;
    assert_eq!((reply.status, &reply.body), (200, &Value::Null));
    h.settle().await;
    assert_eq!(state_of(&h, &path).await, "CREATE_COMPLETE");
}

#[tokio::test(start_paused = true)]
async fn software_configs_and_deployments_are_stored_per_project() {
    let h = Harness::new();
    let created = h
        .json(
            "POST",
            "/v1/p/software_configs",
            &json!({"name": "cfg", "group": "script", "config": "#!/bin/sh\necho hi",
                    "inputs": [{"name": "foo"}], "outputs": [], "options": {}}),
        )
        .await;
    assert_eq!(created.status, 200, "{:#}", created.body);
    let config = &created.body["software_config"];
    let config_id = config["id"].as_str().unwrap().to_string();
    assert_eq!(config["group"], "script");
    assert_eq!(config["inputs"], json!([{"name": "foo"}]));
    let listed = h.get("/v1/p/software_configs").await;
    assert_eq!(listed.body["software_configs"][0]["id"], json!(config_id));
    assert!(
        listed.body["software_configs"][0].get("config").is_none(),
        "summary"
    );
    assert_eq!(
        h.get(&format!("/v1/q/software_configs/{config_id}"))
            .await
            .status,
        404
    );
    let ungrouped = h
        .json("POST", "/v1/p/software_configs", &json!({"name": "x"}))
        .await;
    assert_eq!(
        ungrouped.body["software_config"]["group"],
        "Heat::Ungrouped"
    );

    let unknown = h
        .json(
            "POST",
            "/v1/p/software_deployments",
            &json!({"config_id": "nope", "server_id": "srv"}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let deployed = h
        .json(
            "POST",
            "/v1/p/software_deployments",
            &json!({"config_id": config_id, "server_id": "srv", "input_values": {"foo": 1}}),
        )
        .await;
    assert_eq!(deployed.status, 200, "{:#}", deployed.body);
    let deployment = &deployed.body["software_deployment"];
    let deployment_id = deployment["id"].as_str().unwrap().to_string();
    assert_eq!(
        (deployment["action"].as_str(), deployment["status"].as_str()),
        (Some("INIT"), Some("COMPLETE"))
    );
    let by_server = h.get("/v1/p/software_deployments?server_id=srv").await;
    assert_eq!(
        by_server.body["software_deployments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        h.get("/v1/p/software_deployments?server_id=other")
            .await
            .body["software_deployments"],
        json!([])
    );
    let metadata = h.get("/v1/p/software_deployments/metadata/srv").await;
    assert_eq!(metadata.body["metadata"][0]["config"], "#!/bin/sh\necho hi");
    let updated = h
        .json(
            "PUT",
            &format!("/v1/p/software_deployments/{deployment_id}"),
            &json!({"status": "FAILED", "status_reason": "boom", "output_values": {"deploy_status_code": 1}}),
        )
        .await;
    assert_eq!(updated.body["software_deployment"]["status"], "FAILED");
    assert!(updated.body["software_deployment"]["updated_time"].is_string());
    let shown = h
        .get(&format!("/v1/p/software_deployments/{deployment_id}"))
        .await;
    assert_eq!(
        shown.body["software_deployment"]["output_values"]["deploy_status_code"],
        1
    );
    assert_eq!(
        h.send(
            "DELETE",
            &format!("/v1/q/software_deployments/{deployment_id}"),
            None,
            &[]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        h.send(
            "DELETE",
            &format!("/v1/p/software_deployments/{deployment_id}"),
            None,
            &[]
        )
        .await
        .status,
        204
    );
    assert_eq!(
        h.send(
            "DELETE",
            &format!("/v1/p/software_configs/{config_id}"),
            None,
            &[]
        )
        .await
        .status,
        204
    );
    assert_eq!(
        h.get(&format!("/v1/p/software_configs/{config_id}"))
            .await
            .status,
        404
    );
}

#[tokio::test(start_paused = true)]
async fn resources_events_and_outputs_in_detail() {
    let h = Harness::new();
    let path = h.create("p", "web", &random_template()).await;
    let shown = h
        .get(&format!(
            "{path}/resources/rs?with_attr=show&with_attr=value"
        ))
        .await;
    let attributes = shown.body["resource"]["attributes"].as_object().unwrap();
    assert!(attributes["value"].is_string());
    assert!(attributes.contains_key("show"));
    let by_type = h
        .get(&format!("{path}/resources?type=OS::Heat::None"))
        .await;
    assert_eq!(by_type.body["resources"], json!([]));
    let by_type = h
        .get(&format!(
            "{path}/resources?type=OS::Heat::RandomString&status=COMPLETE"
        ))
        .await;
    assert_eq!(by_type.body["resources"].as_array().unwrap().len(), 1);
    let no_outputs = h.get(&format!("{path}?resolve_outputs=false")).await;
    assert!(no_outputs.body["stack"].get("outputs").is_none());

    let events = h
        .get(&format!(
            "{path}/events?resource_action=CREATE&resource_status=COMPLETE&sort_dir=asc"
        ))
        .await;
    let list = events.body["events"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_eq!(list[0]["resource_name"], "rs");
    assert_eq!(list[1]["resource_name"], "web");
    let stack_event = list[1]["id"].as_str().unwrap();
    let shown = h
        .get(&format!("{path}/resources/web/events/{stack_event}"))
        .await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["event"]["resource_type"], "OS::Heat::Stack");
    assert_eq!(shown.body["event"]["resource_properties"], json!({}));
    let wrong_resource = h
        .get(&format!("{path}/resources/rs/events/{stack_event}"))
        .await;
    assert_eq!(wrong_resource.status, 404);

    let reply = h.get("/v1/p/stacks/web/events?limit=1").await;
    assert_eq!(reply.status, 302);
    assert!(
        reply
            .header("location")
            .unwrap()
            .ends_with("/events?limit=1")
    );
    let id = path.rsplit('/').next().unwrap();
    let arn = format!("/v1/p/stacks/arn:openstack:heat::p:stacks/web/{id}/resources?x=1");
    let reply = h.get(&arn).await;
    assert_eq!(reply.status, 302, "{:#}", reply.body);
    assert!(
        reply
            .header("location")
            .unwrap()
            .ends_with(&format!("{path}/resources?x=1"))
    );
    let other = h
        .get(&format!(
            "/v1/p/stacks/arn:openstack:heat::q:stacks/web/{id}"
        ))
        .await;
    assert_eq!(other.status, 404);
}

#[tokio::test(start_paused = true)]
async fn environments_files_and_parameters_are_stored_and_shown() {
    let h = Harness::new();
    let template = json!({
        "heat_template_version": "2018-08-31",
        "parameters": {
            "len": {"type": "number"},
            "secret": {"type": "string", "hidden": true},
            "names": {"type": "comma_delimited_list"}
        },
        "resources": {"rs": {"type": "OS::Heat::RandomString", "properties": {"length": {"get_param": "len"}}}}
    });
    let body = json!({
        "stack_name": "envs",
        "template": template,
        "files": {"env.yaml": "parameters:\n  len: 10\n", "other.txt": "hello"},
        "environment": {"parameter_defaults": {"secret": "s3cret"}},
        "environment_files": ["env.yaml"],
        "parameters": {"names": ["a", "b"]}
    });
    let reply = h.json("POST", "/v1/p/stacks", &body).await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
    h.settle().await;
    let id = reply.body["stack"]["id"].as_str().unwrap();
    let path = format!("/v1/p/stacks/envs/{id}");
    let shown = h.get(&path).await;
    assert_eq!(shown.body["stack"]["stack_status"], "CREATE_COMPLETE");
    let parameters = &shown.body["stack"]["parameters"];
    assert_eq!(parameters["len"], "10");
    assert_eq!(parameters["names"], "a,b");
    assert_eq!(parameters["secret"], "******");
    let environment = h.get(&format!("{path}/environment")).await;
    assert_eq!(environment.body["parameters"]["len"], 10);
    assert_eq!(environment.body["parameter_defaults"]["secret"], "******");
    assert!(!environment.body.to_string().contains("s3cret"));
    let files = h.get(&format!("{path}/files")).await;
    assert_eq!(files.body["other.txt"], "hello");

    // PATCH keeps the stored values and lays new ones over them.
    let reply = h
        .json("PATCH", &path, &json!({"parameters": {"len": 12}}))
        .await;
    assert_eq!(reply.status, 202);
    h.settle().await;
    let shown = h.get(&path).await;
    assert_eq!(shown.body["stack"]["stack_status"], "UPDATE_COMPLETE");
    assert_eq!(shown.body["stack"]["parameters"]["len"], "12");
    assert_eq!(shown.body["stack"]["parameters"]["names"], "a,b");

    let preview = h
        .json(
            "PATCH",
            &format!("{path}/preview"),
            &json!({"parameters": {"len": 14}}),
        )
        .await;
    assert_eq!(preview.status, 200, "{:#}", preview.body);
    let changes = &preview.body["resource_changes"];
    assert_eq!(changes["replaced"][0]["resource_name"], "rs");
    for key in ["unchanged", "updated", "added", "deleted"] {
        assert_eq!(changes[key], json!([]), "{key}");
    }
}

#[tokio::test(start_paused = true)]
async fn validation_reports_every_error_with_its_position() {
    let h = Harness::new();
    let template = "heat_template_version: 2018-08-31\nresources:\n  a:\n    type: OS::Nope\n  b:\n    type: OS::Heat::None\n    depends_on: ghost\n";
    let reply = h
        .json("POST", "/v1/p/validate", &json!({"template": template}))
        .await;
    assert_eq!(reply.status, 400);
    let message = reply.fault().1.to_string();
    let lines: Vec<&str> = message
        .lines()
        .filter(|l| l.starts_with("template:"))
        .collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("template:4:") && l.contains("OS::Nope")),
        "{message}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("template:7:") && l.contains("ghost")),
        "{message}"
    );

    let grouped = json!({
        "heat_template_version": "2018-08-31",
        "parameter_groups": [{"label": "sizes", "parameters": ["len"]}],
        "parameters": {"len": {"type": "number", "label": "Length",
                               "constraints": [{"allowed_values": [1, 2]}]}},
        "resources": {}
    });
    let reply = h
        .json(
            "POST",
            "/v1/p/validate",
            &json!({"template": grouped, "environment": {"parameters": {"len": 2}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    assert_eq!(
        reply.body["ParameterGroups"],
        json!([{"label": "sizes", "parameters": ["len"]}])
    );
    assert_eq!(reply.body["Parameters"]["len"]["Label"], "Length");
    assert_eq!(
        reply.body["Parameters"]["len"]["AllowedValues"],
        json!([1, 2])
    );
    assert_eq!(reply.body["Environment"]["parameters"]["len"], 2);
    let reply = h
        .json(
            "POST",
            "/v1/p/validate",
            &json!({"template": grouped, "parameters": {"len": 3}}),
        )
        .await;
    assert_eq!(reply.status, 400, "a value breaking a constraint");
}

#[tokio::test(start_paused = true)]
async fn resource_types_can_be_filtered_and_wrapped_in_templates() {
    let h = Harness::new();
    let all = h.get("/v1/p/resource_types").await;
    let names: Vec<&str> = all.body["resource_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(names.contains(&"OS::Heat::RandomString"));
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    let filtered = h
        .get("/v1/p/resource_types?name=Random&with_description=true")
        .await;
    let list = filtered.body["resource_types"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["resource_type"], "OS::Heat::RandomString");
    assert!(
        list[0]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    let none = h
        .get("/v1/p/resource_types?support_status=DEPRECATED")
        .await;
    assert_eq!(none.body["resource_types"], json!([]));
    let cfn = h
        .get("/v1/p/resource_types/OS::Heat::RandomString/template")
        .await;
    assert_eq!(cfn.body["HeatTemplateFormatVersion"], "2012-12-12");
    assert_eq!(
        cfn.body["Resources"]["RandomString"]["Properties"]["length"],
        json!({"Ref": "length"})
    );
    assert_eq!(
        cfn.body["Outputs"]["value"]["Value"],
        json!({"Fn::GetAtt": ["RandomString", "value"]})
    );
    let schema = h
        .get("/v1/p/resource_types/OS::Heat::RandomString?with_description=true")
        .await;
    assert!(schema.body["description"].is_string());
    let functions = h
        .get("/v1/p/template_versions/heat_template_version.2018-08-31/functions?with_condition_func=true")
        .await;
    assert!(
        functions.body["template_functions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["functions"] == "not")
    );
}

/// An authenticator that fails the way it is told to.
struct Refusing(AuthError);

#[async_trait]
impl Authenticator for Refusing {
    async fn authenticate(&self, _: &HeaderMap, _: &str) -> Result<RequestContext, AuthError> {
        Err(self.0.clone())
    }
}

#[tokio::test(start_paused = true)]
async fn authentication_failures_are_faults() {
    let cases = [
        (AuthError::Missing, 401),
        (AuthError::Invalid("expired".into()), 401),
        (
            AuthError::WrongProject {
                token_project: "a".into(),
                url_project: "b".into(),
            },
            404,
        ),
        (AuthError::Unavailable("keystone is down".into()), 503),
    ];
    for (error, status) in cases {
        let h = Harness::with(
            EngineOptions::default(),
            Arc::new(Refusing(error.clone())),
            ApiSettings::default(),
        );
        for uri in [
            "/v1/b/stacks",
            "/v1/b/stacks/arn:openstack:heat::b:stacks/x/y",
        ] {
            let reply = h.get(uri).await;
            assert_eq!(reply.status, status, "{error:?} {uri}");
            assert_eq!(reply.body["code"], json!(status), "a fault");
        }
        assert_eq!(
            h.get("/").await.status,
            300,
            "version discovery needs no token"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_delete_supersedes_the_operation_in_progress() {
    let h = Harness::new();
    let reply = h
        .json(
            "POST",
            "/v1/p/stacks",
            &json!({"stack_name": "stuck", "template": {
                "heat_template_version": "2018-08-31",
                "resources": {
                    "handle": {"type": "OS::Heat::WaitConditionHandle"},
                    "waiter": {"type": "OS::Heat::WaitCondition",
                               "properties": {"handle": {"get_resource": "handle"},
                                              "timeout": 3600}}}}}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let id = reply.body["stack"]["id"].as_str().unwrap();
    let path = format!("/v1/p/stacks/stuck/{id}");
    let_run().await;
    assert_eq!(state_of(&h, &path).await, "CREATE_IN_PROGRESS");
    let deleted = h.send("DELETE", &path, None, &[]).await;
    assert_eq!(deleted.status, 204);
    h.settle().await;
    let listed = h.get("/v1/p/stacks?show_deleted=true").await;
    let stacks = listed.body["stacks"].as_array().unwrap();
    assert_eq!(stacks.len(), 1);
    assert_eq!(stacks[0]["stack_status"], "DELETE_COMPLETE", "{listed:?}");
}
