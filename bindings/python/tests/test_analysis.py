"""The analysis through the Python bindings on the real models: measurements and ABCD,
the classifier, the explained risk and the photo quality gate on the sample photo, and the
typed errors for bad metadata and swapped bundle kinds."""

import math

import pytest

import dermscan
from conftest import ROOT, make_engine

LABELS = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]


@pytest.fixture(scope="module")
def analyser():
    config = dermscan.EngineConfig(
        model_dir=str(ROOT / "models" / "litemedsam"),
        classifier_dir=str(ROOT / "models" / "ham10000-xception"),
        threads=2,
    )
    return dermscan.Engine(config)


def scan(engine, data, **options):
    return engine.scan(dermscan.ImageSource.ENCODED(data), dermscan.ScanOptions(**options))


def test_sample_photo_is_measured_classified_and_explained(analyser, sample_bytes):
    r = scan(analyser, sample_bytes, age_years=45.0, sex=dermscan.Sex.FEMALE, body_site="arm")
    f = r.features
    assert f is not None
    m = f.measurements
    # The equivalent diameter is the mask's area as a disc.
    assert m.diameter_px == pytest.approx(2 * math.sqrt(r.mask.area_px() / math.pi), rel=1e-3)
    assert m.major_axis_px >= m.minor_axis_px > 0 and m.perimeter_px > m.diameter_px
    assert m.diameter_mm is None  # no scale given
    a = f.abcd
    assert 0 <= a.a <= 2 and 0 <= a.b <= 8 and 1 <= a.c <= 6 and 1 <= a.d_proxy <= 5
    assert a.tds_proxy == pytest.approx(1.3 * a.a + 0.1 * a.b + 0.5 * a.c + 0.5 * a.d_proxy, abs=1e-6)
    assert len(a.colours) == a.c

    c = r.classification
    assert [p.label for p in c.probabilities] == LABELS
    assert sum(p.probability for p in c.probabilities) == pytest.approx(1.0, abs=1e-3)
    assert c.top == max(c.probabilities, key=lambda p: p.probability).label
    mal = sum(p.probability for p in c.probabilities if p.label in ("mel", "bcc", "akiec"))
    assert c.malignant_probability == pytest.approx(mal, abs=1e-5)

    risk = r.risk
    assert risk.level in (dermscan.RiskLevel.LOW, dermscan.RiskLevel.MEDIUM, dermscan.RiskLevel.HIGH)
    codes = [reason.code for reason in risk.reasons]
    assert dermscan.RiskCode.CLASSIFIER in codes and dermscan.RiskCode.TDS_PROXY in codes
    for reason in risk.reasons:
        assert reason.text and math.isfinite(reason.value)
    assert risk.disclaimer == dermscan.not_a_diagnosis()

    q = r.quality
    assert dermscan.QualityIssue.NO_LESION_FOUND not in [w.issue for w in q.warnings]
    assert r.timings.classifier_ms > 0


def test_scale_gives_millimetres(analyser, sample_bytes):
    plain = scan(analyser, sample_bytes).features.measurements
    scaled = scan(analyser, sample_bytes, mm_per_px=0.05).features.measurements
    assert scaled.diameter_mm == pytest.approx(plain.diameter_px * 0.05, rel=1e-6)
    assert scaled.area_mm2 == pytest.approx(plain.area_px * 0.05**2, rel=1e-6)


def test_without_a_classifier_risk_still_explains(lite, sample_bytes):
    r = scan(lite, sample_bytes)
    assert r.classification is None
    assert r.risk.reasons and all(reason.code != dermscan.RiskCode.CLASSIFIER for reason in r.risk.reasons)


@pytest.mark.parametrize("options", [{"age_years": -1.0}, {"age_years": 400.0}, {"body_site": "elbow of the moon"}, {"mm_per_px": -0.1}])
def test_bad_metadata_and_scale_are_typed_errors(analyser, sample_bytes, options):
    with pytest.raises(dermscan.DermscanError) as err:
        scan(analyser, sample_bytes, **options)
    assert str(err.value)


def test_swapped_bundle_kinds_are_model_errors():
    with pytest.raises(dermscan.DermscanError.Model):
        make_engine("ham10000-xception")
    with pytest.raises(dermscan.DermscanError.Model):
        dermscan.Engine(dermscan.EngineConfig(model_dir=str(ROOT / "models" / "litemedsam"), classifier_dir=str(ROOT / "models" / "mobilesam")))
