#!/usr/bin/env bash
# Builds the wheel (bindings/python/build-wheel.sh: the package with the native library),
# installs it into the repository's .venv and runs the pytest suite against the installed
# package on the real models; then installs the same wheel into a fresh venv, where pip
# brings onnxruntime as its dependency, and runs the Python example there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
py=${DERMSCAN_PYTHON:-$root/.venv/bin/python}
flag=""; [ "${DERMSCAN_PROFILE:-debug}" = release ] && flag="--release"
wheel=$(DERMSCAN_PYTHON="$py" bindings/python/build-wheel.sh $flag | tail -n 1)
"$py" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "$wheel"
(cd bindings/python/tests && "$py" -m pytest -q -p no:cacheprovider "$@")

# Only for the whole suite (a -k selection is a developer's quick run).
[ $# -eq 0 ] || exit 0
echo "== the wheel in a fresh venv: pip install $(basename "$wheel"), then examples/scan.py"
fresh="$root/target/wheel-venv"
rm -rf "$fresh"
"$py" -m venv "$fresh"
"$fresh/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
out=$("$fresh/bin/python" bindings/python/examples/scan.py)
echo "$out"
grep -q "not a medical diagnosis" <<<"$out" || { echo "the example did not finish" >&2; exit 1; }
"$fresh/bin/python" -c 'import dermscan, sys; lib = dermscan.onnxruntime_library(); print("runtime:", lib); sys.exit(lib is None)'
