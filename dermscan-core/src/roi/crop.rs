//! Crop policy: how much of the photo the encoder sees around a prompt.
//!
//! LiteMedSAM's input is 256 px. A 50 px mole in a 1500 px phone photo shrinks to about 8 px
//! there and comes back as a coarse blob. With [`CropPolicy::Auto`] a lesion that is small
//! relative to the frame is encoded inside a context window about [`CONTEXT_FACTOR`] times
//! its size; [`CropPolicy::WholeImage`] always encodes the whole image, exactly as upstream.

use crate::image::PixelRect;
use crate::segment::BoxPrompt;

/// The context window's side relative to the lesion box's longest side.
pub const CONTEXT_FACTOR: f32 = 6.0;

/// Whether to encode a context window around the prompt or the whole image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum CropPolicy {
    /// Crop to a context window when the lesion is small relative to the frame (default).
    #[default]
    Auto,
    /// Always encode the whole image (the upstream recipe); `none` in reports and on the
    /// command line.
    #[serde(rename = "none")]
    WholeImage,
}

impl std::str::FromStr for CropPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "none" => Ok(Self::WholeImage),
            other => Err(format!("crop policy must be `auto` or `none`, not {other:?}")),
        }
    }
}

/// The window to encode for `bbox` in a `width` x `height` image under `policy`; `None` means
/// the whole image. `min_side` is the smallest window worth cropping to (the model's input
/// size is a good choice: smaller windows would only be enlarged).
///
/// ```
/// use dermscan_core::roi::{context_window, CropPolicy};
/// use dermscan_core::segment::BoxPrompt;
/// let mole = BoxPrompt::new(700.0, 600.0, 750.0, 650.0);
/// let w = context_window(CropPolicy::Auto, mole, 1528, 1360, 256).expect("small lesion is cropped");
/// assert!(w.x <= 700 && w.x + w.width >= 750 && w.width == 300); // 6 x 50 px
/// assert_eq!(context_window(CropPolicy::WholeImage, mole, 1528, 1360, 256), None);
/// ```
pub fn context_window(policy: CropPolicy, bbox: BoxPrompt, width: u32, height: u32, min_side: u32) -> Option<PixelRect> {
    if policy == CropPolicy::WholeImage {
        return None;
    }
    let (bw, bh) = bbox.size();
    let side = (bw.max(bh) * CONTEXT_FACTOR).max(min_side as f32).ceil() as u32;
    if side >= width.max(height) * 4 / 5 {
        return None;
    }
    let (cx, cy) = ((bbox.x0 + bbox.x1) / 2.0, (bbox.y0 + bbox.y1) / 2.0);
    let place = |center: f32, extent: u32| -> (u32, u32) {
        let len = side.min(extent);
        let start = (center - len as f32 / 2.0).round().clamp(0.0, (extent - len) as f32) as u32;
        (start, len)
    };
    let (x, w) = place(cx, width);
    let (y, h) = place(cy, height);
    Some(PixelRect { x, y, width: w, height: h })
}
