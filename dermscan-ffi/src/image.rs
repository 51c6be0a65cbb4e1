//! Photos in: encoded bytes, a file, or a raw camera buffer.

use dermscan_core as core;
use dermscan_core::{Image, ImageLimits};

use crate::error::DermscanError;

/// Pixel layout of a raw camera buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PixelFormat {
    /// Red, green, blue, alpha (Android `Bitmap.Config.ARGB_8888` memory order).
    Rgba8,
    /// Blue, green, red, alpha (iOS `kCVPixelFormatType_32BGRA`).
    Bgra8,
    /// Red, green, blue.
    Rgb8,
}

impl From<PixelFormat> for core::PixelFormat {
    fn from(f: PixelFormat) -> Self {
        match f {
            PixelFormat::Rgba8 => core::PixelFormat::Rgba8,
            PixelFormat::Bgra8 => core::PixelFormat::Bgra8,
            PixelFormat::Rgb8 => core::PixelFormat::Rgb8,
        }
    }
}

/// An uncompressed camera frame.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RawImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next (at least width times bytes per pixel).
    pub stride: u32,
    /// Pixel layout.
    pub format: PixelFormat,
    /// The pixels, `stride * height` bytes (the last row may be just `width` pixels long).
    pub data: Vec<u8>,
}

/// Where a photo comes from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ImageSource {
    /// A JPEG or PNG file's bytes (EXIF orientation is applied).
    Encoded {
        /// The file's bytes.
        bytes: Vec<u8>,
    },
    /// A JPEG or PNG file on the device (read only).
    File {
        /// Its path.
        path: String,
    },
    /// A raw camera frame.
    Raw {
        /// The frame.
        image: RawImage,
    },
}

impl ImageSource {
    /// Decodes into the core's upright RGB image, within `limits`.
    pub(crate) fn load(&self, limits: &ImageLimits) -> Result<Image, DermscanError> {
        let _span = tracing::info_span!("decode_image").entered();
        Ok(match self {
            Self::Encoded { bytes } => Image::from_bytes(bytes, limits)?,
            Self::File { path } => Image::open(path, limits)?,
            Self::Raw { image } => {
                Image::from_raw(&image.data, image.width, image.height, image.stride as usize, image.format.into(), limits)?
            }
        })
    }
}
