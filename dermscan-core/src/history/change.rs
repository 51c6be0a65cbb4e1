//! Change between two scans of one lesion (placeholder: being written).

use serde::{Deserialize, Serialize};

use crate::error::HistoryError;
use crate::risk::EvolutionSignal;
use crate::segment::Mask;

use super::ScanRecord;

/// Thresholds above which a change is significant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChangeThresholds {
    /// Area ratio (after / before) at or above which growth is significant.
    pub area_growth: f64,
}

impl Default for ChangeThresholds {
    fn default() -> Self {
        Self { area_growth: 1.2 }
    }
}

/// How the later mask was moved onto the earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// Translation in pixels of the earlier photo.
    pub translation_px: [f64; 2],
    /// Rotation in degrees.
    pub rotation_deg: f64,
    /// Scale applied to the later mask.
    pub scale: f64,
    /// Whether sizes were normalised to millimetres (both scans had a scale).
    pub scale_normalised: bool,
}

/// One reason a change is (or is not) significant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeReason {
    /// Stable identifier.
    pub code: String,
    /// The measured value.
    pub value: f64,
    /// The threshold.
    pub threshold: f64,
    /// One sentence.
    pub text: String,
}

/// The change between two scans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Earlier scan id.
    pub before_id: i64,
    /// Later scan id.
    pub after_id: i64,
    /// Area after / area before.
    pub area_ratio: f64,
    /// Overlap after alignment.
    pub iou_aligned: f64,
    /// Whether the change is significant.
    pub significant: bool,
    /// Why.
    pub reasons: Vec<ChangeReason>,
    /// The alignment.
    pub alignment: Alignment,
}

impl Change {
    /// The signal the risk assessment takes.
    pub fn evolution_signal(&self) -> EvolutionSignal {
        EvolutionSignal { significant: self.significant, area_ratio: self.area_ratio, summary: String::new() }
    }
}

/// Compares two scans of one lesion.
pub fn compare(before: &ScanRecord, before_mask: &Mask, after: &ScanRecord, after_mask: &Mask, thresholds: &ChangeThresholds) -> Result<Change, HistoryError> {
    let _ = (before_mask, after_mask, thresholds);
    Err(HistoryError::InvalidArgument(format!("comparison of {} and {} not written yet", before.id, after.id)))
}
