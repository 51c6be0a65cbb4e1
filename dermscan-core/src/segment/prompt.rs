//! Prompts for the mask decoder, in original-image pixel coordinates.

use crate::error::PromptError;

/// An axis-aligned box `[x0, y0, x1, y1]` in original-image pixels (x1, y1 exclusive).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BoxPrompt {
    /// Left.
    pub x0: f32,
    /// Top.
    pub y0: f32,
    /// Right.
    pub x1: f32,
    /// Bottom.
    pub y1: f32,
}

impl BoxPrompt {
    /// A box from its corners.
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self { x0, y0, x1, y1 }
    }

    /// `[x0, y0, x1, y1]`.
    pub fn to_array(self) -> [f32; 4] {
        [self.x0, self.y0, self.x1, self.y1]
    }

    /// Width and height.
    pub fn size(self) -> (f32, f32) {
        (self.x1 - self.x0, self.y1 - self.y0)
    }

    /// The smallest box holding both.
    ///
    /// ```
    /// use dermscan_core::BoxPrompt;
    /// let b = BoxPrompt::new(0.0, 5.0, 10.0, 8.0).union(BoxPrompt::new(4.0, 2.0, 6.0, 12.0));
    /// assert_eq!(b.to_array(), [0.0, 2.0, 10.0, 12.0]);
    /// ```
    pub fn union(self, other: BoxPrompt) -> BoxPrompt {
        BoxPrompt::new(self.x0.min(other.x0), self.y0.min(other.y0), self.x1.max(other.x1), self.y1.max(other.y1))
    }

    /// Checks that the box is finite, non-empty and inside a `width` x `height` image.
    pub fn validate(self, width: u32, height: u32) -> Result<(), PromptError> {
        let b = self;
        let finite = [b.x0, b.y0, b.x1, b.y1].iter().all(|v| v.is_finite());
        if !finite || b.x1 <= b.x0 || b.y1 <= b.y0 {
            return Err(PromptError::InvalidBox { x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1 });
        }
        if b.x0 < 0.0 || b.y0 < 0.0 || b.x1 > width as f32 || b.y1 > height as f32 {
            return Err(PromptError::OutOfBounds { what: format!("box {:?}", b.to_array()), width, height });
        }
        Ok(())
    }
}

/// Whether a point marks the lesion or the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PointLabel {
    /// Inside the object (SAM label 1).
    Positive,
    /// Outside the object (SAM label 0).
    Negative,
}

/// A clicked point in original-image pixels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PointPrompt {
    /// Column.
    pub x: f32,
    /// Row.
    pub y: f32,
    /// Positive or negative.
    pub label: PointLabel,
}

/// What the decoder is asked to segment: an optional box, any number of points and,
/// optionally, the low-resolution logits of a previous mask to refine.
///
/// ```
/// use dermscan_core::segment::{Prompt, BoxPrompt, PointLabel};
/// let p = Prompt::from_box(BoxPrompt::new(10.0, 10.0, 50.0, 40.0)).with_point(30.0, 25.0, PointLabel::Positive);
/// assert_eq!(p.points.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    /// Box around the lesion.
    pub bbox: Option<BoxPrompt>,
    /// Clicked points.
    pub points: Vec<PointPrompt>,
    /// Low-resolution logits (`low_res_size`²) of a previous mask, from [`super::Mask::low_res_logits`].
    pub mask: Option<Vec<f32>>,
}

impl Prompt {
    /// A box prompt.
    pub fn from_box(bbox: BoxPrompt) -> Self {
        Self { bbox: Some(bbox), ..Self::default() }
    }

    /// A single-point prompt.
    pub fn from_point(x: f32, y: f32, label: PointLabel) -> Self {
        Self::default().with_point(x, y, label)
    }

    /// Adds a point.
    pub fn with_point(mut self, x: f32, y: f32, label: PointLabel) -> Self {
        self.points.push(PointPrompt { x, y, label });
        self
    }

    /// Adds a previous mask's low-resolution logits.
    pub fn with_mask(mut self, low_res_logits: Vec<f32>) -> Self {
        self.mask = Some(low_res_logits);
        self
    }

    /// The prompt kinds used, as manifests name them (`box`, `points`, `mask`).
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.bbox.is_some() {
            kinds.push("box");
        }
        if !self.points.is_empty() {
            kinds.push("points");
        }
        if self.mask.is_some() {
            kinds.push("mask");
        }
        kinds
    }
}
