// Hand-written (not generated): camera frames as CameraX hands them out.
package com.dermscan

import com.dermscan.core.YuvMatrix
import com.dermscan.core.YuvRange
import java.nio.ByteBuffer

/** One plane of a camera frame, as CameraX's `ImageProxy.PlaneProxy` gives it. */
class CameraPlane(val buffer: ByteBuffer, val rowStride: Int, val pixelStride: Int)

/**
 * A [YuvFrame] from a CameraX `ImageProxy` in `YUV_420_888` (the default of `ImageAnalysis`):
 *
 * ```kotlin
 * val frame = yuvFrame(image.width, image.height,
 *     image.planes.map { CameraPlane(it.buffer, it.rowStride, it.pixelStride) },
 *     image.imageInfo.rotationDegrees)
 * val scan = engine.scanAsync(ImageSource.Yuv(frame), ScanOptions(), listener = null)
 * ```
 *
 * Each plane's bytes from its buffer's position to its limit are copied (the buffers are not
 * moved), so the `ImageProxy` can be closed as soon as this returns. Android camera frames are
 * full-range BT.601, the defaults. Throws [IllegalArgumentException] for a negative size,
 * stride or rotation, or a plane count other than 3; everything else is checked by the SDK.
 */
fun yuvFrame(
    width: Int,
    height: Int,
    planes: List<CameraPlane>,
    rotationDegrees: Int,
    mirrored: Boolean = false,
    range: YuvRange = YuvRange.FULL,
    matrix: YuvMatrix = YuvMatrix.BT601,
): YuvFrame {
    require(planes.size == 3) { "a YUV_420_888 frame has 3 planes (Y, U, V), got ${planes.size}" }
    require(width >= 0 && height >= 0 && rotationDegrees >= 0) { "negative size or rotation" }
    fun plane(p: CameraPlane): YuvPlane {
        require(p.rowStride >= 0 && p.pixelStride >= 0) { "negative stride" }
        val bytes = ByteArray(p.buffer.remaining())
        p.buffer.duplicate().get(bytes)
        return YuvPlane(bytes, p.rowStride.toUInt(), p.pixelStride.toUInt())
    }
    return YuvFrame(
        width.toUInt(), height.toUInt(), plane(planes[0]), plane(planes[1]), plane(planes[2]),
        range, matrix, rotationDegrees.toUInt(), mirrored,
    )
}
