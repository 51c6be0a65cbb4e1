//! Finding and loading the ONNX Runtime shared library.
//!
//! The SDK links ONNX Runtime dynamically (`ort`'s `load-dynamic`), so an app ships the
//! library it wants and the SDK never downloads anything. The library is looked up, in
//! order: an explicit path from the engine config, the `DERMSCAN_ORT_LIB` environment
//! variable, and the folder `scripts/setup` fills (`.runtime/onnxruntime/` in the workspace).
//! ONNX Runtime allows one environment per process, so the first successful load wins.
//!
//! Privacy: Microsoft's ONNX Runtime builds (1.31 for Linux, macOS, Android and iOS) start a
//! telemetry client when the library initialises. Without [`TELEMETRY_ENV`] it wrote a device
//! identifier and an event database under the user's home
//! (`~/.cache/Microsoft/DeveloperTools/.onnxruntime/`) on every scan here, for upload later,
//! even with telemetry switched off on the environment: that switch comes after the library
//! has initialised. So [`load`] sets `ORT_DISABLE_TELEMETRY=1` before it loads the library
//! (`tests/privacy.rs` checks that a scan writes nothing under `$HOME`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::environment::Environment;

use crate::error::RuntimeError;

/// Environment variable naming the ONNX Runtime library file.
pub const ORT_LIB_ENV: &str = "DERMSCAN_ORT_LIB";

/// ONNX Runtime's environment variable that keeps its telemetry client from starting, read
/// when the library initialises. [`load`] sets it to `1`; a host app that wants no
/// environment write from the SDK sets it itself at start-up.
pub const TELEMETRY_ENV: &str = "ORT_DISABLE_TELEMETRY";

/// The loaded ONNX Runtime, shared by every engine in the process.
#[derive(Debug)]
pub struct Runtime {
    path: PathBuf,
    pub(crate) environment: Environment,
}

impl Runtime {
    /// Library file the runtime was loaded from.
    pub fn library_path(&self) -> &Path {
        &self.path
    }
}

static LOADED: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);

/// The default place `scripts/setup` puts the library, relative to this workspace.
pub fn setup_location() -> PathBuf {
    let file = format!("{}onnxruntime{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".runtime").join("onnxruntime").join(file)
}

/// Candidate library paths in search order, given an optional explicit path.
pub fn candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(p.to_owned());
        // An explicit path is authoritative: no silent fallback to another library.
        return out;
    }
    if let Some(p) = std::env::var_os(ORT_LIB_ENV).filter(|p| !p.is_empty()) {
        out.push(PathBuf::from(p));
    }
    out.push(setup_location());
    out
}

/// Loads ONNX Runtime (once per process) and returns it.
///
/// A missing file is [`RuntimeError::NotFound`], a file that is not a usable ONNX Runtime
/// (or is older than 1.31) is [`RuntimeError::LoadFailed`]; neither panics.
///
/// ```
/// use dermscan_core::model::runtime;
/// let err = runtime::load(Some("/nonexistent/libonnxruntime.so".as_ref())).unwrap_err();
/// assert!(err.to_string().contains("not found"));
/// ```
pub fn load(explicit: Option<&Path>) -> Result<Arc<Runtime>, RuntimeError> {
    let candidates = candidates(explicit);
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        let searched = candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        return Err(RuntimeError::NotFound { searched });
    };
    let path = path.canonicalize().unwrap_or_else(|_| path.clone());
    let mut loaded = LOADED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(runtime) = loaded.as_ref() {
        if runtime.path == path || explicit.is_none() {
            return Ok(Arc::clone(runtime));
        }
        return Err(RuntimeError::AlreadyLoaded { loaded: runtime.path.clone(), requested: path });
    }
    let _span = tracing::info_span!("load_runtime", path = %path.display()).entered();
    let fail = |reason: String| RuntimeError::LoadFailed { path: path.clone(), reason };
    disable_telemetry();
    let builder = std::panic::catch_unwind(|| ort::init_from(&path))
        .map_err(|_| fail("the loader panicked".into()))?
        .map_err(|e| fail(e.to_string()))?;
    let environment = builder
        .with_name("dermscan")
        // Also the events the API controls, should the variable above have been overridden.
        .with_telemetry(false)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let runtime = Arc::new(Runtime { path, environment });
    *loaded = Some(Arc::clone(&runtime));
    Ok(runtime)
}

/// Sets [`TELEMETRY_ENV`] to `1` unless it already is, before ONNX Runtime is loaded.
#[allow(unsafe_code)]
fn disable_telemetry() {
    if std::env::var_os(TELEMETRY_ENV).is_some_and(|v| v == "1") {
        return;
    }
    tracing::debug!(variable = TELEMETRY_ENV, "turning ONNX Runtime's telemetry off");
    // SAFETY: `set_var` is unsafe because a thread reading or writing the environment at the
    // same moment races with it in the C library. This runs at most once per process that
    // loads ONNX Runtime, under `LOADED`'s lock, before the library (the reader that matters)
    // is loaded; the SDK itself reads the environment only before this point. A host app
    // whose own threads touch the environment while its first engine is created sets the
    // variable at start-up instead, and then this write never happens.
    unsafe { std::env::set_var(TELEMETRY_ENV, "1") };
}
