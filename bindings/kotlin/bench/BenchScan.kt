// The Kotlin (JVM) side of scripts/bench-bindings: the same job as examples/bench_scan.rs.
//
//     java ... com.dermscan.bench.BenchScanKt IMAGE MODEL_DIR SCANS WARMUP
//
// One engine on MODEL_DIR with 2 threads (ONNX Runtime from DERMSCAN_ORT_LIB), then WARMUP
// untimed and SCANS timed scans of IMAGE's encoded bytes with default options. The result's
// native objects are freed (destroy) after the clock stops. Prints one line per timed scan: wall
// milliseconds and the scan's own timings.totalMs (inside the core, decode excluded).
package com.dermscan.bench

import com.dermscan.*
import com.dermscan.core.*
import java.io.File

fun main(args: Array<String>) {
    require(args.size == 4) { "usage: BenchScanKt IMAGE MODEL_DIR SCANS WARMUP" }
    val bytes = File(args[0]).readBytes()
    val scans = args[2].toInt()
    val warmup = args[3].toInt()
    Engine(EngineConfig(modelDir = args[1], threads = 2u)).use { engine ->
        for (i in 0 until warmup + scans) {
            val start = System.nanoTime()
            val result = engine.scan(ImageSource.Encoded(bytes), ScanOptions())
            val ms = (System.nanoTime() - start) / 1e6
            val coreMs = result.timings.totalMs
            result.destroy()
            if (i >= warmup) println("%.3f %.3f".format(java.util.Locale.ROOT, ms, coreMs))
        }
    }
}
