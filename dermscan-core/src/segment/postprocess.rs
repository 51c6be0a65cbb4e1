//! Low-resolution decoder logits to a full-resolution binary mask, following each family's
//! upstream post-processing.

use fast_image_resize::images::Image as FirImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::embedding::Geometry;

/// How upstream brings low-resolution logits back to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upscale {
    /// Crop the logits to the resized area, then one bilinear resize to the window (MedSAM).
    Direct,
    /// Bilinear to the model input size, crop, bilinear to the window (SAM's `postprocess_masks`).
    ViaInput,
}

/// Bilinear resize of a single-channel float map, identical to PyTorch's
/// `F.interpolate(mode="bilinear", align_corners=False)` (no antialiasing).
fn resize_f32(src: &[f32], sw: u32, sh: u32, dw: u32, dh: u32) -> Vec<f32> {
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

fn crop(src: &[f32], stride: usize, w: usize, h: usize) -> Vec<f32> {
    src.chunks_exact(stride).take(h).flat_map(|row| row[..w].iter().copied()).collect()
}

/// Turns `low_res` logits (`side`²) into a mask of the whole image (0/255), pasting the
/// window's mask into place.
pub(crate) fn logits_to_mask(low_res: &[f32], side: u32, geometry: &Geometry, upscale: Upscale, threshold: f32) -> Vec<u8> {
    let g = geometry;
    let window_logits = match upscale {
        Upscale::Direct => {
            let scale = side as f32 / g.input_size as f32;
            let (cw, ch) = (((g.resized_width as f32) * scale).round() as u32, ((g.resized_height as f32) * scale).round() as u32);
            let (cw, ch) = (cw.clamp(1, side), ch.clamp(1, side));
            let cropped = crop(low_res, side as usize, cw as usize, ch as usize);
            resize_f32(&cropped, cw, ch, g.window.width, g.window.height)
        }
        Upscale::ViaInput => {
            let full = resize_f32(low_res, side, side, g.input_size, g.input_size);
            let cropped = crop(&full, g.input_size as usize, g.resized_width as usize, g.resized_height as usize);
            resize_f32(&cropped, g.resized_width, g.resized_height, g.window.width, g.window.height)
        }
    };
    let (iw, ww) = (g.image_width as usize, g.window.width as usize);
    let mut mask = vec![0u8; iw * g.image_height as usize];
    for (row, logits) in window_logits.chunks_exact(ww).enumerate() {
        let start = (g.window.y as usize + row) * iw + g.window.x as usize;
        for (dst, &v) in mask[start..start + ww].iter_mut().zip(logits) {
            *dst = if v > threshold { 255 } else { 0 };
        }
    }
    mask
}

/// Fills every background region that does not reach the image border (holes), looking
/// only at the mask's bounding box.
pub(crate) fn fill_holes(mask: &mut [u8], width: u32, height: u32) {
    let w = width as usize;
    let rows = || mask.chunks_exact(w).enumerate().filter(|(_, r)| r.iter().any(|&p| p != 0)).map(|(y, _)| y);
    let (Some(y0), Some(y1)) = (rows().next(), rows().next_back()) else { return };
    let (mut x0, mut x1) = (w, 0);
    for row in mask.chunks_exact(w).skip(y0).take(y1 - y0 + 1) {
        if let (Some(a), Some(b)) = (row.iter().position(|&p| p != 0), row.iter().rposition(|&p| p != 0)) {
            x0 = x0.min(a);
            x1 = x1.max(b);
        }
    }
    // Background inside a one-pixel frame around the box, flooded from the frame.
    let (fx0, fy0) = (x0.saturating_sub(1), y0.saturating_sub(1));
    let (fx1, fy1) = ((x1 + 1).min(w - 1), (y1 + 1).min(height as usize - 1));
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
        if x > 0 { stack.push((x - 1, y)); }
        if x + 1 < bw { stack.push((x + 1, y)); }
        if y > 0 { stack.push((x, y - 1)); }
        if y + 1 < bh { stack.push((x, y + 1)); }
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

    #[test]
    fn bilinear_matches_torch_on_a_ramp() {
        // torch: F.interpolate(tensor([[0.,1.]]).view(1,1,1,2), size=(1,4), mode="bilinear") -> [0, .25, .75, 1]
        let out = resize_f32(&[0.0, 1.0], 2, 1, 4, 1);
        let expected = [0.0, 0.25, 0.75, 1.0];
        assert!(out.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{out:?}");
    }
}
