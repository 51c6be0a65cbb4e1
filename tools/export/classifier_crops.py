"""The classifier's test crops and how a classifier file is run and timed on them (torch-free,
shared by export_classifier.py and quantize_classifier.py): every lesion box of the sample
photo and of a synthetic set, each in seven versions (flip, turn, brightness, scale), cut and
resized with the reference recipe of ``tools/reference/classify.py``, with a metadata vector
cycling through eight patients."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tools" / "reference"))

import classify  # noqa: E402  (tools/reference/classify.py: the SDK's crop/resize/meta recipe)
from assets import sha256_file  # noqa: E402
from onnx_io import ort_session  # noqa: E402


def log(msg: str) -> None:
    print(msg, flush=True)


SAMPLE_PHOTO = REPO / "assets" / "samples" / "forearm-nevi.jpg"
SAMPLE_SHA256 = "f6a85b92051ba202721b9464e3efbd1d442f918fd88d113a019575c85cbbad9c"

# Lesion boxes (x0, y0, x1, y1, photo pixels) on the sample photo. The nevi were found with the
# dark-blob detection of moles.py (L channel of CIE Lab, 25 px Gaussian background minus pixel
# > 18, 5x5 opening, components >= 60 px) and checked by eye; ~10 px margin.
PHOTO_BOXES = [
    ("nevus-A-wide", (554, 650, 668, 755)),   # largest, darkest nevus, generous box
    ("nevus-A", (585, 658, 647, 729)),        # same nevus, tight box (moles.py A)
    ("nevus-B", (609, 346, 651, 395)),        # fainter nevus above it (moles.py B)
    ("nevus-C", (88, 185, 138, 233)),         # light-brown nevus under hair, top left (moles.py C)
    ("nevus-D", (1019, 1023, 1058, 1066)),    # small nevus on reddish skin, lower right (blob 1029,1033 19x23)
    ("scratch", (882, 1122, 944, 1172)),      # healing scratch, not a nevus (blob 892,1132 42x30)
    ("skin-1", (270, 270, 330, 330)),         # plain hairy skin, no lesion
    ("skin-2", (1170, 270, 1230, 330)),       # plain skin, no lesion
]
AUGMENTATIONS = ["id", "hflip", "rot90", "bright-15", "bright+15", "scale0.8", "scale1.25"]
# meta given to crop i: META_CYCLE[i % 8] = (age, sex, site); exercises the meta path too
META_CYCLE = [(None, None, None), (45.0, "female", "arm"), (70.0, "male", "trunk"),
              (30.0, "female", "head-or-neck"), (60.0, "male", "leg-or-genital"), (None, "male", "unknown"),
              (15.0, "unknown", "trunk"), (85.0, "female", "unknown")]


def scaled_box(box, s: float):
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * s / 2, (y1 - y0) * s / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def augment(img: np.ndarray, box, aug: str) -> np.ndarray:
    """uint8 254x254 crop of ``img`` around ``box`` with one augmentation. Geometric and
    brightness changes are applied to the square source crop, before the resize."""
    if aug.startswith("scale"):
        box = scaled_box(box, float(aug[5:]))
    crop, _ = classify.crop_pixels(img, box, 1.5)
    if aug == "hflip":
        crop = crop[:, ::-1]
    elif aug == "rot90":
        crop = np.rot90(crop, 1)
    elif aug.startswith("bright"):
        f = 1.0 + float(aug[6:]) / 100.0
        crop = np.clip(np.floor(crop.astype(np.float64) * f + 0.5), 0, 255).astype(np.uint8)
    return classify.resize_crop(np.ascontiguousarray(crop), 254)


def crop_bases(synth: Path) -> list[tuple[str, str, tuple]]:
    """(source image path, name, box) of every lesion the test crops are taken around."""
    if sha256_file(SAMPLE_PHOTO) != SAMPLE_SHA256:
        raise SystemExit(f"{SAMPLE_PHOTO}: unexpected sha256")
    bases = [(str(SAMPLE_PHOTO), f"photo:{name}", box) for name, box in PHOTO_BOXES]
    meta_file = synth / "meta.json"
    if not meta_file.exists():
        raise SystemExit(f"{meta_file} missing: run `nice -n 19 cargo run --release --example synth` first")
    for item in json.loads(meta_file.read_text()):
        bases.append((str(synth / item["file"]), f"synth:{Path(item['file']).stem}"
                      + (":hair" if item.get("hair") else ""), tuple(item["box"])))
    return bases


def make_crops(bases, augmentations) -> dict:
    """``images`` (uint8), ``metas`` and ``names`` of every base in every version; crop i gets
    the metadata META_CYCLE[i % 8]."""
    images, metas, names = [], [], []
    spec = classify.MetaSpec()
    for path, name, box in bases:
        img = classify.load_rgb(path)
        for aug in augmentations:
            age, sex, site = META_CYCLE[len(names) % len(META_CYCLE)]
            images.append(augment(img, box, aug))
            metas.append(spec.encode(age, sex, site))
            names.append(f"{name}:{aug}")
    return {"images": np.stack(images), "metas": np.stack(metas), "names": np.array(names)}


def build_crops(synth: Path, cache_dir: Path) -> dict:
    bases = crop_bases(synth)
    key = hashlib.sha256(json.dumps([bases, AUGMENTATIONS, META_CYCLE]).encode()
                         + Path(classify.__file__).read_bytes()).hexdigest()[:16]
    cache = cache_dir / f"crops-{key}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        log(f"[crops] {len(z['names'])} test crops from {cache.name}")
        return {k: z[k] for k in z.files}
    out = make_crops(bases, AUGMENTATIONS)
    names = out["names"]
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **out)
    log(f"[crops] built {len(names)} test crops ({len(bases)} lesions x {len(AUGMENTATIONS)}) -> {cache.name}")
    return out


def run_onnx(model, images: np.ndarray, metas: np.ndarray, threads: int = 2) -> np.ndarray:
    """The classifier's probabilities for every crop; ``model`` is a file or serialised bytes."""
    sess = ort_session(model, threads)
    out = [sess.run(["probabilities"], {"image": images[i:i + 1].astype(np.float32), "meta": metas[i:i + 1]})[0]
           for i in range(len(images))]
    return np.concatenate(out)


def time_variants(paths: dict, images: np.ndarray, metas: np.ndarray, rounds: int, threads: int = 2) -> dict:
    """ms per call, round-robin over the variants (each round runs every variant once on the
    next crop) after one warm-up call each; returns {name: (median, min)}, plus load averages."""
    sessions = {n: ort_session(p, threads) for n, p in paths.items()}
    for n, s in sessions.items():
        s.run(None, {"image": images[:1], "meta": metas[:1]})
    times = {n: [] for n in sessions}
    loads = []
    for r in range(rounds):
        i = r % len(images)
        feed = {"image": images[i:i + 1], "meta": metas[i:i + 1]}
        for n, s in sessions.items():
            t0 = time.perf_counter()
            s.run(None, feed)
            times[n].append((time.perf_counter() - t0) * 1e3)
        loads.append(os.getloadavg()[0])
    return {"ms": {n: (statistics.median(t), min(t)) for n, t in times.items()},
            "load": (min(loads), max(loads)), "rounds": rounds}
