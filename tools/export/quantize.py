#!/usr/bin/env python3
"""Quantised encoder and decoder variants, without torch (onnx and onnxruntime only).

    python tools/export/quantize.py --family litemedsam --src tools/export/work/litemedsam-fp32/encoder.onnx \
        --variant int8-qdq --calib-dir tools/export/work/calib --out tools/export/work/bundles/x/encoder.onnx

export.py uses these functions for its variants; the CLI builds one encoder file from any fp32
encoder, for example the one `dequantize.py` rebuilds from the committed int8-dynamic bundle.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "reference"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnxruntime.quantization import CalibrationDataReader  # noqa: E402

import recipe  # noqa: E402  (tools/reference/recipe.py: the SDK's pre-processing recipes)


def log(msg: str) -> None:
    print(msg, flush=True)


def calib_tensors(family: str, calib_dir: Path, limit: int) -> list[np.ndarray]:
    """Encoder inputs for calibration: up to `limit` images of `calib_dir`, pre-processed like the SDK."""
    files = sorted(p for p in calib_dir.iterdir()
                   if p.suffix.lower() in (".png", ".jpg", ".jpeg") and "_mask" not in p.stem)
    if not files:
        raise SystemExit(f"no calibration images in {calib_dir}")
    if len(files) > limit:  # spread the picks over the whole set
        idx = np.linspace(0, len(files) - 1, limit).round().astype(int)
        files = [files[i] for i in sorted(set(idx))]
    out = []
    for f in files:
        img = recipe.load_rgb(f)
        prep = recipe.preprocess_litemedsam(img, 256) if family == "litemedsam" else recipe.preprocess_sam(img, 1024)
        out.append(prep.tensor)
    log(f"[quant] {len(out)} calibration images from {calib_dir}")
    return out


# Dynamic int8: QUInt8 weights, per output channel, MatMul only.  Measured on the sample-crop
# embeddings (cosine vs fp32): the quantize_dynamic default (all ops, per tensor, so Conv ->
# ConvInteger too) gave 0.66 (LiteMedSAM) / 0.89 (MobileSAM); MatMul-only per-channel gives
# 0.997 / 0.9996 for +3 MB (Conv layers stay fp32).
def _weight_type(name: str):
    """`quint8` or `qint8` (the CLI's spelling) as onnxruntime's QuantType."""
    from onnxruntime.quantization import QuantType
    return {"quint8": QuantType.QUInt8, "qint8": QuantType.QInt8}[name]


def _dynamic_options(weights: str = "quint8") -> dict:
    return {"weight_type": _weight_type(weights), "per_channel": True, "op_types_to_quantize": ["MatMul"]}


def quant_text(kind: str, weights: str = "quint8") -> str:
    """Human description of a quantisation setting (for README.md)."""
    wt = {"quint8": "QUInt8", "qint8": "QInt8"}[weights]
    return {
        "int8-dynamic": f"`quantize_dynamic`, {wt} weights per output channel, MatMul nodes only "
                        "(Conv stays fp32; activations quantised at run time)",
        "int8-qdq": "`quant_pre_process` + `quantize_static`, QDQ format, per-channel QInt8 weights, "
                    "QUInt8 activations, MinMax calibration",
        "fp32": "fp32",
    }[kind]


class TensorReader(CalibrationDataReader):
    """Calibration data: a list of pre-processed encoder inputs."""

    def __init__(self, tensors):
        self._it = iter([{"image": t} for t in tensors])

    def get_next(self):
        return next(self._it, None)


def quantize_encoder(src: Path, dst: Path, variant: str, tensors=None, dynamic_weights: str = "quint8",
                     qdq_exclude: list[str] | None = None, qdq_weights: str = "qint8") -> list[str]:
    """Quantise the encoder; returns the names of the nodes kept in fp32 by --qdq-exclude."""
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    t0 = time.perf_counter()
    if variant == "int8-dynamic":
        quantize_dynamic(str(src), str(dst), **_dynamic_options(dynamic_weights))
        excluded = []
    elif variant == "int8-qdq":
        prep = dst.with_name("encoder-prep.onnx")
        quant_pre_process(str(src), str(prep))
        excluded = [n.name for n in onnx.load(str(prep)).graph.node
                    if any(pat in n.name for pat in (qdq_exclude or []))]
        if qdq_exclude:
            log(f"[quant] keeping {len(excluded)} nodes matching {qdq_exclude} in fp32")
        quantize_static(str(prep), str(dst), TensorReader(tensors), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=_weight_type(qdq_weights),
                        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=excluded)
        # (MinMax calibration adds ReduceMin/ReduceMax per tensor; peak RSS about 11 GB here.
        #  Do not set CalibMaxIntermediateOutputs: onnxruntime 1.31 then drops the collected ranges.)
        prep.unlink(missing_ok=True)
    else:
        raise ValueError(variant)
    log(f"[quant] encoder {variant}: {dst.stat().st_size:,} B in {time.perf_counter() - t0:.1f}s")
    return excluded


def quantize_decoder(src: Path, dst: Path, dynamic_weights: str = "quint8") -> None:
    from onnxruntime.quantization import quantize_dynamic
    quantize_dynamic(str(src), str(dst), **_dynamic_options(dynamic_weights))
    log(f"[quant] decoder int8-dynamic: {dst.stat().st_size:,} B")


def quantize_weights_only(src: Path, dst: Path) -> None:
    """Weight-only int8 (weight_only.py): every MatMul/Gemm/Conv/ConvTranspose weight of >= 1,024
    values stored as int8 per output channel behind a DequantizeLinear; compute stays fp32, so
    unlike quantize_dynamic nothing is rounded at run time."""
    import weight_only
    m = onnx.load(str(src))
    names = weight_only.weight_names(m, ops=("MatMul", "Gemm", "Conv", "ConvTranspose"))
    weight_only.quantize_weights(m, names)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    log(f"[quant] int8-weights: {len(names)} weights, {dst.stat().st_size:,} B")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", required=True, choices=["litemedsam", "mobilesam"])
    ap.add_argument("--src", type=Path, required=True, help="fp32 encoder.onnx (or decoder.onnx with int8-weights)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--variant", default="int8-qdq", choices=["int8-dynamic", "int8-qdq", "int8-weights"],
                    help="int8-weights: weight-only int8 of any graph (used for the decoder)")
    ap.add_argument("--calib-dir", type=Path)
    ap.add_argument("--calib-limit", type=int, default=64)
    ap.add_argument("--dynamic-weights", default="quint8", choices=["quint8", "qint8"])
    ap.add_argument("--qdq-exclude", action="append", default=[], metavar="SUBSTR")
    # QInt8 weights: the fast path where the CPU has int8 dot products (VNNI, ARM dotprod); on
    # x86 AVX2 without VNNI their uint8 x int8 products saturate (see models/litemedsam/README.md).
    ap.add_argument("--qdq-weights", default="qint8", choices=["quint8", "qint8"])
    args = ap.parse_args(argv)
    if args.variant == "int8-qdq" and not args.calib_dir:
        ap.error("--variant int8-qdq needs --calib-dir")
    if args.variant == "int8-weights":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        quantize_weights_only(args.src, args.out)
        return 0
    tensors = calib_tensors(args.family, args.calib_dir, args.calib_limit) if args.calib_dir else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    quantize_encoder(args.src, args.out, args.variant, tensors, args.dynamic_weights, args.qdq_exclude,
                     args.qdq_weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
