//! CIELAB (D65) from 8-bit sRGB: the colour space in which the lesion finder and the colour
//! score measure how far a colour is from skin (a distance there is close to a perceived one).

fn srgb_to_linear(c: u8) -> f32 {
    let c = f32::from(c) / 255.0;
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

/// [`srgb_to_linear`] of every 8-bit value, computed once.
static LINEAR: std::sync::LazyLock<[f32; 256]> = std::sync::LazyLock::new(|| std::array::from_fn(|c| srgb_to_linear(c as u8)));

fn lab_f(t: f32) -> f32 {
    const D: f32 = 6.0 / 29.0;
    if t > D * D * D { t.cbrt() } else { t / (3.0 * D * D) + 4.0 / 29.0 }
}

fn xyz_to_lab(x: f32, y: f32, z: f32) -> [f32; 3] {
    // D65 white.
    let (fx, fy, fz) = (lab_f(x / 0.950_47), lab_f(y), lab_f(z / 1.088_83));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

fn linear_to_lab(r: f32, g: f32, b: f32) -> [f32; 3] {
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = 0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b;
    xyz_to_lab(x, y, z)
}

/// sRGB (8 bit, D65) to CIELAB.
///
/// ```
/// use dermscan_core::lab::srgb_to_lab;
/// let white = srgb_to_lab([255, 255, 255]);
/// assert!((white[0] - 100.0).abs() < 0.01 && white[1].abs() < 0.01 && white[2].abs() < 0.01);
/// ```
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f32; 3] {
    let lut = &*LINEAR;
    linear_to_lab(lut[usize::from(rgb[0])], lut[usize::from(rgb[1])], lut[usize::from(rgb[2])])
}

/// CIELAB ΔE (CIE 1976): the Euclidean distance between two CIELAB colours.
///
/// ```
/// use dermscan_core::lab::delta_e;
/// assert_eq!(delta_e([50.0, 0.0, 0.0], [53.0, 4.0, 0.0]), 5.0);
/// ```
pub fn delta_e(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// CIELAB of every pixel of a packed RGB8 buffer.
pub fn image_to_lab(rgb: &[u8]) -> Vec<[f32; 3]> {
    let lut = &*LINEAR;
    rgb.chunks_exact(3).map(|p| linear_to_lab(lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize])).collect()
}
