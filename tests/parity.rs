//! Parity with the upstream inference recipes: the Python references in `tools/reference/`
//! (numpy + OpenCV + Pillow + onnxruntime, following bowang-lab's LiteMedSAM script and
//! segment-anything's predictor) run the same bundle on the same images and boxes; the SDK's
//! masks in `--crop none --mask upstream` mode must match them (Dice >= 0.97 each).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use dermscan::preprocess::{HairRemoval, prepare};
use dermscan::{BoxPrompt, CropPolicy, Image, ImageLimits, MaskMode, PixelRect, ScanOptions};
use support::{engine, mean, report, synth};

struct Item {
    image: PathBuf,
    bbox: [f32; 4],
    dump: bool,
}

/// A 400 px crop of the sample photo around its most prominent mole, and its box there.
fn sample_crop(dir: &Path) -> Item {
    let photo = Image::open(support::sample_photo(), &ImageLimits::default()).expect("sample");
    let crop = photo.crop(PixelRect { x: 410, y: 500, width: 400, height: 400 });
    let path = dir.join("sample_crop.png");
    crop.into_rgb_image().save(&path).expect("save");
    // The mole sits near (611, 700) in the photo.
    Item { image: path, bbox: [160.0, 160.0, 240.0, 240.0], dump: true }
}

fn synthetic(dir: &Path, n: usize) -> Vec<Item> {
    synth::standard_set(7, 36)
        .into_iter()
        .filter(|s| !s.hair)
        .take(n)
        .enumerate()
        .map(|(i, spec)| {
            let case = synth::render(&spec);
            let path = dir.join(format!("synth_{i:02}.png"));
            case.image.save(&path).expect("save");
            Item { image: path, bbox: case.bbox, dump: i < 3 }
        })
        .collect()
}

fn run_reference(model: &str, items: &[Item], dir: &Path) {
    let batch: Vec<serde_json::Value> = items
        .iter()
        .map(|it| {
            let mut v = serde_json::json!({ "image": it.image, "box": it.bbox, "out": it.image.with_extension("ref.png") });
            if it.dump {
                v["dump_input"] = it.image.with_extension("input.npy").to_string_lossy().into();
            }
            v
        })
        .collect();
    let list = dir.join("batch.json");
    std::fs::write(&list, serde_json::to_vec(&batch).expect("json")).expect("write");
    let status = Command::new(support::python())
        .arg(support::root().join("tools/reference/segment.py"))
        .args(["--bundle", &support::model_dir(model).to_string_lossy(), "--batch", &list.to_string_lossy(), "--threads", "2"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the reference venv exists (run scripts/setup)");
    assert!(status.success(), "reference failed: {status}");
}

fn check(model: &str, items: Vec<Item>, dir: &Path) {
    run_reference(model, &items, dir);
    let engine = engine(model);
    let (mut dices, mut max_diff, mut mean_diff) = (Vec::new(), 0f32, Vec::new());
    let mut lines = String::new();
    for it in &items {
        let image = Image::open(&it.image, &ImageLimits::default()).expect("image");
        let [x0, y0, x1, y1] = it.bbox;
        let opts = ScanOptions::default()
            .with_box(BoxPrompt::new(x0, y0, x1, y1))
            .with_crop(CropPolicy::WholeImage)
            .with_mask_mode(MaskMode::Upstream)
            .with_hair_removal(HairRemoval::disabled())
            // The upstream recipe has no edge snapping.
            .with_snap_edges(false);
        let ours = engine.scan(&image, &opts).expect("scan");
        let theirs = image::open(it.image.with_extension("ref.png")).expect("reference mask").into_luma8();
        let dice = synth::dice(ours.mask.pixels(), theirs.as_raw());
        lines += &format!("  {} Dice {dice:.4}\n", it.image.file_name().map(|f| f.to_string_lossy()).unwrap_or_default());
        dices.push(dice);
        if it.dump {
            let (shape, reference) = support::read_npy_f32(&it.image.with_extension("input.npy"));
            let input = prepare(&image, &engine.segmenter().recipe().input);
            assert_eq!(shape, input.tensor.shape());
            let diffs: Vec<f32> = input.tensor.iter().zip(&reference).map(|(a, b)| (a - b).abs()).collect();
            max_diff = diffs.iter().copied().fold(max_diff, f32::max);
            mean_diff.push(f64::from(diffs.iter().sum::<f32>()) / diffs.len() as f64);
        }
    }
    let min = dices.iter().copied().fold(1.0, f64::min);
    report(
        &format!("parity_{model}"),
        &format!(
            "{model} SDK (--crop none --mask upstream) vs upstream Python reference, n={}: mean Dice {:.4}, min {:.4}; model input |diff| max {max_diff:.2e}, mean {:.2e}\n{lines}",
            dices.len(),
            mean(&dices),
            min,
            mean(&mean_diff)
        ),
    );
    assert!(min >= 0.97, "{model}: lowest Dice vs reference {min:.4}");
}

#[test]
fn litemedsam_matches_the_upstream_recipe() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut items = vec![sample_crop(dir.path())];
    items.extend(synthetic(dir.path(), 24));
    check("litemedsam", items, dir.path());
}

#[test]
fn mobilesam_matches_the_upstream_sam_recipe() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut items = vec![sample_crop(dir.path())];
    items.extend(synthetic(dir.path(), 8));
    check("mobilesam", items, dir.path());
}
