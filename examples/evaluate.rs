//! Scores the engine against ground truth on a labelled folder (as written by
//! `examples/synth.rs`: `meta.json` listing `file`, `mask`, `box`, `hair`):
//! `cargo run --release --example evaluate -- DIR [--model DIR] [--crop auto|none] [--mask lesion|upstream] [--auto] [--no-hair] [--refine] [--snap]`
//! Prints one line per image and the mean Dice, split by hair.

use std::path::PathBuf;

use dermscan::preprocess::HairRemoval;
use dermscan::{BoxPrompt, CropPolicy, Engine, EngineConfig, Image, Mask, MaskMode, ScanOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut dir = PathBuf::from("target/synth");
    let (mut model, mut crop, mut auto) = (PathBuf::from("models/litemedsam"), CropPolicy::Auto, false);
    let mut mask = MaskMode::Lesion;
    let (mut hair_removal, mut refine, mut snap) = (HairRemoval::default(), false, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = args.next().ok_or("--model needs a folder")?.into(),
            "--crop" => crop = args.next().ok_or("--crop needs auto|none")?.parse()?,
            "--auto" => auto = true,
            "--no-hair" => hair_removal = HairRemoval::disabled(),
            "--refine" => refine = true,
            "--snap" => snap = true,
            "--mask" => mask = args.next().ok_or("--mask needs lesion|upstream")?.parse()?,
            other => dir = other.into(),
        }
    }
    let engine = Engine::new(EngineConfig::new(model))?;
    let meta: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(dir.join("meta.json"))?)?;
    let (mut hair, mut clean) = (Vec::new(), Vec::new());
    for item in &meta {
        let file = item["file"].as_str().ok_or("file")?;
        let image = Image::open(dir.join(file), &Default::default())?;
        let truth = image::open(dir.join(item["mask"].as_str().ok_or("mask")?))?.into_luma8();
        let b: Vec<f32> = serde_json::from_value(item["box"].clone())?;
        let mut options = ScanOptions::default().with_crop(crop).with_mask_mode(mask).with_hair_removal(hair_removal).with_refine(refine).with_snap_edges(snap);
        if !auto {
            options = options.with_box(BoxPrompt::new(b[0], b[1], b[2], b[3]));
        }
        let scan = engine.scan(&image, &options)?;
        let truth = Mask::from_pixels(truth.width(), truth.height(), truth.into_raw()).ok_or("mask size")?;
        let dice = scan.mask.dice(&truth);
        let is_hair = item["hair"].as_bool().unwrap_or(false);
        println!("{file} dice {dice:.4} hair {is_hair} roi {:?} truth {:?} iou {:.3}", scan.roi.bbox.to_array().map(|v| v.round()), b, scan.mask.iou_score());
        if is_hair { hair.push(dice) } else { clean.push(dice) }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!("mean Dice: no-hair {:.4} (n={}), hair {:.4} (n={})", mean(&clean), clean.len(), mean(&hair), hair.len());
    Ok(())
}
