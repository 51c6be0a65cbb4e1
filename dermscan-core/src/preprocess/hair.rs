//! Hair removal before the model, in the manner of DullRazor (Lee et al., *Computers in
//! Biology and Medicine* 27(6), 1997): find thin dark structures with a grey-level black-hat,
//! keep the long ones, and paint them over from the surrounding pixels.
//!
//! Thick dark hairs across a lesion make SAM-family models segment the hair instead of the
//! lesion; removing them first is what makes hairy photos usable. It runs on the small
//! images the models and the lesion finder see (a few hundred pixels a side), so it costs a
//! few milliseconds.

use image::{GrayImage, Luma};
use imageproc::distance_transform::Norm;
use imageproc::morphology::{Mask as Structuring, dilate, grayscale_close};
use imageproc::region_labelling::{Connectivity, connected_components};

/// Settings of the hair remover. Sizes are fractions of the whole photo's longest side (a
/// hair's width is a physical size: it does not grow when the encoder sees a crop), so one
/// setting fits the lesion finder's small copy, a 256 px model input and a 1024 px one alike.
///
/// ```
/// use dermscan_core::preprocess::HairRemoval;
/// let off = HairRemoval::disabled();
/// assert!(!off.enabled && HairRemoval::default().enabled);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HairRemoval {
    /// Whether to remove hair at all.
    pub enabled: bool,
    /// Widest hair removed, as a fraction of the photo's longest side (the black-hat
    /// element's size).
    pub max_width: f32,
    /// Smallest black-hat response that counts as hair, as a fraction of the local
    /// background (the closing): relative, so a dark hair on dark skin counts as much as one
    /// on light skin.
    pub threshold: f32,
    /// Shortest structure removed, as a multiple of [`HairRemoval::max_width`]: dots and
    /// globules (compact) stay, hairs (long) go.
    pub min_length: f32,
}

impl Default for HairRemoval {
    /// On; hairs up to 1.5% of the photo's longest side wide (12 px in an 800 px photo),
    /// at least 12% darker than their surroundings, at least 3 widths long.
    fn default() -> Self {
        Self { enabled: true, max_width: 0.015, threshold: 0.12, min_length: 3.0 }
    }
}

impl HairRemoval {
    /// Hair removal switched off (the upstream model recipe).
    pub fn disabled() -> Self {
        Self { enabled: false, ..Self::default() }
    }
}

/// Removes hair from a packed RGB image in place and returns the fraction of pixels painted
/// over (0 when disabled or nothing was found). `photo_side` is the whole photo's longest
/// side measured in this image's pixels (`width.max(height)` when `rgb` is the whole photo;
/// larger when it is a crop).
///
/// ```
/// use dermscan_core::preprocess::{remove_hair, HairRemoval};
/// // 100x100 light skin crossed by a dark 3 px line
/// let (w, h) = (100u32, 100u32);
/// let mut rgb = vec![200u8; (w * h * 3) as usize];
/// for y in 0..h { for x in 48..51 { let i = ((y * w + x) * 3) as usize; rgb[i..i + 3].copy_from_slice(&[30, 25, 20]); } }
/// let painted = remove_hair(&mut rgb, w, h, 300.0, &HairRemoval::default()); // a crop of a 300 px photo
/// assert!(painted > 0.02);
/// assert!(rgb[((50 * w + 49) * 3) as usize] > 150); // the line is gone
/// ```
pub fn remove_hair(rgb: &mut [u8], width: u32, height: u32, photo_side: f32, config: &HairRemoval) -> f32 {
    let pixels = (width as usize) * (height as usize);
    if !config.enabled || pixels == 0 || rgb.len() < pixels * 3 {
        return 0.0;
    }
    let _span = tracing::debug_span!("hair_removal", width, height).entered();
    let hair = hair_mask(rgb, width, height, photo_side, config);
    let count = hair.iter().filter(|&&h| h).count();
    if count > 0 {
        inpaint(rgb, width as usize, height as usize, hair);
    }
    count as f32 / pixels as f32
}

/// Largest area of a hair structure relative to its bounding-box diagonal squared: a hair
/// `w` wide and `L` long fills about `w / L`, a compact blotch 0.3 or more.
const MAX_FILL: f32 = 0.2;

/// Smallest black-hat response in grey levels, whatever the background: below it is noise.
const MIN_RESPONSE: f32 = 5.0;

/// Pixels that belong to hair: black-hat response above the threshold, grown by one pixel to
/// take the hair's soft edge, in connected structures long enough to be hair.
fn hair_mask(rgb: &[u8], width: u32, height: u32, photo_side: f32, config: &HairRemoval) -> Vec<bool> {
    let grey = GrayImage::from_fn(width, height, |x, y| {
        let i = ((y * width + x) * 3) as usize;
        let v = 0.299 * f32::from(rgb[i]) + 0.587 * f32::from(rgb[i + 1]) + 0.114 * f32::from(rgb[i + 2]);
        Luma([v.round() as u8])
    });
    let side = if photo_side.is_finite() && photo_side > 0.0 { photo_side } else { width.max(height) as f32 };
    let radius = (side * config.max_width / 2.0).round().clamp(1.0, 20.0) as u8;
    let closed = grayscale_close(&grey, &Structuring::disk(radius));
    let candidate = GrayImage::from_fn(width, height, |x, y| {
        let background = f32::from(closed.get_pixel(x, y)[0]);
        let response = background - f32::from(grey.get_pixel(x, y)[0]);
        Luma([if response >= (config.threshold * background).max(MIN_RESPONSE) { 255 } else { 0 }])
    });

    // Keep only long structures: a component's bounding-box diagonal against the element.
    let labels = connected_components(&candidate, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    let mut extent = vec![(u32::MAX, u32::MAX, 0u32, 0u32); count + 1];
    let mut area = vec![0u32; count + 1];
    for (x, y, l) in labels.enumerate_pixels() {
        let e = &mut extent[l[0] as usize];
        *e = (e.0.min(x), e.1.min(y), e.2.max(x), e.3.max(y));
        area[l[0] as usize] += 1;
    }
    let min_length = config.min_length * f32::from(2 * radius + 1);
    let long: Vec<bool> = extent
        .iter()
        .enumerate()
        .map(|(l, &(x0, y0, x1, y1))| {
            l > 0 && x1 >= x0 && {
                let (dx, dy) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
                let diagonal_sq = dx * dx + dy * dy;
                // Long, and thin for its length: a dark blotch inside a lesion is neither.
                diagonal_sq.sqrt() >= min_length && (area[l] as f32) <= MAX_FILL * diagonal_sq
            }
        })
        .collect();
    let core = GrayImage::from_fn(width, height, |x, y| Luma([if long[labels.get_pixel(x, y)[0] as usize] { 255 } else { 0 }]));
    // Grow by one pixel (8-neighbourhood) to cover the anti-aliased edge of each hair.
    dilate(&core, Norm::LInf, 1).pixels().map(|p| p[0] != 0).collect()
}

/// Paints the masked pixels from the outside in ("onion peel"): each pass fills the masked
/// pixels that touch known ones with the mean of their known 8-neighbours, so colours flow
/// smoothly across a hair from both sides.
fn inpaint(rgb: &mut [u8], w: usize, h: usize, mut unknown: Vec<bool>) {
    let mut front = Vec::new();
    loop {
        front.clear();
        for y in 0..h {
            for x in 0..w {
                if !unknown[y * w + x] {
                    continue;
                }
                let (mut sum, mut n) = ([0u32; 3], 0u32);
                for ny in y.saturating_sub(1)..(y + 2).min(h) {
                    for nx in x.saturating_sub(1)..(x + 2).min(w) {
                        let j = ny * w + nx;
                        if !unknown[j] {
                            for (s, v) in sum.iter_mut().zip(&rgb[j * 3..j * 3 + 3]) {
                                *s += u32::from(*v);
                            }
                            n += 1;
                        }
                    }
                }
                if n > 0 {
                    front.push((y * w + x, sum.map(|s| ((s + n / 2) / n) as u8)));
                }
            }
        }
        if front.is_empty() {
            // Nothing known anywhere near (the whole image was "hair"): leave it as it is.
            return;
        }
        for &(i, colour) in &front {
            rgb[i * 3..i * 3 + 3].copy_from_slice(&colour);
            unknown[i] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skin_with(w: u32, h: u32, draw: impl Fn(u32, u32) -> Option<[u8; 3]>) -> Vec<u8> {
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                rgb.extend_from_slice(&draw(x, y).unwrap_or([210, 170, 150]));
            }
        }
        rgb
    }

    #[test]
    fn removes_a_line_and_keeps_a_dot_and_a_lesion() {
        let (w, h) = (200, 200);
        let mut rgb = skin_with(w, h, |x, y| {
            let (dx, dy) = (x as f32 - 140.0, y as f32 - 140.0);
            if (dx * dx + dy * dy).sqrt() < 30.0 {
                Some([90, 60, 40]) // lesion
            } else if (x as i32 - y as i32).abs() <= 1 {
                Some([25, 20, 15]) // diagonal hair
            } else if (x as f32 - 40.0).hypot(y as f32 - 160.0) < 2.5 {
                Some([40, 30, 20]) // a dot, compact
            } else {
                None
            }
        });
        let fraction = remove_hair(&mut rgb, w, h, 300.0, &HairRemoval::default());
        assert!(fraction > 0.01 && fraction < 0.1, "{fraction}");
        let at = |x: u32, y: u32| rgb[((y * w + x) * 3) as usize];
        assert!(at(60, 60) > 180, "hair pixel left: {}", at(60, 60));
        assert!(at(140, 140) < 110, "lesion centre painted over");
        assert!(at(40, 160) < 80, "dot removed");
    }

    #[test]
    fn disabled_and_degenerate_inputs_change_nothing() {
        let mut rgb = vec![0u8; 30];
        assert_eq!(remove_hair(&mut rgb, 10, 1, 10.0, &HairRemoval::disabled()), 0.0);
        assert_eq!(remove_hair(&mut rgb, 0, 0, 0.0, &HairRemoval::default()), 0.0);
        assert_eq!(remove_hair(&mut rgb, 100, 100, 100.0, &HairRemoval::default()), 0.0); // buffer too short
        let mut one = vec![5u8; 3];
        assert_eq!(remove_hair(&mut one, 1, 1, f32::NAN, &HairRemoval::default()), 0.0);
    }
}
