//! A report for a doctor: one self-contained HTML file per lesion.
//!
//! Every picture is embedded as a `data:` URL and a Content-Security-Policy forbids loading
//! anything else, so the file opens offline, fetches nothing, and can be shared as one
//! attachment. It holds the timeline chart, the aligned outlines, a cropped photo of each
//! scan with the outline drawn on it, the measurements of each scan, the latest change and
//! the not-a-diagnosis statement.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::change::Change;
use super::store::checkpoint;
use super::{HistoryStore, Lesion, ScanRecord, timeline};
use crate::NOT_A_DIAGNOSIS;
use crate::control::{Control, Stage};
use crate::error::HistoryError;
use crate::image::{Image, ImageLimits};
use crate::segment::Mask;

/// Longest side of the embedded scan photos, in pixels.
const THUMB_SIDE: u32 = 320;

/// Everything a report shows, gathered by [`super::HistoryStore::report_html`].
pub(crate) struct ReportInput<'a> {
    pub lesion: &'a Lesion,
    /// Scans, oldest first, with their masks and photos (encoded bytes).
    pub scans: &'a [(ScanRecord, Mask, Vec<u8>)],
    /// Change between the last two scans.
    pub latest: Option<&'a Change>,
    /// Change between the first and the last scan.
    pub overall: Option<&'a Change>,
    /// When the report was made, seconds since the Unix epoch.
    pub generated_at: i64,
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn format_time(unix_s: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix_s) {
        Ok(t) => format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute()),
        Err(_) => "????-??-?? ??:?? UTC".to_owned(),
    }
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", STANDARD.encode(bytes))
}

/// A JPEG of the lesion's surroundings (twice its box) with its outline, at most
/// [`THUMB_SIDE`] pixels a side.
fn thumbnail(photo: &[u8], mask: &Mask) -> Result<Vec<u8>, HistoryError> {
    let image =
        Image::from_bytes(photo, &ImageLimits::default()).map_err(|e| HistoryError::InvalidArgument(format!("stored photo: {e}")))?;
    if (image.width(), image.height()) != (mask.width(), mask.height()) {
        return Err(HistoryError::InvalidArgument("stored photo and mask differ in size".into()));
    }
    let [x0, y0, x1, y1] = mask.bbox().map(|r| r.corners()).unwrap_or([0, 0, mask.width(), mask.height()]);
    let (cx, cy) = ((x0 + x1) / 2, (y0 + y1) / 2);
    let half = (x1 - x0).max(y1 - y0).max(16);
    let (left, top) = (cx.saturating_sub(half), cy.saturating_sub(half));
    let (right, bottom) = ((cx + half).min(image.width()), (cy + half).min(image.height()));
    let mut rgb = image.into_rgb_image();
    for [x, y] in mask.contour() {
        for (dx, dy) in [(0i64, 0i64), (1, 0), (0, 1), (-1, 0), (0, -1)] {
            let (px, py) = (i64::from(x) + dx, i64::from(y) + dy);
            if px >= 0 && py >= 0 && px < i64::from(rgb.width()) && py < i64::from(rgb.height()) {
                rgb.put_pixel(px as u32, py as u32, ::image::Rgb([255, 230, 0]));
            }
        }
    }
    let crop = ::image::imageops::crop_imm(&rgb, left, top, right - left, bottom - top).to_image();
    let scale = f64::from(THUMB_SIDE) / f64::from(crop.width().max(crop.height()));
    let crop = if scale < 1.0 {
        let (w, h) =
            (((f64::from(crop.width()) * scale).round() as u32).max(1), ((f64::from(crop.height()) * scale).round() as u32).max(1));
        ::image::imageops::resize(&crop, w, h, ::image::imageops::FilterType::Triangle)
    } else {
        crop
    };
    let mut out = Vec::new();
    ::image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&crop)
        .map_err(|e| HistoryError::InvalidArgument(format!("cannot encode thumbnail: {e}")))?;
    Ok(out)
}

fn size_text(scan: &ScanRecord) -> String {
    match scan.diameter_mm() {
        Some(d) => format!("{d:.1} mm ({:.1} mm²)", scan.area_mm2().unwrap_or(0.0)),
        None => format!("{:.0} px ({} px²; no scale)", scan.diameter_px(), scan.area_px),
    }
}

fn change_section(out: &mut String, title: &str, change: &Change) {
    let _ = writeln!(out, "<h3>{}</h3>\n<table class=\"change\">", esc(title));
    let verdict = if change.significant { "<strong class=\"flag\">significant change</strong>" } else { "no significant change" };
    let _ = writeln!(out, "<tr><th>Verdict</th><td>{verdict}</td></tr>");
    let _ = writeln!(out, "<tr><th>Time between scans</th><td>{:.0} days</td></tr>", change.days_between);
    let _ = writeln!(out, "<tr><th>Area ratio (after / before)</th><td class=\"area-ratio\">{:.3}</td></tr>", change.area_ratio);
    let _ = writeln!(
        out,
        "<tr><th>Diameter</th><td>{:.1} → {:.1} {} ({:+.1})</td></tr>",
        change.diameter_before,
        change.diameter_after,
        esc(change.diameter_unit.length_symbol()),
        change.diameter_change
    );
    let _ = writeln!(out, "<tr><th>Outline overlap after alignment (IoU)</th><td class=\"iou\">{:.3}</td></tr>", change.iou_aligned);
    if let Some(g) = change.growth_per_month {
        let _ = writeln!(out, "<tr><th>Area growth per month</th><td>{:+.1} %</td></tr>", g * 100.0);
    }
    for (name, value) in
        [("Asymmetry (A)", change.asymmetry_change), ("Border (B)", change.border_change), ("Colours (C)", change.colour_change)]
    {
        if let Some(v) = value {
            let _ = writeln!(out, "<tr><th>{name} change</th><td>{v:+}</td></tr>");
        }
    }
    out.push_str("</table>\n");
    if !change.reasons.is_empty() {
        out.push_str("<ul class=\"reasons\">\n");
        for r in &change.reasons {
            let _ = writeln!(out, "<li>{}</li>", esc(&r.text));
        }
        out.push_str("</ul>\n");
    }
    for note in &change.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(note));
    }
}

impl HistoryStore {
    /// PNG chart of the lesion's size over time (mm² when every scan has a scale, else px).
    pub fn area_chart_png(&self, lesion_id: i64) -> Result<Vec<u8>, HistoryError> {
        timeline::area_chart(&self.scans(lesion_id)?)
    }

    /// PNG of the lesion's outlines aligned to its first scan, oldest blue to newest red.
    pub fn outlines_png(&self, lesion_id: i64) -> Result<Vec<u8>, HistoryError> {
        timeline::outline_overlay(&self.scans_with_masks(lesion_id)?)
    }

    /// The report for one lesion as a self-contained HTML document (see the module docs).
    pub fn report_html(&self, lesion_id: i64) -> Result<String, HistoryError> {
        self.report_html_with(lesion_id, &Control::new())
    }

    /// [`HistoryStore::report_html`] with progress ([`Stage::Report`] once per scan read) and
    /// cancellation.
    pub fn report_html_with(&self, lesion_id: i64, control: &Control) -> Result<String, HistoryError> {
        let html = self.render_report(lesion_id, control)?;
        control.report(Stage::Done);
        Ok(html)
    }

    fn render_report(&self, lesion_id: i64, control: &Control) -> Result<String, HistoryError> {
        control.report_at(Stage::Report, 0.0);
        let lesion = self.lesion(lesion_id)?;
        let mut scans = Vec::new();
        let records = self.scans_with_masks(lesion_id)?;
        let total = records.len();
        for (record, mask) in records {
            checkpoint(control)?;
            control.report_at(Stage::Report, 0.5 * scans.len() as f32 / total as f32);
            let photo = self.photo(&record)?;
            scans.push((record, mask, photo));
        }
        checkpoint(control)?;
        control.report_at(Stage::Report, 0.5);
        let latest = self.latest_change(lesion_id)?;
        let overall = match scans.as_slice() {
            [first, .., last] if scans.len() > 2 => Some(self.compare(first.0.id, last.0.id)?),
            _ => None,
        };
        let generated_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        render(&ReportInput { lesion: &lesion, scans: &scans, latest: latest.as_ref(), overall: overall.as_ref(), generated_at })
    }

    /// Writes the report for one lesion to `path` (and nowhere else), atomically: a
    /// temporary file beside it is flushed and renamed over it.
    pub fn write_report(&self, lesion_id: i64, path: impl AsRef<std::path::Path>) -> Result<(), HistoryError> {
        self.write_report_with(lesion_id, path, &Control::new())
    }

    /// [`HistoryStore::write_report`] with progress and cancellation (nothing is written
    /// when cancelled).
    pub fn write_report_with(&self, lesion_id: i64, path: impl AsRef<std::path::Path>, control: &Control) -> Result<(), HistoryError> {
        let path = path.as_ref();
        if path.file_name().is_none() {
            return Err(HistoryError::InvalidArgument(format!("{} is not a file path", path.display())));
        }
        let html = self.render_report(lesion_id, control)?;
        checkpoint(control)?;
        super::files::replace_atomic(path, html.as_bytes())?;
        control.report(Stage::Done);
        Ok(())
    }
}

/// Renders the report.
pub(crate) fn render(input: &ReportInput<'_>) -> Result<String, HistoryError> {
    let _span = tracing::info_span!("history_report", scans = input.scans.len()).entered();
    let lesion = input.lesion;
    let title = format!("Derm-Scan report: {}", lesion.label);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n\
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}\n\
.disclaimer {{ border: 2px solid #b00; background: #fff3f3; padding: .8em 1em; }}\n\
table {{ border-collapse: collapse; margin: .5em 0; }} th, td {{ border: 1px solid #bbb; padding: .25em .5em; text-align: left; }}\n\
.flag {{ color: #b00; }} .note {{ color: #555; font-size: .9em; }}\n\
figure {{ display: inline-block; margin: .5em; vertical-align: top; }} figcaption {{ font-size: .85em; }}\n\
</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"disclaimer\" id=\"disclaimer\">{}</p>\n",
        esc(&title),
        esc(&title),
        esc(NOT_A_DIAGNOSIS)
    );

    let first = input.scans.first().map(|s| s.0.taken_at);
    let last = input.scans.last().map(|s| s.0.taken_at);
    out.push_str("<h2>Lesion</h2>\n<table class=\"lesion\">\n");
    let _ = writeln!(out, "<tr><th>Label</th><td>{}</td></tr>", esc(&lesion.label));
    let site = lesion.body_site.map_or("not given", |s| s.name());
    let _ = writeln!(out, "<tr><th>Body site</th><td>{}</td></tr>", esc(site));
    let _ = writeln!(out, "<tr><th>Scans</th><td>{}</td></tr>", input.scans.len());
    if let (Some(a), Some(b)) = (first, last) {
        let _ = writeln!(out, "<tr><th>First / last scan</th><td>{} / {}</td></tr>", format_time(a), format_time(b));
    }
    let _ = writeln!(out, "<tr><th>Report made</th><td>{}</td></tr>\n</table>", format_time(input.generated_at));

    if input.latest.is_some() || input.overall.is_some() {
        out.push_str("<h2>Change</h2>\n");
        if let Some(c) = input.latest {
            change_section(&mut out, "Since the previous scan", c);
        }
        if let Some(c) = input.overall.filter(|o| Some(o.before_id) != input.latest.map(|l| l.before_id)) {
            change_section(&mut out, "Since the first scan", c);
        }
    }

    if !input.scans.is_empty() {
        let records: Vec<ScanRecord> = input.scans.iter().map(|s| s.0.clone()).collect();
        let with_masks: Vec<(ScanRecord, Mask)> = input.scans.iter().map(|s| (s.0.clone(), s.1.clone())).collect();
        out.push_str("<h2>Timeline</h2>\n");
        let _ = writeln!(
            out,
            "<figure><img id=\"area-chart\" alt=\"Lesion size over time\" src=\"{}\"><figcaption>Size over time</figcaption></figure>",
            data_url("image/png", &timeline::area_chart(&records)?)
        );
        let _ = writeln!(
            out,
            "<figure><img id=\"outlines\" alt=\"Aligned outlines, oldest blue to newest red\" src=\"{}\"><figcaption>Outlines aligned to the first scan, oldest blue to newest red</figcaption></figure>",
            data_url("image/png", &timeline::outline_overlay(&with_masks)?)
        );
    }

    out.push_str("<h2>Scans</h2>\n<table id=\"measurements\">\n<tr><th>#</th><th>Taken</th><th>Size (equivalent diameter)</th><th>A</th><th>B</th><th>C</th><th>TDS (proxy)</th><th>Classifier (top, malignant share)</th><th>Risk</th></tr>\n");
    for (i, (scan, _, _)) in input.scans.iter().enumerate() {
        let abcd = scan.features.as_ref().map(|f| &f.abcd);
        let cell = |v: Option<String>| v.unwrap_or_else(|| "–".to_owned());
        let classifier = scan.classification.as_ref().map(|c| format!("{} ({:.0} %)", c.top, c.malignant_probability * 100.0));
        let _ = writeln!(
            out,
            "<tr class=\"scan\"><td>{}</td><td>{}</td><td class=\"size\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            format_time(scan.taken_at),
            esc(&size_text(scan)),
            cell(abcd.map(|a| a.a.to_string())),
            cell(abcd.map(|a| a.b.to_string())),
            cell(abcd.map(|a| a.c.to_string())),
            cell(abcd.map(|a| format!("{:.2}", a.tds))),
            esc(&cell(classifier)),
            cell(scan.risk.as_ref().map(|r| r.level.as_str().to_owned())),
        );
    }
    out.push_str("</table>\n");

    for (i, (scan, mask, photo)) in input.scans.iter().enumerate() {
        let _ = write!(
            out,
            "<figure><img class=\"scan-photo\" alt=\"Scan {} photo\" src=\"{}\"><figcaption>Scan {}: {}<br>{}",
            i + 1,
            data_url("image/jpeg", &thumbnail(photo, mask)?),
            i + 1,
            format_time(scan.taken_at),
            esc(&size_text(scan))
        );
        if let Some(risk) = &scan.risk {
            for reason in &risk.reasons {
                let _ = write!(out, "<br>{}", esc(&reason.text));
            }
        }
        out.push_str("</figcaption></figure>\n");
    }

    let models: std::collections::BTreeSet<String> = input
        .scans
        .iter()
        .flat_map(|s| s.0.models.iter().map(|m| format!("{} {} ({}), sha256 {}", m.name, m.version, m.variant, m.sha256)))
        .collect();
    if !models.is_empty() {
        out.push_str("<h2>Models</h2>\n<ul class=\"models\">\n");
        for m in models {
            let _ = writeln!(out, "<li>{}</li>", esc(&m));
        }
        out.push_str("</ul>\n");
    }
    let _ = write!(
        out,
        "<p class=\"note\">Measured on the device by Derm-Scan. Sizes are in millimetres only where the app gave a scale; \
otherwise in pixels of each photo, which change with camera distance.</p>\n<p class=\"disclaimer\">{}</p>\n</body>\n</html>\n",
        esc(NOT_A_DIAGNOSIS)
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<b>\"x\" & 'y'</b>"), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
    }

    #[test]
    fn formats_utc_time() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13 UTC");
    }
}
