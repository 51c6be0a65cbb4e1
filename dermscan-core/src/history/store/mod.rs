//! The history store: one SQLite database (`history.sqlite3`) and a `files/` directory
//! beside it, in a directory the host app gives.
//!
//! - SQLite in WAL mode with `synchronous = FULL` and foreign keys on: a committed scan
//!   survives a crash or power cut, an uncommitted one leaves no row.
//! - Files are written before the row that names them and removed after the row is gone,
//!   so the only thing a crash can leave behind is an unreferenced file; opening the store
//!   removes those (and temporary files).
//! - One process at a time: opening takes an exclusive lock on `store.lock`
//!   ([`HistoryError::Locked`] otherwise). Within the process a [`HistoryStore`] is `Send +
//!   Sync`; share it between threads (calls are serialised inside).
//! - Nothing is written outside the store directory, except [`HistoryStore::write_report`]
//!   which writes where the host says.
//!
//! Parts: `open` (opening, locking, the key check), `sql` (the statements on an open
//! database), `scans` (lesions, scans and comparisons) and `maintenance` (deletion, unreferenced
//! files, quota, key rotation and the consistency check).

mod maintenance;
mod open;
mod scans;
mod sql;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;
use serde::Serialize;

use super::ScanRecord;
use super::change::{Change, ChangeThresholds};
use super::db::DbFile;
use super::files;
use super::seal::{Codec, StoreKey};
use crate::classify::Classification;
use crate::error::HistoryError;
use crate::features::Features;
use crate::model::ModelInfo;
use crate::pipeline::ScanResult;
use crate::risk::{RiskAssessment, RiskThresholds};
use crate::segment::Mask;

const DB_FILE: &str = "history.sqlite3";
const LOCK_FILE: &str = "store.lock";
const FILES_DIR: &str = "files";
const KEY_CHECK: &[u8] = b"dermscan history key check v1";

/// How to open a store.
///
/// ```
/// use dermscan_core::history::{StoreConfig, StoreKey};
/// let config = StoreConfig::default().with_key(StoreKey::from_bytes([9; 32])).with_max_bytes(200 << 20);
/// assert!(config.key.is_some());
/// assert_eq!(config.max_bytes, Some(200 << 20));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// Key for encryption at rest; `None` stores values as they are.
    pub key: Option<StoreKey>,
    /// Most bytes the store may take on disk (database and files); adding beyond it fails
    /// with [`HistoryError::StorageFull`]. `None`: only the disk limits it.
    pub max_bytes: Option<u64>,
    /// When a change between scans is significant.
    pub change: ChangeThresholds,
    /// Risk thresholds used when a scan's risk is re-assessed with its change.
    pub risk: RiskThresholds,
}

impl StoreConfig {
    /// Encrypts the store with `key`.
    pub fn with_key(mut self, key: StoreKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Limits the store's size on disk.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }
}

/// A scan to store: the photo as encoded bytes (JPEG or PNG) and what the analysis found.
#[derive(Debug, Clone)]
pub struct NewScan {
    /// When the photo was taken, in seconds since the Unix epoch (UTC).
    pub taken_at: i64,
    /// The photo, encoded (JPEG or PNG), as the camera or the user gave it.
    pub photo: Vec<u8>,
    /// The lesion mask, at the photo's (oriented) size.
    pub mask: Mask,
    /// Scale in millimetres per pixel, when known.
    pub mm_per_px: Option<f32>,
    /// Measurements and ABCD scores.
    pub features: Option<Features>,
    /// Classifier output.
    pub classification: Option<Classification>,
    /// Risk at scan time (re-assessed with the change when an earlier scan exists).
    pub risk: Option<RiskAssessment>,
    /// The models behind the result.
    pub models: Vec<ModelInfo>,
}

impl NewScan {
    /// A scan from an [`Engine::scan`](crate::Engine::scan) result and the photo it was run on.
    pub fn from_result(result: &ScanResult, photo: Vec<u8>, taken_at: i64, mm_per_px: Option<f32>) -> Self {
        let mut models = vec![result.model.clone()];
        models.extend(result.classification.as_ref().map(|c| c.model.clone()));
        Self {
            taken_at,
            photo,
            mask: result.mask.clone(),
            mm_per_px,
            features: result.features.clone(),
            classification: result.classification.clone(),
            risk: Some(result.risk.clone()),
            models,
        }
    }
}

/// A stored scan and the change since the scan before it, if there was one.
#[derive(Debug, Clone, PartialEq)]
pub struct AddedScan {
    /// The stored scan; its risk takes the change into account.
    pub record: ScanRecord,
    /// Change since the lesion's previous scan (by time taken).
    pub change: Option<Change>,
}

/// What [`HistoryStore::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StoreCheck {
    /// Lesions in the database.
    pub lesions: u64,
    /// Scans in the database.
    pub scans: u64,
    /// Files in the files directory.
    pub files: u64,
    /// Everything wrong; empty when the store is consistent.
    pub problems: Vec<String>,
}

impl StoreCheck {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The open database, behind the store's mutex.
struct Inner {
    conn: Connection,
    file: DbFile,
    codec: Codec,
}

/// A lesion history store. See the module docs for how it keeps data safe.
///
/// ```
/// use dermscan_core::history::{HistoryStore, NewScan, StoreConfig};
/// use dermscan_core::Mask;
///
/// let dir = std::env::temp_dir().join(format!("dermscan-doc-store-{}", std::process::id()));
/// let store = HistoryStore::open(&dir, StoreConfig::default())?;
/// let mole = store.add_lesion("left shoulder", None)?;
///
/// // A 4x4 photo with a 2x2 lesion (normally from Engine::scan and NewScan::from_result).
/// let mut png = Vec::new();
/// image::RgbImage::new(4, 4).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
/// let mask = Mask::from_pixels(4, 4, vec![0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]).expect("16 pixels");
/// let scan = NewScan { taken_at: 1_700_000_000, photo: png, mask, mm_per_px: None, features: None, classification: None, risk: None, models: vec![] };
/// let added = store.add_scan(mole.id, scan)?;
/// assert_eq!(added.record.area_px, 4);
/// assert_eq!(store.scans(mole.id)?.len(), 1);
/// assert!(store.check()?.is_ok());
/// # drop(store); std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct HistoryStore {
    dir: PathBuf,
    files_dir: PathBuf,
    inner: Mutex<Inner>,
    max_bytes: Option<u64>,
    change: ChangeThresholds,
    risk: RiskThresholds,
    _lock: File,
}

impl std::fmt::Debug for HistoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryStore").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// A stored file's name: the SHA-256 of its stored bytes, with `.sealed` when encrypted,
/// else `.jpg` for JPEG content and `.png` for the rest (masks are PNG).
fn file_name(codec: &Codec, plain: &[u8], stored: &[u8]) -> String {
    let ext = if codec.is_sealed() {
        "sealed"
    } else if plain.starts_with(&[0xFF, 0xD8]) {
        "jpg"
    } else {
        "png"
    };
    format!("{}.{ext}", files::sha256_hex(stored))
}

impl HistoryStore {
    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether values are sealed with a key.
    pub fn is_encrypted(&self) -> Result<bool, HistoryError> {
        Ok(self.lock()?.codec.is_sealed())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, HistoryError> {
        self.inner.lock().map_err(|_| HistoryError::Poisoned)
    }
}

/// `Err(HistoryError::Cancelled)` once `control` is cancelled: called before each step that
/// would change the store, so a cancelled call leaves it as it was.
pub(crate) fn checkpoint(control: &crate::control::Control) -> Result<(), HistoryError> {
    control.check().map_err(|_| HistoryError::Cancelled)
}
