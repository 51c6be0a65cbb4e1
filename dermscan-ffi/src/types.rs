//! The records that adapt the core for foreign callers: options whose every field is optional
//! (the core's builders do not cross the FFI) and a contour point. Every other record and
//! enum is the core's own type, exported by `dermscan-core`'s `uniffi` feature.
//!
//! Records are owned values (Kotlin data classes, Swift structs, Python dataclasses). Fields
//! that have a sensible default carry it, so callers name only what they change.

use dermscan_core as core;
use dermscan_core::{BoxPrompt, CropPolicy, ExecutionProvider, MaskMode, Sex};

/// A pixel position (column, row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Point {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
}

/// Options for one scan. Every field is optional: `ScanOptions()` scans with the lesion
/// finder, the automatic crop and the whole-lesion mask.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct ScanOptions {
    /// The lesion's box; none lets the lesion finder choose.
    #[uniffi(default = None)]
    pub bbox: Option<BoxPrompt>,
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
            bbox: o.bbox,
            crop: o.crop.unwrap_or_default(),
            mask_mode: o.mask_mode.unwrap_or_default(),
            hair_removal: if o.remove_hair == Some(false) {
                core::preprocess::HairRemoval::disabled()
            } else {
                core::preprocess::HairRemoval::default()
            },
            mm_per_px: o.mm_per_px,
            metadata: core::classify::PatientMetadata { age_years: o.age_years, sex: o.sex, site },
            snap_edges: o.snap_edges.unwrap_or(true),
            max_lesions: o.max_lesions.unwrap_or(core::DEFAULT_MAX_LESIONS),
            ..core::ScanOptions::default()
        })
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
            .with_execution_providers(self.execution_providers.clone());
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
