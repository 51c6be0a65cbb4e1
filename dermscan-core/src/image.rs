//! Image input: encoded photos (JPEG, PNG) with EXIF orientation applied, raw camera
//! buffers (RGBA8, BGRA8, RGB8 with a row stride), and YUV 4:2:0 camera frames ([`YuvFrame`]).
//!
//! Every image becomes an owned, upright, 8-bit RGB [`Image`]. Sizes are checked against
//! [`ImageLimits`] from the header, before any pixel buffer is allocated.

use std::io::Cursor;
use std::path::Path;

use ::image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::error::ImageError;

mod yuv;

pub use yuv::{FrameOrientation, YuvFrame, YuvMatrix, YuvPlane, YuvRange};

/// Limits applied to every input image.
///
/// ```
/// use dermscan_core::image::ImageLimits;
/// let limits = ImageLimits { max_pixels: 12_000_000 };
/// assert!(limits.max_pixels < ImageLimits::default().max_pixels);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted width * height. Default: 50 megapixels (a 8160x6120 phone photo).
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_pixels: 50_000_000 }
    }
}

impl ImageLimits {
    fn check(&self, width: u32, height: u32) -> Result<(), ImageError> {
        if width == 0 || height == 0 {
            return Err(ImageError::ZeroSize { width, height });
        }
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(ImageError::TooLarge { width: width.into(), height: height.into(), pixels, max_pixels: self.max_pixels });
        }
        Ok(())
    }
}

/// Pixel layout of a raw camera buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PixelFormat {
    /// Red, green, blue, alpha; 4 bytes a pixel (Android `ARGB_8888` bitmaps are RGBA in memory).
    Rgba8,
    /// Blue, green, red, alpha; 4 bytes a pixel (iOS `kCVPixelFormatType_32BGRA`).
    Bgra8,
    /// Red, green, blue; 3 bytes a pixel.
    Rgb8,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => 4,
            PixelFormat::Rgb8 => 3,
        }
    }
}

/// An upright 8-bit RGB image owned by the SDK.
///
/// ```
/// use dermscan_core::image::{Image, ImageLimits, PixelFormat};
/// let rgba = vec![200u8; 4 * 3 * 2];
/// let img = Image::from_raw(&rgba, 3, 2, 12, PixelFormat::Rgba8, &ImageLimits::default())?;
/// assert_eq!((img.width(), img.height()), (3, 2));
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image").field("width", &self.width).field("height", &self.height).finish()
    }
}

impl Image {
    /// Decodes a JPEG or PNG and applies its EXIF orientation.
    ///
    /// The header's dimensions are checked against `limits` before decoding, so a small file
    /// that declares a huge image is refused without allocating for it.
    pub fn from_bytes(bytes: &[u8], limits: &ImageLimits) -> Result<Self, ImageError> {
        let _span = tracing::debug_span!("decode_image", bytes = bytes.len()).entered();
        if bytes.is_empty() {
            return Err(ImageError::Empty);
        }
        let reader =
            ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| ImageError::Decode(::image::ImageError::IoError(e)))?;
        match reader.format() {
            Some(ImageFormat::Jpeg) if !jpeg_is_complete(bytes) => {
                return Err(ImageError::Truncated);
            }
            Some(ImageFormat::Jpeg | ImageFormat::Png) => {}
            _ => return Err(ImageError::UnsupportedFormat),
        }
        let mut decoder = reader.into_decoder().map_err(ImageError::Decode)?;
        let (width, height) = decoder.dimensions();
        limits.check(width, height)?;
        let mut decode_limits = ::image::Limits::default();
        // Decoded RGBA16 is the largest layout a decoder may allocate, plus slack for its own buffers.
        decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
        decoder.set_limits(decode_limits).map_err(ImageError::Decode)?;
        // A broken EXIF block must not make a readable photo unusable: fall back to "as stored".
        let orientation = decoder.orientation().unwrap_or(::image::metadata::Orientation::NoTransforms);
        let mut decoded = DynamicImage::from_decoder(decoder).map_err(ImageError::Decode)?;
        decoded.apply_orientation(orientation);
        let rgb = decoded.into_rgb8();
        Ok(Self { width: rgb.width(), height: rgb.height(), rgb: rgb.into_raw() })
    }

    /// Reads and decodes an image file (see [`Image::from_bytes`]).
    pub fn open(path: impl AsRef<Path>, limits: &ImageLimits) -> Result<Self, ImageError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ImageError::Io { path: path.to_owned(), source })?;
        Self::from_bytes(&bytes, limits)
    }

    /// Copies a raw camera buffer. `stride` is the number of bytes from one row to the next
    /// (at least `width * bytes_per_pixel`); alpha is ignored.
    pub fn from_raw(
        data: &[u8],
        width: u32,
        height: u32,
        stride: usize,
        format: PixelFormat,
        limits: &ImageLimits,
    ) -> Result<Self, ImageError> {
        limits.check(width, height)?;
        let bpp = format.bytes_per_pixel();
        let row_bytes = width as usize * bpp;
        if stride < row_bytes {
            return Err(ImageError::StrideTooSmall { stride, row_bytes });
        }
        let needed = stride
            .checked_mul(height as usize - 1)
            .and_then(|n| n.checked_add(row_bytes))
            .ok_or(ImageError::BufferTooSmall { len: data.len(), needed: usize::MAX })?;
        if data.len() < needed {
            return Err(ImageError::BufferTooSmall { len: data.len(), needed });
        }
        let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
        for row in data.chunks(stride).take(height as usize) {
            let row = &row[..row_bytes];
            match format {
                PixelFormat::Rgb8 => rgb.extend_from_slice(row),
                PixelFormat::Rgba8 => row.chunks_exact(4).for_each(|p| rgb.extend_from_slice(&p[..3])),
                PixelFormat::Bgra8 => row.chunks_exact(4).for_each(|p| rgb.extend_from_slice(&[p[2], p[1], p[0]])),
            }
        }
        Ok(Self { width, height, rgb })
    }

    /// Wraps a tightly packed RGB8 buffer (`width * height * 3` bytes).
    pub fn from_rgb(width: u32, height: u32, rgb: Vec<u8>) -> Result<Self, ImageError> {
        if width == 0 || height == 0 {
            return Err(ImageError::ZeroSize { width, height });
        }
        let needed = width as usize * height as usize * 3;
        if rgb.len() != needed {
            return Err(ImageError::BufferTooSmall { len: rgb.len(), needed });
        }
        Ok(Self { width, height, rgb })
    }

    /// Width in pixels (after EXIF orientation).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (after EXIF orientation).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Tightly packed RGB8 pixels, row by row.
    pub fn as_rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// Copies the rectangle `rect` (clamped to the image) into a new image.
    pub fn crop(&self, rect: PixelRect) -> Image {
        let rect = rect.clamp_to(self.width, self.height);
        let mut rgb = Vec::with_capacity(rect.width as usize * rect.height as usize * 3);
        let row_len = self.width as usize * 3;
        for y in rect.y..rect.y + rect.height {
            let start = y as usize * row_len + rect.x as usize * 3;
            rgb.extend_from_slice(&self.rgb[start..start + rect.width as usize * 3]);
        }
        Image { width: rect.width, height: rect.height, rgb }
    }

    /// Converts into an `image` crate buffer (for drawing and saving).
    pub fn into_rgb_image(self) -> ::image::RgbImage {
        // Cannot fail: the buffer length always matches the dimensions.
        ::image::RgbImage::from_raw(self.width, self.height, self.rgb).unwrap_or_default()
    }
}

/// True when the JPEG's end-of-image marker follows its last start-of-scan marker. The JPEG
/// decoder fills a truncated scan with grey instead of failing; a half-received photo must not
/// be analysed as if it were whole. (Markers cannot occur inside entropy-coded data, and an
/// EXIF thumbnail's own markers all come before the main image's scans.)
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == marker);
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

/// An integer pixel rectangle (left, top, width, height).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PixelRect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl PixelRect {
    /// The rectangle covering a whole `width` x `height` image.
    pub fn full(width: u32, height: u32) -> Self {
        Self { x: 0, y: 0, width, height }
    }

    /// Intersects with a `width` x `height` image; never returns an empty rectangle for a
    /// non-empty image.
    pub fn clamp_to(self, width: u32, height: u32) -> Self {
        let x = self.x.min(width.saturating_sub(1));
        let y = self.y.min(height.saturating_sub(1));
        let w = self.width.clamp(1, width - x);
        let h = self.height.clamp(1, height - y);
        Self { x, y, width: w, height: h }
    }

    /// True when the rectangle is the whole `width` x `height` image.
    pub fn is_full(&self, width: u32, height: u32) -> bool {
        *self == Self::full(width, height)
    }

    /// The rectangle from its corners `[x0, y0, x1, y1]` (`x1`, `y1` exclusive).
    ///
    /// ```
    /// use dermscan_core::PixelRect;
    /// let r = PixelRect::from_corners([10, 20, 40, 60]);
    /// assert_eq!((r.width, r.height), (30, 40));
    /// assert_eq!(r.corners(), [10, 20, 40, 60]);
    /// ```
    pub fn from_corners([x0, y0, x1, y1]: [u32; 4]) -> Self {
        Self { x: x0, y: y0, width: x1.saturating_sub(x0), height: y1.saturating_sub(y0) }
    }

    /// The corners `[x0, y0, x1, y1]` (`x1`, `y1` exclusive), the form reports use.
    pub fn corners(self) -> [u32; 4] {
        [self.x, self.y, self.x.saturating_add(self.width), self.y.saturating_add(self.height)]
    }
}

/// Serde for a [`PixelRect`] kept as its corners `[x0, y0, x1, y1]`: the form stored scans and
/// reports have always used.
pub(crate) mod corners {
    use super::PixelRect;

    pub(crate) fn serialize<S: serde::Serializer>(rect: &PixelRect, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&rect.corners(), serializer)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<PixelRect, D::Error> {
        <[u32; 4] as serde::Deserialize>::deserialize(deserializer).map(PixelRect::from_corners)
    }
}
