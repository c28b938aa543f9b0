//! The Keystone settings of `--auth keystone`: where Keystone is, the service user heat
//! validates tokens as, and the bounds of the token cache, resolved like every other
//! setting (flag, `HEAT_*` variable, file key) into a checked [`KeystoneConfig`].

use std::time::Duration;

use super::{AuthMode, Cli, ConfigError, FileConfig, Origin, Sources};
use crate::auth::keystone::{
    DEFAULT_CACHE_TTL, DEFAULT_REQUEST_TIMEOUT, KeystoneConfig, Secret, ServiceCredentials,
    check_auth_url,
};

/// The service user's default name.
const DEFAULT_USER: &str = "heat";
/// The service user's default project.
const DEFAULT_PROJECT: &str = "service";
/// The default domain of the service user and of its project.
const DEFAULT_DOMAIN: &str = "Default";

/// The Keystone configuration when `auth` is keystone (`None` otherwise). The numeric
/// settings are checked whatever the mode; the URL and the password are required only for
/// keystone.
pub(super) fn resolve(
    src: &Sources<'_>,
    cli: &Cli,
    f: &FileConfig,
    auth: AuthMode,
) -> Result<Option<KeystoneConfig>, ConfigError> {
    let o = origin!(
        "--keystone-cache-ttl",
        "HEAT_KEYSTONE_CACHE_TTL",
        "keystone_cache_ttl"
    );
    let cache_ttl = src
        .integer(&o, cli.keystone_cache_ttl.as_ref(), f.keystone_cache_ttl, 0)?
        .map_or(DEFAULT_CACHE_TTL, seconds);
    let o = origin!(
        "--keystone-timeout",
        "HEAT_KEYSTONE_TIMEOUT",
        "keystone_timeout"
    );
    let request_timeout = src
        .integer(&o, cli.keystone_timeout.as_ref(), f.keystone_timeout, 1)?
        .map_or(DEFAULT_REQUEST_TIMEOUT, seconds);
    if auth != AuthMode::Keystone {
        return Ok(None);
    }

    let o = origin!("--keystone-url", "HEAT_KEYSTONE_URL", "keystone_url");
    let Some(auth_url) = name(src, &o, cli.keystone_url.as_ref(), &f.keystone_url)? else {
        return Err(required(
            src,
            cli,
            f,
            "Keystone's URL: set --keystone-url, HEAT_KEYSTONE_URL or keystone_url in the \
             configuration file (e.g. http://keystone:5000/v3)",
        ));
    };
    if let Err(error) = check_auth_url(&auth_url) {
        let from = src.origin_of(&o, cli.keystone_url.as_ref(), f.keystone_url.clone());
        return Err(src.error(&o, from, error.to_string()));
    }

    let o = origin!("--keystone-user", "HEAT_KEYSTONE_USER", "keystone_user");
    let username = name(src, &o, cli.keystone_user.as_ref(), &f.keystone_user)?
        .unwrap_or_else(|| DEFAULT_USER.to_string());
    let o = origin!(
        "--keystone-project",
        "HEAT_KEYSTONE_PROJECT",
        "keystone_project"
    );
    let project_name = name(src, &o, cli.keystone_project.as_ref(), &f.keystone_project)?
        .unwrap_or_else(|| DEFAULT_PROJECT.to_string());
    let o = origin!(
        "--keystone-user-domain",
        "HEAT_KEYSTONE_USER_DOMAIN",
        "keystone_user_domain"
    );
    let user_domain_name = name(
        src,
        &o,
        cli.keystone_user_domain.as_ref(),
        &f.keystone_user_domain,
    )?
    .unwrap_or_else(|| DEFAULT_DOMAIN.to_string());
    let o = origin!(
        "--keystone-project-domain",
        "HEAT_KEYSTONE_PROJECT_DOMAIN",
        "keystone_project_domain"
    );
    let project_domain_name = name(
        src,
        &o,
        cli.keystone_project_domain.as_ref(),
        &f.keystone_project_domain,
    )?
    .unwrap_or_else(|| DEFAULT_DOMAIN.to_string());

    let Some(password) = password(src, cli, f)? else {
        return Err(required(
            src,
            cli,
            f,
            &format!(
                "the password of the service user {username:?}: set HEAT_KEYSTONE_PASSWORD or \
                 keystone_password in the configuration file (or --keystone-password, which \
                 other local users can read in the process list)"
            ),
        ));
    };

    let config = KeystoneConfig {
        request_timeout,
        cache_ttl,
        ..KeystoneConfig::new(
            auth_url,
            ServiceCredentials {
                username,
                password,
                user_domain_name,
                project_name,
                project_domain_name,
            },
        )
    };
    // Every setting was checked above; this keeps the two checks from drifting apart.
    config.check().map_err(|error| ConfigError::Value {
        source_name: "the Keystone settings".to_string(),
        message: error.to_string(),
    })?;
    Ok(Some(config))
}

fn seconds(value: i64) -> Duration {
    Duration::from_secs(u64::try_from(value).unwrap_or(0))
}

/// A name setting: `None` when absent, an error when given but blank.
fn name(
    src: &Sources<'_>,
    o: &Origin,
    flag: Option<&String>,
    file: &Option<String>,
) -> Result<Option<String>, ConfigError> {
    match src.text(o, flag, file.clone()) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => {
            Err(src.error(o, src.origin_of(o, flag, file.clone()), "is empty"))
        }
        Some(v) => Ok(Some(v.trim().to_string())),
    }
}

/// The service user's password: the flag, else `HEAT_KEYSTONE_PASSWORD`, else the file. Kept
/// as given (no trimming); a blank one is an error.
fn password(src: &Sources<'_>, cli: &Cli, f: &FileConfig) -> Result<Option<Secret>, ConfigError> {
    let o = origin!(
        "--keystone-password",
        "HEAT_KEYSTONE_PASSWORD",
        "keystone_password"
    );
    let (password, from) = if let Some(p) = &cli.keystone_password {
        (p.clone(), "flag")
    } else if let Some(p) = (src.env)(o.env).filter(|v| !v.trim().is_empty()) {
        (Secret::new(p), "env")
    } else if let Some(p) = &f.keystone_password {
        (p.clone(), "file")
    } else {
        return Ok(None);
    };
    if password.expose().trim().is_empty() {
        return Err(src.error(&o, from, "is empty"));
    }
    Ok(Some(password))
}

/// `--auth keystone` (named as it was given) lacks a required setting.
fn required(src: &Sources<'_>, cli: &Cli, f: &FileConfig, what: &str) -> ConfigError {
    let o = origin!("--auth", "HEAT_AUTH", "auth");
    let from = src.origin_of(&o, cli.auth.as_ref(), f.auth.clone());
    src.error(&o, from, format!("keystone authentication needs {what}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use clap::Parser;

    use super::super::{Cli, Config};
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["heat-server", "--auth", "keystone"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    }

    const URL: &str = "http://127.0.0.1:5000/v3";

    #[test]
    fn defaults_are_heats_keystone_authtoken() {
        let env = env_of(&[
            ("HEAT_KEYSTONE_URL", URL),
            ("HEAT_KEYSTONE_PASSWORD", "hunter2"),
        ]);
        let c = Config::resolve(&cli(&[]), &env, None).unwrap();
        let k = c.keystone.unwrap();
        assert_eq!(k.auth_url, URL);
        assert_eq!(k.service.username, "heat");
        assert_eq!(k.service.password.expose(), "hunter2");
        assert_eq!(k.service.project_name, "service");
        assert_eq!(k.service.user_domain_name, "Default");
        assert_eq!(k.service.project_domain_name, "Default");
        assert_eq!(k.cache_ttl, Duration::from_secs(300));
        assert_eq!(k.request_timeout, Duration::from_secs(10));
    }

    #[test]
    fn every_setting_comes_from_a_flag_the_environment_or_the_file() {
        let file = "keystone_url = \"http://file:5000\"\nkeystone_user = \"orchestration\"\n\
                    keystone_password = \"from-file\"\nkeystone_project = \"svc\"\n\
                    keystone_user_domain = \"users\"\nkeystone_project_domain = \"projects\"\n\
                    keystone_cache_ttl = 0\nkeystone_timeout = 3\n";
        let from_file = Config::resolve(
            &cli(&[]),
            &env_of(&[]),
            Some((Path::new("heat.toml"), file)),
        )
        .unwrap()
        .keystone
        .unwrap();
        assert_eq!(from_file.auth_url, "http://file:5000");
        assert_eq!(from_file.service.username, "orchestration");
        assert_eq!(from_file.service.password.expose(), "from-file");
        assert_eq!(from_file.service.project_name, "svc");
        assert_eq!(from_file.service.user_domain_name, "users");
        assert_eq!(from_file.service.project_domain_name, "projects");
        assert_eq!(from_file.cache_ttl, Duration::ZERO);
        assert_eq!(from_file.request_timeout, Duration::from_secs(3));

        let env = env_of(&[
            ("HEAT_KEYSTONE_URL", "http://env:5000"),
            ("HEAT_KEYSTONE_USER", "env-user"),
            ("HEAT_KEYSTONE_PASSWORD", "from-env"),
            ("HEAT_KEYSTONE_CACHE_TTL", "30"),
        ]);
        let flags = cli(&[
            "--keystone-url",
            "http://flag:5000/v3",
            "--keystone-password",
            "from-flag",
            "--keystone-project",
            "flag-project",
            "--keystone-timeout",
            "7",
        ]);
        let k = Config::resolve(&flags, &env, Some((Path::new("heat.toml"), file)))
            .unwrap()
            .keystone
            .unwrap();
        assert_eq!(k.auth_url, "http://flag:5000/v3");
        assert_eq!(k.service.username, "env-user");
        assert_eq!(k.service.password.expose(), "from-flag");
        assert_eq!(k.service.project_name, "flag-project");
        assert_eq!(k.service.user_domain_name, "users");
        assert_eq!(k.cache_ttl, Duration::from_secs(30));
        assert_eq!(k.request_timeout, Duration::from_secs(7));

        let k = Config::resolve(&cli(&[]), &env, Some((Path::new("heat.toml"), file)))
            .unwrap()
            .keystone
            .unwrap();
        assert_eq!(k.service.password.expose(), "from-env");
    }

    #[test]
    fn keystone_without_a_url_or_a_password_is_an_error_naming_the_auth_setting() {
        let err = Config::resolve(
            &cli(&[]),
            &env_of(&[("HEAT_KEYSTONE_PASSWORD", "pw")]),
            None,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("--auth: keystone authentication needs Keystone's URL"));
        assert!(text.contains("--keystone-url"), "{text}");

        let env = env_of(&[("HEAT_AUTH", "keystone"), ("HEAT_KEYSTONE_URL", URL)]);
        let bare = Cli::try_parse_from(["heat-server"]).unwrap();
        let text = Config::resolve(&bare, &env, None).unwrap_err().to_string();
        assert!(
            text.starts_with("HEAT_AUTH: keystone authentication needs the password"),
            "{text}"
        );
        assert!(text.contains("HEAT_KEYSTONE_PASSWORD"), "{text}");

        let text = Config::resolve(
            &bare,
            &env_of(&[]),
            Some((Path::new("h.toml"), "auth = \"keystone\"\n")),
        )
        .unwrap_err()
        .to_string();
        assert!(text.starts_with("auth in h.toml: keystone"), "{text}");
    }

    #[test]
    fn bad_values_name_where_they_came_from() {
        let env = env_of(&[("HEAT_KEYSTONE_PASSWORD", "pw")]);
        let err = Config::resolve(&cli(&["--keystone-url", "https://ks/v3"]), &env, None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--keystone-url: "), "{err}");
        assert!(err.contains("only plain http"), "{err}");

        let err = Config::resolve(
            &cli(&["--keystone-url", URL]),
            &env_of(&[
                ("HEAT_KEYSTONE_PASSWORD", "pw"),
                ("HEAT_KEYSTONE_TIMEOUT", "0"),
            ]),
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "HEAT_KEYSTONE_TIMEOUT: 0 is too small: the smallest value allowed is 1"
        );
        let err = Config::resolve(
            &cli(&["--keystone-url", URL, "--keystone-cache-ttl", "soon"]),
            &env,
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "--keystone-cache-ttl: not an integer");
        let err = Config::resolve(
            &cli(&["--keystone-url", URL, "--keystone-user", " "]),
            &env,
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "--keystone-user: is empty");
        let err = Config::resolve(
            &cli(&["--keystone-url", URL]),
            &env_of(&[]),
            Some((Path::new("h.toml"), "keystone_password = \"\"\n")),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "keystone_password in h.toml: is empty");
    }

    #[test]
    fn noauth_has_no_keystone_config_but_checks_the_numbers() {
        let noauth = Cli::try_parse_from(["heat-server"]).unwrap();
        let c = Config::resolve(&noauth, &env_of(&[("HEAT_KEYSTONE_URL", URL)]), None).unwrap();
        assert_eq!(c.keystone, None);
        let err = Config::resolve(&noauth, &env_of(&[("HEAT_KEYSTONE_CACHE_TTL", "-1")]), None)
            .unwrap_err();
        assert!(
            err.to_string().starts_with("HEAT_KEYSTONE_CACHE_TTL: -1"),
            "{err}"
        );
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let flags = cli(&["--keystone-url", URL, "--keystone-password", "hunter2"]);
        let shown = format!("{flags:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let file = FileConfig {
            keystone_password: Some(Secret::new("hunter2")),
            ..FileConfig::default()
        };
        assert!(!format!("{file:?}").contains("hunter2"));
        let c = Config::resolve(&flags, &env_of(&[]), None).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
