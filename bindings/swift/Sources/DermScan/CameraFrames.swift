// Hand-written (not generated): camera frames as AVFoundation hands them out.
// Compiled only where CoreVideo exists (iOS, macOS); not compiled on this project's Linux CI.
#if canImport(CoreVideo)
import CoreVideo
import Foundation

/// Why a `CVPixelBuffer` could not become a `YuvFrame`.
public enum CameraFrameError: Error {
    /// Not 8-bit 4:2:0 bi-planar (`420YpCbCr8BiPlanarFullRange` or `...VideoRange`). Pass a
    /// `32BGRA` buffer as a `RawImage` with `.bgra8` instead.
    case unsupportedPixelFormat(OSType)
    /// The buffer's planes could not be locked for reading.
    case notReadable
}

public extension YuvFrame {
    /// A frame from a camera `CVPixelBuffer` in `kCVPixelFormatType_420YpCbCr8BiPlanarFullRange`
    /// or `...VideoRange` (NV12: a luma plane, then interleaved Cb,Cr pairs). The planes are
    /// copied, so the buffer can be released as soon as this returns.
    ///
    /// `rotationDegrees` (clockwise) and `mirrored` turn the frame upright, e.g. 90 for the
    /// back camera's sensor with the phone held upright.
    init(pixelBuffer: CVPixelBuffer, rotationDegrees: UInt32 = 0, mirrored: Bool = false,
         matrix: YuvMatrix = .bt601) throws {
        let format = CVPixelBufferGetPixelFormatType(pixelBuffer)
        let range: YuvRange
        switch format {
        case kCVPixelFormatType_420YpCbCr8BiPlanarFullRange: range = .full
        case kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange: range = .video
        default: throw CameraFrameError.unsupportedPixelFormat(format)
        }
        guard CVPixelBufferLockBaseAddress(pixelBuffer, .readOnly) == kCVReturnSuccess else {
            throw CameraFrameError.notReadable
        }
        defer { CVPixelBufferUnlockBaseAddress(pixelBuffer, .readOnly) }
        func plane(_ index: Int) throws -> (bytes: Data, rowStride: UInt32) {
            guard let base = CVPixelBufferGetBaseAddressOfPlane(pixelBuffer, index) else {
                throw CameraFrameError.notReadable
            }
            let rowStride = CVPixelBufferGetBytesPerRowOfPlane(pixelBuffer, index)
            let rows = CVPixelBufferGetHeightOfPlane(pixelBuffer, index)
            return (Data(bytes: base, count: rowStride * rows), UInt32(rowStride))
        }
        let luma = try plane(0)
        let chroma = try plane(1)
        self.init(
            width: UInt32(CVPixelBufferGetWidth(pixelBuffer)),
            height: UInt32(CVPixelBufferGetHeight(pixelBuffer)),
            y: YuvPlane(data: luma.bytes, rowStride: luma.rowStride, pixelStride: 1),
            u: YuvPlane(data: chroma.bytes, rowStride: chroma.rowStride, pixelStride: 2),
            // Cr is the second byte of each pair: the same bytes from the second on.
            v: YuvPlane(data: Data(chroma.bytes.dropFirst()), rowStride: chroma.rowStride, pixelStride: 2),
            range: range, matrix: matrix, rotationDegrees: rotationDegrees, mirrored: mirrored)
    }
}
#endif
