//! A model family's recipe: everything besides the weights that upstream inference does.

use super::embedding::Geometry;
use super::postprocess::Upscale;
use super::prompt::{PointLabel, Prompt};
use crate::error::{ModelError, PromptError};
use crate::model::Manifest;
use crate::preprocess::{InputSpec, Interpolation, Normalization};

/// Which of the decoder's mask tokens becomes the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaskSelection {
    /// Token 0, as MedSAM and LiteMedSAM (`multimask_output=False`).
    First,
    /// SAM's predictor: token 0, except for a lone point (ambiguous), where the token among
    /// 1-3 with the best predicted IoU wins.
    Sam,
}

/// How prompts are mapped into the model frame and how logits come back.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// Pre-processing.
    pub input: InputSpec,
    /// Prompt kinds the model accepts (`box`, `points`, `mask`).
    pub prompts: Vec<String>,
    /// Floor box coordinates in the model frame (LiteMedSAM upstream) and scale both axes by
    /// `input / longest side`; otherwise scale each axis by resized / original (SAM).
    pub medsam_coords: bool,
    /// Mask token selection.
    pub selection: MaskSelection,
    /// Logit upscaling path.
    pub upscale: Upscale,
    /// Logit threshold.
    pub threshold: f32,
    /// Side of the low-resolution logits.
    pub low_res_size: u32,
}

/// Decoder tensor names every segmenter bundle provides (the SDK's decoder interface).
const DECODER_INPUTS: [&str; 5] = ["image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input"];
const DECODER_OUTPUTS: [&str; 2] = ["low_res_masks", "iou_predictions"];

/// Points and labels in the model frame.
pub(crate) struct EncodedPrompt {
    pub coords: Vec<f32>,
    pub labels: Vec<f32>,
}

impl Recipe {
    /// Reads the recipe from a segmenter manifest.
    pub fn from_manifest(m: &Manifest) -> Result<Self, ModelError> {
        let invalid = |reason: String| ModelError::Manifest { path: format!("{}/manifest.json", m.name).into(), reason };
        let input = m.input.as_ref().ok_or_else(|| invalid("segmenter without `input`".into()))?;
        let mask = m.mask.as_ref().ok_or_else(|| invalid("segmenter without `mask`".into()))?;
        if input.resize != "longest_side_pad" {
            return Err(invalid(format!("unsupported resize {:?}", input.resize)));
        }
        let interpolation = match input.interpolation.as_str() {
            "area" => Interpolation::Area,
            "bilinear" => Interpolation::Bilinear,
            other => return Err(invalid(format!("unsupported interpolation {other:?}"))),
        };
        let normalization = match (input.normalize.as_str(), input.mean, input.std) {
            ("min_max", _, _) => Normalization::MinMax,
            ("mean_std", Some(mean), Some(std)) if std.iter().all(|s| *s > 0.0) => Normalization::MeanStd { mean, std },
            (other, _, _) => return Err(invalid(format!("unsupported normalize {other:?} (mean_std needs mean and std)"))),
        };
        let selection = match mask.selection.as_str() {
            "first" => MaskSelection::First,
            "sam" => MaskSelection::Sam,
            other => return Err(invalid(format!("unsupported mask selection {other:?}"))),
        };
        let upscale = match m.family.as_str() {
            "litemedsam" | "medsam" => Upscale::Direct,
            "mobilesam" | "sam" => Upscale::ViaInput,
            other => return Err(invalid(format!("unknown segmenter family {other:?}"))),
        };
        let has = |role: &str, names: &[&str], outputs: bool| {
            m.tensors.get(role).is_some_and(|t| {
                let list = if outputs { &t.outputs } else { &t.inputs };
                names.iter().all(|n| list.iter().any(|s| s.name == *n))
            })
        };
        if !has("encoder", &["image"], false)
            || !has("encoder", &["image_embeddings"], true)
            || !has("decoder", &DECODER_INPUTS, false)
            || !has("decoder", &DECODER_OUTPUTS, true)
        {
            return Err(ModelError::TensorMismatch {
                file: "manifest.json".into(),
                detail: format!(
                    "a segmenter needs encoder image -> image_embeddings and decoder {DECODER_INPUTS:?} -> {DECODER_OUTPUTS:?}"
                ),
            });
        }
        if input.size == 0 || mask.low_res_size == 0 {
            return Err(invalid("zero input or mask size".into()));
        }
        Ok(Self {
            input: InputSpec { size: input.size, interpolation, normalization },
            prompts: m.prompts.clone(),
            medsam_coords: m.box_rounding.as_deref() == Some("floor"),
            selection,
            upscale,
            threshold: mask.threshold,
            low_res_size: mask.low_res_size,
        })
    }

    /// Validates `prompt` against the model and the embedding's window and maps it into the
    /// model frame (box as corner points labelled 2 and 3, as SAM's ONNX interface takes it).
    pub(crate) fn encode_prompt(&self, prompt: &Prompt, g: &Geometry, model: &str) -> Result<EncodedPrompt, PromptError> {
        for kind in prompt.kinds() {
            if !self.prompts.iter().any(|p| p == kind) {
                return Err(PromptError::Unsupported { model: model.into(), kind, accepted: self.prompts.join(", ") });
            }
        }
        if prompt.bbox.is_none() && prompt.points.is_empty() {
            return Err(PromptError::Empty);
        }
        if let Some(m) = &prompt.mask {
            let side = self.low_res_size as usize;
            if m.len() != side * side {
                return Err(PromptError::MaskSize { expected: side, len: m.len() });
            }
        }
        let w = &g.window;
        let (ox, oy) = (w.x as f32, w.y as f32);
        let (sx, sy) = if self.medsam_coords {
            let s = g.uniform_scale();
            (s, s)
        } else {
            g.axis_scale()
        };
        let mut coords = Vec::new();
        let mut labels = Vec::new();
        for p in &prompt.points {
            let (x, y) = (p.x - ox, p.y - oy);
            if !(x.is_finite() && y.is_finite()) || x < 0.0 || y < 0.0 || x > w.width as f32 || y > w.height as f32 {
                return Err(PromptError::OutOfBounds { what: format!("point ({}, {})", p.x, p.y), width: w.width, height: w.height });
            }
            coords.extend([x * sx, y * sy]);
            labels.push(match p.label {
                PointLabel::Positive => 1.0,
                PointLabel::Negative => 0.0,
            });
        }
        match prompt.bbox {
            Some(b) => {
                b.validate(g.image_width, g.image_height)?;
                let local = [b.x0 - ox, b.y0 - oy, b.x1 - ox, b.y1 - oy];
                if local[0] < 0.0 || local[1] < 0.0 || local[2] > w.width as f32 || local[3] > w.height as f32 {
                    return Err(PromptError::OutOfBounds { what: format!("box {:?}", b.to_array()), width: w.width, height: w.height });
                }
                let mut corners = [local[0] * sx, local[1] * sy, local[2] * sx, local[3] * sy];
                if self.medsam_coords {
                    corners.iter_mut().for_each(|c| *c = c.floor());
                }
                coords.extend(corners);
                labels.extend([2.0, 3.0]);
            }
            // Without a box SAM appends one padding point (label -1).
            None => {
                coords.extend([0.0, 0.0]);
                labels.push(-1.0);
            }
        }
        Ok(EncodedPrompt { coords, labels })
    }

    /// Index of the mask token to use.
    pub(crate) fn select(&self, prompt: &Prompt, ious: &[f32]) -> usize {
        let ambiguous = prompt.bbox.is_none() && prompt.points.len() == 1 && prompt.mask.is_none();
        match self.selection {
            MaskSelection::Sam if ambiguous && ious.len() > 1 => (1..ious.len()).max_by(|&a, &b| ious[a].total_cmp(&ious[b])).unwrap_or(0),
            _ => 0,
        }
    }
}
