//! The store's database file: where it is, and how SQLite's errors become the store's
//! errors naming that file.

use std::path::Path;
use std::sync::Arc;

use rusqlite::ErrorCode;

use crate::error::HistoryError;

/// The path of an open store's database, shared by everything that reports its errors.
#[derive(Debug, Clone)]
pub(crate) struct DbFile(Arc<Path>);

impl DbFile {
    pub(crate) fn new(path: &Path) -> Self {
        Self(Arc::from(path))
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Maps a database error to the store's error, naming this file.
    pub(crate) fn error(&self, e: rusqlite::Error) -> HistoryError {
        let path = self.0.to_path_buf();
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DiskFull => HistoryError::StorageFull { path, detail: e.to_string() },
                ErrorCode::ReadOnly | ErrorCode::PermissionDenied => HistoryError::ReadOnly { path },
                ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => HistoryError::Corrupt { path, detail: e.to_string() },
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => HistoryError::Locked { path },
                _ => HistoryError::Database { path, source: Box::new(e) },
            },
            _ => HistoryError::Database { path, source: Box::new(e) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_real_file() {
        let file = DbFile::new(Path::new("/data/app/history/history.sqlite"));
        let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY), None);
        match file.error(e) {
            HistoryError::ReadOnly { path } => assert_eq!(path, Path::new("/data/app/history/history.sqlite")),
            other => panic!("unexpected {other:?}"),
        }
    }
}
