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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_matches_torch_on_a_ramp() {
        // torch: F.interpolate(tensor([[0.,1.]]).view(1,1,1,2), size=(1,4), mode="bilinear") -> [0, .25, .75, 1]
        let out = resize_f32(&[0.0, 1.0], 2, 1, 4, 1);
        let expected = [0.0, 0.25, 0.75, 1.0];
        assert!(out.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{out:?}");
    }
}
