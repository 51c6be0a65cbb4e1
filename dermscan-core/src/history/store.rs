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

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::change::{self, Change, ChangeThresholds};
use super::db::DbFile;
use super::files::{self, TEMP_PREFIX};
use super::seal::{Codec, StoreKey};
use super::{Lesion, ScanRecord, schema};
use crate::classify::{BodySite, Classification};
use crate::error::HistoryError;
use crate::features::Features;
use crate::model::ModelInfo;
use crate::pipeline::ScanResult;
use crate::risk::{self, RiskAssessment, RiskInputs, RiskThresholds};
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
pub struct StoreCheck {
    /// Lesions in the database.
    pub lesions: usize,
    /// Scans in the database.
    pub scans: usize,
    /// Files in the files directory.
    pub files: usize,
    /// Everything wrong; empty when the store is consistent.
    pub problems: Vec<String>,
}

impl StoreCheck {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

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

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, HistoryError> {
    serde_json::to_vec(value).map_err(|e| HistoryError::InvalidArgument(format!("cannot serialise: {e}")))
}

impl HistoryStore {
    /// Opens the store in `dir`, creating the directory and an empty store if needed.
    ///
    /// Runs schema migrations, checks the key, and removes files a crash left behind.
    /// Errors: [`HistoryError::ReadOnly`], [`HistoryError::Corrupt`] (the database is left
    /// as it is), [`HistoryError::NewerSchema`], [`HistoryError::Locked`],
    /// [`HistoryError::KeyRequired`], [`HistoryError::WrongKey`], [`HistoryError::NotEncrypted`].
    pub fn open(dir: impl AsRef<Path>, config: StoreConfig) -> Result<Self, HistoryError> {
        let dir = dir.as_ref().to_path_buf();
        let _span = tracing::info_span!("history_open", dir = %dir.display()).entered();
        fs::create_dir_all(&dir).map_err(|e| files::io_error(&dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| files::io_error(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(HistoryError::Locked { path: dir }),
            Err(fs::TryLockError::Error(e)) => return Err(files::io_error(&lock_path, e)),
        }
        let files_dir = dir.join(FILES_DIR);
        fs::create_dir_all(&files_dir).map_err(|e| files::io_error(&files_dir, e))?;

        let db_path = dir.join(DB_FILE);
        let file = DbFile::new(&db_path);
        let mut conn = Connection::open(&db_path).map_err(|e| file.error(e))?;
        // Read before writing anything: a foreign or newer database is refused untouched.
        let found = schema::version(&conn).map_err(|e| file.error(e))?;
        if found > schema::CURRENT {
            return Err(HistoryError::NewerSchema { found, supported: schema::CURRENT });
        }
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| file.error(e))?;
        if check != "ok" {
            return Err(HistoryError::Corrupt { path: db_path, detail: check });
        }
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| file.error(e))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| file.error(e))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| file.error(e))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| file.error(e))?;
        schema::migrate_to(&mut conn, &file, schema::CURRENT)?;

        let stored_check: Option<Vec<u8>> = conn
            .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0))
            .optional()
            .map_err(|e| file.error(e))?
            .flatten();
        let codec = match (&config.key, stored_check) {
            (None, None) => Codec::Plain,
            (None, Some(_)) => return Err(HistoryError::KeyRequired),
            (Some(key), None) => {
                // A new, empty store is encrypted from the start; one holding data is not
                // encrypted behind the caller's back (that is `rotate_key`'s job).
                let lesions: i64 = conn.query_row("SELECT count(*) FROM lesions", [], |r| r.get(0)).map_err(|e| file.error(e))?;
                if lesions > 0 {
                    return Err(HistoryError::NotEncrypted);
                }
                let codec = Codec::from_key(Some(key));
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('key_check', ?1)",
                    params![codec.encode("key_check", KEY_CHECK)?],
                )
                .map_err(|e| file.error(e))?;
                codec
            }
            (Some(key), Some(sealed)) => {
                let codec = Codec::from_key(Some(key));
                if codec.decode("key_check", &sealed, &db_path).ok().as_deref() != Some(KEY_CHECK) {
                    return Err(HistoryError::WrongKey);
                }
                codec
            }
        };
        let store = Self {
            dir,
            files_dir,
            inner: Mutex::new(Inner { conn, file, codec }),
            max_bytes: config.max_bytes,
            change: config.change,
            risk: config.risk,
            _lock: lock,
        };
        let removed = store.collect_garbage(&*store.lock()?)?;
        if removed > 0 {
            tracing::info!(removed, "removed files left by an interrupted write");
        }
        Ok(store)
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether values are sealed with a key.
    pub fn is_encrypted(&self) -> Result<bool, HistoryError> {
        Ok(self.lock()?.codec.is_sealed())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, HistoryError> {
        self.inner.lock().map_err(|_| HistoryError::Database("the store is unusable after a panic in another thread".into()))
    }

    /// Adds a lesion. Labels are unique and not empty.
    pub fn add_lesion(&self, label: &str, body_site: Option<BodySite>) -> Result<Lesion, HistoryError> {
        let label = label.trim();
        if label.is_empty() {
            return Err(HistoryError::InvalidArgument("a lesion label must not be empty".into()));
        }
        let inner = self.lock()?;
        if Self::all_lesions(&inner)?.iter().any(|l| l.label == label) {
            return Err(HistoryError::DuplicateLabel(label.to_owned()));
        }
        let info = inner.codec.encode("lesion", &json(&LesionInfo { label: label.to_owned(), body_site })?)?;
        let created_at = now_unix();
        inner
            .conn
            .execute("INSERT INTO lesions (created_at, info) VALUES (?1, ?2)", params![created_at, info])
            .map_err(|e| inner.file.error(e))?;
        Ok(Lesion { id: inner.conn.last_insert_rowid(), label: label.to_owned(), body_site, created_at })
    }

    /// Every lesion, oldest first.
    pub fn lesions(&self) -> Result<Vec<Lesion>, HistoryError> {
        Self::all_lesions(&*self.lock()?)
    }

    /// The lesion with this id.
    pub fn lesion(&self, id: i64) -> Result<Lesion, HistoryError> {
        Self::all_lesions(&*self.lock()?)?.into_iter().find(|l| l.id == id).ok_or_else(|| HistoryError::LesionNotFound(id.to_string()))
    }

    /// The lesion with this label.
    pub fn lesion_by_label(&self, label: &str) -> Result<Lesion, HistoryError> {
        let label = label.trim();
        Self::all_lesions(&*self.lock()?)?
            .into_iter()
            .find(|l| l.label == label)
            .ok_or_else(|| HistoryError::LesionNotFound(format!("{label:?}")))
    }

    fn all_lesions(inner: &Inner) -> Result<Vec<Lesion>, HistoryError> {
        let mut stmt =
            inner.conn.prepare_cached("SELECT id, created_at, info FROM lesions ORDER BY id").map_err(|e| inner.file.error(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))
            .map_err(|e| inner.file.error(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, created_at, info) = row.map_err(|e| inner.file.error(e))?;
            let plain = inner.codec.decode("lesion", &info, inner.file.path())?;
            let info: LesionInfo = serde_json::from_slice(&plain)
                .map_err(|e| HistoryError::Corrupt { path: inner.file.path().to_path_buf(), detail: format!("lesion {id}: {e}") })?;
            out.push(Lesion { id, label: info.label, body_site: info.body_site, created_at });
        }
        Ok(out)
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
        let _span = tracing::info_span!("history_add_scan", lesion_id).entered();
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
        Self::lesion_exists(&inner, lesion_id)?;
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
        let previous: Option<i64> = inner
            .conn
            .query_row(
                "SELECT id FROM scans WHERE lesion_id = ?1 AND taken_at <= ?2 ORDER BY taken_at DESC, id DESC LIMIT 1",
                params![lesion_id, scan.taken_at],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| inner.file.error(e))?;
        let change = match previous {
            Some(prev_id) => {
                let before = self.record(&inner, prev_id)?;
                let before_mask = self.read_mask(&inner, &before)?;
                let change = change::compare(&before, &before_mask, &record, &scan.mask, &self.change)?;
                if record.features.is_some() || record.classification.is_some() || record.risk.is_some() {
                    let inputs = RiskInputs::from_analysis(record.features.as_ref(), record.classification.as_ref())
                        .with_evolution(change.evolution_signal());
                    record.risk = Some(risk::assess(&inputs, &self.risk));
                }
                Some(change)
            }
            None => None,
        };

        let photo = inner.codec.encode("photo", &scan.photo)?;
        let mask = inner.codec.encode("mask", &scan.mask.to_png())?;
        let health = inner.codec.encode(
            "health",
            &json(&Health {
                area_px,
                features: record.features.clone(),
                classification: record.classification.clone(),
                risk: record.risk.clone(),
            })?,
        )?;
        self.check_quota(photo.len() + mask.len() + health.len())?;
        record.photo_file = file_name(&inner.codec, &scan.photo, &photo);
        record.mask_file = file_name(&inner.codec, b"", &mask);

        let mut created = Vec::new();
        let result = (|| {
            for (name, bytes) in [(&record.photo_file, &photo), (&record.mask_file, &mask)] {
                if files::write_atomic(&self.files_dir, name, bytes)? {
                    created.push(name.clone());
                }
            }
            inner
                .conn
                .execute(
                    "INSERT INTO scans (lesion_id, taken_at, width, height, mm_per_px, models, health, photo_file, mask_file)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        lesion_id,
                        record.taken_at,
                        width,
                        height,
                        record.mm_per_px,
                        String::from_utf8_lossy(&json(&record.models)?),
                        health,
                        record.photo_file,
                        record.mask_file
                    ],
                )
                .map_err(|e| inner.file.error(e))?;
            Ok(inner.conn.last_insert_rowid())
        })();
        match result {
            Ok(id) => {
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

    fn lesion_exists(inner: &Inner, lesion_id: i64) -> Result<(), HistoryError> {
        let found: Option<i64> = inner
            .conn
            .query_row("SELECT id FROM lesions WHERE id = ?1", [lesion_id], |r| r.get(0))
            .optional()
            .map_err(|e| inner.file.error(e))?;
        found.map(|_| ()).ok_or_else(|| HistoryError::LesionNotFound(lesion_id.to_string()))
    }

    fn check_quota(&self, adding: usize) -> Result<(), HistoryError> {
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

    /// A lesion's scans, oldest first.
    pub fn scans(&self, lesion_id: i64) -> Result<Vec<ScanRecord>, HistoryError> {
        let inner = self.lock()?;
        Self::lesion_exists(&inner, lesion_id)?;
        let ids = Self::scan_ids(&inner, lesion_id)?;
        ids.into_iter().map(|id| self.record(&inner, id)).collect()
    }

    fn scan_ids(inner: &Inner, lesion_id: i64) -> Result<Vec<i64>, HistoryError> {
        let mut stmt = inner
            .conn
            .prepare_cached("SELECT id FROM scans WHERE lesion_id = ?1 ORDER BY taken_at, id")
            .map_err(|e| inner.file.error(e))?;
        let ids = stmt
            .query_map([lesion_id], |r| r.get(0))
            .map_err(|e| inner.file.error(e))?
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|e| inner.file.error(e))?;
        Ok(ids)
    }

    /// One scan.
    pub fn scan(&self, id: i64) -> Result<ScanRecord, HistoryError> {
        self.record(&*self.lock()?, id)
    }

    fn record(&self, inner: &Inner, id: i64) -> Result<ScanRecord, HistoryError> {
        type Row = (i64, i64, u32, u32, Option<f32>, String, Vec<u8>, String, String);
        let row: Option<Row> = inner
            .conn
            .query_row(
                "SELECT lesion_id, taken_at, width, height, mm_per_px, models, health, photo_file, mask_file FROM scans WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
            )
            .optional()
            .map_err(|e| inner.file.error(e))?;
        let (lesion_id, taken_at, width, height, mm_per_px, models, health, photo_file, mask_file) =
            row.ok_or(HistoryError::ScanNotFound(id))?;
        let corrupt = |detail: String| HistoryError::Corrupt { path: self.dir.join(DB_FILE), detail: format!("scan {id}: {detail}") };
        let health: Health =
            serde_json::from_slice(&inner.codec.decode("health", &health, &self.dir.join(DB_FILE))?).map_err(|e| corrupt(e.to_string()))?;
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

    /// The scan's photo as it was stored (encoded JPEG or PNG), checked against its name.
    pub fn photo(&self, scan: &ScanRecord) -> Result<Vec<u8>, HistoryError> {
        let inner = self.lock()?;
        inner.codec.decode("photo", &files::read_verified(&self.files_dir, &scan.photo_file)?, &self.files_dir.join(&scan.photo_file))
    }

    /// The scan's lesion mask.
    pub fn mask(&self, scan: &ScanRecord) -> Result<Mask, HistoryError> {
        self.read_mask(&*self.lock()?, scan)
    }

    fn read_mask(&self, inner: &Inner, scan: &ScanRecord) -> Result<Mask, HistoryError> {
        let path = self.files_dir.join(&scan.mask_file);
        let png = inner.codec.decode("mask", &files::read_verified(&self.files_dir, &scan.mask_file)?, &path)?;
        let corrupt = |detail: &str| HistoryError::Corrupt { path: path.clone(), detail: detail.to_owned() };
        let grey =
            ::image::load_from_memory_with_format(&png, ::image::ImageFormat::Png).map_err(|_| corrupt("not a PNG mask"))?.into_luma8();
        let (w, h) = grey.dimensions();
        Mask::from_pixels(w, h, grey.into_raw()).ok_or_else(|| corrupt("empty mask image"))
    }

    /// Deletes a scan and its files.
    pub fn delete_scan(&self, id: i64) -> Result<(), HistoryError> {
        let inner = self.lock()?;
        let n = inner.conn.execute("DELETE FROM scans WHERE id = ?1", [id]).map_err(|e| inner.file.error(e))?;
        if n == 0 {
            return Err(HistoryError::ScanNotFound(id));
        }
        self.collect_garbage(&inner).map(|_| ())
    }

    /// Deletes a lesion, all its scans and their files.
    pub fn delete_lesion(&self, id: i64) -> Result<(), HistoryError> {
        let inner = self.lock()?;
        let n = inner.conn.execute("DELETE FROM lesions WHERE id = ?1", [id]).map_err(|e| inner.file.error(e))?;
        if n == 0 {
            return Err(HistoryError::LesionNotFound(id.to_string()));
        }
        self.collect_garbage(&inner).map(|_| ())
    }

    /// Removes every file no row names (left by a crash, a failed write or a deletion).
    fn collect_garbage(&self, inner: &Inner) -> Result<usize, HistoryError> {
        let referenced = Self::referenced_files(inner)?;
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

    fn referenced_files(inner: &Inner) -> Result<std::collections::HashSet<String>, HistoryError> {
        let mut stmt = inner.conn.prepare_cached("SELECT photo_file, mask_file FROM scans").map_err(|e| inner.file.error(e))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(|e| inner.file.error(e))?;
        let mut set = std::collections::HashSet::new();
        for row in rows {
            let (photo, mask) = row.map_err(|e| inner.file.error(e))?;
            set.insert(photo);
            set.insert(mask);
        }
        Ok(set)
    }

    /// The change between two scans of one lesion (`before` is aligned to, `after` is moved).
    pub fn compare(&self, before_id: i64, after_id: i64) -> Result<Change, HistoryError> {
        let inner = self.lock()?;
        let (before, after) = (self.record(&inner, before_id)?, self.record(&inner, after_id)?);
        if before.lesion_id != after.lesion_id {
            return Err(HistoryError::InvalidArgument(format!("scans {before_id} and {after_id} are of different lesions")));
        }
        let (before_mask, after_mask) = (self.read_mask(&inner, &before)?, self.read_mask(&inner, &after)?);
        change::compare(&before, &before_mask, &after, &after_mask, &self.change)
    }

    /// The change between a lesion's two latest scans; `None` with fewer than two scans.
    pub fn latest_change(&self, lesion_id: i64) -> Result<Option<Change>, HistoryError> {
        let ids = {
            let inner = self.lock()?;
            Self::lesion_exists(&inner, lesion_id)?;
            Self::scan_ids(&inner, lesion_id)?
        };
        match ids.as_slice() {
            [.., before, after] => self.compare(*before, *after).map(Some),
            _ => Ok(None),
        }
    }

    /// A lesion's scans with their masks, oldest first (for timelines and reports).
    pub fn scans_with_masks(&self, lesion_id: i64) -> Result<Vec<(ScanRecord, Mask)>, HistoryError> {
        let inner = self.lock()?;
        Self::lesion_exists(&inner, lesion_id)?;
        let ids = Self::scan_ids(&inner, lesion_id)?;
        ids.into_iter()
            .map(|id| {
                let record = self.record(&inner, id)?;
                let mask = self.read_mask(&inner, &record)?;
                Ok((record, mask))
            })
            .collect()
    }

    /// Re-seals everything with `new_key` (`None` removes encryption; a store without a key
    /// gains one). New files are written first and the database switched in one
    /// transaction, so a failure or crash at any point leaves the store readable with
    /// either the old key or the new one, never a mix.
    pub fn rotate_key(&self, new_key: Option<StoreKey>) -> Result<(), HistoryError> {
        let _span = tracing::info_span!("history_rotate_key").entered();
        let mut inner = self.lock()?;
        let new = Codec::from_key(new_key.as_ref());
        let lesions: Vec<(i64, Vec<u8>)> = {
            let mut stmt = inner.conn.prepare("SELECT id, info FROM lesions").map_err(|e| inner.file.error(e))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| inner.file.error(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| inner.file.error(e))?
        };
        let scans: Vec<(i64, Vec<u8>, String, String)> = {
            let mut stmt = inner.conn.prepare("SELECT id, health, photo_file, mask_file FROM scans").map_err(|e| inner.file.error(e))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(|e| inner.file.error(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| inner.file.error(e))?
        };
        let db_path = self.dir.join(DB_FILE);
        let mut created = Vec::new();
        let result = (|| {
            let mut lesion_rows = Vec::new();
            for (id, info) in &lesions {
                lesion_rows.push((*id, new.encode("lesion", &inner.codec.decode("lesion", info, &db_path)?)?));
            }
            let mut scan_rows = Vec::new();
            for (id, health, photo_file, mask_file) in &scans {
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
            }
            let key_check = if new.is_sealed() { Some(new.encode("key_check", KEY_CHECK)?) } else { None };
            let file = inner.file.clone();
            let tx = inner.conn.transaction().map_err(|e| file.error(e))?;
            for (id, info) in &lesion_rows {
                tx.execute("UPDATE lesions SET info = ?1 WHERE id = ?2", params![info, id]).map_err(|e| file.error(e))?;
            }
            for (id, health, names) in &scan_rows {
                let (photo, mask) = (names.first().cloned().unwrap_or_default(), names.get(1).cloned().unwrap_or_default());
                tx.execute("UPDATE scans SET health = ?1, photo_file = ?2, mask_file = ?3 WHERE id = ?4", params![health, photo, mask, id])
                    .map_err(|e| file.error(e))?;
            }
            tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('key_check', ?1)", params![key_check])
                .map_err(|e| file.error(e))?;
            tx.commit().map_err(|e| file.error(e))
        })();
        if let Err(e) = result {
            for name in created {
                let _ = files::remove(&self.files_dir, &name);
            }
            return Err(e);
        }
        inner.codec = new;
        self.collect_garbage(&inner)?;
        Ok(())
    }

    /// Checks the whole store: database integrity and foreign keys, every scan's files
    /// present, matching their names and opening with the key, and no unreferenced files.
    pub fn check(&self) -> Result<StoreCheck, HistoryError> {
        let inner = self.lock()?;
        let mut report = StoreCheck::default();
        let integrity: String = inner.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| inner.file.error(e))?;
        if integrity != "ok" {
            report.problems.push(format!("database: {integrity}"));
        }
        let fk: Option<i64> =
            inner.conn.query_row("PRAGMA foreign_key_check", [], |r| r.get(1)).optional().map_err(|e| inner.file.error(e))?;
        if let Some(row) = fk {
            report.problems.push(format!("database: scan {row} names a missing lesion"));
        }
        report.lesions = Self::all_lesions(&inner).map(|l| l.len()).unwrap_or_else(|e| {
            report.problems.push(e.to_string());
            0
        });
        let ids: Vec<i64> = {
            let mut stmt = inner.conn.prepare("SELECT id FROM scans").map_err(|e| inner.file.error(e))?;
            stmt.query_map([], |r| r.get(0)).map_err(|e| inner.file.error(e))?.collect::<Result<_, _>>().map_err(|e| inner.file.error(e))?
        };
        report.scans = ids.len();
        for id in ids {
            let outcome = self.record(&inner, id).and_then(|r| {
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
        let referenced = Self::referenced_files(&inner)?;
        for (name, _) in files::list(&self.files_dir)? {
            report.files += 1;
            if !referenced.contains(&name) {
                report.problems.push(format!("unreferenced file {name}"));
            }
        }
        Ok(report)
    }
}
