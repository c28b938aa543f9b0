//! The update plan (preview): what an update would do to each resource, and why, without
//! doing it.
//!
//! The plan walks the new template in dependency order and decides each resource the way the
//! update itself will ([`Run::decide`]): its new properties are evaluated against the live
//! resources they refer to and compared with the recorded ones. A reference to a resource
//! that the plan adds or replaces has no value yet; it is evaluated to a placeholder, so the
//! properties that use it count as changed ("updated because X is replaced"), as do
//! attributes of a resource updated in place. So the preview never says "unchanged" for a
//! resource the update will touch; it may say "updated" for one whose new values turn out
//! equal.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::eval::{StaticResource, StaticResources};
use crate::template::refs::{RefKind, collect};

use super::EngineError;
use super::forward::Decision;
use super::run::{Run, fetch_attributes};

/// What an update does with one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeAction {
    /// Left alone.
    Unchanged,
    /// Updated in place.
    Update,
    /// Replaced: a new resource is created, dependents point at it, the old one is deleted.
    Replace,
    /// Created (new in the template).
    Add,
    /// Deleted (gone from the template, or a leftover of an earlier replacement).
    Delete,
    /// The update would fail on this resource (an immutable property, a restricted action,
    /// properties that do not validate).
    Refused,
}

impl ChangeAction {
    /// The key Heat's update preview files the resource under (`unchanged`, `updated`,
    /// `replaced`, `added`, `deleted`); refused changes have no Heat key and use `refused`.
    pub fn heat_key(self) -> &'static str {
        match self {
            ChangeAction::Unchanged => "unchanged",
            ChangeAction::Update => "updated",
            ChangeAction::Replace => "replaced",
            ChangeAction::Add => "added",
            ChangeAction::Delete => "deleted",
            ChangeAction::Refused => "refused",
        }
    }
}

/// One resource of a [`Plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedChange {
    /// The resource's logical name.
    pub name: String,
    /// Its type (the new one for a change of type).
    pub resource_type: String,
    /// What the update does with it.
    pub action: ChangeAction,
    /// Why (the property that causes an update or replacement, the resource it depends on
    /// that is replaced, the reason a change is refused).
    pub cause: Option<String>,
    /// The properties whose values change (for updates and replacements).
    pub properties: Vec<String>,
    /// Its current physical id, when it has one.
    pub physical_id: Option<String>,
}

/// What an update would do, per resource, in the new template's dependency order (deleted
/// resources last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The stack's id.
    pub stack_id: String,
    /// The stack's name.
    pub stack_name: String,
    /// One entry per resource.
    pub changes: Vec<PlannedChange>,
}

impl Plan {
    /// The entries with this action.
    pub fn with_action(&self, action: ChangeAction) -> impl Iterator<Item = &PlannedChange> {
        self.changes.iter().filter(move |c| c.action == action)
    }

    /// The entry of a resource.
    pub fn change(&self, name: &str) -> Option<&PlannedChange> {
        self.changes.iter().find(|c| c.name == name)
    }

    /// Whether the update would change nothing.
    pub fn is_empty(&self) -> bool {
        self.changes
            .iter()
            .all(|c| c.action == ChangeAction::Unchanged)
    }
}

/// The placeholder a reference to a resource without a value yet evaluates to.
fn placeholder(name: &str, attribute: Option<&str>) -> Value {
    match attribute {
        Some(a) => Value::String(format!("<new value of {name}.{a}>")),
        None => Value::String(format!("<new id of {name}>")),
    }
}

impl Run {
    /// The update plan of this run's (new) template against the stack's records.
    pub(super) async fn preview(&self) -> Result<Plan, EngineError> {
        let order: Vec<usize> = match self.graph.topological_order() {
            Some(names) => names.into_iter().filter_map(|n| self.slot_of(n)).collect(),
            None => (0..self.slots.len()).collect(),
        };
        // Resources whose reference or attributes will change: name -> replaced (true) or
        // only updated in place (false).
        let mut changing: BTreeMap<String, bool> = BTreeMap::new();
        let mut changes = Vec::new();
        for slot in order {
            let s = &self.slots[slot];
            if !s.enabled {
                continue;
            }
            let current = s.current.map(|rec| &self.records[rec].record);
            let physical_id = current.and_then(|r| r.physical_id.clone());
            let mut entry = PlannedChange {
                name: self.slot_name(slot).to_string(),
                resource_type: s.type_name.to_string(),
                action: ChangeAction::Unchanged,
                cause: None,
                properties: Vec::new(),
                physical_id: physical_id.clone(),
            };
            if physical_id.is_none() {
                entry.action = ChangeAction::Add;
                changing.insert(self.slot_name(slot).to_string(), true);
                changes.push(entry);
                continue;
            }
            let mut refs = Vec::new();
            let def = s.resource.and_then(|i| self.template.resources.get(i));
            if let Some(props) = def.and_then(|d| d.properties.as_ref()) {
                collect(props, &mut refs);
            }
            if let Some(ext) = def.and_then(|d| d.external_id.as_ref()) {
                collect(ext, &mut refs);
            }
            let (mut table, fetches) = self.resolver_for(&refs);
            let fetches = fetches
                .into_iter()
                .filter(|f| !changing.contains_key(f.resource_name()))
                .collect();
            let mut table_err = None;
            match fetch_attributes(std::mem::take(&mut table), fetches, self.config()).await {
                Ok(t) => table = t,
                Err(e) => table_err = Some(e.to_string()),
            }
            let mut because = Vec::new();
            for r in &refs {
                let Some(&replaced) = changing.get(&r.name) else {
                    continue;
                };
                let entry_table =
                    table
                        .resources
                        .entry(r.name.clone())
                        .or_insert_with(|| StaticResource {
                            reference: None,
                            attributes: serde_json::Map::new(),
                        });
                let mut touched = false;
                if replaced {
                    entry_table.reference = Some(placeholder(&r.name, None));
                    touched = matches!(r.kind, RefKind::Resource);
                }
                if let RefKind::Attribute(Some(a)) = &r.kind {
                    entry_table
                        .attributes
                        .insert(a.clone(), placeholder(&r.name, Some(a)));
                    touched = true;
                }
                if touched && !because.contains(&r.name) {
                    because.push(r.name.clone());
                }
            }
            let decision = match (table_err, self.evaluate_for_plan(slot, &table)) {
                (Some(e), _) => Decision::Refuse(e),
                // A placeholder may not fit the property's type: classify by which
                // properties use the changing resources.
                (None, Err(_)) if !because.is_empty() => {
                    let keys = self.properties_using(slot, &because);
                    entry.properties = keys.clone();
                    self.classify(slot, &keys)
                }
                (None, Err(e)) => Decision::Refuse(e),
                (None, Ok((props, ext))) => {
                    let d = self.decide(slot, &props, ext.as_deref());
                    if let (Decision::Update(_) | Decision::Replace(_), Some(rec)) = (&d, s.current)
                        && let Some(p) = &s.provider
                    {
                        entry.properties = crate::engine::schema::changed_properties(
                            p.schema(),
                            &self.records[rec].record.properties,
                            &props,
                        );
                    }
                    d
                }
            };
            let depends = if because.is_empty() {
                String::new()
            } else {
                format!(" (it uses {}, which changes)", because.join(", "))
            };
            match decision {
                Decision::Unchanged => {}
                Decision::Create => {
                    entry.action = ChangeAction::Add;
                    changing.insert(self.slot_name(slot).to_string(), true);
                }
                Decision::Update(changed) => {
                    entry.action = ChangeAction::Update;
                    entry.cause = Some(format!("{} changed{depends}", changed.join(", ")));
                    changing.insert(self.slot_name(slot).to_string(), false);
                }
                Decision::Replace(cause) => {
                    entry.action = ChangeAction::Replace;
                    entry.cause = Some(format!("{cause}{depends}"));
                    changing.insert(self.slot_name(slot).to_string(), true);
                }
                Decision::Refuse(reason) => {
                    entry.action = ChangeAction::Refused;
                    entry.cause = Some(reason);
                }
            }
            changes.push(entry);
        }
        for (rec, r) in self.records.iter().enumerate() {
            if r.removed || self.is_current(rec) || r.record.physical_id.is_none() {
                continue;
            }
            changes.push(PlannedChange {
                name: r.record.name.clone(),
                resource_type: r.record.resource_type.to_string(),
                action: ChangeAction::Delete,
                cause: Some(if self.slot_of(&r.record.name).is_some() {
                    "a replaced resource left from an earlier update".to_string()
                } else {
                    "the resource is not in the new template".to_string()
                }),
                properties: Vec::new(),
                physical_id: r.record.physical_id.clone(),
            });
        }
        Ok(Plan {
            stack_id: self.stack.id.clone(),
            stack_name: self.stack.name.clone(),
            changes,
        })
    }

    /// The top-level properties of a slot whose expressions refer to any of `names`.
    fn properties_using(&self, slot: usize, names: &[String]) -> Vec<String> {
        let s = &self.slots[slot];
        let def = s.resource.and_then(|i| self.template.resources.get(i));
        let Some(entries) = def
            .and_then(|d| d.properties.as_ref())
            .and_then(|p| p.as_map())
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            let mut refs = Vec::new();
            collect(value, &mut refs);
            if refs.iter().any(|r| names.contains(&r.name)) {
                out.push(key.name.clone());
            }
        }
        out
    }

    /// An update of these properties: in place when all are `update_allowed`.
    fn classify(&self, slot: usize, keys: &[String]) -> Decision {
        let Some(p) = &self.slots[slot].provider else {
            return Decision::Update(keys.to_vec());
        };
        let schema = p.schema();
        match keys
            .iter()
            .find(|k| schema.property(k).is_some_and(|x| !x.update_allowed))
        {
            Some(k) => Decision::Replace(format!("the property {k} changed")),
            None => Decision::Update(keys.to_vec()),
        }
    }

    fn evaluate_for_plan(
        &self,
        slot: usize,
        table: &StaticResources,
    ) -> Result<(crate::engine::provider::Properties, Option<String>), String> {
        self.evaluate_slot(slot, table)
    }
}
