//! Low-resolution decoder logits to a full-resolution binary mask, following each family's
//! upstream post-processing.

use crate::preprocess::resize_plane_f32 as resize_f32;

use super::embedding::Geometry;
use super::mask::pixel_bbox;

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
