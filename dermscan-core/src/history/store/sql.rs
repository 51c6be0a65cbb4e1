//! Every statement on an open store's database, as methods of the connection behind the
//! store's mutex. Values the user gave (lesion labels, health fields) are sealed with the
//! store's codec on the way in and opened on the way out.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::Inner;
use crate::classify::{BodySite, Classification};
use crate::error::HistoryError;
use crate::features::Features;
use crate::history::{Lesion, ScanRecord};
use crate::model::ModelInfo;
use crate::risk::RiskAssessment;

/// The health fields of a scan, stored as one (optionally sealed) JSON value.
#[derive(Serialize, Deserialize)]
struct Health {
    area_px: u64,
    features: Option<Features>,
    classification: Option<Classification>,
    risk: Option<RiskAssessment>,
}

/// The user's words about a lesion, stored as one (optionally sealed) JSON value.
#[derive(Serialize, Deserialize)]
struct LesionInfo {
    label: String,
    body_site: Option<BodySite>,
}

pub(super) fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, HistoryError> {
    serde_json::to_vec(value).map_err(|e| HistoryError::InvalidArgument(format!("cannot serialise: {e}")))
}

/// A lesion's stored value and a scan's stored values (health, photo file, mask file), by id.
pub(super) type LesionRow = (i64, Vec<u8>);
pub(super) type ScanRow = (i64, Vec<u8>, String, String);

impl Inner {
    /// Every lesion, oldest first.
    pub(super) fn lesions(&self) -> Result<Vec<Lesion>, HistoryError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, created_at, info FROM lesions ORDER BY id").map_err(|e| self.file.error(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))
            .map_err(|e| self.file.error(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, created_at, info) = row.map_err(|e| self.file.error(e))?;
            let plain = self.codec.decode("lesion", &info, self.file.path())?;
            let info: LesionInfo = serde_json::from_slice(&plain)
                .map_err(|e| HistoryError::Corrupt { path: self.file.path().to_path_buf(), detail: format!("lesion {id}: {e}") })?;
            out.push(Lesion { id, label: info.label, body_site: info.body_site, created_at });
        }
        Ok(out)
    }

    /// Adds a lesion row; returns its id.
    pub(super) fn insert_lesion(&self, label: &str, body_site: Option<BodySite>, created_at: i64) -> Result<i64, HistoryError> {
        let info = self.codec.encode("lesion", &json(&LesionInfo { label: label.to_owned(), body_site })?)?;
        self.conn
            .execute("INSERT INTO lesions (created_at, info) VALUES (?1, ?2)", params![created_at, info])
            .map_err(|e| self.file.error(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// [`HistoryError::LesionNotFound`] unless the lesion exists.
    pub(super) fn lesion_exists(&self, lesion_id: i64) -> Result<(), HistoryError> {
        let found: Option<i64> = self
            .conn
            .query_row("SELECT id FROM lesions WHERE id = ?1", [lesion_id], |r| r.get(0))
            .optional()
            .map_err(|e| self.file.error(e))?;
        found.map(|_| ()).ok_or_else(|| HistoryError::LesionNotFound(lesion_id.to_string()))
    }

    /// A lesion's scan ids, oldest first (by time taken, then id).
    pub(super) fn scan_ids(&self, lesion_id: i64) -> Result<Vec<i64>, HistoryError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT id FROM scans WHERE lesion_id = ?1 ORDER BY taken_at, id").map_err(|e| self.file.error(e))?;
        let ids = stmt
            .query_map([lesion_id], |r| r.get(0))
            .map_err(|e| self.file.error(e))?
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|e| self.file.error(e))?;
        Ok(ids)
    }

    /// Every scan id, in no particular order.
    pub(super) fn all_scan_ids(&self) -> Result<Vec<i64>, HistoryError> {
        let mut stmt = self.conn.prepare("SELECT id FROM scans").map_err(|e| self.file.error(e))?;
        stmt.query_map([], |r| r.get(0)).map_err(|e| self.file.error(e))?.collect::<Result<_, _>>().map_err(|e| self.file.error(e))
    }

    /// The lesion's latest scan taken at or before `taken_at`.
    pub(super) fn previous_scan(&self, lesion_id: i64, taken_at: i64) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row(
                "SELECT id FROM scans WHERE lesion_id = ?1 AND taken_at <= ?2 ORDER BY taken_at DESC, id DESC LIMIT 1",
                params![lesion_id, taken_at],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.file.error(e))
    }

    /// One scan.
    pub(super) fn record(&self, id: i64) -> Result<ScanRecord, HistoryError> {
        type Row = (i64, i64, u32, u32, Option<f32>, String, Vec<u8>, String, String);
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT lesion_id, taken_at, width, height, mm_per_px, models, health, photo_file, mask_file FROM scans WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
            )
            .optional()
            .map_err(|e| self.file.error(e))?;
        let (lesion_id, taken_at, width, height, mm_per_px, models, health, photo_file, mask_file) =
            row.ok_or(HistoryError::ScanNotFound(id))?;
        let db = self.file.path();
        let corrupt = |detail: String| HistoryError::Corrupt { path: db.to_path_buf(), detail: format!("scan {id}: {detail}") };
        let health: Health = serde_json::from_slice(&self.codec.decode("health", &health, db)?).map_err(|e| corrupt(e.to_string()))?;
        let models: Vec<ModelInfo> = serde_json::from_str(&models).map_err(|e| corrupt(e.to_string()))?;
        Ok(ScanRecord {
            id,
            lesion_id,
            taken_at,
            width,
            height,
            mm_per_px,
            area_px: health.area_px,
            features: health.features,
            classification: health.classification,
            risk: health.risk,
            models,
            photo_file,
            mask_file,
        })
    }

    /// The record's health fields, sealed for its row.
    pub(super) fn encode_health(&self, record: &ScanRecord) -> Result<Vec<u8>, HistoryError> {
        self.codec.encode(
            "health",
            &json(&Health {
                area_px: record.area_px,
                features: record.features.clone(),
                classification: record.classification.clone(),
                risk: record.risk.clone(),
            })?,
        )
    }

    /// Adds a scan row for `record` (its id is not used) with the sealed `health`; returns its id.
    pub(super) fn insert_scan(&self, record: &ScanRecord, health: &[u8]) -> Result<i64, HistoryError> {
        self.conn
            .execute(
                "INSERT INTO scans (lesion_id, taken_at, width, height, mm_per_px, models, health, photo_file, mask_file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    record.lesion_id,
                    record.taken_at,
                    record.width,
                    record.height,
                    record.mm_per_px,
                    String::from_utf8_lossy(&json(&record.models)?),
                    health,
                    record.photo_file,
                    record.mask_file
                ],
            )
            .map_err(|e| self.file.error(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Deletes a scan row; returns how many rows went (0 or 1).
    pub(super) fn delete_scan(&self, id: i64) -> Result<usize, HistoryError> {
        self.conn.execute("DELETE FROM scans WHERE id = ?1", [id]).map_err(|e| self.file.error(e))
    }

    /// Deletes a lesion row and (by the foreign key) its scans; returns how many lesions went.
    pub(super) fn delete_lesion(&self, id: i64) -> Result<usize, HistoryError> {
        self.conn.execute("DELETE FROM lesions WHERE id = ?1", [id]).map_err(|e| self.file.error(e))
    }

    /// The names of every photo and mask file a scan row names.
    pub(super) fn referenced_files(&self) -> Result<HashSet<String>, HistoryError> {
        let mut stmt = self.conn.prepare_cached("SELECT photo_file, mask_file FROM scans").map_err(|e| self.file.error(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(|e| self.file.error(e))?;
        let mut set = HashSet::new();
        for row in rows {
            let (photo, mask) = row.map_err(|e| self.file.error(e))?;
            set.insert(photo);
            set.insert(mask);
        }
        Ok(set)
    }

    /// Every lesion's stored value, by id.
    pub(super) fn lesion_rows(&self) -> Result<Vec<LesionRow>, HistoryError> {
        let mut stmt = self.conn.prepare("SELECT id, info FROM lesions").map_err(|e| self.file.error(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.file.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.file.error(e))
    }

    /// Every scan's stored values, by id.
    pub(super) fn scan_rows(&self) -> Result<Vec<ScanRow>, HistoryError> {
        let mut stmt = self.conn.prepare("SELECT id, health, photo_file, mask_file FROM scans").map_err(|e| self.file.error(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(|e| self.file.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.file.error(e))
    }

    /// Replaces every lesion's and scan's stored values and the key check, in one transaction.
    /// A scan's file names are `[photo, mask]`.
    pub(super) fn replace_sealed(
        &mut self,
        lesions: &[LesionRow],
        scans: &[(i64, Vec<u8>, Vec<String>)],
        key_check: Option<Vec<u8>>,
    ) -> Result<(), HistoryError> {
        let file = self.file.clone();
        let tx = self.conn.transaction().map_err(|e| file.error(e))?;
        for (id, info) in lesions {
            tx.execute("UPDATE lesions SET info = ?1 WHERE id = ?2", params![info, id]).map_err(|e| file.error(e))?;
        }
        for (id, health, names) in scans {
            let (photo, mask) = (names.first().cloned().unwrap_or_default(), names.get(1).cloned().unwrap_or_default());
            tx.execute("UPDATE scans SET health = ?1, photo_file = ?2, mask_file = ?3 WHERE id = ?4", params![health, photo, mask, id])
                .map_err(|e| file.error(e))?;
        }
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('key_check', ?1)", params![key_check]).map_err(|e| file.error(e))?;
        tx.commit().map_err(|e| file.error(e))
    }

    /// SQLite's integrity check: `"ok"` or the problems found.
    pub(super) fn integrity(&self) -> Result<String, HistoryError> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| self.file.error(e))
    }

    /// The first scan row whose lesion is missing, if any.
    pub(super) fn orphan_scan(&self) -> Result<Option<i64>, HistoryError> {
        self.conn.query_row("PRAGMA foreign_key_check", [], |r| r.get(1)).optional().map_err(|e| self.file.error(e))
    }
}
