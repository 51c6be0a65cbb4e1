//! Edge snapping: moves a mask's outline onto the colour edge between lesion and skin.
//!
//! SAM-family masks come from 256x256 logits and tend to sit a few pixels outside the
//! visible pigment edge, by an amount that changes with lighting and lesion size. For one
//! photo that is a small error; for the change between two photos of one lesion (the
//! evolution tracker) it is not, because growth is a ratio of two such areas. Snapping
//! looks only at a narrow band around the model's outline: each band pixel votes, by its
//! colour along the lesion-to-skin axis (ring means just inside and just outside the band),
//! for lesion or skin, and the outline moves inwards or outwards by the offset that agrees
//! with most votes, one offset per sector around the lesion, interpolated between sectors.
//! Per-pixel decisions would follow every fleck of texture on a soft edge and make a smooth
//! mole's border read as irregular (B) and asymmetric (A). The model still
//! decides where the lesion is and its shape; the image decides where its edge lies.

use image::{GrayImage, Luma};
use imageproc::distance_transform::{Norm, euclidean_squared_distance_transform};
use imageproc::morphology::open;
use imageproc::region_labelling::{Connectivity, connected_components};

use super::Mask;
use crate::image::Image;

/// Smallest colour difference (RGB units) between the inside and outside rings for snapping
/// to be trusted; below it the mask is returned unchanged.
const MIN_CONTRAST: f32 = 12.0;

/// Sectors around the lesion's centre, each with its own outline offset.
const SECTORS: usize = 16;

/// Half-width of the band in pixels for a lesion of this many pixels: 6% of its
/// equivalent radius, between 2 and 12 px.
fn band_for(area_px: u64) -> f64 {
    (0.06 * (area_px as f64 / std::f64::consts::PI).sqrt()).clamp(2.0, 12.0)
}

/// Snaps the outline of `mask` to the colour edge in `image` (see the module docs). Returns
/// the mask unchanged when it is empty, the sizes differ, or lesion and skin do not differ
/// enough in colour.
///
/// ```
/// use dermscan_core::segment::{Mask, snap_to_edge};
/// use dermscan_core::Image;
/// // A dark 20x20 square on light skin; the "model" mask is 2 px too big on every side.
/// let (w, h) = (48u32, 48u32);
/// let inside = |x: u32, y: u32, pad: u32| (14 - pad..34 + pad).contains(&x) && (14 - pad..34 + pad).contains(&y);
/// let rgb = (0..w * h).flat_map(|i| if inside(i % w, i / w, 0) { [90u8, 60, 40] } else { [220, 190, 170] }).collect();
/// let image = Image::from_rgb(w, h, rgb)?;
/// let loose = Mask::from_pixels(w, h, (0..w * h).map(|i| u8::from(inside(i % w, i / w, 2))).collect()).expect("mask");
/// assert_eq!(loose.area_px(), 24 * 24);
/// assert_eq!(snap_to_edge(&image, &loose).area_px(), 20 * 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn snap_to_edge(image: &Image, mask: &Mask) -> Mask {
    let _span = tracing::debug_span!("snap_to_edge", area = mask.area_px()).entered();
    let (w, h) = (mask.width(), mask.height());
    if (image.width(), image.height()) != (w, h) {
        return mask.clone();
    }
    let Some([x0, y0, x1, y1]) = mask.bbox().map(|r| r.corners()) else { return mask.clone() };
    let band = band_for(mask.area_px());
    // Work on the lesion's box plus room for the rings.
    let margin = (3.0 * band).ceil() as u32 + 2;
    let (rx0, ry0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (rx1, ry1) = ((x1 + margin).min(w), (y1 + margin).min(h));
    let (rw, rh) = (rx1 - rx0, ry1 - ry0);
    let inside = GrayImage::from_fn(rw, rh, |x, y| Luma([mask.pixels()[((y + ry0) * w + x + rx0) as usize]]));
    let outside = GrayImage::from_fn(rw, rh, |x, y| Luma([255 - inside.get_pixel(x, y).0[0]]));
    // Squared distance of each pixel to the nearest lesion pixel (outside) / skin pixel (inside).
    let to_lesion = euclidean_squared_distance_transform(&inside);
    let to_skin = euclidean_squared_distance_transform(&outside);
    let rgb = image.as_rgb();
    let colour = |x: u32, y: u32| {
        let i = (((y + ry0) * w + x + rx0) * 3) as usize;
        [f32::from(rgb[i]), f32::from(rgb[i + 1]), f32::from(rgb[i + 2])]
    };

    // Ring means: (band, 2 band] inside and outside the outline.
    let (b2, b4) = (band * band, 4.0 * band * band);
    let (mut sum_in, mut n_in, mut sum_out, mut n_out) = ([0f64; 3], 0u64, [0f64; 3], 0u64);
    for y in 0..rh {
        for x in 0..rw {
            let (d_in, d_out) = (to_skin.get_pixel(x, y).0[0], to_lesion.get_pixel(x, y).0[0]);
            let c = colour(x, y);
            if d_in > b2 && d_in <= b4 {
                (0..3).for_each(|k| sum_in[k] += f64::from(c[k]));
                n_in += 1;
            } else if d_out > b2 && d_out <= b4 {
                (0..3).for_each(|k| sum_out[k] += f64::from(c[k]));
                n_out += 1;
            }
        }
    }
    if n_in == 0 || n_out == 0 {
        return mask.clone();
    }
    let mean_in = sum_in.map(|s| (s / n_in as f64) as f32);
    let mean_out = sum_out.map(|s| (s / n_out as f64) as f32);
    let axis = [0, 1, 2].map(|k| mean_in[k] - mean_out[k]);
    let norm2: f32 = axis.iter().map(|a| a * a).sum();
    if norm2.sqrt() < MIN_CONTRAST {
        return mask.clone();
    }

    // Signed distance from the model's outline in px (positive inside), at pixel centres.
    let signed = |x: u32, y: u32| {
        let (d_in, d_out) = (to_skin.get_pixel(x, y).0[0], to_lesion.get_pixel(x, y).0[0]);
        if d_in > 0.0 { (d_in as f32).sqrt() - 0.5 } else { 0.5 - (d_out as f32).sqrt() }
    };
    // Each band pixel votes by colour for lesion or skin. Around the outline, in sectors seen
    // from the lesion's centre, the outline moves by the offset (shrunk or grown) that agrees
    // with most votes of the sector and its neighbours; offsets are interpolated between
    // sectors. Per-pixel decisions would follow every fleck of texture on a soft edge and turn
    // a smooth mole ragged; smooth offsets correct the size and keep the model's shape.
    let band = band as f32;
    let offsets: Vec<f32> = (0..=(4.0 * band) as usize).map(|j| -band + j as f32 * 0.5).collect();
    let (cx, cy) = centroid(&inside);
    let sector_of = |x: u32, y: u32| {
        let turn = (y as f32 - cy).atan2(x as f32 - cx) / std::f32::consts::TAU;
        turn.rem_euclid(1.0) * SECTORS as f32
    };
    let mut votes = vec![vec![0u64; offsets.len()]; SECTORS];
    for y in 0..rh {
        for x in 0..rw {
            let s = signed(x, y);
            if s.abs() > band {
                continue;
            }
            let c = colour(x, y);
            let lesion_colour = (0..3).map(|k| (c[k] - mean_out[k]) * axis[k]).sum::<f32>() / norm2 > 0.5;
            let sector = (sector_of(x, y) as usize).min(SECTORS - 1);
            for (v, d) in votes[sector].iter_mut().zip(&offsets) {
                *v += u64::from((s > *d) == lesion_colour);
            }
        }
    }
    let shift: Vec<f32> = (0..SECTORS)
        .map(|k| {
            let pooled: Vec<u64> =
                (0..offsets.len()).map(|j| votes[(k + SECTORS - 1) % SECTORS][j] + 2 * votes[k][j] + votes[(k + 1) % SECTORS][j]).collect();
            let best = pooled.iter().max().copied().unwrap_or(0);
            offsets
                .iter()
                .zip(&pooled)
                .filter(|(_, v)| **v == best)
                .map(|(d, _)| *d)
                .min_by(|a, b| a.abs().total_cmp(&b.abs()))
                .unwrap_or(0.0)
        })
        .collect();
    let offset_at = |x: u32, y: u32| {
        // Sector centres sit at k + 0.5.
        let t = sector_of(x, y) - 0.5;
        let k = t.floor();
        let f = t - k;
        let k = (k as isize).rem_euclid(SECTORS as isize) as usize;
        shift[k] * (1.0 - f) + shift[(k + 1) % SECTORS] * f
    };
    let snapped = GrayImage::from_fn(rw, rh, |x, y| Luma([if signed(x, y) > offset_at(x, y) { 255 } else { 0 }]));
    // Thin strands (hair crossing the band) go; the largest region stays, holes filled.
    let snapped = open(&snapped, Norm::LInf, 1);
    let labels = connected_components(&snapped, Connectivity::Eight, Luma([0u8]));
    let mut counts = std::collections::HashMap::<u32, u64>::new();
    labels.pixels().filter(|p| p.0[0] > 0).for_each(|p| *counts.entry(p.0[0]).or_default() += 1);
    let Some((&largest, _)) = counts.iter().max_by_key(|(label, n)| (**n, std::cmp::Reverse(**label))) else { return mask.clone() };
    let background = GrayImage::from_fn(rw, rh, |x, y| Luma([if labels.get_pixel(x, y).0[0] == largest { 0 } else { 255 }]));
    let outer = connected_components(&background, Connectivity::Four, Luma([0u8]));
    // Background regions touching the work region's border are skin; others are holes.
    let mut border_labels = std::collections::HashSet::new();
    for x in 0..rw {
        border_labels.insert(outer.get_pixel(x, 0).0[0]);
        border_labels.insert(outer.get_pixel(x, rh - 1).0[0]);
    }
    for y in 0..rh {
        border_labels.insert(outer.get_pixel(0, y).0[0]);
        border_labels.insert(outer.get_pixel(rw - 1, y).0[0]);
    }
    let mut pixels = vec![0u8; w as usize * h as usize];
    for y in 0..rh {
        for x in 0..rw {
            let l = outer.get_pixel(x, y).0[0];
            let lesion = labels.get_pixel(x, y).0[0] == largest || (l != 0 && !border_labels.contains(&l));
            if lesion {
                pixels[((y + ry0) * w + x + rx0) as usize] = 255;
            }
        }
    }
    Mask::from_pixels(w, h, pixels).map_or_else(|| mask.clone(), |m| m.with_scores_of(mask))
}

/// Centroid of the non-zero pixels of a work region, in its own coordinates.
fn centroid(region: &GrayImage) -> (f32, f32) {
    let (mut sx, mut sy, mut n) = (0f64, 0f64, 0f64);
    for (x, y, p) in region.enumerate_pixels() {
        if p.0[0] > 0 {
            sx += f64::from(x) + 0.5;
            sy += f64::from(y) + 0.5;
            n += 1.0;
        }
    }
    ((sx / n.max(1.0)) as f32, (sy / n.max(1.0)) as f32)
}
