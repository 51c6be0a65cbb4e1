//! Checked reading of C arguments: strings, byte ranges, handles, out-parameters.

use std::ffi::{CStr, c_char};

use super::status::null_argument;
use crate::error::DermscanError;

/// A required UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid during the call.
pub(crate) unsafe fn string(ptr: *const c_char, name: &str) -> Result<String, DermscanError> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map(str::to_owned).map_err(|e| DermscanError::InvalidArgument(format!("`{name}` is not UTF-8: {e}")))
}

/// A nullable UTF-8 string argument.
///
/// # Safety
/// As [`string`].
pub(crate) unsafe fn optional_string(ptr: *const c_char, name: &str) -> Result<Option<String>, DermscanError> {
    // SAFETY: `ptr` is not NULL here; the caller guarantees a NUL-terminated string.
    if ptr.is_null() { Ok(None) } else { unsafe { string(ptr, name) }.map(Some) }
}

/// `len` elements at `ptr`. NULL is accepted only when `len` is 0.
///
/// # Safety
/// When `len > 0`, `ptr` points to `len` readable, initialised elements that stay valid and
/// unmodified during the call.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T], DermscanError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(DermscanError::InvalidArgument(format!("`{name}` is NULL but its length is {len}")));
    }
    if len.checked_mul(size_of::<T>()).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(DermscanError::InvalidArgument(format!("`{name}` length {len} is too large")));
    }
    if !ptr.is_aligned() {
        return Err(DermscanError::InvalidArgument(format!("`{name}` is not aligned for its element type")));
    }
    // SAFETY: non-NULL, aligned, size checked; the caller guarantees `len` readable elements.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A required handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` returned by this library.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, DermscanError> {
    // SAFETY: the caller guarantees a live handle when not NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(name))
}

/// Sets a handle out-parameter to NULL (when `out` is not NULL); the start of every call
/// that returns a handle.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn clear_handle<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: the caller guarantees `out` is writable.
        unsafe { out.write(std::ptr::null_mut()) };
    }
}

/// Checks a handle out-parameter before any work is done.
pub(crate) fn require_out<T>(out: *mut *mut T) -> Result<(), DermscanError> {
    if out.is_null() { Err(null_argument("out")) } else { Ok(()) }
}

/// Moves `value` to the heap and stores the new handle in `*out` (checked by [`require_out`]).
///
/// # Safety
/// `out` is writable.
pub(crate) unsafe fn write_handle<T>(out: *mut *mut T, value: T) -> Result<(), DermscanError> {
    require_out(out)?;
    // SAFETY: checked not NULL; the caller guarantees it is writable.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
    Ok(())
}

/// Frees a handle made by [`write_handle`]; NULL does nothing.
///
/// # Safety
/// `ptr` is NULL or a handle of type `T` from this library that was not freed yet.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: made by `Box::into_raw` in `write_handle` and not freed before.
        drop(unsafe { Box::from_raw(ptr) });
    }
}
