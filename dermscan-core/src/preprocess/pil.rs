//! Pillow's resampling (`Image.resize(..., Image.BILINEAR)` on 8-bit RGB), ported bit for bit
//! from Pillow's `Resample.c`: coefficients in `f64`, normalised and rounded to 22-bit fixed
//! point, a horizontal pass over the rows the vertical pass needs, then the vertical pass,
//! each rounding and clipping to `u8`.
//!
//! [`super::Interpolation::Bilinear`] (`fast_image_resize`) uses the same filter but its own
//! fixed-point rounding, and differs from Pillow by one grey level on some pixels; models
//! whose reference resizes with Pillow and that react strongly to one grey level (the
//! HAM10000 classifier) use this port.

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Per output index: first source index, number of taps; `ksize` fixed-point weights each.
struct Coeffs {
    bounds: Vec<(usize, usize)>,
    ksize: usize,
    weights: Vec<i32>,
}

fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 { 1.0 - x } else { 0.0 }
}

/// Pillow's `precompute_coeffs` (support 1, the bilinear filter) and `normalize_coeffs_8bpc`.
fn precompute(in_size: usize, out_size: usize) -> Coeffs {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size);
    let mut weights = vec![0i32; out_size * ksize];
    let mut w = vec![0f64; ksize];
    let one = f64::from(1u32 << PRECISION_BITS);
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        // `(int)` in C truncates toward zero, as `as` does.
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64);
        let n = usize::try_from(xmax - xmin).unwrap_or(0).min(ksize);
        let xmin = usize::try_from(xmin).unwrap_or(0);
        let mut ww = 0.0;
        for (x, slot) in w.iter_mut().enumerate().take(n) {
            let v = triangle(((x + xmin) as f64 - center + 0.5) * ss);
            *slot = v;
            ww += v;
        }
        for (x, &v) in w.iter().enumerate().take(n) {
            let v = if ww != 0.0 { v / ww } else { v };
            weights[xx * ksize + x] = if v < 0.0 { (-0.5 + v * one) as i32 } else { (0.5 + v * one) as i32 };
        }
        bounds.push((xmin, n));
    }
    Coeffs { bounds, ksize, weights }
}

fn clip8(v: i32) -> u8 {
    if v >= (1 << PRECISION_BITS << 8) {
        255
    } else if v <= 0 {
        0
    } else {
        (v >> PRECISION_BITS) as u8
    }
}

/// Resizes a tightly packed RGB8 image exactly as Pillow's `Image.resize((dst_w, dst_h),
/// Image.BILINEAR)` does (antialiased when shrinking). Empty sizes give an empty buffer.
///
/// ```
/// use dermscan_core::preprocess::resize_rgb_pil;
/// let src = [0u8, 0, 0, 255, 255, 255]; // 2x1: black, white
/// assert_eq!(resize_rgb_pil(&src, 2, 1, 1, 1), vec![128, 128, 128]);
/// ```
pub fn resize_rgb_pil(src: &[u8], src_w: u32, src_h: u32, dst_w: u32, dst_h: u32) -> Vec<u8> {
    let (sw, sh, dw, dh) = (src_w as usize, src_h as usize, dst_w as usize, dst_h as usize);
    if sw == 0 || sh == 0 || dw == 0 || dh == 0 || src.len() < sw * sh * 3 {
        return Vec::new();
    }
    if (sw, sh) == (dw, dh) {
        return src[..sw * sh * 3].to_vec();
    }
    let horiz = precompute(sw, dw);
    let mut vert = precompute(sh, dh);
    let half = 1i32 << (PRECISION_BITS - 1);
    // Horizontal pass over the source rows the vertical pass reads.
    let (rows, width) = if dw != sw {
        let first = vert.bounds.first().map_or(0, |b| b.0);
        let last = vert.bounds.last().map_or(sh, |b| b.0 + b.1);
        vert.bounds.iter_mut().for_each(|b| b.0 -= first);
        let mut tmp = vec![0u8; (last - first) * dw * 3];
        for (ty, y) in (first..last).enumerate() {
            let row = &src[y * sw * 3..(y + 1) * sw * 3];
            for (xx, &(xmin, n)) in horiz.bounds.iter().enumerate() {
                let k = &horiz.weights[xx * horiz.ksize..xx * horiz.ksize + n];
                let mut ss = [half; 3];
                for (x, &kx) in k.iter().enumerate() {
                    let p = &row[(xmin + x) * 3..(xmin + x) * 3 + 3];
                    ss.iter_mut().zip(p).for_each(|(s, &v)| *s += i32::from(v) * kx);
                }
                let o = (ty * dw + xx) * 3;
                tmp[o..o + 3].iter_mut().zip(ss).for_each(|(t, s)| *t = clip8(s));
            }
        }
        (std::borrow::Cow::Owned(tmp), dw)
    } else {
        (std::borrow::Cow::Borrowed(&src[..sw * sh * 3]), sw)
    };
    if dh == sh {
        return rows.into_owned();
    }
    // Vertical pass.
    let mut out = vec![0u8; dh * width * 3];
    for (yy, &(ymin, n)) in vert.bounds.iter().enumerate() {
        let k = &vert.weights[yy * vert.ksize..yy * vert.ksize + n];
        for xx in 0..width {
            let mut ss = [half; 3];
            for (y, &ky) in k.iter().enumerate() {
                let i = ((ymin + y) * width + xx) * 3;
                ss.iter_mut().zip(&rows[i..i + 3]).for_each(|(s, &v)| *s += i32::from(v) * ky);
            }
            let o = (yy * width + xx) * 3;
            out[o..o + 3].iter_mut().zip(ss).for_each(|(t, s)| *t = clip8(s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from Pillow 13 (`Image.fromarray(a).resize(size, Image.BILINEAR)`) on
    // numpy `default_rng(3)` random images.
    const A: [u8; 45] = [
        248, 194, 190, 207, 147, 26, 237, 21, 245, 211, 239, 45, 5, 157, 159, 60, 54, 236, 109, 46, 199, 82, 32, 205, 36, 7, 134, 222, 57,
        146, 8, 149, 14, 15, 22, 10, 144, 208, 24, 24, 7, 41, 11, 85, 59,
    ];
    const A_7X4: [u8; 84] = [
        248, 194, 190, 225, 167, 96, 216, 111, 89, 237, 21, 245, 218, 177, 102, 123, 204, 94, 5, 157, 159, 131, 107, 219, 139, 93, 170,
        144, 68, 159, 140, 28, 220, 112, 75, 135, 119, 94, 122, 141, 95, 151, 41, 90, 153, 60, 59, 139, 83, 54, 131, 105, 98, 137, 52, 33,
        110, 79, 33, 105, 143, 68, 113, 8, 149, 14, 12, 76, 12, 52, 75, 14, 144, 208, 24, 58, 64, 36, 18, 40, 49, 11, 85, 59,
    ];
    const B: [u8; 162] = [
        226, 201, 8, 159, 26, 27, 163, 122, 33, 41, 201, 67, 70, 166, 228, 40, 50, 179, 0, 177, 137, 63, 13, 188, 255, 64, 94, 8, 8, 156,
        25, 29, 157, 146, 190, 115, 219, 135, 39, 100, 237, 127, 72, 227, 168, 21, 73, 132, 16, 153, 140, 107, 80, 163, 61, 110, 47, 229,
        148, 170, 97, 110, 56, 150, 74, 193, 62, 44, 238, 239, 226, 188, 14, 205, 185, 193, 73, 238, 205, 244, 160, 110, 68, 201, 79, 104,
        193, 72, 88, 197, 234, 81, 148, 48, 7, 166, 149, 40, 126, 166, 40, 54, 59, 178, 13, 153, 135, 222, 59, 191, 239, 74, 193, 154, 82,
        240, 115, 167, 97, 0, 185, 210, 176, 19, 76, 177, 52, 249, 109, 94, 162, 241, 197, 5, 100, 76, 50, 247, 166, 35, 250, 98, 97, 80,
        103, 193, 8, 11, 61, 45, 71, 228, 29, 90, 164, 169, 9, 61, 205, 149, 231, 18,
    ];
    const B_4X2: [u8; 24] =
        [109, 90, 111, 129, 132, 119, 83, 142, 162, 105, 115, 153, 96, 127, 183, 123, 122, 108, 91, 132, 132, 115, 136, 142];
    const B_9X4: [u8; 108] = [
        144, 129, 64, 109, 27, 76, 157, 148, 64, 108, 176, 57, 81, 193, 190, 52, 116, 175, 8, 138, 135, 45, 66, 170, 200, 70, 120, 49, 71,
        100, 144, 103, 168, 111, 134, 91, 182, 95, 137, 73, 104, 193, 173, 206, 174, 33, 143, 153, 119, 111, 180, 167, 177, 168, 88, 114,
        197, 94, 139, 177, 78, 141, 154, 202, 86, 104, 95, 79, 177, 116, 73, 150, 111, 128, 87, 86, 161, 114, 173, 104, 174, 70, 103, 244,
        132, 94, 214, 92, 151, 93, 127, 157, 5, 76, 117, 94, 52, 171, 85, 76, 196, 147, 41, 99, 219, 167, 146, 49,
    ];

    #[test]
    fn classify_pil_resize_is_bit_exact() {
        assert_eq!(resize_rgb_pil(&A, 5, 3, 7, 4), A_7X4);
        assert_eq!(resize_rgb_pil(&B, 9, 6, 4, 2), B_4X2);
        assert_eq!(resize_rgb_pil(&B, 9, 6, 9, 4), B_9X4);
        assert_eq!(resize_rgb_pil(&B, 9, 6, 9, 6), B);
        assert!(resize_rgb_pil(&B, 9, 6, 0, 6).is_empty());
    }
}
