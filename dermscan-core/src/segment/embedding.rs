//! The image encoder's output, kept so the decoder can be prompted again and again.

use std::sync::Arc;

use ndarray::Array4;

use crate::image::PixelRect;

/// Where the encoded pixels came from and how they were scaled into the model input.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Geometry {
    /// Width of the whole (oriented) image.
    pub image_width: u32,
    /// Height of the whole (oriented) image.
    pub image_height: u32,
    /// The part of the image the encoder saw (the whole image unless cropped).
    pub window: PixelRect,
    /// Width of the window after the longest-side resize.
    pub resized_width: u32,
    /// Height of the window after the longest-side resize.
    pub resized_height: u32,
    /// Side of the square model input.
    pub input_size: u32,
}

impl Geometry {
    /// Uniform image-to-model scale, `input_size / max(window side)` (MedSAM recipe).
    pub fn uniform_scale(&self) -> f32 {
        self.input_size as f32 / self.window.width.max(self.window.height) as f32
    }

    /// Per-axis scale, resized / window (SAM's `ResizeLongestSide.apply_coords`).
    pub fn axis_scale(&self) -> (f32, f32) {
        (self.resized_width as f32 / self.window.width as f32, self.resized_height as f32 / self.window.height as f32)
    }
}

/// An image embedding: owned, cheap to clone, reusable for any number of decodes.
///
/// It remembers the model that made it and the geometry of the encoded window, so prompts
/// stay in original-image coordinates.
#[derive(Clone)]
pub struct ImageEmbedding {
    pub(crate) model_sha256: String,
    pub(crate) data: Arc<Array4<f32>>,
    pub(crate) geometry: Geometry,
    pub(crate) preprocess_ms: f64,
    pub(crate) encoder_ms: f64,
    pub(crate) hair_fraction: f32,
}

impl std::fmt::Debug for ImageEmbedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageEmbedding").field("shape", &self.data.shape()).field("geometry", &self.geometry).finish()
    }
}

impl ImageEmbedding {
    /// Geometry of the encoded window.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// Shape of the embedding tensor, e.g. `[1, 256, 64, 64]`.
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// SHA-256 identity of the model bundle that produced it.
    pub fn model_sha256(&self) -> &str {
        &self.model_sha256
    }

    /// Milliseconds spent pre-processing (resize, normalise) before the encoder.
    pub fn preprocess_ms(&self) -> f64 {
        self.preprocess_ms
    }

    /// Milliseconds spent in the encoder (ONNX Runtime).
    pub fn encoder_ms(&self) -> f64 {
        self.encoder_ms
    }

    /// Fraction of the encoder's input painted over by hair removal (0 when it was off).
    pub fn hair_fraction(&self) -> f32 {
        self.hair_fraction
    }
}
