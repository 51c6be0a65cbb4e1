//! # Derm-Scan core
//!
//! On-device skin-lesion analysis: decode a photo, find the lesion, segment it with a
//! Segment-Anything-family model running in ONNX Runtime. Nothing leaves the device: the SDK
//! has no networking code and writes nothing unless asked.
//!
//! **Derm-Scan is a screening aid, not a diagnosis.** Results must be presented as such.
//!
//! Stages, one module each: [`image`] (input) → [`roi`] (where is the lesion) →
//! [`preprocess`] (resize, normalise, hair removal) → [`segment`] (encoder once, decoder per
//! prompt) → [`features`] (measurements and the dermoscopy ABCD rule, TDS as a proxy) →
//! [`classify`] (a classifier bundle on a crop around the lesion, optional patient metadata)
//! → [`risk`] (level and reasons) alongside [`quality`] (is the photo good enough) →
//! [`pipeline`] (the whole scan, with per-stage timings). [`model`] loads and verifies model
//! bundles and the runtime; [`control`] carries cancellation and progress through every stage;
//! [`error`] holds one error enum per concern.
//!
//! Naming: a call ending in `_with` is the same call with its options spelled out and a
//! [`Control`] (cancellation and progress): [`Engine::scan_with`], [`Engine::new_with`],
//! [`Segmenter::encode_with`]. Builders are `with_*` methods on configs and options.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("dermscan_core");

pub mod classify;
pub mod control;
pub mod error;
pub mod features;
#[cfg(feature = "history")]
pub mod history;
pub mod image;
pub mod lab;
pub mod model;
pub mod pipeline;
pub mod preprocess;
pub mod quality;
pub mod risk;
pub mod roi;
pub mod segment;
pub mod verify;

pub use crate::classify::{BodySite, ClassProbability, Classification, Classifier, PatientMetadata, Sex};
pub use crate::control::{CancelToken, Control, Progress, Stage};
pub use crate::error::{Error, FeatureError, HistoryError, MetadataError, Result};
pub use crate::features::{Abcd, FeatureConfig, Features, Measurements, PrincipalAxes, StolzColour, TdsBand};
pub use crate::image::{FrameOrientation, Image, ImageLimits, PixelFormat, PixelRect, YuvFrame, YuvMatrix, YuvRange};
pub use crate::model::{ExecutionProvider, ModelBundle, ModelInfo};
pub use crate::pipeline::{
    DEFAULT_MAX_LESIONS, Engine, EngineConfig, LesionFinding, Roi, RoiSource, ScanOptions, ScanReport, ScanResult, StageTimings,
};
pub use crate::quality::{QualityConfig, QualityIssue, QualityReport, QualityWarning, Strictness, assess as assess_quality};
pub use crate::risk::{RiskAssessment, RiskCode, RiskLevel, RiskReason, RiskThresholds};
pub use crate::roi::CropPolicy;
pub use crate::roi::LesionCandidate;
pub use crate::segment::{BoxPrompt, ImageEmbedding, Mask, MaskMode, PointLabel, PointPrompt, Prompt, Segmenter};

/// The fixed statement every presentation of results must carry.
pub const NOT_A_DIAGNOSIS: &str = "Derm-Scan is a screening aid, not a medical diagnosis. \
It cannot rule out skin cancer. See a dermatologist about any lesion that worries you, changes, bleeds or itches.";
