//! [`ScanAnalysis`]: the opaque, lossless part of a [`crate::ScanResult`] that the history
//! store keeps.

use dermscan_core as core;

/// What the core computed for one scan, kept as it is so that the history store can keep it
/// without loss: measurements and ABCD scores, the classifier's output, the risk, and the
/// identities of the models behind them. It is what `HistoryStore.add_scan` stores with the
/// scan's mask and photo; read the same values from the `ScanResult`'s own fields.
#[derive(Debug, uniffi::Object)]
#[cfg_attr(not(feature = "history"), allow(dead_code, reason = "read by the history store only"))]
pub struct ScanAnalysis {
    pub(crate) features: Option<core::Features>,
    pub(crate) classification: Option<core::Classification>,
    pub(crate) risk: core::RiskAssessment,
    pub(crate) models: Vec<core::ModelInfo>,
}

impl ScanAnalysis {
    /// The analysis of a core scan result (the models as `NewScan::from_result` lists them:
    /// the segmenter, then the classifier when one ran).
    pub(crate) fn from_result(r: &core::ScanResult) -> Self {
        let mut models = vec![r.model.clone()];
        models.extend(r.classification.as_ref().map(|c| c.model.clone()));
        Self { features: r.features.clone(), classification: r.classification.clone(), risk: r.risk.clone(), models }
    }
}
