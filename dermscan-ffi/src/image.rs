//! Photos in: encoded bytes, a file, a raw camera buffer, or a YUV camera frame.

use dermscan_core as core;
use dermscan_core::{FrameOrientation, Image, ImageLimits, YuvMatrix, YuvRange};

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

/// One plane of a YUV camera frame: Android's `ImageProxy.PlaneProxy` (its buffer's bytes,
/// `rowStride`, `pixelStride`), or one plane of an iOS `CVPixelBuffer`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct YuvPlane {
    /// The plane's bytes from its first sample (the last row may end after its last sample).
    pub data: Vec<u8>,
    /// Bytes from one row to the next.
    pub row_stride: u32,
    /// Bytes from one sample to the next in a row: 1 for planar chroma, 2 for interleaved.
    pub pixel_stride: u32,
}

/// A YUV 4:2:0 camera frame, as cameras deliver it: a luma plane and two half-size chroma
/// planes, with the rotation that turns it upright.
///
/// - Android CameraX `ImageProxy` (`YUV_420_888`): `planes[0..3]` as `y`, `u`, `v` with their
///   strides; `imageInfo.rotationDegrees` as `rotation_degrees`. NV21 or NV12 underneath is
///   simply a pixel stride of 2.
/// - iOS `CVPixelBuffer` in `420YpCbCr8BiPlanarFullRange` (or `VideoRange`): plane 0 as `y`;
///   plane 1 (interleaved Cb,Cr) as `u` with pixel stride 2, and the same bytes from their
///   second byte on as `v` with pixel stride 2.
/// - I420: three planes, pixel stride 1.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct YuvFrame {
    /// Width of the frame as stored (before rotation).
    pub width: u32,
    /// Height of the frame as stored.
    pub height: u32,
    /// Luma (pixel stride 1).
    pub y: YuvPlane,
    /// Blue-difference chroma (Cb).
    pub u: YuvPlane,
    /// Red-difference chroma (Cr).
    pub v: YuvPlane,
    /// Full range (JPEG, Android, iOS `...FullRange`) or video range (iOS `...VideoRange`).
    pub range: YuvRange,
    /// BT.601 (Android, JPEG) or BT.709 (HD video).
    pub matrix: YuvMatrix,
    /// Clockwise rotation that makes the frame upright: 0, 90, 180 or 270.
    pub rotation_degrees: u32,
    /// Mirror left-right after the rotation (a front camera's preview).
    pub mirrored: bool,
}

impl YuvFrame {
    fn load(&self, limits: &ImageLimits) -> Result<Image, DermscanError> {
        fn plane(p: &YuvPlane) -> core::image::YuvPlane<'_> {
            core::image::YuvPlane { data: &p.data, row_stride: p.row_stride as usize, pixel_stride: p.pixel_stride as usize }
        }
        let frame = core::YuvFrame {
            width: self.width,
            height: self.height,
            y: plane(&self.y),
            u: plane(&self.u),
            v: plane(&self.v),
            range: self.range,
            matrix: self.matrix,
        };
        let orientation = FrameOrientation::new(self.rotation_degrees, self.mirrored)?;
        Ok(Image::from_yuv(&frame, orientation, limits)?)
    }
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
    /// A YUV 4:2:0 camera frame (Android `ImageProxy`, iOS `CVPixelBuffer`).
    Yuv {
        /// The frame.
        frame: YuvFrame,
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
            Self::Yuv { frame } => frame.load(limits)?,
        })
    }
}
