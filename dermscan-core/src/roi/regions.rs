//! Connected regions of the lesion map: their statistics, and merging the fragments of one
//! lesion (a multi-coloured lesion whose lighter parts fall below the threshold).

use crate::segment::BoxPrompt;

use super::LesionCandidate;

/// Running statistics of one connected region on the working copy.
#[derive(Debug, Clone)]
pub(crate) struct RegionStats {
    pub area: u32,
    pub strong: u32,
    pub distance: f32,
    pub sum_x: f32,
    pub sum_y: f32,
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    /// Radius of the widest disc inside the region, in pixels.
    pub inscribed: u8,
    /// Box of the strong (high-threshold) pixels: the lesion's core.
    pub core: [u32; 4],
    /// Coordinates of the strong pixels (for a robust core box).
    pub strong_xs: Vec<u32>,
    pub strong_ys: Vec<u32>,
}

impl Default for RegionStats {
    fn default() -> Self {
        Self {
            area: 0,
            strong: 0,
            distance: 0.0,
            sum_x: 0.0,
            sum_y: 0.0,
            x0: u32::MAX,
            y0: u32::MAX,
            x1: 0,
            y1: 0,
            inscribed: 0,
            core: [u32::MAX, u32::MAX, 0, 0],
            strong_xs: Vec::new(),
            strong_ys: Vec::new(),
        }
    }
}

impl RegionStats {
    pub fn add(&mut self, x: u32, y: u32, distance: f32, strong: bool, inscribed: u8) {
        self.inscribed = self.inscribed.max(inscribed);
        self.area += 1;
        self.strong += u32::from(strong);
        if strong {
            self.strong_xs.push(x);
            self.strong_ys.push(y);
        }
        self.distance += distance;
        self.sum_x += x as f32;
        self.sum_y += y as f32;
        self.x0 = self.x0.min(x);
        self.y0 = self.y0.min(y);
        self.x1 = self.x1.max(x);
        self.y1 = self.y1.max(y);
    }

    /// The core box: where the middle [`CORE_SHARE`] of the strong pixels lie on each axis
    /// (outlying specks of the region do not widen it).
    pub fn finish_core(&mut self) {
        let range = |v: &mut Vec<u32>| -> Option<(u32, u32)> {
            if v.is_empty() {
                return None;
            }
            v.sort_unstable();
            let cut = ((v.len() as f32) * (1.0 - CORE_SHARE) / 2.0) as usize;
            Some((v[cut], v[v.len() - 1 - cut]))
        };
        if let (Some((x0, x1)), Some((y0, y1))) = (range(&mut self.strong_xs), range(&mut self.strong_ys)) {
            self.core = [x0, y0, x1, y1];
        }
    }

    /// Widest inscribed disc's diameter relative to the box's shorter side (1 for a filled
    /// square or disc, small for a line or a ring).
    pub fn thickness(&self) -> f32 {
        let short = (self.x1 - self.x0 + 1).min(self.y1 - self.y0 + 1) as f32;
        (2.0 * f32::from(self.inscribed) / short).min(1.0)
    }
}

/// Share of a region's strong pixels its core box spans on each axis.
const CORE_SHARE: f32 = 0.96;

/// Smallest contrast ratio between two fragments of one lesion.
const FRAGMENT_CONTRAST: f32 = 0.6;
/// Smallest fragment area relative to the region it joins.
const FRAGMENT_AREA: f32 = 0.1;

/// Merges fragments into the better-ranked region they lie next to, in rank order. Two
/// regions are fragments of one lesion when the gap between their boxes is at most
/// `distance` times the longest side of the larger one's own box (not of a box already grown
/// by merging, so merges do not chain across the skin), their contrasts are within
/// [`FRAGMENT_CONTRAST`] of each other, the fragment has at least [`FRAGMENT_AREA`] of the
/// host's area (a speck of hair or a pore is not a piece of the lesion), and neither touches
/// the frame. A merge widens the host's box but keeps its rank: many faint fragments together
/// do not outrank one clear lesion.
pub(crate) fn merge_fragments(ranked: Vec<LesionCandidate>, distance: f32) -> Vec<LesionCandidate> {
    // (merged candidate, the host's own box before any merge)
    let mut merged: Vec<(LesionCandidate, BoxPrompt)> = Vec::with_capacity(ranked.len());
    for c in ranked {
        let host = merged.iter_mut().find(|(m, own)| {
            let gap_x = (c.bbox.x0 - own.x1).max(own.x0 - c.bbox.x1).max(0.0);
            let gap_y = (c.bbox.y0 - own.y1).max(own.y0 - c.bbox.y1).max(0.0);
            let (mw, mh) = own.size();
            let (cw, ch) = c.bbox.size();
            let reach = distance * mw.max(mh).max(cw.max(ch));
            !m.touches_border
                && !c.touches_border
                && gap_x.max(gap_y) <= reach
                && c.contrast >= FRAGMENT_CONTRAST * m.contrast
                && m.contrast >= FRAGMENT_CONTRAST * c.contrast
                && c.area_px >= FRAGMENT_AREA * m.area_px
        });
        match host {
            Some((m, _)) => {
                m.bbox = m.bbox.union(c.bbox);
                m.area_px += c.area_px;
                m.core = m.core.union(c.core);
            }
            None => {
                let own = c.bbox;
                merged.push((c, own));
            }
        }
    }
    merged.into_iter().map(|(c, _)| c).collect()
}
