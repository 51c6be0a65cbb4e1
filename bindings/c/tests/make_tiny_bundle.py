"""Writes bindings/c/tests/tiny-litemedsam/: a toy segmenter bundle for the valgrind pass.

Under valgrind 3.19 the real LiteMedSAM encoder takes well over half an hour per run (ONNX
Runtime's kernels are emulated instruction by instruction), so `test_dermscan --quick` runs
on this bundle instead: the same manifest format, family (`litemedsam`), tensor names and
shapes as models/litemedsam, verified and loaded exactly like it, but with two graphs of a
few operators and no weights. It is a test fixture, not a model: it "segments" whatever is
darker than 0.45 after min-max normalisation, ignoring the prompt.

    encoder: image [1,3,256,256] -> AveragePool 4x4 -> mean over channels -> Expand
             -> image_embeddings [1,256,64,64]
    decoder: channel 0 of image_embeddings -> Resize x4 -> 0.45 - x -> 4 copies
             -> low_res_masks [1,4,256,256]; iou_predictions [1,4] constant

Regenerate (needs the `onnx` package, e.g. the export venv):
    .venv-export/bin/python bindings/c/tests/make_tiny_bundle.py
"""

import hashlib
import json
import pathlib

import onnx
from onnx import TensorProto, helper

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = pathlib.Path(__file__).resolve().parent / "tiny-litemedsam"
OPSET = 17


def value(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def ints(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def floats(name, dims, values):
    return helper.make_tensor(name, TensorProto.FLOAT, dims, values)


def encoder():
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("ReduceMean", ["pooled"], ["grey"], axes=[1], keepdims=1),
        helper.make_node("Expand", ["grey", "shape"], ["image_embeddings"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_encoder",
        [value("image", [1, 3, 256, 256])],
        [value("image_embeddings", [1, 256, 64, 64])],
        initializer=[ints("shape", [1, 256, 64, 64])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="dermscan-tests")


def decoder():
    nodes = [
        helper.make_node("Slice", ["image_embeddings", "starts", "ends", "axes"], ["grey"]),
        helper.make_node("Resize", ["grey", "", "scales"], ["grey256"], mode="linear"),
        helper.make_node("Sub", ["threshold", "grey256"], ["logit"]),
        helper.make_node("Concat", ["logit", "logit", "logit", "logit"], ["low_res_masks"], axis=1),
        helper.make_node("Identity", ["iou"], ["iou_predictions"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_decoder",
        [
            value("image_embeddings", [1, 256, 64, 64]),
            value("point_coords", [1, "n", 2]),
            value("point_labels", [1, "n"]),
            value("mask_input", [1, 1, 256, 256]),
            value("has_mask_input", [1]),
        ],
        [value("low_res_masks", [1, 4, 256, 256]), value("iou_predictions", [1, 4])],
        initializer=[
            ints("starts", [0]),
            ints("ends", [1]),
            ints("axes", [1]),
            floats("scales", [4], [1.0, 1.0, 4.0, 4.0]),
            floats("threshold", [], [0.45]),
            floats("iou", [1, 4], [0.9, 0.8, 0.7, 0.6]),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="dermscan-tests")


def main():
    OUT.mkdir(exist_ok=True)
    manifest = json.loads((ROOT / "models/litemedsam/manifest.json").read_text())
    files = {}
    for role, model in (("encoder", encoder()), ("decoder", decoder())):
        onnx.checker.check_model(model, full_check=True)
        data = model.SerializeToString()
        (OUT / f"{role}.onnx").write_bytes(data)
        files[role] = {"path": f"{role}.onnx", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    manifest.update(
        name="tiny-litemedsam",
        version="0.0.1",
        variant="toy-test-fixture",
        license="Apache-2.0",
        provenance={
            "package": "none",
            "package_version": "0",
            "checkpoint": "",
            "checkpoint_sha256": "",
            "exporter": "bindings/c/tests/make_tiny_bundle.py",
            "opset": OPSET,
        },
        files=files,
    )
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
