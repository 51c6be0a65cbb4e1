# Shared by scripts/setup and scripts/check-arm64 (sourced, not run). The caller defines say().

# The ONNX Runtime release the SDK is built and tested against (`ort` feature api-31).
ORT_VERSION=1.31.1

# fetch_onnxruntime DEST LIB [PIP_DOWNLOAD_OPTION...]
# Puts LIB (e.g. libonnxruntime.so.1.31.1) from the official onnxruntime==$ORT_VERSION wheel on
# PyPI into DEST, unless it is there already. Extra options pick another platform's wheel, e.g.
# `--platform manylinux_2_28_aarch64 --python-version 311`.
fetch_onnxruntime() {
  local dest=$1 lib=$2 wheel
  shift 2
  [ -f "$dest/$lib" ] && return 0
  say "fetching onnxruntime==$ORT_VERSION${*:+ ($*)} from PyPI"
  _ort_tmp=$(mktemp -d)
  trap 'rm -rf "$_ort_tmp"' EXIT
  "${PYTHON:-python3}" -m pip download --quiet --no-deps --only-binary=:all: "$@" -d "$_ort_tmp" "onnxruntime==$ORT_VERSION"
  wheel=$(ls "$_ort_tmp"/onnxruntime-*.whl)
  mkdir -p "$dest"
  "${PYTHON:-python3}" - "$wheel" "$dest" "$lib" <<'PY'
import sys, zipfile, os
wheel, dest, lib = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith("/" + lib)]
    if not names:
        sys.exit(f"{lib} not found in {wheel}")
    data = z.read(names[0])
tmp = os.path.join(dest, lib + ".part")
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, os.path.join(dest, lib))
PY
}

# apt_install PKG... : Debian packages, with sudo when not root; nothing when PKG is empty.
apt_install() {
  [ $# -gt 0 ] || return 0
  say "installing $* (apt-get)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
