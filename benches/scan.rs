//! Scan benchmarks on the bundled sample photo (criterion).
//!
//! `scripts/bench` runs this together with the Python reference (`tools/reference/bench.py`)
//! in the same session and prints the comparison table used in the README.
//!
//! Besides criterion's timings, the bench writes `target/reports/bench_overhead.json`: the
//! median share of a scan spent outside ONNX Runtime (decode, ROI, pre- and post-processing,
//! and for the full analysis measurements, quality gate, risk and the classifier's crop).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use dermscan::preprocess::prepare;
use dermscan::{BoxPrompt, CropPolicy, Engine, EngineConfig, Image, ImageLimits, MaskMode, ScanOptions};

/// The box the reference benchmark prompts with (the sample's most prominent mole).
const SAMPLE_BOX: [f32; 4] = [554.0, 650.0, 668.0, 755.0];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn engine(model: &str) -> Engine {
    Engine::new(EngineConfig::new(root().join("models").join(model)).with_threads(2)).expect("engine; run scripts/setup")
}

/// The engine of the full analysis: LiteMedSAM plus the HAM10000 classifier.
fn analysis_engine() -> Engine {
    let config =
        EngineConfig::new(root().join("models/litemedsam")).with_classifier(root().join("models/ham10000-xception")).with_threads(2);
    Engine::new(config).expect("engine; run scripts/setup")
}

fn sample_bytes() -> Vec<u8> {
    std::fs::read(root().join("assets/samples/forearm-nevi.jpg")).expect("sample photo")
}

fn same_calls_as_reference() -> ScanOptions {
    let [x0, y0, x1, y1] = SAMPLE_BOX;
    ScanOptions::default()
        .with_box(BoxPrompt::new(x0, y0, x1, y1))
        .with_crop(CropPolicy::WholeImage)
        .with_mask_mode(MaskMode::Upstream)
        .with_snap_edges(false)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median per-stage timings of `runs` full scans (decode included), written as JSON.
fn overhead_report(engine: &Engine, analysis: &Engine, bytes: &[u8], runs: usize) {
    let mut report = serde_json::Map::new();
    for (name, engine, options) in [
        ("auto_roi_crop_auto", engine, ScanOptions::default()),
        ("box_crop_none_upstream", engine, same_calls_as_reference()),
        ("full_analysis_same_calls", analysis, same_calls_as_reference()),
        ("full_analysis_default", analysis, ScanOptions::default()),
    ] {
        let (mut total, mut model, mut decode) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            let image = Image::from_bytes(bytes, &ImageLimits::default()).expect("decode");
            let d = t.elapsed().as_secs_f64() * 1e3;
            let scan = engine.scan(&image, &options).expect("scan");
            total.push(t.elapsed().as_secs_f64() * 1e3);
            model.push(scan.timings.model_ms());
            decode.push(d);
        }
        let shares: Vec<f64> = total.iter().zip(&model).map(|(t, m)| (t - m) / t).collect();
        report.insert(
            name.into(),
            serde_json::json!({
                "runs": runs,
                "total_ms_median": median(total),
                "onnxruntime_ms_median": median(model),
                "decode_ms_median": median(decode),
                "sdk_share_outside_onnxruntime_median": median(shares),
            }),
        );
    }
    let dir = root().join("target/reports");
    std::fs::create_dir_all(&dir).expect("reports dir");
    std::fs::write(dir.join("bench_overhead.json"), serde_json::to_string_pretty(&report).expect("json")).expect("write");
    eprintln!("{}", serde_json::to_string_pretty(&report).expect("json"));
}

fn benches(c: &mut Criterion) {
    let bytes = sample_bytes();
    let lite = engine("litemedsam");
    let analysis = analysis_engine();
    // `cargo test` runs benches once as a smoke test; keep that quick.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    overhead_report(&lite, &analysis, &bytes, if benchmarking { 10 } else { 1 });

    let mut g = c.benchmark_group("sample_scan");
    g.sample_size(10);
    g.bench_function("litemedsam_box_crop_none_upstream", |b| {
        b.iter(|| {
            let image = Image::from_bytes(black_box(&bytes), &ImageLimits::default()).expect("decode");
            lite.scan(&image, &same_calls_as_reference()).expect("scan")
        })
    });
    g.bench_function("litemedsam_auto_roi_crop_auto", |b| {
        b.iter(|| {
            let image = Image::from_bytes(black_box(&bytes), &ImageLimits::default()).expect("decode");
            lite.scan(&image, &ScanOptions::default()).expect("scan")
        })
    });
    // The full analysis: scan, measurements, classifier, quality, risk.
    g.bench_function("analysis_box_crop_none_upstream", |b| {
        b.iter(|| {
            let image = Image::from_bytes(black_box(&bytes), &ImageLimits::default()).expect("decode");
            analysis.scan(&image, &same_calls_as_reference()).expect("scan")
        })
    });
    g.bench_function("analysis_auto_roi_crop_auto", |b| {
        b.iter(|| {
            let image = Image::from_bytes(black_box(&bytes), &ImageLimits::default()).expect("decode");
            analysis.scan(&image, &ScanOptions::default()).expect("scan")
        })
    });
    g.finish();

    let image = Image::from_bytes(&bytes, &ImageLimits::default()).expect("decode");
    let scan = lite.scan(&image, &ScanOptions::default()).expect("scan");
    let mut g = c.benchmark_group("sdk_stages");
    g.bench_function("decode_jpeg_1528x1360", |b| {
        b.iter(|| Image::from_bytes(black_box(&bytes), &ImageLimits::default()).expect("decode"))
    });
    // The same photo as a camera frame: NV21 (Android's layout), upright and turned 90 degrees.
    let (w, h) = (image.width(), image.height());
    let luma: Vec<u8> = image.as_rgb().chunks_exact(3).map(|p| p[1]).collect();
    let vu = vec![128u8; w.div_ceil(2) as usize * 2 * h.div_ceil(2) as usize];
    let nv21 = dermscan::YuvFrame::nv21(w, h, &luma, w as usize, &vu, 2 * w.div_ceil(2) as usize, Default::default(), Default::default());
    for (name, degrees) in [("yuv_nv21_to_rgb_1528x1360", 0), ("yuv_nv21_to_rgb_rotate90_1528x1360", 90)] {
        let turn = dermscan::FrameOrientation::new(degrees, false).expect("orientation");
        g.bench_function(name, |b| b.iter(|| Image::from_yuv(black_box(&nv21), turn, &ImageLimits::default()).expect("yuv")));
    }
    g.bench_function("find_lesions", |b| b.iter(|| lite.find_lesions(black_box(&image))));
    g.bench_function("features_abcd", |b| {
        b.iter(|| dermscan::features::analyse(black_box(&image), &scan.mask, &Default::default()).expect("features"))
    });
    g.bench_function("quality_gate", |b| b.iter(|| dermscan::quality::assess(black_box(&image), Some(&scan.mask), &Default::default())));
    g.bench_function("preprocess_whole_photo_to_256", |b| b.iter(|| prepare(black_box(&image), &lite.segmenter().recipe().input)));
    g.bench_function("decoder_reprompt_on_kept_embedding", |b| {
        b.iter(|| lite.segmenter().decode(&scan.embedding, &dermscan::Prompt::from_box(scan.roi.bbox)).expect("decode"))
    });
    g.finish();
}

criterion_group!(scan, benches);

fn main() {
    scan();
    Criterion::default().configure_from_args().final_summary();
}
