//! A new scan's risk re-assessed with the change since the lesion's previous scan: the
//! evolution ("E") signal joins the scan's own ABCD scores and classifier output.

use super::ScanRecord;
use super::change::Change;
use crate::risk::{self, RiskAssessment, RiskInputs, RiskThresholds};

/// The risk of `record` with `change` (since the lesion's previous scan) taken into account,
/// from its features and classification under `thresholds`. `None` when the scan carries no
/// analysis at all (no features, classification or risk), so there is nothing to re-assess.
pub(super) fn reassess(record: &ScanRecord, change: &Change, thresholds: &RiskThresholds) -> Option<RiskAssessment> {
    if record.features.is_none() && record.classification.is_none() && record.risk.is_none() {
        return None;
    }
    let inputs =
        RiskInputs::from_analysis(record.features.as_ref(), record.classification.as_ref()).with_evolution(change.evolution_signal());
    Some(risk::assess(&inputs, thresholds))
}
