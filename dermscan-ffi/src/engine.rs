//! The engine: loading, scanning, encoding and decoding.

use std::sync::Arc;

use dermscan_core as core;

use crate::embedding::Embedding;
use crate::error::{DermscanError, guard};
use crate::image::ImageSource;
use crate::mask::Mask;
use crate::progress::{Cancellation, ProgressListener, control, run_async};
use crate::prompt::Prompt;
use crate::scan::ScanResult;
use dermscan_core::segment::SegmenterStats;
use dermscan_core::{LesionCandidate, MaskMode, ModelInfo, PixelRect};

use crate::types::{EngineConfig, ScanOptions};

/// A loaded scanner: ONNX Runtime, a verified segmenter bundle and its sessions.
/// Thread-safe: share one engine across the app and call it from any thread.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    inner: Arc<core::Engine>,
}

/// Loads an engine without blocking the caller: verifies the bundle, creates the sessions,
/// reports progress. Cancel the coroutine or task to stop it.
#[uniffi::export]
pub async fn open_engine(config: EngineConfig, listener: Option<Arc<dyn ProgressListener>>) -> Result<Arc<Engine>, DermscanError> {
    run_async(listener, move |control| {
        let inner = core::Engine::new_with(config.to_core(), control)?;
        Ok(Arc::new(Engine { inner: Arc::new(inner) }))
    })
    .await
}

#[uniffi::export]
impl Engine {
    /// Loads the runtime and the segmenter bundle (blocking; see `open_engine` for async).
    #[uniffi::constructor]
    pub fn new(config: EngineConfig) -> Result<Arc<Self>, DermscanError> {
        guard(|| Ok(Arc::new(Self { inner: Arc::new(core::Engine::new(config.to_core())?) })))
    }

    /// The segmentation model in use.
    pub fn model(&self) -> ModelInfo {
        self.inner.segmenter().info().clone()
    }

    /// How many times the encoder and decoder have run on this engine.
    pub fn model_runs(&self) -> SegmenterStats {
        self.inner.segmenter().stats()
    }

    /// Lesion candidates in the photo, best first, without segmenting.
    pub fn find_lesions(&self, image: ImageSource) -> Result<Vec<LesionCandidate>, DermscanError> {
        guard(|| {
            let image = image.load(&self.inner.config().image_limits)?;
            Ok(self.inner.find_lesions(&image))
        })
    }

    /// Scans one photo: finds the lesion (or uses `options.bbox`), runs the encoder once and
    /// the decoder on the box. Keep `ScanResult.embedding` to re-prompt cheaply.
    pub fn scan(&self, image: ImageSource, options: ScanOptions) -> Result<ScanResult, DermscanError> {
        self.scan_with(image, options, None, None)
    }

    /// Like `scan`, reporting progress to `listener` and stopping when `cancel` is cancelled.
    pub fn scan_with(
        &self,
        image: ImageSource,
        options: ScanOptions,
        listener: Option<Arc<dyn ProgressListener>>,
        cancel: Option<Arc<Cancellation>>,
    ) -> Result<ScanResult, DermscanError> {
        guard(|| scan(&self.inner, &image, options, &control(listener, cancel.as_deref())))
    }

    /// Like `scan`, without blocking the caller (a Kotlin `suspend` function, a Swift
    /// `async` function, a Python coroutine). Cancelling the coroutine or task cancels the
    /// scan, even inside the encoder run.
    pub async fn scan_async(
        self: Arc<Self>,
        image: ImageSource,
        options: ScanOptions,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<ScanResult, DermscanError> {
        let inner = Arc::clone(&self.inner);
        run_async(listener, move |control| scan(&inner, &image, options, control)).await
    }

    /// Runs only the image encoder, on `window` of the photo (whole photo when none), for
    /// interactive prompting with `decode`.
    pub fn encode(&self, image: ImageSource, window: Option<PixelRect>) -> Result<Arc<Embedding>, DermscanError> {
        guard(|| {
            let image = image.load(&self.inner.config().image_limits)?;
            let embedding = self.inner.segmenter().encode(&image, window)?;
            Ok(Arc::new(Embedding::from_core(embedding)))
        })
    }

    /// Runs the mask decoder for `prompt` on a kept embedding (about 50 ms; the encoder is
    /// not run again). `mask_mode` none means [`MaskMode::Lesion`].
    pub fn decode(&self, embedding: Arc<Embedding>, prompt: Prompt, mask_mode: Option<MaskMode>) -> Result<Arc<Mask>, DermscanError> {
        guard(|| {
            let mode = mask_mode.unwrap_or_default();
            let mask = self.inner.segmenter().decode_in_mode(embedding.inner(), &prompt.to_core(), mode)?;
            Ok(Arc::new(Mask::from_core(mask)))
        })
    }
}

impl Engine {
    /// Scans like `scan`, also returning the core's report of the scan (the document the C
    /// ABI's `ds_scan_json` returns and the `scan` example writes).
    pub(crate) fn scan_reported(
        &self,
        image: ImageSource,
        options: ScanOptions,
        control: &core::Control,
    ) -> Result<(ScanResult, core::ScanReport), DermscanError> {
        guard(|| {
            let (result, options) = scan_core(&self.inner, &image, options, control)?;
            let report = core::ScanReport::new(&result, &options);
            Ok((ScanResult::from(result), report))
        })
    }
}

fn scan(engine: &core::Engine, image: &ImageSource, options: ScanOptions, control: &core::Control) -> Result<ScanResult, DermscanError> {
    scan_core(engine, image, options, control).map(|(result, _)| ScanResult::from(result))
}

/// A core scan, with the core options it ran with.
fn scan_core(
    engine: &core::Engine,
    image: &ImageSource,
    options: ScanOptions,
    control: &core::Control,
) -> Result<(core::ScanResult, core::ScanOptions), DermscanError> {
    let _span = tracing::info_span!("ffi_scan").entered();
    let image = image.load(&engine.config().image_limits)?;
    let options = options.to_core()?;
    let result = engine.scan_with(&image, &options, control)?;
    Ok((result, options))
}
