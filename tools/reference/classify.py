#!/usr/bin/env python3
"""Skin-lesion classification with the Derm-Scan classifier bundle (reference recipe).

    python tools/reference/classify.py --image IMG --box x0,y0,x1,y1 \
        [--bundle models/ham10000-xception] [--age 45] [--sex female|male|unknown] \
        [--site arm|head-or-neck|leg-or-genital|trunk|unknown|<HAM10000 localization>] \
        [--threads 2] [--dump-input PREFIX]

Prints one JSON object: the crop square, the meta vector, the probabilities by label (in the
manifest's label order), the top-1 label, the summed probability of the malignant labels and
the wall time of the model call (``ms``, a single first call, so it includes onnxruntime's
warm-up; tools/export measures steady-state timings).  ``--dump-input PREFIX`` writes PREFIX_image.npy (float32
[1,254,254,3]) and PREFIX_meta.npy (float32 [1,10]) so another implementation (the Rust SDK)
can compare its own model inputs with the reference.

Recipe (``manifest.json`` -> ``classifier``; the SDK implements the same steps):

1. Decode the image as 8-bit RGB with Pillow (``Image.open(p).convert("RGB")``, EXIF
   orientation NOT applied, like tools/reference/recipe.py).
2. Crop square (all arithmetic in float64, ``round(v) = floor(v + 0.5)``):
   ``L = max(x1 - x0, y1 - y0)``; ``side = round(context * L)`` with context 1.5, then
   ``side = max(side, 1)`` and ``side = min(side, W, H)``; ``left = round((x0 + x1) / 2 - side / 2)``
   clamped to ``[0, W - side]``; ``top = round((y0 + y1) / 2 - side / 2)`` clamped to
   ``[0, H - side]``; the crop is pixels ``[top, top + side) x [left, left + side)``.  The
   square is shifted (never shrunk, never padded) to stay inside the image, so it is never
   distorted; only when the image is smaller than ``side`` is ``side`` reduced.
3. Resize the uint8 crop to 254x254 with ``PIL.Image.resize((254, 254), Image.BILINEAR)``
   (Pillow's antialiased bilinear: triangle filter widened by the scale factor when
   shrinking; plain bilinear with half-pixel centres when enlarging; result rounded to uint8;
   the SDK's ``Interpolation::Bilinear`` equals it).
4. ``image`` = the resized pixels as float32 0..255, NHWC [1,254,254,3] (the model normalises
   internally with its own Keras Normalization layer).
5. ``meta`` float32 [1,10] as sklesion 0.2.2's ``SkinLesionClassifier.preprocess`` builds it:
   sex one-hot (female, male, unknown) + site one-hot (arm, head-or-neck, leg-or-genital,
   trunk, unknown) + [age / 90] + [age_missing]; a missing age becomes 51.90180032733224
   (the training-set mean age) before the division and sets age_missing = 1.
6. ``probabilities`` [1,7] = softmax over the labels (akiec, bcc, bkl, df, mel, nv, vasc).

Needs only numpy, Pillow and onnxruntime (tools/reference/requirements.txt).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_BUNDLE = REPO / "models" / "ham10000-xception"


# --------------------------------------------------------------------------------------
# Recipe steps (pure functions; the export tool imports them to build its test crops)
# --------------------------------------------------------------------------------------

def load_rgb(path) -> np.ndarray:
    """Decode an image file to an HxWx3 uint8 RGB array (no EXIF rotation applied)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def round_half_up(v: float) -> int:
    """floor(v + 0.5): the rounding used throughout the recipe (not Python's banker's round)."""
    return int(math.floor(v + 0.5))


def crop_square(width: int, height: int, box, context: float = 1.5) -> tuple[int, int, int]:
    """(left, top, side) of the square crop around ``box`` = (x0, y0, x1, y1) in pixels."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"empty box {box}")
    longest = max(x1 - x0, y1 - y0)
    side = max(round_half_up(context * longest), 1)
    side = min(side, int(width), int(height))
    left = round_half_up((x0 + x1) / 2.0 - side / 2.0)
    top = round_half_up((y0 + y1) / 2.0 - side / 2.0)
    left = min(max(left, 0), int(width) - side)
    top = min(max(top, 0), int(height) - side)
    return left, top, side


def crop_pixels(img: np.ndarray, box, context: float = 1.5) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The uint8 square crop of ``img`` (HxWx3) around ``box`` and its (left, top, side)."""
    h, w = img.shape[:2]
    left, top, side = crop_square(w, h, box, context)
    return img[top:top + side, left:left + side], (left, top, side)


def resize_crop(crop: np.ndarray, size: int = 254) -> np.ndarray:
    """PIL BILINEAR resize of a uint8 RGB crop to size x size (uint8)."""
    if crop.shape[0] == size and crop.shape[1] == size:
        return np.ascontiguousarray(crop)
    return np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((size, size), Image.BILINEAR),
                      dtype=np.uint8)


def image_tensor(resized: np.ndarray) -> np.ndarray:
    """uint8 [S,S,3] -> float32 [1,S,S,3] in 0..255."""
    return resized.astype(np.float32)[None]


@dataclass(frozen=True)
class MetaSpec:
    """The meta-vector layout (manifest ``classifier.meta``)."""
    sex: tuple[str, ...] = ("female", "male", "unknown")
    sites: tuple[str, ...] = ("arm", "head-or-neck", "leg-or-genital", "trunk", "unknown")
    site_mapping: tuple[tuple[str, str], ...] = ()
    age_scale: float = 90.0
    age_missing_value: float = 51.90180032733224

    @classmethod
    def from_manifest(cls, meta: dict) -> "MetaSpec":
        return cls(sex=tuple(meta["sex"]), sites=tuple(meta["sites"]),
                   site_mapping=tuple(sorted(meta.get("site_mapping", {}).items())),
                   age_scale=float(meta["age_scale"]), age_missing_value=float(meta["age_missing_value"]))

    @property
    def length(self) -> int:
        return len(self.sex) + len(self.sites) + 2

    def site_slot(self, site: str | None) -> str:
        """A slot name for a site given as a slot name or as a body-site name of
        ``site_mapping`` (case-insensitive); anything else (or None) is ``unknown``."""
        if site is None:
            return "unknown"
        key = site.strip().lower()
        if key in self.sites:
            return key
        return dict(self.site_mapping).get(key, "unknown")

    def encode(self, age: float | None = None, sex: str | None = None, site: str | None = None) -> np.ndarray:
        """float32 [10]: sex one-hot + site one-hot + age/90 + age_missing."""
        sex_key = (sex or "unknown").strip().lower()
        if sex_key not in self.sex:
            sex_key = "unknown"
        v = np.zeros(self.length, dtype=np.float64)
        v[self.sex.index(sex_key)] = 1.0
        v[len(self.sex) + self.sites.index(self.site_slot(site))] = 1.0
        missing = age is None or (isinstance(age, float) and math.isnan(age))
        v[-2] = (self.age_missing_value if missing else float(age)) / self.age_scale
        v[-1] = 1.0 if missing else 0.0
        return v.astype(np.float32)


# --------------------------------------------------------------------------------------
# Bundle
# --------------------------------------------------------------------------------------

@dataclass
class Classifier:
    """A loaded classifier bundle (manifest + one onnxruntime session)."""
    path: Path
    manifest: dict
    session: ort.InferenceSession

    @classmethod
    def load(cls, path=DEFAULT_BUNDLE, threads: int = 2) -> "Classifier":
        path = Path(path)
        manifest = json.loads((path / "manifest.json").read_text())
        if manifest.get("kind") != "classifier":
            raise ValueError(f"{path}: not a classifier bundle (kind {manifest.get('kind')!r})")
        interp = manifest["classifier"]["input"]["interpolation"]
        if interp != "bilinear":
            raise ValueError(f"{path}: unsupported interpolation {interp!r}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path / manifest["files"]["classifier"]["path"]), opts,
                                    providers=["CPUExecutionProvider"])
        return cls(path, manifest, sess)

    @property
    def spec(self) -> dict:
        return self.manifest["classifier"]

    @property
    def labels(self) -> list[str]:
        return list(self.spec["labels"])

    @property
    def meta_spec(self) -> MetaSpec:
        return MetaSpec.from_manifest(self.spec["meta"])

    def prepare(self, img: np.ndarray, box) -> tuple[np.ndarray, tuple[int, int, int]]:
        """float32 [1,S,S,3] model image and the crop square (left, top, side)."""
        crop, square = crop_pixels(img, box, float(self.spec["crop"]["context"]))
        return image_tensor(resize_crop(crop, int(self.spec["input"]["size"]))), square

    def run(self, image: np.ndarray, meta: np.ndarray) -> np.ndarray:
        """probabilities [N,7] for image [N,S,S,3] and meta [N,10] (N = 1 for this bundle)."""
        return self.session.run(["probabilities"], {"image": image, "meta": meta})[0]

    def classify(self, img: np.ndarray, box, age=None, sex=None, site=None) -> dict:
        image, square = self.prepare(img, box)
        meta = self.meta_spec.encode(age, sex, site)[None]
        t0 = time.perf_counter()
        probs = self.run(image, meta)[0]
        ms = (time.perf_counter() - t0) * 1e3
        labels = self.labels
        malignant = self.spec.get("malignant", [])
        return {
            "crop": {"left": square[0], "top": square[1], "side": square[2]},
            "meta": [float(v) for v in meta[0]],
            "probabilities": {lab: float(p) for lab, p in zip(labels, probs)},
            "top1": labels[int(np.argmax(probs))],
            "malignant_probability": float(sum(probs[labels.index(m)] for m in malignant)),
            "ms": round(ms, 2),
            "_image": image,
            "_meta": meta,
        }


def parse_box(text: str) -> list[float]:
    vals = [float(v) for v in text.replace(" ", "").split(",")]
    if len(vals) != 4:
        raise argparse.ArgumentTypeError("box must be x0,y0,x1,y1")
    return vals


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="classifier bundle folder")
    ap.add_argument("--image", required=True)
    ap.add_argument("--box", required=True, type=parse_box, help="lesion box x0,y0,x1,y1 in image pixels")
    ap.add_argument("--age", type=float, help="age in years (omit if unknown)")
    ap.add_argument("--sex", help="female, male or unknown (default unknown)")
    ap.add_argument("--site", help="body-site slot or HAM10000 localization (default unknown)")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads (default 2)")
    ap.add_argument("--dump-input", metavar="PREFIX", help="write PREFIX_image.npy and PREFIX_meta.npy")
    args = ap.parse_args(argv)

    clf = Classifier.load(args.bundle, threads=args.threads)
    res = clf.classify(load_rgb(args.image), args.box, args.age, args.sex, args.site)
    image, meta = res.pop("_image"), res.pop("_meta")
    if args.dump_input:
        Path(args.dump_input).parent.mkdir(parents=True, exist_ok=True)
        np.save(f"{args.dump_input}_image.npy", image)
        np.save(f"{args.dump_input}_meta.npy", meta)
    out = {"image": str(args.image), "box": args.box, "bundle": str(args.bundle),
           "variant": clf.manifest.get("variant"), **res}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
