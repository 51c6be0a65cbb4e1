//! ONNX Runtime session creation from verified bundle bytes.

use ort::ep::ExecutionProviderDispatch;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use super::runtime::Runtime;
use crate::error::ModelError;

/// A hardware back end ONNX Runtime may run a model on.
///
/// Providers are tried in the order given, each falling back to the next and finally to the
/// CPU when the device or the runtime library lacks it. A provider whose cargo feature
/// (`coreml`, `nnapi`, `xnnpack`) is not compiled in is skipped with a warning.
///
/// ```
/// use dermscan_core::model::ExecutionProvider;
/// assert_eq!(ExecutionProvider::Xnnpack.name(), "xnnpack");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum ExecutionProvider {
    /// ONNX Runtime's own CPU kernels, always available.
    Cpu,
    /// Apple Core ML (Neural Engine, GPU, CPU) on iOS and macOS.
    CoreMl,
    /// Android Neural Networks API.
    Nnapi,
    /// XNNPACK CPU kernels tuned for Arm (Android, iOS).
    Xnnpack,
}

impl ExecutionProvider {
    /// Short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::CoreMl => "coreml",
            Self::Nnapi => "nnapi",
            Self::Xnnpack => "xnnpack",
        }
    }

    /// The `ort` registration for this provider, or `None` when it is the CPU or not compiled in.
    fn dispatch(self, threads: usize) -> Option<ExecutionProviderDispatch> {
        let _ = threads;
        match self {
            Self::Cpu => None,
            #[cfg(feature = "coreml")]
            Self::CoreMl => Some(ort::ep::CoreML::default().build().fail_silently()),
            #[cfg(feature = "nnapi")]
            Self::Nnapi => Some(ort::ep::NNAPI::default().build().fail_silently()),
            #[cfg(feature = "xnnpack")]
            Self::Xnnpack => {
                let ep = ort::ep::XNNPACK::default();
                let ep = match std::num::NonZeroUsize::new(threads) {
                    Some(n) => ep.with_intra_op_num_threads(n),
                    None => ep,
                };
                Some(ep.build().fail_silently())
            }
            #[allow(unreachable_patterns)]
            other => {
                tracing::warn!(provider = other.name(), "execution provider not compiled in (cargo feature off); using the CPU");
                None
            }
        }
    }
}

/// Per-session settings.
///
/// ```
/// use dermscan_core::model::{ExecutionProvider, SessionConfig};
/// let config = SessionConfig { threads: 2, execution_providers: vec![ExecutionProvider::Xnnpack] };
/// assert_eq!(config.threads, 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionConfig {
    /// Intra-op threads; 0 lets ONNX Runtime choose.
    pub threads: usize,
    /// Providers to try before the CPU, in order; empty: CPU only.
    pub execution_providers: Vec<ExecutionProvider>,
}

/// What a session does with weights stored as int8 behind a `DequantizeLinear` (the bundles'
/// weight-only int8 variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Int8Weights {
    /// Keep them int8 and dequantise each layer's weights when it runs: a quarter of the
    /// resident weight memory, for models run once per lesion (the classifier: 33 MB resident
    /// instead of 290 MB for its fp16 file).
    Keep,
    /// Fold them into float weights when the session is created, so ONNX Runtime pre-packs them:
    /// for models run many times per scan (the decoder: 119 ms a call instead of 186 ms, the
    /// fp32 decoder's time; 16 MB resident).
    Expand,
}

/// Creates a session from bytes that [`super::ModelBundle`] has already verified.
pub(crate) fn create_session(
    runtime: &Runtime,
    bytes: &[u8],
    file: &str,
    config: &SessionConfig,
    int8_weights: Int8Weights,
) -> Result<Session, ModelError> {
    let _span = tracing::debug_span!("create_session", file).entered();
    let fail = |reason: String| ModelError::Session { file: file.into(), reason };
    let mut builder = Session::builder(&runtime.environment)
        .map_err(|e| fail(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| fail(e.to_string()))?
        // No pre-planned block per input shape: the decoder's point count varies per call.
        .with_memory_pattern(false)
        .map_err(|e| fail(e.to_string()))?;
    if int8_weights == Int8Weights::Expand {
        // Without the QDQ transformers, constant folding evaluates a DequantizeLinear whose
        // inputs are all initializers.
        builder = builder.with_config_entry("session.disable_quant_qdq", "1").map_err(|e| fail(e.to_string()))?;
    }
    if config.threads > 0 {
        builder = builder.with_intra_threads(config.threads).map_err(|e| fail(e.to_string()))?;
    }
    let mut providers: Vec<ExecutionProviderDispatch> =
        config.execution_providers.iter().filter_map(|p| p.dispatch(config.threads)).collect();
    // The CPU provider without its memory arena. The arena keeps every block a run ever
    // needed: after one scan of the 2 MP sample photo the process stayed at 988 MB resident
    // (LiteMedSAM's first stage alone has 67 MB activations), 262 MB without it, for about
    // 3% more scan time (examples/memory, docs/measured.md). Inside a host app on a phone the
    // memory matters more.
    providers.push(ort::ep::CPU::default().with_arena_allocator(false).build());
    builder = builder.with_execution_providers(providers).map_err(|e| fail(e.to_string()))?;
    builder.commit_from_memory(bytes).map_err(|e| fail(e.to_string()))
}
