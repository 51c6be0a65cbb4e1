//! Region of interest: where the lesion is when the user gives no box.
//!
//! The finder works on a small copy of the photo: it flattens a linear lighting gradient,
//! removes thin dark hairs with a grey-level closing, measures how much darker than the
//! surrounding skin each pixel is, thresholds that (Otsu, with hysteresis so a lesion's light
//! rim stays attached to its dark core) and ranks the connected regions by contrast, size and
//! position. Regions touching the frame (dermoscope vignetting, shadows) are ranked down.

mod crop;

use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;
use imageproc::distance_transform::Norm;
use imageproc::morphology::{Mask as Structuring, grayscale_close, open};
use imageproc::region_labelling::{Connectivity, connected_components};

pub use self::crop::{CONTEXT_FACTOR, CropPolicy, context_window};
use crate::image::Image;
use crate::preprocess::{HairRemoval, Interpolation, remove_hair, resize_plane_f32, resize_rgb};
use crate::segment::BoxPrompt;

/// Settings of the lesion finder.
#[derive(Debug, Clone, PartialEq)]
pub struct RoiConfig {
    /// Longest side of the working copy in pixels.
    pub work_size: u32,
    /// Smallest darkness (grey levels below the skin) that counts as lesion.
    pub min_contrast: u8,
    /// Smallest region, as a fraction of the working image's area.
    pub min_area_fraction: f32,
    /// Margin added around a region's bounding box, as a fraction of its size.
    pub box_margin: f32,
    /// Most candidates returned.
    pub max_candidates: usize,
    /// Hair removal on the working copy before anything else.
    pub hair_removal: HairRemoval,
    /// Regions closer than this (as a fraction of the larger one's longest side) and of
    /// similar contrast are fragments of one lesion (a multi-coloured lesion whose lighter
    /// parts fall below the threshold) and are merged.
    pub merge_distance: f32,
}

impl Default for RoiConfig {
    fn default() -> Self {
        Self { work_size: 384, min_contrast: 14, min_area_fraction: 0.0004, box_margin: 0.08, max_candidates: 5, hair_removal: HairRemoval::default(), merge_distance: 0.35 }
    }
}

/// A possible lesion, in original-image pixels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LesionCandidate {
    /// Box around the region, with margin.
    pub bbox: BoxPrompt,
    /// Ranking score (higher is more lesion-like); comparable within one image only.
    pub score: f32,
    /// Mean darkness below the skin level, in grey levels.
    pub contrast: f32,
    /// Region area in original-image pixels (approximate).
    pub area_px: f32,
    /// Whether the region touches the image frame.
    pub touches_border: bool,
}

/// Finds lesion candidates, best first. Empty when nothing stands out from the skin.
///
/// ```
/// use dermscan_core::image::Image;
/// use dermscan_core::roi::{find_lesions, RoiConfig};
/// // 200x200 skin with a dark 40x40 square at (120, 60)
/// let mut rgb = vec![0u8; 200 * 200 * 3];
/// for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
///     let (x, y) = (i % 200, i / 200);
///     let dark = (120..160).contains(&x) && (60..100).contains(&y);
///     px.copy_from_slice(if dark { &[90, 60, 40] } else { &[220, 180, 160] });
/// }
/// let img = Image::from_rgb(200, 200, rgb)?;
/// let best = &find_lesions(&img, &RoiConfig::default())[0];
/// assert!(best.bbox.x0 <= 120.0 && best.bbox.x1 >= 160.0 && best.bbox.y0 <= 60.0 && best.bbox.y1 >= 100.0);
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
pub fn find_lesions(image: &Image, config: &RoiConfig) -> Vec<LesionCandidate> {
    let _span = tracing::info_span!("roi").entered();
    let (iw, ih) = (image.width(), image.height());
    let scale = (config.work_size as f32 / iw.max(ih) as f32).min(1.0);
    let (w, h) = (((iw as f32 * scale).round() as u32).max(1), ((ih as f32 * scale).round() as u32).max(1));
    let mut small = resize_rgb(image.as_rgb(), iw, ih, w, h, Interpolation::Bilinear);
    remove_hair(&mut small, w, h, w.max(h) as f32, &config.hair_removal);

    // Grey level weighted towards green and blue, where pigment contrasts most with skin.
    let grey = GrayImage::from_fn(w, h, |x, y| {
        let i = ((y * w + x) * 3) as usize;
        let v = 0.2 * f32::from(small[i]) + 0.4 * f32::from(small[i + 1]) + 0.4 * f32::from(small[i + 2]);
        Luma([v.round() as u8])
    });
    // Thin dark hairs vanish under a closing wider than a hair, lesions do not.
    let hair_radius = (w.max(h) / 160).clamp(1, 6) as u8;
    let closed = grayscale_close(&grey, &Structuring::disk(hair_radius));
    let background = skin_background(&closed);
    let darkness = GrayImage::from_fn(w, h, |x, y| {
        let d = background[(y * w + x) as usize] - f32::from(closed.get_pixel(x, y)[0]);
        Luma([d.round().clamp(0.0, 255.0) as u8])
    });

    let high = otsu_level(&darkness).max(config.min_contrast);
    let low = (high / 3).max(config.min_contrast / 2).max(1);
    let strong = binarize(&darkness, high);
    // A small opening drops single-pixel specks and one-pixel bridges.
    let weak = open(&binarize(&darkness, low), Norm::LInf, 1);

    // Regions of the weak mask that contain strong pixels (hysteresis).
    let labels = connected_components(&weak, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    let mut stats = vec![RegionStats::default(); count + 1];
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l[0] as usize;
        if l == 0 {
            continue;
        }
        let s = &mut stats[l];
        s.add(x, y, f32::from(darkness.get_pixel(x, y)[0]), strong.get_pixel(x, y)[0] > 0);
    }
    let min_area = (config.min_area_fraction * (w * h) as f32).max(4.0);
    let (cx, cy, diag) = (w as f32 / 2.0, h as f32 / 2.0, ((w * w + h * h) as f32).sqrt());
    let mut candidates: Vec<LesionCandidate> = stats
        .iter()
        .skip(1)
        .filter(|s| s.strong > 0 && s.area as f32 >= min_area)
        .map(|s| {
            let touches = s.x0 == 0 || s.y0 == 0 || s.x1 + 1 >= w || s.y1 + 1 >= h;
            let contrast = s.darkness / s.area as f32;
            let (mx, my) = (s.sum_x / s.area as f32, s.sum_y / s.area as f32);
            let off_centre = ((mx - cx).powi(2) + (my - cy).powi(2)).sqrt() / diag;
            let bw = (s.x1 - s.x0 + 1) as f32;
            let bh = (s.y1 - s.y0 + 1) as f32;
            let fill = s.area as f32 / (bw * bh);
            let mut score = contrast * (s.area as f32).sqrt() * (1.0 - off_centre) * (0.5 + fill);
            if touches {
                score *= 0.25;
            }
            let margin_x = bw * config.box_margin + 1.0;
            let margin_y = bh * config.box_margin + 1.0;
            let inv = 1.0 / scale;
            LesionCandidate {
                bbox: BoxPrompt::new(
                    ((s.x0 as f32 - margin_x) * inv).max(0.0),
                    ((s.y0 as f32 - margin_y) * inv).max(0.0),
                    ((s.x1 as f32 + 1.0 + margin_x) * inv).min(iw as f32),
                    ((s.y1 as f32 + 1.0 + margin_y) * inv).min(ih as f32),
                ),
                score,
                contrast,
                area_px: s.area as f32 * inv * inv,
                touches_border: touches,
            }
        })
        .collect();
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut candidates = merge_fragments(candidates, config.merge_distance);
    candidates.truncate(config.max_candidates);
    tracing::debug!(found = candidates.len(), high, low, "roi candidates");
    candidates
}

/// Merges fragments into the better-ranked region they lie next to, in rank order. Two
/// regions are fragments of one lesion when the gap between their boxes is at most
/// `distance` times the longest side of the larger one's own box (not of a box already grown
/// by merging, so merges do not chain across the skin), their contrasts are within
/// [`FRAGMENT_CONTRAST`] of each other, the fragment has at least [`FRAGMENT_AREA`] of the
/// host's area (a speck of hair or a pore is not a piece of the lesion), and neither touches
/// the frame. A merge widens the host's box but keeps its
/// rank: many faint fragments together do not outrank one clear lesion.
/// Smallest contrast ratio between two fragments of one lesion.
const FRAGMENT_CONTRAST: f32 = 0.7;
/// Smallest fragment area relative to the region it joins.
const FRAGMENT_AREA: f32 = 0.1;

fn merge_fragments(ranked: Vec<LesionCandidate>, distance: f32) -> Vec<LesionCandidate> {
    // (merged candidate, the host's own box before any merge)
    let mut merged: Vec<(LesionCandidate, BoxPrompt)> = Vec::with_capacity(ranked.len());
    for c in ranked {
        let host = merged.iter_mut().find(|(m, own)| {
            let gap_x = (c.bbox.x0 - own.x1).max(own.x0 - c.bbox.x1).max(0.0);
            let gap_y = (c.bbox.y0 - own.y1).max(own.y0 - c.bbox.y1).max(0.0);
            let (mw, mh) = own.size();
            let (cw, ch) = c.bbox.size();
            let reach = distance * mw.max(mh).max(cw.max(ch));
            !m.touches_border
                && !c.touches_border
                && gap_x.max(gap_y) <= reach
                && c.contrast >= FRAGMENT_CONTRAST * m.contrast
                && m.contrast >= FRAGMENT_CONTRAST * c.contrast
                && c.area_px >= FRAGMENT_AREA * m.area_px
        });
        match host {
            Some((m, _)) => {
                m.bbox = BoxPrompt::new(m.bbox.x0.min(c.bbox.x0), m.bbox.y0.min(c.bbox.y0), m.bbox.x1.max(c.bbox.x1), m.bbox.y1.max(c.bbox.y1));
                m.area_px += c.area_px;
            }
            None => {
                let own = c.bbox;
                merged.push((c, own));
            }
        }
    }
    merged.into_iter().map(|(c, _)| c).collect()
}

#[derive(Debug, Clone, Copy)]
struct RegionStats {
    area: u32,
    strong: u32,
    darkness: f32,
    sum_x: f32,
    sum_y: f32,
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl Default for RegionStats {
    fn default() -> Self {
        Self { area: 0, strong: 0, darkness: 0.0, sum_x: 0.0, sum_y: 0.0, x0: u32::MAX, y0: u32::MAX, x1: 0, y1: 0 }
    }
}

impl RegionStats {
    fn add(&mut self, x: u32, y: u32, darkness: f32, strong: bool) {
        self.area += 1;
        self.strong += u32::from(strong);
        self.darkness += darkness;
        self.sum_x += x as f32;
        self.sum_y += y as f32;
        self.x0 = self.x0.min(x);
        self.y0 = self.y0.min(y);
        self.x1 = self.x1.max(x);
        self.y1 = self.y1.max(y);
    }
}

fn binarize(img: &GrayImage, level: u8) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| Luma([if img.get_pixel(x, y)[0] >= level { 255 } else { 0 }]))
}

/// The `q` quantile of the grey levels.
fn percentile(img: &GrayImage, q: f32) -> u8 {
    let mut hist = [0u32; 256];
    img.pixels().for_each(|p| hist[p[0] as usize] += 1);
    let target = (img.len() as f32 * q) as u32;
    let mut acc = 0;
    for (level, &n) in hist.iter().enumerate() {
        acc += n;
        if acc > target {
            return level as u8;
        }
    }
    255
}

/// Side of the coarse grid on which the skin background is estimated.
const BACKGROUND_GRID: u32 = 64;

/// Estimates the skin's own brightness everywhere, lesions excluded: a normalised convolution
/// (blur of the image weighted by "is skin", divided by the blur of the weights) on a coarse
/// grid, iterated so that pixels well below the estimate stop counting as skin. Follows
/// uneven lighting and vignetting without being pulled down by the lesion; where no skin is
/// near (inside a large lesion) it falls back to the global skin level.
fn skin_background(img: &GrayImage) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let scale = (BACKGROUND_GRID as f32 / w.max(h) as f32).min(1.0);
    let (gw, gh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let grey3: Vec<u8> = img.as_raw().iter().flat_map(|&v| [v, v, v]).collect();
    let coarse: Vec<f32> = resize_rgb(&grey3, w, h, gw, gh, Interpolation::Bilinear).chunks_exact(3).map(|p| f32::from(p[0])).collect();
    let global = percentile(img, 0.6) as f32;
    let sigma = (gw.max(gh) as f32 * 0.1).max(1.0);
    let mut weights = vec![1.0f32; coarse.len()];
    let mut background = vec![global; coarse.len()];
    for _ in 0..3 {
        let weighted: Vec<f32> = coarse.iter().zip(&weights).map(|(v, w)| v * w).collect();
        let num = blur(&weighted, gw, gh, sigma);
        let den = blur(&weights, gw, gh, sigma);
        const EPS: f32 = 0.05;
        background = num.iter().zip(&den).map(|(n, d)| (n + EPS * global) / (d + EPS)).collect();
        weights = coarse.iter().zip(&background).map(|(v, b)| if *v >= b - 8.0 { 1.0 } else { 0.0 }).collect();
    }
    // Bilinear back to the working size.
    resize_plane_f32(&background, gw, gh, w, h)
}

/// Separable Gaussian blur of a small float map (edges clamped).
fn blur(src: &[f32], w: u32, h: u32, sigma: f32) -> Vec<f32> {
    let radius = (sigma * 3.0).ceil() as i32;
    let kernel: Vec<f32> = (-radius..=radius).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let norm: f32 = kernel.iter().sum();
    let (w, h) = (w as i32, h as i32);
    let pass = |src: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0.0; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, kv) in kernel.iter().enumerate() {
                    let o = k as i32 - radius;
                    let (sx, sy) = if horizontal { ((x + o).clamp(0, w - 1), y) } else { (x, (y + o).clamp(0, h - 1)) };
                    acc += kv * src[(sy * w + sx) as usize];
                }
                out[(y * w + x) as usize] = acc / norm;
            }
        }
        out
    };
    pass(&pass(src, true), false)
}
