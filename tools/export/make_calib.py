#!/usr/bin/env python3
"""Assemble a calibration image folder for int8-qdq quantisation.

    python tools/export/make_calib.py --out tools/export/work/calib [--synth target/synth] [--synth-count 8]

Writes the three 400 px mole crops of the dermapred sample photo, 5 more seeded random
400 px crops of it and the whole photo, plus (if --synth exists) every k-th image of the
synthetic set so that --synth-count of them are taken.  export.py pre-processes each
image exactly like the SDK before feeding it to the calibrator.
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--synth", type=Path)
    ap.add_argument("--synth-count", type=int, default=8)
    args = ap.parse_args(argv)

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    photo = Image.open(sample_photo()).convert("RGB")
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
    print(f"wrote {n} calibration images to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
