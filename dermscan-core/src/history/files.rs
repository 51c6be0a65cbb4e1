//! The store's files (photos, masks): content-named, written atomically.
//!
//! A file is named after the SHA-256 of its stored bytes (sealed bytes when the store is
//! encrypted), so a name says what the file must contain and a damaged file is found on
//! read. Writing goes to a temporary file in the same directory, which is flushed to disk
//! (`fsync`), renamed over the final name and the directory flushed too: a crash leaves the
//! old state or the new one, never half a file. Temporary files left by a crash start with
//! [`TEMP_PREFIX`] and are removed when the store is next opened.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::HistoryError;

/// Prefix of temporary files.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Maps an I/O error on `path` to the store's error: read-only and full-disk failures get
/// their own variants.
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> HistoryError {
    use std::io::ErrorKind;
    let path = path.to_path_buf();
    match (source.kind(), source.raw_os_error()) {
        (ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge, _) | (_, Some(27 | 28 | 122)) => {
            HistoryError::StorageFull { path, detail: source.to_string() }
        }
        (ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem, _) => HistoryError::ReadOnly { path },
        _ => HistoryError::Io { path, source },
    }
}

/// Writes `bytes` to `dir/name` atomically. Returns whether a new file was made (`false`
/// when an identical file was there already).
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<bool, HistoryError> {
    let target = dir.join(name);
    if target.exists() {
        return Ok(false);
    }
    replace_atomic(&target, bytes)?;
    Ok(true)
}

/// Writes `bytes` to `path` through a temporary file beside it (flushed, renamed over
/// `path`, directory flushed), so `path` holds either its old content or the new one.
pub(crate) fn replace_atomic(path: &Path, bytes: &[u8]) -> Result<(), HistoryError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = dir.join(format!("{TEMP_PREFIX}{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        sync_dir(dir)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&temp);
        io_error(path, e)
    })
}

/// Flushes a directory entry change (rename, unlink) to disk.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads `dir/name` and checks it still has the content its name promises.
pub(crate) fn read_verified(dir: &Path, name: &str) -> Result<Vec<u8>, HistoryError> {
    let path = dir.join(name);
    let bytes = fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => HistoryError::Corrupt { path: path.clone(), detail: "the file is missing".into() },
        _ => io_error(&path, e),
    })?;
    let stem = name.split('.').next().unwrap_or(name);
    if sha256_hex(&bytes) != stem {
        return Err(HistoryError::Corrupt { path, detail: "the file's content does not match its name (SHA-256)".into() });
    }
    Ok(bytes)
}

/// Every file in `dir`: `(name, size)`.
pub(crate) fn list(dir: &Path) -> Result<Vec<(String, u64)>, HistoryError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let size = entry.metadata().map_err(|e| io_error(&entry.path(), e))?.len();
        if let Some(name) = entry.file_name().to_str() {
            out.push((name.to_owned(), size));
        }
    }
    Ok(out)
}

/// Removes `dir/name` if it exists.
pub(crate) fn remove(dir: &Path, name: &str) -> Result<(), HistoryError> {
    let path: PathBuf = dir.join(name);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_names_by_content_and_verifies() {
        let dir = tempfile_dir();
        let name = format!("{}.bin", sha256_hex(b"abc"));
        assert!(write_atomic(&dir, &name, b"abc").expect("write"));
        assert!(!write_atomic(&dir, &name, b"abc").expect("second write is a no-op"));
        assert_eq!(read_verified(&dir, &name).expect("read"), b"abc");
        fs::write(dir.join(&name), b"abd").expect("tamper");
        assert!(matches!(read_verified(&dir, &name), Err(HistoryError::Corrupt { .. })));
        assert!(list(&dir).expect("list").iter().all(|(n, _)| !n.starts_with(TEMP_PREFIX)));
        fs::remove_dir_all(&dir).expect("clean up");
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dermscan-files-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
