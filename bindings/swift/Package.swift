// swift-tools-version:5.9
// Derm-Scan for iOS: the generated Swift API (Sources/DermScan, from scripts/bindgen) over
// the Rust library packed as an XCFramework (build-xcframework.sh, on a Mac).
import PackageDescription

let package = Package(
    name: "DermScan",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "DermScan", targets: ["DermScan"]),
    ],
    targets: [
        // libdermscan_ffi.a per platform plus the uniffi C header and module map
        // (Sources/DermScanFFI/include). Built by build-xcframework.sh; not committed.
        .binaryTarget(name: "DermScanFFI", path: "DermScanFFI.xcframework"),
        .target(
            name: "DermScan",
            dependencies: ["DermScanFFI"],
            path: "Sources/DermScan",
            linkerSettings: [
                // ONNX Runtime is loaded at run time from the onnxruntime framework the app
                // embeds (see README: iOS); Core ML for the CoreML execution provider.
                .linkedFramework("CoreML"),
            ]
        ),
        .testTarget(name: "DermScanTests", dependencies: ["DermScan"], path: "Tests/DermScanTests"),
    ]
)
