//! Progress callbacks, cancellation, and the worker thread behind every async call.
//!
//! Async calls never block the caller's executor: the work runs on a worker thread and the
//! returned future waits for it. Dropping the future (cancelling the Kotlin coroutine, the
//! Swift task or the Python asyncio task) cancels the work, which stops at the next stage
//! boundary or inside the encoder run.

use std::sync::Arc;

use dermscan_core::control::{CancelToken, Control, Progress, Stage};
use futures_channel::oneshot;

use crate::error::{DermscanError, guard};

/// Implemented by the app to follow a long call. Called on an SDK worker thread: hop to
/// the UI thread before touching views.
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `stage` has started; `fraction` (0 to 1) of the call is done.
    fn on_progress(&self, stage: Stage, fraction: f32);
}

struct Listener(Arc<dyn ProgressListener>);

impl Progress for Listener {
    fn report(&self, stage: Stage, fraction: f32) {
        self.0.on_progress(stage, fraction);
    }
}

/// A cancel switch for the blocking calls (`scan_with`); async calls are cancelled by
/// cancelling the coroutine or task instead.
#[derive(Debug, Default, uniffi::Object)]
pub struct Cancellation {
    token: CancelToken,
}

#[uniffi::export]
impl Cancellation {
    /// A switch that is not cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Cancels the calls using this switch; they fail with `Cancelled`.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// Builds the core's [`Control`] from the foreign listener and cancel switch.
pub(crate) fn control(listener: Option<Arc<dyn ProgressListener>>, cancel: Option<&Cancellation>) -> Control {
    let mut control = Control::new();
    if let Some(c) = cancel {
        control = control.with_cancel(c.token.clone());
    }
    if let Some(l) = listener {
        control = control.with_progress(Arc::new(Listener(l)));
    }
    control
}

/// Cancels the token when the future is dropped before the work finished.
struct CancelOnDrop {
    token: CancelToken,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            tracing::debug!("async call dropped before it finished: cancelling");
            self.token.cancel();
        }
    }
}

/// Runs `work` on a worker thread with a fresh cancel token and the listener's progress,
/// and waits for it without blocking the caller's executor.
pub async fn run_async<T, F>(listener: Option<Arc<dyn ProgressListener>>, work: F) -> Result<T, DermscanError>
where
    T: Send + 'static,
    F: FnOnce(&Control) -> Result<T, DermscanError> + Send + 'static,
{
    let token = CancelToken::new();
    let mut control = Control::new().with_cancel(token.clone());
    if let Some(l) = listener {
        control = control.with_progress(Arc::new(Listener(l)));
    }
    let (tx, rx) = oneshot::channel();
    let mut on_drop = CancelOnDrop { token, armed: true };
    std::thread::Builder::new()
        .name("dermscan-worker".into())
        .spawn(move || {
            let result = guard(|| work(&control));
            // The receiver is gone when the call was cancelled; nothing to deliver then.
            let _ = tx.send(result);
        })
        .map_err(|e| DermscanError::Internal(format!("could not start a worker thread: {e}")))?;
    let result = rx.await.unwrap_or_else(|_| Err(DermscanError::Internal("the worker thread ended without a result".into())));
    on_drop.armed = false;
    result
}
