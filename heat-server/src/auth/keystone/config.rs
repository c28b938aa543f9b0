//! What [`KeystoneAuth`](super::KeystoneAuth) needs to know: where Keystone is, who heat is
//! there, and the bounds of its token cache.

use std::fmt;
use std::time::Duration;

/// A password or token: shown as `***` by `Debug` and `Display`, so that logging a config or
/// an error never prints it. Read from a configuration file as a plain string.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "String")]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The service user heat authenticates as to validate its callers' tokens (Heat's
/// `[keystone_authtoken]` password section). Keystone's policy lets a user with the
/// `service` or `admin` role in its project validate other users' tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCredentials {
    /// The user's name (`username`).
    pub username: String,
    /// The user's password.
    pub password: Secret,
    /// The domain of the user (`user_domain_name`), e.g. `Default`.
    pub user_domain_name: String,
    /// The project the service token is scoped to (`project_name`), e.g. `service`.
    pub project_name: String,
    /// The domain of that project (`project_domain_name`), e.g. `Default`.
    pub project_domain_name: String,
}

impl ServiceCredentials {
    /// Credentials of `username` in project `project_name`, both in the `Default` domain.
    pub fn new(
        username: impl Into<String>,
        password: impl Into<Secret>,
        project_name: impl Into<String>,
    ) -> Self {
        ServiceCredentials {
            username: username.into(),
            password: password.into(),
            user_domain_name: "Default".to_string(),
            project_name: project_name.into(),
            project_domain_name: "Default".to_string(),
        }
    }
}

/// Configuration of Keystone authentication (`--auth keystone`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeystoneConfig {
    /// Keystone's identity endpoint: `http://host:5000/v3`, or the root `http://host:5000`
    /// (then `/v3` is appended). Only plain `http` for now: no TLS backend is built in.
    pub auth_url: String,
    /// Who heat is in Keystone.
    pub service: ServiceCredentials,
    /// How long one request to Keystone may take, connecting included, before Keystone
    /// counts as unavailable. Default 10 s.
    pub request_timeout: Duration,
    /// How long a validated token is trusted without asking Keystone again (never beyond the
    /// token's own expiry). This is also how long a revoked token may still be accepted: a
    /// revocation is seen once the cached validation lapses. Zero asks Keystone on every
    /// request. Default 300 s, the `token_cache_time` of Heat's keystonemiddleware.
    pub cache_ttl: Duration,
    /// How many validated tokens are kept at most; when full, expired entries are dropped
    /// first, then those closest to lapsing. Zero disables the cache. Default 10,000.
    pub cache_capacity: usize,
    /// The service token is renewed once less than this is left of its lifetime (capped at
    /// half its lifetime, so that a short-lived token is still used). Default 60 s.
    pub service_token_renewal_margin: Duration,
}

impl KeystoneConfig {
    /// The configuration for Keystone at `auth_url` with heat's `service` credentials and
    /// the defaults for everything else.
    pub fn new(auth_url: impl Into<String>, service: ServiceCredentials) -> Self {
        KeystoneConfig {
            auth_url: auth_url.into(),
            service,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            cache_ttl: DEFAULT_CACHE_TTL,
            cache_capacity: 10_000,
            service_token_renewal_margin: Duration::from_secs(60),
        }
    }

    /// Checks the configuration as [`KeystoneAuth::new`](super::KeystoneAuth::new) does,
    /// without preparing a client.
    pub fn check(&self) -> Result<(), KeystoneConfigError> {
        check(self)?;
        identity_base(&self.auth_url).map(drop)
    }
}

/// The default of [`KeystoneConfig::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The default of [`KeystoneConfig::cache_ttl`] (keystonemiddleware's `token_cache_time`).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// Checks that `auth_url` is a Keystone URL this build can use (plain `http`, a host, no
/// query or fragment).
pub fn check_auth_url(auth_url: &str) -> Result<(), KeystoneConfigError> {
    identity_base(auth_url).map(drop)
}

/// Why a [`KeystoneConfig`] cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeystoneConfigError {
    /// `auth_url` is not a URL.
    #[error("the Keystone auth_url {url:?} is not a valid URL: {reason}")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `auth_url` uses a scheme this build cannot speak.
    #[error(
        "the Keystone auth_url {url:?} uses {scheme:?}: only plain http is supported by this build (no TLS backend)"
    )]
    UnsupportedScheme {
        /// The URL as configured.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A required setting is empty.
    #[error("the Keystone setting {0} is empty")]
    Empty(&'static str),
    /// `request_timeout` is zero.
    #[error("the Keystone request timeout must be more than zero")]
    ZeroTimeout,
    /// The HTTP client could not be built.
    #[error("the HTTP client for Keystone could not be built: {0}")]
    Client(String),
}

/// Checks `auth_url` and returns the identity v3 base URL, ending with `/v3/` so that
/// relative paths (`auth/tokens`) join under it.
pub(crate) fn identity_base(auth_url: &str) -> Result<reqwest::Url, KeystoneConfigError> {
    let bad = |reason: String| KeystoneConfigError::BadUrl {
        url: auth_url.to_string(),
        reason,
    };
    let mut url = reqwest::Url::parse(auth_url.trim()).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(KeystoneConfigError::UnsupportedScheme {
                url: auth_url.to_string(),
                scheme: "https".to_string(),
            });
        }
        other => return Err(bad(format!("the scheme {other:?} is not http"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host".to_string()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it has a query or fragment".to_string()));
    }
    let path = url.path().trim_end_matches('/');
    let path = if path.ends_with("/v3") {
        format!("{path}/")
    } else {
        format!("{path}/v3/")
    };
    url.set_path(&path);
    Ok(url)
}

/// Checks the settings that must not be empty.
pub(crate) fn check(config: &KeystoneConfig) -> Result<(), KeystoneConfigError> {
    let service = &config.service;
    for (name, value) in [
        ("username", service.username.as_str()),
        ("password", service.password.expose()),
        ("user_domain_name", service.user_domain_name.as_str()),
        ("project_name", service.project_name.as_str()),
        ("project_domain_name", service.project_domain_name.as_str()),
    ] {
        if value.trim().is_empty() {
            return Err(KeystoneConfigError::Empty(name));
        }
    }
    if config.request_timeout.is_zero() {
        return Err(KeystoneConfigError::ZeroTimeout);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_base_always_ends_with_v3() {
        for (given, base) in [
            ("http://127.0.0.1:5000/v3", "http://127.0.0.1:5000/v3/"),
            ("http://127.0.0.1:5000/v3/", "http://127.0.0.1:5000/v3/"),
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000/v3/"),
            ("http://127.0.0.1:5000/", "http://127.0.0.1:5000/v3/"),
            ("http://keystone/identity", "http://keystone/identity/v3/"),
            (
                " http://keystone/identity/v3 ",
                "http://keystone/identity/v3/",
            ),
        ] {
            assert_eq!(identity_base(given).unwrap().as_str(), base, "{given}");
            let tokens = identity_base(given).unwrap().join("auth/tokens").unwrap();
            assert_eq!(tokens.as_str(), format!("{base}auth/tokens"));
        }
    }

    #[test]
    fn bad_auth_urls_are_refused_with_the_reason() {
        assert!(matches!(
            identity_base("keystone:5000"),
            Err(KeystoneConfigError::BadUrl { .. })
        ));
        assert!(matches!(
            identity_base("not a url"),
            Err(KeystoneConfigError::BadUrl { .. })
        ));
        assert!(matches!(
            identity_base("ftp://keystone/v3"),
            Err(KeystoneConfigError::BadUrl { .. })
        ));
        assert!(matches!(
            identity_base("http://keystone/v3?x=1"),
            Err(KeystoneConfigError::BadUrl { .. })
        ));
        let err = identity_base("https://keystone/v3").unwrap_err();
        assert!(matches!(err, KeystoneConfigError::UnsupportedScheme { .. }));
        assert!(err.to_string().contains("only plain http"), "{err}");
    }

    #[test]
    fn empty_settings_are_refused() {
        let mut config = KeystoneConfig::new(
            "http://127.0.0.1:5000/v3",
            ServiceCredentials::new("heat", "pw", "service"),
        );
        assert_eq!(check(&config), Ok(()));
        config.service.password = Secret::new(" ");
        assert_eq!(check(&config), Err(KeystoneConfigError::Empty("password")));
        config.service.password = Secret::new("pw");
        config.request_timeout = Duration::ZERO;
        assert_eq!(check(&config), Err(KeystoneConfigError::ZeroTimeout));
    }

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let credentials = ServiceCredentials::new("heat", "hunter2", "service");
        let shown = format!("{credentials:?} {}", credentials.password);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
        assert_eq!(credentials.password.expose(), "hunter2");
    }

    #[test]
    fn a_secret_reads_from_a_plain_string() {
        #[derive(serde::Deserialize)]
        struct File {
            password: Secret,
        }
        let file: File = toml::from_str("password = \"hunter2\"\n").unwrap();
        assert_eq!(file.password.expose(), "hunter2");
    }

    #[test]
    fn check_covers_the_url_and_the_settings() {
        let config = KeystoneConfig::new(
            "http://127.0.0.1:5000",
            ServiceCredentials::new("heat", "pw", "service"),
        );
        assert_eq!(config.check(), Ok(()));
        let https = KeystoneConfig {
            auth_url: "https://keystone/v3".to_string(),
            ..config.clone()
        };
        assert!(matches!(
            https.check(),
            Err(KeystoneConfigError::UnsupportedScheme { .. })
        ));
        let mut nameless = config;
        nameless.service.username = String::new();
        assert_eq!(
            nameless.check(),
            Err(KeystoneConfigError::Empty("username"))
        );
        assert!(check_auth_url("http://127.0.0.1:5000/v3").is_ok());
        assert!(check_auth_url("127.0.0.1:5000").is_err());
    }
}
