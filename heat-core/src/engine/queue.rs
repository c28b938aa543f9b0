//! The scheduler's pure state machine: which resource action may start now.
//!
//! [`DependencyQueue`] knows nothing of providers, time, threads or the store. The async drive
//! loop asks it for the next node to start ([`DependencyQueue::next_ready`]), runs the
//! node's action, and reports how it ended ([`DependencyQueue::complete`] or
//! [`DependencyQueue::fail`]); the queue moves the dependents whose dependencies are now all
//! satisfied into the ready set. Create, delete, update and rollback traversals all use it:
//! only the nodes and edges differ (a delete traversal is the create graph with every edge
//! reversed, see [`QueueBuilder::for_delete`]).
//!
//! Two phases, two types:
//! - [`QueueBuilder`] collects nodes ([`QueueBuilder::add_node`], with a cost) and edges
//!   ([`QueueBuilder::add_edge`]: "the waiter waits for the dependency", typed by [`Edge`]);
//! - [`QueueBuilder::seal`] checks that there is no cycle, computes every node's priority
//!   and returns the [`DependencyQueue`], which only changes node states from then on.
//!
//! Scheduling rules:
//! - **Event-driven.** A node becomes [`NodeState::Ready`] the moment its last unsatisfied
//!   edge is satisfied, not level by level.
//! - **Longest chain first.** A node's priority is the cost of the most expensive path of
//!   dependents behind it, itself included: `priority(n) = cost(n) + max(priority(d))` over
//!   the nodes `d` that wait for `n` (just `cost(n)` when none does). Among ready nodes the
//!   highest priority starts first; ties go to the node added first (document order, as
//!   [`QueueBuilder::for_create`] adds a template's resources in document order).
//! - **Bounded.** An optional concurrency limit caps the number of running nodes.
//! - **Failure.** A failed node's transitive dependents become [`NodeState::Skipped`] and are
//!   never returned; unrelated nodes go on. [`DependencyQueue::stop`] (what the engine does
//!   after the first failure) starts nothing new while in-flight nodes may still finish.
//! - **Resume.** An engine restarting from the store pre-marks nodes as done
//!   ([`DependencyQueue::mark_done`]) or as running ([`DependencyQueue::mark_running`], to be
//!   re-checked) before it drives the queue.
//!
//! Cost: nodes are dense indices ([`NodeId`]) into vectors, edges are stored twice in
//! compressed (CSR) form, the ready set is a binary heap. Starting a node is `O(log n)`,
//! finishing one is `O(d log n)` for `d` dependents, and after [`seal`] nothing allocates
//! per step (the ready heap and the work list used to skip dependents only grow, amortized).
//! About 56 bytes per node plus 16 per edge. Sealing is iterative (Kahn's algorithm), so a
//! 100,000-node chain cannot overflow the stack.
//!
//! [`seal`]: QueueBuilder::seal

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::num::NonZeroUsize;
use std::ops::Range;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use crate::graph::DependencyGraph;

/// A node of a [`DependencyQueue`]: a dense index, `0..len` in the order nodes were added.
///
/// For a queue built by [`QueueBuilder::for_create`] or [`QueueBuilder::for_delete`], node
/// `i` is the resource at petgraph index `i` of the [`DependencyGraph`] (its `i`-th resource
/// in document order); [`NodeId::name_in`] gives its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u32);

impl NodeId {
    /// The node with this index.
    pub const fn new(index: u32) -> Self {
        NodeId(index)
    }

    /// The index, as a `usize` for indexing the caller's own per-node vectors.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The index as stored.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The name of the resource this node stands for in `graph` (when the queue was built
    /// from it), `None` when the graph has no such node.
    pub fn name_in(self, graph: &DependencyGraph) -> Option<&str> {
        graph
            .graph()
            .node_weight(NodeIndex::new(self.index()))
            .map(|node| &*node.name)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a waiter waits for when it waits for a dependency: the kind of an edge.
///
/// Edges are "A waits for B". The kind says which point of B's action releases A (the way
/// cargo lets a dependent start on a dependency's metadata before its full build).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Wait until the dependency's action has completed ([`NodeState::Done`]). The edge of
    /// create (A uses B), delete (B is deleted once A, which uses it, is gone) and rollback.
    Completed,
    /// Wait until the dependency reports that its replacement is ready
    /// ([`DependencyQueue::replacement_ready`]: during an update, the new physical resource
    /// of a replaced resource exists and can be referred to), or until it has completed,
    /// whichever comes first. It lets one node carry a whole replacement (create the new
    /// resource, then delete the old one) while its dependents, which only need the new
    /// resource, start as soon as the first half is done; a waiter that must wait for the
    /// old resource to be deleted uses [`Edge::Completed`] instead.
    ReplacementReady,
}

/// Where a node is in its life. Every node starts [`Waiting`](NodeState::Waiting) or
/// [`Ready`](NodeState::Ready) and ends [`Done`](NodeState::Done),
/// [`Failed`](NodeState::Failed) or [`Skipped`](NodeState::Skipped) unless the traversal is
/// stopped first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// Some dependency has not yet satisfied its edge.
    Waiting,
    /// Every edge is satisfied; the node waits for its turn (priority, concurrency limit).
    Ready,
    /// Returned by [`DependencyQueue::next_ready`] (or pre-marked running) and not yet
    /// reported back.
    Running,
    /// Its action completed.
    Done,
    /// Its action failed.
    Failed,
    /// A dependency failed or was skipped, so its action will never run.
    Skipped,
}

impl NodeState {
    /// Whether the node will never change state again (done, failed or skipped).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            NodeState::Done | NodeState::Failed | NodeState::Skipped
        )
    }

    /// A lower-case name for messages (`"running"`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Waiting => "waiting",
            NodeState::Ready => "ready",
            NodeState::Running => "running",
            NodeState::Done => "done",
            NodeState::Failed => "failed",
            NodeState::Skipped => "skipped",
        }
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many nodes are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueCounts {
    /// Nodes waiting for a dependency.
    pub waiting: usize,
    /// Nodes ready to start.
    pub ready: usize,
    /// Nodes running.
    pub running: usize,
    /// Nodes done.
    pub done: usize,
    /// Nodes failed.
    pub failed: usize,
    /// Nodes skipped because a dependency failed.
    pub skipped: usize,
}

impl QueueCounts {
    /// Nodes that have not started yet (waiting or ready).
    pub fn pending(&self) -> usize {
        self.waiting + self.ready
    }

    /// Every node.
    pub fn total(&self) -> usize {
        self.waiting + self.ready + self.running + self.done + self.failed + self.skipped
    }

    /// The counter of one state.
    fn of_mut(&mut self, state: NodeState) -> &mut usize {
        match state {
            NodeState::Waiting => &mut self.waiting,
            NodeState::Ready => &mut self.ready,
            NodeState::Running => &mut self.running,
            NodeState::Done => &mut self.done,
            NodeState::Failed => &mut self.failed,
            NodeState::Skipped => &mut self.skipped,
        }
    }
}

/// What went wrong building or driving a queue. Apart from [`QueueError::Cycle`] (a
/// property of the input graph), every error is a misuse by the caller; the queue is left
/// unchanged by a call that returns an error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// A node id that the queue never handed out.
    #[error("unknown node {node}: the queue has {len} nodes")]
    UnknownNode {
        /// The id given.
        node: NodeId,
        /// The number of nodes in the queue.
        len: usize,
    },
    /// More nodes than a [`NodeId`] can number (`u32::MAX - 1`).
    #[error("too many nodes: a queue holds at most {max}")]
    TooManyNodes {
        /// The largest number of nodes.
        max: usize,
    },
    /// The edges form a cycle, so no order exists.
    #[error("circular dependency: {}", display_cycle(path))]
    Cycle {
        /// One cycle, each node waiting for the next and the last waiting for the first,
        /// starting at its lowest id (a self-loop is one node).
        path: Vec<NodeId>,
    },
    /// The node is not in a state that allows the operation (e.g. completing a node that is
    /// not running).
    #[error("cannot {operation} node {node}: it is {state}")]
    InvalidTransition {
        /// The node.
        node: NodeId,
        /// Its state.
        state: NodeState,
        /// The operation attempted (`"complete"`, `"fail"`, ...).
        operation: &'static str,
    },
}

/// `#0 -> #2 -> #1 -> #0`.
fn display_cycle(path: &[NodeId]) -> String {
    let mut out = String::new();
    for node in path.iter().chain(path.first()) {
        if !out.is_empty() {
            out.push_str(" -> ");
        }
        out.push_str(&node.to_string());
    }
    out
}

/// The largest number of nodes: ids are `u32`, and `u32::MAX` is never a valid id.
const MAX_NODES: usize = u32::MAX as usize - 1;

/// One end of an edge, as stored in the compressed adjacency lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Link {
    /// The node at the other end.
    node: u32,
    /// The edge's kind.
    edge: Edge,
}

/// Collects the nodes and edges of a traversal; [`QueueBuilder::seal`] turns it into a
/// [`DependencyQueue`].
#[derive(Clone, Debug, Default)]
pub struct QueueBuilder {
    /// The cost of each node, by index.
    costs: Vec<u32>,
    /// `(waiter, dependency, kind)`, in the order added.
    edges: Vec<(u32, u32, Edge)>,
    /// The concurrency limit, if any.
    limit: Option<NonZeroUsize>,
    /// Set when more than [`MAX_NODES`] nodes were added.
    overflow: bool,
}

impl QueueBuilder {
    /// An empty builder with no concurrency limit.
    pub fn new() -> Self {
        QueueBuilder::default()
    }

    /// An empty builder with room for `nodes` nodes and `edges` edges.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        QueueBuilder {
            costs: Vec::with_capacity(nodes),
            edges: Vec::with_capacity(edges),
            ..QueueBuilder::default()
        }
    }

    /// A builder for creating the resources of `graph`: node `i` is the graph's resource
    /// `i` (document order), with cost 1, and each resource waits for the completion of
    /// every resource it depends on ([`Edge::Completed`]). Costs, the limit and more edges
    /// can still be set before [`seal`](QueueBuilder::seal).
    pub fn for_create(graph: &DependencyGraph) -> Self {
        QueueBuilder::from_graph(graph, false)
    }

    /// A builder for deleting the resources of `graph`: the edges of
    /// [`for_create`](QueueBuilder::for_create) reversed, so a resource is deleted only
    /// after every resource that depends on it is gone.
    pub fn for_delete(graph: &DependencyGraph) -> Self {
        QueueBuilder::from_graph(graph, true)
    }

    /// Nodes from the graph's resources, edges from its dependencies (reversed for delete).
    fn from_graph(graph: &DependencyGraph, reverse: bool) -> Self {
        let inner = graph.graph();
        let mut builder = QueueBuilder::with_capacity(inner.node_count(), inner.edge_count());
        for _ in 0..inner.node_count() {
            builder.add_node(1);
        }
        // petgraph's default index type is u32, so these never truncate.
        for edge in inner.edge_references() {
            let dependent = edge.source().index() as u32;
            let dependency = edge.target().index() as u32;
            let (waiter, waited) = if reverse {
                (dependency, dependent)
            } else {
                (dependent, dependency)
            };
            builder.edges.push((waiter, waited, Edge::Completed));
        }
        builder
    }

    /// Sets the concurrency limit: at most this many nodes run at once (`None`: no limit).
    pub fn set_limit(&mut self, limit: Option<NonZeroUsize>) -> &mut Self {
        self.limit = limit;
        self
    }

    /// The number of nodes added.
    pub fn len(&self) -> usize {
        self.costs.len()
    }

    /// Whether no node was added.
    pub fn is_empty(&self) -> bool {
        self.costs.is_empty()
    }

    /// Adds a node with a cost (the weight of its action in the priority; use 1 when all
    /// actions are alike) and returns its id: ids are handed out `0, 1, 2, ...`.
    ///
    /// Past `u32::MAX - 1` nodes the id returned is invalid (every use of it is an
    /// [`QueueError::UnknownNode`]) and [`seal`](QueueBuilder::seal) fails with
    /// [`QueueError::TooManyNodes`].
    pub fn add_node(&mut self, cost: u32) -> NodeId {
        if self.costs.len() >= MAX_NODES {
            self.overflow = true;
            return NodeId(u32::MAX);
        }
        let id = NodeId(self.costs.len() as u32);
        self.costs.push(cost);
        id
    }

    /// Changes the cost of a node.
    pub fn set_cost(&mut self, node: NodeId, cost: u32) -> Result<(), QueueError> {
        let len = self.costs.len();
        let slot = self
            .costs
            .get_mut(node.index())
            .ok_or(QueueError::UnknownNode { node, len })?;
        *slot = cost;
        Ok(())
    }

    /// Adds an edge: `waiter` waits for `dependency`, as `edge` says. A node waiting for
    /// itself is a cycle (reported by [`seal`](QueueBuilder::seal)); an edge added twice
    /// counts twice, which changes nothing.
    pub fn add_edge(
        &mut self,
        waiter: NodeId,
        dependency: NodeId,
        edge: Edge,
    ) -> Result<(), QueueError> {
        let len = self.costs.len();
        for node in [waiter, dependency] {
            if node.index() >= len {
                return Err(QueueError::UnknownNode { node, len });
            }
        }
        self.edges.push((waiter.0, dependency.0, edge));
        Ok(())
    }

    /// Checks the graph, computes the priorities and returns the queue, with every node that
    /// waits for nothing ready.
    ///
    /// Fails with [`QueueError::Cycle`] (naming one cycle) when the edges form a cycle, and
    /// with [`QueueError::TooManyNodes`] after too many nodes were added.
    pub fn seal(self) -> Result<DependencyQueue, QueueError> {
        if self.overflow {
            return Err(QueueError::TooManyNodes { max: MAX_NODES });
        }
        let count = self.costs.len();
        let (dependency_start, dependencies) = compress(count, &self.edges, |&(w, d, e)| {
            (w, Link { node: d, edge: e })
        });
        let (dependent_start, dependents) = compress(count, &self.edges, |&(w, d, e)| {
            (d, Link { node: w, edge: e })
        });
        drop(self.edges);

        // Kahn's algorithm: `order` lists the nodes dependencies first.
        let mut unsatisfied: Vec<usize> =
            dependency_start.windows(2).map(|w| w[1] - w[0]).collect();
        let mut order: Vec<u32> = Vec::with_capacity(count);
        order.extend(
            unsatisfied
                .iter()
                .enumerate()
                .filter(|(_, n)| **n == 0)
                .map(|(i, _)| i as u32),
        );
        let mut head = 0;
        while let Some(&node) = order.get(head) {
            head += 1;
            for link in &dependents[range(&dependent_start, node)] {
                let left = &mut unsatisfied[link.node as usize];
                *left -= 1;
                if *left == 0 {
                    order.push(link.node);
                }
            }
        }
        if order.len() < count {
            return Err(QueueError::Cycle {
                path: find_cycle(&unsatisfied, &dependency_start, &dependencies),
            });
        }

        // Priorities, dependents before the nodes they wait for.
        let mut slots: Vec<Slot> = self
            .costs
            .iter()
            .zip(dependency_start.windows(2))
            .map(|(&cost, bounds)| Slot {
                priority: 0,
                unsatisfied: bounds[1] - bounds[0],
                cost,
                state: NodeState::Waiting,
                replacement_ready: false,
            })
            .collect();
        for &node in order.iter().rev() {
            let behind = dependents[range(&dependent_start, node)]
                .iter()
                .map(|link| slots[link.node as usize].priority)
                .max()
                .unwrap_or(0);
            let slot = &mut slots[node as usize];
            slot.priority = u64::from(slot.cost).saturating_add(behind);
        }
        drop(order);

        let mut counts = QueueCounts::default();
        let mut ready = Vec::new();
        for (index, slot) in slots.iter_mut().enumerate() {
            if slot.unsatisfied == 0 {
                slot.state = NodeState::Ready;
                ready.push((slot.priority, Reverse(index as u32)));
                counts.ready += 1;
            } else {
                counts.waiting += 1;
            }
        }
        Ok(DependencyQueue {
            slots,
            dependency_start,
            dependencies,
            dependent_start,
            dependents,
            ready: BinaryHeap::from(ready),
            counts,
            limit: self.limit,
            stopped: false,
            scratch: Vec::new(),
        })
    }
}

/// Groups edges by one of their ends (compressed sparse rows): the links of node `i` are
/// `links[start[i]..start[i + 1]]`, in the order the edges were added.
fn compress(
    count: usize,
    edges: &[(u32, u32, Edge)],
    split: impl Fn(&(u32, u32, Edge)) -> (u32, Link),
) -> (Vec<usize>, Vec<Link>) {
    let mut start = vec![0usize; count + 1];
    for edge in edges {
        start[split(edge).0 as usize + 1] += 1;
    }
    for i in 0..count {
        start[i + 1] += start[i];
    }
    let mut cursor = start.clone();
    let mut links = vec![
        Link {
            node: 0,
            edge: Edge::Completed,
        };
        edges.len()
    ];
    for edge in edges {
        let (key, link) = split(edge);
        let at = &mut cursor[key as usize];
        links[*at] = link;
        *at += 1;
    }
    (start, links)
}

/// The links of `node` in a compressed list.
fn range(start: &[usize], node: u32) -> Range<usize> {
    let node = node as usize;
    start[node]..start[node + 1]
}

/// One cycle among the nodes Kahn's algorithm could not order (`unsatisfied > 0`).
///
/// Each such node waits for at least one other such node, so walking from the lowest one
/// along such dependencies must come back to a node already visited; the cycle is the walk
/// from that node's first visit on, rotated to start at its lowest id.
fn find_cycle(
    unsatisfied: &[usize],
    dependency_start: &[usize],
    dependencies: &[Link],
) -> Vec<NodeId> {
    const UNSEEN: usize = usize::MAX;
    let Some(first) = unsatisfied.iter().position(|&n| n > 0) else {
        return Vec::new();
    };
    let mut seen_at = vec![UNSEEN; unsatisfied.len()];
    let mut path: Vec<u32> = Vec::new();
    let mut node = first as u32;
    loop {
        let at = &mut seen_at[node as usize];
        if *at != UNSEEN {
            path.drain(..*at);
            break;
        }
        *at = path.len();
        path.push(node);
        let next = dependencies[range(dependency_start, node)]
            .iter()
            .find(|link| unsatisfied[link.node as usize] > 0);
        match next {
            Some(link) => node = link.node,
            // Cannot happen (see above); report the walk rather than panic.
            None => break,
        }
    }
    if let Some(lowest) = path
        .iter()
        .enumerate()
        .min_by_key(|(_, n)| **n)
        .map(|(i, _)| i)
    {
        path.rotate_left(lowest);
    }
    path.into_iter().map(NodeId).collect()
}

/// The scheduling data of one node.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The cost of the longest path of dependents behind the node, itself included.
    priority: u64,
    /// The number of edges from this node (as waiter) not yet satisfied.
    unsatisfied: usize,
    /// The node's own cost.
    cost: u32,
    /// Its state.
    state: NodeState,
    /// Whether it reported [`DependencyQueue::replacement_ready`] (its
    /// [`Edge::ReplacementReady`] waiters are released).
    replacement_ready: bool,
}

/// The scheduler state of one traversal (built by [`QueueBuilder::seal`]).
///
/// The drive loop calls [`next_ready`](DependencyQueue::next_ready) until it returns
/// `None`, starts each node returned, and reports each one's end with
/// [`complete`](DependencyQueue::complete) or [`fail`](DependencyQueue::fail); it is over
/// when [`is_finished`](DependencyQueue::is_finished).
///
/// ```
/// use heat_core::engine::queue::{Edge, NodeState, QueueBuilder};
///
/// let mut builder = QueueBuilder::new();
/// let network = builder.add_node(1);
/// let server = builder.add_node(1);
/// builder.add_edge(server, network, Edge::Completed)?;
/// let mut queue = builder.seal()?;
///
/// assert_eq!(queue.next_ready(), Some(network));
/// assert_eq!(queue.next_ready(), None); // the server waits for the network
/// queue.complete(network)?;
/// assert_eq!(queue.next_ready(), Some(server));
/// queue.complete(server)?;
/// assert!(queue.is_finished());
/// assert_eq!(queue.state(server), Some(NodeState::Done));
/// # Ok::<(), heat_core::engine::queue::QueueError>(())
/// ```
#[derive(Clone, Debug)]
pub struct DependencyQueue {
    /// Per node, by index.
    slots: Vec<Slot>,
    /// Where each node's dependencies start in `dependencies`.
    dependency_start: Vec<usize>,
    /// The nodes each node waits for, grouped by waiter.
    dependencies: Vec<Link>,
    /// Where each node's dependents start in `dependents`.
    dependent_start: Vec<usize>,
    /// The nodes waiting for each node, grouped by dependency.
    dependents: Vec<Link>,
    /// The ready set: highest priority first, then lowest id. Entries of nodes that left the
    /// ready state otherwise (pre-marked, failed) stay until popped and are then dropped.
    ready: BinaryHeap<(u64, Reverse<u32>)>,
    /// How many nodes are in each state.
    counts: QueueCounts,
    /// The concurrency limit.
    limit: Option<NonZeroUsize>,
    /// Whether [`DependencyQueue::stop`] was called.
    stopped: bool,
    /// Reused work list for skipping dependents.
    scratch: Vec<u32>,
}

impl DependencyQueue {
    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the queue has no node.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Every node id, in order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        (0..self.slots.len() as u32).map(NodeId)
    }

    /// The nodes in a given state, in id order (e.g. what never started after a stop).
    pub fn nodes_in(&self, state: NodeState) -> impl Iterator<Item = NodeId> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(move |(_, slot)| slot.state == state)
            .map(|(i, _)| NodeId(i as u32))
    }

    /// The state of a node (`None` for an unknown id).
    pub fn state(&self, node: NodeId) -> Option<NodeState> {
        self.slots.get(node.index()).map(|slot| slot.state)
    }

    /// The priority of a node: the cost of the longest path of dependents behind it, its own
    /// cost included.
    pub fn priority(&self, node: NodeId) -> Option<u64> {
        self.slots.get(node.index()).map(|slot| slot.priority)
    }

    /// The cost of a node.
    pub fn cost(&self, node: NodeId) -> Option<u32> {
        self.slots.get(node.index()).map(|slot| slot.cost)
    }

    /// Whether a node has reported [`replacement_ready`](DependencyQueue::replacement_ready).
    pub fn is_replacement_ready(&self, node: NodeId) -> Option<bool> {
        self.slots
            .get(node.index())
            .map(|slot| slot.replacement_ready)
    }

    /// What `node` waits for, in the order the edges were added (empty for an unknown id).
    pub fn dependencies(&self, node: NodeId) -> impl Iterator<Item = (NodeId, Edge)> + '_ {
        links(&self.dependency_start, &self.dependencies, node)
    }

    /// What waits for `node`, in the order the edges were added (empty for an unknown id).
    pub fn dependents(&self, node: NodeId) -> impl Iterator<Item = (NodeId, Edge)> + '_ {
        links(&self.dependent_start, &self.dependents, node)
    }

    /// For a skipped node (or any node), the first dependency (in edge order) that will
    /// never satisfy its edge because it failed or was skipped: the reason to give for the
    /// skip.
    pub fn blocked_by(&self, node: NodeId) -> Option<NodeId> {
        self.dependencies(node).find_map(|(dependency, edge)| {
            let slot = self.slots.get(dependency.index())?;
            let broken = matches!(slot.state, NodeState::Failed | NodeState::Skipped)
                && (edge == Edge::Completed || !slot.replacement_ready);
            broken.then_some(dependency)
        })
    }

    /// How many nodes are in each state.
    pub fn counts(&self) -> QueueCounts {
        self.counts
    }

    /// The concurrency limit.
    pub fn limit(&self) -> Option<NonZeroUsize> {
        self.limit
    }

    /// Whether [`stop`](DependencyQueue::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether the traversal is over: nothing runs and nothing will ever be returned by
    /// [`next_ready`](DependencyQueue::next_ready) (all nodes ended, or the queue is
    /// stopped).
    pub fn is_finished(&self) -> bool {
        self.counts.running == 0 && (self.stopped || self.counts.ready == 0)
    }

    /// Starts the highest-priority ready node: marks it running and returns it.
    ///
    /// `None` when no node is ready, when the concurrency limit is reached (running nodes,
    /// pre-marked ones included, count against it), or after [`stop`](DependencyQueue::stop).
    pub fn next_ready(&mut self) -> Option<NodeId> {
        if self.stopped
            || self
                .limit
                .is_some_and(|limit| self.counts.running >= limit.get())
        {
            return None;
        }
        while let Some((_, Reverse(index))) = self.ready.pop() {
            if let Some(slot) = self.slots.get_mut(index as usize)
                && slot.state == NodeState::Ready
            {
                slot.state = NodeState::Running;
                self.counts.ready -= 1;
                self.counts.running += 1;
                return Some(NodeId(index));
            }
        }
        None
    }

    /// Records that a running node's action completed, and makes ready every node whose
    /// edges are now all satisfied. Returns how many nodes became ready.
    pub fn complete(&mut self, node: NodeId) -> Result<usize, QueueError> {
        self.transition(node, "complete", &[NodeState::Running], NodeState::Done)?;
        Ok(self.release(node, None))
    }

    /// Records that a running node's replacement is ready (during an update: its new
    /// physical resource exists) while the node keeps running, and releases the nodes that
    /// wait for it through [`Edge::ReplacementReady`]. Returns how many nodes became ready
    /// (0 when it was already reported).
    pub fn replacement_ready(&mut self, node: NodeId) -> Result<usize, QueueError> {
        let state = self.checked_state(node)?;
        if state != NodeState::Running {
            return Err(QueueError::InvalidTransition {
                node,
                state,
                operation: "report the replacement ready of",
            });
        }
        let slot = &mut self.slots[node.index()];
        if slot.replacement_ready {
            return Ok(0);
        }
        slot.replacement_ready = true;
        Ok(self.release(node, Some(Edge::ReplacementReady)))
    }

    /// Records that a node failed: usually a running node, but a waiting or ready one may
    /// fail too (e.g. a resource found failed on resume). Every node that waits for it,
    /// directly or not, through an edge it had not yet satisfied becomes skipped and will
    /// never be returned; other nodes are not affected. Returns how many nodes were skipped.
    pub fn fail(&mut self, node: NodeId) -> Result<usize, QueueError> {
        self.transition(
            node,
            "fail",
            &[NodeState::Running, NodeState::Ready, NodeState::Waiting],
            NodeState::Failed,
        )?;
        let mut work = std::mem::take(&mut self.scratch);
        work.clear();
        work.push(node.0);
        let mut skipped = 0;
        while let Some(failed) = work.pop() {
            let released = self.slots[failed as usize].replacement_ready;
            for index in range(&self.dependent_start, failed) {
                let link = self.dependents[index];
                if released && link.edge == Edge::ReplacementReady {
                    continue;
                }
                let waiter = &mut self.slots[link.node as usize];
                // Only a waiting node can still have this edge unsatisfied; a node that is
                // ready, running or done (pre-marked) is left alone.
                if waiter.state == NodeState::Waiting {
                    waiter.state = NodeState::Skipped;
                    self.counts.waiting -= 1;
                    self.counts.skipped += 1;
                    skipped += 1;
                    work.push(link.node);
                }
            }
        }
        self.scratch = work;
        Ok(skipped)
    }

    /// Starts nothing new from now on: [`next_ready`](DependencyQueue::next_ready) returns
    /// `None`, while running nodes may still complete or fail. What the engine does after
    /// the first failure (or on cancel); nodes that never started stay waiting or ready.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Pre-marks a waiting or ready node as done (crash resume: the store says its action
    /// already completed) and releases the nodes waiting for it. Meant to be called before
    /// the traversal starts; returns how many nodes became ready.
    pub fn mark_done(&mut self, node: NodeId) -> Result<usize, QueueError> {
        self.transition(
            node,
            "mark done",
            &[NodeState::Waiting, NodeState::Ready],
            NodeState::Done,
        )?;
        Ok(self.release(node, None))
    }

    /// Pre-marks a waiting or ready node as running (crash resume: its action was in flight
    /// and must be re-checked by the caller, who reports its end like any running node's).
    /// It counts against the concurrency limit. Meant to be called before the traversal
    /// starts.
    pub fn mark_running(&mut self, node: NodeId) -> Result<(), QueueError> {
        self.transition(
            node,
            "mark running",
            &[NodeState::Waiting, NodeState::Ready],
            NodeState::Running,
        )
    }

    /// The state of a node, or the error for an unknown id.
    fn checked_state(&self, node: NodeId) -> Result<NodeState, QueueError> {
        self.state(node).ok_or(QueueError::UnknownNode {
            node,
            len: self.slots.len(),
        })
    }

    /// Moves a node from one of the `from` states to `to`, keeping the counts.
    fn transition(
        &mut self,
        node: NodeId,
        operation: &'static str,
        from: &[NodeState],
        to: NodeState,
    ) -> Result<(), QueueError> {
        let state = self.checked_state(node)?;
        if !from.contains(&state) {
            return Err(QueueError::InvalidTransition {
                node,
                state,
                operation,
            });
        }
        self.slots[node.index()].state = to;
        *self.counts.of_mut(state) -= 1;
        *self.counts.of_mut(to) += 1;
        Ok(())
    }

    /// Satisfies the edges from `node` to its waiters: those of kind `only`, or (`None`) all
    /// not yet satisfied. Returns how many waiters became ready.
    fn release(&mut self, node: NodeId, only: Option<Edge>) -> usize {
        let already = self.slots[node.index()].replacement_ready && only.is_none();
        let mut readied = 0;
        for index in range(&self.dependent_start, node.0) {
            let link = self.dependents[index];
            let satisfied = match only {
                Some(kind) => link.edge == kind,
                None => !(already && link.edge == Edge::ReplacementReady),
            };
            if !satisfied {
                continue;
            }
            let waiter = &mut self.slots[link.node as usize];
            waiter.unsatisfied = waiter.unsatisfied.saturating_sub(1);
            if waiter.unsatisfied == 0 && waiter.state == NodeState::Waiting {
                waiter.state = NodeState::Ready;
                self.counts.waiting -= 1;
                self.counts.ready += 1;
                self.ready.push((waiter.priority, Reverse(link.node)));
                readied += 1;
            }
        }
        readied
    }
}

/// The links of `node` in a compressed list, as ids (empty for an unknown id).
fn links<'a>(
    start: &'a [usize],
    links: &'a [Link],
    node: NodeId,
) -> impl Iterator<Item = (NodeId, Edge)> + 'a {
    let bounds = match (start.get(node.index()), start.get(node.index() + 1)) {
        (Some(&from), Some(&to)) => from..to,
        _ => 0..0,
    };
    links
        .get(bounds)
        .unwrap_or_default()
        .iter()
        .map(|link| (NodeId(link.node), link.edge))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::load::Limits;
    use proptest::prelude::*;

    const C: Edge = Edge::Completed;
    const R: Edge = Edge::ReplacementReady;

    fn n(index: u32) -> NodeId {
        NodeId(index)
    }

    /// A builder with `count` nodes of cost 1 and `(waiter, dependency)` edges of kind
    /// `Completed`.
    fn with_edges(count: u32, edges: &[(u32, u32)]) -> QueueBuilder {
        let mut builder = QueueBuilder::new();
        for _ in 0..count {
            builder.add_node(1);
        }
        for &(waiter, dependency) in edges {
            builder.add_edge(n(waiter), n(dependency), C).unwrap();
        }
        builder
    }

    fn sealed(count: u32, edges: &[(u32, u32)]) -> DependencyQueue {
        with_edges(count, edges).seal().unwrap()
    }

    fn limited(count: u32, edges: &[(u32, u32)], limit: usize) -> DependencyQueue {
        let mut builder = with_edges(count, edges);
        builder.set_limit(NonZeroUsize::new(limit));
        builder.seal().unwrap()
    }

    /// Every node that `next_ready` gives now, in order.
    fn start_all(queue: &mut DependencyQueue) -> Vec<u32> {
        std::iter::from_fn(|| queue.next_ready())
            .map(NodeId::get)
            .collect()
    }

    /// Runs the queue to the end: starts all it can, completes the oldest running node,
    /// repeats. Returns the start order.
    fn drain(queue: &mut DependencyQueue) -> Vec<u32> {
        let mut order = Vec::new();
        let mut running = std::collections::VecDeque::new();
        loop {
            for node in start_all(queue) {
                order.push(node);
                running.push_back(node);
            }
            let Some(node) = running.pop_front() else {
                break;
            };
            queue.complete(n(node)).unwrap();
        }
        order
    }

    fn counts(
        waiting: usize,
        ready: usize,
        running: usize,
        done: usize,
        failed: usize,
        skipped: usize,
    ) -> QueueCounts {
        QueueCounts {
            waiting,
            ready,
            running,
            done,
            failed,
            skipped,
        }
    }

    fn graph_of(text: &str) -> DependencyGraph {
        let parsed = crate::template::parse(text, &Limits::default());
        let template = parsed.template.expect("a template");
        let (graph, diagnostics) = crate::graph::build(&template);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        graph
    }

    #[test]
    fn empty_queue_is_finished_at_once() {
        let mut queue = QueueBuilder::new().seal().unwrap();
        assert!(queue.is_empty());
        assert_eq!(queue.len(), 0);
        assert!(queue.is_finished());
        assert_eq!(queue.next_ready(), None);
        assert_eq!(queue.counts(), QueueCounts::default());
        assert_eq!(queue.nodes().count(), 0);
    }

    #[test]
    fn single_node_runs_once() {
        let mut queue = sealed(1, &[]);
        assert_eq!(queue.state(n(0)), Some(NodeState::Ready));
        assert!(!queue.is_finished());
        assert_eq!(queue.next_ready(), Some(n(0)));
        assert_eq!(queue.state(n(0)), Some(NodeState::Running));
        assert_eq!(queue.counts(), counts(0, 0, 1, 0, 0, 0));
        assert_eq!(queue.next_ready(), None);
        assert!(!queue.is_finished());
        assert_eq!(queue.complete(n(0)), Ok(0));
        assert_eq!(queue.state(n(0)), Some(NodeState::Done));
        assert_eq!(queue.counts(), counts(0, 0, 0, 1, 0, 0));
        assert!(queue.is_finished());
        assert_eq!(queue.next_ready(), None);
    }

    #[test]
    fn chain_runs_one_at_a_time_dependencies_first() {
        // 2 waits for 1, 1 waits for 0.
        let mut queue = sealed(3, &[(2, 1), (1, 0)]);
        assert_eq!(queue.counts(), counts(2, 1, 0, 0, 0, 0));
        assert_eq!(start_all(&mut queue), vec![0]);
        assert_eq!(queue.complete(n(0)), Ok(1));
        assert_eq!(queue.state(n(2)), Some(NodeState::Waiting));
        assert_eq!(start_all(&mut queue), vec![1]);
        assert_eq!(queue.complete(n(1)), Ok(1));
        assert_eq!(start_all(&mut queue), vec![2]);
        assert_eq!(queue.complete(n(2)), Ok(0));
        assert!(queue.is_finished());
        assert_eq!(queue.counts(), counts(0, 0, 0, 3, 0, 0));
    }

    #[test]
    fn diamond_joins_after_both_sides() {
        // 3 waits for 1 and 2; 1 and 2 wait for 0.
        let mut queue = sealed(4, &[(3, 1), (3, 2), (1, 0), (2, 0)]);
        assert_eq!(start_all(&mut queue), vec![0]);
        assert_eq!(queue.complete(n(0)), Ok(2));
        assert_eq!(start_all(&mut queue), vec![1, 2]);
        assert_eq!(queue.complete(n(2)), Ok(0));
        assert_eq!(queue.state(n(3)), Some(NodeState::Waiting));
        assert_eq!(start_all(&mut queue), Vec::<u32>::new());
        assert_eq!(queue.complete(n(1)), Ok(1));
        assert_eq!(start_all(&mut queue), vec![3]);
        queue.complete(n(3)).unwrap();
        assert!(queue.is_finished());
    }

    #[test]
    fn concurrency_limit_caps_running_nodes() {
        let mut queue = limited(5, &[], 2);
        assert_eq!(queue.limit(), NonZeroUsize::new(2));
        assert_eq!(start_all(&mut queue), vec![0, 1]);
        assert_eq!(queue.counts(), counts(0, 3, 2, 0, 0, 0));
        queue.complete(n(1)).unwrap();
        assert_eq!(start_all(&mut queue), vec![2]);
        queue.complete(n(0)).unwrap();
        queue.complete(n(2)).unwrap();
        assert_eq!(start_all(&mut queue), vec![3, 4]);
        queue.complete(n(3)).unwrap();
        queue.complete(n(4)).unwrap();
        assert!(queue.is_finished());
        assert_eq!(queue.counts(), counts(0, 0, 0, 5, 0, 0));
    }

    #[test]
    fn ties_go_to_document_order() {
        let mut queue = sealed(6, &[]);
        assert_eq!(start_all(&mut queue), vec![0, 1, 2, 3, 4, 5]);
        // Released together: the lower id first, whatever the completion order.
        let mut queue = limited(4, &[(3, 0), (1, 0), (2, 0)], 1);
        assert_eq!(drain(&mut queue), vec![0, 1, 2, 3]);
    }

    #[test]
    fn longest_chain_starts_first() {
        // Leaves 0, 1, 2; chain 3 <- 4 <- 5 (5 waits for 4 waits for 3).
        let mut queue = limited(6, &[(4, 3), (5, 4)], 1);
        let priorities: Vec<u64> = queue
            .nodes()
            .map(|id| queue.priority(id).unwrap())
            .collect();
        assert_eq!(priorities, vec![1, 1, 1, 3, 2, 1]);
        // Once 3 is done, 4 (priority 2) beats the leaves; 5 (priority 1) ties with them and
        // comes after them in document order.
        assert_eq!(drain(&mut queue), vec![3, 4, 0, 1, 2, 5]);
        // Without a limit, every ready node starts, the chain's head first.
        let mut queue = sealed(6, &[(4, 3), (5, 4)]);
        assert_eq!(start_all(&mut queue), vec![3, 0, 1, 2]);
    }

    #[test]
    fn priority_is_the_longest_path_not_the_sum() {
        // 0 has three dependents each of cost 1 (sum 4, longest 2); 1 has a chain of two.
        let mut queue = sealed(6, &[(2, 0), (3, 0), (4, 0), (5, 1)]);
        assert_eq!(queue.priority(n(0)), Some(2));
        let mut builder = with_edges(6, &[(2, 0), (3, 0), (4, 0), (5, 1)]);
        builder.set_cost(n(5), 3).unwrap();
        builder.set_limit(NonZeroUsize::new(1));
        let mut weighted = builder.seal().unwrap();
        assert_eq!(weighted.priority(n(1)), Some(4));
        assert_eq!(weighted.cost(n(5)), Some(3));
        assert_eq!(start_all(&mut weighted), vec![1]);
        assert_eq!(start_all(&mut queue), vec![0, 1]);
    }

    #[test]
    fn costs_weigh_in_the_priority() {
        let mut builder = QueueBuilder::new();
        let cheap_head = builder.add_node(1);
        let cheap_tail = builder.add_node(1);
        let heavy = builder.add_node(10);
        let free = builder.add_node(0);
        builder.add_edge(cheap_tail, cheap_head, C).unwrap();
        builder.set_limit(NonZeroUsize::new(1));
        let mut queue = builder.seal().unwrap();
        assert_eq!(queue.priority(cheap_head), Some(2));
        assert_eq!(queue.priority(heavy), Some(10));
        assert_eq!(queue.priority(free), Some(0));
        assert_eq!(drain(&mut queue), vec![2, 0, 1, 3]);
    }

    #[test]
    fn failure_skips_transitive_dependents_only() {
        // 1 waits for 0, 2 waits for 1, 3 waits for 2 and 4; 5 is unrelated; 6 waits for 4.
        let mut queue = sealed(7, &[(1, 0), (2, 1), (3, 2), (3, 4), (6, 4)]);
        assert_eq!(start_all(&mut queue), vec![0, 4, 5]);
        assert_eq!(queue.fail(n(0)), Ok(3));
        for skipped in [1, 2, 3] {
            assert_eq!(queue.state(n(skipped)), Some(NodeState::Skipped));
        }
        assert_eq!(queue.blocked_by(n(1)), Some(n(0)));
        assert_eq!(queue.blocked_by(n(3)), Some(n(2)));
        assert_eq!(queue.blocked_by(n(6)), None);
        assert_eq!(queue.counts(), counts(1, 0, 2, 0, 1, 3));
        queue.complete(n(4)).unwrap();
        assert_eq!(start_all(&mut queue), vec![6]);
        queue.complete(n(5)).unwrap();
        queue.complete(n(6)).unwrap();
        assert!(queue.is_finished());
        assert_eq!(queue.counts(), counts(0, 0, 0, 3, 1, 3));
        assert_eq!(
            queue.nodes_in(NodeState::Skipped).collect::<Vec<_>>(),
            vec![n(1), n(2), n(3)]
        );
    }

    #[test]
    fn failure_of_a_ready_or_waiting_node() {
        let mut queue = sealed(3, &[(1, 0), (2, 1)]);
        // A ready node fails before it starts: its entry in the ready set is dropped.
        assert_eq!(queue.fail(n(0)), Ok(2));
        assert_eq!(queue.next_ready(), None);
        assert!(queue.is_finished());
        assert_eq!(queue.counts(), counts(0, 0, 0, 0, 1, 2));

        let mut queue = sealed(3, &[(1, 0), (2, 1)]);
        assert_eq!(queue.fail(n(1)), Ok(1));
        assert_eq!(queue.state(n(2)), Some(NodeState::Skipped));
        assert_eq!(drain(&mut queue), vec![0]);
        assert!(queue.is_finished());
    }

    #[test]
    fn stop_starts_nothing_new_but_lets_running_nodes_end() {
        // 0, 1, 2 independent; 3 waits for 1.
        let mut queue = limited(4, &[(3, 1)], 2);
        assert_eq!(start_all(&mut queue), vec![1, 0]);
        assert_eq!(queue.fail(n(0)), Ok(0));
        queue.stop();
        assert!(queue.is_stopped());
        assert_eq!(queue.next_ready(), None);
        assert!(!queue.is_finished());
        assert_eq!(queue.complete(n(1)), Ok(1));
        assert_eq!(queue.state(n(3)), Some(NodeState::Ready));
        assert_eq!(queue.next_ready(), None);
        assert!(queue.is_finished());
        assert_eq!(queue.counts(), counts(0, 2, 0, 1, 1, 0));
        assert_eq!(
            queue.nodes_in(NodeState::Ready).collect::<Vec<_>>(),
            vec![n(2), n(3)]
        );
    }

    #[test]
    fn resume_pre_marks_done_and_running_nodes() {
        // 1 and 2 wait for 0; 3 waits for 1 and 2; 4 waits for 3.
        let mut queue = limited(5, &[(1, 0), (2, 0), (3, 1), (3, 2), (4, 3)], 2);
        assert_eq!(queue.mark_done(n(0)), Ok(2));
        assert_eq!(queue.mark_done(n(1)), Ok(0));
        queue.mark_running(n(2)).unwrap();
        assert_eq!(queue.counts(), counts(2, 0, 1, 2, 0, 0));
        // Nothing new is ready until the re-checked node ends.
        assert_eq!(queue.next_ready(), None);
        assert!(!queue.is_finished());
        assert_eq!(queue.complete(n(2)), Ok(1));
        assert_eq!(drain(&mut queue), vec![3, 4]);
        assert!(queue.is_finished());
        assert_eq!(queue.counts(), counts(0, 0, 0, 5, 0, 0));
    }

    #[test]
    fn resumed_running_nodes_count_against_the_limit() {
        let mut queue = limited(3, &[], 1);
        queue.mark_running(n(2)).unwrap();
        assert_eq!(queue.next_ready(), None);
        queue.complete(n(2)).unwrap();
        assert_eq!(drain(&mut queue), vec![0, 1]);
        // A node marked done is never returned.
        let mut queue = sealed(3, &[]);
        queue.mark_done(n(1)).unwrap();
        assert_eq!(drain(&mut queue), vec![0, 2]);
    }

    #[test]
    fn invalid_transitions_are_errors_and_change_nothing() {
        let mut queue = sealed(2, &[(1, 0)]);
        let before = queue.counts();
        type Operation = fn(&mut DependencyQueue, NodeId) -> Result<usize, QueueError>;
        let cases: &[(Operation, u32, NodeState, &str)] = &[
            (DependencyQueue::complete, 0, NodeState::Ready, "complete"),
            (DependencyQueue::complete, 1, NodeState::Waiting, "complete"),
            (
                DependencyQueue::replacement_ready,
                0,
                NodeState::Ready,
                "report the replacement ready of",
            ),
        ];
        for &(operation_fn, node, state, operation) in cases {
            assert_eq!(
                operation_fn(&mut queue, n(node)),
                Err(QueueError::InvalidTransition {
                    node: n(node),
                    state,
                    operation
                })
            );
            assert_eq!(queue.counts(), before);
            assert_eq!(queue.state(n(node)), Some(state));
        }
        queue.next_ready().unwrap();
        queue.complete(n(0)).unwrap();
        assert_eq!(
            queue.complete(n(0)),
            Err(QueueError::InvalidTransition {
                node: n(0),
                state: NodeState::Done,
                operation: "complete"
            })
        );
        assert_eq!(
            queue.fail(n(0)).unwrap_err().to_string(),
            "cannot fail node #0: it is done"
        );
        assert_eq!(
            queue.mark_done(n(0)).unwrap_err().to_string(),
            "cannot mark done node #0: it is done"
        );
        queue.next_ready().unwrap();
        assert_eq!(
            queue.mark_running(n(1)).unwrap_err().to_string(),
            "cannot mark running node #1: it is running"
        );
        assert_eq!(queue.counts(), counts(0, 0, 1, 1, 0, 0));
        assert_eq!(
            queue.complete(n(7)),
            Err(QueueError::UnknownNode { node: n(7), len: 2 })
        );
        assert_eq!(queue.state(n(7)), None);
        assert_eq!(queue.priority(n(7)), None);
        assert_eq!(queue.dependencies(n(7)).count(), 0);
        assert_eq!(queue.dependents(n(7)).count(), 0);
    }

    #[test]
    fn builder_rejects_unknown_nodes() {
        let mut builder = with_edges(2, &[]);
        assert_eq!(builder.len(), 2);
        assert!(!builder.is_empty());
        assert_eq!(
            builder.add_edge(n(0), n(2), C),
            Err(QueueError::UnknownNode { node: n(2), len: 2 })
        );
        assert_eq!(
            builder.add_edge(n(5), n(0), C).unwrap_err().to_string(),
            "unknown node #5: the queue has 2 nodes"
        );
        assert_eq!(
            builder.set_cost(n(2), 4),
            Err(QueueError::UnknownNode { node: n(2), len: 2 })
        );
        // The failed calls added nothing.
        let queue = builder.seal().unwrap();
        assert_eq!(queue.counts(), counts(0, 2, 0, 0, 0, 0));
    }

    #[test]
    fn cycles_are_rejected_with_their_path() {
        /// Node count, edges, the cycle reported, its message.
        type Case<'a> = (u32, &'a [(u32, u32)], &'a [u32], &'a str);
        let cases: &[Case] = &[
            (1, &[(0, 0)], &[0], "circular dependency: #0 -> #0"),
            (
                2,
                &[(0, 1), (1, 0)],
                &[0, 1],
                "circular dependency: #0 -> #1 -> #0",
            ),
            // 3 waits for 2 waits for 4 waits for 3; 0 feeds the cycle, 5 hangs off it.
            (
                6,
                &[(3, 2), (2, 4), (4, 3), (3, 0), (5, 3), (1, 0)],
                &[2, 4, 3],
                "circular dependency: #2 -> #4 -> #3 -> #2",
            ),
        ];
        for (count, edges, path, message) in cases {
            let error = with_edges(*count, edges).seal().unwrap_err();
            assert_eq!(
                error,
                QueueError::Cycle {
                    path: path.iter().map(|&i| n(i)).collect()
                }
            );
            assert_eq!(error.to_string(), *message);
        }
    }

    #[test]
    fn replacement_ready_releases_only_its_edges() {
        // 1 needs 0's replacement; 2 needs 0 completed (its old resource deleted).
        let mut builder = with_edges(3, &[]);
        builder.add_edge(n(1), n(0), R).unwrap();
        builder.add_edge(n(2), n(0), C).unwrap();
        let mut queue = builder.seal().unwrap();
        assert_eq!(
            queue.dependents(n(0)).collect::<Vec<_>>(),
            vec![(n(1), R), (n(2), C)]
        );
        assert_eq!(
            queue.dependencies(n(1)).collect::<Vec<_>>(),
            vec![(n(0), R)]
        );
        assert_eq!(start_all(&mut queue), vec![0]);
        assert_eq!(queue.is_replacement_ready(n(0)), Some(false));
        assert_eq!(queue.replacement_ready(n(0)), Ok(1));
        assert_eq!(queue.replacement_ready(n(0)), Ok(0));
        assert_eq!(queue.is_replacement_ready(n(0)), Some(true));
        assert_eq!(queue.state(n(0)), Some(NodeState::Running));
        assert_eq!(start_all(&mut queue), vec![1]);
        assert_eq!(queue.state(n(2)), Some(NodeState::Waiting));
        // Completing releases the Completed waiter, and not the other one a second time.
        assert_eq!(queue.complete(n(0)), Ok(1));
        assert_eq!(start_all(&mut queue), vec![2]);
        queue.complete(n(1)).unwrap();
        queue.complete(n(2)).unwrap();
        assert!(queue.is_finished());
    }

    #[test]
    fn completion_without_replacement_ready_releases_both_kinds() {
        let mut builder = with_edges(3, &[]);
        builder.add_edge(n(1), n(0), R).unwrap();
        builder.add_edge(n(2), n(0), C).unwrap();
        builder.add_edge(n(2), n(0), R).unwrap();
        let mut queue = builder.seal().unwrap();
        assert_eq!(start_all(&mut queue), vec![0]);
        assert_eq!(queue.complete(n(0)), Ok(2));
        assert_eq!(drain(&mut queue), vec![1, 2]);
    }

    #[test]
    fn failure_after_replacement_ready_spares_released_waiters() {
        // 1 needs 0's replacement, 2 needs 0 completed, 3 needs 1 completed.
        let mut builder = with_edges(4, &[(3, 1)]);
        builder.add_edge(n(1), n(0), R).unwrap();
        builder.add_edge(n(2), n(0), C).unwrap();
        let mut queue = builder.seal().unwrap();
        queue.next_ready().unwrap();
        queue.replacement_ready(n(0)).unwrap();
        assert_eq!(queue.fail(n(0)), Ok(1));
        assert_eq!(queue.state(n(2)), Some(NodeState::Skipped));
        assert_eq!(queue.blocked_by(n(2)), Some(n(0)));
        assert_eq!(queue.blocked_by(n(1)), None);
        assert_eq!(drain(&mut queue), vec![1, 3]);
        assert_eq!(queue.counts(), counts(0, 0, 0, 2, 1, 1));

        // Before the replacement is ready, both kinds of waiters are skipped.
        let mut builder = with_edges(4, &[(3, 1)]);
        builder.add_edge(n(1), n(0), R).unwrap();
        builder.add_edge(n(2), n(0), C).unwrap();
        let mut queue = builder.seal().unwrap();
        queue.next_ready().unwrap();
        assert_eq!(queue.fail(n(0)), Ok(3));
        assert!(queue.is_finished());
    }

    const TEMPLATE: &str = "heat_template_version: 2018-08-31
resources:
  network:
    type: OS::Heat::None
  subnet:
    type: OS::Heat::None
    properties:
      network: {get_resource: network}
  port:
    type: OS::Heat::None
    properties:
      subnet: {get_resource: subnet}
  volume:
    type: OS::Heat::None
  server:
    type: OS::Heat::None
    depends_on: [port, volume]
";

    fn names(graph: &DependencyGraph, order: &[u32]) -> Vec<String> {
        order
            .iter()
            .map(|&i| n(i).name_in(graph).unwrap().to_owned())
            .collect()
    }

    #[test]
    fn create_and_delete_orders_from_a_dependency_graph() {
        let graph = graph_of(TEMPLATE);
        let mut create = QueueBuilder::for_create(&graph);
        create.set_limit(NonZeroUsize::new(1));
        let mut create = create.seal().unwrap();
        assert_eq!(
            names(&graph, &drain(&mut create)),
            ["network", "subnet", "port", "volume", "server"]
        );
        let mut delete = QueueBuilder::for_delete(&graph);
        delete.set_limit(NonZeroUsize::new(1));
        let mut delete = delete.seal().unwrap();
        assert_eq!(
            names(&graph, &drain(&mut delete)),
            ["server", "port", "subnet", "network", "volume"]
        );
        // Unlimited: the server goes first alone, then what it held.
        let mut delete = QueueBuilder::for_delete(&graph).seal().unwrap();
        assert_eq!(names(&graph, &start_all(&mut delete)), ["server"]);
        delete.complete(n(4)).unwrap();
        assert_eq!(names(&graph, &start_all(&mut delete)), ["port", "volume"]);
        assert_eq!(n(99).name_in(&graph), None);
    }

    #[test]
    fn long_chains_do_not_overflow_the_stack() {
        const LEN: u32 = 100_000;
        let mut builder = QueueBuilder::with_capacity(LEN as usize, LEN as usize);
        let mut previous = builder.add_node(1);
        for _ in 1..LEN {
            let next = builder.add_node(1);
            builder.add_edge(next, previous, C).unwrap();
            previous = next;
        }
        let mut queue = builder.seal().unwrap();
        assert_eq!(queue.priority(n(0)), Some(u64::from(LEN)));
        assert_eq!(queue.priority(previous), Some(1));
        // A failure at the head skips the whole chain, iteratively.
        let mut failing = queue.clone();
        failing.next_ready().unwrap();
        assert_eq!(failing.fail(n(0)), Ok(LEN as usize - 1));
        let order = drain(&mut queue);
        assert_eq!(order.len(), LEN as usize);
        assert!(order.windows(2).all(|w| w[0] + 1 == w[1]));
        // A cycle closing the chain is found without recursion either.
        let mut builder = QueueBuilder::new();
        for _ in 0..LEN {
            builder.add_node(1);
        }
        for i in 1..LEN {
            builder.add_edge(n(i - 1), n(i), C).unwrap();
        }
        builder.add_edge(n(LEN - 1), n(0), C).unwrap();
        match builder.seal() {
            Err(QueueError::Cycle { path }) => assert_eq!(path.len(), LEN as usize),
            other => panic!("expected a cycle, got {other:?}"),
        }
    }

    #[test]
    fn display_of_states_and_ids() {
        let states = [
            (NodeState::Waiting, "waiting", false),
            (NodeState::Ready, "ready", false),
            (NodeState::Running, "running", false),
            (NodeState::Done, "done", true),
            (NodeState::Failed, "failed", true),
            (NodeState::Skipped, "skipped", true),
        ];
        for (state, name, terminal) in states {
            assert_eq!(state.to_string(), name);
            assert_eq!(state.is_terminal(), terminal);
        }
        assert_eq!(NodeId::new(12).to_string(), "#12");
        assert_eq!(NodeId::new(12).index(), 12);
        assert_eq!(counts(1, 2, 3, 4, 5, 6).pending(), 3);
        assert_eq!(counts(1, 2, 3, 4, 5, 6).total(), 21);
    }

    // ---- properties ----

    /// A random DAG: edges go from a higher index (waiter) to a lower one.
    #[derive(Clone, Debug)]
    struct Dag {
        costs: Vec<u32>,
        edges: Vec<(u32, u32, Edge)>,
    }

    fn dags(max_nodes: usize, replacement_edges: bool) -> impl Strategy<Value = Dag> {
        (1..=max_nodes).prop_flat_map(move |count| {
            (
                proptest::collection::vec(0u32..4, count),
                proptest::collection::vec((0..count, 0..count, any::<bool>()), 0..=count * 3),
            )
                .prop_map(move |(costs, pairs)| {
                    let edges = pairs
                        .into_iter()
                        .filter(|(a, b, _)| a != b)
                        .map(|(a, b, kind)| {
                            let kind = if kind && replacement_edges { R } else { C };
                            (a.max(b) as u32, a.min(b) as u32, kind)
                        })
                        .collect();
                    Dag { costs, edges }
                })
        })
    }

    impl Dag {
        fn queue(&self, limit: usize, reverse: bool) -> DependencyQueue {
            let mut builder = QueueBuilder::new();
            for &cost in &self.costs {
                builder.add_node(cost);
            }
            for &(waiter, dependency, kind) in &self.edges {
                let (waiter, dependency) = if reverse {
                    (dependency, waiter)
                } else {
                    (waiter, dependency)
                };
                builder.add_edge(n(waiter), n(dependency), kind).unwrap();
            }
            builder.set_limit(NonZeroUsize::new(limit));
            builder.seal().unwrap()
        }
    }

    /// A small deterministic generator for the drive loop's choices.
    struct Choices(u64);

    impl Choices {
        fn below(&mut self, bound: usize) -> usize {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % bound.max(1)
        }
    }

    /// How a simulated drive loop behaves.
    #[derive(Clone, Copy, Debug)]
    struct Drive {
        limit: usize,
        seed: u64,
        /// Chance (per thousand) that a finishing node fails.
        fail: usize,
        /// Chance (per thousand) that a running node reports its replacement ready instead
        /// of finishing.
        replacement: usize,
        /// Whether to stop after the first failure.
        stop: bool,
    }

    /// What a simulated run did.
    struct Run {
        started: Vec<u32>,
        failed: Vec<u32>,
    }

    /// Drives `queue` with random completion order and checks the invariants at every step.
    fn simulate(queue: &mut DependencyQueue, drive: Drive) -> Run {
        let mut choices = Choices(drive.seed | 1);
        let mut started = Vec::new();
        let mut failed = Vec::new();
        let mut seen = vec![false; queue.len()];
        let mut running: Vec<NodeId> = Vec::new();
        loop {
            loop {
                let expected = best_ready(queue);
                let Some(node) = queue.next_ready() else {
                    let at_limit = drive.limit > 0 && queue.counts().running >= drive.limit;
                    assert!(
                        expected.is_none() || at_limit || queue.is_stopped(),
                        "a node was ready"
                    );
                    break;
                };
                assert!(!queue.is_stopped(), "{node} started after stop");
                assert_eq!(Some(node), expected, "priority order");
                assert!(!seen[node.index()], "{node} returned twice");
                seen[node.index()] = true;
                for (dependency, edge) in queue.dependencies(node) {
                    let state = queue.state(dependency).unwrap();
                    let satisfied = state == NodeState::Done
                        || (edge == R && queue.is_replacement_ready(dependency) == Some(true));
                    assert!(satisfied, "{node} started before {dependency} ({state})");
                }
                if drive.limit > 0 {
                    assert!(queue.counts().running <= drive.limit, "limit exceeded");
                }
                started.push(node.get());
                running.push(node);
            }
            check_counts(queue);
            if running.is_empty() {
                break;
            }
            let node = running[choices.below(running.len())];
            if choices.below(1000) < drive.replacement
                && queue.is_replacement_ready(node) == Some(false)
            {
                queue.replacement_ready(node).unwrap();
                continue;
            }
            running.retain(|&r| r != node);
            if choices.below(1000) < drive.fail {
                queue.fail(node).unwrap();
                failed.push(node.get());
                if drive.stop {
                    queue.stop();
                }
            } else {
                queue.complete(node).unwrap();
            }
        }
        assert!(queue.is_finished());
        check_counts(queue);
        Run { started, failed }
    }

    /// The ready node with the highest priority, then the lowest id.
    fn best_ready(queue: &DependencyQueue) -> Option<NodeId> {
        if queue.is_stopped() {
            return None;
        }
        queue
            .nodes_in(NodeState::Ready)
            .max_by_key(|&node| (queue.priority(node), Reverse(node)))
    }

    fn check_counts(queue: &DependencyQueue) {
        let mut tally = QueueCounts::default();
        for node in queue.nodes() {
            *tally.of_mut(queue.state(node).unwrap()) += 1;
        }
        assert_eq!(tally, queue.counts());
    }

    /// Every node the failed ones hold back (through `Completed` edges), transitively.
    fn held_back(dag: &Dag, failed: &[u32]) -> Vec<bool> {
        let mut held = vec![false; dag.costs.len()];
        let mut work: Vec<u32> = failed.to_vec();
        while let Some(node) = work.pop() {
            for &(waiter, dependency, _) in &dag.edges {
                if dependency == node && !held[waiter as usize] {
                    held[waiter as usize] = true;
                    work.push(waiter);
                }
            }
        }
        held
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn every_node_runs_once_after_its_dependencies(
            dag in dags(300, true),
            limit in 0usize..8,
            seed in any::<u64>(),
            replacement in 0usize..500,
        ) {
            let mut queue = dag.queue(limit, false);
            let drive = Drive { limit, seed, fail: 0, replacement, stop: false };
            let run = simulate(&mut queue, drive);
            prop_assert_eq!(run.started.len(), dag.costs.len());
            prop_assert_eq!(queue.counts().done, dag.costs.len());
        }

        #[test]
        fn priorities_are_the_longest_paths_of_dependents(dag in dags(120, true)) {
            let queue = dag.queue(0, false);
            // Edges go from higher to lower indices: visit the highest first.
            let mut expected = vec![0u64; dag.costs.len()];
            for node in (0..dag.costs.len()).rev() {
                let behind = dag
                    .edges
                    .iter()
                    .filter(|e| e.1 as usize == node)
                    .map(|e| expected[e.0 as usize])
                    .max()
                    .unwrap_or(0);
                expected[node] = u64::from(dag.costs[node]) + behind;
            }
            for node in queue.nodes() {
                prop_assert_eq!(queue.priority(node), Some(expected[node.index()]));
            }
        }

        #[test]
        fn failures_skip_exactly_the_dependents(
            dag in dags(300, false),
            limit in 0usize..8,
            seed in any::<u64>(),
            fail in 0usize..300,
        ) {
            let mut queue = dag.queue(limit, false);
            let drive = Drive { limit, seed, fail, replacement: 0, stop: false };
            let run = simulate(&mut queue, drive);
            let held = held_back(&dag, &run.failed);
            for &node in &run.started {
                prop_assert!(!held[node as usize], "#{} depends on a failed node", node);
            }
            for node in queue.nodes() {
                let state = queue.state(node).unwrap();
                prop_assert!(state.is_terminal(), "{} ended {}", node, state);
                prop_assert_eq!(state == NodeState::Skipped, held[node.index()]);
                prop_assert_eq!(state == NodeState::Failed, run.failed.contains(&node.get()));
                prop_assert_eq!(state == NodeState::Skipped, queue.blocked_by(node).is_some());
            }
        }

        #[test]
        fn stop_after_the_first_failure_starts_nothing_more(
            dag in dags(200, false),
            limit in 0usize..8,
            seed in any::<u64>(),
            fail in 1usize..300,
        ) {
            let mut queue = dag.queue(limit, false);
            let drive = Drive { limit, seed, fail, replacement: 0, stop: true };
            let run = simulate(&mut queue, drive);
            prop_assert_eq!(queue.is_stopped(), !run.failed.is_empty());
            let counts = queue.counts();
            prop_assert_eq!(counts.running, 0);
            if queue.is_stopped() {
                // Everything started before the stop, or was in flight, ended.
                prop_assert_eq!(counts.done + counts.failed, run.started.len());
            } else {
                prop_assert_eq!(counts.done, dag.costs.len());
            }
        }

        #[test]
        fn delete_order_is_the_reverse_relation(
            dag in dags(300, false),
            limit in 0usize..8,
            seed in any::<u64>(),
        ) {
            let mut delete = dag.queue(limit, true);
            let drive = Drive { limit, seed, fail: 0, replacement: 0, stop: false };
            let run = simulate(&mut delete, drive);
            prop_assert_eq!(run.started.len(), dag.costs.len());
            let mut position = vec![0; dag.costs.len()];
            for (at, &node) in run.started.iter().enumerate() {
                position[node as usize] = at;
            }
            // A node that waits for another on create is deleted before it.
            for &(waiter, dependency, _) in &dag.edges {
                prop_assert!(position[waiter as usize] < position[dependency as usize]);
            }
        }

        #[test]
        fn graph_queues_follow_the_template(
            dag in dags(30, false),
            limit in 0usize..4,
            seed in any::<u64>(),
        ) {
            let mut text = String::from("heat_template_version: 2018-08-31\nresources:\n");
            for node in 0..dag.costs.len() {
                text.push_str(&format!("  r{node}:\n    type: OS::Heat::None\n    depends_on: ["));
                let deps: Vec<String> = dag
                    .edges
                    .iter()
                    .filter(|e| e.0 as usize == node)
                    .map(|e| format!("r{}", e.1))
                    .collect();
                text.push_str(&deps.join(", "));
                text.push_str("]\n");
            }
            let graph = graph_of(&text);
            for reverse in [false, true] {
                let mut builder = if reverse {
                    QueueBuilder::for_delete(&graph)
                } else {
                    QueueBuilder::for_create(&graph)
                };
                builder.set_limit(NonZeroUsize::new(limit));
                let mut queue = builder.seal().unwrap();
                let drive = Drive { limit, seed, fail: 0, replacement: 0, stop: false };
                let run = simulate(&mut queue, drive);
                let mut position = vec![0; dag.costs.len()];
                for (at, &node) in run.started.iter().enumerate() {
                    position[node as usize] = at;
                }
                prop_assert_eq!(run.started.len(), graph.len());
                for (dependent, dependency, _) in graph.edges() {
                    let dependent = graph.node_index(dependent).unwrap().index();
                    let dependency = graph.node_index(dependency).unwrap().index();
                    let created_first = position[dependency] < position[dependent];
                    prop_assert_eq!(created_first, !reverse);
                }
            }
        }
    }
}
