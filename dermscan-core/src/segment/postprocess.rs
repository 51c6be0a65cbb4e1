//! Low-resolution decoder logits to a full-resolution binary mask, following each family's
//! upstream post-processing.

use crate::preprocess::resize_plane_f32 as resize_f32;

use super::embedding::Geometry;
use super::mask::{bbox_where, pixel_bbox};

/// How upstream brings low-resolution logits back to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Upscale {
    /// Crop the logits to the resized area, then one bilinear resize to the window (MedSAM).
    Direct,
    /// Bilinear to the model input size, crop, bilinear to the window (SAM's `postprocess_masks`).
    ViaInput,
}

fn crop(src: &[f32], stride: usize, w: usize, h: usize) -> Vec<f32> {
    src.chunks_exact(stride).take(h).flat_map(|row| row[..w].iter().copied()).collect()
}

/// Turns `low_res` logits (`side`²) into a mask of the whole image (0/255), pasting the
/// window's mask into place.
pub(crate) fn logits_to_mask(low_res: &[f32], side: u32, geometry: &Geometry, upscale: Upscale, threshold: f32) -> Vec<u8> {
    let g = geometry;
    // The logits of the resized photo's area, and their size.
    let (cropped, cw, ch) = match upscale {
        Upscale::Direct => {
            let scale = side as f32 / g.input_size as f32;
            let (cw, ch) = (((g.resized_width as f32) * scale).round() as u32, ((g.resized_height as f32) * scale).round() as u32);
            let (cw, ch) = (cw.clamp(1, side), ch.clamp(1, side));
            (crop(low_res, side as usize, cw as usize, ch as usize), cw, ch)
        }
        Upscale::ViaInput => {
            let full = resize_f32(low_res, side, side, g.input_size, g.input_size);
            (crop(&full, g.input_size as usize, g.resized_width as usize, g.resized_height as usize), g.resized_width, g.resized_height)
        }
    };
    let (iw, ww, wh) = (g.image_width as usize, g.window.width as usize, g.window.height as usize);
    let mut mask = vec![0u8; iw * g.image_height as usize];
    let mut paste = |row: usize, x0: usize, values: &mut dyn Iterator<Item = f32>| {
        let start = (g.window.y as usize + row) * iw + g.window.x as usize + x0;
        for (dst, v) in mask[start..].iter_mut().zip(values) {
            *dst = if v > threshold { 255 } else { 0 };
        }
    };
    if ww >= cw as usize && wh >= ch as usize {
        upscale_above(&cropped, cw as usize, ch as usize, ww, wh, threshold, &mut paste);
    } else {
        // Shrinking (a photo smaller than the model's input): bilinear with its antialiasing
        // support, over the whole window.
        let window_logits = resize_f32(&cropped, cw, ch, g.window.width, g.window.height);
        for (row, logits) in window_logits.chunks_exact(ww).enumerate() {
            paste(row, 0, &mut logits.iter().copied());
        }
    }
    mask
}

/// Bilinear taps of `dst` positions in `src` (pixel centres at half-pixel offsets, edges
/// clamped, as PyTorch's `interpolate(..., align_corners=False)` and OpenCV's `INTER_LINEAR`
/// when enlarging): the two source indices and the second one's weight.
fn taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let s = ((d as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s as usize).min(src - 1);
            (i0, (i0 + 1).min(src - 1), (s - i0 as f64).min(1.0) as f32)
        })
        .collect()
}

/// Enlarges `src` (`sw` x `sh`) bilinearly to `dw` x `dh`, computing only the pixels whose
/// taps reach a value above `threshold` (every other pixel is a mix of values at or below it):
/// `paste(row, first_column, values)` receives each such row's run. A lesion covers a small
/// part of a 12 MP photo, so this skips almost all of it.
fn upscale_above(
    src: &[f32],
    sw: usize,
    sh: usize,
    dw: usize,
    dh: usize,
    threshold: f32,
    paste: &mut dyn FnMut(usize, usize, &mut dyn Iterator<Item = f32>),
) {
    // The source box of the values above the threshold (last row and column inclusive).
    let Some([bx0, by0, bx1, by1]) = bbox_where(&src[..sw * sh], sw as u32, |&v| v > threshold).map(|b| b.map(|v| v as usize)) else {
        return;
    };
    let (bx1, by1) = (bx1 - 1, by1 - 1);
    let reaches = |t: &(usize, usize, f32), lo: usize, hi: usize| t.1 >= lo && t.0 <= hi;
    let (xs, ys) = (taps(sw, dw), taps(sh, dh));
    let (Some(cx0), Some(cx1)) = (xs.iter().position(|t| reaches(t, bx0, bx1)), xs.iter().rposition(|t| reaches(t, bx0, bx1))) else {
        return;
    };
    let mut blended = vec![0f32; sw];
    for (y, &(y0, y1, fy)) in ys.iter().enumerate().filter(|(_, t)| reaches(t, by0, by1)) {
        let (r0, r1) = (&src[y0 * sw..(y0 + 1) * sw], &src[y1 * sw..(y1 + 1) * sw]);
        for (b, (a, c)) in blended.iter_mut().zip(r0.iter().zip(r1)) {
            *b = a + (c - a) * fy;
        }
        let mut values = xs[cx0..=cx1].iter().map(|&(x0, x1, fx)| blended[x0] + (blended[x1] - blended[x0]) * fx);
        paste(y, cx0, &mut values);
    }
}

/// Fills every background region that does not reach the image border (holes), looking
/// only at the mask's bounding box.
pub(crate) fn fill_holes(mask: &mut [u8], width: u32, height: u32) {
    let w = width as usize;
    let Some([x0, y0, x1, y1]) = pixel_bbox(mask, width).map(|b| b.map(|v| v as usize)) else { return };
    // Background inside a one-pixel frame around the box (x1, y1 exclusive), flooded from the frame.
    let (fx0, fy0) = (x0.saturating_sub(1), y0.saturating_sub(1));
    let (fx1, fy1) = (x1.min(w - 1), y1.min(height as usize - 1));
    let (bw, bh) = (fx1 - fx0 + 1, fy1 - fy0 + 1);
    let mut outside = vec![false; bw * bh];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for x in 0..bw {
        stack.extend([(x, 0), (x, bh - 1)]);
    }
    for y in 0..bh {
        stack.extend([(0, y), (bw - 1, y)]);
    }
    while let Some((x, y)) = stack.pop() {
        let i = y * bw + x;
        if outside[i] || mask[(y + fy0) * w + x + fx0] != 0 {
            continue;
        }
        outside[i] = true;
        if x > 0 {
            stack.push((x - 1, y));
        }
        if x + 1 < bw {
            stack.push((x + 1, y));
        }
        if y > 0 {
            stack.push((x, y - 1));
        }
        if y + 1 < bh {
            stack.push((x, y + 1));
        }
    }
    for y in 0..bh {
        for x in 0..bw {
            if !outside[y * bw + x] {
                mask[(y + fy0) * w + x + fx0] = 255;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enlarging_only_near_the_lesion_matches_resizing_everything() {
        // A bump of positive logits in a 40x30 plane, enlarged to 333x251 (odd scales).
        let (sw, sh, dw, dh) = (40usize, 30usize, 333usize, 251usize);
        let src: Vec<f32> = (0..sw * sh)
            .map(|i| {
                let (x, y) = ((i % sw) as f32, (i / sw) as f32);
                4.0 - ((x - 27.0).powi(2) + (y - 9.0).powi(2)).sqrt()
            })
            .collect();
        let whole = resize_f32(&src, sw as u32, sh as u32, dw as u32, dh as u32);
        let mut near = vec![f32::NEG_INFINITY; dw * dh];
        let mut runs = 0;
        upscale_above(&src, sw, sh, dw, dh, 0.0, &mut |row, x0, values| {
            runs += 1;
            for (dst, v) in near[row * dw + x0..].iter_mut().zip(values) {
                *dst = v;
            }
        });
        assert!(runs > 0 && runs < dh / 2, "{runs} rows computed");
        for (i, (a, b)) in whole.iter().zip(&near).enumerate() {
            // Same value where computed (up to rounding); below the threshold where skipped.
            assert!(if b.is_finite() { (a - b).abs() < 1e-4 } else { *a <= 0.0 }, "pixel {i}: {a} against {b}");
        }
        assert!(near.iter().any(|v| *v > 0.0));
    }

    #[test]
    fn holes_are_filled_and_the_outside_is_not() {
        // 5x5 ring with a hole in the middle, touching nothing else.
        let mut m = vec![0u8; 25];
        for (x, y) in [(1, 1), (2, 1), (3, 1), (1, 2), (3, 2), (1, 3), (2, 3), (3, 3)] {
            m[y * 5 + x] = 255;
        }
        fill_holes(&mut m, 5, 5);
        assert_eq!(m[2 * 5 + 2], 255);
        assert_eq!(m.iter().filter(|&&p| p != 0).count(), 9);
    }
}
