//! Resampling of 8-bit RGB images.
//!
//! Bilinear (PIL-style, antialiased when shrinking) comes from `fast_image_resize`. Area
//! resampling is implemented here to match OpenCV's `INTER_AREA` bit for bit: LiteMedSAM was
//! trained on `INTER_AREA` inputs, and `fast_image_resize`'s box filter differs from it by up
//! to 5 grey levels at non-integer ratios, which measurably moves the masks.

use fast_image_resize::images::{Image as FirImage, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interpolation {
    /// Pixel-area averaging, identical to OpenCV `INTER_AREA` when shrinking
    /// (bilinear when enlarging).
    Area,
    /// Bilinear with antialiasing when shrinking, identical to PIL's `BILINEAR`.
    Bilinear,
}

/// Resizes a tightly packed RGB8 image to `dst_w` x `dst_h`.
///
/// ```
/// use dermscan_core::preprocess::{resize_rgb, Interpolation};
/// let src = [0u8, 0, 0, 255, 255, 255]; // 2x1: black, white
/// let out = resize_rgb(&src, 2, 1, 1, 1, Interpolation::Area);
/// assert_eq!(out, vec![128, 128, 128]); // 127.5 rounds to even
/// ```
pub fn resize_rgb(src: &[u8], src_w: u32, src_h: u32, dst_w: u32, dst_h: u32, filter: Interpolation) -> Vec<u8> {
    if (src_w, src_h) == (dst_w, dst_h) {
        return src.to_vec();
    }
    match filter {
        Interpolation::Area if dst_w <= src_w && dst_h <= src_h => area_downscale(src, src_w, src_h, dst_w, dst_h),
        _ => bilinear(src, src_w, src_h, dst_w, dst_h),
    }
}

fn bilinear(src: &[u8], src_w: u32, src_h: u32, dst_w: u32, dst_h: u32) -> Vec<u8> {
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    let resized = ImageRef::new(src_w, src_h, src, PixelType::U8x3).ok().and_then(|src_view| {
        let mut dst = FirImage::new(dst_w, dst_h, PixelType::U8x3);
        Resizer::new().resize(&src_view, &mut dst, &options).ok()?;
        Some(dst.into_vec())
    });
    // Both calls only fail for mismatched buffer sizes or pixel types, which the callers rule
    // out; fall back to the exact area path rather than panic.
    resized.unwrap_or_else(|| area_downscale(src, src_w, src_h, dst_w, dst_h))
}

/// One source sample's contribution to a destination sample.
struct Tap {
    dst: usize,
    src: usize,
    weight: f32,
}

/// OpenCV's `computeResizeAreaTab`: for each destination index the covered source cells and
/// their coverage fractions.
fn area_taps(src_len: usize, dst_len: usize) -> Vec<Tap> {
    let scale = src_len as f64 / dst_len as f64;
    let mut taps = Vec::with_capacity(src_len * 2);
    for d in 0..dst_len {
        let f1 = d as f64 * scale;
        let f2 = f1 + scale;
        let cell = scale.min(src_len as f64 - f1);
        let s2 = (f2.floor() as usize).min(src_len - 1);
        let s1 = (f1.ceil() as usize).min(s2);
        if s1 as f64 - f1 > 1e-3 {
            taps.push(Tap { dst: d, src: s1 - 1, weight: ((s1 as f64 - f1) / cell) as f32 });
        }
        for s in s1..s2 {
            taps.push(Tap { dst: d, src: s, weight: (1.0 / cell) as f32 });
        }
        if f2 - s2 as f64 > 1e-3 {
            taps.push(Tap { dst: d, src: s2, weight: ((f2 - s2 as f64).min(1.0).min(cell) / cell) as f32 });
        }
    }
    taps
}

/// `INTER_AREA` shrink, following OpenCV's `resizeArea_` (float accumulation, round half to
/// even) and its integer-ratio fast path.
fn area_downscale(src: &[u8], src_w: u32, src_h: u32, dst_w: u32, dst_h: u32) -> Vec<u8> {
    let (sw, sh, dw, dh) = (src_w as usize, src_h as usize, dst_w as usize, dst_h as usize);
    if sw % dw == 0 && sh % dh == 0 {
        return area_integer(src, sw, dw, dh, sw / dw, sh / dh);
    }
    let xtaps = area_taps(sw, dw);
    let ytaps = area_taps(sh, dh);
    let mut out = vec![0u8; dw * dh * 3];
    let mut row = vec![0f32; dw * 3];
    let mut sum = vec![0f32; dw * 3];
    let mut prev_dy: Option<usize> = None;
    for yt in &ytaps {
        row.iter_mut().for_each(|v| *v = 0.0);
        let src_row = &src[yt.src * sw * 3..(yt.src + 1) * sw * 3];
        for xt in &xtaps {
            for c in 0..3 {
                row[xt.dst * 3 + c] += f32::from(src_row[xt.src * 3 + c]) * xt.weight;
            }
        }
        match prev_dy {
            Some(p) if p == yt.dst => sum.iter_mut().zip(&row).for_each(|(s, r)| *s += yt.weight * r),
            _ => {
                if let Some(p) = prev_dy {
                    store_row(&mut out[p * dw * 3..(p + 1) * dw * 3], &sum);
                }
                sum.iter_mut().zip(&row).for_each(|(s, r)| *s = yt.weight * r);
                prev_dy = Some(yt.dst);
            }
        }
    }
    if let Some(p) = prev_dy {
        store_row(&mut out[p * dw * 3..(p + 1) * dw * 3], &sum);
    }
    out
}

fn store_row(dst: &mut [u8], sum: &[f32]) {
    for (d, s) in dst.iter_mut().zip(sum) {
        *d = s.round_ties_even().clamp(0.0, 255.0) as u8;
    }
}

/// OpenCV's `resizeAreaFast`: plain block average for integer ratios.
fn area_integer(src: &[u8], sw: usize, dw: usize, dh: usize, fx: usize, fy: usize) -> Vec<u8> {
    let area = (fx * fy) as u32;
    let inv = 1.0f32 / area as f32;
    let mut out = vec![0u8; dw * dh * 3];
    for dy in 0..dh {
        for dx in 0..dw {
            for c in 0..3 {
                let mut acc = 0u32;
                for sy in dy * fy..(dy + 1) * fy {
                    let base = sy * sw * 3;
                    for sx in dx * fx..(dx + 1) * fx {
                        acc += u32::from(src[base + sx * 3 + c]);
                    }
                }
                out[(dy * dw + dx) * 3 + c] =
                    if area == 4 { ((acc + 2) >> 2) as u8 } else { (acc as f32 * inv).round_ties_even().min(255.0) as u8 };
            }
        }
    }
    out
}

/// Bilinear resize of a single-channel float map, identical to PyTorch's
/// `F.interpolate(mode="bilinear", align_corners=False)` (no antialiasing).
pub(crate) fn resize_plane_f32(src: &[f32], sw: u32, sh: u32, dw: u32, dh: u32) -> Vec<f32> {
    if (sw, sh) == (dw, dh) {
        return src.to_vec();
    }
    let bytes: Vec<u8> = src.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let result = FirImage::from_vec_u8(sw, sh, bytes, PixelType::F32).ok().and_then(|src_img| {
        let mut dst = FirImage::new(dw, dh, PixelType::F32);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Interpolation(FilterType::Bilinear));
        Resizer::new().resize(&src_img, &mut dst, &options).ok()?;
        Some(dst.into_vec())
    });
    match result {
        Some(buf) => buf.chunks_exact(4).map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect(),
        // Only reachable with inconsistent sizes, which the caller rules out.
        None => vec![f32::NEG_INFINITY; dw as usize * dh as usize],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_taps_cover_each_destination_with_unit_weight() {
        for (s, d) in [(1528, 256), (1360, 228), (7, 3), (400, 256)] {
            let taps = area_taps(s, d);
            let mut total = vec![0f64; d];
            taps.iter().for_each(|t| total[t.dst] += f64::from(t.weight));
            assert!(total.iter().all(|w| (w - 1.0).abs() < 1e-4), "{s}->{d}: {total:?}");
        }
    }

    #[test]
    fn area_of_a_constant_image_is_constant() {
        let src = vec![77u8; 10 * 9 * 3];
        assert!(resize_rgb(&src, 10, 9, 4, 3, Interpolation::Area).iter().all(|&v| v == 77));
        assert!(resize_rgb(&src, 10, 9, 4, 3, Interpolation::Bilinear).iter().all(|&v| v == 77));
    }

    #[test]
    fn bilinear_matches_torch_on_a_ramp() {
        // torch: F.interpolate(tensor([[0.,1.]]).view(1,1,1,2), size=(1,4), mode="bilinear") -> [0, .25, .75, 1]
        let out = resize_plane_f32(&[0.0, 1.0], 2, 1, 4, 1);
        let expected = [0.0, 0.25, 0.75, 1.0];
        assert!(out.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{out:?}");
    }

    #[test]
    fn integer_ratio_averages_blocks() {
        // 4x2 -> 2x1: blocks (0,10,0,10) and (100,200,100,200)
        let px = [0u8, 10, 100, 200, 0, 10, 100, 200];
        let src: Vec<u8> = px.iter().flat_map(|&v| [v, v, v]).collect();
        assert_eq!(resize_rgb(&src, 4, 2, 2, 1, Interpolation::Area), vec![5, 5, 5, 150, 150, 150]);
    }
}
