//! The static dependency graph of a template's resources (petgraph), from explicit
//! `depends_on` and implicit references; cycles reported with every member, in order.
//!
//! An edge `A → B` means "A depends on B": B must be created before A, and deleted after it.
//!
//! Which references make an edge follows Heat (`ResourceDefinition.required_resource_names`)
//! and, for AWS-format templates, CloudFormation:
//! - every name in `depends_on` / `DependsOn` that is a resource of the template (unknown
//!   names are reported by validation, not here);
//! - every `get_resource`, `get_attr`, `Ref`, `Fn::GetAtt` and `Fn::Sub` variable that names a
//!   resource, found in `properties` and `metadata`; in AWS-format CloudFormation also in
//!   `UpdatePolicy` and `CreationPolicy` (AWS resolves references there; Heat takes
//!   dependencies from properties and metadata only);
//! - not `get_param`, conditions, mappings, outputs, or a resource's `condition`;
//! - a HOT resource with an `external_id` depends on nothing (Heat adopts it as it is).
//!
//! Cycles (including a resource depending on itself) are found as strongly connected
//! components (petgraph's `kosaraju_scc`, which is iterative: petgraph's `tarjan_scc` recurses
//! once per node and overflows the stack on a chain of a few thousand resources) and
//! reported as one [`Code::DependencyCycle`] error per strongly connected component, naming a
//! real cycle through its first resource (in document order), e.g.
//! `circular dependency: res1 -> res3 -> res2 -> res1`.
//!
//! A cycle that a CloudFormation transform may break (one through an `AWS::Serverless::*`
//! resource under `AWS::Serverless-*`, or any cycle under a macro heat cannot expand) is a
//! [`Code::TransformSkipsChecks`] warning instead.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::template::expr::{Expr, ExprKind, Func};
use crate::template::model::{Resource, Template};
use crate::template::refs::{self, RefKind, Reference};
use crate::template::version::Format;

/// A resource, as a node of the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceNode {
    /// The logical name (shared with the graph's name index).
    pub name: Arc<str>,
    /// The resource type as written (one shared copy per distinct type).
    pub ty: Arc<str>,
    /// Where the resource's name is written.
    pub span: Span,
}

/// The part of a resource definition a dependency comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// `depends_on` / `DependsOn`.
    DependsOn,
    /// `properties` / `Properties`.
    Properties,
    /// `metadata` / `Metadata`.
    Metadata,
    /// `UpdatePolicy` (AWS-format CloudFormation only).
    UpdatePolicy,
    /// `CreationPolicy` (AWS-format CloudFormation only).
    CreationPolicy,
}

impl Section {
    /// The section's key as written in a template of the given format.
    pub fn key(self, format: Format) -> &'static str {
        let hot = format == Format::Hot;
        match self {
            Section::DependsOn if hot => "depends_on",
            Section::DependsOn => "DependsOn",
            Section::Properties if hot => "properties",
            Section::Properties => "Properties",
            Section::Metadata if hot => "metadata",
            Section::Metadata => "Metadata",
            Section::UpdatePolicy if hot => "update_policy",
            Section::UpdatePolicy => "UpdatePolicy",
            Section::CreationPolicy => "CreationPolicy",
        }
    }
}

/// Why one resource depends on another: an edge of the graph.
///
/// When a resource refers to another several times, the edge keeps the reference written
/// first in the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// The function that makes the reference; `None` for an explicit `depends_on`.
    pub func: Option<Func>,
    /// The part of the resource definition the reference is written in.
    pub section: Section,
    /// Where the reference is written.
    pub span: Span,
}

impl Dependency {
    /// A short label: the function name (`get_resource`, `Fn::GetAtt`, ...) or the
    /// `depends_on` / `DependsOn` key.
    pub fn label(&self, format: Format) -> &'static str {
        match self.func {
            Some(func) => func.name(),
            None => Section::DependsOn.key(format),
        }
    }

    /// Where the dependency comes from, for messages: `get_attr in properties at 12:9`.
    pub fn describe(&self, format: Format) -> String {
        let mut out = self.label(format).to_string();
        if self.section != Section::DependsOn {
            let _ = write!(out, " in {}", self.section.key(format));
        }
        if self.span.is_known() {
            let _ = write!(out, " at {}", self.span.start);
        }
        out
    }
}

/// A circular dependency: one strongly connected component of the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// A real cycle, starting at the component's first resource in document order: each
    /// resource depends on the next, and the last depends on the first. A resource that
    /// depends on itself gives a path of length one.
    pub path: Vec<String>,
    /// Every resource of the component, in document order (a superset of `path` when the
    /// component holds several intertwined cycles).
    pub members: Vec<String>,
}

impl Cycle {
    /// The cycle as `A -> B -> A`.
    pub fn display_path(&self) -> String {
        let mut out = self.path.join(" -> ");
        if let Some(first) = self.path.first() {
            out.push_str(" -> ");
            out.push_str(first);
        }
        out
    }
}

/// The dependency graph of a template's resources.
///
/// Nodes are the template's resources in document order (a name defined twice is one node,
/// placed where the name first appears, with the dependencies of its last definition, as Heat
/// keeps the last one). Edges point from a resource to the resources it depends on.
#[derive(Clone, Debug)]
pub struct DependencyGraph {
    graph: DiGraph<ResourceNode, Dependency>,
    index: HashMap<Arc<str>, NodeIndex>,
    format: Format,
    cycles: Vec<Cycle>,
}

/// Builds the dependency graph of a template and reports every cycle in it.
///
/// The only diagnostics are [`Code::DependencyCycle`] errors, one per cycle; references to
/// names that are not resources are left to validation.
pub fn build(template: &Template) -> (DependencyGraph, Vec<Diagnostic>) {
    let format = template.format();
    let count = template.resources.len();
    let mut graph: DiGraph<ResourceNode, Dependency> = DiGraph::with_capacity(count, count);
    let mut index: HashMap<Arc<str>, NodeIndex> = HashMap::with_capacity(count);
    let mut definitions: Vec<&Resource> = Vec::with_capacity(count);
    // One copy of each distinct type name (keyed by an owned copy: one per type).
    let mut types: HashMap<String, Arc<str>> = HashMap::new();
    let mut type_of = |ty: &str| -> Arc<str> {
        if let Some(shared) = types.get(ty) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(ty);
        types.insert(ty.to_string(), Arc::clone(&shared));
        shared
    };

    for resource in &template.resources {
        match index.get(resource.name.value.as_str()) {
            Some(&node) => {
                // A duplicated name: the last definition wins, as in Heat.
                if let (Some(slot), Some(weight)) = (
                    definitions.get_mut(node.index()),
                    graph.node_weight_mut(node),
                ) {
                    *slot = resource;
                    weight.ty = type_of(&resource.ty.value);
                }
            }
            None => {
                let name: Arc<str> = Arc::from(resource.name.value.as_str());
                let node = graph.add_node(ResourceNode {
                    name: Arc::clone(&name),
                    ty: type_of(&resource.ty.value),
                    span: resource.name.span,
                });
                index.insert(name, node);
                definitions.push(resource);
            }
        }
    }

    let mut references: Vec<Reference> = Vec::new();
    for (source, resource) in definitions.iter().enumerate() {
        for (target, dependency) in resource_dependencies(resource, format, &index, &mut references)
        {
            graph.add_edge(NodeIndex::new(source), target, dependency);
        }
    }

    let mut dependency_graph = DependencyGraph {
        graph,
        index,
        format,
        cycles: Vec::new(),
    };
    dependency_graph.cycles = dependency_graph.find_cycles();
    let diagnostics = dependency_graph
        .cycles
        .iter()
        .map(
            |cycle| match transform_rewriting(template, &dependency_graph, cycle) {
                Some(transform) => dependency_graph.transformed_cycle_warning(cycle, transform),
                None => dependency_graph.cycle_diagnostic(cycle),
            },
        )
        .collect();
    (dependency_graph, diagnostics)
}

/// The transform that may rewrite a member of `cycle` (and so break the cycle), if any:
/// `AWS::Serverless-*` rewrites `AWS::Serverless::*` resources into others (a function and
/// the alarm of its deployment preference refer to each other before the transform, not
/// after); a macro other than `AWS::Serverless-*` and `AWS::LanguageExtensions` may rewrite
/// anything.
fn transform_rewriting<'t>(
    template: &'t Template,
    graph: &DependencyGraph,
    cycle: &Cycle,
) -> Option<&'t str> {
    let serverless = template
        .transforms
        .iter()
        .find(|t| t.value.starts_with("AWS::Serverless"));
    let opaque = template
        .transforms
        .iter()
        .find(|t| !t.value.starts_with("AWS::Serverless") && t.value != "AWS::LanguageExtensions");
    if let Some(macro_name) = opaque {
        return Some(macro_name.value.as_str());
    }
    let serverless = serverless?;
    let rewritten = cycle.members.iter().any(|name| {
        graph
            .node_index(name)
            .and_then(|n| graph.graph.node_weight(n))
            .is_some_and(|node| node.ty.starts_with("AWS::Serverless::"))
    });
    rewritten.then_some(serverless.value.as_str())
}

/// The dependencies of one resource definition, one per target (the earliest written
/// reference wins), ordered by the target's position in the document.
fn resource_dependencies(
    resource: &Resource,
    format: Format,
    index: &HashMap<Arc<str>, NodeIndex>,
    references: &mut Vec<Reference>,
) -> Vec<(NodeIndex, Dependency)> {
    let mut found: BTreeMap<NodeIndex, Dependency> = BTreeMap::new();
    let mut offer = |target: NodeIndex, dependency: Dependency| match found.get(&target) {
        Some(existing) if !is_earlier(&dependency.span, &existing.span) => {}
        _ => {
            found.insert(target, dependency);
        }
    };

    // Heat: a resource adopted through `external_id` has no dependencies.
    if format == Format::Hot && resource.external_id.as_deref().is_some_and(is_present) {
        return Vec::new();
    }

    for name in &resource.depends_on {
        if let Some(&target) = index.get(name.value.as_str()) {
            offer(
                target,
                Dependency {
                    func: None,
                    section: Section::DependsOn,
                    span: name.span,
                },
            );
        }
    }

    let mut sections: Vec<(Section, &Expr)> = Vec::with_capacity(4);
    if let Some(properties) = &resource.properties {
        sections.push((Section::Properties, properties));
    }
    if let Some(metadata) = &resource.metadata {
        sections.push((Section::Metadata, metadata));
    }
    if format == Format::Cfn {
        if let Some(update_policy) = &resource.update_policy {
            sections.push((Section::UpdatePolicy, update_policy));
        }
        if let Some(creation_policy) = &resource.creation_policy {
            sections.push((Section::CreationPolicy, creation_policy));
        }
    }

    for (section, expr) in sections {
        references.clear();
        refs::collect(expr, references);
        for reference in references.iter() {
            let names_resource = matches!(
                reference.kind,
                RefKind::Ref | RefKind::Resource | RefKind::Attribute(_)
            );
            if !names_resource {
                continue;
            }
            if let Some(&target) = index.get(reference.name.as_str()) {
                offer(
                    target,
                    Dependency {
                        func: Some(reference.func),
                        section,
                        span: reference.span,
                    },
                );
            }
        }
    }

    found.into_iter().collect()
}

/// Whether an optional field holds something other than `null`.
fn is_present(expr: &Expr) -> bool {
    !matches!(expr.kind, ExprKind::Null)
}

/// Whether span `a` starts before span `b` (unknown positions never count as earlier).
fn is_earlier(a: &Span, b: &Span) -> bool {
    a.is_known() && (!b.is_known() || a.start < b.start)
}

impl DependencyGraph {
    /// The format of the template the graph was built from (decides labels such as
    /// `depends_on` vs `DependsOn`).
    pub fn format(&self) -> Format {
        self.format
    }

    /// The number of resources.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the template has no resources.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// The number of dependencies (edges).
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Whether the graph has a resource with this name.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The resources, in document order.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceNode> + '_ {
        self.graph.node_weights()
    }

    /// The resource names, in document order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.graph.node_weights().map(|n| &*n.name)
    }

    /// Every dependency as `(dependent, dependency, why)`, grouped by dependent in document
    /// order, then by dependency in document order.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str, &Dependency)> + '_ {
        self.graph.edge_references().map(|edge| {
            (
                self.name_of(edge.source()),
                self.name_of(edge.target()),
                edge.weight(),
            )
        })
    }

    /// The resources that `name` depends on (created before it), in document order. Empty
    /// for an unknown name.
    pub fn dependencies(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Direction::Outgoing)
    }

    /// The resources that depend on `name` (created after it), in document order. Empty for
    /// an unknown name.
    pub fn dependents(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Direction::Incoming)
    }

    /// Why `from` depends on `to`, if it does.
    pub fn dependency(&self, from: &str, to: &str) -> Option<&Dependency> {
        let from = *self.index.get(from)?;
        let to = *self.index.get(to)?;
        let edge = self.graph.find_edge(from, to)?;
        self.graph.edge_weight(edge)
    }

    /// The cycles found, ordered by their first resource in document order.
    pub fn cycles(&self) -> &[Cycle] {
        &self.cycles
    }

    /// Whether the graph has a cycle (and so no creation order).
    pub fn has_cycles(&self) -> bool {
        !self.cycles.is_empty()
    }

    /// The creation order: every resource after all of its dependencies; among resources
    /// that are ready at the same time, document order decides. `None` when there is a
    /// cycle. Deletion order is the reverse.
    pub fn topological_order(&self) -> Option<Vec<&str>> {
        let count = self.graph.node_count();
        // The number of not-yet-placed dependencies of each resource.
        let mut waiting: Vec<usize> = self
            .graph
            .node_indices()
            .map(|n| self.graph.edges_directed(n, Direction::Outgoing).count())
            .collect();
        let mut ready: BinaryHeap<Reverse<usize>> = waiting
            .iter()
            .enumerate()
            .filter(|(_, w)| **w == 0)
            .map(|(i, _)| Reverse(i))
            .collect();
        let mut order = Vec::with_capacity(count);
        while let Some(Reverse(i)) = ready.pop() {
            let node = NodeIndex::new(i);
            order.push(self.name_of(node));
            for edge in self.graph.edges_directed(node, Direction::Incoming) {
                let dependent = edge.source().index();
                if let Some(w) = waiting.get_mut(dependent) {
                    *w = w.saturating_sub(1);
                    if *w == 0 {
                        ready.push(Reverse(dependent));
                    }
                }
            }
        }
        (order.len() == count).then_some(order)
    }

    /// The graph in Graphviz DOT: one node per resource (name and type), one edge per
    /// dependency labelled with the function or key that makes it, in document order.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        out.push_str("digraph dependencies {\n");
        out.push_str("  // A -> B: A depends on B (B is created first).\n");
        out.push_str("  node [shape=box];\n");
        for node in self.graph.node_weights() {
            let _ = writeln!(
                out,
                "  \"{}\" [label=\"{}\\n{}\"];",
                dot_escape(&node.name),
                dot_escape(&node.name),
                dot_escape(&node.ty)
            );
        }
        for (from, to, dependency) in self.edges() {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                dot_escape(from),
                dot_escape(to),
                dot_escape(dependency.label(self.format))
            );
        }
        out.push_str("}\n");
        out
    }

    /// The graph as a Mermaid flowchart: nodes `r0, r1, ...` in document order labelled with
    /// name and type, one edge per dependency labelled with the function or key.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::new();
        out.push_str("flowchart TD\n");
        out.push_str("  %% A --> B: A depends on B (B is created first).\n");
        for node in self.graph.node_indices() {
            let weight = &self.graph[node];
            let _ = writeln!(
                out,
                "  r{}[\"{}<br/>{}\"]",
                node.index(),
                mermaid_escape(&weight.name),
                mermaid_escape(&weight.ty)
            );
        }
        for edge in self.graph.edge_references() {
            let _ = writeln!(
                out,
                "  r{} -->|\"{}\"| r{}",
                edge.source().index(),
                mermaid_escape(edge.weight().label(self.format)),
                edge.target().index()
            );
        }
        out
    }

    /// The underlying petgraph graph (node indices follow document order).
    pub fn graph(&self) -> &DiGraph<ResourceNode, Dependency> {
        &self.graph
    }

    /// The node index of a resource.
    pub fn node_index(&self, name: &str) -> Option<NodeIndex> {
        self.index.get(name).copied()
    }

    fn name_of(&self, node: NodeIndex) -> &str {
        self.graph
            .node_weight(node)
            .map_or("", |weight| &*weight.name)
    }

    fn neighbours(&self, name: &str, direction: Direction) -> Vec<&str> {
        let Some(&node) = self.index.get(name) else {
            return Vec::new();
        };
        let mut found: Vec<NodeIndex> = self.graph.neighbors_directed(node, direction).collect();
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|n| self.name_of(n)).collect()
    }

    /// Every strongly connected component that holds a cycle, as a [`Cycle`].
    fn find_cycles(&self) -> Vec<Cycle> {
        let mut cycles: Vec<(usize, Cycle)> = Vec::new();
        for mut component in petgraph::algo::kosaraju_scc(&self.graph) {
            component.sort_unstable();
            let Some(&start) = component.first() else {
                continue;
            };
            let cyclic = component.len() > 1 || self.graph.contains_edge(start, start);
            if !cyclic {
                continue;
            }
            let path = self.cycle_through(start, &component);
            cycles.push((
                start.index(),
                Cycle {
                    path: path
                        .into_iter()
                        .map(|n| self.name_of(n).to_string())
                        .collect(),
                    members: component
                        .iter()
                        .map(|&n| self.name_of(n).to_string())
                        .collect(),
                },
            ));
        }
        cycles.sort_by_key(|(start, _)| *start);
        cycles.into_iter().map(|(_, cycle)| cycle).collect()
    }

    /// The shortest cycle from `start` back to itself inside one strongly connected component
    /// (sorted `component`), following dependencies in document order.
    fn cycle_through(&self, start: NodeIndex, component: &[NodeIndex]) -> Vec<NodeIndex> {
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue: VecDeque<NodeIndex> = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(node, Direction::Outgoing)
                .filter(|n| component.binary_search(n).is_ok())
                .collect();
            next.sort_unstable();
            next.dedup();
            for successor in next {
                if successor == start {
                    let mut path = vec![node];
                    let mut current = node;
                    while let Some(&previous) = parent.get(&current) {
                        path.push(previous);
                        current = previous;
                    }
                    path.reverse();
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(slot) = parent.entry(successor) {
                    slot.insert(node);
                    queue.push_back(successor);
                }
            }
        }
        // A strongly connected component always has a cycle through each member; keep the
        // members as they are if that invariant were ever broken.
        component.to_vec()
    }

    /// The W3003 warning for a cycle that a transform may break.
    fn transformed_cycle_warning(&self, cycle: &Cycle, transform: &str) -> Diagnostic {
        let error = self.cycle_diagnostic(cycle);
        Diagnostic::warning(
            Code::TransformSkipsChecks,
            error.span,
            format!(
                "{} (not an error here: the {transform} transform rewrites these resources \
                 before AWS builds its graph)",
                error.message
            ),
        )
        .with_hint(format!(
            "{}; expand the transform (e.g. `sam validate`) to check the result",
            error.hint.unwrap_or_default()
        ))
    }

    /// The E4001 error for one cycle.
    fn cycle_diagnostic(&self, cycle: &Cycle) -> Diagnostic {
        let span = cycle
            .path
            .first()
            .and_then(|name| self.index.get(name.as_str()))
            .and_then(|&node| self.graph.node_weight(node))
            .map_or_else(Span::default, |node| node.span);
        let mut steps: Vec<String> = Vec::with_capacity(cycle.path.len());
        for (i, from) in cycle.path.iter().enumerate() {
            let to = cycle
                .path
                .get(i + 1)
                .or_else(|| cycle.path.first())
                .map_or("", String::as_str);
            match self.dependency(from, to) {
                Some(dependency) => steps.push(format!(
                    "{from} depends on {to} ({})",
                    dependency.describe(self.format)
                )),
                None => steps.push(format!("{from} depends on {to}")),
            }
        }
        let mut hint = steps.join("; ");
        let on_path: HashSet<&String> = cycle.path.iter().collect();
        let others: Vec<&str> = cycle
            .members
            .iter()
            .filter(|m| !on_path.contains(m))
            .map(String::as_str)
            .collect();
        if !others.is_empty() {
            let _ = write!(
                hint,
                "; the cycle is entangled with {} as well",
                others.join(", ")
            );
        }
        hint.push_str("; remove one of these dependencies to break the cycle");
        Diagnostic::error(
            Code::DependencyCycle,
            span,
            format!("circular dependency: {}", cycle.display_path()),
        )
        .with_hint(hint)
    }
}

/// Escapes a string for a double-quoted DOT id or label.
fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes a string for a double-quoted Mermaid label (entity codes, as Mermaid wants).
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::span::{Pos, Spanned};
    use crate::template::expr::Call;
    use crate::template::node::Key;
    use crate::template::version::Version;
    use proptest::prelude::*;

    fn at(line: u32, col: u32) -> Span {
        Span::new(Pos::new(line, col), Pos::new(line, col + 1))
    }

    fn string(text: &str, span: Span) -> Expr {
        Expr::new(ExprKind::String(text.to_string()), span)
    }

    fn call(func: Func, arg: Expr) -> Expr {
        let span = arg.span;
        Expr::new(
            ExprKind::Call(Box::new(Call {
                func,
                name_span: span,
                arg,
            })),
            span,
        )
    }

    fn list(items: Vec<Expr>) -> Expr {
        let span = items.first().map_or_else(Span::default, |e| e.span);
        Expr::new(ExprKind::List(items), span)
    }

    fn map(entries: Vec<(&str, Expr)>) -> Expr {
        let span = entries.first().map_or_else(Span::default, |(_, e)| e.span);
        Expr::new(
            ExprKind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                name: k.to_string(),
                                span: v.span,
                            },
                            v,
                        )
                    })
                    .collect(),
            ),
            span,
        )
    }

    fn get_resource(name: &str, span: Span) -> Expr {
        call(Func::GetResource, string(name, span))
    }

    fn get_attr(name: &str, attr: &str, span: Span) -> Expr {
        call(
            Func::GetAttr,
            list(vec![string(name, span), string(attr, span)]),
        )
    }

    fn cfn_ref(name: &str, span: Span) -> Expr {
        call(Func::Ref, string(name, span))
    }

    fn resource(name: &str, line: u32) -> Resource {
        Resource::new(
            Spanned::new(name.to_string(), at(line, 3)),
            Spanned::new("OS::Heat::None".to_string(), at(line + 1, 11)),
            at(line, 3),
        )
    }

    fn depends(mut r: Resource, names: &[&str]) -> Resource {
        let line = r.name.span.start.line + 2;
        r.depends_on = names
            .iter()
            .enumerate()
            .map(|(i, n)| Spanned::new((*n).to_string(), at(line, 17 + 10 * i as u32)))
            .collect();
        r
    }

    fn template(version: Version, resources: Vec<Resource>) -> Template {
        Template {
            resources,
            ..Template::new(version, Span::default())
        }
    }

    fn hot(resources: Vec<Resource>) -> Template {
        template(Version::Hot20180831, resources)
    }

    fn messages(diagnostics: &[Diagnostic]) -> Vec<&str> {
        diagnostics.iter().map(|d| d.message.as_str()).collect()
    }

    #[test]
    fn explicit_chain_has_a_creation_order() {
        let t = hot(vec![
            depends(resource("c", 1), &["b"]),
            depends(resource("b", 5), &["a"]),
            resource("a", 9),
        ]);
        let (graph, diagnostics) = build(&t);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(graph.len(), 3);
        assert_eq!(graph.edge_count(), 2);
        assert_eq!(graph.topological_order(), Some(vec!["a", "b", "c"]));
        assert_eq!(graph.dependencies("c"), vec!["b"]);
        assert_eq!(graph.dependents("a"), vec!["b"]);
        assert!(graph.dependencies("nope").is_empty());
        let dependency = graph.dependency("c", "b").expect("edge");
        assert_eq!(dependency.func, None);
        assert_eq!(dependency.section, Section::DependsOn);
        assert_eq!(dependency.describe(Format::Hot), "depends_on at 3:17");
        assert_eq!(dependency.describe(Format::Cfn), "DependsOn at 3:17");
    }

    #[test]
    fn unknown_depends_on_targets_are_skipped() {
        let t = hot(vec![depends(resource("a", 1), &["ghost", "a2"])]);
        let (graph, diagnostics) = build(&t);
        assert!(diagnostics.is_empty());
        assert_eq!(graph.edge_count(), 0);
        assert_eq!(graph.topological_order(), Some(vec!["a"]));
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let t = hot(vec![resource("x", 1), depends(resource("a", 5), &["a"])]);
        let (graph, diagnostics) = build(&t);
        assert_eq!(messages(&diagnostics), ["circular dependency: a -> a"]);
        assert_eq!(diagnostics[0].code, Code::DependencyCycle);
        assert!(diagnostics[0].is_error());
        assert_eq!(diagnostics[0].span, at(5, 3));
        assert_eq!(
            diagnostics[0].hint.as_deref(),
            Some(
                "a depends on a (depends_on at 7:17); remove one of these dependencies to \
                 break the cycle"
            )
        );
        assert_eq!(graph.topological_order(), None);
        assert_eq!(graph.cycles().len(), 1);
        assert_eq!(graph.cycles()[0].path, ["a"]);
    }

    #[test]
    fn two_cycle_starts_at_first_resource() {
        let t = hot(vec![
            depends(resource("Resource", 1), &["Resource2"]),
            depends(resource("Resource2", 5), &["Resource"]),
        ]);
        let (_, diagnostics) = build(&t);
        assert_eq!(
            messages(&diagnostics),
            ["circular dependency: Resource -> Resource2 -> Resource"]
        );
    }

    #[test]
    fn heat_three_cycle_is_named_in_dependency_order() {
        // heat/tests/test_validate.py: res1 -> res3 -> res2 -> res1.
        let t = template(
            Version::Hot20130523,
            vec![
                depends(resource("res1", 4), &["res3"]),
                depends(resource("res2", 7), &["res1"]),
                depends(resource("res3", 10), &["res2"]),
            ],
        );
        let (graph, diagnostics) = build(&t);
        assert_eq!(
            messages(&diagnostics),
            ["circular dependency: res1 -> res3 -> res2 -> res1"]
        );
        assert_eq!(graph.cycles()[0].members, ["res1", "res2", "res3"]);
    }

    #[test]
    fn long_cycle_is_one_error() {
        let names: Vec<String> = (1..=9).map(|i| format!("R{i}")).collect();
        let resources = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let next = &names[(i + 1) % names.len()];
                depends(resource(name, 1 + 4 * i as u32), &[next.as_str()])
            })
            .collect();
        let (_, diagnostics) = build(&hot(resources));
        assert_eq!(
            messages(&diagnostics),
            ["circular dependency: R1 -> R2 -> R3 -> R4 -> R5 -> R6 -> R7 -> R8 -> R9 -> R1"]
        );
    }

    #[test]
    fn each_cycle_is_reported_once_in_document_order() {
        let t = hot(vec![
            resource("free", 1),
            depends(resource("b1", 5), &["b2"]),
            depends(resource("a1", 9), &["a1"]),
            depends(resource("b2", 13), &["b1", "free"]),
        ]);
        let (graph, diagnostics) = build(&t);
        assert_eq!(
            messages(&diagnostics),
            [
                "circular dependency: b1 -> b2 -> b1",
                "circular dependency: a1 -> a1"
            ]
        );
        assert!(graph.has_cycles());
    }

    #[test]
    fn entangled_cycles_name_a_real_cycle_and_the_other_members() {
        // a -> b -> a and b -> c -> b: one component, shortest cycle through a.
        let t = hot(vec![
            depends(resource("a", 1), &["b"]),
            depends(resource("b", 5), &["c", "a"]),
            depends(resource("c", 9), &["b"]),
        ]);
        let (_, diagnostics) = build(&t);
        assert_eq!(messages(&diagnostics), ["circular dependency: a -> b -> a"]);
        let hint = diagnostics[0].hint.as_deref().unwrap_or_default();
        assert!(hint.contains("entangled with c"), "{hint}");
    }

    #[test]
    fn diamond_orders_dependencies_first() {
        let t = hot(vec![
            depends(resource("top", 1), &["left", "right"]),
            depends(resource("left", 5), &["bottom"]),
            depends(resource("right", 9), &["bottom"]),
            resource("bottom", 13),
        ]);
        let (graph, diagnostics) = build(&t);
        assert!(diagnostics.is_empty());
        assert_eq!(
            graph.topological_order(),
            Some(vec!["bottom", "left", "right", "top"])
        );
        assert_eq!(graph.dependents("bottom"), vec!["left", "right"]);
        assert_eq!(graph.dependencies("top"), vec!["left", "right"]);
    }

    #[test]
    fn duplicate_names_are_one_node_with_the_last_definition() {
        let mut second = depends(resource("a", 9), &["b"]);
        second.ty.value = "OS::Heat::RandomString".to_string();
        let t = hot(vec![
            depends(resource("a", 1), &["c"]),
            resource("b", 5),
            second,
            resource("c", 13),
        ]);
        let (graph, _) = build(&t);
        assert_eq!(graph.len(), 3);
        assert_eq!(graph.dependencies("a"), vec!["b"]);
        assert_eq!(
            graph.resources().next().map(|r| r.ty.as_ref()),
            Some("OS::Heat::RandomString")
        );
    }

    #[test]
    fn implicit_references_in_properties_and_metadata() {
        let mut server = resource("server", 1);
        server.properties = Some(map(vec![
            ("port", get_resource("port", at(3, 13))),
            ("name", call(Func::GetParam, string("server", at(4, 13)))),
            ("vol", get_attr("volume", "id", at(5, 13))),
        ]));
        server.metadata = Some(Box::new(map(vec![(
            "cfg",
            get_resource("config", at(7, 12)),
        )])));
        let t = hot(vec![
            server,
            resource("port", 10),
            resource("volume", 14),
            resource("config", 18),
        ]);
        let (graph, diagnostics) = build(&t);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(
            graph.dependencies("server"),
            vec!["port", "volume", "config"]
        );
        let via_meta = graph.dependency("server", "config").expect("edge");
        assert_eq!(via_meta.section, Section::Metadata);
        assert_eq!(
            via_meta.describe(Format::Hot),
            "get_resource in metadata at 7:12"
        );
        assert_eq!(
            graph.dependency("server", "volume").and_then(|d| d.func),
            Some(Func::GetAttr)
        );
        assert_eq!(
            graph.topological_order(),
            Some(vec!["port", "volume", "config", "server"])
        );
    }

    #[test]
    fn explicit_and_implicit_edges_to_one_target_are_one_edge() {
        let mut a = depends(resource("a", 1), &["b"]);
        a.properties = Some(map(vec![("x", get_resource("b", at(2, 9)))]));
        let (graph, _) = build(&hot(vec![a, resource("b", 10)]));
        assert_eq!(graph.edge_count(), 1);
        // The reference written first (line 2) explains the edge.
        assert_eq!(
            graph.dependency("a", "b").and_then(|d| d.func),
            Some(Func::GetResource)
        );
    }

    #[test]
    fn params_conditions_and_unknown_names_make_no_edge() {
        let mut a = resource("a", 1);
        a.properties = Some(map(vec![
            ("p", call(Func::GetParam, string("b", at(2, 9)))),
            ("q", get_resource("ghost", at(3, 9))),
        ]));
        a.condition = Some(Box::new(crate::template::model::ResourceCondition::Named(
            Spanned::new("b".to_string(), at(4, 9)),
        )));
        let (graph, diagnostics) = build(&hot(vec![a, resource("b", 10)]));
        assert!(diagnostics.is_empty());
        assert_eq!(graph.edge_count(), 0);
    }

    #[test]
    fn external_resources_depend_on_nothing() {
        let mut a = depends(resource("a", 1), &["b"]);
        a.properties = Some(map(vec![("x", get_resource("b", at(2, 9)))]));
        a.external_id = Some(Box::new(string("0123-4567", at(3, 17))));
        let (graph, _) = build(&hot(vec![a, resource("b", 10)]));
        assert_eq!(graph.edge_count(), 0);
    }

    #[test]
    fn cfn_metadata_cycle_names_where_each_edge_comes_from() {
        // The shape of heat-templates' WordPress_Single_Instance_With_HA.template.
        let mut policy = resource("WebServerRestartPolicy", 1);
        policy.properties = Some(map(vec![(
            "InstanceId",
            cfn_ref("WikiDatabase", at(3, 30)),
        )]));
        let mut alarm = resource("HttpFailureAlarm", 5);
        alarm.properties = Some(map(vec![(
            "AlarmActions",
            list(vec![cfn_ref("WebServerRestartPolicy", at(7, 30))]),
        )]));
        let mut db = resource("WikiDatabase", 9);
        db.metadata = Some(Box::new(map(vec![(
            "content",
            call(
                Func::FnJoin,
                list(vec![
                    string("", at(11, 20)),
                    list(vec![cfn_ref("HttpFailureAlarm", at(11, 40))]),
                ]),
            ),
        )])));
        let t = template(Version::Cfn20100909, vec![policy, alarm, db]);
        let (_, diagnostics) = build(&t);
        assert_eq!(
            messages(&diagnostics),
            [
                "circular dependency: WebServerRestartPolicy -> WikiDatabase -> HttpFailureAlarm \
              -> WebServerRestartPolicy"
            ]
        );
        let hint = diagnostics[0].hint.as_deref().unwrap_or_default();
        assert!(
            hint.contains("WikiDatabase depends on HttpFailureAlarm (Ref in Metadata at 11:40)"),
            "{hint}"
        );
    }

    #[test]
    fn fn_sub_and_getatt_make_edges_in_cfn() {
        let mut a = resource("SG1", 1);
        a.properties = Some(map(vec![(
            "Source",
            call(
                Func::FnSub,
                string("${SG2.GroupId}-${AWS::Region}", at(3, 20)),
            ),
        )]));
        let mut b = resource("SG2", 5);
        b.properties = Some(map(vec![(
            "Source",
            call(
                Func::FnGetAtt,
                list(vec![string("SG1", at(7, 20)), string("GroupId", at(7, 24))]),
            ),
        )]));
        let mut c = resource("Topic", 9);
        c.properties = Some(map(vec![(
            "Name",
            call(Func::FnSub, string("${Bucket}", at(11, 20))),
        )]));
        let t = template(Version::Cfn20100909, vec![a, b, c, resource("Bucket", 13)]);
        let (graph, diagnostics) = build(&t);
        assert_eq!(graph.dependencies("Topic"), vec!["Bucket"]);
        assert_eq!(
            graph.dependency("SG1", "SG2").and_then(|d| d.func),
            Some(Func::FnSub)
        );
        assert_eq!(
            messages(&diagnostics),
            ["circular dependency: SG1 -> SG2 -> SG1"]
        );
    }

    #[test]
    fn update_policy_counts_only_in_aws_format() {
        let mut a = resource("Alias", 1);
        a.update_policy = Some(Box::new(map(vec![("Hook", cfn_ref("Hook", at(3, 15)))])));
        let resources = vec![a, resource("Hook", 5)];
        let (graph, _) = build(&template(Version::Cfn20100909, resources.clone()));
        assert_eq!(graph.dependencies("Alias"), vec!["Hook"]);
        let (graph, _) = build(&template(Version::Heat20121212, resources));
        assert!(graph.dependencies("Alias").is_empty());
    }

    #[test]
    fn dot_and_mermaid_are_stable_and_escaped() {
        let mut a = depends(resource("web", 1), &["db"]);
        a.properties = Some(map(vec![("x", get_attr("db", "ip", at(2, 9)))]));
        let mut b = resource("d\"b", 5);
        b.ty.value = "OS::Nova::Server".to_string();
        let mut c = resource("db", 9);
        c.ty.value = "OS::Trove::Instance".to_string();
        let t = hot(vec![a, b, c]);
        let (graph, _) = build(&t);
        assert_eq!(
            graph.to_dot(),
            "digraph dependencies {\n  // A -> B: A depends on B (B is created first).\n  \
             node [shape=box];\n  \"web\" [label=\"web\\nOS::Heat::None\"];\n  \
             \"d\\\"b\" [label=\"d\\\"b\\nOS::Nova::Server\"];\n  \
             \"db\" [label=\"db\\nOS::Trove::Instance\"];\n  \
             \"web\" -> \"db\" [label=\"get_attr\"];\n}\n"
        );
        assert_eq!(
            graph.to_mermaid(),
            "flowchart TD\n  %% A --> B: A depends on B (B is created first).\n  \
             r0[\"web<br/>OS::Heat::None\"]\n  r1[\"d#quot;b<br/>OS::Nova::Server\"]\n  \
             r2[\"db<br/>OS::Trove::Instance\"]\n  r0 -->|\"get_attr\"| r2\n"
        );
    }

    #[test]
    fn long_chains_and_cycles_need_no_deep_recursion() {
        let n = 5000;
        let chain: Vec<Resource> = (0..n)
            .map(|i| {
                let r = resource(&format!("r{i}"), 1 + i);
                if i == 0 {
                    r
                } else {
                    depends(r, &[&format!("r{}", i - 1)])
                }
            })
            .collect();
        let (graph, diagnostics) = build(&hot(chain.clone()));
        assert!(diagnostics.is_empty());
        let order = graph.topological_order().expect("a DAG");
        assert_eq!(order.first(), Some(&"r0"));
        assert_eq!(order.len(), n as usize);

        let mut ring = chain;
        ring[0] = depends(resource("r0", 1), &[&format!("r{}", n - 1)]);
        let (graph, diagnostics) = build(&hot(ring));
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(graph.cycles()[0].path.len(), n as usize);
        assert_eq!(graph.cycles()[0].path[1], format!("r{}", n - 1));
    }

    #[test]
    fn cycles_a_transform_may_break_are_warnings() {
        let sam = |ty: &str| {
            let mut function = depends(resource("Function", 1), &["Alarm"]);
            function.ty.value = ty.to_string();
            let alarm = depends(resource("Alarm", 5), &["Function"]);
            let topics = vec![
                depends(resource("T1", 9), &["T2"]),
                depends(resource("T2", 13), &["T1"]),
            ];
            let mut t = template(
                Version::Cfn20100909,
                [vec![function, alarm], topics].concat(),
            );
            t.transforms = vec![Spanned::new(
                "AWS::Serverless-2016-10-31".to_string(),
                at(2, 12),
            )];
            t
        };
        let (_, diagnostics) = build(&sam("AWS::Serverless::Function"));
        assert_eq!(diagnostics.len(), 2);
        assert_eq!(diagnostics[0].code, Code::TransformSkipsChecks);
        assert!(!diagnostics[0].is_error());
        assert!(
            diagnostics[0]
                .message
                .starts_with("circular dependency: Function -> Alarm -> Function (not an error"),
            "{}",
            diagnostics[0].message
        );
        // A cycle among resources the transform leaves alone is still an error.
        assert_eq!(diagnostics[1].code, Code::DependencyCycle);
        assert_eq!(
            diagnostics[1].message,
            "circular dependency: T1 -> T2 -> T1"
        );

        let (_, diagnostics) = build(&sam("AWS::Lambda::Function"));
        assert!(diagnostics.iter().all(|d| d.code == Code::DependencyCycle));

        let mut t = sam("AWS::Lambda::Function");
        t.transforms
            .push(Spanned::new("MyMacro".to_string(), at(3, 5)));
        let (_, diagnostics) = build(&t);
        assert!(
            diagnostics
                .iter()
                .all(|d| d.code == Code::TransformSkipsChecks)
        );
        assert!(diagnostics[1].message.contains("the MyMacro transform"));
    }

    #[test]
    fn empty_template_is_an_empty_graph() {
        let (graph, diagnostics) = build(&hot(Vec::new()));
        assert!(graph.is_empty());
        assert!(diagnostics.is_empty());
        assert_eq!(graph.topological_order(), Some(Vec::new()));
        assert_eq!(
            graph.to_mermaid(),
            "flowchart TD\n  %% A --> B: A depends on B (B is created first).\n"
        );
    }

    /// Builds a template from logical edges `(dependent, dependency, how)` over `n` resources
    /// named `r0..` (`n` = `doc_order.len()`), written in the order `doc_order`. `how` picks explicit depends_on or one
    /// of the implicit reference forms.
    fn random_template(cfn: bool, doc_order: &[usize], edges: &[(usize, usize, u8)]) -> Template {
        let mut resources: Vec<Resource> = Vec::new();
        for (position, &logical) in doc_order.iter().enumerate() {
            let line = 1 + 20 * position as u32;
            let mut r = resource(&format!("r{logical}"), line);
            let mut properties: Vec<(String, Expr)> = Vec::new();
            let mut metadata: Vec<(String, Expr)> = Vec::new();
            for (k, &(from, to, how)) in edges.iter().enumerate() {
                if from != logical {
                    continue;
                }
                let target = format!("r{to}");
                let span = at(line + 2 + (k % 15) as u32, 9);
                let key = format!("k{k}");
                match (how % 4, cfn) {
                    (0, _) => r.depends_on.push(Spanned::new(target, span)),
                    (1, false) => properties.push((key, get_resource(&target, span))),
                    (2, false) => metadata.push((key, get_attr(&target, "a", span))),
                    (_, false) => properties.push((
                        key,
                        list(vec![string("x", span), get_attr(&target, "b", span)]),
                    )),
                    (1, true) => properties.push((key, cfn_ref(&target, span))),
                    (2, true) => metadata.push((
                        key,
                        call(
                            Func::FnGetAtt,
                            list(vec![string(&target, span), string("Arn", span)]),
                        ),
                    )),
                    (_, true) => properties.push((
                        key,
                        call(Func::FnSub, string(&format!("x-${{{target}.Arn}}"), span)),
                    )),
                }
            }
            let to_map = |entries: Vec<(String, Expr)>| {
                map(entries
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect())
            };
            if !properties.is_empty() {
                r.properties = Some(to_map(properties));
            }
            if !metadata.is_empty() {
                r.metadata = Some(Box::new(to_map(metadata)));
            }
            resources.push(r);
        }
        let version = if cfn {
            Version::Cfn20100909
        } else {
            Version::Hot20210416
        };
        template(version, resources)
    }

    /// A random DAG: (CloudFormation?, resource count, document order, edges).
    type DagCase = (bool, usize, Vec<usize>, Vec<(usize, usize, u8)>);

    fn dag_case() -> impl Strategy<Value = DagCase> {
        (1usize..12).prop_flat_map(|n| {
            let order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
            let edges = proptest::collection::vec((0..n, 0..n, any::<u8>()), 0..(n * 2 + 1))
                .prop_map(|edges| {
                    edges
                        .into_iter()
                        .filter(|(a, b, _)| a != b)
                        .map(|(a, b, how)| (a.max(b), a.min(b), how))
                        .collect::<Vec<_>>()
                });
            (any::<bool>(), Just(n), order, edges)
        })
    }

    proptest! {
        #[test]
        fn random_dags_have_no_cycle_and_a_valid_order((cfn, n, order, edges) in dag_case()) {
            let t = random_template(cfn, &order, &edges);
            let (graph, diagnostics) = build(&t);
            prop_assert!(diagnostics.is_empty(), "{:?}", diagnostics);
            prop_assert_eq!(graph.len(), n);
            let topo = graph.topological_order();
            prop_assert!(topo.is_some());
            let topo = topo.unwrap_or_default();
            prop_assert_eq!(topo.len(), n);
            let position = |name: &str| topo.iter().position(|x| *x == name);
            for (from, to, _) in &edges {
                let (from, to) = (format!("r{from}"), format!("r{to}"));
                prop_assert!(graph.dependency(&from, &to).is_some(), "missing edge {} -> {}", from, to);
                prop_assert!(position(&to) < position(&from), "{} placed before {}", from, to);
            }
            prop_assert_eq!(graph.edges().count(), {
                let mut pairs: Vec<(usize, usize)> = edges.iter().map(|(a, b, _)| (*a, *b)).collect();
                pairs.sort_unstable();
                pairs.dedup();
                pairs.len()
            });
        }

        #[test]
        fn planted_cycles_are_reported(
            (cfn, n, order, mut edges) in dag_case(),
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..6),
            how in any::<u8>(),
        ) {
            let mut cycle: Vec<usize> = picks.iter().map(|i| i.index(n)).collect();
            cycle.dedup();
            let mut seen = std::collections::HashSet::new();
            cycle.retain(|x| seen.insert(*x));
            for (i, &from) in cycle.iter().enumerate() {
                edges.push((from, cycle[(i + 1) % cycle.len()], how));
            }
            let t = random_template(cfn, &order, &edges);
            let (graph, diagnostics) = build(&t);
            prop_assert!(!diagnostics.is_empty());
            prop_assert!(graph.topological_order().is_none());
            prop_assert_eq!(diagnostics.len(), graph.cycles().len());
            for (d, c) in diagnostics.iter().zip(graph.cycles()) {
                prop_assert_eq!(d.code, Code::DependencyCycle);
                prop_assert_eq!(&d.message, &format!("circular dependency: {}", c.display_path()));
                for (i, from) in c.path.iter().enumerate() {
                    let to = &c.path[(i + 1) % c.path.len()];
                    prop_assert!(graph.dependency(from, to).is_some(), "{} -> {} is not an edge", from, to);
                    prop_assert!(c.members.contains(from));
                }
            }
            // Every planted node is in some reported cycle.
            for node in &cycle {
                let name = format!("r{node}");
                prop_assert!(graph.cycles().iter().any(|c| c.members.contains(&name)));
            }
        }
    }
}
