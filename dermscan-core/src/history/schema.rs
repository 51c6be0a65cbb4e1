//! Database schema: versions and migrations.
//!
//! The version lives in SQLite's `user_version`. Opening a store runs, in one transaction
//! each, every migration above the database's version, so an app that updates the SDK
//! upgrades its users' stores on first open; a failed migration rolls back and leaves the
//! old version intact. A database with a version above [`CURRENT`] was written by a newer
//! SDK and is refused ([`HistoryError::NewerSchema`]) without being touched.
//!
//! Upgrade path, for whoever changes the schema: append a migration to [`MIGRATIONS`] (never
//! edit a released one), bump nothing else ([`CURRENT`] is its length), and add a test that
//! opens a database of the previous version.
//!
//! | version | change |
//! |---|---|
//! | 1 | `meta`, `lesions`, `scans` (with foreign key to `lesions`, deleting cascades) |
//! | 2 | index `scans_by_lesion (lesion_id, taken_at)` for timelines |

use rusqlite::Connection;

use super::db::DbFile;
use crate::error::HistoryError;

/// Migrations in order; migration `i` takes the database from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value BLOB);
     CREATE TABLE lesions (
         id INTEGER PRIMARY KEY,
         created_at INTEGER NOT NULL,
         info BLOB NOT NULL
     );
     CREATE TABLE scans (
         id INTEGER PRIMARY KEY,
         lesion_id INTEGER NOT NULL REFERENCES lesions(id) ON DELETE CASCADE,
         taken_at INTEGER NOT NULL,
         width INTEGER NOT NULL,
         height INTEGER NOT NULL,
         mm_per_px REAL,
         models TEXT NOT NULL,
         health BLOB NOT NULL,
         photo_file TEXT NOT NULL,
         mask_file TEXT NOT NULL
     );",
    "CREATE INDEX scans_by_lesion ON scans (lesion_id, taken_at);",
];

/// The schema version this SDK writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// The database's schema version.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the database up to `target` (at most [`CURRENT`]), one transaction per step.
pub(crate) fn migrate_to(conn: &mut Connection, file: &DbFile, target: i64) -> Result<(), HistoryError> {
    let found = version(conn).map_err(|e| file.error(e))?;
    if found > CURRENT {
        return Err(HistoryError::NewerSchema { found, supported: CURRENT });
    }
    for (i, sql) in
        MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)).take(usize::try_from(target - found).unwrap_or(0))
    {
        let tx = conn.transaction().map_err(|e| file.error(e))?;
        tx.execute_batch(sql).map_err(|e| file.error(e))?;
        tx.pragma_update(None, "user_version", i as i64 + 1).map_err(|e| file.error(e))?;
        tx.commit().map_err(|e| file.error(e))?;
        tracing::info!(version = i + 1, "history schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> DbFile {
        DbFile::new(std::path::Path::new("history.sqlite3"))
    }

    #[test]
    fn a_version_1_database_is_upgraded_without_loss() {
        let mut conn = Connection::open_in_memory().expect("sqlite");
        migrate_to(&mut conn, &file(), 1).expect("v1");
        conn.execute("INSERT INTO lesions (created_at, info) VALUES (1, x'7b7d')", []).expect("lesion");
        conn.execute(
            "INSERT INTO scans (lesion_id, taken_at, width, height, models, health, photo_file, mask_file) VALUES (1, 5, 4, 4, '[]', x'7b7d', 'a', 'b')",
            [],
        )
        .expect("scan");
        migrate_to(&mut conn, &file(), CURRENT).expect("upgrade");
        assert_eq!(version(&conn).expect("version"), CURRENT);
        let index: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'scans_by_lesion'", [], |r| r.get(0)).expect("index");
        assert_eq!(index, 1);
        let scans: i64 = conn.query_row("SELECT count(*) FROM scans", [], |r| r.get(0)).expect("count");
        assert_eq!(scans, 1);
        migrate_to(&mut conn, &file(), CURRENT).expect("idempotent");
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().expect("sqlite");
        conn.pragma_update(None, "user_version", CURRENT + 1).expect("bump");
        assert!(matches!(migrate_to(&mut conn, &file(), CURRENT), Err(HistoryError::NewerSchema { .. })));
    }
}
