// The Derm-Scan AAR: generated Kotlin (src/main/kotlin, from scripts/bindgen) and
// libdermscan_ffi.so for each ABI (src/main/jniLibs, filled by ../build-aar.sh).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.dermscan"
    compileSdk = 35
    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    // uniffi's Kotlin calls the native library through JNA.
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    // Async scans are suspend functions.
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.9.0")
    // ONNX Runtime's Android build ships libonnxruntime.so (with NNAPI and XNNPACK) in its
    // AAR; the SDK loads it by name: EngineConfig(runtimeLibrary = "libonnxruntime.so").
    implementation("com.microsoft.onnxruntime:onnxruntime-android:1.31.0")
}
