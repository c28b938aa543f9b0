//! How the engine's values are written to columns and read back: states as their two
//! names, times as integer nanoseconds, ids as signed 64-bit integers, structured values as
//! JSON text. Anything that does not read back is a [`StoreError::Backend`] naming the column.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use heat_core::engine::state::{Action, State, Status};
use heat_core::engine::store::{SnapshotResource, StackDefinition, StoreError};
use heat_core::engine::{Properties, ResourceData};
use heat_core::template::model::DeletionPolicy;
use serde::{Deserialize, Serialize};

/// A database error as a store error.
pub fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A value that does not fit or does not read back.
pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} is not valid: {detail}"))
}

/// A time as integer nanoseconds (exact; up to about 292 years).
pub fn nanos(d: Duration) -> Result<i64, StoreError> {
    i64::try_from(d.as_nanos()).map_err(|_| {
        StoreError::Backend(format!(
            "the time {d:?} is too large to store (at most {} ns)",
            i64::MAX
        ))
    })
}

/// Integer nanoseconds back to a time.
pub fn duration(n: i64, what: &str) -> Result<Duration, StoreError> {
    u64::try_from(n)
        .map(Duration::from_nanos)
        .map_err(|_| corrupt(what, format!("negative time {n}")))
}

/// An id or counter as a column value.
pub fn signed(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| {
        StoreError::Backend(format!(
            "{what} {n} is too large to store (at most {})",
            i64::MAX
        ))
    })
}

/// A column value back to an id or counter.
pub fn unsigned(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt(what, format!("negative value {n}")))
}

/// A stored action and status back to a state.
pub fn state(action: &str, status: &str) -> Result<State, StoreError> {
    let a = Action::from_name(action).ok_or_else(|| corrupt("action", action))?;
    Ok(State::new(a, status_of(status)?))
}

/// A stored status back to a status.
pub fn status_of(status: &str) -> Result<Status, StoreError> {
    Status::from_name(status).ok_or_else(|| corrupt("status", status))
}

/// The name a deletion policy is stored under (the template's spelling).
pub fn policy_name(policy: DeletionPolicy) -> &'static str {
    match policy {
        DeletionPolicy::Delete => "Delete",
        DeletionPolicy::Retain => "Retain",
        DeletionPolicy::Snapshot => "Snapshot",
        DeletionPolicy::RetainExceptOnCreate => "RetainExceptOnCreate",
    }
}

/// A stored deletion policy.
pub fn policy(name: &str) -> Result<DeletionPolicy, StoreError> {
    match name {
        "Delete" => Ok(DeletionPolicy::Delete),
        "Retain" => Ok(DeletionPolicy::Retain),
        "Snapshot" => Ok(DeletionPolicy::Snapshot),
        "RetainExceptOnCreate" => Ok(DeletionPolicy::RetainExceptOnCreate),
        other => Err(corrupt("deletion policy", other)),
    }
}

/// A value as JSON text.
pub fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode {what} as JSON: {e}")))
}

/// JSON text back to a value.
pub fn from_json<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A stack definition as stored (an update's `previous`, a snapshot's definition).
#[derive(Serialize)]
struct DefinitionOut<'a> {
    template: &'a str,
    files: &'a BTreeMap<String, String>,
    environments: &'a [String],
    parameters: &'a BTreeMap<String, String>,
}

/// A stack definition read back.
#[derive(Deserialize)]
struct DefinitionIn {
    template: String,
    files: BTreeMap<String, String>,
    environments: Vec<String>,
    parameters: BTreeMap<String, String>,
}

/// A definition as JSON text.
pub fn definition_json(d: &StackDefinition) -> Result<String, StoreError> {
    to_json(
        &DefinitionOut {
            template: &d.template,
            files: &d.files,
            environments: &d.environments,
            parameters: &d.parameters,
        },
        "stack definition",
    )
}

/// JSON text back to a definition.
pub fn definition(text: &str) -> Result<StackDefinition, StoreError> {
    let d: DefinitionIn = from_json(text, "stack definition")?;
    Ok(StackDefinition {
        template: Arc::from(d.template),
        files: d.files,
        environments: d.environments,
        parameters: d.parameters,
    })
}

/// One snapshot resource as stored.
#[derive(Serialize)]
struct SnapshotResourceOut<'a> {
    resource_type: &'a str,
    physical_id: Option<&'a str>,
    properties: &'a Properties,
    data: &'a ResourceData,
}

/// One snapshot resource read back.
#[derive(Deserialize)]
struct SnapshotResourceIn {
    resource_type: String,
    physical_id: Option<String>,
    properties: Properties,
    data: ResourceData,
}

/// A snapshot's resources as JSON text (an object by resource name).
pub fn snapshot_resources_json(
    resources: &BTreeMap<String, SnapshotResource>,
) -> Result<String, StoreError> {
    let out: BTreeMap<&str, SnapshotResourceOut<'_>> = resources
        .iter()
        .map(|(name, r)| {
            (
                name.as_str(),
                SnapshotResourceOut {
                    resource_type: &r.resource_type,
                    physical_id: r.physical_id.as_deref(),
                    properties: &r.properties,
                    data: &r.data,
                },
            )
        })
        .collect();
    to_json(&out, "snapshot resources")
}

/// JSON text back to a snapshot's resources.
pub fn snapshot_resources(text: &str) -> Result<BTreeMap<String, SnapshotResource>, StoreError> {
    let stored: BTreeMap<String, SnapshotResourceIn> = from_json(text, "snapshot resources")?;
    Ok(stored
        .into_iter()
        .map(|(name, r)| {
            (
                name,
                SnapshotResource {
                    resource_type: r.resource_type,
                    physical_id: r.physical_id,
                    properties: r.properties,
                    data: r.data,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_to_the_nanosecond_and_refuse_what_does_not_fit() {
        let d = Duration::new(1_700_000_000, 123_456_789);
        assert_eq!(duration(nanos(d).unwrap(), "t").unwrap(), d);
        assert!(nanos(Duration::from_secs(u64::MAX)).is_err());
        assert!(duration(-1, "t").is_err());
    }

    #[test]
    fn states_and_policies_round_trip() {
        for action in Action::ALL {
            for status in Status::ALL {
                let s = State::new(*action, *status);
                assert_eq!(state(s.action.as_str(), s.status.as_str()).unwrap(), s);
            }
        }
        for p in [
            DeletionPolicy::Delete,
            DeletionPolicy::Retain,
            DeletionPolicy::Snapshot,
            DeletionPolicy::RetainExceptOnCreate,
        ] {
            assert_eq!(policy(policy_name(p)).unwrap(), p);
        }
        assert!(state("NOPE", "COMPLETE").is_err());
        assert!(policy("delete").is_err());
    }

    #[test]
    fn ids_beyond_i64_are_refused() {
        assert_eq!(signed(5, "id").unwrap(), 5);
        assert!(signed(u64::MAX, "id").is_err());
        assert!(unsigned(-3, "id").is_err());
    }
}
