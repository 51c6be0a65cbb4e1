//! A: asymmetry about two perpendicular axes (Stolz et al. 1994: "asymmetry in contour,
//! colours and structures" along 0, 1 or 2 axes).
//!
//! The axes are the lesion's principal axes through its centroid (the orientation that
//! minimises the shape score for most lesions, as in automated ABCD work). For each axis:
//!
//! * **shape**: every lesion pixel is mirrored about the axis; the share of pixels whose mirror
//!   falls outside the lesion, doubled, is the XOR (non-overlapping) area over the lesion
//!   area. Asymmetric when above [`super::FeatureConfig::asymmetry_shape_threshold`].
//! * **colour**: the Stolz-colour histograms of the two halves are compared by total
//!   variation distance (half the L1 distance of the fractions). Asymmetric when above
//!   [`super::FeatureConfig::asymmetry_colour_threshold`].
//!
//! An axis counts when either test fires; A is the number of such axes (0-2).

use super::colour::StolzColour;
use super::{FeatureConfig, Lesion};

/// The numbers behind A, per axis (index 0: folded about the major axis, 1: about the minor).
///
/// ```
/// use dermscan_core::features::{analyse, FeatureConfig};
/// use dermscan_core::{Image, Mask};
/// // An L-shaped lesion is asymmetric in shape.
/// let mask: Vec<u8> = (0..400).map(|i| { let (x, y) = (i % 20, i / 20); u8::from((4..16).contains(&x) && (4..8).contains(&y) || (4..8).contains(&x) && (4..16).contains(&y)) }).collect();
/// let mask = Mask::from_pixels(20, 20, mask).expect("400 pixels");
/// let image = Image::from_rgb(20, 20, vec![100; 1200])?;
/// let f = analyse(&image, &mask, &FeatureConfig::default())?;
/// assert!(f.abcd.asymmetry.shape[0] > 0.1 || f.abcd.asymmetry.shape[1] > 0.1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AsymmetryDetail {
    /// XOR area / lesion area after mirroring about each axis.
    pub shape: [f64; 2],
    /// Total-variation distance between the Stolz-colour histograms of the two halves.
    pub colour: [f64; 2],
}

pub(crate) struct AsymmetryScore {
    pub(crate) a: u8,
    pub(crate) axes: [bool; 2],
    pub(crate) detail: AsymmetryDetail,
}

pub(crate) fn score(lesion: &Lesion, labels: &[Option<StolzColour>], config: &FeatureConfig) -> AsymmetryScore {
    let theta = lesion.orientation();
    let dirs = [[theta.cos(), theta.sin()], [-theta.sin(), theta.cos()]];
    let mut shape = [0.0; 2];
    let mut colour = [0.0; 2];
    let c = lesion.centroid;
    for (k, u) in dirs.iter().enumerate() {
        let mut outside = 0.0f64;
        let mut halves = [[0.0f64; 6]; 2];
        let mut half_n = [0.0f64; 2];
        for (i, _) in lesion.inside.iter().enumerate().filter(|(_, v)| **v) {
            let p = [(i % lesion.width) as f64 + 0.5 - c[0], (i / lesion.width) as f64 + 0.5 - c[1]];
            let along = p[0] * u[0] + p[1] * u[1];
            let q = [c[0] + 2.0 * along * u[0] - p[0], c[1] + 2.0 * along * u[1] - p[1]];
            if !lesion.contains(q[0], q[1]) {
                outside += 1.0;
            }
            let side = usize::from(p[0] * u[1] - p[1] * u[0] > 0.0);
            half_n[side] += 1.0;
            if let Some(Some(col)) = labels.get(i) {
                halves[side][col.index()] += 1.0;
            }
        }
        shape[k] = (2.0 * outside / lesion.area).min(2.0);
        colour[k] = if half_n[0] > 0.0 && half_n[1] > 0.0 {
            0.5 * (0..6).map(|j| (halves[0][j] / half_n[0] - halves[1][j] / half_n[1]).abs()).sum::<f64>()
        } else {
            0.0
        };
    }
    let axes = [0, 1].map(|k| shape[k] > config.asymmetry_shape_threshold || colour[k] > config.asymmetry_colour_threshold);
    AsymmetryScore { a: axes.iter().filter(|&&b| b).count() as u8, axes, detail: AsymmetryDetail { shape, colour } }
}
