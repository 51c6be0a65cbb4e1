//! Photo quality gate: tells the user, before or alongside a scan, whether a photo is good
//! enough to analyse, and how to retake it if not.
//!
//! [`assess`] works on a small grey/RGB working copy (longest side
//! [`QualityConfig::work_size`], 512 px by default, never enlarged) and runs these checks:
//!
//! | issue | measure | Normal threshold |
//! |---|---|---|
//! | [`Blurry`](QualityIssue::Blurry) | Crété-Roffet blur metric around the lesion, as the equivalent Gaussian blur of a step edge, in working pixels | > 1.5 px |
//! | [`UnderExposed`](QualityIssue::UnderExposed) | median brightest channel of the central skin | < 70 / 255 |
//! | [`OverExposed`](QualityIssue::OverExposed) | share of central skin pixels with two or more channels at ≥ 250 | > 25 % |
//! | [`Glare`](QualityIssue::Glare) | share of near-white pixels standing out above the skin, over the lesion's box + 10 % | > 5 % |
//! | [`LesionCutOff`](QualityIssue::LesionCutOff) | share of the lesion outline lying on the image frame | > 2 % |
//! | [`LesionTooSmall`](QualityIssue::LesionTooSmall) | equivalent-disc diameter of the lesion, in image pixels | < 40 px |
//! | [`NoLesionFound`](QualityIssue::NoLesionFound) | no mask, or an empty one | — |
//!
//! [`Strictness`] scales every threshold. The exposure checks look at the central disc of the
//! frame (radius 45 % of the short side) minus the lesion and minus pixels darker than 35 % of
//! that disc's 90th brightness percentile, so the black vignetted corners of a dermoscope
//! photo never count as under-exposure.
//!
//! The gate is a heuristic aid for the photographer, not a guarantee: a photo that passes can
//! still be unsuitable, and very dark skin sits closer to the under-exposure threshold than
//! light skin (a single photo cannot tell dark skin from a dim exposure of lighter skin).

mod config;
mod lesion;
mod report;
mod sharpness;
mod warnings;

use image::{GrayImage, Luma};
use imageproc::distance_transform::Norm;
use imageproc::morphology::dilate;

pub use self::config::{QualityConfig, Strictness};
use self::lesion::LesionGeometry;
pub use self::report::{QualityIssue, QualityReport, QualityWarning};
use crate::image::Image;
use crate::preprocess::{Interpolation, resize_rgb};
use crate::segment::Mask;

/// Checks whether `image` is good enough to analyse the lesion `lesion` (its mask, at the
/// image's size; `None` when no lesion was found). Never fails: every input gives a report.
///
/// ```
/// use dermscan_core::image::Image;
/// use dermscan_core::quality::{assess, QualityConfig, QualityIssue};
/// use dermscan_core::segment::Mask;
/// // A lesion cut by the left edge of the frame.
/// let (w, h) = (200u32, 150u32);
/// let inside = |i: u32| (i % w) < 40 && (40..110).contains(&(i / w));
/// let rgb: Vec<u8> = (0..w * h).flat_map(|i| if inside(i) { [90, 60, 40] } else { [220, 180, 160] }).collect();
/// let mask = Mask::from_pixels(w, h, (0..w * h).map(|i| u8::from(inside(i))).collect()).unwrap();
/// let report = assess(&Image::from_rgb(w, h, rgb)?, Some(&mask), &QualityConfig::default());
/// assert!(report.has(QualityIssue::LesionCutOff));
/// assert!(assess(&Image::from_rgb(w, h, vec![200; (w * h * 3) as usize])?, None, &QualityConfig::default())
///     .has(QualityIssue::NoLesionFound));
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
pub fn assess(image: &Image, lesion: Option<&Mask>, config: &QualityConfig) -> QualityReport {
    let _span = tracing::info_span!("quality", strictness = ?config.strictness).entered();
    let t = config.effective();
    let work = WorkCopy::new(image, config.work_size.max(1));
    let geometry = lesion.and_then(|m| LesionGeometry::measure(m, image.width(), image.height()));
    let lesion_work = match (lesion, &geometry) {
        (Some(m), Some(_)) => Some(work.lesion_mask(m)),
        _ => None,
    };
    let box_work = geometry.as_ref().map(|g| g.bbox.map(|v| v * work.scale));

    let skin = work.skin_stats(lesion_work.as_ref());
    let glare_fraction = work.glare_fraction(box_work, skin.luma);
    let sharp_region = work.sharpness_region(box_work);
    let grey = work.grey(sharp_region);
    let blur = sharpness::crete_blur(&grey);
    let blur_sigma_px = blur.map_or(sharpness::MAX_SIGMA, sharpness::equivalent_sigma);
    let mut report = QualityReport {
        warnings: Vec::new(),
        sharpness: blur.map_or(0.0, |b| 1.0 - b),
        blur_sigma_px,
        laplacian_variance: sharpness::laplacian_variance(&grey),
        brightness: skin.brightness,
        clipped_fraction: skin.clipped_fraction,
        glare_fraction,
        border_contact: geometry.as_ref().map_or(0.0, |g| g.border_contact),
        lesion_area_px: geometry.as_ref().map_or(0.0, |g| g.area_px),
        lesion_diameter_px: geometry.as_ref().map_or(0.0, |g| g.diameter_px),
    };
    report.warnings = warnings::warnings(&report, geometry.is_some(), &t);
    tracing::debug!(warnings = report.warnings.len(), blur_sigma_px, brightness = skin.brightness, "quality");
    report
}

/// Brightness statistics of the reference skin.
struct SkinStats {
    brightness: f32,
    luma: f32,
    clipped_fraction: f32,
}

/// A pixel rectangle of the working copy: `[x0, y0, x1, y1]`, ends exclusive.
type Rect = [u32; 4];

/// The small RGB working copy.
struct WorkCopy {
    w: u32,
    h: u32,
    rgb: Vec<u8>,
    /// Working pixels per image pixel.
    scale: f32,
}

fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

fn median(values: &mut [f32]) -> f32 {
    quantile(values, 0.5)
}

/// The `q` quantile (the element at rank `len * q`), in linear time; 0 when empty.
fn quantile(values: &mut [f32], q: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let k = ((values.len() as f32 * q) as usize).min(values.len() - 1);
    *values.select_nth_unstable_by(k, f32::total_cmp).1
}

impl WorkCopy {
    fn new(image: &Image, work_size: u32) -> Self {
        let (iw, ih) = (image.width().max(1), image.height().max(1));
        let scale = (work_size as f32 / iw.max(ih) as f32).min(1.0);
        let (w, h) = (((iw as f32 * scale).round() as u32).max(1), ((ih as f32 * scale).round() as u32).max(1));
        let rgb = if image.as_rgb().len() == iw as usize * ih as usize * 3 {
            resize_rgb(image.as_rgb(), iw, ih, w, h, Interpolation::Bilinear)
        } else {
            vec![0; w as usize * h as usize * 3]
        };
        Self { w, h, rgb, scale: w as f32 / iw as f32 }
    }

    fn px(&self, x: u32, y: u32) -> &[u8] {
        let i = (y as usize * self.w as usize + x as usize) * 3;
        &self.rgb[i..i + 3]
    }

    /// The lesion mask sampled (nearest) at the working size and dilated by 2 px, so its soft
    /// edge does not count as skin.
    fn lesion_mask(&self, mask: &Mask) -> GrayImage {
        let (mw, mh) = (mask.width().max(1), mask.height().max(1));
        let px = mask.pixels();
        let small = GrayImage::from_fn(self.w, self.h, |x, y| {
            let mx = (((x as f32 + 0.5) / self.w as f32 * mw as f32) as u32).min(mw - 1);
            let my = (((y as f32 + 0.5) / self.h as f32 * mh as f32) as u32).min(mh - 1);
            Luma([px.get((my * mw + mx) as usize).copied().unwrap_or(0)])
        });
        dilate(&small, Norm::LInf, 2)
    }

    fn in_central_disc(&self, x: u32, y: u32) -> bool {
        let r = 0.45 * self.w.min(self.h) as f32;
        let (dx, dy) = (x as f32 + 0.5 - self.w as f32 / 2.0, y as f32 + 0.5 - self.h as f32 / 2.0);
        dx * dx + dy * dy <= r * r
    }

    /// Exposure statistics of the central skin: the central disc, minus the (dilated) lesion,
    /// minus pixels darker than 35 % of the disc's 90th brightness percentile (vignetting,
    /// shadows, hair). Falls back to the whole disc, then the whole frame, when nothing is left.
    fn skin_stats(&self, lesion: Option<&GrayImage>) -> SkinStats {
        let is_lesion = |x: u32, y: u32| lesion.is_some_and(|m| m.get_pixel(x, y)[0] != 0);
        let collect = |keep: &dyn Fn(u32, u32) -> bool| -> Vec<&[u8]> {
            (0..self.h).flat_map(|y| (0..self.w).map(move |x| (x, y))).filter(|&(x, y)| keep(x, y)).map(|(x, y)| self.px(x, y)).collect()
        };
        let mut candidates = collect(&|x, y| self.in_central_disc(x, y) && !is_lesion(x, y));
        if candidates.is_empty() {
            candidates = collect(&|x, y| self.in_central_disc(x, y));
        }
        if candidates.is_empty() {
            candidates = collect(&|_, _| true);
        }
        let value = |p: &[u8]| f32::from(p[0].max(p[1]).max(p[2]));
        let mut values: Vec<f32> = candidates.iter().map(|p| value(p)).collect();
        let p90 = quantile(&mut values, 0.9);
        let floor = 0.35 * p90;
        let skin: Vec<&[u8]> = candidates.iter().copied().filter(|p| value(p) >= floor).collect();
        let skin = if skin.is_empty() { candidates } else { skin };
        let n = skin.len().max(1) as f32;
        let clipped = skin.iter().filter(|p| p.iter().filter(|&&c| c >= 250).count() >= 2).count() as f32 / n;
        let mut v: Vec<f32> = skin.iter().map(|p| value(p)).collect();
        let mut l: Vec<f32> = skin.iter().map(|p| luma(p)).collect();
        SkinStats { brightness: median(&mut v), luma: median(&mut l), clipped_fraction: clipped }
    }

    /// `rect` (working pixels, float) grown by `margin` of its size on each side, at least
    /// `min_side` wide and high where the frame allows, clamped to the frame; never empty.
    fn grow(&self, rect: [f32; 4], margin: f32, min_side: f32) -> Rect {
        let [x0, y0, x1, y1] = rect;
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let half_w = ((x1 - x0) * (0.5 + margin)).max(min_side / 2.0);
        let half_h = ((y1 - y0) * (0.5 + margin)).max(min_side / 2.0);
        let clamp_x = |v: f32| (v.round().max(0.0) as u32).min(self.w);
        let clamp_y = |v: f32| (v.round().max(0.0) as u32).min(self.h);
        let (ax, bx) = (clamp_x(cx - half_w), clamp_x(cx + half_w));
        let (ay, by) = (clamp_y(cy - half_h), clamp_y(cy + half_h));
        let (ax, ay) = (ax.min(self.w - 1), ay.min(self.h - 1));
        [ax, ay, bx.max(ax + 1), by.max(ay + 1)]
    }

    fn central_square(&self, fraction: f32) -> [f32; 4] {
        let side = fraction * self.w.min(self.h) as f32;
        let (cx, cy) = (self.w as f32 / 2.0, self.h as f32 / 2.0);
        [cx - side / 2.0, cy - side / 2.0, cx + side / 2.0, cy + side / 2.0]
    }

    /// Where focus is judged: the lesion's box grown by 25 % a side (at least 48 working px),
    /// so its border and the skin around it count; the frame's central 70 % without a lesion.
    fn sharpness_region(&self, lesion_box: Option<[f32; 4]>) -> Rect {
        match lesion_box {
            Some(b) => self.grow(b, 0.25, 48.0),
            None => self.grow(self.central_square(0.7), 0.0, 2.0),
        }
    }

    fn grey(&self, [x0, y0, x1, y1]: Rect) -> GrayImage {
        GrayImage::from_fn(x1 - x0, y1 - y0, |x, y| Luma([luma(self.px(x0 + x, y0 + y)).round().clamp(0.0, 255.0) as u8]))
    }

    /// Share of specular pixels (every channel ≥ 235, i.e. near-white and unsaturated, and at
    /// least 15 grey levels above the skin's median luma, so clipped skin counts as
    /// over-exposure rather than glare) over the lesion's box grown by 10 % a side, or the
    /// frame's central 90 % without a lesion.
    fn glare_fraction(&self, lesion_box: Option<[f32; 4]>, skin_luma: f32) -> f32 {
        let [x0, y0, x1, y1] = match lesion_box {
            Some(b) => self.grow(b, 0.1, 8.0),
            None => self.grow(self.central_square(0.9), 0.0, 2.0),
        };
        let (mut glare, mut total) = (0u32, 0u32);
        for y in y0..y1 {
            for x in x0..x1 {
                let p = self.px(x, y);
                total += 1;
                glare += u32::from(p.iter().all(|&c| c >= 235) && luma(p) >= skin_luma + 15.0);
            }
        }
        glare as f32 / total.max(1) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skin(w: u32, h: u32) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                // Fine texture so the frame is not featureless.
                let t = if (i % w + i / w).is_multiple_of(2) { 8 } else { 0 };
                [210 + t, 170 + t, 150 + t]
            })
            .collect()
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let cfg = QualityConfig::default();
        let one = Image::from_rgb(1, 1, vec![128, 100, 90]).expect("1x1");
        let full = Mask::from_pixels(1, 1, vec![1]).expect("1x1");
        let empty = Mask::from_pixels(1, 1, vec![0]).expect("1x1");
        for m in [None, Some(&full), Some(&empty)] {
            let r = assess(&one, m, &cfg);
            assert!(r.sharpness.is_finite() && r.brightness.is_finite());
        }
        assert!(assess(&one, Some(&empty), &cfg).has(QualityIssue::NoLesionFound));
        assert!(assess(&one, Some(&full), &cfg).has(QualityIssue::LesionCutOff));
        // A mask of another size than the image, and a whole-image mask on a larger image.
        let img = Image::from_rgb(40, 30, skin(40, 30)).expect("img");
        let odd = Mask::from_pixels(7, 3, vec![1; 21]).expect("mask");
        let r = assess(&img, Some(&odd), &cfg);
        assert!(r.has(QualityIssue::LesionCutOff) && !r.has(QualityIssue::NoLesionFound));
        let whole = Mask::from_pixels(40, 30, vec![1; 1200]).expect("mask");
        assert_eq!(assess(&img, Some(&whole), &cfg).border_contact, 1.0);
        // A tiny working size.
        let tiny = QualityConfig { work_size: 0, ..QualityConfig::default() };
        assert!(assess(&img, None, &tiny).brightness > 0.0);
    }

    #[test]
    fn strictness_scales_thresholds() {
        let n = QualityConfig::default().effective();
        let s = QualityConfig::strict().effective();
        let l = QualityConfig::lenient().effective();
        assert!(s.max_blur_sigma_px < n.max_blur_sigma_px && n.max_blur_sigma_px < l.max_blur_sigma_px);
        assert!(s.min_brightness > n.min_brightness && n.min_brightness > l.min_brightness);
        assert!(s.min_lesion_diameter_px > n.min_lesion_diameter_px);
        assert!(s.max_glare_fraction < l.max_glare_fraction);
    }

    #[test]
    fn dark_vignetted_corners_are_not_underexposure() {
        let (w, h) = (200u32, 200u32);
        let mut rgb = skin(w, h);
        for (i, p) in rgb.chunks_exact_mut(3).enumerate() {
            let (x, y) = ((i as u32 % w) as f32 - 100.0, (i as u32 / w) as f32 - 100.0);
            if (x * x + y * y).sqrt() > 95.0 {
                p.copy_from_slice(&[5, 5, 5]);
            }
        }
        let r = assess(&Image::from_rgb(w, h, rgb).expect("img"), None, &QualityConfig::default());
        assert!(!r.has(QualityIssue::UnderExposed), "{r:?}");
        assert!(r.brightness > 200.0);
    }
}
