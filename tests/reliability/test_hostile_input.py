"""Hostile questions and files: fuzzed with hypothesis, never an unexpected exception."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval import InvalidQuestionError, KnowledgeBase, loaders
from retrieval.loaders import Cleaner, load_documents
from retrieval.questions import clean_question
from retrieval.settings import DocumentsSettings
from tests.retrieval.pdf import make_pdf

DEFAULTS = DocumentsSettings()
CLEANER = Cleaner(DEFAULTS.boilerplate_patterns, DEFAULTS.min_line_letters)
MAX_CHARS = 1000  # answer.max_question_chars
LOADER_EXTENSIONS = (".txt", ".md", ".mdx", ".rst", ".adoc", ".ipynb", ".docx", ".html", ".pdf")
HOSTILE_PIECES = [
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@&987654321>",
    "<#1234>",
    "**bold** __under__ ~~strike~~ ||spoiler||",
    "```py\nprint('x')\n```",
    "[link](https://example.invalid)",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\u202e\u202d",
    "\x00\x07\x1b[31m",
    "\ud800",
    "🤔👍🏽‍",
    "ﷺ" * 50,
    "Petro Trump February",
]
questions = st.one_of(
    st.text(alphabet=st.characters(codec=None), max_size=300),
    st.lists(st.sampled_from(HOSTILE_PIECES) | st.text(max_size=20), max_size=12).map(" ".join),
    st.sampled_from(HOSTILE_PIECES).map(lambda piece: piece * 2000),
)


FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))  # FUZZ_SCALE=20 for a long run


def fuzz(examples: int) -> settings:
    """Return hypothesis settings: few examples, no deadline, no example database in the repo."""
    return settings(
        max_examples=examples * FUZZ_SCALE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@fuzz(300)
@given(questions)
def test_clean_question_returns_short_text_or_says_why(question: str) -> None:
    try:
        text = clean_question(question, MAX_CHARS)
    except InvalidQuestionError as exc:
        assert str(exc) and "\n" not in str(exc) and len(str(exc)) < 200
        return
    assert 0 < len(text) <= MAX_CHARS
    assert any(c.isalnum() for c in text)


@fuzz(12)
@given(questions)
def test_asking_anything_answers_or_explains(seed_kb: KnowledgeBase, question: str) -> None:
    try:
        answer = seed_kb.ask(question, history=[question, "who ousted Maduro?"])
    except InvalidQuestionError:
        return
    assert len(answer.question) <= MAX_CHARS
    assert len(answer.searched_question) <= 3 * MAX_CHARS


def test_a_huge_question_is_refused_before_any_work(seed_kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidQuestionError, match="please keep it under 1,000 characters"):
        seed_kb.ask("why " * 5_000_000)


def test_huge_history_never_reaches_search(seed_kb: KnowledgeBase) -> None:
    answer = seed_kb.ask("and when did that happen?", history=["Maduro " * 200_000])
    assert len(answer.searched_question) <= 3 * MAX_CHARS


def load_one(data: bytes, name: str) -> str:
    """Load one file through load_documents; return 'loaded' or the warning given for it."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / name).write_bytes(data)
        result = load_documents(root, DEFAULTS.extensions, 10**7, CLEANER)
        if result.documents:
            [doc] = result.documents
            assert doc.source == name and doc.text.strip()
            return "loaded"
        [warning] = result.skipped
        assert warning.startswith(f"skipped {name}: ")
        return warning


@fuzz(40)
@given(data=st.binary(max_size=4000), extension=st.sampled_from(LOADER_EXTENSIONS))
def test_random_bytes_load_or_are_skipped_with_a_reason(data: bytes, extension: str) -> None:
    load_one(data, f"random{extension}")


@fuzz(40)
@given(text=st.text(alphabet=st.characters(codec=None), max_size=2000))
def test_random_text_loads_as_every_type_or_is_skipped(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    for extension in LOADER_EXTENSIONS:
        load_one(data, f"random{extension}")


@fuzz(25)
@given(body=st.text(max_size=200), depth=st.integers(0, 300), tag=st.sampled_from(["div", "b"]))
def test_random_html_loads_or_is_skipped(body: str, depth: int, tag: str) -> None:
    html = f"<html><body>{f'<{tag}>' * depth}{body}{f'</{tag}>' * (depth // 2)}"
    load_one(html.encode("utf-8", "surrogatepass"), "page.html")


def test_enormous_line_loads() -> None:
    assert load_one(b"word " * 1_000_000, "one-line.txt") == "loaded"
    assert load_one(b"x" * 3_000_000, "no-spaces.md") == "loaded"


def test_deeply_nested_html_is_loaded_or_skipped_without_recursion_error() -> None:
    html = b"<div>" * 100_000 + b"deep text survives" + b"</div>" * 100_000
    result = load_one(html, "deep.html")
    assert result in {"loaded", "skipped deep.html: it is nested too deeply to read"}


def test_pdf_pages_beyond_the_cap_are_left_out_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loaders.pdf, "MAX_PDF_PAGES", 0)
    (tmp_path / "book.pdf").write_bytes(make_pdf("Pages beyond the cap"))
    result = load_documents(tmp_path, DEFAULTS.extensions, 10**7, CLEANER)
    assert result.skipped == ["skipped book.pdf: the PDF has no extractable text"]
    assert result.warnings == ["book.pdf: only its first 0 pages were read"]


def test_pdf_claiming_a_huge_page_count_is_handled_quickly() -> None:
    pdf = make_pdf("Hello from a lying PDF")
    for count in (b"999999999", b"-5", b"1e9", b"99999999999999999999999"):
        result = load_one(pdf.replace(b"/Count 1", b"/Count " + count), "lying.pdf")
        assert result == "loaded" or "PDF" in result


def test_file_over_the_size_limit_is_skipped_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"big words here\n" * 100_000)
    (tmp_path / "small.txt").write_text("Small words here.\n")
    result = load_documents(tmp_path, DEFAULTS.extensions, 1_000_000, CLEANER)
    assert [d.source for d in result.documents] == ["small.txt"]
    assert result.skipped == ["skipped big.txt: 1.5 MB is over the 1.0 MB limit"]


TRAVERSAL_NAMES = [
    "..\\..\\etc\\passwd.txt",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd.txt",
    "....txt",
    "..txt",
    "C:\\Windows\\win.ini.txt",
    "line\nbreak.txt",
    "@everyone <@123>.md",
]


def test_path_traversal_names_stay_inside_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    (root / "sub").mkdir(parents=True)
    for name in TRAVERSAL_NAMES:
        (root / "sub" / name).write_text(f"Harmless text in the file named {name!r}.\n")
    (tmp_path / "secret.txt").write_text("SECRET outside the folder\n")
    visible = sorted(f"sub/{n}" for n in TRAVERSAL_NAMES if not n.startswith("."))  # hidden
    result = load_documents(root, DEFAULTS.extensions, 10**7, CLEANER)
    assert sorted(d.source for d in result.documents) == visible
    assert all("SECRET" not in d.text for d in result.documents)
    kb = KnowledgeBase(seeds_dir=root, persist_dir=tmp_path / "chroma")
    assert kb.ingest().added == len(visible)
    assert sorted(s.source for s in kb.sources()) == visible
    assert kb.ingest().unchanged == len(visible)


def test_symlinks_out_of_the_folder_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET outside the folder\n")
    (root / "inside.txt").write_text("Inside text is fine.\n")
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linked-dir")
    os.symlink("/etc/passwd", root / "passwd.txt")
    os.symlink(root, root / "loop")  # a directory that contains itself
    os.symlink(root / "inside.txt", root / "alias.txt")  # inside: allowed
    result = load_documents(root, DEFAULTS.extensions, 10**7, CLEANER)
    assert sorted(d.source for d in result.documents) == ["alias.txt", "inside.txt"]
    assert all("SECRET" not in d.text and "root:" not in d.text for d in result.documents)
    outside_warnings = [w for w in result.skipped if "links outside" in w]
    assert {w.split(":")[0] for w in outside_warnings} >= {
        "skipped link.txt",
        "skipped passwd.txt",
    }


@fuzz(60)
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=8)), max_size=6),
    cut=st.integers(0, 10**6),
)
def test_damaged_pdfs_load_or_are_skipped(edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(make_pdf("Some text in a damaged PDF", title="Damaged"))
    for where, junk in edits:
        at = where % len(data)
        data[at : at + len(junk)] = junk
    if cut % 3 == 0:
        data = data[: max(10, cut % len(data))]
    load_one(bytes(data), "damaged.pdf")


MARKUP_PIECES = [
    "Title\n=====\n",
    "-----\n",
    ".. note::\n\n   Indented note.\n",
    ".. never-seen:: arg\n   :opt: x\n\n   body\n",
    ".. code-block:: python\n\n   x = 1\n",
    ":class:`Foo` :ref:`a <b>` :unknown-role:`x` `unclosed",
    "|sub| [#]_ __ _`target`",
    "# Heading {#id}\n",
    '!!! note "Title"\n    inside\n',
    '=== "Tab"\n\n    ```py\n    code\n    ```\n',
    "::: pkg.mod\n    options:\n      x: 1\n",
    "[text][ref] [](){#a}",
    "---\ntitle: [unclosed\n---\n",
    "import X from 'y'\nexport const a = {\n",
    '<Callout title="T">\n',
    "</Callout>\n",
    "<Card title={'x'} />\n",
    "{/* comment */}\n",
    "```\nunclosed fence\n",
    "| a | b |\n|---|---|\n| 1 |\n",
    "== Section\n",
    "[[id]]\n",
    "----\n",
    "|===\n| a | b\n",
    "<<ref,text>> link:x[y]",
    "```{note}\n",
    "```{eval-rst}\n.. never-seen::\n\n    x = (\n```\n",
    ":::{warning}\n:class: x\n---\n",
    ":::tip[Title\n",
    "{func}`~a.b` {ref}`<>` {unknown}`",
    "(label)=\n+++\n",
    "```{include} page.md\n:start-after: x\n```\n",
    "```{literalinclude} /etc/passwd\n:lines: 1-\n```\n",
    "\n\n",
]


@fuzz(40)
@given(
    pieces=st.lists(st.sampled_from(MARKUP_PIECES) | st.text(max_size=30), max_size=14),
    extension=st.sampled_from([".md", ".mdx", ".rst", ".adoc"]),
)
def test_random_markup_loads_or_is_skipped(pieces: list[str], extension: str) -> None:
    result = load_one("".join(pieces).encode("utf-8", "surrogatepass"), f"page{extension}")
    assert result == "loaded" or result.startswith("skipped page")


notebook_cells = st.lists(
    st.fixed_dictionaries(
        {
            "cell_type": st.sampled_from(["markdown", "code", "raw", 7]),
            "source": st.one_of(st.text(max_size=50), st.lists(st.text(max_size=20), max_size=4)),
        }
    ),
    max_size=5,
)


@fuzz(40)
@given(cells=notebook_cells, cut=st.integers(0, 400), metadata=st.sampled_from([{}, None, 3]))
def test_random_and_truncated_notebooks_load_or_are_skipped(
    cells: list[dict[str, object]], cut: int, metadata: object
) -> None:
    import json

    raw = json.dumps({"nbformat": 4, "metadata": metadata, "cells": cells})
    load_one(raw.encode("utf-8", "surrogatepass"), "random.ipynb")
    load_one(raw[:cut].encode("utf-8", "surrogatepass"), "cut.ipynb")


def _docx_bytes() -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_heading("Damaged handbook", level=1)
    document.add_paragraph("Leave is 25 days.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX = _docx_bytes()


@fuzz(40)
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=8)), max_size=6),
    cut=st.integers(0, 10**6),
)
def test_damaged_word_files_load_or_are_skipped(edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(DOCX)
    for where, junk in edits:
        at = where % len(data)
        data[at : at + len(junk)] = junk
    if cut % 3 == 0:
        data = data[: max(10, cut % len(data))]
    load_one(bytes(data), "damaged.docx")
