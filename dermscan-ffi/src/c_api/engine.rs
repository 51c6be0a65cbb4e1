//! `DsEngine`: opening and freeing an engine.

use std::ffi::c_char;
use std::sync::Arc;

use super::args;
use super::status::{DsStatus, status_call, value_call};
use crate::engine::Engine;
use crate::types::EngineConfig;

/// A loaded scanner: ONNX Runtime, a verified segmenter bundle and its sessions (opaque).
/// Thread-safe: one engine may be used from several threads at once (scans on the same
/// engine take turns inside each model session). Free it with `ds_engine_free` once no
/// thread uses it any more.
#[derive(Debug)]
pub struct DsEngine {
    pub(crate) inner: Arc<Engine>,
}

/// Opens an engine: loads ONNX Runtime (first call in the process only), verifies the model
/// bundle in `model_dir` (every file's SHA-256 against its `manifest.json`) and creates the
/// sessions. Blocking; takes about a second.
///
/// - `model_dir`: folder of the bundle, UTF-8, for example "models/litemedsam".
/// - `runtime_library`: path of the ONNX Runtime library file, or NULL to use the
///   `DERMSCAN_ORT_LIB` environment variable and then the folder `scripts/setup` fills.
///   ONNX Runtime is loaded once per process: after the first successful load, a different
///   path is `DS_RUNTIME_ERROR`. A missing or unusable file is `DS_RUNTIME_ERROR` and a later
///   call with a good path still works.
/// - `threads`: ONNX Runtime intra-op threads; 0 means one per core.
/// - `out`: receives the engine (NULL on failure); free it with `ds_engine_free`.
///
/// Errors: `DS_MODEL_ERROR` (missing, malformed or tampered bundle), `DS_RUNTIME_ERROR`,
/// `DS_INVALID_ARGUMENT` (NULL `model_dir` or `out`, a string that is not UTF-8).
///
/// # Safety
/// `model_dir` is a NUL-terminated string; `runtime_library` is NULL or a NUL-terminated
/// string; `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_engine_new(
    model_dir: *const c_char,
    runtime_library: *const c_char,
    threads: u32,
    out: *mut *mut DsEngine,
) -> DsStatus {
    // SAFETY: the same contract, with no classifier.
    unsafe { ds_engine_new_with_classifier(model_dir, std::ptr::null(), runtime_library, threads, out) }
}

/// Like `ds_engine_new`, also loading the classifier bundle in `classifier_dir` (for example
/// "models/ham10000-xception"; NULL: no classifier). Scans then carry the classifier's
/// probabilities in `ds_scan_json`'s `classification` and its share in `risk`. A segmenter
/// bundle given as the classifier, or the reverse, is `DS_MODEL_ERROR`.
///
/// # Safety
/// As `ds_engine_new`; `classifier_dir` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_engine_new_with_classifier(
    model_dir: *const c_char,
    classifier_dir: *const c_char,
    runtime_library: *const c_char,
    threads: u32,
    out: *mut *mut DsEngine,
) -> DsStatus {
    status_call(|| {
        // SAFETY: `out` is NULL or writable for one pointer (this function's contract).
        unsafe { args::clear_handle(out) };
        args::require_out(out)?;
        let config = EngineConfig {
            // SAFETY: `model_dir` is NULL or a NUL-terminated string valid during the call (this function's contract).
            model_dir: unsafe { args::string(model_dir, "model_dir") }?,
            // SAFETY: `runtime_library` is NULL or a NUL-terminated string valid during the call (this function's contract).
            runtime_library: unsafe { args::optional_string(runtime_library, "runtime_library") }?,
            threads,
            execution_providers: Vec::new(),
            max_pixels: None,
            // SAFETY: `classifier_dir` is NULL or a NUL-terminated string valid during the call (this function's contract).
            classifier_dir: unsafe { args::optional_string(classifier_dir, "classifier_dir") }?,
        };
        let engine = Engine::new(config)?;
        // SAFETY: `out` was checked non-NULL by `require_out` and is writable (this function's contract).
        unsafe { args::write_handle(out, DsEngine { inner: engine }) }
    })
}

/// Frees an engine. NULL is accepted. Scans and masks made with it stay valid (re-prompting
/// them needs an engine with the same model).
///
/// # Safety
/// `engine` is NULL or an engine from `ds_engine_new` that is not freed yet and that no other
/// thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_engine_free(engine: *mut DsEngine) {
    // SAFETY: as documented above.
    value_call((), || unsafe { args::free_handle(engine) });
}
