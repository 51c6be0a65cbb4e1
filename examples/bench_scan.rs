//! The Rust side of `scripts/bench-bindings`: the same job as `bindings/python/bench/bench_scan.py`
//! and `bindings/kotlin/bench/BenchScan.kt`, through the facade's public API.
//!
//! ```text
//! cargo run --release --example bench_scan -- IMAGE MODEL_DIR SCANS WARMUP
//! ```
//! One engine on MODEL_DIR with 2 threads (ONNX Runtime from `DERMSCAN_ORT_LIB` or
//! `.runtime/onnxruntime/`), then WARMUP untimed and SCANS timed scans of IMAGE's encoded bytes
//! with default options. Each timed scan is decode + `Engine::scan`; the result is dropped after
//! the clock stops. Prints one line per timed scan: wall milliseconds and the scan's own
//! `timings.total_ms` (inside the core, decode excluded), so the script can separate the cost
//! around the core scan (decode, bindings) from ONNX Runtime's run-to-run noise.

use std::time::Instant;

use dermscan::{Engine, EngineConfig, Image, ImageLimits, ScanOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Four positional arguments, taken as they are: none is a flag.
    let args: Vec<String> = lexopt::Parser::from_env().raw_args()?.map(|a| a.to_string_lossy().into_owned()).collect();
    let [image, model, scans, warmup] = &args[..] else {
        return Err("usage: bench_scan IMAGE MODEL_DIR SCANS WARMUP".into());
    };
    let (scans, warmup): (usize, usize) = (scans.parse()?, warmup.parse()?);
    let bytes = std::fs::read(image)?;
    let engine = Engine::new(EngineConfig::new(model).with_threads(2))?;
    let limits = ImageLimits::default();
    let options = ScanOptions::default();
    for i in 0..warmup + scans {
        let start = Instant::now();
        // Same work as the bindings' ImageSource.Encoded: decode the bytes, then scan.
        let result = engine.scan(&Image::from_bytes(&bytes, &limits)?, &options)?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let core_ms = result.timings.total_ms;
        drop(result);
        if i >= warmup {
            println!("{ms:.3} {core_ms:.3}");
        }
    }
    Ok(())
}
