//! ONNX Runtime session creation from verified bundle bytes.

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use super::runtime::Runtime;
use crate::error::ModelError;

/// Per-session settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionOptions {
    /// Intra-op threads; 0 lets ONNX Runtime choose.
    pub threads: usize,
}

/// Creates a session from bytes that [`super::ModelBundle`] has already verified.
pub(crate) fn create_session(runtime: &Runtime, bytes: &[u8], file: &str, options: SessionOptions) -> Result<Session, ModelError> {
    let _span = tracing::debug_span!("create_session", file).entered();
    let fail = |reason: String| ModelError::Session { file: file.into(), reason };
    let mut builder = Session::builder(&runtime.environment)
        .map_err(|e| fail(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| fail(e.to_string()))?;
    if options.threads > 0 {
        builder = builder.with_intra_threads(options.threads).map_err(|e| fail(e.to_string()))?;
    }
    builder.commit_from_memory(bytes).map_err(|e| fail(e.to_string()))
}
