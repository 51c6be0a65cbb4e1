//! `DsScan`: scanning a photo, the scan's JSON and mask, and re-prompting on its embedding.

use std::sync::Arc;

use super::args;
use super::buffer::{DsBuffer, clear_out, write_out};
use super::engine::DsEngine;
use super::mask::DsMask;
use super::status::{DsStatus, status_call, value_call};
use super::types::{DsPixelFormat, DsPoint, DsScanOptions, DsYuvFrame};
use crate::error::DermscanError;
use crate::image::{ImageSource, RawImage};
use crate::mask::Mask;
use crate::prompt::Prompt;
use crate::scan::ScanResult;
use dermscan_core::{BoxPrompt, MaskMode};

use crate::types::ScanOptions;

/// The outcome of one scan (opaque): the box, the mask, the model, the timings, and the
/// image embedding kept for re-prompting (about 4 MB for LiteMedSAM). Immutable; may be read
/// from any thread. Free it with `ds_scan_free`.
#[derive(Debug)]
pub struct DsScan {
    result: ScanResult,
    /// The core's report of the scan, returned by `ds_scan_json`.
    report: dermscan_core::ScanReport,
    /// The mask mode the scan used; re-prompts use it too.
    mask_mode: MaskMode,
}

/// The common part of the scan calls. Cheap checks (handles, options) come before the image
/// buffer is copied.
///
/// # Safety
/// As the exported callers' contracts.
unsafe fn scan(
    engine: *const DsEngine,
    options: *const DsScanOptions,
    out: *mut *mut DsScan,
    image: impl FnOnce() -> Result<ImageSource, DermscanError>,
) -> Result<(), DermscanError> {
    // SAFETY: `out` is NULL or writable for one pointer (this function's contract).
    unsafe { args::clear_handle(out) };
    args::require_out(out)?;
    // SAFETY: `engine` is NULL or a live handle from this library (this function's contract).
    let engine = unsafe { args::handle(engine, "engine") }?;
    // SAFETY: `options` is NULL or points to a readable `DsScanOptions` (this function's contract).
    let (control, options): (_, ScanOptions) = unsafe { (DsScanOptions::control(options), DsScanOptions::read(options)?) };
    let mask_mode = options.mask_mode.unwrap_or(MaskMode::Lesion);
    let (result, report) = engine.inner.scan_reported(image()?, options, &control)?;
    // SAFETY: `out` was checked non-NULL by `require_out` and is writable (this function's contract).
    unsafe { args::write_handle(out, DsScan { result, report, mask_mode }) }
}

/// Scans a JPEG or PNG file's bytes: decodes them (EXIF orientation applied), finds the
/// lesion (or uses the options' box), runs the encoder once and the decoder on the box.
/// About a second on a phone.
///
/// - `bytes`, `len`: the file's bytes, copied during the call (free them when it returns).
///   `bytes` may be NULL only when `len` is 0.
/// - `options`: NULL for the defaults.
/// - `out`: receives the scan (NULL on failure); free it with `ds_scan_free`.
///
/// Errors: `DS_IMAGE_ERROR` (empty, not JPEG/PNG, corrupt, truncated, more pixels than the
/// limit), `DS_PROMPT_ERROR` (a box outside the photo, inverted or not a number),
/// `DS_INFERENCE_ERROR`, `DS_INVALID_ARGUMENT` (NULL `engine` or `out`, unknown enum values).
///
/// # Safety
/// `engine` is a live engine; `bytes` points to `len` readable bytes; `options` is NULL or
/// points to a `DsScanOptions`; `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_scan_encoded(
    engine: *const DsEngine,
    bytes: *const u8,
    len: usize,
    options: *const DsScanOptions,
    out: *mut *mut DsScan,
) -> DsStatus {
    // SAFETY: the pointers are as this function's contract documents; the helper it calls requires no more.
    status_call(|| unsafe { scan(engine, options, out, || Ok(ImageSource::Encoded { bytes: args::slice(bytes, len, "bytes")?.to_vec() })) })
}

/// Scans an uncompressed camera frame, as `ds_scan_encoded` does.
///
/// - `pixels`, `len`: the frame, copied during the call; at least `stride * (height - 1)`
///   bytes plus one row of `width` pixels. `pixels` may be NULL only when `len` is 0.
/// - `width`, `height`: in pixels. `stride`: bytes from one row to the next (at least
///   `width` times the bytes per pixel).
/// - `format`: a `DsPixelFormat` value.
///
/// Errors: as `ds_scan_encoded`; a zero size, a stride smaller than a row, a buffer too
/// short for the size, or too many pixels are `DS_IMAGE_ERROR`; an unknown `format` is
/// `DS_INVALID_ARGUMENT`.
///
/// # Safety
/// As `ds_scan_encoded`, with `pixels` pointing to `len` readable bytes.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ds_scan_raw(
    engine: *const DsEngine,
    pixels: *const u8,
    len: usize,
    width: u32,
    height: u32,
    stride: u32,
    format: u32,
    options: *const DsScanOptions,
    out: *mut *mut DsScan,
) -> DsStatus {
    // SAFETY: the pointers are as this function's contract documents; the helper it calls requires no more.
    status_call(|| unsafe {
        scan(engine, options, out, || {
            let format = DsPixelFormat::from_raw(format)?;
            let data = args::slice(pixels, len, "pixels")?.to_vec();
            Ok(ImageSource::Raw { image: RawImage { width, height, stride, format, data } })
        })
    })
}

/// Scans a YUV 4:2:0 camera frame (Android `YUV_420_888`, iOS `CVPixelBuffer`, I420, NV12,
/// NV21), as `ds_scan_encoded` does. The planes are copied during the call; the frame is
/// turned upright by its `rotation_degrees` and `mirrored`.
///
/// Errors: as `ds_scan_encoded`; planes too short for the size and strides, a row stride
/// smaller than a row, a pixel stride of 0, a rotation other than 0/90/180/270, or too many
/// pixels are `DS_IMAGE_ERROR`; an unknown `range` or `matrix`, or a NULL `frame`, is
/// `DS_INVALID_ARGUMENT`.
///
/// # Safety
/// As `ds_scan_encoded`; `frame` is NULL or points to a `DsYuvFrame` whose planes' `data`
/// are NULL or point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_scan_yuv(
    engine: *const DsEngine,
    frame: *const DsYuvFrame,
    options: *const DsScanOptions,
    out: *mut *mut DsScan,
) -> DsStatus {
    // SAFETY: the pointers are as this function's contract documents; the helpers it calls require no more.
    status_call(|| unsafe {
        scan(engine, options, out, || {
            let frame = args::handle(frame, "frame")?.copy_planes()?;
            Ok(ImageSource::Yuv { frame })
        })
    })
}

/// Frees a scan. NULL is accepted. Masks taken from it with `ds_scan_mask` stay valid.
///
/// # Safety
/// `scan` is NULL or a scan from this library that is not freed yet and no other thread is
/// using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_scan_free(scan: *mut DsScan) {
    // SAFETY: as documented above.
    value_call((), || unsafe { args::free_handle(scan) });
}

impl DsScan {
    fn to_json(&self) -> Result<Vec<u8>, DermscanError> {
        serde_json::to_vec(&self.report).map_err(|e| DermscanError::Internal(format!("could not write the scan as JSON: {e}")))
    }
}

/// The scan as UTF-8 JSON (not NUL-terminated), into `*out`; free it with `ds_buffer_free`.
/// It is the core's scan report (`dermscan_core::ScanReport`), the same document the `scan`
/// example writes as `result.json` (there `image.path`, `timings_ms.decode_image` and each
/// lesion's `mask_file` are filled in; here they are null). Boxes are `[x0, y0, x1, y1]` in
/// pixels of the upright photo (`x1`, `y1` exclusive), contours `[[x, y], ...]`:
///
/// ```json
/// {"image": {"path", "width", "height"},
///  "roi": {"box": [...], "source": "auto" | "user" | "none",
///          "candidates": [{"bbox", "core", "score", "contrast", "area_px", "touches_border"}]},
///  "crop": {"window": [...], "policy", "model_input": [w, h]},
///  "mask": {"mode", "width", "height", "area_px", "iou_score", "bbox": [...] | null,
///           "contour": [[x, y], ...]},
///  "model": {"name", "family", "version", "variant", "sha256"},
///  "features": {"abcd": {"a", "b", "c", "d_proxy", "tds", "tds_is_proxy", "band", "colours"},
///               "diameter_px", "diameter_mm", "area_px", "area_mm2", "perimeter_px",
///               "perimeter_mm", "major_axis_px", "minor_axis_px", "major_axis_mm",
///               "minor_axis_mm", "orientation_deg", "mm_per_px", "detail"} | null,
///  "classification": {"akiec": p, "bcc": p, ...} | null,
///  "classifier": {"top", "malignant_probability", "crop", "probabilities", "model",
///                 "metadata"} | null,
///  "risk": {"level": "unknown" | "low" | "medium" | "high",
///           "reasons": [{"code", "level", "value", "threshold", "text"}], "disclaimer"},
///  "lesions": [{"box", "area_px", "mask_file", "evidence", "features", "classification",
///               "top_class", "risk"}, ...],
///  "quality": {"warnings": [...], "blur_sigma_px", "brightness", "glare_fraction", ...},
///  "timings_ms": {"decode_image", "roi", "preprocess", "encoder", "decoder", "postprocess",
///                 "analysis", "classifier", "scan_total"},
///  "disclaimer": "Derm-Scan is a screening aid, not a medical diagnosis. ..."}
/// ```
///
/// # Safety
/// `scan` is a live scan; `out` points to a writable `DsBuffer`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_scan_json(scan: *const DsScan, out: *mut DsBuffer) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or points to a writable `DsBuffer` (this function's contract).
        unsafe { clear_out(out) };
        // SAFETY: `scan` is NULL or a live handle from this library (this function's contract).
        let scan = unsafe { args::handle(scan, "scan") }?;
        // SAFETY: `out` is NULL (refused by `write_out`) or points to a writable `DsBuffer` (this function's contract).
        unsafe { write_out(out, scan.to_json()?) }
    })
}

/// The scan's lesion mask, as a new handle into `*out` (NULL on failure); free it with
/// `ds_mask_free` (independently of the scan).
///
/// # Safety
/// `scan` is a live scan; `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_scan_mask(scan: *const DsScan, out: *mut *mut DsMask) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or writable for one pointer (this function's contract).
        unsafe { args::clear_handle(out) };
        args::require_out(out)?;
        // SAFETY: `scan` is NULL or a live handle from this library (this function's contract).
        let scan = unsafe { args::handle(scan, "scan") }?;
        // SAFETY: `out` was checked non-NULL by `require_out` and is writable (this function's contract).
        unsafe { args::write_handle(out, DsMask { inner: Arc::clone(&scan.result.mask) }) }
    })
}

/// The common part of the re-prompt calls.
///
/// # Safety
/// As the exported callers' contracts.
unsafe fn reprompt(engine: *const DsEngine, scan: *const DsScan, prompt: Prompt, out: *mut *mut DsMask) -> Result<(), DermscanError> {
    // SAFETY: `out` is NULL or writable for one pointer (this function's contract).
    unsafe { args::clear_handle(out) };
    args::require_out(out)?;
    // SAFETY: `engine` is NULL or a live handle from this library (this function's contract).
    let engine = unsafe { args::handle(engine, "engine") }?;
    // SAFETY: `scan` is NULL or a live handle from this library (this function's contract).
    let scan = unsafe { args::handle(scan, "scan") }?;
    let mask: Arc<Mask> = engine.inner.decode(Arc::clone(&scan.result.embedding), prompt, Some(scan.mask_mode))?;
    // SAFETY: `out` was checked non-NULL by `require_out` and is writable (this function's contract).
    unsafe { args::write_handle(out, DsMask { inner: mask }) }
}

/// Segments the box (`x0`, `y0`, `x1`, `y1`, pixels of the upright photo) on the scan's kept
/// image embedding: only the mask decoder runs (tens of milliseconds), with the scan's mask
/// mode. The new mask goes to `*out` (NULL on failure); free it with `ds_mask_free`.
///
/// Errors: `DS_PROMPT_ERROR` (a box outside the photo, inverted or not a number, or an engine
/// with a different model than the scan's), `DS_INFERENCE_ERROR`, `DS_INVALID_ARGUMENT`.
///
/// # Safety
/// `engine` and `scan` are live handles; `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_reprompt_box(
    engine: *const DsEngine,
    scan: *const DsScan,
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    out: *mut *mut DsMask,
) -> DsStatus {
    let prompt = Prompt { bbox: Some(BoxPrompt::new(x0, y0, x1, y1)), points: Vec::new(), previous_mask: None };
    // SAFETY: the pointers are as this function's contract documents; the helper it calls requires no more.
    status_call(|| unsafe { reprompt(engine, scan, prompt, out) })
}

/// Segments from clicked points (`n` of them, on or off the lesion) on the scan's kept image
/// embedding, as `ds_reprompt_box` does. `points` may be NULL only when `n` is 0 (which is
/// `DS_PROMPT_ERROR`: a prompt needs a box or a point).
///
/// # Safety
/// `engine` and `scan` are live handles; `points` points to `n` readable `DsPoint`s; `out`
/// points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_reprompt_points(
    engine: *const DsEngine,
    scan: *const DsScan,
    points: *const DsPoint,
    n: usize,
    out: *mut *mut DsMask,
) -> DsStatus {
    // SAFETY: the pointers are as this function's contract documents; the helper it calls requires no more.
    status_call(|| unsafe {
        args::clear_handle(out);
        let points = args::slice(points, n, "points")?;
        let prompt = Prompt { bbox: None, points: points.iter().map(|&p| p.into()).collect(), previous_mask: None };
        reprompt(engine, scan, prompt, out)
    })
}
