#!/usr/bin/env python3
"""Turn an int8-dynamic ONNX graph back into plain fp32 MatMuls, with the `onnx` package alone.

    python tools/export/dequantize.py models/litemedsam/encoder.onnx tools/export/work/litemedsam-fp32/encoder.onnx

Each `DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale)` chain that
`quantize_dynamic` wrote becomes one `MatMul` on the dequantised weights
`(W_q - zero_point) * scale` (per output channel). Conv layers were never quantised by the
int8-dynamic variant, so the result is the fp32 export up to the weights' int8 rounding. It
lets the static QDQ variant be built from the committed bundle when the torch export
environment (CUDA wheels, ~5 GB) is not at hand.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


def dequantize(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers = collections.defaultdict(list)
    for n in g.node:
        for i in n.input:
            consumers[i].append(n)

    def arr(name: str) -> np.ndarray:
        if name in inits:
            return numpy_helper.to_array(inits[name])
        p = producer[name]
        if p.op_type == "Constant":
            return numpy_helper.to_array(p.attribute[0].t)
        raise ValueError(f"{name} is not a constant")

    drop, new_inits, replaced = set(), [], 0
    replacement = {}
    for n in g.node:
        if n.op_type != "MatMulInteger":
            continue
        xq, wq_name, _xzp, wzp_name = n.input
        dql = producer[xq]
        cast = consumers[n.output[0]][0]
        mul = consumers[cast.output[0]][0]
        assert dql.op_type == "DynamicQuantizeLinear" and cast.op_type == "Cast" and mul.op_type == "Mul"
        scales = mul.input[1] if mul.input[0] == cast.output[0] else mul.input[0]
        scale_mul = producer[scales]
        assert scale_mul.op_type == "Mul"
        w_scale_name = next(i for i in scale_mul.input if i != dql.output[1])
        w = (arr(wq_name).astype(np.float32) - arr(wzp_name).astype(np.float32)) * arr(w_scale_name).astype(np.float32)
        w_name = wq_name.removesuffix("_quantized") + "_dequantized"
        new_inits.append(numpy_helper.from_array(w.astype(np.float32), w_name))
        replacement[id(n)] = helper.make_node("MatMul", [dql.input[0], w_name], [mul.output[0]], name=n.name.removesuffix("_quant"))
        drop.update({id(cast), id(mul), id(scale_mul)})
        if all(c.op_type == "MatMulInteger" or c is scale_mul for o in dql.output for c in consumers[o]):
            drop.add(id(dql))
        replaced += 1
    nodes = [replacement.get(id(n), n) for n in g.node if id(n) not in drop]
    used = {i for n in nodes for i in n.input}
    kept_inits = [t for t in g.initializer if t.name in used] + new_inits
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept_inits)
    return model, replaced


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    args = ap.parse_args()
    model, n = dequantize(onnx.load(str(args.src)))
    onnx.checker.check_model(model)
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.dst))
    print(f"{n} MatMulInteger chains -> MatMul; wrote {args.dst} ({args.dst.stat().st_size:,} B)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
