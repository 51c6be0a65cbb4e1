//! The HAM10000 classifier bundle: parity with the Python reference
//! (`tools/reference/classify.py`, onnxruntime), typed errors for bad metadata and wrong
//! bundle kinds, and the shape of the result.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use dermscan::classify::{BodySite, Classifier, PatientMetadata, Sex};
use dermscan::error::{Error, MetadataError, ModelError, PromptError};
use dermscan::model::{ModelBundle, Runtime, SessionConfig, runtime};
use dermscan::{BoxPrompt, Image, ImageLimits, Segmenter};
use support::{report, synth};

const BUNDLE: &str = "ham10000-xception";
const TOLERANCE: f32 = 1e-4;

fn runtime() -> Arc<Runtime> {
    runtime::load(None).expect("ONNX Runtime (run scripts/setup or set DERMSCAN_ORT_LIB)")
}

fn session() -> SessionConfig {
    SessionConfig { threads: 2, execution_providers: Vec::new() }
}

/// One classifier for the whole test binary.
fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| {
        let bundle = ModelBundle::open(support::model_dir(BUNDLE)).expect("classifier bundle verifies");
        Classifier::new(&bundle, &runtime(), &session()).expect("classifier loads")
    })
}

/// Patient metadata and the same facts as `classify.py` arguments.
struct Meta {
    sdk: PatientMetadata,
    args: Vec<String>,
}

fn metas() -> Vec<Meta> {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect();
    vec![
        Meta { sdk: PatientMetadata::default(), args: Vec::new() },
        Meta {
            // A HAM10000 localisation name on both sides: the SDK parses it, the reference maps it.
            sdk: PatientMetadata { age_years: Some(45.0), sex: Some(Sex::Female), site: Some("upper extremity".parse().expect("site")) },
            args: args(&["--age", "45", "--sex", "female", "--site", "upper extremity"]),
        },
        Meta {
            sdk: PatientMetadata { age_years: Some(70.0), sex: Some(Sex::Male), site: Some(BodySite::Trunk) },
            args: args(&["--age", "70", "--sex", "male", "--site", "trunk"]),
        },
        Meta {
            sdk: PatientMetadata { age_years: None, sex: Some(Sex::Male), site: Some(BodySite::HeadOrNeck) },
            args: args(&["--sex", "male", "--site", "head-or-neck"]),
        },
    ]
}

struct Case {
    name: String,
    image: PathBuf,
    bbox: [f32; 4],
}

fn cases(dir: &Path) -> Vec<Case> {
    // The photo as the SDK decodes it, saved losslessly: JPEG decoders (the `image` crate's and
    // Pillow's libjpeg) differ by a few grey levels, which is not what this test measures.
    let photo = dir.join("photo.png");
    Image::open(support::sample_photo(), &ImageLimits::default()).expect("photo").into_rgb_image().save(&photo).expect("save photo");
    let mut cases = vec![
        // A nevus of the sample photo (the crop is enlarged to 254 px).
        Case { name: "photo-nevus".into(), image: photo.clone(), bbox: [580.0, 670.0, 640.0, 730.0] },
        // Fractional box at the top-left corner: the square is shifted inside the image.
        Case { name: "photo-corner".into(), image: photo.clone(), bbox: [5.5, 3.25, 70.75, 50.5] },
        // Box larger than the image allows: the side becomes the image height, shrunk to 254 px.
        Case { name: "photo-large".into(), image: photo, bbox: [100.0, 50.0, 1500.0, 1300.0] },
    ];
    for (i, spec) in synth::standard_set(11, 12).into_iter().filter(|s| !s.hair).take(3).enumerate() {
        let case = synth::render(&spec);
        let path = dir.join(format!("synth_{i}.png"));
        case.image.save(&path).expect("save synthetic image");
        cases.push(Case { name: format!("synth-{i}"), image: path, bbox: case.bbox });
    }
    cases
}

/// What `classify.py` printed, plus its dumped model inputs.
struct Reference {
    crop: [u32; 3],
    meta: Vec<f32>,
    probabilities: Vec<(String, f32)>,
    top1: String,
    malignant: f32,
    image: Vec<f32>,
}

fn reference(case: &Case, meta: &Meta, dump: &Path) -> Reference {
    // Exact decimal of each f32 coordinate, so Python's float64 arithmetic sees the same values.
    let bbox = case.bbox.iter().map(|v| format!("{}", f64::from(*v))).collect::<Vec<_>>().join(",");
    let out = Command::new(support::python())
        .arg(support::root().join("tools/reference/classify.py"))
        .args(["--bundle", &support::model_dir(BUNDLE).to_string_lossy(), "--image", &case.image.to_string_lossy()])
        .arg(format!("--box={bbox}"))
        .args(["--threads", "2", "--dump-input", &dump.to_string_lossy()])
        .args(&meta.args)
        .output()
        .expect("the reference venv exists (run scripts/setup or set DERMSCAN_PYTHON)");
    assert!(out.status.success(), "classify.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("classify.py prints JSON");
    let crop = ["left", "top", "side"].map(|k| v["crop"][k].as_u64().expect("crop") as u32);
    let floats = |x: &serde_json::Value| x.as_f64().expect("number") as f32;
    let probabilities =
        v["probabilities"].as_object().expect("probabilities").iter().map(|(k, p)| (k.clone(), floats(p))).collect::<Vec<_>>();
    let (shape, image) = support::read_npy_f32(&PathBuf::from(format!("{}_image.npy", dump.display())));
    assert_eq!(shape, [1, 254, 254, 3]);
    Reference {
        crop,
        meta: v["meta"].as_array().expect("meta").iter().map(floats).collect(),
        probabilities,
        top1: v["top1"].as_str().expect("top1").to_string(),
        malignant: floats(&v["malignant_probability"]),
        image,
    }
}

#[test]
fn classify_matches_the_python_reference() {
    let dir = tempfile::tempdir().expect("tmp");
    let clf = classifier();
    let metas = metas();
    let (mut max_prob, mut max_pixel, mut n) = (0f32, 0f32, 0);
    let mut lines = String::new();
    let mut failures = Vec::new();
    for (ci, case) in cases(dir.path()).iter().enumerate() {
        let image = Image::open(&case.image, &ImageLimits::default()).expect("image");
        let [x0, y0, x1, y1] = case.bbox;
        let bbox = BoxPrompt::new(x0, y0, x1, y1);
        // Every case without metadata, and each case with one of the metadata sets.
        for meta in [&metas[0], &metas[1 + ci % (metas.len() - 1)]] {
            let dump = dir.path().join(format!("ref_{ci}_{}", meta.args.len()));
            let theirs = reference(case, meta, &dump);
            let input = clf.prepare(&image, bbox, &meta.sdk).expect("prepare");
            let ours = clf.classify(&image, bbox, &meta.sdk).expect("classify");

            let [left, top, side] = theirs.crop;
            assert_eq!((input.crop.left, input.crop.top, input.crop.side), (left, top, side), "{}: crop square", case.name);
            assert_eq!(ours.crop.corners(), [left, top, left + side, top + side], "{}: crop", case.name);
            assert_eq!(input.meta, theirs.meta, "{}: meta vector", case.name);
            let pixel = input.image.iter().zip(&theirs.image).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            max_pixel = max_pixel.max(pixel);

            assert_eq!(ours.probabilities.len(), theirs.probabilities.len(), "{}: labels", case.name);
            let diff = ours
                .probabilities
                .iter()
                .map(|a| {
                    let b = theirs.probabilities.iter().find(|(l, _)| *l == a.label).map_or(f32::NAN, |(_, p)| *p);
                    (a.probability - b).abs()
                })
                .fold((ours.malignant_probability - theirs.malignant).abs(), |m, d| if d.is_nan() { f32::INFINITY } else { m.max(d) });
            max_prob = max_prob.max(diff);
            n += 1;
            lines += &format!(
                "  {:<13} crop {:?} meta {:?}: top {} ({:.4}), malignant {:.4}, max |diff| {diff:.2e}, input |diff| {pixel}\n",
                case.name,
                ours.crop,
                meta.args,
                ours.top,
                ours.probability(&ours.top).unwrap_or(f32::NAN),
                ours.malignant_probability,
            );
            if ours.top != theirs.top1 || diff > TOLERANCE {
                failures.push(format!("{} {:?}: top {} vs {}, max |diff| {diff:e}", case.name, meta.args, ours.top, theirs.top1));
            }
        }
    }
    // For the record (not asserted): the original JPEG decoded by each side.
    let jpeg = Case { name: "photo-jpeg".into(), image: support::sample_photo(), bbox: [580.0, 670.0, 640.0, 730.0] };
    let theirs = reference(&jpeg, &metas[0], &dir.path().join("ref_jpeg"));
    let image = Image::open(&jpeg.image, &ImageLimits::default()).expect("photo");
    let ours = clf.classify(&image, BoxPrompt::new(580.0, 670.0, 640.0, 730.0), &metas[0].sdk).expect("classify");
    let input = clf.prepare(&image, BoxPrompt::new(580.0, 670.0, 640.0, 730.0), &metas[0].sdk).expect("prepare");
    let jpeg_pixel = input.image.iter().zip(&theirs.image).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    let jpeg_prob = ours
        .probabilities
        .iter()
        .filter_map(|a| theirs.probabilities.iter().find(|(l, _)| *l == a.label).map(|(_, b)| (a.probability - b).abs()))
        .fold(0f32, f32::max);
    lines += &format!(
        "  (not asserted) sample JPEG decoded by each side (image crate vs Pillow/libjpeg): input max |diff| {jpeg_pixel}, probability max |diff| {jpeg_prob:.2e}\n"
    );
    report(
        "parity_classify",
        &format!(
            "{BUNDLE} SDK vs tools/reference/classify.py (onnxruntime), n={n}: max |probability diff| {max_prob:.2e} \
             (tolerance {TOLERANCE:e}); model input max |diff| {max_pixel}; crop squares and meta vectors identical\n{lines}"
        ),
    );
    assert!(failures.is_empty(), "differences from the reference:\n{}", failures.join("\n"));
}

#[test]
fn classify_probabilities_follow_the_manifest() {
    let clf = classifier();
    let manifest = ModelBundle::open(support::model_dir(BUNDLE)).expect("bundle").manifest().clone();
    let section = manifest.classifier.expect("classifier section");
    let photo = Image::open(support::sample_photo(), &ImageLimits::default()).expect("photo");
    let meta = PatientMetadata { age_years: Some(30.0), sex: Some(Sex::Unknown), site: Some(BodySite::LegOrGenital) };
    let result = clf.classify(&photo, BoxPrompt::new(580.0, 670.0, 640.0, 730.0), &meta).expect("classify");
    let labels: Vec<&String> = result.probabilities.iter().map(|p| &p.label).collect();
    assert_eq!(labels, section.labels.iter().collect::<Vec<_>>());
    assert_eq!(clf.labels(), section.labels.as_slice());
    let sum: f32 = result.probabilities.iter().map(|p| p.probability).sum();
    assert!((sum - 1.0).abs() <= 1e-3, "probabilities sum to {sum}");
    assert!(result.probabilities.iter().all(|p| (0.0..=1.0).contains(&p.probability)));
    let malignant: f32 = ["akiec", "bcc", "mel"].iter().filter_map(|l| result.probability(l)).sum();
    assert!((result.malignant_probability - malignant).abs() < 1e-6);
    let best = result.probabilities.iter().max_by(|a, b| a.probability.total_cmp(&b.probability)).expect("labels");
    assert_eq!(result.top, best.label);
    assert_eq!(result.probabilities[4].name, "Melanoma");
    assert_eq!(&result.model, clf.info());
    assert_eq!(result.model.name, BUNDLE);
    assert!(result.inference_ms > 0.0);
    // Serialisable as a plain record.
    let json = serde_json::to_value(&result).expect("json");
    assert_eq!(json["crop"], serde_json::json!([565, 655, 655, 745]));
}

#[test]
fn classify_rejects_bad_metadata_and_boxes_with_typed_errors() {
    let clf = classifier();
    let photo = Image::open(support::sample_photo(), &ImageLimits::default()).expect("photo");
    let bbox = BoxPrompt::new(580.0, 670.0, 640.0, 730.0);
    for age in [-1.0, 400.0, f32::NAN] {
        let meta = PatientMetadata { age_years: Some(age), ..PatientMetadata::default() };
        let err = clf.classify(&photo, bbox, &meta).expect_err("bad age");
        assert!(matches!(err, Error::Metadata(MetadataError::AgeOutOfRange { .. })), "{age}: {err}");
        assert!(matches!(meta.validate(), Err(MetadataError::AgeOutOfRange { .. })));
    }
    let err = "left pinky toe".parse::<BodySite>().expect_err("unknown site");
    assert_eq!(err, MetadataError::UnknownSite("left pinky toe".into()));
    assert!(Error::from(err).to_string().contains("left pinky toe"));
    assert_eq!("Back".parse::<BodySite>(), Ok(BodySite::Trunk));
    assert_eq!("face".parse::<BodySite>(), Ok(BodySite::HeadOrNeck));
    assert_eq!("lower extremity".parse::<BodySite>(), Ok(BodySite::LegOrGenital));

    let outside = BoxPrompt::new(1500.0, 10.0, 1600.0, 60.0);
    let err = clf.classify(&photo, outside, &PatientMetadata::default()).expect_err("box outside");
    assert!(matches!(err, Error::Prompt(PromptError::OutOfBounds { .. })), "{err}");
    let empty = BoxPrompt::new(10.0, 10.0, 10.0, 60.0);
    let err = clf.classify(&photo, empty, &PatientMetadata::default()).expect_err("empty box");
    assert!(matches!(err, Error::Prompt(PromptError::InvalidBox { .. })), "{err}");
}

#[test]
fn classify_and_segment_refuse_each_others_bundles() {
    let rt = runtime();
    let classifier_bundle = ModelBundle::open(support::model_dir(BUNDLE)).expect("classifier bundle");
    let err = Segmenter::new(&classifier_bundle, &rt, &session()).expect_err("classifier is not a segmenter");
    assert!(
        matches!(err, Error::Model(ModelError::WrongKind { ref expected, ref found, .. }) if expected == "segmenter" && found == "classifier"),
        "{err}"
    );
    let segmenter_bundle = ModelBundle::open(support::model_dir("litemedsam")).expect("segmenter bundle");
    let err = Classifier::new(&segmenter_bundle, &rt, &session()).expect_err("segmenter is not a classifier");
    assert!(
        matches!(err, Error::Model(ModelError::WrongKind { ref expected, ref found, .. }) if expected == "classifier" && found == "segmenter"),
        "{err}"
    );
}

#[test]
fn classify_bundle_tampering_is_caught_by_the_bundle_check() {
    let dir = tempfile::tempdir().expect("tmp");
    for entry in std::fs::read_dir(support::model_dir(BUNDLE)).expect("bundle") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let manifest = dir.path().join("manifest.json");
    let original = std::fs::read(&manifest).expect("read");
    let mut m: serde_json::Value = serde_json::from_slice(&original).expect("json");
    m["files"]["classifier"]["sha256"] = "0".repeat(64).into();
    std::fs::write(&manifest, serde_json::to_vec_pretty(&m).expect("json")).expect("write");
    let err = ModelBundle::open(dir.path()).expect_err("tampered manifest");
    assert!(matches!(err, ModelError::ChecksumMismatch { ref file, .. } if file == "classifier.onnx"), "{err}");

    // A changed byte in the model with the original manifest: the same typed error.
    std::fs::write(&manifest, &original).expect("restore");
    let onnx = dir.path().join("classifier.onnx");
    let mut bytes = std::fs::read(&onnx).expect("read");
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&onnx, bytes).expect("write");
    let err = ModelBundle::open(dir.path()).expect_err("tampered model");
    assert!(matches!(err, ModelError::ChecksumMismatch { ref file, .. } if file == "classifier.onnx"), "{err}");

    // A classifier manifest without its `classifier` section opens (the files verify) but
    // cannot make a classifier.
    let dir2 = tempfile::tempdir().expect("tmp");
    std::fs::copy(support::model_dir(BUNDLE).join("classifier.onnx"), dir2.path().join("classifier.onnx")).expect("copy");
    m = serde_json::from_slice(&original).expect("json");
    m.as_object_mut().expect("object").remove("classifier");
    std::fs::write(dir2.path().join("manifest.json"), serde_json::to_vec_pretty(&m).expect("json")).expect("write");
    let bundle = ModelBundle::open(dir2.path()).expect("files still verify");
    let err = Classifier::new(&bundle, &runtime(), &session()).expect_err("no classifier section");
    assert!(matches!(err, Error::Model(ModelError::Manifest { .. })), "{err}");
}
