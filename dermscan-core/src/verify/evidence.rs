//! The measurements that tell a lesion from a phantom: what the model says about its mask and
//! how the masked colour stands out from the skin around it.

use crate::image::Image;
use crate::lab::{delta_e, srgb_to_lab};
use crate::segment::{BoxPrompt, Mask};

use super::VerifyConfig;

/// Evidence for one candidate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Evidence {
    /// The decoder's predicted IoU for the final mask.
    pub iou_pred: f32,
    /// IoU between the masks from the finder's box and from the mask's own box.
    pub stability: f32,
    /// CIELAB ΔE between the mask's mean colour and a ring of skin around it.
    pub contrast: f32,
    /// Fraction of the finder's box the first mask covers.
    pub box_fill: f32,
    /// Whether the first mask touches all four sides of the finder's box.
    pub touches_box: bool,
    /// Whether the final mask touches the image's edge.
    pub touches_frame: bool,
    /// Whether the final mask sits in a corner of the photo, touching just the two edges
    /// that meet there and away from the centre: a dermoscope's vignetted corner.
    pub in_corner: bool,
    /// Whether the final mask is a strip along the frame: it reaches two opposite edges of the
    /// photo but spans less than a quarter of the other side (a ruler, a sleeve, the
    /// shadow of the dermoscope's rim), not a lesion.
    pub strip: bool,
    /// The contrast (as `contrast`) of the mask's mirror images about the photo's centre
    /// (left-right, top-bottom, and both), the least of the three; `None` when a mirror image
    /// overlaps the mask (a lesion near the centre). Vignetting and a dermoscope's field of
    /// view darken the photo by the distance from its centre, so a shadow of theirs stands out
    /// as much at its mirror images; a lesion stands out only where it is.
    pub mirror_contrast: Option<f32>,
    /// Whether the mask is a highlight: nearly colourless and much lighter than the ring
    /// around it (specular glare, a gel bubble's reflection). A lesion lighter than the skin
    /// keeps the skin's hue; glare has none. Measured again when the scan tightens the mask.
    pub highlight: bool,
    /// Final mask area in pixels.
    pub area_px: u64,
    /// Whether the lesion is only a few pixels wide in the model's input, so its mask is a
    /// coarse blob (the box-filling test is then skipped).
    pub coarse: bool,
}

impl Evidence {
    pub(crate) fn empty() -> Self {
        Self {
            iou_pred: 0.0,
            stability: 0.0,
            contrast: 0.0,
            box_fill: 0.0,
            touches_box: false,
            touches_frame: false,
            in_corner: false,
            strip: false,
            mirror_contrast: None,
            highlight: false,
            area_px: 0,
            coarse: false,
        }
    }

    pub(crate) fn measure(image: &Image, first: &Mask, second: &Mask, prompt: BoxPrompt) -> Self {
        let (box_fill, touches_box) = fill_of(first, prompt);
        let (w, h) = (second.width(), second.height());
        let bbox = second.bbox().map(|r| r.corners());
        let edges = bbox.map(|[x0, y0, x1, y1]| [x0 == 0, y0 == 0, x1 >= w, y1 >= h]).unwrap_or_default();
        let touches_frame = edges.iter().any(|e| *e);
        let two_adjacent = edges.iter().filter(|e| **e).count() == 2 && (edges[0] != edges[2]) && (edges[1] != edges[3]);
        let off_centre = bbox.is_some_and(|[x0, y0, x1, y1]| !(x0 < w / 2 && x1 > w / 2 && y0 < h / 2 && y1 > h / 2));
        let in_corner = two_adjacent && off_centre;
        let strip = bbox.is_some_and(|[x0, y0, x1, y1]| {
            (edges[0] && edges[2] && ((y1 - y0) as f32) < STRIP_SHARE * h as f32)
                || (edges[1] && edges[3] && ((x1 - x0) as f32) < STRIP_SHARE * w as f32)
        });
        let (contrast, mirror_contrast, highlight) = bbox.map_or((0.0, None, false), |b| contrasts(image, second, b));
        Self {
            iou_pred: second.iou_score(),
            stability: iou(first, second),
            contrast,
            box_fill,
            touches_box,
            touches_frame,
            in_corner,
            strip,
            mirror_contrast,
            highlight,
            area_px: second.area_px(),
            coarse: false,
        }
    }

    /// Whether this is a lesion under `config`.
    pub fn passes(&self, config: &VerifyConfig) -> bool {
        let at_frame = self.touches_frame
            // Cut by the frame, the model sees less of the lesion and says less: a mask there
            // must be a confident one, and more than a few model pixels wide.
            && (self.coarse || self.iou_pred < config.min_iou_at_frame);
        !self.in_corner
            && !self.strip
            && !self.highlight
            // Standing out no more than its mirror images do: vignetting, not a lesion.
            && self.mirror_contrast.is_none_or(|m| self.contrast - m >= config.min_contrast)
            && !at_frame
            && self.area_px >= config.min_area_px
            && self.iou_pred >= config.min_iou
            && self.stability >= config.min_stability
            && self.contrast >= config.min_contrast
            // Confined to the box it was given: the model filled the box. (A mask running
            // beyond its box is a coarse mask of a lesion small in the model's input.)
            && (self.coarse || !(self.touches_box && (config.max_box_fill..=OVERFLOW).contains(&self.box_fill)))
    }

    /// A single number to rank verified lesions by (higher is more certain).
    pub fn score(&self) -> f32 {
        self.iou_pred
            * self.stability
            * self.contrast.min(40.0)
            * (self.area_px as f32).sqrt().ln_1p()
            * if self.touches_frame { 0.5 } else { 1.0 }
    }
}

/// IoU of two masks of one size (0 when either is empty).
fn iou(a: &Mask, b: &Mask) -> f32 {
    let (mut both, mut either) = (0u64, 0u64);
    for (p, q) in a.pixels().iter().zip(b.pixels()) {
        both += u64::from(*p > 0 && *q > 0);
        either += u64::from(*p > 0 || *q > 0);
    }
    if either == 0 { 0.0 } else { both as f32 / either as f32 }
}

/// A mask reaching two opposite edges of the photo but spanning less than this share of the
/// other side is a strip along the frame.
pub(crate) const STRIP_SHARE: f32 = 0.25;

/// A mask covering more than this share of its box has run beyond it.
const OVERFLOW: f32 = 1.05;

/// Whether the mask merely fills `bbox`: it covers at least `max_fill` of it and reaches all
/// four sides.
pub(crate) fn fills_box(mask: &Mask, bbox: BoxPrompt, max_fill: f32) -> bool {
    let (fill, touches) = fill_of(mask, bbox);
    touches && fill >= max_fill
}

/// Fraction of `bbox` the mask covers, and whether it reaches all four of its sides (within
/// 2% of the box's size).
fn fill_of(mask: &Mask, bbox: BoxPrompt) -> (f32, bool) {
    let (bw, bh) = bbox.size();
    let area = (bw * bh).max(1.0);
    let Some([x0, y0, x1, y1]) = mask.bbox().map(|r| r.corners()) else { return (0.0, false) };
    let (tx, ty) = (bw * 0.02 + 1.0, bh * 0.02 + 1.0);
    let touches = x0 as f32 <= bbox.x0 + tx && y0 as f32 <= bbox.y0 + ty && x1 as f32 >= bbox.x1 - tx && y1 as f32 >= bbox.y1 - ty;
    (mask.area_px() as f32 / area, touches)
}

/// Most pixels sampled on each side of the mask's edge for [`mask_contrast`].
const CONTRAST_SAMPLES: u32 = 160;

/// How far the mask's colours stand out from the skin around it: the larger of the CIELAB ΔE
/// between the mask's mean colour and the ring's, and the mean ΔE of the mask's pixels from the
/// ring's median colour less the ring's own mean ΔE from it (skin texture, hair). The second
/// keeps a multi-coloured lesion whose darker and paler parts average out to the skin.
/// The ring is the mask's box grown by half its size on each side, less a band of 10% of its
/// size next to the mask, where the outline may be uncertain. Sampled on a grid of at most
/// `CONTRAST_SAMPLES` points a side; 0 for an empty mask.
///
/// ```
/// use dermscan_core::{Image, Mask};
/// use dermscan_core::verify::mask_contrast;
/// let (w, h) = (100u32, 100u32);
/// let inside = |x: u32, y: u32| (40..60).contains(&x) && (40..60).contains(&y);
/// let rgb: Vec<u8> = (0..w * h).flat_map(|i| if inside(i % w, i / w) { [90, 60, 40] } else { [220, 180, 160] }).collect();
/// let mask = Mask::from_pixels(w, h, (0..w * h).map(|i| u8::from(inside(i % w, i / w))).collect()).unwrap();
/// assert!(mask_contrast(&Image::from_rgb(w, h, rgb).unwrap(), &mask) > 30.0);
/// ```
pub fn mask_contrast(image: &Image, mask: &Mask) -> f32 {
    contrast_of(image, mask).map_or(0.0, |c| c.value)
}

/// The mask's [`Contrast`] with the ring around it; `None` for an empty mask or when the mask
/// and the image differ in size.
fn contrast_of(image: &Image, mask: &Mask) -> Option<Contrast> {
    mask.bbox().and_then(|r| Samples::of(image, mask, r.corners())).map(|s| s.contrast(image, |x, y| (x, y)))
}

/// A highlight's mean chroma (CIELAB C*) is below this. Lesions paler than the skin keep some
/// of its hue: the synthetic light lesions measure 13-26; the palest real development lesion
/// (a whitish patch, PAD-UFES 104) 9.8, but it is only 9 lighter than its ring.
const HIGHLIGHT_CHROMA: f32 = 10.0;

/// A highlight's mean lightness exceeds its ring's by more than this (L*). Glare and bubble
/// reflections on the synthetic empty photos measure 20-57.
const HIGHLIGHT_LIGHTER: f32 = 15.0;

/// A mask is a highlight when at least this share of it is glare: colourless
/// ([`HIGHLIGHT_CHROMA`]) and much lighter than the ring's median ([`HIGHLIGHT_LIGHTER`]).
/// Catches a reflection the mask holds with some skin around it (a glare dot a few model
/// pixels wide comes back as a blob twice its size, whose mean colour keeps the skin's hue)
/// and a white ruler whose ring is partly ruler. The palest real development lesion
/// (PAD-UFES 104_1756) has 0.34 of its true mask so; synthetic light lesions at most 0.10.
const HIGHLIGHT_SHARE: f32 = 0.5;

/// [`mask_contrast`], [`mirror_contrast`] and whether the mask is a highlight (see
/// [`Evidence::highlight`]), from one set of sample points; `bbox` is the mask's box.
fn contrasts(image: &Image, mask: &Mask, bbox: [u32; 4]) -> (f32, Option<f32>, bool) {
    let Some(samples) = Samples::of(image, mask, bbox) else { return (0.0, None, false) };
    let here = samples.contrast(image, |x, y| (x, y));
    (here.value, mirror_of(image, mask, bbox, &samples), here.highlight())
}

/// Whether `mask` is a highlight: glare or a bubble's reflection, not a lesion (see
/// [`Evidence::highlight`]). The verification masks of a small reflection are coarse blobs;
/// a mask segmented again in its context window or tightened is tested with this.
pub(crate) fn is_highlight(image: &Image, mask: &Mask) -> bool {
    contrast_of(image, mask).is_some_and(|c| c.highlight())
}

/// Whether a colour (CIELAB) is glare next to skin of lightness `skin_lightness`: nearly
/// colourless ([`HIGHLIGHT_CHROMA`]) and much lighter ([`HIGHLIGHT_LIGHTER`]).
fn glare_like(colour: [f32; 3], skin_lightness: f32) -> bool {
    colour[1].hypot(colour[2]) < HIGHLIGHT_CHROMA && colour[0] - skin_lightness > HIGHLIGHT_LIGHTER
}

/// A mask's contrast with its ring, the two mean colours (CIELAB), and the share of the
/// mask's samples that are glare.
struct Contrast {
    value: f32,
    inner: [f32; 3],
    ring: [f32; 3],
    glare: f32,
}

impl Contrast {
    /// Nearly colourless and much lighter than the ring, on the whole or in most of its
    /// pixels.
    fn highlight(&self) -> bool {
        glare_like(self.inner, self.ring[0]) || self.glare >= HIGHLIGHT_SHARE
    }
}

/// Where [`mask_contrast`] reads colours: points of a grid over the mask's box grown by half
/// its size on each side, inside the mask or in the ring of skin around it.
struct Samples {
    inner: Vec<(u32, u32)>,
    ring: Vec<(u32, u32)>,
}

impl Samples {
    /// The sample points of the mask whose box is `[x0, y0, x1, y1]`; `None` when the mask
    /// and the image differ in size.
    fn of(image: &Image, mask: &Mask, [x0, y0, x1, y1]: [u32; 4]) -> Option<Self> {
        let (w, h) = (mask.width(), mask.height());
        if image.width() != w || image.height() != h {
            return None;
        }
        let side = (x1 - x0).max(y1 - y0);
        let grow = side / 2 + 2;
        let (rx0, ry0, rx1, ry1) = (x0.saturating_sub(grow), y0.saturating_sub(grow), (x1 + grow).min(w), (y1 + grow).min(h));
        let step = ((rx1 - rx0).max(ry1 - ry0) / CONTRAST_SAMPLES).max(1);
        let gap = (side / 10).max(1) as i64;
        let px = mask.pixels();
        let (mut inner, mut ring) = (Vec::new(), Vec::new());
        for y in (ry0..ry1).step_by(step as usize) {
            for x in (rx0..rx1).step_by(step as usize) {
                if px[(y * w + x) as usize] > 0 {
                    inner.push((x, y));
                } else if !near_mask(px, w, h, x, y, gap) {
                    ring.push((x, y));
                }
            }
        }
        Some(Self { inner, ring })
    }

    /// The contrast with the colours read at `at(x, y)` instead of `(x, y)`: the contrast the
    /// mask and its ring would have moved there.
    fn contrast(&self, image: &Image, at: impl Fn(u32, u32) -> (u32, u32)) -> Contrast {
        if self.inner.is_empty() || self.ring.is_empty() {
            return Contrast { value: 0.0, inner: [0.0; 3], ring: [0.0; 3], glare: 0.0 };
        }
        let (w, rgb) = (image.width(), image.as_rgb());
        let lab = |&(x, y): &(u32, u32)| {
            let (cx, cy) = at(x, y);
            let c = (cy * w + cx) as usize * 3;
            srgb_to_lab([rgb[c], rgb[c + 1], rgb[c + 2]])
        };
        let inner: Vec<[f32; 3]> = self.inner.iter().map(lab).collect();
        let ring: Vec<[f32; 3]> = self.ring.iter().map(lab).collect();
        let median = |c: usize| {
            let mut v: Vec<f32> = ring.iter().map(|p| p[c]).collect();
            let mid = v.len() / 2;
            *v.select_nth_unstable_by(mid, f32::total_cmp).1
        };
        let skin = [median(0), median(1), median(2)];
        let mean_distance = |v: &[[f32; 3]]| v.iter().map(|p| delta_e(*p, skin)).sum::<f32>() / v.len() as f32;
        let spread = mean_distance(&inner) - mean_distance(&ring);
        let glare = inner.iter().filter(|p| glare_like(**p, skin[0])).count() as f32 / inner.len() as f32;
        // A lesion of one colour, or one that fills most of a close-up (its ring is partly
        // lesion): the distance between the mean colours tells it better.
        let mean = |v: &[[f32; 3]]| {
            let n = v.len() as f32;
            [0, 1, 2].map(|c| v.iter().map(|p| p[c]).sum::<f32>() / n)
        };
        let (inner, ring) = (mean(&inner), mean(&ring));
        Contrast { value: spread.max(delta_e(inner, ring)), inner, ring, glare }
    }
}

/// Maps `(x, y)` in a `w` x `h` photo to its mirror image: `(x, y, w, h) -> (x', y')`.
type Mirror = fn(u32, u32, u32, u32) -> (u32, u32);

/// A mirror image overlapping more than this share of the mask says nothing about vignetting.
const MIRROR_OVERLAP: f32 = 0.1;

/// How much the mask's mirror images about the photo's centre (left-right, top-bottom, and
/// both) stand out from the skin around them, measured like [`mask_contrast`] with the mask
/// and its ring moved there: the smallest of the three (see [`Evidence::mirror_contrast`]).
/// `None` for an empty mask or when a mirror image overlaps the mask.
///
/// ```
/// use dermscan_core::{Image, Mask};
/// use dermscan_core::verify::{mask_contrast, mirror_contrast};
/// let (w, h) = (120u32, 90u32);
/// // Skin lit from the left, darkening towards the left and right edges alike, and a mole.
/// let colour = |x: u32, y: u32| -> [u8; 3] {
///     if (20..30).contains(&x) && (20..30).contains(&y) { return [90, 60, 40] }
///     let edge = x.min(w - 1 - x).min(20) as f32 / 20.0;
///     let light = (0.6 + 0.4 * edge) * (1.0 - x as f32 / 600.0);
///     [230.0 * light, 180.0 * light, 160.0 * light].map(|v| v as u8)
/// };
/// let rgb: Vec<u8> = (0..w * h).flat_map(|i| colour(i % w, i / w)).collect();
/// let image = Image::from_rgb(w, h, rgb).unwrap();
/// let region = |f: &dyn Fn(u32, u32) -> bool| Mask::from_pixels(w, h, (0..w * h).map(|i| u8::from(f(i % w, i / w))).collect()).unwrap();
/// let shadow = region(&|x, y| x < 6 && (50..70).contains(&y));
/// let mole = region(&|x, y| (20..30).contains(&x) && (20..30).contains(&y));
/// // The shadow stands out as much at its mirror images; the mole does not.
/// assert!(mask_contrast(&image, &shadow) - mirror_contrast(&image, &shadow).unwrap() < 3.0);
/// assert!(mask_contrast(&image, &mole) - mirror_contrast(&image, &mole).unwrap() > 30.0);
/// ```
pub fn mirror_contrast(image: &Image, mask: &Mask) -> Option<f32> {
    let bbox = mask.bbox().map(|r| r.corners())?;
    mirror_of(image, mask, bbox, &Samples::of(image, mask, bbox)?)
}

/// [`mirror_contrast`] for the mask whose box is `bbox`, read at `samples`.
fn mirror_of(image: &Image, mask: &Mask, [x0, y0, x1, y1]: [u32; 4], samples: &Samples) -> Option<f32> {
    let (w, h) = (mask.width(), mask.height());
    let mirrors: [Mirror; 3] = [|x, y, w, _| (w - 1 - x, y), |x, y, _, h| (x, h - 1 - y), |x, y, w, h| (w - 1 - x, h - 1 - y)];
    let px = mask.pixels();
    let step = ((x1 - x0).max(y1 - y0) / CONTRAST_SAMPLES).max(1) as usize;
    let mut least: Option<f32> = None;
    for mirror in mirrors {
        let (mut n, mut overlap) = (0u32, 0u32);
        for y in (y0..y1).step_by(step) {
            for x in (x0..x1).step_by(step) {
                if px[(y * w + x) as usize] > 0 {
                    let (mx, my) = mirror(x, y, w, h);
                    n += 1;
                    overlap += u32::from(px[(my * w + mx) as usize] > 0);
                }
            }
        }
        if overlap as f32 > MIRROR_OVERLAP * n.max(1) as f32 {
            return None;
        }
        let c = samples.contrast(image, |x, y| mirror(x, y, w, h)).value;
        least = Some(least.map_or(c, |l| l.min(c)));
    }
    least
}

/// Whether any mask pixel lies within `gap` (on the four axis directions) of `(x, y)`.
fn near_mask(px: &[u8], w: u32, h: u32, x: u32, y: u32, gap: i64) -> bool {
    let (x, y, w, h) = (i64::from(x), i64::from(y), i64::from(w), i64::from(h));
    [(gap, 0), (-gap, 0), (0, gap), (0, -gap), (gap / 2, gap / 2), (-gap / 2, -gap / 2), (gap / 2, -gap / 2), (-gap / 2, gap / 2)]
        .iter()
        .any(|(dx, dy)| {
            let (sx, sy) = ((x + dx).clamp(0, w - 1), (y + dy).clamp(0, h - 1));
            px[(sy * w + sx) as usize] > 0
        })
}

/// Whether the pixels one mask covers beyond a tighter one are skin it leaked into: the
/// decoder fills the box it is given, so a loose box makes a mask that spreads into the
/// skin around the lesion, and a tighter box pulls it back. Measured by [`Leak::measure`],
/// judged by [`Leak::is_leak`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Leak {
    /// CIELAB ΔE between the mean colour of the removed band (in the larger mask, not in the
    /// tighter one) and the ring of skin around the larger mask.
    pub to_skin: f32,
    /// ΔE between the removed band and the tighter mask.
    pub to_lesion: f32,
    /// ΔE across the larger mask's outline where it lies away from the tighter mask: the
    /// mean colour just inside against just outside. A lesion's edge is a colour edge; where
    /// a leaked mask stops, in the skin, there is none.
    pub outline: f32,
}

impl Leak {
    /// Compares `old` with `new`, a mask of the same lesion from a tighter box; `None` when
    /// either is empty, the sizes differ, or `new` covers all of `old`.
    ///
    /// ```
    /// use dermscan_core::{Image, Mask};
    /// use dermscan_core::verify::Leak;
    /// let (w, h) = (120u32, 120u32);
    /// let disc = |x: u32, y: u32, r: i64| (i64::from(x) - 60).pow(2) + (i64::from(y) - 60).pow(2) < r * r;
    /// // A brown mole of radius 20 on even skin; one mask follows it, one spreads to radius 32.
    /// let rgb: Vec<u8> = (0..w * h).flat_map(|i| if disc(i % w, i / w, 20) { [110, 70, 50] } else { [225, 185, 165] }).collect();
    /// let image = Image::from_rgb(w, h, rgb)?;
    /// let mask = |r| Mask::from_pixels(w, h, (0..w * h).map(|i| u8::from(disc(i % w, i / w, r))).collect()).expect("mask");
    /// let leak = Leak::measure(&image, &mask(32), &mask(20)).expect("a removed band");
    /// assert!(leak.to_skin < 1.0 && leak.to_lesion > 30.0 && leak.outline < 1.0);
    /// // The other way round: the tighter mask cut the mole, and its removed band is mole.
    /// let cut = Leak::measure(&image, &mask(20), &mask(12)).expect("a removed band");
    /// assert!(cut.to_skin > 30.0 && cut.outline > 30.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn measure(image: &Image, old: &Mask, new: &Mask) -> Option<Self> {
        let b = old.bbox()?.corners();
        let samples = Samples::of(image, old, b)?;
        if new.width() != old.width() || new.height() != old.height() {
            return None;
        }
        let (w, np) = (image.width(), new.pixels());
        let (kept, removed): (Vec<Point>, Vec<Point>) = samples.inner.iter().partition(|&&(x, y)| np[(y * w + x) as usize] > 0);
        if kept.is_empty() || removed.is_empty() || samples.ring.is_empty() {
            return None;
        }
        let (lesion, band, skin) = (mean_lab(image, &kept), mean_lab(image, &removed), mean_lab(image, &samples.ring));
        Some(Self { to_skin: delta_e(band, skin), to_lesion: delta_e(band, lesion), outline: outline_contrast(image, old, new, b)? })
    }

    /// Whether the removed band is skin under `config`: nearer the skin's colour than the
    /// lesion's ([`VerifyConfig::leak_skin_share`]), with no colour edge where the larger
    /// mask stopped ([`VerifyConfig::leak_max_outline`]).
    pub fn is_leak(&self, config: &VerifyConfig) -> bool {
        self.to_skin < config.leak_skin_share * self.to_lesion && self.outline < config.leak_max_outline
    }
}

/// A pixel's column and row.
type Point = (u32, u32);

/// Mean CIELAB colour of `image` at `points` (not empty).
fn mean_lab(image: &Image, points: &[Point]) -> [f32; 3] {
    let (w, rgb) = (image.width(), image.as_rgb());
    let mut sum = [0f32; 3];
    for &(x, y) in points {
        let c = (y * w + x) as usize * 3;
        let lab = srgb_to_lab([rgb[c], rgb[c + 1], rgb[c + 2]]);
        (0..3).for_each(|k| sum[k] += lab[k]);
    }
    sum.map(|v| v / points.len() as f32)
}

/// ΔE between the mean colours just inside and just outside `old`'s outline (bands 3% of its
/// box's longest side wide, at least 2 px), where the outline lies more than two band widths
/// from `new`; `bbox` is `old`'s box. `None` when no such outline is left.
fn outline_contrast(image: &Image, old: &Mask, new: &Mask, [x0, y0, x1, y1]: [u32; 4]) -> Option<f32> {
    use image::{GrayImage, Luma};
    use imageproc::distance_transform::{Norm, distance_transform};
    let (w, h) = (old.width(), old.height());
    let band = ((x1 - x0).max(y1 - y0) as f32 * 0.03).clamp(2.0, 100.0) as u8;
    let far = band.saturating_mul(2);
    let m = u32::from(far) + 2;
    let (rx0, ry0, rx1, ry1) = (x0.saturating_sub(m), y0.saturating_sub(m), (x1 + m).min(w), (y1 + m).min(h));
    let (rw, rh) = (rx1 - rx0, ry1 - ry0);
    let plane = |mask: &Mask, on: u8| {
        let px = mask.pixels();
        GrayImage::from_fn(rw, rh, |x, y| Luma([if px[((y + ry0) * w + x + rx0) as usize] > 0 { on } else { 255 - on }]))
    };
    // Distances (in px, saturating at 255) to old's pixels, to pixels outside old, to new's.
    let (to_old, to_outside, to_new) = (
        distance_transform(&plane(old, 255), Norm::L2),
        distance_transform(&plane(old, 0), Norm::L2),
        distance_transform(&plane(new, 255), Norm::L2),
    );
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for y in 0..rh {
        for x in 0..rw {
            if to_new.get_pixel(x, y).0[0] <= far {
                continue;
            }
            let (i, o) = (to_outside.get_pixel(x, y).0[0], to_old.get_pixel(x, y).0[0]);
            if (1..=band).contains(&i) {
                inside.push((x + rx0, y + ry0));
            } else if (1..=band).contains(&o) {
                outside.push((x + rx0, y + ry0));
            }
        }
    }
    (!inside.is_empty() && !outside.is_empty()).then(|| delta_e(mean_lab(image, &inside), mean_lab(image, &outside)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brown skin (L* about 45) with a 16 px disc of `spot` at (50, 50), and the disc's mask.
    fn skin_with_spot(spot: [u8; 3]) -> (Image, Mask) {
        let (w, h) = (100u32, 100u32);
        let inside = |i: u32| (i % w).abs_diff(50).pow(2) + (i / w).abs_diff(50).pow(2) < 64;
        let rgb: Vec<u8> = (0..w * h).flat_map(|i| if inside(i) { spot } else { [140, 100, 75] }).collect();
        let mask = Mask::from_pixels(w, h, (0..w * h).map(|i| u8::from(inside(i))).collect()).expect("mask");
        (Image::from_rgb(w, h, rgb).expect("image"), mask)
    }

    #[test]
    fn glare_is_a_highlight_and_a_pale_lesion_is_not() {
        let (glare, mask) = skin_with_spot([225, 222, 220]);
        let evidence = Evidence::measure(&glare, &mask, &mask, BoxPrompt::new(40.0, 40.0, 60.0, 60.0));
        assert!(evidence.highlight && evidence.contrast > 30.0, "{evidence:?}");
        assert!(!evidence.passes(&VerifyConfig::default()));
        // Paler than the skin by as much, but keeping its hue: a hypopigmented lesion.
        let (pale, mask) = skin_with_spot([225, 180, 150]);
        assert!(!Evidence::measure(&pale, &mask, &mask, BoxPrompt::new(40.0, 40.0, 60.0, 60.0)).highlight);
    }

    #[test]
    fn a_coarse_mask_around_a_glare_dot_is_a_highlight() {
        // The model's blob holds the dot with skin around it (the dot is just over half of
        // it by area): the mean colour keeps the skin's hue, but most of the mask is glare.
        let (glare, dot) = skin_with_spot([225, 222, 220]);
        let (w, h) = (dot.width(), dot.height());
        let blob = Mask::from_pixels(
            w,
            h,
            (0..w * h).map(|i| u8::from((i % w).abs_diff(50).pow(2) + (i / w).abs_diff(50).pow(2) < 120)).collect(),
        )
        .expect("mask");
        let contrast = Samples::of(&glare, &blob, blob.bbox().expect("a mask").corners()).expect("samples").contrast(&glare, |x, y| (x, y));
        let chroma = contrast.inner[1].hypot(contrast.inner[2]);
        assert!(chroma >= HIGHLIGHT_CHROMA, "the mean colour alone does not tell: chroma {chroma}, glare {}", contrast.glare);
        assert!(contrast.glare >= HIGHLIGHT_SHARE && is_highlight(&glare, &blob));
        // A pale lesion with its hue is not, however much skin the mask holds.
        let (pale, _) = skin_with_spot([225, 180, 150]);
        assert!(!is_highlight(&pale, &blob));
    }
}
