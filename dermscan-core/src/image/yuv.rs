//! Camera frames in YUV 4:2:0: I420, NV12, NV21 and Android's three-plane `YUV_420_888`
//! (row and pixel strides), full or video range, BT.601 or BT.709, with the sensor rotation
//! a frame carries instead of EXIF.
//!
//! The conversion is exact: every output is the floating-point BT.601/BT.709 formula rounded
//! to the nearest level (tables in 16.16 fixed point), on every CPU, each chroma sample
//! covering its 2x2 block. (`yuvutils-rs` was measured and not taken: its x86 SIMD path is
//! biased by +1 level on average, and its ARM path differs from its x86 one.)

use ::image::metadata::Orientation;
use ::image::{DynamicImage, RgbImage};

use super::{Image, ImageLimits};
use crate::error::{ImageError, YuvPlaneKind};

/// Which values a frame's samples span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum YuvRange {
    /// Y and chroma use 0..=255 (JPEG; iOS `...FullRange` formats; most Android still captures).
    #[default]
    Full,
    /// "Video" or limited range: Y in 16..=235, chroma in 16..=240 (iOS `...VideoRange`).
    Video,
}

/// The colour matrix that maps YUV to RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum YuvMatrix {
    /// ITU-R BT.601 (JPEG, Android camera frames, standard-definition video).
    #[default]
    Bt601,
    /// ITU-R BT.709 (HD video; iOS frames tagged `kCVImageBufferYCbCrMatrix_ITU_R_709_2`).
    Bt709,
}

/// How a frame must be turned to be upright, for frames that carry no EXIF: rotate clockwise
/// by `rotation_degrees`, then mirror left-right when `mirrored` (a front camera's preview).
///
/// Android: `ImageProxy.imageInfo.rotationDegrees`; iOS: the connection's video rotation angle.
///
/// ```
/// use dermscan_core::image::FrameOrientation;
/// assert!(FrameOrientation::new(90, false).is_ok());
/// assert!(FrameOrientation::new(45, false).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameOrientation {
    quarter_turns: u8,
    mirrored: bool,
}

impl FrameOrientation {
    /// The frame as stored is upright.
    pub const UPRIGHT: Self = Self { quarter_turns: 0, mirrored: false };

    /// `rotation_degrees` is 0, 90, 180 or 270 (clockwise); anything else is an error.
    pub fn new(rotation_degrees: u32, mirrored: bool) -> Result<Self, ImageError> {
        let quarter_turns = match rotation_degrees {
            0 => 0,
            90 => 1,
            180 => 2,
            270 => 3,
            degrees => return Err(ImageError::Rotation { degrees }),
        };
        Ok(Self { quarter_turns, mirrored })
    }

    /// Clockwise rotation in degrees (0, 90, 180 or 270).
    pub fn rotation_degrees(self) -> u32 {
        u32::from(self.quarter_turns) * 90
    }

    /// Mirrored left-right after the rotation.
    pub fn mirrored(self) -> bool {
        self.mirrored
    }

    /// The `image` crate's orientation with the same effect: rotate, then flip horizontally.
    fn to_orientation(self) -> Orientation {
        match (self.quarter_turns, self.mirrored) {
            (0, false) => Orientation::NoTransforms,
            (1, false) => Orientation::Rotate90,
            (2, false) => Orientation::Rotate180,
            (3, false) => Orientation::Rotate270,
            (0, true) => Orientation::FlipHorizontal,
            (1, true) => Orientation::Rotate90FlipH,
            // Rotating 180 then flipping left-right is one flip top-bottom.
            (2, true) => Orientation::FlipVertical,
            _ => Orientation::Rotate270FlipH,
        }
    }
}

/// One plane of a frame: its bytes, the bytes from one row to the next, and from one sample
/// to the next within a row (1 for planar chroma, 2 for interleaved NV12/NV21 chroma).
#[derive(Debug, Clone, Copy)]
pub struct YuvPlane<'a> {
    /// The plane's bytes from its first sample (the last row may be cut after its last sample).
    pub data: &'a [u8],
    /// Bytes from one row to the next.
    pub row_stride: usize,
    /// Bytes from one sample to the next within a row (the luma plane's must be 1).
    pub pixel_stride: usize,
}

impl<'a> YuvPlane<'a> {
    /// A plane of one byte per sample.
    pub fn new(data: &'a [u8], row_stride: usize) -> Self {
        Self { data, row_stride, pixel_stride: 1 }
    }

    /// Checks that `width` x `height` samples fit in the plane's bytes.
    fn check(&self, kind: YuvPlaneKind, width: usize, height: usize) -> Result<(), ImageError> {
        let row_bytes = self.pixel_stride.checked_mul(width - 1).and_then(|n| n.checked_add(1));
        match row_bytes {
            Some(row_bytes) if self.pixel_stride > 0 && self.row_stride >= row_bytes => {
                let needed = self.row_stride.checked_mul(height - 1).and_then(|n| n.checked_add(row_bytes));
                match needed {
                    Some(needed) if self.data.len() >= needed => Ok(()),
                    needed => Err(ImageError::YuvPlaneTooSmall { plane: kind, len: self.data.len(), needed: needed.unwrap_or(usize::MAX) }),
                }
            }
            _ => Err(ImageError::YuvStride { plane: kind, row_stride: self.row_stride, pixel_stride: self.pixel_stride, width }),
        }
    }
}

/// A YUV 4:2:0 camera frame: a full-size luma plane and two half-size chroma planes
/// (`ceil(width / 2)` x `ceil(height / 2)` samples).
///
/// ```
/// use dermscan_core::image::{FrameOrientation, Image, ImageLimits, YuvFrame, YuvMatrix, YuvRange};
/// // A 4x2 NV21 frame of mid grey: 8 luma bytes, then one row of V,U pairs.
/// let (y, vu) = (vec![128u8; 8], vec![128u8; 4]);
/// let frame = YuvFrame::nv21(4, 2, &y, 4, &vu, 4, YuvRange::Full, YuvMatrix::Bt601);
/// let img = Image::from_yuv(&frame, FrameOrientation::new(90, false)?, &ImageLimits::default())?;
/// assert_eq!((img.width(), img.height()), (2, 4));
/// assert!(img.as_rgb().iter().all(|&v| v.abs_diff(128) <= 1));
/// # Ok::<(), dermscan_core::error::ImageError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct YuvFrame<'a> {
    /// Width in pixels (of the frame as stored, before rotation).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Luma.
    pub y: YuvPlane<'a>,
    /// Blue-difference chroma.
    pub u: YuvPlane<'a>,
    /// Red-difference chroma.
    pub v: YuvPlane<'a>,
    /// Sample range.
    pub range: YuvRange,
    /// Colour matrix.
    pub matrix: YuvMatrix,
}

impl<'a> YuvFrame<'a> {
    /// Three separate planes (I420; YV12 is the same with `u` and `v` swapped by the caller).
    #[allow(clippy::too_many_arguments)]
    pub fn i420(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_stride: usize,
        u: &'a [u8],
        v: &'a [u8],
        uv_stride: usize,
        range: YuvRange,
        matrix: YuvMatrix,
    ) -> Self {
        Self { width, height, y: YuvPlane::new(y, y_stride), u: YuvPlane::new(u, uv_stride), v: YuvPlane::new(v, uv_stride), range, matrix }
    }

    /// Luma, then one plane of interleaved U,V pairs (NV12; iOS `420YpCbCr8BiPlanar*`).
    #[allow(clippy::too_many_arguments)]
    pub fn nv12(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_stride: usize,
        uv: &'a [u8],
        uv_stride: usize,
        range: YuvRange,
        matrix: YuvMatrix,
    ) -> Self {
        Self::interleaved(width, height, y, y_stride, uv, uv_stride, range, matrix, false)
    }

    /// Luma, then one plane of interleaved V,U pairs (NV21; Android's classic camera format).
    #[allow(clippy::too_many_arguments)]
    pub fn nv21(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_stride: usize,
        vu: &'a [u8],
        vu_stride: usize,
        range: YuvRange,
        matrix: YuvMatrix,
    ) -> Self {
        Self::interleaved(width, height, y, y_stride, vu, vu_stride, range, matrix, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn interleaved(
        width: u32,
        height: u32,
        y: &'a [u8],
        y_stride: usize,
        chroma: &'a [u8],
        stride: usize,
        range: YuvRange,
        matrix: YuvMatrix,
        v_first: bool,
    ) -> Self {
        let first = YuvPlane { data: chroma, row_stride: stride, pixel_stride: 2 };
        let second = YuvPlane { data: chroma.get(1..).unwrap_or_default(), row_stride: stride, pixel_stride: 2 };
        let (u, v) = if v_first { (second, first) } else { (first, second) };
        Self { width, height, y: YuvPlane::new(y, y_stride), u, v, range, matrix }
    }
}

impl Image {
    /// Converts a YUV 4:2:0 camera frame to an upright RGB image.
    ///
    /// Every plane's geometry is checked before any pixel is read; a frame that does not fit
    /// its planes is a typed error. See [`YuvFrame`] for an example.
    pub fn from_yuv<'a>(frame: &YuvFrame<'a>, orientation: FrameOrientation, limits: &ImageLimits) -> Result<Self, ImageError> {
        let _span = tracing::debug_span!("decode_yuv", width = frame.width, height = frame.height).entered();
        limits.check(frame.width, frame.height)?;
        let (w, h) = (frame.width as usize, frame.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        if frame.y.pixel_stride != 1 {
            return Err(ImageError::YuvStride {
                plane: YuvPlaneKind::Y,
                row_stride: frame.y.row_stride,
                pixel_stride: frame.y.pixel_stride,
                width: w,
            });
        }
        frame.y.check(YuvPlaneKind::Y, w, h)?;
        frame.u.check(YuvPlaneKind::U, cw, ch)?;
        frame.v.check(YuvPlaneKind::V, cw, ch)?;
        let table = Tables::new(frame.range, frame.matrix);
        let mut rgb = vec![0u8; w * h * 3];
        for (row, out) in rgb.chunks_exact_mut(w * 3).enumerate() {
            // Every slice below is in bounds: the planes' geometry was checked above.
            let luma = frame.y.data.get(row * frame.y.row_stride..).unwrap_or_default();
            let chroma = |p: &YuvPlane<'a>| p.data.get((row / 2) * p.row_stride..).unwrap_or_default().iter().step_by(p.pixel_stride);
            // Two pixels share one chroma sample.
            let pairs = out.chunks_mut(6).zip(luma.chunks(2)).zip(chroma(&frame.u).zip(chroma(&frame.v)));
            for ((px, l), (&cb, &cr)) in pairs {
                let chroma = table.chroma(cb, cr);
                for (p, &l) in px.chunks_exact_mut(3).zip(l) {
                    p.copy_from_slice(&table.rgb(l, chroma));
                }
            }
        }
        if orientation == FrameOrientation::UPRIGHT {
            return Image::from_rgb(frame.width, frame.height, rgb);
        }
        let stored = RgbImage::from_raw(frame.width, frame.height, rgb).ok_or(ImageError::BufferTooSmall { len: 0, needed: w * h * 3 })?;
        let mut turned = DynamicImage::ImageRgb8(stored);
        turned.apply_orientation(orientation.to_orientation());
        let upright = turned.into_rgb8();
        Image::from_rgb(upright.width(), upright.height(), upright.into_raw())
    }
}

/// YUV to RGB in 16.16 fixed point: per-sample contributions of the luma and both chroma
/// values, so a pixel is three additions and a rounding shift.
struct Tables {
    luma: [i32; 256],
    r_cr: [i32; 256],
    g_cb: [i32; 256],
    g_cr: [i32; 256],
    b_cb: [i32; 256],
}

impl Tables {
    const ONE: f64 = 65_536.0;

    fn new(range: YuvRange, matrix: YuvMatrix) -> Self {
        let (kr, kb) = match matrix {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        };
        let kg = 1.0 - kr - kb;
        // Luma offset and the scales that stretch video range to 0..255.
        let (y_offset, y_scale, c_scale) = match range {
            YuvRange::Full => (0.0, 1.0, 1.0),
            YuvRange::Video => (16.0, 255.0 / 219.0, 255.0 / 224.0),
        };
        let fixed = |v: f64| (v * Self::ONE).round() as i32;
        let table = |f: &dyn Fn(f64) -> f64| std::array::from_fn(|i| fixed(f(i as f64)));
        let chroma = |c: f64| (c - 128.0) * c_scale;
        Self {
            luma: table(&|y| (y - y_offset) * y_scale),
            r_cr: table(&|c| 2.0 * (1.0 - kr) * chroma(c)),
            g_cb: table(&|c| -2.0 * kb * (1.0 - kb) / kg * chroma(c)),
            g_cr: table(&|c| -2.0 * kr * (1.0 - kr) / kg * chroma(c)),
            b_cb: table(&|c| 2.0 * (1.0 - kb) * chroma(c)),
        }
    }

    /// The red, green and blue offsets of one chroma sample.
    fn chroma(&self, cb: u8, cr: u8) -> [i32; 3] {
        let (cb, cr) = (usize::from(cb), usize::from(cr));
        [self.r_cr[cr], self.g_cb[cb] + self.g_cr[cr], self.b_cb[cb]]
    }

    fn rgb(&self, y: u8, [r, g, b]: [i32; 3]) -> [u8; 3] {
        let level = |v: i32| ((v + (1 << 15)) >> 16).clamp(0, 255) as u8;
        let l = self.luma[usize::from(y)];
        [level(l + r), level(l + g), level(l + b)]
    }
}
