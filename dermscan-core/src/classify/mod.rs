//! Lesion classification with a classifier bundle (HAM10000's 7 diagnoses).
//!
//! The classifier is one more bundle kind (`"kind": "classifier"`), opened and verified by
//! [`ModelBundle::open`] like the segmenters. [`Classifier::classify`] crops a square around
//! the lesion box ([`crop_square`]), resizes it to the model input, encodes the
//! [`PatientMetadata`] and returns the probability of each label.
//!
//! **The probabilities are not a diagnosis.** The HAM10000 model was trained on dermoscopy
//! images; phone photos are outside its training distribution (see the bundle README).
//!
//! ```no_run
//! use dermscan_core::classify::{BodySite, Classifier, PatientMetadata, Sex};
//! use dermscan_core::model::{runtime, ModelBundle, SessionConfig};
//! use dermscan_core::{BoxPrompt, Image, ImageLimits};
//!
//! let runtime = runtime::load(None)?;
//! let bundle = ModelBundle::open("models/ham10000-xception")?;
//! let classifier = Classifier::new(&bundle, &runtime, &SessionConfig::default())?;
//! let photo = Image::open("assets/samples/forearm-nevi.jpg", &ImageLimits::default())?;
//! let meta = PatientMetadata { age_years: Some(45.0), sex: Some(Sex::Female), site: Some("upper extremity".parse()?) };
//! let result = classifier.classify(&photo, BoxPrompt::new(580.0, 670.0, 640.0, 730.0), &meta)?;
//! println!("top {} (malignant labels together {:.2})", result.top, result.malignant_probability);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod crop;
mod metadata;

use std::sync::Mutex;
use std::time::Instant;

use ndarray::{Array2, Array4};
use ort::session::Session;
use ort::value::TensorRef;

pub use self::crop::{CropSquare, crop_square};
use self::metadata::MetaLayout;
pub use self::metadata::{BodySite, MAX_AGE_YEARS, MIN_AGE_YEARS, PatientMetadata, Sex};
use crate::error::{InferenceError, ModelError, Result};
use crate::image::{Image, PixelRect};
use crate::model::{Int8Weights, ModelBundle, ModelInfo, Runtime, SessionConfig, create_session};
use crate::preprocess::{Interpolation, resize_rgb, resize_rgb_pil};
use crate::segment::BoxPrompt;

/// Bundle kind of classifiers in `manifest.json`.
pub const KIND: &str = "classifier";
/// Role of the ONNX file in the manifest's `files` and `tensors`.
const ROLE: &str = "classifier";
const IMAGE_INPUT: &str = "image";
const META_INPUT: &str = "meta";
const OUTPUT: &str = "probabilities";
/// Labels counted as malignant when the manifest does not list them.
const DEFAULT_MALIGNANT: [&str; 3] = ["akiec", "bcc", "mel"];

/// The probability of one label.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ClassProbability {
    /// Short label, e.g. `mel`.
    pub label: String,
    /// Readable name, e.g. `Melanoma`.
    pub name: String,
    /// Model probability in `0..=1`.
    pub probability: f32,
}

/// The classifier's result for one lesion. A screening aid, not a diagnosis.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Classification {
    /// Every label with its probability, in the manifest's label order.
    pub probabilities: Vec<ClassProbability>,
    /// Label with the highest probability.
    pub top: String,
    /// Sum of the malignant labels' probabilities (the manifest's `malignant` list;
    /// `akiec + bcc + mel` for HAM10000).
    pub malignant_probability: f32,
    /// The square the model saw, in image pixels (serialised as its corners `[x0, y0, x1, y1]`).
    #[serde(with = "crate::image::corners")]
    pub crop: PixelRect,
    /// The model that produced the result.
    pub model: ModelInfo,
    /// Wall time of the model run in milliseconds.
    pub inference_ms: f64,
}

impl Classification {
    /// The probability of `label`, if the model has it.
    pub fn probability(&self, label: &str) -> Option<f32> {
        self.probabilities.iter().find(|p| p.label == label).map(|p| p.probability)
    }
}

/// The model inputs built for one call: what [`Classifier::classify`] feeds the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierInput {
    /// `[1, size, size, 3]` RGB in `0..255` (NHWC).
    pub image: Array4<f32>,
    /// The patient-metadata vector (`[sex] + [site] + [age / 90] + [age_missing]`).
    pub meta: Vec<f32>,
    /// The crop square.
    pub crop: CropSquare,
}

/// The classifier recipe read from the manifest's `classifier` section.
#[derive(Debug, Clone, PartialEq)]
struct Recipe {
    labels: Vec<String>,
    names: Vec<String>,
    malignant: Vec<usize>,
    size: u32,
    interpolation: Interpolation,
    context: f64,
    meta: MetaLayout,
}

impl Recipe {
    fn from_bundle(bundle: &ModelBundle) -> Result<Self, ModelError> {
        let m = bundle.manifest();
        let invalid = |reason: String| ModelError::Manifest { path: bundle.dir().join("manifest.json"), reason };
        let c = m.classifier.as_ref().ok_or_else(|| invalid("classifier without a `classifier` section".into()))?;
        if c.labels.is_empty() {
            return Err(invalid("classifier lists no labels".into()));
        }
        let input = &c.input;
        let supported = |what: &str, value: &str, want: &str| {
            if value == want { Ok(()) } else { Err(invalid(format!("unsupported classifier {what} {value:?} (this SDK reads {want:?})"))) }
        };
        supported("input layout", &input.layout, "nhwc")?;
        supported("input dtype", &input.dtype, "float32")?;
        supported("input range", &input.range, "0..255")?;
        supported("input normalize", &input.normalize, "in_model")?;
        supported("crop shape", &c.crop.shape, "square")?;
        supported("crop clamp", &c.crop.clamp, "shift_inside")?;
        supported("crop rounding", &c.crop.rounding, "floor(v+0.5)")?;
        let interpolation = match input.interpolation.as_str() {
            "bilinear" => Interpolation::Bilinear,
            "area" => Interpolation::Area,
            other => return Err(invalid(format!("unsupported classifier interpolation {other:?}"))),
        };
        if input.size == 0 || !(c.crop.context.is_finite() && c.crop.context > 0.0) {
            return Err(invalid("classifier input size and crop context must be positive".into()));
        }
        let index = |label: &str| c.labels.iter().position(|l| l == label);
        let malignant = match &c.malignant {
            Some(list) => list
                .iter()
                .map(|l| index(l).ok_or_else(|| invalid(format!("malignant label {l:?} is not a label"))))
                .collect::<Result<_, _>>()?,
            None => DEFAULT_MALIGNANT.iter().filter_map(|l| index(l)).collect(),
        };
        let meta = MetaLayout::from_manifest(&c.meta, invalid)?;
        let (s, n, k) = (i64::from(input.size), meta.len() as i64, c.labels.len() as i64);
        let spec = |list: &[crate::model::manifest::TensorSpec], name: &str, shape: &[i64]| {
            list.iter().any(|t| t.name == name && t.dtype == "float32" && t.shape == shape)
        };
        let tensors = m.tensors.get(ROLE);
        if !tensors.is_some_and(|t| {
            spec(&t.inputs, IMAGE_INPUT, &[1, s, s, 3]) && spec(&t.inputs, META_INPUT, &[1, n]) && spec(&t.outputs, OUTPUT, &[1, k])
        }) {
            return Err(ModelError::TensorMismatch {
                file: "manifest.json".into(),
                detail: format!("a classifier needs float32 {IMAGE_INPUT} [1,{s},{s},3] and {META_INPUT} [1,{n}] -> {OUTPUT} [1,{k}]"),
            });
        }
        Ok(Self {
            names: c.labels.iter().map(|l| c.label_names.get(l).cloned().unwrap_or_else(|| l.clone())).collect(),
            labels: c.labels.clone(),
            malignant,
            size: input.size,
            interpolation,
            context: c.crop.context,
            meta,
        })
    }
}

/// A loaded classifier bundle (one ONNX Runtime session). `Send + Sync`: one classifier can
/// serve many threads; the session runs one call at a time.
pub struct Classifier {
    info: ModelInfo,
    recipe: Recipe,
    session: Mutex<Session>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier").field("model", &self.info).field("labels", &self.recipe.labels).finish()
    }
}

fn ort_err(e: ort::Error) -> InferenceError {
    InferenceError::Runtime { stage: "classifier", reason: e.to_string() }
}

fn bad_output(detail: String) -> InferenceError {
    InferenceError::BadOutput { stage: "classifier", name: OUTPUT.into(), detail }
}

impl Classifier {
    /// Creates the session from a verified bundle of kind `classifier`; any other kind is
    /// [`ModelError::WrongKind`]. `session` sets ONNX Runtime's threads and providers.
    pub fn new(bundle: &ModelBundle, runtime: &Runtime, session: &SessionConfig) -> Result<Self> {
        let _span = tracing::info_span!("load_classifier", model = %bundle.manifest().name).entered();
        bundle.expect_kind(KIND)?;
        let recipe = Recipe::from_bundle(bundle)?;
        let bytes = bundle
            .file(ROLE)
            .ok_or_else(|| ModelError::Manifest { path: bundle.dir().join("manifest.json"), reason: format!("no {ROLE} file") })?;
        let session = create_session(runtime, bytes, ROLE, session, Int8Weights::Keep)?;
        Ok(Self { info: bundle.info(), recipe, session: Mutex::new(session) })
    }

    /// Name, version and digest of the model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Labels in the order of the model's output.
    pub fn labels(&self) -> &[String] {
        &self.recipe.labels
    }

    /// Builds the model inputs (crop, resize, metadata vector) without running the model.
    /// Fails on a box that is empty or outside the image, or on invalid metadata.
    pub fn prepare(&self, image: &Image, lesion_box: BoxPrompt, metadata: &PatientMetadata) -> Result<ClassifierInput> {
        metadata.validate()?;
        let crop = crop_square(image.width(), image.height(), lesion_box, self.recipe.context)?;
        let pixels = image.crop(crop.rect());
        let s = self.recipe.size;
        // `bilinear` in a classifier manifest means Pillow's filter bit for bit (the reference
        // resizes with Pillow, and one grey level moves this model's probabilities by ~1e-2).
        let resized = match self.recipe.interpolation {
            Interpolation::Bilinear => resize_rgb_pil(pixels.as_rgb(), crop.side, crop.side, s, s),
            other => resize_rgb(pixels.as_rgb(), crop.side, crop.side, s, s, other),
        };
        let n = s as usize;
        let image = Array4::from_shape_vec((1, n, n, 3), resized.into_iter().map(f32::from).collect())
            .map_err(|e| InferenceError::BadOutput { stage: "classifier", name: IMAGE_INPUT.into(), detail: e.to_string() })?;
        Ok(ClassifierInput { image, meta: self.recipe.meta.encode(metadata), crop })
    }

    /// Classifies the lesion inside `lesion_box` (image pixels) of `image`.
    ///
    /// Errors: [`crate::Error::Prompt`] for an empty or out-of-image box,
    /// [`crate::Error::Metadata`] for an invalid age, [`crate::Error::Inference`] if the run fails.
    pub fn classify(&self, image: &Image, lesion_box: BoxPrompt, metadata: &PatientMetadata) -> Result<Classification> {
        let _span = tracing::info_span!("classify", model = %self.info.name).entered();
        let input = self.prepare(image, lesion_box, metadata)?;
        let meta = Array2::from_shape_vec((1, input.meta.len()), input.meta).map_err(|e| InferenceError::BadOutput {
            stage: "classifier",
            name: META_INPUT.into(),
            detail: e.to_string(),
        })?;
        let t0 = Instant::now();
        let probs: Vec<f32> = {
            let _span = tracing::debug_span!("classifier_run").entered();
            let mut session = self.session.lock().map_err(|_| InferenceError::Poisoned("classifier session"))?;
            let outputs = session
                .run(ort::inputs![
                    IMAGE_INPUT => TensorRef::from_array_view(&input.image).map_err(ort_err)?,
                    META_INPUT => TensorRef::from_array_view(&meta).map_err(ort_err)?,
                ])
                .map_err(ort_err)?;
            let out = outputs.get(OUTPUT).ok_or_else(|| bad_output("is missing".into()))?;
            out.try_extract_array::<f32>().map_err(ort_err)?.iter().copied().collect()
        };
        let inference_ms = t0.elapsed().as_secs_f64() * 1e3;
        let r = &self.recipe;
        if probs.len() != r.labels.len() || probs.iter().any(|p| !p.is_finite()) {
            return Err(bad_output(format!(
                "has {} values (finite: {}), expected {}",
                probs.len(),
                probs.iter().all(|p| p.is_finite()),
                r.labels.len()
            ))
            .into());
        }
        let top = (0..probs.len()).fold(0, |best, i| if probs[i] > probs[best] { i } else { best });
        let malignant_probability = r.malignant.iter().map(|&i| probs[i]).sum();
        tracing::debug!(inference_ms, top = %r.labels[top], "classified");
        Ok(Classification {
            probabilities: r
                .labels
                .iter()
                .zip(&r.names)
                .zip(&probs)
                .map(|((label, name), &probability)| ClassProbability { label: label.clone(), name: name.clone(), probability })
                .collect(),
            top: r.labels[top].clone(),
            malignant_probability,
            crop: input.crop.rect(),
            model: self.info.clone(),
            inference_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Classifier>();
        check::<Classification>();
        check::<PatientMetadata>();
    }

    #[test]
    fn classify_recipe_reads_the_ham10000_manifest() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/ham10000-xception");
        let bundle = ModelBundle::open(dir).expect("bundle");
        let r = Recipe::from_bundle(&bundle).expect("recipe");
        assert_eq!(r.labels, ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]);
        assert_eq!(r.malignant, [0, 1, 4]);
        assert_eq!((r.size, r.interpolation, r.context), (254, Interpolation::Bilinear, 1.5));
        assert_eq!(r.names[4], "Melanoma");
    }
}
