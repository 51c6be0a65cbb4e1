//! `DsHistory`: the lesion history store (scans of a lesion over time, their change, the
//! report), over [`crate::history::HistoryStore`].

use std::ffi::c_char;
use std::sync::Arc;

use serde::Serialize;

use super::args;
use super::buffer::{DsBuffer, clear_out, write_out};
use super::engine::DsEngine;
use super::status::{DsStatus, status_call, value_call};
use crate::error::DermscanError;
use dermscan_core::history::Lesion;

use crate::history::{Change, HistoryStore, StoredScan};
use crate::image::ImageSource;
use crate::types::ScanOptions;

/// A lesion history store (opaque): a directory with an SQLite database and the photos and
/// masks beside it, optionally encrypted. One process at a time; within it, one `DsHistory`
/// may be used from several threads at once (calls take turns). Free it with
/// `ds_history_free`, which also lets another process open the directory.
#[derive(Debug)]
pub struct DsHistory {
    pub(crate) inner: Arc<HistoryStore>,
}

/// Opens the history store in `dir` (UTF-8), creating the directory and an empty store if
/// needed.
///
/// - `key`, `key_len`: 32 bytes to encrypt the store at rest (keep them in the platform's key
///   store), copied during the call; NULL and 0 for a store without encryption. Another
///   length is `DS_INVALID_ARGUMENT`.
/// - `out`: receives the store (NULL on failure); free it with `ds_history_free`.
///
/// A new (or still empty) store opened with a key is encrypted and needs that key from then on.
///
/// Errors: `DS_STORE_WRONG_KEY`, `DS_STORE_KEY_REQUIRED` (the store is encrypted),
/// `DS_STORE_NOT_ENCRYPTED` (a key for a store holding unencrypted data), `DS_STORE_LOCKED` (another
/// process has it open), `DS_STORE_CORRUPT`, `DS_STORE_READ_ONLY`, `DS_STORE_NEWER_SCHEMA`,
/// `DS_STORE_ERROR`, `DS_INVALID_ARGUMENT`. A failed open changes nothing on disk.
///
/// # Safety
/// `dir` is a NUL-terminated string; `key` points to `key_len` readable bytes (or is NULL
/// with `key_len` 0); `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_history_open(dir: *const c_char, key: *const u8, key_len: usize, out: *mut *mut DsHistory) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or writable for one pointer (this function's contract).
        unsafe { args::clear_handle(out) };
        args::require_out(out)?;
        // SAFETY: `dir` is NULL or a NUL-terminated string valid during the call (this function's contract).
        let dir = unsafe { args::string(dir, "dir") }?;
        // SAFETY: `key` points to its length's readable bytes, or is NULL with length 0 (this function's contract).
        let key = if key.is_null() && key_len == 0 { None } else { Some(unsafe { args::slice(key, key_len, "key") }?.to_vec()) };
        let store = HistoryStore::open(dir, key, None)?;
        // SAFETY: `out` was checked non-NULL by `require_out` and is writable (this function's contract).
        unsafe { args::write_handle(out, DsHistory { inner: store }) }
    })
}

/// Frees a history store and unlocks its directory. NULL is accepted.
///
/// # Safety
/// `history` is NULL or a store from `ds_history_open` that is not freed yet and that no
/// other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_history_free(history: *mut DsHistory) {
    // SAFETY: as documented above.
    value_call((), || unsafe { args::free_handle(history) });
}

/// The JSON of `ds_history_add_scan` and `ds_history_compare_json`.
#[derive(Serialize)]
struct HistoryJson<'a> {
    lesion: &'a Lesion,
    #[serde(skip_serializing_if = "Option::is_none")]
    scan: Option<&'a StoredScan>,
    change: Option<&'a Change>,
    disclaimer: &'static str,
}

impl HistoryJson<'_> {
    fn to_vec(&self) -> Result<Vec<u8>, DermscanError> {
        serde_json::to_vec(self).map_err(|e| DermscanError::Internal(format!("could not write the history as JSON: {e}")))
    }
}

/// Scans a photo of a lesion with `engine` (as `ds_scan_encoded` with the default options and
/// the scale) and stores it in the history under `label`, adding the lesion if no lesion has
/// this label yet. When the lesion has an earlier scan, the change since it is measured and
/// the stored scan's risk takes it into account (reason `evolution`).
///
/// - `label`: the user's name for the lesion, UTF-8, for example "left shoulder".
/// - `photo`, `photo_len`: the JPEG or PNG file's bytes, copied during the call; the store
///   keeps them as given.
/// - `taken_at`: when the photo was taken, in seconds since the Unix epoch (UTC).
/// - `mm_per_px`: the photo's scale in millimetres per pixel, or 0 when unknown. With a scale
///   on both scans, sizes are compared in millimetres, else in pixels.
/// - `out`: receives UTF-8 JSON (not NUL-terminated); free it with `ds_buffer_free`:
///
/// ```json
/// {"lesion": {"id", "label", "body_site", "created_at"},
///  "scan": {"id", "lesion_id", "taken_at", "width", "height", "mm_per_px", "area_px",
///           "area_mm2", "diameter_px", "diameter_mm", "features", "classification",
///           "risk", "models"},
///  "change": {"before_id", "after_id", "days_between", "area_before", "area_after",
///             "area_unit": "mm²" | "px", "area_ratio", "diameter_before", "diameter_after",
///             "diameter_change", "diameter_unit": "mm" | "px", "iou_aligned", "iou_shape",
///             "asymmetry_change", "border_change", "colour_change", "colours_added",
///             "colours_removed", "growth_per_month",
///             "alignment": {"translation_px": {"x", "y"}, "rotation_deg", "scale",
///                           "scale_normalised"},
///             "notes": [...], "significant",
///             "reasons": [{"code", "value", "threshold", "text"}], "summary"} | null,
///  "disclaimer": "Derm-Scan is a screening aid, not a medical diagnosis. ..."}
/// ```
///
/// `features`, `classification` and `risk` are as in `ds_scan_json`; `change` is null for
/// the lesion's first scan.
///
/// Errors: as `ds_scan_encoded`, and `DS_INVALID_ARGUMENT` (an empty label, no lesion found
/// in the photo, a negative or non-finite scale), `DS_STORE_FULL`, `DS_STORE_READ_ONLY`,
/// `DS_STORE_ERROR`. Nothing is stored on failure (a lesion added for a new label is removed
/// again).
///
/// # Safety
/// `history` and `engine` are live handles; `label` is a NUL-terminated string; `photo`
/// points to `photo_len` readable bytes; `out` points to a writable `DsBuffer`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ds_history_add_scan(
    history: *const DsHistory,
    engine: *const DsEngine,
    label: *const c_char,
    photo: *const u8,
    photo_len: usize,
    taken_at: i64,
    mm_per_px: f32,
    out: *mut DsBuffer,
) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or points to a writable `DsBuffer` (this function's contract).
        unsafe { clear_out(out) };
        if out.is_null() {
            return Err(super::status::null_argument("out"));
        }
        // SAFETY: `history` is NULL or a live handle from this library (this function's contract).
        let history = unsafe { args::handle(history, "history") }?;
        // SAFETY: `engine` is NULL or a live handle from this library (this function's contract).
        let engine = unsafe { args::handle(engine, "engine") }?;
        // SAFETY: `label` is NULL or a NUL-terminated string valid during the call (this function's contract).
        let label = unsafe { args::string(label, "label") }?;
        // SAFETY: `photo` points to its length's readable bytes, or is NULL with length 0 (this function's contract).
        let photo = unsafe { args::slice(photo, photo_len, "photo") }?.to_vec();
        let scale = (mm_per_px != 0.0).then_some(mm_per_px);
        // Snapped outlines: the store compares sizes over time.
        let options = ScanOptions { mm_per_px: scale, snap_edges: Some(true), ..ScanOptions::default() };
        let result = engine.inner.scan(ImageSource::Encoded { bytes: photo.clone() }, options)?;

        let new = crate::history::new_scan(photo, &result, taken_at, scale);
        let (lesion, added) = history.inner.inner.add_scan_by_label(&label, None, new)?;
        let added = crate::history::AddedScan::from(&added);
        let json = HistoryJson {
            lesion: &lesion,
            scan: Some(&added.scan),
            change: added.change.as_ref(),
            disclaimer: dermscan_core::NOT_A_DIAGNOSIS,
        };
        // SAFETY: `out` is NULL (refused by `write_out`) or points to a writable `DsBuffer` (this function's contract).
        unsafe { write_out(out, json.to_vec()?) }
    })
}

/// The change between the two latest scans of the lesion labelled `label`, as UTF-8 JSON
/// into `*out` (free it with `ds_buffer_free`): `{"lesion": {...}, "change": {...} | null,
/// "disclaimer": "..."}` with the keys of `ds_history_add_scan`; `change` is null while the
/// lesion has fewer than two scans.
///
/// Errors: `DS_LESION_NOT_FOUND`, `DS_STORE_CORRUPT`, `DS_STORE_ERROR`, `DS_INVALID_ARGUMENT`.
///
/// # Safety
/// `history` is a live handle; `label` is a NUL-terminated string; `out` points to a
/// writable `DsBuffer`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_history_compare_json(history: *const DsHistory, label: *const c_char, out: *mut DsBuffer) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or points to a writable `DsBuffer` (this function's contract).
        unsafe { clear_out(out) };
        if out.is_null() {
            return Err(super::status::null_argument("out"));
        }
        // SAFETY: `history` is NULL or a live handle from this library (this function's contract).
        let history = unsafe { args::handle(history, "history") }?;
        // SAFETY: `label` is NULL or a NUL-terminated string valid during the call (this function's contract).
        let label = unsafe { args::string(label, "label") }?;
        let lesion = history.inner.lesion_by_label(label)?;
        let change = history.inner.latest_change(lesion.id)?;
        let json = HistoryJson { lesion: &lesion, scan: None, change: change.as_ref(), disclaimer: dermscan_core::NOT_A_DIAGNOSIS };
        // SAFETY: `out` is NULL (refused by `write_out`) or points to a writable `DsBuffer` (this function's contract).
        unsafe { write_out(out, json.to_vec()?) }
    })
}

/// Writes the report for a doctor on the lesion labelled `label` to the file `path` (UTF-8),
/// atomically: one self-contained HTML file with the timeline chart, the aligned outlines, a
/// photo of each scan with its outline, the measurements, the latest change and the
/// not-a-diagnosis statement. It loads nothing from the network. Nothing else is written.
///
/// Errors: `DS_LESION_NOT_FOUND`, `DS_STORE_ERROR` (the file cannot be written),
/// `DS_STORE_CORRUPT`, `DS_INVALID_ARGUMENT`.
///
/// # Safety
/// `history` is a live handle; `label` and `path` are NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_history_write_report(history: *const DsHistory, label: *const c_char, path: *const c_char) -> DsStatus {
    status_call(|| {
        // SAFETY: `history` is NULL or a live handle from this library (this function's contract).
        let history = unsafe { args::handle(history, "history") }?;
        // SAFETY: `label` is NULL or a NUL-terminated string valid during the call (this function's contract).
        let label = unsafe { args::string(label, "label") }?;
        // SAFETY: `path` is NULL or a NUL-terminated string valid during the call (this function's contract).
        let path = unsafe { args::string(path, "path") }?;
        let lesion = history.inner.lesion_by_label(label)?;
        history.inner.write_report(lesion.id, path)
    })
}
