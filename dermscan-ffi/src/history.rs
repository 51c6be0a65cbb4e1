//! The lesion history: a private, on-device record of each lesion's scans, the change
//! between them (the "E" of ABCDE), timeline pictures and a report for a doctor.
//!
//! Adapters only, over [`dermscan_core::history`]: the store object, its records, and
//! [`crate::scan_analysis::ScanAnalysis`], the opaque part of a [`crate::ScanResult`] the store keeps.

use std::sync::Arc;

use dermscan_core as core;
use dermscan_core::history as h;
use dermscan_core::history::{ChangeReason, Lesion, SizeUnit, StoreCheck};
use serde::Serialize;

use dermscan_core::{Classification, ModelInfo, RiskAssessment, StolzColour};

use crate::analysis::{LesionFeatures, PointF};
use crate::error::{DermscanError, guard};
use crate::mask::Mask;
use crate::progress::{ProgressListener, run_async};
use crate::scan::ScanResult;

/// What the store keeps of a scan: the photo as given, the mask, and the core's analysis.
pub(crate) fn new_scan(photo: Vec<u8>, scan: &ScanResult, taken_at: i64, mm_per_px: Option<f32>) -> h::NewScan {
    let analysis = &scan.analysis;
    h::NewScan {
        taken_at,
        photo,
        mask: scan.mask.inner().clone(),
        mm_per_px,
        features: analysis.features.clone(),
        classification: analysis.classification.clone(),
        risk: Some(analysis.risk.clone()),
        models: analysis.models.clone(),
    }
}

/// One stored scan of a lesion: when, at what size and scale, and what the analysis found.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct StoredScan {
    /// Store-assigned id.
    pub id: i64,
    /// The lesion it belongs to.
    pub lesion_id: i64,
    /// When the photo was taken, in seconds since the Unix epoch (UTC).
    pub taken_at: i64,
    /// Photo width in pixels (upright).
    pub width: u32,
    /// Photo height in pixels (upright).
    pub height: u32,
    /// Scale in millimetres per pixel, when the app knew it.
    pub mm_per_px: Option<f32>,
    /// Lesion pixels in the mask.
    pub area_px: u64,
    /// Lesion area in mm², when the scale is known.
    pub area_mm2: Option<f64>,
    /// Diameter of the disc with the lesion's area, in pixels.
    pub diameter_px: f64,
    /// The same in millimetres, when the scale is known.
    pub diameter_mm: Option<f64>,
    /// Measurements and ABCD scores at the time of the scan.
    pub features: Option<LesionFeatures>,
    /// The classifier's output, when a classifier ran.
    pub classification: Option<Classification>,
    /// The risk; for every scan after the first it takes the change since the scan before
    /// into account (reason `evolution`).
    pub risk: Option<RiskAssessment>,
    /// The models behind the scan (segmenter, then classifier).
    pub models: Vec<ModelInfo>,
}

impl From<&h::ScanRecord> for StoredScan {
    fn from(r: &h::ScanRecord) -> Self {
        Self {
            id: r.id,
            lesion_id: r.lesion_id,
            taken_at: r.taken_at,
            width: r.width,
            height: r.height,
            mm_per_px: r.mm_per_px,
            area_px: r.area_px,
            area_mm2: r.area_mm2(),
            diameter_px: r.diameter_px(),
            diameter_mm: r.diameter_mm(),
            features: r.features.as_ref().map(Into::into),
            classification: r.classification.clone(),
            risk: r.risk.clone(),
            models: r.models.clone(),
        }
    }
}

/// How the later mask was moved onto the earlier one before they were compared: a point `p`
/// of the later mask lands at `scale * R(rotation) * p + translation`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, uniffi::Record)]
pub struct Alignment {
    /// Translation in pixels of the earlier photo.
    pub translation_px: PointF,
    /// Rotation in degrees, positive clockwise on screen.
    pub rotation_deg: f64,
    /// Scale applied to the later mask (the ratio of the scans' scales, or 1).
    pub scale: f64,
    /// Whether sizes were normalised to millimetres (both scans had a scale).
    pub scale_normalised: bool,
}

/// The change between two scans of one lesion.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct Change {
    /// Earlier scan id.
    pub before_id: i64,
    /// Later scan id.
    pub after_id: i64,
    /// Days from the earlier photo to the later one.
    pub days_between: f64,
    /// Area of the earlier lesion, in `area_unit`.
    pub area_before: f64,
    /// Area of the later lesion, in `area_unit`.
    pub area_after: f64,
    /// Millimetres (mm²) when both scans have a scale, else pixels.
    pub area_unit: SizeUnit,
    /// Area after / area before (in mm² when both scans have a scale, else in pixels).
    pub area_ratio: f64,
    /// Equivalent-circle diameter of the earlier lesion, in `diameter_unit`.
    pub diameter_before: f64,
    /// Equivalent-circle diameter of the later lesion, in `diameter_unit`.
    pub diameter_after: f64,
    /// `diameter_after - diameter_before`.
    pub diameter_change: f64,
    /// Millimetres when both scans have a scale, else pixels.
    pub diameter_unit: SizeUnit,
    /// Overlap (IoU, 0 to 1) of the two masks after alignment, at the compared scale (growth
    /// lowers it too).
    pub iou_aligned: f64,
    /// Overlap after alignment with the later mask resized to the earlier one's area: the
    /// change of shape alone, whatever the growth.
    pub iou_shape: f64,
    /// Asymmetry score A after minus before; none when a scan has no features.
    pub asymmetry_change: Option<i32>,
    /// Border score B after minus before; none when a scan has no features.
    pub border_change: Option<i32>,
    /// Colour score C after minus before; none when a scan has no features.
    pub colour_change: Option<i32>,
    /// Stolz colours in the later scan only.
    pub colours_added: Vec<StolzColour>,
    /// Stolz colours in the earlier scan only.
    pub colours_removed: Vec<StolzColour>,
    /// Area growth as a fraction per month; none when the scans are less than a day apart.
    pub growth_per_month: Option<f64>,
    /// How the later mask was moved onto the earlier one.
    pub alignment: Alignment,
    /// What the comparison could not do (no scale, no features, ...).
    pub notes: Vec<String>,
    /// Whether any threshold was passed.
    pub significant: bool,
    /// Every threshold that was passed.
    pub reasons: Vec<ChangeReason>,
    /// What changed, in a few words ("area up 35% in 62 days; shape overlap 0.84").
    pub summary: String,
}

impl From<&h::Change> for Change {
    fn from(c: &h::Change) -> Self {
        let a = &c.alignment;
        Self {
            before_id: c.before_id,
            after_id: c.after_id,
            days_between: c.days_between,
            area_before: c.area_before,
            area_after: c.area_after,
            area_unit: c.area_unit,
            area_ratio: c.area_ratio,
            diameter_before: c.diameter_before,
            diameter_after: c.diameter_after,
            diameter_change: c.diameter_change,
            diameter_unit: c.diameter_unit,
            iou_aligned: c.iou_aligned,
            iou_shape: c.iou_shape,
            asymmetry_change: c.asymmetry_change,
            border_change: c.border_change,
            colour_change: c.colour_change,
            colours_added: c.colours_added.clone(),
            colours_removed: c.colours_removed.clone(),
            growth_per_month: c.growth_per_month,
            alignment: Alignment {
                translation_px: PointF { x: a.translation_px[0], y: a.translation_px[1] },
                rotation_deg: a.rotation_deg,
                scale: a.scale,
                scale_normalised: a.scale_normalised,
            },
            notes: c.notes.clone(),
            significant: c.significant,
            reasons: c.reasons.clone(),
            summary: c.summary(),
        }
    }
}

/// A stored scan and the change since the lesion's scan before it.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct AddedScan {
    /// The stored scan; its risk takes the change into account.
    pub scan: StoredScan,
    /// Change since the previous scan (by time taken); none for the lesion's first scan.
    pub change: Option<Change>,
}

impl From<&h::AddedScan> for AddedScan {
    fn from(added: &h::AddedScan) -> Self {
        Self { scan: (&added.record).into(), change: added.change.as_ref().map(Into::into) }
    }
}

/// A store key from the app's bytes (32, from the iOS Keychain or Android Keystore); the
/// app's copy is wiped once read.
fn store_key(key: Option<Vec<u8>>) -> Result<Option<h::StoreKey>, DermscanError> {
    let Some(mut bytes) = key else { return Ok(None) };
    let key = h::StoreKey::from_slice(&bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    Ok(Some(key?))
}

/// A lesion history store: one directory the app gives (inside its private storage), with an
/// SQLite database and the photos and masks beside it, optionally encrypted with a 256-bit
/// key the app keeps in the iOS Keychain or Android Keystore.
///
/// A committed scan survives a crash or power cut; a failed call leaves the store as it was.
/// One process at a time (`StoreLocked` otherwise); within the process one store may be used
/// from several threads (calls take turns). Close it (`close()` in Kotlin, `del` in Python)
/// to let another process open the directory.
#[derive(Debug, uniffi::Object)]
pub struct HistoryStore {
    pub(crate) inner: h::HistoryStore,
}

impl HistoryStore {
    fn record(&self, scan_id: i64) -> Result<h::ScanRecord, DermscanError> {
        Ok(self.inner.scan(scan_id)?)
    }
}

#[uniffi::export]
impl HistoryStore {
    /// Opens the store in `dir`, creating the directory and an empty store if needed.
    ///
    /// - `key`: 32 bytes to encrypt at rest (XChaCha20-Poly1305); none stores values as they
    ///   are. Another length is `InvalidArgument`. A new (or still empty) store opened with a
    ///   key is encrypted and needs that key from then on (`KeyRequired`, `WrongKey`); a key
    ///   for a store holding unencrypted data is `NotEncrypted` (open it without a key and
    ///   call `rotate_key`).
    /// - `max_bytes`: most bytes the store may take on disk; adding beyond it is
    ///   `StorageFull`. None: only the disk limits it.
    ///
    /// Other errors: `StoreLocked` (another process has it open), `StoreCorrupt`,
    /// `StoreReadOnly`, `NewerSchema`, `Storage`.
    #[uniffi::constructor]
    pub fn open(dir: String, key: Option<Vec<u8>>, max_bytes: Option<u64>) -> Result<Arc<Self>, DermscanError> {
        guard(|| {
            let config = h::StoreConfig { key: store_key(key)?, max_bytes, ..h::StoreConfig::default() };
            Ok(Arc::new(Self { inner: h::HistoryStore::open(dir, config)? }))
        })
    }

    /// Whether the store is encrypted.
    pub fn is_encrypted(&self) -> Result<bool, DermscanError> {
        guard(|| Ok(self.inner.is_encrypted()?))
    }

    /// Bytes the store takes on disk (database and files).
    pub fn disk_usage(&self) -> Result<u64, DermscanError> {
        guard(|| Ok(self.inner.disk_usage()?))
    }

    /// Adds a lesion. Labels are unique (`DuplicateLabel`) and not empty. `body_site`:
    /// `arm`, `head-or-neck`, `leg-or-genital`, `trunk`, `unknown` or a HAM10000 localisation
    /// such as `back` or `face`; another word is `InvalidArgument`.
    pub fn add_lesion(&self, label: String, body_site: Option<String>) -> Result<Lesion, DermscanError> {
        guard(|| {
            let site = match body_site {
                Some(name) => Some(name.parse::<core::BodySite>().map_err(|e| DermscanError::from(core::Error::from(e)))?),
                None => None,
            };
            Ok(self.inner.add_lesion(&label, site)?)
        })
    }

    /// Every lesion, oldest first.
    pub fn lesions(&self) -> Result<Vec<Lesion>, DermscanError> {
        guard(|| Ok(self.inner.lesions()?))
    }

    /// The lesion with this id (`LesionNotFound` when there is none).
    pub fn lesion(&self, lesion_id: i64) -> Result<Lesion, DermscanError> {
        guard(|| Ok(self.inner.lesion(lesion_id)?))
    }

    /// The lesion with this label (`LesionNotFound` when there is none).
    pub fn lesion_by_label(&self, label: String) -> Result<Lesion, DermscanError> {
        guard(|| Ok(self.inner.lesion_by_label(&label)?))
    }

    /// Stores a scan of a lesion: `photo` is the JPEG or PNG file the scan was run on (kept
    /// as given, for the report and a later look), `scan` the engine's result for it (its
    /// `mask` and `analysis` are stored), `taken_at` when the photo was taken in seconds since
    /// the Unix epoch, `mm_per_px` its scale when known (normally the one given in
    /// `ScanOptions.mm_per_px`; with a scale on both scans, sizes are compared in mm).
    ///
    /// When the lesion has an earlier scan, the change since it is measured and the stored
    /// scan's risk re-assessed with it (reason `evolution`). Errors: `LesionNotFound`,
    /// `InvalidArgument` (a photo that is not JPEG/PNG or not the mask's size, an empty mask,
    /// a bad scale), `StorageFull`, `StoreReadOnly`, `Storage`; nothing is stored then.
    pub fn add_scan(
        &self,
        lesion_id: i64,
        photo: Vec<u8>,
        scan: ScanResult,
        taken_at: i64,
        mm_per_px: Option<f32>,
    ) -> Result<AddedScan, DermscanError> {
        guard(|| {
            let added = self.inner.add_scan(lesion_id, new_scan(photo, &scan, taken_at, mm_per_px))?;
            Ok(AddedScan::from(&added))
        })
    }

    /// A lesion's scans, oldest first (by time taken).
    pub fn scans(&self, lesion_id: i64) -> Result<Vec<StoredScan>, DermscanError> {
        guard(|| Ok(self.inner.scans(lesion_id)?.iter().map(Into::into).collect()))
    }

    /// One scan (`ScanNotFound` when there is none).
    pub fn scan(&self, scan_id: i64) -> Result<StoredScan, DermscanError> {
        guard(|| Ok((&self.record(scan_id)?).into()))
    }

    /// The scan's photo as it was stored (the JPEG or PNG file), checked against damage.
    pub fn photo(&self, scan_id: i64) -> Result<Vec<u8>, DermscanError> {
        guard(|| Ok(self.inner.photo(&self.record(scan_id)?)?))
    }

    /// The scan's lesion mask.
    pub fn mask(&self, scan_id: i64) -> Result<Arc<Mask>, DermscanError> {
        guard(|| Ok(Arc::new(Mask::from_core(self.inner.mask(&self.record(scan_id)?)?))))
    }

    /// Deletes a scan, its photo and its mask.
    pub fn delete_scan(&self, scan_id: i64) -> Result<(), DermscanError> {
        guard(|| Ok(self.inner.delete_scan(scan_id)?))
    }

    /// Deletes a lesion with all its scans, photos and masks.
    pub fn delete_lesion(&self, lesion_id: i64) -> Result<(), DermscanError> {
        guard(|| Ok(self.inner.delete_lesion(lesion_id)?))
    }

    /// The change between two scans of one lesion (`before` stays, `after` is aligned onto
    /// it). Scans of different lesions are `InvalidArgument`.
    pub fn compare(&self, before_id: i64, after_id: i64) -> Result<Change, DermscanError> {
        guard(|| Ok((&self.inner.compare(before_id, after_id)?).into()))
    }

    /// The change between a lesion's two latest scans; none with fewer than two scans.
    pub fn latest_change(&self, lesion_id: i64) -> Result<Option<Change>, DermscanError> {
        guard(|| Ok(self.inner.latest_change(lesion_id)?.as_ref().map(Into::into)))
    }

    /// A PNG chart of the lesion's area over time.
    pub fn area_chart_png(&self, lesion_id: i64) -> Result<Vec<u8>, DermscanError> {
        guard(|| Ok(self.inner.area_chart_png(lesion_id)?))
    }

    /// A PNG of the lesion's outlines, aligned onto the first scan, one colour per scan.
    pub fn outlines_png(&self, lesion_id: i64) -> Result<Vec<u8>, DermscanError> {
        guard(|| Ok(self.inner.outlines_png(lesion_id)?))
    }

    /// The report for a doctor as one self-contained HTML document: timeline chart, aligned
    /// outlines, a photo of each scan with its outline, the measurements, the latest change
    /// and the not-a-diagnosis statement. Pictures are embedded; it loads nothing.
    pub fn report_html(&self, lesion_id: i64) -> Result<String, DermscanError> {
        guard(|| Ok(self.inner.report_html(lesion_id)?))
    }

    /// Writes `report_html` to the file `path` (atomically; nothing else is written).
    pub fn write_report(&self, lesion_id: i64, path: String) -> Result<(), DermscanError> {
        guard(|| Ok(self.inner.write_report(lesion_id, path)?))
    }

    /// Re-encrypts everything with `new_key` (32 bytes; none removes the encryption, and a
    /// store without a key gains one). A failure or crash at any point leaves the store
    /// readable with either the old key or the new one, never a mix.
    pub fn rotate_key(&self, new_key: Option<Vec<u8>>) -> Result<(), DermscanError> {
        guard(|| Ok(self.inner.rotate_key(store_key(new_key)?)?))
    }

    /// Checks the whole store: database integrity, every scan's files present, undamaged and
    /// opening with the key, and no stray files. Slow on a large store (reads everything).
    pub fn check(&self) -> Result<StoreCheck, DermscanError> {
        guard(|| Ok(self.inner.check()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_32_bytes() {
        assert!(matches!(store_key(None), Ok(None)));
        assert!(matches!(store_key(Some(vec![7; 32])), Ok(Some(_))));
        for len in [0, 16, 31, 33] {
            assert!(matches!(store_key(Some(vec![7; len])), Err(DermscanError::InvalidArgument(_))), "{len} bytes");
        }
    }

    #[test]
    fn wrong_key_and_unknown_site_are_typed() {
        let dir = std::env::temp_dir().join(format!("dermscan-ffi-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.to_string_lossy().into_owned();
        {
            let store = HistoryStore::open(path.clone(), Some(vec![1; 32]), None).expect("open");
            let mole = store.add_lesion("left shoulder".into(), Some("back".into())).expect("lesion");
            assert_eq!(mole.body_site, Some(dermscan_core::BodySite::Trunk));
            assert!(matches!(store.add_lesion("x".into(), Some("moon".into())), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(store.add_lesion("left shoulder".into(), None), Err(DermscanError::DuplicateLabel(_))));
            assert!(matches!(store.scans(999), Err(DermscanError::LesionNotFound(_))));
            assert!(matches!(store.scan(999), Err(DermscanError::ScanNotFound(_))));
            assert!(matches!(HistoryStore::open(path.clone(), Some(vec![1; 32]), None), Err(DermscanError::StoreLocked(_))));
        }
        assert!(matches!(HistoryStore::open(path.clone(), Some(vec![2; 32]), None), Err(DermscanError::WrongKey(_))));
        assert!(matches!(HistoryStore::open(path.clone(), None, None), Err(DermscanError::KeyRequired(_))));
        let store = HistoryStore::open(path, Some(vec![1; 32]), None).expect("reopen");
        assert_eq!(store.lesions().expect("lesions").len(), 1);
        assert!(store.check().expect("check").is_ok());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The calls that can take a while (a comparison aligns two masks; a report reads and draws
/// every scan; a key rotation re-encrypts every file), without blocking the caller: Kotlin
/// `suspend` functions, Swift `async` functions, Python coroutines. Each reports progress to
/// the listener (`COMPARE`, `STORE`, `REPORT`, `RESEAL`, then `DONE`) on an SDK worker thread.
/// Cancelling the coroutine or task cancels the call: it fails with `Cancelled` and the store
/// is as it was, unless the call had already reached its commit, which then completes.
#[uniffi::export]
impl HistoryStore {
    /// `add_scan` without blocking. Cancelled before its files are written, it stores nothing.
    pub async fn add_scan_async(
        self: Arc<Self>,
        lesion_id: i64,
        photo: Vec<u8>,
        scan: ScanResult,
        taken_at: i64,
        mm_per_px: Option<f32>,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<AddedScan, DermscanError> {
        run_async(listener, move |control| {
            let added = self.inner.add_scan_with(lesion_id, new_scan(photo, &scan, taken_at, mm_per_px), control)?;
            Ok(AddedScan::from(&added))
        })
        .await
    }

    /// `compare` without blocking.
    pub async fn compare_async(
        self: Arc<Self>,
        before_id: i64,
        after_id: i64,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<Change, DermscanError> {
        run_async(listener, move |control| Ok((&self.inner.compare_with(before_id, after_id, control)?).into())).await
    }

    /// `report_html` without blocking.
    pub async fn report_html_async(
        self: Arc<Self>,
        lesion_id: i64,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<String, DermscanError> {
        run_async(listener, move |control| Ok(self.inner.report_html_with(lesion_id, control)?)).await
    }

    /// `write_report` without blocking. Cancelled before the file is written, it writes nothing.
    pub async fn write_report_async(
        self: Arc<Self>,
        lesion_id: i64,
        path: String,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<(), DermscanError> {
        run_async(listener, move |control| Ok(self.inner.write_report_with(lesion_id, path, control)?)).await
    }

    /// `rotate_key` without blocking. Cancelled before the switch to the new key, it removes
    /// the files it wrote and the store stays on its old key.
    pub async fn rotate_key_async(
        self: Arc<Self>,
        new_key: Option<Vec<u8>>,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<(), DermscanError> {
        run_async(listener, move |control| Ok(self.inner.rotate_key_with(store_key(new_key)?, control)?)).await
    }
}
