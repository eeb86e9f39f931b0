from __future__ import annotations

import pytest

from retrieval.document import Document

SPHINX_PAGE = """\
:orphan:

.. currentmodule:: discord

Intents
=======

.. versionadded:: 2.0

An :class:`Intents` object says which events a :class:`~discord.Client` receives; see
:ref:`the gateway guide <gateway-guide>` and :meth:`Client.run`.

.. toctree::
   :maxdepth: 2

   intents/privileged

.. _privileged-intents:

Privileged Intents
------------------

.. warning::

   Enable them in the developer portal first.

.. autoclass:: Intents
   :members:

.. sphinx-never-heard-of-this:: some argument
   :weird-option: yes

   Text inside an unknown directive survives.

.. code-block:: python

   intents = discord.Intents.default()
   intents.message_content = True

Message Content
~~~~~~~~~~~~~~~

.. deprecated:: 2.1
   Use :attr:`Intents.message_content` instead.

===========  ======
Intent       Needed
===========  ======
members      yes
presences    no
===========  ======
"""


@pytest.fixture
def page(load_one) -> Document:
    return load_one("intents.rst", SPHINX_PAGE)


def test_title_is_the_first_section_title_never_markup(page: Document) -> None:
    assert page.title == "Intents"


def test_sphinx_directives_and_roles_leave_only_text(page: Document) -> None:
    for markup in (":orphan:", "currentmodule", "toctree", "autoclass", ":class:", "`Int", ".. "):
        assert markup not in page.text
    assert "intents/privileged" not in page.text
    assert "An Intents object says which events a Client receives; see the gateway guide" in (
        page.text
    )
    assert "and Client.run()." in page.text
    assert "Added in version 2.0." in page.text
    assert "Enable them in the developer portal first." in page.text
    assert "Deprecated since version 2.1: Use Intents.message_content instead." in page.text


def test_an_unknown_directive_keeps_its_content_and_reports_nothing(page: Document) -> None:
    assert "Text inside an unknown directive survives." in page.text
    assert "weird-option" not in page.text
    assert "System Message" not in page.text and "Unknown directive" not in page.text


def test_an_unknown_directive_holding_a_program_is_code(load_one) -> None:
    doc = load_one(
        "example.rst",
        "Example\n=======\n\n.. click:example::\n\n"
        "    @click.command()\n    def hello():\n        click.echo('Hello')\n",
    )
    code = "```python\n@click.command()\ndef hello():\n    click.echo('Hello')\n```"
    assert [doc.text[b.start : b.end] for b in doc.blocks] == [code]


def test_code_block_is_verbatim_and_tables_are_rows(page: Document) -> None:
    code = [page.text[b.start : b.end] for b in page.blocks if b.kind == "code"]
    assert code == [
        "```python\nintents = discord.Intents.default()\nintents.message_content = True\n```"
    ]
    tables = [page.text[b.start : b.end] for b in page.blocks if b.kind == "table"]
    assert tables == ["Intent | Needed\nmembers | yes\npresences | no"]


def test_sections_follow_the_underlines_with_sphinx_ids(page: Document) -> None:
    assert [(s.path, s.anchor) for s in page.sections] == [
        (("Intents",), "intents"),
        (("Intents", "Privileged Intents"), "privileged-intents"),
        (("Intents", "Privileged Intents", "Message Content"), "message-content"),
    ]
    privileged = page.sections[1]
    assert "developer portal" in page.text[privileged.start : privileged.end]
    assert "Deprecated" not in page.text[privileged.start : privileged.end]


def test_offsets_point_at_the_source_lines(page: Document) -> None:
    where = page.text.index("Enable them")
    assert SPHINX_PAGE[page.original_offset(where) :].startswith("   Enable them")


def test_duplicate_titles_get_sphinx_ids(load_one) -> None:
    doc = load_one("faq.rst", "FAQ\n===\n\nSetup\n-----\n\nOne.\n\nSetup\n-----\n\nTwo.\n")
    assert [s.anchor for s in doc.sections] == ["faq", "setup", "id1"]


def test_a_page_without_sections_is_named_after_its_file(load_one) -> None:
    doc = load_one("web-security.rst", "Some *plain* text with ``code``.\n")
    assert doc.title == "Web security"
    assert doc.text.strip() == "Some plain text with code."


def test_rst_docutils_cannot_parse_is_read_as_plain_text_with_a_warning(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval.loaders import rst
    from tests.retrieval.loaders.conftest import load_folder

    def broken(*args: object) -> None:
        raise IndexError("docutils tripped")

    monkeypatch.setattr(rst, "parse_doctree", broken)
    (tmp_path / "broken.rst").write_text("Broken\n======\n\nStill readable text.\n")
    result = load_folder(tmp_path)
    [doc] = result.documents
    assert "Still readable text." in doc.text
    [warning] = result.warnings
    assert warning == (
        "broken.rst: its reStructuredText cannot be parsed (IndexError), "
        "so it is read as plain text"
    )


@pytest.mark.parametrize(
    "source",
    [
        "Title\n===\n\n.. code-block::\n\n.. image::\n\n:bad:`unclosed\n\n* a\n  * b\n",
        "=====\nTitle\n\n+---+---+\n| a | b\n+---+\n\n.. |sub| unknown:: x\n\n|sub| |nope|\n",
        "Text\n----\n\nMore\n====\n\nBack\n----\n\n.. _a:\n.. _a:\n\n`x <`_ [#]_ [1]_\n",
    ],
)
def test_malformed_rst_loads_without_system_messages(load_one, source: str) -> None:
    doc = load_one("bad.rst", source)
    assert "System Message" not in doc.text
    assert "Unknown" not in doc.text


def test_rst_never_reads_other_files_or_raw_markup(tmp_path, load_one) -> None:
    secret = tmp_path.parent / "secret.txt"
    secret.write_text("SECRET-VALUE\n")
    source = (
        "Page\n====\n\n"
        f".. include:: {secret}\n\n"
        f".. literalinclude:: {secret}\n\n"
        f".. csv-table:: Data\n   :file: {secret}\n\n"
        ".. raw:: html\n\n   <script>alert('RAW-HTML')</script>\n\n"
        "Visible text.\n"
    )
    doc = load_one("page.rst", source)
    assert "SECRET-VALUE" not in doc.text and "RAW-HTML" not in doc.text
    assert doc.text == "Page\n\nVisible text.\n\n"
