//! What to segment on a kept embedding.

use std::sync::Arc;

use dermscan_core as core;

use crate::mask::Mask;
use dermscan_core::{BoxPrompt, PointPrompt};

/// What to segment on a kept embedding: a box, points, and optionally a previous mask to
/// refine (its low-resolution logits are fed back to the decoder).
#[derive(Debug, Clone, uniffi::Record)]
pub struct Prompt {
    /// The lesion's box.
    #[uniffi(default = None)]
    pub bbox: Option<BoxPrompt>,
    /// Clicked points.
    #[uniffi(default = [])]
    pub points: Vec<PointPrompt>,
    /// A mask from an earlier decode of the same embedding, to refine.
    #[uniffi(default = None)]
    pub previous_mask: Option<Arc<Mask>>,
}

impl Prompt {
    pub(crate) fn to_core(&self) -> core::Prompt {
        let mut prompt = core::Prompt { bbox: self.bbox, points: self.points.clone(), ..Default::default() };
        if let Some(mask) = &self.previous_mask {
            prompt = prompt.with_mask(mask.inner().low_res_logits().to_vec());
        }
        prompt
    }
}
