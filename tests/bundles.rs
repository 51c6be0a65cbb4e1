//! Model bundle verification: tampering, missing files, escaping paths, wrong kinds.

mod support;

use std::path::Path;

use dermscan::error::{Error, ModelError};
use dermscan::{Engine, EngineConfig, ModelBundle};

/// Copies a bundle into a temporary folder so it can be damaged.
fn copy_bundle(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for entry in std::fs::read_dir(support::model_dir(name)).expect("bundle") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    dir
}

fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    edit(&mut m);
    std::fs::write(&path, serde_json::to_vec_pretty(&m).expect("json")).expect("write");
}

#[test]
fn committed_bundles_verify() {
    for name in ["litemedsam", "mobilesam"] {
        let bundle = ModelBundle::open(support::model_dir(name)).expect(name);
        assert_eq!(bundle.manifest().kind, "segmenter");
        assert_eq!(bundle.info().sha256.len(), 64);
    }
}

#[test]
fn one_changed_byte_is_a_checksum_error() {
    let dir = copy_bundle("litemedsam");
    let path = dir.path().join("decoder.onnx");
    let mut bytes = std::fs::read(&path).expect("read");
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&path, bytes).expect("write");
    let err = ModelBundle::open(dir.path()).expect_err("tampered");
    assert!(matches!(err, ModelError::ChecksumMismatch { ref file, .. } if file == "decoder.onnx"), "{err}");
}

#[test]
fn a_missing_model_file_is_an_io_error() {
    let dir = copy_bundle("litemedsam");
    std::fs::remove_file(dir.path().join("encoder.onnx")).expect("rm");
    let err = Engine::new(EngineConfig::new(dir.path())).expect_err("missing");
    assert!(matches!(err, Error::Model(ModelError::Io { .. })), "{err}");
    assert!(err.to_string().contains("encoder.onnx"));
}

#[test]
fn manifest_paths_cannot_leave_the_bundle() {
    let dir = copy_bundle("litemedsam");
    edit_manifest(dir.path(), |m| m["files"]["encoder"]["path"] = "../x.onnx".into());
    let err = ModelBundle::open(dir.path()).expect_err("escape");
    assert!(matches!(err, ModelError::PathEscapesBundle { ref path } if path == "../x.onnx"), "{err}");
}

#[test]
fn a_manifest_that_lies_about_the_graph_is_rejected() {
    let dir = copy_bundle("litemedsam");
    edit_manifest(dir.path(), |m| m["tensors"]["encoder"]["inputs"][0]["shape"] = serde_json::json!([1, 3, 1024, 1024]));
    let err = ModelBundle::open(dir.path()).expect_err("mismatch");
    assert!(matches!(err, ModelError::TensorMismatch { .. }), "{err}");
}

#[test]
fn swapped_model_files_are_rejected() {
    // MobileSAM's encoder under LiteMedSAM's manifest: digests no longer match.
    let dir = copy_bundle("litemedsam");
    std::fs::copy(support::model_dir("mobilesam").join("encoder.onnx"), dir.path().join("encoder.onnx")).expect("copy");
    assert!(matches!(ModelBundle::open(dir.path()), Err(ModelError::SizeMismatch { .. } | ModelError::ChecksumMismatch { .. })));
}

#[test]
fn a_bundle_of_another_kind_is_not_a_segmenter() {
    let dir = copy_bundle("litemedsam");
    edit_manifest(dir.path(), |m| m["kind"] = "classifier".into());
    let err = Engine::new(EngineConfig::new(dir.path())).expect_err("kind");
    assert!(matches!(err, Error::Model(ModelError::WrongKind { .. })), "{err}");
}

#[test]
fn newer_schemas_and_garbage_manifests_are_rejected() {
    let dir = copy_bundle("litemedsam");
    edit_manifest(dir.path(), |m| m["schema_version"] = 99.into());
    assert!(matches!(ModelBundle::open(dir.path()), Err(ModelError::UnsupportedSchema { found: 99, .. })));
    std::fs::write(dir.path().join("manifest.json"), b"{ not json").expect("write");
    assert!(matches!(ModelBundle::open(dir.path()), Err(ModelError::Manifest { .. })));
}
