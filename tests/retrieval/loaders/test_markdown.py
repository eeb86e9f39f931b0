from __future__ import annotations

from retrieval.document import Document

MKDOCS_PAGE = """\
---
title: Models
description: How to define models.
---

??? api "API Documentation"
    [`pydantic.main.BaseModel`][pydantic.main.BaseModel]<br>

One of the primary ways of defining schema is via [models][pydantic.BaseModel].

## Basic model usage

!!! note "Validation is not type checking"
    Pydantic *coerces* data; see [`int`][] and [the docs](https://example.invalid/x).

=== "Python 3.10 and above"

    ```python
    from pydantic import BaseModel


    class User(BaseModel):
        id: int
    ```

### Model methods {#methods}

| Method | Does |
|---|---|
| `model_dump()` | returns a dict |
| `model_copy()` | copies |

## Basic model usage
"""


def text_of(doc: Document, start: int, end: int) -> str:
    return doc.text[start:end]


def test_front_matter_title_and_meta_win(load_one) -> None:
    doc = load_one("concepts/models.md", MKDOCS_PAGE)
    assert doc.title == "Models"
    assert doc.meta == {"title": "Models", "description": "How to define models."}
    assert "description:" not in doc.text


def test_mkdocs_markup_is_reduced_to_text(load_one) -> None:
    doc = load_one("models.md", MKDOCS_PAGE)
    for markup in ("???", "!!!", "===", "<br>", "][", "*coerces*", "`int`", "](http"):
        assert markup not in doc.text
    assert "API Documentation:\n\npydantic.main.BaseModel" in doc.text
    assert "via models." in doc.text
    assert "Validation is not type checking:\n\nPydantic coerces data; see int and the docs." in (
        doc.text
    )
    assert "Python 3.10 and above" in doc.text


def test_code_is_kept_verbatim_as_a_block(load_one) -> None:
    doc = load_one("models.md", MKDOCS_PAGE)
    [code] = [b for b in doc.blocks if b.kind == "code"]
    assert text_of(doc, code.start, code.end) == (
        "```python\nfrom pydantic import BaseModel\n\n\nclass User(BaseModel):\n    id: int\n```"
    )


def test_tables_are_rows_of_cells(load_one) -> None:
    doc = load_one("models.md", MKDOCS_PAGE)
    [table] = [b for b in doc.blocks if b.kind == "table"]
    assert text_of(doc, table.start, table.end) == (
        "Method | Does\nmodel_dump() | returns a dict\nmodel_copy() | copies"
    )


def test_headings_become_sections_with_mkdocs_anchors(load_one) -> None:
    doc = load_one("models.md", MKDOCS_PAGE)
    assert [(s.path, s.anchor) for s in doc.sections] == [
        (("Basic model usage",), "basic-model-usage"),
        (("Basic model usage", "Model methods"), "methods"),
        (("Basic model usage",), "basic-model-usage_1"),
    ]
    first, methods, _ = doc.sections
    assert doc.text[first.start :].startswith("Basic model usage\n")
    assert first.end == methods.start
    assert "model_dump() | returns a dict" in doc.text[methods.start : methods.end]
    assert doc.section_at(doc.text.index("class User")) == first
    assert doc.section_at(0) is None


def test_first_h1_is_the_title_and_offsets_point_into_the_file(load_one) -> None:
    source = "Intro line.\n\n# Getting *started*\n\nRun `make run` to start.\n"
    doc = load_one("guide.md", source)
    assert doc.title == "Getting started"
    assert doc.text.startswith("Intro line.\n\nGetting started\n\nRun make run to start.")
    paragraph = doc.text.index("Run make run")
    assert source[doc.original_offset(paragraph) :].startswith("Run `make run`")


def test_a_page_without_h1_is_named_after_its_file(load_one) -> None:
    doc = load_one("concepts/strict_mode.md", "Strict mode is *off* by default.\n")
    assert doc.title == "Strict mode"


def test_attribute_lists_macros_and_markdown_in_html_leave_no_markup(load_one) -> None:
    source = (
        "Plain serializers are called unconditionally.\n  {#field-plain-serializer}\n\n"
        "{{ conversion_table_all }}\n\n"
        '<figure markdown="span">\n'
        '  ![Logfire explaining an error](../img/x.png){ width="500" }\n'
        "</figure>\n\n"
        "Pydantic relies on [type hints][type hint] at runtime.\n"
    )
    doc = load_one("serialization.md", source)
    assert doc.text == (
        "Plain serializers are called unconditionally.\n\n"
        "Logfire explaining an error\n\n"
        "Pydantic relies on type hints at runtime.\n\n"
    )


def test_an_admonition_goes_on_across_blank_lines_while_indented(load_one) -> None:
    """Python-Markdown keeps an indented body together, code with PEP 8's blank lines included."""
    doc = load_one(
        "aliases.md",
        '!!! warning "Aliases"\n    Metadata cannot be used:\n\n    ```python\n    A = int\n\n\n'
        "    class Model(BaseModel):\n        x: A\n    ```\n\n    Only type metadata works.\n\n"
        '!!! tip\n    Tip body.\n\n!!! note ""\n    No title.\n\n???+ info "Open"\n    Shown.\n\n'
        "After.\n",
    )
    code = "```python\nA = int\n\n\nclass Model(BaseModel):\n    x: A\n```"
    assert [doc.text[b.start : b.end] for b in doc.blocks] == [code]
    assert doc.text == (
        f"Aliases:\n\nMetadata cannot be used:\n\n{code}\n\nOnly type metadata works.\n\n"
        "Tip:\n\nTip body.\n\nNo title.\n\nOpen:\n\nShown.\n\nAfter.\n\n"
    )
