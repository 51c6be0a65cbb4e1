//! The evolution tracker: keep a lesion's scans in a private store and see how it changes.
//!
//! ```text
//! cargo run --release --example track -- --store DIR [--key-file FILE] COMMAND
//!   add --lesion NAME IMAGE [--taken RFC3339] [--scale MM_PER_PX] [--site SITE]
//!       [--model DIR] [--classifier DIR | --no-classifier]
//!   list [--lesion NAME]
//!   compare --lesion NAME [--before SCAN_ID --after SCAN_ID]
//!   report --lesion NAME --out FILE.html
//!   chart --lesion NAME --out FILE.png        (size over time)
//!   outlines --lesion NAME --out FILE.png     (aligned outlines, oldest blue to newest red)
//!   delete-scan SCAN_ID | delete-lesion NAME | check
//! ```
//! `add` scans the photo (LiteMedSAM and the HAM10000 classifier by default), stores it, and
//! prints JSON with the scan and the change since the lesion's previous scan; the lesion is
//! created on first use. `compare` prints the change between the two latest scans (or the
//! two given) as JSON with `area_ratio`, `iou_aligned`, `significant` and `reasons`.
//! `--key-file` holds the 32-byte store key (raw, or 64 hex digits): the store is then
//! encrypted at rest. Everything stays in `--store DIR`; only `report`, `chart` and
//! `outlines` write elsewhere, to the `--out` file.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::ExitCode;

use dermscan::classify::{BodySite, PatientMetadata};
use dermscan::history::{HistoryStore, NewScan, ScanRecord, StoreConfig, StoreKey};
use dermscan::{Engine, EngineConfig, Image, ImageLimits, ScanOptions};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const USAGE: &str = "usage: track --store DIR [--key-file FILE] (add --lesion NAME IMAGE [--taken RFC3339] [--scale MM_PER_PX] [--site SITE] \
[--model DIR] [--classifier DIR | --no-classifier] | list [--lesion NAME] | compare --lesion NAME [--before ID --after ID] | \
report --lesion NAME --out FILE | chart --lesion NAME --out FILE | outlines --lesion NAME --out FILE | delete-scan ID | delete-lesion NAME | check)";

#[derive(Default)]
struct Args {
    store: Option<PathBuf>,
    key_file: Option<PathBuf>,
    command: Option<String>,
    lesion: Option<String>,
    image: Option<PathBuf>,
    taken: Option<i64>,
    scale: Option<f32>,
    site: Option<BodySite>,
    model: Option<PathBuf>,
    classifier: Option<PathBuf>,
    no_classifier: bool,
    before: Option<i64>,
    after: Option<i64>,
    out: Option<PathBuf>,
    positional: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut args = Args::default();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = next_arg(&mut parser).map_err(|e| e.to_string())? {
        match arg {
            Long("store") => args.store = Some(value(&mut parser, "--store")?.into()),
            Long("key-file") => args.key_file = Some(value(&mut parser, "--key-file")?.into()),
            Long("lesion") => args.lesion = Some(value(&mut parser, "--lesion")?),
            Long("taken") => {
                let v = value(&mut parser, "--taken")?;
                let t = OffsetDateTime::parse(&v, &Rfc3339)
                    .map_err(|e| format!("--taken {v:?} is not an RFC 3339 time (2026-11-27T09:30:00Z): {e}"))?;
                args.taken = Some(t.unix_timestamp());
            }
            Long("scale") => args.scale = Some(value(&mut parser, "--scale")?.parse().map_err(|e| format!("--scale: {e}"))?),
            Long("site") => args.site = Some(value(&mut parser, "--site")?.parse::<BodySite>().map_err(|e| format!("--site: {e}"))?),
            Long("model") => args.model = Some(value(&mut parser, "--model")?.into()),
            Long("classifier") => args.classifier = Some(value(&mut parser, "--classifier")?.into()),
            Long("no-classifier") => args.no_classifier = true,
            Long("before") => args.before = Some(value(&mut parser, "--before")?.parse().map_err(|e| format!("--before: {e}"))?),
            Long("after") => args.after = Some(value(&mut parser, "--after")?.parse().map_err(|e| format!("--after: {e}"))?),
            Long("out") => args.out = Some(value(&mut parser, "--out")?.into()),
            Short('h') | Long("help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Long(flag) => return Err(format!("unknown flag --{flag}\n{USAGE}")),
            Short(c) => args.word(format!("-{c}")),
            Value(word) => {
                let word = word.into_string().map_err(|w| format!("{w:?} is not UTF-8"))?;
                if word.starts_with("--") {
                    return Err(format!("unknown flag {word}\n{USAGE}"));
                }
                args.word(word);
            }
        }
    }
    Ok(args)
}

impl Args {
    /// A word that is not a flag: the command first, then its arguments.
    fn word(&mut self, word: String) {
        if self.command.is_none() {
            self.command = Some(word);
        } else {
            self.positional.push(word);
        }
    }
}

/// The value of `flag` (the next argument, whatever it looks like).
fn value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    parser.value().map_err(|_| format!("{flag} needs a value"))?.into_string().map_err(|v| format!("{flag}: {v:?} is not UTF-8"))
}

/// The next argument. `--`, `--flag=value` and `-abc`, which lexopt would read as the end of
/// the flags, a flag with its value and three flags, come whole as values: this program never
/// read them so, and keeps its command line as it was.
fn next_arg(parser: &mut lexopt::Parser) -> Result<Option<lexopt::Arg<'_>>, lexopt::Error> {
    let whole = |w: &OsStr| {
        let w = w.as_encoded_bytes();
        w == b"--" || (w.starts_with(b"--") && w.contains(&b'=')) || (w.len() > 2 && w.starts_with(b"-") && !w.starts_with(b"--"))
    };
    match parser.try_raw_args().and_then(|mut raw| raw.next_if(whole)) {
        Some(word) => Ok(Some(lexopt::Arg::Value(word))),
        None => parser.next(),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_key(path: &PathBuf) -> Result<StoreKey, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let hex = text.trim();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        let raw: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)).collect::<Result<_, _>>()?;
        return Ok(StoreKey::from_slice(&raw)?);
    }
    Ok(StoreKey::from_slice(&bytes)?)
}

fn rfc3339(unix_s: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_s).ok().and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_else(|| unix_s.to_string())
}

fn scan_json(scan: &ScanRecord) -> Value {
    json!({
        "id": scan.id,
        "lesion_id": scan.lesion_id,
        "taken_at": rfc3339(scan.taken_at),
        "width": scan.width,
        "height": scan.height,
        "mm_per_px": scan.mm_per_px,
        "area_px": scan.area_px,
        "area_mm2": scan.area_mm2(),
        "diameter_px": scan.diameter_px(),
        "diameter_mm": scan.diameter_mm(),
        "abcd": scan.features.as_ref().map(|f| json!({"a": f.abcd.a, "b": f.abcd.b, "c": f.abcd.c, "tds": f.abcd.tds})),
        "classification": scan.classification.as_ref().map(|c| json!({"top": c.top, "malignant_probability": c.malignant_probability})),
        "risk": scan.risk,
        "models": scan.models,
        "photo_file": scan.photo_file,
        "mask_file": scan.mask_file,
    })
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let dir = args.store.clone().ok_or(format!("--store DIR is required\n{USAGE}"))?;
    let mut config = StoreConfig::default();
    if let Some(path) = &args.key_file {
        config = config.with_key(read_key(path)?);
    }
    let store = HistoryStore::open(&dir, config)?;
    let lesion_name = || args.lesion.clone().ok_or(format!("--lesion NAME is required\n{USAGE}"));
    let out_path = || args.out.clone().ok_or(format!("--out FILE is required\n{USAGE}"));
    match args.command.as_deref() {
        Some("add") => {
            let name = lesion_name()?;
            let image_path =
                args.image.clone().or_else(|| args.positional.first().map(PathBuf::from)).ok_or(format!("add needs an IMAGE\n{USAGE}"))?;
            let photo = std::fs::read(&image_path).map_err(|e| format!("{}: {e}", image_path.display()))?;
            let image = Image::from_bytes(&photo, &ImageLimits::default())?;
            let mut engine_config = EngineConfig::new(args.model.clone().unwrap_or_else(|| PathBuf::from("models/litemedsam")));
            if !args.no_classifier {
                engine_config =
                    engine_config.with_classifier(args.classifier.clone().unwrap_or_else(|| PathBuf::from("models/ham10000-xception")));
            }
            let engine = Engine::new(engine_config)?;
            let metadata = PatientMetadata { site: args.site, ..PatientMetadata::default() };
            // Snapped outlines: sizes are compared over time, see ScanOptions::snap_edges.
            let options = ScanOptions { mm_per_px: args.scale, metadata, snap_edges: true, ..ScanOptions::default() };
            let result = engine.scan(&image, &options)?;
            let taken = args.taken.unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp());
            let (lesion, added) = store.add_scan_by_label(&name, args.site, NewScan::from_result(&result, photo, taken, args.scale))?;
            let out = json!({"lesion": lesion, "scan": scan_json(&added.record), "change": added.change});
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Some("list") => {
            let lesions = match &args.lesion {
                Some(name) => vec![store.lesion_by_label(name)?],
                None => store.lesions()?,
            };
            let mut out = Vec::new();
            for lesion in lesions {
                let scans: Vec<Value> = store.scans(lesion.id)?.iter().map(scan_json).collect();
                out.push(json!({"id": lesion.id, "label": lesion.label, "body_site": lesion.body_site, "created_at": rfc3339(lesion.created_at), "scans": scans}));
            }
            println!("{}", serde_json::to_string_pretty(&json!({ "lesions": out }))?);
        }
        Some("compare") => {
            let lesion = store.lesion_by_label(&lesion_name()?)?;
            let change = match (args.before, args.after) {
                (Some(before), Some(after)) => store.compare(before, after)?,
                (None, None) => store.latest_change(lesion.id)?.ok_or("the lesion needs two scans to compare")?,
                _ => return Err("give both --before and --after, or neither".into()),
            };
            println!("{}", serde_json::to_string_pretty(&change)?);
        }
        Some("report") => {
            let lesion = store.lesion_by_label(&lesion_name()?)?;
            let out = out_path()?;
            store.write_report(lesion.id, &out)?;
            println!("report for {:?} ({} scans) -> {}", lesion.label, store.scans(lesion.id)?.len(), out.display());
        }
        Some(which @ ("chart" | "outlines")) => {
            let lesion = store.lesion_by_label(&lesion_name()?)?;
            let png = if which == "chart" { store.area_chart_png(lesion.id)? } else { store.outlines_png(lesion.id)? };
            let out = out_path()?;
            std::fs::write(&out, png)?;
            println!("{which} for {:?} -> {}", lesion.label, out.display());
        }
        Some("delete-scan") => {
            let id: i64 = args.positional.first().ok_or("delete-scan needs a SCAN_ID")?.parse()?;
            store.delete_scan(id)?;
            println!("deleted scan {id}");
        }
        Some("delete-lesion") => {
            let name = args.positional.first().cloned().or(args.lesion.clone()).ok_or("delete-lesion needs a NAME")?;
            let lesion = store.lesion_by_label(&name)?;
            store.delete_lesion(lesion.id)?;
            println!("deleted lesion {name:?} and its scans");
        }
        Some("check") => {
            let check = store.check()?;
            println!("{}", serde_json::to_string_pretty(&check)?);
            if !check.is_ok() {
                return Err("the store has problems".into());
            }
        }
        Some(other) => return Err(format!("unknown command {other:?}\n{USAGE}").into()),
        None => return Err(USAGE.into()),
    }
    Ok(())
}
