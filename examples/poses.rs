//! How stable the automatic scan is under the ways people hold a phone: each photo is scanned
//! in its 8 poses (4 quarter turns, mirrored or not) and the primary mask's area is compared
//! over them (coefficient of variation, CV).
//!
//! `cargo run --release --example poses -- PHOTO|DIR [--model DIR] [--box x0,y0,x1,y1] [--mask lesion|upstream] [--crop auto|none] [--no-snap] [--quiet]`
//!
//! A folder is read like `examples/evaluate.rs` reads one (`meta.json` or `manifest.json`
//! with `file`/`image` per entry); photos without a lesion are skipped. Prints one line per
//! photo (areas per pose, CV, Dice of each pose's mask, turned upright, against the upright
//! pose's, and the prompt box turned back upright) and the median and mean CV. With `--box`
//! (upright coordinates) every pose is scanned with that box turned into the pose.

use std::path::{Path, PathBuf};

use dermscan::{BoxPrompt, CropPolicy, Engine, EngineConfig, Image, MaskMode, ScanOptions};
use image::GrayImage;
use lexopt::prelude::*;

#[path = "../tests/support/poses.rs"]
mod poses;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut target, mut model) = (PathBuf::from("assets/samples/forearm-nevi.jpg"), PathBuf::from("models/litemedsam"));
    let (mut mask, mut crop, mut snap, mut quiet) = (MaskMode::Lesion, CropPolicy::Auto, true, false);
    let mut user_box: Option<[f32; 4]> = None;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("model") => model = parser.value()?.into(),
            Long("mask") => mask = parser.value()?.string()?.parse()?,
            Long("crop") => crop = parser.value()?.string()?.parse()?,
            Long("no-snap") => snap = false,
            Long("quiet") => quiet = true,
            Long("box") => {
                let v: Vec<f32> = parser.value()?.string()?.split(',').map(str::parse).collect::<Result<_, _>>()?;
                user_box = Some(<[f32; 4]>::try_from(v).map_err(|_| "--box needs x0,y0,x1,y1")?);
            }
            Value(v) => target = v.into(),
            other => return Err(other.unexpected().into()),
        }
    }
    let engine = Engine::new(EngineConfig::new(model))?;
    let options = ScanOptions::default().with_max_lesions(1).with_mask_mode(mask).with_crop(crop).with_snap_edges(snap);
    let photos = photos(&target)?;
    let mut cvs = Vec::new();
    for photo in &photos {
        let upright = Image::open(photo, &Default::default())?.into_rgb_image();
        let size = (upright.width() as f32, upright.height() as f32);
        let (mut areas, mut dices, mut boxes, mut first) = (Vec::new(), Vec::new(), Vec::new(), None);
        for pose in poses::all() {
            let options = match user_box {
                Some(b) => {
                    let [x0, y0, x1, y1] = pose.apply_box(b, size);
                    options.with_box(BoxPrompt::new(x0, y0, x1, y1))
                }
                None => options,
            };
            let posed = pose.apply(&upright);
            let scan = engine.scan(&Image::from_rgb(posed.width(), posed.height(), posed.into_raw())?, &options)?;
            let [x0, y0, x1, y1] = pose.undo_box(scan.roi.bbox.to_array(), size);
            boxes.push(format!("{x0:.0},{y0:.0},{x1:.0},{y1:.0}"));
            let mask = GrayImage::from_raw(scan.mask.width(), scan.mask.height(), scan.mask.pixels().to_vec()).ok_or("mask")?;
            let back = pose.undo(&mask);
            areas.push(scan.mask.area_px() as f64);
            dices.push(dice(first.get_or_insert_with(|| back.clone()), &back));
        }
        let (_, cv) = poses::area_cv(&areas);
        cvs.push(cv);
        if !quiet {
            let a: Vec<String> = areas.iter().map(|a| format!("{a:.0}")).collect();
            let d: Vec<String> = dices.iter().map(|d| format!("{d:.2}")).collect();
            println!("{} cv {:5.1}% areas [{}] dice-to-upright [{}]", photo.display(), cv * 100.0, a.join(" "), d.join(" "));
            println!("  prompt boxes, upright: {}", boxes.join(" "));
        }
    }
    cvs.sort_by(f64::total_cmp);
    let median = cvs.get(cvs.len() / 2).copied().unwrap_or(0.0);
    let mean = cvs.iter().sum::<f64>() / cvs.len().max(1) as f64;
    let within = cvs.iter().filter(|c| **c <= 0.05).count();
    println!(
        "photos {}: area CV over 8 poses median {:.1}%  mean {:.1}%  max {:.1}%  within 5%: {within}",
        cvs.len(),
        median * 100.0,
        mean * 100.0,
        cvs.last().copied().unwrap_or(0.0) * 100.0
    );
    Ok(())
}

/// One photo, or the lesion photos a folder's manifest lists.
fn photos(target: &Path) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    if target.is_file() {
        return Ok(vec![target.to_path_buf()]);
    }
    let manifest = if target.join("meta.json").exists() { target.join("meta.json") } else { target.join("manifest.json") };
    let meta: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(manifest)?)?;
    Ok(meta
        .iter()
        .filter(|m| !m["no_lesion"].as_bool().unwrap_or(false))
        .filter_map(|m| m["file"].as_str().or(m["image"].as_str()))
        .map(|f| target.join(f))
        .collect())
}

/// Dice of two 0/255 masks of the same size.
fn dice(a: &GrayImage, b: &GrayImage) -> f64 {
    let (mut both, mut total) = (0u64, 0u64);
    for (p, q) in a.pixels().zip(b.pixels()) {
        both += u64::from(p[0] > 0 && q[0] > 0);
        total += u64::from(p[0] > 0) + u64::from(q[0] > 0);
    }
    if total == 0 { 1.0 } else { 2.0 * both as f64 / total as f64 }
}
