//! The engine, scans, the kept image embedding, and masks.

use std::sync::Arc;

use dermscan_core as core;

use crate::error::{DermscanError, guard};
use crate::history::ScanAnalysis;
use crate::image::ImageSource;
use crate::progress::{Cancellation, ProgressListener, control, run_async};
use crate::analysis::{Classification, LesionFeatures, QualityReport, RiskAssessment};
use crate::types::{
    BoundingBox, EngineConfig, LesionCandidate, MaskMode, ModelInfo, ModelRuns, PixelRegion, Point, Prompt, RoiSource, ScanOptions,
    StageTimings,
};

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
        self.inner.segmenter().info().into()
    }

    /// How many times the encoder and decoder have run on this engine.
    pub fn model_runs(&self) -> ModelRuns {
        let s = self.inner.segmenter().stats();
        ModelRuns { encoder_runs: s.encoder_runs, decoder_runs: s.decoder_runs }
    }

    /// Lesion candidates in the photo, best first, without segmenting.
    pub fn find_lesions(&self, image: ImageSource) -> Result<Vec<LesionCandidate>, DermscanError> {
        guard(|| {
            let image = image.load(&self.inner.config().image_limits)?;
            Ok(self.inner.find_lesions(&image).iter().map(Into::into).collect())
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
    pub fn encode(&self, image: ImageSource, window: Option<PixelRegion>) -> Result<Arc<Embedding>, DermscanError> {
        guard(|| {
            let image = image.load(&self.inner.config().image_limits)?;
            let embedding = self.inner.segmenter().encode(&image, window.map(Into::into))?;
            Ok(Arc::new(Embedding { inner: embedding }))
        })
    }

    /// Runs the mask decoder for `prompt` on a kept embedding (about 50 ms; the encoder is
    /// not run again). `mask_mode` none means [`MaskMode::Lesion`].
    pub fn decode(&self, embedding: Arc<Embedding>, prompt: Prompt, mask_mode: Option<MaskMode>) -> Result<Arc<Mask>, DermscanError> {
        guard(|| {
            let mode = mask_mode.map(Into::into).unwrap_or_default();
            let mask = self.inner.segmenter().decode_with(&embedding.inner, &prompt.to_core(), mode)?;
            Ok(Arc::new(Mask { inner: mask }))
        })
    }
}

fn scan(engine: &core::Engine, image: &ImageSource, options: ScanOptions, control: &core::Control) -> Result<ScanResult, DermscanError> {
    let _span = tracing::info_span!("ffi_scan").entered();
    let image = image.load(&engine.config().image_limits)?;
    let result = engine.scan_with(&image, &options.to_core()?, control)?;
    Ok(ScanResult::from(result))
}

/// The outcome of one scan.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ScanResult {
    /// The box the decoder was prompted with.
    pub roi: BoundingBox,
    /// Who chose it.
    pub roi_source: RoiSource,
    /// The lesion finder's candidates, best first (empty when the caller gave a box).
    pub candidates: Vec<LesionCandidate>,
    /// Every lesion found, the primary one first (empty when none was found, and then
    /// `roi_source` is `None`, the mask is empty and the risk level `Unknown`).
    pub lesions: Vec<FoundLesion>,
    /// The lesion mask at the photo's resolution.
    pub mask: Arc<Mask>,
    /// The encoder output, kept for re-prompting with `Engine.decode`.
    pub embedding: Arc<Embedding>,
    /// The segmentation model that produced it.
    pub model: ModelInfo,
    /// Measurements and ABCD scores (none when the mask is empty).
    pub features: Option<LesionFeatures>,
    /// The classifier's probabilities (none without a classifier bundle).
    pub classification: Option<Classification>,
    /// Risk level with its reasons and the not-a-diagnosis statement.
    pub risk: RiskAssessment,
    /// Photo quality warnings with retake advice.
    pub quality: QualityReport,
    /// Time per stage.
    pub timings: StageTimings,
    /// The analysis exactly as the core computed it (measurements, ABCD, classification,
    /// risk, model identities), kept opaque and lossless. This, with `mask`, is what
    /// `HistoryStore.add_scan` stores: the readable fields above are copies of it.
    pub analysis: Arc<ScanAnalysis>,
}

impl From<core::ScanResult> for ScanResult {
    fn from(r: core::ScanResult) -> Self {
        let analysis = Arc::new(ScanAnalysis::from_result(&r));
        Self {
            roi: r.roi.bbox.into(),
            roi_source: r.roi.source.into(),
            candidates: r.candidates.iter().map(Into::into).collect(),
            lesions: r.lesions.iter().map(FoundLesion::from).collect(),
            mask: Arc::new(Mask { inner: r.mask }),
            embedding: Arc::new(Embedding { inner: r.embedding }),
            model: (&r.model).into(),
            features: r.features.as_ref().map(Into::into),
            classification: r.classification.as_ref().map(Into::into),
            risk: (&r.risk).into(),
            quality: (&r.quality).into(),
            timings: r.timings.into(),
            analysis,
        }
    }
}

/// One lesion a scan found, with its own measurements, classification and risk.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FoundLesion {
    /// The prompt box its mask was decoded with.
    pub bbox: BoundingBox,
    /// Its mask at the photo's resolution (re-prompt it with `Engine.decode`).
    pub mask: Arc<Mask>,
    /// Mask area in pixels.
    pub area_px: u64,
    /// Measurements and ABCD scores.
    pub features: Option<LesionFeatures>,
    /// The classifier's probabilities (none without a classifier bundle).
    pub classification: Option<Classification>,
    /// Its risk level and reasons.
    pub risk: RiskAssessment,
}

impl From<&core::LesionFinding> for FoundLesion {
    fn from(l: &core::LesionFinding) -> Self {
        Self {
            bbox: l.bbox.into(),
            mask: Arc::new(Mask { inner: l.mask.clone() }),
            area_px: l.mask.area_px(),
            features: l.features.as_ref().map(Into::into),
            classification: l.classification.as_ref().map(Into::into),
            risk: (&l.risk).into(),
        }
    }
}

/// An image embedding kept for re-prompting (about 4 MB for LiteMedSAM).
#[derive(uniffi::Object)]
pub struct Embedding {
    inner: core::ImageEmbedding,
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedding").field("geometry", self.inner.geometry()).finish()
    }
}

#[uniffi::export]
impl Embedding {
    /// Width of the photo it was computed from.
    pub fn image_width(&self) -> u32 {
        self.inner.geometry().image_width
    }

    /// Height of the photo it was computed from.
    pub fn image_height(&self) -> u32 {
        self.inner.geometry().image_height
    }

    /// The part of the photo the encoder saw.
    pub fn window(&self) -> PixelRegion {
        self.inner.geometry().window.into()
    }
}

/// A binary lesion mask at the photo's resolution.
#[derive(Clone, uniffi::Object)]
pub struct Mask {
    inner: core::Mask,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mask").field("width", &self.inner.width()).field("height", &self.inner.height()).field("area_px", &self.inner.area_px()).finish()
    }
}

impl Mask {
    /// Wraps a core mask.
    pub(crate) fn from_core(inner: core::Mask) -> Self {
        Self { inner }
    }

    /// The core mask.
    pub fn inner(&self) -> &core::Mask {
        &self.inner
    }
}

#[uniffi::export]
impl Mask {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.inner.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.inner.height()
    }

    /// Lesion pixels.
    pub fn area_px(&self) -> u64 {
        self.inner.area_px()
    }

    /// The decoder's own quality estimate (predicted IoU).
    pub fn iou_score(&self) -> f32 {
        self.inner.iou_score()
    }

    /// Tight box around the lesion pixels (`x1`, `y1` exclusive); none for an empty mask.
    pub fn bbox(&self) -> Option<BoundingBox> {
        self.inner.bbox().map(|[x0, y0, x1, y1]| BoundingBox { x0: x0 as f32, y0: y0 as f32, x1: x1 as f32, y1: y1 as f32 })
    }

    /// Outline of the largest region, in order around it.
    pub fn contour(&self) -> Vec<Point> {
        self.inner.contour().into_iter().map(|[x, y]| Point { x, y }).collect()
    }

    /// One byte per pixel, row by row: 255 lesion, 0 skin.
    pub fn pixels(&self) -> Vec<u8> {
        self.inner.pixels().to_vec()
    }

    /// The mask as a greyscale PNG file.
    pub fn to_png(&self) -> Vec<u8> {
        self.inner.to_png()
    }

    /// Dice overlap (0 to 1) with another mask of the same size.
    pub fn dice(&self, other: Arc<Mask>) -> f64 {
        self.inner.dice(&other.inner)
    }
}
