#!/usr/bin/env bash
# Builds DermScanFFI.xcframework (static libdermscan_ffi.a for iOS devices, the iOS simulator
# and macOS, with the uniffi header and module map) for Package.swift. Needs a Mac with
# Xcode; the generated Swift in Sources/DermScan is committed and kept fresh by CI
# (scripts/bindgen --check), so this script only compiles.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }
features=${DERMSCAN_FEATURES:-coreml,xnnpack}
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin)
for t in "${targets[@]}"; do
  rustup target add "$t" >/dev/null
  cargo build --locked --profile mobile -p dermscan-ffi --features "$features" --target "$t"
done
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
lipo -create target/aarch64-apple-ios-sim/mobile/libdermscan_ffi.a target/x86_64-apple-ios/mobile/libdermscan_ffi.a \
  -output "$work/libdermscan_ffi_sim.a"
headers="$here/Sources/DermScanFFI/include"
rm -rf "$here/DermScanFFI.xcframework"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/mobile/libdermscan_ffi.a -headers "$headers" \
  -library "$work/libdermscan_ffi_sim.a" -headers "$headers" \
  -library target/aarch64-apple-darwin/mobile/libdermscan_ffi.a -headers "$headers" \
  -output "$here/DermScanFFI.xcframework"
echo "built $here/DermScanFFI.xcframework"
