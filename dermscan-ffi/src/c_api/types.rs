//! Plain C structs and enums, and their checked conversions to the records of [`crate::types`].
//!
//! Enum values coming from C are taken as `uint32_t` and checked ([`DsCropPolicy::from_raw`]
//! and friends): an out-of-range value is `DS_INVALID_ARGUMENT`, never undefined behaviour.

use crate::error::DermscanError;
use crate::image::PixelFormat;
use dermscan_core::{BoxPrompt, CropPolicy, MaskMode, PointLabel, PointPrompt};

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

impl DsCropPolicy {
    pub(crate) fn from_raw(value: u32) -> Result<CropPolicy, DermscanError> {
        match value {
            v if v == Self::DS_CROP_AUTO as u32 => Ok(CropPolicy::Auto),
            v if v == Self::DS_CROP_WHOLE_IMAGE as u32 => Ok(CropPolicy::WholeImage),
            v => Err(DermscanError::InvalidArgument(format!("crop {v} is not a DsCropPolicy (DS_CROP_AUTO or DS_CROP_WHOLE_IMAGE)"))),
        }
    }
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

impl DsMaskMode {
    pub(crate) fn from_raw(value: u32) -> Result<MaskMode, DermscanError> {
        match value {
            v if v == Self::DS_MASK_MODE_LESION as u32 => Ok(MaskMode::Lesion),
            v if v == Self::DS_MASK_MODE_UPSTREAM as u32 => Ok(MaskMode::Upstream),
            v => Err(DermscanError::InvalidArgument(format!(
                "mask_mode {v} is not a DsMaskMode (DS_MASK_MODE_LESION or DS_MASK_MODE_UPSTREAM)"
            ))),
        }
    }
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

impl DsPixelFormat {
    pub(crate) fn from_raw(value: u32) -> Result<PixelFormat, DermscanError> {
        match value {
            v if v == Self::DS_PIXEL_FORMAT_RGBA8 as u32 => Ok(PixelFormat::Rgba8),
            v if v == Self::DS_PIXEL_FORMAT_BGRA8 as u32 => Ok(PixelFormat::Bgra8),
            v if v == Self::DS_PIXEL_FORMAT_RGB8 as u32 => Ok(PixelFormat::Rgb8),
            v => Err(DermscanError::InvalidArgument(format!("format {v} is not a DsPixelFormat (RGBA8, BGRA8 or RGB8)"))),
        }
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
}

impl DsScanOptions {
    /// Reads and checks the options behind `ptr` (NULL: the defaults).
    ///
    /// # Safety
    /// `ptr` is NULL or points to a readable `DsScanOptions`.
    pub(crate) unsafe fn read(ptr: *const Self) -> Result<ScanOptions, DermscanError> {
        if ptr.is_null() {
            return Ok(ScanOptions::default());
        }
        // SAFETY: the caller guarantees `ptr` is readable. `has_box` is read as its byte, so a
        // byte other than 0 or 1 (C code that memcpy'd garbage) is not an invalid `bool`.
        let (has_box, x0, y0, x1, y1, crop, mask_mode) = unsafe {
            ((&raw const (*ptr).has_box).cast::<u8>().read(), (*ptr).x0, (*ptr).y0, (*ptr).x1, (*ptr).y1, (*ptr).crop, (*ptr).mask_mode)
        };
        Ok(ScanOptions {
            bbox: (has_box != 0).then_some(BoxPrompt::new(x0, y0, x1, y1)),
            crop: Some(DsCropPolicy::from_raw(crop)?),
            mask_mode: Some(DsMaskMode::from_raw(mask_mode)?),
            ..ScanOptions::default()
        })
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
        for bad in [3, 99, u32::MAX] {
            assert!(matches!(DsCropPolicy::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(DsMaskMode::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
            assert!(matches!(DsPixelFormat::from_raw(bad), Err(DermscanError::InvalidArgument(_))));
        }
    }

    #[test]
    fn zeroed_and_null_options_are_the_defaults() {
        let zeroed = DsScanOptions { has_box: false, x0: 0.0, y0: 0.0, x1: 0.0, y1: 0.0, crop: 0, mask_mode: 0 };
        // SAFETY: a valid struct and NULL.
        let a = unsafe { DsScanOptions::read(&zeroed) }.expect("zeroed");
        // SAFETY: `std` is NULL or points to a readable `DsScanOptions` (this function's contract).
        let b = unsafe { DsScanOptions::read(std::ptr::null()) }.expect("null");
        let core_a: dermscan_core::ScanOptions = a.to_core().expect("valid options");
        let core_b: dermscan_core::ScanOptions = b.to_core().expect("valid options");
        assert_eq!(format!("{core_a:?}"), format!("{core_b:?}"));
        let bad = DsScanOptions { crop: 5, ..zeroed };
        // SAFETY: a valid struct.
        assert!(matches!(unsafe { DsScanOptions::read(&bad) }, Err(DermscanError::InvalidArgument(_))));
    }
}
