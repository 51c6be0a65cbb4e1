//! Lesion geometry for the quality gate: size, contact with the frame, where it is.

use crate::segment::Mask;

/// What the gate needs to know about the lesion mask.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LesionGeometry {
    /// Lesion area in image pixels.
    pub area_px: f32,
    /// Diameter of the disc with the same area, in image pixels.
    pub diameter_px: f32,
    /// Fraction of the lesion's outline (its boundary pixels) that lies on the image frame.
    pub border_contact: f32,
    /// Tight box `[x0, y0, x1, y1]` in image pixels (x1, y1 exclusive).
    pub bbox: [f32; 4],
}

impl LesionGeometry {
    /// Measures `mask`, whose pixels map onto an `image_w` x `image_h` image (a mask of another
    /// size is scaled). `None` for an empty mask.
    pub fn measure(mask: &Mask, image_w: u32, image_h: u32) -> Option<Self> {
        let (mw, mh) = (mask.width(), mask.height());
        let px = mask.pixels();
        if mw == 0 || mh == 0 || px.len() != mw as usize * mh as usize {
            return None;
        }
        let [x0, y0, x1, y1] = mask.bbox().map(|r| r.corners())?;
        let (w, h) = (mw as usize, mh as usize);
        let inside = |x: usize, y: usize| px[y * w + x] != 0;
        let (mut area, mut boundary, mut on_frame) = (0u64, 0u64, 0u64);
        for y in y0 as usize..y1 as usize {
            for x in x0 as usize..x1 as usize {
                if !inside(x, y) {
                    continue;
                }
                area += 1;
                let frame = x == 0 || y == 0 || x + 1 == w || y + 1 == h;
                let edge = frame || !inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1);
                boundary += u64::from(edge);
                on_frame += u64::from(frame);
            }
        }
        let (sx, sy) = (image_w as f32 / mw as f32, image_h as f32 / mh as f32);
        let area_px = area as f32 * sx * sy;
        Some(Self {
            area_px,
            diameter_px: 2.0 * (area_px / std::f32::consts::PI).sqrt(),
            border_contact: on_frame as f32 / boundary.max(1) as f32,
            bbox: [x0 as f32 * sx, y0 as f32 * sy, x1 as f32 * sx, y1 as f32 * sy],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(w: u32, h: u32, cx: f32, cy: f32, r: f32) -> Mask {
        let px = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 + 0.5, (i / w) as f32 + 0.5);
                u8::from((x - cx).powi(2) + (y - cy).powi(2) <= r * r)
            })
            .collect();
        Mask::from_pixels(w, h, px).expect("size")
    }

    #[test]
    fn geometry_of_inner_cut_and_full_masks() {
        let inner = LesionGeometry::measure(&disc(100, 80, 50.0, 40.0, 20.0), 100, 80).expect("lesion");
        assert!((inner.diameter_px - 40.0).abs() < 1.0, "{inner:?}");
        assert_eq!(inner.border_contact, 0.0);
        let cut = LesionGeometry::measure(&disc(100, 80, 5.0, 40.0, 20.0), 100, 80).expect("lesion");
        assert!(cut.border_contact > 0.2, "{cut:?}");
        let full = LesionGeometry::measure(&Mask::from_pixels(3, 3, vec![1; 9]).expect("size"), 3, 3).expect("lesion");
        assert_eq!(full.border_contact, 1.0);
        assert_eq!(LesionGeometry::measure(&Mask::from_pixels(3, 3, vec![0; 9]).expect("size"), 3, 3), None);
        // A half-size mask is scaled to the image.
        let scaled = LesionGeometry::measure(&disc(50, 40, 25.0, 20.0, 10.0), 100, 80).expect("lesion");
        assert!((scaled.diameter_px - 40.0).abs() < 2.0, "{scaled:?}");
    }
}
