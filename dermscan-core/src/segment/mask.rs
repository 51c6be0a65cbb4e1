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
    /// assert_eq!(m.bbox().map(|r| r.corners()), Some([1, 0, 3, 2]));
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

    /// Tight bounding box of the lesion pixels, or `None` for an empty mask.
    pub fn bbox(&self) -> Option<PixelRect> {
        pixel_bbox(&self.pixels, self.width).map(PixelRect::from_corners)
    }

    /// Outer contour of the largest lesion region as a closed polygon of pixel positions
    /// `[x, y]`; empty for an empty mask.
    pub fn contour(&self) -> Vec<[u32; 2]> {
        self.trace_outer(Edge::CutOff).into_iter().max_by(|a, b| polygon_area(a).total_cmp(&polygon_area(b))).unwrap_or_default()
    }

    /// Outer borders of every lesion region, in the order they are found (row by row), each a
    /// closed polygon of pixel positions `[x, y]` through the region's border pixels. Regions
    /// touching the image's edge are closed along it. Empty for an empty mask.
    ///
    /// ```
    /// use dermscan_core::segment::Mask;
    /// // Two regions; the second touches the right edge.
    /// let m = Mask::from_pixels(6, 3, vec![0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]).expect("18 pixels");
    /// let contours = m.outer_contours();
    /// assert_eq!(contours, vec![vec![[1, 0], [1, 1], [2, 1], [2, 0]], vec![[5, 0], [5, 1]]]);
    /// ```
    pub fn outer_contours(&self) -> Vec<Vec<[u32; 2]>> {
        self.trace_outer(Edge::Background)
    }

    /// Outer borders of the lesion regions (Suzuki-Abe border following, imageproc's
    /// `find_contours`), traced on the lesion's box plus a 1 px margin rather than the whole
    /// image; `edge` says what that margin is beyond the image.
    fn trace_outer(&self, edge: Edge) -> Vec<Vec<[u32; 2]>> {
        let Some([x0, y0, x1, y1]) = pixel_bbox(&self.pixels, self.width) else { return Vec::new() };
        let (w, h) = (i64::from(self.width), i64::from(self.height));
        let [x0, y0, x1, y1] = [x0, y0, x1, y1].map(i64::from);
        let [ox, oy, ex, ey] = match edge {
            Edge::Background => [x0 - 1, y0 - 1, x1 + 1, y1 + 1],
            Edge::CutOff => [(x0 - 1).max(0), (y0 - 1).max(0), (x1 + 1).min(w), (y1 + 1).min(h)],
        };
        let window = ::image::GrayImage::from_fn((ex - ox) as u32, (ey - oy) as u32, |x, y| {
            let (x, y) = (i64::from(x) + ox, i64::from(y) + oy);
            let inside = (0..w).contains(&x) && (0..h).contains(&y);
            ::image::Luma([if inside { self.pixels.get((y * w + x) as usize).copied().unwrap_or(0) } else { 0 }])
        });
        find_contours::<i64>(&window)
            .into_iter()
            .filter(|c| c.border_type == BorderType::Outer)
            .map(|c| c.points.iter().map(|p| [(p.x + ox) as u32, (p.y + oy) as u32]).collect())
            .collect()
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
    bbox_where(pixels, width, |&p| p != 0)
}

/// Tight box `[x0, y0, x1, y1]` (x1, y1 exclusive) of the values of a row-major `width`-wide
/// buffer for which `keep` holds; `None` when it holds for none.
pub(crate) fn bbox_where<T>(values: &[T], width: u32, keep: impl Fn(&T) -> bool) -> Option<[u32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (y, row) in values.chunks_exact(width as usize).enumerate() {
        if let (Some(first), Some(last)) = (row.iter().position(&keep), row.iter().rposition(&keep)) {
            x0 = x0.min(first as u32);
            x1 = x1.max(last as u32 + 1);
            y0 = y0.min(y as u32);
            y1 = y as u32 + 1;
        }
    }
    (x0 != u32::MAX).then_some([x0, y0, x1, y1])
}

/// What the 1 px margin around a traced lesion's box is where it lies beyond the image.
#[derive(Clone, Copy)]
enum Edge {
    /// Background, so a region touching the edge is closed along it.
    Background,
    /// Left out: the margin stops at the image. imageproc then starts no outer border on the
    /// window's first column, so a region whose top row starts on the image's left edge has
    /// none. [`Mask::contour`] has always traced this way.
    CutOff,
}

/// Area enclosed by a closed polygon of pixel positions (shoelace) plus its point count.
fn polygon_area(points: &[[u32; 2]]) -> f64 {
    let n = points.len();
    let twice: i64 = (0..n)
        .map(|i| {
            let ([ax, ay], [bx, by]) = (points[i], points[(i + 1) % n]);
            i64::from(ax) * i64::from(by) - i64::from(bx) * i64::from(ay)
        })
        .sum();
    twice.abs() as f64 / 2.0 + n as f64
}
