"""The HAM10000 skin-lesion classifier family (``xception-ham10000``).

Model: ``sklesion/model.keras`` from the PyPI wheel ``sklesion==0.2.2`` (MIT, Elio Pereira),
a Keras 3 functional model saved with Keras 3.3.3:

    image [N,254,254,3] float32 0..255 -> Normalization (adapted mean/variance, inside the model)
        -> Xception (no top, global average pooling) -> Dropout -> Dense 264 relu -> BN --.
    meta [N,10] float32 -> Dense 224 relu -> BN -> Dense 64 relu -> BN ----------------> Concat
        -> Dropout -> Dense 32 relu -> BN -> Dense 7 softmax -> probabilities [N,7]

It is loaded with Keras 3 on the torch backend (``KERAS_BACKEND=torch``, no TensorFlow), where a
Keras model is a ``torch.nn.Module``; ``KerasWrapper`` gives it the (image, meta) -> probabilities
signature that ``torch.onnx.export(dynamo=True)`` traces.

Everything the bundle states about the model is read from the package and checked here:
labels and their order (``model_props.pkl`` ``i_cl_map``), the meta one-hot maps (``oh_map``),
``age_mean`` / ``age_max``, the image size (``img_shape``), the label names and which labels
are malignant (``cl_info.pkl``), the upstream test report (``cr_test.pkl``), the licence
(``METADATA``) and the pre-processing (``model.py``'s ``SkinLesionClassifier.preprocess``).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported anywhere

import numpy as np  # noqa: E402
import torch  # noqa: E402

from assets import SKLESION_MODEL, SKLESION_SHA256, sha256_file, sklesion_files  # noqa: E402

FAMILY = "xception-ham10000"
BUNDLE_NAME = "ham10000-xception"
LABELS = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]
SEX = ["female", "male", "unknown"]
SITES = ["arm", "head-or-neck", "leg-or-genital", "trunk", "unknown"]
IMAGE_SIZE = 254

# HAM10000 `localization` values -> the package's five site groups. The package ships only the
# group names (model_props.pkl oh_map["loc"]), not the grouping used in training: this mapping
# is inferred from the group names and is an SDK convention. `acral` (palms/soles, hand or
# foot) is ambiguous and goes to `unknown`.
SITE_MAPPING = {
    "upper extremity": "arm", "hand": "arm",
    "face": "head-or-neck", "scalp": "head-or-neck", "ear": "head-or-neck", "neck": "head-or-neck",
    "lower extremity": "leg-or-genital", "foot": "leg-or-genital", "genital": "leg-or-genital",
    "back": "trunk", "abdomen": "trunk", "chest": "trunk", "trunk": "trunk",
    "acral": "unknown", "unknown": "unknown",
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """The package's pickles hold dicts, lists, numbers and numpy scalars/arrays only;
    refuse anything else instead of executing arbitrary globals."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
        return super().find_class(module, name)


def _load_pickle(path: Path):
    with open(path, "rb") as f:
        return _NumpyOnlyUnpickler(f).load()


def _plain(v):
    """numpy scalars/arrays -> Python numbers/lists (for JSON)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass
class ClassifierFamily:
    name: str
    bundle_name: str
    model: object                     # the keras.Model (torch backend)
    labels: list[str]
    label_names: dict[str, str]
    malignant: list[str]
    meta: dict                        # manifest `classifier.meta`
    upstream_report: dict             # cr_test.pkl (precision/recall/f1/support by class)
    provenance: dict
    license: str
    keras_version: str
    keras_saved_with: str
    package_dir: Path
    notes: list[str] = field(default_factory=list)


class KerasWrapper(torch.nn.Module):
    """(image [N,254,254,3], meta [N,10]) -> probabilities [N,7], inference mode."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, image, meta):
        return self.model([image, meta], training=False)


def keras_predict(model, images: np.ndarray, metas: np.ndarray, batch: int = 8) -> np.ndarray:
    """Probabilities of the Keras model (torch backend, inference mode) in batches."""
    import keras

    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            p = model([images[i:i + batch], metas[i:i + batch]], training=False)
            out.append(keras.ops.convert_to_numpy(p))
    return np.concatenate(out).astype(np.float32)


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise SystemExit(f"sklesion 0.2.2 does not look as expected: {what}")


def build_xception_ham10000() -> ClassifierFamily:
    import json
    import zipfile

    import keras

    pkg = sklesion_files()
    model_path = pkg / SKLESION_MODEL
    _check(sha256_file(model_path) == SKLESION_SHA256, "model.keras sha256")

    props = _load_pickle(pkg / "sklesion" / "model_props.pkl")
    cl_info = _load_pickle(pkg / "sklesion" / "cl_info.pkl")
    report = _plain(_load_pickle(pkg / "sklesion" / "cr_test.pkl"))
    meta_txt = (pkg / "sklesion-0.2.2.dist-info" / "METADATA").read_text()
    pkg_meta = Parser().parsestr(meta_txt)
    src = (pkg / "sklesion" / "model.py").read_text()

    # --- labels, meta layout and constants, as the package defines them -----------------
    i_cl = {int(k): v for k, v in props["i_cl_map"].items()}
    labels = [i_cl[i] for i in range(len(i_cl))]
    _check(labels == LABELS, f"label order {labels}")
    _check(sorted(cl_info) == sorted(LABELS), f"cl_info labels {list(cl_info)}")
    _check([int(v) for v in np.asarray(props["img_shape"])] == [IMAGE_SIZE, IMAGE_SIZE], "img_shape")
    oh = props["oh_map"]
    _check(list(oh["sex"]) == SEX and all(oh["sex"][k] == list(np.eye(3, dtype=int)[i]) for i, k in enumerate(SEX)),
           f"sex one-hot {oh['sex']}")
    _check(list(oh["loc"]) == SITES and all(oh["loc"][k] == list(np.eye(5, dtype=int)[i]) for i, k in enumerate(SITES)),
           f"site one-hot {oh['loc']}")
    age_mean, age_max = float(props["age_mean"]), float(props["age_max"])
    _check(abs(age_mean - 51.9) < 0.01 and age_max == 90.0, f"age_mean {age_mean}, age_max {age_max}")
    # the pre-processing statements the bundle's recipe is based on
    for needle in ('tf.image.resize(image, self.model_props["img_shape"])',
                   'meta["age_missing"] = meta["age"].isnull().astype(int)',
                   'meta["age"].fillna(self.model_props["age_mean"], inplace=True)',
                   'meta["age"] = meta["age"] / self.model_props["age_max"]',
                   'meta["sex"]\n            + meta["location"]\n            + meta["age"].apply(lambda x: [x])\n'
                   '            + meta["age_missing"].apply(lambda x: [x])'):
        _check(needle in src, f"model.py no longer contains {needle!r}")
    malignant = [k for k in LABELS if cl_info[k]["severity"] == "Malign"]
    license_ = pkg_meta.get("License", "")
    _check(license_ == "MIT", f"licence {license_!r}")

    # --- the model ------------------------------------------------------------------------
    with zipfile.ZipFile(model_path) as z:
        saved_with = json.loads(z.read("metadata.json"))["keras_version"]
    model = keras.saving.load_model(str(model_path), compile=False)
    _check([tuple(i.shape) for i in model.inputs] == [(None, IMAGE_SIZE, IMAGE_SIZE, 3), (None, 10)],
           f"inputs {[tuple(i.shape) for i in model.inputs]}")
    _check(tuple(model.outputs[0].shape) == (None, 7), "output shape")
    norm = model.get_layer("normalization")
    notes = [f"Normalization layer (inside the model): mean {[round(float(v), 3) for v in np.asarray(norm.mean).ravel()]}, "
             f"variance {[round(float(v), 1) for v in np.asarray(norm.variance).ravel()]} per RGB channel"]

    meta = {
        "length": 10,
        "layout": ["sex:female", "sex:male", "sex:unknown", "site:arm", "site:head-or-neck",
                   "site:leg-or-genital", "site:trunk", "site:unknown", "age", "age_missing"],
        "sex": SEX,
        "sites": SITES,
        "site_mapping": SITE_MAPPING,
        "age_scale": age_max,
        "age_missing_value": age_mean,
        "age_clip": None,
    }
    return ClassifierFamily(
        name=FAMILY,
        bundle_name=BUNDLE_NAME,
        model=model,
        labels=labels,
        label_names={k: cl_info[k]["name"] for k in LABELS},
        malignant=malignant,
        meta=meta,
        upstream_report=report,
        provenance={
            "package": "sklesion",
            "package_version": "0.2.2",
            "checkpoint": SKLESION_MODEL,
            "checkpoint_sha256": SKLESION_SHA256,
            "upstream": "PyPI sklesion 0.2.2 (Elio Pereira): Keras Xception + metadata MLP trained on HAM10000",
            "keras_saved_with": saved_with,
        },
        license=license_,
        keras_version=keras.__version__,
        keras_saved_with=saved_with,
        package_dir=pkg,
        notes=notes,
    )


CLASSIFIER_BUILDERS = {FAMILY: build_xception_ham10000}
