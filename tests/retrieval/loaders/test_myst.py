from __future__ import annotations

import pytest

from retrieval.document import Document
from retrieval.loaders.rst import is_python_code
from tests.retrieval.loaders.conftest import load_folder

# A MyST page as Sphinx projects write them (directive fences, roles, targets, eval-rst).
MYST_PAGE = """\
(quickstart)=
# Quickstart

```{currentmodule} click
```

```{contents}
:local:
```

Decorate a function with {func}`~click.command`, then group commands with
{class}`click.Group`; {ref}`handling-files` and {ref}`the option docs <options>` say more.

## Required arguments

```{versionadded} 2.0
```

```{admonition} Note on Required Arguments
:class: note

   An argument is made required with `required=True`, but tools should degrade gracefully.
```

:::{warning}
Colon fences hold **Markdown** as well.
:::

```{doctest}
>>> import click
>>> click.echo("hi")
hi
```

```{code-block} console
$ pip install click
```

+++

## From rst

```{eval-rst}
.. autofunction:: command

.. note::

   Text of an rst note inside MyST.

.. click:example::

    @click.command()
    def hello():
        click.echo('Hello')
```
"""


@pytest.fixture
def page(load_one) -> Document:
    return load_one("quickstart.md", MYST_PAGE)


def test_myst_markup_leaves_only_text(page: Document) -> None:
    for markup in ("```{", ":::", "{func}", "{class}", "{ref}", ")=", ":class:", "+++", ".. "):
        assert markup not in page.text
    for silent in ("currentmodule", "contents", ":local:", "autofunction"):
        assert silent not in page.text


def test_roles_keep_the_text_sphinx_shows(page: Document) -> None:
    assert (
        "Decorate a function with command(), then group commands with click.Group; "
        "handling files and the option docs say more." in page.text
    )


def test_directive_bodies_are_markdown_and_version_notes_a_line(page: Document) -> None:
    assert "Added in version 2.0." in page.text
    assert "Note on Required Arguments:\n\nAn argument is made required with required=True" in (
        page.text
    )
    assert "Colon fences hold Markdown as well." in page.text
    assert "Text of an rst note inside MyST." in page.text


def test_code_directives_are_code_blocks_with_their_language(page: Document) -> None:
    codes = [page.text[b.start : b.end] for b in page.blocks if b.kind == "code"]
    assert codes == [
        '```python\n>>> import click\n>>> click.echo("hi")\nhi\n```',
        "```console\n$ pip install click\n```",
        "```python\n@click.command()\ndef hello():\n    click.echo('Hello')\n```",
    ]


def test_sections_and_offsets_follow_the_file(page: Document) -> None:
    assert page.title == "Quickstart"
    assert [(s.path, s.anchor) for s in page.sections] == [
        (("Quickstart",), "quickstart"),
        (("Quickstart", "Required arguments"), "required-arguments"),
        (("Quickstart", "From rst"), "from-rst"),
    ]
    where = page.text.index("Colon fences")
    assert MYST_PAGE[page.original_offset(where) :].startswith("Colon fences hold **Markdown**")
    where = page.text.index("An argument is made")
    assert MYST_PAGE[page.original_offset(where) :].lstrip().startswith("An argument is made")


def test_docusaurus_admonitions_keep_title_and_body(load_one) -> None:
    source = ":::tip[Use the cache]\nSet **TTL** first.\n:::\n\n:::note\nPlain note.\n:::\n"
    for name in ("tip.md", "tip.mdx"):
        doc = load_one(name, "# Tips\n\n" + source)
        assert doc.text == "Tips\n\nUse the cache:\n\nSet TTL first.\n\nPlain note.\n\n"


def test_mkdocstrings_blocks_and_plain_fences_are_unchanged(load_one) -> None:
    doc = load_one(
        "api.md",
        "# API\n\n::: pkg.module\n    options:\n      show_root_heading: true\n\n"
        "```{.python}\nx = 1\n```\n",
    )
    assert doc.text == "API\n\npkg.module\n\n```{.python}\nx = 1\n```\n\n"


def test_an_unclosed_directive_fence_runs_to_the_end(load_one) -> None:
    doc = load_one("open.md", "# Open\n\n```{note}\nStill read.\n\n## Not a heading? It is.\n")
    assert "Still read." in doc.text
    assert "```" not in doc.text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("import click\n\n@click.command()\ndef hello():\n    pass", True),
        (">>> 1 + 1\n2", True),
        ("cli = click.Group()\ncli.add_command(hello)", True),
        ("This is prose, it is not code.\nSecond line of prose.", False),
        ("print(x)", False),  # one line: too little to tell
        ("first\nsecond", False),  # bare names parse, but are words
    ],
)
def test_python_code_is_told_from_prose(text: str, code: bool) -> None:
    assert is_python_code(text) is code


def test_myst_includes_read_files_of_the_documents_folder_only(tmp_path) -> None:
    docs = tmp_path / "docs"
    (docs / "snippets").mkdir(parents=True)
    (docs / "guide.md").write_text(
        "# Guide\n\n```{include} snippets/install.md\n```\n\n"
        "```{literalinclude} snippets/example.py\n:lines: 1-2\n```\n\n"
        "```{include} ../../secrets.txt\n```\n\n"
        "```{include} snippets/notes.rst\n:start-after: .. start\n```\n"
    )
    (docs / "snippets" / "install.md").write_text(
        "Run `pip install qabot` in a **virtualenv**.\n\n```{include} ../guide.md\n```\n"
    )
    (docs / "snippets" / "example.py").write_text("import qabot\nqabot.run()\nprint('cut')\n")
    (docs / "snippets" / "notes.rst").write_text("Hidden intro.\n\n.. start\n\nShown **note**.\n")
    result = load_folder(tmp_path)
    [guide] = [d for d in result.documents if d.source == "docs/guide.md"]
    assert guide.text == (
        "Guide\n\nRun pip install qabot in a virtualenv.\n\n"
        "```python\nimport qabot\nqabot.run()\n```\n\nShown note.\n\n"
    )
    assert guide.includes == (
        "docs/snippets/install.md",
        "docs/snippets/example.py",
        "docs/snippets/notes.rst",
    )
    assert sorted(w for w in result.warnings if "guide.md" in w.split(":")[0]) == [
        "docs/guide.md: its include of '../../secrets.txt' was left out: the file is outside "
        "the documents folder",
        "docs/guide.md: its include of '../guide.md' was left out: it would include itself in "
        "a circle",
    ]
