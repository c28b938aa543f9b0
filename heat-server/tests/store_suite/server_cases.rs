//! The server-facing cases: stack listing (filters, tags, sorting, paging, counting),
//! software configs and deployments, service records.

use std::time::Duration;

use heat_core::engine::store::{StackRecord, StoreError};
use heat_core::engine::{Action, State, Status};
use heat_server::store::{
    ServerStore, ServiceRecord, SoftwareConfig, SoftwareDeployment, StackQuery,
};
use serde_json::json;

use super::harness::Database;
use super::records::*;

/// A software config of a project, created at `secs`.
pub fn config(id: &str, project: &str, secs: u64) -> SoftwareConfig {
    SoftwareConfig {
        id: id.into(),
        project: project.into(),
        name: format!("config {id}"),
        group: "script".into(),
        config: "#!/bin/sh\necho \"$foo\"\n".into(),
        inputs: json!([{"name": "foo", "type": "String", "default": null}]),
        outputs: json!([{"name": "result", "error_output": false}]),
        options: json!({"z": 1, "a": {"b": [true]}}),
        created_at: Duration::new(secs, 250),
    }
}

/// A software deployment of a project, created at `secs`.
pub fn deployment(
    id: &str,
    project: &str,
    config_id: &str,
    server: &str,
    secs: u64,
) -> SoftwareDeployment {
    SoftwareDeployment {
        id: id.into(),
        project: project.into(),
        config_id: config_id.into(),
        server_id: server.into(),
        input_values: json!({"foo": "bar"}),
        output_values: json!({}),
        action: "CREATE".into(),
        status: "IN_PROGRESS".into(),
        status_reason: "Deploy data available".into(),
        stack_user_project_id: None,
        created_at: Duration::new(secs, 0),
        updated_at: None,
    }
}

/// An engine's service record, started at `secs`.
pub fn service(id: &str, secs: u64) -> ServiceRecord {
    ServiceRecord {
        id: id.into(),
        host: "host-1".into(),
        binary: "heat-engine".into(),
        topic: "engine".into(),
        report_interval: 60,
        created_at: Duration::new(secs, 0),
        updated_at: Duration::new(secs, 0),
    }
}

/// A stack of the listing fixtures.
fn listed(
    id: &str,
    project: &str,
    name: &str,
    state: State,
    created: u64,
    updated: u64,
    tags: &[&str],
) -> StackRecord {
    let mut s = stack(id, name);
    s.project = project.into();
    s.user = format!("user-of-{name}");
    s.state = state;
    s.created_at = Duration::from_secs(created);
    s.updated_at = Duration::from_secs(updated);
    s.tags = tags.iter().map(|t| t.to_string()).collect();
    s
}

const CREATE_COMPLETE: State = State::new(Action::Create, Status::Complete);
const CREATE_FAILED: State = State::new(Action::Create, Status::Failed);
const UPDATE_COMPLETE: State = State::new(Action::Update, Status::Complete);
const DELETE_COMPLETE: State = State::new(Action::Delete, Status::Complete);

/// p1: alpha, beta, gamma (live, top level), Delta (deleted), nested (alpha's child),
/// tie1/tie2 added by the tie case; p2: alpha.
async fn listing_fixture(store: &dyn ServerStore) {
    let mut delta = listed("id-d", "p1", "Delta", DELETE_COMPLETE, 4, 4, &["a"]);
    delta.deleted = true;
    delta.deleted_at = Some(Duration::from_secs(8));
    let mut nested = listed("id-n", "p1", "nested", CREATE_COMPLETE, 5, 5, &[]);
    nested.parent = Some("id-a".into());
    store
        .apply(vec![
            put_stack(listed(
                "id-a",
                "p1",
                "alpha",
                CREATE_COMPLETE,
                1,
                30,
                &["a", "b"],
            )),
            put_stack(listed("id-b", "p1", "beta", CREATE_FAILED, 2, 20, &["b"])),
            put_stack(listed(
                "id-g",
                "p1",
                "gamma",
                UPDATE_COMPLETE,
                3,
                10,
                &["c"],
            )),
            put_stack(delta),
            put_stack(nested),
            put_stack(listed("id-x", "p2", "alpha", CREATE_COMPLETE, 6, 6, &["a"])),
        ])
        .await
        .unwrap();
}

fn p1() -> StackQuery {
    StackQuery {
        project: Some("p1".into()),
        ..StackQuery::default()
    }
}

async fn names(store: &dyn ServerStore, query: &StackQuery) -> Vec<String> {
    let listed = store.list_stacks(query).await.unwrap();
    let count = store.count_stacks(query).await.unwrap();
    if query.marker.is_none() && query.limit.is_none() {
        assert_eq!(
            count,
            listed.len() as u64,
            "count agrees with the listing: {query:?}"
        );
    }
    listed.into_iter().map(|s| s.name).collect()
}

/// Filters, deleted and nested stacks, projects.
pub async fn listing_filters(db: &dyn Database) {
    let store = db.open().await;
    let store = &*store;
    listing_fixture(store).await;
    assert_eq!(names(store, &p1()).await, ["alpha", "beta", "gamma"]);
    let q = StackQuery {
        show_deleted: true,
        ..p1()
    };
    assert_eq!(names(store, &q).await, ["alpha", "beta", "gamma", "Delta"]);
    let q = StackQuery {
        show_nested: true,
        ..p1()
    };
    assert_eq!(names(store, &q).await, ["alpha", "beta", "gamma", "nested"]);
    let q = StackQuery::default();
    assert_eq!(names(store, &q).await, ["alpha", "beta", "gamma", "alpha"]);

    let filter = |field: &str, values: &[&str]| StackQuery {
        filters: vec![(
            field.to_string(),
            values.iter().map(|v| v.to_string()).collect(),
        )],
        ..p1()
    };
    assert_eq!(
        names(store, &filter("name", &["gamma", "alpha"])).await,
        ["alpha", "gamma"]
    );
    assert_eq!(names(store, &filter("id", &["id-b"])).await, ["beta"]);
    assert_eq!(
        names(store, &filter("status", &["COMPLETE"])).await,
        ["alpha", "gamma"]
    );
    assert_eq!(
        names(store, &filter("status", &["CREATE_COMPLETE"])).await,
        ["alpha"]
    );
    assert_eq!(
        names(store, &filter("status", &["FAILED", "UPDATE_COMPLETE"])).await,
        ["beta", "gamma"]
    );
    assert_eq!(
        names(store, &filter("action", &["UPDATE"])).await,
        ["gamma"]
    );
    assert_eq!(
        names(store, &filter("username", &["user-of-beta"])).await,
        ["beta"]
    );
    assert!(names(store, &filter("name", &[])).await.is_empty());
    // Unknown filter fields are ignored (as Heat's API ignores them).
    assert_eq!(
        names(store, &filter("colour", &["red"])).await,
        ["alpha", "beta", "gamma"]
    );
    let q = StackQuery {
        show_nested: true,
        ..filter("owner_id", &["id-a"])
    };
    assert_eq!(names(store, &q).await, ["nested"]);
    let q = StackQuery {
        project: None,
        ..filter("tenant", &["p2"])
    };
    assert_eq!(names(store, &q).await, ["alpha"]);
    // Several filters: all must match.
    let q = StackQuery {
        filters: vec![
            ("status".into(), vec!["COMPLETE".into()]),
            ("name".into(), vec!["gamma".into(), "beta".into()]),
        ],
        ..p1()
    };
    assert_eq!(names(store, &q).await, ["gamma"]);
}

/// `tags`, `tags_any`, `not_tags`, `not_tags_any`.
pub async fn listing_tags(db: &dyn Database) {
    let store = db.open().await;
    let store = &*store;
    listing_fixture(store).await;
    let tags = |all: &[&str], any: &[&str], not_all: &[&str], not_any: &[&str]| StackQuery {
        tags: all.iter().map(|t| t.to_string()).collect(),
        tags_any: any.iter().map(|t| t.to_string()).collect(),
        not_tags: not_all.iter().map(|t| t.to_string()).collect(),
        not_tags_any: not_any.iter().map(|t| t.to_string()).collect(),
        ..p1()
    };
    assert_eq!(
        names(store, &tags(&["a", "b"], &[], &[], &[])).await,
        ["alpha"]
    );
    assert_eq!(
        names(store, &tags(&["b"], &[], &[], &[])).await,
        ["alpha", "beta"]
    );
    assert_eq!(
        names(store, &tags(&["b", "b"], &[], &[], &[])).await,
        ["alpha", "beta"]
    );
    assert!(
        names(store, &tags(&["a", "c"], &[], &[], &[]))
            .await
            .is_empty()
    );
    assert_eq!(
        names(store, &tags(&[], &["a", "c"], &[], &[])).await,
        ["alpha", "gamma"]
    );
    assert_eq!(
        names(store, &tags(&[], &[], &["a", "b"], &[])).await,
        ["beta", "gamma"]
    );
    assert_eq!(names(store, &tags(&[], &[], &[], &["b"])).await, ["gamma"]);
    assert_eq!(
        names(store, &tags(&["b"], &[], &[], &["a"])).await,
        ["beta"]
    );
    assert_eq!(
        names(store, &tags(&[], &["b", "c"], &["b"], &[])).await,
        ["gamma"]
    );
    // Tags change with the stack.
    let mut gamma = store.stack("id-g").await.unwrap().unwrap();
    gamma.tags = vec!["b".into()];
    store.apply(vec![put_stack(gamma)]).await.unwrap();
    assert_eq!(
        names(store, &tags(&["b"], &[], &[], &[])).await,
        ["alpha", "beta", "gamma"]
    );
    assert!(names(store, &tags(&[], &["c"], &[], &[])).await.is_empty());
}

/// Sort keys and direction.
pub async fn listing_sorts(db: &dyn Database) {
    let store = db.open().await;
    let store = &*store;
    listing_fixture(store).await;
    let sorted = |keys: &[&str], descending: bool| StackQuery {
        sort_keys: keys.iter().map(|k| k.to_string()).collect(),
        descending,
        show_deleted: true,
        ..p1()
    };
    assert_eq!(
        names(store, &sorted(&[], false)).await,
        ["alpha", "beta", "gamma", "Delta"]
    );
    assert_eq!(
        names(store, &sorted(&[], true)).await,
        ["Delta", "gamma", "beta", "alpha"]
    );
    // Byte order: upper case before lower case, on every database.
    assert_eq!(
        names(store, &sorted(&["stack_name"], false)).await,
        ["Delta", "alpha", "beta", "gamma"]
    );
    assert_eq!(
        names(store, &sorted(&["updated_time"], false)).await,
        ["Delta", "gamma", "beta", "alpha"]
    );
    assert_eq!(
        names(store, &sorted(&["creation_time"], true)).await,
        ["Delta", "gamma", "beta", "alpha"]
    );
    // Status, then name.
    assert_eq!(
        names(store, &sorted(&["stack_status", "stack_name"], false)).await,
        ["Delta", "alpha", "gamma", "beta"]
    );
    assert_eq!(
        names(store, &sorted(&["stack_status", "stack_name"], true)).await,
        ["beta", "gamma", "alpha", "Delta"]
    );
    // Unknown sort keys are ignored.
    assert_eq!(
        names(store, &sorted(&["colour", "stack_name"], false)).await,
        ["Delta", "alpha", "beta", "gamma"]
    );
}

/// Marker paging and limits, including ties on the sort key.
pub async fn listing_pages(db: &dyn Database) {
    let store = db.open().await;
    let store = &*store;
    listing_fixture(store).await;
    // Two more stacks created at the same time as beta: ties broken by id.
    store
        .apply(vec![
            put_stack(listed("id-t2", "p1", "tie2", CREATE_COMPLETE, 2, 2, &[])),
            put_stack(listed("id-t1", "p1", "tie1", CREATE_COMPLETE, 2, 2, &[])),
        ])
        .await
        .unwrap();
    let page = |marker: Option<&str>, limit: Option<u64>, descending: bool| StackQuery {
        marker: marker.map(str::to_string),
        limit,
        descending,
        ..p1()
    };
    assert_eq!(
        names(store, &page(None, None, false)).await,
        ["alpha", "beta", "tie1", "tie2", "gamma"]
    );
    assert_eq!(
        names(store, &page(None, Some(2), false)).await,
        ["alpha", "beta"]
    );
    assert_eq!(
        names(store, &page(Some("id-b"), Some(2), false)).await,
        ["tie1", "tie2"]
    );
    assert_eq!(
        names(store, &page(Some("id-t2"), None, false)).await,
        ["gamma"]
    );
    assert!(
        names(store, &page(Some("id-g"), None, false))
            .await
            .is_empty()
    );
    assert_eq!(
        names(store, &page(Some("id-t1"), None, true)).await,
        ["beta", "alpha"]
    );
    assert!(names(store, &page(None, Some(0), false)).await.is_empty());
    // The count ignores marker and limit.
    assert_eq!(
        store
            .count_stacks(&page(Some("id-b"), Some(1), false))
            .await
            .unwrap(),
        5
    );

    // Walking page by page gives the whole listing, for several orders.
    for (keys, descending) in [
        (vec![], false),
        (vec![], true),
        (vec!["stack_name"], true),
        (vec!["stack_status", "creation_time"], false),
        (vec!["updated_time"], true),
    ] {
        let base = StackQuery {
            sort_keys: keys.iter().map(|k| k.to_string()).collect(),
            descending,
            show_deleted: true,
            show_nested: true,
            ..p1()
        };
        let whole: Vec<String> = store
            .list_stacks(&base)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(whole.len(), 7);
        let mut walked = Vec::new();
        let mut marker = None;
        loop {
            let q = StackQuery {
                marker: marker.clone(),
                limit: Some(2),
                ..base.clone()
            };
            let got = store.list_stacks(&q).await.unwrap();
            if got.is_empty() {
                break;
            }
            marker = got.last().map(|s| s.id.clone());
            walked.extend(got.into_iter().map(|s| s.id));
        }
        assert_eq!(walked, whole, "{keys:?} descending={descending}");
    }

    // A marker that is not a stack of the listing.
    for marker in ["no-such-stack", "id-d", "id-n", "id-x"] {
        let err = store
            .list_stacks(&page(Some(marker), Some(1), false))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Missing(_)), "{marker}: {err:?}");
    }
    // With show_deleted, the deleted stack is a valid marker.
    let q = StackQuery {
        show_deleted: true,
        ..page(Some("id-d"), None, false)
    };
    assert!(names(store, &q).await.is_empty());
}

/// Software configs: immutable, per project, newest first, paged; deployments: replaced by
/// id, per server, oldest first; service records.
pub async fn software_configs_deployments_and_services(db: &dyn Database) {
    let store = db.open().await;
    let c1 = config("c1", "p1", 1);
    let c2 = config("c2", "p1", 2);
    let c3 = config("c3", "p1", 3);
    let other = config("c9", "p2", 4);
    for c in [&c1, &c2, &c3, &other] {
        store.put_software_config(c).await.unwrap();
    }
    assert!(
        store.put_software_config(&c1).await.is_err(),
        "an id is used once"
    );
    assert_eq!(
        store.software_config("p1", "c2").await.unwrap(),
        Some(c2.clone())
    );
    assert_eq!(store.software_config("p2", "c2").await.unwrap(), None);
    let ids = |configs: Vec<SoftwareConfig>| configs.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.software_configs("p1", None, None).await.unwrap()),
        ["c3", "c2", "c1"]
    );
    assert_eq!(
        ids(store.software_configs("p1", None, Some(2)).await.unwrap()),
        ["c3", "c2"]
    );
    assert_eq!(
        ids(store
            .software_configs("p1", Some("c3"), Some(1))
            .await
            .unwrap()),
        ["c2"]
    );
    assert_eq!(
        ids(store
            .software_configs("p1", Some("c2"), None)
            .await
            .unwrap()),
        ["c1"]
    );
    assert!(matches!(
        store.software_configs("p1", Some("c9"), None).await,
        Err(StoreError::Missing(_))
    ));
    assert!(store.delete_software_config("p1", "c2").await.unwrap());
    assert!(!store.delete_software_config("p1", "c2").await.unwrap());
    assert!(!store.delete_software_config("p1", "c9").await.unwrap());
    assert_eq!(
        ids(store.software_configs("p1", None, None).await.unwrap()),
        ["c3", "c1"]
    );

    let d1 = deployment("d1", "p1", "c1", "server-a", 10);
    let d2 = deployment("d2", "p1", "c3", "server-b", 11);
    let d3 = deployment("d3", "p1", "c3", "server-a", 12);
    let d9 = deployment("d9", "p2", "c9", "server-a", 13);
    for d in [&d3, &d1, &d2, &d9] {
        store.put_software_deployment(d).await.unwrap();
    }
    let ids = |ds: Vec<SoftwareDeployment>| ds.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.software_deployments("p1", None).await.unwrap()),
        ["d1", "d2", "d3"]
    );
    assert_eq!(
        ids(store
            .software_deployments("p1", Some("server-a"))
            .await
            .unwrap()),
        ["d1", "d3"]
    );
    let mut done = d1.clone();
    done.status = "COMPLETE".into();
    done.status_reason = "Outputs received".into();
    done.output_values = json!({"result": "ok", "deploy_status_code": 0});
    done.stack_user_project_id = Some("sup".into());
    done.updated_at = Some(Duration::new(20, 7));
    store.put_software_deployment(&done).await.unwrap();
    assert_eq!(
        store.software_deployment("p1", "d1").await.unwrap(),
        Some(done)
    );
    assert_eq!(store.software_deployment("p2", "d1").await.unwrap(), None);
    assert!(store.delete_software_deployment("p1", "d2").await.unwrap());
    assert!(!store.delete_software_deployment("p1", "d2").await.unwrap());
    assert_eq!(
        ids(store.software_deployments("p1", None).await.unwrap()),
        ["d1", "d3"]
    );

    let e1 = service("engine-1", 100);
    let e2 = service("engine-2", 101);
    store.put_service(&e2).await.unwrap();
    store.put_service(&e1).await.unwrap();
    let mut refreshed = e1.clone();
    refreshed.updated_at = Duration::new(160, 0);
    store.put_service(&refreshed).await.unwrap();
    assert_eq!(store.services().await.unwrap(), vec![refreshed, e2]);
}
