//! Writes the synthetic evaluation set to disk for the Python tools (export calibration,
//! variant evaluation, reference parity):
//! `cargo run --release --example synth -- [--out target/synth] [--seed 7] [--n 36] [--small]`
//! Each case: `NNN.png` (image), `NNN_mask.png` (truth, 0/255); `meta.json` lists them.

#[path = "../tests/support/synth.rs"]
mod synth;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = PathBuf::from("target/synth");
    let (mut seed, mut n, mut small) = (7u64, 36usize, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().ok_or("--out needs a folder")?.into(),
            "--seed" => seed = args.next().ok_or("--seed needs a number")?.parse()?,
            "--n" => n = args.next().ok_or("--n needs a number")?.parse()?,
            "--small" => small = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    std::fs::create_dir_all(&out)?;
    let specs = if small { synth::small_lesion_set(seed, n) } else { synth::standard_set(seed, n) };
    let mut meta = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let case = synth::render(spec);
        let (file, mask) = (format!("{i:03}.png"), format!("{i:03}_mask.png"));
        case.image.save(out.join(&file))?;
        case.mask.save(out.join(&mask))?;
        meta.push(serde_json::json!({
            "file": file, "mask": mask, "box": case.bbox, "hair": spec.hair,
            "skin_type": spec.skin_type, "radius": spec.radius, "colours": case.colour_count,
            "irregularity": spec.irregularity, "vignette": spec.vignette, "glare": spec.glare, "blur": spec.blur,
        }));
    }
    std::fs::write(out.join("meta.json"), serde_json::to_string_pretty(&meta)?)?;
    println!("wrote {} cases to {}", meta.len(), out.display());
    Ok(())
}
