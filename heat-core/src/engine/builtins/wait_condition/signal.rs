//! Signals to wait condition handles: the two body formats, their validation, and how the
//! signals a handle received are kept in its data.
//!
//! # Formats (Heat's)
//!
//! | handle | keys | missing keys |
//! |---|---|---|
//! | `AWS::CloudFormation::WaitConditionHandle` | `Status`, `Reason`, `UniqueId`, `Data` | refused: all four are needed |
//! | `OS::Heat::WaitConditionHandle` | `status`, `reason`, `id`, `data` | filled in: `status` `SUCCESS`, `reason` `Signal <n> received`, `data` null, `id` `<n>` |
//!
//! `<n>` is one more than the number of different ids received so far. Any other key is
//! refused. The status must be exactly `SUCCESS` or `FAILURE` (Heat knows no other spelling).
//! The id is kept as Python's `str()` of the value (`5` → `"5"`, `true` → `"True"`); a list
//! or map as an id is refused. The reason and data may be any JSON value.
//!
//! An AWS signal with no body (`null`) changes nothing (Heat ignores it); an OS signal with an
//! empty body (anything Python finds false: `null`, `{}`, `""`, `0`, `false`, `[]`) is a
//! success with every default.
//!
//! # Storage
//!
//! Each id is one entry of the handle's [`ResourceData`], under `signal:<id>`, holding
//! `{"seq": <n>, "status": ..., "reason": ..., "data": ...}`; `seq` is the order in which the
//! id first arrived. A later signal with the same id replaces the entry but keeps its `seq`,
//! so the order is Heat's (a Python dict updated in place).

use serde_json::{Value, json};

use crate::engine::builtins::wait_condition::{py_str, text_of};
use crate::engine::provider::ResourceData;

/// The prefix of the data keys that hold signals (`signal:<id>`).
pub const DATA_PREFIX: &str = "signal:";

/// The most different ids a handle keeps.
pub const MAX_SIGNAL_IDS: usize = 1024;

/// The most bytes a handle's recorded signals may take (keys and JSON values together).
pub const MAX_SIGNALS_BYTES: usize = 1 << 20;

/// Which handle's format a signal is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalFormat {
    /// `AWS::CloudFormation::WaitConditionHandle`: `Status`, `Reason`, `UniqueId`, `Data`, all
    /// required.
    Cfn,
    /// `OS::Heat::WaitConditionHandle`: `status`, `reason`, `id`, `data`, all optional.
    Heat,
}

impl SignalFormat {
    /// The keys, in the order data, reason, status, id.
    pub fn keys(self) -> [&'static str; 4] {
        match self {
            SignalFormat::Cfn => ["Data", "Reason", "Status", "UniqueId"],
            SignalFormat::Heat => ["data", "reason", "status", "id"],
        }
    }

    /// The handle type whose format this is (for messages).
    pub fn handle_type(self) -> &'static str {
        match self {
            SignalFormat::Cfn => "AWS::CloudFormation::WaitConditionHandle",
            SignalFormat::Heat => "OS::Heat::WaitConditionHandle",
        }
    }
}

/// A signal's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalStatus {
    /// `SUCCESS`: counts towards the wait condition's `count`.
    Success,
    /// `FAILURE`: fails the wait condition.
    Failure,
}

impl SignalStatus {
    /// `SUCCESS` or `FAILURE`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalStatus::Success => "SUCCESS",
            SignalStatus::Failure => "FAILURE",
        }
    }

    /// Reads a status written exactly as Heat wants it.
    pub fn parse(text: &str) -> Option<SignalStatus> {
        match text {
            "SUCCESS" => Some(SignalStatus::Success),
            "FAILURE" => Some(SignalStatus::Failure),
            _ => None,
        }
    }
}

/// One signal, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// The unique id (Python's `str()` of the id given).
    pub id: String,
    /// Success or failure.
    pub status: SignalStatus,
    /// The reason given (any JSON value; Heat's default is `Signal <n> received`).
    pub reason: Value,
    /// The data given (any JSON value; null when none).
    pub data: Value,
}

impl Signal {
    /// The signal Heat records for an empty OS signal when `received` ids are already kept:
    /// a success with id `received + 1`, reason `Signal <received + 1> received` and no data.
    pub fn default_heat(received: usize) -> Signal {
        let n = received.saturating_add(1);
        Signal {
            id: n.to_string(),
            status: SignalStatus::Success,
            reason: Value::String(format!("Signal {n} received")),
            data: Value::Null,
        }
    }

    /// The reason as text (Python's `str()` for scalars, JSON for lists and maps).
    pub fn reason_text(&self) -> String {
        text_of(&self.reason)
    }
}

/// Why a signal was refused, or stored signals could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignalError {
    /// The body is not a JSON object.
    #[error(
        "a signal to an {handle_type} must be a JSON object with the keys {expected}, not {found}"
    )]
    NotAnObject {
        /// The handle type.
        handle_type: &'static str,
        /// The keys it takes.
        expected: String,
        /// What kind of JSON value was sent.
        found: &'static str,
    },
    /// Keys are missing or unknown.
    #[error("{}", describe_keys(handle_type, missing, unknown, expected))]
    BadKeys {
        /// The handle type.
        handle_type: &'static str,
        /// Keys that must be given but were not.
        missing: Vec<String>,
        /// Keys that are not part of the format.
        unknown: Vec<String>,
        /// The keys it takes.
        expected: String,
    },
    /// The status is not `SUCCESS` or `FAILURE`.
    #[error("{key} {found} is not a valid status: it must be SUCCESS or FAILURE (in capitals)")]
    BadStatus {
        /// The status key (`Status` / `status`).
        key: &'static str,
        /// The value sent, as JSON.
        found: String,
    },
    /// The id is a list or a map.
    #[error("{key} {found} is not a valid id: use a string or a number")]
    BadId {
        /// The id key (`UniqueId` / `id`).
        key: &'static str,
        /// The value sent, as JSON.
        found: String,
    },
    /// The handle keeps as many different ids as it may.
    #[error(
        "the handle already keeps {limit} signals with different ids, the most it may keep; a \
         signal with an id already received replaces that one"
    )]
    TooManyIds {
        /// The limit ([`MAX_SIGNAL_IDS`]).
        limit: usize,
    },
    /// The recorded signals would grow too big.
    #[error(
        "with this signal the handle's signals would take {size} bytes, more than the limit of \
         {limit}; send less data"
    )]
    TooLarge {
        /// The size they would take.
        size: usize,
        /// The limit ([`MAX_SIGNALS_BYTES`]).
        limit: usize,
    },
    /// A stored entry cannot be read (the data was changed by something else).
    #[error("the stored signal {key:?} cannot be read: {detail}")]
    Corrupt {
        /// The data key.
        key: String,
        /// What is wrong with it.
        detail: String,
    },
}

fn describe_keys(
    handle_type: &str,
    missing: &[String],
    unknown: &[String],
    expected: &str,
) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("is missing {}", missing.join(", ")));
    }
    if !unknown.is_empty() {
        parts.push(format!("has unknown keys {}", unknown.join(", ")));
    }
    format!(
        "the signal {}: a signal to an {handle_type} takes exactly the keys {expected}",
        parts.join(" and ")
    )
}

/// How a JSON value's kind is named in messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether Python finds the value false.
fn falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Validates a signal body in `format`, as Heat does; `received` is the number of different
/// ids the handle keeps already (for the OS format's default id). `Ok(None)`: the signal
/// changes nothing (an AWS signal with no body).
pub fn parse_signal(
    format: SignalFormat,
    details: &Value,
    received: usize,
) -> Result<Option<Signal>, SignalError> {
    let [data_key, reason_key, status_key, id_key] = format.keys();
    let expected = format.keys().join(", ");
    let empty = serde_json::Map::new();
    let body = match (format, details) {
        (SignalFormat::Cfn, Value::Null) => return Ok(None),
        (SignalFormat::Heat, v) if falsy(v) => &empty,
        (_, Value::Object(map)) => map,
        (_, other) => {
            return Err(SignalError::NotAnObject {
                handle_type: format.handle_type(),
                expected,
                found: kind(other),
            });
        }
    };
    let unknown: Vec<String> = body
        .keys()
        .filter(|k| !format.keys().contains(&k.as_str()))
        .cloned()
        .collect();
    let missing: Vec<String> = match format {
        SignalFormat::Cfn => format
            .keys()
            .iter()
            .filter(|k| !body.contains_key(**k))
            .map(|k| (*k).to_string())
            .collect(),
        SignalFormat::Heat => Vec::new(),
    };
    if !unknown.is_empty() || !missing.is_empty() {
        return Err(SignalError::BadKeys {
            handle_type: format.handle_type(),
            missing,
            unknown,
            expected,
        });
    }
    let default = Signal::default_heat(received);
    let status = match body.get(status_key) {
        None => default.status,
        Some(v) => {
            v.as_str()
                .and_then(SignalStatus::parse)
                .ok_or_else(|| SignalError::BadStatus {
                    key: status_key,
                    found: v.to_string(),
                })?
        }
    };
    let id = match body.get(id_key) {
        None => default.id,
        Some(v) => py_str(v).ok_or_else(|| SignalError::BadId {
            key: id_key,
            found: v.to_string(),
        })?,
    };
    Ok(Some(Signal {
        id,
        status,
        reason: body.get(reason_key).cloned().unwrap_or(default.reason),
        data: body.get(data_key).cloned().unwrap_or(Value::Null),
    }))
}

/// The data key holding the signal with this id.
pub fn data_key(id: &str) -> String {
    format!("{DATA_PREFIX}{id}")
}

/// The entries of `data` that hold signals.
fn entries(data: &ResourceData) -> impl Iterator<Item = (&String, &String)> {
    data.range(DATA_PREFIX.to_string()..)
        .take_while(|(k, _)| k.starts_with(DATA_PREFIX))
}

/// How many different ids the handle keeps.
pub fn received_count(data: &ResourceData) -> usize {
    entries(data).count()
}

fn corrupt(key: &str, detail: impl Into<String>) -> SignalError {
    SignalError::Corrupt {
        key: key.to_string(),
        detail: detail.into(),
    }
}

/// Reads one stored entry: its sequence number and signal.
fn read_entry(key: &str, text: &str) -> Result<(u64, Signal), SignalError> {
    let value: Value = serde_json::from_str(text).map_err(|e| corrupt(key, e.to_string()))?;
    let seq = value
        .get("seq")
        .and_then(Value::as_u64)
        .ok_or_else(|| corrupt(key, "no sequence number"))?;
    let status = value
        .get("status")
        .and_then(Value::as_str)
        .and_then(SignalStatus::parse)
        .ok_or_else(|| corrupt(key, "no valid status"))?;
    Ok((
        seq,
        Signal {
            id: key.strip_prefix(DATA_PREFIX).unwrap_or(key).to_string(),
            status,
            reason: value.get("reason").cloned().unwrap_or(Value::Null),
            data: value.get("data").cloned().unwrap_or(Value::Null),
        },
    ))
}

/// The signals a handle keeps, in the order their ids first arrived.
pub fn received(data: &ResourceData) -> Result<Vec<Signal>, SignalError> {
    let mut all = entries(data)
        .map(|(k, v)| read_entry(k, v))
        .collect::<Result<Vec<_>, _>>()?;
    all.sort_by_key(|(seq, _)| *seq);
    Ok(all.into_iter().map(|(_, s)| s).collect())
}

/// `data` with `signal` recorded: a new id goes last; an id already kept is replaced where it
/// is. Refuses a signal beyond [`MAX_SIGNAL_IDS`] or [`MAX_SIGNALS_BYTES`].
pub fn record(data: &ResourceData, signal: &Signal) -> Result<ResourceData, SignalError> {
    let key = data_key(&signal.id);
    let count = received_count(data);
    let seq = match data.get(&key) {
        Some(text) => read_entry(&key, text)?.0,
        None if count >= MAX_SIGNAL_IDS => {
            return Err(SignalError::TooManyIds {
                limit: MAX_SIGNAL_IDS,
            });
        }
        // Ids are never removed from a handle, so the kept ones are numbered 1..=count.
        None => u64::try_from(count).unwrap_or(u64::MAX).saturating_add(1),
    };
    let text = json!({
        "seq": seq,
        "status": signal.status.as_str(),
        "reason": signal.reason,
        "data": signal.data,
    })
    .to_string();
    let others: usize = entries(data)
        .filter(|(k, _)| **k != key)
        .map(|(k, v)| k.len() + v.len())
        .sum();
    let size = others + key.len() + text.len();
    if size > MAX_SIGNALS_BYTES {
        return Err(SignalError::TooLarge {
            size,
            limit: MAX_SIGNALS_BYTES,
        });
    }
    let mut out = data.clone();
    out.insert(key, text);
    Ok(out)
}

/// The signals as Heat shows them in the handle's metadata (what `resource metadata` prints):
/// a map from id to `{data, reason, status}`, with the keys of `format`, in arrival order.
pub fn as_metadata(format: SignalFormat, data: &ResourceData) -> Result<Value, SignalError> {
    let [data_key, reason_key, status_key, _] = format.keys();
    let map = received(data)?
        .into_iter()
        .map(|s| {
            let mut entry = serde_json::Map::new();
            entry.insert(data_key.to_string(), s.data);
            entry.insert(reason_key.to_string(), s.reason);
            entry.insert(status_key.to_string(), Value::from(s.status.as_str()));
            (s.id, Value::Object(entry))
        })
        .collect();
    Ok(Value::Object(map))
}

/// Adds `signal` to a list of signals as [`record`] would: replaced in place when its id is
/// there, else appended.
pub fn merge(signals: &mut Vec<Signal>, signal: Signal) {
    match signals.iter_mut().find(|s| s.id == signal.id) {
        Some(slot) => *slot = signal,
        None => signals.push(signal),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn cfn(v: Value) -> Result<Option<Signal>, SignalError> {
        parse_signal(SignalFormat::Cfn, &v, 0)
    }

    #[test]
    fn cfn_signals_need_exactly_the_four_keys() {
        let s = cfn(json!({"Status": "FAILURE", "Reason": "disk full", "UniqueId": "i-1", "Data": {"x": 1}}))
            .unwrap()
            .unwrap();
        assert_eq!(
            s,
            Signal {
                id: "i-1".to_string(),
                status: SignalStatus::Failure,
                reason: json!("disk full"),
                data: json!({"x": 1}),
            }
        );
        // No body: nothing happens (Heat ignores it).
        assert_eq!(cfn(Value::Null), Ok(None));
        let err = cfn(json!({"Status": "SUCCESS", "Reason": "ok", "Data": "d"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the signal is missing UniqueId: a signal to an \
             AWS::CloudFormation::WaitConditionHandle takes exactly the keys Data, Reason, \
             Status, UniqueId"
        );
        let err =
            cfn(json!({"Status": "SUCCESS", "Reason": "ok", "UniqueId": 1, "Data": 2, "Extra": 3}))
                .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the signal has unknown keys Extra:"),
            "{err}"
        );
        let err = cfn(json!({"status": "SUCCESS"})).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "the signal is missing Data, Reason, Status, UniqueId and has unknown keys status:"
            ),
            "{err}"
        );
        // Heat's two statuses only, as written.
        for bad in [json!("success"), json!("OK"), json!(1), json!(null)] {
            let err =
                cfn(json!({"Status": bad, "Reason": "", "UniqueId": 1, "Data": null})).unwrap_err();
            assert_eq!(
                err,
                SignalError::BadStatus {
                    key: "Status",
                    found: bad.to_string()
                }
            );
            assert!(err.to_string().contains("must be SUCCESS or FAILURE"));
        }
        for body in [json!("SUCCESS"), json!([1]), json!({})] {
            assert!(cfn(body).is_err());
        }
        assert_eq!(
            cfn(json!("SUCCESS")).unwrap_err().to_string(),
            "a signal to an AWS::CloudFormation::WaitConditionHandle must be a JSON object \
             with the keys Data, Reason, Status, UniqueId, not a string"
        );
    }

    #[test]
    fn ids_are_python_str_of_the_value() {
        let cases: &[(Value, &str)] = &[
            (json!("a"), "a"),
            (json!(5), "5"),
            (json!(2.0), "2.0"),
            (json!(true), "True"),
            (json!(null), "None"),
            (json!(""), ""),
        ];
        for (id, want) in cases {
            let s = cfn(json!({"Status": "SUCCESS", "Reason": "", "UniqueId": id, "Data": null}))
                .unwrap()
                .unwrap();
            assert_eq!(s.id, *want, "{id}");
        }
        let err = cfn(json!({"Status": "SUCCESS", "Reason": "", "UniqueId": [1], "Data": null}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "UniqueId [1] is not a valid id: use a string or a number"
        );
    }

    #[test]
    fn heat_signals_fill_in_defaults() {
        let heat = |v: Value, received| parse_signal(SignalFormat::Heat, &v, received);
        for empty in [
            json!(null),
            json!({}),
            json!(""),
            json!(0),
            json!(false),
            json!([]),
        ] {
            assert_eq!(
                heat(empty.clone(), 2).unwrap().unwrap(),
                Signal {
                    id: "3".to_string(),
                    status: SignalStatus::Success,
                    reason: json!("Signal 3 received"),
                    data: Value::Null
                },
                "{empty}"
            );
        }
        let s = heat(json!({"status": "FAILURE"}), 0).unwrap().unwrap();
        assert_eq!((s.id.as_str(), s.status), ("1", SignalStatus::Failure));
        assert_eq!(s.reason_text(), "Signal 1 received");
        let s = heat(json!({"id": 7, "data": [1], "reason": {"r": 1}}), 4)
            .unwrap()
            .unwrap();
        assert_eq!(s.id, "7");
        assert_eq!(s.data, json!([1]));
        assert_eq!(s.reason_text(), "{\"r\": 1}");
        let err = heat(json!({"status": "SUCCESS", "Status": "SUCCESS"}), 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the signal has unknown keys Status: a signal to an OS::Heat::WaitConditionHandle \
             takes exactly the keys data, reason, status, id"
        );
        assert!(matches!(
            heat(json!({"status": "done"}), 0),
            Err(SignalError::BadStatus { key: "status", .. })
        ));
        assert!(matches!(
            heat(json!({"id": {"a": 1}}), 0),
            Err(SignalError::BadId { key: "id", .. })
        ));
        assert!(matches!(
            heat(json!("SUCCESS"), 0),
            Err(SignalError::NotAnObject {
                found: "a string",
                ..
            })
        ));
        assert!(matches!(
            heat(json!([1]), 0),
            Err(SignalError::NotAnObject {
                found: "a list",
                ..
            })
        ));
    }

    fn sig(id: &str, status: SignalStatus, data: Value) -> Signal {
        Signal {
            id: id.to_string(),
            status,
            reason: json!(format!("r{id}")),
            data,
        }
    }

    #[test]
    fn records_keep_first_arrival_order_and_count_unique_ids() {
        let mut data = ResourceData::new();
        data.insert("token".to_string(), "x".to_string());
        data.insert("zzz".to_string(), "y".to_string());
        for (id, d) in [("b", 1), ("a", 2), ("10", 3), ("9", 4), ("a", 5)] {
            data = record(&data, &sig(id, SignalStatus::Success, json!(d))).unwrap();
        }
        assert_eq!(received_count(&data), 4);
        let got: Vec<(String, Value)> = received(&data)
            .unwrap()
            .into_iter()
            .map(|s| (s.id, s.data))
            .collect();
        assert_eq!(
            got,
            [
                ("b".to_string(), json!(1)),
                ("a".to_string(), json!(5)),
                ("10".to_string(), json!(3)),
                ("9".to_string(), json!(4)),
            ]
        );
        // Other data is untouched.
        assert_eq!(data.get("token").map(String::as_str), Some("x"));
        assert_eq!(data.get("zzz").map(String::as_str), Some("y"));
        // The OS default id is one more than the number of different ids.
        let next = parse_signal(SignalFormat::Heat, &Value::Null, received_count(&data))
            .unwrap()
            .unwrap();
        assert_eq!(next.id, "5");
        // merge() on a list agrees with record().
        let mut list = received(&data).unwrap();
        merge(&mut list, sig("b", SignalStatus::Failure, json!(0)));
        merge(&mut list, sig("new", SignalStatus::Success, json!(0)));
        let data = record(&data, &sig("b", SignalStatus::Failure, json!(0))).unwrap();
        let data = record(&data, &sig("new", SignalStatus::Success, json!(0))).unwrap();
        assert_eq!(received(&data).unwrap(), list);
    }

    #[test]
    fn metadata_has_heats_shape() {
        let mut data = ResourceData::new();
        for (id, status) in [("b", SignalStatus::Success), ("a", SignalStatus::Failure)] {
            data = record(&data, &sig(id, status, json!([id]))).unwrap();
        }
        let shown = |format| serde_json::to_string(&as_metadata(format, &data).unwrap()).unwrap();
        assert_eq!(
            shown(SignalFormat::Heat),
            r#"{"b":{"data":["b"],"reason":"rb","status":"SUCCESS"},"a":{"data":["a"],"reason":"ra","status":"FAILURE"}}"#
        );
        assert_eq!(
            shown(SignalFormat::Cfn),
            r#"{"b":{"Data":["b"],"Reason":"rb","Status":"SUCCESS"},"a":{"Data":["a"],"Reason":"ra","Status":"FAILURE"}}"#
        );
        assert_eq!(
            as_metadata(SignalFormat::Heat, &ResourceData::new()),
            Ok(json!({}))
        );
    }

    #[test]
    fn records_are_bounded() {
        let mut data = ResourceData::new();
        for i in 0..MAX_SIGNAL_IDS {
            data = record(
                &data,
                &sig(&i.to_string(), SignalStatus::Success, Value::Null),
            )
            .unwrap();
        }
        let err = record(&data, &sig("one-more", SignalStatus::Success, Value::Null)).unwrap_err();
        assert_eq!(
            err,
            SignalError::TooManyIds {
                limit: MAX_SIGNAL_IDS
            }
        );
        assert!(err.to_string().contains("1024"));
        // An id already kept can still be replaced.
        assert!(record(&data, &sig("3", SignalStatus::Failure, Value::Null)).is_ok());

        let big = json!("x".repeat(MAX_SIGNALS_BYTES));
        let err = record(&ResourceData::new(), &sig("a", SignalStatus::Success, big)).unwrap_err();
        assert!(
            matches!(err, SignalError::TooLarge { size, limit } if size > limit && limit == MAX_SIGNALS_BYTES)
        );
        // Replacing a big entry with a small one is measured without the old one.
        let half = json!("x".repeat(MAX_SIGNALS_BYTES / 2));
        let data = record(
            &ResourceData::new(),
            &sig("a", SignalStatus::Success, half.clone()),
        )
        .unwrap();
        let data = record(&data, &sig("a", SignalStatus::Success, half.clone())).unwrap();
        assert!(record(&data, &sig("b", SignalStatus::Success, half)).is_err());
    }

    #[test]
    fn corrupt_entries_are_reported() {
        for (text, detail) in [
            ("not json", "expected"),
            ("{\"status\": \"SUCCESS\"}", "no sequence number"),
            ("{\"seq\": 1, \"status\": \"MAYBE\"}", "no valid status"),
        ] {
            let mut data = ResourceData::new();
            data.insert(data_key("x"), text.to_string());
            let err = received(&data).unwrap_err();
            assert!(
                matches!(&err, SignalError::Corrupt { key, detail: d } if key == "signal:x" && d.contains(detail)),
                "{err}"
            );
            // Replacing the unreadable entry is refused; other ids are not held up by it.
            assert!(record(&data, &sig("x", SignalStatus::Success, Value::Null)).is_err());
            assert!(record(&data, &sig("y", SignalStatus::Success, Value::Null)).is_ok());
        }
    }
}
