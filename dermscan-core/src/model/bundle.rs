//! Opening and verifying a model bundle folder.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{Manifest, SCHEMA_VERSION};
use super::onnx_io::read_graph_io;
use crate::error::ModelError;

/// A verified model bundle: the manifest plus the bytes of every file, each checked against
/// its SHA-256 and size, and each ONNX graph's inputs and outputs checked against the
/// manifest. ONNX Runtime is later given these same bytes, so a file swapped on disk after
/// verification is never loaded.
#[derive(Clone)]
pub struct ModelBundle {
    dir: PathBuf,
    manifest: Manifest,
    manifest_sha256: String,
    files: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for ModelBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelBundle").field("dir", &self.dir).field("name", &self.manifest.name).finish()
    }
}

/// Identity of a loaded model, as reported in results.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ModelInfo {
    /// Bundle name.
    pub name: String,
    /// Model family.
    pub family: String,
    /// Model version.
    pub version: String,
    /// Precision variant.
    pub variant: String,
    /// SHA-256 of `manifest.json`, which pins the digest of every file in the bundle.
    pub sha256: String,
}

impl ModelBundle {
    /// Reads `dir/manifest.json` and every file it lists, verifying each.
    ///
    /// ```
    /// use dermscan_core::model::ModelBundle;
    /// let err = ModelBundle::open("/nonexistent/bundle").unwrap_err();
    /// assert!(err.to_string().contains("manifest.json"));
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, ModelError> {
        let dir = dir.as_ref().to_owned();
        let _span = tracing::info_span!("open_bundle", dir = %dir.display()).entered();
        let manifest_path = dir.join("manifest.json");
        let raw = std::fs::read(&manifest_path).map_err(|source| ModelError::Io { path: manifest_path.clone(), source })?;
        let invalid = |reason: String| ModelError::Manifest { path: manifest_path.clone(), reason };
        let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| invalid(e.to_string()))?;
        let schema = value.get("schema_version").and_then(serde_json::Value::as_u64).ok_or_else(|| invalid("no schema_version".into()))?;
        if schema > u64::from(SCHEMA_VERSION) {
            return Err(ModelError::UnsupportedSchema { found: schema as u32, supported: SCHEMA_VERSION });
        }
        let manifest: Manifest = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        if manifest.files.is_empty() {
            return Err(invalid("lists no files".into()));
        }
        let canonical_dir = dir.canonicalize().map_err(|source| ModelError::Io { path: dir.clone(), source })?;
        let mut files = Vec::new();
        for (role, entry) in &manifest.files {
            let path = resolve_inside(&canonical_dir, &entry.path)?;
            let bytes = std::fs::read(&path).map_err(|source| ModelError::Io { path: path.clone(), source })?;
            if bytes.len() as u64 != entry.size {
                return Err(ModelError::SizeMismatch { file: entry.path.clone(), expected: entry.size, actual: bytes.len() as u64 });
            }
            let actual = hex(&Sha256::digest(&bytes));
            if !actual.eq_ignore_ascii_case(&entry.sha256) {
                return Err(ModelError::ChecksumMismatch { file: entry.path.clone(), expected: entry.sha256.clone(), actual });
            }
            if let Some(expected) = manifest.tensors.get(role) {
                let io = read_graph_io(&bytes).map_err(|detail| ModelError::TensorMismatch { file: entry.path.clone(), detail })?;
                if io.inputs != expected.inputs || io.outputs != expected.outputs {
                    let detail = format!(
                        "graph has inputs {:?} and outputs {:?}, manifest says {:?} and {:?}",
                        io.inputs, io.outputs, expected.inputs, expected.outputs
                    );
                    return Err(ModelError::TensorMismatch { file: entry.path.clone(), detail });
                }
            }
            files.push((role.clone(), bytes));
        }
        Ok(Self { dir, manifest, manifest_sha256: hex(&Sha256::digest(&raw)), files })
    }

    /// The bundle folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parsed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Name, family, version and digest of the bundle.
    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.manifest.name.clone(),
            family: self.manifest.family.clone(),
            version: self.manifest.version.clone(),
            variant: self.manifest.variant.clone(),
            sha256: self.manifest_sha256.clone(),
        }
    }

    /// Verified bytes of the file with the given role (`encoder`, `decoder`).
    pub fn file(&self, role: &str) -> Option<&[u8]> {
        self.files.iter().find(|(r, _)| r == role).map(|(_, b)| b.as_slice())
    }

    /// Fails with [`ModelError::WrongKind`] unless the bundle is of `kind`.
    pub fn expect_kind(&self, kind: &str) -> Result<(), ModelError> {
        if self.manifest.kind == kind {
            Ok(())
        } else {
            Err(ModelError::WrongKind { name: self.manifest.name.clone(), expected: kind.into(), found: self.manifest.kind.clone() })
        }
    }
}

/// Joins a manifest path to the bundle folder, refusing absolute paths, `..` and symlinks that
/// lead outside it.
fn resolve_inside(dir: &Path, relative: &str) -> Result<PathBuf, ModelError> {
    let escapes = || ModelError::PathEscapesBundle { path: relative.into() };
    let rel = Path::new(relative);
    if relative.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(escapes());
    }
    let joined = dir.join(rel);
    match joined.canonicalize() {
        Ok(real) if real.starts_with(dir) => Ok(real),
        Ok(_) => Err(escapes()),
        Err(source) => Err(ModelError::Io { path: joined, source }),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_may_not_leave_the_bundle() {
        let dir = std::env::temp_dir().canonicalize().expect("tmp");
        for bad in ["../x.onnx", "/etc/passwd", "a/../../x", ""] {
            assert!(matches!(resolve_inside(&dir, bad), Err(ModelError::PathEscapesBundle { .. })), "{bad}");
        }
    }
}
