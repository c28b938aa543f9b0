//! Why the server could not start or stopped with an error (request errors are faults:
//! see [`crate::api::fault`]).

use std::net::SocketAddr;

use crate::config::ConfigError;
use crate::store::OpenError;

/// A start-up or run-time failure of the server process.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] OpenError),
    /// The store failed while the server was starting (recording the engine, resuming).
    #[error("the store failed: {0}")]
    StoreFailed(#[from] heat_core::engine::StoreError),
    /// Interrupted stack operations could not be resumed.
    #[error("cannot resume interrupted stack operations: {0}")]
    Resume(String),
    /// The configured authentication cannot be set up.
    #[error("{0}")]
    Auth(String),
    /// The operating system's random source does not work.
    #[error("the operating system's random source does not work: {0}")]
    Random(getrandom::Error),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
    /// The async runtime could not be started.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}
