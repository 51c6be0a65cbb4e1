//! Lesions and their scans: adding, reading and comparing them.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{AddedScan, HistoryStore, Inner, NewScan, checkpoint, file_name};
use crate::classify::BodySite;
use crate::control::{Control, Stage};
use crate::error::HistoryError;
use crate::history::change::{self, Change};
use crate::history::files;
use crate::history::reassess::reassess;
use crate::history::{Lesion, ScanRecord};
use crate::segment::Mask;

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl HistoryStore {
    /// Adds a lesion. Labels are unique and not empty.
    pub fn add_lesion(&self, label: &str, body_site: Option<BodySite>) -> Result<Lesion, HistoryError> {
        let label = label.trim();
        if label.is_empty() {
            return Err(HistoryError::InvalidArgument("a lesion label must not be empty".into()));
        }
        let inner = self.lock()?;
        if inner.lesions()?.iter().any(|l| l.label == label) {
            return Err(HistoryError::DuplicateLabel(label.to_owned()));
        }
        let created_at = now_unix();
        let id = inner.insert_lesion(label, body_site, created_at)?;
        Ok(Lesion { id, label: label.to_owned(), body_site, created_at })
    }

    /// Every lesion, oldest first.
    pub fn lesions(&self) -> Result<Vec<Lesion>, HistoryError> {
        self.lock()?.lesions()
    }

    /// The lesion with this id.
    pub fn lesion(&self, id: i64) -> Result<Lesion, HistoryError> {
        self.lock()?.lesions()?.into_iter().find(|l| l.id == id).ok_or_else(|| HistoryError::LesionNotFound(id.to_string()))
    }

    /// The lesion with this label.
    pub fn lesion_by_label(&self, label: &str) -> Result<Lesion, HistoryError> {
        let label = label.trim();
        self.lock()?.lesions()?.into_iter().find(|l| l.label == label).ok_or_else(|| HistoryError::LesionNotFound(format!("{label:?}")))
    }

    /// Stores a scan of the lesion labelled `label`, adding the lesion (at `body_site`) first
    /// when no lesion has this label. A failed call changes nothing: a lesion it added is
    /// removed again. Returns the lesion with the added scan.
    pub fn add_scan_by_label(&self, label: &str, body_site: Option<BodySite>, scan: NewScan) -> Result<(Lesion, AddedScan), HistoryError> {
        let (lesion, created) = match self.lesion_by_label(label) {
            Ok(lesion) => (lesion, false),
            Err(HistoryError::LesionNotFound(_)) => (self.add_lesion(label, body_site)?, true),
            Err(e) => return Err(e),
        };
        match self.add_scan(lesion.id, scan) {
            Ok(added) => Ok((lesion, added)),
            Err(e) => {
                if created && let Err(undo) = self.delete_lesion(lesion.id) {
                    tracing::warn!(lesion = lesion.id, error = %undo, "could not remove the lesion added for a failed scan");
                }
                Err(e)
            }
        }
    }

    /// Stores a scan of a lesion: photo and mask files first, then the row, in one
    /// transaction. If the lesion has an earlier scan, the change since it is measured and
    /// the scan's risk re-assessed with it.
    pub fn add_scan(&self, lesion_id: i64, scan: NewScan) -> Result<AddedScan, HistoryError> {
        self.add_scan_with(lesion_id, scan, &Control::new())
    }

    /// [`HistoryStore::add_scan`] with progress ([`Stage::Compare`], [`Stage::Store`]) and
    /// cancellation: a call cancelled before it writes is [`HistoryError::Cancelled`] and
    /// stores nothing; once the files are being written it runs to the commit.
    pub fn add_scan_with(&self, lesion_id: i64, scan: NewScan, control: &Control) -> Result<AddedScan, HistoryError> {
        let _span = tracing::info_span!("history_add_scan", lesion_id).entered();
        control.report(Stage::Compare);
        let (width, height) = (scan.mask.width(), scan.mask.height());
        let photo_size = ::image::ImageReader::new(std::io::Cursor::new(&scan.photo))
            .with_guessed_format()
            .ok()
            .and_then(|r| r.into_dimensions().ok())
            .ok_or_else(|| HistoryError::InvalidArgument("the photo is not a readable JPEG or PNG".into()))?;
        if photo_size != (width, height) && photo_size != (height, width) {
            return Err(HistoryError::InvalidArgument(format!(
                "the mask is {width}x{height} but the photo is {}x{}; they must match",
                photo_size.0, photo_size.1
            )));
        }
        crate::features::checked_scale(scan.mm_per_px).map_err(|e| HistoryError::InvalidArgument(e.to_string()))?;
        let area_px = scan.mask.area_px();
        if area_px == 0 {
            return Err(HistoryError::InvalidArgument("the mask is empty: there is no lesion to track".into()));
        }

        let inner = self.lock()?;
        inner.lesion_exists(lesion_id)?;
        let mut record = ScanRecord {
            id: 0,
            lesion_id,
            taken_at: scan.taken_at,
            width,
            height,
            mm_per_px: scan.mm_per_px,
            area_px,
            features: scan.features,
            classification: scan.classification,
            risk: scan.risk,
            models: scan.models,
            photo_file: String::new(),
            mask_file: String::new(),
        };

        // Change since the scan before this one, and the risk with it.
        checkpoint(control)?;
        let change = match inner.previous_scan(lesion_id, scan.taken_at)? {
            Some(prev_id) => {
                let before = inner.record(prev_id)?;
                let before_mask = self.read_mask(&inner, &before)?;
                let change = change::compare(&before, &before_mask, &record, &scan.mask, &self.change)?;
                record.risk = reassess(&record, &change, &self.risk);
                Some(change)
            }
            None => None,
        };

        checkpoint(control)?;
        control.report(Stage::Store);
        let photo = inner.codec.encode("photo", &scan.photo)?;
        let mask = inner.codec.encode("mask", &scan.mask.to_png())?;
        let health = inner.encode_health(&record)?;
        self.check_quota(photo.len() + mask.len() + health.len())?;
        // The last point where cancelling leaves nothing behind.
        checkpoint(control)?;
        record.photo_file = file_name(&inner.codec, &scan.photo, &photo);
        record.mask_file = file_name(&inner.codec, b"", &mask);

        let mut created = Vec::new();
        let result = (|| {
            for (name, bytes) in [(&record.photo_file, &photo), (&record.mask_file, &mask)] {
                if files::write_atomic(&self.files_dir, name, bytes)? {
                    created.push(name.clone());
                }
            }
            inner.insert_scan(&record, &health)
        })();
        match result {
            Ok(id) => {
                control.report(Stage::Done);
                record.id = id;
                let change = change.map(|mut c| {
                    c.after_id = id;
                    c
                });
                Ok(AddedScan { record, change })
            }
            Err(e) => {
                for name in created {
                    let _ = files::remove(&self.files_dir, &name);
                }
                Err(e)
            }
        }
    }

    /// A lesion's scans, oldest first.
    pub fn scans(&self, lesion_id: i64) -> Result<Vec<ScanRecord>, HistoryError> {
        let inner = self.lock()?;
        inner.lesion_exists(lesion_id)?;
        let ids = inner.scan_ids(lesion_id)?;
        ids.into_iter().map(|id| inner.record(id)).collect()
    }

    /// One scan.
    pub fn scan(&self, id: i64) -> Result<ScanRecord, HistoryError> {
        self.lock()?.record(id)
    }

    /// The scan's photo as it was stored (encoded JPEG or PNG), checked against its name.
    pub fn photo(&self, scan: &ScanRecord) -> Result<Vec<u8>, HistoryError> {
        let inner = self.lock()?;
        inner.codec.decode("photo", &files::read_verified(&self.files_dir, &scan.photo_file)?, &self.files_dir.join(&scan.photo_file))
    }

    /// The scan's lesion mask.
    pub fn mask(&self, scan: &ScanRecord) -> Result<Mask, HistoryError> {
        self.read_mask(&*self.lock()?, scan)
    }

    pub(super) fn read_mask(&self, inner: &Inner, scan: &ScanRecord) -> Result<Mask, HistoryError> {
        let path = self.files_dir.join(&scan.mask_file);
        let png = inner.codec.decode("mask", &files::read_verified(&self.files_dir, &scan.mask_file)?, &path)?;
        let corrupt = |detail: &str| HistoryError::Corrupt { path: path.clone(), detail: detail.to_owned() };
        let grey =
            ::image::load_from_memory_with_format(&png, ::image::ImageFormat::Png).map_err(|_| corrupt("not a PNG mask"))?.into_luma8();
        let (w, h) = grey.dimensions();
        Mask::from_pixels(w, h, grey.into_raw()).ok_or_else(|| corrupt("empty mask image"))
    }

    /// The change between two scans of one lesion (`before` is aligned to, `after` is moved).
    pub fn compare(&self, before_id: i64, after_id: i64) -> Result<Change, HistoryError> {
        self.compare_with(before_id, after_id, &Control::new())
    }

    /// [`HistoryStore::compare`] with progress ([`Stage::Compare`]) and cancellation.
    pub fn compare_with(&self, before_id: i64, after_id: i64, control: &Control) -> Result<Change, HistoryError> {
        control.report(Stage::Compare);
        checkpoint(control)?;
        let inner = self.lock()?;
        let (before, after) = (inner.record(before_id)?, inner.record(after_id)?);
        if before.lesion_id != after.lesion_id {
            return Err(HistoryError::InvalidArgument(format!("scans {before_id} and {after_id} are of different lesions")));
        }
        let (before_mask, after_mask) = (self.read_mask(&inner, &before)?, self.read_mask(&inner, &after)?);
        checkpoint(control)?;
        let change = change::compare(&before, &before_mask, &after, &after_mask, &self.change)?;
        control.report(Stage::Done);
        Ok(change)
    }

    /// The change between a lesion's two latest scans; `None` with fewer than two scans.
    pub fn latest_change(&self, lesion_id: i64) -> Result<Option<Change>, HistoryError> {
        let ids = {
            let inner = self.lock()?;
            inner.lesion_exists(lesion_id)?;
            inner.scan_ids(lesion_id)?
        };
        match ids.as_slice() {
            [.., before, after] => self.compare(*before, *after).map(Some),
            _ => Ok(None),
        }
    }

    /// A lesion's scans with their masks, oldest first (for timelines and reports).
    pub fn scans_with_masks(&self, lesion_id: i64) -> Result<Vec<(ScanRecord, Mask)>, HistoryError> {
        let inner = self.lock()?;
        inner.lesion_exists(lesion_id)?;
        let ids = inner.scan_ids(lesion_id)?;
        ids.into_iter()
            .map(|id| {
                let record = inner.record(id)?;
                let mask = self.read_mask(&inner, &record)?;
                Ok((record, mask))
            })
            .collect()
    }
}
