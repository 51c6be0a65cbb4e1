"""ONNX helpers shared by the segmenter and classifier exporters: a CPU session and the
graph's input/output description that goes into a bundle's manifest."""

from __future__ import annotations

from pathlib import Path

import onnx
import onnxruntime as ort

DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16: "float16",
          onnx.TensorProto.INT64: "int64", onnx.TensorProto.INT32: "int32", onnx.TensorProto.UINT8: "uint8"}


def ort_session(path, threads: int | None = None) -> ort.InferenceSession:
    """A CPU session of a model file or of serialised model bytes; `threads` sets the
    intra-op threads (one inter-op thread)."""
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    model = path if isinstance(path, (bytes, bytearray)) else str(path)
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def graph_tensors(path: Path) -> dict:
    """Graph inputs (without initializers) and outputs with dtypes and shapes (-1 = dynamic)."""
    g = onnx.load(str(path), load_external_data=False).graph
    inits = {i.name for i in g.initializer}

    def desc(v):
        t = v.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        return {"name": v.name, "dtype": DTYPES.get(t.elem_type, str(t.elem_type)), "shape": shape}

    return {"inputs": [desc(v) for v in g.input if v.name not in inits],
            "outputs": [desc(v) for v in g.output]}
