//! The quality warnings, one row each: which measurement fails which limit, and what the
//! user is told. A new warning is a new row of [`RULES`].

use super::config::Thresholds;
use super::report::{QualityIssue, QualityReport, QualityWarning};

/// The photos a rule applies to.
enum Scope {
    /// Every photo.
    Any,
    /// Photos with a lesion mask.
    Lesion,
    /// Photos without one (no mask, or an empty one).
    NoLesion,
}

/// The measured value, its effective limit, and which side of the limit fails.
enum Limit {
    /// Fails when the value is above the limit.
    Max(fn(&QualityReport) -> f32, fn(&Thresholds) -> f32),
    /// Fails when the value is below the limit.
    Min(fn(&QualityReport) -> f32, fn(&Thresholds) -> f32),
    /// Always fails; measured value and limit are reported as 0.
    Always,
}

/// One warning: when it is given and what it says.
struct Rule {
    issue: QualityIssue,
    scope: Scope,
    limit: Limit,
    /// What is wrong, from the measured value and the limit.
    message: fn(f32, f32) -> String,
    /// How to retake the photo.
    advice: &'static str,
}

/// Every warning, in the order it is reported (that of [`QualityIssue`]).
static RULES: &[Rule] = &[
    Rule {
        issue: QualityIssue::Blurry,
        scope: Scope::Any,
        limit: Limit::Max(|r| r.blur_sigma_px, |t| t.max_blur_sigma_px),
        message: |m, t| format!("The photo is blurred around the lesion: edges are as soft as a {m:.1} px blur (limit {t:.1} px)."),
        advice: "Hold the phone steady, tap the lesion to focus, and keep at the closest distance the camera can still focus.",
    },
    Rule {
        issue: QualityIssue::UnderExposed,
        scope: Scope::Any,
        limit: Limit::Min(|r| r.brightness, |t| t.min_brightness),
        message: |m, t| format!("The photo is too dark: skin brightness {m:.0} of 255 (minimum {t:.0})."),
        advice: "Move to brighter, even light (daylight near a window) or turn on the dermoscope's light; avoid your own shadow.",
    },
    Rule {
        issue: QualityIssue::OverExposed,
        scope: Scope::Any,
        limit: Limit::Max(|r| r.clipped_fraction, |t| t.max_clipped_fraction),
        message: |m, t| format!("The photo is over-exposed: {:.0}% of the skin is clipped to white (limit {:.0}%).", m * 100.0, t * 100.0),
        advice: "Avoid direct sunlight and the flash; tap the skin on the screen to set exposure, or lower it.",
    },
    Rule {
        issue: QualityIssue::Glare,
        scope: Scope::Any,
        limit: Limit::Max(|r| r.glare_fraction, |t| t.max_glare_fraction),
        message: |m, t| format!("Reflections cover {:.0}% of the lesion area (limit {:.0}%).", m * 100.0, t * 100.0),
        advice: "Tilt the phone slightly, turn off the flash, or use a polarised dermoscope / a drop of immersion fluid.",
    },
    Rule {
        issue: QualityIssue::NoLesionFound,
        scope: Scope::NoLesion,
        limit: Limit::Always,
        message: |_, _| "No lesion was found in the photo.".to_string(),
        advice: "Centre the lesion in the frame, fill about a third of the picture with it, and retake.",
    },
    Rule {
        issue: QualityIssue::LesionCutOff,
        scope: Scope::Lesion,
        limit: Limit::Max(|r| r.border_contact, |t| t.max_border_contact),
        message: |m, t| {
            format!(
                "The lesion touches the edge of the photo ({:.0}% of its outline, limit {:.0}%); part of it may be outside.",
                m * 100.0,
                t * 100.0
            )
        },
        advice: "Centre the lesion with some skin visible all around it.",
    },
    Rule {
        issue: QualityIssue::LesionTooSmall,
        scope: Scope::Lesion,
        limit: Limit::Min(|r| r.lesion_diameter_px, |t| t.min_lesion_diameter_px),
        message: |m, t| format!("The lesion is only {m:.0} px across (minimum {t:.0} px)."),
        advice: "Move closer (as close as the camera still focuses) or use the zoom so the lesion fills more of the frame.",
    },
];

/// The warnings for the measurements in `report` under the effective thresholds `t`;
/// `lesion_found` tells whether there was a (non-empty) lesion mask.
pub(super) fn warnings(report: &QualityReport, lesion_found: bool, t: &Thresholds) -> Vec<QualityWarning> {
    RULES
        .iter()
        .filter(|rule| match rule.scope {
            Scope::Any => true,
            Scope::Lesion => lesion_found,
            Scope::NoLesion => !lesion_found,
        })
        .filter_map(|rule| {
            let (measured, threshold) = match rule.limit {
                Limit::Max(value, limit) => Some((value(report), limit(t))).filter(|(v, l)| v > l)?,
                Limit::Min(value, limit) => Some((value(report), limit(t))).filter(|(v, l)| v < l)?,
                Limit::Always => (0.0, 0.0),
            };
            Some(QualityWarning {
                issue: rule.issue,
                measured,
                threshold,
                message: (rule.message)(measured, threshold),
                advice: rule.advice.to_string(),
            })
        })
        .collect()
}
