"""Settings: defaults here, values from config/settings.toml, overrides from QABOT_* variables.

Precedence, highest first: keyword overrides, environment (``QABOT_<SECTION>__<KEY>``), a ``.env``
file, the TOML file, the defaults below. Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import difflib
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from retrieval.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("config") / "settings.toml"  # relative to the working directory
CONFIG_ENV_VAR = "QABOT_CONFIG"  # path of another settings file
ENV_PREFIX = "QABOT_"
TYPO_CUTOFF = 0.8  # an unknown table this similar to one of ours is a typo, not another's table

_config_file: ContextVar[Path | None] = ContextVar("qabot_config_file", default=None)


class Section(BaseModel):
    """A settings table; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


SiteStyle = Literal["sphinx", "sphinx-dirhtml", "mkdocs", "docusaurus", "plain"]


class SiteSettings(Section):
    """A folder of the documents that is published as a website, and how its pages are addressed.

    >>> SiteSettings(folder="docs", base="https://example.org/docs", style="sphinx").base
    'https://example.org/docs/'
    """

    folder: str = ""  # path inside seeds_dir, e.g. "flask/docs"; "" = the whole folder
    base: str  # the published address of the folder's top, e.g. "https://example.org/docs/"
    style: SiteStyle = "plain"  # how a file's path becomes the page's path

    @model_validator(mode="after")
    def _normalise(self) -> SiteSettings:
        if not self.base.startswith(("http://", "https://")):
            raise ValueError(f"base must start with http:// or https://, but got {self.base!r}")
        # assignments re-validate (validate_assignment), so only assign what changes
        if not self.base.endswith("/"):
            self.base += "/"
        folder = self.folder.replace("\\", "/").strip("/")
        if folder in (".", ""):
            folder = ""
        if folder != self.folder:
            self.folder = folder
        return self


class DocumentsSettings(Section):
    """Where documents come from and which are accepted."""

    seeds_dir: Path = Path("seeds")
    max_file_mb: float = Field(20.0, gt=0)
    extensions: list[str] = [
        ".md",
        ".markdown",
        ".mdx",
        ".rst",
        ".txt",
        ".adoc",
        ".asciidoc",
        ".ipynb",
        ".docx",
        ".html",
        ".htm",
        ".pdf",
    ]
    boilerplate_patterns: list[str] = [
        r"(?i)^\s*unlock premium\b",
        r"(?i)\bstart your free trial\b",
        r"(?i)^\s*(subscribe|sign up) (now|today)\b",
        r"(?i)^\s*advertisement\s*$",
        r"(?i)^\s*(share|tweet|email) this (article|story)\b",
    ]
    min_line_letters: int = Field(3, ge=0)
    watch: bool = True  # the bot re-indexes changed files while it runs (python -m retrieval watch)
    watch_debounce_s: float = Field(0.5, ge=0.01, le=60)  # quiet time before a change is indexed
    sites: list[SiteSettings] = []  # folders published as websites: citations link to the section

    @field_validator("sites")
    @classmethod
    def _one_site_per_folder(cls, sites: list[SiteSettings]) -> list[SiteSettings]:
        folders = [site.folder for site in sites]
        if repeated := sorted({f for f in folders if folders.count(f) > 1}):
            raise ValueError(f"each folder may be mapped once, but got {repeated[0]!r} twice")
        return sites


class ChunkingSettings(Section):
    """How documents are split into chunks."""

    chunk_size: int = Field(900, ge=50)  # text without headings: articles, plain text, PDFs
    chunk_overlap: int = Field(135, ge=0)
    section_chunk_size: int = Field(1600, ge=50)  # documents with headings: a section per chunk
    section_chunk_overlap: int = Field(240, ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        for size, overlap in (
            ("chunk_size", "chunk_overlap"),
            ("section_chunk_size", "section_chunk_overlap"),
        ):
            if getattr(self, overlap) >= getattr(self, size):
                raise ValueError(
                    f"{overlap} must be smaller than {size}, but got {getattr(self, overlap)} "
                    f">= {getattr(self, size)}"
                )
        return self


Backend = Literal["torch", "onnx", "onnx-int8", "openvino", "openvino-int8"]


class EmbeddingSettings(Section):
    """The sentence-transformers model."""

    model: str = "all-MiniLM-L6-v2"
    device: str = "auto"
    batch_size: int = Field(16, ge=1)  # small batches keep CPU caches warm: faster than 64
    # "openvino": ONNX export compiled by OpenVINO (bfloat16 where the CPU has it), fastest on CPU
    # at full precision; "openvino-int8": the same quantised to int8, faster and a little coarser
    backend: Backend = "openvino"
    # The sentences an answer's excerpt is picked from (8 a question) are scored by this backend
    # ("" = the one above): int8 is faster, with the same answer hit measured on documentation,
    # while search and the stored vectors keep full precision.
    excerpt_backend: Literal[Backend, ""] = "openvino-int8"
    cache_dir: Path = Path("data") / "models"  # ONNX exports of the model, built on first use

    def for_excerpts(self) -> EmbeddingSettings:
        """Return these settings with the backend that scores an excerpt's sentences."""
        return self.model_copy(update={"backend": self.excerpt_backend or self.backend})


class StoreSettings(Section):
    """The Chroma vector store: embedded under persist_dir, or a server when host is set."""

    persist_dir: Path = Path("data") / "chroma"
    collection: str = Field("documents", min_length=3, max_length=63)
    host: str = ""
    port: int = Field(8000, ge=1, le=65535)
    ssl: bool = False


class RetrievalSettings(Section):
    """Hybrid search."""

    top_k: int = Field(5, ge=1, le=100)
    fetch_k: int = Field(30, ge=1, le=1000)
    fusion: Literal["score", "rrf"] = "score"  # how dense and BM25 results are combined
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(1.0, ge=0)
    bm25_weight: float = Field(0.2, ge=0)  # in "rrf" fusion weights of about 1.0 suit better
    coverage_weight: float = Field(0.5, ge=0)  # "score" fusion: one sentence holding the terms
    spelling: bool = True  # misspelt question words are corrected to words the documents use


class AnswerSettings(Section):
    """How answers are composed and when the bot says it does not know."""

    mode: Literal["extractive", "llm"] = "extractive"
    excerpt_min_chars: int = Field(250, ge=0)  # an excerpt grows to at least this when it can
    excerpt_max_chars: int = Field(900, ge=80)  # and never beyond this (one Discord embed)
    min_score: float = Field(0.15, ge=-1, le=1)  # no passage this similar: abstain outright
    min_support: float = Field(0.65, ge=-1, le=3)  # similarity + coverage below this: abstain
    support_coverage: float = Field(0.8, ge=0, le=2)  # weight of term coverage in the support
    max_question_chars: int = Field(1000, ge=10)
    suggestions: int = Field(3, ge=0, le=10)

    @model_validator(mode="after")
    def _excerpt_bounds_in_order(self) -> AnswerSettings:
        if self.excerpt_min_chars > self.excerpt_max_chars:
            raise ValueError(
                f"excerpt_min_chars must not exceed excerpt_max_chars, but got "
                f"{self.excerpt_min_chars} > {self.excerpt_max_chars}"
            )
        return self


class LLMSettings(Section):
    """Generative answers through a LangChain chat model (answer.mode = "llm")."""

    model: str = "openai:gpt-4o-mini"
    base_url: str = ""
    timeout_s: float = Field(30.0, gt=0)
    max_tokens: int = Field(512, ge=16)
    temperature: float = Field(0.0, ge=0, le=2)


class Settings(BaseSettings):
    """Every setting of the retrieval library, grouped by section."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_assignment=True,
    )

    documents: DocumentsSettings = DocumentsSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    store: StoreSettings = StoreSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()

    @model_validator(mode="before")
    @classmethod
    def _set_aside_foreign_sections(cls, data: Any) -> Any:
        """Leave out tables that another front end owns, such as the bot's."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not _foreign_entry(cls, k, v)}
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read keyword overrides, then the environment, then .env, then the TOML file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        path = _config_file.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


class Secrets(BaseSettings):
    """Secrets, read only from the environment or .env; never from the TOML file."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    llm_api_key: SecretStr | None = Field(None, validation_alias="QABOT_LLM_API_KEY")


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the settings file to read: the argument, $QABOT_CONFIG, or config/settings.toml."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"settings file {str(path)!r} does not exist")
        return path
    if env := os.environ.get(CONFIG_ENV_VAR):
        return config_path(env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def is_foreign(cls: type[BaseModel], section: str) -> bool:
    """Return True when ``section`` is another front end's table: not ours, nor a typo of ours.

    Front ends extend Settings with their own tables (the bot adds ``[discord]``); the library
    accepts any it does not model without reading them, so it needs no list of their names.
    """
    ours = list(cls.model_fields)
    return section not in ours and not difflib.get_close_matches(section, ours, 1, TYPO_CUTOFF)


def _foreign_entry(cls: type[BaseModel], key: str, value: Any) -> bool:
    """Return True for another front end's table, or its line in .env, given whole."""
    if isinstance(value, dict):
        return is_foreign(cls, key)
    # .env lines no field claims arrive unparsed, such as "qabot_discord__api_base"
    name = key.lower()
    section, nested, _ = name.removeprefix(ENV_PREFIX.lower()).partition("__")
    return name.startswith(ENV_PREFIX.lower()) and bool(nested) and is_foreign(cls, section)


def _nest_overrides(cls: type[BaseModel], overrides: dict[str, Any]) -> dict[str, Any]:
    """Turn flat keyword overrides (``top_k=8``) or sections into the nested form."""
    nested: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for section, info in cls.model_fields.items():
        section_cls = info.annotation
        if isinstance(section_cls, type) and issubclass(section_cls, BaseModel):
            for key in section_cls.model_fields:
                owners.setdefault(key, section)
    for key, value in overrides.items():
        if key in cls.model_fields:
            if isinstance(value, BaseModel):
                value = value.model_dump()
            nested.setdefault(key, {}).update(value)
        elif key in owners:
            nested.setdefault(owners[key], {})[key] = value
        else:
            raise ConfigError(f"unknown setting {key!r}")
    return nested


def _check_environment(cls: type[BaseModel]) -> None:
    """Reject QABOT_* variables that name no setting, so a typo is not silently ignored."""
    allowed_plain = {CONFIG_ENV_VAR, "QABOT_LLM_API_KEY"}
    for name in os.environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in allowed_plain:
            continue
        section, _, key = upper[len(ENV_PREFIX) :].lower().partition("__")
        if key and is_foreign(cls, section):
            continue  # another front end's setting, such as QABOT_DISCORD__API_BASE
        info = cls.model_fields.get(section)
        section_cls = info.annotation if info else None
        known = (
            isinstance(section_cls, type)
            and issubclass(section_cls, BaseModel)
            and (not key or key.split("__")[0] in section_cls.model_fields)
        )
        if not known:
            raise ConfigError(f"unknown setting in environment variable {name!r}")


def _describe(error: ValidationError) -> str:
    """Turn a pydantic error into one line that names the key and the value received."""
    parts = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "settings"
        if item["type"] == "extra_forbidden":
            parts.append(f"unknown setting {key!r}")
        else:
            parts.append(f"{key}: {item['msg']} (got {item.get('input')!r})")
    return "; ".join(parts)


S = TypeVar("S", bound=Settings)


def load_settings(
    cls: type[S] = Settings,  # type: ignore[assignment]
    config_file: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> S:
    """Load settings of ``cls`` from the TOML file, .env and environment, then apply overrides.

    >>> load_settings(top_k=8).retrieval.top_k
    8
    """
    _check_environment(cls)
    token = _config_file.set(config_path(config_file))
    try:
        loaded = cls()
    except ValidationError as exc:
        raise ConfigError(f"bad configuration: {_describe(exc)}") from None
    finally:
        _config_file.reset(token)
    return with_overrides(loaded, **overrides) if overrides else loaded


def with_overrides(settings: S, **overrides: Any) -> S:
    """Return a copy of ``settings`` with keyword overrides (``top_k=8``) applied and validated.

    >>> with_overrides(Settings(), top_k=8).retrieval.top_k
    8
    """
    data = settings.model_dump()
    for section, values in _nest_overrides(type(settings), overrides).items():
        data[section] = {**data.get(section, {}), **values}
    try:
        return type(settings).model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"bad configuration: {_describe(exc)}") from None
