//! One serialisable report per scan: the document the `scan` example writes as
//! `result.json` and the C ABI's `ds_scan_json` returns, so every consumer reads the same
//! keys.
//!
//! Boxes are `[x0, y0, x1, y1]` arrays in pixels of the upright photo (`x1`, `y1`
//! exclusive), contours `[[x, y], ...]`, times in milliseconds.
//!
//! ```no_run
//! use dermscan_core::pipeline::ScanReport;
//! use dermscan_core::{Engine, EngineConfig, Image, ImageLimits, ScanOptions};
//!
//! let engine = Engine::new(EngineConfig::new("models/litemedsam"))?;
//! let photo = Image::open("assets/samples/forearm-nevi.jpg", &ImageLimits::default())?;
//! let options = ScanOptions::default();
//! let result = engine.scan(&photo, &options)?;
//! let report = ScanReport::new(&result, &options);
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use super::{LesionCandidate, RoiSource, ScanOptions, ScanResult};
use crate::classify::{ClassProbability, Classification, PatientMetadata};
use crate::features::{Features, StolzColour, TdsBand};
use crate::model::ModelInfo;
use crate::quality::QualityReport;
use crate::risk::RiskAssessment;
use crate::roi::CropPolicy;
use crate::segment::MaskMode;
use crate::verify::Evidence;

/// The report of one scan. Build it with [`ScanReport::new`]; the fields that only the
/// caller knows (the photo's path, the time to decode it, the lesions' mask files) are
/// `None` until set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ScanReport {
    /// The photo.
    pub image: ImageReport,
    /// The prompt box of the primary lesion and who chose it.
    pub roi: RoiReport,
    /// The part of the photo the encoder saw.
    pub crop: CropReport,
    /// The primary lesion's mask.
    pub mask: MaskReport,
    /// The segmentation model.
    pub model: ModelInfo,
    /// The primary lesion's measurements and ABCD scores (none when no lesion was found).
    pub features: Option<FeaturesReport>,
    /// The primary lesion's class probabilities by label (none without a classifier).
    pub classification: Option<BTreeMap<String, f32>>,
    /// The classifier's full output for the primary lesion.
    pub classifier: Option<ClassifierReport>,
    /// The primary lesion's risk.
    pub risk: RiskAssessment,
    /// Every lesion found, the primary first.
    pub lesions: Vec<LesionReport>,
    /// Photo quality.
    pub quality: QualityReport,
    /// Time per stage.
    pub timings_ms: TimingsReport,
    /// The not-a-diagnosis statement.
    pub disclaimer: String,
}

/// The photo scanned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ImageReport {
    /// Where it was read from, when the caller says.
    pub path: Option<String>,
    /// Width of the upright photo.
    pub width: u32,
    /// Height of the upright photo.
    pub height: u32,
}

/// The prompt box and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RoiReport {
    /// `[x0, y0, x1, y1]`.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// The finder, the caller, or none (no lesion found).
    pub source: RoiSource,
    /// The finder's candidates, best first.
    pub candidates: Vec<LesionCandidate>,
}

/// The encoder's window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CropReport {
    /// `[x0, y0, x1, y1]` of the window in the photo.
    pub window: [u32; 4],
    /// The crop policy asked for.
    pub policy: CropPolicy,
    /// `[width, height]` of the resized window fed to the encoder.
    pub model_input: [u32; 2],
}

/// The primary lesion's mask.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MaskReport {
    /// How the decoder's tokens became the mask.
    pub mode: MaskMode,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Lesion pixels.
    pub area_px: u64,
    /// The decoder's predicted IoU.
    pub iou_score: f32,
    /// Tight box `[x0, y0, x1, y1]`; none for an empty mask.
    pub bbox: Option<[u32; 4]>,
    /// Outline of the largest region, `[[x, y], ...]`.
    pub contour: Vec<[u32; 2]>,
}

/// The ABCD scores in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AbcdReport {
    /// Asymmetry, 0 to 2.
    pub a: u8,
    /// Border, 0 to 8.
    pub b: u8,
    /// Colours, 1 to 6.
    pub c: u8,
    /// Differential structures (a proxy from the photo), 1 to 5.
    pub d_proxy: u8,
    /// Total dermoscopy score.
    pub tds: f64,
    /// Always true: D is estimated, so the TDS is a proxy.
    pub tds_is_proxy: bool,
    /// The TDS band.
    pub band: TdsBand,
    /// The colours counted for C.
    pub colours: Vec<StolzColour>,
}

/// A lesion's measurements and ABCD scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FeaturesReport {
    /// The ABCD scores.
    pub abcd: AbcdReport,
    /// Largest diameter in pixels.
    pub diameter_px: f64,
    /// Largest diameter in millimetres, with a scale.
    pub diameter_mm: Option<f64>,
    /// Area in pixels.
    pub area_px: f64,
    /// Area in square millimetres, with a scale.
    pub area_mm2: Option<f64>,
    /// Perimeter in pixels.
    pub perimeter_px: f64,
    /// Perimeter in millimetres, with a scale.
    pub perimeter_mm: Option<f64>,
    /// Major axis in pixels.
    pub major_axis_px: f64,
    /// Minor axis in pixels.
    pub minor_axis_px: f64,
    /// Major axis in millimetres, with a scale.
    pub major_axis_mm: Option<f64>,
    /// Minor axis in millimetres, with a scale.
    pub minor_axis_mm: Option<f64>,
    /// Orientation of the major axis in degrees.
    pub orientation_deg: f64,
    /// The scale used, millimetres per pixel.
    pub mm_per_px: Option<f32>,
    /// Everything the features stage computed.
    pub detail: Features,
}

/// The classifier's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ClassifierReport {
    /// The most probable class label.
    pub top: String,
    /// Sum of the malignant classes' probabilities.
    pub malignant_probability: f32,
    /// The crop it saw, `[x, y, width, height]`.
    pub crop: [u32; 4],
    /// Every class with its probability.
    pub probabilities: Vec<ClassProbability>,
    /// The classifier model.
    pub model: ModelInfo,
    /// The patient metadata it was given.
    pub metadata: PatientMetadata,
}

/// One lesion the scan found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LesionReport {
    /// Its prompt box, `[x0, y0, x1, y1]`.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// Mask area in pixels.
    pub area_px: u64,
    /// The file its mask was written to, when the caller wrote one.
    pub mask_file: Option<String>,
    /// What the segmentation model said about it (none for a box the caller gave).
    pub evidence: Option<Evidence>,
    /// Measurements and ABCD scores.
    pub features: Option<FeaturesReport>,
    /// Class probabilities by label.
    pub classification: Option<BTreeMap<String, f32>>,
    /// The most probable class label.
    pub top_class: Option<String>,
    /// Its risk.
    pub risk: RiskAssessment,
}

/// Milliseconds per stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TimingsReport {
    /// Decoding the photo file, when the caller timed it.
    pub decode_image: Option<f64>,
    /// Lesion finding and verification.
    pub roi: f64,
    /// Resizing and normalising.
    pub preprocess: f64,
    /// Image encoder.
    pub encoder: f64,
    /// Mask decoder.
    pub decoder: f64,
    /// Mask upscaling and cleaning.
    pub postprocess: f64,
    /// Measurements, ABCD, quality and risk.
    pub analysis: f64,
    /// Classifier.
    pub classifier: f64,
    /// The whole scan.
    pub scan_total: f64,
}

impl ScanReport {
    /// The report of `result`, scanned with `options`.
    pub fn new(result: &ScanResult, options: &ScanOptions) -> Self {
        let g = result.embedding.geometry();
        let t = &result.timings;
        let mask = &result.mask;
        Self {
            image: ImageReport { path: None, width: g.image_width, height: g.image_height },
            roi: RoiReport { bbox: result.roi.bbox.to_array(), source: result.roi.source, candidates: result.candidates.clone() },
            crop: CropReport {
                window: [g.window.x, g.window.y, g.window.x + g.window.width, g.window.y + g.window.height],
                policy: options.crop,
                model_input: [g.resized_width, g.resized_height],
            },
            mask: MaskReport {
                mode: options.mask_mode,
                width: mask.width(),
                height: mask.height(),
                area_px: mask.area_px(),
                iou_score: mask.iou_score(),
                bbox: mask.bbox().map(|r| r.corners()),
                contour: mask.contour(),
            },
            model: result.model.clone(),
            features: result.features.as_ref().map(|f| FeaturesReport::new(f, options)),
            classification: result.classification.as_ref().map(probabilities),
            classifier: result.classification.as_ref().map(|c| ClassifierReport {
                top: c.top.clone(),
                malignant_probability: c.malignant_probability,
                crop: c.crop.corners(),
                probabilities: c.probabilities.clone(),
                model: c.model.clone(),
                metadata: options.metadata,
            }),
            risk: result.risk.clone(),
            lesions: result
                .lesions
                .iter()
                .map(|l| LesionReport {
                    bbox: l.bbox.to_array(),
                    area_px: l.mask.area_px(),
                    mask_file: None,
                    evidence: l.evidence,
                    features: l.features.as_ref().map(|f| FeaturesReport::new(f, options)),
                    classification: l.classification.as_ref().map(probabilities),
                    top_class: l.classification.as_ref().map(|c| c.top.clone()),
                    risk: l.risk.clone(),
                })
                .collect(),
            quality: result.quality.clone(),
            timings_ms: TimingsReport {
                decode_image: None,
                roi: t.roi_ms,
                preprocess: t.preprocess_ms,
                encoder: t.encoder_ms,
                decoder: t.decoder_ms,
                postprocess: t.postprocess_ms,
                analysis: t.analysis_ms,
                classifier: t.classifier_ms,
                scan_total: t.total_ms,
            },
            disclaimer: crate::NOT_A_DIAGNOSIS.to_string(),
        }
    }
}

impl FeaturesReport {
    fn new(f: &Features, options: &ScanOptions) -> Self {
        let m = &f.measurements;
        Self {
            abcd: AbcdReport {
                a: f.abcd.a,
                b: f.abcd.b,
                c: f.abcd.c,
                d_proxy: f.abcd.d_proxy,
                tds: f.abcd.tds,
                tds_is_proxy: true,
                band: f.abcd.band,
                colours: f.abcd.colours.clone(),
            },
            diameter_px: m.diameter_px,
            diameter_mm: m.diameter_mm,
            area_px: m.area_px,
            area_mm2: m.area_mm2,
            perimeter_px: m.perimeter_px,
            perimeter_mm: m.perimeter_mm,
            major_axis_px: m.major_axis_px,
            minor_axis_px: m.minor_axis_px,
            major_axis_mm: m.major_axis_mm,
            minor_axis_mm: m.minor_axis_mm,
            orientation_deg: m.orientation_deg,
            mm_per_px: options.mm_per_px,
            detail: f.clone(),
        }
    }
}

/// The classifier's probabilities as a label-to-probability map.
fn probabilities(c: &Classification) -> BTreeMap<String, f32> {
    c.probabilities.iter().map(|p| (p.label.clone(), p.probability)).collect()
}
