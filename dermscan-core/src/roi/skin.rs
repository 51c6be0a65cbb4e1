//! The skin's own colour everywhere in the photo, and how far each pixel is from it.
//!
//! A lesion is a patch whose colour differs from the skin around it: darker (pigment), redder
//! (vessels, inflammation), bluer or greyer (deep pigment, regression) or lighter (scar-like
//! regression, hypopigmentation). The skin colour is estimated in CIELAB by a normalised
//! convolution on a coarse grid (blur of the colour weighted by "is skin", divided by the blur
//! of the weights), iterated so that pixels far from the estimate stop counting as skin. It
//! starts from the colour of the frame's outer band, where people do not centre a lesion, so a
//! lesion that fills much of a close-up does not become the "skin".

use crate::lab::delta_e;
use crate::preprocess::resize_plane_f32;

/// Side of the coarse grid on which the skin colour is estimated.
const GRID: u32 = 48;
/// Width of the frame's outer band used for the first skin estimate, as a fraction of each side.
const BAND: f32 = 0.12;
/// Colour distance (CIELAB ΔE) within which a pixel still counts as skin while estimating it:
/// the skin's own variation across the frame's band ([`band_spread`]), within these bounds.
const MIN_SKIN_TOLERANCE: f32 = 6.0;
const MAX_SKIN_TOLERANCE: f32 = 9.0;
/// Weight of a lightness difference when the pixel is lighter than the skin (glare, shine and
/// uneven light make lighter patches common on healthy skin).
const LIGHTER_WEIGHT: f32 = 0.5;

/// The estimated local skin colour, CIELAB per pixel.
pub(crate) struct SkinModel {
    pub local: Vec<[f32; 3]>,
}

/// Estimates the skin colour of a `w` x `h` CIELAB image; `valid` marks pixels that may be
/// skin at all (not the dermoscope's dark frame or glare).
pub(crate) fn estimate(lab: &[[f32; 3]], valid: &[bool], w: u32, h: u32) -> SkinModel {
    let global = band_median(lab, valid, w, h);
    let scale = (GRID as f32 / w.max(h) as f32).min(1.0);
    let (gw, gh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    // Coarse copies of each channel and of the validity (invalid pixels get the global colour
    // so they pull nothing; their weight is zero below anyway).
    let channel = |c: usize| -> Vec<f32> {
        let plane: Vec<f32> = lab.iter().zip(valid).map(|(p, v)| if *v { p[c] } else { global[c] }).collect();
        resize_plane_f32(&plane, w, h, gw, gh)
    };
    let coarse = [channel(0), channel(1), channel(2)];
    let validity = resize_plane_f32(&valid.iter().map(|v| f32::from(u8::from(*v))).collect::<Vec<_>>(), w, h, gw, gh);
    let cell = |i: usize| [coarse[0][i], coarse[1][i], coarse[2][i]];
    // What counts as skin follows how much this skin varies: uniform skin lets a faint pink
    // or pale lesion stand out; blotchy, sun-damaged skin must not become "lesion".
    let tolerance = band_spread(&coarse, &validity, global, gw, gh).clamp(MIN_SKIN_TOLERANCE, MAX_SKIN_TOLERANCE);
    tracing::debug!(tolerance, "skin tolerance");
    let sigma = (gw.max(gh) as f32 * 0.12).max(1.0);
    let n = (gw * gh) as usize;
    let mut background = vec![global; n];
    let mut reference = vec![global; n];
    for _ in 0..4 {
        let weights: Vec<f32> = (0..n).map(|i| if delta_e(cell(i), reference[i]) <= tolerance * 1.5 { validity[i] } else { 0.0 }).collect();
        let den = blur(&weights, gw, gh, sigma);
        const EPS: f32 = 0.05;
        let mut next = vec![[0.0f32; 3]; n];
        for (c, plane) in coarse.iter().enumerate() {
            let weighted: Vec<f32> = plane.iter().zip(&weights).map(|(v, w)| v * w).collect();
            let num = blur(&weighted, gw, gh, sigma);
            for i in 0..n {
                next[i][c] = (num[i] + EPS * global[c]) / (den[i] + EPS);
            }
        }
        background = next;
        reference.clone_from(&background);
    }
    let up = |c: usize| resize_plane_f32(&background.iter().map(|p| p[c]).collect::<Vec<_>>(), gw, gh, w, h);
    let planes = [up(0), up(1), up(2)];
    let local = (0..(w * h) as usize).map(|i| [planes[0][i], planes[1][i], planes[2][i]]).collect();
    SkinModel { local }
}

/// How far `pixel` is from `skin`: CIELAB ΔE with a lighter-than-skin difference counted at
/// [`LIGHTER_WEIGHT`].
pub(crate) fn lesion_distance(pixel: [f32; 3], skin: [f32; 3]) -> f32 {
    let dl = pixel[0] - skin[0];
    let dl = if dl > 0.0 { dl * LIGHTER_WEIGHT } else { dl };
    (dl * dl + (pixel[1] - skin[1]).powi(2) + (pixel[2] - skin[2]).powi(2)).sqrt()
}

/// Per-channel median of the valid pixels in the frame's outer band (of all valid pixels when
/// the band has none; neutral skin when nothing is valid).
fn band_median(lab: &[[f32; 3]], valid: &[bool], w: u32, h: u32) -> [f32; 3] {
    let band = in_band(w, h);
    let in_band = |i: usize| band(i as u32 % w, i as u32 / w);
    let pick = |band: bool| -> [Vec<f32>; 3] {
        let mut out: [Vec<f32>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for (i, p) in lab.iter().enumerate() {
            if valid[i] && (!band || in_band(i)) {
                for c in 0..3 {
                    out[c].push(p[c]);
                }
            }
        }
        out
    };
    let mut channels = pick(true);
    if channels[0].len() < 16 {
        channels = pick(false);
    }
    if channels[0].is_empty() {
        return [65.0, 12.0, 18.0];
    }
    channels.map(|mut v| {
        let mid = v.len() / 2;
        *v.select_nth_unstable_by(mid, f32::total_cmp).1
    })
}

/// Separable Gaussian blur of a small float map (edges clamped).
pub(crate) fn blur(src: &[f32], w: u32, h: u32, sigma: f32) -> Vec<f32> {
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

/// How much the skin's colour varies across the frame's outer band on the coarse grid: the
/// 75th percentile of the cells' CIELAB distance from the band's median colour.
fn band_spread(coarse: &[Vec<f32>; 3], validity: &[f32], global: [f32; 3], gw: u32, gh: u32) -> f32 {
    let band = in_band(gw, gh);
    let mut d: Vec<f32> = (0..(gw * gh) as usize)
        .filter(|&i| validity[i] > 0.9 && band(i as u32 % gw, i as u32 / gw))
        .map(|i| delta_e([coarse[0][i], coarse[1][i], coarse[2][i]], global))
        .collect();
    if d.is_empty() {
        return 0.0;
    }
    let k = (d.len() * 3 / 4).min(d.len() - 1);
    *d.select_nth_unstable_by(k, f32::total_cmp).1
}

/// Whether a pixel `(x, y)` of a `w` x `h` frame lies in its outer [`BAND`].
fn in_band(w: u32, h: u32) -> impl Fn(u32, u32) -> bool {
    let (bx, by) = ((w as f32 * BAND).ceil() as u32, (h as f32 * BAND).ceil() as u32);
    move |x, y| x < bx || y < by || x + bx >= w || y + by >= h
}
