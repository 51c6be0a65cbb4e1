//! A model bundle from outside: any `manifest.json` beside any model file, and the ONNX
//! graph reader on any bytes. Nothing may panic; every failure is a `ModelError`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use dermscan_core::model::{ModelBundle, read_graph_io};
use libfuzzer_sys::fuzz_target;

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("dermscan-fuzz-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let manifest_len = b.u16() as usize;
    let manifest = b.take(manifest_len);
    let model = b.rest();
    let _ = read_graph_io(model);
    let dir = dir();
    std::fs::write(dir.join("manifest.json"), manifest).expect("write manifest");
    std::fs::write(dir.join("model.onnx"), model).expect("write model");
    let _ = ModelBundle::open(dir);
});
