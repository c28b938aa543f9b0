//! Stack actions over the current resources: suspend (dependents first), resume, check,
//! snapshot and restore (dependencies first).
//!
//! Suspend and resume stop at the first failure, as create does. Check visits every
//! resource even when some fail (a check changes nothing, and the user wants the whole
//! picture); a resource that fails its check is `CHECK_FAILED` and is replaced at the next
//! update. A type without a check handler passes, as in Heat.
//!
//! Snapshot asks each resource's provider for its snapshot data and keeps it in the run's
//! snapshot record (stored when the pass ends). Restore hands a resource that still has the
//! physical id it had in the snapshot its snapshot data (`ResourceProvider::restore`); a
//! type without a restore handler is brought back by the update to the snapshot's
//! definition that follows the pass.

use std::sync::Arc;

use crate::engine::provider::{Progress, ProviderError};
use crate::engine::queue::{DependencyQueue, QueueBuilder};
use crate::engine::state::{Action, State, Status};
use crate::engine::store::SnapshotResource;

use super::EngineError;
use super::run::{Finished, Mode, Op, Reply, Run, failure_reason, nid};

impl Mode {
    fn action(self) -> Action {
        match self {
            Mode::Suspend => Action::Suspend,
            Mode::Resume => Action::Resume,
            Mode::Snapshot => Action::Snapshot,
            Mode::Restore => Action::Restore,
            _ => Action::Check,
        }
    }
}

impl Run {
    /// The queue of a stack action over the template's resources.
    pub(super) fn action_queue(&mut self, mode: Mode) -> Result<DependencyQueue, EngineError> {
        let mut builder = if mode == Mode::Suspend {
            QueueBuilder::for_delete(&self.graph)
        } else {
            QueueBuilder::for_create(&self.graph)
        };
        builder.set_limit(self.config().concurrency);
        let mut queue = builder
            .seal()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let action = mode.action();
        for slot in 0..self.slots.len() {
            let Some(rec) = self.slots[slot].current else {
                let _ = queue.mark_done(nid(slot));
                continue;
            };
            let state = self.records[rec].record.state;
            // Done during this operation (it is being resumed); a snapshot's data is kept
            // only when the pass ends, so snapshots are taken again.
            let done_now = self.resuming
                && self.records[rec].record.operation == self.stack.operation
                && mode != Mode::Snapshot;
            if state == State::new(action, Status::Complete) && done_now {
                let _ = queue.mark_done(nid(slot));
            } else if state == State::new(action, Status::InProgress)
                && queue.mark_running(nid(slot)).is_ok()
            {
                let pid = self.physical_id(rec);
                let op = match mode {
                    Mode::Suspend => Op::Suspend(pid),
                    Mode::Resume => Op::Resume(pid),
                    Mode::Snapshot => Op::Snapshot(pid),
                    Mode::Restore => match self.restore_data(rec) {
                        Some(data) => Op::Restore(pid, data),
                        None => Op::Check(pid),
                    },
                    _ => Op::Check(pid),
                };
                self.deferred.push((slot, rec, op));
            }
        }
        Ok(queue)
    }

    /// The snapshot data to restore a record from: the snapshot's entry of its name, when
    /// the record still has the physical id the snapshot saw.
    fn restore_data(&self, rec: usize) -> Option<crate::engine::provider::ResourceData> {
        let record = &self.records.get(rec)?.record;
        let entry = self.snapshot.as_ref()?.resources.get(&record.name)?;
        (entry.physical_id.is_some() && entry.physical_id == record.physical_id)
            .then(|| entry.data.clone())
    }

    pub(super) fn begin_action(&mut self, queue: &mut DependencyQueue, slot: usize, mode: Mode) {
        let Some(rec) = self.slots.get(slot).and_then(|s| s.current) else {
            let _ = queue.complete(nid(slot));
            return;
        };
        let Some(pid) = self.records[rec].record.physical_id.clone() else {
            let _ = queue.complete(nid(slot));
            return;
        };
        if self.records[rec].provider.is_none() {
            let _ = queue.complete(nid(slot));
            return;
        }
        let action = mode.action();
        let restore = if mode == Mode::Restore {
            match self.restore_data(rec) {
                Some(data) => Some(data),
                None => {
                    // Not in the snapshot, or replaced since: the update that follows
                    // brings it to the snapshot's definition.
                    let _ = queue.complete(nid(slot));
                    return;
                }
            }
        } else {
            None
        };
        self.transition(rec, State::new(action, Status::InProgress), "state changed");
        let op = match (mode, restore) {
            (Mode::Suspend, _) => Op::Suspend(pid),
            (Mode::Resume, _) => Op::Resume(pid),
            (Mode::Snapshot, _) => Op::Snapshot(pid),
            (Mode::Restore, Some(data)) => Op::Restore(pid, data),
            _ => Op::Check(pid),
        };
        self.deferred.push((slot, rec, op));
    }

    pub(super) fn finish_action(
        &mut self,
        queue: &mut DependencyQueue,
        (slot, rec, _kind, result): Finished,
        mode: Mode,
    ) {
        let action = mode.action();
        match result {
            Ok(Reply::Snapshot(data)) => {
                let record = &self.records[rec].record;
                let entry = SnapshotResource {
                    resource_type: record.resource_type.to_string(),
                    physical_id: record.physical_id.clone(),
                    properties: record.properties.clone(),
                    data,
                };
                let name = record.name.clone();
                if let Some(snapshot) = self.snapshot.as_mut() {
                    snapshot.resources.insert(name, entry);
                }
                self.transition(rec, State::new(action, Status::Complete), "state changed");
                let _ = queue.complete(nid(slot));
            }
            Ok(Reply::Restored(properties)) => {
                if let Some(properties) = properties {
                    Arc::make_mut(&mut self.records[rec].record).properties = properties;
                }
                self.transition(rec, State::new(action, Status::Complete), "state changed");
                let _ = queue.complete(nid(slot));
            }
            Err(ProviderError::NotSupported { .. }) if mode == Mode::Restore => {
                let ty = self.records[rec].record.resource_type.clone();
                self.transition(
                    rec,
                    State::new(Action::Restore, Status::Complete),
                    &format!(
                        "{ty} does not implement restore: the update to the snapshot's \
                         definition brings it back"
                    ),
                );
                let _ = queue.complete(nid(slot));
            }
            Ok(Reply::Progress(Progress::Done)) | Ok(Reply::Done) => {
                self.transition(rec, State::new(action, Status::Complete), "state changed");
                let _ = queue.complete(nid(slot));
            }
            Ok(Reply::Progress(Progress::CheckAfter(_))) if self.timed_out => {
                self.fail(queue, slot, rec, action, "Timed out");
            }
            Ok(Reply::Progress(Progress::CheckAfter(delay))) => {
                let pid = self.physical_id(rec);
                let op = if mode == Mode::Suspend {
                    Op::CheckSuspend(pid, delay)
                } else {
                    Op::CheckResume(pid, delay)
                };
                self.deferred.push((slot, rec, op));
            }
            Err(ProviderError::NotSupported { .. }) if mode == Mode::Check => {
                let ty = self.records[rec].record.resource_type.clone();
                self.transition(
                    rec,
                    State::new(Action::Check, Status::Complete),
                    &format!("{ty} does not implement a check: its recorded state is taken as is"),
                );
                let _ = queue.complete(nid(slot));
            }
            Err(e) if mode == Mode::Check => {
                // Every resource is checked: record the failure, do not stop.
                let reason = e.to_string();
                self.transition(rec, State::new(Action::Check, Status::Failed), &reason);
                let _ = queue.complete(nid(slot));
                if self.failure.is_none() {
                    let name = self.records[rec].record.name.clone();
                    self.failure = Some(failure_reason(Action::Check, &name, &reason));
                }
            }
            Err(e) => self.fail(queue, slot, rec, action, &e.to_string()),
            Ok(_) => {
                let _ = queue.complete(nid(slot));
            }
        }
    }
}
