//! The foreign view of a lesion's features: the core's [`core::Features`] keeps fixed-size
//! arrays and the numbers behind each score, which uniffi cannot carry; this is the summary
//! apps draw and show. The classifier's result, the risk and the quality report are the
//! core's own records (`dermscan-core`'s `uniffi` feature).

use dermscan_core as core;
use dermscan_core::{StolzColour, TdsBand};
use serde::Serialize;

/// Size and shape of the lesion. `_mm` values are present when the scan was given a scale.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct Measurements {
    /// Lesion pixels.
    pub area_px: f64,
    /// Length of the outer contour.
    pub perimeter_px: f64,
    /// Diameter of the disc with the same area.
    pub diameter_px: f64,
    /// Major axis length (second moments).
    pub major_axis_px: f64,
    /// Minor axis length.
    pub minor_axis_px: f64,
    /// Angle of the major axis from the x axis, degrees, clockwise on screen.
    pub orientation_deg: f64,
    /// Area in square millimetres.
    pub area_mm2: Option<f64>,
    /// Perimeter in millimetres.
    pub perimeter_mm: Option<f64>,
    /// Equivalent diameter in millimetres.
    pub diameter_mm: Option<f64>,
    /// Major axis in millimetres.
    pub major_axis_mm: Option<f64>,
    /// Minor axis in millimetres.
    pub minor_axis_mm: Option<f64>,
}

/// The ABCD rule of dermoscopy (Stolz). D and therefore the TDS are proxies read from pixels.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct AbcdScores {
    /// Asymmetry, 0-2 axes.
    pub a: u8,
    /// Border, 0-8 eighths with an abrupt or irregular edge.
    pub b: u8,
    /// Colours, 1-6.
    pub c: u8,
    /// Differential structures, a proxy, 1-5.
    pub d_proxy: u8,
    /// TDS proxy = 1.3 A + 0.1 B + 0.5 C + 0.5 D.
    pub tds_proxy: f64,
    /// Band of the TDS proxy.
    pub band: TdsBand,
    /// The colours counted in C.
    pub colours: Vec<StolzColour>,
}

/// A point with sub-pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, uniffi::Record)]
pub struct PointF {
    /// Column.
    pub x: f64,
    /// Row.
    pub y: f64,
}

/// Measurements, ABCD scores and the principal axes (for drawing) of one lesion.
#[derive(Debug, Clone, PartialEq, Serialize, uniffi::Record)]
pub struct LesionFeatures {
    /// Size and shape.
    pub measurements: Measurements,
    /// ABCD scores.
    pub abcd: AbcdScores,
    /// Centroid.
    pub centroid: PointF,
    /// End points of the major axis.
    pub major_axis: Vec<PointF>,
    /// End points of the minor axis.
    pub minor_axis: Vec<PointF>,
}

fn point(p: [f64; 2]) -> PointF {
    PointF { x: p[0], y: p[1] }
}

impl From<&core::features::Features> for LesionFeatures {
    fn from(f: &core::features::Features) -> Self {
        let m = &f.measurements;
        let a = &f.abcd;
        Self {
            measurements: Measurements {
                area_px: m.area_px,
                perimeter_px: m.perimeter_px,
                diameter_px: m.diameter_px,
                major_axis_px: m.major_axis_px,
                minor_axis_px: m.minor_axis_px,
                orientation_deg: m.orientation_deg,
                area_mm2: m.area_mm2,
                perimeter_mm: m.perimeter_mm,
                diameter_mm: m.diameter_mm,
                major_axis_mm: m.major_axis_mm,
                minor_axis_mm: m.minor_axis_mm,
            },
            abcd: AbcdScores { a: a.a, b: a.b, c: a.c, d_proxy: a.d_proxy, tds_proxy: a.tds, band: a.band, colours: a.colours.clone() },
            centroid: point(f.axes.centroid),
            major_axis: f.axes.major.iter().copied().map(point).collect(),
            minor_axis: f.axes.minor.iter().copied().map(point).collect(),
        }
    }
}
