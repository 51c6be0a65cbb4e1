//! Scores the engine against ground truth on a labelled folder:
//! `cargo run --release --example evaluate -- DIR [--model DIR] [--crop auto|none] [--mask lesion|upstream] [--auto] [--no-hair] [--refine] [--no-snap] [--quiet]`
//!
//! `DIR/meta.json` is either a synthetic set's (as written by `examples/synth.rs`: `file`,
//! `mask`, `box`, `hair`, and `group`, `no_lesion`, `lesion_masks`) or a real-photo manifest
//! (`image`, `mask`, `kind`, as in a development set of real photos); without `box` the true
//! box is the mask's bounding box. Prints one line per image and, per group, the mean Dice,
//! precision (fraction of the mask that is lesion) and recall (fraction of the lesion that is
//! masked), then each group's lowest-Dice photos. The group is the entry's `group`, else hair
//! / no-hair for a synthetic entry (one with `hair`), else its `kind`.
//!
//! A photo without a lesion (`no_lesion`, or an all-zero truth mask) is scored only with
//! `--auto` (and skipped without it): did the scan report no lesion? It stays out of the Dice
//! means. With `--auto`, a lesion photo's lesion also counts as found when some reported
//! lesion's mask has Dice >= 0.5 with the primary truth mask, and on a photo with several
//! lesions (`lesion_masks` lists more than one) each true lesion scores the best Dice over the
//! reported lesions' masks. A photo's own Dice is always its primary truth mask against the
//! scan's primary mask.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use dermscan::preprocess::HairRemoval;
use dermscan::{BoxPrompt, CropPolicy, Engine, EngineConfig, Image, MaskMode, RoiSource, ScanOptions};
use lexopt::prelude::*;

#[derive(Default)]
struct Scores {
    dice: Vec<f64>,
    precision: Vec<f64>,
    recall: Vec<f64>,
    files: Vec<String>,
}

/// Photos without a lesion (`--auto` only).
#[derive(Default)]
struct Empty {
    n: usize,
    none: usize,
    source_none: usize,
    reported: usize,
    /// Photos where the scan reported lesions, with how many.
    false_finds: Vec<(String, usize)>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
    let mut dir = PathBuf::from("target/synth");
    let (mut model, mut crop, mut auto) = (PathBuf::from("models/litemedsam"), CropPolicy::Auto, false);
    let mut mask = MaskMode::Lesion;
    let (mut hair_removal, mut refine, mut snap, mut quiet) = (HairRemoval::default(), false, true, false);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = next_arg(&mut parser)? {
        match arg {
            Long("model") => model = parser.value().map_err(|_| "--model needs a folder")?.into(),
            Long("crop") => crop = parser.value().map_err(|_| "--crop needs auto|none")?.string()?.parse()?,
            Long("auto") => auto = true,
            Long("no-hair") => hair_removal = HairRemoval::disabled(),
            Long("refine") => refine = true,
            Long("no-snap") => snap = false,
            Long("quiet") => quiet = true,
            Long("mask") => mask = parser.value().map_err(|_| "--mask needs lesion|upstream")?.string()?.parse()?,
            // Anything else, an unknown flag too, names the folder (as it always has).
            Long(other) => dir = format!("--{other}").into(),
            Short(c) => dir = format!("-{c}").into(),
            Value(other) => dir = other.into(),
        }
    }
    let engine = Engine::new(EngineConfig::new(model))?;
    let manifest = if dir.join("meta.json").exists() { dir.join("meta.json") } else { dir.join("manifest.json") };
    let meta: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(manifest)?)?;
    let mut groups: BTreeMap<String, Scores> = BTreeMap::new();
    let (mut skipped, mut empty) = (0usize, Empty::default());
    // Lesion photos with --auto: how many, found by any reported lesion, by the primary one.
    let (mut lesion_n, mut found_any, mut found_primary) = (0usize, 0usize, 0usize);
    // Photos with several lesions: each true lesion's best Dice, and lesions reported / true.
    let (mut per_lesion, mut reported_multi): (Vec<(String, f64)>, usize) = (Vec::new(), 0);
    for item in &meta {
        let file = item["file"].as_str().or(item["image"].as_str()).ok_or("file")?;
        let image = Image::open(dir.join(file), &Default::default())?;
        let truth = load_mask(&dir.join(item["mask"].as_str().ok_or("mask")?))?;
        let group = match (item.get("group").and_then(|g| g.as_str()), item.get("hair"), item.get("kind").and_then(|k| k.as_str())) {
            (Some(group), _, _) => group.to_string(),
            (None, Some(hair), _) if hair.as_bool().unwrap_or(false) => "hair".into(),
            (None, Some(_), _) => "no-hair".into(),
            (None, None, Some(kind)) => kind.to_string(),
            (None, None, None) => "no-hair".into(),
        };
        let mut options = ScanOptions::default()
            .with_crop(crop)
            .with_mask_mode(mask)
            .with_hair_removal(hair_removal)
            .with_refine(refine)
            .with_snap_edges(snap);
        if item["no_lesion"].as_bool().unwrap_or(false) || !truth.iter().any(|t| *t) {
            if !auto {
                skipped += 1;
                if !quiet {
                    println!("{file} [{group}] no lesion: skipped (scored with --auto only)");
                }
                continue;
            }
            let scan = engine.scan(&image, &options)?;
            empty.n += 1;
            empty.none += usize::from(scan.lesions.is_empty());
            empty.source_none += usize::from(scan.roi.source == RoiSource::None);
            empty.reported += scan.lesions.len();
            if !scan.lesions.is_empty() {
                empty.false_finds.push((file.to_string(), scan.lesions.len()));
            }
            if !quiet {
                println!(
                    "{file} [{group}] no lesion: reported {} lesions, roi source {:?} roi {:?}",
                    scan.lesions.len(),
                    scan.roi.source,
                    scan.roi.bbox.to_array().map(|v| v.round())
                );
            }
            continue;
        }
        let b: [f32; 4] = match item.get("box").filter(|v| !v.is_null()) {
            Some(v) => serde_json::from_value(v.clone())?,
            None => true_box(&truth, image.width()).ok_or("empty truth mask")?,
        };
        if !auto {
            options = options.with_box(BoxPrompt::new(b[0], b[1], b[2], b[3]));
        }
        let scan = engine.scan(&image, &options)?;
        if scan.mask.pixels().len() != truth.len() {
            return Err(format!("{file}: mask size differs from the photo").into());
        }
        let (mut both, mut predicted, mut actual) = (0u64, 0u64, 0u64);
        for (p, t) in scan.mask.pixels().iter().zip(&truth) {
            let p = *p > 0;
            both += u64::from(p && *t);
            predicted += u64::from(p);
            actual += u64::from(*t);
        }
        let dice = 2.0 * both as f64 / (predicted + actual).max(1) as f64;
        let precision = if predicted == 0 { 0.0 } else { both as f64 / predicted as f64 };
        let recall = both as f64 / actual.max(1) as f64;
        let mut per_lesion_text = String::new();
        if auto {
            lesion_n += 1;
            let best = best_dice(&scan.lesions, &truth);
            found_any += usize::from(best >= 0.5);
            found_primary += usize::from(scan.lesions.first().is_some_and(|l| dice_of(l.mask.pixels(), &truth) >= 0.5));
            let lesion_files: Vec<&str> =
                item["lesion_masks"].as_array().map(|a| a.iter().filter_map(|f| f.as_str()).collect()).unwrap_or_default();
            if lesion_files.len() > 1 {
                let mut scores = Vec::new();
                for (k, f) in lesion_files.iter().enumerate() {
                    let d = best_dice(&scan.lesions, &load_mask(&dir.join(f))?);
                    scores.push(format!("{d:.3}"));
                    per_lesion.push((format!("{file}#{k}"), d));
                }
                reported_multi += scan.lesions.len();
                per_lesion_text = format!(" per-lesion dice [{}]", scores.join(", "));
            }
        }
        if !quiet {
            println!(
                "{file} [{group}] dice {dice:.4} precision {precision:.3} recall {recall:.3} roi {:?} truth {:?} lesions {} iou {:.3}{per_lesion_text}",
                scan.roi.bbox.to_array().map(|v| v.round()),
                b.map(|v| v.round()),
                scan.lesions.len(),
                scan.mask.iou_score()
            );
        }
        for key in [group, "all".to_string()] {
            let s = groups.entry(key).or_default();
            s.dice.push(dice);
            s.precision.push(precision);
            s.recall.push(recall);
            s.files.push(file.to_string());
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let pct = |k: usize, n: usize| 100.0 * k as f64 / n.max(1) as f64;
    for (group, s) in &groups {
        let below = s.dice.iter().filter(|d| **d < 0.6).count();
        println!(
            "{group:>12}: n={:3} mean Dice {:.4}  precision {:.3}  recall {:.3}  min Dice {:.3}  below 0.6: {below}",
            s.dice.len(),
            mean(&s.dice),
            mean(&s.precision),
            mean(&s.recall),
            s.dice.iter().copied().fold(1.0, f64::min)
        );
    }
    for (group, s) in &groups {
        let mut ranked: Vec<(f64, &str)> = s.dice.iter().copied().zip(s.files.iter().map(String::as_str)).collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        let worst: Vec<String> = ranked.iter().take(3).map(|(d, f)| format!("{f} {d:.3}")).collect();
        println!("{group:>12}: worst {}", worst.join(", "));
    }
    if skipped > 0 {
        println!("no-lesion photos: {skipped} skipped (scored with --auto only)");
    }
    if empty.n > 0 {
        println!(
            "no-lesion photos: n={} reported none: {} ({:.1}%)  roi source none: {}  lesions reported: {} (mean {:.2})",
            empty.n,
            empty.none,
            pct(empty.none, empty.n),
            empty.source_none,
            empty.reported,
            empty.reported as f64 / empty.n as f64
        );
        if !empty.false_finds.is_empty() {
            let list: Vec<String> = empty.false_finds.iter().map(|(f, k)| format!("{f} ({k})")).collect();
            println!("no-lesion photos with lesions reported: {}", list.join(", "));
        }
    }
    if lesion_n > 0 {
        println!(
            "lesion photos: n={lesion_n} found: {found_any} ({:.1}%)  by the primary reported lesion: {found_primary} ({:.1}%)",
            pct(found_any, lesion_n),
            pct(found_primary, lesion_n)
        );
    }
    if !per_lesion.is_empty() {
        let n = per_lesion.len();
        let found = per_lesion.iter().filter(|(_, d)| *d >= 0.5).count();
        let dice: Vec<f64> = per_lesion.iter().map(|(_, d)| *d).collect();
        println!("per-lesion: n={n} mean Dice {:.4} found (>=0.5) {found}/{n}  lesions reported: {reported_multi}", mean(&dice));
        let mut ranked = per_lesion.clone();
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        let worst: Vec<String> = ranked.iter().take(5).map(|(f, d)| format!("{f} {d:.3}")).collect();
        println!("per-lesion worst (file#lesion): {}", worst.join(", "));
    }
    Ok(())
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
        Some(word) => Ok(Some(Value(word))),
        None => parser.next(),
    }
}

/// A truth mask's pixels: true where lesion (> 127).
fn load_mask(path: &Path) -> Result<Vec<bool>, Box<dyn std::error::Error>> {
    Ok(image::open(path)?.into_luma8().pixels().map(|p| p[0] > 127).collect())
}

/// Dice of a predicted mask (non-zero: lesion) against a truth mask of the same size.
fn dice_of(predicted: &[u8], truth: &[bool]) -> f64 {
    let (mut both, mut total) = (0u64, 0u64);
    for (p, t) in predicted.iter().zip(truth) {
        let p = *p > 0;
        both += u64::from(p && *t);
        total += u64::from(p) + u64::from(*t);
    }
    2.0 * both as f64 / total.max(1) as f64
}

/// The best Dice of any reported lesion's mask against `truth` (0 when none was reported).
fn best_dice(lesions: &[dermscan::LesionFinding], truth: &[bool]) -> f64 {
    lesions.iter().map(|l| dice_of(l.mask.pixels(), truth)).fold(0.0, f64::max)
}

/// Bounding box `[x0, y0, x1, y1]` (exclusive) of a mask's true pixels.
fn true_box(mask: &[bool], width: u32) -> Option<[f32; 4]> {
    let w = width as usize;
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
        let (x, y) = (i % w, i / w);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x + 1);
        y1 = y1.max(y + 1);
    }
    (x0 != usize::MAX).then(|| [x0, y0, x1, y1].map(|v| v as f32))
}
