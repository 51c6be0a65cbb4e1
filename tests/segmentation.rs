//! Segmentation on the real models: accuracy on the synthetic set, embedding reuse,
//! the crop policy, and several threads on one engine.

#[path = "support/poses.rs"]
mod poses;
mod support;

use dermscan::model::{SessionConfig, runtime};
use dermscan::preprocess::HairRemoval;
use dermscan::segment::SegmenterStats;
use dermscan::{BoxPrompt, CropPolicy, Image, ModelBundle, PointLabel, Prompt, RoiSource, ScanOptions, Segmenter};
use support::synth::{self, SynthCase};
use support::{engine, mean, report};

const SEED: u64 = 7;
const SET_SIZE: usize = 36;

fn to_image(case: &SynthCase) -> Image {
    Image::from_rgb(case.image.width(), case.image.height(), case.image.as_raw().clone()).expect("rgb")
}

fn true_box(case: &SynthCase) -> BoxPrompt {
    let [x0, y0, x1, y1] = case.bbox;
    BoxPrompt::new(x0, y0, x1, y1)
}

struct Scores {
    true_box: Vec<(bool, f64)>,
    auto: Vec<(bool, f64)>,
    /// True box without hair removal (the upstream recipe), hairy images only.
    hairy_no_removal: Vec<(bool, f64)>,
}

fn split(v: &[(bool, f64)], hair: bool) -> Vec<f64> {
    v.iter().filter(|(h, _)| *h == hair).map(|(_, d)| *d).collect()
}

fn all(v: &[(bool, f64)]) -> Vec<f64> {
    v.iter().map(|(_, d)| *d).collect()
}

fn evaluate(model: &str, with_auto: bool) -> Scores {
    let engine = engine(model);
    let mut scores = Scores { true_box: Vec::new(), auto: Vec::new(), hairy_no_removal: Vec::new() };
    for spec in synth::standard_set(SEED, SET_SIZE) {
        let case = synth::render(&spec);
        let image = to_image(&case);
        let dice = |opts: ScanOptions| synth::dice(engine.scan(&image, &opts).expect("scan").mask.pixels(), case.mask.as_raw());
        let given = ScanOptions::default().with_box(true_box(&case));
        scores.true_box.push((spec.hair, dice(given)));
        if with_auto {
            scores.auto.push((spec.hair, dice(ScanOptions::default())));
            if spec.hair {
                scores.hairy_no_removal.push((true, dice(given.with_hair_removal(HairRemoval::disabled()))));
            }
        }
    }
    scores
}

fn table(model: &str, s: &Scores) -> String {
    let row = |name: &str, v: &[(bool, f64)]| {
        if v.is_empty() {
            return String::new();
        }
        format!(
            "{model:<11} {name:<9} no-hair {:.4} (n={})  hair {:.4} (n={})  all {:.4}\n",
            mean(&split(v, false)),
            split(v, false).len(),
            mean(&split(v, true)),
            split(v, true).len(),
            mean(&all(v))
        )
    };
    format!("{}{}", row("true box", &s.true_box), row("auto ROI", &s.auto))
}

#[test]
fn litemedsam_meets_the_dice_targets_on_the_synthetic_set() {
    let s = evaluate("litemedsam", true);
    let (true_all, auto_all) = (mean(&all(&s.true_box)), mean(&all(&s.auto)));
    let (hair_with, hair_without) = (mean(&split(&s.true_box, true)), mean(&all(&s.hairy_no_removal)));
    report(
        "dice_litemedsam",
        &format!(
            "mean Dice vs ground truth, synthetic set seed {SEED}, n={SET_SIZE}, crop auto, hair removal on\n{}\
             auto ROI loses {:.4} against the true box\n\
             hairy images, true box: with hair removal {hair_with:.4}, without {hair_without:.4} (n={})",
            table("litemedsam", &s),
            true_all - auto_all,
            s.hairy_no_removal.len()
        ),
    );
    assert!(mean(&split(&s.true_box, false)) >= 0.93, "true-box Dice without hair {:.4} < 0.93", mean(&split(&s.true_box, false)));
    // With the adaptive lesion mask and edge snapping by default this set measures 0.898
    // automatic and a loss of 0.019 (the real development photos 0.822). The goal stays 0.90
    // with no image below 0.6 (issue 13 is open: two hairy images are); these bars guard the
    // measured level with a small margin.
    assert!(true_all - auto_all <= 0.04, "the lesion finder loses {:.4} Dice against the true box (> 0.04)", true_all - auto_all);
    assert!(auto_all >= 0.88, "auto-ROI Dice on the whole set {auto_all:.4} < 0.88");
    assert!(hair_with >= hair_without + 0.05, "hair removal: {hair_with:.4} with vs {hair_without:.4} without");
}

#[test]
fn mobilesam_segments_the_synthetic_set() {
    let s = evaluate("mobilesam", false);
    report(
        "dice_mobilesam",
        &format!("mean Dice vs ground truth, synthetic set seed {SEED}, n={SET_SIZE}, crop auto\n{}", table("mobilesam", &s)),
    );
    // No target is set for the second family; it must still find the lesions.
    assert!(mean(&split(&s.true_box, false)) >= 0.80);
}

#[test]
fn crop_auto_beats_whole_image_on_small_lesions() {
    let engine = engine("litemedsam");
    let (mut auto, mut none) = (Vec::new(), Vec::new());
    for spec in synth::small_lesion_set(SEED + 1, 8) {
        let case = synth::render(&spec);
        let image = to_image(&case);
        // The crop alone: edge snapping (on by default) also repairs much of a coarse
        // whole-image outline (crop=none 0.93 with it), which would hide what the crop does.
        let opts = ScanOptions::default().with_box(true_box(&case)).with_snap_edges(false);
        let a = engine.scan(&image, &opts.with_crop(CropPolicy::Auto)).expect("auto");
        let n = engine.scan(&image, &opts.with_crop(CropPolicy::WholeImage)).expect("none");
        assert!(!a.embedding.geometry().window.is_full(image.width(), image.height()), "small lesion is cropped");
        auto.push(synth::dice(a.mask.pixels(), case.mask.as_raw()));
        none.push(synth::dice(n.mask.pixels(), case.mask.as_raw()));
    }
    report(
        "crop_policy",
        &format!(
            "small lesions (r 18-36 px in 1200x900, n={}), true box, LiteMedSAM: mean Dice crop=auto {:.4}, crop=none {:.4}, gain {:+.4}",
            auto.len(),
            mean(&auto),
            mean(&none),
            mean(&auto) - mean(&none)
        ),
    );
    // Measured gain: +0.053 on one CI machine, +0.032 on another (AMD EPYC, no AVX-512) with
    // the same code: ONNX Runtime's kernels differ slightly between CPUs and the coarse
    // whole-image masks move with them. The bar is the effect on every machine seen.
    assert!(mean(&auto) > mean(&none) + 0.02, "auto {:.4} vs none {:.4}", mean(&auto), mean(&none));
}

#[test]
fn several_decodes_on_one_embedding_run_the_encoder_once() {
    // A segmenter of its own, so no other test's calls are counted.
    let bundle = ModelBundle::open(support::model_dir("litemedsam")).expect("bundle");
    let runtime = runtime::load(None).expect("runtime");
    let seg = Segmenter::new(&bundle, &runtime, &SessionConfig { threads: 2, ..Default::default() }).expect("segmenter");
    let case = synth::render(&synth::standard_set(SEED, 1)[0]);
    let image = to_image(&case);
    let embedding = seg.encode(&image, None).expect("encode");
    let b = true_box(&case);
    let (cx, cy) = ((b.x0 + b.x1) / 2.0, (b.y0 + b.y1) / 2.0);
    let first = seg.decode(&embedding, &Prompt::from_box(b)).expect("box");
    let pointed = seg
        .decode(&embedding, &Prompt::from_point(cx, cy, PointLabel::Positive).with_point(2.0, 2.0, PointLabel::Negative))
        .expect("points");
    let refined = seg.decode(&embedding, &Prompt::from_box(b).with_mask(first.low_res_logits().to_vec())).expect("mask prompt");
    assert_eq!(seg.stats(), SegmenterStats { encoder_runs: 1, decoder_runs: 3 });
    assert!(synth::dice(first.pixels(), case.mask.as_raw()) > 0.8);
    assert!(pointed.area_px() > 0 && refined.area_px() > 0);
    assert_eq!((first.width(), first.height()), (image.width(), image.height()));
}

#[test]
fn one_engine_serves_several_threads() {
    let engine = engine("litemedsam");
    let case = synth::render(&synth::standard_set(SEED, 1)[0]);
    let image = to_image(&case);
    let opts = ScanOptions::default().with_box(true_box(&case));
    let alone = engine.scan(&image, &opts).expect("scan");
    let masks: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..3).map(|_| s.spawn(|| engine.scan(&image, &opts).expect("threaded scan").mask.pixels().to_vec())).collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    for m in masks {
        assert_eq!(m, alone.mask.pixels(), "same input, same mask, whatever the thread");
    }
}

/// Centroid of a 0/255 grey image's lesion pixels.
fn centroid(mask: &image::GrayImage) -> (f64, f64) {
    let (mut sx, mut sy, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y, p) in mask.enumerate_pixels() {
        if p[0] > 0 {
            sx += f64::from(x);
            sy += f64::from(y);
            n += 1.0;
        }
    }
    (sx / n.max(1.0), sy / n.max(1.0))
}

#[test]
fn the_sample_mole_is_found_alike_in_all_eight_poses() {
    let engine = engine("litemedsam");
    let upright = Image::open(support::sample_photo(), &Default::default()).expect("sample").into_rgb_image();
    let (mut areas, mut centres, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    for pose in poses::all() {
        let (turns, mirrored) = (pose.turns, pose.mirrored);
        let posed = pose.apply(&upright);
        let photo = Image::from_rgb(posed.width(), posed.height(), posed.into_raw()).expect("rgb");
        let scan = engine.scan(&photo, &ScanOptions::default().with_max_lesions(1)).expect("scan");
        assert_eq!(scan.roi.source, RoiSource::Auto, "{turns} turns, mirrored {mirrored}: a lesion is found");
        // The mask turned back upright: the same mole every time.
        let mask = image::GrayImage::from_raw(scan.mask.width(), scan.mask.height(), scan.mask.pixels().to_vec()).expect("mask");
        let c = centroid(&pose.undo(&mask));
        lines.push(format!("{turns} turns, mirrored {mirrored:5}: area {:5} px, centre ({:.0}, {:.0})", scan.mask.area_px(), c.0, c.1));
        areas.push(scan.mask.area_px() as f64);
        centres.push(c);
    }
    let (m, cv) = poses::area_cv(&areas);
    lines.push(format!("mask area over the 8 poses: mean {m:.0} px, coefficient of variation {:.1}%", cv * 100.0));
    report("rotation_sample", &lines.join("\n"));
    for c in &centres {
        let d = ((c.0 - centres[0].0).powi(2) + (c.1 - centres[0].1).powi(2)).sqrt();
        assert!(d < 30.0, "a different lesion in one pose: centre {c:?} vs {:?}\n{}", centres[0], lines.join("\n"));
    }
    // A regression guard, not issue 13's goal of 5%, which is not met everywhere: this code
    // measured 4.6% on one machine and 8.3% on two others (AMD EPYC without AVX-512, CI's
    // among them: ONNX Runtime's kernels differ by CPU); it was 31% before the verified finder.
    // With the pose-independent user box the model itself varies 6.8% (token 0 alone: 4.0%),
    // so the 256 px input, not the finder, is what is left (docs/measured.md).
    assert!(cv <= 0.12, "area varies with the pose by {:.1}%\n{}", cv * 100.0, lines.join("\n"));
}

#[test]
fn plain_skin_and_tiny_photos_are_no_lesion() {
    let engine = engine("litemedsam");
    // Even skin of three types with a soft lighting gradient and sensor noise.
    let mut rng_state = 5u32;
    let mut noise = move || {
        rng_state = rng_state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (rng_state >> 24) as i32 % 7 - 3
    };
    let mut photos = Vec::new();
    for tone in [[232u8, 196, 176], [198, 150, 118], [112, 76, 58]] {
        let (w, h) = (480u32, 360u32);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let light = 1.0 - 0.15 * (i % w) as f32 / w as f32;
                tone.map(|c| (f32::from(c) * light) as i32)
            })
            .map(|v| (v + noise()).clamp(0, 255) as u8)
            .collect();
        photos.push(("plain skin", Image::from_rgb(w, h, rgb).expect("rgb")));
    }
    photos.push(("1x1", Image::from_rgb(1, 1, vec![90, 60, 40]).expect("rgb")));
    photos.push((
        "8x8",
        Image::from_rgb(8, 8, (0..64).flat_map(|i| if i % 9 == 0 { [60, 40, 30] } else { [220, 180, 160] }).collect()).expect("rgb"),
    ));
    for (what, photo) in photos {
        let scan = engine.scan(&photo, &ScanOptions::default()).expect("scan");
        assert_eq!(scan.roi.source, RoiSource::None, "{what}: no lesion");
        assert!(scan.lesions.is_empty() && scan.mask.area_px() == 0, "{what}: no mask");
        assert!(scan.features.is_none() && scan.classification.is_none(), "{what}: nothing measured");
        assert_eq!(scan.risk.level, dermscan::RiskLevel::Unknown, "{what}");
        assert_eq!(scan.risk.reasons[0].code, dermscan::RiskCode::NoLesion, "{what}");
        assert!(scan.quality.warnings.iter().any(|w| w.issue == dermscan::QualityIssue::NoLesionFound), "{what}: warning");
    }
}

/// Best Dice of any reported lesion against one truth mask.
fn best_dice(scan: &dermscan::ScanResult, truth: &image::GrayImage) -> f64 {
    scan.lesions.iter().map(|l| synth::dice(l.mask.pixels(), truth.as_raw())).fold(0.0, f64::max)
}

#[test]
fn lesions_of_every_kind_no_lesion_and_several_lesions() {
    let engine = engine("litemedsam");
    let mut lines = vec!["varied_set(7, 24), automatic: kind, skin type, Dice of the primary, best Dice of any lesion".to_string()];
    let (mut dice, mut found) = (Vec::new(), 0usize);
    let varied = synth::varied_set(SEED, 24);
    for (i, scene) in varied.iter().enumerate() {
        let case = synth::render_scene(scene);
        let scan = engine.scan(&to_image(&case), &ScanOptions::default()).expect("scan");
        let d = synth::dice(scan.mask.pixels(), case.mask.as_raw());
        let best = best_dice(&scan, &case.mask);
        found += usize::from(best >= 0.5);
        lines.push(format!("  {i:2} {:9} type {} {d:.3} {best:.3}", scene.kind.name(), scene.spec.skin_type));
        dice.push(d);
    }
    let varied_mean = mean(&dice);
    lines.push(format!("  mean Dice {varied_mean:.3}, lesion found in {found}/{}", varied.len()));

    let empty = synth::empty_set(SEED, 12);
    let mut none = 0usize;
    for (i, scene) in empty.iter().enumerate() {
        let scan = engine.scan(&to_image(&synth::render_scene(scene)), &ScanOptions::default()).expect("scan");
        none += usize::from(scan.lesions.is_empty());
        lines.push(format!("empty {i:2} type {}: {} lesion(s) reported", scene.spec.skin_type, scan.lesions.len()));
    }
    lines.push(format!("no lesion reported on {none}/{} photos without one", empty.len()));

    let multi = synth::multi_set(SEED, 6);
    let mut per_lesion = Vec::new();
    for (i, scene) in multi.iter().enumerate() {
        let case = synth::render_scene(scene);
        let scan = engine.scan(&to_image(&case), &ScanOptions::default()).expect("scan");
        let each: Vec<f64> = case.lesion_masks.iter().map(|m| best_dice(&scan, m)).collect();
        lines.push(format!("multi {i}: {} lesions, {} reported, per-lesion Dice {each:.3?}", case.lesion_masks.len(), scan.lesions.len()));
        per_lesion.extend(each);
    }
    let multi_found = per_lesion.iter().filter(|d| **d >= 0.5).count();
    lines.push(format!("per-lesion: mean Dice {:.3}, found {multi_found}/{}", mean(&per_lesion), per_lesion.len()));
    let text = lines.join("\n");
    report("synthetic_kinds", &text);

    // Bars a little under the measured levels (docs/measured.md), so a regression fails.
    assert!(varied_mean >= 0.80, "varied set: mean Dice {varied_mean:.3}\n{text}");
    assert!(found * 10 >= varied.len() * 8, "varied set: found {found}\n{text}");
    assert!(none * 4 >= empty.len() * 3, "no-lesion photos: {none} answered none\n{text}");
    assert!(multi_found * 10 >= per_lesion.len() * 8, "several lesions: found {multi_found}\n{text}");
}

#[test]
fn a_mask_that_leaked_from_a_loose_box_is_pulled_back() {
    // The sample's main mole, in a 400 px window around it: on its own box the model follows
    // the mole; on a box 40 px looser on each side the mask spreads into the skin around it.
    let engine = engine("litemedsam");
    let seg = engine.segmenter();
    let image = Image::open(support::sample_photo(), &Default::default()).expect("sample");
    let window = dermscan::PixelRect { x: 414, y: 488, width: 400, height: 400 };
    let embedding = seg.encode(&image, Some(window)).expect("encode");
    let mode = dermscan::MaskMode::Lesion;
    let own = seg.decode_in_mode(&embedding, &Prompt::from_box(BoxPrompt::new(592.0, 653.0, 653.0, 723.0)), mode).expect("own box");
    let loose_box = BoxPrompt::new(550.0, 610.0, 695.0, 765.0);
    let loose = seg.decode_in_mode(&embedding, &Prompt::from_box(loose_box), mode).expect("loose box");
    let config = dermscan::verify::VerifyConfig::default();
    let (tighter, spent) = dermscan::verify::tighten(seg, &image, &embedding, loose_box, &loose, mode, &config).expect("tighten");
    let (_, tight) = tighter.expect("the leaked mask is pulled back");
    assert!(spent.decoder_ms > 0.0);
    assert!(tight.area_px() < loose.area_px());
    assert!(tight.dice(&own) > loose.dice(&own), "{} <= {}", tight.dice(&own), loose.dice(&own));
    // A mask on the mole's own box is left alone.
    let own_box = dermscan::verify::refit_box(&own, 3.0).expect("box");
    let (kept, _) = dermscan::verify::tighten(seg, &image, &embedding, own_box, &own, mode, &config).expect("tighten");
    assert!(kept.is_none());
}
