"""The ONNX encoder: the packaged model exported once to ONNX (optionally int8) and run.

The export happens on first use from the locally installed model (no model hub) and is cached
under ``embedding.cache_dir``; later processes load the cached file in well under a second.
ONNX Runtime runs the export (or its int8 weights); OpenVINO runs it in bfloat16 where the CPU
has it, or an int8 copy whose weights and activations are calibrated on typical documentation.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from retrieval.errors import ModelLoadError

log = logging.getLogger(__name__)

EXPORT_OPSET = 17  # ONNX opset of the exported graph; every supported onnxruntime runs it
DEFAULT_MAX_TOKENS = 256  # used when the model does not say its maximum sequence length
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
# Batches are padded to a multiple of this many tokens: OpenVINO prepares each new input shape
# on first sight (about 10 ms), and lengths in steps of 8 also run faster on AVX-512 and AMX.
PAD_MULTIPLE = 8
# One model call costs about as much as this many more tokens in the batch (OpenVINO on a 2-core
# CPU: about 1.3 ms a call, 0.065 ms a token); batches are planned with it.
CALL_COST_TOKENS = 20
# The forms a model is cached in, by the backend that runs it, and each form's file.
Form = Literal["onnx", "onnx-int8", "openvino-int8"]
MODEL_FILES: dict[Form, str] = {
    "onnx": "model.onnx",
    "onnx-int8": "model-int8.onnx",  # int8 weights, for ONNX Runtime
    "openvino-int8": "model-int8-{calibration}.xml",  # OpenVINO's int8 (and its .bin)
}
# What each ONNX backend runs: the cached form of the model, and the runtime that runs it.
BACKENDS: dict[str, tuple[Form, str]] = {
    "onnx": ("onnx", "onnxruntime"),
    "onnx-int8": ("onnx-int8", "onnxruntime"),
    "openvino": ("onnx", "openvino"),
    "openvino-int8": ("openvino-int8", "openvino"),
}
# Text the int8 activations are calibrated on: this project's own documentation, which has the
# prose, code, tables and questions that documentation folders hold.
CALIBRATION_FILE = Path(__file__).with_name("calibration.txt")
CALIBRATION_CHARS = 1000  # paragraphs are grouped to about a chunk's length


def _model_digest(model_dir: Path) -> str:
    """Return a short digest of the model's configuration and weight files (names and sizes)."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*")):
        if path.is_file():
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:12]


def cached_model_path(model_dir: Path, cache_dir: Path, form: Form = "onnx") -> Path:
    """Return where ``model_dir`` exported in ``form`` is cached.

    A model calibrated on text is named by the text's digest too, so new text builds it anew.
    """
    name = MODEL_FILES[form]
    if "{calibration}" in name:
        name = name.format(calibration=_digest(CALIBRATION_FILE))
    return cache_dir / f"{model_dir.name}-{_model_digest(model_dir)}" / name


def _digest(path: Path) -> str:
    """Return a short digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def max_tokens_of(model_dir: Path) -> int:
    """Return the longest input, in tokens, the sentence-transformers model reads."""
    config = _read_json(model_dir / "sentence_bert_config.json")
    max_tokens = config.get("max_seq_length", DEFAULT_MAX_TOKENS)
    return max_tokens if isinstance(max_tokens, int) else DEFAULT_MAX_TOKENS


def _export(model_dir: Path, target: Path) -> None:
    """Export the transformer of a sentence-transformers model directory to ONNX."""
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        """Wraps the transformer so the graph takes keyword inputs and returns token vectors."""

        def __init__(self, model: torch.nn.Module) -> None:
            """Keep the wrapped model."""
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            """Return the last hidden state."""
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state  # type: ignore[no-any-return]

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*INPUT_NAMES, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(model),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            dynamo=False,
            input_names=INPUT_NAMES,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=EXPORT_OPSET,
        )


def _quantize(source: Path, target: Path) -> None:
    """Quantise the weights of an ONNX model to int8, one scale per output channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def calibration_texts() -> list[str]:
    """Return the calibration texts: paragraphs grouped to chunk length, and single sentences."""
    paragraphs = [p.strip() for p in CALIBRATION_FILE.read_text().split("\n\n") if p.strip()]
    grouped = [""]
    for paragraph in paragraphs:
        if len(grouped[-1]) + len(paragraph) > CALIBRATION_CHARS:
            grouped.append("")
        grouped[-1] = f"{grouped[-1]}\n\n{paragraph}".strip()
    sentences = [p for p in paragraphs if "\n" not in p and len(p) < CALIBRATION_CHARS / 4]
    return [g for g in grouped if g] + sentences


def _quantize_openvino(source: Path, model_dir: Path, target: Path) -> None:
    """Quantise an ONNX model's weights and activations to int8 for OpenVINO (NNCF)."""
    import nncf
    import openvino as ov
    from nncf.common.logging.logger import set_log_level
    from tokenizers import Tokenizer

    set_log_level(logging.ERROR)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens_of(model_dir))
    samples = []
    for text in calibration_texts():
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        samples.append(_feeds(ids, np.ones_like(ids), INPUT_NAMES))
    with contextlib.redirect_stdout(io.StringIO()):  # NNCF's progress bars
        quantized = nncf.quantize(
            ov.Core().read_model(str(source)),
            nncf.Dataset(samples),
            model_type=nncf.ModelType.TRANSFORMER,  # softmax and layer norms stay in floating point
            subset_size=len(samples),
        )
    ov.save_model(quantized, str(target))


def ensure_model(model_dir: Path, cache_dir: Path, form: Form = "onnx") -> Path:
    """Return the cached model of ``model_dir`` in ``form``, exporting (and quantising) it once.

    Quantising to int8 for OpenVINO calibrates on CALIBRATION_FILE: 15–20 s on two cores.
    """
    target = cached_model_path(model_dir, cache_dir, form)
    if target.is_file():
        return target
    source = None if form == "onnx" else ensure_model(model_dir, cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("preparing %s as %s (once)", model_dir.name, form)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp) / target.name
        try:
            if source is None:
                _export(model_dir, built)
            elif form == "onnx-int8":
                _quantize(source, built)
            else:
                _quantize_openvino(source, model_dir, built)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            raise ModelLoadError(f"cannot export {str(model_dir)!r} as {form}: {exc}") from None
        # Atomic, and the file looked for comes last (after OpenVINO's .bin): a concurrent
        # export of the same model is harmless.
        for path in sorted(Path(tmp).iterdir(), key=lambda p: p == built):
            os.replace(path, target.parent / path.name)
    return target


def _read_json(path: Path) -> dict[str, object]:
    """Return a JSON file's object, or an empty dict when the file is absent."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


Runner = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (input ids, mask) -> token vectors


def _feeds(ids: np.ndarray, mask: np.ndarray, inputs: Collection[str]) -> dict[str, np.ndarray]:
    """Return the model's inputs by name, those of INPUT_NAMES that ``inputs`` holds."""
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return {name: feeds[name] for name in INPUT_NAMES if name in inputs}


def _onnxruntime_runner(onnx_path: Path) -> Runner:
    """Return a function that runs the model with ONNX Runtime."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only; the export's shape warnings are harmless
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, _feeds(ids, mask, inputs))[0])

    return run


def _openvino_runner(model_path: Path) -> Runner:
    """Return a function that runs the model with OpenVINO; compiled blobs are cached."""
    import openvino as ov

    core = ov.Core()
    core.set_property({"CACHE_DIR": str(model_path.parent / "openvino")})
    compiled = core.compile_model(str(model_path), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    inputs = {i.get_any_name() for i in compiled.inputs}

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        request = compiled.create_infer_request()  # one per call: safe from several threads
        result = request.infer(_feeds(ids, mask, inputs))
        return np.asarray(result[compiled.outputs[0]])

    return run


def _padded(tokens: int) -> int:
    """Return ``tokens`` rounded up to a multiple of PAD_MULTIPLE."""
    return -(-tokens // PAD_MULTIPLE) * PAD_MULTIPLE


def batch_rows(texts: int) -> int:
    """Return the rows a batch of ``texts`` runs as: the next power of two.

    Each shape OpenVINO has run keeps its prepared kernels (about 3 MB); rows in powers of two
    keep the shapes, and that memory, few.
    """
    return 1 << (texts - 1).bit_length()


def plan_batches(lengths: Sequence[int], max_batch: int) -> list[tuple[int, int]]:
    """Return runs ``(start, end)`` of ascending ``lengths`` that are cheapest to run as batches.

    A batch runs every row at its longest row's padded length, and each call costs about
    CALL_COST_TOKENS more, so a long row does better alone than stretching seven short ones:
    the runs minimise padded tokens plus call costs, each at most ``max_batch`` rows.
    """
    best = [0.0] + [float("inf")] * len(lengths)
    starts = [0] * (len(lengths) + 1)
    for end in range(1, len(lengths) + 1):
        width = _padded(lengths[end - 1])
        for start in range(max(0, end - max_batch), end):
            cost = best[start] + CALL_COST_TOKENS + batch_rows(end - start) * width
            if cost < best[end]:
                best[end], starts[end] = cost, start
    runs: list[tuple[int, int]] = []
    end = len(lengths)
    while end > 0:
        runs.append((starts[end], end))
        end = starts[end]
    return runs[::-1]


class OnnxEncoder:
    """Mean-pooled sentence vectors from an ONNX transformer, in length-sorted batches.

    ``runtime`` is "onnxruntime", or "openvino", which compiles the model file (ONNX, or the
    int8 OpenVINO copy) for the CPU, computing in bfloat16 where the CPU supports it (AVX-512
    BF16, AMX) and int8 wherever the copy holds int8.
    """

    def __init__(self, model_dir: Path, model_path: Path, runtime: str = "onnxruntime") -> None:
        """Load the tokenizer and compile the model for the runtime."""
        from tokenizers import Tokenizer

        pooling = _read_json(model_dir / "1_Pooling" / "config.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens"):
            raise ModelLoadError(f"the ONNX backend supports mean pooling only, not {pooling}")
        self.max_tokens = max_tokens_of(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.pad_id = int((self.tokenizer.padding or {}).get("pad_id", 0))
        self.tokenizer.no_padding()  # batches are padded as they are planned
        if runtime == "openvino":
            self._run = _openvino_runner(model_path)
        else:
            self._run = _onnxruntime_runner(model_path)
        self._dimension = int(self.encode(["dimension"]).shape[1])

    def get_embedding_dimension(self) -> int:
        """Return the length of the vectors."""
        return self._dimension

    def warm_up(self, batch_size: int, max_tokens: int) -> None:
        """Run every input shape of up to ``batch_size`` texts of ``max_tokens`` once.

        OpenVINO prepares a shape the first time it runs one; afterwards it is ready.
        """
        for rows in sorted({batch_rows(texts) for texts in range(1, batch_size + 1)}):
            for width in range(PAD_MULTIPLE, min(max_tokens, self.max_tokens) + 1, PAD_MULTIPLE):
                ids = np.zeros((rows, width), dtype=np.int64)
                self._run(ids, np.ones_like(ids))

    def _encode_batch(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """Return mean-pooled vectors for token id rows, run in the batch's padded shape.

        Rows added to fill the shape repeat the last row, and their vectors are dropped.
        """
        shape = (batch_rows(len(rows)), _padded(max(map(len, rows))))
        ids = np.full(shape, self.pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, row in enumerate([*rows, *[rows[-1]] * (shape[0] - len(rows))]):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        hidden = self._run(ids, mask)[: len(rows)]
        weights = mask[: len(rows), :, None].astype(np.float32)
        return np.asarray((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))

    def encode(
        self,
        texts: list[str],
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        max_tokens: int | None = None,
        **_: object,
    ) -> np.ndarray:
        """Return one vector per text, run in batches of similar lengths (see plan_batches).

        ``max_tokens`` cuts each text to that many tokens, its closing separator included.
        """
        rows = [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]
        if max_tokens is not None:
            keep = max(max_tokens, 2) - 1  # the closing separator stays, as truncation keeps it
            rows = [row if len(row) <= keep + 1 else row[:keep] + row[-1:] for row in rows]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        for start, end in plan_batches([len(rows[i]) for i in order], batch_size):
            index = order[start:end]
            batch = self._encode_batch([rows[i] for i in index])
            if vectors.shape[1] == 0:
                vectors = np.zeros((len(texts), batch.shape[1]), dtype=np.float32)
            vectors[index] = batch
        if normalize_embeddings and len(vectors):
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors
