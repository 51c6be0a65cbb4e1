#!/usr/bin/env python3
"""Box-prompted segmentation with a Derm-Scan bundle, following the upstream recipe.

Single image:
    python tools/reference/segment.py --bundle models/litemedsam --image IMG.png \
        --box x0,y0,x1,y1 --out MASK.png [--dump-input INPUT.npy]

Many images in one process (the sessions are created once):
    python tools/reference/segment.py --bundle models/litemedsam --batch LIST.json

LIST.json is a JSON list of objects {"image": PATH, "box": [x0,y0,x1,y1], "out": PATH}
with an optional "dump_input": PATH per item.  Relative paths are taken relative to the
current directory.  The mask is an 8-bit 0/255 PNG of the image size (mask token 0).
``--dump-input`` saves the float32 [1,3,S,S] encoder input as .npy, so another
implementation can compare its own model input against the reference.

One JSON line per image is printed: {"image", "out", "iou", "area", "ms"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipe import Bundle, load_rgb, save_mask  # noqa: E402


def parse_box(text: str) -> list[float]:
    vals = [float(v) for v in text.replace(" ", "").split(",")]
    if len(vals) != 4:
        raise argparse.ArgumentTypeError("box must be x0,y0,x1,y1")
    return vals


def run_one(bundle: Bundle, image: str, box, out: str, dump_input: str | None = None) -> dict:
    t0 = time.perf_counter()
    img = load_rgb(image)
    mask, prep, iou = bundle.segment(img, box)
    save_mask(out, mask)
    if dump_input:
        Path(dump_input).parent.mkdir(parents=True, exist_ok=True)
        np.save(dump_input, prep.tensor.astype(np.float32))
    return {"image": str(image), "out": str(out), "iou": round(iou, 6), "area": int(mask.sum()),
            "ms": round((time.perf_counter() - t0) * 1e3, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="bundle folder with manifest.json")
    ap.add_argument("--image")
    ap.add_argument("--box", type=parse_box, help="x0,y0,x1,y1 in image pixels")
    ap.add_argument("--out", help="output mask PNG")
    ap.add_argument("--dump-input", help="save the encoder input tensor (.npy)")
    ap.add_argument("--batch", help="JSON list of {image, box, out[, dump_input]}")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads (default 2)")
    args = ap.parse_args(argv)

    if args.batch:
        items = json.loads(Path(args.batch).read_text())
    elif args.image and args.box and args.out:
        items = [{"image": args.image, "box": args.box, "out": args.out, "dump_input": args.dump_input}]
    else:
        ap.error("give --image, --box and --out, or --batch")

    bundle = Bundle.load(args.bundle, threads=args.threads)
    for it in items:
        res = run_one(bundle, it["image"], it["box"], it["out"], it.get("dump_input"))
        print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
