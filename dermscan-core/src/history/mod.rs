//! Lesion history: a private, on-device record of each lesion's scans, the change between
//! them (the "E" of ABCDE), timeline pictures and a report for a doctor.
//!
//! Parts: [`store`] (SQLite database and the files beside it), `files` (content-named files
//! written atomically), `seal` (optional encryption at rest), `schema` (versions and
//! migrations), `align` (move one mask onto another), [`change`] (measure the change between
//! two scans), `reassess` (a new scan's risk with that change), [`timeline`] (PNG charts) and
//! `report` (one self-contained HTML file, [`HistoryStore::report_html`],
//! [`HistoryStore::write_report`]).

mod align;
pub mod change;
mod db;
mod files;
mod reassess;
mod report;
mod schema;
mod seal;
pub mod store;
pub mod timeline;

use serde::{Deserialize, Serialize};

use crate::classify::{BodySite, Classification};
use crate::features::Features;
use crate::model::ModelInfo;
use crate::risk::RiskAssessment;

pub use change::{Alignment, Change, ChangeCode, ChangeReason, ChangeThresholds, SizeUnit, align, compare};
pub use seal::StoreKey;
pub use store::{AddedScan, HistoryStore, NewScan, StoreCheck, StoreConfig};

/// One lesion the user follows over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Lesion {
    /// Store-assigned id.
    pub id: i64,
    /// The user's name for it ("left shoulder"), unique in the store.
    pub label: String,
    /// Where on the body it is, if the user said.
    pub body_site: Option<BodySite>,
    /// When it was added, in seconds since the Unix epoch (UTC).
    pub created_at: i64,
}

/// One stored scan of a lesion: the measurements and the names of its photo and mask files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRecord {
    /// Store-assigned id.
    pub id: i64,
    /// The lesion it belongs to.
    pub lesion_id: i64,
    /// When the photo was taken, in seconds since the Unix epoch (UTC).
    pub taken_at: i64,
    /// Photo width in pixels.
    pub width: u32,
    /// Photo height in pixels.
    pub height: u32,
    /// Scale in millimetres per pixel, when the host knew it.
    pub mm_per_px: Option<f32>,
    /// Lesion pixels in the mask.
    pub area_px: u64,
    /// Measurements and ABCD scores, when they were computed.
    pub features: Option<Features>,
    /// Classifier output, when a classifier ran.
    pub classification: Option<Classification>,
    /// The risk assessment at the time of the scan.
    pub risk: Option<RiskAssessment>,
    /// The models that produced the scan (names, versions, sha256s).
    pub models: Vec<ModelInfo>,
    /// Name of the photo file inside the store directory.
    pub photo_file: String,
    /// Name of the mask file inside the store directory.
    pub mask_file: String,
}

impl ScanRecord {
    /// Lesion area in mm² when the scale is known.
    pub fn area_mm2(&self) -> Option<f64> {
        self.mm_per_px.map(|s| self.area_px as f64 * f64::from(s) * f64::from(s))
    }

    /// Equivalent-circle diameter in pixels.
    pub fn diameter_px(&self) -> f64 {
        (4.0 * self.area_px as f64 / std::f64::consts::PI).sqrt()
    }

    /// Equivalent-circle diameter in mm when the scale is known.
    pub fn diameter_mm(&self) -> Option<f64> {
        self.mm_per_px.map(|s| self.diameter_px() * f64::from(s))
    }
}
