//! Error types: one enum per concern, gathered in [`Error`].
//!
//! Every fallible call in the SDK returns [`Result`]. Nothing in the library panics on bad
//! input; each failure names what went wrong and, where there is one, how to fix it.

use std::path::PathBuf;

/// Convenience alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error the SDK can return.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input image could not be used.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A model bundle is missing, malformed, tampered with or of the wrong kind.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The ONNX Runtime library could not be found or loaded.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A prompt (box, points, mask) cannot be used with this image or model.
    #[error(transparent)]
    Prompt(#[from] PromptError),
    /// Running a model failed.
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// Patient metadata for the classifier is out of range or not recognised.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// Lesion measurements or dermoscopy features could not be computed.
    #[error(transparent)]
    Features(#[from] FeatureError),
    /// The lesion history store failed (see [`crate::history`]).
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The caller cancelled the call (see [`crate::pipeline::CancelToken`]).
    #[error("the call was cancelled")]
    Cancelled,
}

/// Problems with an input image (encoded bytes or a raw camera buffer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The byte buffer is empty.
    #[error("image buffer is empty")]
    Empty,
    /// The bytes are not a supported image format.
    #[error(
        "unsupported image format (supported: JPEG, PNG). For HEIC, WebP, TIFF and other formats, decode the \
         photo with the platform (Android BitmapFactory or ImageDecoder, iOS UIImage or CGImage, Pillow) and \
         pass its pixels as a raw RGBA8/BGRA8/RGB8 buffer or a YUV camera frame"
    )]
    UnsupportedFormat,
    /// The encoded image is corrupt; the decoder's error is the source.
    #[error("image could not be decoded: {0}")]
    Decode(#[source] ::image::ImageError),
    /// The JPEG stops before its end-of-image marker (a file cut short while copying or
    /// downloading); decoders would silently fill the rest with grey.
    #[error("image could not be decoded: JPEG is truncated (no end-of-image marker after the last scan)")]
    Truncated,
    /// The image has more pixels than the configured limit; rejected before allocating.
    #[error("image is {width}x{height} = {pixels} pixels, above the limit of {max_pixels} pixels")]
    TooLarge {
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
        /// width * height.
        pixels: u64,
        /// The configured limit ([`crate::image::ImageLimits::max_pixels`]).
        max_pixels: u64,
    },
    /// Width or height is zero.
    #[error("image has zero width or height ({width}x{height})")]
    ZeroSize {
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
    },
    /// A raw buffer's row stride is smaller than one row of pixels.
    #[error("row stride {stride} bytes is smaller than one row ({row_bytes} bytes)")]
    StrideTooSmall {
        /// Stride given.
        stride: usize,
        /// Bytes needed for one row.
        row_bytes: usize,
    },
    /// A raw buffer holds fewer bytes than its geometry needs.
    #[error("raw buffer has {len} bytes, {needed} needed for its width, height and stride")]
    BufferTooSmall {
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// A frame rotation other than 0, 90, 180 or 270 degrees.
    #[error("frame rotation {degrees} degrees is not 0, 90, 180 or 270")]
    Rotation {
        /// Degrees given.
        degrees: u32,
    },
    /// A YUV plane's strides do not fit a row of its samples (row stride smaller than a row,
    /// a pixel stride of 0, or a luma pixel stride other than 1).
    #[error(
        "YUV {plane} plane: row stride {row_stride} and pixel stride {pixel_stride} do not fit {width} samples a row (the Y plane needs pixel stride 1)"
    )]
    YuvStride {
        /// The plane.
        plane: YuvPlaneKind,
        /// Row stride given, in bytes.
        row_stride: usize,
        /// Pixel stride given, in bytes.
        pixel_stride: usize,
        /// Samples in one row of the plane.
        width: usize,
    },
    /// A YUV plane holds fewer bytes than its geometry needs.
    #[error("YUV {plane} plane has {len} bytes, {needed} needed for its size and strides")]
    YuvPlaneTooSmall {
        /// The plane.
        plane: YuvPlaneKind,
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// Reading an image file failed.
    #[error("cannot read image file {path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
}

/// Which plane of a YUV frame an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum YuvPlaneKind {
    /// Luma.
    Y,
    /// Blue-difference chroma (Cb).
    U,
    /// Red-difference chroma (Cr).
    V,
}

impl std::fmt::Display for YuvPlaneKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Y => "Y",
            Self::U => "U",
            Self::V => "V",
        })
    }
}

/// Problems with a model bundle (a folder with `manifest.json` and ONNX files).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A file of the bundle could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// `manifest.json` is not valid.
    #[error("invalid manifest {path}: {reason}")]
    Manifest {
        /// Manifest path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The manifest's schema version is newer than this SDK understands.
    #[error("manifest schema version {found} is not supported (this SDK reads up to {supported}); update the SDK")]
    UnsupportedSchema {
        /// Version in the manifest.
        found: u32,
        /// Highest version this SDK reads.
        supported: u32,
    },
    /// A path in the manifest points outside the bundle folder.
    #[error("manifest path {path:?} points outside the bundle folder")]
    PathEscapesBundle {
        /// The offending path as written in the manifest.
        path: String,
    },
    /// A model file's SHA-256 differs from the manifest: the file is corrupt or was tampered with.
    #[error("{file}: sha256 {actual} does not match the manifest's {expected} (corrupt or tampered model file)")]
    ChecksumMismatch {
        /// File name.
        file: String,
        /// Digest from the manifest.
        expected: String,
        /// Digest of the file on disk.
        actual: String,
    },
    /// A model file's size differs from the manifest.
    #[error("{file}: {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// File name.
        file: String,
        /// Size from the manifest.
        expected: u64,
        /// Size on disk.
        actual: u64,
    },
    /// The ONNX graph's inputs or outputs do not match the manifest.
    #[error("{file}: ONNX graph does not match the manifest: {detail}")]
    TensorMismatch {
        /// File name.
        file: String,
        /// What differs.
        detail: String,
    },
    /// The bundle is of another kind or family than the caller needs.
    #[error("model bundle {name:?} is a {found}, expected a {expected}")]
    WrongKind {
        /// Bundle name.
        name: String,
        /// What the caller needs.
        expected: String,
        /// What the manifest says.
        found: String,
    },
    /// ONNX Runtime rejected the model when creating a session.
    #[error("ONNX Runtime could not load {file}: {reason}")]
    Session {
        /// File name.
        file: String,
        /// ONNX Runtime's message.
        reason: String,
    },
}

/// Problems finding or loading the ONNX Runtime shared library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No library was found at any of the searched places.
    #[error(
        "ONNX Runtime library not found (searched: {searched}); run `scripts/setup`, set DERMSCAN_ORT_LIB, or pass the path in the engine config"
    )]
    NotFound {
        /// Places that were searched, in order.
        searched: String,
    },
    /// The library exists but could not be loaded, or is too old.
    #[error("ONNX Runtime library {path} could not be loaded: {reason}; onnxruntime >= 1.31 is required (run `scripts/setup`)")]
    LoadFailed {
        /// Library path.
        path: PathBuf,
        /// Loader message.
        reason: String,
    },
    /// The runtime was already loaded from another file in this process.
    #[error("ONNX Runtime is already loaded from {loaded}; cannot switch to {requested} in the same process")]
    AlreadyLoaded {
        /// Library in use.
        loaded: PathBuf,
        /// Library requested now.
        requested: PathBuf,
    },
}

/// Problems with a segmentation prompt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The model family does not take this kind of prompt.
    #[error("model {model:?} does not accept {kind} prompts (it accepts: {accepted})")]
    Unsupported {
        /// Model name.
        model: String,
        /// Prompt kind asked for.
        kind: &'static str,
        /// Kinds the model takes.
        accepted: String,
    },
    /// The prompt has neither a box nor a point.
    #[error("prompt is empty: give a box or at least one point")]
    Empty,
    /// A box is degenerate (x1 <= x0 or y1 <= y0) or not finite.
    #[error("box [{x0}, {y0}, {x1}, {y1}] is empty or not finite")]
    InvalidBox {
        /// Left.
        x0: f32,
        /// Top.
        y0: f32,
        /// Right.
        x1: f32,
        /// Bottom.
        y1: f32,
    },
    /// A box or point lies outside the image (or the part of it the embedding covers).
    #[error("{what} lies outside the {width}x{height} region covered by the embedding")]
    OutOfBounds {
        /// The prompt element.
        what: String,
        /// Region width.
        width: u32,
        /// Region height.
        height: u32,
    },
    /// A previous mask given as prompt has the wrong size.
    #[error("mask prompt must be {expected}x{expected} low-resolution logits, got {len} values")]
    MaskSize {
        /// Expected side.
        expected: usize,
        /// Values given.
        len: usize,
    },
    /// The embedding was made by another model than the one asked to decode it.
    #[error("embedding was made by model {embedding_model:?}, cannot decode with {decoder_model:?}")]
    ModelMismatch {
        /// Model that encoded.
        embedding_model: String,
        /// Model asked to decode.
        decoder_model: String,
    },
}

/// Problems with the patient metadata given to the classifier.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The age is not a finite number of years within the accepted range.
    #[error("age {age} is not a number of years within {min}..={max}; leave it out if it is unknown")]
    AgeOutOfRange {
        /// Age given.
        age: f32,
        /// Lowest accepted age.
        min: f32,
        /// Highest accepted age.
        max: f32,
    },
    /// A body-site name that is neither a site group nor a HAM10000 localisation.
    #[error(
        "unknown body site {0:?} (use arm, head-or-neck, leg-or-genital, trunk, unknown, or a HAM10000 localisation such as back or face)"
    )]
    UnknownSite(String),
    /// A sex that is not female, male or unknown.
    #[error("unknown sex {0:?} (use female, male or unknown)")]
    UnknownSex(String),
}

/// Problems while running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InferenceError {
    /// ONNX Runtime returned an error.
    #[error("ONNX Runtime failed in {stage}: {reason}")]
    Runtime {
        /// Stage (encoder or decoder).
        stage: &'static str,
        /// ONNX Runtime's message.
        reason: String,
    },
    /// A model output is missing or has an unexpected shape.
    #[error("{stage}: output {name:?} {detail}")]
    BadOutput {
        /// Stage (encoder or decoder).
        stage: &'static str,
        /// Output name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// An internal lock was poisoned by a panic in another thread.
    #[error("{0} is unusable after a panic in another thread")]
    Poisoned(&'static str),
}

/// Problems computing lesion measurements and dermoscopy features ([`crate::features`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// The mask has no lesion pixel.
    #[error("the lesion mask is empty: nothing to measure")]
    EmptyMask,
    /// The mask and the image differ in size.
    #[error("mask is {mask_width}x{mask_height} but the image is {image_width}x{image_height}; they must match")]
    SizeMismatch {
        /// Image width.
        image_width: u32,
        /// Image height.
        image_height: u32,
        /// Mask width.
        mask_width: u32,
        /// Mask height.
        mask_height: u32,
    },
    /// The scale `mm_per_px` is not finite or not positive.
    #[error("scale mm_per_px = {0} is invalid: it must be a finite number above 0")]
    InvalidScale(f32),
}

/// Problems with the lesion history store ([`crate::history`]). None of them loses stored
/// data: a failed call leaves the store as it was before the call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// A file or directory of the store could not be read or written.
    #[error("history store I/O error at {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The store directory (or a file in it) is read-only; nothing was changed.
    #[error("history store at {path} is read-only: nothing was changed")]
    ReadOnly {
        /// The store directory or file.
        path: PathBuf,
    },
    /// The disk (or the store's size limit) is full; the call was rolled back.
    #[error("no space left for the history store at {path} ({detail}); nothing was changed")]
    StorageFull {
        /// The store directory.
        path: PathBuf,
        /// Which limit was reached.
        detail: String,
    },
    /// The database or a stored file is damaged. The store leaves it untouched so it can be
    /// inspected or restored from a backup.
    #[error("history store at {path} is corrupt: {detail}; it was left untouched")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The database was written by a newer SDK; this one will not touch it.
    #[error("history database has schema version {found}, newer than {supported} which this SDK supports; update the SDK")]
    NewerSchema {
        /// Version found in the database.
        found: i64,
        /// Newest version this SDK knows.
        supported: i64,
    },
    /// Another process has the store open.
    #[error("history store at {path} is in use by another process")]
    Locked {
        /// The store directory.
        path: PathBuf,
    },
    /// The store is encrypted and no key was given.
    #[error("history store is encrypted: open it with its key")]
    KeyRequired,
    /// The key does not open this store. Nothing was changed.
    #[error("the key does not open this history store; nothing was changed")]
    WrongKey,
    /// A key was given for a store that holds unencrypted data (open it without a key and
    /// call `rotate_key` to encrypt it).
    #[error("history store is not encrypted: open it without a key, then call rotate_key to encrypt it")]
    NotEncrypted,
    /// No lesion with this id or label.
    #[error("no lesion {0} in the history store")]
    LesionNotFound(String),
    /// No scan with this id.
    #[error("no scan {0} in the history store")]
    ScanNotFound(i64),
    /// A lesion with this label exists already.
    #[error("a lesion labelled {0:?} exists already")]
    DuplicateLabel(String),
    /// An argument is out of range (empty label, mask of the wrong size, too few scans...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Any other database failure; SQLite's error is the source.
    #[error("history database error at {path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// SQLite's error (a `rusqlite::Error`; boxed so the error type does not depend on
        /// the `history` feature).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An internal lock was poisoned by a panic in another thread; the store must be reopened.
    #[error("the history store is unusable after a panic in another thread; reopen it")]
    Poisoned,
    /// The caller cancelled the call before it committed anything; the store is as it was.
    #[error("the call was cancelled; the history store is unchanged")]
    Cancelled,
}
