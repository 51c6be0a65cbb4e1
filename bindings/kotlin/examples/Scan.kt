import com.dermscan.*
import com.dermscan.core.*
import kotlinx.coroutines.runBlocking
import java.io.File

fun main() = runBlocking {
    // Suspend functions: the engine loads and the scan runs off the caller's thread.
    val engine = openEngine(EngineConfig(modelDir = "models/litemedsam", threads = 2u), listener = null)
    val photo = File("assets/samples/forearm-nevi.jpg").readBytes()
    val scan = engine.scanAsync(ImageSource.Encoded(photo), ScanOptions(), listener = null)
    println("lesion box ${scan.roi}, ${scan.mask.areaPx()} px, PNG ${scan.mask.toPng().size} bytes")

    // The user taps the lesion: re-prompt on the kept embedding (the encoder does not run again).
    val tap = PointPrompt(x = 610f, y = 700f, label = PointLabel.POSITIVE)
    val refined = engine.decode(scan.embedding, Prompt(bbox = scan.roi, points = listOf(tap)), MaskMode.LESION)
    println("refined: ${refined.areaPx()} px")
    println(notADiagnosis())
}
