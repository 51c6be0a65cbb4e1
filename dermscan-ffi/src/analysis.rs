//! Records of the lesion analysis: measurements and ABCD scores, the classifier's
//! probabilities, the explained risk and the photo quality gate. Plain copies of the core
//! types (uniffi needs its own declarations); no analysis happens here.

use dermscan_core as core;
use serde::Serialize;

use crate::types::{ModelInfo, PixelRegion};

/// Size and shape of the lesion. `_mm` values are present when the scan was given a scale.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct Measurements {
    /// Lesion pixels.
    pub area_px: f64,
    /// Length of the outer contour.
    pub perimeter_px: f64,
    /// Diameter of the disc with the same area.
    pub diameter_px: f64,
    /// Major axis length (second moments).
    pub major_axis_px: f64,
    /// Minor axis length.
    pub minor_axis_px: f64,
    /// Angle of the major axis from the x axis, degrees, clockwise on screen.
    pub orientation_deg: f64,
    /// Area in square millimetres.
    pub area_mm2: Option<f64>,
    /// Perimeter in millimetres.
    pub perimeter_mm: Option<f64>,
    /// Equivalent diameter in millimetres.
    pub diameter_mm: Option<f64>,
    /// Major axis in millimetres.
    pub major_axis_mm: Option<f64>,
    /// Minor axis in millimetres.
    pub minor_axis_mm: Option<f64>,
}

/// The dermoscopy colours counted for C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum StolzColour {
    /// White.
    White,
    /// Red.
    Red,
    /// Light brown.
    LightBrown,
    /// Dark brown.
    DarkBrown,
    /// Blue-grey.
    BlueGrey,
    /// Black.
    Black,
}

impl From<core::features::StolzColour> for StolzColour {
    fn from(c: core::features::StolzColour) -> Self {
        match c {
            core::features::StolzColour::White => Self::White,
            core::features::StolzColour::Red => Self::Red,
            core::features::StolzColour::LightBrown => Self::LightBrown,
            core::features::StolzColour::DarkBrown => Self::DarkBrown,
            core::features::StolzColour::BlueGrey => Self::BlueGrey,
            core::features::StolzColour::Black => Self::Black,
        }
    }
}

/// Band of the Total Dermoscopy Score (proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum TdsBand {
    /// Below 4.75.
    Benign,
    /// 4.75 to 5.45.
    Suspicious,
    /// Above 5.45.
    HighlySuspicious,
}

/// The ABCD rule of dermoscopy (Stolz). D and therefore the TDS are proxies read from pixels.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct AbcdScores {
    /// Asymmetry, 0-2 axes.
    pub a: u8,
    /// Border, 0-8 eighths with an abrupt or irregular edge.
    pub b: u8,
    /// Colours, 1-6.
    pub c: u8,
    /// Differential structures, a proxy, 1-5.
    pub d_proxy: u8,
    /// TDS proxy = 1.3 A + 0.1 B + 0.5 C + 0.5 D.
    pub tds_proxy: f64,
    /// Band of the TDS proxy.
    pub band: TdsBand,
    /// The colours counted in C.
    pub colours: Vec<StolzColour>,
}

/// A point with sub-pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, uniffi::Record)]
pub struct PointF {
    /// Column.
    pub x: f64,
    /// Row.
    pub y: f64,
}

/// Measurements, ABCD scores and the principal axes (for drawing) of one lesion.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct LesionFeatures {
    /// Size and shape.
    pub measurements: Measurements,
    /// ABCD scores.
    pub abcd: AbcdScores,
    /// Centroid.
    pub centroid: PointF,
    /// End points of the major axis.
    pub major_axis: Vec<PointF>,
    /// End points of the minor axis.
    pub minor_axis: Vec<PointF>,
}

fn point(p: [f64; 2]) -> PointF {
    PointF { x: p[0], y: p[1] }
}

impl From<&core::features::Features> for LesionFeatures {
    fn from(f: &core::features::Features) -> Self {
        let m = &f.measurements;
        let a = &f.abcd;
        Self {
            measurements: Measurements {
                area_px: m.area_px,
                perimeter_px: m.perimeter_px,
                diameter_px: m.diameter_px,
                major_axis_px: m.major_axis_px,
                minor_axis_px: m.minor_axis_px,
                orientation_deg: m.orientation_deg,
                area_mm2: m.area_mm2,
                perimeter_mm: m.perimeter_mm,
                diameter_mm: m.diameter_mm,
                major_axis_mm: m.major_axis_mm,
                minor_axis_mm: m.minor_axis_mm,
            },
            abcd: AbcdScores {
                a: a.a,
                b: a.b,
                c: a.c,
                d_proxy: a.d_proxy,
                tds_proxy: a.tds,
                band: match a.band {
                    core::features::TdsBand::Benign => TdsBand::Benign,
                    core::features::TdsBand::Suspicious => TdsBand::Suspicious,
                    core::features::TdsBand::HighlySuspicious => TdsBand::HighlySuspicious,
                },
                colours: a.colours.iter().copied().map(Into::into).collect(),
            },
            centroid: point(f.axes.centroid),
            major_axis: f.axes.major.iter().copied().map(point).collect(),
            minor_axis: f.axes.minor.iter().copied().map(point).collect(),
        }
    }
}

/// The probability of one class.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct ClassProbability {
    /// Short label, e.g. `mel`.
    pub label: String,
    /// Readable name, e.g. `Melanoma`.
    pub name: String,
    /// Probability, 0 to 1.
    pub probability: f32,
}

/// What the on-device classifier thinks the lesion is. Not a diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct Classification {
    /// Every class in the model's order.
    pub probabilities: Vec<ClassProbability>,
    /// The most likely label.
    pub top: String,
    /// Melanoma + basal cell carcinoma + actinic keratosis together.
    pub malignant_probability: f32,
    /// The square the classifier saw.
    pub crop: PixelRegion,
    /// The classifier model.
    pub model: ModelInfo,
}

impl From<&core::classify::Classification> for Classification {
    fn from(c: &core::classify::Classification) -> Self {
        let [x0, y0, x1, y1] = c.crop;
        Self {
            probabilities: c
                .probabilities
                .iter()
                .map(|p| ClassProbability { label: p.label.clone(), name: p.name.clone(), probability: p.probability })
                .collect(),
            top: c.top.clone(),
            malignant_probability: c.malignant_probability,
            crop: PixelRegion { x: x0, y: y0, width: x1.saturating_sub(x0), height: y1.saturating_sub(y0) },
            model: (&c.model).into(),
        }
    }
}

/// Overall risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, uniffi::Enum)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Nothing to assess: no lesion was found (reason code `no_lesion`).
    Unknown,
    /// No signal above its threshold.
    Low,
    /// Worth showing to a doctor.
    Medium,
    /// See a doctor soon.
    High,
}

impl From<core::RiskLevel> for RiskLevel {
    fn from(l: core::RiskLevel) -> Self {
        match l {
            core::RiskLevel::Unknown => Self::Unknown,
            core::RiskLevel::Low => Self::Low,
            core::RiskLevel::Medium => Self::Medium,
            core::RiskLevel::High => Self::High,
        }
    }
}

/// One reason behind the level, tied to a measured value.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct RiskReason {
    /// `classifier`, `tds_proxy`, `diameter`, `evolution` or `no_lesion`.
    pub code: String,
    /// The level this signal alone gives.
    pub level: RiskLevel,
    /// The measured value.
    pub value: f64,
    /// The threshold it was compared with.
    pub threshold: f64,
    /// One sentence for the user.
    pub text: String,
}

/// Risk level, reasons, and the not-a-diagnosis statement.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct RiskAssessment {
    /// The highest level any signal gave.
    pub level: RiskLevel,
    /// Reasons, highest level first.
    pub reasons: Vec<RiskReason>,
    /// Always the SDK's not-a-diagnosis statement.
    pub disclaimer: String,
}

impl From<&core::RiskAssessment> for RiskAssessment {
    fn from(r: &core::RiskAssessment) -> Self {
        Self {
            level: r.level.into(),
            reasons: r
                .reasons
                .iter()
                .map(|x| RiskReason {
                    code: x.code.clone(),
                    level: x.level.into(),
                    value: x.value,
                    threshold: x.threshold,
                    text: x.text.clone(),
                })
                .collect(),
            disclaimer: r.disclaimer.clone(),
        }
    }
}

/// A photo problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum QualityIssue {
    /// Out of focus or motion-blurred.
    Blurry,
    /// Too dark.
    UnderExposed,
    /// Washed out.
    OverExposed,
    /// Reflections on the lesion.
    Glare,
    /// The lesion touches the frame.
    LesionCutOff,
    /// The lesion covers too few pixels.
    LesionTooSmall,
    /// No lesion was found.
    NoLesionFound,
}

/// One failed check with retake advice.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QualityWarning {
    /// Which check.
    pub issue: QualityIssue,
    /// The measured value.
    pub measured: f32,
    /// The threshold it crossed.
    pub threshold: f32,
    /// What is wrong.
    pub message: String,
    /// How to retake the photo.
    pub advice: String,
}

/// Whether the photo is good enough.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QualityReport {
    /// No warnings.
    pub acceptable: bool,
    /// The failed checks.
    pub warnings: Vec<QualityWarning>,
    /// Blur as a Gaussian sigma in working pixels.
    pub blur_sigma_px: f32,
    /// Brightness of the skin, 0-255.
    pub brightness: f32,
    /// Share of glare around the lesion.
    pub glare_fraction: f32,
}

impl From<&core::QualityReport> for QualityReport {
    fn from(q: &core::QualityReport) -> Self {
        Self {
            acceptable: q.is_acceptable(),
            warnings: q
                .warnings
                .iter()
                .map(|w| QualityWarning {
                    issue: match w.issue {
                        core::QualityIssue::Blurry => QualityIssue::Blurry,
                        core::QualityIssue::UnderExposed => QualityIssue::UnderExposed,
                        core::QualityIssue::OverExposed => QualityIssue::OverExposed,
                        core::QualityIssue::Glare => QualityIssue::Glare,
                        core::QualityIssue::LesionCutOff => QualityIssue::LesionCutOff,
                        core::QualityIssue::LesionTooSmall => QualityIssue::LesionTooSmall,
                        core::QualityIssue::NoLesionFound => QualityIssue::NoLesionFound,
                    },
                    measured: w.measured,
                    threshold: w.threshold,
                    message: w.message.clone(),
                    advice: w.advice.clone(),
                })
                .collect(),
            blur_sigma_px: q.blur_sigma_px,
            brightness: q.brightness,
            glare_fraction: q.glare_fraction,
        }
    }
}
