//! Finding and loading ONNX Runtime. Its own test binary: loading is once per process.

use dermscan::error::{Error, RuntimeError};
use dermscan::model::runtime;
use dermscan::{Engine, EngineConfig};

#[test]
fn missing_or_broken_runtime_libraries_are_typed_errors_and_recoverable() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("models/litemedsam");

    // A path that does not exist: the error names it and says how to fix it.
    let missing = root.join("no/such/libonnxruntime.so");
    let err = Engine::new(EngineConfig::new(&model).with_runtime_library(&missing)).expect_err("missing library");
    assert!(matches!(err, Error::Runtime(RuntimeError::NotFound { .. })), "{err}");
    assert!(err.to_string().contains("scripts/setup"), "{err}");

    // A file that is not a shared library.
    let not_a_lib = model.join("manifest.json");
    let err = runtime::load(Some(&not_a_lib)).expect_err("not a library");
    assert!(matches!(err, RuntimeError::LoadFailed { .. }), "{err}");

    // After both failures the real library still loads, and a second path is refused.
    let rt = runtime::load(None).expect("runtime from scripts/setup");
    assert!(rt.library_path().to_string_lossy().contains("onnxruntime"));
    let other = tempfile::NamedTempFile::new().expect("tmp");
    assert!(matches!(runtime::load(Some(other.path())), Err(RuntimeError::AlreadyLoaded { .. })));
    Engine::new(EngineConfig::new(&model)).expect("engine after recovery");
}
