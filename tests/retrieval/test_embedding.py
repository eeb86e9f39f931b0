from __future__ import annotations

import numpy as np
import pytest

from retrieval import KnowledgeBase, embedding
from retrieval.answering.excerpt import ANCHOR_TOKENS, SENTENCES_EMBEDDED
from retrieval.kb import QUESTION_TOKENS_WARMED
from retrieval.onnx_backend import (
    CALL_COST_TOKENS,
    PAD_MULTIPLE,
    OnnxEncoder,
    batch_rows,
    plan_batches,
)
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


SENTENCE = "the cat sat on the mat and the dog ran to the park with a red ball in the sun"
WORDS = SENTENCE.split(" ")


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_a_token_cap_reads_only_the_first_tokens_of_each_text(backend: str) -> None:
    embedder = embedding.Embedder(load_settings(backend=backend, device="cpu").embedding)
    long, short = " ".join(WORDS), " ".join(WORDS[:3])  # each of these words is one token
    capped = embedder.encode([long, short], max_tokens=8)  # [CLS], six words, [SEP]
    expected = embedder.encode([" ".join(WORDS[:6]), short])
    assert float(capped[0] @ expected[0]) > 0.9999
    assert float(capped[1] @ expected[1]) > 0.9999  # a shorter text in the batch is untouched
    assert float(capped[0] @ embedder.encode([long])[0]) < 0.99


@pytest.fixture
def recording(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[embedding.Embedder, list[tuple[int, ...]]]:
    """Return an OpenVINO embedder and the list of the input shapes its model runs."""
    embedder = embedding.Embedder(load_settings(backend="openvino", device="cpu").embedding)
    model = embedder.model
    assert isinstance(model, OnnxEncoder)
    shapes: list[tuple[int, ...]] = []
    run = model._run

    def recorded(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        shapes.append(ids.shape)
        return run(ids, mask)

    monkeypatch.setattr(model, "_run", recorded)
    return embedder, shapes


def test_onnx_batches_are_padded_to_few_shapes_which_the_warm_up_runs(
    recording: tuple[embedding.Embedder, list[tuple[int, ...]]],
) -> None:
    embedder, shapes = recording
    embedder.warm_up(3, 20)
    widths = [PAD_MULTIPLE, 2 * PAD_MULTIPLE]
    assert shapes == [(rows, width) for rows in (1, 2, 4) for width in widths]  # rows: powers of 2
    shapes.clear()
    embedder.encode([" ".join(WORDS[:2]), " ".join(WORDS)], max_tokens=10)
    assert shapes == [(2, 2 * PAD_MULTIPLE)]  # ten tokens, padded to the next multiple
    shapes.clear()
    embedder.encode([" ".join(WORDS[:3])])
    assert shapes == [(1, PAD_MULTIPLE)]  # five tokens with the separators, padded as well


def test_a_long_text_runs_alone_rather_than_padding_short_ones_to_its_length(
    recording: tuple[embedding.Embedder, list[tuple[int, ...]]],
) -> None:
    assert plan_batches([10] * 4, max_batch=8) == [(0, 4)]
    runs = plan_batches([10] * 5, max_batch=2)
    assert sorted(end - start for start, end in runs) == [1, 2, 2]
    assert [start for start, _ in runs[1:]] == [end for _, end in runs[:-1]]  # contiguous
    assert plan_batches([8, 10, 80], max_batch=8) == [(0, 2), (2, 3)]
    assert plan_batches([8, 16], max_batch=8) == [(0, 2)]  # one more call costs more than 8 pads
    assert [batch_rows(n) for n in (1, 2, 3, 5, 8)] == [1, 2, 4, 8, 8]
    assert CALL_COST_TOKENS > PAD_MULTIPLE
    embedder, shapes = recording
    texts = [" ".join(WORDS[:2]), " ".join(WORDS[:3]), " ".join(WORDS * 4), " ".join(WORDS[:4])]
    apart = [embedder.encode([text])[0] for text in texts]
    shapes.clear()
    together = embedder.encode(texts)
    tokens = len(embedder.model.tokenizer.encode(texts[2]).ids)  # type: ignore[attr-defined]
    long = -(-tokens // PAD_MULTIPLE) * PAD_MULTIPLE
    assert sorted(shapes) == [(1, long), (4, PAD_MULTIPLE)]  # not four rows of the long one
    for one, vector in zip(apart, together, strict=True):
        assert float(one @ vector) > 0.9999  # the filler rows change nothing


def test_the_knowledge_base_warm_up_runs_the_question_and_anchor_shapes(
    seed_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(
        embedding.Embedder, "warm_up", lambda self, batch, tokens: calls.append((batch, tokens))
    )
    seed_kb.warm_up()
    assert calls == [(1, QUESTION_TOKENS_WARMED), (SENTENCES_EMBEDDED, ANCHOR_TOKENS)]


def test_excerpt_sentences_are_scored_in_int8_while_search_keeps_full_precision(
    seed_kb: KnowledgeBase,
) -> None:
    sentences = seed_kb._composer.embedder
    assert (seed_kb.embedder.settings.backend, sentences.settings.backend) == (
        "openvino",
        "openvino-int8",
    )
    assert sentences.model is not seed_kb.embedder.model
    assert "February 3" in seed_kb.ask("When will Petro meet Trump?").text
    same = KnowledgeBase(seed_kb.settings, excerpt_backend="")
    assert same._composer.embedder.model is same.embedder.model  # one model, loaded once
