//! What the quality gate reports: the measured values and the failed checks.

/// A problem with the photo.
///
/// ```
/// use dermscan_core::quality::QualityIssue;
/// assert_eq!(serde_json::to_string(&QualityIssue::LesionCutOff).unwrap(), "\"lesion_cut_off\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum QualityIssue {
    /// The lesion's surroundings are out of focus or motion-blurred.
    Blurry,
    /// The skin is too dark.
    UnderExposed,
    /// Much of the skin is clipped (washed out to white or near it).
    OverExposed,
    /// Specular reflections cover part of the lesion.
    Glare,
    /// The lesion touches the image frame, so part of it is probably outside the photo.
    LesionCutOff,
    /// The lesion covers too few pixels.
    LesionTooSmall,
    /// No lesion mask (or an empty one) was given.
    NoLesionFound,
}

/// One failed check: what was measured, the limit, and what to tell the user.
///
/// ```
/// use dermscan_core::image::Image;
/// use dermscan_core::quality::{assess, QualityConfig, QualityIssue};
/// let img = Image::from_rgb(64, 64, vec![150; 64 * 64 * 3])?;
/// let report = assess(&img, None, &QualityConfig::default());
/// let w = report.warnings.iter().find(|w| w.issue == QualityIssue::NoLesionFound).unwrap();
/// assert!(!w.advice.is_empty());
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QualityWarning {
    /// Which check failed.
    pub issue: QualityIssue,
    /// The measured value (units as in [`QualityReport`]).
    pub measured: f32,
    /// The effective threshold it crossed.
    pub threshold: f32,
    /// What is wrong, with the numbers.
    pub message: String,
    /// How to retake the photo.
    pub advice: String,
}

/// Result of [`assess`](super::assess): the warnings plus every measured value (0 where not measurable).
///
/// ```
/// use dermscan_core::image::Image;
/// use dermscan_core::quality::{assess, QualityConfig};
/// use dermscan_core::segment::Mask;
/// // Skin with a dark 60x60 square lesion; sharp edges, good exposure.
/// let (w, h) = (160u32, 120u32);
/// let inside = |i: u32| (50..110).contains(&(i % w)) && (30..90).contains(&(i / w));
/// let rgb: Vec<u8> = (0..w * h).flat_map(|i| if inside(i) { [90, 60, 40] } else { [220, 180, 160] }).collect();
/// let mask = Mask::from_pixels(w, h, (0..w * h).map(|i| u8::from(inside(i))).collect()).unwrap();
/// let report = assess(&Image::from_rgb(w, h, rgb)?, Some(&mask), &QualityConfig::default());
/// assert!(report.is_acceptable(), "{:?}", report.warnings);
/// assert!(report.lesion_diameter_px > 60.0);
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QualityReport {
    /// Failed checks, in the order of [`QualityIssue`].
    pub warnings: Vec<QualityWarning>,
    /// 1 minus the Crété-Roffet blur metric around the lesion (or the frame's centre without
    /// one): 0 featureless .. about 0.9 an ideal step edge.
    pub sharpness: f32,
    /// `sharpness` as the Gaussian sigma (working pixels) that blurs a step edge as much.
    pub blur_sigma_px: f32,
    /// Variance of the 3x3 Laplacian over the same region (grey levels², for reference only:
    /// it scales with contrast and exposure).
    pub laplacian_variance: f32,
    /// Median of the central skin's brightest channel, 0–255.
    pub brightness: f32,
    /// Share of central skin pixels with two or more channels at 250 or more.
    pub clipped_fraction: f32,
    /// Share of specular pixels over the lesion's neighbourhood (the frame's centre without a lesion).
    pub glare_fraction: f32,
    /// Share of the lesion outline on the image frame.
    pub border_contact: f32,
    /// Lesion area in image pixels.
    pub lesion_area_px: f32,
    /// Equivalent-disc diameter of the lesion in image pixels.
    pub lesion_diameter_px: f32,
}

impl QualityReport {
    /// True when no check failed.
    ///
    /// ```
    /// use dermscan_core::image::Image;
    /// use dermscan_core::quality::{assess, QualityConfig};
    /// let img = Image::from_rgb(1, 1, vec![0, 0, 0])?;
    /// assert!(!assess(&img, None, &QualityConfig::default()).is_acceptable());
    /// # Ok::<(), dermscan_core::error::ImageError>(())
    /// ```
    pub fn is_acceptable(&self) -> bool {
        self.warnings.is_empty()
    }

    /// True when `issue` is among the warnings.
    ///
    /// ```
    /// use dermscan_core::image::Image;
    /// use dermscan_core::quality::{assess, QualityConfig, QualityIssue};
    /// let img = Image::from_rgb(8, 8, vec![20; 8 * 8 * 3])?;
    /// assert!(assess(&img, None, &QualityConfig::default()).has(QualityIssue::UnderExposed));
    /// # Ok::<(), dermscan_core::error::ImageError>(())
    /// ```
    pub fn has(&self, issue: QualityIssue) -> bool {
        self.warnings.iter().any(|w| w.issue == issue)
    }
}
