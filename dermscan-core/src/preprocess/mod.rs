//! Pre-processing: turns an [`Image`] into a model input tensor following each model family's
//! exact upstream recipe (resize the longest side, normalise, zero-pad bottom and right).
//!
//! The recipe is data, read from the bundle's manifest ([`InputSpec`]), so a new family with
//! the same ingredients needs no new code.

mod hair;
mod normalize;
mod pil;
mod resize;

use ndarray::Array4;

pub use self::hair::{HairRemoval, remove_hair};
pub use self::normalize::Normalization;
pub use self::pil::resize_rgb_pil;
pub(crate) use self::resize::resize_plane_f32;
pub use self::resize::{Interpolation, resize_rgb};
use crate::image::Image;

/// How an image is brought to the model's square input.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// Side of the square model input in pixels (256 for LiteMedSAM, 1024 for SAM).
    pub size: u32,
    /// Resampling filter for the longest-side resize.
    pub interpolation: Interpolation,
    /// Pixel normalisation applied after resizing, before padding.
    pub normalization: Normalization,
}

/// A pre-processed model input and the geometry needed to map results back.
#[derive(Debug, Clone)]
pub struct ModelInput {
    /// `[1, 3, size, size]` float tensor, zero-padded bottom and right.
    pub tensor: Array4<f32>,
    /// Width of the resized image inside the padded square.
    pub resized_width: u32,
    /// Height of the resized image inside the padded square.
    pub resized_height: u32,
    /// Fraction of the resized image painted over by hair removal (0 when it was off).
    pub hair_fraction: f32,
}

/// Size of the longest-side resize, as upstream computes it: `int(side * S / max(h, w) + 0.5)`.
///
/// ```
/// use dermscan_core::preprocess::resized_size;
/// assert_eq!(resized_size(1528, 1360, 256), (256, 228));
/// ```
pub fn resized_size(width: u32, height: u32, target: u32) -> (u32, u32) {
    let longest = f64::from(width.max(height));
    let scale = f64::from(target) / longest;
    let side = |s: u32| ((f64::from(s) * scale + 0.5) as u32).clamp(1, target);
    (side(width), side(height))
}

/// Resizes, normalises and pads `image` into the model input described by `spec`.
///
/// ```
/// use dermscan_core::image::Image;
/// use dermscan_core::preprocess::{prepare, InputSpec, Interpolation, Normalization};
/// let img = Image::from_rgb(4, 2, vec![10; 24])?;
/// let spec = InputSpec { size: 8, interpolation: Interpolation::Area, normalization: Normalization::MinMax };
/// let input = prepare(&img, &spec);
/// assert_eq!(input.tensor.shape(), &[1, 3, 8, 8]);
/// assert_eq!((input.resized_width, input.resized_height), (8, 4));
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
pub fn prepare(image: &Image, spec: &InputSpec) -> ModelInput {
    prepare_photo(image, spec, &HairRemoval::disabled(), image.width().max(image.height()))
}

/// Like [`prepare`], removing hair from the resized image (before normalisation) as `hair`
/// says. Working at the model's input size keeps it cheap. `photo_side` is the longest side
/// of the whole photo `image` was cropped from (hair sizes are relative to it).
///
/// ```
/// use dermscan_core::image::Image;
/// use dermscan_core::preprocess::{prepare_photo, HairRemoval, InputSpec, Interpolation, Normalization};
/// let img = Image::from_rgb(64, 64, vec![180; 64 * 64 * 3])?;
/// let spec = InputSpec { size: 32, interpolation: Interpolation::Bilinear, normalization: Normalization::MinMax };
/// let input = prepare_photo(&img, &spec, &HairRemoval::default(), 64);
/// assert_eq!(input.hair_fraction, 0.0); // nothing to remove on plain skin
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
pub fn prepare_photo(image: &Image, spec: &InputSpec, hair: &HairRemoval, photo_side: u32) -> ModelInput {
    let _span = tracing::debug_span!("preprocess", size = spec.size).entered();
    let (w, h) = resized_size(image.width(), image.height(), spec.size);
    let mut resized = resize_rgb(image.as_rgb(), image.width(), image.height(), w, h, spec.interpolation);
    let scale = w as f32 / image.width().max(1) as f32;
    let hair_fraction = remove_hair(&mut resized, w, h, photo_side as f32 * scale, hair);
    let s = spec.size as usize;
    let mut tensor = Array4::<f32>::zeros((1, 3, s, s));
    spec.normalization.write_chw(&resized, w as usize, h as usize, &mut tensor);
    ModelInput { tensor, resized_width: w, resized_height: h, hair_fraction }
}
