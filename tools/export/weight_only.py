"""Weight-only int8 for ONNX graphs (onnx and numpy only): weights stored as int8 with one
scale per output channel behind a DequantizeLinear, compute left in float. Used by
quantize_classifier.py (the classifier) and quantize.py (the segmenter's decoder).

ONNX Runtime keeps such a DequantizeLinear as a node (it does not fold it into a float
initializer), so the session holds the int8 weights and dequantises each one when its layer
runs."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MIN_SIZE = 1024  # smaller weights (biases, norms) stay float

# The output-channel axis of each op's weight (input 1), given the weight's rank.
OUTPUT_AXIS = {"Conv": lambda n, r: 0, "ConvTranspose": lambda n, r: 1, "MatMul": lambda n, r: r - 1,
               "Gemm": lambda n, r: 0 if next((a.i for a in n.attribute if a.name == "transB"), 0) else 1}


def output_axis(node, rank: int) -> int:
    return OUTPUT_AXIS[node.op_type](node, rank)


def upcast_fp16(m: onnx.ModelProto) -> bool:
    """fp16 initializers, constants, casts and value types -> fp32, in place. True if any."""
    g, changed = m.graph, False
    for t in g.initializer:
        if t.data_type == TensorProto.FLOAT16:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float32), t.name))
            changed = True
    for n in g.node:
        for a in n.attribute:
            if n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT16:
                a.i, changed = TensorProto.FLOAT, True
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT16:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float32), a.t.name))
    for v in [*g.value_info, *g.input, *g.output]:
        if v.type.tensor_type.elem_type == TensorProto.FLOAT16:
            v.type.tensor_type.elem_type = TensorProto.FLOAT
    return changed


def fold_batchnorm(m: onnx.ModelProto) -> int:
    """Fold Conv -> Sub(mean) -> Mul(scale) -> Add(shift), all constant and per channel, into
    the Conv. Returns how many were folded."""
    g = m.graph
    init = {t.name: t for t in g.initializer}
    users: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    outputs = {o.name for o in g.output}

    def const(name):
        return numpy_helper.to_array(init[name]).astype(np.float64) if name in init else None

    def only_user(out, op):
        u = users.get(out, [])
        return u[0] if len(u) == 1 and u[0].op_type == op and out not in outputs else None

    def other(node, x):
        return node.input[1] if node.input[0] == x else node.input[0]

    dropped = []
    for n in g.node:
        if n.op_type != "Conv":
            continue
        sub = only_user(n.output[0], "Sub")
        if sub is None or sub.input[0] != n.output[0]:
            continue
        mul = only_user(sub.output[0], "Mul")
        add = mul and only_user(mul.output[0], "Add")
        if not add:
            continue
        mean, scale, shift = const(sub.input[1]), const(other(mul, sub.output[0])), const(other(add, mul.output[0]))
        if mean is None or scale is None or shift is None:
            continue
        w = numpy_helper.to_array(init[n.input[1]]).astype(np.float64)
        cout = w.shape[0]
        mean, scale, shift = (np.broadcast_to(a.reshape(-1), (cout,)) for a in (mean, scale, shift))
        b = const(n.input[2]) if len(n.input) > 2 and n.input[2] else np.zeros(cout)
        wn, bn = f"{n.name}_W_bnfold", f"{n.name}_B_bnfold"
        g.initializer.extend([
            numpy_helper.from_array((w * scale.reshape(-1, *[1] * (w.ndim - 1))).astype(np.float32), wn),
            numpy_helper.from_array(((b - mean) * scale + shift).astype(np.float32), bn)])
        x = n.input[0]
        del n.input[:]
        n.input.extend([x, wn, bn])
        n.output[0] = add.output[0]
        dropped += [sub, mul, add]
    keep = [n for n in g.node if not any(n is d for d in dropped)]
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input}
    live = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(live)
    del g.value_info[:]
    return len(dropped) // 3


def weight_names(m: onnx.ModelProto, ops=("Conv", "Gemm")) -> list[str]:
    """Weight initializers (input 1) of the ``ops`` nodes with at least MIN_SIZE values, each
    used by one node."""
    init = {t.name: t for t in m.graph.initializer}
    uses: dict[str, int] = {}
    for n in m.graph.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    out = []
    for n in m.graph.node:
        if n.op_type in ops and len(n.input) > 1 and n.input[1] in init and uses[n.input[1]] == 1:
            if int(np.prod(init[n.input[1]].dims)) >= MIN_SIZE:
                out.append(n.input[1])
    return out


def quantize_weights(m: onnx.ModelProto, names, fp16=()) -> None:
    """Store each weight in ``names`` as int8 (symmetric, per output channel) behind a
    DequantizeLinear, and each in ``fp16`` as float16 behind a Cast; in place."""
    g = m.graph
    init = {t.name: t for t in g.initializer}
    axis_of = {n.input[1]: output_axis(n, len(init[n.input[1]].dims)) for n in g.node
               if len(n.input) > 1 and n.input[1] in init and n.op_type in OUTPUT_AXIS}
    new = []
    for name in names:
        t = init[name]
        w = numpy_helper.to_array(t).astype(np.float32)
        g.initializer.remove(t)
        if name in fp16:
            g.initializer.append(numpy_helper.from_array(w.astype(np.float16), name + "_fp16"))
            new.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT, name=name + "_cast"))
            continue
        axis = axis_of[name]
        amax = np.abs(w).max(axis=tuple(i for i in range(w.ndim) if i != axis))
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        g.initializer.extend([numpy_helper.from_array(q, name + "_int8"), numpy_helper.from_array(scale, name + "_scale"),
                              numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), name + "_zero")])
        new.append(helper.make_node("DequantizeLinear", [name + "_int8", name + "_scale", name + "_zero"], [name],
                                    name=name + "_dequantize", axis=axis))
    for n in reversed(new):
        g.node.insert(0, n)
