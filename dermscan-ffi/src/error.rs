//! The one error enum of the foreign API, and the guard that turns panics into it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use dermscan_core::Error as CoreError;

/// Every failure a call can report. Each variant carries a message that says what went
/// wrong and, where there is one, how to fix it. In Kotlin this is `DermscanException`
/// (`DermscanException.Image`, ...), in Swift `DermscanError`, in Python `DermscanError.Image`
/// and so on; in C a [`crate::c_api::DsStatus`] code plus `ds_last_error()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum DermscanError {
    /// The photo could not be used: empty, corrupt, truncated, unsupported or too large.
    #[error("{0}")]
    Image(String),
    /// A model bundle is missing, malformed, tampered with or of the wrong kind.
    #[error("{0}")]
    Model(String),
    /// The ONNX Runtime library is missing or could not be loaded.
    #[error("{0}")]
    Runtime(String),
    /// A box, point or mask prompt cannot be used with this image or model.
    #[error("{0}")]
    Prompt(String),
    /// Running a model failed.
    #[error("{0}")]
    Inference(String),
    /// The caller cancelled the call.
    #[error("the call was cancelled")]
    Cancelled,
    /// An argument is out of range (for example a raw buffer's pixel format code in C).
    #[error("{0}")]
    InvalidArgument(String),
    /// A bug inside the SDK (a caught panic). The engine stays usable; please report it.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<CoreError> for DermscanError {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        match e {
            CoreError::Image(_) => Self::Image(message),
            CoreError::Model(_) => Self::Model(message),
            CoreError::Runtime(_) => Self::Runtime(message),
            CoreError::Prompt(_) => Self::Prompt(message),
            CoreError::Inference(_) => Self::Inference(message),
            CoreError::Metadata(_) | CoreError::Features(_) => Self::InvalidArgument(message),
            CoreError::Cancelled => Self::Cancelled,
        }
    }
}

impl From<dermscan_core::error::ImageError> for DermscanError {
    fn from(e: dermscan_core::error::ImageError) -> Self {
        Self::Image(e.to_string())
    }
}

impl From<dermscan_core::error::PromptError> for DermscanError {
    fn from(e: dermscan_core::error::PromptError) -> Self {
        Self::Prompt(e.to_string())
    }
}

/// Runs `f`, turning a panic into [`DermscanError::Internal`] so it never unwinds into
/// foreign code. Every exported function goes through this.
pub fn guard<T>(f: impl FnOnce() -> Result<T, DermscanError>) -> Result<T, DermscanError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(DermscanError::Internal(panic_message(payload.as_ref()))))
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}
