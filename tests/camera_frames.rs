//! YUV 4:2:0 camera frames (issue 15): every layout, range and matrix converts within 2 grey
//! levels of a floating-point reference, scans to the mask of the reference's RGB, and a
//! rotated or mirrored frame gives the upright mask.

mod support;

use dermscan::error::{ImageError, YuvPlaneKind};
use dermscan::image::YuvPlane;
use dermscan::{FrameOrientation, Image, ImageLimits, ScanOptions, YuvFrame, YuvMatrix, YuvRange};
use support::synth::dice;

/// Kr, Kb of a matrix.
fn coefficients(matrix: YuvMatrix) -> (f64, f64) {
    match matrix {
        YuvMatrix::Bt709 => (0.2126, 0.0722),
        _ => (0.299, 0.114),
    }
}

/// (luma scale, luma offset, chroma scale) of a range.
fn range_scale(range: YuvRange) -> (f64, f64, f64) {
    match range {
        YuvRange::Video => (219.0 / 255.0, 16.0, 224.0 / 255.0),
        _ => (1.0, 0.0, 1.0),
    }
}

/// A 4:2:0 frame as three packed planes (Y, U, V), chroma averaged over 2x2 blocks.
struct Planes {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl Planes {
    fn chroma_size(&self) -> (usize, usize) {
        (self.width.div_ceil(2), self.height.div_ceil(2))
    }
}

/// Encodes RGB to YUV 4:2:0 in floating point (what a camera's ISP does).
fn encode(rgb: &image::RgbImage, range: YuvRange, matrix: YuvMatrix) -> Planes {
    let (kr, kb) = coefficients(matrix);
    let kg = 1.0 - kr - kb;
    let (ys, yo, cs) = range_scale(range);
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let px = |x: usize, y: usize| rgb.get_pixel(x as u32, y as u32).0.map(f64::from);
    let to_u8 = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    let mut planes = Planes { width: w, height: h, y: Vec::with_capacity(w * h), u: Vec::new(), v: Vec::new() };
    for y in 0..h {
        for x in 0..w {
            let [r, g, b] = px(x, y);
            planes.y.push(to_u8((kr * r + kg * g + kb * b) * ys + yo));
        }
    }
    let (cw, ch) = planes.chroma_size();
    for cy in 0..ch {
        for cx in 0..cw {
            let (mut cb, mut cr, mut n) = (0.0, 0.0, 0.0);
            for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1)].map(|(dx, dy)| (2 * cx + dx, 2 * cy + dy)) {
                if x < w && y < h {
                    let [r, g, b] = px(x, y);
                    let luma = kr * r + kg * g + kb * b;
                    cb += (b - luma) / (2.0 * (1.0 - kb));
                    cr += (r - luma) / (2.0 * (1.0 - kr));
                    n += 1.0;
                }
            }
            planes.u.push(to_u8(cb / n * cs + 128.0));
            planes.v.push(to_u8(cr / n * cs + 128.0));
        }
    }
    planes
}

/// The reference conversion back to RGB, in floating point, each chroma sample covering its
/// 2x2 block.
fn reference_rgb(p: &Planes, range: YuvRange, matrix: YuvMatrix) -> image::RgbImage {
    let (kr, kb) = coefficients(matrix);
    let kg = 1.0 - kr - kb;
    let (ys, yo, cs) = range_scale(range);
    let (cw, _) = p.chroma_size();
    image::RgbImage::from_fn(p.width as u32, p.height as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let luma = (f64::from(p.y[y * p.width + x]) - yo) / ys;
        let c = (y / 2) * cw + x / 2;
        let cb = (f64::from(p.u[c]) - 128.0) / cs;
        let cr = (f64::from(p.v[c]) - 128.0) / cs;
        let r = luma + 2.0 * (1.0 - kr) * cr;
        let b = luma + 2.0 * (1.0 - kb) * cb;
        let g = (luma - kr * r - kb * b) / kg;
        image::Rgb([r, g, b].map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

/// The frame's bytes in one memory layout, with padded rows like real camera buffers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    I420,
    Nv12,
    Nv21,
    /// Android `YUV_420_888` as CameraX hands it out: U and V planes are views into one
    /// interleaved V,U buffer (pixel stride 2), each cut after its last sample.
    Android420888,
}

const LAYOUTS: [Layout; 4] = [Layout::I420, Layout::Nv12, Layout::Nv21, Layout::Android420888];

struct Buffers {
    y: Vec<u8>,
    y_stride: usize,
    c1: Vec<u8>,
    c2: Vec<u8>,
    c_stride: usize,
}

/// Copies `rows` of `width` bytes into rows of `stride` bytes (the last row unpadded).
fn padded(data: &[u8], width: usize, rows: usize, stride: usize) -> Vec<u8> {
    let mut out = vec![0xAA; stride * (rows - 1) + width];
    for r in 0..rows {
        out[r * stride..r * stride + width].copy_from_slice(&data[r * width..(r + 1) * width]);
    }
    out
}

fn lay_out(p: &Planes, layout: Layout) -> Buffers {
    let (cw, ch) = p.chroma_size();
    let y_stride = p.width + 24;
    let y = padded(&p.y, p.width, p.height, y_stride);
    match layout {
        Layout::I420 => {
            let c_stride = cw + 8;
            Buffers { y, y_stride, c1: padded(&p.u, cw, ch, c_stride), c2: padded(&p.v, cw, ch, c_stride), c_stride }
        }
        Layout::Nv12 | Layout::Nv21 | Layout::Android420888 => {
            let (first, second) = if layout == Layout::Nv12 { (&p.u, &p.v) } else { (&p.v, &p.u) };
            let pairs: Vec<u8> = first.iter().zip(second).flat_map(|(&a, &b)| [a, b]).collect();
            let c_stride = 2 * cw + 16;
            Buffers { y, y_stride, c1: padded(&pairs, 2 * cw, ch, c_stride), c2: Vec::new(), c_stride }
        }
    }
}

fn frame<'a>(b: &'a Buffers, p: &Planes, layout: Layout, range: YuvRange, matrix: YuvMatrix) -> YuvFrame<'a> {
    let (w, h) = (p.width as u32, p.height as u32);
    match layout {
        Layout::I420 => YuvFrame::i420(w, h, &b.y, b.y_stride, &b.c1, &b.c2, b.c_stride, range, matrix),
        Layout::Nv12 => YuvFrame::nv12(w, h, &b.y, b.y_stride, &b.c1, b.c_stride, range, matrix),
        Layout::Nv21 => YuvFrame::nv21(w, h, &b.y, b.y_stride, &b.c1, b.c_stride, range, matrix),
        Layout::Android420888 => {
            let vu = &b.c1;
            YuvFrame {
                width: w,
                height: h,
                y: YuvPlane::new(&b.y, b.y_stride),
                u: YuvPlane { data: &vu[1..], row_stride: b.c_stride, pixel_stride: 2 },
                v: YuvPlane { data: &vu[..vu.len() - 1], row_stride: b.c_stride, pixel_stride: 2 },
                range,
                matrix,
            }
        }
    }
}

fn max_abs_diff(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0)
}

fn sample() -> image::RgbImage {
    image::open(support::sample_photo()).expect("sample photo").into_rgb8()
}

#[test]
fn every_layout_range_and_matrix_converts_within_2_grey_levels() {
    // The sample photo, and a small frame of odd size (chroma of the last row and column
    // covers one pixel, not two).
    let photo = sample();
    let odd = image::imageops::crop_imm(&photo, 500, 400, 101, 77).to_image();
    let mut lines = Vec::new();
    for rgb in [&photo, &odd] {
        for range in [YuvRange::Full, YuvRange::Video] {
            for matrix in [YuvMatrix::Bt601, YuvMatrix::Bt709] {
                let planes = encode(rgb, range, matrix);
                let reference = reference_rgb(&planes, range, matrix);
                let mut first: Option<Vec<u8>> = None;
                for layout in LAYOUTS {
                    let buffers = lay_out(&planes, layout);
                    let f = frame(&buffers, &planes, layout, range, matrix);
                    let img = Image::from_yuv(&f, FrameOrientation::UPRIGHT, &ImageLimits::default()).expect("convert");
                    assert_eq!((img.width(), img.height()), reference.dimensions());
                    let d = max_abs_diff(img.as_rgb(), reference.as_raw());
                    lines.push(format!("{}x{} {range:?} {matrix:?} {layout:?}: max difference {d}", rgb.width(), rgb.height()));
                    assert!(d <= 2, "{layout:?} {range:?} {matrix:?}: {d} grey levels from the reference");
                    // The same samples in another layout give the very same pixels.
                    match &first {
                        None => first = Some(img.as_rgb().to_vec()),
                        Some(f) => assert!(f == img.as_rgb(), "{layout:?} differs from I420"),
                    }
                }
            }
        }
    }
    support::report("yuv_conversion", &lines.join("\n"));
}

#[test]
fn yuv_frames_scan_to_the_mask_of_the_reference_rgb_and_rotate_upright() {
    let engine = support::engine("litemedsam");
    let photo = sample();
    let (w, h) = photo.dimensions();
    let opts = ScanOptions::default();
    let scan = |img: &Image| engine.scan(img, &opts).expect("scan");
    let original = scan(&Image::from_rgb(w, h, photo.as_raw().clone()).expect("rgb"));
    let mut lines = Vec::new();
    for (range, matrix, layout) in
        [(YuvRange::Full, YuvMatrix::Bt601, Layout::Android420888), (YuvRange::Video, YuvMatrix::Bt709, Layout::Nv12)]
    {
        let planes = encode(&photo, range, matrix);
        let reference = reference_rgb(&planes, range, matrix);
        let expected = scan(&Image::from_rgb(w, h, reference.into_raw()).expect("rgb"));
        let buffers = lay_out(&planes, layout);
        let img = Image::from_yuv(&frame(&buffers, &planes, layout, range, matrix), FrameOrientation::UPRIGHT, &ImageLimits::default())
            .expect("convert");
        let got = scan(&img);
        let d = dice(got.mask.pixels(), expected.mask.pixels());
        let d_orig = dice(got.mask.pixels(), original.mask.pixels());
        lines.push(format!(
            "{layout:?} {range:?} {matrix:?}: Dice {d:.4} against the reference's RGB, {d_orig:.4} against the original photo \
             ({} / {} / {} px)",
            got.mask.area_px(),
            expected.mask.area_px(),
            original.mask.area_px()
        ));
        assert!(expected.mask.area_px() > 0, "the reference RGB has a lesion");
        assert!(d >= 0.98, "{}", lines.join("\n"));

        // The sensor stored the frame turned; its orientation turns it back (checked on the
        // first frame: the turn does not depend on the range or matrix).
        let turns: &[(u32, bool)] = if range == YuvRange::Full { &[(90, false), (270, true)] } else { &[] };
        for &(degrees, mirrored) in turns {
            let mut stored = match degrees {
                90 => image::imageops::rotate270(&photo),
                _ => image::imageops::rotate90(&photo),
            };
            if mirrored {
                // Mirrored after the rotation: undo that first, in the stored frame's axes.
                stored = image::imageops::flip_vertical(&stored);
            }
            let planes = encode(&stored, range, matrix);
            let buffers = lay_out(&planes, layout);
            let orientation = FrameOrientation::new(degrees, mirrored).expect("orientation");
            let img =
                Image::from_yuv(&frame(&buffers, &planes, layout, range, matrix), orientation, &ImageLimits::default()).expect("convert");
            assert_eq!((img.width(), img.height()), (w, h), "upright size");
            let turned = scan(&img);
            let d = dice(turned.mask.pixels(), got.mask.pixels());
            lines.push(format!("  stored turned, rotation {degrees}, mirrored {mirrored}: Dice {d:.4} against the upright frame's mask"));
            assert!(d >= 0.98, "{}", lines.join("\n"));
        }
    }
    support::report("yuv_scan", &lines.join("\n"));
}

#[test]
fn bad_yuv_frames_are_typed_errors() {
    let limits = ImageLimits::default();
    let (y, uv) = (vec![0u8; 16 * 8], vec![128u8; 16 * 4]);
    let ok = YuvFrame::nv12(16, 8, &y, 16, &uv, 16, YuvRange::Full, YuvMatrix::Bt601);
    assert!(Image::from_yuv(&ok, FrameOrientation::UPRIGHT, &limits).is_ok());

    let short_y = YuvFrame { y: YuvPlane::new(&y[..100], 16), ..ok };
    assert!(matches!(
        Image::from_yuv(&short_y, FrameOrientation::UPRIGHT, &limits),
        Err(ImageError::YuvPlaneTooSmall { plane: YuvPlaneKind::Y, len: 100, needed: 128 })
    ));
    let narrow = YuvFrame { u: YuvPlane { row_stride: 8, ..ok.u }, ..ok };
    assert!(matches!(
        Image::from_yuv(&narrow, FrameOrientation::UPRIGHT, &limits),
        Err(ImageError::YuvStride { plane: YuvPlaneKind::U, .. })
    ));
    let zero_step = YuvFrame { v: YuvPlane { pixel_stride: 0, ..ok.v }, ..ok };
    assert!(matches!(
        Image::from_yuv(&zero_step, FrameOrientation::UPRIGHT, &limits),
        Err(ImageError::YuvStride { plane: YuvPlaneKind::V, .. })
    ));
    let strided_luma = YuvFrame { y: YuvPlane { pixel_stride: 2, ..ok.y }, ..ok };
    assert!(matches!(
        Image::from_yuv(&strided_luma, FrameOrientation::UPRIGHT, &limits),
        Err(ImageError::YuvStride { plane: YuvPlaneKind::Y, .. })
    ));
    let empty = YuvFrame::i420(0, 8, &[], 0, &[], &[], 0, YuvRange::Full, YuvMatrix::Bt601);
    assert!(matches!(Image::from_yuv(&empty, FrameOrientation::UPRIGHT, &limits), Err(ImageError::ZeroSize { .. })));
    let huge = YuvFrame::i420(200_000, 200_000, &y, 200_000, &uv, &uv, 100_000, YuvRange::Full, YuvMatrix::Bt601);
    assert!(matches!(Image::from_yuv(&huge, FrameOrientation::UPRIGHT, &limits), Err(ImageError::TooLarge { .. })));
    // A stride so large that its product overflows is refused, not wrapped.
    let overflow = YuvFrame { y: YuvPlane::new(&y, usize::MAX / 2), ..ok };
    assert!(Image::from_yuv(&overflow, FrameOrientation::UPRIGHT, &limits).is_err());
    assert!(matches!(FrameOrientation::new(45, false), Err(ImageError::Rotation { degrees: 45 })));
    // NV21 with a one-byte chroma buffer: the U view is empty.
    let tiny = YuvFrame::nv21(2, 2, &y[..4], 2, &uv[..1], 2, YuvRange::Full, YuvMatrix::Bt601);
    assert!(matches!(
        Image::from_yuv(&tiny, FrameOrientation::UPRIGHT, &limits),
        Err(ImageError::YuvPlaneTooSmall { plane: YuvPlaneKind::U, .. })
    ));
}
