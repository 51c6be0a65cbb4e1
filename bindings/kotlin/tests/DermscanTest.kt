// JVM tests of the generated Kotlin bindings on the real models (run by run-tests.sh).
// A tiny harness instead of JUnit keeps the test offline-buildable with kotlinc alone.
package com.dermscan.tests

import com.dermscan.*
import com.dermscan.core.*
import kotlinx.coroutines.*
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.nio.ByteBuffer
import java.util.Collections
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import kotlin.system.exitProcess

val root: File = File(System.getProperty("dermscan.root") ?: ".").absoluteFile
val sample: ByteArray by lazy { File(root, "assets/samples/forearm-nevi.jpg").readBytes() }
val lite: Engine by lazy { Engine(EngineConfig(modelDir = File(root, "models/litemedsam").path, threads = 2u)) }
val mobile: Engine by lazy { Engine(EngineConfig(modelDir = File(root, "models/mobilesam").path, threads = 2u)) }

class Check(val name: String, val body: () -> Unit)
val checks = mutableListOf<Check>()
fun check(name: String, body: () -> Unit) { checks += Check(name, body) }
fun expect(cond: Boolean, what: () -> String) { if (!cond) throw AssertionError(what()) }

inline fun <reified E : Throwable> expectError(what: String, body: () -> Unit): E {
    try { body() } catch (e: Throwable) {
        expect(e is E) { "$what: expected ${E::class.simpleName}, got ${e::class.qualifiedName}: ${e.message}" }
        expect(!e.message.isNullOrBlank()) { "$what: error without a message" }
        println("    $what -> ${e::class.simpleName}: ${e.message}")
        return e as E
    }
    throw AssertionError("$what: no error raised")
}

fun encoded(bytes: ByteArray) = ImageSource.Encoded(bytes)

/** The sample photo as ImageIO decodes it (ImageIO ignores EXIF; the sample is upright). */
val sampleImage: BufferedImage by lazy { ImageIO.read(File(root, "assets/samples/forearm-nevi.jpg")) }

/** `img` as an RGBA camera buffer with a padded stride. */
fun rgba(img: BufferedImage): RawImage {
    val stride = img.width * 4 + 16
    val data = ByteArray(stride * img.height)
    for (y in 0 until img.height) for (x in 0 until img.width) {
        val p = img.getRGB(x, y); val o = y * stride + x * 4
        data[o] = (p shr 16).toByte(); data[o + 1] = (p shr 8).toByte(); data[o + 2] = p.toByte(); data[o + 3] = 0xFF.toByte()
    }
    return RawImage(img.width.toUInt(), img.height.toUInt(), stride.toUInt(), PixelFormat.RGBA8, data)
}

/**
 * `img` as CameraX hands a frame out (`ImageProxy` in `YUV_420_888` over NV21 memory: the U and
 * V planes are views into one interleaved V,U buffer, pixel stride 2, rows padded), full-range
 * BT.601 with each chroma sample the mean of its 2x2 block, stored turned a quarter
 * counter-clockwise when `rotationDegrees` is 90. Also returns the exact conversion of those
 * samples back to RGB (upright), as an RGB8 buffer.
 */
fun yuvFrameOf(upright: BufferedImage, rotationDegrees: Int): Pair<YuvFrame, RawImage> {
    val (uw, uh) = upright.width to upright.height
    val (w, h) = if (rotationDegrees == 90) uh to uw else uw to uh
    fun rgbAt(x: Int, y: Int): IntArray {  // stored (x, y) -> upright pixel
        val p = if (rotationDegrees == 90) upright.getRGB(uw - 1 - y, x) else upright.getRGB(x, y)
        return intArrayOf((p shr 16) and 0xFF, (p shr 8) and 0xFF, p and 0xFF)
    }
    fun level(v: Double) = Math.round(v).coerceIn(0, 255).toInt()
    val (cw, ch) = (w + 1) / 2 to (h + 1) / 2
    val (yStride, cStride) = w + 32 to 2 * cw + 16
    val luma = IntArray(w * h)
    val yData = ByteArray(yStride * (h - 1) + w)
    for (y in 0 until h) for (x in 0 until w) {
        val (r, g, b) = rgbAt(x, y).let { Triple(it[0].toDouble(), it[1].toDouble(), it[2].toDouble()) }
        luma[y * w + x] = level(0.299 * r + 0.587 * g + 0.114 * b)
        yData[y * yStride + x] = luma[y * w + x].toByte()
    }
    val cb = IntArray(cw * ch); val cr = IntArray(cw * ch)
    val vu = ByteArray(cStride * (ch - 1) + 2 * cw)
    for (cy in 0 until ch) for (cx in 0 until cw) {
        var u = 0.0; var v = 0.0; var n = 0
        for (dy in 0..1) for (dx in 0..1) {
            val (x, y) = 2 * cx + dx to 2 * cy + dy
            if (x < w && y < h) {
                val p = rgbAt(x, y); val l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
                u += (p[2] - l) / 1.772; v += (p[0] - l) / 1.402; n++
            }
        }
        cb[cy * cw + cx] = level(u / n + 128); cr[cy * cw + cx] = level(v / n + 128)
        vu[cy * cStride + 2 * cx] = cr[cy * cw + cx].toByte(); vu[cy * cStride + 2 * cx + 1] = cb[cy * cw + cx].toByte()
    }
    // The reference: exact BT.601 in doubles, upright.
    val rgb = ByteArray(uw * uh * 3)
    for (y in 0 until h) for (x in 0 until w) {
        val l = luma[y * w + x].toDouble(); val c = (y / 2) * cw + x / 2
        val r = l + 1.402 * (cr[c] - 128); val b = l + 1.772 * (cb[c] - 128); val g = (l - 0.299 * r - 0.114 * b) / 0.587
        val (ux, uy) = if (rotationDegrees == 90) (uw - 1 - y) to x else x to y
        val o = (uy * uw + ux) * 3
        rgb[o] = level(r).toByte(); rgb[o + 1] = level(g).toByte(); rgb[o + 2] = level(b).toByte()
    }
    val frame = YuvFrame(
        w.toUInt(), h.toUInt(),
        YuvPlane(yData, yStride.toUInt(), 1u),
        YuvPlane(vu.copyOfRange(1, vu.size), cStride.toUInt(), 2u),
        YuvPlane(vu.copyOfRange(0, vu.size - 1), cStride.toUInt(), 2u),
        YuvRange.FULL, YuvMatrix.BT601, rotationDegrees.toUInt(), false,
    )
    return frame to RawImage(uw.toUInt(), uh.toUInt(), (uw * 3).toUInt(), PixelFormat.RGB8, rgb)
}

class Recorder : ProgressListener {
    val events: MutableList<Pair<Stage, Float>> = Collections.synchronizedList(mutableListOf())
    override fun onProgress(stage: Stage, fraction: Float) { events += stage to fraction }
}

fun main() {
    check("scan the sample photo with LiteMedSAM") {
        val scan = lite.scan(encoded(sample), ScanOptions())
        expect(scan.model.name == "litemedsam") { "model ${scan.model}" }
        expect(scan.roiSource == RoiSource.AUTO) { "roi source ${scan.roiSource}" }
        val area = scan.mask.areaPx()
        expect(area in 1000uL..20000uL) { "area $area" }
        val png = scan.mask.toPng()
        expect(png.size > 8 && png[1] == 'P'.code.toByte() && png[2] == 'N'.code.toByte()) { "not a PNG" }
        expect(scan.mask.contour().size > 20) { "contour ${scan.mask.contour().size}" }
        val b = scan.mask.bbox()!!
        expect(b.x.toFloat() >= scan.roi.x0 - 40 && (b.x + b.width).toFloat() <= scan.roi.x1 + 40) { "mask box $b outside roi ${scan.roi}" }
        expect(scan.lesions.isNotEmpty() && scan.lesions[0].bbox == scan.roi && scan.lesions[0].areaPx == area) { "lesions ${scan.lesions.map { it.bbox }}" }
        expect(scan.lesions.all { it.risk.level != RiskLevel.UNKNOWN }) { "a found lesion has an unknown risk" }
        println("    litemedsam: roi ${scan.roi}, area $area px, ${scan.lesions.size} lesion(s), encoder ${"%.0f".format(scan.timings.encoderMs)} ms")
    }
    check("a photo of plain skin is no lesion") {
        // Even skin with a soft lighting gradient and a little noise, as an RGB8 buffer.
        val (w, h) = 400 to 300
        val rng = java.util.Random(5)
        val data = ByteArray(w * h * 3)
        for (y in 0 until h) for (x in 0 until w) {
            val light = 1.0 - 0.15 * x / w
            intArrayOf(205, 160, 140).forEachIndexed { c, v -> data[(y * w + x) * 3 + c] = ((v * light).toInt() + rng.nextInt(7) - 3).coerceIn(0, 255).toByte() }
        }
        val scan = lite.scan(ImageSource.Raw(RawImage(w.toUInt(), h.toUInt(), (w * 3).toUInt(), PixelFormat.RGB8, data)), ScanOptions())
        expect(scan.roiSource == RoiSource.NONE && scan.lesions.isEmpty() && scan.mask.areaPx() == 0uL) { "roi ${scan.roiSource}, ${scan.lesions.size} lesions" }
        expect(scan.features == null && scan.classification == null) { "measured a phantom" }
        expect(scan.risk.level == RiskLevel.UNKNOWN && scan.risk.reasons.map { it.code } == listOf(RiskCode.NO_LESION)) { "risk ${scan.risk}" }
        expect(scan.quality.warnings.any { it.issue == QualityIssue.NO_LESION_FOUND }) { "warnings ${scan.quality.warnings}" }
    }
    check("scan the sample photo with MobileSAM") {
        val scan = mobile.scan(encoded(sample), ScanOptions())
        expect(scan.model.family == "mobilesam") { "model ${scan.model}" }
        val dice = scan.mask.dice(lite.scan(encoded(sample), ScanOptions()).mask)
        expect(scan.mask.areaPx() > 1000uL && dice > 0.7) { "mobilesam area ${scan.mask.areaPx()}, dice vs litemedsam $dice" }
        println("    mobilesam: area ${scan.mask.areaPx()} px, Dice vs LiteMedSAM ${"%.3f".format(dice)}")
    }
    check("scan a raw RGBA camera buffer") {
        // The same pixels twice: as a padded RGBA buffer and as lossless PNG bytes. (JPEG
        // decoders differ by a level or two per pixel, which is not what this checks.)
        val png = ByteArrayOutputStream().also { ImageIO.write(sampleImage, "png", it) }.toByteArray()
        val raw = lite.scan(ImageSource.Raw(rgba(sampleImage)), ScanOptions())
        val enc = lite.scan(encoded(png), ScanOptions())
        val dice = raw.mask.dice(enc.mask)
        expect(dice == 1.0 && raw.roi == enc.roi) { "raw vs encoded Dice $dice, roi ${raw.roi} vs ${enc.roi}" }
        println("    raw RGBA vs PNG bytes of the same pixels: Dice ${"%.4f".format(dice)}, ${raw.lesions.size} lesion(s)")
    }
    check("scan a YUV_420_888 camera frame (ImageProxy planes and strides), upright and turned") {
        val (made, reference) = yuvFrameOf(sampleImage, 0)
        // Through the ImageProxy-shaped call, from direct ByteBuffers as CameraX's planes are.
        fun direct(bytes: ByteArray) = ByteBuffer.allocateDirect(bytes.size).put(bytes).flip() as ByteBuffer
        val planes = listOf(made.y, made.u, made.v).map { CameraPlane(direct(it.data), it.rowStride.toInt(), it.pixelStride.toInt()) }
        val frame = yuvFrame(made.width.toInt(), made.height.toInt(), planes, 0)
        expect(frame.u.data.contentEquals(made.u.data) && planes[0].buffer.position() == 0) { "yuvFrame copies the planes, buffers unmoved" }
        val expected = lite.scan(ImageSource.Raw(reference), ScanOptions())
        val got = lite.scan(ImageSource.Yuv(frame), ScanOptions())
        val dice = got.mask.dice(expected.mask)
        expect(expected.mask.areaPx() > 1000uL && dice >= 0.98) { "YUV frame vs its exact RGB: Dice $dice" }
        // Judged against the exact conversion of the turned frame's own samples (upright): its
        // chroma means may differ from the upright frame's by a level, which moves the mask.
        val (turned, turnedReference) = yuvFrameOf(sampleImage, 90)
        val expectedTurned = lite.scan(ImageSource.Raw(turnedReference), ScanOptions())
        val fromTurned = lite.scan(ImageSource.Yuv(turned), ScanOptions())
        val diceTurned = fromTurned.mask.dice(expectedTurned.mask)
        expect(fromTurned.mask.width() == sampleImage.width.toUInt() && diceTurned >= 0.98) { "rotation 90: Dice $diceTurned" }
        println("    YUV frame vs its exact RGB: Dice ${"%.4f".format(dice)}; stored turned, rotation 90: ${"%.4f".format(diceTurned)}")
        expectError<DermscanException.Image>("rotation 45") { lite.scan(ImageSource.Yuv(frame.copy(rotationDegrees = 45u)), ScanOptions()) }
        expectError<DermscanException.Image>("short chroma plane") {
            lite.scan(ImageSource.Yuv(frame.copy(u = YuvPlane(ByteArray(10), frame.u.rowStride, 2u))), ScanOptions())
        }
    }
    check("re-prompt with a box and with points on a kept embedding") {
        val scan = lite.scan(encoded(sample), ScanOptions())
        val before = lite.modelRuns()
        val r = scan.roi
        val byBox = lite.decode(scan.embedding, Prompt(bbox = BoxPrompt(r.x0 - 5, r.y0 - 5, r.x1 + 5, r.y1 + 5)), null)
        val cx = (r.x0 + r.x1) / 2; val cy = (r.y0 + r.y1) / 2
        val byPoints = lite.decode(scan.embedding, Prompt(bbox = r, points = listOf(PointPrompt(cx, cy, PointLabel.POSITIVE))), null)
        val refined = lite.decode(scan.embedding, Prompt(bbox = r, previousMask = byPoints), null)
        val after = lite.modelRuns()
        expect(after.encoderRuns == before.encoderRuns) { "encoder ran again: $before -> $after" }
        expect(after.decoderRuns == before.decoderRuns + 3uL) { "decoder runs $before -> $after" }
        for (m in listOf(byBox, byPoints, refined)) expect(m.areaPx() > 0uL && m.dice(scan.mask) > 0.6) { "re-prompt mask ${m.areaPx()} dice ${m.dice(scan.mask)}" }
    }
    check("async scan from a coroutine reports progress") {
        val rec = Recorder()
        val scan = runBlocking { lite.scanAsync(encoded(sample), ScanOptions(), rec) }
        expect(scan.mask.areaPx() > 0uL) { "empty mask" }
        val stages = rec.events.map { it.first }
        expect(stages.containsAll(listOf(Stage.FIND_LESION, Stage.ENCODE, Stage.DECODE, Stage.DONE))) { "stages $stages" }
        val fractions = rec.events.map { it.second }
        expect(fractions == fractions.sorted() && fractions.last() == 1.0f) { "fractions $fractions" }
        println("    progress: ${rec.events.joinToString { "${it.first}=${it.second}" }}")
    }
    check("async engine load reports progress") {
        val rec = Recorder()
        val engine = runBlocking { openEngine(EngineConfig(modelDir = File(root, "models/litemedsam").path, threads = 1u), rec) }
        expect(engine.model().name == "litemedsam") { "model" }
        expect(rec.events.map { it.first }.containsAll(listOf(Stage.VERIFY_MODEL, Stage.CREATE_SESSIONS, Stage.DONE))) { "stages ${rec.events}" }
        engine.close()
    }
    check("cancel an async scan: the coroutine ends and the encoder run is interrupted") {
        val before = lite.modelRuns()
        val rec = Recorder()
        val started = System.nanoTime()
        runBlocking {
            val job = launch(Dispatchers.Default) { lite.scanAsync(encoded(sample), ScanOptions(), rec) }
            while (rec.events.none { it.first == Stage.ENCODE }) delay(5)
            delay(100)
            job.cancelAndJoin()
            expect(job.isCancelled) { "job not cancelled" }
        }
        val cancelMs = (System.nanoTime() - started) / 1e6
        Thread.sleep(300) // let the worker observe the cancel
        val after = lite.modelRuns()
        expect(after.encoderRuns == before.encoderRuns) { "the cancelled encoder run completed: $before -> $after" }
        expect(lite.scan(encoded(sample), ScanOptions()).mask.areaPx() > 0uL) { "engine unusable after cancel" }
        println("    cancelled during the encoder, ${"%.0f".format(cancelMs)} ms after start; encoder runs unchanged (${after.encoderRuns})")
    }
    check("cancel a blocking scan with a Cancellation") {
        val cancel = Cancellation()
        cancel.cancel()
        expectError<DermscanException.Cancelled>("pre-cancelled scan") { lite.scanWith(encoded(sample), ScanOptions(), null, cancel) }
    }
    check("scans from several threads on one engine") {
        val reference = lite.scan(encoded(sample), ScanOptions()).mask
        val pool = Executors.newFixedThreadPool(3)
        val futures = (1..3).map { pool.submit<Mask> { lite.scan(encoded(sample), ScanOptions()).mask } }
        val masks = futures.map { it.get(300, TimeUnit.SECONDS) }
        pool.shutdown()
        for (m in masks) expect(m.dice(reference) == 1.0) { "thread mask differs: Dice ${m.dice(reference)}" }
    }
    check("bad inputs are typed errors with messages") {
        expectError<DermscanException.Image>("empty buffer") { lite.scan(encoded(ByteArray(0)), ScanOptions()) }
        expectError<DermscanException.Image>("garbage bytes") { lite.scan(encoded(ByteArray(1000) { (it * 7).toByte() }), ScanOptions()) }
        expectError<DermscanException.Image>("truncated JPEG") { lite.scan(encoded(sample.copyOf(sample.size / 2)), ScanOptions()) }
        val bomb = expectError<DermscanException.Image>("PNG declaring 100000x100000") { lite.scan(encoded(hugePng()), ScanOptions()) }
        expect(bomb.message!!.contains("limit")) { "not refused by the pixel limit: ${bomb.message}" }
        expectError<DermscanException.Image>("zero-size raw buffer") { lite.scan(ImageSource.Raw(RawImage(0u, 0u, 0u, PixelFormat.RGBA8, ByteArray(0))), ScanOptions()) }
        expectError<DermscanException.Image>("stride shorter than a row") { lite.scan(ImageSource.Raw(RawImage(10u, 10u, 20u, PixelFormat.RGBA8, ByteArray(400))), ScanOptions()) }
        expectError<DermscanException.Image>("buffer too short") { lite.scan(ImageSource.Raw(RawImage(10u, 10u, 40u, PixelFormat.RGBA8, ByteArray(100))), ScanOptions()) }
        expectError<DermscanException.Prompt>("box outside the image") { lite.scan(encoded(sample), ScanOptions(bbox = BoxPrompt(5000f, 5000f, 5100f, 5100f))) }
        expectError<DermscanException.Prompt>("inverted box") { lite.scan(encoded(sample), ScanOptions(bbox = BoxPrompt(600f, 600f, 500f, 500f))) }
        expectError<DermscanException.Prompt>("NaN box") { lite.scan(encoded(sample), ScanOptions(bbox = BoxPrompt(Float.NaN, 0f, 10f, 10f))) }
        expectError<DermscanException.Image>("missing file") { lite.scan(ImageSource.File(File(root, "no/such.jpg").path), ScanOptions()) }
        expectError<DermscanException.Model>("missing model folder") { Engine(EngineConfig(modelDir = File(root, "models/none").path)) }
        val tampered = copyBundle("litemedsam") { dir -> flipByte(File(dir, "encoder.onnx")) }
        expectError<DermscanException.Model>("bundle with one flipped byte") { Engine(EngineConfig(modelDir = tampered.path)) }
        val wrongKind = copyBundle("litemedsam") { dir ->
            val m = File(dir, "manifest.json"); m.writeText(m.readText().replace("\"segmenter\"", "\"classifier\""))
        }
        expectError<DermscanException.Model>("wrong bundle kind") { Engine(EngineConfig(modelDir = wrongKind.path)) }
        expectError<DermscanException.Runtime>("a different runtime library in the same process") {
            Engine(EngineConfig(modelDir = File(root, "models/litemedsam").path, runtimeLibrary = File(root, "README.md").path))
        }
    }
    check("the sample photo is measured, classified, explained and quality-checked") {
        val engine = Engine(EngineConfig(
            modelDir = File(root, "models/litemedsam").path,
            classifierDir = File(root, "models/ham10000-xception").path,
            threads = 2u,
        ))
        val scan = engine.scan(encoded(sample), ScanOptions(ageYears = 45f, sex = Sex.FEMALE, bodySite = "arm", mmPerPx = 0.05f))
        val f = scan.features ?: throw AssertionError("no features")
        val m = f.measurements
        val disc = 2.0 * Math.sqrt(scan.mask.areaPx().toDouble() / Math.PI)
        expect(Math.abs(m.diameterPx - disc) < 1e-3 * disc) { "diameter ${m.diameterPx} vs area disc $disc" }
        expect(m.diameterMm != null && Math.abs(m.diameterMm!! - m.diameterPx * 0.05) < 1e-6 * m.diameterPx) { "diameter mm ${m.diameterMm}" }
        val a = f.abcd
        expect(a.a.toInt() in 0..2 && a.b.toInt() in 0..8 && a.c.toInt() in 1..6 && a.dProxy.toInt() in 1..5) { "abcd $a" }
        val tds = 1.3 * a.a.toInt() + 0.1 * a.b.toInt() + 0.5 * a.c.toInt() + 0.5 * a.dProxy.toInt()
        expect(Math.abs(a.tdsProxy - tds) < 1e-9 && a.colours.size == a.c.toInt()) { "tds ${a.tdsProxy} vs $tds, colours ${a.colours}" }
        val c = scan.classification ?: throw AssertionError("no classification")
        expect(c.probabilities.map { it.label } == listOf("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")) { "labels ${c.probabilities}" }
        expect(Math.abs(c.probabilities.sumOf { it.probability.toDouble() } - 1.0) < 1e-3) { "probabilities do not sum to 1" }
        val malignant = c.probabilities.filter { it.label in setOf("mel", "bcc", "akiec") }.sumOf { it.probability.toDouble() }
        expect(Math.abs(c.malignantProbability - malignant) < 1e-5) { "malignant ${c.malignantProbability} vs $malignant" }
        val codes = scan.risk.reasons.map { it.code }
        expect(codes.containsAll(listOf(RiskCode.CLASSIFIER, RiskCode.TDS_PROXY, RiskCode.DIAMETER))) { "reasons $codes" }
        expect(scan.risk.reasons.all { it.text.isNotBlank() }) { "a reason without text" }
        expect(scan.risk.disclaimer == notADiagnosis()) { "disclaimer" }
        expect(scan.quality.warnings.none { it.issue == QualityIssue.NO_LESION_FOUND }) { "lesion not found" }
        println("    risk ${scan.risk.level}, top ${c.top}, TDS proxy ${"%.2f".format(a.tdsProxy)}, quality warnings ${scan.quality.warnings.map { it.issue }}")
        expectError<DermscanException.InvalidArgument>("age 400") { engine.scan(encoded(sample), ScanOptions(ageYears = 400f)) }
        expectError<DermscanException.InvalidArgument>("age -1") { engine.scan(encoded(sample), ScanOptions(ageYears = -1f)) }
        expectError<DermscanException.InvalidArgument>("unknown body site") { engine.scan(encoded(sample), ScanOptions(bodySite = "moon")) }
        expectError<DermscanException.Model>("classifier bundle as the segmenter") { Engine(EngineConfig(modelDir = File(root, "models/ham10000-xception").path)) }
        expectError<DermscanException.Model>("segmenter bundle as the classifier") {
            Engine(EngineConfig(modelDir = File(root, "models/litemedsam").path, classifierDir = File(root, "models/mobilesam").path))
        }
    }
    check("a forced internal panic surfaces as an error and the process goes on") {
        expectError<DermscanException.Internal>("self-test panic") { selfTestPanic("from Kotlin") }
        expect(lite.scan(encoded(sample), ScanOptions()).mask.areaPx() > 0uL) { "engine unusable after a panic" }
    }
    check("lesion history: two photos 60 days apart, the change, the report, the key") {
        val dir = kotlin.io.path.createTempDirectory("dermscan-history").toFile()
        val key = ByteArray(32) { it.toByte() }
        val t0 = 1_700_000_000L
        val turned = turnedJpeg(sample)
        var store = HistoryStore.open(File(dir, "store").path, key, null)
        val mole = store.addLesion("left forearm", "arm")
        expect(mole.bodySite == BodySite.ARM && store.lesionByLabel("left forearm") == mole) { "lesion $mole" }
        val first = lite.scan(encoded(sample), ScanOptions(snapEdges = true))
        val added1 = store.addScan(mole.id, sample, first, t0, null)
        expect(added1.change == null && added1.scan.areaPx == first.mask.areaPx()) { "first scan $added1" }
        val second = lite.scan(encoded(turned), ScanOptions(snapEdges = true))
        val added2 = store.addScan(mole.id, turned, second, t0 + 60 * 86_400L, null)
        val change = added2.change ?: throw AssertionError("no change for the second scan")
        println("    turned 90°, 60 days: area ${added1.scan.areaPx} -> ${added2.scan.areaPx} px, area_ratio ${"%.3f".format(change.areaRatio)}, " +
            "iou_aligned ${"%.3f".format(change.iouAligned)}, rotation ${"%.1f".format(change.alignment.rotationDeg)}°, significant ${change.significant}, " +
            "reasons ${change.reasons.map { it.code }}")
        expect(change.beforeId == added1.scan.id && change.afterId == added2.scan.id && Math.abs(change.daysBetween - 60.0) < 1e-6) { "ids/days $change" }
        expect(change.areaRatio > 0.25 && change.areaRatio < 4.0) { "area ratio ${change.areaRatio}" }
        expect(change.iouAligned > 0.2 && change.iouAligned <= 1.0) { "iou ${change.iouAligned}" }
        expect(change.significant == change.reasons.isNotEmpty()) { "significant ${change.significant} reasons ${change.reasons}" }
        val evolution = added2.scan.risk?.reasons?.singleOrNull { it.code == RiskCode.EVOLUTION } ?: throw AssertionError("no evolution reason: ${added2.scan.risk}")
        expect((evolution.level == RiskLevel.HIGH) == change.significant) { "evolution ${evolution.level} vs significant ${change.significant}" }
        expect(added1.scan.risk?.reasons?.none { it.code == RiskCode.EVOLUTION } == true) { "evolution on the first scan" }
        println("    evolution reason: ${evolution.level}: ${evolution.text}")
        expect(store.latestChange(mole.id) == change) { "latest change differs" }
        expect(store.photo(added2.scan.id).contentEquals(turned)) { "stored photo differs" }
        val report = File(dir, "report.html")
        store.writeReport(mole.id, report.path)
        val html = report.readText()
        expect(html.startsWith("<!DOCTYPE html") && html.contains(notADiagnosis()) && html.contains("data:image/png;base64,")) { "report ${html.take(200)}" }
        expect(store.areaChartPng(mole.id).take(4) == listOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte())) { "chart is not a PNG" }
        expect(store.check().problems.isEmpty()) { "check ${store.check()}" }
        expectError<DermscanException.StoreLocked>("second open while open") { HistoryStore.open(File(dir, "store").path, key, null) }
        store.close()
        expectError<DermscanException.WrongKey>("wrong key") { HistoryStore.open(File(dir, "store").path, ByteArray(32), null) }
        expectError<DermscanException.KeyRequired>("no key") { HistoryStore.open(File(dir, "store").path, null, null) }
        expectError<DermscanException.InvalidArgument>("16-byte key") { HistoryStore.open(File(dir, "store").path, ByteArray(16), null) }
        store = HistoryStore.open(File(dir, "store").path, key, null)
        expect(store.scans(mole.id).map { it.id } == listOf(added1.scan.id, added2.scan.id)) { "scans after reopening ${store.scans(mole.id)}" }
        expect(store.check().problems.isEmpty()) { "check after reopening" }
        expectError<DermscanException.DuplicateLabel>("duplicate label") { store.addLesion("left forearm", null) }
        expectError<DermscanException.InvalidArgument>("unknown body site") { store.addLesion("shin", "moon") }
        expectError<DermscanException.LesionNotFound>("unknown label") { store.lesionByLabel("nowhere") }
        expectError<DermscanException.ScanNotFound>("unknown scan") { store.photo(9999L) }
        store.close()
        dir.deleteRecursively()
    }
    check("lesion history from coroutines: progress, and a cancelled key rotation changes nothing") {
        val dir = kotlin.io.path.createTempDirectory("dermscan-history-async").toFile()
        val store = HistoryStore.open(File(dir, "store").path, null, null)
        val mole = store.addLesion("back", "trunk")
        val turned = turnedJpeg(sample)
        val first = lite.scan(encoded(sample), ScanOptions())
        val second = lite.scan(encoded(turned), ScanOptions())
        val rec = Recorder()
        runBlocking {
            val a = store.addScanAsync(mole.id, sample, first, 1_700_000_000L, null, rec)
            val b = store.addScanAsync(mole.id, turned, second, 1_700_000_000L + 60 * 86_400L, null, null)
            val change = store.compareAsync(a.scan.id, b.scan.id, null)
            expect(change.areaRatio == b.change?.areaRatio) { "compareAsync $change vs ${b.change}" }
            expect(store.reportHtmlAsync(mole.id, null).contains(notADiagnosis())) { "report" }
        }
        expect(rec.events.map { it.first } == listOf(Stage.COMPARE, Stage.STORE, Stage.DONE)) { "addScanAsync progress ${rec.events}" }

        // The listener holds the worker at its first report until the coroutine is cancelled.
        val started = java.util.concurrent.CountDownLatch(1)
        val release = java.util.concurrent.CountDownLatch(1)
        val hold = object : ProgressListener {
            override fun onProgress(stage: Stage, fraction: Float) { started.countDown(); release.await(30, TimeUnit.SECONDS) }
        }
        val key = ByteArray(32) { it.toByte() }
        runBlocking {
            val job = launch(Dispatchers.Default) { store.rotateKeyAsync(key, hold) }
            withContext(Dispatchers.IO) { started.await(30, TimeUnit.SECONDS) }
            job.cancelAndJoin()
            expect(job.isCancelled) { "job not cancelled" }
        }
        release.countDown()
        Thread.sleep(1000) // had the cancel been lost, the rotation would complete in this time
        expect(!store.isEncrypted() && store.check().problems.isEmpty() && store.check().scans == 2uL) { "after a cancelled rotation: ${store.check()}" }
        val rotation = Recorder()
        runBlocking { store.rotateKeyAsync(key, rotation) }
        expect(store.isEncrypted() && store.check().problems.isEmpty()) { "rotation" }
        expect(rotation.events.first().first == Stage.RESEAL && rotation.events.last().first == Stage.DONE) { "rotation progress ${rotation.events}" }
        println("    rotation progress: ${rotation.events.joinToString { "${it.first}=${"%.2f".format(it.second)}" }}")
        store.close()
        dir.deleteRecursively()
    }
    check("the disclaimer is there") {
        expect(notADiagnosis().contains("not a medical diagnosis")) { notADiagnosis() }
    }

    var failed = 0
    for (c in checks) {
        val t = System.nanoTime()
        try { c.body(); println("PASS ${c.name} (${(System.nanoTime() - t) / 1_000_000} ms)") }
        catch (e: Throwable) { failed++; println("FAIL ${c.name}: ${e::class.simpleName}: ${e.message}") }
    }
    println("${checks.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}

fun hugePng(): ByteArray {
    // A valid 1x1 PNG whose header is patched to declare 100000 x 100000 pixels.
    val out = java.io.ByteArrayOutputStream()
    ImageIO.write(java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", out)
    val png = out.toByteArray()
    val size = java.nio.ByteBuffer.allocate(8).putInt(100_000).putInt(100_000).array()
    size.copyInto(png, 16)
    val crc = java.util.zip.CRC32().apply { update(png, 12, 17) }.value.toInt()
    java.nio.ByteBuffer.allocate(4).putInt(crc).array().copyInto(png, 29)
    return png
}

fun copyBundle(name: String, edit: (File) -> Unit): File {
    val dir = kotlin.io.path.createTempDirectory("dermscan-bundle").toFile()
    File(root, "models/$name").listFiles()!!.forEach { it.copyTo(File(dir, it.name)) }
    edit(dir); dir.deleteOnExit()
    return dir
}

/** The photo turned 90° and saved again as JPEG: a second photo of the same lesion, taken another way round. */
fun turnedJpeg(bytes: ByteArray): ByteArray {
    val img = ImageIO.read(java.io.ByteArrayInputStream(bytes))
    val out = java.awt.image.BufferedImage(img.height, img.width, java.awt.image.BufferedImage.TYPE_INT_RGB)
    for (y in 0 until img.height) for (x in 0 until img.width) out.setRGB(y, img.width - 1 - x, img.getRGB(x, y))
    return java.io.ByteArrayOutputStream().also { ImageIO.write(out, "jpg", it) }.toByteArray()
}

fun flipByte(f: File) { val b = f.readBytes(); b[b.size / 2] = (b[b.size / 2].toInt() xor 0x01).toByte(); f.writeBytes(b) }
