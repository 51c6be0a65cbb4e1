//! Seeded synthetic dermoscopy-like images with exact ground-truth masks.
//!
//! A case ([`SynthSpec`], drawn by [`render`]) is a skin patch (Fitzpatrick I-VI tones,
//! texture, lighting gradient) with one irregular, multi-coloured pigmented lesion of known
//! shape, plus optional hair, dermoscope vignetting, glare spots and blur. The ground-truth
//! mask is the lesion's exact shape; `bbox` is its tight box (x1, y1 exclusive).
//!
//! A [`SynthScene`] (drawn by [`render_scene`]) wraps a spec with what a spec does not carry
//! (the tests build specs as struct literals, so the spec keeps its fields): the lesion's
//! [`LesionKind`] (pigmented, red, pink, light), further lesions ([`ExtraLesion`]), a photo
//! without any lesion, and more artefacts (a dermoscope's circular field of view, a pen mark
//! around the lesion, a ruler, gel bubbles). A scene with all of these off draws bit for bit
//! what [`render`] draws: every random number they need comes from a second generator
//! (seeded `seed ^ EXTRA_SALT`), drawn only when a feature is on.
//!
//! Sets, each deterministic from its seed: [`standard_set`] and [`small_lesion_set`] (specs),
//! [`varied_set`] (every skin type x every kind, artefacts mixed in), [`empty_set`] (no
//! lesion) and [`multi_set`] (2-4 lesions per photo) (scenes).
//!
//! Shared by the integration tests, the benches and `examples/synth.rs` (which writes a set
//! to disk for the Python tools and `examples/evaluate.rs`).
#![allow(dead_code)]

use image::{GrayImage, Luma, Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Skin base colours, Fitzpatrick I to VI.
pub const SKIN: [[f32; 3]; 6] =
    [[240.0, 210.0, 190.0], [228.0, 190.0, 165.0], [205.0, 160.0, 130.0], [170.0, 122.0, 92.0], [122.0, 84.0, 60.0], [82.0, 56.0, 42.0]];

/// Dermoscopic colours (Stolz's C): light brown, dark brown, black, blue-grey, red, white.
pub const LESION_COLOURS: [[f32; 3]; 6] =
    [[168.0, 112.0, 72.0], [98.0, 58.0, 34.0], [38.0, 28.0, 26.0], [92.0, 102.0, 122.0], [160.0, 58.0, 58.0], [228.0, 222.0, 215.0]];

/// Salt of the second random generator (`spec.seed ^ EXTRA_SALT`), which draws everything a
/// [`SynthScene`] adds to its spec, so the spec's own generator runs exactly as in [`render`].
pub const EXTRA_SALT: u64 = 0x5eed_0f5c_e4e5_a17e;

/// What a lesion looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LesionKind {
    /// Melanocytic: zones of the dermoscopic colours of its `colours` (what [`render`] draws).
    #[default]
    Pigmented,
    /// Vascular or amelanotic: red to red-purple lobules, partly transparent over the skin and
    /// darker towards the centre; visible on every skin type.
    Red,
    /// Pale pink and low in contrast, about as light as the skin or lighter (a basal cell
    /// carcinoma or an amelanotic melanoma on fair skin).
    Pink,
    /// Hypopigmented: a paler, slightly pinkish version of the skin around it (meaningful on
    /// skin types III-VI; faint on I-II).
    Light,
}

impl LesionKind {
    /// Every kind, in declaration order.
    pub const ALL: [LesionKind; 4] = [Self::Pigmented, Self::Red, Self::Pink, Self::Light];

    /// Lower-case name (`pigmented`, `red`, `pink`, `light`), as `meta.json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pigmented => "pigmented",
            Self::Red => "red",
            Self::Pink => "pink",
            Self::Light => "light",
        }
    }
}

/// What to draw.
#[derive(Debug, Clone)]
pub struct SynthSpec {
    pub seed: u64,
    pub width: u32,
    pub height: u32,
    /// Fitzpatrick type 1..=6.
    pub skin_type: usize,
    /// Lesion mean radius in pixels.
    pub radius: f32,
    /// Lesion centre as a fraction of width and height.
    pub centre: (f32, f32),
    /// Elongation (major/minor axis ratio >= 1).
    pub elongation: f32,
    /// Border irregularity 0 (smooth ellipse) .. 1 (very irregular).
    pub irregularity: f32,
    /// Indices into [`LESION_COLOURS`].
    pub colours: Vec<usize>,
    pub hair: bool,
    pub vignette: bool,
    pub glare: bool,
    /// Gaussian blur sigma in pixels (0: sharp).
    pub blur: f32,
    /// Strength of the linear lighting gradient (0..0.4).
    pub gradient: f32,
    /// Extra rotation of the lesion in radians (a photo taken again from another angle).
    pub rotation: f32,
    /// Overall brightness factor (1: as generated).
    pub exposure: f32,
}

impl SynthSpec {
    /// The same lesion photographed again later: its area multiplied by `growth` (same shape,
    /// same pigment pattern seed), at another place in the frame, turned by another angle,
    /// under other lighting.
    pub fn rephotographed(&self, growth: f32, rng: &mut impl Rng) -> Self {
        let radius = self.radius * growth.sqrt();
        let min_side = self.width.min(self.height) as f32;
        let margin = (radius * 1.6 / min_side).clamp(0.2, 0.45);
        Self {
            radius,
            centre: (rng.random_range(margin..1.0 - margin), rng.random_range(margin..1.0 - margin)),
            rotation: rng.random_range(0.0..std::f32::consts::TAU),
            gradient: rng.random_range(0.0..0.3),
            exposure: rng.random_range(0.85..1.15),
            ..self.clone()
        }
    }
}

/// A further lesion in a [`SynthScene`], drawn by the same renderer as the primary one (its
/// outline and pigment pattern come from the scene's second generator).
#[derive(Debug, Clone)]
pub struct ExtraLesion {
    /// Centre as a fraction of width and height.
    pub centre: (f32, f32),
    /// Mean radius in pixels.
    pub radius: f32,
    pub kind: LesionKind,
    /// Border irregularity 0 (smooth ellipse) .. 1 (very irregular).
    pub irregularity: f32,
    /// Elongation (major/minor axis ratio >= 1).
    pub elongation: f32,
    /// Indices into [`LESION_COLOURS`] for a pigmented lesion (empty: light brown).
    pub colours: Vec<usize>,
}

/// A spec plus what it cannot carry: the primary lesion's kind, further lesions, no lesion at
/// all, and more artefacts. Everything defaults to off ([`SynthScene::new`]), and a scene
/// with everything off renders exactly as [`render`] renders its spec.
#[derive(Debug, Clone)]
pub struct SynthScene {
    /// The photo and its primary lesion (position, size, shape, colours, hair, vignette,
    /// glare, blur, lighting).
    pub spec: SynthSpec,
    /// The primary lesion's kind (`spec.colours` matter for [`LesionKind::Pigmented`] only).
    pub kind: LesionKind,
    /// A dermoscope's circular field of view: near-black outside a circle of radius 0.46-0.5
    /// of the shorter side, centred with a small random offset, with a soft 3-6 px edge
    /// (unlike `spec.vignette`, which only darkens the corners).
    pub fov: bool,
    /// A pen mark: a hand-drawn ring or arc (2-4 px, blue, purple or black) around the primary
    /// lesion at about 1.4-1.8 times its radius, clear of its border, sometimes with a short
    /// line or dot elsewhere. Not part of any mask.
    pub ink: bool,
    /// A ruler strip (6-9% of the shorter side wide, pale, with a tick every few pixels and a
    /// longer one every fifth) along the image edge farthest from the primary lesion.
    pub ruler: bool,
    /// 3-10 gel bubbles (radius 4-20 px: a bright thin rim, a dark outer edge, a highlight,
    /// clear inside), some over the primary lesion.
    pub bubbles: bool,
    /// Further lesions; the set builders keep them apart from each other and the primary.
    pub extra_lesions: Vec<ExtraLesion>,
    /// Skin and artefacts only: neither the primary nor the extra lesions are drawn (the skin,
    /// hair and glare are those of the same spec with its lesion), and every mask is empty.
    pub no_lesion: bool,
}

impl SynthScene {
    /// `spec` with every scene feature off.
    pub fn new(spec: SynthSpec) -> Self {
        Self {
            spec,
            kind: LesionKind::Pigmented,
            fov: false,
            ink: false,
            ruler: false,
            bubbles: false,
            extra_lesions: Vec::new(),
            no_lesion: false,
        }
    }

    /// How many lesions the photo shows (0 for `no_lesion`).
    pub fn lesion_count(&self) -> usize {
        if self.no_lesion { 0 } else { 1 + self.extra_lesions.len() }
    }
}

impl From<SynthSpec> for SynthScene {
    fn from(spec: SynthSpec) -> Self {
        Self::new(spec)
    }
}

/// One generated image with its truth.
pub struct SynthCase {
    pub spec: SynthSpec,
    /// The scene drawn (`spec` with every feature off for [`render`]).
    pub scene: SynthScene,
    pub image: RgbImage,
    /// 255 inside the primary lesion, 0 outside (all zero for a photo without a lesion).
    pub mask: GrayImage,
    /// One mask per lesion, the primary first, then `scene.extra_lesions` in order (empty for a
    /// photo without a lesion).
    pub lesion_masks: Vec<GrayImage>,
    /// Tight box of `mask` `[x0, y0, x1, y1]`, x1 and y1 exclusive; `[0, 0, 0, 0]` when the mask
    /// is empty.
    pub bbox: [f32; 4],
    /// Colours covering at least 5% of the primary lesion (0 without a lesion; 1 for a red, pink
    /// or light lesion).
    pub colour_count: usize,
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Smooth random field in [0, 1]: bilinear interpolation of a coarse random grid.
struct ValueNoise {
    grid: Vec<f32>,
    gw: usize,
    gh: usize,
    cell: f32,
}

impl ValueNoise {
    fn new(rng: &mut ChaCha8Rng, width: u32, height: u32, cell: f32) -> Self {
        let gw = (width as f32 / cell).ceil() as usize + 2;
        let gh = (height as f32 / cell).ceil() as usize + 2;
        Self { grid: (0..gw * gh).map(|_| rng.random::<f32>()).collect(), gw, gh, cell }
    }
    fn at(&self, x: f32, y: f32) -> f32 {
        let (fx, fy) = (x / self.cell, y / self.cell);
        let (ix, iy) = (fx.floor().max(0.0) as usize, fy.floor().max(0.0) as usize);
        let (ix, iy) = (ix.min(self.gw - 2), iy.min(self.gh - 2));
        let (tx, ty) = (smoothstep(0.0, 1.0, fx - ix as f32), smoothstep(0.0, 1.0, fy - iy as f32));
        let g = |a: usize, b: usize| self.grid[b * self.gw + a];
        let top = g(ix, iy) * (1.0 - tx) + g(ix + 1, iy) * tx;
        let bottom = g(ix, iy + 1) * (1.0 - tx) + g(ix + 1, iy + 1) * tx;
        top * (1.0 - ty) + bottom * ty
    }
}

/// A lesion's outline: r(theta) = R * (1 + sum a_k sin(k theta + phi_k)), stretched and rotated.
struct Outline {
    cx: f32,
    cy: f32,
    radius: f32,
    harmonics: Vec<(f32, f32, f32)>,
    ca: f32,
    sa: f32,
    sx: f32,
    sy: f32,
    /// Farthest the border reaches from the centre, in pixels.
    extent: f32,
    /// Distance from the centre beyond which the signed distance is certainly below -3 px (so
    /// the soft edge is zero there and nothing needs computing).
    cull: f32,
}

impl Outline {
    /// Draws the border's harmonics, then its angle, from `rng` (the order [`render`] always used).
    fn random(rng: &mut ChaCha8Rng, centre: (f32, f32), radius: f32, irregularity: f32, elongation: f32, rotation: f32) -> Self {
        let harmonics: Vec<(f32, f32, f32)> = (2..9)
            .map(|k| {
                let amp = irregularity * rng.random_range(0.02..0.11) / (k as f32).sqrt();
                (k as f32, amp, rng.random_range(0.0..std::f32::consts::TAU))
            })
            .collect();
        let angle: f32 = rng.random_range(0.0..std::f32::consts::PI) + rotation;
        let (ca, sa) = (angle.cos(), angle.sin());
        let sx = elongation.sqrt();
        let sy = 1.0 / elongation.sqrt();
        // rho >= distance / max(sx, sy) and r <= rmax, so beyond `cull` the signed distance
        // (r - rho) * min(sx, sy) is below -3.
        let rmax = radius * (1.0 + harmonics.iter().map(|h| h.1.abs()).sum::<f32>());
        let (big, small) = (sx.max(sy), sx.min(sy));
        Self { cx: centre.0, cy: centre.1, radius, harmonics, ca, sa, sx, sy, extent: rmax * big, cull: big * (rmax + 3.0 / small) + 1.0 }
    }

    /// Signed distance (pixels, positive inside) from the border, approximately.
    fn inside(&self, x: f32, y: f32) -> f32 {
        let (dx, dy) = (x - self.cx, y - self.cy);
        let (u, v) = ((dx * self.ca + dy * self.sa) / self.sx, (-dx * self.sa + dy * self.ca) / self.sy);
        let rho = (u * u + v * v).sqrt();
        let theta = v.atan2(u);
        let r = self.radius * (1.0 + self.harmonics.iter().map(|(k, a, p)| a * (k * theta + p).sin()).sum::<f32>());
        (r - rho) * self.sx.min(self.sy)
    }

    /// Centre and extent `(x, y, reach)` in pixels.
    fn footprint(&self) -> (f32, f32, f32) {
        (self.cx, self.cy, self.extent)
    }
}

/// Red lesion colours: the lobules' red and the red-purple they darken to.
const RED: [f32; 3] = [185.0, 60.0, 70.0];
const RED_DARK: [f32; 3] = [122.0, 38.0, 74.0];
/// Pink lesion colours: pale pink and its lighter, structureless zones.
const PINK: [f32; 3] = [230.0, 150.0, 160.0];
const PINK_PALE: [f32; 3] = [240.0, 188.0, 188.0];

/// One lesion: its outline, kind, colours and pigment pattern.
struct Lesion {
    outline: Outline,
    kind: LesionKind,
    colours: Vec<usize>,
    blotch: ValueNoise,
    zones: ValueNoise,
}

impl Lesion {
    /// Draws the pigment pattern's noise fields from `rng` (in [`render`] the skin texture is
    /// drawn between the outline and these).
    fn new(outline: Outline, kind: LesionKind, colours: &[usize], rng: &mut ChaCha8Rng, w: u32, h: u32) -> Self {
        let blotch = ValueNoise::new(rng, w, h, (outline.radius * 0.6).max(4.0));
        let zones = ValueNoise::new(rng, w, h, (outline.radius * 0.45).max(3.0));
        let colours = if colours.is_empty() { vec![0] } else { colours.to_vec() };
        Self { outline, kind, colours, blotch, zones }
    }

    /// Outline and pattern drawn in one go (extra lesions, from the scene's second generator).
    fn random(rng: &mut ChaCha8Rng, e: &ExtraLesion, w: u32, h: u32) -> Self {
        let centre = (e.centre.0 * w as f32, e.centre.1 * h as f32);
        let outline = Outline::random(rng, centre, e.radius, e.irregularity, e.elongation, 0.0);
        Self::new(outline, e.kind, &e.colours, rng, w, h)
    }

    /// Paints the lesion over the skin colour `px` at the pixel centre (xf, yf). Returns the
    /// signed distance from the border (positive inside; -inf far outside) and, for a pixel
    /// inside, the index into [`LESION_COLOURS`] it counts as.
    fn paint(&self, xf: f32, yf: f32, px: &mut [f32; 3], skin_type: usize) -> (f32, Option<usize>) {
        let o = &self.outline;
        if (xf - o.cx).powi(2) + (yf - o.cy).powi(2) > o.cull * o.cull {
            return (f32::NEG_INFINITY, None);
        }
        let d = o.inside(xf, yf);
        // Soft lesion edge about 2 px wide, plus a fainter halo inside the border.
        let alpha = smoothstep(-1.5, 1.5, d);
        if alpha <= 0.0 {
            return (d, None);
        }
        let depth = (d / o.radius).clamp(0.0, 1.0);
        let blend = |px: &mut [f32; 3], c: [f32; 3], a: f32| {
            for k in 0..3 {
                px[k] = px[k] * (1.0 - a) + c[k] * a;
            }
        };
        let inside_colour = (d >= 0.0).then_some(self.colours[0]);
        match self.kind {
            LesionKind::Pigmented => {
                // Darker skin carries darker pigment; keep lesions darker than the skin around them.
                let pigment_scale: f32 = if skin_type >= 5 { 0.55 } else { 1.0 };
                let n_col = self.colours.len();
                // A continuous position across the lesion's colours: the first colour fills the
                // rim, the others follow smooth zones inwards, blending over a soft band as
                // pigment does (no cartoon-sharp zone edges).
                let z = self.zones.at(xf, yf);
                let pos = if n_col == 1 { 0.0 } else { ((z * 1.35 + depth * 0.5 - 0.2).clamp(0.0, 0.999) * n_col as f32 - 0.5).max(0.0) };
                let pos = pos * smoothstep(0.05, 0.2, depth);
                let lo = (pos.floor() as usize).min(n_col - 1);
                let hi = (lo + 1).min(n_col - 1);
                let t = smoothstep(0.3, 0.7, pos.fract());
                let nearest = if t < 0.5 { lo } else { hi };
                let shade = 0.85 + 0.3 * self.blotch.at(xf, yf);
                let tone = |ci: usize| -> [f32; 3] {
                    let c = LESION_COLOURS[ci];
                    // Veils (blue-grey, white) and red are semi-transparent over light brown.
                    let base = LESION_COLOURS[0];
                    let (opacity, scale) = match ci {
                        3 | 5 => (0.5, 1.0),
                        4 => (0.8, pigment_scale.max(0.8)),
                        _ => (1.0, pigment_scale * shade),
                    };
                    [0, 1, 2]
                        .map(|k| (c[k] * opacity + base[k] * pigment_scale * (1.0 - opacity)) * if opacity < 1.0 { 1.0 } else { scale })
                };
                let (a, b) = (tone(self.colours[lo]), tone(self.colours[hi]));
                for k in 0..3 {
                    let c = a[k] * (1.0 - t) + b[k] * t;
                    px[k] = px[k] * (1.0 - alpha) + c * alpha;
                }
                (d, (d >= 0.0).then_some(self.colours[nearest]))
            }
            LesionKind::Red => {
                // Red lobules, red-purple where the (two blended) noise fields say and towards the
                // centre; on dark skin a little deeper. Partly transparent, fainter at the rim.
                let b = self.blotch.at(xf, yf);
                let lobes = 0.6 * self.zones.at(xf, yf) + 0.4 * b;
                let dark = (0.7 * smoothstep(0.35, 0.85, lobes) + 0.35 * smoothstep(0.1, 0.9, depth)).min(1.0);
                let shade = (0.9 + 0.16 * b) * if skin_type >= 5 { 0.8 } else { 1.0 };
                let c = [0, 1, 2].map(|k| (RED[k] * (1.0 - dark) + RED_DARK[k] * dark) * shade);
                blend(px, c, alpha * 0.85 * (0.55 + 0.45 * smoothstep(0.0, 0.15, depth)));
                (d, inside_colour)
            }
            LesionKind::Pink => {
                // Pale pink with lighter structureless zones, ~0.6 over the skin, fading at the rim.
                // On darker skin the pink is dimmed to a little above the skin's lightness (a
                // faint pinkish-red patch), so the contrast stays low on every skin type.
                let pale = 0.7 * smoothstep(0.3, 0.8, 0.6 * self.zones.at(xf, yf) + 0.4 * self.blotch.at(xf, yf));
                let skin = SKIN[skin_type.clamp(1, 6) - 1];
                let dim = ((skin[0] + skin[1] + skin[2]) * 1.35 / (PINK[0] + PINK[1] + PINK[2])).clamp(0.45, 1.0);
                let shade = (0.96 + 0.08 * self.blotch.at(xf, yf)) * dim;
                let c = [0, 1, 2].map(|k| (PINK[k] * (1.0 - pale) + PINK_PALE[k] * pale) * shade);
                blend(px, c, alpha * 0.6 * (0.5 + 0.5 * smoothstep(0.0, 0.2, depth)));
                (d, inside_colour)
            }
            LesionKind::Light => {
                // The skin lifted towards white, a little more in red (slightly pinkish), patchy.
                let lift = [0.46, 0.36, 0.38];
                let a = alpha * (0.6 + 0.4 * self.blotch.at(xf, yf)) * (0.55 + 0.45 * smoothstep(0.0, 0.2, depth));
                let c = [0, 1, 2].map(|k| px[k] + (255.0 - px[k]) * lift[k]);
                blend(px, c, a);
                (d, inside_colour)
            }
        }
    }
}

/// Renders one case: [`render_scene`] of the spec with every scene feature off.
pub fn render(spec: &SynthSpec) -> SynthCase {
    render_scene(&SynthScene::new(spec.clone()))
}

/// Renders one scene. The spec's generator draws, in this order, the primary lesion's outline,
/// the skin texture, the primary's pigment pattern, the lighting gradient, the hair and the
/// glare (even for `no_lesion`, so the skin matches the photo with its lesion); the second
/// generator draws the extra lesions, the ink, the ruler, the bubbles and the field of view.
pub fn render_scene(scene: &SynthScene) -> SynthCase {
    let spec = &scene.spec;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut extra_rng = ChaCha8Rng::seed_from_u64(spec.seed ^ EXTRA_SALT);
    let (w, h) = (spec.width, spec.height);
    let skin = SKIN[spec.skin_type.clamp(1, 6) - 1];
    let (cx, cy) = (spec.centre.0 * w as f32, spec.centre.1 * h as f32);

    let outline = Outline::random(&mut rng, (cx, cy), spec.radius, spec.irregularity, spec.elongation, spec.rotation);
    let texture = ValueNoise::new(&mut rng, w, h, 6.0);
    let primary = Lesion::new(outline, scene.kind, &spec.colours, &mut rng, w, h);
    let (gx, gy): (f32, f32) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
    let extras: Vec<Lesion> =
        if scene.no_lesion { Vec::new() } else { scene.extra_lesions.iter().map(|e| Lesion::random(&mut extra_rng, e, w, h)).collect() };
    let painted: Vec<&Lesion> = if scene.no_lesion { Vec::new() } else { std::iter::once(&primary).chain(&extras).collect() };

    let mut image = RgbImage::new(w, h);
    let mut masks: Vec<GrayImage> = painted.iter().map(|_| GrayImage::new(w, h)).collect();
    let mut colour_px = vec![0u32; LESION_COLOURS.len()];
    let mut lesion_px = 0u32;
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = texture.at(xf, yf) - 0.5;
            let mut px = [skin[0] * (1.0 + 0.06 * t), skin[1] * (1.0 + 0.06 * t), skin[2] * (1.0 + 0.07 * t)];
            for (i, lesion) in painted.iter().enumerate() {
                let (d, colour) = lesion.paint(xf, yf, &mut px, spec.skin_type);
                if d >= 0.0 {
                    masks[i].put_pixel(x, y, Luma([255]));
                    if i == 0 {
                        lesion_px += 1;
                    }
                }
                if let (0, Some(c)) = (i, colour) {
                    colour_px[c] += 1;
                }
            }
            let light = spec.exposure + spec.gradient * (gx * (xf / w as f32 - 0.5) + gy * (yf / h as f32 - 0.5));
            image.put_pixel(x, y, Rgb(px.map(|v| (v * light).clamp(0.0, 255.0) as u8)));
        }
    }

    let footprints: Vec<(f32, f32, f32)> = painted.iter().map(|l| l.outline.footprint()).collect();
    if scene.ink {
        draw_ink(&mut image, &mut extra_rng, &primary.outline, &footprints);
    }
    if spec.hair {
        draw_hair(&mut image, &mut rng, spec);
    }
    if scene.ruler {
        draw_ruler(&mut image, &mut extra_rng, ruler_edge(w, h, cx, cy));
    }
    if scene.bubbles {
        draw_bubbles(&mut image, &mut extra_rng, (cx, cy, spec.radius));
    }
    if spec.glare {
        for _ in 0..rng.random_range(2..6) {
            let (gx, gy) = (rng.random_range(0.0..w as f32), rng.random_range(0.0..h as f32));
            // Half the spots land on the lesion, where a dermoscope's glare shows most.
            let (gx, gy) = if rng.random_bool(0.5) {
                (cx + rng.random_range(-0.5..0.5) * spec.radius, cy + rng.random_range(-0.5..0.5) * spec.radius)
            } else {
                (gx, gy)
            };
            let r: f32 = rng.random_range(1.5..(spec.radius * 0.12).max(2.5));
            stamp(&mut image, gx, gy, r, [250.0, 250.0, 250.0], 0.85);
        }
    }
    if spec.vignette {
        let (mx, my) = (w as f32 / 2.0, h as f32 / 2.0);
        let rmax = (mx * mx + my * my).sqrt();
        for (x, y, p) in image.enumerate_pixels_mut() {
            let r = ((x as f32 - mx).powi(2) + (y as f32 - my).powi(2)).sqrt() / rmax;
            let f = 1.0 - 0.92 * smoothstep(0.72, 0.98, r);
            p.0 = p.0.map(|v| (f32::from(v) * f) as u8);
        }
    }
    if scene.fov {
        draw_fov(&mut image, &mut extra_rng);
    }
    if spec.blur > 0.0 {
        image = imageproc::filter::gaussian_blur_f32(&image, spec.blur);
    }

    let colour_count = colour_px.iter().filter(|&&n| n as f32 >= 0.05 * lesion_px.max(1) as f32).count();
    let mask = masks.first().cloned().unwrap_or_else(|| GrayImage::new(w, h));
    let bbox = mask_bbox(&mask);
    SynthCase { spec: spec.clone(), scene: scene.clone(), image, mask, lesion_masks: masks, bbox, colour_count }
}

fn stamp(img: &mut RgbImage, cx: f32, cy: f32, r: f32, colour: [f32; 3], opacity: f32) {
    let (w, h) = (img.width() as i32, img.height() as i32);
    let (x0, x1) = ((cx - r - 1.0).floor() as i32, (cx + r + 1.0).ceil() as i32);
    let (y0, y1) = ((cy - r - 1.0).floor() as i32, (cy + r + 1.0).ceil() as i32);
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let a = opacity * smoothstep(r + 0.7, r - 0.7, d);
            if a > 0.0 {
                let p = img.get_pixel_mut(x as u32, y as u32);
                for (v, c) in p.0.iter_mut().zip(colour) {
                    *v = (f32::from(*v) * (1.0 - a) + c * a) as u8;
                }
            }
        }
    }
}

/// Dark curved hairs, several crossing the lesion.
fn draw_hair(img: &mut RgbImage, rng: &mut ChaCha8Rng, spec: &SynthSpec) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy) = (spec.centre.0 * w, spec.centre.1 * h);
    let count = rng.random_range(6..14);
    let thickness = (w.max(h) / 400.0).max(1.0);
    for i in 0..count {
        let through_lesion = i % 2 == 0;
        let (mx, my) = if through_lesion {
            (cx + rng.random_range(-0.6..0.6) * spec.radius, cy + rng.random_range(-0.6..0.6) * spec.radius)
        } else {
            (rng.random_range(0.0..w), rng.random_range(0.0..h))
        };
        let dir: f32 = rng.random_range(0.0..std::f32::consts::TAU);
        let len = rng.random_range(0.3..0.8) * w.max(h);
        let bend = rng.random_range(-0.25..0.25) * len;
        let (dx, dy) = (dir.cos(), dir.sin());
        let (p0, p2) = ((mx - dx * len / 2.0, my - dy * len / 2.0), (mx + dx * len / 2.0, my + dy * len / 2.0));
        let p1 = (mx - dy * bend, my + dx * bend);
        let r = thickness * rng.random_range(0.8..2.0);
        let shade = rng.random_range(20.0..60.0);
        let steps = (len / 0.7) as usize;
        for s in 0..=steps {
            let t = s as f32 / steps as f32;
            let x = (1.0 - t).powi(2) * p0.0 + 2.0 * (1.0 - t) * t * p1.0 + t * t * p2.0;
            let y = (1.0 - t).powi(2) * p0.1 + 2.0 * (1.0 - t) * t * p1.1 + t * t * p2.1;
            stamp(img, x, y, r, [shade, shade * 0.8, shade * 0.7], 0.9);
        }
    }
}

/// Coverage (0..1) of pen strokes, blended onto the image once, so overlapping dabs do not
/// pile up into a darker line.
struct Layer {
    w: u32,
    h: u32,
    cover: Vec<f32>,
}

impl Layer {
    fn new(w: u32, h: u32) -> Self {
        Self { w, h, cover: vec![0.0; (w * h) as usize] }
    }

    fn dab(&mut self, cx: f32, cy: f32, r: f32) {
        let (w, h) = (self.w as i32, self.h as i32);
        let (x0, x1) = ((cx - r - 1.0).floor() as i32, (cx + r + 1.0).ceil() as i32);
        let (y0, y1) = ((cy - r - 1.0).floor() as i32, (cy + r + 1.0).ceil() as i32);
        for y in y0.max(0)..y1.min(h) {
            for x in x0.max(0)..x1.min(w) {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                let a = smoothstep(r + 0.7, r - 0.7, d);
                let c = &mut self.cover[(y * w + x) as usize];
                *c = c.max(a);
            }
        }
    }

    /// A stroke through `points` `(x, y, half width)`, dabbed every half pixel.
    fn stroke(&mut self, points: &[(f32, f32, f32)]) {
        for pair in points.windows(2) {
            let ((x0, y0, r0), (x1, y1, r1)) = (pair[0], pair[1]);
            let steps = ((x1 - x0).hypot(y1 - y0) / 0.5).ceil().max(1.0) as usize;
            for s in 0..=steps {
                let t = s as f32 / steps as f32;
                self.dab(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, r0 + (r1 - r0) * t);
            }
        }
    }

    fn blend(&self, img: &mut RgbImage, colour: [f32; 3], opacity: f32) {
        for (p, c) in img.pixels_mut().zip(&self.cover) {
            let a = opacity * c;
            if a > 0.0 {
                for (v, k) in p.0.iter_mut().zip(colour) {
                    *v = (f32::from(*v) * (1.0 - a) + k * a) as u8;
                }
            }
        }
    }
}

/// A pen mark: a wobbly hand-drawn ring (or an arc of one) around `around`, clear of its
/// border, 2-4 px wide, in a marker colour; half the time also a short line or a dot away from
/// every lesion in `lesions` (`(x, y, reach)`).
fn draw_ink(img: &mut RgbImage, rng: &mut ChaCha8Rng, around: &Outline, lesions: &[(f32, f32, f32)]) {
    use std::f32::consts::TAU;
    let (w, h) = (img.width() as f32, img.height() as f32);
    let colour = [[36.0, 52.0, 150.0], [88.0, 44.0, 130.0], [26.0, 26.0, 32.0]][rng.random_range(0..3)];
    let opacity = rng.random_range(0.75..0.92);
    let half = rng.random_range(1.0..2.0);
    let (w1, p1) = (rng.random_range(0.01..0.05), rng.random_range(0.0..TAU));
    let (w2, p2) = (rng.random_range(0.01..0.04), rng.random_range(0.0..TAU));
    let (w3, p3) = (rng.random_range(0.0..0.015), rng.random_range(0.0..TAU));
    let squash = rng.random_range(0.85..1.0);
    let drift = rng.random_range(-0.05..0.05f32);
    // 1.4-1.8 times the lesion's (major) radius, and never closer than 4 px to its border
    // whatever the wobble, squash and drift do.
    let shrink = squash * (1.0 - w1 - w2 - w3 - drift.abs());
    let size = (rng.random_range(1.4..1.8) * around.radius * around.sx.max(around.sy)).max((around.extent + 4.0 + half) / shrink);
    let start = rng.random_range(0.0..TAU);
    // Mostly a closed ring drawn a little past its start; sometimes an open arc.
    let sweep = (if rng.random_bool(0.75) { rng.random_range(1.0..1.1) } else { rng.random_range(0.6..0.9) }) * TAU;
    let p4 = rng.random_range(0.0..TAU);
    let steps = (sweep * size / 2.0).ceil().max(8.0) as usize;
    let points: Vec<(f32, f32, f32)> = (0..=steps)
        .map(|s| {
            let f = s as f32 / steps as f32;
            let th = start + f * sweep;
            let r = size * (1.0 + w1 * (th + p1).sin() + w2 * (2.0 * th + p2).sin() + w3 * (5.0 * th + p3).sin() + drift * f);
            let taper = smoothstep(0.0, 0.03, f).min(smoothstep(1.0, 0.97, f)).max(0.4);
            (around.cx + r * th.cos(), around.cy + r * th.sin() * squash, half * (0.85 + 0.3 * (3.0 * th + p4).sin()) * taper)
        })
        .collect();
    let mut layer = Layer::new(img.width(), img.height());
    layer.stroke(&points);
    if rng.random_bool(0.5) {
        let dot = rng.random_bool(0.4);
        let len = if dot { 0.0 } else { rng.random_range(12.0..40.0) };
        for _ in 0..50 {
            let (x, y) = (rng.random_range(0.05..0.95) * w, rng.random_range(0.05..0.95) * h);
            let clear = |(lx, ly, reach): &(f32, f32, f32)| (x - lx).hypot(y - ly) > reach + len + 10.0;
            if !lesions.iter().all(clear) || (x - around.cx).hypot(y - around.cy) < size * 1.1 + len {
                continue;
            }
            if dot {
                layer.dab(x, y, rng.random_range(2.0..4.0));
            } else {
                let dir = rng.random_range(0.0..TAU);
                let bend = rng.random_range(-0.15..0.15) * len;
                let line: Vec<(f32, f32, f32)> = (0..=8)
                    .map(|s| {
                        let t = s as f32 / 8.0 - 0.5;
                        let off = bend * (1.0 - 4.0 * t * t);
                        (x + dir.cos() * len * t - dir.sin() * off, y + dir.sin() * len * t + dir.cos() * off, half)
                    })
                    .collect();
                layer.stroke(&line);
            }
            break;
        }
    }
    layer.blend(img, colour, opacity);
}

/// The image edge farthest from `(cx, cy)`: 0 left, 1 right, 2 top, 3 bottom.
pub fn ruler_edge(w: u32, h: u32, cx: f32, cy: f32) -> usize {
    let gaps = [cx, w as f32 - cx, cy, h as f32 - cy];
    (0..4).fold(0, |best, i| if gaps[i] > gaps[best] { i } else { best })
}

/// A ruler strip along `edge` (see [`ruler_edge`]): pale, 6-9% of the shorter side wide, with
/// black ticks hanging from its inner edge every 5-8 px, longer every 5th and 10th.
fn draw_ruler(img: &mut RgbImage, rng: &mut ChaCha8Rng, edge: usize) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let width = rng.random_range(0.06..0.09) * w.min(h);
    let spacing = rng.random_range(5.0..8.0);
    let offset = rng.random_range(0.0..10.0 * spacing);
    let colour = [[240.0, 238.0, 226.0], [236.0, 236.0, 236.0], [244.0, 238.0, 196.0]][rng.random_range(0..3)];
    let opacity = rng.random_range(0.82..0.95);
    let tick = rng.random_range(0.45..0.8);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (xf, yf) = (x as f32 + 0.5, y as f32 + 0.5);
        // across: distance from the image edge; along: position along it.
        let (across, along) = match edge {
            0 => (xf, yf),
            1 => (w - xf, yf),
            2 => (yf, xf),
            _ => (h - yf, xf),
        };
        if across > width + 1.5 {
            continue;
        }
        let strip = opacity * smoothstep(width + 0.6, width - 0.6, across);
        let pos = (along + offset) / spacing;
        let k = pos.round();
        let step = k as i64;
        let share = match step % 10 {
            0 => 0.7,
            5 => 0.5,
            _ => 0.28,
        };
        let len = width * share;
        let from_inner = width - across;
        let on_tick = smoothstep(tick + 0.5, tick - 0.5, (pos - k).abs() * spacing) * smoothstep(len + 0.5, len - 0.5, from_inner);
        let on_edge = 0.6 * smoothstep(1.0, 0.2, (across - width).abs());
        let ink = 0.95 * on_tick.max(on_edge) * smoothstep(-1.0, 0.0, from_inner);
        for (v, c) in p.0.iter_mut().zip(colour) {
            let s = f32::from(*v) * (1.0 - strip) + c * strip;
            *v = (s * (1.0 - ink) + 22.0 * ink) as u8;
        }
    }
}

/// 3-10 gel bubbles of radius 4-20 px, 40% of them over the lesion at `(cx, cy, radius)`:
/// clear inside (a touch brighter), a bright thin rim, a dark outer edge and a highlight.
fn draw_bubbles(img: &mut RgbImage, rng: &mut ChaCha8Rng, lesion: (f32, f32, f32)) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy, radius) = lesion;
    for _ in 0..rng.random_range(3..=10) {
        let r = rng.random_range(4.0..20.0f32);
        let (bx, by) = if rng.random_bool(0.4) {
            (cx + rng.random_range(-0.8..0.8) * radius, cy + rng.random_range(-0.8..0.8) * radius)
        } else {
            (rng.random_range(0.0..w), rng.random_range(0.0..h))
        };
        let glint = rng.random_range(0.0..std::f32::consts::TAU);
        let (hx, hy, hr) = (bx + 0.45 * r * glint.cos(), by + 0.45 * r * glint.sin(), (0.16 * r).max(1.0));
        let (x0, x1) = ((bx - r - 4.0).floor().max(0.0) as u32, ((bx + r + 4.0).ceil().max(0.0) as u32).min(img.width()));
        let (y0, y1) = ((by - r - 4.0).floor().max(0.0) as u32, ((by + r + 4.0).ceil().max(0.0) as u32).min(img.height()));
        for y in y0..y1 {
            for x in x0..x1 {
                let (xf, yf) = (x as f32 + 0.5, y as f32 + 0.5);
                let e = (xf - bx).hypot(yf - by) - r;
                let inner = 0.07 * smoothstep(0.0, -2.0, e);
                let dark = 0.5 * (-((e - 1.0) / 0.9).powi(2)).exp();
                let bright = 0.75 * (-((e + 0.9) / 0.8).powi(2)).exp();
                let spot = 0.85 * smoothstep(hr + 0.6, hr - 0.6, (xf - hx).hypot(yf - hy));
                let p = img.get_pixel_mut(x, y);
                for v in p.0.iter_mut() {
                    let mut f = f32::from(*v);
                    f += (255.0 - f) * inner;
                    f = f * (1.0 - dark) + 25.0 * dark;
                    f = f * (1.0 - bright) + 250.0 * bright;
                    f = f * (1.0 - spot) + 252.0 * spot;
                    *v = f.clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// A dermoscope's circular field of view: near-black outside a circle of radius 0.46-0.5 of
/// the shorter side (centre off by up to 2% of it), a soft 3-6 px edge, the rim a little darker.
fn draw_fov(img: &mut RgbImage, rng: &mut ChaCha8Rng) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let side = w.min(h);
    let (fx, fy) = (w / 2.0 + rng.random_range(-0.02..0.02) * side, h / 2.0 + rng.random_range(-0.02..0.02) * side);
    let r = rng.random_range(0.46..0.5) * side;
    let edge = rng.random_range(3.0..6.0f32);
    let black = rng.random_range(4.0..14.0f32);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let d = (x as f32 + 0.5 - fx).hypot(y as f32 + 0.5 - fy);
        let f = smoothstep(r + edge / 2.0, r - edge / 2.0, d);
        let rim = 1.0 - 0.25 * smoothstep(0.88 * r, r, d);
        let noise = ((x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)) % 7) as f32 - 3.0;
        for v in p.0.iter_mut() {
            *v = (f32::from(*v) * rim * f + (black + noise).max(0.0) * (1.0 - f)).clamp(0.0, 255.0) as u8;
        }
    }
}

/// Tight box `[x0, y0, x1, y1]` (exclusive ends) of the non-zero pixels; `[0, 0, 0, 0]` for an
/// empty mask.
pub fn mask_bbox(mask: &GrayImage) -> [f32; 4] {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in mask.enumerate_pixels() {
        if p[0] > 0 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    if x0 == u32::MAX {
        return [0.0; 4];
    }
    [x0 as f32, y0 as f32, x1 as f32, y1 as f32]
}

/// The standard evaluation set: `n` cases from `seed`. Every third case has hair; skin types,
/// sizes (small to large), positions, colours and artefacts vary deterministically.
pub fn standard_set(seed: u64, n: usize) -> Vec<SynthSpec> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let (width, height) = [(640, 480), (512, 512), (800, 600), (600, 450)][i % 4];
            let small = i % 5 == 3;
            let min_side = width.min(height) as f32;
            let radius = if small { rng.random_range(0.035..0.06) * min_side } else { rng.random_range(0.09..0.3) * min_side };
            let margin = (radius * 1.5 / min_side).min(0.4);
            let centre =
                (rng.random_range(margin.max(0.2)..(1.0 - margin).min(0.8)), rng.random_range(margin.max(0.2)..(1.0 - margin).min(0.8)));
            let n_colours = 1 + i % 4;
            let mut colours = vec![if rng.random_bool(0.5) { 0 } else { 1 }];
            let pool = [0usize, 1, 2, 3, 4, 5];
            while colours.len() < n_colours {
                let c = pool[rng.random_range(0..if colours.len() < 3 { 4 } else { 6 })];
                if !colours.contains(&c) {
                    colours.push(c);
                }
            }
            SynthSpec {
                seed: seed.wrapping_mul(1000).wrapping_add(i as u64),
                width,
                height,
                skin_type: 1 + i % 6,
                radius,
                centre,
                elongation: rng.random_range(1.0..1.8),
                irregularity: rng.random_range(0.0..1.0),
                colours,
                hair: i % 3 == 2,
                vignette: i % 4 == 1,
                glare: i % 5 == 2,
                blur: if i % 7 == 4 { 1.5 } else { 0.0 },
                gradient: rng.random_range(0.0..0.35),
                rotation: 0.0,
                exposure: 1.0,
            }
        })
        .collect()
}

/// Small lesions in large frames, for measuring the crop policy.
pub fn small_lesion_set(seed: u64, n: usize) -> Vec<SynthSpec> {
    let mut specs = standard_set(seed, n);
    for (i, s) in specs.iter_mut().enumerate() {
        s.width = 1200;
        s.height = 900;
        s.radius = 18.0 + (i % 4) as f32 * 6.0;
        s.hair = false;
        s.blur = 0.0;
    }
    specs
}

/// Frames of the dermoscopy-like sets.
const FRAMES: [(u32, u32); 4] = [(640, 480), (512, 512), (800, 600), (600, 450)];
/// Frames of the body-photo set ([`multi_set`]).
const BODY_FRAMES: [(u32, u32); 4] = [(1024, 768), (960, 720), (800, 800), (1200, 900)];

/// The farthest a lesion's border can reach from its centre, in pixels: the border's
/// harmonics add at most 0.371 x `irregularity` to the radius, and elongation stretches the
/// major axis by its square root.
pub fn lesion_reach(radius: f32, elongation: f32, irregularity: f32) -> f32 {
    radius * elongation.max(1.0).sqrt() * (1.0 + 0.38 * irregularity)
}

/// A lesion centre (pixels) by rejection sampling: the whole lesion (`reach`) at least 4% of
/// the shorter side inside the frame and the centre within the middle 70% of each side; inside
/// the field of view (within 0.4 of the shorter side of the middle) when `fov`; at least `gap`
/// from every lesion in `taken` (`(x, y, reach)`). `None` when 1000 tries found no place.
fn place(rng: &mut ChaCha8Rng, w: u32, h: u32, reach: f32, fov: bool, taken: &[(f32, f32, f32)], gap: f32) -> Option<(f32, f32)> {
    let (wf, hf) = (w as f32, h as f32);
    let side = wf.min(hf);
    let margin = reach + 0.04 * side;
    let range = |len: f32| {
        let (lo, hi) = (margin.max(0.15 * len), (len - margin).min(0.85 * len));
        if lo < hi { (lo, hi) } else { (len / 2.0, len / 2.0) }
    };
    let ((x0, x1), (y0, y1)) = (range(wf), range(hf));
    for _ in 0..1000 {
        let x = if x0 < x1 { rng.random_range(x0..x1) } else { x0 };
        let y = if y0 < y1 { rng.random_range(y0..y1) } else { y0 };
        if fov && (x - wf / 2.0).hypot(y - hf / 2.0) + reach > 0.4 * side {
            continue;
        }
        if taken.iter().any(|&(tx, ty, tr)| (x - tx).hypot(y - ty) < tr + reach + gap) {
            continue;
        }
        return Some((x, y));
    }
    None
}

/// Dermoscopic colours for a pigmented lesion, as [`standard_set`] picks them: light or dark
/// brown first, then others (white and red only as a fourth or later colour).
fn pigment_colours(rng: &mut ChaCha8Rng, n_colours: usize) -> Vec<usize> {
    let mut colours = vec![if rng.random_bool(0.5) { 0 } else { 1 }];
    while colours.len() < n_colours.min(6) {
        let c = rng.random_range(0..if colours.len() < 3 { 4 } else { 6 });
        if !colours.contains(&c) {
            colours.push(c);
        }
    }
    colours
}

/// Colours of a lesion of `kind`: pigment for a pigmented one, else the Stolz colour it counts
/// as (red for red and pink, white for light).
fn kind_colours(rng: &mut ChaCha8Rng, kind: LesionKind, n_colours: usize) -> Vec<usize> {
    match kind {
        LesionKind::Pigmented => pigment_colours(rng, n_colours),
        LesionKind::Red | LesionKind::Pink => vec![4],
        LesionKind::Light => vec![5],
    }
}

/// A spec with no artefacts (a round, smooth, light-brown lesion), for the set builders and
/// the tests' controlled cases to fill in.
pub fn plain_spec(seed: u64, (width, height): (u32, u32), skin_type: usize, radius: f32, centre: (f32, f32)) -> SynthSpec {
    SynthSpec {
        seed,
        width,
        height,
        skin_type,
        radius,
        centre,
        elongation: 1.0,
        irregularity: 0.0,
        colours: vec![0],
        hair: false,
        vignette: false,
        glare: false,
        blur: 0.0,
        gradient: 0.0,
        rotation: 0.0,
        exposure: 1.0,
    }
}

/// Every skin type 1-6 x every [`LesionKind`], sizes small to large, with artefacts mixed in;
/// `n` cases (48: each combination twice).
///
/// Case `i` has kind `ALL[i % 4]` and skin type `1 + (i / 4 + i / 24) % 6`, so every 24
/// consecutive cases cover every kind on every skin type, except that a light lesion on type I
/// is moved to type V (hypopigmentation hardly shows on the fairest skin; type II keeps it,
/// faint). Size classes (radius 3.5-6%, 7-12%, 12-18%, 18-25% of the shorter side) rotate so
/// each kind and each skin type gets all four. Artefacts are drawn independently: field of
/// view 30%, else vignette 25%; hair 35%; ink 25%; ruler 20% (dropped when the lesion would
/// reach under it); bubbles 25%; glare 30%; blur 15%; a lighting gradient always (0-0.3). A
/// lesion lies wholly inside the frame (4% margin) and, with a field of view, inside it (a
/// lesion too large for that gets no field of view).
pub fn varied_set(seed: u64, n: usize) -> Vec<SynthScene> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7a41_ed5e_7000_0001);
    (0..n)
        .map(|i| {
            let kind = LesionKind::ALL[i % 4];
            let j = i / 4;
            let mut skin_type = 1 + (j + i / 24) % 6;
            if kind == LesionKind::Light && skin_type == 1 {
                skin_type = 5;
            }
            let frame = FRAMES[(i + i / 8) % 4];
            let side = frame.0.min(frame.1) as f32;
            let fraction = match (i + j) % 4 {
                0 => rng.random_range(0.035..0.06),
                1 => rng.random_range(0.07..0.12),
                2 => rng.random_range(0.12..0.18),
                _ => rng.random_range(0.18..0.25),
            };
            let radius = fraction * side;
            let elongation = rng.random_range(1.0..1.7);
            let irregularity = if kind == LesionKind::Pigmented { rng.random_range(0.0..1.0) } else { rng.random_range(0.0..0.7) };
            let colours = kind_colours(&mut rng, kind, 1 + j % 4);
            let mut fov = rng.random_bool(0.3);
            let vignette = !fov && rng.random_bool(0.25);
            let hair = rng.random_bool(0.35);
            let ink = rng.random_bool(0.25);
            let mut ruler = rng.random_bool(0.2);
            let bubbles = rng.random_bool(0.25);
            let glare = rng.random_bool(0.3);
            let blur = if rng.random_bool(0.15) { rng.random_range(0.8..1.8) } else { 0.0 };
            let gradient = rng.random_range(0.0..0.3);
            let reach = lesion_reach(radius, elongation, irregularity);
            if fov && reach > 0.36 * side {
                fov = false;
            }
            let (w, h) = (frame.0 as f32, frame.1 as f32);
            let (x, y) = place(&mut rng, frame.0, frame.1, reach, fov, &[], 0.0).unwrap_or((w / 2.0, h / 2.0));
            if ruler {
                // The ruler lies along the farthest edge; drop it when the lesion reaches under it.
                let far = [x, w - x, y, h - y][ruler_edge(frame.0, frame.1, x, y)];
                ruler = far - reach > 0.11 * side;
            }
            let seed = seed.wrapping_mul(1_000_003).wrapping_add(0x1_0000 + i as u64);
            SynthScene {
                spec: SynthSpec {
                    elongation,
                    irregularity,
                    colours,
                    hair,
                    vignette,
                    glare,
                    blur,
                    gradient,
                    ..plain_spec(seed, frame, skin_type, radius, (x / w, y / h))
                },
                kind,
                fov,
                ink,
                ruler,
                bubbles,
                extra_lesions: Vec::new(),
                no_lesion: false,
            }
        })
        .collect()
}

/// Photos of plain skin with no lesion, where a lesion finder must answer "no lesion": `n`
/// cases, skin type `1 + i % 6`, every one with a lighting gradient (0.05-0.35) and at least
/// one more artefact: a third plain, a third vignetted, a third in a dermoscope's field of view
/// (rotating independently of the skin type), then hair 40%, ink 35% (a ring around where a
/// lesion might be, and nothing inside), ruler 30%, bubbles 35%, glare 40%, blur 10%; a case
/// that drew none of these gets one of them. `spec` still holds a lesion (radius 8-18% of the
/// shorter side) that is not drawn: hair, glare, bubbles and ink gather around it.
pub fn empty_set(seed: u64, n: usize) -> Vec<SynthScene> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0e3d_7e5e_7000_0002);
    (0..n)
        .map(|i| {
            let skin_type = 1 + i % 6;
            let frame = FRAMES[(i + i / 6) % 4];
            let side = frame.0.min(frame.1) as f32;
            let radius = rng.random_range(0.08..0.18) * side;
            let centre = (rng.random_range(0.35..0.65), rng.random_range(0.35..0.65));
            let elongation = rng.random_range(1.0..1.5);
            let irregularity = rng.random_range(0.0..0.6);
            let optics = (i + i / 6) % 3;
            let (vignette, fov) = (optics == 1, optics == 2);
            let mut hair = rng.random_bool(0.4);
            let mut ink = rng.random_bool(0.35);
            let mut ruler = rng.random_bool(0.3);
            let mut bubbles = rng.random_bool(0.35);
            let mut glare = rng.random_bool(0.4);
            let blur = if rng.random_bool(0.1) { rng.random_range(0.8..1.5) } else { 0.0 };
            let gradient = rng.random_range(0.05..0.35);
            if !(hair || ink || ruler || bubbles || glare) {
                match i % 5 {
                    0 => hair = true,
                    1 => ink = true,
                    2 => ruler = true,
                    3 => bubbles = true,
                    _ => glare = true,
                }
            }
            let seed = seed.wrapping_mul(1_000_003).wrapping_add(0x2_0000 + i as u64);
            SynthScene {
                spec: SynthSpec {
                    elongation,
                    irregularity,
                    hair,
                    vignette,
                    glare,
                    blur,
                    gradient,
                    ..plain_spec(seed, frame, skin_type, radius, centre)
                },
                kind: LesionKind::Pigmented,
                fov,
                ink,
                ruler,
                bubbles,
                extra_lesions: Vec::new(),
                no_lesion: true,
            }
        })
        .collect()
}

/// Body photos (a back or an arm, 800-1200 px) with several lesions: `n` cases, skin type
/// `1 + i % 6`, `2 + i % 3` lesions that do not overlap (at least 4% of the shorter side
/// apart; a lesion that finds no place after 1000 tries is left out, which the usual sizes
/// never need). The primary lesion is the largest (radius 6-11% of the shorter side, red in
/// every fifth case, else pigmented with 1-3 colours); the others are 35-85% of its radius, a
/// quarter of them red, the rest brown moles (one brown, or a darker centre). Artefacts: hair
/// 40%, glare 25%, blur 10%, a lighting gradient (0.05-0.35); no dermoscope artefacts.
pub fn multi_set(seed: u64, n: usize) -> Vec<SynthScene> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x3a17_1e5e_7000_0003);
    (0..n)
        .map(|i| {
            let skin_type = 1 + i % 6;
            let frame = BODY_FRAMES[(i + i / 6) % 4];
            let (w, h) = (frame.0 as f32, frame.1 as f32);
            let side = w.min(h);
            let gap = 0.04 * side;
            let radius = rng.random_range(0.06..0.11) * side;
            let elongation = rng.random_range(1.0..1.5);
            let irregularity = rng.random_range(0.0..0.8);
            let kind = if i % 5 == 3 { LesionKind::Red } else { LesionKind::Pigmented };
            let n_colours = rng.random_range(1..4);
            let colours = kind_colours(&mut rng, kind, n_colours);
            let reach = lesion_reach(radius, elongation, irregularity);
            let (x, y) = place(&mut rng, frame.0, frame.1, reach, false, &[], 0.0).unwrap_or((w / 2.0, h / 2.0));
            let mut taken = vec![(x, y, reach)];
            let mut extra_lesions = Vec::new();
            for _ in 1..2 + i % 3 {
                let r = (rng.random_range(0.35..0.85) * radius).max(8.0);
                let elongation = rng.random_range(1.0..1.6);
                let irregularity = rng.random_range(0.0..0.8);
                let kind = if rng.random_bool(0.25) { LesionKind::Red } else { LesionKind::Pigmented };
                // Common moles: light or dark brown, sometimes with a darker centre.
                let mut colours = if kind == LesionKind::Red { vec![4] } else { vec![rng.random_range(0..2)] };
                if kind == LesionKind::Pigmented && rng.random_bool(0.4) {
                    colours.push(colours[0] + 1);
                }
                let reach = lesion_reach(r, elongation, irregularity);
                if let Some((ex, ey)) = place(&mut rng, frame.0, frame.1, reach, false, &taken, gap) {
                    taken.push((ex, ey, reach));
                    extra_lesions.push(ExtraLesion { centre: (ex / w, ey / h), radius: r, kind, irregularity, elongation, colours });
                }
            }
            let hair = rng.random_bool(0.4);
            let glare = rng.random_bool(0.25);
            let blur = if rng.random_bool(0.1) { rng.random_range(0.8..1.5) } else { 0.0 };
            let gradient = rng.random_range(0.05..0.35);
            let seed = seed.wrapping_mul(1_000_003).wrapping_add(0x3_0000 + i as u64);
            SynthScene {
                spec: SynthSpec {
                    elongation,
                    irregularity,
                    colours,
                    hair,
                    glare,
                    blur,
                    gradient,
                    ..plain_spec(seed, frame, skin_type, radius, (x / w, y / h))
                },
                kind,
                fov: false,
                ink: false,
                ruler: false,
                bubbles: false,
                extra_lesions,
                no_lesion: false,
            }
        })
        .collect()
}

/// Dice of two 0/non-zero masks of the same size.
pub fn dice(a: &[u8], b: &[u8]) -> f64 {
    let (mut inter, mut total) = (0u64, 0u64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (*x != 0, *y != 0);
        inter += u64::from(x && y);
        total += u64::from(x) + u64::from(y);
    }
    if total == 0 { 1.0 } else { 2.0 * inter as f64 / total as f64 }
}
