from __future__ import annotations

import pytest

from retrieval import embedding
from retrieval.settings import EmbeddingSettings, load_settings


def test_a_gpu_runs_the_torch_backend_and_the_cpu_the_configured_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    openvino = EmbeddingSettings(backend="openvino")
    monkeypatch.setattr(embedding, "pick_device", lambda device: "cuda")
    assert embedding.pick_backend(openvino) == "torch"
    assert embedding.pick_backend(EmbeddingSettings(backend="openvino", device="cpu")) == "openvino"
    monkeypatch.setattr(embedding, "pick_device", lambda device: "cpu")
    assert embedding.pick_backend(openvino) == "openvino"


def test_auto_device_is_the_cpu_without_an_nvidia_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "NVIDIA_DEVICE_FILES", ("/nonexistent/nvidia0",))
    assert embedding.pick_device("auto") == "cpu"
    assert embedding.pick_device("cuda:1") == "cuda:1"


def test_embedders_with_the_same_settings_share_one_loaded_model() -> None:
    settings = load_settings().embedding
    first, second = embedding.Embedder(settings), embedding.Embedder(settings)
    assert first.model is second.model
    vectors = first.encode(["The Normans gave their name to Normandy."])
    assert vectors.shape == (1, first.dimension)
    assert abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-5
