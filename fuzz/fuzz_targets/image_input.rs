//! Every way a picture comes in: encoded bytes (JPEG, PNG, anything else), raw buffers of
//! every layout with any size and stride, and YUV frames with any planes, strides and turn.
#![no_main]

use dermscan_core::image::{FrameOrientation, Image, ImageLimits, PixelFormat, YuvFrame, YuvMatrix, YuvPlane, YuvRange};
use libfuzzer_sys::fuzz_target;

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

fuzz_target!(|data: &[u8]| {
    // Small limits: the fuzzer must spend its time on parsing, not on big allocations.
    let limits = ImageLimits { max_pixels: 1 << 18 };
    let mut b = Bytes(data);
    match b.u8() % 3 {
        0 => {
            if let Ok(img) = Image::from_bytes(b.rest(), &limits) {
                assert_eq!(img.as_rgb().len(), img.width() as usize * img.height() as usize * 3);
            }
        }
        1 => {
            let (w, h, stride) = (u32::from(b.u16()), u32::from(b.u16()), b.u16() as usize);
            let format = [PixelFormat::Rgba8, PixelFormat::Bgra8, PixelFormat::Rgb8][usize::from(b.u8() % 3)];
            if let Ok(img) = Image::from_raw(b.rest(), w, h, stride, format, &limits) {
                assert_eq!((img.width(), img.height()), (w, h));
            }
        }
        _ => {
            let (w, h) = (u32::from(b.u16()), u32::from(b.u16()));
            let strides = [(b.u16() as usize, 1), (b.u16() as usize, usize::from(b.u8() % 4)), (b.u16() as usize, usize::from(b.u8() % 4))];
            let range = if b.u8() % 2 == 0 { YuvRange::Full } else { YuvRange::Video };
            let matrix = if b.u8() % 2 == 0 { YuvMatrix::Bt601 } else { YuvMatrix::Bt709 };
            let degrees = match b.u8() % 5 {
                4 => b.u32(),
                q => u32::from(q) * 90,
            };
            let mirrored = b.u8() % 2 == 1;
            let (ly, lu) = (b.u16() as usize, b.u16() as usize);
            let (y, u, v) = (b.take(ly), b.take(lu), b.rest());
            let plane = |data, (row_stride, pixel_stride)| YuvPlane { data, row_stride, pixel_stride };
            let frame =
                YuvFrame { width: w, height: h, y: plane(y, strides[0]), u: plane(u, strides[1]), v: plane(v, strides[2]), range, matrix };
            let Ok(orientation) = FrameOrientation::new(degrees, mirrored) else { return };
            if let Ok(img) = Image::from_yuv(&frame, orientation, &limits) {
                let turned = degrees % 180 == 90;
                assert_eq!((img.width(), img.height()), if turned { (h, w) } else { (w, h) });
            }
        }
    }
});
