#!/usr/bin/env python3
"""Evaluate segmenter bundle variants of one family and pick the smallest that qualifies.

    python tools/export/evaluate.py --family litemedsam \
        --bundle fp32=models/litemedsam \
        --bundle int8-qdq=tools/export/work/bundles/litemedsam-int8-qdq ... \
        [--synth target/synth] [--baseline fp32] [--out tools/export/work/eval/litemedsam]

For every bundle it runs the upstream reference recipe (tools/reference/recipe.py):

* on the synthetic set (``meta.json``: file, mask, box [x0,y0,x1,y1], hair) with the TRUE
  box, and reports the mean Dice against the ground-truth masks over all images, the
  images without hair and those with hair;
* on the three mole crops of the dermapred sample photo (tools/export/moles.py), and
  reports the Dice of each variant's mask against the baseline (fp32) mask;
* the encoder's median time (onnxruntime, 2 intra-op threads, 5 runs after a warm-up) and
  the file sizes.

Rule: a variant qualifies if its mean synthetic Dice is at most 0.01 below the baseline's
and its masks agree with the baseline on every mole with Dice >= 0.97.  The smallest
qualifying bundle (encoder + decoder bytes) is chosen.  Writes ``results.json`` and
``report.md`` into --out (the markdown is embedded into the bundle README by
``export.py --eval-report``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tools" / "reference"))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from PIL import Image  # noqa: E402

import recipe  # noqa: E402
from assets import sample_photo  # noqa: E402
from moles import MOLES  # noqa: E402

MAX_DICE_DROP = 0.01
MIN_MOLE_DICE = 0.97


def encoder_ms(bundle: recipe.Bundle, x: np.ndarray, repeat: int = 5) -> float:
    bundle.encoder.run(None, {"image": x})
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        bundle.encoder.run(None, {"image": x})
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def evaluate_cached(name: str, path: Path, synth_items, synth_dir: Path, moles_imgs, threads: int, cache: Path) -> dict:
    """evaluate_bundle(), memoised on (encoder sha256, decoder sha256, synthetic meta.json)."""
    man = json.loads((path / "manifest.json").read_text())
    content = hashlib.sha256()
    for it in synth_items:
        content.update((synth_dir / it["file"]).read_bytes())
        content.update((synth_dir / it["mask"]).read_bytes())
    key = hashlib.sha256(json.dumps([man["files"]["encoder"]["sha256"], man["files"]["decoder"]["sha256"],
                                     synth_items, content.hexdigest(), threads]).encode()).hexdigest()[:16]
    jf, nf = cache / f"{key}.json", cache / f"{key}.npz"
    if jf.exists() and nf.exists():
        res = json.loads(jf.read_text())
        with np.load(nf) as z:
            res["mole_masks"] = {k: z[k] for k in z.files}
        res["name"], res["path"] = name, str(path)
        print(f"[eval] {name}: cached ({jf.name})")
        return res
    res = evaluate_bundle(name, path, synth_items, synth_dir, moles_imgs, threads)
    cache.mkdir(parents=True, exist_ok=True)
    jf.write_text(json.dumps({k: v for k, v in res.items() if k != "mole_masks"}))
    np.savez_compressed(nf, **res["mole_masks"])
    return res


def evaluate_bundle(name: str, path: Path, synth_items, synth_dir: Path | None, moles_imgs, threads: int) -> dict:
    bundle = recipe.Bundle.load(path, threads=threads)
    man = bundle.manifest
    res = {"name": name, "path": str(path), "variant": man["variant"],
           "encoder_bytes": man["files"]["encoder"]["size"], "decoder_bytes": man["files"]["decoder"]["size"]}
    res["total_bytes"] = res["encoder_bytes"] + res["decoder_bytes"]
    # decoder precision, read from the graph: dynamic int8 adds DynamicQuantizeLinear / MatMulInteger
    ops = {n.op_type for n in __import__("onnx").load(str(path / "decoder.onnx")).graph.node}
    res["decoder_precision"] = "int8-dynamic" if "DynamicQuantizeLinear" in ops else "fp32"

    res["mole_masks"] = {}
    for m, img in moles_imgs:
        mask, prep, _ = bundle.segment(img, m["box"])
        res["mole_masks"][m["name"]] = mask
    res["encoder_ms"] = encoder_ms(bundle, bundle.preprocess(moles_imgs[0][1]).tensor)

    per = []
    t0 = time.perf_counter()
    for it in synth_items:
        img = recipe.load_rgb(synth_dir / it["file"])
        gt = np.asarray(Image.open(synth_dir / it["mask"]).convert("L")) > 127
        mask, _, _ = bundle.segment(img, it["box"])
        per.append({"file": it["file"], "hair": bool(it.get("hair", False)), "dice": recipe.dice(mask, gt)})
    res["synth"] = per
    if per:
        res["synth_seconds"] = time.perf_counter() - t0

        def mean(sel):
            v = [p["dice"] for p in per if sel(p)]
            return (float(np.mean(v)) if v else float("nan")), len(v)

        res["dice_all"], res["n_all"] = mean(lambda p: True)
        res["dice_nohair"], res["n_nohair"] = mean(lambda p: not p["hair"])
        res["dice_hair"], res["n_hair"] = mean(lambda p: p["hair"])
    print(f"[eval] {name}: " + ", ".join(f"{k}={res[k]:.4f}" for k in ("dice_all", "dice_nohair", "dice_hair")
                                        if k in res) + f", encoder {res['encoder_ms']:.0f} ms", flush=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", required=True)
    ap.add_argument("--bundle", action="append", required=True, help="NAME=DIR (repeat)")
    ap.add_argument("--baseline", default="fp32", help="NAME of the fp32 bundle (default fp32)")
    ap.add_argument("--synth", type=Path, default=REPO / "target" / "synth")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--note", help="text put under the table (e.g. a legend of the bundle names)")
    ap.add_argument("--retime", type=int, default=0, metavar="N",
                    help="re-measure every encoder (median of N runs) after the evaluation")
    args = ap.parse_args(argv)
    out = args.out or HERE / "work" / "eval" / args.family
    out.mkdir(parents=True, exist_ok=True)

    bundles = dict(b.split("=", 1) for b in args.bundle)
    if args.baseline not in bundles:
        ap.error(f"baseline {args.baseline!r} not among the bundles")
    synth_items = []
    if (args.synth / "meta.json").exists():
        # work on a snapshot: the Rust side may rewrite target/synth while this runs
        snap = HERE / "work" / "eval" / "synth-snapshot"
        if snap.exists():
            shutil.rmtree(snap)
        shutil.copytree(args.synth, snap)
        args.synth = snap
        synth_items = json.loads((args.synth / "meta.json").read_text())
        print(f"[eval] synthetic set: {len(synth_items)} images from {args.synth}")
    else:
        print(f"[eval] no synthetic set at {args.synth}: Dice vs ground truth is PENDING")

    photo = recipe.load_rgb(sample_photo())
    moles_imgs = []
    for m in MOLES:
        x0, y0, x1, y1 = m["crop"]
        moles_imgs.append((m, photo[y0:y1, x0:x1].copy()))

    results = {n: evaluate_cached(n, Path(p), synth_items, args.synth, moles_imgs, args.threads, HERE / "work" / "eval" / "cache")
               for n, p in bundles.items()}
    if args.retime:
        # Timings again, round-robin over the bundles (each round runs every encoder once), so that
        # load from other jobs spreads evenly; the minimum over the rounds is reported as the
        # uncontended figure, the median as the typical one.
        loaded = {n: recipe.Bundle.load(Path(p), threads=args.threads) for n, p in bundles.items()}
        x = {n: b.preprocess(moles_imgs[0][1]).tensor for n, b in loaded.items()}
        times = {n: [] for n in loaded}
        for n, b in loaded.items():
            b.encoder.run(None, {"image": x[n]})  # warm-up
        loads = []
        for _ in range(args.retime):
            for n, b in loaded.items():
                t0 = time.perf_counter()
                b.encoder.run(None, {"image": x[n]})
                times[n].append((time.perf_counter() - t0) * 1e3)
            loads.append(os.getloadavg()[0])
        for n in loaded:
            results[n]["encoder_ms"] = min(times[n])
            results[n]["encoder_ms_median"] = statistics.median(times[n])
            print(f"[eval] {n}: encoder min {min(times[n]):.0f} ms, median {statistics.median(times[n]):.0f} ms")
        timing_note = (f"Encoder ms: minimum (and median) of {args.retime} round-robin runs after a warm-up on mole "
                       f"crop A's input, onnxruntime {args.threads} intra-op threads, 2-core AMD EPYC; a Rust build shared "
                       f"the cores (1-min load average {min(loads):.1f}..{max(loads):.1f}), so the minimum is the "
                       "better estimate of an idle machine.")
    else:
        timing_note = (f"Encoder ms: median of 5 runs after a warm-up on mole crop A's input, onnxruntime {args.threads} "
                       f"intra-op threads, 2-core AMD EPYC (1-min load average {os.getloadavg()[0]:.1f}; other jobs "
                       "may have shared the cores).")
    base = results[args.baseline]
    base_masks = dict(base["mole_masks"])
    for r in results.values():
        r["mole_dice_vs_baseline"] = {k: recipe.dice(v, base_masks[k]) for k, v in r["mole_masks"].items()}
        r["mole_area"] = {k: int(v.sum()) for k, v in r["mole_masks"].items()}
        r["mole_dice_min"] = min(r["mole_dice_vs_baseline"].values())
        ok_moles = r["mole_dice_min"] >= MIN_MOLE_DICE
        if synth_items:
            r["dice_drop"] = base["dice_all"] - r["dice_all"]
            r["qualifies"] = bool(ok_moles and r["dice_drop"] <= MAX_DICE_DROP)
        else:
            r["qualifies"] = None  # pending: no synthetic set
            r["qualifies_on_moles"] = ok_moles
        del r["mole_masks"]

    pool = [r for r in results.values() if r["qualifies"]] if synth_items else \
           [r for r in results.values() if r.get("qualifies_on_moles")]
    chosen = min(pool, key=lambda r: r["total_bytes"]) if pool else base

    lines = [
        f"Evaluation of `{args.family}` variants ({time.strftime('%Y-%m-%d')}, `tools/export/evaluate.py`, "
        f"reference recipe, onnxruntime {ort.__version__}, {args.threads} threads).",
        "",
    ]
    if synth_items:
        nh = base["n_hair"]
        lines += [f"Synthetic set: {len(synth_items)} images ({len(synth_items) - nh} without hair, {nh} with hair), "
                  "prompted with the true box; Dice against the ground-truth masks.", ""]
    else:
        lines += ["Synthetic set: not available yet, Dice against ground truth PENDING.", ""]
    lines += [timing_note, ""]
    lines += ["Moles: the three 400 px mole crops of the dermapred sample photo (tools/export/moles.py); "
              f"Dice of each variant's mask against the `{args.baseline}` mask.", ""]
    hdr = f"| bundle | encoder | decoder | enc+dec MB | encoder ms{' min (median)' if args.retime else ''} | Dice all | no hair | hair | moles vs fp32 (A/B/C) | qualifies |"
    lines += [hdr, "|---|---|---|---:|---:|---:|---:|---:|---|---|"]
    for r in results.values():
        moles = " / ".join(f"{v:.3f}" for v in r["mole_dice_vs_baseline"].values())
        def f(k):
            return f"{r[k]:.4f}" if k in r else "pending"
        q = {True: "yes", False: "no", None: "pending"}[r["qualifies"]]
        lines.append(f"| {r['name']} | {r['variant']} | {r['decoder_precision']} | {r['total_bytes'] / 1e6:.1f} | "
                     f"{r['encoder_ms']:.0f}" + (f" ({r['encoder_ms_median']:.0f})" if "encoder_ms_median" in r else "")
                     + f" | {f('dice_all')} | {f('dice_nohair')} | {f('dice_hair')} | {moles} | {q} |")
    if args.note:
        lines += ["", args.note]
    lines += ["", f"Rule: mean Dice at most {MAX_DICE_DROP} below `{args.baseline}` and every mole Dice >= {MIN_MOLE_DICE}; "
              f"the smallest qualifying bundle wins. Chosen: **{chosen['name']}**."]
    if not synth_items:
        lines.append("(Chosen on the mole criterion only; to be confirmed on the synthetic set.)")
    report = "\n".join(lines) + "\n"
    (out / "report.md").write_text(report)
    (out / "results.json").write_text(json.dumps({"family": args.family, "chosen": chosen["name"],
                                                  "results": results}, indent=2))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
