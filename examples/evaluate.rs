//! Scores the engine against ground truth on a labelled folder:
//! `cargo run --release --example evaluate -- DIR [--model DIR] [--crop auto|none] [--mask lesion|upstream] [--auto] [--no-hair] [--refine] [--no-snap] [--quiet]`
//!
//! `DIR/meta.json` is either the synthetic set's (as written by `examples/synth.rs`: `file`,
//! `mask`, `box`, `hair`) or a real-photo manifest (`image`, `mask`, `kind`, as in a
//! development set of real photos); without `box` the true box is the mask's bounding box.
//! Prints one line per image and, per group (hair / kind), the mean Dice, precision (fraction
//! of the mask that is lesion) and recall (fraction of the lesion that is masked).

use std::collections::BTreeMap;
use std::path::PathBuf;

use dermscan::preprocess::HairRemoval;
use dermscan::{BoxPrompt, CropPolicy, Engine, EngineConfig, Image, MaskMode, ScanOptions};

#[derive(Default)]
struct Scores {
    dice: Vec<f64>,
    precision: Vec<f64>,
    recall: Vec<f64>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
    let mut dir = PathBuf::from("target/synth");
    let (mut model, mut crop, mut auto) = (PathBuf::from("models/litemedsam"), CropPolicy::Auto, false);
    let mut mask = MaskMode::Lesion;
    let (mut hair_removal, mut refine, mut snap, mut quiet) = (HairRemoval::default(), false, true, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = args.next().ok_or("--model needs a folder")?.into(),
            "--crop" => crop = args.next().ok_or("--crop needs auto|none")?.parse()?,
            "--auto" => auto = true,
            "--no-hair" => hair_removal = HairRemoval::disabled(),
            "--refine" => refine = true,
            "--no-snap" => snap = false,
            "--quiet" => quiet = true,
            "--mask" => mask = args.next().ok_or("--mask needs lesion|upstream")?.parse()?,
            other => dir = other.into(),
        }
    }
    let engine = Engine::new(EngineConfig::new(model))?;
    let manifest = if dir.join("meta.json").exists() { dir.join("meta.json") } else { dir.join("manifest.json") };
    let meta: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(manifest)?)?;
    let mut groups: BTreeMap<String, Scores> = BTreeMap::new();
    for item in &meta {
        let file = item["file"].as_str().or(item["image"].as_str()).ok_or("file")?;
        let image = Image::open(dir.join(file), &Default::default())?;
        let truth = image::open(dir.join(item["mask"].as_str().ok_or("mask")?))?.into_luma8();
        let truth: Vec<bool> = truth.pixels().map(|p| p[0] > 127).collect();
        let b: [f32; 4] = match item.get("box") {
            Some(v) => serde_json::from_value(v.clone())?,
            None => true_box(&truth, image.width()).ok_or("empty truth mask")?,
        };
        let mut options = ScanOptions::default()
            .with_crop(crop)
            .with_mask_mode(mask)
            .with_hair_removal(hair_removal)
            .with_refine(refine)
            .with_snap_edges(snap);
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
        let group = match item.get("kind").and_then(|k| k.as_str()) {
            Some(kind) => kind.to_string(),
            None if item["hair"].as_bool().unwrap_or(false) => "hair".into(),
            None => "no-hair".into(),
        };
        if !quiet {
            println!(
                "{file} [{group}] dice {dice:.4} precision {precision:.3} recall {recall:.3} roi {:?} truth {:?} lesions {} iou {:.3}",
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
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
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
    Ok(())
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
