#!/usr/bin/env bash
# Builds the native library, installs this package (with it) into the repository's .venv,
# and runs the pytest suite against the installed package on the real models.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
py=${DERMSCAN_PYTHON:-$root/.venv/bin/python}
profile=${DERMSCAN_PROFILE:-debug}
flag=""; [ "$profile" = release ] && flag="--release"
cargo build --quiet --locked -p dermscan-ffi $flag
cp "target/$profile/libdermscan_ffi.so" bindings/python/src/dermscan/
"$py" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall bindings/python
rm -rf bindings/python/build bindings/python/src/*.egg-info
cd bindings/python/tests
exec "$py" -m pytest -q -p no:cacheprovider "$@"
