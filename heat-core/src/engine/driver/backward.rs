//! Backward traversals over the records: stack delete, rollback of a failed create, and the
//! clean-up after an update (replaced resources and resources the new template removed).
//!
//! The order comes from the records themselves: a record is deleted only after every record
//! of the traversal that `requires` it is gone. Deletion policies apply (`Retain` keeps the
//! physical resource, `Snapshot` snapshots it first on stack delete, CloudFormation's
//! `RetainExceptOnCreate` deletes only when rolling back a create).

use std::collections::HashMap;

use std::sync::Arc;

use crate::engine::provider::{Progress, ProviderError};
use crate::engine::queue::{DependencyQueue, Edge, QueueBuilder};
use crate::engine::state::{Action, State, Status};
use crate::environment::Hook;
use crate::template::model::DeletionPolicy;

use super::EngineError;
use super::run::{Finished, Mode, Op, OpKind, Reply, Run, nid};

impl Run {
    /// The records a backward traversal deletes.
    fn in_scope(&self, rec: usize, mode: Mode) -> bool {
        let Some(r) = self.records.get(rec) else {
            return false;
        };
        if r.removed {
            return false;
        }
        match mode {
            Mode::Cleanup => !self.is_current(rec),
            _ => true,
        }
    }

    /// The queue of a backward traversal over the records, with deletes in flight put back.
    pub(super) fn backward_queue(&mut self, mode: Mode) -> Result<DependencyQueue, EngineError> {
        let n = self.records.len();
        let mut builder = QueueBuilder::with_capacity(n, n);
        builder.set_limit(self.config().concurrency);
        for _ in 0..n {
            builder.add_node(1);
        }
        let index: HashMap<u64, usize> = self
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.record.id, i))
            .collect();
        let scope: Vec<bool> = (0..n).map(|i| self.in_scope(i, mode)).collect();
        for (waiter_of, r) in self.records.iter().enumerate() {
            if !scope[waiter_of] {
                continue;
            }
            for required in &r.record.requires {
                if let Some(&dep) = index.get(required)
                    && scope[dep]
                    && dep != waiter_of
                {
                    // `dep` is deleted after the record that requires it.
                    builder
                        .add_edge(nid(dep), nid(waiter_of), Edge::Completed)
                        .map_err(|e| EngineError::Internal(e.to_string()))?;
                }
            }
        }
        let mut queue = builder
            .seal()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        for (rec, in_scope) in scope.into_iter().enumerate() {
            let id = nid(rec);
            if !in_scope {
                let _ = queue.mark_done(id);
                continue;
            }
            let record = &self.records[rec].record;
            let deleting = record.state == State::new(Action::Delete, Status::InProgress);
            if deleting && record.physical_id.is_some() && queue.mark_running(id).is_ok() {
                let op = if record.hook.is_some() {
                    Op::HookWait(std::time::Duration::ZERO)
                } else {
                    Op::Delete(self.physical_id(rec))
                };
                self.deferred.push((rec, rec, op));
            }
        }
        Ok(queue)
    }

    /// Starts deleting a record.
    pub(super) fn begin_backward(&mut self, queue: &mut DependencyQueue, rec: usize, mode: Mode) {
        let Some(r) = self.records.get(rec) else {
            let _ = queue.complete(nid(rec));
            return;
        };
        let Some(physical_id) = r.record.physical_id.clone() else {
            let create_issued = r.record.state == State::new(Action::Create, Status::InProgress)
                && !r.record.idempotency_token.is_empty()
                && r.record.hook.is_none()
                && r.provider.is_some();
            if create_issued {
                // The engine stopped after asking for this create and before recording the
                // physical id: the resource may exist. Repeat the create with the same token
                // (the provider hands back what it made) to learn the id, then delete it.
                let properties = r.record.properties.clone();
                self.deferred.push((rec, rec, Op::Create(properties)));
                return;
            }
            // Nothing exists remotely.
            self.remove_record(rec);
            let _ = queue.complete(nid(rec));
            return;
        };
        let policy = r.record.deletion_policy;
        let retain = match policy {
            DeletionPolicy::Retain => true,
            DeletionPolicy::RetainExceptOnCreate => mode != Mode::Rollback,
            DeletionPolicy::Delete | DeletionPolicy::Snapshot => false,
        };
        let snapshot = policy == DeletionPolicy::Snapshot && mode == Mode::Delete;
        if retain || r.provider.is_none() {
            let reason = if retain {
                "the resource is retained (deletion policy Retain)"
            } else {
                "there is no provider for the type: nothing to delete"
            };
            self.transition(rec, State::new(Action::Delete, Status::Complete), reason);
            self.remove_record(rec);
            let _ = queue.complete(nid(rec));
            return;
        }
        if self.pause_at(
            rec,
            Hook::PreDelete,
            State::new(Action::Delete, Status::InProgress),
        ) {
            self.deferred
                .push((rec, rec, Op::HookWait(self.config().poll_interval)));
            return;
        }
        self.transition(
            rec,
            State::new(Action::Delete, Status::InProgress),
            "state changed",
        );
        let op = if snapshot {
            Op::Snapshot(physical_id)
        } else {
            Op::Delete(physical_id)
        };
        self.deferred.push((rec, rec, op));
    }

    /// A finished backward step.
    pub(super) fn finish_backward(
        &mut self,
        queue: &mut DependencyQueue,
        (node, rec, kind, result): Finished,
        mode: Mode,
    ) {
        match (kind, result) {
            (_, Ok(Reply::Created(created))) => {
                let record = Arc::make_mut(&mut self.records[rec].record);
                record.physical_id = Some(created.physical_id);
                record.data = created.data;
                self.put_record(rec);
                self.begin_backward(queue, rec, mode);
            }
            (_, Ok(Reply::Progress(progress))) => self.after_delete(queue, rec, progress),
            (_, Ok(Reply::Snapshot(data))) => {
                Arc::make_mut(&mut self.records[rec].record)
                    .data
                    .extend(data);
                self.put_record(rec);
                let pid = self.physical_id(rec);
                self.deferred.push((node, rec, Op::Delete(pid)));
            }
            (OpKind::Snapshot, Err(ProviderError::NotSupported { .. })) => {
                let pid = self.physical_id(rec);
                self.deferred.push((node, rec, Op::Delete(pid)));
            }
            (OpKind::Delete, Err(ProviderError::NotFound(_))) => self.deleted(queue, rec),
            // The repeated create (to learn an unrecorded physical id) failed: then the
            // interrupted one made nothing either.
            (OpKind::Create, Err(_)) => {
                self.remove_record(rec);
                let _ = queue.complete(nid(rec));
            }
            (_, Ok(Reply::Hook(hook))) => {
                if hook.is_some() {
                    self.deferred
                        .push((node, rec, Op::HookWait(self.config().poll_interval)));
                    return;
                }
                let held = Arc::make_mut(&mut self.records[rec].record).hook.take();
                if held.as_deref() == Some(Hook::PostDelete.name()) {
                    self.deleted(queue, rec);
                    return;
                }
                self.transition(
                    rec,
                    State::new(Action::Delete, Status::InProgress),
                    "state changed",
                );
                let pid = self.physical_id(rec);
                self.deferred.push((node, rec, Op::Delete(pid)));
            }
            (_, Ok(_)) => {}
            (_, Err(e)) => self.fail(queue, node, rec, Action::Delete, &e.to_string()),
        }
    }

    fn after_delete(&mut self, queue: &mut DependencyQueue, rec: usize, progress: Progress) {
        match progress {
            Progress::Done => {
                if self.pause_at(
                    rec,
                    Hook::PostDelete,
                    State::new(Action::Delete, Status::InProgress),
                ) {
                    self.deferred
                        .push((rec, rec, Op::HookWait(self.config().poll_interval)));
                    return;
                }
                self.deleted(queue, rec);
            }
            Progress::CheckAfter(_) if self.timed_out => {
                self.fail(queue, rec, rec, Action::Delete, "Timed out");
            }
            Progress::CheckAfter(delay) => {
                let pid = self.physical_id(rec);
                self.deferred.push((rec, rec, Op::CheckDelete(pid, delay)));
            }
        }
    }

    /// A resource is gone: `DELETE_COMPLETE`, the record removed.
    fn deleted(&mut self, queue: &mut DependencyQueue, rec: usize) {
        self.transition(
            rec,
            State::new(Action::Delete, Status::Complete),
            "state changed",
        );
        self.remove_record(rec);
        let _ = queue.complete(nid(rec));
    }
}
