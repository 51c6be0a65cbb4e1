//! A binary lesion mask at the original image resolution, with its measurements.

use imageproc::contours::{BorderType, find_contours};

use crate::image::PixelRect;

/// A segmentation mask: one byte a pixel, 255 inside the lesion and 0 outside, at the size of
/// the oriented input image.
#[derive(Clone, PartialEq)]
pub struct Mask {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) pixels: Vec<u8>,
    pub(crate) iou_score: f32,
    pub(crate) low_res_logits: Vec<f32>,
    pub(crate) decoder_ms: f64,
    pub(crate) postprocess_ms: f64,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mask")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("area_px", &self.area_px())
            .field("iou_score", &self.iou_score)
            .finish()
    }
}

impl Mask {
    /// Builds a mask from a 0/non-zero byte buffer of `width * height` pixels (non-zero becomes 255).
    ///
    /// ```
    /// use dermscan_core::segment::Mask;
    /// let m = Mask::from_pixels(3, 2, vec![0, 1, 1, 0, 1, 0]).expect("6 pixels");
    /// assert_eq!(m.area_px(), 3);
    /// assert_eq!(m.bbox(), Some([1, 0, 3, 2]));
    /// ```
    pub fn from_pixels(width: u32, height: u32, mut pixels: Vec<u8>) -> Option<Self> {
        if pixels.len() != width as usize * height as usize || width == 0 || height == 0 {
            return None;
        }
        pixels.iter_mut().for_each(|p| *p = if *p != 0 { 255 } else { 0 });
        Some(Self { width, height, pixels, iou_score: 0.0, low_res_logits: Vec::new(), decoder_ms: 0.0, postprocess_ms: 0.0 })
    }

    /// An empty mask (no lesion) of `width` x `height`.
    pub fn empty(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            pixels: vec![0; width as usize * height as usize],
            iou_score: 0.0,
            low_res_logits: Vec::new(),
            decoder_ms: 0.0,
            postprocess_ms: 0.0,
        }
    }

    /// This mask's pixels with `other`'s model score and timings (for masks derived from a
    /// decoded one).
    pub(crate) fn with_scores_of(mut self, other: &Mask) -> Self {
        self.iou_score = other.iou_score;
        self.low_res_logits = other.low_res_logits.clone();
        self.decoder_ms = other.decoder_ms;
        self.postprocess_ms = other.postprocess_ms;
        self
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Pixels, row by row: 255 inside, 0 outside.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The model's own estimate of the mask's IoU (0..1).
    pub fn iou_score(&self) -> f32 {
        self.iou_score
    }

    /// Number of lesion pixels.
    pub fn area_px(&self) -> u64 {
        self.pixels.iter().filter(|&&p| p != 0).count() as u64
    }

    /// Tight bounding box `[x0, y0, x1, y1]` of the lesion pixels (x1, y1 exclusive), or `None`
    /// for an empty mask.
    pub fn bbox(&self) -> Option<[u32; 4]> {
        pixel_bbox(&self.pixels, self.width)
    }

    /// Outer contour of the largest lesion region as a closed polygon of pixel positions
    /// `[x, y]`; empty for an empty mask.
    pub fn contour(&self) -> Vec<[u32; 2]> {
        let Some([x0, y0, x1, y1]) = self.bbox() else { return Vec::new() };
        // Trace on the bounding box (plus a 1 px frame) rather than the whole photo.
        let rect = PixelRect { x: x0.saturating_sub(1), y: y0.saturating_sub(1), width: 0, height: 0 };
        let (rw, rh) = ((x1 + 1).min(self.width) - rect.x, (y1 + 1).min(self.height) - rect.y);
        let sub =
            ::image::GrayImage::from_fn(rw, rh, |x, y| ::image::Luma([self.pixels[((y + rect.y) * self.width + x + rect.x) as usize]]));
        find_contours::<u32>(&sub)
            .into_iter()
            .filter(|c| c.border_type == BorderType::Outer)
            .max_by(|a, b| polygon_area(&a.points).total_cmp(&polygon_area(&b.points)))
            .map(|c| c.points.iter().map(|p| [p.x + rect.x, p.y + rect.y]).collect())
            .unwrap_or_default()
    }

    /// The selected mask's low-resolution logits, to pass back as a mask prompt.
    pub fn low_res_logits(&self) -> &[f32] {
        &self.low_res_logits
    }

    /// Milliseconds spent in the decoder (ONNX Runtime).
    pub fn decoder_ms(&self) -> f64 {
        self.decoder_ms
    }

    /// Milliseconds spent turning logits into this mask.
    pub fn postprocess_ms(&self) -> f64 {
        self.postprocess_ms
    }

    /// Dice overlap `2|A∩B| / (|A|+|B|)` with another mask of the same size (1.0 when both are
    /// empty, 0.0 when sizes differ).
    pub fn dice(&self, other: &Mask) -> f64 {
        if (self.width, self.height) != (other.width, other.height) {
            return 0.0;
        }
        let (mut inter, mut total) = (0u64, 0u64);
        for (a, b) in self.pixels.iter().zip(&other.pixels) {
            let (a, b) = (*a != 0, *b != 0);
            inter += u64::from(a && b);
            total += u64::from(a) + u64::from(b);
        }
        if total == 0 { 1.0 } else { 2.0 * inter as f64 / total as f64 }
    }

    /// The pixels in either mask (`self` unchanged when the sizes differ). Scores and timings
    /// are `self`'s.
    ///
    /// ```
    /// use dermscan_core::segment::Mask;
    /// let a = Mask::from_pixels(4, 1, vec![1, 1, 0, 0]).expect("4 pixels");
    /// let b = Mask::from_pixels(4, 1, vec![0, 1, 1, 0]).expect("4 pixels");
    /// assert_eq!(a.union(&b).area_px(), 3);
    /// ```
    pub fn union(&self, other: &Mask) -> Mask {
        if (self.width, self.height) != (other.width, other.height) {
            return self.clone();
        }
        let pixels = self.pixels.iter().zip(&other.pixels).map(|(a, b)| a | b).collect();
        Self { pixels, ..self.clone() }
    }

    /// Encodes the mask as an 8-bit greyscale PNG (0/255).
    pub fn to_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let encoder = ::image::codecs::png::PngEncoder::new(&mut out);
        // Writing to a Vec cannot fail for a buffer whose size matches its dimensions.
        let _ = ::image::ImageEncoder::write_image(encoder, &self.pixels, self.width, self.height, ::image::ExtendedColorType::L8);
        out
    }
}

/// Tight box `[x0, y0, x1, y1]` (x1, y1 exclusive) of the non-zero pixels of a row-major
/// `width`-wide buffer; `None` when all are zero.
pub(crate) fn pixel_bbox(pixels: &[u8], width: u32) -> Option<[u32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (y, row) in pixels.chunks_exact(width as usize).enumerate() {
        if let (Some(first), Some(last)) = (row.iter().position(|&p| p != 0), row.iter().rposition(|&p| p != 0)) {
            x0 = x0.min(first as u32);
            x1 = x1.max(last as u32 + 1);
            y0 = y0.min(y as u32);
            y1 = y as u32 + 1;
        }
    }
    (x0 != u32::MAX).then_some([x0, y0, x1, y1])
}

fn polygon_area(points: &[imageproc::point::Point<u32>]) -> f64 {
    let n = points.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let (a, b) = (points[i], points[(i + 1) % n]);
            f64::from(a.x) * f64::from(b.y) - f64::from(b.x) * f64::from(a.y)
        })
        .sum();
    twice.abs() / 2.0 + n as f64
}
