//! Writes a synthetic evaluation set to disk for the Python tools (export calibration,
//! variant evaluation, reference parity) and `examples/evaluate.rs`:
//! `cargo run --release --example synth -- [--out target/synth] [--seed 7] [--n N] [--set standard|small|varied|empty|multi] [--small]`
//!
//! Sets (`tests/support/synth.rs`): `standard` (default, n 36), `small` (small lesions in
//! large frames, n 36; `--small` is an alias), `varied` (every skin type x every lesion kind
//! with artefacts, n 48), `empty` (no lesion, n 24), `multi` (2-4 lesions per photo, n 24).
//!
//! Each case: `NNN.png` (image), `NNN_mask.png` (the primary lesion's truth, 0/255; all zero
//! without a lesion) and, for a photo with more than one lesion, `NNN_mask_K.png` for each
//! lesion K (0 = primary). `meta.json` lists them: `file`, `mask`, `box` (the primary mask's
//! tight box, exclusive ends; absent without a lesion), `hair`, `skin_type`, `radius`,
//! `colours`, `irregularity`, `vignette`, `glare`, `blur`, `kind`, `fov`, `ink`, `ruler`,
//! `bubbles`, `no_lesion`, `lesion_masks` (the per-lesion mask files, primary first; `[]`
//! without a lesion) and, except for the standard and small sets, `group` (the lesion kind
//! for `varied`, `empty`, `multi`) for `evaluate` to group by.

#[path = "../tests/support/synth.rs"]
mod synth;

use std::ffi::OsStr;
use std::path::PathBuf;

use lexopt::prelude::*;
use synth::SynthScene;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = PathBuf::from("target/synth");
    let (mut seed, mut n, mut set) = (7u64, None, "standard".to_string());
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = next_arg(&mut parser)? {
        match arg {
            Long("out") => out = parser.value().map_err(|_| "--out needs a folder")?.into(),
            Long("seed") => seed = parser.value().map_err(|_| "--seed needs a number")?.string()?.parse()?,
            Long("n") => n = Some(parser.value().map_err(|_| "--n needs a number")?.string()?.parse::<usize>()?),
            Long("set") => set = parser.value().map_err(|_| "--set needs standard|small|varied|empty|multi")?.string()?,
            Long("small") => set = "small".into(),
            Long(other) => return Err(format!("unknown argument --{other}").into()),
            Short(c) => return Err(format!("unknown argument -{c}").into()),
            Value(other) => return Err(format!("unknown argument {}", other.to_string_lossy()).into()),
        }
    }
    let scenes: Vec<SynthScene> = match set.as_str() {
        "standard" => synth::standard_set(seed, n.unwrap_or(36)).into_iter().map(SynthScene::from).collect(),
        "small" => synth::small_lesion_set(seed, n.unwrap_or(36)).into_iter().map(SynthScene::from).collect(),
        "varied" => synth::varied_set(seed, n.unwrap_or(48)),
        "empty" => synth::empty_set(seed, n.unwrap_or(24)),
        "multi" => synth::multi_set(seed, n.unwrap_or(24)),
        other => return Err(format!("unknown set {other} (standard|small|varied|empty|multi)").into()),
    };
    std::fs::create_dir_all(&out)?;
    let mut meta = Vec::new();
    for (i, scene) in scenes.iter().enumerate() {
        let case = synth::render_scene(scene);
        let spec = &case.spec;
        let (file, mask) = (format!("{i:03}.png"), format!("{i:03}_mask.png"));
        case.image.save(out.join(&file))?;
        case.mask.save(out.join(&mask))?;
        let lesion_masks: Vec<String> = if case.lesion_masks.len() > 1 {
            let mut names = Vec::new();
            for (k, m) in case.lesion_masks.iter().enumerate() {
                let name = format!("{i:03}_mask_{k}.png");
                m.save(out.join(&name))?;
                names.push(name);
            }
            names
        } else {
            case.lesion_masks.iter().map(|_| mask.clone()).collect()
        };
        let mut item = serde_json::json!({
            "file": file, "mask": mask, "box": case.bbox, "hair": spec.hair,
            "skin_type": spec.skin_type, "radius": spec.radius, "colours": case.colour_count,
            "irregularity": spec.irregularity, "vignette": spec.vignette, "glare": spec.glare, "blur": spec.blur,
            "kind": scene.kind.name(), "fov": scene.fov, "ink": scene.ink, "ruler": scene.ruler, "bubbles": scene.bubbles,
            "no_lesion": scene.no_lesion, "lesion_masks": lesion_masks,
        });
        if let Some(obj) = item.as_object_mut() {
            if case.lesion_masks.is_empty() {
                obj.remove("box");
            }
            let group = match set.as_str() {
                "varied" => Some(scene.kind.name()),
                "empty" => Some("empty"),
                "multi" => Some("multi"),
                _ => None,
            };
            if let Some(group) = group {
                obj.insert("group".into(), group.into());
            }
        }
        meta.push(item);
    }
    std::fs::write(out.join("meta.json"), serde_json::to_string_pretty(&meta)?)?;
    println!("wrote {} cases ({set} set) to {}", meta.len(), out.display());
    Ok(())
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
        Some(word) => Ok(Some(Value(word))),
        None => parser.next(),
    }
}
