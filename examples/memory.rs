//! Resident memory at each stage of a full analysis (Linux: `/proc/self/status`).
//!
//! `cargo run --release --example memory -- [PHOTO] [--no-classifier] [--model DIR] [--classifier DIR]`
//!
//! Prints the resident set (VmRSS) and its peak so far (VmHWM) after each stage: start,
//! segmenter loaded, classifier loaded, photo decoded, first scan, second scan. The peak
//! after the last stage is what `/usr/bin/time -v` reports as "Maximum resident set size".
//! `scripts/bench-memory` runs it on the 2 MP sample and a 12 MP photo, with and without
//! the classifier. A measuring tool, not a test: the figures depend on the allocator and
//! on ONNX Runtime's version.

use std::path::PathBuf;

use dermscan::{Engine, EngineConfig, Image, ScanOptions};

/// (VmRSS, VmHWM) in MB, or zeros where `/proc` is not available.
fn resident_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn report(stage: &str) {
    let (rss, peak) = resident_mb();
    println!("{stage:<24} resident {rss:7.1} MB   peak so far {peak:7.1} MB");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut photo = PathBuf::from("assets/samples/forearm-nevi.jpg");
    let (mut model, mut classifier) = (PathBuf::from("models/litemedsam"), Some(PathBuf::from("models/ham10000-xception")));
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        use lexopt::Arg::{Long, Value};
        match arg {
            Long("no-classifier") => classifier = None,
            Long("classifier") => classifier = Some(parser.value()?.into()),
            Long("model") => model = parser.value()?.into(),
            Value(v) => photo = v.into(),
            _ => return Err(arg.unexpected().into()),
        }
    }
    report("start");
    let engine = Engine::new(EngineConfig::new(&model))?;
    report("segmenter loaded");
    let engine = match &classifier {
        Some(dir) => {
            drop(engine);
            let engine = Engine::new(EngineConfig::new(&model).with_classifier(dir))?;
            report("classifier loaded");
            engine
        }
        None => engine,
    };
    let image = Image::open(&photo, &engine.config().image_limits)?;
    report(&format!("photo decoded {}x{}", image.width(), image.height()));
    let first = engine.scan(&image, &ScanOptions::default())?;
    report("first scan");
    let second = engine.scan(&image, &ScanOptions::default())?;
    report("second scan");
    println!("lesion {} px; scans {:.0} ms, {:.0} ms", first.mask.area_px(), first.timings.total_ms, second.timings.total_ms);
    Ok(())
}
