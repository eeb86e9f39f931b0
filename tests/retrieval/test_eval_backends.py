"""The ONNX backends the evaluation's speed figures depend on: same vectors, exported once."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from retrieval import embedding, onnx_backend
from retrieval.embedding import Embedder, resolve_model
from retrieval.onnx_backend import (
    CALIBRATION_CHARS,
    cached_model_path,
    calibration_texts,
    ensure_model,
)
from retrieval.settings import load_settings

TEXTS = [
    "Colombian President Gustavo Petro will meet Donald Trump at the White House on February 3.",
    "The Normans gave their name to Normandy, a region in France.",
    "Steam engines use the expansion of steam to drive a piston.",
    "When will Petro meet Trump?",
    "Who gave their name to Normandy?",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a model cache folder shared by the tests here."""
    return tmp_path_factory.mktemp("models")


def embed(backend: str, cache: Path) -> np.ndarray:
    """Return vectors for TEXTS from one backend."""
    settings = load_settings(backend=backend, cache_dir=cache, device="cpu")
    return Embedder(settings.embedding).encode(TEXTS)


@pytest.mark.parametrize(
    ("backend", "floor"), [("onnx-int8", 0.97), ("openvino", 0.999), ("openvino-int8", 0.97)]
)
def test_fast_backends_match_the_torch_model(backend: str, floor: float, cache: Path) -> None:
    reference = embed("torch", cache)
    vectors = embed(backend, cache)
    assert vectors.shape == reference.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    agreement = np.sum(vectors * reference, axis=1)
    assert agreement.min() >= floor
    # The questions find the same passages as with the torch model.
    questions, passages = vectors[3:], vectors[:3]
    assert list(np.argmax(questions @ passages.T, axis=1)) == [0, 1]


@pytest.mark.parametrize(("form", "weights"), [("onnx-int8", ""), ("openvino-int8", ".bin")])
def test_the_quantised_model_is_exported_once_into_the_cache(
    form: Literal["onnx-int8", "openvino-int8"], weights: str, tmp_path: Path
) -> None:
    model_dir = Path(resolve_model("all-MiniLM-L6-v2"))
    path = ensure_model(model_dir, tmp_path, form)
    assert path == cached_model_path(model_dir, tmp_path, form)
    stored = path.with_suffix(weights) if weights else path
    assert path.is_file() and stored.stat().st_size < 40_000_000  # int8: a quarter of float32
    before = path.stat().st_mtime_ns
    assert ensure_model(model_dir, tmp_path, form) == path
    assert path.stat().st_mtime_ns == before
    assert sorted(p.name for p in path.parent.iterdir() if p.is_file()) == sorted(
        {"model.onnx", path.name, stored.name}  # and the float export it was made from
    )


def test_int8_calibration_reads_chunk_long_texts_and_single_sentences() -> None:
    texts = calibration_texts()
    assert sum(len(t) > CALIBRATION_CHARS / 2 for t in texts) >= 30
    assert sum(len(t) < CALIBRATION_CHARS / 4 for t in texts) >= 30
    assert all(len(t) <= CALIBRATION_CHARS or "\n\n" not in t for t in texts)


def test_new_calibration_text_names_a_new_int8_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = Path(resolve_model("all-MiniLM-L6-v2"))
    shipped = cached_model_path(model_dir, tmp_path, "openvino-int8")
    text = tmp_path / "calibration.txt"
    text.write_text("Other text to calibrate on.\n")
    monkeypatch.setattr(onnx_backend, "CALIBRATION_FILE", text)
    assert cached_model_path(model_dir, tmp_path, "openvino-int8") != shipped
    assert cached_model_path(model_dir, tmp_path, "onnx-int8").name == "model-int8.onnx"


@pytest.mark.parametrize(
    ("backend", "compiled_file"), [("openvino", "model.onnx"), ("openvino-int8", "model-int8-")]
)
def test_each_openvino_backend_compiles_its_own_form_of_the_model(
    backend: str, compiled_file: str, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[Path] = []

    def runner(path: Path) -> onnx_backend.Runner:
        compiled.append(path)
        return lambda ids, mask: np.ones((*ids.shape, 384), dtype=np.float32)

    monkeypatch.setattr(onnx_backend, "_openvino_runner", runner)  # only the compile is skipped
    settings = load_settings(backend=backend, cache_dir=cache, device="cpu").embedding
    embedding._load_onnx(settings, resolve_model("all-MiniLM-L6-v2"))
    assert [path.name.startswith(compiled_file) for path in compiled] == [True]
