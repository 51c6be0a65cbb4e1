//! Region of interest: where the lesions are when the user gives no box.
//!
//! The finder works on a small copy of the photo with hair painted over. It estimates the
//! skin's own colour everywhere (`skin`), leaving out what is neither skin nor lesion
//! (`artefacts`: the dermoscope's dark frame, glare), and measures how far each pixel's
//! colour is from the skin around it in CIELAB: darker, redder, bluer or lighter, so pigmented,
//! red and pink lesions are found on every skin type. An opening removes thin structures (hair,
//! ink lines, ruler ticks); the map is thresholded (Otsu, with hysteresis so a lesion's pale
//! rim stays attached to its core) and the connected regions (`regions`) are ranked by
//! contrast, size, compactness and position. Regions touching the frame are ranked down.
//! The segmentation model then decides which candidates are lesions (see the pipeline).

mod artefacts;
mod crop;
mod regions;
mod skin;

use image::{GrayImage, Luma};
use imageproc::contrast::{ThresholdType, otsu_level, threshold};
use imageproc::distance_transform::{Norm, distance_transform};
use imageproc::filter::gaussian_blur_f32;
use imageproc::morphology::{Mask as Structuring, grayscale_open, open};
use imageproc::region_labelling::{Connectivity, connected_components};

pub use self::crop::{CONTEXT_FACTOR, CropPolicy, context_window};
use self::regions::{RegionStats, merge_fragments};
use crate::image::Image;
use crate::lab::image_to_lab;
use crate::preprocess::{HairRemoval, Interpolation, remove_hair, resize_rgb};
use crate::segment::BoxPrompt;

/// Grey levels of the lesion map per unit of CIELAB ΔE.
const MAP_SCALE: f32 = 4.0;
/// The hysteresis' low threshold relative to the high one: how far a lesion's paler rim may
/// fade before it stops counting.
const HYSTERESIS: f32 = 0.6;
/// Regions thinner than this (widest inscribed disc relative to the box's shorter side) are
/// lines, not lesions: ink rings drawn around a lesion, ruler edges, creases.
const MIN_THICKNESS: f32 = 0.12;

/// Settings of the lesion finder.
#[derive(Debug, Clone, PartialEq)]
pub struct RoiConfig {
    /// Longest side of the working copy in pixels.
    pub work_size: u32,
    /// Smallest colour distance from the skin (CIELAB ΔE) that counts as lesion.
    pub min_contrast: f32,
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
        Self {
            work_size: 384,
            min_contrast: 8.0,
            min_area_fraction: 0.0004,
            box_margin: 0.08,
            max_candidates: 5,
            hair_removal: HairRemoval::default(),
            merge_distance: 0.1,
        }
    }
}

/// A possible lesion, in original-image pixels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LesionCandidate {
    /// Box around the region, with margin.
    pub bbox: BoxPrompt,
    /// Box around the region's core (its most distinct pixels), with margin: a tighter
    /// prompt for when the region has spread into the skin around the lesion.
    pub core: BoxPrompt,
    /// Ranking score (higher is more lesion-like); comparable within one image only.
    pub score: f32,
    /// Mean colour distance from the surrounding skin (CIELAB ΔE).
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
    let lab = image_to_lab(&small);
    let usable = artefacts::usable_pixels(&lab, w, h);
    let skin = skin::estimate(&lab, &usable, w, h);
    let map = GrayImage::from_fn(w, h, |x, y| {
        let i = (y * w + x) as usize;
        let d = if usable[i] && !artefacts::is_ink(lab[i]) { skin::lesion_distance(lab[i], skin.local[i]) } else { 0.0 };
        Luma([(d * MAP_SCALE).round().clamp(0.0, 255.0) as u8])
    });
    // Thin structures (hair the painter missed, ink lines, ruler ticks) vanish under an
    // opening wider than they are; lesions do not.
    let thin = (w.max(h) / 128).clamp(1, 6) as u8;
    let map = grayscale_open(&map, &Structuring::disk(thin));
    // Skin texture (pores, freckles, fine wrinkles) is noise at this scale.
    let map = gaussian_blur_f32(&map, (w.max(h) as f32 / 256.0).max(0.8));

    let floor = (config.min_contrast * MAP_SCALE).round().clamp(1.0, 255.0) as u8;
    let high = otsu_level(&without_frame_regions(&map, floor)).max(floor);
    let low = ((f32::from(high) * HYSTERESIS) as u8).max(floor * 3 / 4).max(1);
    let strong = threshold(&map, high - 1, ThresholdType::Binary);
    // A small opening drops single-pixel specks and one-pixel bridges.
    let weak = open(&threshold(&map, low - 1, ThresholdType::Binary), Norm::LInf, 1);

    // Regions of the weak mask that contain strong pixels (hysteresis).
    let labels = connected_components(&weak, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    // Distance of each region pixel to the nearest non-region pixel: a region's largest value
    // is the radius of the widest disc it holds.
    let inside = distance_transform(&threshold(&weak, 0, ThresholdType::BinaryInverted), Norm::LInf);
    let mut stats = vec![RegionStats::default(); count + 1];
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l[0] as usize;
        if l == 0 {
            continue;
        }
        stats[l].add(x, y, f32::from(map.get_pixel(x, y)[0]) / MAP_SCALE, strong.get_pixel(x, y)[0] > 0, inside.get_pixel(x, y)[0]);
    }
    stats.iter_mut().for_each(RegionStats::finish_core);
    let min_area = (config.min_area_fraction * (w * h) as f32).max(4.0);
    let (cx, cy, diag) = (w as f32 / 2.0, h as f32 / 2.0, ((w * w + h * h) as f32).sqrt());
    let mut candidates: Vec<LesionCandidate> = stats
        .iter()
        .skip(1)
        .filter(|s| s.strong > 0 && s.area as f32 >= min_area && s.thickness() >= MIN_THICKNESS)
        .map(|s| {
            let touches = s.x0 == 0 || s.y0 == 0 || s.x1 + 1 >= w || s.y1 + 1 >= h;
            let contrast = s.distance / s.area as f32;
            let (mx, my) = (s.sum_x / s.area as f32, s.sum_y / s.area as f32);
            let off_centre = ((mx - cx).powi(2) + (my - cy).powi(2)).sqrt() / diag;
            let bw = (s.x1 - s.x0 + 1) as f32;
            let bh = (s.y1 - s.y0 + 1) as f32;
            let fill = s.area as f32 / (bw * bh);
            // People centre the lesion they photograph: the centre weighs twice (squared).
            let mut score = contrast * (s.area as f32).sqrt() * (1.0 - off_centre).powi(2) * (0.5 + fill);
            if touches {
                score *= 0.25;
            }
            let inv = 1.0 / scale;
            let to_box = |[x0, y0, x1, y1]: [u32; 4]| {
                let margin_x = (x1 - x0 + 1) as f32 * config.box_margin + 1.0;
                let margin_y = (y1 - y0 + 1) as f32 * config.box_margin + 1.0;
                BoxPrompt::new(
                    ((x0 as f32 - margin_x) * inv).max(0.0),
                    ((y0 as f32 - margin_y) * inv).max(0.0),
                    ((x1 as f32 + 1.0 + margin_x) * inv).min(iw as f32),
                    ((y1 as f32 + 1.0 + margin_y) * inv).min(ih as f32),
                )
            };
            LesionCandidate {
                bbox: to_box([s.x0, s.y0, s.x1, s.y1]),
                core: to_box(s.core),
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

/// The map with the regions that run off the frame away from its centre set to zero, for
/// choosing the threshold: a dermoscope's vignetted corners and dark rim stand out from the
/// skin more than a pale or pink lesion does, and would otherwise set the level above it.
/// (The regions still become candidates; only the threshold ignores them.)
fn without_frame_regions(map: &GrayImage, floor: u8) -> GrayImage {
    let (w, h) = map.dimensions();
    let above = threshold(map, floor.saturating_sub(1), ThresholdType::Binary);
    let labels = connected_components(&above, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    // Each region's box (inclusive ends).
    let mut boxes = vec![[u32::MAX, u32::MAX, 0u32, 0u32]; count + 1];
    for (x, y, l) in labels.enumerate_pixels().filter(|(_, _, l)| l[0] > 0) {
        let b = &mut boxes[l[0] as usize];
        *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    let (cx, cy) = (w / 2, h / 2);
    let frame: Vec<bool> = boxes
        .iter()
        .enumerate()
        .map(|(l, &[x0, y0, x1, y1])| {
            let touches = x0 == 0 || y0 == 0 || x1 + 1 >= w || y1 + 1 >= h;
            l > 0 && touches && !(x0 <= cx && cx <= x1 && y0 <= cy && cy <= y1)
        })
        .collect();
    GrayImage::from_fn(w, h, |x, y| if frame[labels.get_pixel(x, y)[0] as usize] { Luma([0]) } else { *map.get_pixel(x, y) })
}
