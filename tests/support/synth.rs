//! Seeded synthetic dermoscopy-like images with exact ground-truth masks.
//!
//! Each case is a skin patch (Fitzpatrick I-VI tones, texture, lighting gradient) with one
//! irregular, multi-coloured lesion of known shape, plus optional hair, dermoscope
//! vignetting, glare spots, blur and a second, fainter distractor. The ground-truth mask is
//! the lesion's exact shape; `bbox` is its tight box (x1, y1 exclusive).
//!
//! Shared by the integration tests, the benches and `examples/synth.rs` (which writes the set
//! to disk for the Python tools).
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

/// One generated image with its truth.
pub struct SynthCase {
    pub spec: SynthSpec,
    pub image: RgbImage,
    /// 255 inside the lesion, 0 outside.
    pub mask: GrayImage,
    /// Tight box of the mask `[x0, y0, x1, y1]`, x1 and y1 exclusive.
    pub bbox: [f32; 4],
    /// Colours covering at least 5% of the lesion.
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

/// Renders one case.
pub fn render(spec: &SynthSpec) -> SynthCase {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let (w, h) = (spec.width, spec.height);
    let skin = SKIN[spec.skin_type.clamp(1, 6) - 1];
    // Darker skin carries darker pigment; keep lesions darker than the skin around them.
    let pigment_scale: f32 = if spec.skin_type >= 5 { 0.55 } else { 1.0 };

    // Boundary: r(theta) = R * (1 + sum a_k sin(k theta + phi_k)), stretched and rotated.
    let harmonics: Vec<(f32, f32, f32)> = (2..9)
        .map(|k| {
            let amp = spec.irregularity * rng.random_range(0.02..0.11) / (k as f32).sqrt();
            (k as f32, amp, rng.random_range(0.0..std::f32::consts::TAU))
        })
        .collect();
    let angle: f32 = rng.random_range(0.0..std::f32::consts::PI) + spec.rotation;
    let (ca, sa) = (angle.cos(), angle.sin());
    let sx = spec.elongation.sqrt();
    let sy = 1.0 / spec.elongation.sqrt();
    let (cx, cy) = (spec.centre.0 * w as f32, spec.centre.1 * h as f32);
    // Signed distance (pixels, positive inside) from the lesion border, approximately.
    let inside = |x: f32, y: f32| -> f32 {
        let (dx, dy) = (x - cx, y - cy);
        let (u, v) = ((dx * ca + dy * sa) / sx, (-dx * sa + dy * ca) / sy);
        let rho = (u * u + v * v).sqrt();
        let theta = v.atan2(u);
        let r = spec.radius * (1.0 + harmonics.iter().map(|(k, a, p)| a * (k * theta + p).sin()).sum::<f32>());
        (r - rho) * sx.min(sy)
    };

    let texture = ValueNoise::new(&mut rng, w, h, 6.0);
    let blotch = ValueNoise::new(&mut rng, w, h, (spec.radius * 0.6).max(4.0));
    let zones = ValueNoise::new(&mut rng, w, h, (spec.radius * 0.45).max(3.0));
    let (gx, gy): (f32, f32) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
    let n_col = spec.colours.len().max(1);

    let mut image = RgbImage::new(w, h);
    let mut mask = GrayImage::new(w, h);
    let mut colour_px = vec![0u32; LESION_COLOURS.len()];
    let mut lesion_px = 0u32;
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = texture.at(xf, yf) - 0.5;
            let mut px = [skin[0] * (1.0 + 0.06 * t), skin[1] * (1.0 + 0.06 * t), skin[2] * (1.0 + 0.07 * t)];
            let d = inside(xf, yf);
            // Soft lesion edge about 2 px wide, plus a fainter halo inside the border.
            let alpha = smoothstep(-1.5, 1.5, d);
            if d >= 0.0 {
                mask.put_pixel(x, y, Luma([255]));
                lesion_px += 1;
            }
            if alpha > 0.0 {
                // A continuous position across the lesion's colours: the first colour fills the
                // rim, the others follow smooth zones inwards, blending over a soft band as
                // pigment does (no cartoon-sharp zone edges).
                let z = zones.at(xf, yf);
                let depth = (d / spec.radius).clamp(0.0, 1.0);
                let pos = if n_col == 1 { 0.0 } else { ((z * 1.35 + depth * 0.5 - 0.2).clamp(0.0, 0.999) * n_col as f32 - 0.5).max(0.0) };
                let pos = pos * smoothstep(0.05, 0.2, depth);
                let lo = (pos.floor() as usize).min(n_col - 1);
                let hi = (lo + 1).min(n_col - 1);
                let t = smoothstep(0.3, 0.7, pos.fract());
                let nearest = if t < 0.5 { lo } else { hi };
                if d >= 0.0 {
                    colour_px[spec.colours[nearest]] += 1;
                }
                let shade = 0.85 + 0.3 * blotch.at(xf, yf);
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
                let (a, b) = (tone(spec.colours[lo]), tone(spec.colours[hi]));
                for k in 0..3 {
                    let c = a[k] * (1.0 - t) + b[k] * t;
                    px[k] = px[k] * (1.0 - alpha) + c * alpha;
                }
            }
            let light = spec.exposure + spec.gradient * (gx * (xf / w as f32 - 0.5) + gy * (yf / h as f32 - 0.5));
            image.put_pixel(x, y, Rgb(px.map(|v| (v * light).clamp(0.0, 255.0) as u8)));
        }
    }

    if spec.hair {
        draw_hair(&mut image, &mut rng, spec);
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
    if spec.blur > 0.0 {
        image = imageproc::filter::gaussian_blur_f32(&image, spec.blur);
    }

    let colour_count = colour_px.iter().filter(|&&n| n as f32 >= 0.05 * lesion_px.max(1) as f32).count();
    let bbox = mask_bbox(&mask);
    SynthCase { spec: spec.clone(), image, mask, bbox, colour_count }
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

/// Tight box `[x0, y0, x1, y1]` (exclusive ends) of the non-zero pixels.
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
