//! Engine and scan configuration.

use std::path::PathBuf;

use crate::classify::PatientMetadata;
use crate::features::FeatureConfig;
use crate::image::ImageLimits;
use crate::model::ExecutionProvider;
use crate::preprocess::HairRemoval;
use crate::quality::QualityConfig;
use crate::risk::RiskThresholds;
use crate::roi::{CropPolicy, RoiConfig};
use crate::segment::{BoxPrompt, MaskMode};
use crate::verify::VerifyConfig;

/// How to build an [`super::Engine`].
///
/// ```
/// use dermscan_core::EngineConfig;
/// let config = EngineConfig::new("models/litemedsam").with_threads(2).with_runtime_library("/opt/ort/libonnxruntime.so");
/// assert_eq!(config.threads, 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Segmenter bundle folder.
    pub model_dir: PathBuf,
    /// ONNX Runtime library file; when `None`, `DERMSCAN_ORT_LIB`, then the `scripts/setup` location.
    pub runtime_library: Option<PathBuf>,
    /// ONNX Runtime intra-op threads (0: ONNX Runtime's default, one per core).
    pub threads: usize,
    /// Execution providers to try before the CPU, in order (empty: CPU only).
    pub execution_providers: Vec<ExecutionProvider>,
    /// Classifier bundle folder (`None`: scans are not classified).
    pub classifier_dir: Option<PathBuf>,
    /// Lesion finder settings.
    pub roi: RoiConfig,
    /// When the segmentation model accepts a finder's candidate as a lesion.
    pub verify: VerifyConfig,
    /// Measurement settings (the scale comes with each scan, [`ScanOptions::mm_per_px`]).
    pub features: FeatureConfig,
    /// Photo quality gate thresholds.
    pub quality: QualityConfig,
    /// Risk thresholds.
    pub risk: RiskThresholds,
    /// Limits for decoded images.
    pub image_limits: ImageLimits,
}

impl EngineConfig {
    /// Configuration for the bundle in `model_dir`, everything else default.
    pub fn new(model_dir: impl Into<PathBuf>) -> Self {
        Self {
            model_dir: model_dir.into(),
            runtime_library: None,
            threads: 0,
            execution_providers: Vec::new(),
            classifier_dir: None,
            roi: RoiConfig::default(),
            verify: VerifyConfig::default(),
            features: FeatureConfig::default(),
            quality: QualityConfig::default(),
            risk: RiskThresholds::default(),
            image_limits: ImageLimits::default(),
        }
    }

    /// Adds the classifier bundle in `dir`.
    pub fn with_classifier(mut self, dir: impl Into<PathBuf>) -> Self {
        self.classifier_dir = Some(dir.into());
        self
    }

    /// Sets the ONNX Runtime library file.
    pub fn with_runtime_library(mut self, path: impl Into<PathBuf>) -> Self {
        self.runtime_library = Some(path.into());
        self
    }

    /// Sets the execution providers to try before the CPU.
    pub fn with_execution_providers(mut self, providers: impl Into<Vec<ExecutionProvider>>) -> Self {
        self.execution_providers = providers.into();
        self
    }

    /// Sets ONNX Runtime's intra-op thread count.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }
}

/// Options for one scan.
///
/// ```
/// use dermscan_core::{ScanOptions, CropPolicy, BoxPrompt};
/// let opts = ScanOptions::default().with_box(BoxPrompt::new(10.0, 10.0, 60.0, 60.0)).with_crop(CropPolicy::WholeImage);
/// assert!(opts.bbox.is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanOptions {
    /// The lesion's box; `None` lets the lesion finder choose.
    pub bbox: Option<BoxPrompt>,
    /// Whether the encoder sees a context window or the whole image.
    pub crop: CropPolicy,
    /// How decoder tokens become the mask (default: the whole lesion).
    pub mask_mode: MaskMode,
    /// Hair removal before the encoder (default: on).
    pub hair_removal: HairRemoval,
    /// Decode a second time with the box of the first mask when the lesion finder chose the
    /// box (default: off; on the synthetic set it lowered the mean Dice, see the README).
    pub refine: bool,
    /// Snap the mask's outline to the colour edge between lesion and skin
    /// ([`crate::segment::snap_to_edge`]; default: on). It removes most of the model's
    /// lighting-dependent outline offset, which matters when sizes are compared over time,
    /// and measured better on real photos too (real development photos, automatic: Dice 0.822
    /// against 0.812, precision 0.838 against 0.819; true box 0.927 against 0.917; synthetic
    /// set 0.898 against 0.890).
    pub snap_edges: bool,
    /// Millimetres per pixel, when the host knows the scale (dermatoscope attachment,
    /// reference sticker); measurements then come in millimetres too.
    pub mm_per_px: Option<f32>,
    /// Optional age, sex and body site for the classifier.
    pub metadata: PatientMetadata,
    /// Most lesions an automatic scan reports (default [`DEFAULT_MAX_LESIONS`]; 1: the
    /// primary lesion only). Each further lesion costs two decoder runs and, with a
    /// classifier, one classifier run; the encoder runs the same number of times.
    pub max_lesions: u32,
}

/// Default of [`ScanOptions::max_lesions`].
pub const DEFAULT_MAX_LESIONS: u32 = 5;

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            bbox: None,
            crop: CropPolicy::default(),
            mask_mode: MaskMode::default(),
            hair_removal: HairRemoval::default(),
            refine: false,
            snap_edges: true,
            mm_per_px: None,
            metadata: PatientMetadata::default(),
            max_lesions: DEFAULT_MAX_LESIONS,
        }
    }
}

impl ScanOptions {
    /// Reports at most `n` lesions (1: the primary lesion only).
    pub fn with_max_lesions(mut self, n: u32) -> Self {
        self.max_lesions = n;
        self
    }

    /// Uses the caller's box instead of the lesion finder.
    pub fn with_box(mut self, bbox: BoxPrompt) -> Self {
        self.bbox = Some(bbox);
        self
    }

    /// Sets the mask mode.
    pub fn with_mask_mode(mut self, mode: MaskMode) -> Self {
        self.mask_mode = mode;
        self
    }

    /// Sets the scale in millimetres per pixel.
    pub fn with_scale(mut self, mm_per_px: f32) -> Self {
        self.mm_per_px = Some(mm_per_px);
        self
    }

    /// Sets the metadata for the classifier.
    pub fn with_metadata(mut self, metadata: PatientMetadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// Sets hair removal before the encoder.
    pub fn with_hair_removal(mut self, hair_removal: HairRemoval) -> Self {
        self.hair_removal = hair_removal;
        self
    }

    /// Turns the refinement pass on or off.
    pub fn with_refine(mut self, refine: bool) -> Self {
        self.refine = refine;
        self
    }

    /// Turns edge snapping on or off.
    pub fn with_snap_edges(mut self, snap_edges: bool) -> Self {
        self.snap_edges = snap_edges;
        self
    }

    /// Sets the crop policy.
    pub fn with_crop(mut self, crop: CropPolicy) -> Self {
        self.crop = crop;
        self
    }
}
