//! Why an engine call failed, in the terms Heat's API answers with: each error carries the
//! HTTP class it maps to and Heat's exception type name (`StackExists`, `EntityNotFound`,
//! ...), which the fault body shows.

use heat_core::diagnostic::Diagnostic;
use heat_core::engine::{EngineError, StoreError};

/// A failed engine call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineApiError {
    /// 400: the request is not acceptable.
    #[error("{message}")]
    BadRequest {
        /// Heat's exception type.
        kind: &'static str,
        /// What is wrong.
        message: String,
    },
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: something the request names does not exist (for this project).
    #[error("{message}")]
    NotFound {
        /// Heat's exception type.
        kind: &'static str,
        /// What is missing.
        message: String,
    },
    /// 409: a name is taken, or the stack is busy.
    #[error("{message}")]
    Conflict {
        /// Heat's exception type.
        kind: &'static str,
        /// What conflicts.
        message: String,
    },
    /// 413: the request (or the template in it) is too large.
    #[error("{0}")]
    TooLarge(String),
    /// 503: a service the engine needs is not available.
    #[error("{0}")]
    Unavailable(String),
    /// 500: the store failed or an invariant broke.
    #[error("{0}")]
    Internal(String),
}

impl EngineApiError {
    /// A 400 with Heat's exception type.
    pub fn bad_request(kind: &'static str, message: impl Into<String>) -> EngineApiError {
        EngineApiError::BadRequest {
            kind,
            message: message.into(),
        }
    }

    /// Heat's "The Stack (name) could not be found."
    pub fn stack_not_found(name: &str) -> EngineApiError {
        EngineApiError::NotFound {
            kind: "EntityNotFound",
            message: format!("The Stack ({name}) could not be found."),
        }
    }

    /// Heat's "The Resource (r) could not be found in Stack s."
    pub fn resource_not_found(resource: &str, stack: &str) -> EngineApiError {
        EngineApiError::NotFound {
            kind: "ResourceNotFound",
            message: format!("The Resource ({resource}) could not be found in Stack {stack}."),
        }
    }

    /// A 400 `NotSupported`.
    pub fn not_supported(message: impl Into<String>) -> EngineApiError {
        EngineApiError::bad_request("NotSupported", message)
    }

    /// The error an engine operation on stack `stack` failed with.
    pub fn from_engine(error: EngineError, stack: &str) -> EngineApiError {
        match error {
            EngineError::Invalid(diagnostics) => EngineApiError::bad_request(
                "StackValidationFailed",
                diagnostics_message(&diagnostics),
            ),
            EngineError::NotFound(what) => EngineApiError::NotFound {
                kind: "EntityNotFound",
                message: format!("{what} could not be found."),
            },
            EngineError::Conflict(message) if message.ends_with("already exists.") => {
                EngineApiError::Conflict {
                    kind: "StackExists",
                    message,
                }
            }
            EngineError::Conflict(message) => EngineApiError::Conflict {
                kind: "ActionInProgress",
                message,
            },
            EngineError::NotAllowed(message) => EngineApiError::not_supported(message),
            EngineError::Store(e) => EngineApiError::from(e),
            EngineError::Internal(message) => {
                EngineApiError::Internal(format!("stack {stack}: {message}"))
            }
            other => EngineApiError::Internal(format!("stack {stack}: {other}")),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            EngineApiError::BadRequest { .. } => 400,
            EngineApiError::Forbidden(_) => 403,
            EngineApiError::NotFound { .. } => 404,
            EngineApiError::Conflict { .. } => 409,
            EngineApiError::TooLarge(_) => 413,
            EngineApiError::Unavailable(_) => 503,
            EngineApiError::Internal(_) => 500,
        }
    }

    /// Heat's exception type name.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineApiError::BadRequest { kind, .. }
            | EngineApiError::NotFound { kind, .. }
            | EngineApiError::Conflict { kind, .. } => kind,
            EngineApiError::Forbidden(_) => "Forbidden",
            EngineApiError::TooLarge(_) => "RequestLimitExceeded",
            EngineApiError::Unavailable(_) => "ServiceUnavailable",
            EngineApiError::Internal(_) => "InternalError",
        }
    }
}

impl From<StoreError> for EngineApiError {
    fn from(error: StoreError) -> EngineApiError {
        EngineApiError::Internal(error.to_string())
    }
}

/// Every error among the diagnostics, one per line, each with its file, line and column
/// (`template:12:5: error[E6005]: ...`) and hint. Warnings are left out. A diagnostic with
/// a position but no file is about the template (the registry's checks leave the file
/// unset).
pub fn diagnostics_message(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            if d.file.is_none() && d.span.is_known() {
                d.clone().in_file("template").to_string()
            } else {
                d.to_string()
            }
        })
        .collect();
    if errors.is_empty() {
        "the template is not valid".to_string()
    } else {
        errors.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heat_core::diagnostic::Code;
    use heat_core::span::{Pos, Span};

    #[test]
    fn engine_errors_map_to_heats_types_and_statuses() {
        let cases = [
            (
                EngineError::Conflict("The Stack (web) already exists.".into()),
                409,
                "StackExists",
            ),
            (
                EngineError::Conflict("Stack web is UPDATE_IN_PROGRESS".into()),
                409,
                "ActionInProgress",
            ),
            (
                EngineError::NotAllowed("resume a suspended stack".into()),
                400,
                "NotSupported",
            ),
            (
                EngineError::NotFound("The Stack (x)".into()),
                404,
                "EntityNotFound",
            ),
            (
                EngineError::Store(StoreError::Backend("disk full".into())),
                500,
                "InternalError",
            ),
            (
                EngineError::Invalid(Vec::new()),
                400,
                "StackValidationFailed",
            ),
        ];
        for (error, status, kind) in cases {
            let mapped = EngineApiError::from_engine(error, "web");
            assert_eq!((mapped.status(), mapped.kind()), (status, kind), "{mapped}");
        }
    }

    #[test]
    fn diagnostics_keep_their_positions_and_hints() {
        let d = Diagnostic::error(
            Code::UnknownResourceType,
            Span::at(Pos::new(4, 11)),
            "resource x has type 'OS::Nope', which this server does not have",
        )
        .with_hint("use a registered type");
        let w = Diagnostic::warning(Code::UnknownResourceType, Span::default(), "just a warning");
        let text = diagnostics_message(&[d, w]);
        assert!(text.starts_with("template:4:11: error["), "{text}");
        assert!(text.contains("hint: use a registered type"), "{text}");
        assert!(!text.contains("just a warning"), "{text}");
    }
}
