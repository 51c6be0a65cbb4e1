//! Keeping the store in order: deletion, unreferenced files, the size limit, key rotation
//! and the consistency check.

use std::fs;

use super::{DB_FILE, HistoryStore, Inner, KEY_CHECK, StoreCheck, checkpoint, file_name};
use crate::control::{Control, Stage};
use crate::error::HistoryError;
use crate::history::files::{self, TEMP_PREFIX};
use crate::history::seal::{Codec, StoreKey};

impl HistoryStore {
    /// Deletes a scan and its files.
    pub fn delete_scan(&self, id: i64) -> Result<(), HistoryError> {
        let inner = self.lock()?;
        if inner.delete_scan(id)? == 0 {
            return Err(HistoryError::ScanNotFound(id));
        }
        self.collect_garbage(&inner).map(|_| ())
    }

    /// Deletes a lesion, all its scans and their files.
    pub fn delete_lesion(&self, id: i64) -> Result<(), HistoryError> {
        let inner = self.lock()?;
        if inner.delete_lesion(id)? == 0 {
            return Err(HistoryError::LesionNotFound(id.to_string()));
        }
        self.collect_garbage(&inner).map(|_| ())
    }

    /// Removes every file no row names (left by a crash, a failed write or a deletion).
    pub(super) fn collect_garbage(&self, inner: &Inner) -> Result<usize, HistoryError> {
        let referenced = inner.referenced_files()?;
        let mut removed = 0;
        for (name, _) in files::list(&self.files_dir)? {
            if name.starts_with(TEMP_PREFIX) || !referenced.contains(&name) {
                files::remove(&self.files_dir, &name)?;
                removed += 1;
            }
        }
        if removed > 0 {
            files::sync_dir(&self.files_dir).map_err(|e| files::io_error(&self.files_dir, e))?;
        }
        Ok(removed)
    }

    /// [`HistoryError::StorageFull`] when `adding` more bytes would pass the store's limit.
    pub(super) fn check_quota(&self, adding: usize) -> Result<(), HistoryError> {
        let Some(limit) = self.max_bytes else { return Ok(()) };
        let used = self.disk_usage()?;
        let needed = used.saturating_add(adding as u64);
        if needed > limit {
            return Err(HistoryError::StorageFull {
                path: self.dir.clone(),
                detail: format!("the store's limit is {limit} bytes and this scan needs {needed}"),
            });
        }
        Ok(())
    }

    /// Bytes the store takes on disk (database, its journal and the files).
    pub fn disk_usage(&self) -> Result<u64, HistoryError> {
        let files: u64 = files::list(&self.files_dir)?.iter().map(|(_, size)| size).sum();
        let db: u64 =
            ["", "-wal", "-shm"].iter().filter_map(|s| fs::metadata(self.dir.join(format!("{DB_FILE}{s}"))).ok()).map(|m| m.len()).sum();
        Ok(files + db)
    }

    /// Re-seals everything with `new_key` (`None` removes encryption; a store without a key
    /// gains one). New files are written first and the database switched in one
    /// transaction, so a failure or crash at any point leaves the store readable with
    /// either the old key or the new one, never a mix.
    pub fn rotate_key(&self, new_key: Option<StoreKey>) -> Result<(), HistoryError> {
        self.rotate_key_with(new_key, &Control::new())
    }

    /// [`HistoryStore::rotate_key`] with progress ([`Stage::Reseal`] once per scan, then
    /// [`Stage::Store`]) and cancellation: a call cancelled before the switch removes the files
    /// it wrote and leaves the store on its old key ([`HistoryError::Cancelled`]).
    pub fn rotate_key_with(&self, new_key: Option<StoreKey>, control: &Control) -> Result<(), HistoryError> {
        let _span = tracing::info_span!("history_rotate_key").entered();
        control.report_at(Stage::Reseal, 0.0);
        let mut inner = self.lock()?;
        let new = Codec::from_key(new_key.as_ref());
        let lesions = inner.lesion_rows()?;
        let scans = inner.scan_rows()?;
        let db_path = self.dir.join(DB_FILE);
        let mut created = Vec::new();
        let result = (|| {
            let mut lesion_rows = Vec::new();
            for (id, info) in &lesions {
                lesion_rows.push((*id, new.encode("lesion", &inner.codec.decode("lesion", info, &db_path)?)?));
            }
            let mut scan_rows = Vec::new();
            for (done, (id, health, photo_file, mask_file)) in scans.iter().enumerate() {
                checkpoint(control)?;
                let health = new.encode("health", &inner.codec.decode("health", health, &db_path)?)?;
                let mut names = Vec::new();
                for (purpose, old_name) in [("photo", photo_file), ("mask", mask_file)] {
                    let plain =
                        inner.codec.decode(purpose, &files::read_verified(&self.files_dir, old_name)?, &self.files_dir.join(old_name))?;
                    let bytes = new.encode(purpose, &plain)?;
                    let name = file_name(&new, &plain, &bytes);
                    if files::write_atomic(&self.files_dir, &name, &bytes)? {
                        created.push(name.clone());
                    }
                    names.push(name);
                }
                scan_rows.push((*id, health, names));
                control.report_at(Stage::Reseal, 0.8 * (done + 1) as f32 / scans.len() as f32);
            }
            let key_check = if new.is_sealed() { Some(new.encode("key_check", KEY_CHECK)?) } else { None };
            checkpoint(control)?;
            control.report(Stage::Store);
            inner.replace_sealed(&lesion_rows, &scan_rows, key_check)
        })();
        if let Err(e) = result {
            for name in created {
                let _ = files::remove(&self.files_dir, &name);
            }
            return Err(e);
        }
        inner.codec = new;
        self.collect_garbage(&inner)?;
        control.report(Stage::Done);
        Ok(())
    }

    /// Checks the whole store: database integrity and foreign keys, every scan's files
    /// present, matching their names and opening with the key, and no unreferenced files.
    pub fn check(&self) -> Result<StoreCheck, HistoryError> {
        let inner = self.lock()?;
        let mut report = StoreCheck::default();
        let integrity = inner.integrity()?;
        if integrity != "ok" {
            report.problems.push(format!("database: {integrity}"));
        }
        if let Some(row) = inner.orphan_scan()? {
            report.problems.push(format!("database: scan {row} names a missing lesion"));
        }
        report.lesions = inner.lesions().map(|l| l.len() as u64).unwrap_or_else(|e| {
            report.problems.push(e.to_string());
            0
        });
        let ids = inner.all_scan_ids()?;
        report.scans = ids.len() as u64;
        for id in ids {
            let outcome = inner.record(id).and_then(|r| {
                let photo = files::read_verified(&self.files_dir, &r.photo_file)?;
                inner.codec.decode("photo", &photo, &self.files_dir.join(&r.photo_file))?;
                let mask = self.read_mask(&inner, &r)?;
                if mask.area_px() != r.area_px {
                    return Err(HistoryError::Corrupt {
                        path: self.files_dir.join(&r.mask_file),
                        detail: "mask area differs from the record".into(),
                    });
                }
                Ok(())
            });
            if let Err(e) = outcome {
                report.problems.push(format!("scan {id}: {e}"));
            }
        }
        let referenced = inner.referenced_files()?;
        for (name, _) in files::list(&self.files_dir)? {
            report.files += 1;
            if !referenced.contains(&name) {
                report.problems.push(format!("unreferenced file {name}"));
            }
        }
        Ok(report)
    }
}
