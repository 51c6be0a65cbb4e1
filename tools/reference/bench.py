#!/usr/bin/env python3
"""Time the full reference scan of one image with a Derm-Scan bundle.

    python tools/reference/bench.py --bundle models/litemedsam --image IMG --box x0,y0,x1,y1 \
        [--repeat 10] [--threads 2] [--warmup 1] [--classifier models/ham10000-xception]

Stages: decode (image file -> RGB array), preprocess, encoder, decoder (prompt + mask
decoder), postprocess (upscale + threshold), total.  Session creation is excluded and
reported separately as load_ms.  With ``--classifier`` each run also classifies the lesion
(crop around the mask's box, resize, model run; stage ``classifier``), the same model calls as
the SDK's full analysis.  Prints one JSON object with the median ms per stage
(plus min and max of the total) to stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipe import Bundle, load_rgb  # noqa: E402
from segment import parse_box  # noqa: E402
from classify import Classifier  # noqa: E402

STAGES = ("decode", "preprocess", "encoder", "decoder", "postprocess", "classifier", "total")


def mask_box(mask):
    """Tight box [x0, y0, x1, y1] (exclusive ends) of a boolean mask, None when empty."""
    ys, xs = mask.nonzero()
    if len(xs) == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--box", type=parse_box, required=True)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--classifier", help="classifier bundle: also classify each lesion")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    bundle = Bundle.load(args.bundle, threads=args.threads)
    classifier = Classifier.load(args.classifier, threads=args.threads) if args.classifier else None
    load_ms = (time.perf_counter() - t0) * 1e3

    runs = []
    for i in range(args.warmup + args.repeat):
        t = {}
        s = time.perf_counter()
        img = load_rgb(args.image)
        t["decode"] = (time.perf_counter() - s) * 1e3
        mask, _, _ = bundle.segment(img, args.box, timings=t)
        t["classifier"] = 0.0
        if classifier is not None:
            c = time.perf_counter()
            classifier.classify(img, mask_box(mask) or args.box)
            t["classifier"] = (time.perf_counter() - c) * 1e3
        t["total"] = (time.perf_counter() - s) * 1e3
        if i >= args.warmup:
            runs.append(t)

    out = {
        "bundle": str(args.bundle),
        "classifier": args.classifier,
        "family": bundle.family,
        "variant": bundle.manifest.get("variant"),
        "image": str(args.image),
        "image_hw": list(img.shape[:2]),
        "threads": args.threads,
        "repeat": args.repeat,
        "onnxruntime": ort.__version__,
        "load_ms": round(load_ms, 1),
        "median_ms": {k: round(statistics.median(r[k] for r in runs), 2) for k in STAGES},
        "total_min_ms": round(min(r["total"] for r in runs), 2),
        "total_max_ms": round(max(r["total"] for r in runs), 2),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
