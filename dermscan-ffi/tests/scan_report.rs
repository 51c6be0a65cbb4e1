//! One scan report: the `scan` example's `result.json`, the C ABI's `ds_scan_json` and the
//! core's `ScanReport` are the same document for the sample photo (LiteMedSAM and the
//! classifier, default options). Only what a single caller knows differs and is left out of
//! the comparison: the photo's path, the lesions' mask files and the timings.

#![allow(clippy::expect_used, reason = "a test: a failed step stops it with its message")]

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;

use dermscan_core::{Engine, EngineConfig, Image, ImageLimits, ScanOptions, ScanReport};
use dermscan_ffi::c_api::{
    DsBuffer, DsEngine, DsScan, DsStatus, ds_buffer_free, ds_engine_free, ds_engine_new_with_classifier, ds_scan_encoded, ds_scan_free,
    ds_scan_json,
};
use serde_json::Value;

const THREADS: u32 = 2;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The report without the fields only one caller fills in.
fn comparable(mut v: Value) -> Value {
    v["image"]["path"] = Value::Null;
    v["timings_ms"] = Value::Null;
    for lesion in v["lesions"].as_array_mut().expect("lesions is a list") {
        lesion["mask_file"] = Value::Null;
    }
    v
}

fn core_report(photo: &Path) -> Value {
    let config = EngineConfig::new(root().join("models/litemedsam"))
        .with_classifier(root().join("models/ham10000-xception"))
        .with_threads(THREADS as usize);
    let engine = Engine::new(config).expect("engine loads; run scripts/setup");
    let image = Image::open(photo, &ImageLimits::default()).expect("sample photo");
    let options = ScanOptions::default();
    let result = engine.scan(&image, &options).expect("scan");
    // Through the text, as every consumer reads it (f32 values print as f32).
    let text = serde_json::to_string(&ScanReport::new(&result, &options)).expect("report serialises");
    serde_json::from_str(&text).expect("report parses")
}

fn c_report(photo: &Path) -> Value {
    let bytes = std::fs::read(photo).expect("sample photo");
    let model = CString::new(root().join("models/litemedsam").to_string_lossy().as_bytes()).expect("path");
    let classifier = CString::new(root().join("models/ham10000-xception").to_string_lossy().as_bytes()).expect("path");
    let mut engine: *mut DsEngine = std::ptr::null_mut();
    // SAFETY: NUL-terminated strings, a NULL runtime path (the default), a writable out pointer.
    let status = unsafe { ds_engine_new_with_classifier(model.as_ptr(), classifier.as_ptr(), std::ptr::null(), THREADS, &mut engine) };
    assert_eq!(status, DsStatus::DS_OK, "ds_engine_new_with_classifier");
    let mut scan: *mut DsScan = std::ptr::null_mut();
    // SAFETY: a live engine, the file's bytes and length, NULL options (the defaults), a writable out pointer.
    let status = unsafe { ds_scan_encoded(engine, bytes.as_ptr(), bytes.len(), std::ptr::null(), &mut scan) };
    assert_eq!(status, DsStatus::DS_OK, "ds_scan_encoded");
    let mut json = DsBuffer { data: std::ptr::null_mut(), len: 0 };
    // SAFETY: a live scan and a writable buffer.
    let status = unsafe { ds_scan_json(scan, &mut json) };
    assert_eq!(status, DsStatus::DS_OK, "ds_scan_json");
    // SAFETY: the library filled `json` with `len` bytes at `data`.
    let text = unsafe { std::slice::from_raw_parts(json.data, json.len) }.to_vec();
    // SAFETY: each was made by this library and is freed once.
    unsafe {
        ds_buffer_free(&mut json);
        ds_scan_free(scan);
        ds_engine_free(engine);
    }
    serde_json::from_slice(&text).expect("ds_scan_json returns JSON")
}

fn example_report(photo: &Path) -> Value {
    let exe = std::env::current_exe().expect("test binary");
    let profile = exe.parent().and_then(Path::parent).expect("target profile dir");
    let bin = profile.join("examples").join("scan");
    assert!(bin.exists(), "{} is missing: run `cargo build --examples` first (scripts/test does)", bin.display());
    let out = std::env::temp_dir().join(format!("dermscan-report-{}", std::process::id()));
    let status = Command::new(&bin)
        .current_dir(root())
        .arg(photo)
        .args(["--out", &out.to_string_lossy(), "--threads", &THREADS.to_string()])
        .status()
        .expect("run the scan example");
    assert!(status.success(), "scan example failed");
    let text = std::fs::read(out.join("result.json")).expect("result.json");
    let _ = std::fs::remove_dir_all(&out);
    serde_json::from_slice(&text).expect("result.json is JSON")
}

/// The first place where two documents differ, as a path with both values.
fn difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(u), Some(v)) => difference(u, v, &format!("{path}.{k}")),
                _ => Some(format!("{path}.{k} is only on one side")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (u, v))| difference(u, v, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn example_c_abi_and_core_emit_the_same_report() {
    let photo = root().join("assets/samples/forearm-nevi.jpg");
    let core = core_report(&photo);
    let example = example_report(&photo);
    let c = c_report(&photo);
    // Every documented key of result.json is there, with a lesion found on the sample.
    for key in [
        "image",
        "roi",
        "crop",
        "mask",
        "model",
        "features",
        "classification",
        "classifier",
        "risk",
        "lesions",
        "quality",
        "timings_ms",
        "disclaimer",
    ] {
        assert!(core.get(key).is_some(), "the report has `{key}`");
    }
    assert!(!core["lesions"].as_array().expect("list").is_empty(), "the sample's mole is found");
    assert_eq!(example["lesions"][0]["mask_file"], "lesion_0.png");
    assert!(example["timings_ms"]["decode_image"].is_number());
    let core = comparable(core);
    assert_eq!(difference(&comparable(example), &core, "result.json"), None, "the scan example's result.json is the core report");
    assert_eq!(difference(&comparable(c), &core, "ds_scan_json"), None, "ds_scan_json is the core report");
}
