from __future__ import annotations

import io
import json
from pathlib import Path

import docx

from tests.retrieval.loaders.conftest import load_folder

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"language_info": {"name": "python"}},
    "cells": [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": ["# Validating data\n", "\n", "Use **models**."],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": ["from pydantic import BaseModel\n", "BaseModel"],
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["Model defined\n"]},
                {
                    "output_type": "execute_result",
                    "execution_count": 1,
                    "metadata": {},
                    "data": {"text/plain": ["pydantic.main.BaseModel"]},
                },
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {
                        "image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4",
                        "text/plain": ["<Figure size 640x480 with 1 Axes>"],
                    },
                },
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/html": ["<table><tr><td>HTML-BLOB</td></tr></table>"]},
                },
            ],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 2,
            "source": "for n in range(50):\n    print(n)",
            "outputs": [
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": "".join(f"{n}\n" for n in range(50)),
                }
            ],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 3,
            "source": "BaseModel(x=1)",
            "outputs": [
                {
                    "output_type": "error",
                    "ename": "ValidationError",
                    "evalue": "1 validation error for BaseModel",
                    "traceback": ["\u001b[0;31m---------------------------------------\u001b[0m"],
                }
            ],
        },
        {"cell_type": "raw", "metadata": {}, "source": "raw cell ignored"},
        {"cell_type": "markdown", "metadata": {}, "source": "## Errors\n\nThey are raised."},
    ],
}


def test_notebook_cells_become_text_code_and_sections(load_one) -> None:
    raw = json.dumps(NOTEBOOK, indent=1)
    doc = load_one("guide.ipynb", raw)
    assert doc.title == "Validating data"
    assert doc.text == (
        "Validating data\n\nUse models.\n\n"
        "```python\nfrom pydantic import BaseModel\nBaseModel\n```\n\n"
        "```text\nModel defined\npydantic.main.BaseModel\n```\n\n"
        "```python\nfor n in range(50):\n    print(n)\n```\n\n"
        "```text\n0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n…\n```\n\n"
        "```python\nBaseModel(x=1)\n```\n\n"
        "```text\nValidationError: 1 validation error for BaseModel\n```\n\n"
        "Errors\n\nThey are raised.\n\n"
    )
    assert [s.label for s in doc.sections] == ["Validating data", "Validating data › Errors"]
    assert [b.kind for b in doc.blocks] == ["code"] * 6
    errors_cell = raw.index('"source": "## Errors')
    assert doc.original_offset(doc.text.index("They are raised")) == errors_cell


def test_notebook_outputs_are_cut_to_a_few_hundred_characters(load_one) -> None:
    long_line = "x" * 2000
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "source": "print(data)",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": long_line},
                    {"output_type": "stream", "text": ["\u001b[32mok\u001b[0m ``` fence"]},
                    {"output_type": "display_data", "data": "not a bundle"},
                    "not an output",
                    {"output_type": "execute_result", "data": {"text/plain": None}},
                ],
            }
        ]
    }
    doc = load_one("big.ipynb", json.dumps(notebook))
    [_, output] = [doc.text[b.start : b.end] for b in doc.blocks]
    assert output == "```text\n" + "x" * 500 + "\n…\n```"
    notebook["cells"][0]["outputs"] = notebook["cells"][0]["outputs"][1:]
    doc = load_one("colours.ipynb", json.dumps(notebook))
    assert doc.text.endswith("```text\nok ''' fence\n```\n\n")


def test_invalid_notebook_json_is_read_as_plain_text_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [{"cell_type": "markdown", "source": "Half')
    (tmp_path / "odd.ipynb").write_text('{"cells": "not a list", "note": "Readable words"}')
    result = load_folder(tmp_path)
    assert sorted(d.source for d in result.documents) == ["broken.ipynb", "odd.ipynb"]
    assert all(d.title in ("Broken", "Odd") for d in result.documents)
    assert result.warnings == [
        "broken.ipynb: it is not a valid notebook (invalid JSON), so it is read as plain text",
        "odd.ipynb: it is not a valid notebook (no list of cells), so it is read as plain text",
    ]


def make_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = ""
    document.add_paragraph("Employee handbook", style="Title")
    document.add_heading("Leave", level=1)
    document.add_paragraph("Staff get 25 days of paid leave.")
    document.add_paragraph("Ask your manager first", style="List Bullet")
    document.add_heading("Sick leave", level=2)
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(
        table.rows, [("Days", "Pay", "Proof"), ("1-3", "full", "none")], strict=True
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Tell us on the first day.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_word_headings_come_from_styles_and_tables_are_rows(load_one) -> None:
    doc = load_one("handbook.docx", make_docx())
    assert doc.title == "Employee handbook"
    assert [(s.label, s.anchor) for s in doc.sections] == [
        ("Employee handbook", "employee-handbook"),
        ("Employee handbook › Leave", "leave"),
        ("Employee handbook › Leave › Sick leave", "sick-leave"),
    ]
    assert "Staff get 25 days of paid leave.\n\n- Ask your manager first" in doc.text
    [table] = doc.blocks
    assert doc.text[table.start : table.end] == "Days | Pay | Proof\n1-3 | full | none"
    assert doc.text.endswith("Tell us on the first day.\n\n")


def test_corrupt_word_files_are_skipped_with_one_line(tmp_path: Path) -> None:
    good = make_docx()
    (tmp_path / "truncated.docx").write_bytes(good[: len(good) // 2])
    (tmp_path / "not-a-zip.docx").write_bytes(b"PK\x03\x04 this is no zip archive")
    (tmp_path / "fine.docx").write_bytes(good)
    result = load_folder(tmp_path)
    assert [d.source for d in result.documents] == ["fine.docx"]
    assert sorted(result.skipped) == [
        "skipped not-a-zip.docx: the Word document cannot be read (BadZipFile)",
        "skipped truncated.docx: the Word document cannot be read (BadZipFile)",
    ]
