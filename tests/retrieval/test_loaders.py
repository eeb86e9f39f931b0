from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import SeedsNotFoundError
from retrieval.loaders import Cleaner, load_documents
from retrieval.settings import DocumentsSettings
from tests.conftest import SEED_SOURCE, SEEDS
from tests.retrieval.pdf import make_outlined_pdf, make_pdf

DEFAULTS = DocumentsSettings()


def load(root: Path, max_bytes: int = 10**7):
    cleaner = Cleaner(DEFAULTS.boilerplate_patterns, DEFAULTS.min_line_letters)
    return load_documents(root, DEFAULTS.extensions, max_bytes, cleaner)


def test_seed_article_has_title_source_hash_and_no_debris() -> None:
    result = load(SEEDS)
    [doc] = [d for d in result.documents if d.source == SEED_SOURCE]
    assert doc.title == "Colombian President Petro to meet Trump at White House in February"
    assert len(doc.content_hash) == 64
    assert ".jpeg)" not in doc.text
    assert "Unlock premium news" not in doc.text
    assert "February 3" in doc.text


def test_offsets_map_clean_text_back_to_the_original() -> None:
    [doc] = load(SEEDS).documents
    original = (SEEDS / SEED_SOURCE).read_text(encoding="utf-8")
    sentence = "Colombian President Gustavo Petro has confirmed"
    clean = doc.text.index(sentence)
    assert original[doc.original_offset(clean) :].startswith(sentence)


def test_markdown_html_and_pdf_titles(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# Install guide\n\nRun make run to start.\n")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Release notes</title><script>var x=1;</script></head>"
        "<body><nav>Home | About</nav><h1>Version 2</h1><p>Adds PDF support.</p></body></html>"
    )
    (tmp_path / "report.pdf").write_bytes(make_pdf("Quarterly revenue grew by nine percent.", "Q3"))
    (tmp_path / "untitled.pdf").write_bytes(make_pdf("Budget approved in March."))
    docs = {d.source: d for d in load(tmp_path).documents}
    assert docs["guide.md"].title == "Install guide"
    assert docs["page.html"].title == "Version 2"  # the first <h1> names the page
    assert "Adds PDF support." in docs["page.html"].text
    assert "var x" not in docs["page.html"].text
    assert "Home | About" not in docs["page.html"].text
    assert docs["report.pdf"].title == "Q3"
    assert "Quarterly revenue grew by nine percent." in docs["report.pdf"].text
    assert docs["untitled.pdf"].title == "Budget approved in March."


def test_bad_files_are_skipped_with_one_warning_each_and_the_rest_load(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good title\nThe launch is on Monday.\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("   \n\n")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 2)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf at all")
    (tmp_path / "table.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "big.txt").write_text("word " * 400)
    result = load(tmp_path, max_bytes=1000)
    assert [d.source for d in result.documents] == ["good.txt"]
    reasons = dict(w.removeprefix("skipped ").split(": ", 1) for w in result.skipped)
    assert reasons["empty.txt"] == "the file is empty"
    assert reasons["blank.md"] == "the file is empty"
    assert reasons["binary.txt"] == "the file is binary, not text"
    assert reasons["broken.pdf"].startswith("the PDF cannot be read")
    assert reasons["table.xlsx"] == "unsupported file type '.xlsx'"
    assert "over the" in reasons["big.txt"]
    assert len(result.skipped) == 6


def test_non_utf8_text_is_read_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("Café opening\nThe café opens at 8.\n".encode("cp1252"))
    result = load(tmp_path)
    [doc] = result.documents
    assert "The café opens at 8." in doc.text
    assert result.warnings == ["latin.txt: it is not UTF-8, so it was read as Windows-1252"]


def test_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\nThe password is hunter2.\n")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "link.txt").symlink_to(outside)
    result = load(seeds)
    assert result.documents == []
    assert result.skipped == ["skipped link.txt: it links outside the documents folder"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SeedsNotFoundError, match="does not exist"):
        load(tmp_path / "nope")


def test_a_pdf_outline_gives_sections_that_open_at_their_page(tmp_path: Path) -> None:
    pages = [
        "Manual overview text.",
        "Installing on Linux: run the installer as root.",
        "Upgrading keeps your settings.",
    ]
    marks = [("Installing", 1, -1), ("Linux", 1, 0), ("Upgrading", 2, -1)]
    (tmp_path / "manual.pdf").write_bytes(make_outlined_pdf(pages, marks))
    [doc] = load(tmp_path).documents
    found = [(s.path, s.anchor, doc.text[s.start : s.end].strip()) for s in doc.sections]
    assert found == [
        (("Installing",), "page=2", "Installing on"),
        (("Installing", "Linux"), "page=2", "Linux: run the installer as root."),
        (("Upgrading",), "page=3", "Upgrading keeps your settings."),
    ]
    assert doc.section_at(doc.text.index("as root")).path == ("Installing", "Linux")
