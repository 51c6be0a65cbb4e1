//! Settings of the quality gate: the thresholds and how strict they are.

/// How demanding the gate is. Each threshold of [`QualityConfig`] is the `Normal` value;
/// `Lenient` tolerates 1.5 times as much of each defect, `Strict` 0.75 times as much
/// (limits on a minimum, like brightness or lesion size, are divided by the same factor).
///
/// ```
/// use dermscan_core::quality::Strictness;
/// assert_eq!(Strictness::default(), Strictness::Normal);
/// assert!(Strictness::Lenient.tolerance() > Strictness::Strict.tolerance());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Strictness {
    /// Accept more (e.g. a quick first look).
    Lenient,
    /// The documented thresholds.
    #[default]
    Normal,
    /// Accept less (e.g. photos kept for follow-up comparison).
    Strict,
}

impl Strictness {
    /// Factor applied to the tolerated amount of each defect: 1.5, 1.0 or 0.75.
    ///
    /// ```
    /// use dermscan_core::quality::Strictness;
    /// assert_eq!(Strictness::Normal.tolerance(), 1.0);
    /// ```
    pub fn tolerance(self) -> f32 {
        match self {
            Strictness::Lenient => 1.5,
            Strictness::Normal => 1.0,
            Strictness::Strict => 0.75,
        }
    }
}

/// Settings of the quality gate. The threshold fields hold the `Normal` values; the effective
/// thresholds are these scaled by [`QualityConfig::strictness`] (see [`Strictness`]).
///
/// ```
/// use dermscan_core::quality::{QualityConfig, Strictness};
/// let cfg = QualityConfig::strict();
/// assert_eq!(cfg.strictness, Strictness::Strict);
/// assert_eq!(cfg.min_lesion_diameter_px, QualityConfig::default().min_lesion_diameter_px);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct QualityConfig {
    /// Scales every threshold below.
    pub strictness: Strictness,
    /// Longest side of the working copy in pixels (blur is measured at this scale). Default 512.
    pub work_size: u32,
    /// Largest equivalent Gaussian blur (sigma, working pixels) of the lesion's surroundings.
    /// Default 1.5: at 512 px across a dermoscopic field of about 20 mm, softer edges wash out
    /// pigment network meshes (0.2–0.4 mm, 5–10 px).
    pub max_blur_sigma_px: f32,
    /// Smallest median of the skin's brightest channel (0–255). Default 70, about 1.4 stops
    /// below an 18 % grey exposure; darker skin loses lesion detail in sensor noise and JPEG
    /// quantisation. Uses the brightest channel, not luma, so naturally dark skin (Fitzpatrick
    /// VI, about 80) passes.
    pub min_brightness: f32,
    /// Largest share of central skin pixels with two or more clipped channels (≥ 250), whose
    /// colour is lost. Default 0.25. One clipped channel is common on pale skin (red near full
    /// scale) and is not counted.
    pub max_clipped_fraction: f32,
    /// Largest share of specular (glare) pixels over the lesion's neighbourhood. Default 0.05.
    pub max_glare_fraction: f32,
    /// Largest share of the lesion's outline lying on the image frame. Default 0.02: a
    /// lesion touching the frame over more than a few pixels is probably cut off.
    pub max_border_contact: f32,
    /// Smallest equivalent-disc diameter of the lesion in image pixels. Default 40: below
    /// that, border and colour structure are a handful of pixels.
    pub min_lesion_diameter_px: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            strictness: Strictness::Normal,
            work_size: 512,
            max_blur_sigma_px: 1.5,
            min_brightness: 70.0,
            max_clipped_fraction: 0.25,
            max_glare_fraction: 0.05,
            max_border_contact: 0.02,
            min_lesion_diameter_px: 40.0,
        }
    }
}

impl QualityConfig {
    /// Default thresholds with [`Strictness::Lenient`].
    ///
    /// ```
    /// use dermscan_core::quality::{QualityConfig, Strictness};
    /// assert_eq!(QualityConfig::lenient().strictness, Strictness::Lenient);
    /// ```
    pub fn lenient() -> Self {
        Self { strictness: Strictness::Lenient, ..Self::default() }
    }

    /// Default thresholds with [`Strictness::Strict`].
    ///
    /// ```
    /// use dermscan_core::quality::{QualityConfig, Strictness};
    /// assert_eq!(QualityConfig::strict().strictness, Strictness::Strict);
    /// ```
    pub fn strict() -> Self {
        Self { strictness: Strictness::Strict, ..Self::default() }
    }

    /// The same thresholds with another strictness.
    ///
    /// ```
    /// use dermscan_core::quality::{QualityConfig, Strictness};
    /// assert_eq!(QualityConfig::default().with_strictness(Strictness::Strict), QualityConfig::strict());
    /// ```
    pub fn with_strictness(mut self, strictness: Strictness) -> Self {
        self.strictness = strictness;
        self
    }

    /// The thresholds scaled by [`QualityConfig::strictness`].
    pub(super) fn effective(&self) -> Thresholds {
        let k = self.strictness.tolerance();
        Thresholds {
            max_blur_sigma_px: self.max_blur_sigma_px * k,
            min_brightness: self.min_brightness / k,
            max_clipped_fraction: self.max_clipped_fraction * k,
            max_glare_fraction: self.max_glare_fraction * k,
            max_border_contact: self.max_border_contact * k,
            min_lesion_diameter_px: self.min_lesion_diameter_px / k,
        }
    }
}

/// The effective thresholds: [`QualityConfig`]'s values scaled by its strictness.
pub(super) struct Thresholds {
    pub(super) max_blur_sigma_px: f32,
    pub(super) min_brightness: f32,
    pub(super) max_clipped_fraction: f32,
    pub(super) max_glare_fraction: f32,
    pub(super) max_border_contact: f32,
    pub(super) min_lesion_diameter_px: f32,
}
