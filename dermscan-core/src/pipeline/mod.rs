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
pub mod report;
// Cancellation and progress live below every stage (crate::control); re-exported here.

use std::sync::Arc;
use std::time::Instant;

pub use self::config::{DEFAULT_MAX_LESIONS, EngineConfig, ScanOptions};
pub use self::report::ScanReport;
use crate::classify::{Classification, Classifier};
pub use crate::control::{CancelToken, Control, Progress, Stage};
use crate::error::Result;
use crate::features::{self, FeatureConfig, Features};
use crate::image::Image;
use crate::model::{ModelBundle, ModelInfo, Runtime, SessionConfig, runtime};
use crate::quality::{self, QualityReport};
use crate::risk::{self, RiskAssessment, RiskInputs};
use crate::roi::{self, LesionCandidate, context_window};
use crate::segment::{BoxPrompt, EncodeOptions, ImageEmbedding, Mask, Prompt, Segmenter};
use crate::verify::{self, Evidence, Verified};

/// Who chose the region of interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum RoiSource {
    /// The lesion finder.
    Auto,
    /// The caller's box.
    User,
    /// No lesion was found: the mask is empty and nothing was measured or classified.
    None,
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StageTimings {
    /// Finding the lesion (zero when the caller gave a box).
    pub roi_ms: f64,
    /// Crop, resize, normalise.
    pub preprocess_ms: f64,
    /// Image encoder (ONNX Runtime).
    pub encoder_ms: f64,
    /// Mask decoder (ONNX Runtime).
    pub decoder_ms: f64,
    /// Logits to mask.
    pub postprocess_ms: f64,
    /// Measurements, ABCD, photo quality and risk (the SDK's own work after the mask).
    pub analysis_ms: f64,
    /// Classifier, crop and model run (zero without a classifier).
    pub classifier_ms: f64,
    /// Whole scan.
    pub total_ms: f64,
}

impl StageTimings {
    /// Time spent in model calls (encoder, decoder, classifier).
    pub fn model_ms(&self) -> f64 {
        self.encoder_ms + self.decoder_ms + self.classifier_ms
    }

    /// Counts decoder runs and their post-processing.
    fn add_decodes(&mut self, spent: verify::Spent) {
        self.decoder_ms += spent.decoder_ms;
        self.postprocess_ms += spent.postprocess_ms;
    }
}

/// One lesion a scan found, with its own measurements, classification and risk.
#[derive(Debug, Clone)]
pub struct LesionFinding {
    /// The prompt box its mask was decoded with (from the verified mask for automatic
    /// scans, the caller's box otherwise).
    pub bbox: BoxPrompt,
    /// Its mask at the photo's size.
    pub mask: Mask,
    /// What the model and the colours said when it was verified (`None` for a caller's box).
    pub evidence: Option<Evidence>,
    /// Measurements and ABCD scores.
    pub features: Option<Features>,
    /// The classifier's opinion (`None` without a classifier bundle).
    pub classification: Option<Classification>,
    /// Its risk level and reasons.
    pub risk: RiskAssessment,
}

/// Everything one scan produced. The single-lesion fields (`roi`, `mask`, `features`,
/// `classification`, `risk`) describe the primary lesion, which is also `lesions[0]`.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// Region of interest used as the prompt (source [`RoiSource::None`] when no lesion was
    /// found).
    pub roi: Roi,
    /// Every lesion found, the primary one first (empty when none was found).
    pub lesions: Vec<LesionFinding>,
    /// Lesion candidates the finder proposed, best first (empty for a user box); the model
    /// verified some of them into `lesions`.
    pub candidates: Vec<LesionCandidate>,
    /// The primary lesion's mask (empty when no lesion was found).
    pub mask: Mask,
    /// The encoder output, kept for re-prompting with [`Segmenter::decode`] (the primary
    /// lesion's context window, or the whole photo).
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
        let found = match options.bbox {
            Some(bbox) => {
                bbox.validate(image.width(), image.height())?;
                self.segment_user_box(image, bbox, options, control, &mut timings)?
            }
            None => self.find_and_verify(image, options, control, &mut timings)?,
        };
        timings.preprocess_ms = found.embedding.preprocess_ms();
        timings.encoder_ms = found.embedding.encoder_ms() + found.extra_encoder_ms;

        control.enter(Stage::Analyse)?;
        let t = Instant::now();
        let primary_mask = found.lesions.first().map(|l| &l.1);
        let quality = quality::assess(image, primary_mask, &self.config.quality);
        let mut analysis_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut lesions = Vec::with_capacity(found.lesions.len());
        for (bbox, mask, evidence) in found.lesions {
            let (features, classification, risk) =
                self.analyse(image, bbox, &mask, &feature_config, options, &mut timings, &mut analysis_ms)?;
            lesions.push(LesionFinding { bbox, mask, evidence, features, classification, risk });
        }
        timings.analysis_ms = analysis_ms;
        let (roi, mask, features, classification, risk) = match lesions.first() {
            Some(p) => {
                (Roi { bbox: p.bbox, source: found.source }, p.mask.clone(), p.features.clone(), p.classification.clone(), p.risk.clone())
            }
            None => (
                Roi { bbox: BoxPrompt::new(0.0, 0.0, 0.0, 0.0), source: RoiSource::None },
                Mask::empty(image.width(), image.height()),
                None,
                None,
                risk::no_lesion(),
            ),
        };
        timings.total_ms = start.elapsed().as_secs_f64() * 1e3;
        tracing::info!(?timings, area = mask.area_px(), lesions = lesions.len(), risk = risk.level.as_str(), "scan done");
        control.report(Stage::Done);
        Ok(ScanResult {
            roi,
            lesions,
            candidates: found.candidates,
            mask,
            embedding: found.embedding,
            model: self.segmenter.info().clone(),
            features,
            classification,
            risk,
            quality,
            timings,
        })
    }

    /// The caller's box: encoder on the context window the crop policy chooses, decoder on
    /// the box.
    fn segment_user_box(
        &self,
        image: &Image,
        bbox: BoxPrompt,
        options: &ScanOptions,
        control: &Control,
        timings: &mut StageTimings,
    ) -> Result<Found> {
        let window = context_window(options.crop, bbox, image.width(), image.height(), self.segmenter.recipe().input.size);
        let embedding = self.segmenter.encode_with(image, &EncodeOptions { window, hair_removal: options.hair_removal }, control)?;
        control.enter(Stage::Decode)?;
        let mut mask = self.segmenter.decode_in_mode(&embedding, &Prompt::from_box(bbox), options.mask_mode)?;
        timings.decoder_ms = mask.decoder_ms();
        timings.postprocess_ms = mask.postprocess_ms();
        if options.snap_edges {
            let t = Instant::now();
            mask = crate::segment::snap_to_edge(image, &mask);
            timings.postprocess_ms += t.elapsed().as_secs_f64() * 1e3;
        }
        Ok(Found { source: RoiSource::User, candidates: Vec::new(), lesions: vec![(bbox, mask, None)], embedding, extra_encoder_ms: 0.0 })
    }

    /// The automatic path: the finder proposes candidates, the model verifies them on one
    /// embedding of the whole photo, and the primary lesion is segmented again in its own
    /// context window when it is small in the frame.
    fn find_and_verify(&self, image: &Image, options: &ScanOptions, control: &Control, timings: &mut StageTimings) -> Result<Found> {
        control.enter(Stage::FindLesion)?;
        let t = Instant::now();
        // Nothing measurable fits in a photo this small.
        let candidates = if image.width().min(image.height()) < MIN_PHOTO_SIDE { Vec::new() } else { self.find_lesions(image) };
        timings.roi_ms = t.elapsed().as_secs_f64() * 1e3;

        // One embedding of the whole photo: verification, secondary lesions and re-prompting
        // (a tap on a lesion the finder missed) all decode on it.
        let whole = self.segmenter.encode_with(image, &EncodeOptions { window: None, hair_removal: options.hair_removal }, control)?;
        control.enter(Stage::Decode)?;
        let verify_config = &self.config.verify;
        let limit = options.max_lesions.max(1) as usize;
        let mut kept: Vec<Verified> = Vec::new();
        for candidate in &candidates {
            let v = verify::verify(&self.segmenter, image, &whole, candidate, options.mask_mode, verify_config)?;
            timings.add_decodes(v.spent);
            tracing::debug!(bbox = ?candidate.bbox.to_array(), evidence = ?v.evidence, passes = v.evidence.passes(verify_config), "candidate");
            if !v.evidence.passes(verify_config) || kept.iter().any(|k| overlaps(&k.mask, &v.mask)) {
                continue;
            }
            // A second piece of a lesion already kept (one that fills the frame, or whose
            // halves differ in colour): segment the two as one.
            if let Some(k) = kept.iter_mut().find(|k| verify::touching(k, &v)) {
                let joined = verify::merge(&self.segmenter, image, &whole, k, &v, options.mask_mode)?;
                timings.add_decodes(joined.spent);
                *k = joined;
                continue;
            }
            kept.push(v);
            if kept.len() >= limit {
                break;
            }
        }
        // A lesion running off the frame is less likely the one the user aimed at.
        kept.sort_by_key(|v| v.evidence.touches_frame);
        // A lesion small in the frame comes back as a coarse blob from the model's 256 px
        // input: the primary one is segmented again inside its own context window.
        let size = self.segmenter.recipe().input.size;
        let window_of =
            |kept: &[Verified]| kept.first().and_then(|p| context_window(options.crop, p.bbox, image.width(), image.height(), size));
        let window = window_of(&kept);
        // Pull back masks that leaked into the skin; a primary lesion in a context window is
        // tightened there instead.
        for v in kept.iter_mut().skip(usize::from(window.is_some())) {
            let (tighter, spent) = verify::tighten(&self.segmenter, image, &whole, v.bbox, &v.mask, options.mask_mode, verify_config)?;
            timings.add_decodes(spent);
            if let Some((bbox, mask)) = tighter {
                // A reflection a few model pixels wide was verified as a blob with skin around
                // it; its tighter mask shows it for what it is.
                v.evidence.highlight = verify::is_highlight(image, &mask);
                (v.bbox, v.mask) = (bbox, mask);
            }
        }
        kept.retain(|v| !v.evidence.highlight);
        // Encoder time on context windows of a primary lesion that turned out a reflection.
        let mut discarded_ms = 0.0;
        let (embedding, primary_box, mut mask, extra_encoder_ms) = loop {
            let Some(primary) = kept.first() else {
                return Ok(Found {
                    source: RoiSource::None,
                    candidates,
                    lesions: Vec::new(),
                    embedding: whole,
                    extra_encoder_ms: discarded_ms,
                });
            };
            let Some(window) = window_of(&kept) else { break (whole, primary.bbox, primary.mask.clone(), discarded_ms) };
            // Progress already reported the encoder and decoder stages: stay quiet, but stay
            // cancellable.
            let crop = self.segmenter.encode_with(
                image,
                &EncodeOptions { window: Some(window), hair_removal: options.hair_removal },
                &control.silent(),
            )?;
            let (bbox, mask, spent) = verify::resegment(&self.segmenter, image, &crop, primary, options.mask_mode, verify_config)?;
            timings.add_decodes(spent);
            if verify::is_highlight(image, &mask) {
                discarded_ms += crop.encoder_ms();
                kept.remove(0);
                continue;
            }
            timings.preprocess_ms += whole.preprocess_ms();
            break (crop, bbox, mask, whole.encoder_ms() + discarded_ms);
        };
        if options.refine
            && let Some(refined) = self.refine(&embedding, &primary_box, &mask, options)?
        {
            timings.decoder_ms += refined.decoder_ms();
            mask = refined;
        }
        let mut lesions: Vec<(BoxPrompt, Mask, Option<Evidence>)> = Vec::with_capacity(kept.len());
        for (i, v) in kept.into_iter().enumerate() {
            let (b, m) = if i == 0 { (primary_box, mask.clone()) } else { (v.bbox, v.mask) };
            let m = if options.snap_edges { crate::segment::snap_to_edge(image, &m) } else { m };
            lesions.push((b, m, Some(v.evidence)));
        }
        Ok(Found { source: RoiSource::Auto, candidates, lesions, embedding, extra_encoder_ms })
    }
}

/// What the segmentation half of a scan found.
struct Found {
    source: RoiSource,
    candidates: Vec<LesionCandidate>,
    lesions: Vec<(BoxPrompt, Mask, Option<Evidence>)>,
    embedding: ImageEmbedding,
    /// Encoder time spent on an embedding that was not kept (the whole photo, when the
    /// primary lesion was encoded again in its context window).
    extra_encoder_ms: f64,
}

/// Photos with a shorter side below this hold no measurable lesion.
const MIN_PHOTO_SIDE: u32 = 32;

/// Whether two masks are one lesion (either covers most of the other).
fn overlaps(a: &Mask, b: &Mask) -> bool {
    let (mut both, mut na, mut nb) = (0u64, 0u64, 0u64);
    for (p, q) in a.pixels().iter().zip(b.pixels()) {
        both += u64::from(*p > 0 && *q > 0);
        na += u64::from(*p > 0);
        nb += u64::from(*q > 0);
    }
    both * 2 > na.min(nb)
}

impl Engine {
    /// Measurements, classifier and risk for one segmented lesion.
    #[allow(clippy::too_many_arguments)]
    fn analyse(
        &self,
        image: &Image,
        bbox: BoxPrompt,
        mask: &Mask,
        feature_config: &FeatureConfig,
        options: &ScanOptions,
        timings: &mut StageTimings,
        analysis_ms: &mut f64,
    ) -> Result<(Option<Features>, Option<Classification>, RiskAssessment)> {
        let _span = tracing::info_span!("analyse").entered();
        let t = Instant::now();
        let lesion = (mask.area_px() > 0).then_some(mask);
        let features = lesion.map(|m| features::analyse(image, m, feature_config)).transpose()?;
        *analysis_ms += t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        let classification = match &self.classifier {
            Some(classifier) => {
                // The crop follows the mask; the prompt box when there is no mask.
                let lesion_box = mask
                    .bbox()
                    .map(|r| r.corners())
                    .map_or(bbox, |[x0, y0, x1, y1]| BoxPrompt::new(x0 as f32, y0 as f32, x1 as f32, y1 as f32));
                Some(classifier.classify(image, lesion_box, &options.metadata)?)
            }
            None => None,
        };
        timings.classifier_ms += t.elapsed().as_secs_f64() * 1e3;

        let t = Instant::now();
        let inputs = RiskInputs::from_analysis(features.as_ref(), classification.as_ref());
        let risk = risk::assess(&inputs, &self.config.risk);
        *analysis_ms += t.elapsed().as_secs_f64() * 1e3;
        Ok((features, classification, risk))
    }

    /// The refinement pass: decodes again with the first mask's own box (plus a small
    /// margin). Kept only when the first mask is a plausible lesion inside the box;
    /// otherwise `None`.
    fn refine(&self, embedding: &ImageEmbedding, bbox: &BoxPrompt, first: &Mask, options: &ScanOptions) -> Result<Option<Mask>> {
        let Some([x0, y0, x1, y1]) = first.bbox().map(|r| r.corners()) else { return Ok(None) };
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
        Ok(Some(self.segmenter.decode_in_mode(embedding, &Prompt::from_box(tight), options.mask_mode)?))
    }
}

/// Margin around the first mask's box for the refinement pass, as a fraction of its longest side.
const REFINE_MARGIN: f32 = 0.03;
