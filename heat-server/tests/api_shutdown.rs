//! Graceful shutdown and resume: an engine stopped in the middle of a stack operation
//! leaves the stack `*_IN_PROGRESS` with what it did recorded; the next engine on the same
//! store finishes the work without creating anything twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;

use std::sync::Arc;
use std::time::Duration;

use api_support::Harness;
use heat_server::api::ApiSettings;
use heat_server::auth::NoAuth;
use heat_server::engine_api::EngineOptions;
use heat_server::store::memory::MemoryServerStore;
use serde_json::{Value, json};

fn template() -> Value {
    json!({
        "heat_template_version": "2018-08-31",
        "resources": {
            "rs": {"type": "OS::Heat::RandomString"},
            "slow": {"type": "OS::Heat::TestResource", "properties": {
                "value": {"get_attr": ["rs", "value"]},
                "action_wait_secs": {"create": 300}
            }},
            "after": {"type": "OS::Heat::None", "depends_on": "slow"}
        },
        "outputs": {"value": {"value": {"get_attr": ["slow", "output"]}}}
    })
}

fn on(store: &Arc<MemoryServerStore>) -> Harness {
    Harness::on_store(
        Arc::clone(store),
        EngineOptions::default(),
        Arc::new(NoAuth),
        ApiSettings::default(),
    )
}

async fn physical_ids(h: &Harness, path: &str) -> Vec<(String, String)> {
    let reply = h.get(&format!("{path}/resources")).await;
    let mut ids: Vec<(String, String)> = reply.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["resource_name"].as_str().unwrap().to_string(),
                r["physical_resource_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ids.sort();
    ids
}

#[tokio::test(start_paused = true)]
async fn a_stopped_engine_leaves_work_in_progress_and_the_next_one_finishes_it() {
    let store = Arc::new(MemoryServerStore::new(None));
    let first = on(&store);
    let reply = first
        .json(
            "POST",
            "/v1/p/stacks",
            &json!({"stack_name": "long", "template": template()}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let id = reply.body["stack"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/p/stacks/long/{id}");
    // Let the create get as far as the slow resource's wait.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(first.engine.running(), 1);

    let stopped = first.engine.shutdown(Duration::from_secs(60)).await;
    assert!(stopped.settled, "every provider call in flight settled");
    assert_eq!(stopped.stopped, 1);
    assert_eq!(first.engine.running(), 0);
    // Nothing moves any more.
    tokio::time::sleep(Duration::from_secs(600)).await;

    // The next process: same store, a new engine (the stopped one's provider calls are
    // held for good, so everything is read through the new one).
    let second = on(&store);
    let shown = second.get(&path).await;
    assert_eq!(shown.body["stack"]["stack_status"], "CREATE_IN_PROGRESS");
    let before = physical_ids(&second, &path).await;
    let rs = before.iter().find(|(n, _)| n == "rs").unwrap();
    assert!(
        !rs.1.is_empty(),
        "rs was created before the stop: {before:?}"
    );
    let slow = before.iter().find(|(n, _)| n == "slow").unwrap();
    assert!(
        !slow.1.is_empty(),
        "slow's create call was made: {before:?}"
    );
    assert_eq!(second.engine.resume_interrupted().await.unwrap(), 1);
    second.settle().await;
    let shown = second.get(&path).await;
    assert_eq!(shown.body["stack"]["stack_status"], "CREATE_COMPLETE");
    let after = physical_ids(&second, &path).await;
    for (name, id) in &before {
        if !id.is_empty() {
            assert!(
                after.contains(&(name.clone(), id.clone())),
                "{name} kept its physical id {id}: {after:?}"
            );
        }
    }
    let creates = second
        .get(&format!(
            "{path}/resources/rs/events?resource_status=CREATE_COMPLETE"
        ))
        .await;
    assert_eq!(
        creates.body["events"].as_array().unwrap().len(),
        1,
        "rs was created once"
    );
    let output = second.get(&format!("{path}/outputs/value")).await;
    assert!(output.body["output"]["output_value"].is_string());
}

#[tokio::test(start_paused = true)]
async fn an_idle_engine_stops_at_once_and_nothing_is_resumed() {
    let store = Arc::new(MemoryServerStore::new(None));
    let first = on(&store);
    first
        .create(
            "p",
            "quick",
            &json!({
                "heat_template_version": "2018-08-31",
                "resources": {"n": {"type": "OS::Heat::None"}}
            }),
        )
        .await;
    let stopped = first.engine.shutdown(Duration::from_secs(60)).await;
    assert!(stopped.settled);
    assert_eq!(stopped.stopped, 0);
    let second = on(&store);
    assert_eq!(second.engine.resume_interrupted().await.unwrap(), 0);
}
