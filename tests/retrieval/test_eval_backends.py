"""The ONNX backends the evaluation's speed figures depend on: same vectors, exported once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import Embedder, resolve_model
from retrieval.onnx_backend import cached_model_path
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


@pytest.mark.parametrize(("backend", "floor"), [("onnx-int8", 0.97), ("openvino", 0.999)])
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


def test_the_quantised_model_is_exported_once_into_the_cache(cache: Path) -> None:
    embed("onnx-int8", cache)
    path = cached_model_path(Path(resolve_model("all-MiniLM-L6-v2")), cache, quantized=True)
    assert path.is_file() and path.stat().st_size < 40_000_000  # int8: a quarter of float32
    before = path.stat().st_mtime_ns
    embed("onnx-int8", cache)
    assert path.stat().st_mtime_ns == before
