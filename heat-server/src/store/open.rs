//! Opening the store a database URL names: the one place where a URL becomes a
//! [`ServerStore`].

use std::sync::Arc;

use super::ServerStore;
use super::memory::MemoryServerStore;

/// Settings every store takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// Events kept per stack (Heat's `max_events_per_stack`; `None`: all).
    pub max_events_per_stack: Option<usize>,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names a database this build has no store for yet.
    #[error(
        "{url}: the {backend} store is not built yet in this heat-server; \
         use --database-url memory:// (nothing is kept across restarts)"
    )]
    NotBuilt {
        /// The URL, without its password.
        url: String,
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
    },
    /// The URL names no database this server knows.
    #[error("'{0}' is not a database URL: use sqlite://PATH, postgres://USER@HOST/DB or memory://")]
    UnknownScheme(String),
}

/// The URL with any password replaced by `***` (for messages and logs).
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Opens the store `url` names: `memory://` (nothing kept across restarts),
/// `sqlite://PATH`, `postgres://...`.
pub async fn open(url: &str, options: &StoreOptions) -> Result<Arc<dyn ServerStore>, OpenError> {
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    match scheme {
        "memory" => Ok(Arc::new(MemoryServerStore::new(
            options.max_events_per_stack,
        ))),
        "sqlite" => Err(OpenError::NotBuilt {
            url: redacted(url),
            backend: "SQLite",
        }),
        "postgres" | "postgresql" => Err(OpenError::NotBuilt {
            url: redacted(url),
            backend: "PostgreSQL",
        }),
        _ => Err(OpenError::UnknownScheme(redacted(url))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_opens_and_sql_urls_say_what_is_missing() {
        let options = StoreOptions::default();
        assert!(open("memory://", &options).await.is_ok());
        let err = open("sqlite:///tmp/x.db", &options).await.err().unwrap();
        assert!(
            err.to_string().contains("SQLite store is not built yet"),
            "{err}"
        );
        let err = open("postgres://heat:secret@db/heat", &options)
            .await
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(
            text.contains("PostgreSQL") && !text.contains("secret"),
            "{text}"
        );
        assert!(matches!(
            open("mysql://x", &options).await,
            Err(OpenError::UnknownScheme(_))
        ));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redacted("postgres://heat:pw@db:5432/heat"),
            "postgres://heat:***@db:5432/heat"
        );
        assert_eq!(
            redacted("postgres://heat@db/heat"),
            "postgres://heat@db/heat"
        );
        assert_eq!(redacted("sqlite:///a/b.db"), "sqlite:///a/b.db");
    }
}
