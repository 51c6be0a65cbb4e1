//! Patient metadata (age, sex, body site) and its encoding into the classifier's `meta` input.

use std::str::FromStr;

use crate::error::{MetadataError, ModelError};
use crate::model::manifest::ClassifierMetaEntry;

/// Lowest accepted age in years.
pub const MIN_AGE_YEARS: f32 = 0.0;
/// Highest accepted age in years.
pub const MAX_AGE_YEARS: f32 = 120.0;

/// The patient's sex as the classifier's metadata branch knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Not known or not given.
    Unknown,
}

impl Sex {
    /// The manifest slot name: `female`, `male` or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::Unknown => "unknown",
        }
    }
}

impl FromStr for Sex {
    type Err = MetadataError;

    /// `female`/`f`, `male`/`m` or `unknown` (case-insensitive); anything else is
    /// [`MetadataError::UnknownSex`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "female" | "f" => Ok(Self::Female),
            "male" | "m" => Ok(Self::Male),
            "unknown" => Ok(Self::Unknown),
            _ => Err(MetadataError::UnknownSex(s.to_string())),
        }
    }
}

/// Body-site group of the lesion (the classifier's five site slots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum BodySite {
    /// Arm or hand (HAM10000 `upper extremity`, `hand`).
    Arm,
    /// Head or neck (`face`, `scalp`, `ear`, `neck`).
    HeadOrNeck,
    /// Leg, foot or genital area (`lower extremity`, `foot`, `genital`).
    LegOrGenital,
    /// Trunk (`back`, `abdomen`, `chest`, `trunk`).
    Trunk,
    /// Not known (`acral`, `unknown`).
    Unknown,
}

impl BodySite {
    /// The manifest slot name: `arm`, `head-or-neck`, `leg-or-genital`, `trunk` or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Arm => "arm",
            Self::HeadOrNeck => "head-or-neck",
            Self::LegOrGenital => "leg-or-genital",
            Self::Trunk => "trunk",
            Self::Unknown => "unknown",
        }
    }
}

/// HAM10000 `localization` values and the site group each belongs to (the bundle manifest's
/// `classifier.meta.site_mapping`).
const HAM10000_SITES: [(&str, BodySite); 15] = [
    ("upper extremity", BodySite::Arm),
    ("hand", BodySite::Arm),
    ("face", BodySite::HeadOrNeck),
    ("scalp", BodySite::HeadOrNeck),
    ("ear", BodySite::HeadOrNeck),
    ("neck", BodySite::HeadOrNeck),
    ("lower extremity", BodySite::LegOrGenital),
    ("foot", BodySite::LegOrGenital),
    ("genital", BodySite::LegOrGenital),
    ("back", BodySite::Trunk),
    ("abdomen", BodySite::Trunk),
    ("chest", BodySite::Trunk),
    ("trunk", BodySite::Trunk),
    ("acral", BodySite::Unknown),
    ("unknown", BodySite::Unknown),
];

impl FromStr for BodySite {
    type Err = MetadataError;

    /// A site group name (`arm`, `head-or-neck`, `leg-or-genital`, `trunk`, `unknown`) or a
    /// HAM10000 localisation (`back`, `face`, `lower extremity`, ...), case-insensitive;
    /// anything else is [`MetadataError::UnknownSite`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase();
        let groups = [Self::Arm, Self::HeadOrNeck, Self::LegOrGenital, Self::Trunk, Self::Unknown];
        groups
            .into_iter()
            .find(|g| g.name() == key)
            .or_else(|| HAM10000_SITES.iter().find(|(name, _)| *name == key).map(|(_, site)| *site))
            .ok_or_else(|| MetadataError::UnknownSite(s.to_string()))
    }
}

/// What is known about the patient; every field is optional (unknown).
///
/// ```
/// use dermscan_core::classify::{BodySite, PatientMetadata, Sex};
/// use dermscan_core::error::MetadataError;
///
/// let site: BodySite = "lower extremity".parse()?;
/// assert_eq!(site, BodySite::LegOrGenital);
/// assert_eq!("back".parse::<BodySite>()?, BodySite::Trunk);
/// assert!(matches!("elbow-ish".parse::<BodySite>(), Err(MetadataError::UnknownSite(_))));
///
/// let meta = PatientMetadata { age_years: Some(45.0), sex: Some(Sex::Female), site: Some(site) };
/// meta.validate()?;
/// let too_old = PatientMetadata { age_years: Some(400.0), ..PatientMetadata::default() };
/// assert!(matches!(too_old.validate(), Err(MetadataError::AgeOutOfRange { .. })));
/// # Ok::<(), MetadataError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PatientMetadata {
    /// Age in years (`0..=120`).
    pub age_years: Option<f32>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Body site of the lesion.
    pub site: Option<BodySite>,
}

impl PatientMetadata {
    /// Checks that the age, if given, is finite and within `0..=120` years.
    pub fn validate(&self) -> Result<(), MetadataError> {
        match self.age_years {
            Some(age) if !(age.is_finite() && (MIN_AGE_YEARS..=MAX_AGE_YEARS).contains(&age)) => {
                Err(MetadataError::AgeOutOfRange { age, min: MIN_AGE_YEARS, max: MAX_AGE_YEARS })
            }
            _ => Ok(()),
        }
    }
}

/// The `meta` vector layout read from a classifier manifest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetaLayout {
    length: usize,
    sex: [usize; 3],
    site: [usize; 5],
    age: usize,
    age_missing: usize,
    age_scale: f64,
    age_missing_value: f64,
    age_clip: Option<f64>,
}

impl MetaLayout {
    /// Finds the slot of every [`Sex`] and [`BodySite`] in the manifest's lists; the vector is
    /// `[sex one-hot] + [site one-hot] + [age / age_scale] + [age_missing]`.
    pub(crate) fn from_manifest(meta: &ClassifierMetaEntry, invalid: impl Fn(String) -> ModelError) -> Result<Self, ModelError> {
        let slot = |list: &[String], name: &str, offset: usize| {
            list.iter().position(|n| n == name).map(|i| i + offset).ok_or_else(|| invalid(format!("meta has no slot {name:?}")))
        };
        let n_sex = meta.sex.len();
        let sex = [slot(&meta.sex, "female", 0)?, slot(&meta.sex, "male", 0)?, slot(&meta.sex, "unknown", 0)?];
        let mut site = [0; 5];
        let groups = [BodySite::Arm, BodySite::HeadOrNeck, BodySite::LegOrGenital, BodySite::Trunk, BodySite::Unknown];
        for (s, g) in site.iter_mut().zip(groups) {
            *s = slot(&meta.sites, g.name(), n_sex)?;
        }
        let age = n_sex + meta.sites.len();
        if meta.length != age + 2 {
            return Err(invalid(format!("meta length {} is not {} sex + {} site slots + 2", meta.length, n_sex, meta.sites.len())));
        }
        if !(meta.age_scale.is_finite() && meta.age_scale > 0.0 && meta.age_missing_value.is_finite()) {
            return Err(invalid("meta age_scale must be positive and age_missing_value finite".into()));
        }
        Ok(Self {
            length: meta.length,
            sex,
            site,
            age,
            age_missing: age + 1,
            age_scale: meta.age_scale,
            age_missing_value: meta.age_missing_value,
            age_clip: meta.age_clip,
        })
    }

    /// Length of the vector.
    pub(crate) fn len(&self) -> usize {
        self.length
    }

    /// The `meta` vector for `m` (which must have passed [`PatientMetadata::validate`]).
    pub(crate) fn encode(&self, m: &PatientMetadata) -> Vec<f32> {
        let mut v = vec![0.0f32; self.length];
        let sex = match m.sex.unwrap_or(Sex::Unknown) {
            Sex::Female => self.sex[0],
            Sex::Male => self.sex[1],
            Sex::Unknown => self.sex[2],
        };
        let site = match m.site.unwrap_or(BodySite::Unknown) {
            BodySite::Arm => self.site[0],
            BodySite::HeadOrNeck => self.site[1],
            BodySite::LegOrGenital => self.site[2],
            BodySite::Trunk => self.site[3],
            BodySite::Unknown => self.site[4],
        };
        v[sex] = 1.0;
        v[site] = 1.0;
        let (age, missing) = match m.age_years {
            Some(age) => (f64::from(age), 0.0),
            None => (self.age_missing_value, 1.0),
        };
        let age = self.age_clip.map_or(age, |clip| age.min(clip));
        v[self.age] = (age / self.age_scale) as f32;
        v[self.age_missing] = missing;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Manifest;

    fn ham_manifest() -> Manifest {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/ham10000-xception/manifest.json");
        serde_json::from_slice(&std::fs::read(path).expect("manifest")).expect("parse")
    }

    fn layout() -> MetaLayout {
        let m = ham_manifest();
        let meta = &m.classifier.as_ref().expect("classifier section").meta;
        MetaLayout::from_manifest(meta, |r| ModelError::Manifest { path: "manifest.json".into(), reason: r }).expect("layout")
    }

    #[test]
    fn classify_meta_matches_the_bundle_readme_examples() {
        let l = layout();
        assert_eq!(
            l.encode(&PatientMetadata::default()),
            vec![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, (51.901_800_327_332_24_f64 / 90.0) as f32, 1.0]
        );
        let woman = PatientMetadata { age_years: Some(45.0), sex: Some(Sex::Female), site: Some(BodySite::Arm) };
        assert_eq!(l.encode(&woman), vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0]);
        let man = PatientMetadata { age_years: Some(70.0), sex: Some(Sex::Male), site: Some(BodySite::Trunk) };
        assert_eq!(l.encode(&man), vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, (70.0f64 / 90.0) as f32, 0.0]);
    }

    #[test]
    fn classify_site_names_agree_with_the_manifest_mapping() {
        let m = ham_manifest();
        let mapping = &m.classifier.as_ref().expect("classifier section").meta.site_mapping;
        assert_eq!(mapping.len(), HAM10000_SITES.len());
        for (name, group) in mapping {
            let site: BodySite = name.parse().expect(name);
            assert_eq!(site.name(), group, "{name}");
            assert_eq!(name.to_uppercase().parse::<BodySite>().expect(name), site);
        }
        for group in ["arm", "head-or-neck", "leg-or-genital", "trunk", "unknown"] {
            assert_eq!(group.parse::<BodySite>().expect(group).name(), group);
        }
        assert_eq!("nose".parse::<BodySite>(), Err(MetadataError::UnknownSite("nose".into())));
    }

    #[test]
    fn classify_ages_are_validated() {
        for bad in [-1.0, 120.5, 400.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let m = PatientMetadata { age_years: Some(bad), ..PatientMetadata::default() };
            assert!(matches!(m.validate(), Err(MetadataError::AgeOutOfRange { .. })), "{bad}");
        }
        for good in [0.0, 0.5, 45.0, 120.0] {
            PatientMetadata { age_years: Some(good), ..PatientMetadata::default() }.validate().expect("valid age");
        }
        PatientMetadata::default().validate().expect("all unknown");
    }

    #[test]
    fn classify_sex_parses() {
        assert_eq!("Female".parse::<Sex>(), Ok(Sex::Female));
        assert_eq!("m".parse::<Sex>(), Ok(Sex::Male));
        assert!(matches!("x".parse::<Sex>(), Err(MetadataError::UnknownSex(_))));
    }
}
