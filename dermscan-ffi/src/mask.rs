//! A lesion mask.

use std::sync::Arc;

use dermscan_core as core;

use dermscan_core::PixelRect;

use crate::types::Point;

/// A binary lesion mask at the photo's resolution.
#[derive(Clone, uniffi::Object)]
pub struct Mask {
    inner: core::Mask,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mask")
            .field("width", &self.inner.width())
            .field("height", &self.inner.height())
            .field("area_px", &self.inner.area_px())
            .finish()
    }
}

impl Mask {
    /// Wraps a core mask.
    pub(crate) fn from_core(inner: core::Mask) -> Self {
        Self { inner }
    }

    /// The core mask.
    pub fn inner(&self) -> &core::Mask {
        &self.inner
    }
}

#[uniffi::export]
impl Mask {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.inner.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.inner.height()
    }

    /// Lesion pixels.
    pub fn area_px(&self) -> u64 {
        self.inner.area_px()
    }

    /// The decoder's own quality estimate (predicted IoU).
    pub fn iou_score(&self) -> f32 {
        self.inner.iou_score()
    }

    /// Tight rectangle around the lesion pixels; none for an empty mask.
    pub fn bbox(&self) -> Option<PixelRect> {
        self.inner.bbox()
    }

    /// Outline of the largest region, in order around it.
    pub fn contour(&self) -> Vec<Point> {
        self.inner.contour().into_iter().map(|[x, y]| Point { x, y }).collect()
    }

    /// One byte per pixel, row by row: 255 lesion, 0 skin.
    pub fn pixels(&self) -> Vec<u8> {
        self.inner.pixels().to_vec()
    }

    /// The mask as a greyscale PNG file.
    pub fn to_png(&self) -> Vec<u8> {
        self.inner.to_png()
    }

    /// Dice overlap (0 to 1) with another mask of the same size.
    pub fn dice(&self, other: Arc<Mask>) -> f64 {
        self.inner.dice(&other.inner)
    }
}
