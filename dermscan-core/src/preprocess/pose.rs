//! Canonical pose: the orientation in which the encoder sees a photo.
//!
//! A segmentation model is not rotation-equivariant: the same mole turned by 90 degrees or
//! mirrored comes back with a different mask (the sample photo's area varied by 5-7% over its
//! 8 poses with one fixed box). So before encoding, the resized photo is turned into a pose
//! chosen from the picture itself, one of the 8 a square can take (4 rotations, mirrored or
//! not): landscape (or, when square, the darker mass spread wider across than down), and each
//! axis flipped so that the darker mass's skew (third central moment) along it is positive,
//! its long tail towards the right and the bottom. Every pose of one
//! photo is thus encoded as the same picture; prompts are mapped into that pose and the
//! decoder's logits back out of it.
//!
//! The choice uses integer moments, which a flip negates and a transpose swaps exactly, so it
//! is the same on every pose of a photo (and on every CPU) unless a moment is exactly zero.

/// One of the 8 orientations of a rectangle: optionally transposed (x and y swapped), then
/// flipped along x and along y, in that order.
///
/// ```
/// use dermscan_core::preprocess::Pose;
/// // 3x2 image, pixels numbered row by row
/// let src = [0, 1, 2, 3, 4, 5];
/// let pose = Pose { transpose: true, flip_x: true, flip_y: false };
/// let (posed, w, h) = pose.apply(&src, 1, 3, 2);
/// assert_eq!((w, h), (2, 3));
/// assert_eq!(posed, vec![3, 0, 4, 1, 5, 2]); // turned clockwise
/// assert_eq!(pose.invert(&posed, 1, w, h), src.to_vec());
/// assert_eq!(pose.map_point(0.0, 0.0, 3.0, 2.0), (2.0, 0.0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pose {
    /// Swap x and y first.
    pub transpose: bool,
    /// Then mirror left-right.
    pub flip_x: bool,
    /// Then mirror top-bottom.
    pub flip_y: bool,
}

impl Pose {
    /// The image as it is.
    pub const IDENTITY: Self = Self { transpose: false, flip_x: false, flip_y: false };

    /// Whether this pose changes nothing.
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }

    /// The canonical pose of the RGB8 image `rgb` (`width` x `height`), see the module docs.
    /// Plain images (no pixel darker than the median) keep their orientation.
    ///
    /// ```
    /// use dermscan_core::preprocess::Pose;
    /// // 4x4 skin, a dark 2x2 patch bottom-right and a dark speck top-left: the mass's tail
    /// // (the speck) points up and left, so both axes are flipped
    /// let mut rgb = vec![200u8; 4 * 4 * 3];
    /// for (x, y) in [(0, 0), (2, 2), (3, 2), (2, 3), (3, 3)] {
    ///     rgb[(y * 4 + x) * 3..][..3].copy_from_slice(&[40, 30, 20]);
    /// }
    /// let pose = Pose::canonical(&rgb, 4, 4);
    /// assert!(pose.flip_x && pose.flip_y);
    /// ```
    pub fn canonical(rgb: &[u8], width: u32, height: u32) -> Self {
        let m = DarkMoments::of(rgb, width, height);
        let transpose = if width != height { height > width } else { m.mu02 > m.mu20 };
        let (skew_x, skew_y) = if transpose { (m.mu03, m.mu30) } else { (m.mu30, m.mu03) };
        Self { transpose, flip_x: skew_x < 0.0, flip_y: skew_y < 0.0 }
    }

    /// Size of a `width` x `height` image in this pose.
    pub fn size(&self, width: u32, height: u32) -> (u32, u32) {
        if self.transpose { (height, width) } else { (width, height) }
    }

    /// `src` (`width` x `height`, `channels` values per pixel) turned into this pose, with
    /// its new width and height.
    pub fn apply<T: Copy>(&self, src: &[T], channels: usize, width: u32, height: u32) -> (Vec<T>, u32, u32) {
        let (pw, ph) = self.size(width, height);
        (gather(src, channels, width, (pw, ph), |x, y| self.source_of(x, y, pw, ph)), pw, ph)
    }

    /// The inverse of [`Pose::apply`]: `posed` (`width` x `height` in this pose) turned back
    /// into the original orientation.
    pub fn invert<T: Copy>(&self, posed: &[T], channels: usize, width: u32, height: u32) -> Vec<T> {
        gather(posed, channels, width, self.size(width, height), |x, y| self.pixel_of(x, y, width, height))
    }

    /// Where the point (`x`, `y`) of a `width` x `height` frame (continuous coordinates,
    /// pixel edges at integers) lies in this pose.
    pub fn map_point(&self, x: f32, y: f32, width: f32, height: f32) -> (f32, f32) {
        let (x, y, w, h) = if self.transpose { (y, x, height, width) } else { (x, y, width, height) };
        (if self.flip_x { w - x } else { x }, if self.flip_y { h - y } else { y })
    }

    /// The pixel of the posed image (`pw` x `ph`) that pixel (`x`, `y`) of the original lands on.
    fn pixel_of(&self, x: u32, y: u32, pw: u32, ph: u32) -> (u32, u32) {
        let (x, y) = if self.transpose { (y, x) } else { (x, y) };
        (if self.flip_x { pw - 1 - x } else { x }, if self.flip_y { ph - 1 - y } else { y })
    }

    /// The original pixel that lands on pixel (`x`, `y`) of the posed image (`pw` x `ph`).
    fn source_of(&self, x: u32, y: u32, pw: u32, ph: u32) -> (u32, u32) {
        let (x, y) = (if self.flip_x { pw - 1 - x } else { x }, if self.flip_y { ph - 1 - y } else { y });
        if self.transpose { (y, x) } else { (x, y) }
    }
}

/// An `out_w` x `out_h` image whose pixel (x, y) is pixel `from(x, y)` of `src` (`src_width`
/// wide, `channels` values per pixel).
fn gather<T: Copy>(
    src: &[T],
    channels: usize,
    src_width: u32,
    (out_w, out_h): (u32, u32),
    from: impl Fn(u32, u32) -> (u32, u32),
) -> Vec<T> {
    let mut out = Vec::with_capacity(src.len());
    for y in 0..out_h {
        for x in 0..out_w {
            let (sx, sy) = from(x, y);
            let i = (sy * src_width + sx) as usize * channels;
            out.extend_from_slice(&src[i..i + channels]);
        }
    }
    out
}

/// Central moments of the image's darker-than-median mass (its "ink"), in doubled pixel
/// units about the frame's centre.
struct DarkMoments {
    mu20: f64,
    mu02: f64,
    mu30: f64,
    mu03: f64,
}

impl DarkMoments {
    fn of(rgb: &[u8], width: u32, height: u32) -> Self {
        let luma: Vec<u8> =
            rgb.chunks_exact(3).map(|p| ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8) as u8).collect();
        let mut histogram = [0usize; 256];
        luma.iter().for_each(|&l| histogram[l as usize] += 1);
        let half = luma.len().div_ceil(2);
        let mut seen = 0;
        let median = histogram.iter().position(|&n| {
            seen += n;
            seen >= half
        });
        let median = median.unwrap_or(0) as i64;
        // Raw moments about the centre, x and y doubled so that the centre is an integer: a
        // flip negates the odd ones exactly, a transpose swaps them.
        let (mut m00, mut m10, mut m01, mut m20, mut m02, mut m30, mut m03) = (0i128, 0i128, 0i128, 0i128, 0i128, 0i128, 0i128);
        for (i, &l) in luma.iter().enumerate() {
            let d = median - i64::from(l);
            if d <= 0 {
                continue;
            }
            let (x, y) = ((i % width as usize) as i64, (i / width as usize) as i64);
            let (u, v) = (2 * x - (i64::from(width) - 1), 2 * y - (i64::from(height) - 1));
            let (d, u, v) = (i128::from(d), i128::from(u), i128::from(v));
            m00 += d;
            m10 += d * u;
            m01 += d * v;
            m20 += d * u * u;
            m02 += d * v * v;
            m30 += d * u * u * u;
            m03 += d * v * v * v;
        }
        if m00 == 0 {
            return Self { mu20: 0.0, mu02: 0.0, mu30: 0.0, mu03: 0.0 };
        }
        let (m00, m10, m01, m20, m02, m30, m03) = (m00 as f64, m10 as f64, m01 as f64, m20 as f64, m02 as f64, m30 as f64, m03 as f64);
        let (xb, yb) = (m10 / m00, m01 / m00);
        Self {
            mu20: m20 - m10 * xb,
            mu02: m02 - m01 * yb,
            // Σ d (u - x̄)³ = m30 - 3 x̄ m20 + 2 x̄² m10; each term changes sign with u.
            mu30: m30 - 3.0 * xb * m20 + 2.0 * xb * xb * m10,
            mu03: m03 - 3.0 * yb * m02 + 2.0 * yb * yb * m01,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An irregular test picture: a skin gradient with two dark blobs of different sizes.
    fn picture(w: u32, h: u32) -> Vec<u8> {
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let blob = |cx: f32, cy: f32, r: f32| ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() < r;
                let dark = blob(w as f32 * 0.3, h as f32 * 0.6, 6.0) || blob(w as f32 * 0.7, h as f32 * 0.3, 3.0);
                let skin = 180 + ((x * 7 + y * 3) % 11) as u8;
                rgb.extend_from_slice(&if dark { [60, 40, 30] } else { [skin, skin - 30, skin - 50] });
            }
        }
        rgb
    }

    fn all_poses() -> impl Iterator<Item = Pose> {
        (0..8).map(|i| Pose { transpose: i & 1 != 0, flip_x: i & 2 != 0, flip_y: i & 4 != 0 })
    }

    #[test]
    fn every_pose_of_a_picture_has_the_same_canonical_form() {
        for (w, h) in [(40, 30), (32, 32)] {
            let src = picture(w, h);
            let canonical = |rgb: &[u8], w, h| {
                let pose = Pose::canonical(rgb, w, h);
                pose.apply(rgb, 3, w, h)
            };
            let reference = canonical(&src, w, h);
            for pose in all_poses() {
                let (posed, pw, ph) = pose.apply(&src, 3, w, h);
                assert_eq!(canonical(&posed, pw, ph), reference, "{w}x{h} in pose {pose:?}");
            }
        }
    }

    #[test]
    fn points_follow_their_pixels() {
        let (w, h) = (5u32, 3u32);
        let src: Vec<u32> = (0..w * h).collect();
        for pose in all_poses() {
            let (posed, pw, _) = pose.apply(&src, 1, w, h);
            assert_eq!(pose.invert(&posed, 1, pw, posed.len() as u32 / pw), src, "{pose:?}");
            // The centre of pixel (3, 1) maps onto the centre of the pixel that holds it.
            let (x, y) = pose.map_point(3.5, 1.5, w as f32, h as f32);
            assert_eq!(posed[(y as u32 * pw + x as u32) as usize], w + 3, "{pose:?}");
        }
    }

    #[test]
    fn a_plain_picture_keeps_its_orientation() {
        assert!(Pose::canonical(&vec![128; 10 * 10 * 3], 10, 10).is_identity());
        assert!(Pose::canonical(&vec![128; 12 * 10 * 3], 12, 10).is_identity());
    }
}
