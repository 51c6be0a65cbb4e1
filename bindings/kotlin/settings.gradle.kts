// Android library module packing the generated Kotlin bindings and libdermscan_ffi.so per ABI.
pluginManagement {
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories { google(); mavenCentral() }
}
rootProject.name = "dermscan-android"
include(":dermscan")
