//! C: the six dermoscopic colours of Stolz's rule (white, red, light brown, dark brown,
//! blue-grey, black).
//!
//! Each lesion pixel is converted from sRGB (D65) to CIELAB and given the Stolz colour whose
//! reference is nearest in ΔE*ab (Euclidean CIELAB distance, approximately perceptually
//! uniform). The reference colours are the RGB values of the six-colour palette of Seidenari,
//! Pellacani & Grana (Br J Dermatol 2003;149:523) as tabulated by Celebi & Zornberg
//! ("Automated quantification of clinically significant colors in dermoscopy images and its
//! application to skin lesion classification", IEEE Syst J 2014;8:980).
//!
//! Skin tone: the lesion is compared with the median colour of a ring of skin around it. The
//! published references were taken on light skin; on darker skin the whole lesion is darker
//! too, so before classification each pixel's lightness is mapped onto the reference skin's
//! scale (see [`StolzColour`] and `adapt`) — a partial, documented correction in the spirit of
//! the "relative colour" of Stanley et al. (Skin Res Technol 2007;13:62).
//!
//! A colour counts for C when it covers at least [`super::FeatureConfig::colour_min_fraction`]
//! (5 %) of the lesion; C is at least 1.

use imageproc::distance_transform::{Norm, distance_transform};

use super::{FeatureConfig, Lesion};
use crate::segment::Mask;

/// One of the six colours of the dermoscopy ABCD rule.
///
/// ```
/// use dermscan_core::features::StolzColour;
/// assert_eq!(StolzColour::ALL.len(), 6);
/// assert_eq!(StolzColour::Black.display_rgb(), [41, 31, 30]);
/// assert_eq!(serde_json::to_string(&StolzColour::BlueGrey).unwrap(), "\"blue_grey\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum StolzColour {
    /// White (regression, scarring).
    White,
    /// Red (vessels, inflammation).
    Red,
    /// Light brown (melanin at the dermo-epidermal junction, less dense).
    LightBrown,
    /// Dark brown (dense junctional melanin).
    DarkBrown,
    /// Blue-grey (melanin in the dermis).
    BlueGrey,
    /// Black (melanin in the upper epidermis or stratum corneum).
    Black,
}

impl StolzColour {
    /// All six colours, in the order used by [`super::Abcd::colour_fractions`].
    pub const ALL: [StolzColour; 6] = [Self::White, Self::Red, Self::LightBrown, Self::DarkBrown, Self::BlueGrey, Self::Black];

    /// The reference sRGB colour (Seidenari et al. 2003, via Celebi & Zornberg 2014), also
    /// used to draw colour maps.
    ///
    /// ```
    /// use dermscan_core::features::StolzColour;
    /// assert_eq!(StolzColour::Red.display_rgb(), [118, 21, 17]);
    /// ```
    pub fn display_rgb(self) -> [u8; 3] {
        match self {
            Self::White => [197, 188, 217],
            Self::Red => [118, 21, 17],
            Self::LightBrown => [163, 82, 16],
            Self::DarkBrown => [135, 44, 5],
            Self::BlueGrey => [0, 134, 139],
            Self::Black => [41, 31, 30],
        }
    }

    /// Index in [`StolzColour::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

pub(crate) use crate::lab::image_to_lab;
pub use crate::lab::srgb_to_lab;

/// Median CIELAB of the skin in a ring around the lesion: pixels 3 px to `3 + w` px away from
/// it, `w` a quarter of the lesion's equivalent radius (4..=30 px). `None` if no skin is left.
pub(crate) fn skin_reference(lesion: &Lesion, mask: &Mask) -> Option<[f32; 3]> {
    let gray = ::image::GrayImage::from_raw(mask.width(), mask.height(), mask.pixels().to_vec())?;
    let dist = distance_transform(&gray, Norm::LInf);
    let outer = 3 + (lesion.radius() * 0.25).round().clamp(4.0, 30.0) as u8;
    let mut channels: [Vec<f32>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (d, lab) in dist.as_raw().iter().zip(&lesion.lab) {
        if (3..=outer).contains(d) {
            for k in 0..3 {
                channels[k].push(lab[k]);
            }
        }
    }
    if channels[0].is_empty() {
        return None;
    }
    let median = |v: &mut Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let [l, a, b] = &mut channels;
    Some([median(l), median(a), median(b)])
}

/// Reference skin lightness of the palette (light skin under a dermoscope, L* of sRGB
/// (228, 190, 165), Fitzpatrick II).
const REFERENCE_SKIN_L: f32 = 80.0;

/// Maps a pixel's lightness from the skin it sits on to the reference skin: L' = L * (Lref /
/// Lskin)^0.5, i.e. half of a full von Kries-style lightness normalisation (a full one would
/// turn the brown of a naevus on dark skin into skin colour; none would call it black).
fn adapt(lab: [f32; 3], skin: Option<[f32; 3]>) -> [f32; 3] {
    let Some(skin) = skin else { return lab };
    let gain = (REFERENCE_SKIN_L / skin[0].clamp(15.0, 100.0)).sqrt();
    [(lab[0] * gain).min(100.0), lab[1], lab[2]]
}

/// Per-pixel Stolz colour of the lesion (None outside).
pub(crate) fn classify(lesion: &Lesion) -> Vec<Option<StolzColour>> {
    let refs: Vec<[f32; 3]> = StolzColour::ALL.iter().map(|c| srgb_to_lab(c.display_rgb())).collect();
    lesion
        .inside
        .iter()
        .zip(&lesion.lab)
        .map(|(&inside, &lab)| {
            if !inside {
                return None;
            }
            let p = adapt(lab, lesion.skin);
            StolzColour::ALL
                .iter()
                .zip(&refs)
                .map(|(c, r)| (*c, (p[0] - r[0]).powi(2) + (p[1] - r[1]).powi(2) + (p[2] - r[2]).powi(2)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(c, _)| c)
        })
        .collect()
}

/// The C criterion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColourScore {
    /// Fraction of the lesion per colour, in [`StolzColour::ALL`] order.
    pub(crate) fractions: [f64; 6],
    /// Colours covering at least the configured fraction.
    pub(crate) present: Vec<StolzColour>,
    /// Number of present colours, at least 1.
    pub(crate) c: u8,
}

/// Fractions of each colour among `labels` (over all lesion pixels).
pub(crate) fn fractions(labels: &[Option<StolzColour>], area: f64) -> [f64; 6] {
    let mut counts = [0.0f64; 6];
    for c in labels.iter().flatten() {
        counts[c.index()] += 1.0;
    }
    counts.map(|n| n / area.max(1.0))
}

pub(crate) fn score(lesion: &Lesion, labels: &[Option<StolzColour>], config: &FeatureConfig) -> ColourScore {
    let fractions = fractions(labels, lesion.area);
    let present: Vec<StolzColour> =
        StolzColour::ALL.iter().copied().filter(|c| fractions[c.index()] >= config.colour_min_fraction).collect();
    let c = present.len().clamp(1, 6) as u8;
    ColourScore { fractions, present, c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_lab_reference_values() {
        let black = srgb_to_lab([0, 0, 0]);
        assert!(black.iter().all(|v| v.abs() < 1e-3));
        // sRGB red: L 53.24, a 80.09, b 67.20.
        let red = srgb_to_lab([255, 0, 0]);
        assert!((red[0] - 53.24).abs() < 0.05 && (red[1] - 80.09).abs() < 0.1 && (red[2] - 67.20).abs() < 0.1, "{red:?}");
    }

    #[test]
    fn features_references_classify_as_themselves() {
        for c in StolzColour::ALL {
            let lab = srgb_to_lab(c.display_rgb());
            let refs: Vec<[f32; 3]> = StolzColour::ALL.iter().map(|c| srgb_to_lab(c.display_rgb())).collect();
            let nearest = (0..6).min_by(|&i, &j| {
                let d = |r: [f32; 3]| (0..3).map(|k| (lab[k] - r[k]).powi(2)).sum::<f32>();
                d(refs[i]).total_cmp(&d(refs[j]))
            });
            assert_eq!(nearest, Some(c.index()));
        }
    }
}
