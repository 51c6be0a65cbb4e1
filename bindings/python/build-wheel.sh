#!/usr/bin/env bash
# Builds a wheel of the Python package that carries the native library:
#   bindings/python/build-wheel.sh [--release]   ->   target/wheels/dermscan-<version>-py3-none-<platform>.whl
# The package is staged under target/ (the source tree is not touched); the wheel depends on
# the onnxruntime wheel, whose library `dermscan.onnxruntime_library()` finds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
py=${DERMSCAN_PYTHON:-$root/.venv/bin/python}
profile=debug; flag=""
[ "${1:-}" = "--release" ] && { profile=release; flag="--release"; }
case "$(uname -s)" in
  Darwin) lib=libdermscan_ffi.dylib ;;
  *)      lib=libdermscan_ffi.so ;;
esac
cargo build --quiet --locked -p dermscan-ffi $flag
stage="$root/target/python-wheel"
rm -rf "$stage"
mkdir -p "$stage" target/wheels
cp -r bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md bindings/python/src "$stage/"
rm -f "$stage"/src/dermscan/*.so "$stage"/src/dermscan/*.dylib
cp "target/$profile/$lib" "$stage/src/dermscan/"
rm -f target/wheels/dermscan-*.whl
"$py" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w target/wheels "$stage"
ls target/wheels/dermscan-*.whl
