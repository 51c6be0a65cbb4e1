//! Change between two scans of one lesion (`dermscan::history::change`) and the timeline
//! pictures, on synthetic masks and photos (no model needed). Figures are printed (run with
//! `--nocapture`) and written to `target/reports/history-*.txt`.

mod support;

use std::time::Instant;

use dermscan::features::{FeatureConfig, analyse};
use dermscan::history::change::{NOTE_NO_SCALE, align, compare};
use dermscan::history::timeline::{CHART_SIZE, OVERLAY_SIDE, area_chart, outline_overlay};
use dermscan::history::{Change, ChangeCode, ChangeThresholds, ScanRecord, SizeUnit};
use dermscan::{Features, HistoryError, Image, Mask};
use image::{GrayImage, Luma, Rgb, RgbImage};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::report;
use support::synth::{SynthSpec, plain_spec, render};

const DAY: i64 = 86_400;
const T0: i64 = 1_717_200_000; // 2024-06-01

/// Lobes of the test lesion: `r(θ) = r0' (1 + Σ a sin(kθ + φ))` on an ellipse stretched
/// 1.25 : 0.8, with `r0' = r0 / sqrt(1 + Σ a²/2)` so the area is `π r0²` whatever the lobes.
type Lobes = [(f64, f64, f64); 2];
const LOBES: Lobes = [(3.0, 0.15, 0.0), (5.0, 0.08, std::f64::consts::FRAC_PI_2)]; // 0.15 sin 3θ + 0.08 cos 5θ
/// Shape changes of the same area: the same lobes turned against the ellipse, other lobes of
/// the same size, and larger other lobes.
const SHAPE_CHANGES: [(&str, Lobes); 3] = [
    ("same lobes turned by 40°", [(3.0, 0.15, 2.094), (5.0, 0.08, std::f64::consts::FRAC_PI_2 + 3.491)]),
    ("other lobes, same size (0.15 sin(2θ+0.4) + 0.08 sin(4θ+1.9))", [(2.0, 0.15, 0.4), (4.0, 0.08, 1.9)]),
    ("other, larger lobes (0.30 sin(2θ+0.4) + 0.12 sin(4θ+1.9))", [(2.0, 0.30, 0.4), (4.0, 0.12, 1.9)]),
];

/// Where and how large the lesion is drawn in one photo.
#[derive(Debug, Clone, Copy)]
struct Pose {
    cx: f64,
    cy: f64,
    angle: f64,
    r0: f64,
}

fn lesion_mask(w: u32, h: u32, p: Pose, lobes: &Lobes) -> Mask {
    let (s, c) = p.angle.sin_cos();
    let r0 = p.r0 / (1.0 + lobes.iter().map(|(_, a, _)| a * a / 2.0).sum::<f64>()).sqrt();
    let mut px = vec![0u8; (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (f64::from(x) + 0.5 - p.cx, f64::from(y) + 0.5 - p.cy);
            let (u, v) = ((c * dx + s * dy) / 1.25, (-s * dx + c * dy) / 0.8);
            let theta = v.atan2(u);
            let r = r0 * (1.0 + lobes.iter().map(|(k, a, phi)| a * (k * theta + phi).sin()).sum::<f64>());
            if u.hypot(v) <= r {
                px[(y * w + x) as usize] = 255;
            }
        }
    }
    Mask::from_pixels(w, h, px).expect("w*h pixels")
}

fn record(id: i64, taken_at: i64, mask: &Mask, mm_per_px: Option<f32>, features: Option<Features>) -> ScanRecord {
    ScanRecord {
        id,
        lesion_id: 1,
        taken_at,
        width: mask.width(),
        height: mask.height(),
        mm_per_px,
        area_px: mask.area_px(),
        features,
        classification: None,
        risk: None,
        models: Vec::new(),
        photo_file: format!("photo-{id}.jpg"),
        mask_file: format!("mask-{id}.png"),
    }
}

/// A random placement of a lesion of radius `r0` in a `w` x `h` photo, clear of the edges.
fn random_pose(rng: &mut ChaCha8Rng, w: u32, h: u32, r0: f64) -> Pose {
    let reach = r0 * 1.25 * 1.25;
    Pose {
        cx: rng.random_range(reach..f64::from(w) - reach),
        cy: rng.random_range(reach..f64::from(h) - reach),
        angle: rng.random_range(0.0..std::f64::consts::TAU),
        r0,
    }
}

/// One pair: the lesion, then the same lesion with its area times `g`, elsewhere and turned;
/// with `zoom` the later photo is taken `zoom` times closer (scales given when `scaled`).
fn pair(rng: &mut ChaCha8Rng, g: f64, zoom: f64, scaled: bool, days: i64) -> (ScanRecord, Mask, ScanRecord, Mask) {
    let (w, h) = (800, 600);
    let r0 = rng.random_range(45.0..70.0);
    let first = random_pose(rng, w, h, r0);
    let second = random_pose(rng, w, h, r0 * g.sqrt() * zoom);
    let (mb, ma) = (lesion_mask(w, h, first, &LOBES), lesion_mask(w, h, second, &LOBES));
    let (sb, sa) = if scaled { (Some(0.02f32), Some(0.02 / zoom as f32)) } else { (None, None) };
    (record(1, T0, &mb, sb, None), mb.clone(), record(2, T0 + days * DAY, &ma, sa, None), ma)
}

#[test]
fn growth_is_measured_after_alignment() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let t = ChangeThresholds::default();
    let mut text = String::from(
        "Change between two synthetic photos of one lesion (800x600, exact masks, random position and rotation, 5 pairs per g)\n\n",
    );
    text += "     g | area ratio mean (max |err|) | iou_aligned min | iou_shape min | significant | reasons\n";
    for g in [1.0, 1.1, 1.2, 1.3, 1.45, 1.6] {
        let (mut ratios, mut ious, mut shapes, mut flagged, mut codes) = (Vec::new(), Vec::new(), Vec::new(), 0, Vec::new());
        for k in 0..5 {
            // Half of the pairs with a scale on both photos (same zoom), half without.
            let scaled = k % 2 == 0;
            let (b, bm, a, am) = pair(&mut rng, g, 1.0, scaled, 62);
            let c = compare(&b, &bm, &a, &am, &t).expect("compare");
            let err = c.area_ratio / g - 1.0;
            assert!(err.abs() < 0.02, "g={g}: area ratio {:.4} ({:+.2}%)", c.area_ratio, 100.0 * err);
            assert_eq!(c.alignment.scale_normalised, scaled);
            if g == 1.0 {
                assert!(c.iou_aligned > 0.95, "g=1: iou {:.4}", c.iou_aligned);
                assert!(!c.significant, "g=1 flagged: {:?}", c.reasons);
            }
            assert!(c.iou_shape > 0.95, "g={g}: shape overlap {:.4}", c.iou_shape);
            // Pure growth: the aligned overlap is about 1/g.
            assert!((c.iou_aligned - 1.0 / g).abs() < 0.03, "g={g}: iou {:.4}", c.iou_aligned);
            if g >= 1.3 {
                assert!(c.significant && c.reasons.iter().any(|r| r.code == ChangeCode::AreaGrowth), "g={g}: {:?}", c.reasons);
                let r = c.reasons.iter().find(|r| r.code == ChangeCode::AreaGrowth).expect("reason");
                assert_eq!(r.threshold, 1.2);
                assert!((r.value - c.area_ratio).abs() < 1e-12);
            }
            // ~62 days is 2.04 months.
            let gpm = c.growth_per_month.expect("rate");
            assert!((gpm - (c.area_ratio - 1.0) / (62.0 / 30.44)).abs() < 1e-9);
            flagged += usize::from(c.significant);
            ratios.push(c.area_ratio);
            ious.push(c.iou_aligned);
            shapes.push(c.iou_shape);
            codes.extend(c.reasons.iter().map(|r| r.code.as_str()));
        }
        codes.sort();
        codes.dedup();
        let max_err = ratios.iter().map(|r| (r / g - 1.0).abs()).fold(0.0, f64::max);
        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        text += &format!(
            "  {g:.2} | {mean:.4} ({:.2}%)             | {:.4}          | {:.4}        | {flagged}/5         | {}\n",
            100.0 * max_err,
            min(&ious),
            min(&shapes),
            codes.join(",")
        );
    }
    report("history-change-growth", &text);
}

#[test]
fn evolution_signal_summarises_the_change() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (b, bm, a, am) = pair(&mut rng, 1.35, 1.0, true, 62);
    let c = compare(&b, &bm, &a, &am, &ChangeThresholds::default()).expect("compare");
    let signal = c.evolution_signal();
    println!("summary: {}", signal.summary);
    assert!(signal.significant);
    assert_eq!(signal.area_ratio, c.area_ratio);
    assert!(signal.summary.starts_with("area up 3") && signal.summary.contains("in 62 days; shape overlap 0.9"), "{}", signal.summary);
    assert_eq!((c.diameter_unit.length_symbol(), c.area_unit.area_symbol()), ("mm", "mm²"));
    assert!((c.diameter_change - (c.diameter_after - c.diameter_before)).abs() < 1e-12);
    assert!((c.diameter_after / c.diameter_before - 1.35f64.sqrt()).abs() < 0.01);
    // Serialises, round trip equal.
    let json = serde_json::to_string(&c).expect("json");
    assert!(json.contains("\"iou_aligned\"") && json.contains("\"area_growth\""));
    let back: Change = serde_json::from_str(&json).expect("parse");
    assert!((back.area_ratio - c.area_ratio).abs() < 1e-12 && back.reasons.len() == c.reasons.len() && back.alignment.scale_normalised);
    // Through the risk assessment: a significant change makes the level high.
    let risk = dermscan::risk::assess(
        &dermscan::risk::RiskInputs { evolution: Some(signal), ..Default::default() },
        &dermscan::RiskThresholds::default(),
    );
    assert_eq!(risk.level, dermscan::RiskLevel::High);
    assert!(risk.reasons[0].text.contains("area up"), "{}", risk.reasons[0].text);
}

#[test]
fn shape_change_of_same_area_is_flagged() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let t = ChangeThresholds::default();
    let mut text =
        String::from("Shape change, same area (lesion: 0.15 sin 3θ + 0.08 cos 5θ on a 1.25:0.8 ellipse), 4 random placements each\n\n");
    for (k, (name, lobes)) in SHAPE_CHANGES.iter().enumerate() {
        let mut shapes = Vec::new();
        for _ in 0..4 {
            let (w, h) = (800, 600);
            let r0 = rng.random_range(50.0..70.0);
            let (p1, p2) = (random_pose(&mut rng, w, h, r0), random_pose(&mut rng, w, h, r0));
            let (bm, am) = (lesion_mask(w, h, p1, &LOBES), lesion_mask(w, h, p2, lobes));
            let (b, a) = (record(1, T0, &bm, Some(0.03), None), record(2, T0 + 90 * DAY, &am, Some(0.03), None));
            let c = compare(&b, &bm, &a, &am, &t).expect("compare");
            assert!((c.area_ratio - 1.0).abs() < 0.02, "{}", c.area_ratio);
            assert!(!c.reasons.iter().any(|r| matches!(r.code, ChangeCode::AreaGrowth | ChangeCode::AreaShrink)));
            // Any of these changes overlaps less than a re-photographed unchanged lesion (> 0.99).
            assert!(c.iou_shape < 0.93, "{name}: {}", c.iou_shape);
            assert_eq!(c.reasons.iter().any(|r| r.code == ChangeCode::Shape), c.iou_shape < t.iou_min);
            if k == 2 {
                assert!(c.significant && c.reasons.iter().any(|r| r.code == ChangeCode::Shape), "{:?}", c.reasons);
                // The same pair is not flagged when the threshold is lowered below its overlap.
                let lenient = ChangeThresholds { iou_min: c.iou_shape - 0.01, ..t };
                assert!(!compare(&b, &bm, &a, &am, &lenient).expect("compare").significant);
            }
            shapes.push(c.iou_shape);
        }
        let flagged = shapes.iter().filter(|&&v| v < t.iou_min).count();
        text += &format!(
            "  {name}: iou_shape {}; flagged {flagged}/4\n",
            shapes.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(", ")
        );
    }
    report("history-change-shape", &text);
}

#[test]
fn scale_normalises_a_change_of_camera_distance() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let t = ChangeThresholds::default();
    let mut text = String::from("Later photo taken closer (zoom z), same lesion (g = 1) or grown (g = 1.3)\n\n");
    for (g, zoom) in [(1.0, 1.3), (1.0, 0.8), (1.3, 1.25), (1.0, 1.6)] {
        // With both scales: the zoom is undone.
        let (b, bm, a, am) = pair(&mut rng, g, zoom, true, 30);
        let c = compare(&b, &bm, &a, &am, &t).expect("compare");
        assert!(c.alignment.scale_normalised);
        assert!((c.alignment.scale - 1.0 / zoom).abs() < 1e-6, "{}", c.alignment.scale);
        assert!((c.area_ratio / g - 1.0).abs() < 0.02, "g={g} zoom={zoom}: {}", c.area_ratio);
        assert!(c.iou_shape > 0.95 && c.iou_aligned > 0.95 / g, "{} {}", c.iou_shape, c.iou_aligned);
        assert_eq!(c.significant, g >= 1.3, "{:?}", c.reasons);
        assert!(!c.notes.iter().any(|n| n == NOTE_NO_SCALE));
        // Without scales: compared in pixels, the zoom reads as a change of size, and a note says so.
        let (b2, a2) = (ScanRecord { mm_per_px: None, ..b.clone() }, ScanRecord { mm_per_px: Some(0.02), ..a.clone() });
        let p = compare(&b2, &bm, &a2, &am, &t).expect("compare");
        assert!(!p.alignment.scale_normalised && p.alignment.scale == 1.0);
        assert_eq!((p.diameter_unit, p.area_unit), (SizeUnit::Pixels, SizeUnit::Pixels));
        assert!(p.notes.iter().any(|n| n == NOTE_NO_SCALE), "{:?}", p.notes);
        assert!((p.area_ratio / (g * zoom * zoom) - 1.0).abs() < 0.02, "{}", p.area_ratio);
        assert!(p.iou_shape > 0.95, "{}", p.iou_shape);
        text += &format!(
            "  g={g:.2} z={zoom:.2}: with scales ratio {:.4} (scale {:.4}, iou {:.4}, significant {}); without ratio {:.4} (significant {}, reasons {:?})\n",
            c.area_ratio,
            c.alignment.scale,
            c.iou_aligned,
            c.significant,
            p.area_ratio,
            p.significant,
            p.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()
        );
    }
    report("history-change-zoom", &text);
}

#[test]
fn align_returns_the_reference_frame() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let p1 = random_pose(&mut rng, 800, 600, 60.0);
    let p2 = Pose { cx: 300.0, cy: 260.0, angle: p1.angle + 2.5, r0: 60.0 };
    let (reference, moving) = (lesion_mask(800, 600, p1, &LOBES), lesion_mask(640, 480, p2, &LOBES));
    let (al, aligned) = align(&reference, &moving, 1.0).expect("align");
    assert_eq!((aligned.width(), aligned.height()), (800, 600));
    let dice = reference.dice(&aligned);
    println!("align: rotation {:.2}°, translation {:?}, dice {dice:.4}", al.rotation_deg, al.translation_px);
    assert!(dice > 0.97, "{dice}");
    // The rotation found is the one drawn (-2.5 rad), within half a degree.
    let off = (al.rotation_deg + 2.5f64.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    assert!(off.abs() < 0.5, "{}", al.rotation_deg);
    // The centre of the moved lesion lands on the first one's.
    let [x, y] = al.map([p2.cx, p2.cy]);
    assert!((x - p1.cx).abs() < 1.5 && (y - p1.cy).abs() < 1.5, "{x} {y} vs {} {}", p1.cx, p1.cy);
    // Errors, no panics.
    let empty = Mask::from_pixels(800, 600, vec![0; 480_000]).expect("mask");
    assert!(matches!(align(&reference, &empty, 1.0), Err(HistoryError::InvalidArgument(_))));
    let r = record(1, T0, &reference, Some(-1.0), None);
    assert!(matches!(compare(&r, &reference, &r, &reference, &ChangeThresholds::default()), Err(HistoryError::InvalidArgument(_))));
    let bad = ChangeThresholds { area_growth: 0.9, ..ChangeThresholds::default() };
    assert!(matches!(
        compare(&record(1, T0, &reference, None, None), &reference, &record(2, T0, &moving, None, None), &moving, &bad),
        Err(HistoryError::InvalidArgument(_))
    ));
}

#[test]
fn near_circular_lesions_and_tiny_masks() {
    // A plain disc: any rotation fits; the overlap must still be near 1.
    let disc = |w: u32, h: u32, cx: f64, cy: f64, r: f64| {
        let px = (0..w * h).map(|i| u8::from((f64::from(i % w) + 0.5 - cx).hypot(f64::from(i / w) + 0.5 - cy) <= r)).collect();
        Mask::from_pixels(w, h, px).expect("pixels")
    };
    let (a, b) = (disc(300, 200, 80.3, 90.7, 40.0), disc(300, 200, 210.6, 100.2, 40.0));
    let c = compare(&record(1, T0, &a, None, None), &a, &record(2, T0 + DAY / 2, &b, None, None), &b, &ChangeThresholds::default())
        .expect("compare");
    println!("disc: area ratio {:.4}, iou {:.4}", c.area_ratio, c.iou_aligned);
    assert!(c.iou_aligned > 0.97 && !c.significant);
    assert_eq!(c.growth_per_month, None, "half a day apart");
    // Later scan dated before the earlier one: a note, no panic.
    let c = compare(&record(1, T0, &a, None, None), &a, &record(2, T0 - 10 * DAY, &b, None, None), &b, &ChangeThresholds::default())
        .expect("compare");
    assert!(c.days_between < 0.0 && c.notes.iter().any(|n| n.contains("backwards")));
    // One-pixel lesions.
    let dot = disc(20, 20, 10.5, 10.5, 0.5);
    assert_eq!(dot.area_px(), 1);
    let c = compare(&record(1, T0, &dot, None, None), &dot, &record(2, T0, &dot, None, None), &dot, &ChangeThresholds::default())
        .expect("compare");
    assert_eq!((c.area_ratio, c.iou_aligned), (1.0, 1.0));
}

#[test]
fn compare_is_quick_on_large_masks() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut text = String::from("compare() on 1000x1000 masks (test profile)\n\n");
    for r0 in [60.0, 150.0, 260.0] {
        let p1 = Pose { cx: 480.0, cy: 520.0, angle: rng.random_range(0.0..std::f64::consts::TAU), r0 };
        let p2 = Pose { cx: 530.0, cy: 470.0, angle: rng.random_range(0.0..std::f64::consts::TAU), r0: r0 * 1.1 };
        let (bm, am) = (lesion_mask(1000, 1000, p1, &LOBES), lesion_mask(1000, 1000, p2, &LOBES));
        let (b, a) = (record(1, T0, &bm, Some(0.01), None), record(2, T0 + 40 * DAY, &am, Some(0.01), None));
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..3 {
            let start = Instant::now();
            last = Some(compare(&b, &bm, &a, &am, &ChangeThresholds::default()).expect("compare"));
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let c = last.expect("ran");
        text += &format!(
            "  lesion {} px ({:.0} px across): {:.1} ms median of 3 (area ratio {:.4}, iou_shape {:.4})\n",
            bm.area_px(),
            2.0 * r0 * 1.25,
            times[1],
            c.area_ratio,
            c.iou_shape
        );
        assert!((c.area_ratio / 1.21 - 1.0).abs() < 0.02);
        assert!(times[1] < 2000.0, "{times:?}");
    }
    report("history-change-speed", &text);
}

// ---------------------------------------------------------------------------------------------
// ABCD jitter: the evidence behind the score thresholds.

/// How the same lesion is photographed again.
struct Retake {
    /// Rotation about the photo's centre, radians.
    angle: f32,
    shift: (f32, f32),
    /// Camera closer (> 1) or farther (< 1).
    zoom: f32,
    /// Overall exposure.
    gain: f32,
    /// Warmer (> 0) or cooler white balance: red times 1 + cast, blue times 1 - cast.
    cast: f32,
    /// Lighting gradient across the photo, x and y.
    gradient: (f32, f32),
}

impl Retake {
    fn random(rng: &mut ChaCha8Rng) -> Self {
        Self {
            angle: rng.random_range(0.0..std::f32::consts::TAU),
            shift: (rng.random_range(-60.0..60.0), rng.random_range(-40.0..40.0)),
            zoom: rng.random_range(0.85..1.2),
            gain: rng.random_range(0.8..1.2),
            cast: rng.random_range(-0.08..0.08),
            gradient: (rng.random_range(-0.25..0.25), rng.random_range(-0.25..0.25)),
        }
    }
}

/// The photo moved (rotation about the centre, zoom, shift) and relit (gain, colour cast,
/// gradient): the same lesion photographed again.
fn rephotograph(image: &RgbImage, mask: &GrayImage, t: &Retake) -> (Image, Mask) {
    let (Retake { angle, shift, zoom, gain, cast, gradient }, (w, h)) = (t, image.dimensions());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let projection = Projection::translate(cx + shift.0, cy + shift.1)
        * Projection::rotate(*angle)
        * Projection::scale(*zoom, *zoom)
        * Projection::translate(-cx, -cy);
    let moved = warp(image, projection, Interpolation::Bilinear, Border::Replicate);
    let moved_mask = warp(mask, projection, Interpolation::Nearest, Border::Constant(Luma([0])));
    let mut relit = RgbImage::new(w, h);
    for (x, y, p) in moved.enumerate_pixels() {
        let light = *gain * (1.0 + gradient.0 * (x as f32 / w as f32 - 0.5) + gradient.1 * (y as f32 / h as f32 - 0.5));
        let k = [light * (1.0 + cast), light, light * (1.0 - cast)];
        relit.put_pixel(x, y, Rgb([0, 1, 2].map(|i| (f32::from(p[i]) * k[i]).round().clamp(0.0, 255.0) as u8)));
    }
    (Image::from_rgb(w, h, relit.into_raw()).expect("rgb"), Mask::from_pixels(w, h, moved_mask.into_raw()).expect("mask"))
}

fn spec(rng: &mut ChaCha8Rng, i: usize) -> SynthSpec {
    let n_colours = 1 + i % 4;
    let mut colours = vec![if rng.random_bool(0.5) { 0 } else { 1 }];
    while colours.len() < n_colours {
        let c = rng.random_range(0..if colours.len() < 3 { 4 } else { 6 });
        if !colours.contains(&c) {
            colours.push(c);
        }
    }
    // Drawn in this order: the random stream fixes the test's lesions.
    let radius = rng.random_range(55.0..95.0);
    let elongation = rng.random_range(1.0..1.5);
    let irregularity = rng.random_range(0.0..0.9);
    SynthSpec { elongation, irregularity, colours, gradient: 0.1, ..plain_spec(9000 + i as u64, (800, 600), 1 + i % 6, radius, (0.5, 0.5)) }
}

#[test]
fn unchanged_lesions_under_other_lighting_are_not_flagged_and_grown_ones_are() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let t = ChangeThresholds::default();
    let scale = 0.02f32;
    let n = 36;
    let (mut da, mut db, mut dc, mut added, mut shape, mut ratio) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut grown_ratio, mut grown_flagged) = (Vec::new(), 0);
    let (mut recoloured, mut recoloured_added, mut recoloured_flagged) = (0, Vec::new(), 0);
    let mut flagged_unchanged = Vec::new();
    for i in 0..n {
        let s = spec(&mut rng, i);
        let case = render(&s);
        let before_image = Image::from_rgb(800, 600, case.image.as_raw().clone()).expect("rgb");
        let before_mask = Mask::from_pixels(800, 600, case.mask.as_raw().clone()).expect("mask");
        let config = FeatureConfig { mm_per_px: Some(scale), ..FeatureConfig::default() };
        let before_features = analyse(&before_image, &before_mask, &config).expect("features");
        let before = record(1, T0, &before_mask, Some(scale), Some(before_features.clone()));

        let again = |case: &support::synth::SynthCase, rng: &mut ChaCha8Rng| {
            let retake = Retake::random(rng);
            let (image, mask) = rephotograph(&case.image, &case.mask, &retake);
            // Closer means fewer millimetres per pixel.
            let mm_per_px = scale / retake.zoom;
            let features =
                analyse(&image, &mask, &FeatureConfig { mm_per_px: Some(mm_per_px), ..FeatureConfig::default() }).expect("features");
            (record(2, T0 + 91 * DAY, &mask, Some(mm_per_px), Some(features)), mask)
        };

        // The same lesion photographed again.
        let (after, after_mask) = again(&case, &mut rng);
        let c = compare(&before, &before_mask, &after, &after_mask, &t).expect("compare");
        let (fa, fb) = (&after.features.as_ref().expect("features").abcd, &before_features.abcd);
        assert_eq!(c.asymmetry_change, Some(i32::from(fa.a) - i32::from(fb.a)));
        assert_eq!(c.border_change, Some(i32::from(fa.b) - i32::from(fb.b)));
        assert_eq!(c.colour_change, Some(i32::from(fa.c) - i32::from(fb.c)));
        assert!(c.colours_added.iter().all(|x| fa.colours.contains(x) && !fb.colours.contains(x)));
        assert!(c.colours_removed.iter().all(|x| fb.colours.contains(x) && !fa.colours.contains(x)));
        da.push(c.asymmetry_change.unwrap_or(0));
        db.push(c.border_change.unwrap_or(0));
        dc.push(c.colour_change.unwrap_or(0));
        added.push(c.colours_added.len() as i32);
        shape.push(c.iou_shape);
        ratio.push(c.area_ratio);
        if c.significant {
            flagged_unchanged.push(format!("lesion {i}: {:?}", c.reasons.iter().map(|r| &r.text).collect::<Vec<_>>()));
        }

        // The same lesion grown by 25 % (same seed, radius * sqrt(1.25)), photographed again.
        let grown = render(&SynthSpec { radius: s.radius * 1.25f32.sqrt(), ..s.clone() });
        let (after, after_mask) = again(&grown, &mut rng);
        let c = compare(&before, &before_mask, &after, &after_mask, &t).expect("compare");
        grown_ratio.push(c.area_ratio);
        grown_flagged += usize::from(c.significant && c.reasons.iter().any(|r| r.code == ChangeCode::AreaGrowth));

        // Every third lesion gains black and blue-grey areas (same size and outline).
        if i % 3 == 0 {
            let mut colours = s.colours.clone();
            colours.extend([2, 3].into_iter().filter(|k| !s.colours.contains(k)));
            let (after, after_mask) = again(&render(&SynthSpec { colours, ..s.clone() }), &mut rng);
            let c = compare(&before, &before_mask, &after, &after_mask, &t).expect("compare");
            recoloured += 1;
            recoloured_added.push(c.colours_added.len() as i32);
            let flagged = c.reasons.iter().any(|r| r.code == ChangeCode::Colours);
            assert_eq!(flagged, c.colours_added.len() >= t.colours_added);
            recoloured_flagged += usize::from(flagged);
        }
    }

    let histogram = |v: &[i32]| {
        let (lo, hi) = (v.iter().copied().min().unwrap_or(0), v.iter().copied().max().unwrap_or(0));
        (lo..=hi).map(|k| format!("{k:+}: {}", v.iter().filter(|&&x| x == k).count())).collect::<Vec<_>>().join(", ")
    };
    let at_least = |v: &[i32], k: i32| v.iter().filter(|&&x| x >= k).count();
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut text = format!(
        "ABCD jitter: {n} synthetic lesions (skin I-VI, 1-4 colours, exact masks) photographed again: rotation 0-360°, shift up to 60 px, zoom 0.85-1.2 (scale given), gain 0.8-1.2, colour cast ±8%, gradient ±25%\n\n"
    );
    text +=
        &format!("  ΔA (asymmetry, 0-2): {}   (pairs with ΔA >= 1: {}, >= 2: {})\n", histogram(&da), at_least(&da, 1), at_least(&da, 2));
    text += &format!(
        "  ΔB (border, 0-8):    {}   (pairs with ΔB >= 1: {}, >= 2: {}, >= 3: {})\n",
        histogram(&db),
        at_least(&db, 1),
        at_least(&db, 2),
        at_least(&db, 3)
    );
    text += &format!("  ΔC (colours, 1-6):   {}\n", histogram(&dc));
    text += &format!(
        "  colours added:       {}   (pairs with >= 1: {}, >= 2: {})\n",
        histogram(&added),
        at_least(&added, 1),
        at_least(&added, 2)
    );
    text +=
        &format!("  area ratio {:.4}..{:.4}; shape overlap (iou_shape) {:.4}..{:.4}\n", min(&ratio), max(&ratio), min(&shape), max(&shape));
    text += &format!(
        "  flagged with the default thresholds: {} of {n}{}\n",
        flagged_unchanged.len(),
        if flagged_unchanged.is_empty() { String::new() } else { format!(": {flagged_unchanged:?}") }
    );
    text += &format!(
        "\nThe same lesions grown by 25%: area ratio {:.4}..{:.4}, flagged with reason area_growth: {grown_flagged} of {n}\n",
        min(&grown_ratio),
        max(&grown_ratio)
    );
    text += &format!(
        "{recoloured} lesions given black and blue-grey areas: colours added {}; flagged with reason colours: {recoloured_flagged} of {recoloured}\n",
        histogram(&recoloured_added)
    );
    report("history-change-abcd-jitter", &text);

    assert!(flagged_unchanged.is_empty(), "{flagged_unchanged:?}");
    assert_eq!(grown_flagged, n);
    assert!(ratio.iter().all(|r| (r - 1.0).abs() < 0.02), "{ratio:?}");
    assert!(min(&shape) > 0.95);
}

// ---------------------------------------------------------------------------------------------
// Timeline pictures.

#[test]
fn timeline_pictures_decode_with_the_expected_size() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let mut scans = Vec::new();
    for (k, (g, day)) in [(1.0, 0), (1.12, 45), (1.3, 120), (1.55, 200)].into_iter().enumerate() {
        let pose = random_pose(&mut rng, 800, 600, 55.0 * f64::sqrt(g));
        let mask = lesion_mask(800, 600, pose, &LOBES);
        scans.push((record(k as i64 + 1, T0 + day * DAY, &mask, Some(0.02), None), mask));
    }
    let records: Vec<ScanRecord> = scans.iter().rev().map(|(r, _)| r.clone()).collect();
    let chart = image::load_from_memory(&area_chart(&records).expect("chart")).expect("png").to_rgb8();
    assert_eq!(chart.dimensions(), CHART_SIZE);
    let overlay_png = outline_overlay(&scans).expect("overlay");
    let overlay = image::load_from_memory(&overlay_png).expect("png").to_rgb8();
    println!("chart {:?}, overlay {:?}", chart.dimensions(), overlay.dimensions());
    // The drawing's longer side is OVERLAY_SIDE; title, legend and padding come on top.
    let (ow, oh) = overlay.dimensions();
    assert!(ow.max(oh) >= OVERLAY_SIDE && ow <= OVERLAY_SIDE + 40 && oh <= OVERLAY_SIDE + 120, "{:?}", overlay.dimensions());
    // Blue first, red last, both present.
    let reddish = overlay.pixels().filter(|p| p[0] > 180 && p[1] < 60 && p[2] < 80).count();
    let bluish = overlay.pixels().filter(|p| p[2] > 180 && p[0] < 60).count();
    assert!(reddish > 200 && bluish > 200, "red {reddish}, blue {bluish}");
    // In pixels when a scan has no scale; one scan; identical dates.
    let mut no_scale = records.clone();
    no_scale[0].mm_per_px = None;
    assert_eq!(image::load_from_memory(&area_chart(&no_scale).expect("chart")).expect("png").to_rgb8().dimensions(), CHART_SIZE);
    assert_eq!(image::load_from_memory(&area_chart(&records[..1]).expect("chart")).expect("png").to_rgb8().dimensions(), CHART_SIZE);
    let same_day: Vec<(ScanRecord, Mask)> = scans.iter().map(|(r, m)| (ScanRecord { taken_at: T0, ..r.clone() }, m.clone())).collect();
    assert!(outline_overlay(&same_day).is_ok());
    assert!(outline_overlay(&scans[..1]).is_ok());
    assert!(matches!(outline_overlay(&[]), Err(HistoryError::InvalidArgument(_))));
    // Kept for a look: target/reports/history-*.png.
    let dir = support::root().join("target/reports");
    std::fs::create_dir_all(&dir).expect("dir");
    chart.save(dir.join("history-area-chart.png")).expect("save");
    overlay.save(dir.join("history-outlines.png")).expect("save");
}
