//! The C ABI (`bindings/c/include/dermscan.h`) from C: runs `bindings/c/run-tests.sh`, which
//! builds the cdylib, compiles the example and the C tests with gcc, runs the tests, runs
//! them again (reduced) under valgrind, and runs the example on the sample photo.
//!
//! Needs gcc and valgrind (`scripts/setup` installs both). A developer may skip the valgrind
//! pass with `DS_SKIP_VALGRIND=1`, which the report then says; a missing valgrind fails.

mod support;

use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn c_api_tests_example_and_valgrind_pass() {
    let root = support::root();
    assert!(have("gcc"), "gcc is needed to compile the C tests (apt-get install gcc)");
    let mut command = Command::new("bash");
    command.arg(root.join("bindings/c/run-tests.sh")).current_dir(root);
    let skip_valgrind = std::env::var("DS_SKIP_VALGRIND").is_ok_and(|v| v == "1");
    assert!(skip_valgrind || have("valgrind"), "valgrind is needed for the leak check (apt-get install valgrind)");
    let output = command.output().expect("run bindings/c/run-tests.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(output.status.success(), "bindings/c/run-tests.sh failed ({}); its output is above", output.status);

    // The C tests' closing lines ("N passed, M failed"), the valgrind summary, the example's mask.
    let totals: Vec<&str> = stdout.lines().filter(|l| l.ends_with(" failed") && l.contains(" passed, ")).collect();
    assert!(!totals.is_empty() && totals.iter().all(|l| l.ends_with(" 0 failed")), "{totals:?}");
    let valgrind: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("-- valgrind summary"))
        .skip(1)
        .take_while(|l| !l.is_empty() && !l.starts_with("=="))
        .collect();
    let example = stdout.lines().filter(|l| l.starts_with("mask: ") || l.starts_with("re-prompted")).collect::<Vec<_>>();
    let mut text = String::from("C ABI (bindings/c/run-tests.sh)\n");
    let labels = ["normal run (models/litemedsam): ", "valgrind --quick run (bindings/c/tests/tiny-litemedsam): "];
    for (label, line) in labels.iter().zip(&totals) {
        text.push_str(&format!("{label}{line}\n"));
    }
    if skip_valgrind {
        text.push_str("valgrind: skipped (DS_SKIP_VALGRIND=1)\n");
    } else {
        assert_eq!(totals.len(), 2, "expected the normal and the valgrind run's totals: {totals:?}");
        assert!(!valgrind.is_empty(), "no valgrind summary in the script's output");
        text.push_str("valgrind summary:\n");
        valgrind.iter().for_each(|l| text.push_str(&format!("  {l}\n")));
    }
    example.iter().for_each(|l| text.push_str(&format!("example: {l}\n")));
    support::report("c_abi", &text);
}
