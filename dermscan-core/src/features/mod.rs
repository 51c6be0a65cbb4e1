//! Lesion measurements and the dermoscopy ABCD rule (Stolz et al. 1994), computed from a photo
//! and its lesion mask.
//!
//! [`analyse`] returns [`Features`]: size and shape [`Measurements`] (in pixels, and in
//! millimetres when [`FeatureConfig::mm_per_px`] is given), the [`PrincipalAxes`] for drawing,
//! and an [`Abcd`] score:
//!
//! | criterion | range | how it is measured here | module |
//! |---|---|---|---|
//! | A asymmetry | 0-2 | shape and colour mismatch about the two principal axes | [`asymmetry`] |
//! | B border | 0-8 | eighths of the border that end abruptly or are irregular | [`border`] |
//! | C colours | 1-6 | Stolz colours covering at least 5 % of the lesion | [`colour`] |
//! | D structures | 1-5 | a pixel-level **proxy** for the five differential structures | [`structures`] |
//!
//! The total dermoscopy score TDS = 1.3 A + 0.1 B + 0.5 C + 0.5 D ([`tds`]) is a **proxy**: the
//! published rule is applied by a trained observer, and D in particular cannot be read reliably
//! from pixels. It is a screening aid, not a diagnosis ([`crate::NOT_A_DIAGNOSIS`]).
//!
//! Coordinates are image pixel coordinates: pixel `(i, j)` covers `[i, i+1) x [j, j+1)`, so
//! its centre is `(i + 0.5, j + 0.5)`; y points down and angles turn clockwise on screen.
//!
//! ```
//! use dermscan_core::features::{analyse, FeatureConfig};
//! use dermscan_core::{Image, Mask};
//!
//! // A 64x64 skin-coloured picture with a dark brown disc of radius 20.
//! let (w, h) = (64u32, 64u32);
//! let inside = |x: u32, y: u32| (x as f64 + 0.5 - 32.0).powi(2) + (y as f64 + 0.5 - 32.0).powi(2) <= 400.0;
//! let mut rgb = Vec::new();
//! let mut mask = Vec::new();
//! for y in 0..h {
//!     for x in 0..w {
//!         rgb.extend_from_slice(if inside(x, y) { &[98, 58, 34] } else { &[228, 190, 165] });
//!         mask.push(if inside(x, y) { 255 } else { 0 });
//!     }
//! }
//! let image = Image::from_rgb(w, h, rgb)?;
//! let mask = Mask::from_pixels(w, h, mask).expect("64x64 pixels");
//! let config = FeatureConfig { mm_per_px: Some(0.05), ..FeatureConfig::default() };
//! let f = analyse(&image, &mask, &config)?;
//! assert!((f.measurements.diameter_px - 40.0).abs() < 1.0);
//! assert!((f.measurements.diameter_mm.unwrap() - 2.0).abs() < 0.05);
//! assert_eq!(f.abcd.a, 0);
//! assert!(f.abcd.c >= 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod asymmetry;
pub mod border;
pub mod colour;
pub mod measure;
pub mod structures;
pub mod tds;

use crate::error::FeatureError;
use crate::image::{Image, PixelRect};
use crate::segment::Mask;

pub use self::asymmetry::AsymmetryDetail;
pub use self::border::BorderDetail;
pub use self::colour::StolzColour;
pub use self::measure::{Measurements, PrincipalAxes};
pub use self::structures::StructureIndicators;
pub use self::tds::{Abcd, TdsBand};

/// Settings for [`analyse`]. Every threshold is documented with where it comes from; the
/// defaults are the recommended values.
///
/// ```
/// use dermscan_core::features::FeatureConfig;
/// let c = FeatureConfig { mm_per_px: Some(0.02), ..FeatureConfig::default() };
/// assert_eq!(c.colour_min_fraction, 0.05);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureConfig {
    /// Size of one pixel in millimetres (for example from a dermoscope's known field of view).
    /// When given, measurements are also reported in mm and dot/globule sizes use the
    /// dermoscopic 0.1 mm limit. Must be finite and above 0.
    pub mm_per_px: Option<f32>,
    /// A: an axis is asymmetric in shape when the area that does not overlap its mirror image
    /// (XOR area / lesion area) exceeds this. Default 0.10: clearly above the discretisation
    /// mismatch of a symmetric shape (about 0.6 / radius in px, under 0.03 from 20 px radius),
    /// and the range used for the "asymmetry index" in automated ABCD work.
    pub asymmetry_shape_threshold: f64,
    /// A: an axis is asymmetric in colour when the Stolz-colour histograms of its two halves
    /// differ by more than this total-variation distance (the share of the lesion whose colour
    /// would have to change). Default 0.20.
    pub asymmetry_colour_threshold: f64,
    /// B: an eighth of the border is irregular when its outline departs from the lesion's own
    /// second-moment ellipse by more than this fraction of the local ellipse radius on average
    /// (a smooth oval scores about 0). Default 0.04.
    pub border_shape_threshold: f64,
    /// B: an eighth of the border ends abruptly when the lesion-to-skin transition (10 % to 90 %
    /// of the contrast) is at most this many pixels wide. Default 1.5 px: an ideal step sampled
    /// at an arbitrary sub-pixel position, i.e. as sharp as the picture can show.
    pub border_abrupt_width_px: f64,
    /// B: minimum lightness contrast (CIE L*) between lesion and skin for the edge test to
    /// apply. Default 5 (about twice the just-noticeable difference of 2.3).
    pub border_min_contrast: f64,
    /// C: a colour counts when it covers at least this fraction of the lesion. Default 0.05,
    /// as in automated colour-ABCD work (e.g. Seidenari et al. 2003).
    pub colour_min_fraction: f64,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            mm_per_px: None,
            asymmetry_shape_threshold: 0.10,
            asymmetry_colour_threshold: 0.20,
            border_shape_threshold: 0.04,
            border_abrupt_width_px: 1.5,
            border_min_contrast: 5.0,
            colour_min_fraction: 0.05,
        }
    }
}

impl FeatureConfig {
    /// Checks the scale: `mm_per_px`, when given, must be finite and above 0.
    ///
    /// ```
    /// use dermscan_core::features::FeatureConfig;
    /// assert!(FeatureConfig { mm_per_px: Some(-0.1), ..FeatureConfig::default() }.validate().is_err());
    /// assert!(FeatureConfig::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), FeatureError> {
        checked_scale(self.mm_per_px).map(|_| ())
    }
}

/// The scale as `f64` when it is finite and above 0; [`FeatureError::InvalidScale`] otherwise.
pub(crate) fn checked_scale(mm_per_px: Option<f32>) -> Result<Option<f64>, FeatureError> {
    match mm_per_px {
        Some(s) if !(s.is_finite() && s > 0.0) => Err(FeatureError::InvalidScale(s)),
        s => Ok(s.map(f64::from)),
    }
}

/// Everything [`analyse`] measures on one lesion.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Features {
    /// Size and shape.
    pub measurements: Measurements,
    /// The dermoscopy ABCD score (TDS is a proxy).
    pub abcd: Abcd,
    /// The principal axes through the centroid, for drawing.
    pub axes: PrincipalAxes,
}

/// Measures the lesion in `mask` on `image` and scores it with the ABCD rule of dermoscopy.
///
/// The mask must have the image's size and at least one lesion pixel; if it has several
/// regions they are measured together (the perimeter is that of the largest region).
///
/// ```
/// use dermscan_core::features::{analyse, FeatureConfig};
/// use dermscan_core::error::FeatureError;
/// use dermscan_core::{Image, Mask};
///
/// let image = Image::from_rgb(8, 8, vec![200; 8 * 8 * 3])?;
/// let empty = Mask::from_pixels(8, 8, vec![0; 64]).expect("64 pixels");
/// assert_eq!(analyse(&image, &empty, &FeatureConfig::default()), Err(FeatureError::EmptyMask));
/// let one = Mask::from_pixels(8, 8, (0..64).map(|i| u8::from(i == 27)).collect()).expect("64 pixels");
/// let f = analyse(&image, &one, &FeatureConfig::default())?;
/// assert_eq!(f.measurements.area_px, 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analyse(image: &Image, mask: &Mask, config: &FeatureConfig) -> Result<Features, FeatureError> {
    let _span = tracing::info_span!("features", width = image.width(), height = image.height()).entered();
    config.validate()?;
    let Some((window, image, mask)) = around_lesion(image, mask)? else {
        return analyse_whole(image, mask, config);
    };
    let mut f = analyse_whole(&image, &mask, config)?;
    // Back to the photo's coordinates.
    let shift = |p: &mut [f64; 2]| {
        p[0] += f64::from(window.x);
        p[1] += f64::from(window.y);
    };
    shift(&mut f.measurements.centroid);
    shift(&mut f.axes.centroid);
    f.axes.major.iter_mut().chain(f.axes.minor.iter_mut()).for_each(shift);
    Ok(f)
}

fn analyse_whole(image: &Image, mask: &Mask, config: &FeatureConfig) -> Result<Features, FeatureError> {
    let lesion = Lesion::new(image, mask, config.mm_per_px)?;
    let (measurements, axes) = measure::measure(&lesion);
    let labels = colour::classify(&lesion);
    let colour = colour::score(&lesion, &labels, config);
    let asym = asymmetry::score(&lesion, &labels, config);
    let border = border::score(&lesion, config);
    let structures = structures::score(&lesion);
    let abcd = Abcd::new(asym, border, colour, structures);
    tracing::debug!(a = abcd.a, b = abcd.b, c = abcd.c, d = abcd.d_proxy, tds = abcd.tds, "abcd");
    Ok(Features { measurements, abcd, axes })
}

/// Skin kept around the lesion's box when measuring on a crop: enough for the skin ring
/// (at most 33 px), the edge profiles and the halves' colours.
fn context_margin(box_side: u32) -> u32 {
    40 + box_side / 4
}

/// The lesion's neighbourhood cut out of the photo, when that is smaller than the photo:
/// every criterion only looks at the lesion and the skin just around it, so measuring on the
/// crop gives the same numbers in a fraction of the time. `None` when the crop would be the
/// whole photo (or the inputs are invalid: the caller's own checks report that).
fn around_lesion(image: &Image, mask: &Mask) -> Result<Option<(PixelRect, Image, Mask)>, FeatureError> {
    let (w, h) = (mask.width(), mask.height());
    if (image.width(), image.height()) != (w, h) {
        return Ok(None);
    }
    let Some([x0, y0, x1, y1]) = mask.bbox().map(|r| r.corners()) else { return Ok(None) };
    let margin = context_margin((x1 - x0).max(y1 - y0));
    let (cx0, cy0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (cx1, cy1) = ((x1 + margin).min(w), (y1 + margin).min(h));
    let rect = PixelRect { x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0 };
    if rect.is_full(w, h) {
        return Ok(None);
    }
    let pixels = (cy0..cy1).flat_map(|y| mask.pixels()[(y * w + cx0) as usize..(y * w + cx1) as usize].iter().copied()).collect();
    let cropped = Mask::from_pixels(rect.width, rect.height, pixels).ok_or(FeatureError::EmptyMask)?;
    Ok(Some((rect, image.crop(rect), cropped)))
}

/// Per-pixel Stolz colour map of the lesion, row by row, the size of the image: `None` outside
/// the lesion (and for lesion pixels no colour fits, which does not happen with the current
/// nearest-colour rule). Draw it with [`StolzColour::display_rgb`].
///
/// ```
/// use dermscan_core::features::{colour_regions, StolzColour};
/// use dermscan_core::{Image, Mask};
///
/// let image = Image::from_rgb(2, 1, vec![40, 30, 30, 230, 200, 180])?;
/// let mask = Mask::from_pixels(2, 1, vec![255, 0]).expect("2 pixels");
/// let map = colour_regions(&image, &mask)?;
/// assert_eq!(map, vec![Some(StolzColour::Black), None]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn colour_regions(image: &Image, mask: &Mask) -> Result<Vec<Option<StolzColour>>, FeatureError> {
    let Some((rect, image_crop, mask_crop)) = around_lesion(image, mask)? else {
        return Ok(colour::classify(&Lesion::new(image, mask, None)?));
    };
    let labels = colour::classify(&Lesion::new(&image_crop, &mask_crop, None)?);
    let mut full = vec![None; (mask.width() as usize) * (mask.height() as usize)];
    for (row, chunk) in labels.chunks(rect.width as usize).enumerate() {
        let start = (rect.y as usize + row) * mask.width() as usize + rect.x as usize;
        full[start..start + chunk.len()].copy_from_slice(chunk);
    }
    Ok(full)
}

/// The validated inputs with what every criterion needs: the lesion pixels, CIELAB pixels,
/// the surrounding skin colour, moments and the outer contour.
pub(crate) struct Lesion {
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// `true` inside the lesion, row by row.
    pub(crate) inside: Vec<bool>,
    /// Number of lesion pixels (>= 1).
    pub(crate) area: f64,
    /// Centroid, pixel-centre coordinates.
    pub(crate) centroid: [f64; 2],
    /// Normalised second central moments `[mu20, mu11, mu02]`.
    pub(crate) cov: [f64; 3],
    /// CIELAB of every pixel of the image.
    pub(crate) lab: Vec<[f32; 3]>,
    /// Median CIELAB of a ring of skin around the lesion (None when there is no skin left).
    pub(crate) skin: Option<[f32; 3]>,
    /// Outer contour of the largest region, pixel centres, in tracing order.
    pub(crate) contour: Vec<[f64; 2]>,
    /// Validated scale.
    pub(crate) mm_per_px: Option<f64>,
}

impl Lesion {
    pub(crate) fn new(image: &Image, mask: &Mask, mm_per_px: Option<f32>) -> Result<Self, FeatureError> {
        if (image.width(), image.height()) != (mask.width(), mask.height()) {
            return Err(FeatureError::SizeMismatch {
                image_width: image.width(),
                image_height: image.height(),
                mask_width: mask.width(),
                mask_height: mask.height(),
            });
        }
        let mm_per_px = checked_scale(mm_per_px)?;
        let (width, height) = (mask.width() as usize, mask.height() as usize);
        let inside: Vec<bool> = mask.pixels().iter().map(|&p| p != 0).collect();
        let (mut n, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
        for (i, _) in inside.iter().enumerate().filter(|(_, v)| **v) {
            n += 1.0;
            sx += (i % width) as f64 + 0.5;
            sy += (i / width) as f64 + 0.5;
        }
        if n == 0.0 {
            return Err(FeatureError::EmptyMask);
        }
        let centroid = [sx / n, sy / n];
        let (mut m20, mut m11, mut m02) = (0.0f64, 0.0f64, 0.0f64);
        for (i, _) in inside.iter().enumerate().filter(|(_, v)| **v) {
            let dx = (i % width) as f64 + 0.5 - centroid[0];
            let dy = (i / width) as f64 + 0.5 - centroid[1];
            m20 += dx * dx;
            m11 += dx * dy;
            m02 += dy * dy;
        }
        let lab = colour::image_to_lab(image.as_rgb());
        let contour = measure::outer_contour(mask);
        let mut lesion =
            Self { width, height, inside, area: n, centroid, cov: [m20 / n, m11 / n, m02 / n], lab, skin: None, contour, mm_per_px };
        lesion.skin = colour::skin_reference(&lesion, mask);
        Ok(lesion)
    }

    /// Equivalent-circle radius in pixels.
    pub(crate) fn radius(&self) -> f64 {
        (self.area / std::f64::consts::PI).sqrt()
    }

    /// Whether pixel-centre coordinates `(x, y)` fall on a lesion pixel (false outside the image).
    pub(crate) fn contains(&self, x: f64, y: f64) -> bool {
        if !(x >= 0.0 && y >= 0.0) {
            return false;
        }
        let (i, j) = (x as usize, y as usize);
        i < self.width && j < self.height && self.inside[j * self.width + i]
    }

    /// CIELAB at pixel-centre coordinates, bilinear, clamped to the image.
    pub(crate) fn lab_at(&self, x: f64, y: f64) -> [f32; 3] {
        let fx = (x - 0.5).clamp(0.0, (self.width - 1) as f64);
        let fy = (y - 0.5).clamp(0.0, (self.height - 1) as f64);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (tx, ty) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
        let p = |i: usize, j: usize| self.lab[j * self.width + i];
        let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
        [0, 1, 2].map(|k| (a[k] * (1.0 - tx) + b[k] * tx) * (1.0 - ty) + (c[k] * (1.0 - tx) + d[k] * tx) * ty)
    }

    /// The major-axis orientation in radians (see [`measure::eigen`]).
    pub(crate) fn orientation(&self) -> f64 {
        measure::eigen(self.cov).2
    }
}
