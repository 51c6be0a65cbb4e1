// Runs in a JVM of its own (ONNX Runtime loads once per process): a missing and a broken
// runtime library are typed errors, and a good one still loads afterwards.
package com.dermscan.tests.runtime

import com.dermscan.*
import com.dermscan.core.*
import java.io.File
import kotlin.system.exitProcess

fun main() {
    val root = File(System.getProperty("dermscan.root") ?: ".").absoluteFile
    val model = File(root, "models/litemedsam").path
    var failed = 0
    fun expectRuntimeError(what: String, lib: String) {
        try {
            Engine(EngineConfig(modelDir = model, runtimeLibrary = lib)).close()
            println("FAIL $what: no error"); failed++
        } catch (e: DermscanException.Runtime) {
            println("PASS $what -> Runtime: ${e.message}")
        } catch (e: Throwable) {
            println("FAIL $what: ${e::class.qualifiedName}: ${e.message}"); failed++
        }
    }
    expectRuntimeError("missing runtime library", File(root, "no/such/libonnxruntime.so").path)
    expectRuntimeError("a file that is not a library", File(root, "README.md").path)
    try {
        val engine = Engine(EngineConfig(modelDir = model))
        println("PASS a good runtime loads afterwards (${engine.model().name})")
    } catch (e: Throwable) {
        println("FAIL good runtime after failures: ${e.message}"); failed++
    }
    exitProcess(if (failed == 0) 0 else 1)
}
