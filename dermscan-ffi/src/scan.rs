//! The outcome of one scan, and each lesion it found.

use std::sync::Arc;

use dermscan_core as core;

use dermscan_core::{BoxPrompt, Classification, LesionCandidate, ModelInfo, QualityReport, RiskAssessment, RoiSource, StageTimings};

use crate::analysis::LesionFeatures;
use crate::embedding::Embedding;
use crate::mask::Mask;
use crate::scan_analysis::ScanAnalysis;

/// The outcome of one scan.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ScanResult {
    /// The box the decoder was prompted with.
    pub roi: BoxPrompt,
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
            roi: r.roi.bbox,
            roi_source: r.roi.source,
            candidates: r.candidates.clone(),
            lesions: r.lesions.iter().map(FoundLesion::from).collect(),
            mask: Arc::new(Mask::from_core(r.mask)),
            embedding: Arc::new(Embedding::from_core(r.embedding)),
            model: r.model.clone(),
            features: r.features.as_ref().map(Into::into),
            classification: r.classification.clone(),
            risk: r.risk.clone(),
            quality: r.quality.clone(),
            timings: r.timings,
            analysis,
        }
    }
}

/// One lesion a scan found, with its own measurements, classification and risk.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FoundLesion {
    /// The prompt box its mask was decoded with.
    pub bbox: BoxPrompt,
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
            bbox: l.bbox,
            mask: Arc::new(Mask::from_core(l.mask.clone())),
            area_px: l.mask.area_px(),
            features: l.features.as_ref().map(Into::into),
            classification: l.classification.clone(),
            risk: l.risk.clone(),
        }
    }
}
