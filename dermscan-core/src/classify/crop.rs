//! The square crop around the lesion box that the classifier sees.

use crate::error::PromptError;
use crate::image::PixelRect;
use crate::segment::BoxPrompt;

/// A square of the image, in pixels: columns `left..left + side`, rows `top..top + side`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CropSquare {
    /// First column.
    pub left: u32,
    /// First row.
    pub top: u32,
    /// Side length.
    pub side: u32,
}

impl CropSquare {
    /// The same square as a [`PixelRect`].
    pub fn rect(self) -> PixelRect {
        PixelRect { x: self.left, y: self.top, width: self.side, height: self.side }
    }
}

/// `floor(v + 0.5)`: the recipe's rounding (not round-half-to-even).
fn round_half_up(v: f64) -> i64 {
    (v + 0.5).floor() as i64
}

/// The crop square of the classifier recipe: side `round(context * longest box side)` (at
/// least 1, at most the image's shorter side), centred on the box and shifted (never padded
/// or shrunk) to lie inside the `width` x `height` image. Arithmetic is in `f64`, as in
/// `tools/reference/classify.py`.
///
/// ```
/// use dermscan_core::classify::crop_square;
/// use dermscan_core::BoxPrompt;
/// let sq = crop_square(1528, 1360, BoxPrompt::new(580.0, 670.0, 640.0, 730.0), 1.5)?;
/// assert_eq!((sq.left, sq.top, sq.side), (565, 655, 90));
/// // Near the edge the square is shifted inside the image.
/// let sq = crop_square(200, 100, BoxPrompt::new(0.0, 0.0, 40.0, 20.0), 1.5)?;
/// assert_eq!((sq.left, sq.top, sq.side), (0, 0, 60));
/// # Ok::<(), dermscan_core::error::PromptError>(())
/// ```
pub fn crop_square(width: u32, height: u32, lesion_box: BoxPrompt, context: f64) -> Result<CropSquare, PromptError> {
    lesion_box.validate(width, height)?;
    let [x0, y0, x1, y1] = lesion_box.to_array().map(f64::from);
    let longest = (x1 - x0).max(y1 - y0);
    let (w, h) = (i64::from(width), i64::from(height));
    let side = round_half_up(context * longest).max(1).min(w).min(h);
    let left = round_half_up((x0 + x1) / 2.0 - side as f64 / 2.0).clamp(0, w - side);
    let top = round_half_up((y0 + y1) / 2.0 - side as f64 / 2.0).clamp(0, h - side);
    // All three lie in 0..=max(width, height) after the clamps, so they fit in u32.
    let to_u32 = |v: i64| u32::try_from(v).unwrap_or(0);
    Ok(CropSquare { left: to_u32(left), top: to_u32(top), side: to_u32(side) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_crop_is_shifted_inside_and_limited_to_the_image() {
        // Centred: side 1.5 * 60 = 90.
        let sq = crop_square(1000, 800, BoxPrompt::new(100.0, 100.0, 160.0, 140.0), 1.5).expect("crop");
        assert_eq!(sq, CropSquare { left: 85, top: 75, side: 90 });
        // Bottom-right corner: shifted left and up.
        let sq = crop_square(300, 200, BoxPrompt::new(250.0, 160.0, 300.0, 200.0), 1.5).expect("crop");
        assert_eq!(sq, CropSquare { left: 225, top: 125, side: 75 });
        // Larger than the image: side becomes the shorter image side, centred (150 - 100).
        let sq = crop_square(300, 200, BoxPrompt::new(10.0, 10.0, 290.0, 190.0), 1.5).expect("crop");
        assert_eq!(sq, CropSquare { left: 50, top: 0, side: 200 });
        assert_eq!(sq.rect().corners(), [50, 0, 250, 200]);
        // Tiny box: at least one pixel. round(1.5 * 0.25) = 0 -> 1.
        let sq = crop_square(10, 10, BoxPrompt::new(5.0, 5.0, 5.25, 5.25), 1.5).expect("crop");
        assert_eq!(sq.side, 1);
        // Half-way values round up: 1.5 * 3 = 4.5 -> 5; centre 1.5 - 2.5 = -1 -> clamped 0.
        let sq = crop_square(10, 10, BoxPrompt::new(0.0, 0.0, 3.0, 3.0), 1.5).expect("crop");
        assert_eq!(sq, CropSquare { left: 0, top: 0, side: 5 });
    }

    #[test]
    fn classify_crop_rejects_bad_boxes() {
        assert!(matches!(crop_square(10, 10, BoxPrompt::new(5.0, 5.0, 5.0, 8.0), 1.5), Err(PromptError::InvalidBox { .. })));
        assert!(matches!(crop_square(10, 10, BoxPrompt::new(f32::NAN, 5.0, 6.0, 8.0), 1.5), Err(PromptError::InvalidBox { .. })));
        assert!(matches!(crop_square(10, 10, BoxPrompt::new(5.0, 5.0, 12.0, 8.0), 1.5), Err(PromptError::OutOfBounds { .. })));
    }
}
