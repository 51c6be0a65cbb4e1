//! Plain C structs and enums, and their checked conversions to the records of [`crate::types`].
//!
//! Enum values coming from C are taken as `uint32_t` and checked ([`DsCropPolicy::from_raw`]
//! and friends): an out-of-range value is `DS_INVALID_ARGUMENT`, never undefined behaviour.

use std::ffi::{c_char, c_void};

use super::args;
use super::control::{DsCancel, DsProgressFn, control};
use crate::error::DermscanError;
use crate::image::{PixelFormat, YuvFrame, YuvPlane};
use dermscan_core::control::Control;
use dermscan_core::{BoxPrompt, CropPolicy, MaskMode, PointLabel, PointPrompt, Sex, YuvMatrix, YuvRange};

use crate::types::ScanOptions;

/// Whether the encoder sees a window around the lesion or the whole photo.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsCropPolicy {
    /// A context window around the lesion when it is small in the photo (the default).
    DS_CROP_AUTO = 0,
    /// Always the whole photo.
    DS_CROP_WHOLE_IMAGE = 1,
}

/// How the decoder's mask tokens become the mask.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsMaskMode {
    /// The whole lesion, holes filled (the default).
    DS_MASK_MODE_LESION = 0,
    /// The model family's upstream rule, bit-faithful to its reference inference.
    DS_MASK_MODE_UPSTREAM = 1,
}

/// Pixel layout of a raw camera buffer.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsPixelFormat {
    /// Red, green, blue, alpha, one byte each (Android `ARGB_8888` memory order).
    DS_PIXEL_FORMAT_RGBA8 = 0,
    /// Blue, green, red, alpha, one byte each (iOS `kCVPixelFormatType_32BGRA`).
    DS_PIXEL_FORMAT_BGRA8 = 1,
    /// Red, green, blue, one byte each.
    DS_PIXEL_FORMAT_RGB8 = 2,
}

/// Sample range of a YUV frame.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsYuvRange {
    /// 0..255 (JPEG, Android, iOS `...FullRange`).
    DS_YUV_RANGE_FULL = 0,
    /// Luma 16..235, chroma 16..240 (iOS `...VideoRange`).
    DS_YUV_RANGE_VIDEO = 1,
}

/// Colour matrix of a YUV frame.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsYuvMatrix {
    /// ITU-R BT.601 (Android, JPEG).
    DS_YUV_MATRIX_BT601 = 0,
    /// ITU-R BT.709 (HD video).
    DS_YUV_MATRIX_BT709 = 1,
}

/// One plane of a YUV frame (`data` may be NULL only when `len` is 0).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct DsYuvPlane {
    /// The plane's bytes from its first sample, copied during the call.
    pub data: *const u8,
    /// Bytes at `data` (the last row may end after its last sample).
    pub len: usize,
    /// Bytes from one row to the next.
    pub row_stride: u32,
    /// Bytes from one sample to the next in a row: 1 planar, 2 interleaved (NV12, NV21).
    pub pixel_stride: u32,
}

/// A YUV 4:2:0 camera frame: Android `YUV_420_888` planes and strides, iOS `CVPixelBuffer`
/// planes (NV12: `u` is the CbCr plane and `v` the same bytes from the second on, both with
/// pixel stride 2), or I420.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct DsYuvFrame {
    /// Width of the frame as stored (before rotation).
    pub width: u32,
    /// Height of the frame as stored.
    pub height: u32,
    /// Luma (pixel stride 1).
    pub y: DsYuvPlane,
    /// Blue-difference chroma (Cb).
    pub u: DsYuvPlane,
    /// Red-difference chroma (Cr).
    pub v: DsYuvPlane,
    /// A `DsYuvRange` value.
    pub range: u32,
    /// A `DsYuvMatrix` value.
    pub matrix: u32,
    /// Clockwise rotation that makes the frame upright: 0, 90, 180 or 270.
    pub rotation_degrees: u32,
    /// Non-zero: mirror left-right after the rotation.
    pub mirrored: u32,
}

impl DsYuvFrame {
    /// Copies the frame into the owned record the other languages pass.
    ///
    /// # Safety
    /// Each plane's `data` is NULL or points to `len` readable bytes.
    pub(crate) unsafe fn copy_planes(&self) -> Result<YuvFrame, DermscanError> {
        let (range, matrix) = (DsYuvRange::from_raw(self.range)?, DsYuvMatrix::from_raw(self.matrix)?);
        let plane = |p: &DsYuvPlane, name: &str| -> Result<YuvPlane, DermscanError> {
            // SAFETY: `data` is NULL or points to `len` readable bytes, as this function's contract documents.
            let data = unsafe { args::slice(p.data, p.len, name) }?.to_vec();
            Ok(YuvPlane { data, row_stride: p.row_stride, pixel_stride: p.pixel_stride })
        };
        Ok(YuvFrame {
            width: self.width,
            height: self.height,
            y: plane(&self.y, "y.data")?,
            u: plane(&self.u, "u.data")?,
            v: plane(&self.v, "v.data")?,
            range,
            matrix,
            rotation_degrees: self.rotation_degrees,
            mirrored: self.mirrored != 0,
        })
    }
}

/// Options for one scan. A zero-initialised struct (`DsScanOptions o = {0};`) and a NULL
/// pointer both mean the defaults: the lesion finder chooses the box, `DS_CROP_AUTO`,
/// `DS_MASK_MODE_LESION`.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct DsScanOptions {
    /// Whether `x0`, `y0`, `x1`, `y1` give the lesion's box; false lets the lesion finder choose.
    pub has_box: bool,
    /// The box's left edge, in pixels of the upright photo.
    pub x0: f32,
    /// The box's top edge.
    pub y0: f32,
    /// The box's right edge (exclusive).
    pub x1: f32,
    /// The box's bottom edge (exclusive).
    pub y1: f32,
    /// A `DsCropPolicy` value.
    pub crop: u32,
    /// A `DsMaskMode` value.
    pub mask_mode: u32,
    /// Whether `mm_per_px` gives the photo's scale (sizes are then also in millimetres).
    pub has_scale: bool,
    /// Millimetres per pixel (from a ruler or a reference sticker in the photo).
    pub mm_per_px: f32,
    /// Whether `age_years` is given (for the classifier).
    pub has_age: bool,
    /// The patient's age in years (0 to 120).
    pub age_years: f32,
    /// A `DsSex` value (0: unknown).
    pub sex: u32,
    /// NULL, or the body site as a NUL-terminated name: `arm`, `head-or-neck`,
    /// `leg-or-genital`, `trunk`, `unknown`, or a HAM10000 localisation such as `back`.
    pub body_site: *const c_char,
    /// NULL, or a cancel switch (`ds_cancel_new`) another thread may trip with `ds_cancel`.
    pub cancel: *const DsCancel,
    /// NULL, or called on the scanning thread as each stage starts.
    pub progress: DsProgressFn,
    /// Passed to `progress` as is.
    pub progress_user_data: *mut c_void,
}

/// The patient's sex, for the classifier.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum DsSex {
    /// Not known or not given (the zero value).
    DS_SEX_UNKNOWN = 0,
    /// Female.
    DS_SEX_FEMALE = 1,
    /// Male.
    DS_SEX_MALE = 2,
}

/// `from_raw` for a C enum taken as `uint32_t`: each listed variant's value maps to its Rust
/// value, anything else is `DS_INVALID_ARGUMENT` naming the argument and what it accepts.
macro_rules! c_enum_from_raw {
    ($c:ident => $rust:ty, $arg:literal, $accepted:literal, { $($variant:ident => $value:expr),+ $(,)? }) => {
        impl $c {
            pub(crate) fn from_raw(value: u32) -> Result<$rust, DermscanError> {
                $(if value == Self::$variant as u32 {
                    return Ok($value);
                })+
                Err(DermscanError::InvalidArgument(format!(
                    concat!($arg, " {} is not a ", stringify!($c), " (", $accepted, ")"),
                    value
                )))
            }
        }
    };
}

c_enum_from_raw!(DsCropPolicy => CropPolicy, "crop", "DS_CROP_AUTO or DS_CROP_WHOLE_IMAGE", {
    DS_CROP_AUTO => CropPolicy::Auto,
    DS_CROP_WHOLE_IMAGE => CropPolicy::WholeImage,
});
c_enum_from_raw!(DsMaskMode => MaskMode, "mask_mode", "DS_MASK_MODE_LESION or DS_MASK_MODE_UPSTREAM", {
    DS_MASK_MODE_LESION => MaskMode::Lesion,
    DS_MASK_MODE_UPSTREAM => MaskMode::Upstream,
});
c_enum_from_raw!(DsPixelFormat => PixelFormat, "format", "RGBA8, BGRA8 or RGB8", {
    DS_PIXEL_FORMAT_RGBA8 => PixelFormat::Rgba8,
    DS_PIXEL_FORMAT_BGRA8 => PixelFormat::Bgra8,
    DS_PIXEL_FORMAT_RGB8 => PixelFormat::Rgb8,
});
c_enum_from_raw!(DsYuvRange => YuvRange, "range", "FULL or VIDEO", {
    DS_YUV_RANGE_FULL => YuvRange::Full,
    DS_YUV_RANGE_VIDEO => YuvRange::Video,
});
c_enum_from_raw!(DsYuvMatrix => YuvMatrix, "matrix", "BT601 or BT709", {
    DS_YUV_MATRIX_BT601 => YuvMatrix::Bt601,
    DS_YUV_MATRIX_BT709 => YuvMatrix::Bt709,
});
// `None` for unknown.
c_enum_from_raw!(DsSex => Option<Sex>, "sex", "UNKNOWN, FEMALE or MALE", {
    DS_SEX_UNKNOWN => None,
    DS_SEX_FEMALE => Some(Sex::Female),
    DS_SEX_MALE => Some(Sex::Male),
});

impl DsScanOptions {
    /// Reads and checks the options behind `ptr` (NULL: the defaults).
    ///
    /// # Safety
    /// `ptr` is NULL or points to a readable `DsScanOptions`.
    pub(crate) unsafe fn read(ptr: *const Self) -> Result<ScanOptions, DermscanError> {
        if ptr.is_null() {
            return Ok(ScanOptions::default());
        }
        // SAFETY: the caller guarantees `ptr` is readable. The `bool`s are read as their
        // bytes, so a byte other than 0 or 1 (C code that memcpy'd garbage) is not an invalid
        // `bool`.
        let (has_box, x0, y0, x1, y1, crop, mask_mode) = unsafe {
            ((&raw const (*ptr).has_box).cast::<u8>().read(), (*ptr).x0, (*ptr).y0, (*ptr).x1, (*ptr).y1, (*ptr).crop, (*ptr).mask_mode)
        };
        // SAFETY: as above.
        let (has_scale, mm_per_px, has_age, age_years, sex, body_site) = unsafe {
            (
                (&raw const (*ptr).has_scale).cast::<u8>().read(),
                (*ptr).mm_per_px,
                (&raw const (*ptr).has_age).cast::<u8>().read(),
                (*ptr).age_years,
                (*ptr).sex,
                (*ptr).body_site,
            )
        };
        let sex = DsSex::from_raw(sex)?;
        Ok(ScanOptions {
            bbox: (has_box != 0).then_some(BoxPrompt::new(x0, y0, x1, y1)),
            crop: Some(DsCropPolicy::from_raw(crop)?),
            mask_mode: Some(DsMaskMode::from_raw(mask_mode)?),
            mm_per_px: (has_scale != 0).then_some(mm_per_px),
            age_years: (has_age != 0).then_some(age_years),
            sex,
            // SAFETY: NULL or a NUL-terminated string, as the field documents.
            body_site: unsafe { args::optional_string(body_site, "body_site") }?,
            ..ScanOptions::default()
        })
    }

    /// The cancel switch and progress callback behind `ptr` (NULL: neither).
    ///
    /// # Safety
    /// `ptr` is NULL or points to a readable `DsScanOptions` whose `cancel` is NULL or live.
    pub(crate) unsafe fn control(ptr: *const Self) -> Control {
        if ptr.is_null() {
            return Control::new();
        }
        // SAFETY: as this function's contract documents.
        unsafe { control((*ptr).cancel, (*ptr).progress, (*ptr).progress_user_data) }
    }
}

/// A clicked point for re-prompting, in pixels of the upright photo.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct DsPoint {
    /// Column.
    pub x: f32,
    /// Row.
    pub y: f32,
    /// Non-zero: on the lesion; zero: on the skin around it.
    pub positive: i32,
}

impl From<DsPoint> for PointPrompt {
    fn from(p: DsPoint) -> Self {
        PointPrompt { x: p.x, y: p.y, label: if p.positive != 0 { PointLabel::Positive } else { PointLabel::Negative } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_are_checked() {
        assert_eq!(DsCropPolicy::from_raw(1).ok(), Some(CropPolicy::WholeImage));
        assert_eq!(DsMaskMode::from_raw(1).ok(), Some(MaskMode::Upstream));
        assert_eq!(DsPixelFormat::from_raw(2).ok(), Some(PixelFormat::Rgb8));
        assert_eq!(DsYuvRange::from_raw(1).ok(), Some(YuvRange::Video));
        assert_eq!(DsYuvMatrix::from_raw(1).ok(), Some(YuvMatrix::Bt709));
        assert_eq!(DsSex::from_raw(2).ok(), Some(Some(Sex::Male)));
        for bad in [3, 99, u32::MAX] {
            assert!(matches!(DsCropPolicy::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(DsMaskMode::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(DsPixelFormat::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(DsYuvRange::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(DsYuvMatrix::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(DsSex::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
        }
        // The message names the argument, its C enum and what it accepts.
        let message = |r: Result<_, DermscanError>| match r {
            Err(DermscanError::InvalidArgument(m)) => m,
            _ => String::new(),
        };
        assert_eq!(message(DsCropPolicy::from_raw(3).map(|_| ())), "crop 3 is not a DsCropPolicy (DS_CROP_AUTO or DS_CROP_WHOLE_IMAGE)");
        assert_eq!(message(DsSex::from_raw(7).map(|_| ())), "sex 7 is not a DsSex (UNKNOWN, FEMALE or MALE)");
    }

    #[test]
    fn zeroed_and_null_options_are_the_defaults() {
        let zeroed = DsScanOptions {
            has_box: false,
            x0: 0.0,
            y0: 0.0,
            x1: 0.0,
            y1: 0.0,
            crop: 0,
            mask_mode: 0,
            has_scale: false,
            mm_per_px: 0.0,
            has_age: false,
            age_years: 0.0,
            sex: 0,
            body_site: std::ptr::null(),
            cancel: std::ptr::null(),
            progress: None,
            progress_user_data: std::ptr::null_mut(),
        };
        // SAFETY: a valid struct and NULL.
        let a = unsafe { DsScanOptions::read(&zeroed) }.expect("zeroed");
        // SAFETY: `std` is NULL or points to a readable `DsScanOptions` (this function's contract).
        let b = unsafe { DsScanOptions::read(std::ptr::null()) }.expect("null");
        let core_a: dermscan_core::ScanOptions = a.to_core().expect("valid options");
        let core_b: dermscan_core::ScanOptions = b.to_core().expect("valid options");
        assert_eq!(format!("{core_a:?}"), format!("{core_b:?}"));
        for bad in [DsScanOptions { crop: 5, ..zeroed }, DsScanOptions { sex: 3, ..zeroed }] {
            // SAFETY: a valid struct.
            assert!(matches!(unsafe { DsScanOptions::read(&bad) }, Err(DermscanError::InvalidArgument(_))));
        }
        let site = c"back";
        let given =
            DsScanOptions { has_scale: true, mm_per_px: 0.05, has_age: true, age_years: 45.0, sex: 1, body_site: site.as_ptr(), ..zeroed };
        // SAFETY: a valid struct whose `body_site` is a NUL-terminated string.
        let read = unsafe { DsScanOptions::read(&given) }.expect("given");
        assert_eq!(
            (read.mm_per_px, read.age_years, read.sex, read.body_site.as_deref()),
            (Some(0.05), Some(45.0), Some(Sex::Female), Some("back"))
        );
    }
}
