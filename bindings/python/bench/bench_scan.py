"""The Python side of scripts/bench-bindings: the same job as examples/bench_scan.rs.

    python bench_scan.py IMAGE MODEL_DIR SCANS WARMUP

One engine on MODEL_DIR with 2 threads (ONNX Runtime from DERMSCAN_ORT_LIB), then WARMUP
untimed and SCANS timed scans of IMAGE's encoded bytes with default options. The result is
released after the clock stops. Prints one line per timed scan: wall milliseconds and the
scan's own timings.total_ms (inside the core, decode excluded).
"""

import sys
import time

import dermscan


def main():
    image, model, scans, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(image, "rb") as f:
        data = f.read()
    engine = dermscan.Engine(dermscan.EngineConfig(model_dir=model, threads=2))
    for i in range(warmup + scans):
        start = time.perf_counter()
        result = engine.scan(dermscan.ImageSource.ENCODED(data), dermscan.ScanOptions())
        ms = (time.perf_counter() - start) * 1e3
        core_ms = result.timings.total_ms
        del result
        if i >= warmup:
            print(f"{ms:.3f} {core_ms:.3f}", flush=True)


if __name__ == "__main__":
    main()
