//! Status codes, the thread's last error message, and the panic guards around every call.

use std::cell::Cell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{DermscanError, guard};

/// The result of a call. `DS_OK` is success; every other code has a message in
/// `ds_last_error()`. One code per `DermscanError` variant of the Kotlin, Swift and Python
/// bindings.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsStatus {
    /// Success.
    DS_OK = 0,
    /// The photo could not be used: empty, corrupt, truncated, unsupported or too large, or a
    /// raw buffer whose size or stride does not fit its width and height.
    DS_IMAGE_ERROR = 1,
    /// A model bundle is missing, malformed, tampered with or of the wrong kind.
    DS_MODEL_ERROR = 2,
    /// The ONNX Runtime library is missing or could not be loaded.
    DS_RUNTIME_ERROR = 3,
    /// A box or point prompt cannot be used with this image or model (outside the image,
    /// inverted, not a number, or from another model's scan).
    DS_PROMPT_ERROR = 4,
    /// Running a model failed.
    DS_INFERENCE_ERROR = 5,
    /// The call was cancelled.
    DS_CANCELLED = 6,
    /// An argument is invalid: a NULL pointer, an unknown enum value, a string that is not
    /// UTF-8.
    DS_INVALID_ARGUMENT = 7,
    /// A bug inside the SDK (a caught panic). The engine stays usable; please report it.
    DS_INTERNAL_ERROR = 8,
    /// The history store is encrypted and no key was given: open it with its key.
    DS_STORE_KEY_REQUIRED = 9,
    /// The key does not open this history store. Nothing was read or changed.
    DS_STORE_WRONG_KEY = 10,
    /// A key was given for a history store holding unencrypted data: open it without one.
    DS_STORE_NOT_ENCRYPTED = 11,
    /// The history database or a stored file is damaged; the store left it untouched.
    DS_STORE_CORRUPT = 12,
    /// The history store's directory (or a file in it) is read-only; nothing was changed.
    DS_STORE_READ_ONLY = 13,
    /// The disk or the history store's size limit is full; nothing was changed.
    DS_STORE_FULL = 14,
    /// The history database was written by a newer SDK: update the SDK.
    DS_STORE_NEWER_SCHEMA = 15,
    /// Another process has the history store open.
    DS_STORE_LOCKED = 16,
    /// No lesion with this label or id in the history store.
    DS_LESION_NOT_FOUND = 17,
    /// No scan with this id in the history store.
    DS_SCAN_NOT_FOUND = 18,
    /// A lesion with this label exists already in the history store.
    DS_DUPLICATE_LABEL = 19,
    /// Reading or writing the history store failed otherwise (I/O or database error).
    DS_STORE_ERROR = 20,
}

impl From<&DermscanError> for DsStatus {
    fn from(e: &DermscanError) -> Self {
        match e {
            DermscanError::Image(_) => Self::DS_IMAGE_ERROR,
            DermscanError::Model(_) => Self::DS_MODEL_ERROR,
            DermscanError::Runtime(_) => Self::DS_RUNTIME_ERROR,
            DermscanError::Prompt(_) => Self::DS_PROMPT_ERROR,
            DermscanError::Inference(_) => Self::DS_INFERENCE_ERROR,
            DermscanError::Cancelled => Self::DS_CANCELLED,
            DermscanError::InvalidArgument(_) => Self::DS_INVALID_ARGUMENT,
            DermscanError::Internal(_) => Self::DS_INTERNAL_ERROR,
            DermscanError::KeyRequired(_) => Self::DS_STORE_KEY_REQUIRED,
            DermscanError::WrongKey(_) => Self::DS_STORE_WRONG_KEY,
            DermscanError::NotEncrypted(_) => Self::DS_STORE_NOT_ENCRYPTED,
            DermscanError::StoreCorrupt(_) => Self::DS_STORE_CORRUPT,
            DermscanError::StoreReadOnly(_) => Self::DS_STORE_READ_ONLY,
            DermscanError::StorageFull(_) => Self::DS_STORE_FULL,
            DermscanError::NewerSchema(_) => Self::DS_STORE_NEWER_SCHEMA,
            DermscanError::StoreLocked(_) => Self::DS_STORE_LOCKED,
            DermscanError::LesionNotFound(_) => Self::DS_LESION_NOT_FOUND,
            DermscanError::ScanNotFound(_) => Self::DS_SCAN_NOT_FOUND,
            DermscanError::DuplicateLabel(_) => Self::DS_DUPLICATE_LABEL,
            DermscanError::Storage(_) => Self::DS_STORE_ERROR,
        }
    }
}

thread_local! {
    /// The message of the last failed call on this thread; `None` after a successful one.
    static LAST_ERROR: Cell<Option<CString>> = const { Cell::new(None) };
}

fn set_last_error(message: Option<CString>) {
    // `try_with` fails only while the thread is being torn down; nothing to record then.
    let _ = LAST_ERROR.try_with(|cell| cell.set(message));
}

fn message_cstring(e: &DermscanError) -> CString {
    let text = e.to_string().replace('\0', " ");
    CString::new(text).unwrap_or_default()
}

/// The message of the last failed call on this thread, in English, UTF-8, NUL-terminated;
/// the empty string when the last call that returns a `DsStatus` succeeded (or none was made).
/// Every function that returns a `DsStatus` clears it first. The pointer is owned by the
/// library and valid until the next `ds_` call on the same thread: copy the text to keep it.
/// Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ds_last_error() -> *const c_char {
    let read = || {
        LAST_ERROR
            .try_with(|cell| {
                let message = cell.take();
                let ptr = message.as_ref().map_or(c"".as_ptr(), |m| m.as_ptr());
                // Moving a CString does not move its heap bytes: `ptr` stays valid.
                cell.set(message);
                ptr
            })
            .unwrap_or(c"".as_ptr())
    };
    catch_unwind(read).unwrap_or(c"".as_ptr())
}

/// Runs the body of a status-returning function: clears the thread's error, runs `f` inside
/// the panic guard ([`guard`]) and records the message of a failure.
pub(crate) fn status_call(f: impl FnOnce() -> Result<(), DermscanError>) -> DsStatus {
    let run = AssertUnwindSafe(|| {
        set_last_error(None);
        match guard(f) {
            Ok(()) => DsStatus::DS_OK,
            Err(e) => {
                set_last_error(Some(message_cstring(&e)));
                DsStatus::from(&e)
            }
        }
    });
    // `guard` already catches panics in `f`; this catches any in the bookkeeping itself.
    catch_unwind(run).unwrap_or(DsStatus::DS_INTERNAL_ERROR)
}

/// Runs the body of a function that cannot report an error (accessors, `*_free`): a panic
/// gives `fallback` instead of crossing into C. The thread's error message is left alone.
pub(crate) fn value_call<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// `DS_INVALID_ARGUMENT` for a NULL pointer argument called `name`.
pub(crate) fn null_argument(name: &str) -> DermscanError {
    DermscanError::InvalidArgument(format!("`{name}` is NULL"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        // SAFETY: ds_last_error never returns NULL and its string is NUL-terminated.
        unsafe { CStr::from_ptr(ds_last_error()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn every_error_variant_has_its_own_status() {
        let cases = [
            (DermscanError::Image("i".into()), DsStatus::DS_IMAGE_ERROR),
            (DermscanError::Model("m".into()), DsStatus::DS_MODEL_ERROR),
            (DermscanError::Runtime("r".into()), DsStatus::DS_RUNTIME_ERROR),
            (DermscanError::Prompt("p".into()), DsStatus::DS_PROMPT_ERROR),
            (DermscanError::Inference("n".into()), DsStatus::DS_INFERENCE_ERROR),
            (DermscanError::Cancelled, DsStatus::DS_CANCELLED),
            (DermscanError::InvalidArgument("a".into()), DsStatus::DS_INVALID_ARGUMENT),
            (DermscanError::Internal("x".into()), DsStatus::DS_INTERNAL_ERROR),
            (DermscanError::KeyRequired("k".into()), DsStatus::DS_STORE_KEY_REQUIRED),
            (DermscanError::WrongKey("w".into()), DsStatus::DS_STORE_WRONG_KEY),
            (DermscanError::NotEncrypted("e".into()), DsStatus::DS_STORE_NOT_ENCRYPTED),
            (DermscanError::StoreCorrupt("c".into()), DsStatus::DS_STORE_CORRUPT),
            (DermscanError::StoreReadOnly("o".into()), DsStatus::DS_STORE_READ_ONLY),
            (DermscanError::StorageFull("f".into()), DsStatus::DS_STORE_FULL),
            (DermscanError::NewerSchema("s".into()), DsStatus::DS_STORE_NEWER_SCHEMA),
            (DermscanError::StoreLocked("l".into()), DsStatus::DS_STORE_LOCKED),
            (DermscanError::LesionNotFound("ln".into()), DsStatus::DS_LESION_NOT_FOUND),
            (DermscanError::ScanNotFound("sn".into()), DsStatus::DS_SCAN_NOT_FOUND),
            (DermscanError::DuplicateLabel("d".into()), DsStatus::DS_DUPLICATE_LABEL),
            (DermscanError::Storage("st".into()), DsStatus::DS_STORE_ERROR),
        ];
        for (e, status) in cases {
            let expected = e.to_string();
            assert_eq!(status_call(|| Err(e)), status);
            assert_eq!(last_error(), expected);
        }
    }

    #[test]
    fn success_clears_the_message_and_nul_bytes_do_not_lose_it() {
        assert_eq!(status_call(|| Err(DermscanError::Image("a\0b".into()))), DsStatus::DS_IMAGE_ERROR);
        assert_eq!(last_error(), "a b");
        assert_eq!(status_call(|| Ok(())), DsStatus::DS_OK);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn panics_become_internal_errors() {
        assert_eq!(status_call(|| panic!("boom")), DsStatus::DS_INTERNAL_ERROR);
        assert!(last_error().contains("boom"));
        assert_eq!(value_call(7u32, || panic!("boom")), 7);
    }
}
