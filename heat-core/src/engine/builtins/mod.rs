//! Built-in, cloud-free resource types: `OS::Heat::None`, `OS::Heat::Value`,
//! `OS::Heat::RandomString`, `OS::Heat::TestResource`, `OS::Heat::Delay`, and the wait
//! conditions ([`wait_condition`]): `AWS::CloudFormation::WaitConditionHandle`,
//! `AWS::CloudFormation::WaitCondition`, `OS::Heat::WaitConditionHandle` and
//! `OS::Heat::WaitCondition`.
//!
//! They have the properties, defaults, constraints, `update_allowed` flags and attributes of
//! Heat's types of the same names, so the same templates run on both. They touch nothing
//! outside the engine: time comes from [`Services::clock`](crate::engine::Services), randomness
//! from [`Services::random`](crate::engine::Services), and every wait is a
//! [`Progress::CheckAfter`] with its deadline kept in the resource's data — no provider
//! sleeps.
//!
//! Physical ids are derived from the call's idempotency token, so a create repeated after an
//! engine restart hands back the same id.

pub mod delay;
pub mod none;
pub mod random_string;
pub mod test_resource;
pub mod value;
pub mod wait_condition;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::engine::provider::{
    Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
};

pub use delay::DelayResource;
pub use none::NoneResource;
pub use random_string::RandomStringResource;
pub use test_resource::TestResource;
pub use value::ValueResource;
pub use wait_condition::{CfnWaitConditionHandle, HeatWaitConditionHandle, WaitConditionResource};

/// Every built-in provider with the type name it implements, ready to be registered.
pub fn providers() -> Vec<(&'static str, Arc<dyn ResourceProvider>)> {
    vec![
        (none::TYPE_NAME, Arc::new(NoneResource::new())),
        (value::TYPE_NAME, Arc::new(ValueResource::new())),
        (
            random_string::TYPE_NAME,
            Arc::new(RandomStringResource::new()),
        ),
        (test_resource::TYPE_NAME, Arc::new(TestResource::new())),
        (delay::TYPE_NAME, Arc::new(DelayResource::new())),
        (
            wait_condition::handle::CFN_HANDLE_TYPE,
            Arc::new(CfnWaitConditionHandle::new()),
        ),
        (
            wait_condition::condition::CFN_CONDITION_TYPE,
            Arc::new(WaitConditionResource::cfn()),
        ),
        (
            wait_condition::handle::HEAT_HANDLE_TYPE,
            Arc::new(HeatWaitConditionHandle::new()),
        ),
        (
            wait_condition::condition::HEAT_CONDITION_TYPE,
            Arc::new(WaitConditionResource::heat()),
        ),
    ]
}

/// The longest physical name Heat gives a resource before shortening it.
const PHYSICAL_NAME_LIMIT: usize = 255;

/// How often an endless wait (a negative wait time) asks to be checked again.
pub(crate) const ENDLESS_WAIT_POLL: Duration = Duration::from_secs(1);

/// The physical name Heat gives a resource: `<stack>-<resource>-<short id>`, where the short
/// id is 12 lower-case base32 characters (here derived from the idempotency token, so a
/// repeated create gets the same name), shortened as Heat does when longer than 255
/// characters (the first two characters, a hyphen, then the end of the name).
pub fn physical_resource_name(ctx: &ResourceContext<'_>) -> String {
    let name = format!(
        "{}-{}-{}",
        ctx.stack_name.trim_end_matches('*'),
        ctx.resource_name,
        short_id(ctx.idempotency_token)
    );
    shorten_name(&name, PHYSICAL_NAME_LIMIT)
}

/// Keeps `name` within `limit` characters (`limit >= 4`): the first two characters, a
/// hyphen, then as much of the end as fits.
fn shorten_name(name: &str, limit: usize) -> String {
    let count = name.chars().count();
    if count <= limit {
        return name.to_string();
    }
    let tail = limit.saturating_sub(3);
    let head: String = name.chars().take(2).collect();
    let end: String = name.chars().skip(count - tail).collect();
    format!("{head}-{end}")
}

/// 12 lower-case base32 characters (60 bits) derived from `seed`.
fn short_id(seed: &str) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let digest = Sha256::digest(seed.as_bytes());
    let mut top = [0u8; 8];
    top.copy_from_slice(&digest[..8]);
    let bits = u64::from_be_bytes(top) >> 4;
    (0..12)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 0x1f) as usize]))
        .collect()
}

/// A version-4-shaped UUID derived from `seed` (Heat gives `OS::Heat::None` a random UUID;
/// deriving it from the idempotency token keeps a repeated create idempotent).
pub fn uuid_from_token(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A failure naming the property, in the shape Heat reports property errors.
pub(crate) fn property_error(ctx: &ResourceContext<'_>, detail: &str) -> ProviderError {
    ProviderError::Failed(format!(
        "Property error: resources.{}.properties.{detail}",
        ctx.resource_name
    ))
}

/// The answer for an attribute every resource has (`show`, which is null for types without a
/// remote object to show) or an unknown one.
pub(crate) fn common_attribute(name: &str) -> Result<Value, ProviderError> {
    if name == "show" {
        Ok(Value::Null)
    } else {
        Err(ProviderError::UnknownAttribute(name.to_string()))
    }
}

/// A property read as a number: a JSON number or a numeric string (Heat converts those);
/// missing or null gives `default`.
pub(crate) fn number_property(props: &Properties, name: &str, default: f64) -> Result<f64, String> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => {
            number_value(value).ok_or_else(|| format!("{name}: {value} is not a number"))
        }
    }
}

/// A JSON value read as a finite number (numbers and numeric strings).
pub(crate) fn number_value(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A property read as a boolean: a JSON boolean or the strings `true` / `false` in any case;
/// missing or null gives `default`.
pub(crate) fn bool_property(props: &Properties, name: &str, default: bool) -> Result<bool, String> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(format!("{name}: {other} is not a valid boolean")),
    }
}

/// A property read as a string (Heat turns integers and booleans into their text); missing
/// or null gives `default`.
pub(crate) fn string_property(
    props: &Properties,
    name: &str,
    default: &str,
) -> Result<String, String> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(default.to_string()),
        Some(value) => {
            string_value(value).ok_or_else(|| format!("{name}: expected a string, found {value}"))
        }
    }
}

/// A JSON value as Heat's string properties accept it: strings as they are, integers and
/// booleans as text (`True` / `False`, as Python writes them); anything else is refused.
pub(crate) fn string_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".to_string()),
        Value::Bool(false) => Some("False".to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// How long an action waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Not at all.
    None,
    /// This long.
    For(Duration),
    /// For ever (Heat's negative wait times).
    Endless,
}

impl Wait {
    /// A wait of `secs` seconds: negative is endless, zero is none, too long to represent is
    /// endless.
    pub(crate) fn from_secs(secs: f64) -> Wait {
        if secs.is_nan() || secs == 0.0 {
            Wait::None
        } else if secs < 0.0 {
            Wait::Endless
        } else {
            match Duration::try_from_secs_f64(secs) {
                Ok(d) if d.is_zero() => Wait::None,
                Ok(d) => Wait::For(d),
                Err(_) => Wait::Endless,
            }
        }
    }

    /// The progress to report when the action starts.
    pub(crate) fn initial_progress(self) -> Progress {
        match self {
            Wait::None => Progress::Done,
            Wait::For(d) => Progress::CheckAfter(d),
            Wait::Endless => Progress::CheckAfter(ENDLESS_WAIT_POLL),
        }
    }
}

/// Data key: the end of the current wait (nanoseconds on the engine clock, or `endless`).
pub(crate) const WAIT_UNTIL: &str = "wait_until_ns";
/// Data key: the length of the current wait in nanoseconds (bounds what is left of it if
/// the clock ever goes backwards).
pub(crate) const WAIT_LENGTH: &str = "wait_length_ns";

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Records a wait that starts `now` in `data` (removes any earlier one when there is none).
pub(crate) fn record_wait(data: &mut ResourceData, wait: Wait, now: Duration) {
    match wait {
        Wait::None => {
            data.remove(WAIT_UNTIL);
            data.remove(WAIT_LENGTH);
        }
        Wait::For(d) => {
            data.insert(
                WAIT_UNTIL.to_string(),
                nanos(now).saturating_add(nanos(d)).to_string(),
            );
            data.insert(WAIT_LENGTH.to_string(), nanos(d).to_string());
        }
        Wait::Endless => {
            data.insert(WAIT_UNTIL.to_string(), "endless".to_string());
            data.remove(WAIT_LENGTH);
        }
    }
}

/// Whether the wait recorded in `data` is over at `now`.
pub(crate) fn wait_progress(data: &ResourceData, now: Duration) -> Result<Progress, ProviderError> {
    let Some(until) = data.get(WAIT_UNTIL) else {
        return Ok(Progress::Done);
    };
    if until == "endless" {
        return Ok(Progress::CheckAfter(ENDLESS_WAIT_POLL));
    }
    let until = parse_nanos(until, WAIT_UNTIL)?;
    let now = nanos(now);
    if now >= until {
        return Ok(Progress::Done);
    }
    let mut left = until - now;
    if let Some(length) = data.get(WAIT_LENGTH) {
        left = left.min(parse_nanos(length, WAIT_LENGTH)?);
    }
    Ok(Progress::CheckAfter(Duration::from_nanos(left)))
}

/// Reads a nanosecond count kept in resource data.
pub(crate) fn parse_nanos(text: &str, key: &str) -> Result<u64, ProviderError> {
    text.parse::<u64>().map_err(|_| {
        ProviderError::Failed(format!(
            "the stored {key} {text:?} is not a number of nanoseconds"
        ))
    })
}

/// Test support shared by the builtin providers' tests: a hand-driven clock, seeded
/// randomness and a way to build a [`ResourceContext`].
#[cfg(test)]
pub(crate) mod testkit {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use futures::future::BoxFuture;

    use crate::engine::provider::{Properties, ResourceContext, ResourceData};
    use crate::engine::services::{Clock, SeededRandom, Services};

    /// A clock that moves only when told to.
    #[derive(Debug, Default)]
    pub(crate) struct ManualClock {
        nanos: AtomicU64,
    }

    impl ManualClock {
        /// Moves the clock forward.
        pub(crate) fn advance(&self, by: Duration) {
            let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            self.nanos.fetch_add(by, Ordering::SeqCst);
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Duration {
            Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
        }

        fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
            Box::pin(futures::future::ready(()))
        }
    }

    /// A clock, seeded randomness and the services built from them.
    pub(crate) struct Harness {
        pub(crate) clock: Arc<ManualClock>,
        pub(crate) services: Services,
    }

    impl Harness {
        /// A harness whose randomness starts from `seed`; the clock starts at 1000 s.
        pub(crate) fn new(seed: u64) -> Harness {
            let clock = Arc::new(ManualClock::default());
            clock.advance(Duration::from_secs(1000));
            let services = Services::new(clock.clone(), Arc::new(SeededRandom::new(seed)));
            Harness { clock, services }
        }

        /// A context for resource `res` of stack `stack` holding `data`.
        pub(crate) fn ctx<'a>(
            &'a self,
            res: &'a str,
            data: &'a ResourceData,
        ) -> ResourceContext<'a> {
            ResourceContext {
                stack_id: "0b6a3c1e-stack",
                stack_name: "teststack",
                resource_name: res,
                resource_type: "OS::Heat::Test",
                idempotency_token: res,
                data,
                services: &self.services,
                peers: &[],
            }
        }
    }

    /// Properties from a JSON object literal.
    pub(crate) fn props(value: serde_json::Value) -> Properties {
        match value {
            serde_json::Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::testkit::*;
    use super::*;
    use crate::engine::services::Clock;

    #[test]
    fn providers_cover_every_builtin_type_once() {
        let list = providers();
        let names: Vec<&str> = list.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "OS::Heat::None",
                "OS::Heat::Value",
                "OS::Heat::RandomString",
                "OS::Heat::TestResource",
                "OS::Heat::Delay",
                "AWS::CloudFormation::WaitConditionHandle",
                "AWS::CloudFormation::WaitCondition",
                "OS::Heat::WaitConditionHandle",
                "OS::Heat::WaitCondition",
            ]
        );
        for (name, provider) in &list {
            assert_eq!(provider.schema().type_name, *name);
            assert!(!provider.schema().description.is_empty());
            for p in &provider.schema().properties {
                assert!(!p.description.is_empty(), "{name}.{}", p.name);
            }
        }
    }

    #[test]
    fn physical_names_follow_heats_shape_and_are_stable() {
        let h = Harness::new(1);
        let data = ResourceData::new();
        let ctx = h.ctx("server", &data);
        let name = physical_resource_name(&ctx);
        let (prefix, id) = name.rsplit_once('-').unwrap();
        assert_eq!(prefix, "teststack-server");
        assert_eq!(id.len(), 12);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)),
            "{id}"
        );
        assert_eq!(physical_resource_name(&ctx), name);
        let other = h.ctx("other", &data);
        assert_ne!(short_id("server"), short_id("other"));
        assert!(physical_resource_name(&other).starts_with("teststack-other-"));
    }

    #[test]
    fn long_names_are_shortened_like_heat() {
        let cases: &[(&str, usize, &str)] = &[
            ("short", 10, "short"),
            ("abcdefghij", 10, "abcdefghij"),
            ("abcdefghijk", 10, "ab-efghijk"),
            ("ééééééé", 5, "éé-éé"),
        ];
        for (name, limit, want) in cases {
            let got = shorten_name(name, *limit);
            assert_eq!(&got, want);
            assert!(got.chars().count() <= *limit);
        }
        let long = "s".repeat(300);
        assert_eq!(
            shorten_name(&long, PHYSICAL_NAME_LIMIT).chars().count(),
            255
        );
    }

    #[test]
    fn uuids_are_version_4_shaped() {
        let u = uuid_from_token("token-1");
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(
            parts[3].chars().next(),
            Some('8' | '9' | 'a' | 'b')
        ));
        assert_eq!(uuid_from_token("token-1"), u);
        assert_ne!(uuid_from_token("token-2"), u);
    }

    #[test]
    fn waits_from_seconds() {
        let cases: &[(f64, Wait)] = &[
            (0.0, Wait::None),
            (-0.0, Wait::None),
            (f64::NAN, Wait::None),
            (1e-12, Wait::None),
            (-1.0, Wait::Endless),
            (1e30, Wait::Endless),
            (2.5, Wait::For(Duration::from_millis(2500))),
        ];
        for (secs, want) in cases {
            assert_eq!(Wait::from_secs(*secs), *want, "{secs}");
        }
        assert_eq!(Wait::None.initial_progress(), Progress::Done);
        assert_eq!(
            Wait::For(Duration::from_secs(3)).initial_progress(),
            Progress::CheckAfter(Duration::from_secs(3))
        );
        assert_eq!(
            Wait::Endless.initial_progress(),
            Progress::CheckAfter(ENDLESS_WAIT_POLL)
        );
    }

    #[test]
    fn recorded_waits_count_down_on_the_clock() {
        let h = Harness::new(1);
        let mut data = ResourceData::new();
        assert_eq!(wait_progress(&data, h.clock.now()).unwrap(), Progress::Done);
        record_wait(&mut data, Wait::For(Duration::from_secs(10)), h.clock.now());
        assert_eq!(
            wait_progress(&data, h.clock.now()).unwrap(),
            Progress::CheckAfter(Duration::from_secs(10))
        );
        h.clock.advance(Duration::from_secs(4));
        assert_eq!(
            wait_progress(&data, h.clock.now()).unwrap(),
            Progress::CheckAfter(Duration::from_secs(6))
        );
        // A clock that went backwards never makes the wait longer than it was.
        assert_eq!(
            wait_progress(&data, Duration::ZERO).unwrap(),
            Progress::CheckAfter(Duration::from_secs(10))
        );
        h.clock.advance(Duration::from_secs(6));
        assert_eq!(wait_progress(&data, h.clock.now()).unwrap(), Progress::Done);
        record_wait(&mut data, Wait::Endless, h.clock.now());
        h.clock.advance(Duration::from_secs(1_000_000));
        assert_eq!(
            wait_progress(&data, h.clock.now()).unwrap(),
            Progress::CheckAfter(ENDLESS_WAIT_POLL)
        );
        record_wait(&mut data, Wait::None, h.clock.now());
        assert!(data.is_empty());
        data.insert(WAIT_UNTIL.to_string(), "soon".to_string());
        assert!(matches!(
            wait_progress(&data, h.clock.now()),
            Err(ProviderError::Failed(m)) if m.contains("soon")
        ));
    }

    #[test]
    fn property_readers_accept_what_heat_converts() {
        let p = props(serde_json::json!({
            "n": 3, "f": 1.5, "ns": " 2.5 ", "bad": "x", "null": null,
            "b": true, "bs": "FALSE", "bn": 1,
            "s": "text", "si": 7, "sb": false, "sf": 1.5, "sl": [1]
        }));
        assert_eq!(number_property(&p, "n", 0.0), Ok(3.0));
        assert_eq!(number_property(&p, "f", 0.0), Ok(1.5));
        assert_eq!(number_property(&p, "ns", 0.0), Ok(2.5));
        assert_eq!(number_property(&p, "null", 4.0), Ok(4.0));
        assert_eq!(number_property(&p, "missing", 5.0), Ok(5.0));
        assert!(
            number_property(&p, "bad", 0.0)
                .unwrap_err()
                .starts_with("bad: ")
        );
        assert_eq!(bool_property(&p, "b", false), Ok(true));
        assert_eq!(bool_property(&p, "bs", true), Ok(false));
        assert_eq!(bool_property(&p, "missing", true), Ok(true));
        assert!(bool_property(&p, "bn", false).is_err());
        assert_eq!(string_property(&p, "s", "d").as_deref(), Ok("text"));
        assert_eq!(string_property(&p, "si", "d").as_deref(), Ok("7"));
        assert_eq!(string_property(&p, "sb", "d").as_deref(), Ok("False"));
        assert_eq!(string_property(&p, "null", "d").as_deref(), Ok("d"));
        assert!(string_property(&p, "sf", "d").is_err());
        assert!(string_property(&p, "sl", "d").is_err());
    }

    #[test]
    fn show_is_null_and_other_names_are_unknown() {
        assert_eq!(common_attribute("show"), Ok(Value::Null));
        assert_eq!(
            common_attribute("nope"),
            Err(ProviderError::UnknownAttribute("nope".to_string()))
        );
    }
}
