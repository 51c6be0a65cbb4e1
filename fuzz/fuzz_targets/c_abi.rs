//! The C ABI's entry points with arbitrary arguments: raw and YUV frames of any geometry,
//! encoded bytes, options with any enum values, boxes of any floats, keys of any length, on
//! a real engine (the toy bundle of the C tests, so each scan is quick). Every call must
//! return a status; none may crash or panic across the boundary.
#![no_main]

use std::ffi::CString;
use std::ptr;
use std::sync::OnceLock;

use dermscan_ffi::c_api::*;
use libfuzzer_sys::fuzz_target;

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

struct Engine(*mut DsEngine);
// SAFETY: a DsEngine may be used from several threads at once (the C ABI's contract).
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

fn engine() -> *const DsEngine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let bundle = CString::new(root.join("bindings/c/tests/tiny-litemedsam").to_string_lossy().as_bytes()).expect("path");
            let runtime = std::env::var("DERMSCAN_ORT_LIB")
                .unwrap_or_else(|_| root.join(".runtime/onnxruntime/libonnxruntime.so").to_string_lossy().into_owned());
            let runtime = CString::new(runtime).expect("path");
            let mut engine = ptr::null_mut();
            // SAFETY: valid strings and out-pointer.
            let status = unsafe { ds_engine_new(bundle.as_ptr(), runtime.as_ptr(), 1, &mut engine) };
            assert!(status == DsStatus::DS_OK, "engine: run scripts/setup (status {status:?})");
            Engine(engine)
        })
        .0
}

fn options(b: &mut Bytes) -> DsScanOptions {
    DsScanOptions {
        has_box: b.u8() % 2 == 1,
        x0: b.f32(),
        y0: b.f32(),
        x1: b.f32(),
        y1: b.f32(),
        crop: u32::from(b.u8() % 4),
        mask_mode: u32::from(b.u8() % 4),
        has_scale: b.u8() % 2 == 1,
        mm_per_px: b.f32(),
        has_age: b.u8() % 2 == 1,
        age_years: b.f32(),
        sex: u32::from(b.u8() % 4),
        body_site: ptr::null(),
        cancel: ptr::null(),
        progress: None,
        progress_user_data: ptr::null_mut(),
    }
}

/// Reads everything a scan offers, re-prompts it with an arbitrary box, and frees it all.
fn use_scan(scan: *mut DsScan, b: &mut Bytes) {
    // SAFETY: `scan` is a live scan from this library; the buffers and handles are freed once.
    unsafe {
        let mut json = DsBuffer { data: ptr::null_mut(), len: 0 };
        let _ = ds_scan_json(scan, &mut json);
        ds_buffer_free(&mut json);
        let mut mask = ptr::null_mut();
        if ds_scan_mask(scan, &mut mask) == DsStatus::DS_OK {
            let mut png = DsBuffer { data: ptr::null_mut(), len: 0 };
            let _ = ds_mask_png(mask, &mut png);
            ds_buffer_free(&mut png);
            ds_mask_free(mask);
        }
        let mut again = ptr::null_mut();
        let (x0, y0, x1, y1) = (b.f32(), b.f32(), b.f32(), b.f32());
        if ds_reprompt_box(engine(), scan, x0, y0, x1, y1, &mut again) == DsStatus::DS_OK {
            ds_mask_free(again);
        }
        ds_scan_free(scan);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let engine = engine();
    let mut scan = ptr::null_mut();
    let selector = b.u8();
    let mut opts = options(&mut b);
    let opts_ptr = if selector & 0x80 != 0 { ptr::null() } else { &raw const opts };
    let status = match selector % 4 {
        0 => {
            let pixels = b.rest();
            let (w, h) = (u32::from(pixels.first().copied().unwrap_or(0)), u32::from(pixels.get(1).copied().unwrap_or(0)));
            let stride = u32::from(pixels.get(2).copied().unwrap_or(0)) * 4;
            let format = u32::from(pixels.get(3).copied().unwrap_or(0) % 4);
            // SAFETY: `pixels` holds `len` readable bytes.
            unsafe { ds_scan_raw(engine, pixels.as_ptr(), pixels.len(), w, h, stride, format, opts_ptr, &mut scan) }
        }
        1 => {
            let (w, h) = (u32::from(b.u8()), u32::from(b.u8()));
            let geometry = [(b.u8(), 1u8), (b.u8(), b.u8() % 4), (b.u8(), b.u8() % 4)];
            let (range, matrix, rotation, mirrored) =
                (u32::from(b.u8() % 3), u32::from(b.u8() % 3), u32::from(b.u8()) * 45, u32::from(b.u8()));
            let (ly, lu) = (usize::from(b.u16()), usize::from(b.u16()));
            let (y, u, v) = (b.take(ly), b.take(lu), b.rest());
            let plane = |data: &[u8], (row, pixel): (u8, u8)| DsYuvPlane {
                data: data.as_ptr(),
                len: data.len(),
                row_stride: u32::from(row),
                pixel_stride: u32::from(pixel),
            };
            let frame = DsYuvFrame {
                width: w,
                height: h,
                y: plane(y, geometry[0]),
                u: plane(u, geometry[1]),
                v: plane(v, geometry[2]),
                range,
                matrix,
                rotation_degrees: rotation,
                mirrored,
            };
            // SAFETY: every plane's pointer covers its length.
            unsafe { ds_scan_yuv(engine, &frame, opts_ptr, &mut scan) }
        }
        2 => {
            let site = CString::new(b.take(8).iter().copied().filter(|&c| c != 0).collect::<Vec<u8>>()).expect("no NUL");
            opts.body_site = site.as_ptr();
            let bytes = b.rest();
            // SAFETY: `bytes` holds `len` readable bytes; `site` outlives the call.
            unsafe { ds_scan_encoded(engine, bytes.as_ptr(), bytes.len(), &raw const opts, &mut scan) }
        }
        _ => {
            // A history store in a temporary folder with a key of any length.
            let key_len = usize::from(b.u8() % 40);
            let key = b.take(key_len);
            let dir = std::env::temp_dir().join(format!("dermscan-fuzz-cabi-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let dir_c = CString::new(dir.to_string_lossy().as_bytes()).expect("path");
            let mut history = ptr::null_mut();
            // SAFETY: valid string, key pointer covering its length, out-pointer.
            let status = unsafe { ds_history_open(dir_c.as_ptr(), key.as_ptr(), key.len(), &mut history) };
            // SAFETY: NULL or a live store.
            unsafe { ds_history_free(history) };
            status
        }
    };
    assert!(status != DsStatus::DS_INTERNAL_ERROR, "a caught panic: {}", unsafe_last_error());
    if status == DsStatus::DS_OK && !scan.is_null() {
        use_scan(scan, &mut b);
    }
});

fn unsafe_last_error() -> String {
    // SAFETY: the library owns the string; it stays valid until the next call on this thread.
    unsafe { std::ffi::CStr::from_ptr(ds_last_error()) }.to_string_lossy().into_owned()
}
