//! Timeline pictures, as PNG bytes: the lesion's area over time ([`area_chart`]) and its
//! outlines drawn one on another after alignment ([`outline_overlay`]).
//!
//! Text is drawn with the public-domain 8x8 bitmap font of the `font8x8` crate; lines, points
//! and frames with `imageproc::drawing`. Dates are UTC calendar dates ([`date_string`]).

use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_filled_rect_mut, draw_hollow_rect_mut, draw_line_segment_mut};
use imageproc::rect::Rect;

use super::ScanRecord;
use super::align::{align, scale_between};
use crate::error::HistoryError;
use crate::image::PixelRect;
use crate::segment::Mask;

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([40, 40, 40]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);
const LINE: Rgb<u8> = Rgb([40, 90, 170]);

/// Size of [`area_chart`] pictures.
pub const CHART_SIZE: (u32, u32) = (640, 320);
/// Longer side of the outline drawing in [`outline_overlay`] (the legend is added below).
pub const OVERLAY_SIDE: u32 = 480;
/// Legend lines [`outline_overlay`] draws at most; further scans are summed up in one line.
const LEGEND_MAX: usize = 16;

/// `YYYY-MM-DD` of a time in seconds since the Unix epoch (UTC calendar date, by the `time`
/// crate); `????-??-??` for a time outside years -9999 to 9999.
///
/// ```
/// assert_eq!(dermscan_core::history::timeline::date_string(1_700_000_000), "2023-11-14");
/// ```
pub fn date_string(unix_s: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix_s) {
        Ok(t) => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        Err(_) => "????-??-??".to_owned(),
    }
}

/// A chart of the lesion's area over time, as PNG bytes (640x320, white background): one point
/// per scan joined in time order, the first and last dates under the x axis. The area is in
/// mm² when every scan has a scale, else in pixels (the title says which). Scans may come in
/// any order; identical dates and zero areas are drawn as they are.
///
/// ```
/// use dermscan_core::history::{timeline::area_chart, ScanRecord};
/// let scan = |id: i64, day: i64, area_px: u64| ScanRecord {
///     id, lesion_id: 1, taken_at: 1_700_000_000 + day * 86_400, width: 800, height: 600,
///     mm_per_px: Some(0.02), area_px, features: None, classification: None, risk: None,
///     models: Vec::new(), photo_file: String::new(), mask_file: String::new(),
/// };
/// let png = area_chart(&[scan(1, 0, 40_000), scan(2, 61, 46_000), scan(3, 150, 52_000)])?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), dermscan_core::HistoryError>(())
/// ```
pub fn area_chart(scans: &[ScanRecord]) -> Result<Vec<u8>, HistoryError> {
    let _span = tracing::debug_span!("history_area_chart", scans = scans.len()).entered();
    if scans.is_empty() {
        return Err(HistoryError::InvalidArgument("an area chart needs at least one scan".into()));
    }
    let mut order: Vec<&ScanRecord> = scans.iter().collect();
    order.sort_by_key(|s| (s.taken_at, s.id));
    let in_mm = order.iter().all(|s| s.mm_per_px.is_some_and(|v| v.is_finite() && v > 0.0));
    let area = |s: &ScanRecord| if in_mm { s.area_mm2().unwrap_or(0.0) } else { s.area_px as f64 };
    let values: Vec<f64> = order.iter().map(|s| area(s)).collect();

    let (w, h) = CHART_SIZE;
    let mut img = RgbImage::from_pixel(w, h, WHITE);
    let (left, right, top, bottom) = (76.0f32, w as f32 - 28.0, 40.0f32, h as f32 - 48.0);
    let title =
        format!("Lesion area ({}), {} scan{}", if in_mm { "mm²" } else { "px" }, order.len(), if order.len() == 1 { "" } else { "s" });
    draw_text(&mut img, left as i32, 14, &title, INK, 1);

    // y: 0 to a round number above the largest area.
    let max = values.iter().copied().fold(0.0f64, f64::max);
    let tick = nice_step(if max > 0.0 { max * 1.1 / 4.0 } else { 0.25 });
    let ticks = ((max * 1.05 / tick).ceil() as i64).max(1);
    let y_max = tick * ticks as f64;
    let y_of = |v: f64| bottom - ((v / y_max) as f32) * (bottom - top);
    let decimals = if tick >= 1.0 { 0 } else { (-tick.log10()).ceil() as usize };
    for k in 0..=ticks {
        let v = tick * k as f64;
        let y = y_of(v);
        if k > 0 {
            draw_line_segment_mut(&mut img, (left + 1.0, y), (right - 1.0, y), GRID);
        }
        let label = format!("{v:.decimals$}");
        draw_text(&mut img, left as i32 - 6 - text_width(&label, 1) as i32, y as i32 - 4, &label, INK, 1);
    }
    draw_hollow_rect_mut(&mut img, Rect::at(left as i32, top as i32).of_size((right - left) as u32, (bottom - top) as u32 + 1), INK);

    // x: time, first to last scan; all at the middle when they share one time.
    let (t0, t1) = (order.first().map_or(0, |s| s.taken_at), order.last().map_or(0, |s| s.taken_at));
    let span = (t1 as f64 - t0 as f64).max(0.0);
    let (x_left, x_right) = (left + 16.0, right - 16.0);
    let x_of =
        |t: i64| if span > 0.0 { x_left + (((t as f64 - t0 as f64) / span) as f32) * (x_right - x_left) } else { (x_left + x_right) / 2.0 };
    let points: Vec<(f32, f32)> = order.iter().zip(&values).map(|(s, &v)| (x_of(s.taken_at), y_of(v))).collect();
    for pair in points.windows(2) {
        if let [a, b] = pair {
            for d in [0.0, 1.0] {
                draw_line_segment_mut(&mut img, (a.0, a.1 + d), (b.0, b.1 + d), LINE);
            }
        }
    }
    for &(x, y) in &points {
        draw_filled_circle_mut(&mut img, (x.round() as i32, y.round() as i32), 4, LINE);
    }
    let (first, last) = (date_string(t0), date_string(t1));
    let label_y = bottom as i32 + 10;
    if first == last {
        let x = x_of(t0) as i32 - text_width(&first, 1) as i32 / 2;
        draw_text(&mut img, x, label_y, &first, INK, 1);
    } else {
        draw_text(&mut img, x_left as i32 - text_width(&first, 1) as i32 / 2, label_y, &first, INK, 1);
        draw_text(&mut img, x_right as i32 - text_width(&last, 1) as i32 / 2, label_y, &last, INK, 1);
        let days = format!("{:.0} days", span / 86_400.0);
        draw_text(&mut img, ((left + right) / 2.0) as i32 - text_width(&days, 1) as i32 / 2, label_y + 14, &days, INK, 1);
    }
    encode_png(&img)
}

/// The lesion's outlines one on another, as PNG bytes: each later mask aligned to the first
/// (earliest) one with [`align`] (scaled to its pixels when both scans have a scale, as
/// [`super::change::compare`] does), drawn in time order from blue (oldest) to red (newest) on
/// white, cropped to the outlines with a margin and scaled so the longer side is about 480 px,
/// with a legend of dates below. Scans may come in any order; a scan with an empty mask gets a
/// legend line but no outline. Errors when no scan is given or every mask is empty.
pub fn outline_overlay(scans: &[(ScanRecord, Mask)]) -> Result<Vec<u8>, HistoryError> {
    let _span = tracing::debug_span!("history_outline_overlay", scans = scans.len()).entered();
    let mut order: Vec<&(ScanRecord, Mask)> = scans.iter().collect();
    order.sort_by_key(|(s, _)| (s.taken_at, s.id));
    let Some((reference, reference_mask)) = order.iter().find(|(_, m)| m.area_px() > 0).map(|pair| (&pair.0, &pair.1)) else {
        return Err(HistoryError::InvalidArgument(if scans.is_empty() {
            "an outline overlay needs at least one scan".into()
        } else {
            "every mask is empty: no outline to draw".into()
        }));
    };
    let mut aligned: Vec<Option<Mask>> = Vec::with_capacity(order.len());
    for (record, mask) in &order {
        if mask.area_px() == 0 {
            aligned.push(None);
        } else if std::ptr::eq(record, reference) {
            aligned.push(Some(mask.clone()));
        } else {
            let scale = scale_between(reference, record)?.unwrap_or(1.0);
            aligned.push(Some(align(reference_mask, mask, scale)?.1));
        }
    }

    // Crop: the union of the outlines plus a margin, scaled to OVERLAY_SIDE.
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
    for b in aligned.iter().flatten().filter_map(|m| m.bbox().map(PixelRect::corners)) {
        (x0, y0, x1, y1) = (x0.min(b[0]), y0.min(b[1]), x1.max(b[2]), y1.max(b[3]));
    }
    if x0 >= x1 || y0 >= y1 {
        (x0, y0, x1, y1) = (0, 0, reference_mask.width(), reference_mask.height());
    }
    let side = f64::from((x1 - x0).max(y1 - y0));
    let margin = side * 0.08 + 4.0;
    let (cx0, cy0) = (f64::from(x0) - margin, f64::from(y0) - margin);
    let (cw, ch) = (f64::from(x1 - x0) + 2.0 * margin, f64::from(y1 - y0) + 2.0 * margin);
    let zoom = f64::from(OVERLAY_SIDE) / cw.max(ch);
    let (pw, ph) = (((cw * zoom).round() as u32).max(1), ((ch * zoom).round() as u32).max(1));

    let pad = 10u32;
    let shown = order.len().min(LEGEND_MAX);
    let legend_lines = shown + usize::from(order.len() > LEGEND_MAX);
    let title_h = 20u32;
    let legend_h = legend_lines as u32 * 14 + 8;
    let width = pw.max(300) + 2 * pad;
    let height = title_h + ph + legend_h + 2 * pad;
    let mut img = RgbImage::from_pixel(width, height, WHITE);
    let ox = pad as f64 + f64::from(pw.max(300) - pw) / 2.0;
    let oy = f64::from(pad + title_h);
    draw_text(&mut img, pad as i32, pad as i32, &format!("Outlines aligned to {}", date_string(reference.taken_at)), INK, 1);
    draw_hollow_rect_mut(&mut img, Rect::at(ox as i32 - 1, oy as i32 - 1).of_size(pw + 2, ph + 2), GRID);

    let colours: Vec<Rgb<u8>> = (0..order.len()).map(|i| time_colour(i, order.len())).collect();
    for (mask, &colour) in aligned.iter().zip(&colours) {
        let Some(mask) = mask else { continue };
        for contour in mask.outer_contours() {
            // Pixel centres (x + 0.5, y + 0.5) on the canvas.
            let to_canvas = |[x, y]: [u32; 2]| {
                let p = [f64::from(x) + 0.5, f64::from(y) + 0.5];
                (((p[0] - cx0) * zoom + ox) as f32, ((p[1] - cy0) * zoom + oy) as f32)
            };
            let n = contour.len();
            for i in 0..n {
                let (Some(&a), Some(&b)) = (contour.get(i), contour.get((i + 1) % n)) else { continue };
                let (a, b) = (to_canvas(a), to_canvas(b));
                for (dx, dy) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)] {
                    draw_line_segment_mut(&mut img, (a.0 + dx, a.1 + dy), (b.0 + dx, b.1 + dy), colour);
                }
            }
        }
    }
    // Scale bar when every scan has a scale (the drawing is in the first scan's pixels).
    if let Some(mm) = reference.mm_per_px.filter(|v| v.is_finite() && *v > 0.0 && order.iter().all(|(s, _)| s.mm_per_px.is_some())) {
        let px_per_mm = zoom / f64::from(mm);
        let bar_mm = nice_step(f64::from(pw) * 0.2 / px_per_mm);
        let bar_px = (bar_mm * px_per_mm).round() as u32;
        if bar_px >= 4 && bar_px < pw {
            let (bx, by) = (ox as i32 + pw as i32 - bar_px as i32 - 8, oy as i32 + ph as i32 - 12);
            draw_filled_rect_mut(&mut img, Rect::at(bx, by).of_size(bar_px, 3), INK);
            let label = format!("{} mm", trim_number(bar_mm));
            draw_text(&mut img, bx + bar_px as i32 / 2 - text_width(&label, 1) as i32 / 2, by - 11, &label, INK, 1);
        }
    }
    // Legend.
    let ly = (oy as u32 + ph + 8) as i32;
    for (i, ((record, _), mask)) in order.iter().zip(&aligned).take(shown).enumerate() {
        let y = ly + i as i32 * 14;
        let colour = colours.get(i).copied().unwrap_or(INK);
        draw_filled_rect_mut(&mut img, Rect::at(pad as i32, y + 2).of_size(18, 4), colour);
        let text = format!("{}{}", date_string(record.taken_at), if mask.is_none() { "  (empty mask)" } else { "" });
        draw_text(&mut img, pad as i32 + 26, y, &text, INK, 1);
    }
    if order.len() > LEGEND_MAX {
        let text = format!("... and {} later scans", order.len() - LEGEND_MAX);
        draw_text(&mut img, pad as i32 + 26, ly + shown as i32 * 14, &text, INK, 1);
    }
    encode_png(&img)
}

/// Blue (oldest, `i = 0`) to red (newest, `i = n - 1`).
fn time_colour(i: usize, n: usize) -> Rgb<u8> {
    let t = if n > 1 { i as f64 / (n - 1) as f64 } else { 0.0 };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round().clamp(0.0, 255.0) as u8;
    Rgb([mix(20.0, 220.0), mix(70.0, 20.0), mix(230.0, 30.0)])
}

/// 1, 2 or 5 times a power of ten, at least `raw` (for axis ticks and scale bars).
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|k| k * p).find(|&s| s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * p)
}

/// A number without trailing zeros ("0.5", "2", "10").
fn trim_number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Width in pixels of `text` drawn by [`draw_text`] at `scale`.
pub(crate) fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * 8 * scale
}

/// Draws `text` with its top-left corner at `(x, y)` in the 8x8 bitmap font of `font8x8`
/// (ASCII and Latin-1, so "mm²" and "µm" work; other characters show as "?"), each font pixel
/// a `scale` x `scale` square. Parts outside the image are skipped.
pub(crate) fn draw_text(img: &mut RgbImage, x: i32, y: i32, text: &str, colour: Rgb<u8>, scale: u32) {
    let scale = scale.max(1) as i64;
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for (k, ch) in text.chars().enumerate() {
        let code = ch as usize;
        let glyph = match code {
            0..=127 => font8x8::legacy::BASIC_LEGACY.get(code),
            0xA0..=0xFF => font8x8::legacy::LATIN_LEGACY.get(code - 0xA0),
            _ => font8x8::legacy::BASIC_LEGACY.get(usize::from(b'?')),
        };
        let Some(glyph) = glyph else { continue };
        let gx0 = i64::from(x) + k as i64 * 8 * scale;
        for (gy, row) in glyph.iter().enumerate() {
            for gx in 0..8 {
                if row >> gx & 1 == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (gx0 + gx * scale + dx, i64::from(y) + gy as i64 * scale + dy);
                        if (0..w).contains(&px) && (0..h).contains(&py) {
                            img.put_pixel(px as u32, py as u32, colour);
                        }
                    }
                }
            }
        }
    }
}

/// PNG bytes of an RGB picture.
pub(crate) fn encode_png(img: &RgbImage) -> Result<Vec<u8>, HistoryError> {
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut out);
    image::ImageEncoder::write_image(encoder, img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| HistoryError::InvalidArgument(format!("the picture could not be encoded as PNG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, taken_at: i64, area_px: u64, mm_per_px: Option<f32>) -> ScanRecord {
        ScanRecord {
            id,
            lesion_id: 1,
            taken_at,
            width: 120,
            height: 90,
            mm_per_px,
            area_px,
            features: None,
            classification: None,
            risk: None,
            models: Vec::new(),
            photo_file: String::new(),
            mask_file: String::new(),
        }
    }

    fn ellipse(w: u32, h: u32, cx: f64, cy: f64, a: f64, b: f64) -> Mask {
        let px = (0..w * h)
            .map(|i| u8::from(((f64::from(i % w) + 0.5 - cx) / a).powi(2) + ((f64::from(i / w) + 0.5 - cy) / b).powi(2) <= 1.0))
            .collect();
        Mask::from_pixels(w, h, px).expect("w*h pixels")
    }

    fn decode(png: &[u8]) -> RgbImage {
        image::load_from_memory(png).expect("decodes").to_rgb8()
    }

    #[test]
    fn history_civil_dates() {
        assert_eq!(date_string(0), "1970-01-01");
        assert_eq!(date_string(86_399), "1970-01-01");
        assert_eq!(date_string(86_400), "1970-01-02");
        assert_eq!(date_string(951_782_400), "2000-02-29");
        assert_eq!(date_string(951_868_800), "2000-03-01");
        assert_eq!(date_string(1_700_000_000), "2023-11-14");
        assert_eq!(date_string(4_107_542_400), "2100-03-01");
        assert_eq!(date_string(-86_400 * 365), "1969-01-01");
        assert_eq!(date_string(1_709_164_800), "2024-02-29");
        // Far times neither overflow nor panic.
        assert_eq!(date_string(i64::MIN), "????-??-??");
        assert_eq!(date_string(i64::MAX), "????-??-??");
    }

    #[test]
    fn history_area_chart_sizes_and_edge_cases() {
        let day = 86_400;
        let scans = [record(2, 40 * day, 5200, Some(0.02)), record(1, 0, 4000, Some(0.02)), record(3, 95 * day, 6100, Some(0.02))];
        let img = decode(&area_chart(&scans).expect("chart"));
        assert_eq!(img.dimensions(), CHART_SIZE);
        // Something was drawn in the line colour.
        assert!(img.pixels().any(|p| *p == LINE));
        // One scan, identical dates, zero areas, mixed scales: no panic, same size.
        for set in [
            vec![record(1, 0, 4000, None)],
            vec![record(1, 5 * day, 0, None), record(2, 5 * day, 0, None)],
            vec![record(1, 0, 100, Some(0.02)), record(2, day, 300, None)],
            vec![record(1, -3 * day, 0, Some(f32::NAN)), record(2, i64::MAX / 2, u64::MAX / 4, None)],
        ] {
            assert_eq!(decode(&area_chart(&set).expect("chart")).dimensions(), CHART_SIZE);
        }
        assert!(matches!(area_chart(&[]), Err(HistoryError::InvalidArgument(_))));
    }

    #[test]
    fn history_outline_overlay_draws_blue_to_red() {
        let day = 86_400;
        let first = ellipse(120, 90, 40.0, 40.0, 20.0, 12.0);
        let second = ellipse(120, 90, 70.0, 50.0, 13.0, 23.0);
        let scans = vec![(record(2, 30 * day, second.area_px(), None), second), (record(1, 0, first.area_px(), None), first)];
        let img = decode(&outline_overlay(&scans).expect("overlay"));
        assert!(img.width() >= OVERLAY_SIDE && img.width() <= OVERLAY_SIDE + 40, "{:?}", img.dimensions());
        assert!(img.pixels().any(|p| *p == time_colour(0, 2)) && img.pixels().any(|p| *p == time_colour(1, 2)));
        assert_eq!(time_colour(0, 1), time_colour(0, 2));
    }

    #[test]
    fn history_outline_overlay_edge_cases() {
        let disc = ellipse(60, 40, 30.0, 20.0, 8.0, 8.0);
        let empty = Mask::from_pixels(60, 40, vec![0; 2400]).expect("w*h pixels");
        assert!(matches!(outline_overlay(&[]), Err(HistoryError::InvalidArgument(_))));
        assert!(matches!(outline_overlay(&[(record(1, 0, 0, None), empty.clone())]), Err(HistoryError::InvalidArgument(_))));
        // One scan; an empty mask first; identical dates; a scale on both.
        decode(&outline_overlay(&[(record(1, 0, 200, None), disc.clone())]).expect("one"));
        decode(&outline_overlay(&[(record(1, 0, 0, None), empty), (record(2, 0, 200, None), disc.clone())]).expect("empty first"));
        let scaled = [(record(1, 0, 200, Some(0.05)), disc.clone()), (record(2, 0, 200, Some(0.05)), disc)];
        decode(&outline_overlay(&scaled).expect("scaled"));
        // A one-pixel lesion.
        let dot = Mask::from_pixels(3, 3, vec![0, 0, 0, 0, 1, 0, 0, 0, 0]).expect("w*h pixels");
        decode(&outline_overlay(&[(record(1, 0, 1, None), dot)]).expect("dot"));
    }

    #[test]
    fn history_text_and_steps() {
        let mut img = RgbImage::from_pixel(40, 12, WHITE);
        draw_text(&mut img, -4, 2, "mm² é€", INK, 1);
        assert!(img.pixels().any(|p| *p == INK));
        draw_text(&mut img, 1000, 1000, "x", INK, 3);
        assert_eq!(text_width("2024-01-01", 2), 160);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(trim_number(0.5), "0.5");
        assert_eq!(trim_number(2.0), "2");
    }
}
