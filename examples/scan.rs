//! The main job: scan a photo (or every photo in a folder) and write the results.
//!
//! ```text
//! cargo run --release --example scan -- [IMAGE|FOLDER] [--box x0,y0,x1,y1] [--crop auto|none]
//!                                       [--mask lesion|upstream] [--model DIR] [--out DIR] [--threads N]
//!                                       [--classifier DIR | --no-classifier] [--scale MM_PER_PX]
//!                                       [--age YEARS] [--sex female|male|unknown] [--site SITE] [--no-snap]
//! ```
//! Writes `OUT/result.json` (box, mask, `features` with the ABCD scores, `classification`,
//! `risk`, `quality`), `OUT/mask.png` (8-bit 0/255, size of the oriented photo),
//! `OUT/overlay.png` (photo, mask outline, box, principal axes, ABCD summary, risk level) and
//! `OUT/colours.png` (the colour regions counted for C). With no IMAGE it scans the bundled
//! sample; the classifier is `models/ham10000-xception` unless told otherwise.
//! Given a folder it writes `OUT/<name>/...` per image and `OUT/summary.csv`, and reports bad
//! files without stopping.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dermscan::classify::{BodySite, PatientMetadata, Sex};
use dermscan::features::colour_regions;
use dermscan::{BoxPrompt, CropPolicy, Engine, EngineConfig, Image, MaskMode, RiskLevel, ScanOptions, ScanReport, ScanResult};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_filled_rect_mut, draw_hollow_rect_mut, draw_line_segment_mut};
use imageproc::rect::Rect;

const SAMPLE: &str = "assets/samples/forearm-nevi.jpg";
const CLASSIFIER: &str = "models/ham10000-xception";
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

struct Args {
    input: PathBuf,
    bbox: Option<BoxPrompt>,
    crop: CropPolicy,
    mask: MaskMode,
    model: PathBuf,
    out: PathBuf,
    threads: usize,
    classifier: Option<PathBuf>,
    mm_per_px: Option<f32>,
    metadata: PatientMetadata,
    snap_edges: bool,
}

fn parse_args() -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut args = Args {
        input: PathBuf::from(SAMPLE),
        bbox: None,
        crop: CropPolicy::Auto,
        mask: MaskMode::Lesion,
        model: PathBuf::from("models/litemedsam"),
        out: PathBuf::from("out"),
        threads: 0,
        classifier: Some(PathBuf::from(CLASSIFIER)),
        mm_per_px: None,
        metadata: PatientMetadata::default(),
        snap_edges: true,
    };
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = next_arg(&mut parser).map_err(|e| e.to_string())? {
        match arg {
            Long("box") => {
                let v: Vec<f32> = value(&mut parser, "--box")?
                    .split(',')
                    .map(|s| s.trim().parse::<f32>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--box: {e}"))?;
                let [x0, y0, x1, y1] = v[..] else { return Err("--box takes x0,y0,x1,y1".into()) };
                args.bbox = Some(BoxPrompt::new(x0, y0, x1, y1));
            }
            Long("crop") => args.crop = value(&mut parser, "--crop")?.parse()?,
            Long("mask") => args.mask = value(&mut parser, "--mask")?.parse()?,
            Long("model") => args.model = value(&mut parser, "--model")?.into(),
            Long("out") => args.out = value(&mut parser, "--out")?.into(),
            Long("threads") => args.threads = value(&mut parser, "--threads")?.parse().map_err(|e| format!("--threads: {e}"))?,
            Long("classifier") => args.classifier = Some(value(&mut parser, "--classifier")?.into()),
            Long("no-classifier") => args.classifier = None,
            Long("no-snap") => args.snap_edges = false,
            Long("scale") => args.mm_per_px = Some(value(&mut parser, "--scale")?.parse().map_err(|e| format!("--scale: {e}"))?),
            Long("age") => args.metadata.age_years = Some(value(&mut parser, "--age")?.parse().map_err(|e| format!("--age: {e}"))?),
            Long("sex") => args.metadata.sex = Some(value(&mut parser, "--sex")?.parse::<Sex>().map_err(|e| format!("--sex: {e}"))?),
            Long("site") => {
                args.metadata.site = Some(value(&mut parser, "--site")?.parse::<BodySite>().map_err(|e| format!("--site: {e}"))?)
            }
            Short('h') | Long("help") => {
                println!(
                    "usage: scan [IMAGE|FOLDER] [--box x0,y0,x1,y1] [--crop auto|none] [--mask lesion|upstream] [--model DIR] [--out DIR] [--threads N]\n\
                     \x20           [--classifier DIR | --no-classifier] [--scale MM_PER_PX] [--age YEARS] [--sex female|male|unknown] [--site SITE] [--no-snap]"
                );
                std::process::exit(0);
            }
            Long(flag) => return Err(format!("unknown flag --{flag}")),
            Short(c) => args.input = format!("-{c}").into(),
            Value(word) if word.to_string_lossy().starts_with("--") => return Err(format!("unknown flag {}", word.to_string_lossy())),
            Value(path) => args.input = path.into(),
        }
    }
    Ok(args)
}

/// The value of `flag` (the next argument, whatever it looks like).
fn value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    parser.value().map_err(|_| format!("{flag} needs a value"))?.into_string().map_err(|v| format!("{flag}: {v:?} is not UTF-8"))
}

/// The next argument. `--`, `--flag=value` and `-abc`, which lexopt would read as the end of
/// the flags, a flag with its value and three flags, come whole as values: this program never
/// read them so, and keeps its command line as it was.
fn next_arg(parser: &mut lexopt::Parser) -> Result<Option<lexopt::Arg<'_>>, lexopt::Error> {
    let whole = |w: &OsStr| {
        let w = w.as_encoded_bytes();
        w == b"--" || (w.starts_with(b"--") && w.contains(&b'=')) || (w.len() > 2 && w.starts_with(b"-") && !w.starts_with(b"--"))
    };
    match parser.try_raw_args().and_then(|mut raw| raw.next_if(whole)) {
        Some(word) => Ok(Some(lexopt::Arg::Value(word))),
        None => parser.next(),
    }
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
    let mut config = EngineConfig::new(&args.model).with_threads(args.threads);
    if let Some(dir) = &args.classifier {
        config = config.with_classifier(dir);
    }
    let engine = Engine::new(config)?;
    let options = ScanOptions {
        bbox: args.bbox,
        crop: args.crop,
        mask_mode: args.mask,
        mm_per_px: args.mm_per_px,
        metadata: args.metadata,
        snap_edges: args.snap_edges,
        ..ScanOptions::default()
    };
    if args.input.is_dir() {
        return scan_folder(&engine, &args, &options);
    }
    let result = scan_file(&engine, &args.input, &options, &args.out)?;
    println!(
        "{}: lesion {} px, box {:?} ({}), model IoU {:.3}, risk {}, {} quality warning(s), {:.0} ms -> {}",
        args.input.display(),
        result.mask.area_px(),
        result.roi.bbox.to_array().map(|v| v.round()),
        if args.bbox.is_some() { "user" } else { "auto" },
        result.mask.iou_score(),
        result.risk.level.as_str(),
        result.quality.warnings.len(),
        result.timings.total_ms,
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
    for (i, lesion) in result.lesions.iter().enumerate() {
        std::fs::write(out.join(lesion_mask_file(i)), lesion.mask.to_png())?;
    }
    colours_picture(&image, &result)?.save(out.join("colours.png"))?;
    overlay(image, &result).save(out.join("overlay.png"))?;
    std::fs::write(out.join("result.json"), serde_json::to_string_pretty(&result_json(path, &result, options, decode_ms))?)?;
    Ok(result)
}

/// The core's scan report, with what only this program knows: the photo's path, the time to
/// decode it, and the file each lesion's mask was written to.
fn result_json(path: &Path, r: &ScanResult, options: &ScanOptions, decode_ms: f64) -> ScanReport {
    let mut report = ScanReport::new(r, options);
    report.image.path = Some(path.display().to_string());
    report.timings_ms.decode_image = Some(decode_ms);
    for (i, lesion) in report.lesions.iter_mut().enumerate() {
        lesion.mask_file = Some(lesion_mask_file(i));
    }
    report
}

/// File name of the `i`-th lesion's mask (0 is the primary lesion).
fn lesion_mask_file(i: usize) -> String {
    format!("lesion_{i}.png")
}

/// The photo with the mask outline (yellow), the prompt box (cyan), the principal axes
/// (magenta), and a caption with the ABCD summary and the risk level.
fn overlay(image: Image, r: &ScanResult) -> RgbImage {
    let mut canvas = image.into_rgb_image();
    let thickness = (canvas.width().max(canvas.height()) / 500).max(1) as i32;
    // Secondary lesions in orange, the primary in yellow.
    for lesion in r.lesions.iter().skip(1) {
        for [x, y] in lesion.mask.contour() {
            draw_filled_circle_mut(&mut canvas, (x as i32, y as i32), thickness, Rgb([255, 140, 0]));
        }
    }
    for [x, y] in r.mask.contour() {
        draw_filled_circle_mut(&mut canvas, (x as i32, y as i32), thickness, Rgb([255, 230, 0]));
    }
    let b = r.roi.bbox;
    for k in 0..thickness {
        let (x0, y0) = (b.x0 as i32 - k - 1, b.y0 as i32 - k - 1);
        let (w, h) = ((b.x1 - b.x0) as u32 + 2 * k as u32 + 2, (b.y1 - b.y0) as u32 + 2 * k as u32 + 2);
        draw_hollow_rect_mut(&mut canvas, Rect::at(x0, y0).of_size(w.max(1), h.max(1)), Rgb([0, 220, 255]));
    }
    let mut lines = Vec::new();
    if let Some(f) = &r.features {
        for [p, q] in [f.axes.major, f.axes.minor] {
            for k in -(thickness / 2)..=(thickness / 2) {
                let o = k as f32;
                draw_line_segment_mut(&mut canvas, (p[0] as f32 + o, p[1] as f32), (q[0] as f32 + o, q[1] as f32), Rgb([255, 0, 200]));
            }
        }
        let a = &f.abcd;
        lines.push(format!("A {} B {} C {} D* {}  TDS* {:.2}", a.a, a.b, a.c, a.d_proxy, a.tds));
        let d = &f.measurements;
        lines.push(match d.diameter_mm {
            Some(mm) => format!("DIAMETER {mm:.1} MM"),
            None => format!("DIAMETER {:.0} PX", d.diameter_px),
        });
    }
    if let Some(c) = &r.classification {
        lines.push(format!(
            "TOP {} {:.0}%  MALIGNANT {:.0}%",
            c.top.to_uppercase(),
            100.0 * c.probabilities.iter().find(|p| p.label == c.top).map_or(0.0, |p| p.probability),
            100.0 * c.malignant_probability
        ));
    }
    lines.push(format!("RISK {}", r.risk.level.as_str().to_uppercase()));
    lines.push("*PROXY. SCREENING AID, NOT A DIAGNOSIS".into());
    let risk_colour = match r.risk.level {
        RiskLevel::Unknown => Rgb([200, 200, 200]),
        RiskLevel::Low => Rgb([120, 230, 120]),
        RiskLevel::Medium => Rgb([255, 200, 0]),
        RiskLevel::High => Rgb([255, 80, 80]),
    };
    caption(&mut canvas, &lines, risk_colour);
    canvas
}

/// The colour regions counted for C: each lesion pixel painted with the Stolz colour it was
/// assigned, everything else greyed out.
fn colours_picture(image: &Image, r: &ScanResult) -> Result<RgbImage, Box<dyn std::error::Error>> {
    let mut canvas = image.clone().into_rgb_image();
    for p in canvas.pixels_mut() {
        let grey = ((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) / 6) as u8;
        *p = Rgb([grey, grey, grey]);
    }
    if r.mask.area_px() > 0 {
        let labels = colour_regions(image, &r.mask)?;
        let width = canvas.width() as usize;
        for (i, label) in labels.iter().enumerate() {
            if let Some(colour) = label {
                canvas.put_pixel((i % width) as u32, (i / width) as u32, Rgb(colour.display_rgb()));
            }
        }
    }
    if let Some(f) = &r.features {
        let names: Vec<String> = f.abcd.colours.iter().map(|c| format!("{c:?}").to_uppercase()).collect();
        caption(&mut canvas, &[format!("C = {}: {}", f.abcd.c, names.join(" "))], Rgb([255, 255, 255]));
    }
    Ok(canvas)
}

/// Writes `lines` in the top-left corner on a dark band, in an 8x8 bitmap font scaled to the
/// photo (the last line in white, the others in `colour`).
fn caption(canvas: &mut RgbImage, lines: &[String], colour: Rgb<u8>) {
    let scale = (canvas.width().max(canvas.height()) / 500).max(1);
    let line_h = 10 * scale;
    let width = lines.iter().map(|l| l.len() as u32).max().unwrap_or(0) * 8 * scale + 4 * scale;
    let height = lines.len() as u32 * line_h + 2 * scale;
    draw_filled_rect_mut(
        canvas,
        Rect::at(0, 0).of_size(width.min(canvas.width()).max(1), height.min(canvas.height()).max(1)),
        Rgb([20, 20, 20]),
    );
    for (n, line) in lines.iter().enumerate() {
        let ink = if n + 1 == lines.len() && lines.len() > 1 { Rgb([255, 255, 255]) } else { colour };
        for (k, ch) in line.chars().enumerate() {
            let glyph = font8x8::legacy::BASIC_LEGACY.get(ch as usize).copied().unwrap_or([0; 8]);
            for (gy, row) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if row >> gx & 1 == 1 {
                        let (x, y) = (2 * scale + (k as u32 * 8 + gx) * scale, scale + n as u32 * line_h + gy as u32 * scale);
                        for dy in 0..scale {
                            for dx in 0..scale {
                                if x + dx < canvas.width() && y + dy < canvas.height() {
                                    canvas.put_pixel(x + dx, y + dy, ink);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn scan_folder(engine: &Engine, args: &Args, options: &ScanOptions) -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.input)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().and_then(|e| e.to_str()).is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no JPEG or PNG files in {}", args.input.display()).into());
    }
    std::fs::create_dir_all(&args.out)?;
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut csv = String::from(
        "file,status,roi_source,box_x0,box_y0,box_x1,box_y1,area_px,iou_score,total_ms,error,risk_level,tds_proxy,top_class,quality_warnings\n",
    );
    let mut failed = 0;
    for path in &files {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        bar.set_message(name.clone());
        let file = csv_field(&path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        match scan_file(engine, path, options, &args.out.join(&name)) {
            Ok(r) => {
                let [x0, y0, x1, y1] = r.roi.bbox.to_array();
                let source = if args.bbox.is_some() { "user" } else { "auto" };
                csv += &format!(
                    "{file},ok,{source},{x0:.1},{y0:.1},{x1:.1},{y1:.1},{},{:.4},{:.1},,{},{},{},{}\n",
                    r.mask.area_px(),
                    r.mask.iou_score(),
                    r.timings.total_ms,
                    r.risk.level.as_str(),
                    r.features.as_ref().map_or(String::new(), |f| format!("{:.2}", f.abcd.tds)),
                    r.classification.as_ref().map_or("", |c| c.top.as_str()),
                    r.quality.warnings.len()
                );
            }
            Err(e) => {
                failed += 1;
                bar.println(format!("skipped {}: {e}", path.display()));
                csv += &format!("{file},error,,,,,,,,,{},,,,\n", csv_field(&e.to_string()));
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
