//! Lesion measurements and the dermoscopy ABCD scores on the synthetic set, with the true
//! masks (no model needed). Figures are written to `target/reports/features-*.txt`.

mod support;

use dermscan::features::{FeatureConfig, Features, analyse};
use dermscan::{FeatureError, Image, Mask};
use support::report;
use support::synth::{SynthCase, SynthSpec, plain_spec, render, standard_set};

const SEED: u64 = 7;
const SET_SIZE: usize = 36;

fn inputs(case: &SynthCase) -> (Image, Mask) {
    let image = Image::from_rgb(case.image.width(), case.image.height(), case.image.as_raw().clone()).expect("rgb");
    let mask = Mask::from_pixels(case.mask.width(), case.mask.height(), case.mask.as_raw().clone()).expect("mask");
    (image, mask)
}

fn features(spec: &SynthSpec) -> (SynthCase, Features) {
    let case = render(spec);
    let (image, mask) = inputs(&case);
    let f = analyse(&image, &mask, &FeatureConfig::default()).expect("features");
    (case, f)
}

/// Average ranks (ties share the mean rank).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// A clean lesion (no hair, glare, vignette, blur or lighting gradient) for controlled sweeps.
fn clean(seed: u64, skin_type: usize, elongation: f32, irregularity: f32, colours: Vec<usize>) -> SynthSpec {
    SynthSpec { elongation, irregularity, colours, ..plain_spec(seed, (512, 512), skin_type, 90.0, (0.5, 0.5)) }
}

#[test]
fn border_score_rises_with_irregularity() {
    let mut irr = Vec::new();
    let mut b = Vec::new();
    let mut text =
        String::from("B (0-8) against spec irregularity\n\nstandard_set(7, 36):\n  irregularity  B  shape deviation per eighth\n");
    for spec in standard_set(SEED, SET_SIZE) {
        let (_, f) = features(&spec);
        text += &format!(
            "  {:.2}          {}  {:?}  edge widths {:?}\n",
            spec.irregularity,
            f.abcd.b,
            f.abcd.border.shape_deviation.map(|d| (d * 1000.0).round() / 1000.0),
            f.abcd.border.edge_width_px.map(|w| w.map(|w| (w * 10.0).round() / 10.0))
        );
        irr.push(f64::from(spec.irregularity));
        b.push(f64::from(f.abcd.b));
    }
    let rho_set = spearman(&irr, &b);
    // A controlled sweep: irregularity 0..1 in 11 steps, three seeds, varied skin and shape.
    let (mut irr2, mut b2) = (Vec::new(), Vec::new());
    text += "\nsweep (clean lesions, radius 90 px):\n  irregularity  B (seeds 1-3)\n";
    for step in 0..=10 {
        let irregularity = step as f32 / 10.0;
        let mut row = Vec::new();
        for seed in 1..=3u64 {
            let spec =
                clean(seed * 100 + step, 1 + (seed as usize * 2 + step as usize) % 6, 1.0 + 0.3 * seed as f32, irregularity, vec![0, 1]);
            let (_, f) = features(&spec);
            row.push(f.abcd.b);
            irr2.push(f64::from(irregularity));
            b2.push(f64::from(f.abcd.b));
        }
        text += &format!("  {irregularity:.1}           {row:?}\n");
    }
    let rho_sweep = spearman(&irr2, &b2);
    text +=
        &format!("\nSpearman rho(B, irregularity): standard set {rho_set:.3} (n={}), sweep {rho_sweep:.3} (n={})\n", irr.len(), irr2.len());
    report("features-border", &text);
    assert!(rho_set >= 0.6, "standard set rho {rho_set:.3}");
    assert!(rho_sweep >= 0.6, "sweep rho {rho_sweep:.3}");
}

#[test]
fn colour_count_matches_truth() {
    let mut within = 0usize;
    let mut exact = 0usize;
    let mut confusion = [[0usize; 7]; 7];
    let mut text = String::from(
        "C (1-6) against the true colour count (colours covering >= 5 %), with the other scores\n\n  skin  true colours       truth  C  A B D  TDS-proxy  found\n",
    );
    let specs = standard_set(SEED, SET_SIZE);
    for spec in &specs {
        let (case, f) = features(spec);
        let (truth, c) = (case.colour_count, usize::from(f.abcd.c));
        within += usize::from(truth.abs_diff(c) <= 1);
        exact += usize::from(truth == c);
        confusion[truth.min(6)][c.min(6)] += 1;
        let abcd = &f.abcd;
        text += &format!(
            "  {}     {:<18} {}      {}  {} {} {}  {:.2} {:<9} {:?}\n",
            spec.skin_type,
            format!("{:?}", spec.colours),
            truth,
            c,
            abcd.a,
            abcd.b,
            abcd.d_proxy,
            abcd.tds,
            format!("{:?}", abcd.band),
            abcd.colours
        );
    }
    let n = specs.len() as f64;
    let frac = within as f64 / n;
    text += &format!("\nwithin 1: {within}/{} = {frac:.3}; exact: {exact}/{} = {:.3}\n", specs.len(), specs.len(), exact as f64 / n);
    text += "\nconfusion (rows: true count 1-4, columns: C 1-6)\n       C=1 C=2 C=3 C=4 C=5 C=6\n";
    for (t, row) in confusion.iter().enumerate().skip(1).take(4) {
        text += &format!("  t={t}  {}\n", row[1..].iter().map(|v| format!("{v:>3}")).collect::<Vec<_>>().join(" "));
    }
    report("features-colour", &text);
    assert!(frac >= 0.8, "C within 1 of the truth on {frac:.3} of the set");
}

#[test]
fn circle_is_less_asymmetric_than_irregular_multicoloured_lesion() {
    let mut text =
        String::from("A (0-2): circle (elongation 1, irregularity 0, one colour) vs elongation 1.8, irregularity 1, 4 colours\n\n");
    let mut circle_scores = Vec::new();
    let mut irregular_scores = Vec::new();
    for seed in 1..=4u64 {
        let skin = 1 + (seed as usize) % 6;
        let (_, circle) = features(&clean(seed, skin, 1.0, 0.0, vec![0]));
        let (_, blotchy) = features(&clean(seed, skin, 1.8, 1.0, vec![0, 1, 2, 3]));
        text += &format!(
            "  seed {seed} skin {skin}: circle A={} shape {:.3?} colour {:.3?} | irregular A={} shape {:.3?} colour {:.3?}\n",
            circle.abcd.a,
            circle.abcd.asymmetry.shape,
            circle.abcd.asymmetry.colour,
            blotchy.abcd.a,
            blotchy.abcd.asymmetry.shape,
            blotchy.abcd.asymmetry.colour
        );
        circle_scores.push((circle.abcd.a, circle.abcd.asymmetry.shape[0].max(circle.abcd.asymmetry.shape[1])));
        irregular_scores.push((blotchy.abcd.a, blotchy.abcd.asymmetry.shape[0].max(blotchy.abcd.asymmetry.shape[1])));
    }
    report("features-asymmetry", &text);
    for (c, i) in circle_scores.iter().zip(&irregular_scores) {
        assert!(c.0 < i.0, "A circle {} vs irregular {}", c.0, i.0);
        assert!(c.1 < i.1, "shape index circle {:.3} vs irregular {:.3}", c.1, i.1);
    }
}

fn disc(width: u32, height: u32, cx: f64, cy: f64, r: f64) -> (Image, Mask) {
    let inside = |x: u32, y: u32| (f64::from(x) + 0.5 - cx).powi(2) + (f64::from(y) + 0.5 - cy).powi(2) <= r * r;
    let mut rgb = Vec::new();
    let mut mask = Vec::new();
    for y in 0..height {
        for x in 0..width {
            rgb.extend_from_slice(if inside(x, y) { &[98, 58, 34] } else { &[228, 190, 165] });
            mask.push(if inside(x, y) { 255 } else { 0 });
        }
    }
    (Image::from_rgb(width, height, rgb).expect("rgb"), Mask::from_pixels(width, height, mask).expect("mask"))
}

#[test]
fn disc_measurements_and_errors() {
    let mut text = String::from("Measurements of drawn discs\n\n");
    for r in [12.0, 25.0, 40.0, 80.0] {
        let side = (2.0 * r + 20.0) as u32;
        let (image, mask) = disc(side, side, f64::from(side) / 2.0 + 0.3, f64::from(side) / 2.0 - 0.2, r);
        let m = analyse(&image, &mask, &FeatureConfig::default()).expect("disc").measurements;
        let d_err = m.diameter_px / (2.0 * r) - 1.0;
        let p_err = m.perimeter_px / (std::f64::consts::TAU * r) - 1.0;
        text += &format!(
            "  r={r:>4}: diameter {:.2} ({:+.2} %), perimeter {:.2} ({:+.2} %), axes {:.2}/{:.2}\n",
            m.diameter_px,
            100.0 * d_err,
            m.perimeter_px,
            100.0 * p_err,
            m.major_axis_px,
            m.minor_axis_px
        );
        assert!(d_err.abs() < 0.02, "r={r}: diameter {}", m.diameter_px);
        assert!(p_err.abs() < 0.05, "r={r}: perimeter {}", m.perimeter_px);
        assert!((m.major_axis_px / (2.0 * r) - 1.0).abs() < 0.03 && (m.minor_axis_px / (2.0 * r) - 1.0).abs() < 0.03);
        assert_eq!((m.area_mm2, m.diameter_mm), (None, None));

        let scale = 0.025f32;
        let config = FeatureConfig { mm_per_px: Some(scale), ..FeatureConfig::default() };
        let mm = analyse(&image, &mask, &config).expect("disc").measurements;
        let s = f64::from(scale);
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.max(1.0));
        assert!(close(mm.area_mm2, m.area_px * s * s));
        assert!(close(mm.perimeter_mm, m.perimeter_px * s));
        assert!(close(mm.diameter_mm, m.diameter_px * s));
        assert!(close(mm.major_axis_mm, m.major_axis_px * s));
        assert!(close(mm.minor_axis_mm, m.minor_axis_px * s));
    }
    report("features-measurements", &text);

    let (image, mask) = disc(40, 40, 20.0, 20.0, 10.0);
    for bad in [0.0f32, -1.0, f32::NAN, f32::INFINITY] {
        let config = FeatureConfig { mm_per_px: Some(bad), ..FeatureConfig::default() };
        assert!(matches!(analyse(&image, &mask, &config), Err(FeatureError::InvalidScale(_))), "{bad}");
    }
    let empty = Mask::from_pixels(40, 40, vec![0; 1600]).expect("mask");
    assert_eq!(analyse(&image, &empty, &FeatureConfig::default()), Err(FeatureError::EmptyMask));
    let small = Mask::from_pixels(20, 40, vec![255; 800]).expect("mask");
    assert_eq!(
        analyse(&image, &small, &FeatureConfig::default()),
        Err(FeatureError::SizeMismatch { image_width: 40, image_height: 40, mask_width: 20, mask_height: 40 })
    );
    // The error converts into the SDK's top-level error.
    let e: dermscan::Error = FeatureError::EmptyMask.into();
    assert!(matches!(e, dermscan::Error::Features(FeatureError::EmptyMask)));
}

#[test]
fn odd_masks_do_not_panic() {
    let image = Image::from_rgb(9, 7, (0..9 * 7 * 3).map(|i| (i * 37 % 256) as u8).collect()).expect("rgb");
    let masks: Vec<Vec<u8>> = vec![
        (0..63).map(|i| u8::from(i == 0)).collect(),            // one pixel in a corner
        (0..63).map(|i| u8::from(i == 31)).collect(),           // one pixel in the middle
        vec![255; 63],                                          // the whole image
        (0..63).map(|i| u8::from(i % 9 == 8)).collect(),        // a column on the right edge
        (0..63).map(|i| u8::from(i / 9 == 0)).collect(),        // the top row
        (0..63).map(|i| u8::from(i % 2 == 0)).collect(),        // a checkerboard-ish scatter
        (0..63).map(|i| u8::from(i == 0 || i == 62)).collect(), // two far-apart pixels
    ];
    for (k, m) in masks.into_iter().enumerate() {
        let mask = Mask::from_pixels(9, 7, m).expect("mask");
        let f = analyse(&image, &mask, &FeatureConfig { mm_per_px: Some(0.1), ..FeatureConfig::default() }).expect("features");
        let abcd = &f.abcd;
        assert!(abcd.a <= 2 && abcd.b <= 8 && (1..=6).contains(&abcd.c) && (1..=5).contains(&abcd.d_proxy), "mask {k}: {abcd:?}");
        assert!(f.measurements.perimeter_px.is_finite() && f.measurements.diameter_px > 0.0 && abcd.tds.is_finite(), "mask {k}");
        let map = dermscan::features::colour_regions(&image, &mask).expect("map");
        assert_eq!(map.len(), 63);
        assert!(map.iter().zip(mask.pixels()).all(|(c, &p)| c.is_some() == (p != 0)));
        serde_json::to_string(&f).expect("serialises");
    }
    let one = Image::from_rgb(1, 1, vec![10, 20, 30]).expect("rgb");
    let f = analyse(&one, &Mask::from_pixels(1, 1, vec![1]).expect("mask"), &FeatureConfig::default()).expect("1x1");
    assert_eq!(f.measurements.area_px, 1.0);
}
