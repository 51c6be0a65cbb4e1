#!/usr/bin/env python3
"""Assemble a calibration image folder for int8-qdq quantisation.

    python tools/export/make_calib.py --out tools/export/work/calib [--synth target/synth] [--synth-count 8] \
        [--windows] [--photo assets/samples/forearm-nevi.jpg]

Writes the three 400 px mole crops of the dermapred sample photo, 5 more seeded random
400 px crops of it and the whole photo, plus (if --synth exists) every k-th image of the
synthetic set so that --synth-count of them are taken.  With --windows each synthetic image
is cut to the context window the SDK encodes around its lesion (the box's longer side x 6,
at least 256 px; `dermscan-core/src/roi/crop.rs`) and also kept whole, so the calibrator sees
what the encoder sees in both crop modes.  Generate the synthetic set with a seed no
evaluation uses (`synth --set varied --seed 1234`).  export.py pre-processes each image
exactly like the SDK before feeding it to the calibrator.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from assets import sample_photo  # noqa: E402
from moles import MOLES  # noqa: E402

# The SDK's context window: the lesion box's longer side times this (roi/crop.rs CONTEXT_FACTOR).
CONTEXT_FACTOR = 6.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--synth", type=Path)
    ap.add_argument("--synth-count", type=int, default=8)
    ap.add_argument("--windows", action="store_true", help="also write each synthetic lesion's context window")
    ap.add_argument("--photo", type=Path, help="the sample photo (default: fetched from the dermapred wheel)")
    args = ap.parse_args(argv)

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    photo = Image.open(args.photo or sample_photo()).convert("RGB")
    n = 0
    for m in MOLES:
        photo.crop(m["crop"]).save(args.out / f"photo_mole{m['name']}.png")
        n += 1
    rng = np.random.default_rng(7)
    for i in range(5):
        x0 = int(rng.integers(0, photo.width - 400))
        y0 = int(rng.integers(0, photo.height - 400))
        photo.crop((x0, y0, x0 + 400, y0 + 400)).save(args.out / f"photo_rand{i}.png")
        n += 1
    photo.save(args.out / "photo_whole.png")
    n += 1
    if args.synth and (args.synth / "meta.json").exists():
        items = json.loads((args.synth / "meta.json").read_text())
        step = max(1, len(items) // max(1, args.synth_count))
        for it in items[::step][: args.synth_count]:
            shutil.copyfile(args.synth / it["file"], args.out / f"synth_{Path(it['file']).name}")
            n += 1
            if args.windows and it.get("box"):
                img = Image.open(args.synth / it["file"]).convert("RGB")
                x0, y0, x1, y1 = it["box"]
                side = min(max((x1 - x0) * CONTEXT_FACTOR, (y1 - y0) * CONTEXT_FACTOR, 256), img.width, img.height)
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                left = int(min(max(round(cx - side / 2), 0), img.width - side))
                top = int(min(max(round(cy - side / 2), 0), img.height - side))
                img.crop((left, top, left + int(side), top + int(side))).save(
                    args.out / f"window_{Path(it['file']).stem}.png")
                n += 1
    print(f"wrote {n} calibration images to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
