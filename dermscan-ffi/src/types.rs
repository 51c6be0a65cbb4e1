//! Plain records and enums of the foreign API, and their conversions to and from the core.
//!
//! Records are owned values (Kotlin data classes, Swift structs, Python dataclasses). Fields
//! that have a sensible default carry it, so callers name only what they change.

use dermscan_core as core;
use serde::Serialize;

/// A box in original-image pixels: left, top, right, bottom (`x1`, `y1` exclusive).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct BoundingBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl From<core::BoxPrompt> for BoundingBox {
    fn from(b: core::BoxPrompt) -> Self {
        let [x0, y0, x1, y1] = b.to_array();
        Self { x0, y0, x1, y1 }
    }
}

impl From<BoundingBox> for core::BoxPrompt {
    fn from(b: BoundingBox) -> Self {
        core::BoxPrompt::new(b.x0, b.y0, b.x1, b.y1)
    }
}

/// A rectangle of whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct PixelRegion {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl From<core::PixelRect> for PixelRegion {
    fn from(r: core::PixelRect) -> Self {
        Self { x: r.x, y: r.y, width: r.width, height: r.height }
    }
}

impl From<PixelRegion> for core::PixelRect {
    fn from(r: PixelRegion) -> Self {
        core::PixelRect { x: r.x, y: r.y, width: r.width, height: r.height }
    }
}

/// A pixel position (column, row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Point {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
}

/// Whether a clicked point marks the lesion or the skin around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
pub enum PointLabel {
    /// On the lesion.
    Positive,
    /// Off the lesion.
    Negative,
}

/// A clicked point in original-image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, uniffi::Record)]
pub struct PointPrompt {
    /// Column.
    pub x: f32,
    /// Row.
    pub y: f32,
    /// On or off the lesion.
    pub label: PointLabel,
}

/// Whether the encoder sees a window around the lesion or the whole photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
pub enum CropPolicy {
    /// A context window around the lesion when it is small in the photo (the default).
    Auto,
    /// Always the whole photo.
    WholeImage,
}

/// How the decoder's mask tokens become the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
pub enum MaskMode {
    /// The whole lesion, holes filled (the default).
    Lesion,
    /// The model family's upstream rule, bit-faithful to its reference inference.
    Upstream,
}

impl From<MaskMode> for core::MaskMode {
    fn from(m: MaskMode) -> Self {
        match m {
            MaskMode::Lesion => core::MaskMode::Lesion,
            MaskMode::Upstream => core::MaskMode::Upstream,
        }
    }
}

/// Options for one scan. Every field is optional: `ScanOptions()` scans with the lesion
/// finder, the automatic crop and the whole-lesion mask.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct ScanOptions {
    /// The lesion's box; none lets the lesion finder choose.
    #[uniffi(default = None)]
    pub bbox: Option<BoundingBox>,
    /// Crop policy; none means [`CropPolicy::Auto`].
    #[uniffi(default = None)]
    pub crop: Option<CropPolicy>,
    /// Mask mode; none means [`MaskMode::Lesion`].
    #[uniffi(default = None)]
    pub mask_mode: Option<MaskMode>,
    /// Whether to remove hair before the model; none means yes.
    #[uniffi(default = None)]
    pub remove_hair: Option<bool>,
    /// Millimetres per pixel, when known (measurements then come in mm too).
    #[uniffi(default = None)]
    pub mm_per_px: Option<f32>,
    /// Age in years for the classifier (0 to 120).
    #[uniffi(default = None)]
    pub age_years: Option<f32>,
    /// Sex for the classifier.
    #[uniffi(default = None)]
    pub sex: Option<Sex>,
    /// Body site for the classifier: `arm`, `head-or-neck`, `leg-or-genital`, `trunk`,
    /// `unknown`, or a HAM10000 localisation such as `back` or `face`.
    #[uniffi(default = None)]
    pub body_site: Option<String>,
    /// Snap the outline to the colour edge between lesion and skin; none means yes (the
    /// default, measured better on real photos and needed when the history store compares
    /// sizes over time).
    #[uniffi(default = None)]
    pub snap_edges: Option<bool>,
    /// Most lesions an automatic scan reports (1: the primary lesion only); none means 5.
    #[uniffi(default = None)]
    pub max_lesions: Option<u32>,
}

impl ScanOptions {
    /// The core options; an unknown body site is an error.
    pub(crate) fn to_core(&self) -> Result<core::ScanOptions, crate::DermscanError> {
        let o = self;
        let site = match &o.body_site {
            Some(name) => Some(name.parse::<core::classify::BodySite>().map_err(|e| crate::DermscanError::from(core::Error::from(e)))?),
            None => None,
        };
        Ok(core::ScanOptions {
            bbox: o.bbox.map(Into::into),
            crop: match o.crop {
                Some(CropPolicy::WholeImage) => core::CropPolicy::None,
                Some(CropPolicy::Auto) | None => core::CropPolicy::Auto,
            },
            mask_mode: o.mask_mode.map(Into::into).unwrap_or_default(),
            hair_removal: if o.remove_hair == Some(false) {
                core::preprocess::HairRemoval::disabled()
            } else {
                core::preprocess::HairRemoval::default()
            },
            mm_per_px: o.mm_per_px,
            metadata: core::classify::PatientMetadata { age_years: o.age_years, sex: o.sex.map(Into::into), site },
            snap_edges: o.snap_edges.unwrap_or(true),
            max_lesions: o.max_lesions.unwrap_or(core::DEFAULT_MAX_LESIONS),
            ..core::ScanOptions::default()
        })
    }
}

/// A hardware back end for ONNX Runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
pub enum ExecutionProvider {
    /// ONNX Runtime's CPU kernels (always available, always the last fallback).
    Cpu,
    /// Apple Core ML (iOS, macOS).
    CoreMl,
    /// Android NNAPI.
    Nnapi,
    /// XNNPACK (Arm CPUs on Android and iOS).
    Xnnpack,
}

impl From<ExecutionProvider> for core::ExecutionProvider {
    fn from(p: ExecutionProvider) -> Self {
        match p {
            ExecutionProvider::Cpu => core::ExecutionProvider::Cpu,
            ExecutionProvider::CoreMl => core::ExecutionProvider::CoreMl,
            ExecutionProvider::Nnapi => core::ExecutionProvider::Nnapi,
            ExecutionProvider::Xnnpack => core::ExecutionProvider::Xnnpack,
        }
    }
}

/// How to build an engine.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EngineConfig {
    /// Folder of the segmenter bundle (`manifest.json` and its ONNX files).
    pub model_dir: String,
    /// ONNX Runtime library file. None: `DERMSCAN_ORT_LIB`, then `.runtime/onnxruntime/`.
    /// On Android pass `"libonnxruntime.so"` (the AAR's copy), on iOS the framework path.
    #[uniffi(default = None)]
    pub runtime_library: Option<String>,
    /// ONNX Runtime intra-op threads; 0: one per core.
    #[uniffi(default = 0)]
    pub threads: u32,
    /// Providers to try before the CPU, in order.
    #[uniffi(default = [])]
    pub execution_providers: Vec<ExecutionProvider>,
    /// Largest photo accepted, in pixels; none: 50 megapixels.
    #[uniffi(default = None)]
    pub max_pixels: Option<u64>,
    /// Folder of the classifier bundle (e.g. `models/ham10000-xception`); none: scans are
    /// measured and explained but not classified.
    #[uniffi(default = None)]
    pub classifier_dir: Option<String>,
}

impl EngineConfig {
    pub(crate) fn to_core(&self) -> core::EngineConfig {
        let mut config = core::EngineConfig::new(&self.model_dir)
            .with_threads(self.threads as usize)
            .with_execution_providers(self.execution_providers.iter().map(|&p| p.into()).collect::<Vec<_>>());
        if let Some(lib) = &self.runtime_library {
            config = config.with_runtime_library(lib);
        }
        if let Some(max) = self.max_pixels {
            config.image_limits.max_pixels = max;
        }
        if let Some(dir) = &self.classifier_dir {
            config = config.with_classifier(dir);
        }
        config
    }
}

/// Who chose the region of interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
pub enum RoiSource {
    /// The lesion finder.
    Auto,
    /// The caller's box.
    User,
    /// No lesion was found: the mask is empty, nothing was measured or classified.
    None,
}

impl From<core::RoiSource> for RoiSource {
    fn from(s: core::RoiSource) -> Self {
        match s {
            core::RoiSource::Auto => Self::Auto,
            core::RoiSource::User => Self::User,
            core::RoiSource::None => Self::None,
        }
    }
}

/// A place in the photo that looks like a lesion, ranked by score.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LesionCandidate {
    /// Its box in photo pixels.
    pub bbox: BoundingBox,
    /// Ranking score (higher is more lesion-like).
    pub score: f32,
    /// Darkness against the surrounding skin.
    pub contrast: f32,
    /// Area in photo pixels.
    pub area_px: f32,
    /// Whether it touches the photo's edge.
    pub touches_border: bool,
}

impl From<&core::LesionCandidate> for LesionCandidate {
    fn from(c: &core::LesionCandidate) -> Self {
        Self { bbox: c.bbox.into(), score: c.score, contrast: c.contrast, area_px: c.area_px, touches_border: c.touches_border }
    }
}

/// Which model produced a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct ModelInfo {
    /// Bundle name.
    pub name: String,
    /// Model family (litemedsam, mobilesam, ...).
    pub family: String,
    /// Bundle version.
    pub version: String,
    /// Weight variant (fp32, int8-dynamic, ...).
    pub variant: String,
    /// SHA-256 of the bundle manifest.
    pub sha256: String,
}

impl From<&core::ModelInfo> for ModelInfo {
    fn from(m: &core::ModelInfo) -> Self {
        Self {
            name: m.name.clone(),
            family: m.family.clone(),
            version: m.version.clone(),
            variant: m.variant.clone(),
            sha256: m.sha256.clone(),
        }
    }
}

/// Milliseconds spent in each stage of a scan.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct StageTimings {
    /// Lesion finder (0 when the caller gave a box).
    pub roi_ms: f64,
    /// Resize and normalise.
    pub preprocess_ms: f64,
    /// Image encoder.
    pub encoder_ms: f64,
    /// Mask decoder.
    pub decoder_ms: f64,
    /// Mask upscaling and cleaning.
    pub postprocess_ms: f64,
    /// Measurements, quality gate and risk.
    pub analysis_ms: f64,
    /// Classifier (crop and model run).
    pub classifier_ms: f64,
    /// The whole scan.
    pub total_ms: f64,
}

impl From<core::StageTimings> for StageTimings {
    fn from(t: core::StageTimings) -> Self {
        Self {
            roi_ms: t.roi,
            preprocess_ms: t.preprocess,
            encoder_ms: t.encoder,
            decoder_ms: t.decoder,
            postprocess_ms: t.postprocess,
            analysis_ms: t.analysis,
            classifier_ms: t.classifier,
            total_ms: t.total,
        }
    }
}

/// How many times the engine's models have run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct ModelRuns {
    /// Image encoder runs.
    pub encoder_runs: u64,
    /// Mask decoder runs.
    pub decoder_runs: u64,
}

/// Sex, for the classifier's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Not known.
    Unknown,
}

impl From<Sex> for core::classify::Sex {
    fn from(s: Sex) -> Self {
        match s {
            Sex::Female => Self::Female,
            Sex::Male => Self::Male,
            Sex::Unknown => Self::Unknown,
        }
    }
}
