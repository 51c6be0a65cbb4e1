"""The Python bindings on the real models: scans, re-prompts, async, cancellation, threads,
typed errors, panics. Run by bindings/python/run-tests.sh against the installed package."""

import asyncio
import concurrent.futures
import io
import shutil
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

import dermscan
from conftest import ROOT, SAMPLE, make_engine


def encoded(data):
    return dermscan.ImageSource.ENCODED(data)


def scan(engine, data, **options):
    return engine.scan(encoded(data), dermscan.ScanOptions(**options))


class Recorder(dermscan.ProgressListener):
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def on_progress(self, stage, fraction):
        with self.lock:
            self.events.append((stage, fraction))

    def stages(self):
        with self.lock:
            return [s for s, _ in self.events]


def test_scan_sample_litemedsam(lite, sample_bytes):
    result = scan(lite, sample_bytes)
    assert result.model.name == "litemedsam"
    assert result.roi_source == dermscan.RoiSource.AUTO
    assert 1000 < result.mask.area_px() < 20000
    assert result.mask.to_png()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(result.mask.contour()) > 20
    box = result.mask.bbox()
    assert box.x >= result.roi.x0 - 40 and box.x + box.width <= result.roi.x1 + 40
    assert result.timings.encoder_ms > 0 and result.timings.total_ms >= result.timings.encoder_ms
    # The primary lesion is lesions[0]; its box (refitted to the verified mask) is the roi.
    assert result.candidates and result.lesions and result.lesions[0].bbox == result.roi
    assert result.lesions[0].area_px == result.mask.area_px()
    assert all(l.risk.level != dermscan.RiskLevel.UNKNOWN for l in result.lesions)
    # The mask PNG decodes to the photo's size with the same lesion pixels.
    png = Image.open(io.BytesIO(result.mask.to_png()))
    assert png.size == (result.mask.width(), result.mask.height())
    assert sum(1 for p in png.convert("L").tobytes() if p) == result.mask.area_px()


def test_plain_skin_is_no_lesion(lite):
    # A lesion-free photo: even skin with sensor noise and a soft lighting gradient.
    width, height = 400, 300
    rng = __import__("random").Random(5)
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            light = 1.0 - 0.15 * x / width
            pixels += bytes(max(0, min(255, int(c * light) + rng.randint(-3, 3))) for c in (205, 160, 140))
    buf = io.BytesIO()
    Image.frombytes("RGB", (width, height), bytes(pixels)).save(buf, "PNG")
    result = scan(lite, buf.getvalue())
    assert result.roi_source == dermscan.RoiSource.NONE
    assert result.lesions == [] and result.mask.area_px() == 0
    assert result.features is None and result.classification is None
    assert result.risk.level == dermscan.RiskLevel.UNKNOWN
    assert [r.code for r in result.risk.reasons] == [dermscan.RiskCode.NO_LESION]
    assert any(w.issue == dermscan.QualityIssue.NO_LESION_FOUND for w in result.quality.warnings)


def test_scan_sample_mobilesam(mobile, lite, sample_bytes):
    m = scan(mobile, sample_bytes)
    assert m.model.family == "mobilesam"
    dice = m.mask.dice(scan(lite, sample_bytes).mask)
    assert m.mask.area_px() > 1000 and dice > 0.7, dice


def test_scan_raw_rgba_buffer(lite, sample_bytes):
    img = ImageOps.exif_transpose(Image.open(SAMPLE)).convert("RGBA")
    width, height = img.size
    stride = width * 4 + 16  # padded rows, as camera buffers often have
    rows = img.tobytes()
    data = b"".join(rows[y * width * 4:(y + 1) * width * 4] + bytes(16) for y in range(height))
    raw = dermscan.RawImage(width=width, height=height, stride=stride, format=dermscan.PixelFormat.RGBA8, data=data)
    from_raw = lite.scan(dermscan.ImageSource.RAW(raw), dermscan.ScanOptions())
    dice = from_raw.mask.dice(scan(lite, sample_bytes).mask)
    assert dice > 0.95, dice


def test_reprompt_box_points_mask_on_kept_embedding(lite, sample_bytes):
    result = scan(lite, sample_bytes)
    before = lite.model_runs()
    r = result.roi
    by_box = lite.decode(result.embedding, dermscan.Prompt(bbox=dermscan.BoxPrompt(x0=r.x0 - 5, y0=r.y0 - 5, x1=r.x1 + 5, y1=r.y1 + 5)), None)
    centre = dermscan.PointPrompt(x=(r.x0 + r.x1) / 2, y=(r.y0 + r.y1) / 2, label=dermscan.PointLabel.POSITIVE)
    by_points = lite.decode(result.embedding, dermscan.Prompt(bbox=r, points=[centre]), None)
    refined = lite.decode(result.embedding, dermscan.Prompt(bbox=r, previous_mask=by_points), dermscan.MaskMode.UPSTREAM)
    after = lite.model_runs()
    assert after.encoder_runs == before.encoder_runs
    assert after.decoder_runs == before.decoder_runs + 3
    for mask in (by_box, by_points, refined):
        assert mask.area_px() > 0 and mask.dice(result.mask) > 0.6
    assert result.embedding.image_width() == result.mask.width()


def test_async_scan_reports_progress(lite, sample_bytes):
    rec = Recorder()
    result = asyncio.run(lite.scan_async(encoded(sample_bytes), dermscan.ScanOptions(), rec))
    assert result.mask.area_px() > 0
    stages = rec.stages()
    S = dermscan.Stage
    assert [s for s in (S.FIND_LESION, S.PREPROCESS, S.ENCODE, S.DECODE, S.DONE) if s in stages] == [S.FIND_LESION, S.PREPROCESS, S.ENCODE, S.DECODE, S.DONE]
    fractions = [f for _, f in rec.events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_async_open_engine(root):
    rec = Recorder()
    config = dermscan.EngineConfig(model_dir=str(root / "models" / "litemedsam"), threads=1)
    engine = asyncio.run(dermscan.open_engine(config, rec))
    assert engine.model().name == "litemedsam"
    assert dermscan.Stage.CREATE_SESSIONS in rec.stages()


def test_cancel_async_scan_interrupts_the_encoder(lite, sample_bytes):
    before = lite.model_runs()
    rec = Recorder()

    async def run_and_cancel():
        task = asyncio.ensure_future(lite.scan_async(encoded(sample_bytes), dermscan.ScanOptions(), rec))
        while dermscan.Stage.ENCODE not in rec.stages():
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_and_cancel())
    time.sleep(0.3)  # let the worker see the cancel
    assert lite.model_runs().encoder_runs == before.encoder_runs, "the cancelled encoder run completed"
    assert scan(lite, sample_bytes).mask.area_px() > 0


def test_cancel_blocking_scan(lite, sample_bytes):
    cancel = dermscan.Cancellation()
    cancel.cancel()
    assert cancel.is_cancelled()
    with pytest.raises(dermscan.DermscanError.Cancelled):
        lite.scan_with(encoded(sample_bytes), dermscan.ScanOptions(), None, cancel)


def test_scans_from_several_threads(lite, sample_bytes):
    reference = scan(lite, sample_bytes).mask
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        masks = list(pool.map(lambda _: scan(lite, sample_bytes).mask, range(3)))
    assert all(m.dice(reference) == 1.0 for m in masks)


def huge_png():
    # A valid 1x1 PNG whose header is patched to declare 100000 x 100000 pixels.
    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    png = bytearray(buf.getvalue())
    png[16:24] = struct.pack(">II", 100_000, 100_000)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


def raw(width, height, stride, size):
    return dermscan.ImageSource.RAW(dermscan.RawImage(width=width, height=height, stride=stride, format=dermscan.PixelFormat.RGBA8, data=bytes(size)))


BAD_IMAGES = {
    "empty buffer": lambda s: encoded(b""),
    "garbage": lambda s: encoded(bytes(range(256)) * 4),
    "truncated JPEG": lambda s: encoded(s[: len(s) // 2]),
    "PNG declaring 100000x100000": lambda s: encoded(huge_png()),
    "zero-size raw buffer": lambda s: raw(0, 0, 0, 0),
    "stride shorter than a row": lambda s: raw(10, 10, 20, 400),
    "buffer too short": lambda s: raw(10, 10, 40, 100),
    "missing file": lambda s: dermscan.ImageSource.FILE(str(ROOT / "no" / "such.jpg")),
}


@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_images_are_typed_errors(lite, sample_bytes, case):
    with pytest.raises(dermscan.DermscanError.Image) as err:
        lite.scan(BAD_IMAGES[case](sample_bytes), dermscan.ScanOptions())
    assert str(err.value)
    if case.startswith("PNG declaring"):
        assert "limit" in str(err.value)
    print(f"{case}: {err.value}")


@pytest.mark.parametrize("box", [(5000, 5000, 5100, 5100), (600, 600, 500, 500), (float("nan"), 0, 10, 10)], ids=["outside", "inverted", "nan"])
def test_bad_boxes_are_prompt_errors(lite, sample_bytes, box):
    with pytest.raises(dermscan.DermscanError.Prompt) as err:
        scan(lite, sample_bytes, bbox=dermscan.BoxPrompt(x0=box[0], y0=box[1], x1=box[2], y1=box[3]))
    assert str(err.value)


def bundle_copy(tmp_path, edit):
    d = tmp_path / "bundle"
    shutil.copytree(ROOT / "models" / "litemedsam", d)
    edit(d)
    return str(d)


def flip_byte(d):
    f = d / "encoder.onnx"
    b = bytearray(f.read_bytes())
    b[len(b) // 2] ^= 1
    f.write_bytes(bytes(b))


def wrong_kind(d):
    m = d / "manifest.json"
    m.write_text(m.read_text().replace('"segmenter"', '"classifier"'))


def escaping_path(d):
    m = d / "manifest.json"
    m.write_text(m.read_text().replace('"encoder.onnx"', '"../encoder.onnx"'))


@pytest.mark.parametrize("edit", [flip_byte, wrong_kind, escaping_path])
def test_bad_bundles_are_model_errors(lite, tmp_path, edit):
    with pytest.raises(dermscan.DermscanError.Model) as err:
        dermscan.Engine(dermscan.EngineConfig(model_dir=bundle_copy(tmp_path, edit)))
    assert str(err.value)
    print(f"{edit.__name__}: {err.value}")


def test_missing_model_folder(lite):
    with pytest.raises(dermscan.DermscanError.Model):
        dermscan.Engine(dermscan.EngineConfig(model_dir=str(ROOT / "models" / "none")))


def test_runtime_errors_in_a_fresh_process():
    # ONNX Runtime loads once per process, so this runs in a child interpreter.
    code = textwrap.dedent(f"""
        import dermscan
        model = {str(ROOT / 'models' / 'litemedsam')!r}
        for lib in ({str(ROOT / 'no' / 'libonnxruntime.so')!r}, {str(ROOT / 'README.md')!r}):
            try:
                dermscan.Engine(dermscan.EngineConfig(model_dir=model, runtime_library=lib))
                raise SystemExit("no error for " + lib)
            except dermscan.DermscanError.Runtime as e:
                print("runtime error:", e)
        dermscan.Engine(dermscan.EngineConfig(model_dir=model))
        print("good runtime loaded afterwards")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("runtime error:") == 2


def test_forced_panic_is_an_error_and_the_process_goes_on(lite, sample_bytes):
    with pytest.raises(dermscan.DermscanError.Internal) as err:
        dermscan.self_test_panic("from Python")
    assert "from Python" in str(err.value)
    assert scan(lite, sample_bytes).mask.area_px() > 0


def test_disclaimer_and_version():
    assert "not a medical diagnosis" in dermscan.not_a_diagnosis()
    assert dermscan.version().count(".") == 2


def test_onnxruntime_library_helper():
    lib = dermscan.onnxruntime_library()
    assert lib is None or "onnxruntime" in lib


def test_readme_example_runs():
    """The README's Python snippet (bindings/python/examples/scan.py) runs as written."""
    run = subprocess.run([sys.executable, str(ROOT / "bindings/python/examples/scan.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "lesion box" in run.stdout and "refined:" in run.stdout, run.stdout
    assert dermscan.not_a_diagnosis() in run.stdout


def _yuv_frame(img, rotation_degrees=0):
    """The photo as Android's CameraX hands a frame out (YUV_420_888 over NV21 memory: U and
    V are views into one interleaved V,U buffer, pixel stride 2, padded rows), encoded by
    Pillow's JPEG YCbCr (full range, BT.601) with each chroma sample the mean of its 2x2
    block. Also returns the exact BT.601 conversion of those samples back to RGB (Pillow's own
    YCbCr to RGB truncates: half a grey level darker on average, which moved the automatic
    mask by 3% Dice)."""
    width, height = img.size
    y, cb, cr = img.convert("YCbCr").split()
    cw, ch = (width + 1) // 2, (height + 1) // 2
    cb, cr = cb.resize((cw, ch), Image.BOX), cr.resize((cw, ch), Image.BOX)
    full = lambda c: np.asarray(c.resize((width, height), Image.NEAREST), dtype=np.float64) - 128.0
    luma, u, v = np.asarray(y, dtype=np.float64), full(cb), full(cr)
    r, b = luma + 1.402 * v, luma + 1.772 * u
    g = (luma - 0.299 * r - 0.114 * b) / 0.587
    reference = Image.fromarray(np.clip(np.round(np.stack([r, g, b], axis=-1)), 0, 255).astype(np.uint8), "RGB")
    y_stride, c_stride = width + 32, 2 * cw + 16
    luma = y.tobytes()
    y_data = b"".join(luma[r * width:(r + 1) * width] + bytes(32) for r in range(height))[:y_stride * (height - 1) + width]
    vu = bytes(b for pair in zip(cr.tobytes(), cb.tobytes()) for b in pair)
    vu_data = b"".join(vu[r * 2 * cw:(r + 1) * 2 * cw] + bytes(16) for r in range(ch))[:c_stride * (ch - 1) + 2 * cw]
    plane = lambda data: dermscan.YuvPlane(data=data, row_stride=c_stride, pixel_stride=2)
    frame = dermscan.YuvFrame(
        width=width, height=height,
        y=dermscan.YuvPlane(data=y_data, row_stride=y_stride, pixel_stride=1),
        u=plane(vu_data[1:]), v=plane(vu_data[:-1]),
        range=dermscan.YuvRange.FULL, matrix=dermscan.YuvMatrix.BT601,
        rotation_degrees=rotation_degrees, mirrored=False)
    return frame, reference


def test_scan_yuv_camera_frame_android_layout_and_rotation(lite):
    upright = ImageOps.exif_transpose(Image.open(SAMPLE)).convert("RGB")
    frame, reference = _yuv_frame(upright)
    width, height = reference.size
    raw = dermscan.RawImage(width=width, height=height, stride=width * 3, format=dermscan.PixelFormat.RGB8, data=reference.tobytes())
    expected = lite.scan(dermscan.ImageSource.RAW(raw), dermscan.ScanOptions())
    got = lite.scan(dermscan.ImageSource.YUV(frame), dermscan.ScanOptions())
    assert expected.mask.area_px() > 1000
    dice = got.mask.dice(expected.mask)
    assert dice >= 0.98, dice
    # The sensor stored the frame turned a quarter counter-clockwise: rotation 90 turns it back.
    # Judged against the exact conversion of the turned frame's own samples, turned upright:
    # Pillow's chroma means of the turned photo can differ from the upright one's by a level,
    # and a level moves the automatic mask by a few percent Dice (0.977 against the upright
    # frame's mask on an AVX-512 VNNI CPU).
    turned, turned_reference = _yuv_frame(upright.transpose(Image.Transpose.ROTATE_90), rotation_degrees=90)
    turned_reference = turned_reference.transpose(Image.Transpose.ROTATE_270)
    assert turned_reference.size == (width, height)
    raw_turned = dermscan.RawImage(width=width, height=height, stride=width * 3, format=dermscan.PixelFormat.RGB8,
                                   data=turned_reference.tobytes())
    expected_turned = lite.scan(dermscan.ImageSource.RAW(raw_turned), dermscan.ScanOptions())
    from_turned = lite.scan(dermscan.ImageSource.YUV(turned), dermscan.ScanOptions())
    assert (from_turned.mask.width(), from_turned.mask.height()) == (width, height)
    assert from_turned.mask.dice(expected_turned.mask) >= 0.98, from_turned.mask.dice(expected_turned.mask)


def test_bad_yuv_frames_are_typed_errors(lite):
    good = dermscan.YuvPlane(data=bytes(64), row_stride=8, pixel_stride=1)
    chroma = dermscan.YuvPlane(data=bytes(16), row_stride=4, pixel_stride=1)
    def frame(**kw):
        args = dict(width=8, height=8, y=good, u=chroma, v=chroma, range=dermscan.YuvRange.FULL,
                    matrix=dermscan.YuvMatrix.BT601, rotation_degrees=0, mirrored=False)
        args.update(kw)
        return dermscan.ImageSource.YUV(dermscan.YuvFrame(**args))
    for bad in (frame(u=dermscan.YuvPlane(data=bytes(10), row_stride=4, pixel_stride=1)),
                frame(y=dermscan.YuvPlane(data=bytes(64), row_stride=4, pixel_stride=1)),
                frame(v=dermscan.YuvPlane(data=bytes(16), row_stride=4, pixel_stride=0)),
                frame(rotation_degrees=45), frame(width=0)):
        with pytest.raises(dermscan.DermscanError.Image):
            lite.scan(bad, dermscan.ScanOptions())
