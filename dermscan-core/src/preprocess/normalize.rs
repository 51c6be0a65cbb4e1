//! Pixel normalisation into a CHW float tensor.

use ndarray::{Array4, Axis, Slice};

/// Normalisation applied to the resized 8-bit image.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Normalization {
    /// `(x - min) / max(max - min, 1e-8)` over all channels (MedSAM, LiteMedSAM).
    MinMax,
    /// `(x - mean[c]) / std[c]` on 0..255 values (SAM, MobileSAM).
    MeanStd {
        /// Per-channel mean (R, G, B).
        mean: [f32; 3],
        /// Per-channel standard deviation (R, G, B).
        std: [f32; 3],
    },
}

impl Normalization {
    /// Writes the normalised `w` x `h` RGB8 image into the top-left of `tensor` (`[1,3,S,S]`),
    /// leaving the rest (the padding) untouched at zero.
    pub(crate) fn write_chw(&self, rgb: &[u8], w: usize, h: usize, tensor: &mut Array4<f32>) {
        let (offset, divisor): ([f32; 3], [f32; 3]) = match self {
            Normalization::MinMax => {
                let (lo, hi) = rgb.iter().fold((u8::MAX, u8::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                let range = (f32::from(hi) - f32::from(lo)).max(1e-8);
                ([f32::from(lo); 3], [range; 3])
            }
            Normalization::MeanStd { mean, std } => (*mean, *std),
        };
        for c in 0..3 {
            // The plane's top-left h x w corner (`s![0, c, ..h, ..w]`; ndarray's `s!` macro
            // allows unsafe code inside, which this crate forbids).
            let mut plane = tensor.index_axis_mut(Axis(0), 0);
            let mut plane = plane.index_axis_mut(Axis(0), c);
            plane.slice_axis_inplace(Axis(0), Slice::from(..h));
            plane.slice_axis_inplace(Axis(1), Slice::from(..w));
            for (dst, px) in plane.iter_mut().zip(rgb.chunks_exact(3)) {
                *dst = (f32::from(px[c]) - offset[c]) / divisor[c];
            }
        }
    }
}
