import pathlib

import pytest

import dermscan

ROOT = pathlib.Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "assets" / "samples" / "forearm-nevi.jpg"


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def sample_bytes():
    return SAMPLE.read_bytes()


def make_engine(name, threads=2):
    return dermscan.Engine(dermscan.EngineConfig(model_dir=str(ROOT / "models" / name), threads=threads))


@pytest.fixture(scope="session")
def lite():
    return make_engine("litemedsam")


@pytest.fixture(scope="session")
def mobile():
    return make_engine("mobilesam")
