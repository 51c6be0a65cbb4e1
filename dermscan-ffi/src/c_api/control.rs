//! `DsCancel` and progress callbacks: a scan that another thread can stop, and that tells
//! the caller which stage it is in.

use std::ffi::c_void;
use std::sync::Arc;

use dermscan_core::control::{CancelToken, Control, Progress, Stage};

use super::args;
use super::status::{DsStatus, status_call, value_call};

/// A cancel switch (opaque). Pass it in `DsScanOptions.cancel`; `ds_cancel` from any thread
/// makes the scans using it stop within about one decoder run with `DS_CANCELLED`. Once
/// tripped it stays tripped: make a new one per scan. Free it with `ds_cancel_free` after the
/// scans using it have returned.
#[derive(Debug, Default)]
pub struct DsCancel {
    token: CancelToken,
}

/// Makes a cancel switch that is not tripped, into `*out`.
///
/// # Safety
/// `out` points to writable memory for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_cancel_new(out: *mut *mut DsCancel) -> DsStatus {
    // SAFETY: as documented above.
    status_call(|| unsafe {
        args::clear_handle(out);
        args::write_handle(out, DsCancel::default())
    })
}

/// Trips the switch: the scans using it stop (thread-safe; may be called from any thread,
/// while a scan runs). A running encoder is interrupted inside ONNX Runtime.
///
/// # Safety
/// `cancel` is NULL or a live switch from `ds_cancel_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_cancel(cancel: *const DsCancel) -> DsStatus {
    // SAFETY: as documented above.
    status_call(|| unsafe { args::handle(cancel, "cancel") }.map(|c| c.token.cancel()))
}

/// Frees a cancel switch. NULL is accepted.
///
/// # Safety
/// `cancel` is NULL or a switch from `ds_cancel_new` that no running call uses any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ds_cancel_free(cancel: *mut DsCancel) {
    // SAFETY: as documented above.
    value_call((), || unsafe { args::free_handle(cancel) });
}

/// The stage a progress callback reports.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsStage {
    /// Loading the ONNX Runtime library.
    DS_STAGE_LOAD_RUNTIME = 0,
    /// Reading and verifying a model bundle.
    DS_STAGE_VERIFY_MODEL = 1,
    /// Creating ONNX Runtime sessions.
    DS_STAGE_CREATE_SESSIONS = 2,
    /// Finding the lesion.
    DS_STAGE_FIND_LESION = 3,
    /// Resizing and normalising the encoder input.
    DS_STAGE_PREPROCESS = 4,
    /// Running the image encoder (the long step).
    DS_STAGE_ENCODE = 5,
    /// Running the mask decoder.
    DS_STAGE_DECODE = 6,
    /// Measuring, classifying, checking the photo, weighing the risk.
    DS_STAGE_ANALYSE = 7,
    /// Lesion history: measuring the change between two scans.
    DS_STAGE_COMPARE = 8,
    /// Lesion history: writing to the store.
    DS_STAGE_STORE = 9,
    /// Lesion history: building a report.
    DS_STAGE_REPORT = 10,
    /// Lesion history: re-encrypting with a new key.
    DS_STAGE_RESEAL = 11,
    /// The call has finished.
    DS_STAGE_DONE = 12,
    /// A stage this header does not know yet (a newer library).
    DS_STAGE_OTHER = 255,
}

impl From<Stage> for DsStage {
    fn from(stage: Stage) -> Self {
        match stage {
            Stage::LoadRuntime => Self::DS_STAGE_LOAD_RUNTIME,
            Stage::VerifyModel => Self::DS_STAGE_VERIFY_MODEL,
            Stage::CreateSessions => Self::DS_STAGE_CREATE_SESSIONS,
            Stage::FindLesion => Self::DS_STAGE_FIND_LESION,
            Stage::Preprocess => Self::DS_STAGE_PREPROCESS,
            Stage::Encode => Self::DS_STAGE_ENCODE,
            Stage::Decode => Self::DS_STAGE_DECODE,
            Stage::Analyse => Self::DS_STAGE_ANALYSE,
            Stage::Compare => Self::DS_STAGE_COMPARE,
            Stage::Store => Self::DS_STAGE_STORE,
            Stage::Report => Self::DS_STAGE_REPORT,
            Stage::Reseal => Self::DS_STAGE_RESEAL,
            Stage::Done => Self::DS_STAGE_DONE,
            _ => Self::DS_STAGE_OTHER,
        }
    }
}

/// A progress callback: `stage` (a `DsStage` value) has started and `fraction` (0 to 1) of
/// the call is done. Called on the thread running the call, before it returns; keep it quick.
pub type DsProgressFn = Option<unsafe extern "C" fn(user_data: *mut c_void, stage: u32, fraction: f32)>;

/// The caller's callback and its pointer, as the core's progress sink.
struct CallbackProgress {
    callback: unsafe extern "C" fn(*mut c_void, u32, f32),
    user_data: *mut c_void,
}

// SAFETY: the core calls the sink only on the thread running the C call (a scan is
// synchronous in C), so `user_data` never moves to a thread its owner did not call from.
unsafe impl Send for CallbackProgress {}
// SAFETY: as above; the sink is not called from two threads at once.
unsafe impl Sync for CallbackProgress {}

impl Progress for CallbackProgress {
    fn report(&self, stage: Stage, fraction: f32) {
        // SAFETY: the caller gave a function of this signature and a pointer it accepts.
        unsafe { (self.callback)(self.user_data, DsStage::from(stage) as u32, fraction) }
    }
}

/// The core's control for one call: the caller's cancel switch and progress callback.
///
/// # Safety
/// `cancel` is NULL or a live switch from `ds_cancel_new`.
pub(crate) unsafe fn control(cancel: *const DsCancel, progress: DsProgressFn, user_data: *mut c_void) -> Control {
    let mut control = Control::new();
    // SAFETY: as this function's contract documents.
    if let Some(c) = unsafe { cancel.as_ref() } {
        control = control.with_cancel(c.token.clone());
    }
    if let Some(callback) = progress {
        control = control.with_progress(Arc::new(CallbackProgress { callback, user_data }));
    }
    control
}
