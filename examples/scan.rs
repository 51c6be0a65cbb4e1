//! The main job: scan a photo (or every photo in a folder) and write the results.
//!
//! ```text
//! cargo run --release --example scan -- [IMAGE|FOLDER] [--box x0,y0,x1,y1] [--crop auto|none]
//!                                       [--mask lesion|upstream] [--model DIR] [--out DIR] [--threads N]
//! ```
//! Writes `OUT/result.json`, `OUT/mask.png` (8-bit 0/255, size of the oriented photo) and
//! `OUT/overlay.png` (photo, mask outline, box). With no IMAGE it scans the bundled sample.
//! Given a folder it writes `OUT/<name>/...` per image and `OUT/summary.csv`, and reports bad
//! files without stopping.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dermscan::{BoxPrompt, CropPolicy, Engine, EngineConfig, Image, MaskMode, ScanOptions, ScanResult};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_hollow_rect_mut};
use imageproc::rect::Rect;

const SAMPLE: &str = "assets/samples/forearm-nevi.jpg";
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

struct Args {
    input: PathBuf,
    bbox: Option<BoxPrompt>,
    crop: CropPolicy,
    mask: MaskMode,
    model: PathBuf,
    out: PathBuf,
    threads: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        input: PathBuf::from(SAMPLE),
        bbox: None,
        crop: CropPolicy::Auto,
        mask: MaskMode::Lesion,
        model: PathBuf::from("models/litemedsam"),
        out: PathBuf::from("out"),
        threads: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or(format!("{flag} needs a value"));
        match a.as_str() {
            "--box" => {
                let v: Vec<f32> = value("--box")?.split(',').map(|s| s.trim().parse::<f32>()).collect::<Result<_, _>>().map_err(|e| format!("--box: {e}"))?;
                let [x0, y0, x1, y1] = v[..] else { return Err("--box takes x0,y0,x1,y1".into()) };
                args.bbox = Some(BoxPrompt::new(x0, y0, x1, y1));
            }
            "--crop" => args.crop = value("--crop")?.parse()?,
            "--mask" => args.mask = value("--mask")?.parse()?,
            "--model" => args.model = value("--model")?.into(),
            "--out" => args.out = value("--out")?.into(),
            "--threads" => args.threads = value("--threads")?.parse().map_err(|e| format!("--threads: {e}"))?,
            "-h" | "--help" => {
                println!("usage: scan [IMAGE|FOLDER] [--box x0,y0,x1,y1] [--crop auto|none] [--mask lesion|upstream] [--model DIR] [--out DIR] [--threads N]");
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            path => args.input = path.into(),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let engine = Engine::new(EngineConfig::new(&args.model).with_threads(args.threads))?;
    let options = ScanOptions { bbox: args.bbox, crop: args.crop, mask_mode: args.mask, ..ScanOptions::default() };
    if args.input.is_dir() {
        return scan_folder(&engine, &args, &options);
    }
    let result = scan_file(&engine, &args.input, &options, &args.out)?;
    println!(
        "{}: lesion {} px, box {:?} ({}), model IoU {:.3}, {:.0} ms -> {}",
        args.input.display(),
        result.mask.area_px(),
        result.roi.bbox.to_array().map(|v| v.round()),
        if args.bbox.is_some() { "user" } else { "auto" },
        result.mask.iou_score(),
        result.timings.total,
        args.out.join("result.json").display()
    );
    Ok(())
}

fn scan_file(engine: &Engine, path: &Path, options: &ScanOptions, out: &Path) -> Result<ScanResult, Box<dyn std::error::Error>> {
    let t = std::time::Instant::now();
    let image = Image::open(path, &engine.config().image_limits)?;
    let decode_ms = t.elapsed().as_secs_f64() * 1e3;
    let result = engine.scan(&image, options)?;
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("mask.png"), result.mask.to_png())?;
    overlay(image, &result).save(out.join("overlay.png"))?;
    std::fs::write(out.join("result.json"), serde_json::to_string_pretty(&result_json(path, &result, options, decode_ms))?)?;
    Ok(result)
}

fn result_json(path: &Path, r: &ScanResult, options: &ScanOptions, decode_ms: f64) -> serde_json::Value {
    let g = r.embedding.geometry();
    let t = &r.timings;
    serde_json::json!({
        "image": { "path": path.display().to_string(), "width": g.image_width, "height": g.image_height },
        "roi": {
            "box": r.roi.bbox.to_array(),
            "source": r.roi.source,
            "candidates": r.candidates,
        },
        "crop": {
            "window": [g.window.x, g.window.y, g.window.x + g.window.width, g.window.y + g.window.height],
            "policy": options.crop,
            "model_input": [g.resized_width, g.resized_height],
        },
        "mask": {
            "mode": options.mask_mode,
            "area_px": r.mask.area_px(),
            "iou_score": r.mask.iou_score(),
            "bbox": r.mask.bbox(),
            "contour": r.mask.contour(),
        },
        "model": r.model,
        "timings_ms": {
            "decode_image": decode_ms,
            "roi": t.roi,
            "preprocess": t.preprocess,
            "encoder": t.encoder,
            "decoder": t.decoder,
            "postprocess": t.postprocess,
            "scan_total": t.total,
        },
        "disclaimer": dermscan::NOT_A_DIAGNOSIS,
    })
}

/// The photo with the mask outline (yellow) and the prompt box (cyan).
fn overlay(image: Image, r: &ScanResult) -> RgbImage {
    let mut canvas = image.into_rgb_image();
    let thickness = (canvas.width().max(canvas.height()) / 500).max(1) as i32;
    for [x, y] in r.mask.contour() {
        draw_filled_circle_mut(&mut canvas, (x as i32, y as i32), thickness, Rgb([255, 230, 0]));
    }
    let b = r.roi.bbox;
    for k in 0..thickness {
        let (x0, y0) = (b.x0 as i32 - k - 1, b.y0 as i32 - k - 1);
        let (w, h) = ((b.x1 - b.x0) as u32 + 2 * k as u32 + 2, (b.y1 - b.y0) as u32 + 2 * k as u32 + 2);
        draw_hollow_rect_mut(&mut canvas, Rect::at(x0, y0).of_size(w.max(1), h.max(1)), Rgb([0, 220, 255]));
    }
    canvas
}

fn scan_folder(engine: &Engine, args: &Args, options: &ScanOptions) -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.input)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().and_then(|e| e.to_str()).is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no JPEG or PNG files in {}", args.input.display()).into());
    }
    std::fs::create_dir_all(&args.out)?;
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    let mut csv = String::from("file,status,roi_source,box_x0,box_y0,box_x1,box_y1,area_px,iou_score,total_ms,error\n");
    let mut failed = 0;
    for path in &files {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        bar.set_message(name.clone());
        let file = csv_field(&path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        match scan_file(engine, path, options, &args.out.join(&name)) {
            Ok(r) => {
                let [x0, y0, x1, y1] = r.roi.bbox.to_array();
                let source = if args.bbox.is_some() { "user" } else { "auto" };
                csv += &format!("{file},ok,{source},{x0:.1},{y0:.1},{x1:.1},{y1:.1},{},{:.4},{:.1},\n", r.mask.area_px(), r.mask.iou_score(), r.timings.total);
            }
            Err(e) => {
                failed += 1;
                bar.println(format!("skipped {}: {e}", path.display()));
                csv += &format!("{file},error,,,,,,,,,{}\n", csv_field(&e.to_string()));
            }
        }
        bar.inc(1);
    }
    bar.finish_with_message("done");
    std::fs::write(args.out.join("summary.csv"), csv)?;
    println!("scanned {} files ({} failed) -> {}", files.len(), failed, args.out.join("summary.csv").display());
    Ok(())
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
