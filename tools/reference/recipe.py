"""Upstream-recipe reference pipeline for Derm-Scan segmenter bundles.

This module re-implements, with numpy + OpenCV + Pillow + onnxruntime only, the
inference recipes of the two upstream projects whose models the SDK ships:

* LiteMedSAM (bowang-lab/MedSAM, LiteMedSAM branch, ``CVPR24_LiteMedSAM_infer.py``):
  resize the longest side to 256 with ``cv2.INTER_AREA`` (new side
  ``int(old * 256 / max(h, w) + 0.5)``), min-max normalise the resized uint8
  image to [0, 1], zero-pad bottom/right to 256x256, CHW.  The box is scaled by
  ``256 / max(H, W)`` and floored (``int(...)``).  Mask token 0
  (``multimask_output=False``); the low-res logits are cropped to the resized
  area, bilinearly upsampled (``align_corners=False``) to (H, W) and thresholded
  at sigmoid > 0.5 (logit > 0).

* MobileSAM / SAM (``segment_anything.SamPredictor``): ``ResizeLongestSide(1024)``
  through torchvision on a PIL image, i.e. ``PIL.Image.resize(.., BILINEAR)``
  (antialiased), normalise with the pixel mean/std on 0..255 values, zero-pad
  bottom/right to 1024x1024 *after* normalisation.  The box becomes two points
  with labels 2 and 3, scaled by ``new/old`` per axis (no rounding).  Token 0
  (``multimask_output=False``); the logits are upsampled to 1024x1024, cropped
  to the resized size, upsampled to (H, W) (both bilinear, ``align_corners=False``)
  and thresholded at logit > 0 (``SamOnnxModel.mask_postprocessing``).

The bundle (``encoder.onnx``, ``decoder.onnx``, ``manifest.json``) is the one
written by ``tools/export/export.py``: the decoder takes ``image_embeddings``,
``point_coords`` [1,N,2] (model-input frame), ``point_labels`` [1,N],
``mask_input`` [1,1,256,256], ``has_mask_input`` [1] and returns the low-res
logits of all 4 mask tokens plus their IoU predictions.

Dependencies (pinned in requirements.txt beside this file): numpy, onnxruntime,
opencv-python-headless, Pillow.  Nothing else: this runs in CI.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from PIL import Image

SAM_PIXEL_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
SAM_PIXEL_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


# --------------------------------------------------------------------------------------
# Image I/O
# --------------------------------------------------------------------------------------

def load_rgb(path) -> np.ndarray:
    """Decode an image file to an HxWx3 uint8 RGB array (no EXIF rotation applied)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def save_mask(path, mask: np.ndarray) -> None:
    """Write a boolean/0-1 HxW mask as an 8-bit 0/255 single-channel PNG."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((mask > 0).astype(np.uint8) * 255, mode="L").save(path)


# --------------------------------------------------------------------------------------
# Resampling helpers
# --------------------------------------------------------------------------------------

def longest_side_shape(h: int, w: int, target: int) -> tuple[int, int]:
    """(new_h, new_w) as both upstreams compute it: int(old * target / max(h, w) + 0.5)."""
    scale = target * 1.0 / max(h, w)
    return int(h * scale + 0.5), int(w * scale + 0.5)


def _bilinear_axis(in_size: int, out_size: int):
    """Source indices and weights of torch ``F.interpolate(mode='bilinear', align_corners=False)``
    (no antialias) along one axis: src = (dst + 0.5) * in/out - 0.5, clamped at 0."""
    scale = in_size / out_size
    src = (np.arange(out_size, dtype=np.float64) + 0.5) * scale - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    w1 = (src - i0).astype(np.float32)
    w0 = (1.0 - w1).astype(np.float32)
    return i0, i1, w0, w1


def resize_bilinear(x: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Bilinear resize of a 2-D float array exactly like torch's
    ``F.interpolate(x, size, mode='bilinear', align_corners=False)`` (float32)."""
    x = np.asarray(x, dtype=np.float32)
    in_h, in_w = x.shape
    r0, r1, rw0, rw1 = _bilinear_axis(in_h, out_h)
    c0, c1, cw0, cw1 = _bilinear_axis(in_w, out_w)
    rows = x[r0, :] * rw0[:, None] + x[r1, :] * rw1[:, None]
    return rows[:, c0] * cw0[None, :] + rows[:, c1] * cw1[None, :]


# --------------------------------------------------------------------------------------
# Recipes
# --------------------------------------------------------------------------------------

@dataclass
class Prepared:
    """Encoder input plus what the post-processing needs."""
    tensor: np.ndarray          # float32 [1,3,S,S]
    orig_hw: tuple[int, int]    # (H, W) of the original image
    resized_hw: tuple[int, int] # (h, w) of the resized image inside the S x S canvas


def preprocess_litemedsam(img: np.ndarray, size: int = 256) -> Prepared:
    """LiteMedSAM: cv2 INTER_AREA longest-side resize, min-max to [0,1], pad, CHW."""
    h, w = img.shape[:2]
    new_h, new_w = longest_side_shape(h, w, size)
    resized = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_AREA)
    lo, hi = int(resized.min()), int(resized.max())
    norm = (resized.astype(np.float64) - lo) / max(float(hi - lo), 1e-8)
    canvas = np.zeros((size, size, 3), dtype=np.float32)
    canvas[:new_h, :new_w] = norm.astype(np.float32)
    return Prepared(canvas.transpose(2, 0, 1)[None].copy(), (h, w), (new_h, new_w))


def preprocess_sam(img: np.ndarray, size: int = 1024) -> Prepared:
    """SAM/MobileSAM: PIL bilinear longest-side resize, (x - mean) / std, zero-pad, CHW."""
    h, w = img.shape[:2]
    new_h, new_w = longest_side_shape(h, w, size)
    resized = np.asarray(Image.fromarray(img).resize((new_w, new_h), Image.Resampling.BILINEAR))
    norm = (resized.astype(np.float32) - SAM_PIXEL_MEAN) / SAM_PIXEL_STD
    canvas = np.zeros((size, size, 3), dtype=np.float32)
    canvas[:new_h, :new_w] = norm
    return Prepared(canvas.transpose(2, 0, 1)[None].copy(), (h, w), (new_h, new_w))


def box_prompt_litemedsam(box, orig_hw, size: int = 256):
    """Box -> 2 corner points (labels 2, 3): coord * size / max(H, W), floored."""
    ratio = size / max(orig_hw)
    b = [int(c * ratio) for c in box]
    coords = np.array([[[b[0], b[1]], [b[2], b[3]]]], dtype=np.float32)
    return coords, np.array([[2, 3]], dtype=np.float32)


def box_prompt_sam(box, orig_hw, resized_hw):
    """Box -> 2 corner points (labels 2, 3) scaled by new/old per axis (no rounding)."""
    (h, w), (new_h, new_w) = orig_hw, resized_hw
    b = np.asarray(box, dtype=np.float64).reshape(2, 2).copy()
    b[:, 0] *= new_w / w
    b[:, 1] *= new_h / h
    return b.astype(np.float32)[None], np.array([[2, 3]], dtype=np.float32)


def postprocess_litemedsam(low_res: np.ndarray, prep: Prepared) -> np.ndarray:
    """Crop the 256x256 logits to the resized area, bilinear to (H, W), logit > 0."""
    nh, nw = prep.resized_hw
    up = resize_bilinear(low_res[:nh, :nw], *prep.orig_hw)
    return up > 0.0


def postprocess_sam(low_res: np.ndarray, prep: Prepared, size: int = 1024) -> np.ndarray:
    """SamOnnxModel.mask_postprocessing: bilinear to SxS, crop, bilinear to (H, W), logit > 0."""
    nh, nw = prep.resized_hw
    full = resize_bilinear(low_res, size, size)[:nh, :nw]
    up = resize_bilinear(full, *prep.orig_hw)
    return up > 0.0


# --------------------------------------------------------------------------------------
# Bundle
# --------------------------------------------------------------------------------------

@dataclass
class Bundle:
    """A loaded segmenter bundle (manifest + two onnxruntime sessions)."""
    path: Path
    manifest: dict
    encoder: ort.InferenceSession
    decoder: ort.InferenceSession
    timings: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path, threads: int = 2) -> "Bundle":
        path = Path(path)
        manifest = json.loads((path / "manifest.json").read_text())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        prov = ["CPUExecutionProvider"]
        enc = ort.InferenceSession(str(path / manifest["files"]["encoder"]["path"]), opts, providers=prov)
        dec = ort.InferenceSession(str(path / manifest["files"]["decoder"]["path"]), opts, providers=prov)
        return cls(path, manifest, enc, dec)

    @property
    def family(self) -> str:
        return self.manifest["family"]

    @property
    def size(self) -> int:
        return int(self.manifest["input"]["size"])

    # -- stages -------------------------------------------------------------------------

    def preprocess(self, img: np.ndarray) -> Prepared:
        if self.family == "litemedsam":
            return preprocess_litemedsam(img, self.size)
        if self.family == "mobilesam":
            return preprocess_sam(img, self.size)
        raise ValueError(f"unknown family {self.family!r}")

    def encode(self, prep: Prepared) -> np.ndarray:
        return self.encoder.run(["image_embeddings"], {"image": prep.tensor})[0]

    def box_prompt(self, box, prep: Prepared):
        if self.family == "litemedsam":
            return box_prompt_litemedsam(box, prep.orig_hw, self.size)
        return box_prompt_sam(box, prep.orig_hw, prep.resized_hw)

    def decode(self, emb: np.ndarray, coords: np.ndarray, labels: np.ndarray,
               mask_input: np.ndarray | None = None):
        """Run the decoder; returns (low_res_masks [1,4,256,256], iou_predictions [1,4])."""
        has = np.array([0.0 if mask_input is None else 1.0], dtype=np.float32)
        if mask_input is None:
            mask_input = np.zeros((1, 1, 256, 256), dtype=np.float32)
        return self.decoder.run(["low_res_masks", "iou_predictions"], {
            "image_embeddings": emb, "point_coords": coords, "point_labels": labels,
            "mask_input": mask_input, "has_mask_input": has})

    def postprocess(self, low_res_token: np.ndarray, prep: Prepared) -> np.ndarray:
        if self.family == "litemedsam":
            return postprocess_litemedsam(low_res_token, prep)
        return postprocess_sam(low_res_token, prep, self.size)

    # -- whole scan ---------------------------------------------------------------------

    def segment(self, img: np.ndarray, box, timings: dict | None = None):
        """Box-prompted segmentation following the upstream recipe; token 0.
        Returns (mask bool HxW, prepared input, iou of token 0).  If ``timings`` is a dict,
        per-stage wall times in ms are stored in it."""
        t0 = time.perf_counter()
        prep = self.preprocess(img)
        t1 = time.perf_counter()
        emb = self.encode(prep)
        t2 = time.perf_counter()
        coords, labels = self.box_prompt(box, prep)
        low, iou = self.decode(emb, coords, labels)
        t3 = time.perf_counter()
        mask = self.postprocess(low[0, 0], prep)
        t4 = time.perf_counter()
        if timings is not None:
            timings.update(preprocess=(t1 - t0) * 1e3, encoder=(t2 - t1) * 1e3,
                           decoder=(t3 - t2) * 1e3, postprocess=(t4 - t3) * 1e3)
        return mask, prep, float(iou[0, 0])


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two boolean masks (1.0 when both are empty)."""
    a = a > 0
    b = b > 0
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * int(np.logical_and(a, b).sum()) / s
