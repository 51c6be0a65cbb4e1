//! # Derm-Scan for apps: Kotlin, Swift, Python (uniffi) and C, C++, Flutter (C ABI)
//!
//! This crate only adapts [`dermscan_core`] to foreign languages: objects behind `Arc`, one
//! error enum ([`DermscanError`]), options whose every field is optional, async forms of the
//! long calls, and a guard so that no Rust panic ever crosses into the app. No analysis
//! happens here. The records and enums (boxes, prompts, timings, the classification, the
//! risk and its codes, the quality report, change reasons) are the core's own types, which
//! derive uniffi behind the core's `uniffi` feature: a second uniffi component,
//! `dermscan_core`, in the same library.
//!
//! One module per concern, mirroring the core:
//! - [`error`]: the error enum every call returns, and the panic guard.
//! - [`types`]: the scan and engine options, and a contour point.
//! - [`image`]: photos in (encoded bytes or a raw camera buffer).
//! - [`engine`]: the engine (load, scan, encode, decode).
//! - [`scan`]: a scan's outcome and each lesion it found; [`scan_analysis`]: the part the
//!   history keeps.
//! - [`embedding`], [`mask`], [`prompt`]: the kept embedding, masks, and what to decode.
//! - [`analysis`]: the features view (measurements, ABCD scores, axes for drawing).
//! - [`history`]: the lesion history store (scans over time, their change, the report).
//! - [`progress`]: progress callbacks, cancellation, and the worker that runs async calls.
//! - [`c_api`]: the `extern "C"` surface declared in `dermscan.h`.
//!
//! A new capability adds its records to the core (deriving `uniffi::Record` behind the
//! `uniffi` feature), one exported method on [`engine::Engine`] (plus its `_async` twin
//! through [`progress::run_async`]) and, for C, one function in [`c_api`].
//!
//! **Derm-Scan is a screening aid, not a diagnosis**: see [`not_a_diagnosis`].

uniffi::setup_scaffolding!("dermscan");

pub mod analysis;
pub mod c_api;
pub mod embedding;
pub mod engine;
pub mod error;
#[cfg(feature = "history")]
pub mod history;
pub mod image;
pub mod mask;
pub mod progress;
pub mod prompt;
pub mod scan;
pub mod scan_analysis;
pub mod types;

pub use crate::embedding::Embedding;
pub use crate::engine::Engine;
pub use crate::error::DermscanError;
#[cfg(feature = "history")]
pub use crate::history::HistoryStore;
pub use crate::mask::Mask;
pub use crate::scan::ScanResult;

/// The SDK version (the crate version, for example `0.1.0`).
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The fixed statement every presentation of results must carry.
#[uniffi::export]
pub fn not_a_diagnosis() -> String {
    dermscan_core::NOT_A_DIAGNOSIS.to_string()
}

/// Diagnostics: panics inside the SDK on purpose and returns the resulting error, proving in
/// the app's own language that a Rust panic surfaces as [`DermscanError::Internal`] and the
/// process goes on. Never needed in normal use.
#[uniffi::export]
pub fn self_test_panic(message: String) -> Result<(), DermscanError> {
    #[allow(clippy::panic, reason = "the point of this call: a panic the guard turns into an error")]
    error::guard(|| -> Result<(), DermscanError> { panic!("self-test panic: {message}") })
}
