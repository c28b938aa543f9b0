//! The server's configuration: command-line flags, `HEAT_*` environment variables and a TOML
//! file, in that order of precedence, over Heat's defaults.
//!
//! [`Cli`] is what clap parses (every field optional, so that "not given" can fall through
//! to the environment and the file); [`Config::resolve`] merges the three sources into a
//! checked [`Config`]. The file uses the flags' names with underscores, at top level:
//!
//! ```toml
//! listen = "127.0.0.1:8004"
//! database_url = "sqlite:///var/lib/heat/heat.db"
//! max_resources_per_stack = 2000
//! enable_stack_abandon = true
//!
//! auth = "keystone"
//! keystone_url = "http://keystone.example:5000/v3"
//! keystone_password = "…"   # rather here (mode 0600) or in HEAT_KEYSTONE_PASSWORD than a flag
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

use crate::auth::keystone::{KeystoneConfig, Secret};

/// Heat's `max_template_size`.
pub const DEFAULT_MAX_TEMPLATE_SIZE: usize = 524_288;
/// Heat's `max_json_body_size`.
pub const DEFAULT_MAX_JSON_BODY_SIZE: usize = 1_048_576;
/// Heat's `max_resources_per_stack`.
pub const DEFAULT_MAX_RESOURCES_PER_STACK: i64 = 1000;
/// Heat's `max_stacks_per_tenant`.
pub const DEFAULT_MAX_STACKS_PER_TENANT: i64 = 512;
/// Heat's `max_nested_stack_depth`.
pub const DEFAULT_MAX_NESTED_STACK_DEPTH: usize = 5;
/// Heat's `max_events_per_stack`.
pub const DEFAULT_MAX_EVENTS_PER_STACK: i64 = 1000;
/// How long in-flight provider calls may take to settle at shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 60;
/// The native API's port (Heat's `bind_port`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8004";

/// heat-server: Heat's native REST API, the engine and an embedded database in one process.
///
/// Every option can also be set with the environment variable named in its help, or in the
/// TOML file given with --config (same names, with underscores). Flags win over the
/// environment, which wins over the file.
#[derive(Clone, Debug, Default, Parser, PartialEq, Eq)]
#[command(name = "heat-server", version, about, long_about = None)]
pub struct Cli {
    /// A TOML configuration file [env: HEAT_CONFIG].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The address the API listens on [env: HEAT_LISTEN] [default: 127.0.0.1:8004].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Where the embedded database and other state live [env: HEAT_DATA_DIR] [default:
    /// $XDG_DATA_HOME/heat-server, else ~/.local/share/heat-server].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The database: sqlite://PATH (embedded, the default: DIR/heat.db),
    /// postgres://USER@HOST/DB (several servers sharing one database), or memory:// (nothing
    /// kept across restarts) [env: HEAT_DATABASE_URL].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// How requests are authenticated: noauth (the project is the one in the URL; loopback
    /// only unless --allow-remote-noauth) or keystone [env: HEAT_AUTH] [default: noauth].
    #[arg(long, value_name = "noauth|keystone")]
    pub auth: Option<String>,

    /// Keystone's identity endpoint, for --auth keystone: http://HOST:5000/v3 (or the root,
    /// http://HOST:5000); plain http only [env: HEAT_KEYSTONE_URL].
    #[arg(long, value_name = "URL")]
    pub keystone_url: Option<String>,

    /// The service user heat validates tokens as (it needs the service or admin role in
    /// --keystone-project) [env: HEAT_KEYSTONE_USER] [default: heat].
    #[arg(long, value_name = "NAME")]
    pub keystone_user: Option<String>,

    /// The service user's password. Prefer HEAT_KEYSTONE_PASSWORD or keystone_password in
    /// the configuration file: every local user can read a flag in the process list. Never
    /// logged [env: HEAT_KEYSTONE_PASSWORD].
    #[arg(long, value_name = "PASSWORD", value_parser = secret)]
    pub keystone_password: Option<Secret>,

    /// The project the service user's token is scoped to [env: HEAT_KEYSTONE_PROJECT]
    /// [default: service].
    #[arg(long, value_name = "NAME")]
    pub keystone_project: Option<String>,

    /// The domain (name) of the service user [env: HEAT_KEYSTONE_USER_DOMAIN] [default:
    /// Default].
    #[arg(long, value_name = "NAME")]
    pub keystone_user_domain: Option<String>,

    /// The domain (name) of --keystone-project [env: HEAT_KEYSTONE_PROJECT_DOMAIN]
    /// [default: Default].
    #[arg(long, value_name = "NAME")]
    pub keystone_project_domain: Option<String>,

    /// How long a validated token is accepted without asking Keystone again (never past
    /// the token's expiry). A token revoked meanwhile is accepted until then; 0 asks
    /// Keystone on every request [env: HEAT_KEYSTONE_CACHE_TTL] [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub keystone_cache_ttl: Option<String>,

    /// How long one request to Keystone may take, connecting included, before Keystone
    /// counts as unavailable (503) [env: HEAT_KEYSTONE_TIMEOUT] [default: 10].
    #[arg(long, value_name = "SECONDS")]
    pub keystone_timeout: Option<String>,

    /// Let noauth listen on a non-loopback address (anyone who can reach it acts as any
    /// project) [env: HEAT_ALLOW_REMOTE_NOAUTH].
    #[arg(long)]
    pub allow_remote_noauth: bool,

    /// Worker threads for the API and the engine [env: HEAT_WORKERS] [default: the number
    /// of CPUs].
    #[arg(long, value_name = "N")]
    pub workers: Option<String>,

    /// The most resource actions the engine runs at once per stack operation; 0 for no
    /// limit [env: HEAT_ENGINE_CONCURRENCY] [default: 1000].
    #[arg(long, value_name = "N")]
    pub engine_concurrency: Option<String>,

    /// The largest template accepted, in bytes [env: HEAT_MAX_TEMPLATE_SIZE] [default:
    /// 524288].
    #[arg(long, value_name = "BYTES")]
    pub max_template_size: Option<String>,

    /// The largest JSON request body accepted, in bytes [env: HEAT_MAX_JSON_BODY_SIZE]
    /// [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_json_body_size: Option<String>,

    /// The most resources one stack may have; -1 for no limit [env:
    /// HEAT_MAX_RESOURCES_PER_STACK] [default: 1000].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_resources_per_stack: Option<String>,

    /// The most stacks one project may have; -1 for no limit [env:
    /// HEAT_MAX_STACKS_PER_TENANT] [default: 512].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_stacks_per_tenant: Option<String>,

    /// The deepest nesting of nested stacks [env: HEAT_MAX_NESTED_STACK_DEPTH] [default: 5].
    #[arg(long, value_name = "N")]
    pub max_nested_stack_depth: Option<String>,

    /// Events kept per stack (older ones are purged); -1 or 0 to keep all [env:
    /// HEAT_MAX_EVENTS_PER_STACK] [default: 1000].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_events_per_stack: Option<String>,

    /// Allow abandoning and exporting stacks (DELETE .../abandon, GET .../export) [env:
    /// HEAT_ENABLE_STACK_ABANDON] [default: off, as in Heat].
    #[arg(long)]
    pub enable_stack_abandon: bool,

    /// Allow adopting stacks (POST /stacks with adopt_stack_data) [env:
    /// HEAT_ENABLE_STACK_ADOPT] [default: off, as in Heat].
    #[arg(long)]
    pub enable_stack_adopt: bool,

    /// At shutdown, how long in-flight provider calls may take to settle before the
    /// operations are stopped (they resume at the next start) [env: HEAT_SHUTDOWN_TIMEOUT]
    /// [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub shutdown_timeout: Option<String>,

    /// The revision `GET /build_info` reports (Heat's heat_revision) [env:
    /// HEAT_REVISION] [default: unknown].
    #[arg(long, value_name = "TEXT")]
    pub heat_revision: Option<String>,

    /// Log filter, as RUST_LOG (e.g. info, heat_server=debug) [env: HEAT_LOG] [default:
    /// info].
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,
}

/// The configuration file's contents (every key optional).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `listen`.
    pub listen: Option<String>,
    /// `data_dir`.
    pub data_dir: Option<PathBuf>,
    /// `database_url`.
    pub database_url: Option<String>,
    /// `auth`.
    pub auth: Option<String>,
    /// `keystone_url`.
    pub keystone_url: Option<String>,
    /// `keystone_user`.
    pub keystone_user: Option<String>,
    /// `keystone_password`.
    pub keystone_password: Option<Secret>,
    /// `keystone_project`.
    pub keystone_project: Option<String>,
    /// `keystone_user_domain`.
    pub keystone_user_domain: Option<String>,
    /// `keystone_project_domain`.
    pub keystone_project_domain: Option<String>,
    /// `keystone_cache_ttl` (seconds).
    pub keystone_cache_ttl: Option<i64>,
    /// `keystone_timeout` (seconds).
    pub keystone_timeout: Option<i64>,
    /// `allow_remote_noauth`.
    pub allow_remote_noauth: Option<bool>,
    /// `workers`.
    pub workers: Option<i64>,
    /// `engine_concurrency` (0: no limit).
    pub engine_concurrency: Option<i64>,
    /// `max_template_size`.
    pub max_template_size: Option<i64>,
    /// `max_json_body_size`.
    pub max_json_body_size: Option<i64>,
    /// `max_resources_per_stack`.
    pub max_resources_per_stack: Option<i64>,
    /// `max_stacks_per_tenant`.
    pub max_stacks_per_tenant: Option<i64>,
    /// `max_nested_stack_depth`.
    pub max_nested_stack_depth: Option<i64>,
    /// `max_events_per_stack`.
    pub max_events_per_stack: Option<i64>,
    /// `enable_stack_abandon`.
    pub enable_stack_abandon: Option<bool>,
    /// `enable_stack_adopt`.
    pub enable_stack_adopt: Option<bool>,
    /// `shutdown_timeout` (seconds).
    pub shutdown_timeout: Option<i64>,
    /// `heat_revision`.
    pub heat_revision: Option<String>,
    /// `log`.
    pub log: Option<String>,
}

/// The engine's default concurrency in the server: resource actions are mostly waiting on
/// remote services, so far more can run at once than the library's default (a 100-wide
/// stack runs as wide as it is).
pub const DEFAULT_ENGINE_CONCURRENCY: usize = 1000;

/// How API requests are authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Trust the project in the URL (loopback only by default).
    NoAuth,
    /// Keystone tokens.
    Keystone,
}

impl AuthMode {
    /// The mode's name, as configured.
    pub fn name(self) -> &'static str {
        match self {
            AuthMode::NoAuth => "noauth",
            AuthMode::Keystone => "keystone",
        }
    }
}

/// Size and count limits (principle 8), with Heat's defaults. `None`: no limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest template, in bytes.
    pub max_template_size: usize,
    /// The largest JSON request body, in bytes.
    pub max_json_body_size: usize,
    /// The most resources per stack.
    pub max_resources_per_stack: Option<usize>,
    /// The most (live) stacks per project.
    pub max_stacks_per_tenant: Option<usize>,
    /// The deepest nesting of nested stacks. The engine does not run nested stacks yet
    /// (a template resource is refused at validation), so nothing reaches this limit.
    pub max_nested_stack_depth: usize,
    /// Events kept per stack.
    pub max_events_per_stack: Option<usize>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_template_size: DEFAULT_MAX_TEMPLATE_SIZE,
            max_json_body_size: DEFAULT_MAX_JSON_BODY_SIZE,
            max_resources_per_stack: Some(1000),
            max_stacks_per_tenant: Some(512),
            max_nested_stack_depth: DEFAULT_MAX_NESTED_STACK_DEPTH,
            max_events_per_stack: Some(1000),
        }
    }
}

/// The resolved, checked configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The database URL.
    pub database_url: String,
    /// Authentication.
    pub auth: AuthMode,
    /// Where Keystone is and who heat is there: present exactly when `auth` is
    /// [`AuthMode::Keystone`]. Its password shows as `***` in `Debug`.
    pub keystone: Option<KeystoneConfig>,
    /// Whether noauth may listen beyond loopback.
    pub allow_remote_noauth: bool,
    /// Worker threads.
    pub workers: usize,
    /// Resource actions run at once per stack operation (`None`: no limit).
    pub engine_concurrency: Option<std::num::NonZeroUsize>,
    /// Limits.
    pub limits: Limits,
    /// Abandon and export allowed.
    pub enable_stack_abandon: bool,
    /// Adopt allowed.
    pub enable_stack_adopt: bool,
    /// How long in-flight provider calls may take to settle at shutdown.
    pub shutdown_timeout: Duration,
    /// What `build_info` reports.
    pub heat_revision: String,
    /// The log filter.
    pub log: String,
}

/// Why the configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML for this server.
    #[error("the configuration file {path} is not valid: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value is not valid.
    #[error("{source_name}: {message}")]
    Value {
        /// Where the value came from (`--listen`, `HEAT_LISTEN`, `listen in FILE`).
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// Where a value came from, for error messages.
struct Origin {
    flag: &'static str,
    env: &'static str,
    key: &'static str,
}

/// One setting looked up in the three sources: the first present wins.
enum Found<T> {
    Flag(String),
    Env(String),
    File(T),
    Absent,
}

struct Sources<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    file_name: String,
}

impl Sources<'_> {
    fn pick<T>(&self, origin: &Origin, flag: Option<&String>, file: Option<T>) -> Found<T> {
        if let Some(v) = flag {
            return Found::Flag(v.clone());
        }
        if let Some(v) = (self.env)(origin.env).filter(|v| !v.trim().is_empty()) {
            return Found::Env(v);
        }
        match file {
            Some(v) => Found::File(v),
            None => Found::Absent,
        }
    }

    fn error(&self, origin: &Origin, from: &str, message: impl Into<String>) -> ConfigError {
        let source_name = match from {
            "flag" => origin.flag.to_string(),
            "env" => origin.env.to_string(),
            _ => format!("{} in {}", origin.key, self.file_name),
        };
        ConfigError::Value {
            source_name,
            message: message.into(),
        }
    }

    /// An integer setting; `min` is the smallest value allowed.
    fn integer(
        &self,
        origin: &Origin,
        flag: Option<&String>,
        file: Option<i64>,
        min: i64,
    ) -> Result<Option<i64>, ConfigError> {
        let (value, from) = match self.pick(origin, flag, file) {
            Found::Flag(text) => (parse_int(&text), "flag"),
            Found::Env(text) => (parse_int(&text), "env"),
            Found::File(v) => (Some(v), "file"),
            Found::Absent => return Ok(None),
        };
        match value {
            Some(v) if v >= min => Ok(Some(v)),
            Some(v) => Err(self.error(
                origin,
                from,
                format!("{v} is too small: the smallest value allowed is {min}"),
            )),
            None => Err(self.error(origin, from, "not an integer")),
        }
    }

    /// A boolean setting given as a flag (present or not), `true`/`false` in the
    /// environment, or a boolean in the file.
    fn boolean(
        &self,
        origin: &Origin,
        flag: bool,
        file: Option<bool>,
    ) -> Result<bool, ConfigError> {
        if flag {
            return Ok(true);
        }
        if let Some(v) = (self.env)(origin.env).filter(|v| !v.trim().is_empty()) {
            return match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(self.error(origin, "env", format!("'{v}' is not true or false"))),
            };
        }
        Ok(file.unwrap_or(false))
    }

    fn text(&self, origin: &Origin, flag: Option<&String>, file: Option<String>) -> Option<String> {
        match self.pick(origin, flag, file) {
            Found::Flag(v) | Found::Env(v) | Found::File(v) => Some(v),
            Found::Absent => None,
        }
    }

    fn origin_of<T>(
        &self,
        origin: &Origin,
        flag: Option<&String>,
        file: Option<T>,
    ) -> &'static str {
        match self.pick(origin, flag, file) {
            Found::Flag(_) => "flag",
            Found::Env(_) => "env",
            _ => "file",
        }
    }
}

/// `--keystone-password`'s parser: the value is kept as a [`Secret`] from the start, so that
/// `Cli`'s `Debug` does not show it either.
fn secret(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(text))
}

fn parse_int(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

macro_rules! origin {
    ($flag:literal, $env:literal, $key:literal) => {
        Origin {
            flag: $flag,
            env: $env,
            key: $key,
        }
    };
}

// After `origin!`, which it uses.
mod keystone;

/// A limit where a negative value means "no limit".
fn unlimited_if_negative(v: i64) -> Option<usize> {
    usize::try_from(v).ok()
}

/// The default data directory: `$XDG_DATA_HOME/heat-server`, else
/// `$HOME/.local/share/heat-server`, else `./heat-server-data`.
pub fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(xdg) = env("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Path::new(&xdg).join("heat-server");
    }
    if let Some(home) = env("HOME").filter(|v| !v.is_empty()) {
        return Path::new(&home).join(".local/share/heat-server");
    }
    PathBuf::from("heat-server-data")
}

impl Config {
    /// Resolves the configuration from the command line, the environment (`env` looks a
    /// variable up) and the configuration file (read from `--config` / `HEAT_CONFIG` when
    /// given).
    pub fn load(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let path = cli.config.clone().or_else(|| {
            env("HEAT_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                Some((p.clone(), text))
            }
            None => None,
        };
        Config::resolve(
            cli,
            env,
            file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        )
    }

    /// Resolves the configuration from the three sources (`file`: its path and text).
    pub fn resolve(
        cli: &Cli,
        env: &dyn Fn(&str) -> Option<String>,
        file: Option<(&Path, &str)>,
    ) -> Result<Config, ConfigError> {
        let (file_cfg, file_name) = match file {
            Some((path, text)) => {
                let parsed: FileConfig = toml::from_str(text).map_err(|e| ConfigError::File {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
                (parsed, path.display().to_string())
            }
            None => (FileConfig::default(), "the configuration file".to_string()),
        };
        let src = Sources { env, file_name };
        let f = file_cfg;

        let o = origin!("--listen", "HEAT_LISTEN", "listen");
        let listen_text = src
            .text(&o, cli.listen.as_ref(), f.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = listen_text.trim().parse().map_err(|_| {
            src.error(
                &o,
                src.origin_of(&o, cli.listen.as_ref(), f.listen.clone()),
                format!("'{listen_text}' is not an address such as 127.0.0.1:8004"),
            )
        })?;

        let o = origin!("--data-dir", "HEAT_DATA_DIR", "data_dir");
        let data_dir = match (
            &cli.data_dir,
            env(o.env).filter(|v| !v.is_empty()),
            &f.data_dir,
        ) {
            (Some(d), _, _) => d.clone(),
            (None, Some(d), _) => PathBuf::from(d),
            (None, None, Some(d)) => d.clone(),
            (None, None, None) => default_data_dir(env),
        };

        let o = origin!("--database-url", "HEAT_DATABASE_URL", "database_url");
        let database_url = src
            .text(&o, cli.database_url.as_ref(), f.database_url.clone())
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("heat.db").display()));
        if !["sqlite:", "postgres:", "postgresql:", "memory:"]
            .iter()
            .any(|s| database_url.starts_with(s))
        {
            return Err(src.error(
                &o,
                src.origin_of(&o, cli.database_url.as_ref(), f.database_url.clone()),
                format!(
                    "'{database_url}' is not a database URL: use sqlite://PATH, \
                     postgres://USER@HOST/DB or memory://"
                ),
            ));
        }

        let o = origin!("--auth", "HEAT_AUTH", "auth");
        let auth = match src
            .text(&o, cli.auth.as_ref(), f.auth.clone())
            .as_deref()
            .map(str::trim)
        {
            None | Some("noauth") => AuthMode::NoAuth,
            Some("keystone") => AuthMode::Keystone,
            Some(other) => {
                return Err(src.error(
                    &o,
                    src.origin_of(&o, cli.auth.as_ref(), f.auth.clone()),
                    format!("'{other}' is not an authentication mode: use noauth or keystone"),
                ));
            }
        };
        let keystone = keystone::resolve(&src, cli, &f, auth)?;
        let o = origin!(
            "--allow-remote-noauth",
            "HEAT_ALLOW_REMOTE_NOAUTH",
            "allow_remote_noauth"
        );
        let allow_remote_noauth =
            src.boolean(&o, cli.allow_remote_noauth, f.allow_remote_noauth)?;
        if auth == AuthMode::NoAuth && !listen.ip().is_loopback() && !allow_remote_noauth {
            return Err(ConfigError::Value {
                source_name: "--listen".to_string(),
                message: format!(
                    "noauth trusts the project named in each URL, so it listens on loopback \
                     addresses only: {listen} is not one. Use --auth keystone, or \
                     --allow-remote-noauth if every client that can reach {listen} may act \
                     as any project"
                ),
            });
        }

        let o = origin!("--workers", "HEAT_WORKERS", "workers");
        let workers = match src.integer(&o, cli.workers.as_ref(), f.workers, 1)? {
            Some(n) => usize::try_from(n).unwrap_or(1),
            None => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        };

        let o = origin!(
            "--engine-concurrency",
            "HEAT_ENGINE_CONCURRENCY",
            "engine_concurrency"
        );
        let engine_concurrency =
            match src.integer(&o, cli.engine_concurrency.as_ref(), f.engine_concurrency, 0)? {
                Some(n) => std::num::NonZeroUsize::new(usize::try_from(n).unwrap_or(0)),
                None => std::num::NonZeroUsize::new(DEFAULT_ENGINE_CONCURRENCY),
            };

        let o = origin!(
            "--max-template-size",
            "HEAT_MAX_TEMPLATE_SIZE",
            "max_template_size"
        );
        let max_template_size = src
            .integer(&o, cli.max_template_size.as_ref(), f.max_template_size, 1)?
            .map_or(DEFAULT_MAX_TEMPLATE_SIZE, |v| {
                usize::try_from(v).unwrap_or(usize::MAX)
            });
        let o = origin!(
            "--max-json-body-size",
            "HEAT_MAX_JSON_BODY_SIZE",
            "max_json_body_size"
        );
        let max_json_body_size = src
            .integer(&o, cli.max_json_body_size.as_ref(), f.max_json_body_size, 1)?
            .map_or(DEFAULT_MAX_JSON_BODY_SIZE, |v| {
                usize::try_from(v).unwrap_or(usize::MAX)
            });
        let o = origin!(
            "--max-resources-per-stack",
            "HEAT_MAX_RESOURCES_PER_STACK",
            "max_resources_per_stack"
        );
        let max_resources_per_stack = unlimited_if_negative(
            src.integer(
                &o,
                cli.max_resources_per_stack.as_ref(),
                f.max_resources_per_stack,
                -1,
            )?
            .unwrap_or(DEFAULT_MAX_RESOURCES_PER_STACK),
        );
        let o = origin!(
            "--max-stacks-per-tenant",
            "HEAT_MAX_STACKS_PER_TENANT",
            "max_stacks_per_tenant"
        );
        let max_stacks_per_tenant = unlimited_if_negative(
            src.integer(
                &o,
                cli.max_stacks_per_tenant.as_ref(),
                f.max_stacks_per_tenant,
                -1,
            )?
            .unwrap_or(DEFAULT_MAX_STACKS_PER_TENANT),
        );
        let o = origin!(
            "--max-nested-stack-depth",
            "HEAT_MAX_NESTED_STACK_DEPTH",
            "max_nested_stack_depth"
        );
        let max_nested_stack_depth = src
            .integer(
                &o,
                cli.max_nested_stack_depth.as_ref(),
                f.max_nested_stack_depth,
                0,
            )?
            .map_or(DEFAULT_MAX_NESTED_STACK_DEPTH, |v| {
                usize::try_from(v).unwrap_or(usize::MAX)
            });
        let o = origin!(
            "--max-events-per-stack",
            "HEAT_MAX_EVENTS_PER_STACK",
            "max_events_per_stack"
        );
        let max_events_per_stack = match src
            .integer(
                &o,
                cli.max_events_per_stack.as_ref(),
                f.max_events_per_stack,
                -1,
            )?
            .unwrap_or(DEFAULT_MAX_EVENTS_PER_STACK)
        {
            // Heat: 0 disables the purge, as does -1 here.
            n if n <= 0 => None,
            n => usize::try_from(n).ok(),
        };

        let o = origin!(
            "--enable-stack-abandon",
            "HEAT_ENABLE_STACK_ABANDON",
            "enable_stack_abandon"
        );
        let enable_stack_abandon =
            src.boolean(&o, cli.enable_stack_abandon, f.enable_stack_abandon)?;
        let o = origin!(
            "--enable-stack-adopt",
            "HEAT_ENABLE_STACK_ADOPT",
            "enable_stack_adopt"
        );
        let enable_stack_adopt = src.boolean(&o, cli.enable_stack_adopt, f.enable_stack_adopt)?;

        let o = origin!(
            "--shutdown-timeout",
            "HEAT_SHUTDOWN_TIMEOUT",
            "shutdown_timeout"
        );
        let shutdown_timeout = Duration::from_secs(
            src.integer(&o, cli.shutdown_timeout.as_ref(), f.shutdown_timeout, 0)?
                .map_or(DEFAULT_SHUTDOWN_TIMEOUT_SECS, |v| {
                    u64::try_from(v).unwrap_or(0)
                }),
        );
        let o = origin!("--heat-revision", "HEAT_REVISION", "heat_revision");
        let heat_revision = src
            .text(&o, cli.heat_revision.as_ref(), f.heat_revision.clone())
            .unwrap_or_else(|| "unknown".to_string());
        let o = origin!("--log", "HEAT_LOG", "log");
        let log = src
            .text(&o, cli.log.as_ref(), f.log.clone())
            .unwrap_or_else(|| "info".to_string());

        Ok(Config {
            listen,
            data_dir,
            database_url,
            auth,
            keystone,
            allow_remote_noauth,
            workers,
            engine_concurrency,
            limits: Limits {
                max_template_size,
                max_json_body_size,
                max_resources_per_stack,
                max_stacks_per_tenant,
                max_nested_stack_depth,
                max_events_per_stack,
            },
            enable_stack_abandon,
            enable_stack_adopt,
            shutdown_timeout,
            heat_revision,
            log,
        })
    }

    /// Whether the database lives in the data directory (the embedded SQLite default), so
    /// the directory must exist.
    pub fn uses_data_dir(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["heat-server"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    #[test]
    fn defaults_are_heats() {
        let env = env_of(&[("HOME", "/home/u")]);
        let c = Config::resolve(&cli(&[]), &env, None).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8004".parse().unwrap());
        assert_eq!(
            c.data_dir,
            PathBuf::from("/home/u/.local/share/heat-server")
        );
        assert_eq!(
            c.database_url,
            "sqlite:///home/u/.local/share/heat-server/heat.db"
        );
        assert_eq!(c.auth, AuthMode::NoAuth);
        assert_eq!(c.limits, Limits::default());
        assert!(!c.enable_stack_abandon && !c.enable_stack_adopt);
        assert_eq!(c.heat_revision, "unknown");
        assert!(c.workers >= 1);
        assert_eq!(
            c.engine_concurrency.map(std::num::NonZeroUsize::get),
            Some(DEFAULT_ENGINE_CONCURRENCY)
        );
        assert!(c.uses_data_dir());
    }

    #[test]
    fn engine_concurrency_zero_means_no_limit() {
        let c = Config::resolve(&cli(&["--engine-concurrency", "0"]), &env_of(&[]), None).unwrap();
        assert_eq!(c.engine_concurrency, None);
        let c = Config::resolve(
            &cli(&[]),
            &env_of(&[("HEAT_ENGINE_CONCURRENCY", "16")]),
            None,
        )
        .unwrap();
        assert_eq!(
            c.engine_concurrency.map(std::num::NonZeroUsize::get),
            Some(16)
        );
        let bad = Config::resolve(
            &cli(&[]),
            &env_of(&[("HEAT_ENGINE_CONCURRENCY", "-1")]),
            None,
        );
        assert!(bad.is_err());
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_file() {
        let file = "listen = \"127.0.0.1:1\"\nmax_resources_per_stack = 7\n\
                    max_events_per_stack = 9\nworkers = 3\nenable_stack_adopt = true\n";
        let env = env_of(&[
            ("HEAT_LISTEN", "127.0.0.1:2"),
            ("HEAT_MAX_RESOURCES_PER_STACK", "8"),
            ("HEAT_ENABLE_STACK_ABANDON", "yes"),
        ]);
        let c = Config::resolve(
            &cli(&["--listen", "127.0.0.1:3", "--max-stacks-per-tenant", "-1"]),
            &env,
            Some((Path::new("heat.toml"), file)),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 3);
        assert_eq!(c.limits.max_resources_per_stack, Some(8));
        assert_eq!(c.limits.max_events_per_stack, Some(9));
        assert_eq!(c.limits.max_stacks_per_tenant, None);
        assert_eq!(c.workers, 3);
        assert!(c.enable_stack_abandon && c.enable_stack_adopt);
    }

    #[test]
    fn bad_values_name_where_they_came_from() {
        let env = env_of(&[("HEAT_WORKERS", "many")]);
        let err = Config::resolve(&cli(&[]), &env, None).unwrap_err();
        assert_eq!(err.to_string(), "HEAT_WORKERS: not an integer");
        let env = env_of(&[]);
        let err = Config::resolve(&cli(&["--max-template-size", "0"]), &env, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--max-template-size: 0 is too small: the smallest value allowed is 1"
        );
        let err = Config::resolve(&cli(&["--auth", "magic"]), &env, None).unwrap_err();
        assert!(err.to_string().starts_with("--auth: 'magic'"), "{err}");
        let err = Config::resolve(&cli(&["--database-url", "mysql://x"]), &env, None).unwrap_err();
        assert!(err.to_string().contains("not a database URL"), "{err}");
        let err = Config::resolve(
            &cli(&[]),
            &env,
            Some((Path::new("h.toml"), "max_template_size = -5\n")),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("max_template_size in h.toml"),
            "{err}"
        );
        let err = Config::resolve(&cli(&[]), &env, Some((Path::new("h.toml"), "nope = 1\n")))
            .unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn noauth_listens_on_loopback_only_unless_allowed() {
        let env = env_of(&[]);
        let err = Config::resolve(&cli(&["--listen", "0.0.0.0:8004"]), &env, None).unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        let ok = Config::resolve(
            &cli(&["--listen", "0.0.0.0:8004", "--allow-remote-noauth"]),
            &env,
            None,
        )
        .unwrap();
        assert!(ok.allow_remote_noauth);
        let keystone_env = env_of(&[
            ("HEAT_KEYSTONE_URL", "http://127.0.0.1:5000/v3"),
            ("HEAT_KEYSTONE_PASSWORD", "pw"),
        ]);
        let ok = Config::resolve(
            &cli(&["--listen", "0.0.0.0:8004", "--auth", "keystone"]),
            &keystone_env,
            None,
        )
        .unwrap();
        assert_eq!(ok.auth, AuthMode::Keystone);
        let ok = Config::resolve(&cli(&["--listen", "[::1]:8004"]), &env, None).unwrap();
        assert!(ok.listen.ip().is_loopback());
    }

    #[test]
    fn help_documents_every_setting() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "--listen",
            "--data-dir",
            "--database-url",
            "sqlite://",
            "postgres://",
            "--auth",
            "noauth|keystone",
            "--workers",
            "--max-template-size",
            "524288",
            "--max-json-body-size",
            "1048576",
            "--max-resources-per-stack",
            "--max-stacks-per-tenant",
            "512",
            "--max-nested-stack-depth",
            "--max-events-per-stack",
            "--enable-stack-abandon",
            "--enable-stack-adopt",
            "HEAT_DATABASE_URL",
            "--config",
            "--keystone-url",
            "HEAT_KEYSTONE_URL",
            "--keystone-user",
            "--keystone-password",
            "HEAT_KEYSTONE_PASSWORD",
            "--keystone-project",
            "--keystone-user-domain",
            "--keystone-project-domain",
            "--keystone-cache-ttl",
            "--keystone-timeout",
        ] {
            assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
        }
    }
}
