"""The lesion history through the Python bindings on the real model: a store in a temporary
directory, two photos of one lesion 60 days apart (the sample, then the sample turned 90°
and saved again as JPEG), the change between them and the risk that takes it into account,
the report, and an encrypted store that a wrong key does not open and does not damage."""

import io
import math

import pytest
from PIL import Image

import dermscan

DAY = 86_400
T0 = 1_700_000_000  # 2023-11-14


def scan(engine, data):
    return engine.scan(dermscan.ImageSource.ENCODED(data), dermscan.ScanOptions(snap_edges=True))


def turned_jpeg(data):
    """The photo turned 90° (counter-clockwise) and saved again as JPEG, as a second photo of
    the same lesion taken another way round."""
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").transpose(Image.Transpose.ROTATE_90).save(out, "JPEG", quality=92)
    return out.getvalue()


def half_size_jpeg(data):
    out = io.BytesIO()
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.resize((image.width // 2, image.height // 2)).save(out, "JPEG", quality=92)
    return out.getvalue()


def evolution(scan_record):
    reasons = [r for r in scan_record.risk.reasons if r.code == dermscan.RiskCode.EVOLUTION]
    assert len(reasons) <= 1
    return reasons[0] if reasons else None


@pytest.fixture(scope="module")
def key():
    return bytes(range(32))


def test_two_scans_change_report_and_keys(lite, sample_bytes, key, tmp_path):
    store_dir = str(tmp_path / "history")
    store = dermscan.HistoryStore.open(store_dir, key, None)
    assert store.is_encrypted()
    mole = store.add_lesion("left forearm", "arm")
    assert (mole.label, mole.body_site) == ("left forearm", dermscan.BodySite.ARM)
    assert store.lesion_by_label("left forearm") == mole

    first = scan(lite, sample_bytes)
    added1 = store.add_scan(mole.id, sample_bytes, first, T0, None)
    assert added1.change is None
    assert evolution(added1.scan) is None  # nothing to compare with yet
    assert added1.scan.area_px == first.mask.area_px()
    assert added1.scan.features.abcd.c == first.features.abcd.c
    assert added1.scan.features.measurements.diameter_px == pytest.approx(first.features.measurements.diameter_px)
    assert [(r.code, r.level) for r in added1.scan.risk.reasons] == [(r.code, r.level) for r in first.risk.reasons]
    assert [m.name for m in added1.scan.models] == [first.model.name]

    turned = turned_jpeg(sample_bytes)
    second = scan(lite, turned)
    assert (second.mask.width(), second.mask.height()) == (first.mask.height(), first.mask.width())
    added2 = store.add_scan(mole.id, turned, second, T0 + 60 * DAY, None)
    change = added2.change
    assert change is not None
    assert (change.before_id, change.after_id) == (added1.scan.id, added2.scan.id)
    assert change.days_between == pytest.approx(60.0)
    print(
        f"\n    turned 90°, 60 days: area {added1.scan.area_px} -> {added2.scan.area_px} px, "
        f"area_ratio {change.area_ratio:.3f}, iou_aligned {change.iou_aligned:.3f}, iou_shape {change.iou_shape:.3f}, "
        f"rotation {change.alignment.rotation_deg:.1f}°, significant {change.significant}, "
        f"reasons {[r.code for r in change.reasons]}, notes {change.notes}"
    )
    # The same lesion photographed again: no scale, so sizes are in pixels (and a note says so).
    assert 0.25 < change.area_ratio < 4.0
    assert 0.2 < change.iou_aligned <= 1.0
    assert change.diameter_unit == dermscan.SizeUnit.PIXELS and not change.alignment.scale_normalised and change.notes
    assert change.significant == bool(change.reasons)
    assert change.area_unit == dermscan.SizeUnit.PIXELS and change.area_after / change.area_before == pytest.approx(change.area_ratio)
    assert change.summary.startswith("area ")
    # The stored risk takes the change into account: an `evolution` reason, high only when the
    # change is significant.
    reason = evolution(added2.scan)
    assert reason is not None and reason.value == pytest.approx(change.area_ratio)
    assert (reason.level == dermscan.RiskLevel.HIGH) == change.significant
    if change.significant:
        assert added2.scan.risk.level == dermscan.RiskLevel.HIGH
    print(f"    evolution reason: {reason.level.name}: {reason.text}")

    # The identical photo again 30 days later: exactly no change, and a low evolution reason.
    added3 = store.add_scan(mole.id, turned, second, T0 + 90 * DAY, None)
    same = added3.change
    assert same.area_ratio == pytest.approx(1.0) and same.iou_aligned == pytest.approx(1.0, abs=0.01)
    assert not same.significant and evolution(added3.scan).level == dermscan.RiskLevel.LOW
    assert store.latest_change(mole.id) == same
    assert store.compare(added1.scan.id, added2.scan.id) == change

    assert [s.id for s in store.scans(mole.id)] == [added1.scan.id, added2.scan.id, added3.scan.id]
    assert store.photo(added2.scan.id) == turned
    assert store.mask(added1.scan.id).pixels() == first.mask.pixels()

    for png in (store.area_chart_png(mole.id), store.outlines_png(mole.id)):
        assert png[:8] == b"\x89PNG\r\n\x1a\n"

    report = tmp_path / "report.html"
    store.write_report(mole.id, str(report))
    html = report.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert dermscan.not_a_diagnosis() in html
    assert "data:image/png;base64," in html
    assert "left forearm" in html
    print(f"    report: {len(html)} characters")

    check = store.check()
    assert check.problems == [] and (check.lesions, check.scans) == (1, 3)
    usage = store.disk_usage()
    assert usage > len(sample_bytes)

    # Another process (here: a second open) cannot use the store while it is open.
    with pytest.raises(dermscan.DermscanError.StoreLocked):
        dermscan.HistoryStore.open(store_dir, key, None)
    del store

    # A wrong key is a typed error and changes nothing; so is a missing key.
    with pytest.raises(dermscan.DermscanError.WrongKey) as err:
        dermscan.HistoryStore.open(store_dir, bytes(32), None)
    print(f"    wrong key -> {type(err.value).__name__}: {err.value}")
    with pytest.raises(dermscan.DermscanError.KeyRequired):
        dermscan.HistoryStore.open(store_dir, None, None)
    with pytest.raises(dermscan.DermscanError.InvalidArgument):
        dermscan.HistoryStore.open(store_dir, b"short", None)

    store = dermscan.HistoryStore.open(store_dir, key, None)
    assert [s.id for s in store.scans(mole.id)] == [added1.scan.id, added2.scan.id, added3.scan.id]
    assert store.photo(added1.scan.id) == sample_bytes
    assert store.check().problems == []

    # Rotating the key: the old one no longer opens it, the new one does, nothing is lost.
    new_key = bytes(reversed(range(32)))
    store.rotate_key(new_key)
    del store
    with pytest.raises(dermscan.DermscanError.WrongKey):
        dermscan.HistoryStore.open(store_dir, key, None)
    store = dermscan.HistoryStore.open(store_dir, new_key, None)
    assert len(store.scans(mole.id)) == 3 and store.check().problems == []
    del store


def test_typed_errors(lite, sample_bytes, tmp_path):
    store = dermscan.HistoryStore.open(str(tmp_path / "plain"), None, 1 << 30)
    assert not store.is_encrypted()
    mole = store.add_lesion("back", None)
    with pytest.raises(dermscan.DermscanError.DuplicateLabel):
        store.add_lesion("back", None)
    with pytest.raises(dermscan.DermscanError.InvalidArgument):
        store.add_lesion("shin", "elbow of the moon")
    with pytest.raises(dermscan.DermscanError.LesionNotFound):
        store.lesion_by_label("nowhere")
    with pytest.raises(dermscan.DermscanError.LesionNotFound):
        store.scans(mole.id + 100)
    with pytest.raises(dermscan.DermscanError.ScanNotFound):
        store.photo(12345)
    assert store.latest_change(mole.id) is None

    result = scan(lite, sample_bytes)
    with pytest.raises(dermscan.DermscanError.InvalidArgument):
        store.add_scan(mole.id, half_size_jpeg(sample_bytes), result, T0, None)  # photo and mask differ in size
    with pytest.raises(dermscan.DermscanError.InvalidArgument):
        store.add_scan(mole.id, sample_bytes, result, T0, -1.0)
    assert store.scans(mole.id) == []
    added = store.add_scan(mole.id, sample_bytes, result, T0, 0.05)
    assert added.scan.mm_per_px == pytest.approx(0.05)
    assert added.scan.area_mm2 == pytest.approx(added.scan.area_px * 0.05**2, rel=1e-5)
    assert added.scan.diameter_px == pytest.approx(2 * math.sqrt(added.scan.area_px / math.pi))
    store.delete_scan(added.scan.id)
    with pytest.raises(dermscan.DermscanError.ScanNotFound):
        store.scan(added.scan.id)
    del store

    # A key for a store that holds unencrypted data.
    with pytest.raises(dermscan.DermscanError.NotEncrypted):
        dermscan.HistoryStore.open(str(tmp_path / "plain"), bytes(32), None)
    store = dermscan.HistoryStore.open(str(tmp_path / "plain"), None, None)
    store.delete_lesion(mole.id)
    assert store.lesions() == []
    assert store.check().problems == []
    del store
    full = dermscan.HistoryStore.open(str(tmp_path / "small"), None, 1000)
    mole = full.add_lesion("arm", None)
    with pytest.raises(dermscan.DermscanError.StorageFull):
        full.add_scan(mole.id, sample_bytes, result, T0, None)
    assert full.scans(mole.id) == []


class Stages(dermscan.ProgressListener):
    def __init__(self):
        self.stages = []

    def on_progress(self, stage, fraction):
        self.stages.append((stage, fraction))


def test_async_history_calls_report_progress_and_cancel(lite, sample_bytes, key, tmp_path):
    """add_scan, compare, the report and a key rotation as coroutines; a rotation cancelled
    while it runs leaves the store on its old key, whole."""
    import asyncio
    import threading
    import time

    store = dermscan.HistoryStore.open(str(tmp_path / "history"), None, None)
    mole = store.add_lesion("back", "trunk")
    first, later = scan(lite, sample_bytes), turned_jpeg(sample_bytes)
    second = scan(lite, later)
    progress = Stages()

    async def calls():
        a = await store.add_scan_async(mole.id, sample_bytes, first, T0, None, progress)
        b = await store.add_scan_async(mole.id, later, second, T0 + 60 * DAY, None, None)
        change = await store.compare_async(a.scan.id, b.scan.id, None)
        html = await store.report_html_async(mole.id, None)
        report = tmp_path / "report.html"
        await store.write_report_async(mole.id, str(report), None)
        return b, change, html, report.read_text()

    b, change, html, written = asyncio.run(calls())
    assert [s for s, _ in progress.stages] == [dermscan.Stage.COMPARE, dermscan.Stage.STORE, dermscan.Stage.DONE]
    assert b.change is not None and abs(change.area_ratio - b.change.area_ratio) < 1e-6
    assert "not a medical diagnosis" in html and "not a medical diagnosis" in written

    # Cancel a key rotation while it runs: the listener holds the worker at its first report
    # until the task has been cancelled (a cancel that lands before any change is written).
    started, release = threading.Event(), threading.Event()

    class Hold(dermscan.ProgressListener):
        def on_progress(self, stage, fraction):
            started.set()
            release.wait(30)

    async def rotate_and_cancel():
        task = asyncio.ensure_future(store.rotate_key_async(key, Hold()))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(rotate_and_cancel())
    release.set()
    # The worker sees the cancel at its next step, before it writes anything; give it time to
    # get there (had the cancel been lost, the rotation would complete in this time).
    time.sleep(1.0)
    assert not store.is_encrypted(), "a cancelled rotation must not switch the key"
    assert store.check().problems == [] and store.check().scans == 2
    assert len(store.scans(mole.id)) == 2

    # The same rotation, not cancelled, reports progress per scan and switches the key.
    rotation = Stages()
    asyncio.run(store.rotate_key_async(key, rotation))
    assert store.is_encrypted() and store.check().problems == []
    stages = [s for s, _ in rotation.stages]
    assert stages[0] == dermscan.Stage.RESEAL and stages[-1] == dermscan.Stage.DONE and dermscan.Stage.STORE in stages
    fractions = [f for _, f in rotation.stages]
    assert fractions == sorted(fractions), fractions

