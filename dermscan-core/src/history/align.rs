//! Alignment of two masks of one lesion, for [`super::change::compare`] and the timeline's
//! outline pictures.
//!
//! The later photo is never taken from exactly the same place, so the later mask is moved onto
//! the earlier one ([`align`]): centroids on top of each other, then the rotation (any angle)
//! that maximises the overlap (IoU) of the outlines at equal area, searched coarse to fine from
//! the principal-axis orientation (both flips) and 36 evenly spaced angles on a sparse grid,
//! then a shift of up to 2 px. It works on the lesions' box, so its cost depends on the
//! lesion's size, not the photo's. When both scans carry a scale (`mm_per_px`) the later mask
//! is also resized into the earlier photo's pixels ([`scale_between`]), so a change of camera
//! distance does not read as growth.
//!
//! Coordinates follow [`crate::features`]: pixel `(i, j)` covers `[i, i+1) x [j, j+1)`, y points
//! down and positive angles turn clockwise on screen.

use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into};
use serde::{Deserialize, Serialize};

use super::ScanRecord;
use crate::error::HistoryError;
use crate::features::measure::eigen;
use crate::segment::Mask;

/// Smallest and largest scale [`align`] accepts: a zoom beyond 20 times between two photos of
/// one lesion is a wrong scale, not a second photo.
const SCALE_RANGE: (f64, f64) = (0.05, 20.0);

/// How the later (moving) mask was moved onto the earlier (reference) one: a point `p` of the
/// moving mask lands at `scale * R(rotation) * p + translation` in the reference frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// Translation `[x, y]` in pixels of the earlier photo (applied after rotation and scale).
    pub translation_px: [f64; 2],
    /// Rotation in degrees, in (-180, 180]; positive turns clockwise on screen.
    pub rotation_deg: f64,
    /// Scale applied to the later mask: `after.mm_per_px / before.mm_per_px`, or 1.
    pub scale: f64,
    /// Whether sizes were normalised to millimetres (both scans had a scale).
    pub scale_normalised: bool,
}

impl Alignment {
    /// Where a point `[x, y]` of the moving mask lands in the reference frame.
    ///
    /// ```
    /// use dermscan_core::history::Alignment;
    /// let a = Alignment { translation_px: [10.0, 0.0], rotation_deg: 90.0, scale: 2.0, scale_normalised: true };
    /// let [x, y] = a.map([1.0, 0.0]);
    /// assert!((x - 10.0).abs() < 1e-9 && (y - 2.0).abs() < 1e-9);
    /// ```
    pub fn map(&self, p: [f64; 2]) -> [f64; 2] {
        let (s, c) = self.rotation_deg.to_radians().sin_cos();
        let k = self.scale;
        [k * (c * p[0] - s * p[1]) + self.translation_px[0], k * (s * p[0] + c * p[1]) + self.translation_px[1]]
    }
}

/// The scale [`super::change::compare`] uses between two scans:
/// `Some(after.mm_per_px / before.mm_per_px)` when both have a scale, `None` otherwise. A scale
/// that is not finite and above 0 is an error.
pub fn scale_between(before: &ScanRecord, after: &ScanRecord) -> Result<Option<f64>, HistoryError> {
    Ok(scale_pair(before, after)?.map(|(b, a)| a / b))
}

/// Both scales (before, after) in mm per pixel when both are known.
pub(super) fn scale_pair(before: &ScanRecord, after: &ScanRecord) -> Result<Option<(f64, f64)>, HistoryError> {
    let check = |r: &ScanRecord| {
        crate::features::checked_scale(r.mm_per_px).map_err(|e| HistoryError::InvalidArgument(format!("scan {}: {e}", r.id)))
    };
    Ok(check(before)?.zip(check(after)?))
}

/// Moves `moving` onto `reference`: scales it by `scale` (1.0 when the photos have no known
/// scale), puts its centroid on the reference's, and finds the rotation (any angle) and a shift
/// of up to 2 px that maximise the overlap of the two outlines with their areas made equal (so
/// growth does not blur the fit). Returns the alignment and the moving mask resampled
/// (nearest neighbour) into the reference's frame, with the reference's width and height; the
/// parts that land outside that frame are cut off.
///
/// `scale` must be within 0.05..=20. Empty masks are an error. `scale_normalised` in the result
/// is `scale != 1.0`; [`super::change::compare`] sets it from the records.
///
/// ```
/// use dermscan_core::history::change::align;
/// use dermscan_core::Mask;
///
/// // An L shape, and the same L turned by 180° and moved.
/// let l = |w: u32, h: u32, pts: &[(u32, u32)]| {
///     let mut px = vec![0u8; (w * h) as usize];
///     for &(x, y) in pts { px[(y * w + x) as usize] = 1; }
///     Mask::from_pixels(w, h, px).expect("w*h pixels")
/// };
/// let shape: Vec<(u32, u32)> = (0..8).map(|y| (3, 3 + y)).chain((4..8).map(|x| (x, 10))).collect();
/// let turned: Vec<(u32, u32)> = shape.iter().map(|&(x, y)| (30 - x, 20 - y)).collect();
/// let (reference, moving) = (l(32, 24, &shape), l(32, 24, &turned));
/// let (alignment, aligned) = align(&reference, &moving, 1.0)?;
/// assert_eq!((aligned.width(), aligned.height()), (32, 24));
/// assert!((alignment.rotation_deg.abs() - 180.0).abs() < 1e-9);
/// assert_eq!(aligned.pixels(), reference.pixels());
/// # Ok::<(), dermscan_core::HistoryError>(())
/// ```
pub fn align(reference: &Mask, moving: &Mask, scale: f64) -> Result<(Alignment, Mask), HistoryError> {
    let _span = tracing::debug_span!("history_align", width = reference.width(), height = reference.height(), scale).entered();
    let r = Shape::new(reference, "reference")?;
    let m = Shape::new(moving, "moving")?;
    let (pose, _) = search(&r, &m, scale)?;
    let aligned = resample(&r, &m, &pose)?;
    Ok((pose.alignment(&r, &m, scale != 1.0), aligned))
}

/// How the later mask fits the earlier one, as [`super::change::compare`] measures it.
pub(super) struct Fit {
    /// The later mask moved onto the earlier one at the compared scale.
    pub(super) alignment: Alignment,
    /// Overlap (IoU) at the compared scale.
    pub(super) iou_aligned: f64,
    /// Overlap (IoU) with the later mask resized to the earlier one's area.
    pub(super) iou_shape: f64,
    /// Lesion pixels of the earlier and of the later mask.
    pub(super) areas: (f64, f64),
}

/// Aligns `later` onto `earlier` at `scale` and measures both overlaps on every pixel.
/// `scale_normalised` is copied into the alignment. Empty masks and a scale outside
/// 0.05..=20 are errors.
pub(super) fn fit(earlier: &Mask, later: &Mask, scale: f64, scale_normalised: bool) -> Result<Fit, HistoryError> {
    let reference = Shape::new(earlier, "earlier")?;
    let moving = Shape::new(later, "later")?;
    let (pose, shape_pose) = search(&reference, &moving, scale)?;
    Ok(Fit {
        alignment: pose.alignment(&reference, &moving, scale_normalised),
        iou_aligned: iou(&reference, &moving, &pose, 1),
        iou_shape: iou(&reference, &moving, &shape_pose, 1),
        areas: (reference.area, moving.area),
    })
}

/// A mask with its moments. Internally pixel centres are at integer coordinates (as in
/// imageproc's warp); [`Pose::alignment`] converts to the public +0.5 convention.
struct Shape<'a> {
    width: i64,
    height: i64,
    pixels: &'a [u8],
    /// `[x0, y0, x1, y1]`, ends exclusive.
    bbox: [i64; 4],
    area: f64,
    centroid: [f64; 2],
    /// Major-axis angle (radians) from the second central moments.
    orientation: f64,
}

impl<'a> Shape<'a> {
    fn new(mask: &'a Mask, what: &str) -> Result<Self, HistoryError> {
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let pixels = mask.pixels();
        if w == 0 || h == 0 || pixels.len() != w * h {
            return Err(HistoryError::InvalidArgument(format!("the {what} mask has no pixels ({w}x{h})")));
        }
        let Some([x0, y0, x1, y1]) = mask.bbox().map(|r| r.corners()) else {
            return Err(HistoryError::InvalidArgument(format!("the {what} mask is empty: no lesion to compare")));
        };
        // Moments relative to the box corner, for precision.
        let (mut n, mut sx, mut sy, mut sxx, mut sxy, mut syy) = (0.0f64, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (dy, row) in pixels.chunks_exact(w).skip(y0 as usize).take((y1 - y0) as usize).enumerate() {
            let y = dy as f64;
            for (dx, _) in row.iter().enumerate().skip(x0 as usize).take((x1 - x0) as usize).filter(|(_, p)| **p != 0) {
                let x = (dx - x0 as usize) as f64;
                n += 1.0;
                sx += x;
                sy += y;
                sxx += x * x;
                sxy += x * y;
                syy += y * y;
            }
        }
        let (mx, my) = (sx / n, sy / n);
        let (_, _, orientation) = eigen([sxx / n - mx * mx, sxy / n - mx * my, syy / n - my * my]);
        Ok(Self {
            width: w as i64,
            height: h as i64,
            pixels,
            bbox: [i64::from(x0), i64::from(y0), i64::from(x1), i64::from(y1)],
            area: n,
            centroid: [mx + f64::from(x0), my + f64::from(y0)],
            orientation,
        })
    }

    /// Whether pixel `(x, y)` is lesion (false outside the mask).
    #[inline]
    fn at(&self, x: i64, y: i64) -> bool {
        let [x0, y0, x1, y1] = self.bbox;
        if x < x0 || y < y0 || x >= x1 || y >= y1 {
            return false;
        }
        self.pixels.get((y * self.width + x) as usize).is_some_and(|&p| p != 0)
    }

    /// Larger side of the box.
    fn extent(&self) -> f64 {
        (self.bbox[2] - self.bbox[0]).max(self.bbox[3] - self.bbox[1]) as f64
    }
}

/// Moving → reference: `q_ref = c_ref + t + scale R(theta) (q_mov - c_mov)`.
#[derive(Debug, Clone, Copy)]
struct Pose {
    theta: f64,
    scale: f64,
    t: [f64; 2],
}

impl Pose {
    /// Forward map of a moving-mask point (integer-centre coordinates).
    fn forward(&self, r: &Shape, m: &Shape, q: [f64; 2]) -> [f64; 2] {
        let (s, c) = self.theta.sin_cos();
        let (dx, dy) = (q[0] - m.centroid[0], q[1] - m.centroid[1]);
        [r.centroid[0] + self.t[0] + self.scale * (c * dx - s * dy), r.centroid[1] + self.t[1] + self.scale * (s * dx + c * dy)]
    }

    /// The public description (pixel centres at +0.5).
    fn alignment(&self, r: &Shape, m: &Shape, scale_normalised: bool) -> Alignment {
        // p = q + 0.5: translation = forward(q = -0.5) + 0.5.
        let o = self.forward(r, m, [-0.5, -0.5]);
        let mut deg = self.theta.to_degrees() % 360.0;
        if deg > 180.0 {
            deg -= 360.0;
        } else if deg <= -180.0 {
            deg += 360.0;
        }
        Alignment { translation_px: [o[0] + 0.5, o[1] + 0.5], rotation_deg: deg, scale: self.scale, scale_normalised }
    }

    /// Box (ends exclusive) holding the reference lesion and the moved moving lesion.
    fn work_box(&self, r: &Shape, m: &Shape) -> [i64; 4] {
        let [x0, y0, x1, y1] = m.bbox.map(|v| v as f64);
        let corners = [[x0, y0], [x1 - 1.0, y0], [x0, y1 - 1.0], [x1 - 1.0, y1 - 1.0]].map(|q| self.forward(r, m, q));
        let (mut bx0, mut by0, mut bx1, mut by1) = (r.bbox[0] as f64, r.bbox[1] as f64, r.bbox[2] as f64, r.bbox[3] as f64);
        for [x, y] in corners {
            bx0 = bx0.min(x);
            by0 = by0.min(y);
            bx1 = bx1.max(x + 1.0);
            by1 = by1.max(y + 1.0);
        }
        [bx0.floor() as i64 - 2, by0.floor() as i64 - 2, bx1.ceil() as i64 + 2, by1.ceil() as i64 + 2]
    }
}

/// IoU of the reference and the moved moving mask, sampled every `step` pixels of the
/// reference frame (nearest neighbour through the inverse map, as the resampling does).
fn iou(r: &Shape, m: &Shape, pose: &Pose, step: i64) -> f64 {
    let step = step.max(1);
    let [bx0, by0, bx1, by1] = pose.work_box(r, m);
    let (s, c) = pose.theta.sin_cos();
    let (a, b) = (c / pose.scale, s / pose.scale);
    let (ox, oy) = (r.centroid[0] + pose.t[0], r.centroid[1] + pose.t[1]);
    let (du, dv) = (a * step as f64, -b * step as f64);
    let (mut inter, mut union) = (0u64, 0u64);
    let mut y = by0;
    while y < by1 {
        let (dx, dy) = (bx0 as f64 - ox, y as f64 - oy);
        let (mut u, mut v) = (m.centroid[0] + a * dx + b * dy, m.centroid[1] - b * dx + a * dy);
        let mut x = bx0;
        while x < bx1 {
            let inside_r = r.at(x, y);
            let inside_m = m.at((u + 0.5).floor() as i64, (v + 0.5).floor() as i64);
            inter += u64::from(inside_r && inside_m);
            union += u64::from(inside_r || inside_m);
            x += step;
            u += du;
            v += dv;
        }
        y += step;
    }
    if union == 0 { 0.0 } else { inter as f64 / union as f64 }
}

/// Best rotation around `pose.theta` within ±`half_deg` in `step_deg` steps, then the best
/// shift within ±2 px (whole pixels, searched every `coarse` samples, then ±1 px every
/// `sample`); overlaps sampled every `sample` pixels.
fn refine(r: &Shape, m: &Shape, pose: Pose, half_deg: f64, step_deg: f64, coarse: i64, sample: i64) -> (Pose, f64) {
    let (turned, _) = refine_angle(r, m, pose, half_deg, step_deg, sample);
    let shifted = |p: Pose, dx: i32, dy: i32| Pose { t: [p.t[0] + f64::from(dx), p.t[1] + f64::from(dy)], ..p };
    let mut best = (turned, iou(r, m, &turned, coarse));
    for dy in -2..=2 {
        for dx in -2..=2 {
            let candidate = shifted(turned, dx, dy);
            let v = iou(r, m, &candidate, coarse);
            if v > best.1 {
                best = (candidate, v);
            }
        }
    }
    let centre = best.0;
    let mut best = (centre, iou(r, m, &centre, sample));
    if coarse > 1 {
        for (dx, dy) in [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)] {
            let candidate = shifted(centre, dx, dy);
            let v = iou(r, m, &candidate, sample);
            if v > best.1 {
                best = (candidate, v);
            }
        }
    }
    best
}

/// The poses maximising the overlap, at `scale` and with the moving mask resized to the
/// reference's area. The rotation and shift are searched at equal areas, where the overlap
/// depends on the shape alone (when one lesion is much larger it covers the other over a range
/// of angles, and the overlap at the true scale is flat there): centroids together, rotation
/// coarse to fine from the principal-axis orientation (both flips) and 36 angles (every 10°),
/// then ±5° in 1° steps, ±1° in 0.25° steps and a shift of up to 2 px.
fn search(r: &Shape, m: &Shape, scale: f64) -> Result<(Pose, Pose), HistoryError> {
    if !(scale.is_finite() && (SCALE_RANGE.0..=SCALE_RANGE.1).contains(&scale)) {
        return Err(HistoryError::InvalidArgument(format!("scale {scale} must be within {} and {}", SCALE_RANGE.0, SCALE_RANGE.1)));
    }
    let equal_area = (r.area / m.area).sqrt();
    let extent = r.extent().max(m.extent() * equal_area);
    // Sampling steps: about 48, 120 and 240 samples across the lesion (the overlaps reported
    // are measured on every pixel).
    let step = |n: f64| ((extent / n).round() as i64).max(1);
    let (coarse, medium, fine) = (step(48.0), step(120.0), step(240.0));
    let pose = |theta: f64| Pose { theta, scale: equal_area, t: [0.0, 0.0] };
    let principal = r.orientation - m.orientation;
    let mut candidates: Vec<(f64, f64)> = [principal, principal + std::f64::consts::PI]
        .into_iter()
        .chain((0..36).map(|k| f64::from(k * 10).to_radians()))
        .map(|theta| (theta, iou(r, m, &pose(theta), coarse)))
        .collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    // The three best distinct starts, each refined ±5° in 1° steps.
    let mut starts: Vec<f64> = Vec::new();
    for (theta, _) in candidates {
        if starts.iter().all(|s| angle_gap(*s, theta) > 7.5f64.to_radians()) {
            starts.push(theta);
        }
        if starts.len() == 3 {
            break;
        }
    }
    let mut best: Option<(Pose, f64)> = None;
    for theta in starts {
        let (p, v) = refine_angle(r, m, pose(theta), 5.0, 1.0, medium);
        if best.as_ref().is_none_or(|b| v > b.1) {
            best = Some((p, v));
        }
    }
    let start = best.map_or(pose(principal), |b| b.0);
    let (shape, _) = refine(r, m, start, 1.0, 0.25, medium, fine);
    Ok((Pose { scale, ..shape }, shape))
}

/// Best rotation around `pose.theta` within ±`half_deg` in `step_deg` steps (on a tie the
/// one nearest the start wins).
fn refine_angle(r: &Shape, m: &Shape, pose: Pose, half_deg: f64, step_deg: f64, sample: i64) -> (Pose, f64) {
    let n = (half_deg / step_deg).round() as i32;
    let mut best = (pose, iou(r, m, &pose, sample));
    for k in (1..=n).flat_map(|k| [-k, k]) {
        let candidate = Pose { theta: pose.theta + (f64::from(k) * step_deg).to_radians(), ..pose };
        let v = iou(r, m, &candidate, sample);
        if v > best.1 {
            best = (candidate, v);
        }
    }
    best
}

/// Smallest absolute difference of two angles (radians).
fn angle_gap(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(std::f64::consts::TAU);
    d.min(std::f64::consts::TAU - d)
}

/// The moving mask moved into the reference frame (nearest neighbour, imageproc's warp on the
/// box the moved lesion covers; zero elsewhere).
fn resample(r: &Shape, m: &Shape, pose: &Pose) -> Result<Mask, HistoryError> {
    let (w, h) = (r.width, r.height);
    let [bx0, by0, bx1, by1] = pose.work_box(r, m);
    let (bx0, by0, bx1, by1) = (bx0.clamp(0, w), by0.clamp(0, h), bx1.clamp(0, w), by1.clamp(0, h));
    let mut out = vec![0u8; (w * h) as usize];
    if bx1 > bx0 && by1 > by0 {
        // The moving lesion's box, cut out so the warp reads a small image.
        let [mx0, my0, mx1, my1] = m.bbox;
        let crop = GrayImage::from_fn((mx1 - mx0) as u32, (my1 - my0) as u32, |x, y| {
            Luma([u8::from(m.at(i64::from(x) + mx0, i64::from(y) + my0)) * 255])
        });
        // crop (x', y') -> box (x'', y''): forward(q' + m0) - b0.
        let (s, c) = pose.theta.sin_cos();
        let k = pose.scale;
        let origin = pose.forward(r, m, [mx0 as f64, my0 as f64]);
        let matrix = [
            (k * c) as f32,
            (-k * s) as f32,
            (origin[0] - bx0 as f64) as f32,
            (k * s) as f32,
            (k * c) as f32,
            (origin[1] - by0 as f64) as f32,
            0.0,
            0.0,
            1.0,
        ];
        let projection = Projection::from_matrix(matrix)
            .ok_or_else(|| HistoryError::InvalidArgument(format!("alignment with scale {k} cannot be inverted")))?;
        let mut moved = GrayImage::new((bx1 - bx0) as u32, (by1 - by0) as u32);
        warp_into(&crop, projection, Interpolation::Nearest, Border::Constant(Luma([0])), &mut moved);
        for (dy, row) in moved.as_raw().chunks_exact((bx1 - bx0) as usize).enumerate() {
            let start = ((by0 + dy as i64) * w + bx0) as usize;
            if let Some(dst) = out.get_mut(start..start + row.len()) {
                dst.copy_from_slice(row);
            }
        }
    }
    Mask::from_pixels(w as u32, h as u32, out).ok_or_else(|| HistoryError::InvalidArgument("the reference mask has no pixels".into()))
}
#[cfg(test)]
mod tests {
    use super::*;

    fn disc_mask(w: u32, h: u32, cx: f64, cy: f64, r: f64, squash: f64, angle: f64) -> Mask {
        let (s, c) = angle.sin_cos();
        let px = (0..w * h)
            .map(|i| {
                let (x, y) = (f64::from(i % w) + 0.5 - cx, f64::from(i / w) + 0.5 - cy);
                let (u, v) = (c * x + s * y, -s * x + c * y);
                u8::from((u / r).powi(2) + (v / (r * squash)).powi(2) <= 1.0)
            })
            .collect();
        Mask::from_pixels(w, h, px).expect("w*h pixels")
    }

    #[test]
    fn history_align_finds_rotation_and_shift_of_an_ellipse() {
        let a = disc_mask(200, 150, 60.0, 70.0, 40.0, 0.5, 0.3);
        let b = disc_mask(200, 150, 130.0, 80.0, 40.0, 0.5, 0.3 + 1.2);
        let (al, moved) = align(&a, &b, 1.0).expect("align");
        assert_eq!((moved.width(), moved.height()), (200, 150));
        // An ellipse is symmetric under 180°: -1.2 rad or pi - 1.2.
        let deg = al.rotation_deg;
        let off = [(deg + 1.2f64.to_degrees()).abs(), (deg - (180.0 - 1.2f64.to_degrees())).abs()];
        assert!(off[0] < 1.0 || off[1] < 1.0, "{deg}");
        assert!(a.dice(&moved) > 0.97, "{}", a.dice(&moved));
        // The centre of b lands on the centre of a.
        let [x, y] = al.map([130.0, 80.0]);
        assert!((x - 60.0).abs() < 2.5 && (y - 70.0).abs() < 2.5, "{x} {y}");
    }

    #[test]
    fn history_align_rejects_empty_and_bad_scale() {
        let a = disc_mask(50, 50, 25.0, 25.0, 10.0, 1.0, 0.0);
        let empty = Mask::from_pixels(50, 50, vec![0; 2500]).expect("w*h pixels");
        assert!(matches!(align(&a, &empty, 1.0), Err(HistoryError::InvalidArgument(_))));
        assert!(matches!(align(&empty, &a, 1.0), Err(HistoryError::InvalidArgument(_))));
        for s in [0.0, -1.0, f64::NAN, f64::INFINITY, 100.0] {
            assert!(matches!(align(&a, &a, s), Err(HistoryError::InvalidArgument(_))), "{s}");
        }
    }

    #[test]
    fn history_align_scales_into_the_reference_pixels() {
        let a = disc_mask(120, 120, 60.0, 60.0, 20.0, 0.6, 0.0);
        let b = disc_mask(160, 100, 70.0, 50.0, 40.0, 0.6, 0.0);
        let (al, moved) = align(&a, &b, 0.5).expect("align");
        assert_eq!(al.scale, 0.5);
        assert!(al.scale_normalised);
        let ratio = moved.area_px() as f64 / a.area_px() as f64;
        assert!((ratio - 1.0).abs() < 0.05, "{ratio}");
    }

    #[test]
    fn history_one_pixel_masks_do_not_panic() {
        let one = |x: u32, y: u32| Mask::from_pixels(5, 4, (0..20).map(|i| u8::from(i == y * 5 + x)).collect()).expect("w*h pixels");
        let (al, moved) = align(&one(0, 0), &one(4, 3), 1.0).expect("align");
        assert_eq!(moved.area_px(), 1);
        assert!(al.rotation_deg.is_finite());
    }

    #[test]
    fn history_angle_gap_wraps() {
        assert!((angle_gap(0.1, std::f64::consts::TAU - 0.1) - 0.2).abs() < 1e-12);
        assert!(angle_gap(1.0, 1.0) < 1e-12);
    }
}
