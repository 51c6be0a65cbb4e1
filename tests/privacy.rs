//! Privacy is the product: no networking crate may enter the SDK's dependency tree.

use std::process::Command;

#[test]
fn no_networking_crate_in_the_dependency_tree() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "-p", "dermscan", "-e", "normal,build", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"ort"), "the tree was read: {crates:?}");
    let banned = [
        "reqwest",
        "hyper",
        "ureq",
        "curl",
        "isahc",
        "attohttpc",
        "rustls",
        "native-tls",
        "openssl",
        "tokio",
        "async-std",
        "mio",
        "socket2",
        "h2",
        "http",
        "url",
    ];
    let found: Vec<&&str> = crates.iter().filter(|c| banned.contains(c)).collect();
    assert!(found.is_empty(), "networking crates in the SDK's dependency tree: {found:?}");
}
