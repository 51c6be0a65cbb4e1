//! The whole scan: photo in, lesion mask out, with per-stage timings.
//!
//! ```no_run
//! use dermscan_core::{Engine, EngineConfig, Image, ImageLimits, ScanOptions};
//! let engine = Engine::new(EngineConfig::new("models/litemedsam"))?;
//! let photo = Image::open("assets/samples/forearm-nevi.jpg", &ImageLimits::default())?;
//! let scan = engine.scan(&photo, &ScanOptions::default())?;
//! println!("lesion of {} px, box {:?}", scan.mask.area_px(), scan.roi.bbox);
//! // Re-prompt on the kept embedding without re-running the encoder:
//! let refined = engine.segmenter().decode(&scan.embedding, &dermscan_core::Prompt::from_box(scan.roi.bbox))?;
//! # let _ = refined;
//! # Ok::<(), dermscan_core::Error>(())
//! ```

mod config;
mod control;

use std::sync::Arc;
use std::time::Instant;

pub use self::config::{EngineConfig, ScanOptions};
pub use self::control::{CancelToken, Control, Progress, Stage};
use crate::error::Result;
use crate::image::Image;
use crate::model::{ModelBundle, ModelInfo, Runtime, SessionConfig, runtime};
use crate::roi::{self, LesionCandidate, context_window};
use crate::classify::{Classification, Classifier};
use crate::features::{self, FeatureConfig, Features};
use crate::quality::{self, QualityReport};
use crate::risk::{self, RiskAssessment, RiskInputs};
use crate::segment::{BoxPrompt, EncodeOptions, ImageEmbedding, Mask, Prompt, Segmenter};

/// Who chose the region of interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoiSource {
    /// The lesion finder.
    Auto,
    /// The caller's box.
    User,
}

/// The region of interest a scan used.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Roi {
    /// Box prompt in original-image pixels.
    pub bbox: BoxPrompt,
    /// Where it came from.
    pub source: RoiSource,
}

/// Milliseconds spent in each stage of one scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StageTimings {
    /// Finding the lesion (zero when the caller gave a box).
    pub roi: f64,
    /// Crop, resize, normalise.
    pub preprocess: f64,
    /// Image encoder (ONNX Runtime).
    pub encoder: f64,
    /// Mask decoder (ONNX Runtime).
    pub decoder: f64,
    /// Logits to mask.
    pub postprocess: f64,
    /// Measurements, ABCD, photo quality and risk (the SDK's own work after the mask).
    pub analysis: f64,
    /// Classifier, crop and model run (zero without a classifier).
    pub classifier: f64,
    /// Whole scan.
    pub total: f64,
}

impl StageTimings {
    /// Time spent in model calls (encoder, decoder, classifier).
    pub fn model_ms(&self) -> f64 {
        self.encoder + self.decoder + self.classifier
    }
}

/// Everything one scan produced.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// Region of interest used as the prompt.
    pub roi: Roi,
    /// Other lesion candidates the finder saw, best first (empty for a user box).
    pub candidates: Vec<LesionCandidate>,
    /// The segmentation.
    pub mask: Mask,
    /// The encoder output, kept for re-prompting with [`Segmenter::decode`].
    pub embedding: ImageEmbedding,
    /// The segmentation model used.
    pub model: ModelInfo,
    /// Size, shape and colour measurements with the ABCD scores (`None` when the mask is empty).
    pub features: Option<Features>,
    /// What the classifier thinks the lesion is (`None` without a classifier bundle or lesion).
    pub classification: Option<Classification>,
    /// Level and reasons; always carries the not-a-diagnosis statement.
    pub risk: RiskAssessment,
    /// Whether the photo is good enough, with retake advice.
    pub quality: QualityReport,
    /// Per-stage timings.
    pub timings: StageTimings,
}

/// A ready-to-use scanner: the runtime, a verified segmenter bundle and its sessions.
/// `Send + Sync`; share one engine between threads.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    runtime: Arc<Runtime>,
    segmenter: Segmenter,
    classifier: Option<Classifier>,
}

impl Engine {
    /// Loads the runtime and the segmenter bundle named in `config`.
    pub fn new(config: EngineConfig) -> Result<Self> {
        Self::new_with(config, &Control::default())
    }

    /// Like [`Engine::new`], reporting progress and stopping between stages when `control`
    /// is cancelled.
    pub fn new_with(config: EngineConfig, control: &Control) -> Result<Self> {
        let _span = tracing::info_span!("engine_new", model = %config.model_dir.display()).entered();
        control.enter(Stage::LoadRuntime)?;
        let runtime = runtime::load(config.runtime_library.as_deref())?;
        control.enter(Stage::VerifyModel)?;
        let bundle = ModelBundle::open(&config.model_dir)?;
        control.enter(Stage::CreateSessions)?;
        let session = SessionConfig { threads: config.threads, execution_providers: config.execution_providers.clone() };
        let segmenter = Segmenter::new(&bundle, &runtime, &session)?;
        let classifier = match &config.classifier_dir {
            Some(dir) => Some(Classifier::new(&ModelBundle::open(dir)?, &runtime, &session)?),
            None => None,
        };
        control.report(Stage::Done);
        Ok(Self { config, runtime, segmenter, classifier })
    }

    /// The segmenter, for direct `encode` / `decode` calls.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// The classifier, when the engine was configured with one.
    pub fn classifier(&self) -> Option<&Classifier> {
        self.classifier.as_ref()
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The ONNX Runtime in use.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Finds lesion candidates without segmenting.
    pub fn find_lesions(&self, image: &Image) -> Vec<LesionCandidate> {
        roi::find_lesions(image, &self.config.roi)
    }

    /// Scans one photo: region of interest (the caller's box or the finder's best candidate),
    /// encoder on the crop chosen by `options.crop`, decoder on the box.
    pub fn scan(&self, image: &Image, options: &ScanOptions) -> Result<ScanResult> {
        self.scan_with(image, options, &Control::default())
    }

    /// Like [`Engine::scan`], reporting progress to `control` and stopping early (even inside
    /// the encoder) when it is cancelled.
    pub fn scan_with(&self, image: &Image, options: &ScanOptions, control: &Control) -> Result<ScanResult> {
        let _span = tracing::info_span!("scan", width = image.width(), height = image.height()).entered();
        let start = Instant::now();
        let mut timings = StageTimings::default();
        // Bad options fail before any model time is spent.
        options.metadata.validate()?;
        let feature_config = FeatureConfig { mm_per_px: options.mm_per_px, ..self.config.features.clone() };
        feature_config.validate()?;
        let (roi, candidates) = match options.bbox {
            Some(bbox) => {
                bbox.validate(image.width(), image.height())?;
                (Roi { bbox, source: RoiSource::User }, Vec::new())
            }
            None => {
                control.enter(Stage::FindLesion)?;
                let t = Instant::now();
                let candidates = self.find_lesions(image);
                timings.roi = t.elapsed().as_secs_f64() * 1e3;
                // No lesion stands out: segment the central region, as a user would frame it.
                let bbox = candidates.first().map_or_else(|| central_box(image), |c| c.bbox);
                (Roi { bbox, source: RoiSource::Auto }, candidates)
            }
        };
        let window = context_window(options.crop, roi.bbox, image.width(), image.height(), self.segmenter.recipe().input.size);
        let encode = EncodeOptions { window, hair_removal: options.hair_removal };
        let embedding = self.segmenter.encode_with(image, &encode, control)?;
        control.enter(Stage::Decode)?;
        let mut mask = self.segmenter.decode_with(&embedding, &Prompt::from_box(roi.bbox), options.mask_mode)?;
        timings.decoder = mask.decoder_ms();
        timings.postprocess = mask.postprocess_ms();
        if options.refine
            && roi.source == RoiSource::Auto
            && let Some(refined) = self.refine(&embedding, &roi.bbox, &mask, options)?
        {
            mask = refined;
            timings.decoder += mask.decoder_ms();
            timings.postprocess += mask.postprocess_ms();
        }
        if options.snap_edges {
            let t = Instant::now();
            mask = crate::segment::snap_to_edge(image, &mask);
            timings.postprocess += t.elapsed().as_secs_f64() * 1e3;
        }
        timings.preprocess = embedding.preprocess_ms();
        timings.encoder = embedding.encoder_ms();
        control.enter(Stage::Analyse)?;
        let analysis = self.analyse(image, &roi, &mask, &feature_config, options, &mut timings)?;
        timings.total = start.elapsed().as_secs_f64() * 1e3;
        tracing::info!(?timings, area = mask.area_px(), risk = analysis.risk.level.as_str(), "scan done");
        control.report(Stage::Done);
        Ok(ScanResult {
            roi,
            candidates,
            mask,
            embedding,
            model: self.segmenter.info().clone(),
            features: analysis.features,
            classification: analysis.classification,
            risk: analysis.risk,
            quality: analysis.quality,
            timings,
        })
    }
}

/// What [`Engine::analyse`] adds to a mask.
struct Analysis {
    features: Option<Features>,
    classification: Option<Classification>,
    risk: RiskAssessment,
    quality: QualityReport,
}

impl Engine {
    /// Measurements, classifier, photo quality and risk for a segmented lesion.
    fn analyse(&self, image: &Image, roi: &Roi, mask: &Mask, feature_config: &FeatureConfig, options: &ScanOptions, timings: &mut StageTimings) -> Result<Analysis> {
        let _span = tracing::info_span!("analyse").entered();
        let t = Instant::now();
        let lesion = (mask.area_px() > 0).then_some(mask);
        let features = lesion.map(|m| features::analyse(image, m, feature_config)).transpose()?;
        let quality = quality::assess(image, lesion, &self.config.quality);
        let mut analysis_ms = t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        let classification = match &self.classifier {
            Some(classifier) => {
                // The crop follows the mask; the prompt box when there is no mask.
                let lesion_box = mask.bbox().map_or(roi.bbox, |[x0, y0, x1, y1]| BoxPrompt::new(x0 as f32, y0 as f32, x1 as f32, y1 as f32));
                Some(classifier.classify(image, lesion_box, &options.metadata)?)
            }
            None => None,
        };
        timings.classifier = t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        let inputs = RiskInputs::from_analysis(features.as_ref(), classification.as_ref());
        let risk = risk::assess(&inputs, &self.config.risk);
        analysis_ms += t.elapsed().as_secs_f64() * 1e3;
        timings.analysis = analysis_ms;
        Ok(Analysis { features, classification, risk, quality })
    }

    /// The refinement pass: decodes again with the first mask's own box (plus a small
    /// margin), which is tighter than the lesion finder's. Kept only when the first mask is
    /// a plausible lesion inside the finder's box; otherwise `None`.
    fn refine(&self, embedding: &ImageEmbedding, bbox: &BoxPrompt, first: &Mask, options: &ScanOptions) -> Result<Option<Mask>> {
        let Some([x0, y0, x1, y1]) = first.bbox() else { return Ok(None) };
        let (w, h) = ((x1 - x0) as f32, (y1 - y0) as f32);
        let margin = REFINE_MARGIN * w.max(h);
        let (iw, ih) = (first.width() as f32, first.height() as f32);
        let tight = BoxPrompt::new(
            (x0 as f32 - margin).max(0.0),
            (y0 as f32 - margin).max(0.0),
            (x1 as f32 + margin).min(iw),
            (y1 as f32 + margin).min(ih),
        );
        let (bw, bh) = bbox.size();
        // A first mask much smaller than the box is a part (or a hair) rather than the
        // lesion: its box would lose the rest.
        if (w * h) < 0.25 * bw * bh {
            return Ok(None);
        }
        let _span = tracing::debug_span!("refine").entered();
        Ok(Some(self.segmenter.decode_with(embedding, &Prompt::from_box(tight), options.mask_mode)?))
    }
}

/// Margin around the first mask's box for the refinement pass, as a fraction of its longest side.
const REFINE_MARGIN: f32 = 0.03;

fn central_box(image: &Image) -> BoxPrompt {
    let (w, h) = (image.width() as f32, image.height() as f32);
    BoxPrompt::new(w * 0.25, h * 0.25, w * 0.75, h * 0.75)
}

