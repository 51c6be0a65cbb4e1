//! The image embedding kept for re-prompting.

use dermscan_core as core;

use dermscan_core::PixelRect;

/// An image embedding kept for re-prompting (about 4 MB for LiteMedSAM).
#[derive(uniffi::Object)]
pub struct Embedding {
    inner: core::ImageEmbedding,
}

impl Embedding {
    /// Wraps a core embedding.
    pub(crate) fn from_core(inner: core::ImageEmbedding) -> Self {
        Self { inner }
    }

    /// The core embedding.
    pub(crate) fn inner(&self) -> &core::ImageEmbedding {
        &self.inner
    }
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedding").field("geometry", self.inner.geometry()).finish()
    }
}

#[uniffi::export]
impl Embedding {
    /// Width of the photo it was computed from.
    pub fn image_width(&self) -> u32 {
        self.inner.geometry().image_width
    }

    /// Height of the photo it was computed from.
    pub fn image_height(&self) -> u32 {
        self.inner.geometry().image_height
    }

    /// The part of the photo the encoder saw.
    pub fn window(&self) -> PixelRect {
        self.inner.geometry().window
    }
}
