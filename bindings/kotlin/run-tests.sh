#!/usr/bin/env bash
# Compiles the generated Kotlin bindings with the JVM test and runs it on the real models.
# JNA loads target/<profile>/libdermscan_ffi.so, exactly as on Android it loads the AAR's copy.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
profile=${DERMSCAN_PROFILE:-debug}
flag=""; [ "$profile" = release ] && flag="--release"
kotlinc="$root/.tools/node_modules/kotlin-compiler/bin/kotlinc"
[ -x "$kotlinc" ] || { echo "kotlinc missing: run scripts/setup" >&2; exit 1; }
jna=/usr/share/java/jna.jar
coroutines="$root/.tools/node_modules/kotlin-compiler/lib/kotlinx-coroutines-core-jvm.jar"
cargo build --quiet --locked -p dermscan-ffi $flag
out="$root/target/kotlin"
mkdir -p "$out"
src=(bindings/kotlin/dermscan/src/main/kotlin/com/dermscan/*.kt bindings/kotlin/dermscan/src/main/kotlin/com/dermscan/core/dermscan_core.kt
  bindings/kotlin/tests/*.kt bindings/kotlin/examples/*.kt)
# Recompile only when a source changed.
stamp=$(cat "${src[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$out/tests.jar" ] || [ "$(cat "$out/tests.sha256" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$out/tests.jar"
  "$kotlinc" -nowarn -cp "$jna:$coroutines" "${src[@]}" -d "$out/tests.jar" 2>&1 | grep -v "^warning:" || true
  [ -f "$out/tests.jar" ] || { echo "Kotlin compilation failed" >&2; exit 1; }
  echo "$stamp" > "$out/tests.sha256"
fi
run() {
  java -Djna.library.path="$root/target/$profile" -Ddermscan.root="$root" \
    -cp "$out/tests.jar:$jna:$coroutines:$root/.tools/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar" "$@"
}
if [ $# -gt 0 ]; then run "$@"; exit; fi
run com.dermscan.tests.runtime.RuntimeMissingKt
run com.dermscan.tests.DermscanTestKt
# The README's Kotlin snippet (examples/Scan.kt) runs as written.
snippet=$(run ScanKt)
echo "$snippet"
grep -q "refined:" <<<"$snippet" || { echo "the README example printed no refined mask" >&2; exit 1; }
