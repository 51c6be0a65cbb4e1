//! What to segment on a kept embedding.

use std::sync::Arc;

use dermscan_core as core;

use crate::mask::Mask;
use crate::types::{BoundingBox, PointLabel, PointPrompt};

/// What to segment on a kept embedding: a box, points, and optionally a previous mask to
/// refine (its low-resolution logits are fed back to the decoder).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Prompt {
    /// The lesion's box.
    #[uniffi(default = None)]
    pub bbox: Option<BoundingBox>,
    /// Clicked points.
    #[uniffi(default = [])]
    pub points: Vec<PointPrompt>,
    /// A mask from an earlier decode of the same embedding, to refine.
    #[uniffi(default = None)]
    pub previous_mask: Option<Arc<Mask>>,
}

impl Prompt {
    pub(crate) fn to_core(&self) -> core::Prompt {
        let mut prompt = core::Prompt { bbox: self.bbox.map(Into::into), ..Default::default() };
        for p in &self.points {
            let label = match p.label {
                PointLabel::Positive => core::PointLabel::Positive,
                PointLabel::Negative => core::PointLabel::Negative,
            };
            prompt = prompt.with_point(p.x, p.y, label);
        }
        if let Some(mask) = &self.previous_mask {
            prompt = prompt.with_mask(mask.inner().low_res_logits().to_vec());
        }
        prompt
    }
}
