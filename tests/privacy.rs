//! Privacy is the product: no networking crate may enter the SDK's dependency tree, and a
//! scan writes nothing outside the folders it is given.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn no_networking_crate_in_the_dependency_tree() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "-p", "dermscan", "-e", "normal,build", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"ort"), "the tree was read: {crates:?}");
    let banned = [
        "reqwest",
        "hyper",
        "ureq",
        "curl",
        "isahc",
        "attohttpc",
        "rustls",
        "native-tls",
        "openssl",
        "tokio",
        "async-std",
        "mio",
        "socket2",
        "h2",
        "http",
        "url",
    ];
    let found: Vec<&&str> = crates.iter().filter(|c| banned.contains(c)).collect();
    assert!(found.is_empty(), "networking crates in the SDK's dependency tree: {found:?}");
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// The `scan` example run as a user runs it, in a process of its own (ONNX Runtime loads once
/// per process), with `$HOME` and the temporary folder pointing at an empty folder. ONNX
/// Runtime 1.31's telemetry client wrote a device identifier and an event database to
/// `$HOME/.cache/Microsoft/DeveloperTools/.onnxruntime/` on every such scan until the SDK set
/// `ORT_DISABLE_TELEMETRY` before loading the library (`model::runtime`).
#[test]
fn a_scan_writes_nothing_outside_its_output_folder() {
    let home = tempfile::tempdir().expect("temp dir");
    let tmp = home.path().join("tmp");
    std::fs::create_dir(&tmp).expect("temp folder");
    let out = tempfile::tempdir().expect("temp dir");
    let run = Command::new(support::example_bin("scan"))
        .arg(support::sample_photo())
        .arg("--model")
        .arg(support::model_dir("litemedsam"))
        .args(["--no-classifier", "--out"])
        .arg(out.path())
        .env("HOME", home.path())
        .env("TMPDIR", &tmp)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove(dermscan::model::runtime::TELEMETRY_ENV)
        .current_dir(out.path())
        .output()
        .expect("scan runs");
    assert!(run.status.success(), "scan failed: {}", String::from_utf8_lossy(&run.stderr));
    assert!(out.path().join("result.json").is_file(), "the scan wrote its result");
    let written = files_under(home.path());
    assert!(written.is_empty(), "the scan wrote outside its output folder: {written:?}");
}
