//! `DsMask`: a binary lesion mask and its pixels.

use std::sync::Arc;

use super::args;
use super::buffer::{DsBuffer, clear_out, write_out};
use super::status::{DsStatus, status_call, value_call};
use crate::mask::Mask;

/// A binary lesion mask at the photo's resolution (opaque). Immutable; may be read from any
/// thread. Free it with `ds_mask_free`.
#[derive(Debug)]
pub struct DsMask {
    pub(crate) inner: Arc<Mask>,
}

/// Frees a mask. NULL is accepted.
///
/// # Safety
/// `mask` is NULL or a mask from this library that is not freed yet and no other thread is
/// using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_mask_free(mask: *mut DsMask) {
    // SAFETY: as documented above.
    value_call((), || unsafe { args::free_handle(mask) });
}

/// Width in pixels (the upright photo's width); 0 for NULL.
///
/// # Safety
/// `mask` is NULL or a live mask.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_mask_width(mask: *const DsMask) -> u32 {
    // SAFETY: as documented above.
    value_call(0, || unsafe { mask.as_ref() }.map_or(0, |m| m.inner.width()))
}

/// Height in pixels (the upright photo's height); 0 for NULL.
///
/// # Safety
/// `mask` is NULL or a live mask.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_mask_height(mask: *const DsMask) -> u32 {
    // SAFETY: as documented above.
    value_call(0, || unsafe { mask.as_ref() }.map_or(0, |m| m.inner.height()))
}

/// Lesion pixels (pixels with value 255); 0 for NULL.
///
/// # Safety
/// `mask` is NULL or a live mask.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_mask_area(mask: *const DsMask) -> u64 {
    // SAFETY: as documented above.
    value_call(0, || unsafe { mask.as_ref() }.map_or(0, |m| m.inner.area_px()))
}

/// The mask as an 8-bit greyscale PNG file (0 skin, 255 lesion), into `*out`; free it with
/// `ds_buffer_free`.
///
/// # Safety
/// `mask` is a live mask; `out` points to a writable `DsBuffer`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_mask_png(mask: *const DsMask, out: *mut DsBuffer) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or points to a writable `DsBuffer` (this function's contract).
        unsafe { clear_out(out) };
        // SAFETY: `mask` is NULL or a live handle from this library (this function's contract).
        let mask = unsafe { args::handle(mask, "mask") }?;
        // SAFETY: `out` is NULL (refused by `write_out`) or points to a writable `DsBuffer` (this function's contract).
        unsafe { write_out(out, mask.inner.to_png()) }
    })
}

/// The mask's pixels, one byte each, row by row without padding (`width * height` bytes):
/// 255 lesion, 0 skin. Into `*out`; free it with `ds_buffer_free`.
///
/// # Safety
/// `mask` is a live mask; `out` points to a writable `DsBuffer`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_mask_pixels(mask: *const DsMask, out: *mut DsBuffer) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or points to a writable `DsBuffer` (this function's contract).
        unsafe { clear_out(out) };
        // SAFETY: `mask` is NULL or a live handle from this library (this function's contract).
        let mask = unsafe { args::handle(mask, "mask") }?;
        // SAFETY: `out` is NULL (refused by `write_out`) or points to a writable `DsBuffer` (this function's contract).
        unsafe { write_out(out, mask.inner.pixels()) }
    })
}
