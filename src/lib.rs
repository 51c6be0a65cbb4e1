//! # Derm-Scan
//!
//! On-device skin-lesion analysis for mobile health apps: find the lesion in a photo and
//! segment it with a Segment-Anything-family model (LiteMedSAM by default) running in ONNX
//! Runtime. No byte of the image leaves the device.
//!
//! **A screening aid, not a diagnosis** ([`NOT_A_DIAGNOSIS`]).
//!
//! This facade re-exports [`dermscan_core`]; it is the crate Rust apps depend on.
//!
//! ```no_run
//! use dermscan::{Engine, EngineConfig, Image, ImageLimits, ScanOptions};
//!
//! let engine = Engine::new(EngineConfig::new("models/litemedsam"))?;
//! let photo = Image::open("assets/samples/forearm-nevi.jpg", &ImageLimits::default())?;
//! let scan = engine.scan(&photo, &ScanOptions::default())?;
//! std::fs::write("mask.png", scan.mask.to_png())?;
//! println!("{} lesion pixels, model IoU {:.2}", scan.mask.area_px(), scan.mask.iou_score());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use dermscan_core::*;

/// The README's Rust code blocks, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
