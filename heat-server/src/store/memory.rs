//! [`MemoryServerStore`]: heat-core's [`MemoryStore`] plus the server's own tables, in
//! memory. Nothing survives the process (`--database-url memory://`); it is what the API
//! tests run on, and [`select_stacks`] is the reference semantics of [`StackQuery`] that
//! the SQL stores must agree with.

use std::cmp::Ordering;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use heat_core::engine::store::{
    Change, EventRecord, MemoryStore, ResourceRecord, SnapshotRecord, StackRecord, Store,
    StoreError,
};

use super::{ServerStore, ServiceRecord, SoftwareConfig, SoftwareDeployment, StackQuery};

/// The engine's store and the server's tables, in memory.
#[derive(Debug, Default)]
pub struct MemoryServerStore {
    engine: MemoryStore,
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    configs: Vec<SoftwareConfig>,
    deployments: Vec<SoftwareDeployment>,
    services: Vec<ServiceRecord>,
}

impl MemoryServerStore {
    /// An empty store keeping at most `max_events_per_stack` events per stack (`None`: all).
    pub fn new(max_events_per_stack: Option<usize>) -> MemoryServerStore {
        MemoryServerStore {
            engine: MemoryStore::with_event_limit(max_events_per_stack),
            tables: Mutex::new(Tables::default()),
        }
    }

    /// How many engine batches were applied (transactions a SQL store would commit).
    pub fn batches(&self) -> u64 {
        self.engine.batches()
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        match self.tables.lock() {
            Ok(guard) => guard,
            // Every write below is a single push/replace/remove: a panic cannot leave a
            // table half-changed.
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Whether a stack passes a query's project, deletion, nesting, field and tag filters.
fn matches(stack: &StackRecord, query: &StackQuery) -> bool {
    if query.project.as_deref().is_some_and(|p| p != stack.project) {
        return false;
    }
    if stack.deleted && !query.show_deleted {
        return false;
    }
    if stack.parent.is_some() && !query.show_nested {
        return false;
    }
    for (field, values) in &query.filters {
        let ok = values.iter().any(|v| match field.as_str() {
            "name" => *v == stack.name,
            "id" => *v == stack.id,
            "status" => v == stack.state.status.as_str() || *v == stack.state.to_string(),
            "action" => v == stack.state.action.as_str(),
            "tenant" => *v == stack.project,
            "username" => *v == stack.user,
            "owner_id" => stack.parent.as_deref() == Some(v.as_str()),
            // Unknown fields are ignored, as Heat's API ignores them.
            _ => true,
        });
        if !ok {
            return false;
        }
    }
    let has = |t: &String| stack.tags.contains(t);
    if !query.tags.iter().all(has) {
        return false;
    }
    if !query.tags_any.is_empty() && !query.tags_any.iter().any(has) {
        return false;
    }
    if !query.not_tags.is_empty() && query.not_tags.iter().all(has) {
        return false;
    }
    if query.not_tags_any.iter().any(has) {
        return false;
    }
    true
}

/// Compares two stacks by one sort key (unknown keys compare equal).
fn compare_by(a: &StackRecord, b: &StackRecord, key: &str) -> Ordering {
    match key {
        "stack_name" => a.name.cmp(&b.name),
        // Heat sorts by the status part (COMPLETE, FAILED, IN_PROGRESS).
        "stack_status" => a.state.status.as_str().cmp(b.state.status.as_str()),
        "creation_time" => a.created_at.cmp(&b.created_at),
        "updated_time" => a.updated_at.cmp(&b.updated_at),
        _ => Ordering::Equal,
    }
}

/// The reference semantics of [`StackQuery`] (Heat's `GET /stacks`), over every stored
/// stack (deleted ones included): the stacks that match every filter, sorted by the sort
/// keys (default `creation_time`) then by id, all in the query's direction; the page after
/// the `marker` (which must name a stack of the sorted listing:
/// [`StoreError::Missing`] otherwise), at most `limit` long.
pub fn select_stacks(
    all: Vec<StackRecord>,
    query: &StackQuery,
) -> Result<Vec<StackRecord>, StoreError> {
    let mut stacks: Vec<StackRecord> = all.into_iter().filter(|s| matches(s, query)).collect();
    let default_keys = ["creation_time".to_string()];
    let keys: &[String] = if query.sort_keys.is_empty() {
        &default_keys
    } else {
        &query.sort_keys
    };
    stacks.sort_by(|a, b| {
        let order = keys
            .iter()
            .map(|k| compare_by(a, b, k))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| a.id.cmp(&b.id));
        if query.descending {
            order.reverse()
        } else {
            order
        }
    });
    let start = match &query.marker {
        Some(marker) => match stacks.iter().position(|s| &s.id == marker) {
            Some(i) => i + 1,
            None => return Err(StoreError::Missing(format!("stack {marker}"))),
        },
        None => 0,
    };
    let limit = query
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    Ok(stacks.into_iter().skip(start).take(limit).collect())
}

#[async_trait]
impl Store for MemoryServerStore {
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        self.engine.apply(changes).await
    }

    async fn stack(&self, id: &str) -> Result<Option<StackRecord>, StoreError> {
        self.engine.stack(id).await
    }

    async fn stack_by_name(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<StackRecord>, StoreError> {
        self.engine.stack_by_name(project, name).await
    }

    async fn stacks(&self, include_deleted: bool) -> Result<Vec<StackRecord>, StoreError> {
        self.engine.stacks(include_deleted).await
    }

    async fn resources(&self, stack_id: &str) -> Result<Vec<Arc<ResourceRecord>>, StoreError> {
        self.engine.resources(stack_id).await
    }

    async fn events(
        &self,
        stack_id: &str,
        after: Option<u64>,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.engine.events(stack_id, after).await
    }

    async fn snapshots(&self, stack_id: &str) -> Result<Vec<SnapshotRecord>, StoreError> {
        self.engine.snapshots(stack_id).await
    }

    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        self.engine.reserve_resource_ids(count).await
    }
}

#[async_trait]
impl ServerStore for MemoryServerStore {
    async fn list_stacks(&self, query: &StackQuery) -> Result<Vec<StackRecord>, StoreError> {
        let all = self.engine.stacks(query.show_deleted).await?;
        select_stacks(all, query)
    }

    async fn count_stacks(&self, query: &StackQuery) -> Result<u64, StoreError> {
        let unpaged = StackQuery {
            marker: None,
            limit: None,
            ..query.clone()
        };
        let all = self.engine.stacks(query.show_deleted).await?;
        Ok(select_stacks(all, &unpaged)?.len() as u64)
    }

    async fn put_software_config(&self, config: &SoftwareConfig) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.configs.iter().any(|c| c.id == config.id) {
            // Configs are immutable: an id is used once.
            return Err(StoreError::Backend(format!(
                "a software config with id {} already exists",
                config.id
            )));
        }
        tables.configs.push(config.clone());
        Ok(())
    }

    async fn software_config(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<SoftwareConfig>, StoreError> {
        Ok(self
            .tables()
            .configs
            .iter()
            .find(|c| c.project == project && c.id == id)
            .cloned())
    }

    async fn software_configs(
        &self,
        project: &str,
        marker: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<SoftwareConfig>, StoreError> {
        let tables = self.tables();
        // Newest first; among equal times, the one stored later first.
        let mut mine: Vec<(usize, &SoftwareConfig)> = tables
            .configs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.project == project)
            .collect();
        mine.sort_by(|(ia, a), (ib, b)| b.created_at.cmp(&a.created_at).then(ib.cmp(ia)));
        let start = match marker {
            Some(m) => match mine.iter().position(|(_, c)| c.id == m) {
                Some(i) => i + 1,
                None => return Err(StoreError::Missing(format!("software config {m}"))),
            },
            None => 0,
        };
        let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        Ok(mine
            .into_iter()
            .skip(start)
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect())
    }

    async fn delete_software_config(&self, project: &str, id: &str) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let before = tables.configs.len();
        tables
            .configs
            .retain(|c| !(c.project == project && c.id == id));
        Ok(tables.configs.len() != before)
    }

    async fn put_software_deployment(
        &self,
        deployment: &SoftwareDeployment,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        match tables
            .deployments
            .iter_mut()
            .find(|d| d.id == deployment.id)
        {
            Some(existing) => *existing = deployment.clone(),
            None => tables.deployments.push(deployment.clone()),
        }
        Ok(())
    }

    async fn software_deployment(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<SoftwareDeployment>, StoreError> {
        Ok(self
            .tables()
            .deployments
            .iter()
            .find(|d| d.project == project && d.id == id)
            .cloned())
    }

    async fn software_deployments(
        &self,
        project: &str,
        server_id: Option<&str>,
    ) -> Result<Vec<SoftwareDeployment>, StoreError> {
        let tables = self.tables();
        let mut out: Vec<SoftwareDeployment> = tables
            .deployments
            .iter()
            .filter(|d| d.project == project && server_id.is_none_or(|s| d.server_id == s))
            .cloned()
            .collect();
        // Oldest first (stable: equal times keep the order they were stored in).
        out.sort_by_key(|d| d.created_at);
        Ok(out)
    }

    async fn delete_software_deployment(
        &self,
        project: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let before = tables.deployments.len();
        tables
            .deployments
            .retain(|d| !(d.project == project && d.id == id));
        Ok(tables.deployments.len() != before)
    }

    async fn put_service(&self, service: &ServiceRecord) -> Result<(), StoreError> {
        let mut tables = self.tables();
        match tables.services.iter_mut().find(|s| s.id == service.id) {
            Some(existing) => *existing = service.clone(),
            None => tables.services.push(service.clone()),
        }
        Ok(())
    }

    async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        let mut all = self.tables().services.clone();
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heat_core::engine::state::{Action, State, Status};
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn stack(id: &str, name: &str, project: &str, created: u64) -> StackRecord {
        StackRecord {
            id: id.into(),
            name: name.into(),
            project: project.into(),
            user: "alice".into(),
            parent: None,
            description: String::new(),
            template: "heat_template_version: 2018-08-31\n".into(),
            files: BTreeMap::new(),
            environments: Vec::new(),
            parameters: BTreeMap::new(),
            state: State::new(Action::Create, Status::Complete),
            status_reason: String::new(),
            disable_rollback: true,
            timeout_mins: 60,
            tags: Vec::new(),
            created_at: Duration::from_secs(created),
            updated_at: Duration::from_secs(created),
            deleted: false,
            deleted_at: None,
            previous: None,
            operation: 1,
        }
    }

    fn ids(stacks: &[StackRecord]) -> Vec<&str> {
        stacks.iter().map(|s| s.id.as_str()).collect()
    }

    fn sample() -> Vec<StackRecord> {
        let mut a = stack("a", "web", "p1", 10);
        a.tags = vec!["x".into(), "y".into()];
        let mut b = stack("b", "db", "p1", 20);
        b.tags = vec!["y".into()];
        b.state = State::new(Action::Update, Status::Failed);
        b.updated_at = Duration::from_secs(50);
        let mut c = stack("c", "app", "p1", 30);
        c.deleted = true;
        c.state = State::new(Action::Delete, Status::Complete);
        let mut d = stack("d", "child", "p1", 40);
        d.parent = Some("a".into());
        let e = stack("e", "web", "p2", 15);
        vec![a, b, c, d, e]
    }

    fn query() -> StackQuery {
        StackQuery {
            project: Some("p1".into()),
            descending: true,
            ..StackQuery::default()
        }
    }

    #[test]
    fn a_listing_is_one_projects_live_top_level_stacks_newest_first() {
        let got = select_stacks(sample(), &query()).unwrap();
        assert_eq!(ids(&got), ["b", "a"]);
        let all = StackQuery {
            show_deleted: true,
            show_nested: true,
            ..query()
        };
        assert_eq!(
            ids(&select_stacks(sample(), &all).unwrap()),
            ["d", "c", "b", "a"]
        );
        let global = StackQuery {
            project: None,
            ..query()
        };
        assert_eq!(
            ids(&select_stacks(sample(), &global).unwrap()),
            ["b", "e", "a"]
        );
    }

    #[test]
    fn field_filters_match_any_of_their_values_and_all_fields() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("name", &["web", "db"], &["b", "a"]),
            ("status", &["FAILED"], &["b"]),
            ("status", &["CREATE_COMPLETE"], &["a"]),
            ("action", &["CREATE"], &["a"]),
            ("id", &["a"], &["a"]),
            ("tenant", &["p1"], &["b", "a"]),
            ("username", &["bob"], &[]),
            ("owner_id", &["a"], &[]),
            // Unknown fields are ignored.
            ("colour", &["red"], &["b", "a"]),
        ];
        for (field, values, want) in cases {
            let q = StackQuery {
                filters: vec![(
                    field.to_string(),
                    values.iter().map(|v| v.to_string()).collect(),
                )],
                ..query()
            };
            assert_eq!(
                ids(&select_stacks(sample(), &q).unwrap()),
                *want,
                "{field}={values:?}"
            );
        }
        let nested = StackQuery {
            show_nested: true,
            filters: vec![("owner_id".into(), vec!["a".into()])],
            ..query()
        };
        assert_eq!(ids(&select_stacks(sample(), &nested).unwrap()), ["d"]);
    }

    #[test]
    fn tag_filters_follow_heat() {
        let q = |f: fn(&mut StackQuery)| {
            let mut q = query();
            f(&mut q);
            ids(&select_stacks(sample(), &q).unwrap())
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(q(|q| q.tags = vec!["x".into(), "y".into()]), ["a"]);
        assert_eq!(q(|q| q.tags_any = vec!["x".into(), "z".into()]), ["a"]);
        assert_eq!(q(|q| q.not_tags = vec!["x".into(), "y".into()]), ["b"]);
        assert_eq!(q(|q| q.not_tags_any = vec!["x".into()]), ["b"]);
        assert_eq!(
            q(|q| q.not_tags_any = vec!["y".into()]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn sorting_and_paging() {
        let asc = |keys: &[&str]| StackQuery {
            sort_keys: keys.iter().map(|k| k.to_string()).collect(),
            descending: false,
            show_nested: true,
            ..query()
        };
        assert_eq!(
            ids(&select_stacks(sample(), &asc(&["stack_name"])).unwrap()),
            ["d", "b", "a"]
        );
        assert_eq!(
            ids(&select_stacks(sample(), &asc(&["updated_time"])).unwrap()),
            ["a", "d", "b"]
        );
        assert_eq!(
            ids(&select_stacks(sample(), &asc(&["stack_status", "stack_name"])).unwrap()),
            ["d", "a", "b"]
        );
        let page = StackQuery {
            marker: Some("a".into()),
            limit: Some(1),
            ..asc(&[])
        };
        assert_eq!(ids(&select_stacks(sample(), &page).unwrap()), ["b"]);
        let last = StackQuery {
            marker: Some("d".into()),
            ..asc(&[])
        };
        assert!(select_stacks(sample(), &last).unwrap().is_empty());
        let zero = StackQuery {
            limit: Some(0),
            ..asc(&[])
        };
        assert!(select_stacks(sample(), &zero).unwrap().is_empty());
        let unknown = StackQuery {
            marker: Some("e".into()),
            ..asc(&[])
        };
        assert!(matches!(
            select_stacks(sample(), &unknown),
            Err(StoreError::Missing(_))
        ));
    }

    #[tokio::test]
    async fn server_tables_are_per_project() {
        let store = MemoryServerStore::new(None);
        for s in sample() {
            store
                .apply(vec![Change::PutStack(Box::new(s))])
                .await
                .unwrap();
        }
        let q = StackQuery {
            limit: Some(1),
            ..query()
        };
        assert_eq!(ids(&store.list_stacks(&q).await.unwrap()), ["b"]);
        assert_eq!(store.count_stacks(&q).await.unwrap(), 2);

        let config = |id: &str, project: &str, at: u64| SoftwareConfig {
            id: id.into(),
            project: project.into(),
            name: format!("cfg-{id}"),
            group: "script".into(),
            config: "echo hi".into(),
            inputs: json!([]),
            outputs: json!([]),
            options: json!({}),
            created_at: Duration::from_secs(at),
        };
        store
            .put_software_config(&config("c1", "p1", 1))
            .await
            .unwrap();
        store
            .put_software_config(&config("c2", "p1", 2))
            .await
            .unwrap();
        store
            .put_software_config(&config("c3", "p2", 3))
            .await
            .unwrap();
        let listed = store.software_configs("p1", None, None).await.unwrap();
        assert_eq!(
            listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["c2", "c1"]
        );
        let after = store
            .software_configs("p1", Some("c2"), Some(5))
            .await
            .unwrap();
        assert_eq!(after.len(), 1);
        assert!(store.software_config("p2", "c1").await.unwrap().is_none());
        assert!(!store.delete_software_config("p2", "c1").await.unwrap());
        assert!(store.delete_software_config("p1", "c1").await.unwrap());

        let mut dep = SoftwareDeployment {
            id: "d1".into(),
            project: "p1".into(),
            config_id: "c2".into(),
            server_id: "srv".into(),
            input_values: json!({}),
            output_values: json!({}),
            action: "INIT".into(),
            status: "COMPLETE".into(),
            status_reason: String::new(),
            stack_user_project_id: None,
            created_at: Duration::from_secs(5),
            updated_at: None,
        };
        store.put_software_deployment(&dep).await.unwrap();
        dep.status = "FAILED".into();
        store.put_software_deployment(&dep).await.unwrap();
        let deps = store.software_deployments("p1", Some("srv")).await.unwrap();
        assert_eq!(deps.len(), 1);
        assert_eq!(deps[0].status, "FAILED");
        assert!(
            store
                .software_deployments("p1", Some("other"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.delete_software_deployment("p1", "d1").await.unwrap());

        let mut service = ServiceRecord {
            id: "e1".into(),
            host: "h".into(),
            binary: "heat-engine".into(),
            topic: "engine".into(),
            report_interval: 60,
            created_at: Duration::from_secs(1),
            updated_at: Duration::from_secs(1),
        };
        store.put_service(&service).await.unwrap();
        service.updated_at = Duration::from_secs(61);
        store.put_service(&service).await.unwrap();
        assert_eq!(store.services().await.unwrap(), vec![service]);
    }
}
