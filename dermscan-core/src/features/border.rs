//! B: the border, in eight pie segments (Stolz et al. 1994: "abrupt cut-off of the pigment
//! pattern at the periphery" in 0-8 eighths).
//!
//! The outer contour is split into eight 45° sectors around the centroid, starting at the
//! major axis (so the split turns with the lesion). An eighth counts when either
//!
//! * its **edge is abrupt**: the CIE L* profiles across the border (along the outward normal,
//!   6 px in, 7 px out) are averaged over the eighth; with the lesion and skin levels taken
//!   from the ends of the profile, the distance between 10 % and 90 % of the lesion-to-skin
//!   step is at most [`super::FeatureConfig::border_abrupt_width_px`] (and the contrast is at
//!   least [`super::FeatureConfig::border_min_contrast`]); or
//! * its **outline is irregular**: after light smoothing (Gaussian, sigma 1 contour point,
//!   against pixel staircase), the mean radial distance from the lesion's own second-moment
//!   ellipse exceeds [`super::FeatureConfig::border_shape_threshold`] of the ellipse radius
//!   (and half a pixel). An oval with a smooth outline scores about 0; lobes, notches and
//!   protrusions score.
//!
//! The edge test follows the published criterion (sharpness of the pigment edge); the shape
//! test carries what a mask alone can show, so B stays meaningful for soft-edged photos.

use super::{FeatureConfig, Lesion, measure};

/// The numbers behind B, per eighth (0 starts at the major axis and turns clockwise on screen).
///
/// ```
/// use dermscan_core::features::{analyse, FeatureConfig};
/// use dermscan_core::{Image, Mask};
/// // A sharp-edged dark square on light skin: abrupt edges all round.
/// let inside = |i: usize| (8..24).contains(&(i % 32)) && (8..24).contains(&(i / 32));
/// let mask: Vec<u8> = (0..1024).map(|i| u8::from(inside(i))).collect();
/// let rgb: Vec<u8> = (0..1024).flat_map(|i| if inside(i) { [60, 40, 30] } else { [220, 190, 170] }).collect();
/// let f = analyse(&Image::from_rgb(32, 32, rgb)?, &Mask::from_pixels(32, 32, mask).expect("1024 pixels"), &FeatureConfig::default())?;
/// assert_eq!(f.abcd.b, 8);
/// assert!(f.abcd.border.edge_width_px.iter().all(|w| w.is_some_and(|w| w <= 1.5)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BorderDetail {
    /// Mean |radius - ellipse radius| / ellipse radius per eighth (0 when the eighth has no
    /// contour point).
    pub shape_deviation: [f64; 8],
    /// 10-90 % width in px of the averaged lesion-to-skin transition per eighth; `None` when
    /// the contrast is too low to measure or the eighth has no contour point.
    pub edge_width_px: [Option<f64>; 8],
    /// Lesion-to-skin lightness step (ΔL*) per eighth.
    pub contrast: [f64; 8],
}

pub(crate) struct BorderScore {
    pub(crate) b: u8,
    pub(crate) octants: [bool; 8],
    pub(crate) detail: BorderDetail,
}

const PROFILE_IN: f64 = 6.0;
const PROFILE_OUT: f64 = 7.0;
const PROFILE_STEP: f64 = 0.5;

fn smooth(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let n = points.len() as isize;
    let weights: Vec<f64> = (-3..=3).map(|k: i32| (-(f64::from(k * k)) / 2.0).exp()).collect();
    let total: f64 = weights.iter().sum();
    (0..n)
        .map(|i| {
            let mut acc = [0.0; 2];
            for (k, w) in (-3..=3).zip(&weights) {
                let p = points[(i + k).rem_euclid(n) as usize];
                acc[0] += w * p[0];
                acc[1] += w * p[1];
            }
            [acc[0] / total, acc[1] / total]
        })
        .collect()
}

pub(crate) fn score(lesion: &Lesion, config: &FeatureConfig) -> BorderScore {
    let mut detail = BorderDetail { shape_deviation: [0.0; 8], edge_width_px: [None; 8], contrast: [0.0; 8] };
    if lesion.contour.len() < 8 {
        return BorderScore { b: 0, octants: [false; 8], detail };
    }
    let pts = smooth(&lesion.contour);
    let n = pts.len();
    let (l1, l2, theta) = measure::eigen(lesion.cov);
    let (a, b) = (2.0 * l1.sqrt(), 2.0 * l2.sqrt());
    let c = lesion.centroid;
    let signed_area: f64 = (0..n).map(|i| pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1]).sum();
    let samples = ((PROFILE_IN + PROFILE_OUT) / PROFILE_STEP) as usize + 1;

    let mut dev_sum = [0.0f64; 8];
    let mut dev_px_sum = [0.0f64; 8];
    let mut count = [0.0f64; 8];
    let mut profiles = vec![[0.0f64; 8]; samples];
    for i in 0..n {
        let p = pts[i];
        let (dx, dy) = (p[0] - c[0], p[1] - c[1]);
        let rho = dx.hypot(dy);
        let phi = (dy.atan2(dx) - theta).rem_euclid(std::f64::consts::TAU);
        let octant = ((phi / std::f64::consts::FRAC_PI_4) as usize).min(7);
        let r_e = if a > 0.0 && b > 0.0 { a * b / ((b * phi.cos()).powi(2) + (a * phi.sin()).powi(2)).sqrt() } else { rho };
        count[octant] += 1.0;
        if r_e > 0.0 {
            dev_sum[octant] += (rho - r_e).abs() / r_e;
            dev_px_sum[octant] += (rho - r_e).abs();
        }
        // Outward normal from the tangent and the winding direction.
        let (prev, next) = (pts[(i + n - 2) % n], pts[(i + 2) % n]);
        let (tx, ty) = (next[0] - prev[0], next[1] - prev[1]);
        let len = tx.hypot(ty);
        let normal = if len > 0.0 {
            if signed_area > 0.0 { [ty / len, -tx / len] } else { [-ty / len, tx / len] }
        } else if rho > 0.0 {
            [dx / rho, dy / rho]
        } else {
            [1.0, 0.0]
        };
        for (s, profile) in profiles.iter_mut().enumerate() {
            let t = -PROFILE_IN + s as f64 * PROFILE_STEP;
            profile[octant] += f64::from(lesion.lab_at(p[0] + t * normal[0], p[1] + t * normal[1])[0]);
        }
    }

    let mut octants = [false; 8];
    for k in 0..8 {
        if count[k] == 0.0 {
            continue;
        }
        let dev = dev_sum[k] / count[k];
        let dev_px = dev_px_sum[k] / count[k];
        detail.shape_deviation[k] = dev;
        let irregular = dev > config.border_shape_threshold && dev_px > 0.5;

        let profile: Vec<f64> = profiles.iter().map(|p| p[k] / count[k]).collect();
        let ends = 6.min(samples / 2);
        let inner = profile[..ends].iter().sum::<f64>() / ends as f64;
        let outer = profile[samples - ends..].iter().sum::<f64>() / ends as f64;
        let contrast = outer - inner;
        detail.contrast[k] = contrast;
        let mut abrupt = false;
        if contrast.abs() >= config.border_min_contrast {
            let s: Vec<f64> = profile.iter().map(|v| (v - inner) / contrast).collect();
            let width = transition_width(&s);
            detail.edge_width_px[k] = width;
            abrupt = width.is_some_and(|w| w <= config.border_abrupt_width_px);
        }
        octants[k] = irregular || abrupt;
    }
    BorderScore { b: octants.iter().filter(|&&o| o).count() as u8, octants, detail }
}

/// Distance in px between the last upward crossings of 0.1 and 0.9 of a normalised
/// profile sampled every `PROFILE_STEP` px (linear interpolation); `None` if it never rises.
fn transition_width(s: &[f64]) -> Option<f64> {
    let crossing = |level: f64| -> Option<f64> {
        (1..s.len()).rev().find(|&i| s[i - 1] < level && s[i] >= level).map(|i| {
            let f = (level - s[i - 1]) / (s[i] - s[i - 1]);
            (i as f64 - 1.0 + f) * PROFILE_STEP
        })
    };
    let hi = crossing(0.9)?;
    // The 10 % crossing that belongs to this rise: the last one before the 90 % crossing.
    let lo = (1..s.len())
        .rev()
        .filter(|&i| (i as f64) * PROFILE_STEP <= hi + PROFILE_STEP)
        .find(|&i| s[i - 1] < 0.1 && s[i] >= 0.1)
        .map(|i| (i as f64 - 1.0 + (0.1 - s[i - 1]) / (s[i] - s[i - 1])) * PROFILE_STEP)?;
    (hi >= lo).then_some(hi - lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_transition_width_of_ramp_and_step() {
        let step: Vec<f64> = (0..27).map(|i| if i < 13 { 0.0 } else { 1.0 }).collect();
        let w = transition_width(&step).unwrap_or(f64::NAN);
        assert!(w <= 0.5, "{w}");
        // A linear ramp over 4 px (8 samples): 10-90 % is 3.2 px.
        let ramp: Vec<f64> = (0..27).map(|i| ((i as f64 - 9.0) / 8.0).clamp(0.0, 1.0)).collect();
        let w = transition_width(&ramp).unwrap_or(f64::NAN);
        assert!((w - 3.2).abs() < 1e-9, "{w}");
        assert_eq!(transition_width(&[0.0; 27]), None);
    }
}
