//! Shared helpers for the integration tests: repository paths, one engine per model for the
//! whole test binary, the Python reference runner and report files.
#![allow(dead_code)]

#[path = "synth.rs"]
pub mod synth;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use dermscan::{Engine, EngineConfig};

/// Repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn model_dir(name: &str) -> PathBuf {
    root().join("models").join(name)
}

pub fn sample_photo() -> PathBuf {
    root().join("assets/samples/forearm-nevi.jpg")
}

/// One engine per bundle, shared by every test in the binary (2 intra-op threads).
pub fn engine(model: &str) -> Arc<Engine> {
    type Engines = Mutex<Vec<(String, Arc<Engine>)>>;
    static ENGINES: OnceLock<Engines> = OnceLock::new();
    let engines = ENGINES.get_or_init(|| Mutex::new(Vec::new()));
    let mut engines = engines.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, e)) = engines.iter().find(|(m, _)| m == model) {
        return Arc::clone(e);
    }
    let engine = Arc::new(Engine::new(EngineConfig::new(model_dir(model)).with_threads(2)).expect("engine loads; run scripts/setup"));
    engines.push((model.to_string(), Arc::clone(&engine)));
    engine
}

/// The Python of the reference venv made by `scripts/setup`.
pub fn python() -> PathBuf {
    std::env::var_os("DERMSCAN_PYTHON").map(PathBuf::from).unwrap_or_else(|| root().join(".venv/bin/python"))
}

/// An example program, built by `cargo build --examples` (scripts/test does) next to the
/// running test's binary; the tests that run one need a process of its own.
pub fn example_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let profile = exe.parent().and_then(Path::parent).expect("target profile dir");
    let bin = profile.join("examples").join(name);
    assert!(bin.exists(), "{} is missing: run `cargo build --examples` first (scripts/test does)", bin.display());
    bin
}

/// Writes a named report under `target/reports/` (CI prints them) and echoes it to stderr.
pub fn report(name: &str, text: &str) {
    let dir = root().join("target/reports");
    std::fs::create_dir_all(&dir).expect("report dir");
    std::fs::write(dir.join(format!("{name}.txt")), text).expect("write report");
    eprintln!("{text}");
}

/// Reads a little-endian float32 `.npy` file (as numpy writes it) into (shape, values).
pub fn read_npy_f32(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).expect("npy");
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not an npy file");
    let (header_len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).expect("header");
    assert!(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"), "{header}");
    let shape_text = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).expect("shape");
    let shape = shape_text.split(',').filter(|s| !s.trim().is_empty()).map(|s| s.trim().parse().expect("dim")).collect();
    let data = bytes[start + header_len..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    (shape, data)
}

pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}
