"""Evaluation on SQuAD-format files: index the articles, ask the questions, measure the answers.

The articles become one document each (paragraphs joined by blank lines) in a temporary store.
A held-out fraction of the articles is left out of the index; their questions measure abstention.
Every question also falls into a fixed "tune" or "test" part by a hash of its id, so tuning can
look at one part and report the other untouched.

>>> report = evaluate("tests/data/squad-v2-dev-slice.json", max_questions=20)
>>> 0.0 <= report.parts["all"].hit_at_1 <= 1.0
True
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.errors import RetrievalError
from retrieval.settings import Settings, load_settings, with_overrides
from retrieval.text import strip_markers

if TYPE_CHECKING:
    from retrieval.kb import KnowledgeBase

DEFAULT_MAX_QUESTIONS = 1000  # answerable questions asked about indexed articles
DEFAULT_HOLDOUT_FRACTION = 0.2  # share of articles left out of the index to test abstention
DEFAULT_SEED = 13  # fixes which articles are held out and which questions are sampled
TUNE_FRACTION = 0.5  # share of questions in the "tune" part; the rest are the untouched "test" part
MAX_ANSWER_CHARS = 400  # a composed answer longer than this does not count as a hit
OOS_TARGET = 0.85  # calibration: the min_support that abstains on this share of held-out questions
TOP_K = 5  # passages retrieved per question; hit@1, hit@3, hit@5 and mrr are read from them
PARTS = ("tune", "test", "all")
ANSWERABLE = "answerable"  # the kind of a question the documents answer
HELD_OUT = "held-out"  # the kind of a question about an article left out of the index
RANK_DEPTH = 20  # passages searched to tell where a missed question's gold was
MISS_ANSWER_CHARS = 160  # of a missed question's answer, the part printed in the report
QUOTE_SHOWN_CHARS = 180  # of a citation's quote, about what a reader sees under the answer

_SPACE = re.compile(r"\s+")


class EvalDataError(RetrievalError):
    """The evaluation file is missing or is not in SQuAD format."""


@dataclass(frozen=True, slots=True)
class Question:
    """A question with its gold answer strings and the article (and file) it is about.

    ``kind`` is "answerable" for a question the documents answer; any other kind ("held-out",
    "off-topic", "trap") names a question that should be declined.
    """

    qid: str
    text: str
    answers: tuple[str, ...]
    article: str
    file: str = ""
    kind: str = ANSWERABLE

    @property
    def part(self) -> str:
        """Return "tune" or "test", fixed by a hash of the question id."""
        digest = int(hashlib.sha256(self.qid.encode()).hexdigest()[:8], 16)
        return "tune" if digest / 0x1_0000_0000 < TUNE_FRACTION else "test"


@dataclass(frozen=True, slots=True)
class Article:
    """One article: its title, its text (paragraphs joined by blank lines) and its questions."""

    title: str
    text: str
    questions: tuple[Question, ...]

    @property
    def file_name(self) -> str:
        """Return the file name the article is written to for indexing."""
        return file_name(self.title)


def file_name(title: str) -> str:
    """Return the file name an article with this title is written to for indexing."""
    return re.sub(r"[^\w.-]+", "_", title) + ".txt"


@dataclass(slots=True)
class Outcome:
    """What happened to one question."""

    question: Question
    in_index: bool
    passages: list[str] = field(default_factory=list)
    answer: str = ""
    abstained: bool = False
    search_ms: float = 0.0
    ask_ms: float = 0.0
    support: float = 0.0
    sources: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)

    @property
    def gold_rank(self) -> int:
        """Return the rank of the first passage holding a gold answer, 0 when none does."""
        return next(
            (
                i
                for i, p in enumerate(self.passages, 1)
                if contains_answer(p, self.question.answers)
            ),
            0,
        )


@dataclass(frozen=True, slots=True)
class Miss:
    """A question answered wrongly: an answerable one not hit, or one to decline that was answered.

    ``gold_rank`` is the rank of the first searched passage holding the gold (0: not retrieved),
    so a miss is told apart as one of search (not retrieved) or of answer composition.
    """

    question: str
    kind: str
    part: str
    file: str
    declined: bool
    answer: str
    gold_rank: int


@dataclass(slots=True)
class Metrics:
    """Retrieval and answer quality over one set of questions."""

    questions: int = 0
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    hit_at_5: float = 0.0
    mrr: float = 0.0
    mean_chars_top5: float = 0.0
    right_file_top5: float | None = None
    answer_hit: float | None = None
    answer_or_quote_hit: float | None = None
    mean_answer_chars: float | None = None
    citation_file: float | None = None
    wrongly_abstained: float | None = None
    oos_questions: int = 0
    oos_abstained: float | None = None
    declined_by_kind: dict[str, float] = field(default_factory=dict)
    search_p50_ms: float = 0.0
    search_p95_ms: float = 0.0
    ask_p50_ms: float | None = None
    ask_p95_ms: float | None = None
    calibrated_min_support: float | None = None
    calibrated_wrongly_abstained: float | None = None


@dataclass(slots=True)
class EvalReport:
    """Metrics per part ("tune", "test", "all") and how the index was built."""

    name: str
    file: str
    articles_indexed: int
    articles_held_out: int
    chunks: int
    ingest_seconds: float
    ingest_chunks_per_s: float
    parts: dict[str, Metrics] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    docs: str = ""
    titles: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready data."""
        return asdict(self)


def normalize(text: str) -> str:
    """Return text lower-cased with whitespace collapsed, for answer matching."""
    return _SPACE.sub(" ", text).strip().casefold()


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Return True when ``text`` contains any of the gold answers."""
    haystack = normalize(text)
    return any(normalize(a) in haystack for a in answers if a.strip())


def load_squad(path: str | Path) -> list[Article]:
    """Read a SQuAD-format file into articles with their answerable questions."""
    file = Path(path)
    if not file.is_file():
        raise EvalDataError(f"evaluation file {str(file)!r} does not exist")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        articles = []
        for entry in data["data"]:
            title = str(entry["title"]).replace("_", " ")
            questions = [
                Question(
                    qid=str(qa["id"]),
                    text=str(qa["question"]),
                    answers=tuple(dict.fromkeys(a["text"] for a in qa["answers"])),
                    article=title,
                    file=file_name(title),
                )
                for paragraph in entry["paragraphs"]
                for qa in paragraph["qas"]
                if qa.get("answers") and not qa.get("is_impossible", False)
            ]
            text = "\n\n".join(str(p["context"]).strip() for p in entry["paragraphs"])
            articles.append(Article(title, text, tuple(questions)))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EvalDataError(
            f"{str(file)!r} is not a SQuAD-format file (data -> paragraphs -> context, qas): {exc}"
        ) from None
    if not articles:
        raise EvalDataError(f"{str(file)!r} holds no articles")
    return articles


def split_articles(
    articles: Sequence[Article], holdout_fraction: float, seed: int = DEFAULT_SEED
) -> tuple[list[Article], list[Article]]:
    """Return (indexed, held out): a seeded random share of the articles is held out."""
    if not 0 <= holdout_fraction < 1:
        raise ValueError(f"holdout_fraction must be in [0, 1), but got {holdout_fraction}")
    count = round(len(articles) * holdout_fraction)
    if holdout_fraction > 0 and len(articles) > 1:
        count = min(max(count, 1), len(articles) - 1)
    held = set(random.Random(seed).sample(range(len(articles)), count))
    indexed = [a for i, a in enumerate(articles) if i not in held]
    return indexed, [a for i, a in enumerate(articles) if i in held]


def sample_questions(
    articles: Sequence[Article], limit: int | None, seed: int = DEFAULT_SEED
) -> list[Question]:
    """Return up to ``limit`` questions of these articles, a seeded sample across all of them."""
    pool = [q for a in articles for q in a.questions]
    if limit is None or limit >= len(pool):
        return pool
    return random.Random(seed).sample(pool, limit)


def write_articles(articles: Sequence[Article], folder: Path) -> None:
    """Write each article as a text file whose first line is its title."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        (folder / article.file_name).write_text(f"{article.title}\n\n{article.text}\n", "utf-8")


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q`` percentile (0-100) of ``values``, or 0.0 when there are none."""
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1])


def answer_hit(outcome: Outcome, max_chars: int, quotes: bool = False) -> bool:
    """Return True when an answer no longer than ``max_chars`` holds a gold answer.

    With ``quotes`` the start of each citation's quote, as much as a reader sees, counts too.
    """
    if outcome.abstained or len(outcome.answer) > max_chars:
        return False
    shown = [outcome.answer] + ([q[:QUOTE_SHOWN_CHARS] for q in outcome.quotes] if quotes else [])
    return any(contains_answer(text, outcome.question.answers) for text in shown)


def summarize(
    outcomes: Sequence[Outcome], with_answers: bool, max_answer_chars: int = MAX_ANSWER_CHARS
) -> Metrics:
    """Compute the metrics of a set of outcomes."""
    inside = [o for o in outcomes if o.in_index]
    outside = [o for o in outcomes if not o.in_index]
    metrics = Metrics(questions=len(inside), oos_questions=len(outside))
    if inside:
        n = len(inside)
        ranks = [o.gold_rank for o in inside]
        metrics.hit_at_1 = sum(0 < r <= 1 for r in ranks) / n
        metrics.hit_at_3 = sum(0 < r <= 3 for r in ranks) / n
        metrics.hit_at_5 = sum(0 < r <= TOP_K for r in ranks) / n
        metrics.mrr = sum(1 / r for r in ranks if 0 < r <= TOP_K) / n
        metrics.mean_chars_top5 = sum(sum(map(len, o.passages[:TOP_K])) for o in inside) / n
        with_files = [o for o in inside if o.question.file and o.sources]
        if with_files:
            metrics.right_file_top5 = statistics.fmean(
                statistics.fmean(s == o.question.file for s in o.sources[:TOP_K])
                for o in with_files
            )
    searches = [o.search_ms for o in outcomes]
    metrics.search_p50_ms = percentile(searches, 50)
    metrics.search_p95_ms = percentile(searches, 95)
    if with_answers:
        if inside:
            metrics.answer_hit = statistics.fmean(answer_hit(o, max_answer_chars) for o in inside)
            metrics.answer_or_quote_hit = statistics.fmean(
                answer_hit(o, max_answer_chars, quotes=True) for o in inside
            )
            metrics.wrongly_abstained = sum(o.abstained for o in inside) / len(inside)
            answered = [o for o in inside if not o.abstained]
            if answered:
                metrics.mean_answer_chars = statistics.fmean(len(o.answer) for o in answered)
                metrics.citation_file = statistics.fmean(
                    bool(o.cited) and o.cited[0] == o.question.file for o in answered
                )
        if outside:
            metrics.oos_abstained = sum(o.abstained for o in outside) / len(outside)
            for kind in sorted({o.question.kind for o in outside}):
                of_kind = [o.abstained for o in outside if o.question.kind == kind]
                metrics.declined_by_kind[kind] = statistics.fmean(of_kind)
            calibrate(metrics, [o.support for o in inside], [o.support for o in outside])
        asks = [o.ask_ms for o in outcomes]
        metrics.ask_p50_ms = percentile(asks, 50)
        metrics.ask_p95_ms = percentile(asks, 95)
    return metrics


def misses(outcomes: Sequence[Outcome], max_answer_chars: int = MAX_ANSWER_CHARS) -> list[Miss]:
    """Return the answerable questions not hit and the questions to decline that were answered."""
    found = []
    for o in outcomes:
        if o.in_index and answer_hit(o, max_answer_chars):
            continue
        if not o.in_index and o.abstained:
            continue
        first_line = o.answer.strip().split("\n", 1)[0] if o.answer.strip() else ""
        found.append(
            Miss(
                question=o.question.text,
                kind=o.question.kind,
                part=o.question.part,
                file=o.question.file,
                declined=o.abstained,
                answer=first_line,
                gold_rank=o.gold_rank if o.in_index else 0,
            )
        )
    return found


def calibrate(metrics: Metrics, inside: Sequence[float], outside: Sequence[float]) -> None:
    """Record the min_support that abstains on OOS_TARGET of the held-out questions."""
    if not inside or not outside:
        return
    ranked = sorted(outside)
    threshold = ranked[min(len(ranked) - 1, math.ceil(OOS_TARGET * len(ranked)) - 1)] + 1e-6
    metrics.calibrated_min_support = threshold
    metrics.calibrated_wrongly_abstained = sum(s < threshold for s in inside) / len(inside)


def summarize_parts(
    outcomes: Sequence[Outcome], with_answers: bool, max_answer_chars: int = MAX_ANSWER_CHARS
) -> dict[str, Metrics]:
    """Return metrics for the "tune" part, the "test" part and all questions."""
    return {
        part: summarize(
            [o for o in outcomes if part == "all" or o.question.part == part],
            with_answers,
            max_answer_chars,
        )
        for part in PARTS
    }


def progress_bar(total: int, desc: str) -> Any:
    """Return a tqdm bar on standard error (hidden when standard error is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="q", file=sys.stderr, disable=None, leave=False)


def eval_settings(base: Settings | None, root: Path, overrides: dict[str, Any]) -> Settings:
    """Return ``base`` (or the configured settings) with ``overrides`` and a temporary store."""
    workspace = {"seeds_dir": root / "docs", "persist_dir": root / "chroma", "host": ""}
    settings = load_settings() if base is None else base
    return with_overrides(settings, **{**overrides, **workspace, "collection": "eval"})


def evaluate(
    path: str | Path,
    *,
    settings: Settings | None = None,
    max_questions: int | None = DEFAULT_MAX_QUESTIONS,
    holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION,
    seed: int = DEFAULT_SEED,
    name: str = "qabot",
    progress: bool = False,
    work_dir: str | Path | None = None,
    **overrides: Any,
) -> EvalReport:
    """Index the file's articles into a temporary store, ask the questions, return the metrics.

    ``settings`` (default: config/settings.toml and the environment) with ``overrides``
    (``chunk_size=1000``, ``backend="onnx-int8"``...) configure the knowledge base under test;
    its documents folder and store are always temporary.
    """
    from retrieval.kb import KnowledgeBase

    articles = load_squad(path)
    indexed, held_out = split_articles(articles, holdout_fraction, seed)
    asked = sample_questions(indexed, max_questions, seed)
    oos_limit = None if max_questions is None else max(1, round(max_questions * holdout_fraction))
    oos = [
        replace(q, kind=HELD_OUT) for q in sample_questions(held_out, oos_limit, seed) if held_out
    ]
    with tempfile.TemporaryDirectory(prefix="qabot-eval-", dir=work_dir) as tmp:
        root = Path(tmp)
        write_articles(indexed, root / "docs")
        kb = KnowledgeBase(eval_settings(settings, root, overrides))
        kb.embedder.encode(["warm up"])  # model load is reported apart from ingest speed
        report = kb.ingest(progress=progress)
        outcomes = ask_all(kb, [(q, True) for q in asked] + [(q, False) for q in oos], progress)
        used = kb.settings.model_dump(mode="json", include={"chunking", "embedding", "retrieval"})
        used["answer"] = kb.settings.answer.model_dump(mode="json")
    return EvalReport(
        name=name,
        file=str(path),
        articles_indexed=len(indexed),
        articles_held_out=len(held_out),
        chunks=report.chunks_total,
        ingest_seconds=report.seconds,
        ingest_chunks_per_s=report.chunks_added / report.seconds if report.seconds else 0.0,
        parts=summarize_parts(outcomes, with_answers=True),
        settings=used,
        misses=misses(outcomes),
    )


def ask_all(
    kb: KnowledgeBase, questions: Sequence[tuple[Question, bool]], progress: bool
) -> list[Outcome]:
    """Search and ask every question, timing both, after the warm-up the bot makes at start."""
    kb.warm_up()
    outcomes = []
    bar = progress_bar(len(questions), "asking") if progress else None
    for question, in_index in questions:
        started = time.perf_counter()
        passages = kb.search(question.text, k=RANK_DEPTH)
        searched = time.perf_counter()
        answer = kb.ask(question.text)
        done = time.perf_counter()
        outcomes.append(
            Outcome(
                question=question,
                in_index=in_index,
                passages=[p.text for p in passages],
                answer=strip_markers(answer.text),
                abstained=answer.abstained,
                search_ms=(searched - started) * 1000,
                ask_ms=(done - searched) * 1000,
                support=answer.support,
                sources=[p.source for p in passages[:TOP_K]],
                cited=[c.source for c in answer.citations],
                quotes=[c.quote for c in answer.citations],
            )
        )
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return outcomes


def _cell(value: float | int | None, digits: int) -> str:
    """Format one table cell; a missing value is a dash."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


TABLE_ROWS: list[tuple[str, str, int]] = [
    ("questions", "questions", 0),
    ("hit@1", "hit_at_1", 3),
    ("hit@3", "hit_at_3", 3),
    ("hit@5", "hit_at_5", 3),
    ("mrr", "mrr", 3),
    ("mean_chars_top5", "mean_chars_top5", 0),
    ("top-5 from the right file", "right_file_top5", 3),
    ("answer_hit", "answer_hit", 3),
    ("  or in the quotes shown", "answer_or_quote_hit", 3),
    ("mean answer chars", "mean_answer_chars", 0),
    ("first citation's file right", "citation_file", 3),
    ("wrongly_abstained", "wrongly_abstained", 3),
    ("oos_questions", "oos_questions", 0),
    ("oos_abstained", "oos_abstained", 3),
    ("search p50 ms", "search_p50_ms", 1),
    ("search p95 ms", "search_p95_ms", 1),
    ("ask p50 ms", "ask_p50_ms", 1),
    ("ask p95 ms", "ask_p95_ms", 1),
    (f"min_support for oos {OOS_TARGET}", "calibrated_min_support", 3),
    ("  wrongly_abstained there", "calibrated_wrongly_abstained", 3),
]


def format_table(
    columns: Sequence[tuple[str, Metrics]], extra: Sequence[tuple[str, Sequence[str]]] = ()
) -> str:
    """Return a Markdown table with one metric per row and one column per (name, metrics)."""
    header = "| metric | " + " | ".join(name for name, _ in columns) + " |"
    rule = "|---|" + "---:|" * len(columns)
    lines: list[str] = [header, rule]
    for label, attr, digits in TABLE_ROWS:
        cells = [_cell(getattr(m, attr), digits) for _, m in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        if attr == "oos_abstained":
            kinds = sorted({k for _, m in columns for k in m.declined_by_kind})
            for kind in kinds:
                cells = [_cell(m.declined_by_kind.get(kind), 3) for _, m in columns]
                lines.append(f"|   declined {kind} | " + " | ".join(cells) + " |")
    for label, texts in extra:
        lines.append(f"| {label} | " + " | ".join(texts) + " |")
    return "\n".join(lines)


def format_report(report: EvalReport) -> str:
    """Return the report as a short header and a Markdown table of the parts."""
    if report.docs:
        head = (
            f"{report.docs} with {report.file}: {report.articles_indexed} documents indexed "
            f"({report.chunks} chunks), {len(report.warnings)} skipped or warned"
        )
    else:
        head = (
            f"{report.file}: {report.articles_indexed} articles indexed "
            f"({report.chunks} chunks, {report.ingest_chunks_per_s:.1f} chunks/s), "
            f"{report.articles_held_out} held out"
        )
    return head + "\n\n" + format_table([(p, report.parts[p]) for p in PARTS])


def format_misses(found: Sequence[Miss]) -> str:
    """Return one block per miss: the question, the answer's first line and where the gold was."""
    lines = []
    for miss in found:
        if miss.kind != ANSWERABLE:
            where = f"should be declined ({miss.kind})"
        elif miss.gold_rank:
            where = f"gold at search rank {miss.gold_rank}"
        else:
            where = "gold not retrieved"
        if miss.file:
            where += f" ({miss.file})"
        said = "declined" if miss.declined else repr(_shorten(miss.answer, MISS_ANSWER_CHARS))
        lines.append(f"- [{miss.part}] {miss.question}\n    {where}; answer: {said}")
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    """Return text cut to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
