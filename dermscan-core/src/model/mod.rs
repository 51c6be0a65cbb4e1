//! Model bundles and the ONNX Runtime they run on.
//!
//! A bundle is a folder with `manifest.json` and the ONNX files it lists
//! (see [`Manifest`]). [`ModelBundle::open`] verifies every file before any ONNX Runtime
//! session exists; [`runtime::load`] finds and loads the runtime library.

mod bundle;
pub mod manifest;
mod onnx_io;
pub mod runtime;
mod session;

pub use self::bundle::{ModelBundle, ModelInfo};
pub use self::manifest::Manifest;
pub use self::onnx_io::{GraphIo, read_graph_io};
pub use self::runtime::Runtime;
pub use self::session::{ExecutionProvider, SessionConfig};
pub(crate) use self::session::{Int8Weights, create_session};
