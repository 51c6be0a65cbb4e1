//! Risk: the measured signals (classifier, TDS proxy, size, change over time) turned into a
//! level with the reasons behind it.
//!
//! Every reason names the value it rests on and the threshold it was compared with, so an
//! app can show *why*. All thresholds live in [`RiskThresholds`]; change them there and
//! nowhere else. Whatever the level, the assessment carries [`crate::NOT_A_DIAGNOSIS`].
//!
//! Rules (each signal gives a level; the assessment takes the highest):
//! - classifier: malignant probability (mel + bcc + akiec) at least
//!   [`RiskThresholds::malignant_high`] → high, at least [`RiskThresholds::malignant_medium`] → medium;
//! - TDS proxy: above [`RiskThresholds::tds_suspicious`] → medium. It never makes the level
//!   high on its own, because its D term is a proxy (see `features`);
//! - diameter: above [`RiskThresholds::diameter_mm`] (the "D" of the ABCDE rule) → medium,
//!   only when the host gave a scale;
//! - evolution: a significant change since an earlier scan → high (the "E" of ABCDE, the
//!   strongest single warning sign).

use serde::{Deserialize, Serialize};

use crate::classify::Classification;
use crate::features::Features;

/// Overall level, lowest first (so levels compare with `<`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum RiskLevel {
    /// Nothing to assess: no lesion was found in the photo (reason code `no_lesion`).
    Unknown,
    /// No signal above its threshold.
    Low,
    /// Worth showing to a doctor.
    Medium,
    /// See a doctor soon.
    High,
}

impl RiskLevel {
    /// Lower-case name (`"unknown"`, `"low"`, `"medium"`, `"high"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Where the thresholds are. Defaults are documented on each field.
///
/// ```
/// use dermscan_core::risk::RiskThresholds;
/// let cautious = RiskThresholds { malignant_medium: 0.15, ..RiskThresholds::default() };
/// assert!(cautious.malignant_medium < RiskThresholds::default().malignant_medium);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskThresholds {
    /// Malignant probability for medium (default 0.25: above the 19.5% share of malignant
    /// classes in HAM10000, the classifier's training set).
    pub malignant_medium: f32,
    /// Malignant probability for high (default 0.5: the classifier leans malignant).
    pub malignant_high: f32,
    /// TDS proxy above which the lesion is suspicious (default 4.75, Stolz's band edge).
    pub tds_suspicious: f64,
    /// TDS proxy above which it is highly suspicious (default 5.45, Stolz).
    pub tds_highly_suspicious: f64,
    /// Diameter in millimetres above which size alone is a reason (default 6 mm, ABCDE).
    pub diameter_mm: f64,
}

impl Default for RiskThresholds {
    fn default() -> Self {
        Self { malignant_medium: 0.25, malignant_high: 0.5, tds_suspicious: 4.75, tds_highly_suspicious: 5.45, diameter_mm: 6.0 }
    }
}

/// Change since an earlier scan of the same lesion, as the history store measures it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvolutionSignal {
    /// Whether the change passed the history store's significance thresholds.
    pub significant: bool,
    /// Area now divided by area then.
    pub area_ratio: f64,
    /// What changed, in words (for the reason text).
    pub summary: String,
}

/// What the risk rests on; any signal may be missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskInputs {
    /// Summed probability of the malignant classes, from the classifier.
    pub malignant_probability: Option<f32>,
    /// The most likely class's name, for the reason text.
    pub top_class: Option<String>,
    /// Total Dermoscopy Score proxy.
    pub tds_proxy: Option<f64>,
    /// Equivalent diameter in millimetres (only with a scale).
    pub diameter_mm: Option<f64>,
    /// Change over time.
    pub evolution: Option<EvolutionSignal>,
}

impl RiskInputs {
    /// The signals of one scan's analysis (no evolution: add it with [`RiskInputs::with_evolution`]).
    pub fn from_analysis(features: Option<&Features>, classification: Option<&Classification>) -> Self {
        Self {
            malignant_probability: classification.map(|c| c.malignant_probability),
            top_class: classification.and_then(|c| c.probabilities.iter().find(|p| p.label == c.top).map(|p| p.name.clone())),
            tds_proxy: features.map(|f| f.abcd.tds),
            diameter_mm: features.and_then(|f| f.measurements.diameter_mm),
            evolution: None,
        }
    }

    /// The same inputs with a change-over-time signal.
    pub fn with_evolution(mut self, evolution: EvolutionSignal) -> Self {
        self.evolution = Some(evolution);
        self
    }
}

/// Which signal a [`RiskReason`] comes from. Apps that localise build their own text from
/// this code and the reason's value and threshold.
///
/// ```
/// use dermscan_core::risk::RiskCode;
/// assert_eq!(RiskCode::TdsProxy.as_str(), "tds_proxy");
/// assert_eq!(serde_json::to_string(&RiskCode::NoLesion).unwrap(), "\"no_lesion\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RiskCode {
    /// The classifier's malignant probability (value: probability, 0 to 1).
    Classifier,
    /// The Total Dermoscopy Score proxy (value: TDS).
    TdsProxy,
    /// The lesion's diameter (value: millimetres).
    Diameter,
    /// Growth since the previous scan (value: area ratio, new over old).
    Evolution,
    /// No lesion was found; nothing was assessed.
    NoLesion,
}

impl RiskCode {
    /// The stable snake_case name, as in the JSON reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classifier => "classifier",
            Self::TdsProxy => "tds_proxy",
            Self::Diameter => "diameter",
            Self::Evolution => "evolution",
            Self::NoLesion => "no_lesion",
        }
    }
}

impl std::fmt::Display for RiskCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason, tied to a measured value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RiskReason {
    /// Which signal (serialised as `classifier`, `tds_proxy`, `diameter`, `evolution`,
    /// `no_lesion`).
    pub code: RiskCode,
    /// The level this signal alone gives.
    pub level: RiskLevel,
    /// The measured value.
    pub value: f64,
    /// The threshold it was compared with (the lowest one it passed, or the first it did not).
    pub threshold: f64,
    /// One sentence for the user.
    pub text: String,
}

/// A level, its reasons (highest level first) and the not-a-diagnosis statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RiskAssessment {
    /// The highest level any signal gave.
    pub level: RiskLevel,
    /// Every signal that was available, highest level first.
    pub reasons: Vec<RiskReason>,
    /// Always [`crate::NOT_A_DIAGNOSIS`].
    pub disclaimer: String,
}

/// The assessment when no lesion was found: level [`RiskLevel::Unknown`] with one reason
/// coded `no_lesion`, never a level computed from a phantom.
///
/// ```
/// use dermscan_core::risk::{no_lesion, RiskCode, RiskLevel};
/// let r = no_lesion();
/// assert_eq!(r.level, RiskLevel::Unknown);
/// assert_eq!(r.reasons[0].code, RiskCode::NoLesion);
/// ```
pub fn no_lesion() -> RiskAssessment {
    RiskAssessment {
        level: RiskLevel::Unknown,
        reasons: vec![RiskReason {
            code: RiskCode::NoLesion,
            level: RiskLevel::Unknown,
            value: 0.0,
            threshold: 0.0,
            text: "No lesion was found in this photo, so no risk was assessed. Centre the lesion, move closer, or tap it.".into(),
        }],
        disclaimer: crate::NOT_A_DIAGNOSIS.into(),
    }
}

/// Combines the signals into an assessment.
///
/// ```
/// use dermscan_core::risk::{assess, RiskCode, RiskInputs, RiskLevel, RiskThresholds};
/// let inputs = RiskInputs { malignant_probability: Some(0.62), top_class: Some("melanoma".into()), tds_proxy: Some(4.1), ..Default::default() };
/// let risk = assess(&inputs, &RiskThresholds::default());
/// assert_eq!(risk.level, RiskLevel::High);
/// assert_eq!(risk.reasons[0].code, RiskCode::Classifier);
/// assert!(risk.disclaimer.contains("not a medical diagnosis"));
/// ```
pub fn assess(inputs: &RiskInputs, t: &RiskThresholds) -> RiskAssessment {
    let _span = tracing::debug_span!("risk").entered();
    let mut reasons = Vec::new();
    if let Some(p) = inputs.malignant_probability {
        let class = inputs.top_class.as_deref().unwrap_or("unknown");
        let (level, threshold) = if p >= t.malignant_high {
            (RiskLevel::High, t.malignant_high)
        } else if p >= t.malignant_medium {
            (RiskLevel::Medium, t.malignant_medium)
        } else {
            (RiskLevel::Low, t.malignant_medium)
        };
        let text = match level {
            RiskLevel::Low => format!(
                "The classifier gives the malignant types {:.0}% together, below {:.0}% (most likely: {class}).",
                p * 100.0,
                threshold * 100.0
            ),
            _ => format!(
                "The classifier gives the malignant types (melanoma, basal cell carcinoma, actinic keratosis) {:.0}%, at or above {:.0}% (most likely: {class}).",
                p * 100.0,
                threshold * 100.0
            ),
        };
        reasons.push(RiskReason { code: RiskCode::Classifier, level, value: f64::from(p), threshold: f64::from(threshold), text });
    }
    if let Some(tds) = inputs.tds_proxy {
        let (level, threshold, band) = if tds > t.tds_highly_suspicious {
            (RiskLevel::Medium, t.tds_highly_suspicious, "highly suspicious")
        } else if tds > t.tds_suspicious {
            (RiskLevel::Medium, t.tds_suspicious, "suspicious")
        } else {
            (RiskLevel::Low, t.tds_suspicious, "benign")
        };
        let text = format!(
            "Total Dermoscopy Score (proxy) {tds:.2}: the {band} band (threshold {threshold:.2}). It is estimated from the photo, not read by a dermatologist."
        );
        reasons.push(RiskReason { code: RiskCode::TdsProxy, level, value: tds, threshold, text });
    }
    if let Some(d) = inputs.diameter_mm {
        let level = if d > t.diameter_mm { RiskLevel::Medium } else { RiskLevel::Low };
        let text = if level == RiskLevel::Low {
            format!("Diameter {d:.1} mm, not above {:.0} mm.", t.diameter_mm)
        } else {
            format!("Diameter {d:.1} mm, above {:.0} mm.", t.diameter_mm)
        };
        reasons.push(RiskReason { code: RiskCode::Diameter, level, value: d, threshold: t.diameter_mm, text });
    }
    if let Some(e) = &inputs.evolution {
        let level = if e.significant { RiskLevel::High } else { RiskLevel::Low };
        let text = if e.significant {
            format!("It has changed since the earlier scan: {}.", e.summary)
        } else {
            format!("No significant change since the earlier scan ({}).", e.summary)
        };
        reasons.push(RiskReason { code: RiskCode::Evolution, level, value: e.area_ratio, threshold: 1.0, text });
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    let level = reasons.first().map_or(RiskLevel::Low, |r| r.level);
    RiskAssessment { level, reasons, disclaimer: crate::NOT_A_DIAGNOSIS.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tds_alone_never_makes_it_high() {
        let risk = assess(&RiskInputs { tds_proxy: Some(7.5), ..Default::default() }, &RiskThresholds::default());
        assert_eq!(risk.level, RiskLevel::Medium);
        assert!(risk.reasons[0].text.contains("proxy"));
    }

    #[test]
    fn nothing_known_is_low_with_the_statement() {
        let risk = assess(&RiskInputs::default(), &RiskThresholds::default());
        assert_eq!(risk.level, RiskLevel::Low);
        assert!(risk.reasons.is_empty());
        assert_eq!(risk.disclaimer, crate::NOT_A_DIAGNOSIS);
    }

    #[test]
    fn evolution_and_size_raise_the_level_with_their_values() {
        let inputs = RiskInputs {
            malignant_probability: Some(0.1),
            diameter_mm: Some(7.2),
            evolution: Some(EvolutionSignal { significant: true, area_ratio: 1.4, summary: "area up 40%".into() }),
            ..Default::default()
        };
        let risk = assess(&inputs, &RiskThresholds::default());
        assert_eq!(risk.level, RiskLevel::High);
        let codes: Vec<RiskCode> = risk.reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, [RiskCode::Evolution, RiskCode::Diameter, RiskCode::Classifier]);
        assert_eq!(risk.reasons[1].value, 7.2);
        // The thresholds are the one place: moving one moves the level.
        let lenient = RiskThresholds { diameter_mm: 8.0, ..RiskThresholds::default() };
        let without_evolution = RiskInputs { evolution: None, ..inputs };
        assert_eq!(assess(&without_evolution, &lenient).level, RiskLevel::Low);
    }
}
