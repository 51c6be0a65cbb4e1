#!/usr/bin/env bash
# Builds the Android AAR: libdermscan_ffi.so for arm64-v8a and x86_64 with cargo-ndk
# (needs the Android NDK: ANDROID_NDK_HOME), then the Gradle module. The Kotlin sources in
# dermscan/src/main/kotlin are generated and committed (scripts/bindgen; CI checks them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
[ -n "${ANDROID_NDK_HOME:-}" ] && [ -d "$ANDROID_NDK_HOME" ] || {
  echo "build-aar.sh needs the Android NDK: set ANDROID_NDK_HOME (CI checks the Android targets with cargo check instead)" >&2
  exit 1
}
command -v cargo-ndk >/dev/null || cargo install cargo-ndk --locked
rustup target add aarch64-linux-android x86_64-linux-android >/dev/null
cargo ndk -t arm64-v8a -t x86_64 -o "$here/dermscan/src/main/jniLibs" \
  build --locked --profile mobile -p dermscan-ffi --features nnapi,xnnpack
cd "$here"
gradle --no-daemon :dermscan:assembleRelease
echo "AAR: $here/dermscan/build/outputs/aar/dermscan-release.aar"
