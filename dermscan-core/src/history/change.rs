//! Change between two scans of one lesion: the "E" (evolution) of the ABCDE rule.
//!
//! [`compare`] aligns the later mask onto the earlier one ([`align`]), measures the change
//! (area, diameter, overlap, ABCD scores, colours) and flags every threshold of
//! [`ChangeThresholds`] that was passed. All thresholds live there. Without a scale for both
//! scans sizes are compared in pixels and [`Change::notes`] says so.

use serde::{Deserialize, Serialize};

use super::ScanRecord;
pub use super::align::{Alignment, align, scale_between};
use super::align::{fit, scale_pair};
use crate::error::HistoryError;
use crate::features::StolzColour;
use crate::risk::EvolutionSignal;
use crate::segment::Mask;

/// Days in a mean Gregorian month, for [`Change::growth_per_month`].
const DAYS_PER_MONTH: f64 = 30.44;

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

/// Which threshold a [`ChangeReason`] passed. Apps that localise build their own text from
/// this code and the reason's value and threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeCode {
    /// The area grew (value: area ratio, new over old).
    AreaGrowth,
    /// The area shrank (value: area ratio).
    AreaShrink,
    /// The outline changed (value: IoU after alignment at equal area).
    Shape,
    /// The asymmetry score A rose (value: the rise).
    Asymmetry,
    /// The border score B rose (value: the rise in eighths).
    Border,
    /// New dermoscopy colours appeared (value: how many).
    Colours,
}

impl ChangeCode {
    /// The stable snake_case name, as in the JSON reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AreaGrowth => "area_growth",
            Self::AreaShrink => "area_shrink",
            Self::Shape => "shape",
            Self::Asymmetry => "asymmetry",
            Self::Border => "border",
            Self::Colours => "colours",
        }
    }
}

/// The unit of a size in a [`Change`]: pixels, or millimetres when both scans had a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[non_exhaustive]
pub enum SizeUnit {
    /// Pixels (areas in pixels, lengths in pixels); serialised `px`.
    #[serde(rename = "px")]
    Pixels,
    /// Millimetres (areas in mm², lengths in mm); serialised `mm`.
    #[serde(rename = "mm")]
    Millimetres,
}

impl SizeUnit {
    /// The symbol of a length in this unit: `px` or `mm`.
    pub fn length_symbol(self) -> &'static str {
        match self {
            Self::Pixels => "px",
            Self::Millimetres => "mm",
        }
    }

    /// The symbol of an area in this unit: `px` or `mm²`.
    pub fn area_symbol(self) -> &'static str {
        match self {
            Self::Pixels => "px",
            Self::Millimetres => "mm²",
        }
    }
}

/// Serde for an area's unit as its symbol (`"px"`, `"mm²"`), as the reports have it.
mod area_symbol {
    use super::SizeUnit;

    pub(super) fn serialize<S: serde::Serializer>(unit: &SizeUnit, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(unit.area_symbol())
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<SizeUnit, D::Error> {
        match <String as serde::Deserialize>::deserialize(deserializer)?.as_str() {
            "px" => Ok(SizeUnit::Pixels),
            "mm²" => Ok(SizeUnit::Millimetres),
            other => Err(serde::de::Error::custom(format!("unknown area unit {other:?}"))),
        }
    }
}

/// One threshold a change passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ChangeReason {
    /// Which threshold (serialised as `area_growth`, `area_shrink`, `shape`, `asymmetry`,
    /// `border`, `colours`).
    pub code: ChangeCode,
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
    /// Millimetres (areas in mm², serialised `"mm²"`) when both scans have a scale, else
    /// pixels (`"px"`).
    #[serde(with = "area_symbol")]
    pub area_unit: SizeUnit,
    /// Area after / area before (in mm² when both scans have a scale, else in pixels).
    pub area_ratio: f64,
    /// Equivalent-circle diameter of the earlier mask, in [`Change::diameter_unit`].
    pub diameter_before: f64,
    /// Equivalent-circle diameter of the later mask, in [`Change::diameter_unit`].
    pub diameter_after: f64,
    /// `diameter_after - diameter_before`.
    pub diameter_change: f64,
    /// Millimetres (`"mm"`) when both scans have a scale, else pixels (`"px"`).
    pub diameter_unit: SizeUnit,
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
            match r.code {
                ChangeCode::Asymmetry => text.push_str(&format!("; asymmetry +{:.0}", r.value)),
                ChangeCode::Border => text.push_str(&format!("; border +{:.0}/8", r.value)),
                ChangeCode::Colours => text.push_str(&format!("; new colours: {}", colour_names(&self.colours_added))),
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
/// assert_eq!(change.diameter_unit, dermscan_core::history::SizeUnit::Pixels);
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
    let fit = fit(before_mask, after_mask, scale, scales.is_some())?;
    let (iou_aligned, iou_shape) = (fit.iou_aligned, fit.iou_shape);

    let mut notes = Vec::new();
    let (mm_b, mm_a) = scales.unwrap_or((1.0, 1.0));
    let (area_before, area_after) = (fit.areas.0 * mm_b * mm_b, fit.areas.1 * mm_a * mm_a);
    let area_ratio = area_after / area_before;
    let diameter = |area: f64| (4.0 * area / std::f64::consts::PI).sqrt();
    let (diameter_before, diameter_after) = (diameter(area_before), diameter(area_after));
    let unit = if scales.is_some() { SizeUnit::Millimetres } else { SizeUnit::Pixels };
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
        |code: ChangeCode, value: f64, threshold: f64, text: String| reasons.push(ChangeReason { code, value, threshold, text });
    if area_ratio >= t.area_growth {
        reason(
            ChangeCode::AreaGrowth,
            area_ratio,
            t.area_growth,
            format!("The area grew by {:.0}% (ratio {area_ratio:.2}, threshold {:.2}).", (area_ratio - 1.0) * 100.0, t.area_growth),
        );
    } else if area_ratio <= 1.0 / t.area_growth {
        reason(
            ChangeCode::AreaShrink,
            area_ratio,
            1.0 / t.area_growth,
            format!("The area shrank by {:.0}% (ratio {area_ratio:.2}, threshold {:.2}).", (1.0 - area_ratio) * 100.0, 1.0 / t.area_growth),
        );
    }
    if iou_shape < t.iou_min {
        reason(
            ChangeCode::Shape,
            iou_shape,
            t.iou_min,
            format!("The outline changed: after alignment it overlaps the earlier one by {iou_shape:.2}, below {:.2}.", t.iou_min),
        );
    }
    if let Some(d) = asymmetry_change.filter(|&d| d >= t.asymmetry_increase) {
        reason(
            ChangeCode::Asymmetry,
            f64::from(d),
            f64::from(t.asymmetry_increase),
            format!("The asymmetry score A rose by {d} (threshold {}).", t.asymmetry_increase),
        );
    }
    if let (Some(d), Some(limit)) = (border_change, t.border_increase)
        && d >= limit
    {
        reason(ChangeCode::Border, f64::from(d), f64::from(limit), format!("The border score B rose by {d} eighths (threshold {limit})."));
    }
    if colours_added.len() >= t.colours_added {
        let text = format!("New colours: {} (threshold {}).", colour_names(&colours_added), t.colours_added);
        reason(ChangeCode::Colours, colours_added.len() as f64, t.colours_added as f64, text);
    }

    let alignment = fit.alignment;
    tracing::debug!(area_ratio, iou_aligned, iou_shape, rotation = alignment.rotation_deg, reasons = reasons.len(), "compare");
    Ok(Change {
        before_id: before.id,
        after_id: after.id,
        days_between,
        area_before,
        area_after,
        area_unit: unit,
        area_ratio,
        diameter_before,
        diameter_after,
        diameter_change: diameter_after - diameter_before,
        diameter_unit: unit,
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
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_thresholds_validate() {
        let t = ChangeThresholds::default();
        assert!(t.validate().is_ok());
        assert!(ChangeThresholds { area_growth: 1.0, ..t }.validate().is_err());
        assert!(ChangeThresholds { area_growth: f64::NAN, ..t }.validate().is_err());
        assert!(ChangeThresholds { colours_added: 0, ..t }.validate().is_err());
    }
}
