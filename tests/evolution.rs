//! The evolution tracker end to end with the real LiteMedSAM model: a synthetic lesion is
//! photographed, then photographed again grown by a known area ratio (1.0 to 1.6) at another
//! place in the frame, turned and under other lighting. Both photos are scanned with the
//! automatic lesion finder, stored, and compared. Figures go to `target/reports/evolution.txt`.

mod support;

use dermscan::history::{HistoryStore, NewScan, StoreConfig};
use dermscan::{Image, ScanOptions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use support::synth::{SynthSpec, render, standard_set};

const GROWTH: [f32; 6] = [1.0, 1.1, 1.2, 1.3, 1.45, 1.6];
const DAY: i64 = 86_400;

fn png(image: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).expect("png");
    out
}

/// Lesions of the standard set without hair, glare or blur, large enough to measure growth on.
fn lesions() -> Vec<SynthSpec> {
    standard_set(11, 40)
        .into_iter()
        .filter(|s| !s.hair && !s.glare && s.blur == 0.0 && s.radius > 45.0 && s.radius < 110.0)
        .take(3)
        .map(|s| SynthSpec { vignette: false, ..s })
        .collect()
}

#[test]
fn growth_is_measured_within_five_percent_and_unchanged_lesions_are_not_flagged() {
    let engine = support::engine("litemedsam");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = HistoryStore::open(dir.path(), StoreConfig::default()).expect("store");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut lines = vec![
        "lesion growth  true_ratio  reported  error%  iou_aligned  iou_shape  dA dB dC  rotation_deg  significant  reasons".to_owned(),
    ];
    let mut worst: f64 = 0.0;
    let mut count = 0;
    let mut failures = Vec::new();
    for (li, base) in lesions().iter().enumerate() {
        for (gi, &g) in GROWTH.iter().enumerate() {
            let before_case = render(base);
            let after_spec = base.rephotographed(g, &mut rng);
            let after_case = render(&after_spec);
            let true_ratio = after_case.mask.pixels().filter(|p| p.0[0] > 0).count() as f64
                / before_case.mask.pixels().filter(|p| p.0[0] > 0).count() as f64;

            let lesion = store.add_lesion(&format!("lesion {li} growth {g}"), None).expect("lesion");
            let t0 = 1_760_000_000 + (li * 10 + gi) as i64 * DAY;
            let mut area_errors = Vec::new();
            for (case, taken) in [(&before_case, t0), (&after_case, t0 + 61 * DAY)] {
                let image = Image::from_rgb(case.image.width(), case.image.height(), case.image.as_raw().clone()).expect("rgb");
                let result = engine.scan(&image, &ScanOptions::default().with_snap_edges(true)).expect("scan");
                let truth = case.mask.pixels().filter(|p| p.0[0] > 0).count() as f64;
                area_errors.push(format!("{:+.1}", (result.mask.area_px() as f64 / truth - 1.0) * 100.0));
                store.add_scan(lesion.id, NewScan::from_result(&result, png(&case.image), taken, None)).expect("store");
            }
            let change = store.latest_change(lesion.id).expect("compare").expect("two scans");
            let error = (change.area_ratio / true_ratio - 1.0) * 100.0;
            worst = worst.max(error.abs());
            count += 1;
            let codes: Vec<&str> = change.reasons.iter().map(|r| r.code.as_str()).collect();
            let d = |v: Option<i32>| v.map_or("-".to_owned(), |v| format!("{v:+}"));
            lines.push(
                format!(
                    "{li:>6} {g:>6.2} {true_ratio:>11.3} {:>9.3} {error:>+7.2} {:>12.3} {:>10.3} {:>2} {:>2} {:>2} {:>13.1} {:>12} {}",
                    change.area_ratio,
                    change.iou_aligned,
                    change.iou_shape,
                    d(change.asymmetry_change),
                    d(change.border_change),
                    d(change.colour_change),
                    change.alignment.rotation_deg,
                    change.significant,
                    codes.join(",")
                ) + &format!("  seg area err% {} r={:.0}", area_errors.join("/"), base.radius),
            );
            if error.abs() >= 5.0 {
                failures.push(format!("lesion {li}, growth {g}: reported {:.3} vs true {true_ratio:.3}", change.area_ratio));
            }
            if g == 1.0 && change.significant {
                failures.push(format!("lesion {li}: an unchanged lesion was flagged: {:?}", change.reasons));
            }
            if g >= 1.3 {
                if !change.significant {
                    failures.push(format!("lesion {li}: growth {g} was not flagged"));
                }
                let latest = store.scans(lesion.id).expect("scans").pop().expect("scan");
                let risk = latest.risk.expect("risk");
                assert!(
                    risk.reasons.iter().any(|r| r.code == dermscan::RiskCode::Evolution),
                    "the stored risk takes the change into account"
                );
            }
        }
    }
    lines.push(format!("{count} pairs, worst area-ratio error {worst:.2}%"));
    support::report("evolution", &lines.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
