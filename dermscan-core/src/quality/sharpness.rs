//! Focus measure: the no-reference blur metric of Crété-Roffet et al. ("The blur effect:
//! perception and estimation with a new no-reference perceptual blur metric", SPIE 2007),
//! converted into an equivalent Gaussian blur radius.
//!
//! The metric re-blurs the image with a 9-tap box filter and measures how much of the
//! neighbour-to-neighbour variation that removes: a sharp image loses most of it, an already
//! blurred one hardly any. It is a ratio of sums of grey-level differences, so it does not
//! depend on contrast or exposure (a dark or washed-out photo is not "blurry" because of
//! that), and the strongest edges (lesion border, hairs, skin lines) dominate it, so a smooth
//! lesion interior does not make a sharp photo look blurred.

use image::{GrayImage, ImageBuffer, Luma};
use imageproc::filter::{horizontal_filter, laplacian_filter, vertical_filter};

/// Width of the re-blur filter of the metric (taps).
const REBLUR_TAPS: usize = 9;

/// Largest equivalent blur reported (working pixels).
pub(crate) const MAX_SIGMA: f32 = 12.0;

/// Crété-Roffet blur of a grey image: 0 (sharp) .. 1 (featureless). `None` when the image has
/// no grey-level variation at all.
pub(crate) fn crete_blur(grey: &GrayImage) -> Option<f32> {
    let (w, h) = grey.dimensions();
    if w < 2 || h < 2 {
        return None;
    }
    let f: ImageBuffer<Luma<f32>, Vec<f32>> = ImageBuffer::from_fn(w, h, |x, y| Luma([f32::from(grey.get_pixel(x, y)[0])]));
    let kernel = [1.0 / REBLUR_TAPS as f32; REBLUR_TAPS];
    let b_ver = vertical_filter(&f, &kernel);
    let b_hor = horizontal_filter(&f, &kernel);
    let (mut s_ver, mut v_ver, mut s_hor, mut v_hor) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for y in 0..h {
        for x in 0..w {
            let here = f.get_pixel(x, y)[0];
            if y > 0 {
                let d = (here - f.get_pixel(x, y - 1)[0]).abs();
                let db = (b_ver.get_pixel(x, y)[0] - b_ver.get_pixel(x, y - 1)[0]).abs();
                s_ver += f64::from(d);
                v_ver += f64::from((d - db).max(0.0));
            }
            if x > 0 {
                let d = (here - f.get_pixel(x - 1, y)[0]).abs();
                let db = (b_hor.get_pixel(x, y)[0] - b_hor.get_pixel(x - 1, y)[0]).abs();
                s_hor += f64::from(d);
                v_hor += f64::from((d - db).max(0.0));
            }
        }
    }
    if s_ver <= 0.0 && s_hor <= 0.0 {
        return None;
    }
    let ratio = |s: f64, v: f64| if s > 0.0 { (s - v) / s } else { 0.0 };
    Some(ratio(s_ver, v_ver).max(ratio(s_hor, v_hor)) as f32)
}

/// The metric for an ideal step edge blurred by a Gaussian of `sigma` samples (1-D profile).
fn step_edge_blur(sigma: f32) -> f32 {
    const N: usize = 96;
    let profile: Vec<f32> = (0..N)
        .map(|i| {
            let x = i as f32 - N as f32 / 2.0 + 0.5;
            if sigma <= 0.0 { if x > 0.0 { 1.0 } else { 0.0 } } else { 0.5 * (1.0 + erf(x / (sigma * std::f32::consts::SQRT_2))) }
        })
        .collect();
    let r = (REBLUR_TAPS / 2) as isize;
    let blurred: Vec<f32> = (0..N as isize)
        .map(|i| (-r..=r).map(|o| profile[(i + o).clamp(0, N as isize - 1) as usize]).sum::<f32>() / REBLUR_TAPS as f32)
        .collect();
    let (mut s, mut v) = (0.0, 0.0);
    for i in 1..N {
        let d = (profile[i] - profile[i - 1]).abs();
        let db = (blurred[i] - blurred[i - 1]).abs();
        s += d;
        v += (d - db).max(0.0);
    }
    if s > 0.0 { (s - v) / s } else { 1.0 }
}

/// Abramowitz-Stegun 7.1.26 (error below 1.5e-7).
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0 - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_7) * t - 0.284_496_74) * t + 0.254_829_6) * t * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

/// Converts a Crété-Roffet blur value into the Gaussian sigma (in pixels of the measured
/// image) that gives a step edge the same value. Monotone; 0 for anything at least as sharp
/// as an ideal step, [`MAX_SIGMA`] for anything blurrier.
pub(crate) fn equivalent_sigma(blur: f32) -> f32 {
    const STEP: f32 = 0.25;
    let mut prev = (0.0, step_edge_blur(0.0));
    if blur <= prev.1 {
        return 0.0;
    }
    let mut sigma = STEP;
    while sigma <= MAX_SIGMA {
        let b = step_edge_blur(sigma);
        if blur <= b {
            let t = if b > prev.1 { (blur - prev.1) / (b - prev.1) } else { 1.0 };
            return prev.0 + t * (sigma - prev.0);
        }
        prev = (sigma, b);
        sigma += STEP;
    }
    MAX_SIGMA
}

/// Variance of the 3x3 Laplacian (the classic focus measure of Pech-Pacheco et al. 2000);
/// reported for reference, not used for the decision because it scales with contrast and
/// exposure.
pub(crate) fn laplacian_variance(grey: &GrayImage) -> f32 {
    let (w, h) = grey.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let lap = laplacian_filter(grey);
    // Skip the outer ring, where the filter sees replicated pixels.
    let values: Vec<f64> =
        lap.enumerate_pixels().filter(|(x, y, _)| *x > 0 && *y > 0 && *x + 1 < w && *y + 1 < h).map(|(_, _, p)| f64::from(p[0])).collect();
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_edge_calibration_is_monotone_and_invertible() {
        let mut last = step_edge_blur(0.0);
        for i in 1..40 {
            let b = step_edge_blur(i as f32 * 0.25);
            assert!(b >= last, "not monotone at {i}");
            last = b;
        }
        for sigma in [0.5f32, 1.0, 1.5, 2.5, 4.0] {
            let back = equivalent_sigma(step_edge_blur(sigma));
            assert!((back - sigma).abs() < 0.05, "{sigma} -> {back}");
        }
    }

    #[test]
    fn blurred_edge_image_measures_about_its_sigma() {
        let edge = GrayImage::from_fn(64, 64, |x, _| Luma([if x < 32 { 40 } else { 200 }]));
        let sharp = equivalent_sigma(crete_blur(&edge).unwrap_or(1.0));
        let soft = imageproc::filter::gaussian_blur_f32(&edge, 3.0);
        let blurred = equivalent_sigma(crete_blur(&soft).unwrap_or(0.0));
        assert!(sharp < 0.3, "{sharp}");
        assert!((blurred - 3.0).abs() < 0.6, "{blurred}");
        assert_eq!(crete_blur(&GrayImage::new(8, 8)), None);
        assert_eq!(crete_blur(&GrayImage::new(1, 1)), None);
    }
}
