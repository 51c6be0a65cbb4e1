//! D (**proxy**): differential structures. Stolz's D counts five structures seen by a trained
//! eye: pigment network, structureless (homogeneous) areas, dots, globules and branched
//! streaks. None can be recognised reliably from pixels alone; this module measures one
//! simple pixel-level indicator for each, using Stolz's own presence rules where they exist
//! ("structureless areas > 10 % of the lesion", "more than two dots / globules / streaks"):
//!
//! | structure | indicator |
//! |---|---|
//! | structureless area | ≥ 10 % of the lesion has local (5x5) L* standard deviation < 2.5 |
//! | dots | ≥ 3 dark specks away from the edge: morphological black-hat of L* (closing with a disc of radius 2) ≥ 8, blobs up to 0.1 mm (or 12 px without a scale) |
//! | globules | ≥ 3 dark blobs: black-hat with a disc of radius 5 ≥ 8, larger than a dot, up to ~0.3 mm² (or 100 px), not elongated |
//! | network | dark fine lines (black-hat radius 2 ≥ 5) cover ≥ 10 % of the lesion and join into a mesh (largest piece ≥ 2 % of the lesion) |
//! | branched streaks | ≥ 3 thin protrusions of the outline: lesion minus its opening by a disc of radius r = max(2, 5 % of the radius) px, elongated pieces (axis ratio ≥ 2) of at least 2r² px |
//!
//! Black-hat blobs are only taken deeper inside the lesion than the disc reaches, so the
//! lesion's own edge does not count. D proxy = number of indicators present, clamped to 1..=5. A dark hair crossing the lesion
//! can pass for dots or network; remove hair first where it matters.

use imageproc::distance_transform::{Norm, distance_transform};
use imageproc::morphology::{Mask as Disk, grayscale_close, open};
use imageproc::region_labelling::{Connectivity, connected_components};

use super::Lesion;

/// Which structure indicators were found (see the module docs for each rule).
///
/// ```
/// use dermscan_core::features::{analyse, FeatureConfig};
/// use dermscan_core::{Image, Mask};
/// // A flat, single-coloured lesion is structureless: D proxy 1.
/// let mask = Mask::from_pixels(16, 16, (0..256).map(|i| u8::from((4..12).contains(&(i % 16)) && (4..12).contains(&(i / 16)))).collect()).expect("256 pixels");
/// let image = Image::from_rgb(16, 16, (0..256).flat_map(|i| if mask.pixels()[i] > 0 { [150, 100, 70] } else { [230, 200, 180] }).collect())?;
/// let abcd = analyse(&image, &mask, &FeatureConfig::default())?.abcd;
/// assert!(abcd.structures.structureless);
/// assert_eq!(abcd.d_proxy, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StructureIndicators {
    /// Pigment-network-like mesh of fine dark lines.
    pub network: bool,
    /// Homogeneous area of at least 10 % of the lesion.
    pub structureless: bool,
    /// More than two dot-sized dark specks.
    pub dots: bool,
    /// More than two globule-sized dark blobs.
    pub globules: bool,
    /// More than two thin protrusions of the outline.
    pub streaks: bool,
    /// Number of dot-sized specks found.
    pub dot_count: u32,
    /// Number of globule-sized blobs found.
    pub globule_count: u32,
    /// Number of streak-like protrusions found.
    pub streak_count: u32,
}

impl StructureIndicators {
    /// Number of indicators present (0-5).
    pub fn count(&self) -> u8 {
        [self.network, self.structureless, self.dots, self.globules, self.streaks].iter().filter(|&&b| b).count() as u8
    }
}

/// Cropped working window around the lesion (plus a margin) so morphology stays cheap.
struct Window {
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
}

pub(crate) fn score(lesion: &Lesion) -> StructureIndicators {
    let mut out = StructureIndicators::default();
    let Some(win) = window(lesion, 8) else { return out };
    let idx = |x: usize, y: usize| (y + win.y0) * lesion.width + x + win.x0;
    let light = ::image::GrayImage::from_fn(win.w as u32, win.h as u32, |x, y| {
        ::image::Luma([(lesion.lab[idx(x as usize, y as usize)][0] * 2.55).round().clamp(0.0, 255.0) as u8])
    });
    let inside = |x: usize, y: usize| lesion.inside[idx(x, y)];
    let area = lesion.area;

    // Structureless: local standard deviation of L* in 5x5 windows.
    let mut flat = 0.0;
    for y in 0..win.h {
        for x in 0..win.w {
            if !inside(x, y) {
                continue;
            }
            let (mut s, mut s2, mut n) = (0.0f64, 0.0f64, 0.0f64);
            for yy in y.saturating_sub(2)..(y + 3).min(win.h) {
                for xx in x.saturating_sub(2)..(x + 3).min(win.w) {
                    if inside(xx, yy) {
                        let v = f64::from(lesion.lab[idx(xx, yy)][0]);
                        s += v;
                        s2 += v * v;
                        n += 1.0;
                    }
                }
            }
            if n >= 5.0 && (s2 / n - (s / n).powi(2)).max(0.0).sqrt() < 2.5 {
                flat += 1.0;
            }
        }
    }
    out.structureless = flat >= 0.10 * area;

    // Distance of each lesion pixel to the nearest non-lesion pixel: black-hat responses are
    // only read deeper inside than the structuring element reaches, so the lesion's own dark
    // edge and corners are not taken for dots.
    let outside = ::image::GrayImage::from_fn(win.w as u32, win.h as u32, |x, y| {
        ::image::Luma([if inside(x as usize, y as usize) { 0 } else { 255 }])
    });
    let depth = distance_transform(&outside, Norm::LInf);
    // Black-hat (closing minus image) at two scales, on L* scaled to 0..255 (8 L* = 20 levels).
    let black_hat = |radius: u8, min_l: f64| -> ::image::GrayImage {
        let closed = grayscale_close(&light, &Disk::disk(radius));
        ::image::GrayImage::from_fn(win.w as u32, win.h as u32, |x, y| {
            let d = f64::from(closed.get_pixel(x, y)[0]) - f64::from(light.get_pixel(x, y)[0]);
            let deep = depth.get_pixel(x, y)[0] > radius.saturating_add(1);
            ::image::Luma([if deep && d >= min_l * 2.55 { 255 } else { 0 }])
        })
    };
    let (dot_max, globule_max) = match lesion.mm_per_px {
        Some(s) => {
            let px_per_mm = 1.0 / s;
            (std::f64::consts::PI * (0.05 * px_per_mm).powi(2), std::f64::consts::PI * (0.3 * px_per_mm).powi(2))
        }
        None => (12.0, 100.0),
    };
    let fine = black_hat(2, 5.0);
    let dots_map = black_hat(2, 8.0);
    let dots = blobs(&dots_map);
    out.dot_count = dots.iter().filter(|b| b.area >= 2.0 && b.area <= dot_max.max(2.0)).count() as u32;
    out.dots = out.dot_count > 2;
    let globs = blobs(&black_hat(5, 8.0));
    out.globule_count = globs.iter().filter(|b| b.area > dot_max.max(2.0) && b.area <= globule_max && b.elongation() < 3.0).count() as u32;
    out.globules = out.globule_count > 2;

    // Network: a connected mesh of fine dark lines.
    let lines = blobs(&fine);
    let line_area: f64 = lines.iter().map(|b| b.area).sum();
    let largest = lines.iter().map(|b| b.area).fold(0.0, f64::max);
    out.network = line_area >= 0.10 * area && largest >= 0.02 * area;

    // Streaks: thin protrusions removed by an opening of the mask.
    let radius = (lesion.radius() * 0.05).round().clamp(2.0, 20.0) as u8;
    let mask = ::image::GrayImage::from_fn(win.w as u32, win.h as u32, |x, y| {
        ::image::Luma([if inside(x as usize, y as usize) { 255 } else { 0 }])
    });
    let opened = open(&mask, Norm::L2, radius);
    let residue = ::image::GrayImage::from_fn(win.w as u32, win.h as u32, |x, y| {
        ::image::Luma([if mask.get_pixel(x, y)[0] > 0 && opened.get_pixel(x, y)[0] == 0 { 255 } else { 0 }])
    });
    // A streak is a thin, elongated piece (corners cut off by the opening are small and squat).
    let min_piece = (2.0 * f64::from(radius).powi(2)).max(4.0);
    out.streak_count =
        blobs(&residue).iter().filter(|b| b.area >= min_piece && b.area < 0.05 * area && b.elongation() >= 2.0).count() as u32;
    // Streaks only make sense on a lesion large enough to have a body after opening.
    out.streaks = out.streak_count > 2 && opened.pixels().any(|p| p[0] > 0);
    out
}

fn window(lesion: &Lesion, margin: usize) -> Option<Window> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (i, _) in lesion.inside.iter().enumerate().filter(|(_, v)| **v) {
        let (x, y) = (i % lesion.width, i / lesion.width);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x + 1);
        y1 = y1.max(y + 1);
    }
    if x0 == usize::MAX {
        return None;
    }
    let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (x1, y1) = ((x1 + margin).min(lesion.width), (y1 + margin).min(lesion.height));
    Some(Window { x0, y0, w: x1 - x0, h: y1 - y0 })
}

struct Blob {
    area: f64,
    cov: [f64; 3],
}

impl Blob {
    /// Major/minor axis ratio from second moments.
    fn elongation(&self) -> f64 {
        let (l1, l2, _) = super::measure::eigen(self.cov);
        if l2 <= 1e-9 { if l1 <= 1e-9 { 1.0 } else { f64::INFINITY } } else { (l1 / l2).sqrt() }
    }
}

/// 8-connected components of the non-zero pixels with their area and second moments.
fn blobs(map: &::image::GrayImage) -> Vec<Blob> {
    let labels = connected_components(map, Connectivity::Eight, ::image::Luma([0u8]));
    let n = labels.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    let mut sums = vec![[0.0f64; 6]; n + 1];
    for (x, y, p) in labels.enumerate_pixels() {
        let l = p[0] as usize;
        if l == 0 {
            continue;
        }
        let (x, y) = (f64::from(x), f64::from(y));
        let s = &mut sums[l];
        s[0] += 1.0;
        s[1] += x;
        s[2] += y;
        s[3] += x * x;
        s[4] += x * y;
        s[5] += y * y;
    }
    sums.iter()
        .skip(1)
        .filter(|s| s[0] > 0.0)
        .map(|s| {
            let (mx, my) = (s[1] / s[0], s[2] / s[0]);
            Blob { area: s[0], cov: [s[3] / s[0] - mx * mx, s[4] / s[0] - mx * my, s[5] / s[0] - my * my] }
        })
        .collect()
}
