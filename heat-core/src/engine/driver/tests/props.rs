//! Property tests of the engine: ordering, rollback, update A to B, crash during update.
//!
//! Templates are random DAGs of `Test::Counter` resources named `r<N>`. A dependency is
//! expressed one of three ways, so updates exercise every path the engine has:
//! - `depends_on` (order only);
//! - a `get_resource` inside `fixed` (a property that is not `update_allowed`): replacing the
//!   dependency replaces the dependent;
//! - a `get_attr [.., output]` inside `value` (`update_allowed`): a changed value of the
//!   dependency updates the dependent in place.
//!
//! The tests predict, from the two templates alone, what an update does with each resource
//! (added, replaced, updated in place, unchanged, removed) and check the provider's call log,
//! the live resources and the records against it.

use super::*;
use crate::engine::state::{Action, State, Status};

/// Cases per property on DAGs of up to 40 resources.
const CASES: u32 = 128;

/// Cases of the property on DAGs of up to 200 resources.
const LARGE_CASES: u32 = 16;

/// The most dependencies one resource draws.
const MAX_DEPS: usize = 3;

/// How a dependency is written in the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    DependsOn,
    /// `get_resource` in `fixed`.
    Ref,
    /// `get_attr [dep, output]` in `value`.
    Attr,
}

impl Via {
    fn from_bits(k: u8) -> Via {
        match k % 3 {
            0 => Via::DependsOn,
            1 => Via::Ref,
            _ => Via::Attr,
        }
    }
}

/// One resource of a generated template.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Res {
    /// The resource is `r<name>`.
    name: usize,
    /// Version of its literal `value` part (changing it updates in place).
    value: u8,
    /// Version of its literal `fixed` part (changing it replaces).
    fixed: u8,
    /// Checks before the create is ready.
    checks: u8,
    /// Its dependencies (all earlier in the template), sorted by name.
    deps: Vec<(usize, Via)>,
    /// `fail: true`: its create fails.
    fail: bool,
    /// `fail_update: true`: an in-place update of it fails.
    fail_update: bool,
}

/// A generated template: resources in a topological order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Tpl {
    res: Vec<Res>,
}

fn rname(n: usize) -> String {
    format!("r{n}")
}

impl Tpl {
    fn get(&self, name: usize) -> Option<&Res> {
        self.res.iter().find(|r| r.name == name)
    }

    fn get_mut(&mut self, name: usize) -> Option<&mut Res> {
        self.res.iter_mut().find(|r| r.name == name)
    }

    fn names(&self) -> BTreeSet<String> {
        self.res.iter().map(|r| rname(r.name)).collect()
    }

    fn render(&self) -> String {
        if self.res.is_empty() {
            return format!("{HEAD}resources: {{}}\n");
        }
        let mut t = format!("{HEAD}resources:\n");
        for r in &self.res {
            let n = r.name;
            let mut value = vec![format!("v{n}.{}", r.value)];
            let mut fixed = vec![format!("f{n}.{}", r.fixed)];
            let mut after = Vec::new();
            for (d, via) in &r.deps {
                match via {
                    Via::DependsOn => after.push(rname(*d)),
                    Via::Ref => fixed.push(format!("{{get_resource: r{d}}}")),
                    Via::Attr => value.push(format!("{{get_attr: [r{d}, output]}}")),
                }
            }
            let join = |sep: &str, parts: Vec<String>| {
                if parts.len() == 1 {
                    parts[0].clone()
                } else {
                    format!("{{list_join: ['{sep}', [{}]]}}", parts.join(", "))
                }
            };
            t.push_str(&format!(
                "  r{n}:\n    type: Test::Counter\n    properties:\n      value: {}\n      fixed: {}\n      checks: {}\n",
                join("+", value),
                join("|", fixed),
                r.checks
            ));
            if r.fail {
                t.push_str("      fail: true\n");
            }
            if r.fail_update {
                t.push_str("      fail_update: true\n");
            }
            if !after.is_empty() {
                t.push_str(&format!("    depends_on: [{}]\n", after.join(", ")));
            }
        }
        t
    }

    /// The `value` each resource ends up with (what Counter's `output` returns).
    fn values(&self) -> BTreeMap<usize, String> {
        let mut out: BTreeMap<usize, String> = BTreeMap::new();
        for r in &self.res {
            let mut parts = vec![format!("v{}.{}", r.name, r.value)];
            for (d, via) in &r.deps {
                if *via == Via::Attr {
                    parts.push(out[d].clone());
                }
            }
            out.insert(r.name, parts.join("+"));
        }
        out
    }

    /// The `fixed` property of a resource, given the physical ids of the resources.
    fn fixed_of(&self, r: &Res, ids: &BTreeMap<String, String>) -> String {
        let mut parts = vec![format!("f{}.{}", r.name, r.fixed)];
        for (d, via) in &r.deps {
            if *via == Via::Ref {
                parts.push(ids.get(&rname(*d)).cloned().unwrap_or_default());
            }
        }
        parts.join("|")
    }
}

impl std::fmt::Display for Tpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for r in &self.res {
            write!(f, "  r{} v{} f{} c{}", r.name, r.value, r.fixed, r.checks)?;
            if r.fail {
                write!(f, " FAIL")?;
            }
            if r.fail_update {
                write!(f, " FAIL_UPDATE")?;
            }
            let deps: Vec<String> = r
                .deps
                .iter()
                .map(|(d, via)| format!("r{d}:{via:?}"))
                .collect();
            writeln!(f, " <- [{}]", deps.join(", "))?;
        }
        Ok(())
    }
}

/// What an update does with a resource of the new template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Added,
    Replaced,
    Updated,
    Unchanged,
}

/// Predicts what updating from `a` to `b` does with each resource of `b`.
fn classify(a: &Tpl, b: &Tpl) -> BTreeMap<usize, Class> {
    let (va, vb) = (a.values(), b.values());
    let refs = |r: &Res| -> Vec<usize> {
        r.deps
            .iter()
            .filter(|d| d.1 == Via::Ref)
            .map(|d| d.0)
            .collect()
    };
    let mut out: BTreeMap<usize, Class> = BTreeMap::new();
    for r in &b.res {
        let class = match a.get(r.name) {
            None => Class::Added,
            Some(old) => {
                let new_ref = refs(r)
                    .iter()
                    .any(|d| matches!(out.get(d), Some(Class::Added | Class::Replaced)));
                if old.fixed != r.fixed
                    || old.fail != r.fail
                    || old.checks != r.checks
                    || refs(old) != refs(r)
                    || new_ref
                {
                    Class::Replaced
                } else if va[&r.name] != vb[&r.name] || old.fail_update != r.fail_update {
                    Class::Updated
                } else {
                    Class::Unchanged
                }
            }
        };
        out.insert(r.name, class);
    }
    out
}

// -- generation -----------------------------------------------------------------------------

/// Raw choices for one resource of the first template.
#[derive(Clone, Debug)]
struct RawRes {
    picks: Vec<(u16, u8)>,
    checks: u8,
}

/// Raw choices for what the second template does with one resource (or adds).
#[derive(Clone, Debug)]
struct RawChange {
    /// 0-1 removed, 2-3 value changed, 4-5 fixed changed, 6 both, 7-9 same.
    fate: u8,
    /// Draw new dependencies instead of keeping the old ones.
    new_deps: bool,
    /// Where it goes in the new order (only with `shuffle`, or for added resources).
    key: u16,
    picks: Vec<(u16, u8)>,
}

fn picks() -> impl Strategy<Value = Vec<(u16, u8)>> {
    proptest::collection::vec((any::<u16>(), any::<u8>()), 0..=MAX_DEPS)
}

fn raw_res() -> impl Strategy<Value = RawRes> {
    (picks(), prop_oneof![3 => Just(0u8), 1 => Just(1u8)])
        .prop_map(|(picks, checks)| RawRes { picks, checks })
}

fn raw_change() -> impl Strategy<Value = RawChange> {
    (
        0u8..10,
        proptest::bool::weighted(0.3),
        any::<u16>(),
        picks(),
    )
        .prop_map(|(fate, new_deps, key, picks)| RawChange {
            fate,
            new_deps,
            key,
            picks,
        })
}

/// Dependencies drawn among the resources placed before.
fn deps_from(picks: &[(u16, u8)], earlier: &[usize]) -> Vec<(usize, Via)> {
    if earlier.is_empty() {
        return Vec::new();
    }
    let mut deps: BTreeMap<usize, Via> = BTreeMap::new();
    for (p, k) in picks {
        deps.entry(earlier[usize::from(*p) % earlier.len()])
            .or_insert(Via::from_bits(*k));
    }
    deps.into_iter().collect()
}

fn build_a(raw: &[RawRes]) -> Tpl {
    let mut res = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let earlier: Vec<usize> = (0..i).collect();
        res.push(Res {
            name: i,
            value: 0,
            fixed: 0,
            checks: r.checks,
            deps: deps_from(&r.picks, &earlier),
            fail: false,
            fail_update: false,
        });
    }
    Tpl { res }
}

/// The second template: `a`'s resources kept, changed or removed, new ones added, the
/// order kept (new ones inserted anywhere) or shuffled (dependencies may turn around).
fn build_b(a: &Tpl, changes: &[RawChange], added: &[RawChange], shuffle: bool) -> Tpl {
    let n = a.res.len();
    let mut entries: Vec<(u32, usize, Option<&Res>, &RawChange)> = Vec::new();
    for (r, c) in a.res.iter().zip(changes) {
        if c.fate < 2 {
            continue;
        }
        let key = if shuffle {
            u32::from(c.key)
        } else {
            r.name as u32 * 64
        };
        entries.push((key, r.name, Some(r), c));
    }
    for (j, c) in added.iter().enumerate() {
        let key = u32::from(c.key) % ((n as u32 + 1) * 64);
        entries.push((key, n + j, None, c));
    }
    entries.sort_by_key(|e| (e.0, e.1));
    let mut placed: Vec<usize> = Vec::new();
    let mut res = Vec::new();
    for (_, name, old, c) in entries {
        let deps = match old {
            Some(o) if !c.new_deps => o
                .deps
                .iter()
                .filter(|d| placed.contains(&d.0))
                .copied()
                .collect(),
            _ => deps_from(&c.picks, &placed),
        };
        let (value, fixed, checks) = match old {
            Some(o) => (
                o.value + u8::from(matches!(c.fate, 2 | 3 | 6)),
                o.fixed + u8::from(matches!(c.fate, 4..=6)),
                o.checks,
            ),
            None => (0, 0, c.fate % 2),
        };
        res.push(Res {
            name,
            value,
            fixed,
            checks,
            deps,
            fail: false,
            fail_update: false,
        });
        placed.push(name);
    }
    Tpl { res }
}

fn templates(max: usize) -> impl Strategy<Value = Tpl> {
    proptest::collection::vec(raw_res(), 1..max).prop_map(|raw| build_a(&raw))
}

/// A first template and an update of it.
fn updates(max: usize) -> impl Strategy<Value = (Tpl, Tpl)> {
    (1..max)
        .prop_flat_map(|n| {
            (
                proptest::collection::vec(raw_res(), n),
                proptest::collection::vec(raw_change(), n),
                proptest::collection::vec(raw_change(), 0..=n / 2 + 1),
                proptest::bool::weighted(0.25),
            )
        })
        .prop_map(|(raw, changes, added, shuffle)| {
            let a = build_a(&raw);
            let b = build_b(&a, &changes, &added, shuffle);
            (a, b)
        })
}

/// How the failing update fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failing {
    /// An in-place update fails (`fail_update`).
    InPlace,
    /// The create of a replacement fails (`fail` on a kept resource).
    Replacement,
    /// The create of an added resource fails.
    Added,
}

/// Makes one resource of `b` fail: mode 0 an in-place update (a replacement when the
/// resource is replaced anyway), 1 a replacement, 2 an added resource (falling back to
/// the other kinds when there is none). `None` when `b` is empty.
fn inject(a: &Tpl, b: &mut Tpl, pick: u16, mode: u8) -> Option<(usize, Failing)> {
    let classes = classify(a, b);
    let kept: Vec<usize> = b
        .res
        .iter()
        .map(|r| r.name)
        .filter(|n| a.get(*n).is_some())
        .collect();
    let added: Vec<usize> = b
        .res
        .iter()
        .map(|r| r.name)
        .filter(|n| a.get(*n).is_none())
        .collect();
    let choose = |v: &[usize]| v[usize::from(pick) % v.len()];
    let (name, failing) = if (mode % 3 == 2 && !added.is_empty()) || kept.is_empty() {
        if added.is_empty() {
            return None;
        }
        (choose(&added), Failing::Added)
    } else {
        let name = choose(&kept);
        if mode % 3 == 1 || classes[&name] == Class::Replaced {
            (name, Failing::Replacement)
        } else {
            (name, Failing::InPlace)
        }
    };
    let r = b.get_mut(name)?;
    match failing {
        Failing::InPlace => r.fail_update = true,
        Failing::Replacement | Failing::Added => r.fail = true,
    }
    Some((name, failing))
}

// -- running and checking --------------------------------------------------------------------

/// A store that counts batches and notes the first one that starts a rollback.
struct Tap {
    inner: Arc<MemoryStore>,
    applied: AtomicU64,
    rollback_at: Mutex<Option<u64>>,
}

impl Tap {
    fn new(inner: Arc<MemoryStore>) -> Arc<Tap> {
        Arc::new(Tap {
            inner,
            applied: AtomicU64::new(0),
            rollback_at: Mutex::new(None),
        })
    }
}

#[async_trait]
impl Store for Tap {
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        let index = self.applied.fetch_add(1, Ordering::SeqCst);
        let rollback = changes
            .iter()
            .any(|c| matches!(c, Change::PutStack(s) if s.state.action == Action::Rollback));
        if rollback {
            self.rollback_at.lock().unwrap().get_or_insert(index);
        }
        self.inner.apply(changes).await
    }
    async fn stack(&self, id: &str) -> Result<Option<StackRecord>, StoreError> {
        self.inner.stack(id).await
    }
    async fn stack_by_name(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<StackRecord>, StoreError> {
        self.inner.stack_by_name(project, name).await
    }

    async fn snapshots(
        &self,
        stack_id: &str,
    ) -> Result<Vec<crate::engine::store::SnapshotRecord>, StoreError> {
        self.inner.snapshots(stack_id).await
    }
    async fn stacks(&self, include_deleted: bool) -> Result<Vec<StackRecord>, StoreError> {
        self.inner.stacks(include_deleted).await
    }
    async fn resources(&self, stack_id: &str) -> Result<Vec<Arc<ResourceRecord>>, StoreError> {
        self.inner.resources(stack_id).await
    }
    async fn events(
        &self,
        stack_id: &str,
        after: Option<u64>,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.inner.events(stack_id, after).await
    }
    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        self.inner.reserve_resource_ids(count).await
    }
}

fn crashing(w: &World, after: u64) -> Arc<dyn Store> {
    Arc::new(CrashStore {
        inner: w.store.clone(),
        allowed: AtomicU64::new(after),
    })
}

/// Creates the stack of `t`; its id and outcome.
fn create(w: &mut World, t: &Tpl, rollback: bool) -> StackOutcome {
    let store = w.store.clone();
    let engine = w.engine_on(store, rollback);
    block_on(engine.create_stack(request(&t.render()))).unwrap()
}

fn update_request(t: &Tpl) -> UpdateRequest {
    UpdateRequest {
        template: Some(t.render()),
        ..UpdateRequest::default()
    }
}

fn stack_state(w: &World, id: &str) -> String {
    block_on(w.store.stack(id))
        .unwrap()
        .unwrap()
        .state
        .to_string()
}

/// The provider's call log from position `from` on.
fn log_since(w: &World, from: usize) -> Vec<(&'static str, String, String)> {
    w.counter.live().log[from..].to_vec()
}

/// Checks that the stack holds exactly `t`'s resources, settled: one record per resource,
/// complete, with `t`'s values, `fixed` naming the current physical ids of its references,
/// `requires` naming the current records of its dependencies; and that the provider has
/// exactly these resources live, once each, with the same values. Returns the physical ids.
fn check_settled(
    w: &World,
    stack_id: &str,
    t: &Tpl,
) -> Result<BTreeMap<String, String>, TestCaseError> {
    let records = w.records(stack_id);
    let summary: Vec<String> = records
        .iter()
        .map(|r| format!("{}#{} {} {:?}", r.name, r.id, r.state, r.physical_id))
        .collect();
    prop_assert_eq!(records.len(), t.res.len(), "records {:?}\n{}", summary, t);
    let by_name: BTreeMap<&str, &ResourceRecord> =
        records.iter().map(|r| (r.name.as_str(), r)).collect();
    prop_assert_eq!(by_name.len(), t.res.len(), "records {:?}", summary);
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for r in &t.res {
        let Some(rec) = by_name.get(rname(r.name).as_str()) else {
            return Err(TestCaseError::fail(format!(
                "no record of r{}: {summary:?}\n{t}",
                r.name
            )));
        };
        let Some(pid) = rec.physical_id.clone() else {
            return Err(TestCaseError::fail(format!(
                "r{} has no physical id",
                r.name
            )));
        };
        prop_assert_eq!(
            rec.state.status,
            Status::Complete,
            "r{} {}",
            r.name,
            rec.state
        );
        ids.insert(rname(r.name), pid);
    }
    let values = t.values();
    for r in &t.res {
        let rec = by_name[rname(r.name).as_str()];
        let value = rec.properties.get("value").and_then(Value::as_str);
        prop_assert_eq!(value, Some(values[&r.name].as_str()), "r{}\n{}", r.name, t);
        let fixed = t.fixed_of(r, &ids);
        let recorded = rec.properties.get("fixed").and_then(Value::as_str);
        prop_assert_eq!(recorded, Some(fixed.as_str()), "r{}\n{}", r.name, t);
        let mut requires: Vec<u64> = r
            .deps
            .iter()
            .map(|(d, _)| by_name[rname(*d).as_str()].id)
            .collect();
        requires.sort_unstable();
        prop_assert_eq!(&rec.requires, &requires, "requires of r{}\n{}", r.name, t);
        prop_assert!(rec.target_properties.is_none(), "r{} has a target", r.name);
    }
    let live = w.counter.live();
    let mut live_names: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (name, id, value) in live.by_token.values() {
        live_names
            .entry(name.as_str())
            .or_default()
            .push((id.as_str(), value.as_str()));
    }
    prop_assert_eq!(
        live_names
            .keys()
            .map(|k| k.to_string())
            .collect::<BTreeSet<_>>(),
        t.names(),
        "live {:?}\n{}",
        live_names,
        t
    );
    for r in &t.res {
        let name = rname(r.name);
        let entries = &live_names[name.as_str()];
        prop_assert_eq!(entries.len(), 1, "duplicated {}: {:?}", name, entries);
        prop_assert_eq!(entries[0].0, ids[&name].as_str(), "live id of {}", name);
        prop_assert_eq!(
            entries[0].1,
            values[&r.name].as_str(),
            "live value of {}",
            name
        );
    }
    Ok(ids)
}

/// Event ids of a resource in a state.
fn event_ids(events: &[EventRecord], name: &str, state: &str) -> Vec<u64> {
    events
        .iter()
        .filter(|e| e.resource_name == name && e.state.to_string() == state)
        .map(|e| e.id)
        .collect()
}

/// Every resource's create starts after each dependency's create completed.
fn check_create_order(events: &[EventRecord], t: &Tpl) -> Result<(), TestCaseError> {
    for r in &t.res {
        let start = event_ids(events, &rname(r.name), "CREATE_IN_PROGRESS");
        prop_assert_eq!(start.len(), 1, "r{} CREATE_IN_PROGRESS", r.name);
        for (d, _) in &r.deps {
            let done = event_ids(events, &rname(*d), "CREATE_COMPLETE");
            prop_assert_eq!(done.len(), 1, "r{} CREATE_COMPLETE", d);
            prop_assert!(
                done[0] < start[0],
                "r{} started (event {}) before its dependency r{} completed (event {})\n{}",
                r.name,
                start[0],
                d,
                done[0],
                t
            );
        }
    }
    Ok(())
}

/// Every resource's delete starts after each of its dependents' deletes completed.
fn check_delete_order(events: &[EventRecord], t: &Tpl) -> Result<(), TestCaseError> {
    for r in &t.res {
        let start = event_ids(events, &rname(r.name), "DELETE_IN_PROGRESS");
        prop_assert_eq!(start.len(), 1, "r{} DELETE_IN_PROGRESS", r.name);
        for dependent in t
            .res
            .iter()
            .filter(|x| x.deps.iter().any(|d| d.0 == r.name))
        {
            let done = event_ids(events, &rname(dependent.name), "DELETE_COMPLETE");
            prop_assert_eq!(done.len(), 1, "r{} DELETE_COMPLETE", dependent.name);
            prop_assert!(
                done[0] < start[0],
                "r{} deleted (event {}) before its dependent r{} was gone (event {})\n{}",
                r.name,
                start[0],
                dependent.name,
                done[0],
                t
            );
        }
    }
    Ok(())
}

/// The update from `a` to `b` did what `classify` predicts, judged from the provider's log
/// since the update began (`log`), the ids before (`before`) and after (`after`): unchanged
/// resources untouched, in-place updates on the same resource, replacements created before
/// the old resource is deleted, removed resources deleted, nothing created twice; and the
/// clean-up deleted old resources after the old resources that depended on them.
fn check_update_log(
    a: &Tpl,
    b: &Tpl,
    log: &[(&'static str, String, String)],
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    crashed: bool,
) -> Result<(), TestCaseError> {
    let classes = classify(a, b);
    let pos = |op: &str, id: &str| log.iter().position(|e| e.0 == op && e.2 == id);
    let ctx = || format!("A:\n{a}B:\n{b}log: {log:?}");
    for r in &b.res {
        let name = rname(r.name);
        let calls: Vec<&(&str, String, String)> = log.iter().filter(|e| e.1 == name).collect();
        let count = |op: &str| calls.iter().filter(|e| e.0 == op).count();
        let new_id = &after[&name];
        match classes[&r.name] {
            Class::Unchanged => {
                prop_assert!(
                    calls.is_empty(),
                    "{} is unchanged: {:?}\n{}",
                    name,
                    calls,
                    ctx()
                );
                prop_assert_eq!(new_id, &before[&name]);
            }
            Class::Updated => {
                prop_assert_eq!(
                    new_id,
                    &before[&name],
                    "{} updated in place\n{}",
                    name,
                    ctx()
                );
                prop_assert_eq!((count("create"), count("delete")), (0, 0), "{}", name);
                if crashed {
                    prop_assert!(count("update") >= 1, "{} not updated\n{}", name, ctx());
                } else {
                    prop_assert_eq!(count("update"), 1, "{} updates\n{}", name, ctx());
                }
            }
            Class::Replaced => {
                let old = &before[&name];
                prop_assert_ne!(new_id, old, "{} replaced\n{}", name, ctx());
                prop_assert_eq!(
                    (count("create"), count("update"), count("delete")),
                    (1, 0, 1),
                    "{} replaced\n{}",
                    name,
                    ctx()
                );
                let created = pos("create", new_id);
                let deleted = pos("delete", old);
                prop_assert!(
                    created.is_some() && deleted.is_some() && created < deleted,
                    "{}: the replacement {} must be created before {} is deleted\n{}",
                    name,
                    new_id,
                    old,
                    ctx()
                );
            }
            Class::Added => {
                prop_assert_eq!(
                    (count("create"), count("update"), count("delete")),
                    (1, 0, 0),
                    "{} added\n{}",
                    name,
                    ctx()
                );
            }
        }
    }
    // Old resources deleted by the clean-up: removed, or replaced.
    let gone: BTreeSet<usize> = a
        .res
        .iter()
        .map(|r| r.name)
        .filter(|n| !matches!(classes.get(n), Some(Class::Unchanged | Class::Updated)))
        .collect();
    for r in a.res.iter().filter(|r| gone.contains(&r.name)) {
        let old = &before[&rname(r.name)];
        let Some(deleted) = pos("delete", old) else {
            return Err(TestCaseError::fail(format!("{old} not deleted\n{}", ctx())));
        };
        for (d, _) in r.deps.iter().filter(|d| gone.contains(&d.0)) {
            let dep_deleted = pos("delete", &before[&rname(*d)]);
            prop_assert!(
                dep_deleted.is_some_and(|p| deleted < p),
                "the old r{} was deleted after the old r{} it depended on\n{}",
                r.name,
                d,
                ctx()
            );
        }
    }
    let creates = log.iter().filter(|e| e.0 == "create").count();
    let expected = classes
        .values()
        .filter(|c| matches!(c, Class::Added | Class::Replaced))
        .count();
    prop_assert_eq!(creates, expected, "creates\n{}", ctx());
    Ok(())
}

/// In the update's forward pass, a resource is created or updated only after each of its
/// (new) dependencies finished being created or updated.
fn check_update_order(events: &[EventRecord], b: &Tpl) -> Result<(), TestCaseError> {
    let forward = |e: &&EventRecord| matches!(e.state.action, Action::Create | Action::Update);
    for r in &b.res {
        let name = rname(r.name);
        let start = events
            .iter()
            .filter(forward)
            .filter(|e| e.resource_name == name && e.state.status == Status::InProgress)
            .map(|e| e.id)
            .min();
        let Some(start) = start else { continue };
        for (d, _) in &r.deps {
            let dep = rname(*d);
            let done = events
                .iter()
                .filter(forward)
                .filter(|e| e.resource_name == dep && e.state.status == Status::Complete)
                .map(|e| e.id)
                .max();
            prop_assert!(
                done.is_none_or(|done| done < start),
                "{} started (event {}) before {} finished (event {:?})\n{}",
                name,
                start,
                dep,
                done,
                b
            );
        }
    }
    Ok(())
}

/// The resources whose physical id a rollback may change: the one whose in-place update
/// failed (a failed resource is replaced, as in Heat) and what refers to it by id in `a`.
fn tainted(a: &Tpl, failing: Option<(usize, Failing)>) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    if let Some((name, Failing::InPlace)) = failing {
        out.insert(name);
        for r in &a.res {
            if r.deps
                .iter()
                .any(|(d, via)| *via == Via::Ref && out.contains(d))
            {
                out.insert(r.name);
            }
        }
    }
    out
}

/// After a rolled back update: exactly `a`'s resources, with `a`'s values, and the ones the
/// rollback had no reason to replace with their original physical ids.
fn check_rolled_back(
    w: &World,
    stack_id: &str,
    a: &Tpl,
    b: &Tpl,
    failing: Option<(usize, Failing)>,
    before: &BTreeMap<String, String>,
) -> Result<(), TestCaseError> {
    let state = stack_state(w, stack_id);
    prop_assert_eq!(
        state,
        "ROLLBACK_COMPLETE",
        "A:\n{}B:\n{}{:?}",
        a,
        b,
        failing
    );
    let ids = check_settled(w, stack_id, a)?;
    let tainted = tainted(a, failing);
    for r in a.res.iter().filter(|r| !tainted.contains(&r.name)) {
        let name = rname(r.name);
        prop_assert_eq!(
            &ids[&name],
            &before[&name],
            "{} changed its physical id\nA:\n{}B:\n{}{:?}\nlog {:?}",
            name,
            a,
            b,
            failing,
            w.counter.live().log
        );
    }
    Ok(())
}

// -- the properties --------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Create runs dependencies first, delete runs dependents first (properties 1 and 2).
    #[test]
    fn create_and_delete_follow_the_dependencies(t in templates(40)) {
        let mut w = World::new();
        let outcome = create(&mut w, &t, false);
        prop_assert_eq!(outcome.state.to_string(), "CREATE_COMPLETE", "{:?}\n{}", outcome, t);
        check_settled(&w, &outcome.id, &t)?;
        let events = block_on(w.store.events(&outcome.id, None)).unwrap();
        check_create_order(&events, &t)?;

        let engine = w.engine();
        let deleted = block_on(engine.delete_stack(&outcome.id)).unwrap();
        prop_assert_eq!(deleted.state.to_string(), "DELETE_COMPLETE");
        prop_assert!(w.counter.live_ids().is_empty());
        let events = block_on(w.store.events(&outcome.id, None)).unwrap();
        check_delete_order(&events, &t)?;
    }

    /// A failed create rolls back to nothing; without rollback it stops, leaving what it
    /// made recorded, and nothing that depends on the failed resource was started
    /// (property 3).
    #[test]
    fn a_failed_create_rolls_back_or_stops(mut t in templates(40), pick in any::<u16>(), rollback in any::<bool>()) {
        let failing = t.res[usize::from(pick) % t.res.len()].name;
        t.get_mut(failing).unwrap().fail = true;
        let mut w = World::new();
        let outcome = create(&mut w, &t, rollback);
        if rollback {
            prop_assert_eq!(outcome.state.to_string(), "ROLLBACK_COMPLETE", "{:?}\n{}", outcome, t);
            prop_assert!(w.counter.live_ids().is_empty(), "leaked {:?}", w.counter.live_ids());
            prop_assert!(w.records(&outcome.id).is_empty());
            let events = block_on(w.store.events(&outcome.id, None)).unwrap();
            // The rollback deletes in reverse order too.
            let created: Vec<Res> = t
                .res
                .iter()
                .filter(|r| !event_ids(&events, &rname(r.name), "CREATE_COMPLETE").is_empty())
                .cloned()
                .collect();
            for r in &created {
                let start = event_ids(&events, &rname(r.name), "DELETE_IN_PROGRESS");
                prop_assert_eq!(start.len(), 1, "r{} rolled back", r.name);
                for dependent in created.iter().filter(|x| x.deps.iter().any(|d| d.0 == r.name)) {
                    let done = event_ids(&events, &rname(dependent.name), "DELETE_COMPLETE");
                    prop_assert!(done.len() == 1 && done[0] < start[0], "r{} before r{}\n{}", r.name, dependent.name, t);
                }
            }
        } else {
            prop_assert_eq!(outcome.state.to_string(), "CREATE_FAILED", "{:?}\n{}", outcome, t);
            assert_no_leak(&w, &outcome.id);
            let records = w.records(&outcome.id);
            let failed: Vec<&str> = records
                .iter()
                .filter(|r| r.state.status == Status::Failed)
                .map(|r| r.name.as_str())
                .collect();
            let failing_name = rname(failing);
            prop_assert_eq!(failed, vec![failing_name.as_str()]);
            // Nothing downstream of the failed resource was started.
            let mut downstream = BTreeSet::from([failing]);
            for r in &t.res {
                if r.deps.iter().any(|d| downstream.contains(&d.0)) {
                    downstream.insert(r.name);
                }
            }
            for r in &records {
                let n: usize = r.name[1..].parse().unwrap();
                if n != failing && downstream.contains(&n) {
                    prop_assert_eq!(r.state, State::INIT, "{} started\n{}", r.name, t);
                    prop_assert!(r.physical_id.is_none());
                }
            }
        }
    }
}

/// Property 4, then 5: the update from `a` to `b` leaves exactly `b`, doing to each resource
/// what the templates call for (then the stack is deleted in `b`'s reverse order); the same
/// update crashing after `crash_frac` of its batches, then resumed, ends the same way.
fn update_then_crash(a: &Tpl, b: &Tpl, crash_frac: f64) -> Result<(), TestCaseError> {
    // Without a crash, on a world of its own (counting the update's batches).
    let total = {
        let mut w = World::new();
        let created = create(&mut w, a, false);
        prop_assert_eq!(created.state.to_string(), "CREATE_COMPLETE");
        let before = check_settled(&w, &created.id, a)?;
        let mark = w.counter.live().log.len();
        let last = |w: &World| {
            let events = block_on(w.store.events(&created.id, None)).unwrap();
            events.last().map_or(0, |e| e.id)
        };
        let first_event = last(&w);
        let tap = Tap::new(w.store.clone());
        let engine = w.engine_on(tap.clone(), false);
        let outcome = block_on(engine.update_stack(&created.id, update_request(b))).unwrap();
        prop_assert_eq!(
            outcome.state.to_string(),
            "UPDATE_COMPLETE",
            "{:?}\nA:\n{}B:\n{}",
            outcome,
            a,
            b
        );
        let after = check_settled(&w, &created.id, b)?;
        check_update_log(a, b, &log_since(&w, mark), &before, &after, false)?;
        let events = block_on(w.store.events(&created.id, Some(first_event))).unwrap();
        check_update_order(&events, b)?;
        // The records' dependencies are the new template's: the delete follows them.
        let updated_event = last(&w);
        let deleted = block_on(w.engine().delete_stack(&created.id)).unwrap();
        prop_assert_eq!(deleted.state.to_string(), "DELETE_COMPLETE");
        prop_assert!(w.counter.live_ids().is_empty());
        let events = block_on(w.store.events(&created.id, Some(updated_event))).unwrap();
        check_delete_order(&events, b)?;
        tap.applied.load(Ordering::SeqCst)
    };
    let crash_at = ((total as f64) * crash_frac) as u64;
    let mut w = World::new();
    let created = create(&mut w, a, false);
    let before = check_settled(&w, &created.id, a)?;
    let mark = w.counter.live().log.len();
    let first = w.engine_on(crashing(&w, crash_at), false);
    let result = block_on(first.update_stack(&created.id, update_request(b)));
    prop_assert!(
        result.is_err(),
        "no crash at {} of {}: {:?}",
        crash_at,
        total,
        result
    );
    drop(first);
    let resumed = block_on(w.engine().resume_all()).unwrap();
    if crash_at == 0 {
        // Nothing of the update was stored: the stack is as before; update it again.
        prop_assert!(resumed.is_empty());
        prop_assert_eq!(stack_state(&w, &created.id), "CREATE_COMPLETE");
        check_settled(&w, &created.id, a)?;
        let outcome = block_on(w.engine().update_stack(&created.id, update_request(b))).unwrap();
        prop_assert_eq!(outcome.state.to_string(), "UPDATE_COMPLETE");
    }
    prop_assert_eq!(
        stack_state(&w, &created.id),
        "UPDATE_COMPLETE",
        "crash at {} of {}: {:?}\nA:\n{}B:\n{}",
        crash_at,
        total,
        resumed,
        a,
        b
    );
    assert_no_leak(&w, &created.id);
    let after = check_settled(&w, &created.id, b)?;
    check_update_log(a, b, &log_since(&w, mark), &before, &after, true)
}

/// Where a failing update crashes.
#[derive(Clone, Copy, Debug)]
enum Crash {
    /// At this fraction of the batches of the update and its rollback, or of the rollback's
    /// only.
    At { frac: f64, in_rollback: bool },
    /// After this many batches of the rollback (the first one starts it).
    AfterRollbackStart(u64),
}

/// A failing update (rolled back), crashing where `crash` says, resumed: rolled back to A, the
/// resources the rollback had no reason to replace keeping their physical ids (properties
/// 6 and 7).
fn failed_update_rolls_back(
    a: &Tpl,
    b: &Tpl,
    failing: Option<(usize, Failing)>,
    crash: Crash,
) -> Result<(), TestCaseError> {
    // Without a crash, on a world of its own: rolled back; how many batches it takes, and
    // where the rollback starts.
    let (total, rollback_at) = {
        let mut w = World::new();
        let created = create(&mut w, a, true);
        let before = check_settled(&w, &created.id, a)?;
        let tap = Tap::new(w.store.clone());
        let engine = w.engine_on(tap.clone(), true);
        let outcome = block_on(engine.update_stack(&created.id, update_request(b))).unwrap();
        if failing.is_none() {
            // Nothing can fail (an empty B): a plain update.
            prop_assert_eq!(outcome.state.to_string(), "UPDATE_COMPLETE");
            return Ok(());
        }
        check_rolled_back(&w, &created.id, a, b, failing, &before)?;
        let total = tap.applied.load(Ordering::SeqCst);
        let rollback_at = tap.rollback_at.lock().unwrap().unwrap_or(0);
        (total, rollback_at)
    };
    let crash_at = match crash {
        Crash::At { frac, in_rollback } if in_rollback => {
            rollback_at + ((total - rollback_at) as f64 * frac) as u64
        }
        Crash::At { frac, .. } => (total as f64 * frac) as u64,
        Crash::AfterRollbackStart(n) => rollback_at + n,
    };
    if crash_at >= total {
        // Past the end: the run above covers it.
        return Ok(());
    }
    let mut w = World::new();
    let created = create(&mut w, a, true);
    let before = check_settled(&w, &created.id, a)?;
    let first = w.engine_on(crashing(&w, crash_at), true);
    let result = block_on(first.update_stack(&created.id, update_request(b)));
    prop_assert!(
        result.is_err(),
        "no crash at {} of {}: {:?}",
        crash_at,
        total,
        result
    );
    drop(first);
    let resumed = block_on(w.engine().resume_all()).unwrap();
    if crash_at == 0 {
        prop_assert!(resumed.is_empty());
        prop_assert_eq!(stack_state(&w, &created.id), "CREATE_COMPLETE");
        let engine = w.engine_on(w.store.clone(), true);
        let outcome = block_on(engine.update_stack(&created.id, update_request(b))).unwrap();
        prop_assert_eq!(outcome.state.to_string(), "ROLLBACK_COMPLETE");
    }
    assert_no_leak(&w, &created.id);
    check_rolled_back(&w, &created.id, a, b, failing, &before).map_err(|e| {
        TestCaseError::fail(format!(
            "crash at batch {crash_at} of {total} (rollback from {rollback_at}), resumed {resumed:?}: {e}"
        ))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Properties 4 and 5 on DAGs of up to 40 resources: an update from A to B leaves
    /// exactly B, with or without a crash in the middle.
    #[test]
    fn an_update_leaves_exactly_the_new_template_even_across_a_crash(
        (a, b) in updates(40),
        crash_frac in 0.0f64..1.0,
    ) {
        update_then_crash(&a, &b, crash_frac)?;
    }

    /// Properties 6 and 7: a failing in-place update, replacement or added resource rolls
    /// back to A, with or without a crash in the update or (mostly) in its rollback.
    #[test]
    fn a_failed_update_rolls_back_to_the_old_template_even_across_a_crash(
        (a, mut b) in updates(40),
        pick in any::<u16>(),
        mode in 0u8..3,
        crash_frac in 0.0f64..1.0,
        in_rollback in proptest::bool::weighted(0.75),
    ) {
        let failing = inject(&a, &mut b, pick, mode);
        failed_update_rolls_back(&a, &b, failing, Crash::At { frac: crash_frac, in_rollback })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(LARGE_CASES))]

    /// Properties 4 and 5 on large stacks (up to 200 resources).
    #[test]
    fn an_update_of_a_large_stack_leaves_the_new_template_even_across_a_crash(
        (a, b) in updates(200),
        crash_frac in 0.0f64..1.0,
    ) {
        update_then_crash(&a, &b, crash_frac)?;
    }
}

fn plain(name: usize, fixed: u8) -> Res {
    Res {
        name,
        value: 0,
        fixed,
        checks: 0,
        deps: Vec::new(),
        fail: false,
        fail_update: false,
    }
}

/// A case of property 7 found failing (a resumed rollback swapped a restored resource back,
/// or restored one being deleted): B replaces r0 and fails replacing r1; the rollback
/// restores the original r0 (one batch after it starts) and deletes the replacement. The
/// engine stops after each batch of the rollback in turn; resumed, the rollback must keep
/// the original r0 and leak nothing.
#[test]
fn a_rollback_resumed_after_restoring_keeps_the_original_resources() {
    let a = Tpl {
        res: vec![plain(0, 0), plain(1, 0)],
    };
    let b = Tpl {
        res: vec![
            plain(0, 1),
            Res {
                fail: true,
                ..plain(1, 0)
            },
        ],
    };
    let failing = Some((1, Failing::Replacement));
    for n in 0..12 {
        if let Err(e) = failed_update_rolls_back(&a, &b, failing, Crash::AfterRollbackStart(n)) {
            panic!("{e}");
        }
    }
}

/// A case of property 7 found failing (a resumed rollback undid the replacements it had
/// made itself, and r3's resumed update recorded the undone r2 as its dependency): the
/// in-place update of r0 fails; the rollback replaces r0 (it failed), hence r1 and r2 (they refer to
/// r0's and r1's ids), and updates r3 back in place after r2. The engine stops with r3's
/// update in flight (and after every other batch of the rollback); the resumed rollback must
/// leave r3 requiring the current r2.
#[test]
fn a_rollback_resumed_with_an_update_in_flight_keeps_the_dependencies_current() {
    let dep = |name: usize, d: usize, via: Via| Res {
        deps: vec![(d, via)],
        ..plain(name, 0)
    };
    let a = Tpl {
        res: vec![
            plain(0, 0),
            dep(1, 0, Via::Ref),
            dep(2, 1, Via::Ref),
            dep(3, 2, Via::Attr),
        ],
    };
    let b = Tpl {
        res: vec![
            Res {
                value: 1,
                fail_update: true,
                ..plain(0, 0)
            },
            Res {
                value: 1,
                ..plain(3, 0)
            },
        ],
    };
    let failing = Some((0, Failing::InPlace));
    for n in 0..12 {
        if let Err(e) = failed_update_rolls_back(&a, &b, failing, Crash::AfterRollbackStart(n)) {
            panic!("{e}");
        }
    }
}
