//! The `track` example's command-line contract, end to end on real photos and the real
//! models: `add`, `list`, `compare` (JSON keys), `report`, and the report opened from disk in
//! headless Chromium with the network off (tests/browser/check-report.mjs). The screenshot is
//! saved to `target/reports/report-screenshot.png`.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use support::synth::{SynthSpec, render, standard_set};

fn track(store: &Path, args: &[&str]) -> Output {
    Command::new(support::example_bin("track"))
        .current_dir(support::root())
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run track")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "track failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn lesion_spec() -> SynthSpec {
    let spec = standard_set(21, 40)
        .into_iter()
        .find(|s| !s.hair && !s.glare && s.blur == 0.0 && s.radius > 50.0 && s.radius < 100.0)
        .expect("a clean lesion");
    SynthSpec { vignette: false, ..spec }
}

#[test]
fn track_adds_lists_compares_and_reports_and_the_report_renders_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let base = lesion_spec();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let series = [
        (base.clone(), "2026-01-10T09:00:00Z"),
        (base.rephotographed(1.05, &mut rng), "2026-02-24T18:30:00+01:00"),
        (base.rephotographed(1.4, &mut rng), "2026-05-10T08:15:00Z"),
    ];
    for (i, (spec, taken)) in series.iter().enumerate() {
        let photo = dir.path().join(format!("photo-{i}.png"));
        render(spec).image.save(&photo).expect("photo");
        let added = json_of(&track(
            &store,
            &["add", "--lesion", "left forearm", photo.to_str().expect("utf-8"), "--taken", taken, "--site", "upper extremity"],
        ));
        assert_eq!(added["lesion"]["label"], "left forearm");
        assert!(added["scan"]["area_px"].as_u64().expect("area") > 1000);
        assert_eq!(added["change"].is_null(), i == 0, "a change from the second scan on");
    }

    let list = json_of(&track(&store, &["list", "--lesion", "left forearm"]));
    let scans = list["lesions"][0]["scans"].as_array().expect("scans");
    assert_eq!(scans.len(), 3);
    assert_eq!(scans[1]["taken_at"], "2026-02-24T17:30:00Z", "times are kept as UTC");

    let change = json_of(&track(&store, &["compare", "--lesion", "left forearm"]));
    for key in ["area_ratio", "iou_aligned", "significant", "reasons"] {
        assert!(change.get(key).is_some(), "compare JSON lacks {key}: {change}");
    }
    let ratio = change["area_ratio"].as_f64().expect("ratio");
    assert!((ratio / (1.4 / 1.05) - 1.0).abs() < 0.08, "area ratio {ratio:.3} vs about {:.3}", 1.4 / 1.05);
    assert_eq!(change["significant"], true, "{change}");
    assert!(!change["reasons"].as_array().expect("reasons").is_empty());
    println!("compare: area_ratio {ratio:.3}, iou_aligned {:.3}", change["iou_aligned"].as_f64().unwrap_or(f64::NAN));

    let report = dir.path().join("left-forearm.html");
    let out = track(&store, &["report", "--lesion", "left forearm", "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(html.contains("not a medical diagnosis") && html.contains("data:image/png;base64,"));
    assert!(!html.contains("http://") && !html.contains("https://"), "the report links nothing outside itself");

    let screenshot = support::root().join("target/reports/report-screenshot.png");
    std::fs::create_dir_all(screenshot.parent().expect("dir")).expect("reports dir");
    let browser = Command::new("node")
        .current_dir(support::root())
        .args(["tests/browser/check-report.mjs"])
        .arg(&report)
        .arg(&screenshot)
        .output()
        .expect("node runs (scripts/setup installs it)");
    let page: Value = serde_json::from_slice(&browser.stdout).unwrap_or_else(|e| {
        panic!(
            "browser check printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&browser.stdout),
            String::from_utf8_lossy(&browser.stderr)
        )
    });
    assert!(browser.status.success(), "problems in the rendered report: {}", page["problems"]);
    assert_eq!(page["title"], "Derm-Scan report: left forearm");
    let images = page["images"].as_array().expect("images");
    assert_eq!(images.len(), 2 + 3, "chart, outlines and one photo per scan");
    assert!(images.iter().all(|i| i["decoded"] == true));
    assert_eq!(page["measurementRows"], 3);
    assert!(page["external"].as_array().expect("external").is_empty());
    let shot = image::open(&screenshot).expect("screenshot is a PNG");
    assert!(shot.width() >= 1000 && shot.height() > 900, "full-page screenshot {}x{}", shot.width(), shot.height());
    support::report(
        "report-browser",
        &format!(
            "report in headless Chromium (offline): title {:?}, {} images all decoded, {} measurement rows, {} requests outside file:/data:, screenshot {}x{} -> target/reports/report-screenshot.png",
            page["title"].as_str().unwrap_or(""),
            images.len(),
            page["measurementRows"],
            page["external"].as_array().map_or(0, Vec::len),
            shot.width(),
            shot.height()
        ),
    );
}

#[test]
fn track_with_a_key_file_refuses_the_wrong_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let (key, wrong) = (dir.path().join("key.hex"), dir.path().join("wrong.hex"));
    std::fs::write(&key, "11".repeat(32)).expect("key");
    std::fs::write(&wrong, "22".repeat(32)).expect("key");
    let photo = dir.path().join("photo.png");
    render(&lesion_spec()).image.save(&photo).expect("photo");
    let added = track(
        &store,
        &["--key-file", key.to_str().expect("utf-8"), "add", "--lesion", "back", photo.to_str().expect("utf-8"), "--no-classifier"],
    );
    json_of(&added);
    let refused = track(&store, &["--key-file", wrong.to_str().expect("utf-8"), "list"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("key does not open"), "{}", String::from_utf8_lossy(&refused.stderr));
    let listed = json_of(&track(&store, &["--key-file", key.to_str().expect("utf-8"), "list"]));
    assert_eq!(listed["lesions"][0]["scans"].as_array().map(Vec::len), Some(1), "nothing lost");
}
