//! Model-verified lesion candidates: the finder proposes, the segmentation model decides.
//!
//! Each candidate box is decoded on an image embedding; the mask's own box (plus a small
//! margin) is then decoded again, so the final prompt follows the lesion and not the finder's
//! loose margin. A candidate is kept as a lesion when the model is confident
//! ([`VerifyConfig::min_iou`]), its mask is stable when the box tightens
//! ([`VerifyConfig::min_stability`]), the mask does not merely fill the box it was given, and
//! its colour stands out from a ring of skin around it ([`VerifyConfig::min_contrast`]) by more
//! than its mirror images about the photo's centre stand out from theirs (vignetting), and it is
//! not a colourless highlight much lighter than the skin (glare, a bubble's reflection).
//! A kept lesion's mask is finally tested for a leak into the skin ([`tighten`]): the
//! decoder fills a loose box, and a tighter box shows whether the band it removes is skin.
//! Decoder calls on a kept embedding are cheap next to the encoder, so verifying five
//! candidates costs about one encoder run.

mod evidence;

use crate::error::Result;
use crate::image::{Image, PixelRect};
use crate::roi::LesionCandidate;
use crate::segment::{BoxPrompt, ImageEmbedding, Mask, MaskMode, Prompt, Segmenter};

pub(crate) use self::evidence::is_highlight;
pub use self::evidence::{Evidence, Leak, mask_contrast, mirror_contrast};

/// A side of the tightened mask's box more than this share of the box inside the shrunk
/// prompt box is a side where the mask pulled back.
const PULLED_BACK: f32 = 0.03;

/// The tightened mask must be smaller than this share of the mask it replaces.
const TIGHTER_AREA: f32 = 0.8;

/// Masks closer than this (px) are pieces of one lesion.
const TOUCH_PX: u32 = 2;

/// A prompt box shorter than this in the model's input pixels gives a coarse mask.
const COARSE_SIDE: f32 = 32.0;

/// Thresholds for accepting a candidate as a lesion.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifyConfig {
    /// Smallest predicted IoU of the decoder.
    pub min_iou: f32,
    /// Smallest predicted IoU for a mask that touches the photo's edge (the model sees only
    /// part of such a lesion; the frame's own edges and shadows are what it then finds).
    pub min_iou_at_frame: f32,
    /// Smallest overlap (IoU) between the mask from the finder's box and the mask from the
    /// mask's own box.
    pub min_stability: f32,
    /// Smallest CIELAB ΔE between the mask's mean colour and the skin ring around it.
    pub min_contrast: f32,
    /// A mask covering more than this fraction of its prompt box, touching all four sides,
    /// is the model filling the box rather than finding a lesion.
    pub max_box_fill: f32,
    /// Margin around the mask's box for the second decoder call, in the model's input
    /// pixels. LiteMedSAM learned from boxes grown by 0 to 5 of its 256 input pixels on
    /// each side (`bbox_shift = 5`); the middle of that range is what the model expects.
    /// A wider margin lets the mask spread into the skin: the decoder fills the box it is
    /// given.
    pub refit_margin: f32,
    /// Largest refit margin as a share of the mask's longest side (at least 2 px). On an
    /// embedding where the lesion is a few model pixels wide (a small lesion in a large
    /// photo, before its context window is encoded), 2.5 model pixels would be several times
    /// the lesion's own margin: its mask already reaches past the lesion there.
    pub refit_share: f32,
    /// Smallest mask, in pixels of the original image (nothing measurable is smaller).
    pub min_area_px: u64,
    /// How far [`tighten`] shrinks a lesion's box on each side, as a share of its width and
    /// height, to test whether its mask leaked into the skin; 0 turns the test off.
    pub tighten_share: f32,
    /// The band a tighter box removed is skin when its colour is nearer the skin's than this
    /// share of its distance to the lesion's colour ([`Leak::is_leak`]).
    pub leak_skin_share: f32,
    /// ... and the larger mask's outline there crosses no colour edge stronger than this
    /// (CIELAB ΔE between just inside and just outside).
    pub leak_max_outline: f32,
    /// The tighter mask is taken only when the decoder's predicted IoU for it is at most
    /// this much below the larger mask's.
    pub leak_iou_drop: f32,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            min_iou: 0.5,
            min_iou_at_frame: 0.7,
            min_stability: 0.6,
            min_contrast: 3.5,
            max_box_fill: 0.9,
            refit_margin: 2.5,
            refit_share: 0.05,
            min_area_px: 36,
            tighten_share: 0.15,
            leak_skin_share: 0.6,
            leak_max_outline: 5.0,
            leak_iou_drop: 0.05,
        }
    }
}

/// A candidate the model confirmed: its final box and mask, and the evidence for it.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The finder's box the model was first prompted with (its core or its region box).
    pub prompt: BoxPrompt,
    /// The prompt box derived from the mask (what the final mask was decoded with).
    pub bbox: BoxPrompt,
    /// The mask decoded with `bbox`.
    pub mask: Mask,
    /// What the model and the colours said.
    pub evidence: Evidence,
    /// Time spent in the decoder runs for this candidate, all of them.
    pub spent: Spent,
}

/// Time spent in decoder runs and in turning their logits into masks, summed over several.
///
/// ```
/// use dermscan_core::verify::Spent;
/// let mut spent = Spent::default();
/// spent.add(&dermscan_core::Mask::empty(4, 4));
/// assert_eq!(spent, Spent { decoder_ms: 0.0, postprocess_ms: 0.0 });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spent {
    /// Milliseconds in ONNX Runtime's decoder runs.
    pub decoder_ms: f64,
    /// Milliseconds turning their logits into full-resolution masks.
    pub postprocess_ms: f64,
}

impl std::ops::AddAssign for Spent {
    fn add_assign(&mut self, other: Spent) {
        self.decoder_ms += other.decoder_ms;
        self.postprocess_ms += other.postprocess_ms;
    }
}

impl Spent {
    /// Adds the cost of the decoder run that made `mask`.
    pub fn add(&mut self, mask: &Mask) {
        self.decoder_ms += mask.decoder_ms();
        self.postprocess_ms += mask.postprocess_ms();
    }
}

/// Verifies one finder candidate: decodes its region box on `embedding`; when the mask
/// merely fills that box (the region spread into the skin around the lesion), decodes its
/// core box instead. Then refits the box to the mask and decodes again. Returns the result
/// with its evidence whether or not it passes (see [`Evidence::passes`]).
pub fn verify(
    segmenter: &Segmenter,
    image: &Image,
    embedding: &ImageEmbedding,
    candidate: &LesionCandidate,
    mode: MaskMode,
    config: &VerifyConfig,
) -> Result<Verified> {
    let _span = tracing::debug_span!("verify").entered();
    // The core box first: the region often spreads into reddish or freckled skin around the
    // lesion, and the model fills whatever box it is given. When the mask fills the core box
    // too, the lesion is larger than its core: take the region's box. A region running off
    // the frame is a lesion that fills a close-up: its own box is the one to take.
    let (tight, loose) = if candidate.touches_border { (candidate.bbox, candidate.core) } else { (candidate.core, candidate.bbox) };
    let mut prompt = tight;
    let mut spent = Spent::default();
    let mut first = segmenter.decode_in_mode(embedding, &Prompt::from_box(prompt), mode)?;
    spent.add(&first);
    if !candidate.touches_border && evidence::fills_box(&first, prompt, config.max_box_fill) && tight != loose {
        prompt = loose;
        first = segmenter.decode_in_mode(embedding, &Prompt::from_box(prompt), mode)?;
        spent.add(&first);
    }
    let Some(refit) = refit(&first, embedding, config) else {
        return Ok(Verified { prompt, bbox: prompt, evidence: Evidence::empty(), mask: first, spent });
    };
    let second = segmenter.decode_in_mode(embedding, &Prompt::from_box(refit), mode)?;
    spent.add(&second);
    let mut evidence = Evidence::measure(image, &first, &second, prompt);
    // A lesion a few model pixels wide comes back as a blob that covers its box whatever it
    // is: the box-filling test says nothing about it.
    let g = embedding.geometry();
    let (bw, bh) = prompt.size();
    let model_side = bw.max(bh) * g.resized_width as f32 / g.window.width.max(1) as f32;
    evidence.coarse = model_side < COARSE_SIDE;
    Ok(Verified { prompt, bbox: refit, mask: second, evidence, spent })
}

/// Whether two verified lesions are pieces of one: their masks touch (some pixel of one lies
/// within 2 px of the other). A lesion filling a close-up, or one whose halves differ
/// in colour, reaches the finder as several regions; two separate moles have skin between
/// them.
pub fn touching(a: &Verified, b: &Verified) -> bool {
    let (Some(ba), Some(bb)) = (a.mask.bbox().map(|r| r.corners()), b.mask.bbox().map(|r| r.corners())) else { return false };
    // Only the overlap of the two boxes (one grown by the reach) can hold touching pixels.
    let r = TOUCH_PX;
    let (x0, y0) = (ba[0].saturating_sub(r).max(bb[0]), ba[1].saturating_sub(r).max(bb[1]));
    let (x1, y1) = ((ba[2] + r).min(bb[2]), (ba[3] + r).min(bb[3]));
    let w = a.mask.width();
    let (pa, pb) = (a.mask.pixels(), b.mask.pixels());
    let at = |x: u32, y: u32| (y * w + x) as usize;
    (y0..y1).any(|y| {
        (x0..x1).any(|x| {
            pb[at(x, y)] > 0 && {
                let (nx0, ny0) = (x.saturating_sub(r), y.saturating_sub(r));
                let (nx1, ny1) = ((x + r + 1).min(w), (y + r + 1).min(a.mask.height()));
                (ny0..ny1).any(|ny| (nx0..nx1).any(|nx| pa[at(nx, ny)] > 0))
            }
        })
    })
}

/// Joins two touching pieces of one lesion: decodes the box around both masks on
/// `embedding`. The evidence compares the model's mask with the union of the pieces.
pub fn merge(
    segmenter: &Segmenter,
    image: &Image,
    embedding: &ImageEmbedding,
    a: &Verified,
    b: &Verified,
    mode: MaskMode,
) -> Result<Verified> {
    let _span = tracing::debug_span!("merge").entered();
    let bbox = a.bbox.union(b.bbox);
    let mask = segmenter.decode_in_mode(embedding, &Prompt::from_box(bbox), mode)?;
    let pieces = a.mask.union(&b.mask);
    let mut evidence = Evidence::measure(image, &pieces, &mask, bbox);
    evidence.coarse = a.evidence.coarse && b.evidence.coarse;
    let mut spent = Spent::default();
    spent.add(&mask);
    Ok(Verified { prompt: bbox, bbox, mask, evidence, spent })
}

/// Segments a verified lesion again on another embedding (its own context window): decodes
/// the finder's box there, refits the box to that mask and decodes again, so the outline comes
/// from the sharper embedding and not from the coarse one it was verified on, then pulls a
/// leaked mask back ([`tighten`]). Returns the final box and mask, and the time the decoder
/// runs took.
pub fn resegment(
    segmenter: &Segmenter,
    image: &Image,
    embedding: &ImageEmbedding,
    verified: &Verified,
    mode: MaskMode,
    config: &VerifyConfig,
) -> Result<(BoxPrompt, Mask, Spent)> {
    let _span = tracing::debug_span!("resegment").entered();
    let mut spent = Spent::default();
    let first = segmenter.decode_in_mode(embedding, &Prompt::from_box(verified.prompt), mode)?;
    spent.add(&first);
    let Some(refit) = refit(&first, embedding, config) else { return Ok((verified.prompt, first, spent)) };
    let second = segmenter.decode_in_mode(embedding, &Prompt::from_box(refit), mode)?;
    spent.add(&second);
    let (tighter, more) = tighten(segmenter, image, embedding, refit, &second, mode, config)?;
    spent += more;
    let (bbox, mask) = tighter.unwrap_or((refit, second));
    Ok((bbox, mask, spent))
}

/// Pulls back a mask that leaked into the skin around its lesion. The decoder fills the box
/// it is given, and a mask decoded on its own loose box keeps that box: a fixed point the
/// refit cannot leave. So the box is shrunk by [`VerifyConfig::tighten_share`] on each side
/// and decoded; when that mask pulls back from a side of the shrunk box (a lesion cut by the
/// box fills it) and is much smaller, its own box is refitted and decoded. The tighter mask
/// replaces `mask` when the band it removes is skin ([`Leak::is_leak`]) and the decoder is
/// about as confident in it ([`VerifyConfig::leak_iou_drop`]). Costs one decoder run, two
/// when a leak is suspected. Returns the tighter box and mask when they replace `mask`, and
/// the decoder time spent.
pub fn tighten(
    segmenter: &Segmenter,
    image: &Image,
    embedding: &ImageEmbedding,
    bbox: BoxPrompt,
    mask: &Mask,
    mode: MaskMode,
    config: &VerifyConfig,
) -> Result<(Option<(BoxPrompt, Mask)>, Spent)> {
    let _span = tracing::debug_span!("tighten").entered();
    let mut spent = Spent::default();
    let (share, area) = (config.tighten_share, mask.area_px());
    if share <= 0.0 || area == 0 {
        return Ok((None, spent));
    }
    let (w, h) = bbox.size();
    let shrunk = BoxPrompt::new(bbox.x0 + w * share, bbox.y0 + h * share, bbox.x1 - w * share, bbox.y1 - h * share);
    let inner = segmenter.decode_in_mode(embedding, &Prompt::from_box(shrunk), mode)?;
    spent.add(&inner);
    let Some([x0, y0, x1, y1]) = inner.bbox().map(|r| r.corners().map(|v| v as f32)) else { return Ok((None, spent)) };
    let (tx, ty) = (w * PULLED_BACK, h * PULLED_BACK);
    let pulled_back = x0 > shrunk.x0 + tx || y0 > shrunk.y0 + ty || x1 < shrunk.x1 - tx || y1 < shrunk.y1 - ty;
    let smaller = (inner.area_px() as f32) < TIGHTER_AREA * area as f32;
    if !(pulled_back && smaller) {
        return Ok((None, spent));
    }
    let Some(refit) = refit(&inner, embedding, config) else { return Ok((None, spent)) };
    let tight = segmenter.decode_in_mode(embedding, &Prompt::from_box(refit), mode)?;
    spent.add(&tight);
    let leak = Leak::measure(image, mask, &tight);
    let confident = tight.iou_score() + config.leak_iou_drop >= mask.iou_score();
    tracing::debug!(area, tight = tight.area_px(), ?leak, confident, "leak test");
    // An empty tighter mask leaves no lesion to compare with: `leak` is then `None`.
    let taken = confident && leak.is_some_and(|l| l.is_leak(config));
    Ok((taken.then_some((refit, tight)), spent))
}

/// The mask's box grown by `margin` image pixels on each side, inside the image; `None` for
/// an empty mask.
///
/// ```
/// use dermscan_core::Mask;
/// use dermscan_core::verify::refit_box;
/// let pixels = (0..100u32 * 100).map(|i| u8::from((20..40).contains(&(i % 100)) && (30..50).contains(&(i / 100)))).collect();
/// let mask = Mask::from_pixels(100, 100, pixels).unwrap();
/// assert_eq!(refit_box(&mask, 3.0).unwrap().to_array(), [17.0, 27.0, 43.0, 53.0]);
/// ```
pub fn refit_box(mask: &Mask, margin: f32) -> Option<BoxPrompt> {
    mask.bbox().map(|r| grow(mask, r, margin))
}

/// The refit box for `mask` on `embedding`: its box grown by [`VerifyConfig::refit_margin`]
/// model pixels, but by no more than [`VerifyConfig::refit_share`] of its longest side (at
/// least 2 px); `None` for an empty mask.
fn refit(mask: &Mask, embedding: &ImageEmbedding, config: &VerifyConfig) -> Option<BoxPrompt> {
    let r = mask.bbox()?;
    let model = config.refit_margin / embedding.geometry().uniform_scale();
    let share = (r.width.max(r.height) as f32 * config.refit_share).max(2.0);
    Some(grow(mask, r, model.min(share)))
}

/// `r` grown by `margin` pixels on each side, inside `mask`'s image.
fn grow(mask: &Mask, r: PixelRect, margin: f32) -> BoxPrompt {
    let [x0, y0, x1, y1] = r.corners();
    BoxPrompt::new(
        (x0 as f32 - margin).max(0.0),
        (y0 as f32 - margin).max(0.0),
        (x1 as f32 + margin).min(mask.width() as f32),
        (y1 as f32 + margin).min(mask.height() as f32),
    )
}
