//! The 8 ways a photo can be held: 0-3 clockwise quarter turns, then mirrored or not. Shared
//! by the rotation test (`tests/segmentation.rs`) and `examples/poses.rs`.
#![allow(dead_code)]

use image::imageops::{flip_horizontal, rotate90, rotate270};
use image::{ImageBuffer, Pixel};

/// A pose: clockwise quarter turns (0-3), then a left-right mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pose {
    pub turns: u32,
    pub mirrored: bool,
}

/// All 8 poses, the upright one first.
pub fn all() -> impl Iterator<Item = Pose> {
    (0..4).flat_map(|turns| [false, true].map(|mirrored| Pose { turns, mirrored }))
}

impl Pose {
    /// `upright` as held in this pose.
    pub fn apply<P: Pixel + 'static>(self, upright: &ImageBuffer<P, Vec<P::Subpixel>>) -> ImageBuffer<P, Vec<P::Subpixel>> {
        let mut img = upright.clone();
        for _ in 0..self.turns {
            img = rotate90(&img);
        }
        if self.mirrored { flip_horizontal(&img) } else { img }
    }

    /// An image taken in this pose (a mask of it), turned back upright.
    pub fn undo<P: Pixel + 'static>(self, posed: &ImageBuffer<P, Vec<P::Subpixel>>) -> ImageBuffer<P, Vec<P::Subpixel>> {
        let mut img = if self.mirrored { flip_horizontal(posed) } else { posed.clone() };
        for _ in 0..self.turns {
            img = rotate270(&img);
        }
        img
    }

    /// A box `[x0, y0, x1, y1]` of an upright image of `size` (width, height), as it lies in
    /// this pose.
    pub fn apply_box(self, b: [f32; 4], size: (f32, f32)) -> [f32; 4] {
        let point = |(mut x, mut y): (f32, f32)| {
            let (mut w, mut h) = size;
            for _ in 0..self.turns {
                (x, y) = (h - y, x);
                (w, h) = (h, w);
            }
            if self.mirrored { (w - x, y) } else { (x, y) }
        };
        corners_box(point((b[0], b[1])), point((b[2], b[3])))
    }

    /// A box in this pose's image, turned back upright (`size` is the upright image's).
    pub fn undo_box(self, b: [f32; 4], size: (f32, f32)) -> [f32; 4] {
        let point = |(mut x, mut y): (f32, f32)| {
            let (mut w, mut h) = if self.turns % 2 == 1 { (size.1, size.0) } else { size };
            if self.mirrored {
                x = w - x;
            }
            for _ in 0..self.turns {
                (x, y) = (y, w - x);
                (w, h) = (h, w);
            }
            (x, y)
        };
        corners_box(point((b[0], b[1])), point((b[2], b[3])))
    }
}

/// The box spanned by two opposite corners.
fn corners_box((ax, ay): (f32, f32), (bx, by): (f32, f32)) -> [f32; 4] {
    [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)]
}

/// Mean and coefficient of variation (population standard deviation / mean; 0 for a zero
/// mean) of the mask areas over the poses.
pub fn area_cv(areas: &[f64]) -> (f64, f64) {
    let m = areas.iter().sum::<f64>() / areas.len().max(1) as f64;
    if m <= 0.0 {
        return (m, 0.0);
    }
    let var = areas.iter().map(|a| (a - m).powi(2)).sum::<f64>() / areas.len() as f64;
    (m, var.sqrt() / m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pose_undoes_itself_for_images_and_boxes() {
        let upright = image::GrayImage::from_fn(5, 3, |x, y| image::Luma([(y * 5 + x) as u8]));
        let b = [1.0, 0.0, 3.0, 2.0];
        for pose in all() {
            assert_eq!(pose.undo(&pose.apply(&upright)), upright, "{pose:?}");
            assert_eq!(pose.undo_box(pose.apply_box(b, (5.0, 3.0)), (5.0, 3.0)), b, "{pose:?}");
        }
    }
}
