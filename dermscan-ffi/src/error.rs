//! The one error enum of the foreign API, and the guard that turns panics into it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use dermscan_core::Error as CoreError;
use dermscan_core::HistoryError;

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
    /// The lesion history store is encrypted and no key was given: open it with its key.
    #[error("{0}")]
    KeyRequired(String),
    /// The key does not open this lesion history store. Nothing was read or changed; open it
    /// again with the right key.
    #[error("{0}")]
    WrongKey(String),
    /// A key was given for a lesion history store holding unencrypted data: open it without
    /// a key, then call `rotate_key` to encrypt it.
    #[error("{0}")]
    NotEncrypted(String),
    /// The history database or a stored file is damaged. The store left it untouched so it
    /// can be inspected or restored from a backup.
    #[error("{0}")]
    StoreCorrupt(String),
    /// The history store's directory (or a file in it) is read-only; nothing was changed.
    #[error("{0}")]
    StoreReadOnly(String),
    /// The disk, or the history store's size limit (`max_bytes`), is full; the call was
    /// rolled back and nothing was changed.
    #[error("{0}")]
    StorageFull(String),
    /// The history database was written by a newer SDK, which this one will not touch:
    /// update the SDK.
    #[error("{0}")]
    NewerSchema(String),
    /// Another process has the history store open (one process at a time).
    #[error("{0}")]
    StoreLocked(String),
    /// No lesion with this id or label in the history store.
    #[error("{0}")]
    LesionNotFound(String),
    /// No scan with this id in the history store.
    #[error("{0}")]
    ScanNotFound(String),
    /// A lesion with this label exists already in the history store.
    #[error("{0}")]
    DuplicateLabel(String),
    /// Reading or writing the history store failed otherwise (an I/O or database error);
    /// nothing stored was lost.
    #[error("{0}")]
    Storage(String),
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
            CoreError::History(h) => h.into(),
            CoreError::Cancelled => Self::Cancelled,
            // A kind added to the core later, before this crate maps it.
            _ => Self::Internal(message),
        }
    }
}

impl From<HistoryError> for DermscanError {
    fn from(e: HistoryError) -> Self {
        let message = e.to_string();
        match e {
            HistoryError::KeyRequired => Self::KeyRequired(message),
            HistoryError::WrongKey => Self::WrongKey(message),
            HistoryError::NotEncrypted => Self::NotEncrypted(message),
            HistoryError::Corrupt { .. } => Self::StoreCorrupt(message),
            HistoryError::ReadOnly { .. } => Self::StoreReadOnly(message),
            HistoryError::StorageFull { .. } => Self::StorageFull(message),
            HistoryError::NewerSchema { .. } => Self::NewerSchema(message),
            HistoryError::Locked { .. } => Self::StoreLocked(message),
            HistoryError::LesionNotFound(_) => Self::LesionNotFound(message),
            HistoryError::ScanNotFound(_) => Self::ScanNotFound(message),
            HistoryError::DuplicateLabel(_) => Self::DuplicateLabel(message),
            HistoryError::InvalidArgument(_) => Self::InvalidArgument(message),
            HistoryError::Cancelled => Self::Cancelled,
            HistoryError::Io { .. } | HistoryError::Database { .. } | HistoryError::Poisoned => Self::Storage(message),
            _ => Self::Storage(message),
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
