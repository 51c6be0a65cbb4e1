//! Byte buffers handed to C (JSON, PNG, mask pixels).

use super::status::{null_argument, value_call};
use crate::error::DermscanError;

/// Bytes owned by the library (JSON text, a PNG file, mask pixels). Free with
/// `ds_buffer_free`. The bytes are not NUL-terminated: use `len` (for example
/// `printf("%.*s", (int)buf.len, (const char*)buf.data)`).
#[derive(Debug)]
#[repr(C)]
pub struct DsBuffer {
    /// The bytes; NULL when empty.
    pub data: *mut u8,
    /// How many bytes.
    pub len: usize,
}

impl DsBuffer {
    const EMPTY: Self = Self { data: std::ptr::null_mut(), len: 0 };

    fn from_vec(bytes: Vec<u8>) -> Self {
        if bytes.is_empty() {
            return Self::EMPTY;
        }
        let boxed: Box<[u8]> = bytes.into_boxed_slice();
        let len = boxed.len();
        Self { data: Box::into_raw(boxed).cast::<u8>(), len }
    }
}

/// Zeroes `*out` (when `out` is not NULL); the start of every call with a buffer out-parameter.
///
/// # Safety
/// `out` is NULL or points to writable memory for a `DsBuffer`.
pub(crate) unsafe fn clear_out(out: *mut DsBuffer) {
    if !out.is_null() {
        // SAFETY: the caller guarantees `out` is writable; `write` does not read the old value.
        unsafe { out.write(DsBuffer::EMPTY) };
    }
}

/// Stores `bytes` in `*out`, which the caller has already checked is not NULL.
///
/// # Safety
/// `out` points to writable memory for a `DsBuffer`.
pub(crate) unsafe fn write_out(out: *mut DsBuffer, bytes: Vec<u8>) -> Result<(), DermscanError> {
    if out.is_null() {
        return Err(null_argument("out"));
    }
    // SAFETY: the caller guarantees `out` is writable.
    unsafe { out.write(DsBuffer::from_vec(bytes)) };
    Ok(())
}

/// Frees the bytes of a buffer the library returned and zeroes the struct. NULL, and a
/// zeroed buffer (for example one already freed), are accepted and do nothing.
///
/// # Safety
/// `buffer` is NULL or points to a `DsBuffer` that is zeroed or was filled by a `ds_`
/// function and not modified since.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_buffer_free(buffer: *mut DsBuffer) {
    value_call((), || {
        if buffer.is_null() {
            return;
        }
        // SAFETY: the caller guarantees `buffer` points to a valid DsBuffer.
        let DsBuffer { data, len } = unsafe { buffer.read() };
        // SAFETY: as above; zero it first so that a second free is a no-op.
        unsafe { buffer.write(DsBuffer::EMPTY) };
        if !data.is_null() {
            // SAFETY: `data` and `len` come from `Box::into_raw` of a `Box<[u8]>` of that length
            // in `DsBuffer::from_vec`, and the caller has not freed it before (it was not zeroed).
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_round_trip_and_double_free_is_a_no_op() {
        let mut buf = DsBuffer::EMPTY;
        // SAFETY: `buf` is a valid, writable DsBuffer throughout.
        unsafe {
            write_out(&mut buf, vec![1, 2, 3]).expect("write");
            assert_eq!(std::slice::from_raw_parts(buf.data, buf.len), &[1, 2, 3]);
            ds_buffer_free(&mut buf);
            assert!(buf.data.is_null() && buf.len == 0);
            ds_buffer_free(&mut buf);
            ds_buffer_free(std::ptr::null_mut());
            write_out(&mut buf, Vec::new()).expect("empty");
            assert!(buf.data.is_null() && buf.len == 0);
        }
    }
}
