//! Opening a lesion history store from damaged or hostile files: any database bytes, a real
//! store's database with bytes changed, or a real store with a stored file replaced. Opening,
//! reading, checking and adding must end in a typed `HistoryError`, never a panic.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dermscan_core::Mask;
use dermscan_core::history::{HistoryStore, NewScan, StoreConfig, StoreKey};
use libfuzzer_sys::fuzz_target;

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

const DB_FILE: &str = "history.sqlite3";

/// A real store (one lesion, one scan of a 16x16 photo), made once; the files it holds.
fn base() -> &'static (PathBuf, Vec<(PathBuf, Vec<u8>)>) {
    static BASE: OnceLock<(PathBuf, Vec<(PathBuf, Vec<u8>)>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("dermscan-fuzz-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("base");
        {
            let store = HistoryStore::open(&dir, StoreConfig::default()).expect("base store");
            let lesion = store.add_lesion("arm", None).expect("lesion");
            let pixels: Vec<u8> =
                (0..256).map(|i| if (i % 16) > 4 && (i / 16) > 4 && (i % 16) < 11 && (i / 16) < 11 { 255 } else { 0 }).collect();
            let mask = Mask::from_pixels(16, 16, pixels).expect("mask");
            let mut photo = Vec::new();
            image::RgbImage::from_pixel(16, 16, image::Rgb([200, 150, 120]))
                .write_to(&mut std::io::Cursor::new(&mut photo), image::ImageFormat::Png)
                .expect("png");
            let scan = NewScan {
                taken_at: 1_700_000_000,
                photo,
                mask,
                mm_per_px: None,
                features: None,
                classification: None,
                risk: None,
                models: vec![],
            };
            store.add_scan(lesion.id, scan).expect("scan");
        }
        let mut files = Vec::new();
        collect(&dir, &dir, &mut files);
        files.sort();
        (root, files)
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push((rel.to_owned(), std::fs::read(&path).expect("read")));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (root, files) = base();
    let dir = root.join("case");
    let _ = std::fs::remove_dir_all(&dir);
    let mut b = Bytes(data);
    let mode = b.u8() % 3;
    let target = usize::from(b.u8()) % files.len();
    for (i, (rel, bytes)) in files.iter().enumerate() {
        let mut bytes = bytes.clone();
        let is_db = rel.as_os_str() == DB_FILE;
        match mode {
            0 if is_db => bytes = b.0.to_vec(),
            1 if is_db => {
                // Patches: (offset, value) pairs over the real database.
                let mut patches = Bytes(b.0);
                while !patches.0.is_empty() && !bytes.is_empty() {
                    let at = usize::from(patches.u16()) % bytes.len();
                    bytes[at] = patches.u8();
                }
            }
            2 if i == target => bytes = b.0.to_vec(),
            _ => {}
        }
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(&path, bytes).expect("write");
    }
    let config = if data.len() % 7 == 0 { StoreConfig::default().with_key(StoreKey::from_bytes([9; 32])) } else { StoreConfig::default() };
    let Ok(store) = HistoryStore::open(&dir, config) else { return };
    if let Ok(lesions) = store.lesions() {
        for lesion in lesions {
            for scan in store.scans(lesion.id).unwrap_or_default() {
                let _ = store.photo(&scan);
                let _ = store.mask(&scan);
            }
            let _ = store.latest_change(lesion.id);
            let _ = store.report_html(lesion.id);
        }
    }
    let _ = store.check();
    let _ = store.add_lesion("leg", None);
});
