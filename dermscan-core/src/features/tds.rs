//! The total dermoscopy score (TDS) of the ABCD rule (Stolz et al., Eur J Dermatol 1994;4:521;
//! Nachbar et al., J Am Acad Dermatol 1994;30:551): TDS = 1.3 A + 0.1 B + 0.5 C + 0.5 D, with
//! TDS < 4.75 benign, 4.75-5.45 suspicious, > 5.45 highly suspicious of melanoma.
//!
//! Here the TDS is a **proxy**: A, B and C are measured from pixels and D is a pixel-level
//! stand-in ([`super::structures`]), not an observer's reading. Present it as a screening aid,
//! never as a diagnosis.

use super::asymmetry::{AsymmetryDetail, AsymmetryScore};
use super::border::{BorderDetail, BorderScore};
use super::colour::{ColourScore, StolzColour};
use super::structures::StructureIndicators;

/// The band of a TDS value (Nachbar et al. 1994): below 4.75 benign, 4.75 to 5.45 suspicious,
/// above 5.45 highly suspicious. For the TDS **proxy** these are indications only.
///
/// ```
/// use dermscan_core::features::TdsBand;
/// assert_eq!(TdsBand::from_tds(4.74), TdsBand::Benign);
/// assert_eq!(TdsBand::from_tds(4.75), TdsBand::Suspicious);
/// assert_eq!(TdsBand::from_tds(5.45), TdsBand::Suspicious);
/// assert_eq!(TdsBand::from_tds(5.46), TdsBand::HighlySuspicious);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum TdsBand {
    /// TDS < 4.75.
    Benign,
    /// 4.75 <= TDS <= 5.45.
    Suspicious,
    /// TDS > 5.45.
    HighlySuspicious,
}

impl TdsBand {
    /// The band of a TDS value (NaN counts as benign-side unknown and maps to `Benign`).
    pub fn from_tds(tds: f64) -> Self {
        if tds > 5.45 {
            Self::HighlySuspicious
        } else if tds >= 4.75 {
            Self::Suspicious
        } else {
            Self::Benign
        }
    }
}

/// The TDS **proxy** from its four parts: 1.3 A + 0.1 B + 0.5 C + 0.5 D.
///
/// ```
/// use dermscan_core::features::tds::tds;
/// assert!((tds(2, 8, 6, 5) - 8.9).abs() < 1e-9);
/// assert!((tds(0, 0, 1, 1) - 1.0).abs() < 1e-9);
/// ```
pub fn tds(a: u8, b: u8, c: u8, d: u8) -> f64 {
    1.3 * f64::from(a) + 0.1 * f64::from(b) + 0.5 * f64::from(c) + 0.5 * f64::from(d)
}

/// The ABCD rule of dermoscopy on one lesion. The TDS and band are a **proxy** (see the
/// module docs); the per-criterion details say why each score was given.
///
/// ```
/// use dermscan_core::features::{analyse, FeatureConfig, TdsBand};
/// use dermscan_core::{Image, Mask};
/// let mask = Mask::from_pixels(16, 16, (0..256).map(|i| u8::from((4..12).contains(&(i % 16)) && (4..12).contains(&(i / 16)))).collect()).expect("256 pixels");
/// let image = Image::from_rgb(16, 16, (0..256).flat_map(|i| if mask.pixels()[i] > 0 { [150, 100, 70] } else { [230, 200, 180] }).collect())?;
/// let abcd = analyse(&image, &mask, &FeatureConfig::default())?.abcd;
/// assert!(abcd.a <= 2 && abcd.b <= 8 && (1..=6).contains(&abcd.c) && (1..=5).contains(&abcd.d_proxy));
/// assert_eq!(abcd.band, TdsBand::from_tds(abcd.tds));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Abcd {
    /// Asymmetry, 0-2 axes.
    pub a: u8,
    /// Border, 0-8 eighths.
    pub b: u8,
    /// Colours, 1-6.
    pub c: u8,
    /// Differential structures **proxy**, 1-5.
    pub d_proxy: u8,
    /// TDS **proxy** = 1.3 A + 0.1 B + 0.5 C + 0.5 D.
    pub tds: f64,
    /// Band of the TDS proxy.
    pub band: TdsBand,
    /// The colours counted in C.
    pub colours: Vec<StolzColour>,
    /// Share of the lesion per colour, in [`StolzColour::ALL`] order.
    pub colour_fractions: [f64; 6],
    /// Whether the lesion is asymmetric about its major (0) and minor (1) axis.
    pub asymmetric_axes: [bool; 2],
    /// Whether each eighth of the border counts for B (0 starts at the major axis).
    pub abrupt_octants: [bool; 8],
    /// Numbers behind A.
    pub asymmetry: AsymmetryDetail,
    /// Numbers behind B.
    pub border: BorderDetail,
    /// Indicators behind the D proxy.
    pub structures: StructureIndicators,
}

impl Abcd {
    pub(crate) fn new(asym: AsymmetryScore, border: BorderScore, colour: ColourScore, structures: StructureIndicators) -> Self {
        let d_proxy = structures.count().clamp(1, 5);
        let (a, b, c) = (asym.a.min(2), border.b.min(8), colour.c.clamp(1, 6));
        let tds = tds(a, b, c, d_proxy);
        Self {
            a,
            b,
            c,
            d_proxy,
            tds,
            band: TdsBand::from_tds(tds),
            colours: colour.present,
            colour_fractions: colour.fractions,
            asymmetric_axes: asym.axes,
            abrupt_octants: border.octants,
            asymmetry: asym.detail,
            border: border.detail,
            structures,
        }
    }
}
