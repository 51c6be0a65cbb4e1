//! What is in a skin photo but is not skin or lesion: the dermoscope's dark circular field of
//! view and vignetted corners, specular glare and marker ink. Thin structures (hair, ink lines, ruler
//! ticks) are removed later by an opening of the colour-distance map.

use image::{GrayImage, Luma};
use imageproc::distance_transform::Norm;
use imageproc::morphology::dilate;
use imageproc::region_labelling::{Connectivity, connected_components};

/// Lightness (CIELAB L*) below which a grey pixel may be the dermoscope's dark frame.
const FRAME_LIGHTNESS: f32 = 22.0;
/// Chroma below which a dark pixel counts as frame rather than dark-brown pigment.
const FRAME_CHROMA: f32 = 18.0;
/// Smallest dark frame region, as a fraction of the image.
const FRAME_MIN_AREA: f32 = 0.01;
/// Glare: very light and nearly colourless.
const GLARE_LIGHTNESS: f32 = 90.0;
const GLARE_CHROMA: f32 = 8.0;

/// `true` where a pixel may be skin or lesion: not the dermoscope's dark frame (dark grey
/// regions connected to the image border and at least [`FRAME_MIN_AREA`] of it, grown by a few
/// pixels to cover their soft edge) and not glare.
pub(crate) fn usable_pixels(lab: &[[f32; 3]], w: u32, h: u32) -> Vec<bool> {
    let chroma = |p: &[f32; 3]| (p[1] * p[1] + p[2] * p[2]).sqrt();
    let dark = GrayImage::from_fn(w, h, |x, y| {
        let p = &lab[(y * w + x) as usize];
        Luma([if p[0] < FRAME_LIGHTNESS && chroma(p) < FRAME_CHROMA { 255 } else { 0 }])
    });
    let labels = connected_components(&dark, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|p| p[0]).max().unwrap_or(0) as usize;
    let mut area = vec![0u32; count + 1];
    let mut touches = vec![false; count + 1];
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l[0] as usize;
        area[l] += 1;
        touches[l] |= x == 0 || y == 0 || x + 1 == w || y + 1 == h;
    }
    let min_area = (FRAME_MIN_AREA * (w * h) as f32) as u32;
    let frame = GrayImage::from_fn(w, h, |x, y| {
        let l = labels.get_pixel(x, y)[0] as usize;
        Luma([if l > 0 && touches[l] && area[l] >= min_area { 255 } else { 0 }])
    });
    let grow = (w.max(h) / 96).clamp(1, 8) as u8;
    let frame = dilate(&frame, Norm::LInf, grow);
    lab.iter().zip(frame.as_raw()).map(|(p, f)| *f == 0 && !(p[0] > GLARE_LIGHTNESS && chroma(p) < GLARE_CHROMA)).collect()
}

/// CIELAB b* below which a pixel is marker ink: no skin lesion is that saturated a blue or
/// violet (a blue naevus or a blue-white veil sits around -10).
const INK_BLUE: f32 = -20.0;

/// Whether a pixel is marker ink (blue or violet pen) rather than skin or lesion. (Black ink
/// looks like pigment; only its thinness gives it away, see the opening in the finder.)
pub(crate) fn is_ink(pixel: [f32; 3]) -> bool {
    pixel[2] < INK_BLUE
}
