from __future__ import annotations

import pytest

from retrieval import embedding
from retrieval.settings import EmbeddingSettings


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
