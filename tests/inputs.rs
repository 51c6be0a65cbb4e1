//! Image input: EXIF orientation, and every kind of bad input ends in a typed error.

mod support;

use dermscan::error::{Error, ImageError, PromptError};
use dermscan::{BoxPrompt, Image, ImageLimits, PixelFormat, ScanOptions};
use image::ImageEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use support::synth;

fn jpeg(img: &image::RgbImage, exif_orientation: Option<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, 95);
    if let Some(o) = exif_orientation {
        // Big-endian TIFF header, one IFD entry: Orientation (0x0112), SHORT, count 1.
        let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01".to_vec();
        tiff.extend_from_slice(&o.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        enc.set_exif_metadata(tiff).expect("exif");
    }
    enc.write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8).expect("jpeg");
    out
}

#[test]
fn exif_orientation_6_gives_the_mask_of_the_upright_photo() {
    let case = synth::render(&synth::standard_set(11, 1)[0]);
    // Orientation 6: the stored pixels must be turned 90 degrees clockwise to be upright.
    let stored = image::imageops::rotate270(&case.image);
    let upright = &case.image;
    let from_exif = Image::from_bytes(&jpeg(&stored, Some(6)), &ImageLimits::default()).expect("decode");
    let plain = Image::from_bytes(&jpeg(upright, None), &ImageLimits::default()).expect("decode");
    assert_eq!((from_exif.width(), from_exif.height()), (upright.width(), upright.height()));

    let engine = support::engine("litemedsam");
    let [x0, y0, x1, y1] = case.bbox;
    let opts = ScanOptions::default().with_box(BoxPrompt::new(x0, y0, x1, y1));
    let a = engine.scan(&from_exif, &opts).expect("scan exif");
    let b = engine.scan(&plain, &opts).expect("scan plain");
    assert_eq!((a.mask.width(), a.mask.height()), (upright.width(), upright.height()));
    let dice = synth::dice(a.mask.pixels(), b.mask.pixels());
    assert!(dice > 0.97, "EXIF-rotated mask vs upright mask Dice {dice:.4}");
    assert!(synth::dice(a.mask.pixels(), case.mask.as_raw()) > 0.8);
}

#[test]
fn bad_images_are_typed_errors() {
    let limits = ImageLimits::default();
    assert!(matches!(Image::from_bytes(&[], &limits), Err(ImageError::Empty)));
    assert!(matches!(Image::from_bytes(b"hello, not an image", &limits), Err(ImageError::UnsupportedFormat)));

    let case = synth::render(&synth::standard_set(11, 1)[0]);
    let full = jpeg(&case.image, None);
    for cut in [full.len() / 2, 200, 3] {
        let err = Image::from_bytes(&full[..cut], &limits).expect_err("truncated JPEG must not decode");
        assert!(matches!(err, ImageError::Decode(_) | ImageError::Truncated | ImageError::UnsupportedFormat), "{cut}: {err:?}");
    }

    // A tiny PNG whose header declares 100000 x 100000 pixels.
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(&[0u8; 3], 1, 1, image::ExtendedColorType::Rgb8).expect("png");
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = Image::from_bytes(&png, &limits).expect_err("bomb");
    assert!(matches!(err, ImageError::TooLarge { width: 100_000, height: 100_000, .. }), "{err:?}");
    assert!(err.to_string().contains("limit"));
}

#[test]
fn bad_raw_buffers_are_typed_errors() {
    let limits = ImageLimits::default();
    assert!(matches!(Image::from_raw(&[], 0, 0, 0, PixelFormat::Rgba8, &limits), Err(ImageError::ZeroSize { .. })));
    assert!(matches!(
        Image::from_raw(&[0; 64], 4, 4, 8, PixelFormat::Rgba8, &limits),
        Err(ImageError::StrideTooSmall { stride: 8, row_bytes: 16 })
    ));
    assert!(matches!(Image::from_raw(&[0; 60], 4, 4, 16, PixelFormat::Rgba8, &limits), Err(ImageError::BufferTooSmall { .. })));
    assert!(matches!(Image::from_raw(&[0; 16], 200_000, 200_000, 800_000, PixelFormat::Rgba8, &limits), Err(ImageError::TooLarge { .. })));
    // Padded rows and BGRA are honoured.
    let bgra = [1u8, 2, 3, 255, 9, 9, 9, 9, 4, 5, 6, 255, 9, 9, 9, 9];
    let img = Image::from_raw(&bgra, 1, 2, 8, PixelFormat::Bgra8, &limits).expect("bgra");
    assert_eq!(img.as_rgb(), &[3, 2, 1, 6, 5, 4]);
}

#[test]
fn boxes_outside_the_image_are_typed_errors() {
    let engine = support::engine("litemedsam");
    let img = Image::from_rgb(64, 48, vec![200; 64 * 48 * 3]).expect("img");
    for b in [
        BoxPrompt::new(10.0, 10.0, 100.0, 40.0),
        BoxPrompt::new(-5.0, 0.0, 10.0, 10.0),
        BoxPrompt::new(20.0, 20.0, 10.0, 30.0),
        BoxPrompt::new(f32::NAN, 0.0, 5.0, 5.0),
    ] {
        let err = engine.scan(&img, &ScanOptions::default().with_box(b)).expect_err("bad box");
        assert!(matches!(err, Error::Prompt(PromptError::OutOfBounds { .. } | PromptError::InvalidBox { .. })), "{b:?}: {err:?}");
    }
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
