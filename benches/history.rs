//! History store benchmarks (criterion): adding a scan without the model calls (photo and
//! mask files written with fsync, row committed), plain and encrypted, first scan and
//! follow-up (which also aligns and compares with the previous scan); comparing two stored
//! scans. The photo is an 800x600 JPEG of a synthetic lesion; the masks are its truth.
//!
//! `cargo bench --bench history`

#[path = "../tests/support/synth.rs"]
mod synth;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dermscan::Mask;
use dermscan::history::{HistoryStore, NewScan, StoreConfig, StoreKey, change};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The same lesion twice: as first photographed, and grown 30%, moved and turned.
fn photos() -> [(Vec<u8>, Mask); 2] {
    let spec = synth::standard_set(7, 8).into_iter().find(|s| s.width == 800 && !s.hair).expect("an 800x600 case");
    let later = spec.rephotographed(1.3, &mut ChaCha8Rng::seed_from_u64(1));
    [spec, later].map(|s| {
        let case = synth::render(&s);
        let mut jpeg = Vec::new();
        case.image.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).expect("jpeg");
        (jpeg, Mask::from_pixels(case.mask.width(), case.mask.height(), case.mask.into_raw()).expect("mask"))
    })
}

fn new_scan((photo, mask): &(Vec<u8>, Mask), taken_at: i64) -> NewScan {
    NewScan {
        taken_at,
        photo: photo.clone(),
        mask: mask.clone(),
        mm_per_px: None,
        features: None,
        classification: None,
        risk: None,
        models: vec![],
    }
}

fn benches(c: &mut Criterion) {
    let pair = photos();
    let mut group = c.benchmark_group("history");
    group.sample_size(30);
    for (name, key) in [("plain", None), ("encrypted", Some(StoreKey::from_bytes([3; 32])))] {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = StoreConfig { key, ..StoreConfig::default() };
        let store = HistoryStore::open(dir.path(), config).expect("store");
        let mut n = 0i64;
        group.bench_function(format!("add_first_scan_{name}"), |b| {
            b.iter(|| {
                n += 1;
                let lesion = store.add_lesion(&format!("lesion {n}"), None).expect("lesion");
                black_box(store.add_scan(lesion.id, new_scan(&pair[0], 1_700_000_000)).expect("add"))
            })
        });
        let lesion = store.add_lesion("follow-up", None).expect("lesion");
        store.add_scan(lesion.id, new_scan(&pair[0], 1_700_000_000)).expect("first");
        let mut t = 1_700_000_000;
        group.bench_function(format!("add_follow_up_scan_{name}"), |b| {
            b.iter(|| {
                t += 86_400;
                black_box(store.add_scan(lesion.id, new_scan(&pair[1], t)).expect("add"))
            })
        });
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let store = HistoryStore::open(dir.path(), StoreConfig::default()).expect("store");
    let lesion = store.add_lesion("compare", None).expect("lesion");
    let a = store.add_scan(lesion.id, new_scan(&pair[0], 1_700_000_000)).expect("a").record;
    let b = store.add_scan(lesion.id, new_scan(&pair[1], 1_705_000_000)).expect("b").record;
    group.bench_function("compare_stored_scans", |bench| bench.iter(|| black_box(store.compare(a.id, b.id).expect("compare"))));
    let thresholds = change::ChangeThresholds::default();
    group.bench_function("compare_masks_only", |bench| {
        bench.iter(|| black_box(change::compare(&a, &pair[0].1, &b, &pair[1].1, &thresholds).expect("compare")))
    });
    group.finish();
}

criterion_group!(history, benches);
criterion_main!(history);
