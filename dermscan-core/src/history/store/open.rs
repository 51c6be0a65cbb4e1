//! Opening a store: the directory, the process lock, the database (schema check, pragmas,
//! migrations) and the key check.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use super::{DB_FILE, FILES_DIR, HistoryStore, Inner, KEY_CHECK, LOCK_FILE, StoreConfig};
use crate::error::HistoryError;
use crate::history::db::DbFile;
use crate::history::files;
use crate::history::schema;
use crate::history::seal::Codec;

impl HistoryStore {
    /// Opens the store in `dir`, creating the directory and an empty store if needed.
    ///
    /// Runs schema migrations, checks the key, and removes files a crash left behind.
    /// Errors: [`HistoryError::ReadOnly`], [`HistoryError::Corrupt`] (the database is left
    /// as it is), [`HistoryError::NewerSchema`], [`HistoryError::Locked`] (another
    /// process has the store open; `open` waits up to a second for it to let go),
    /// [`HistoryError::KeyRequired`], [`HistoryError::WrongKey`], [`HistoryError::NotEncrypted`].
    pub fn open(dir: impl AsRef<Path>, config: StoreConfig) -> Result<Self, HistoryError> {
        let dir = dir.as_ref().to_path_buf();
        let _span = tracing::info_span!("history_open", dir = %dir.display()).entered();
        fs::create_dir_all(&dir).map_err(|e| files::io_error(&dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| files::io_error(&lock_path, e))?;
        take_lock(&lock, &lock_path, &dir)?;
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
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| file.error(e))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| file.error(e))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(|e| file.error(e))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| file.error(e))?;
        schema::migrate_to(&mut conn, &file, schema::CURRENT)?;
        let codec = key_codec(&conn, &file, &config, &db_path)?;
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
}

/// How long [`HistoryStore::open`] waits for another holder of the store's lock to let go.
///
/// A store just closed can stay locked for a moment: a child process the host app starts
/// (fork, then exec) holds a copy of every open file until its exec closes them, and the
/// lock belongs to the file, not to the process that took it.
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// Takes the store's process lock on `lock`, waiting up to [`LOCK_WAIT`] for it;
/// [`HistoryError::Locked`] if it stays held.
fn take_lock(lock: &fs::File, lock_path: &Path, dir: &Path) -> Result<(), HistoryError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(fs::TryLockError::WouldBlock) => return Err(HistoryError::Locked { path: dir.to_path_buf() }),
            Err(fs::TryLockError::Error(e)) => return Err(files::io_error(lock_path, e)),
        }
    }
}

/// The codec for `config`'s key, checked against the key check stored in the database; a
/// new, empty store given a key stores its check.
fn key_codec(conn: &Connection, file: &DbFile, config: &StoreConfig, db_path: &Path) -> Result<Codec, HistoryError> {
    let stored_check: Option<Vec<u8>> =
        conn.query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| r.get(0)).optional().map_err(|e| file.error(e))?.flatten();
    match (&config.key, stored_check) {
        (None, None) => Ok(Codec::Plain),
        (None, Some(_)) => Err(HistoryError::KeyRequired),
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
            Ok(codec)
        }
        (Some(key), Some(sealed)) => {
            let codec = Codec::from_key(Some(key));
            if codec.decode("key_check", &sealed, db_path).ok().as_deref() != Some(KEY_CHECK) {
                return Err(HistoryError::WrongKey);
            }
            Ok(codec)
        }
    }
}
