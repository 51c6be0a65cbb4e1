//! `uniffi-bindgen`, built from the same uniffi version as `dermscan-ffi` so the generated
//! Kotlin, Swift and Python always match the library. Used by `scripts/bindgen`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
