//! Change between two scans of one lesion: the "E" (evolution) of the ABCDE rule.
//!
//! The later photo is never taken from exactly the same place, so the later mask is first
//! moved onto the earlier one ([`align`]): centroids on top of each other, then the rotation
//! (any angle) that maximises the overlap (IoU) of the outlines at equal area, searched coarse
//! to fine from the principal-axis orientation (both flips) and 36 evenly spaced angles on a
//! sparse grid, then a shift of up to 2 px. It works on the lesions' box, so its cost depends on
//! the lesion's size, not the photo's. When both scans carry a scale (`mm_per_px`) the later
//! mask is also resized into the earlier photo's pixels, so a change of camera distance does
//! not read as growth; without both scales, sizes are compared in pixels and
//! [`Change::notes`] says so.
//!
//! [`compare`] then measures the change (area, diameter, overlap, ABCD scores, colours) and
//! flags every threshold of [`ChangeThresholds`] that was passed. All thresholds live there.
//!
//! Coordinates follow [`crate::features`]: pixel `(i, j)` covers `[i, i+1) x [j, j+1)`, y points
//! down and positive angles turn clockwise on screen.

use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into};
use serde::{Deserialize, Serialize};

use crate::error::HistoryError;
use crate::features::StolzColour;
use crate::features::measure::eigen;
use crate::risk::EvolutionSignal;
use crate::segment::Mask;

use super::ScanRecord;

/// Days in a mean Gregorian month, for [`Change::growth_per_month`].
const DAYS_PER_MONTH: f64 = 30.44;

/// Smallest and largest scale [`align`] accepts: a zoom beyond 20 times between two photos of
/// one lesion is a wrong scale, not a second photo.
const SCALE_RANGE: (f64, f64) = (0.05, 20.0);

/// The note [`compare`] adds when sizes cannot be normalised to millimetres.
pub const NOTE_NO_SCALE: &str = "sizes compared in pixels: no scale for both scans, so a change of camera distance reads as growth";

/// Thresholds above which a change between two scans is significant. The one place they live;
/// defaults are documented on each field.
///
/// Evidence behind the defaults (`tests/history_change.rs`, exact masks, features from
/// [`crate::features::analyse`]): 36 synthetic lesions (skin types I-VI, 1-4 colours) each
/// photographed again, unchanged, at another position, rotation (0-360°) and zoom (0.85-1.2,
/// scale given) under other lighting (gain 0.8-1.2, colour cast ±8 %, gradient ±25 %); the
/// same lesions grown by 25 %; and pure growth, zoom and shape changes of drawn masks. The
/// masks were exact: segmentation by the model adds its own noise (Dice 0.90-0.94 on the
/// synthetic set), which the end-to-end test has to measure.
///
/// ```
/// use dermscan_core::history::ChangeThresholds;
/// let t = ChangeThresholds::default();
/// assert_eq!((t.area_growth, t.iou_min), (1.2, 0.8));
/// let strict = ChangeThresholds { area_growth: 1.1, ..t };
/// assert!(strict.validate().is_ok());
/// assert!(ChangeThresholds { iou_min: 1.5, ..t }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChangeThresholds {
    /// Area ratio (after / before) at or above which growth is significant (reason
    /// `area_growth`); at or below its inverse the shrinking is (reason `area_shrink`).
    /// Default 1.2 (a 10 % larger diameter): unchanged pairs measured 0.9987-1.0006 and pairs
    /// grown by 25 % 1.2485-1.2510 (all 36 flagged); it leaves room for the few percent by
    /// which two segmentations of one lesion differ.
    pub area_growth: f64,
    /// Shape overlap ([`Change::iou_shape`], areas equalised) below which the outline has
    /// changed (reason `shape`). Default 0.80: unchanged pairs overlap 0.994-1.000; of three
    /// changes of the same area, the same lobes turned by 40° measured 0.87, other lobes of
    /// the same size 0.81 (neither flagged) and larger other lobes 0.76 (flagged). Two masks
    /// of one lesion by the model may overlap little more than 0.85, so a higher threshold
    /// would flag segmentation noise: this one catches large changes of outline only.
    pub iou_min: f64,
    /// Rise of the border score B (eighths, 0-8) at or above which the border has changed
    /// (reason `border`), or `None` to report B's change without flagging it. Default `None`:
    /// on exact masks B of 36 unchanged pairs moved by -1 to +1, but end to end, with the
    /// model segmenting each photo, one unchanged lesion photographed again under other
    /// lighting moved by +3 without and +4 with edge snapping (`tests/evolution.rs`). B
    /// rests on how abruptly pigment stops at the outline, which lighting changes; until it
    /// is measured on real follow-up photos its change is shown, not counted.
    pub border_increase: Option<i32>,
    /// Rise of the asymmetry score A (0-2) at or above which asymmetry has changed (reason
    /// `asymmetry`). Default 2 (from symmetric to asymmetric about both axes): A of the
    /// unchanged pairs rose by 1 in 3 of 36, never by 2; 1 would flag 8 % of unchanged lesions.
    pub asymmetry_increase: i32,
    /// Number of Stolz colours new in the later scan at or above which the colours have changed
    /// (reason `colours`). Default 2: under other lighting one colour came or went in 3 of 36
    /// unchanged pairs (red and dark brown swap with the white balance, at up to 38 % of the
    /// lesion, so a share limit would not help), two never did. The price: of 12 lesions given
    /// black and blue-grey areas, 2 gained two colours and were flagged (1 would catch 8 but
    /// also those 3 unchanged ones).
    pub colours_added: usize,
}

impl Default for ChangeThresholds {
    fn default() -> Self {
        Self { area_growth: 1.2, iou_min: 0.80, border_increase: None, asymmetry_increase: 2, colours_added: 2 }
    }
}

impl ChangeThresholds {
    /// Checks the values: `area_growth` finite and above 1, `iou_min` within 0..=1, the
    /// score rises and the colour count at least 1.
    pub fn validate(&self) -> Result<(), HistoryError> {
        let bad = |what: String| Err(HistoryError::InvalidArgument(what));
        if !(self.area_growth.is_finite() && self.area_growth > 1.0) {
            return bad(format!("area_growth {} must be a finite ratio above 1", self.area_growth));
        }
        if !(0.0..=1.0).contains(&self.iou_min) {
            return bad(format!("iou_min {} must be within 0 and 1", self.iou_min));
        }
        if self.border_increase.is_some_and(|b| b < 1) || self.asymmetry_increase < 1 || self.colours_added < 1 {
            return bad("border_increase, asymmetry_increase and colours_added must be at least 1".into());
        }
        Ok(())
    }
}

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

/// One threshold a change passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeReason {
    /// Stable identifier: `area_growth`, `area_shrink`, `shape`, `asymmetry`, `border`, `colours`.
    pub code: String,
    /// The measured value.
    pub value: f64,
    /// The threshold it passed (from [`ChangeThresholds`]).
    pub threshold: f64,
    /// One sentence for the user.
    pub text: String,
}

/// The change between two scans of one lesion, as [`compare`] measures it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Earlier scan id.
    pub before_id: i64,
    /// Later scan id.
    pub after_id: i64,
    /// Days from the earlier photo to the later one (from `taken_at`).
    pub days_between: f64,
    /// Area of the earlier mask, in [`Change::area_unit`].
    pub area_before: f64,
    /// Area of the later mask, in [`Change::area_unit`].
    pub area_after: f64,
    /// `"mm²"` when both scans have a scale, else `"px"`.
    pub area_unit: String,
    /// Area after / area before (in mm² when both scans have a scale, else in pixels).
    pub area_ratio: f64,
    /// Equivalent-circle diameter of the earlier mask, in [`Change::diameter_unit`].
    pub diameter_before: f64,
    /// Equivalent-circle diameter of the later mask, in [`Change::diameter_unit`].
    pub diameter_after: f64,
    /// `diameter_after - diameter_before`.
    pub diameter_change: f64,
    /// `"mm"` when both scans have a scale, else `"px"`.
    pub diameter_unit: String,
    /// Overlap (IoU) of the masks after alignment, at the compared scale: growth lowers it too
    /// (a lesion grown by 20 % overlaps its old outline by at most 1/1.2 = 0.83).
    pub iou_aligned: f64,
    /// Overlap (IoU) after alignment with the later mask resized to the earlier one's area:
    /// the change of shape alone, whatever the growth. Compared with [`ChangeThresholds::iou_min`].
    pub iou_shape: f64,
    /// Asymmetry score A after minus before; `None` when a scan has no features.
    pub asymmetry_change: Option<i32>,
    /// Border score B after minus before; `None` when a scan has no features.
    pub border_change: Option<i32>,
    /// Colour score C after minus before; `None` when a scan has no features.
    pub colour_change: Option<i32>,
    /// Stolz colours in the later scan only.
    pub colours_added: Vec<StolzColour>,
    /// Stolz colours in the earlier scan only.
    pub colours_removed: Vec<StolzColour>,
    /// Area growth as a fraction per month (30.44 days): `(area_ratio - 1) / months`; `None`
    /// when the scans are less than a day apart.
    pub growth_per_month: Option<f64>,
    /// How the later mask was moved onto the earlier one.
    pub alignment: Alignment,
    /// What the comparison could not do (no scale, no features, scans out of order).
    pub notes: Vec<String>,
    /// Whether any threshold was passed.
    pub significant: bool,
    /// Every threshold that was passed.
    pub reasons: Vec<ChangeReason>,
}

impl Change {
    /// The signal the risk assessment takes, with a one-line summary such as
    /// "area up 35% in 62 days; shape overlap 0.84".
    pub fn evolution_signal(&self) -> EvolutionSignal {
        EvolutionSignal { significant: self.significant, area_ratio: self.area_ratio, summary: self.summary() }
    }

    /// What changed, in a few words: area, time, shape overlap and any reason beyond those.
    pub fn summary(&self) -> String {
        let pct = (self.area_ratio - 1.0) * 100.0;
        let area = if pct.abs() < 0.5 {
            "area unchanged".to_string()
        } else if pct > 0.0 {
            format!("area up {pct:.0}%")
        } else {
            format!("area down {:.0}%", -pct)
        };
        let when = if self.days_between.abs() < 1.0 { "on the same day".to_string() } else { format!("in {:.0} days", self.days_between) };
        let mut text = format!("{area} {when}; shape overlap {:.2}", self.iou_shape);
        if !self.alignment.scale_normalised {
            text.push_str(" (sizes in pixels)");
        }
        for r in &self.reasons {
            match r.code.as_str() {
                "asymmetry" => text.push_str(&format!("; asymmetry +{:.0}", r.value)),
                "border" => text.push_str(&format!("; border +{:.0}/8", r.value)),
                "colours" => text.push_str(&format!("; new colours: {}", colour_names(&self.colours_added))),
                _ => {}
            }
        }
        text
    }
}

/// Compares two scans of one lesion: aligns `after_mask` onto `before_mask` (see [`align`]),
/// measures the change and flags every threshold passed.
///
/// Areas are counted on the masks (the records' `area_px` are not used). Sizes are compared in
/// millimetres when both records have `mm_per_px`, else in pixels with a note. ABCD changes
/// need `features` on both records.
///
/// ```
/// use dermscan_core::history::{change::compare, ChangeThresholds, ScanRecord};
/// use dermscan_core::Mask;
///
/// // A 12x4 bar, then the same bar upright elsewhere in the frame 30 days later.
/// let bar = |w: u32, h: u32, x0: u32, y0: u32, bw: u32, bh: u32| {
///     let px = (0..w * h).map(|i| u8::from((x0..x0 + bw).contains(&(i % w)) && (y0..y0 + bh).contains(&(i / w)))).collect();
///     Mask::from_pixels(w, h, px).expect("w*h pixels")
/// };
/// let record = |id: i64, day: i64, area_px: u64| ScanRecord {
///     id, lesion_id: 1, taken_at: day * 86_400, width: 40, height: 30, mm_per_px: None, area_px,
///     features: None, classification: None, risk: None, models: Vec::new(),
///     photo_file: String::new(), mask_file: String::new(),
/// };
/// let (before, after) = (bar(40, 30, 5, 5, 12, 4), bar(40, 30, 25, 10, 4, 12));
/// let change = compare(&record(1, 0, 48), &before, &record(2, 30, 48), &after, &ChangeThresholds::default())?;
/// assert_eq!(change.area_ratio, 1.0);
/// assert_eq!(change.iou_aligned, 1.0);
/// assert!((change.alignment.rotation_deg.abs() - 90.0).abs() < 1e-9);
/// assert!(!change.significant && !change.alignment.scale_normalised);
/// assert_eq!(change.diameter_unit, "px");
/// # Ok::<(), dermscan_core::HistoryError>(())
/// ```
pub fn compare(
    before: &ScanRecord,
    before_mask: &Mask,
    after: &ScanRecord,
    after_mask: &Mask,
    thresholds: &ChangeThresholds,
) -> Result<Change, HistoryError> {
    let _span = tracing::debug_span!("history_compare", before = before.id, after = after.id).entered();
    thresholds.validate()?;
    let scales = scale_pair(before, after)?;
    let scale = scales.map_or(1.0, |(b, a)| a / b);
    let reference = Shape::new(before_mask, "earlier")?;
    let moving = Shape::new(after_mask, "later")?;
    let (pose, shape_pose) = search(&reference, &moving, scale)?;
    let iou_aligned = iou(&reference, &moving, &pose, 1);
    let iou_shape = iou(&reference, &moving, &shape_pose, 1);

    let mut notes = Vec::new();
    let (mm_b, mm_a) = scales.unwrap_or((1.0, 1.0));
    let (area_before, area_after) = (reference.area * mm_b * mm_b, moving.area * mm_a * mm_a);
    let area_ratio = area_after / area_before;
    let diameter = |area: f64| (4.0 * area / std::f64::consts::PI).sqrt();
    let (diameter_before, diameter_after) = (diameter(area_before), diameter(area_after));
    let unit = if scales.is_some() { "mm" } else { "px" };
    if scales.is_none() {
        notes.push(NOTE_NO_SCALE.to_string());
    }
    let days_between = (after.taken_at as f64 - before.taken_at as f64) / 86_400.0;
    if days_between < 0.0 {
        notes.push(format!(
            "scan {} was taken {:.0} days before scan {}: the comparison runs backwards in time",
            after.id, -days_between, before.id
        ));
    }
    let growth_per_month = (days_between >= 1.0).then(|| (area_ratio - 1.0) / (days_between / DAYS_PER_MONTH));

    let abcd = before.features.as_ref().zip(after.features.as_ref()).map(|(b, a)| (&b.abcd, &a.abcd));
    if abcd.is_none() {
        notes.push("ABCD scores missing for a scan: asymmetry, border and colours not compared".into());
    }
    let diff = |f: fn(&crate::features::Abcd) -> u8| abcd.map(|(b, a)| i32::from(f(a)) - i32::from(f(b)));
    let (asymmetry_change, border_change, colour_change) = (diff(|s| s.a), diff(|s| s.b), diff(|s| s.c));
    let (colours_added, colours_removed) = match abcd {
        Some((b, a)) => (
            a.colours.iter().filter(|c| !b.colours.contains(c)).copied().collect(),
            b.colours.iter().filter(|c| !a.colours.contains(c)).copied().collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };

    let t = thresholds;
    let mut reasons = Vec::new();
    let mut reason =
        |code: &str, value: f64, threshold: f64, text: String| reasons.push(ChangeReason { code: code.into(), value, threshold, text });
    if area_ratio >= t.area_growth {
        reason(
            "area_growth",
            area_ratio,
            t.area_growth,
            format!("The area grew by {:.0}% (ratio {area_ratio:.2}, threshold {:.2}).", (area_ratio - 1.0) * 100.0, t.area_growth),
        );
    } else if area_ratio <= 1.0 / t.area_growth {
        reason(
            "area_shrink",
            area_ratio,
            1.0 / t.area_growth,
            format!("The area shrank by {:.0}% (ratio {area_ratio:.2}, threshold {:.2}).", (1.0 - area_ratio) * 100.0, 1.0 / t.area_growth),
        );
    }
    if iou_shape < t.iou_min {
        reason(
            "shape",
            iou_shape,
            t.iou_min,
            format!("The outline changed: after alignment it overlaps the earlier one by {iou_shape:.2}, below {:.2}.", t.iou_min),
        );
    }
    if let Some(d) = asymmetry_change.filter(|&d| d >= t.asymmetry_increase) {
        reason(
            "asymmetry",
            f64::from(d),
            f64::from(t.asymmetry_increase),
            format!("The asymmetry score A rose by {d} (threshold {}).", t.asymmetry_increase),
        );
    }
    if let (Some(d), Some(limit)) = (border_change, t.border_increase)
        && d >= limit
    {
        reason("border", f64::from(d), f64::from(limit), format!("The border score B rose by {d} eighths (threshold {limit})."));
    }
    if colours_added.len() >= t.colours_added {
        let text = format!("New colours: {} (threshold {}).", colour_names(&colours_added), t.colours_added);
        reason("colours", colours_added.len() as f64, t.colours_added as f64, text);
    }

    let alignment = pose.alignment(&reference, &moving, scales.is_some());
    tracing::debug!(area_ratio, iou_aligned, iou_shape, rotation = alignment.rotation_deg, reasons = reasons.len(), "compare");
    Ok(Change {
        before_id: before.id,
        after_id: after.id,
        days_between,
        area_before,
        area_after,
        area_unit: if scales.is_some() { "mm²" } else { "px" }.into(),
        area_ratio,
        diameter_before,
        diameter_after,
        diameter_change: diameter_after - diameter_before,
        diameter_unit: unit.into(),
        iou_aligned,
        iou_shape,
        asymmetry_change,
        border_change,
        colour_change,
        colours_added,
        colours_removed,
        growth_per_month,
        alignment,
        notes,
        significant: !reasons.is_empty(),
        reasons,
    })
}

/// The scale [`compare`] uses between two scans: `Some(after.mm_per_px / before.mm_per_px)`
/// when both have a scale, `None` otherwise. A scale that is not finite and above 0 is an error.
pub fn scale_between(before: &ScanRecord, after: &ScanRecord) -> Result<Option<f64>, HistoryError> {
    Ok(scale_pair(before, after)?.map(|(b, a)| a / b))
}

/// Both scales (before, after) in mm per pixel when both are known.
fn scale_pair(before: &ScanRecord, after: &ScanRecord) -> Result<Option<(f64, f64)>, HistoryError> {
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
/// is `scale != 1.0`; [`compare`] sets it from the records.
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

/// Colour names joined with commas ("blue-grey, black").
fn colour_names(colours: &[StolzColour]) -> String {
    let name = |c: &StolzColour| match c {
        StolzColour::White => "white",
        StolzColour::Red => "red",
        StolzColour::LightBrown => "light brown",
        StolzColour::DarkBrown => "dark brown",
        StolzColour::BlueGrey => "blue-grey",
        StolzColour::Black => "black",
    };
    colours.iter().map(name).collect::<Vec<_>>().join(", ")
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
        let Some([x0, y0, x1, y1]) = mask.bbox() else {
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
    fn history_thresholds_validate() {
        let t = ChangeThresholds::default();
        assert!(t.validate().is_ok());
        assert!(ChangeThresholds { area_growth: 1.0, ..t }.validate().is_err());
        assert!(ChangeThresholds { area_growth: f64::NAN, ..t }.validate().is_err());
        assert!(ChangeThresholds { colours_added: 0, ..t }.validate().is_err());
    }

    #[test]
    fn history_angle_gap_wraps() {
        assert!((angle_gap(0.1, std::f64::consts::TAU - 0.1) - 0.2).abs() < 1e-12);
        assert!(angle_gap(1.0, 1.0) < 1e-12);
    }
}
