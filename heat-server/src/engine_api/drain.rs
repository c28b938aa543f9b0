//! Graceful shutdown of running stack operations: every provider call goes through a
//! [`Gate`]. Closing the gate lets the calls in flight finish (so their results are
//! recorded) and holds every new call before it reaches the provider, so the operations come
//! to rest at a step boundary: what the engine has recorded is exactly what was done, and the
//! stacks stay `*_IN_PROGRESS` for [`heat_core::engine::Engine::resume_all`] at the next start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use heat_core::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use heat_core::engine::registry::ProviderRegistry;
use heat_core::engine::schema::ResourceSchema;
use heat_core::engine::store::{
    Change, EventRecord, ResourceRecord, SnapshotRecord, StackRecord, Store, StoreError,
};
use serde_json::Value;
use tokio::sync::Notify;

use crate::store::ServerStore;

/// Counts provider calls in flight and, once closed, holds new ones back.
#[derive(Debug, Default)]
pub struct Gate {
    closed: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// One provider call in flight; leaving it wakes whoever waits for the gate to drain.
struct Pass<'a> {
    gate: &'a Gate,
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if self.gate.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.gate.idle.notify_waiters();
        }
    }
}

impl Gate {
    /// An open gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Waits until a call may go through (forever, once the gate is closed: the operation
    /// making the call is then stopped at this point).
    async fn enter(&self) -> Pass<'_> {
        if self.closed.load(Ordering::Acquire) {
            std::future::pending::<()>().await;
        }
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        // Closed between the check and the count: step back and wait like the others.
        if self.closed.load(Ordering::Acquire) {
            drop(Pass { gate: self });
            std::future::pending::<()>().await;
        }
        Pass { gate: self }
    }

    /// Provider calls in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Whether the gate is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the gate and waits (at most `timeout`) until no call is in flight; `true`
    /// when every call settled in time.
    pub async fn close_and_drain(&self, timeout: Duration) -> bool {
        self.closed.store(true, Ordering::Release);
        let drained = async {
            loop {
                let idle = self.idle.notified();
                if self.in_flight() == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(timeout, drained).await.is_ok()
    }
}

/// The engine's view of the store, counting batches, so that shutdown can tell when the
/// engines have recorded the results of their last provider calls.
pub(crate) struct CountingStore {
    inner: Arc<dyn ServerStore>,
    started: AtomicU64,
    in_flight: AtomicUsize,
}

impl CountingStore {
    pub(crate) fn new(inner: Arc<dyn ServerStore>) -> CountingStore {
        CountingStore {
            inner,
            started: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Waits (until `deadline` at the latest) for a quiet moment: no batch being applied
    /// and none started during one tick. `true` when it came before the deadline.
    pub(crate) async fn settle(&self, deadline: tokio::time::Instant) -> bool {
        const TICK: Duration = Duration::from_millis(20);
        loop {
            let seen = self.started.load(Ordering::Acquire);
            if tokio::time::Instant::now() + TICK > deadline {
                return false;
            }
            tokio::time::sleep(TICK).await;
            if self.in_flight.load(Ordering::Acquire) == 0
                && self.started.load(Ordering::Acquire) == seen
            {
                return true;
            }
        }
    }
}

/// Counts a batch being applied.
struct Applying<'a>(&'a AtomicUsize);

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        self.started.fetch_add(1, Ordering::AcqRel);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let _applying = Applying(&self.in_flight);
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

    async fn snapshots(&self, stack_id: &str) -> Result<Vec<SnapshotRecord>, StoreError> {
        self.inner.snapshots(stack_id).await
    }

    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        self.inner.reserve_resource_ids(count).await
    }
}

/// A provider whose calls pass through a gate.
struct Gated {
    inner: Arc<dyn ResourceProvider>,
    gate: Arc<Gate>,
}

/// The registry with every provider's calls passing through `gate` (the global registry is
/// kept).
pub fn gate_registry(registry: &ProviderRegistry, gate: &Arc<Gate>) -> ProviderRegistry {
    let mut out = registry.clone();
    for type_name in registry.types() {
        if let Some(provider) = registry.get(type_name) {
            out.register(
                type_name,
                Arc::new(Gated {
                    inner: Arc::clone(provider),
                    gate: Arc::clone(gate),
                }),
            );
        }
    }
    out
}

#[async_trait]
impl ResourceProvider for Gated {
    fn schema(&self) -> &ResourceSchema {
        self.inner.schema()
    }

    fn watches_dependencies(&self) -> bool {
        self.inner.watches_dependencies()
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.create(ctx, properties).await
    }

    async fn check_create(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.check_create(ctx, physical_id).await
    }

    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
        old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.update(ctx, physical_id, old, new).await
    }

    async fn check_update(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.check_update(ctx, physical_id).await
    }

    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.delete(ctx, physical_id).await
    }

    async fn check_delete(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.check_delete(ctx, physical_id).await
    }

    async fn attribute(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.attribute(ctx, physical_id, name).await
    }

    fn reference_id(&self, ctx: &ResourceContext<'_>, physical_id: &str) -> Option<String> {
        self.inner.reference_id(ctx, physical_id)
    }

    async fn suspend(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.suspend(ctx, physical_id).await
    }

    async fn resume(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.resume(ctx, physical_id).await
    }

    async fn check_suspend(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.check_suspend(ctx, physical_id).await
    }

    async fn check_resume(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.check_resume(ctx, physical_id).await
    }

    async fn check(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<(), ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.check(ctx, physical_id).await
    }

    async fn snapshot(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<ResourceData, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.snapshot(ctx, physical_id).await
    }

    async fn restore(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
        snapshot: &ResourceData,
    ) -> Result<Option<Properties>, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.restore(ctx, physical_id, snapshot).await
    }

    async fn adopt(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
        data: &ResourceData,
    ) -> Result<(), ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.adopt(ctx, physical_id, data).await
    }

    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
        details: &Value,
    ) -> Result<ResourceData, ProviderError> {
        let _pass = self.gate.enter().await;
        self.inner.signal(ctx, physical_id, details).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use heat_core::engine::services::{SeededRandom, Services};
    use std::collections::BTreeMap;

    #[tokio::test(start_paused = true)]
    async fn a_closed_gate_lets_calls_in_flight_finish_and_holds_new_ones() {
        let gate = Arc::new(Gate::new());
        let registry = gate_registry(&ProviderRegistry::with_builtins(), &gate);
        assert_eq!(
            registry.types(),
            ProviderRegistry::with_builtins().types(),
            "every type is kept"
        );
        let provider = registry.get("OS::Heat::None").cloned().unwrap();
        let services = Services::new(
            Arc::new(crate::clock::WallClock),
            Arc::new(SeededRandom::new(1)),
        );
        let data = BTreeMap::new();
        let ctx = ResourceContext {
            stack_id: "s",
            stack_name: "stack",
            resource_name: "r",
            resource_type: "OS::Heat::None",
            idempotency_token: "t",
            data: &data,
            services: &services,
            peers: &[],
        };
        // Open: a call goes through.
        let created = provider.create(&ctx, &Properties::new()).await.unwrap();
        assert_eq!(gate.in_flight(), 0);

        // A call in flight holds the drain until it is done.
        let pass = gate.enter().await;
        let drain = gate.close_and_drain(Duration::from_secs(3600));
        tokio::pin!(drain);
        assert!(
            drain.as_mut().now_or_never().is_none(),
            "a call is in flight"
        );
        drop(pass);
        assert!(drain.await, "the gate drained once the call finished");
        assert!(gate.is_closed());

        // Closed: a new call never reaches the provider.
        let held = provider.delete(&ctx, &created.physical_id);
        tokio::pin!(held);
        assert!(held.as_mut().now_or_never().is_none());
        assert_eq!(gate.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn draining_gives_up_after_the_timeout() {
        let gate = Gate::new();
        let _stuck = gate.enter().await;
        assert!(!gate.close_and_drain(Duration::from_secs(5)).await);
    }
}
