//! Progress reports and cancellation for long calls (engine load, scan, the lesion history's
//! writes, comparisons, reports and key rotation).
//!
//! A [`Control`] travels with one call. The caller keeps a clone of its [`CancelToken`] and
//! may cancel from any thread: the call stops at the next stage boundary, and a running
//! encoder is interrupted inside ONNX Runtime, so a cancelled scan returns within about one
//! decoder run. The call then fails with [`crate::Error::Cancelled`].
//!
//! ```
//! use std::sync::Arc;
//! use dermscan_core::control::{CancelToken, Control, Progress, Stage};
//!
//! struct Print;
//! impl Progress for Print {
//!     fn report(&self, stage: Stage, fraction: f32) {
//!         println!("{stage:?}: {:.0}%", fraction * 100.0);
//!     }
//! }
//! let cancel = CancelToken::new();
//! let control = Control::new().with_cancel(cancel.clone()).with_progress(Arc::new(Print));
//! control.report(Stage::FindLesion);
//! cancel.cancel();
//! assert!(control.check().is_err());
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ort::session::RunOptions;

use crate::error::{Error, Result};

/// A step of a long call, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum Stage {
    /// Loading the ONNX Runtime library.
    LoadRuntime,
    /// Reading and verifying a model bundle (sizes, SHA-256, graph inputs and outputs).
    VerifyModel,
    /// Creating ONNX Runtime sessions.
    CreateSessions,
    /// Finding the lesion (skipped when the caller gives a box).
    FindLesion,
    /// Resizing and normalising the encoder input.
    Preprocess,
    /// Running the image encoder (the long step).
    Encode,
    /// Running the mask decoder.
    Decode,
    /// Measuring the lesion, classifying it, checking the photo, weighing the risk.
    Analyse,
    /// Lesion history: aligning two scans of a lesion and measuring the change.
    Compare,
    /// Lesion history: writing files and rows to the store.
    Store,
    /// Lesion history: reading the scans and drawing the pictures of a report.
    Report,
    /// Lesion history: re-encrypting every value and file with a new key.
    Reseal,
    /// The call has finished.
    Done,
}

impl Stage {
    /// Fraction of the whole call completed when this stage starts.
    pub fn fraction(self) -> f32 {
        match self {
            Self::LoadRuntime => 0.0,
            Self::VerifyModel => 0.1,
            Self::CreateSessions => 0.4,
            Self::FindLesion => 0.0,
            Self::Preprocess => 0.05,
            Self::Encode => 0.1,
            Self::Decode => 0.85,
            Self::Analyse => 0.9,
            Self::Compare | Self::Report | Self::Reseal => 0.0,
            Self::Store => 0.8,
            Self::Done => 1.0,
        }
    }
}

/// Receives progress reports. Called on the thread doing the work; keep it quick.
pub trait Progress: Send + Sync {
    /// `stage` has started; `fraction` (0..=1) of the call is done.
    fn report(&self, stage: Stage, fraction: f32);
}

/// A shareable cancel switch. Clones share one switch.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<CancelInner>,
}

#[derive(Default)]
struct CancelInner {
    cancelled: AtomicBool,
    /// The ONNX Runtime run in progress, if any, so cancel can interrupt it.
    running: Mutex<Option<Arc<RunOptions>>>,
}

impl std::fmt::Debug for CancelInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelInner").field("cancelled", &self.cancelled).finish_non_exhaustive()
    }
}

impl CancelToken {
    /// A switch that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every call using this token; a model run in progress is interrupted.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        if let Ok(running) = self.inner.running.lock()
            && let Some(options) = running.as_ref()
        {
            // Failing to set the flag only means the run finishes normally.
            let _ = options.terminate();
        }
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Registers `options` as the run in progress; `None` (and the run should not start) when
    /// already cancelled.
    pub(crate) fn begin_run(&self, options: Arc<RunOptions>) -> Option<RunGuard<'_>> {
        let mut running = self.inner.running.lock().ok()?;
        if self.is_cancelled() {
            return None;
        }
        *running = Some(options);
        Some(RunGuard { token: self })
    }
}

/// Clears the registered run when the model call ends.
pub(crate) struct RunGuard<'a> {
    token: &'a CancelToken,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.token.inner.running.lock() {
            *running = None;
        }
    }
}

/// Progress sink and cancel switch for one call. The default reports nothing and never
/// cancels.
#[derive(Clone, Default)]
pub struct Control {
    cancel: CancelToken,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").field("cancel", &self.cancel).field("progress", &self.progress.is_some()).finish()
    }
}

impl Control {
    /// No progress reports, never cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `cancel` as the cancel switch.
    pub fn with_cancel(mut self, cancel: CancelToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Sends progress reports to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The same cancel switch without progress reports: for work that repeats a stage
    /// already reported (progress only moves forward).
    pub fn silent(&self) -> Control {
        Control { cancel: self.cancel.clone(), progress: None }
    }

    /// The cancel switch.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }

    /// Reports that `stage` starts.
    pub fn report(&self, stage: Stage) {
        if let Some(p) = &self.progress {
            p.report(stage, stage.fraction());
        }
    }

    /// Reports that `stage` is under way with `fraction` (0..=1) of the call done, for stages
    /// whose share depends on the work (one report per re-sealed scan, say).
    pub fn report_at(&self, stage: Stage, fraction: f32) {
        if let Some(p) = &self.progress {
            p.report(stage, fraction.clamp(0.0, 1.0));
        }
    }

    /// `Err(Error::Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_cancelled() { Err(Error::Cancelled) } else { Ok(()) }
    }

    /// Checks for cancellation, then reports `stage`.
    pub fn enter(&self, stage: Stage) -> Result<()> {
        self.check()?;
        self.report(stage);
        Ok(())
    }
}
