import XCTest
@testable import DermScan

/// Runs on a Mac after build-xcframework.sh (`swift test`), with DERMSCAN_ROOT pointing at
/// the repository so the bundled model and sample photo are found.
final class DermScanTests: XCTestCase {
    let root = ProcessInfo.processInfo.environment["DERMSCAN_ROOT"] ?? "../.."

    func testScanSamplePhoto() async throws {
        let engine = try await openEngine(config: EngineConfig(modelDir: "\(root)/models/litemedsam"), listener: nil)
        let photo = try Data(contentsOf: URL(fileURLWithPath: "\(root)/assets/samples/forearm-nevi.jpg"))
        let scan = try await engine.scanAsync(image: .encoded(bytes: photo), options: ScanOptions(), listener: nil)
        XCTAssertGreaterThan(scan.mask.areaPx(), 1000)
        let refined = try engine.decode(embedding: scan.embedding, prompt: Prompt(bbox: scan.roi), maskMode: nil)
        XCTAssertGreaterThan(refined.dice(other: scan.mask), 0.6)
    }

    func testBadInputIsTypedError() throws {
        let engine = try Engine(config: EngineConfig(modelDir: "\(root)/models/litemedsam"))
        XCTAssertThrowsError(try engine.scan(image: .encoded(bytes: Data()), options: ScanOptions())) { error in
            guard case DermscanError.Image = error else { return XCTFail("\(error)") }
        }
    }
}
