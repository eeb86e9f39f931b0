"""Jupyter notebooks: Markdown cells as Markdown, code cells as code blocks, short text outputs.

Of a code cell's outputs only text is kept (printed streams, plain-text results and errors'
one-line summaries), cut to a few lines; images, HTML and other rich data are left out.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from retrieval.loaders.base import Parsed, decode_text, register, title_from_name, whole_text
from retrieval.loaders.markdown import render_markdown

OUTPUT_MAX_LINES = 10  # a code cell's text output keeps at most this many lines...
OUTPUT_MAX_CHARS = 500  # ...and this many characters
# A display whose bundle holds any of these has a plain text that only names the object.
RICH_DATA = ("image/", "text/html", "application/", "text/latex", "text/markdown")
TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours in printed text and tracebacks


@register(".ipynb")
def parse_notebook(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return a notebook's cells as one document; its first heading is its title."""
    raw = decode_text(data, notes)
    try:
        notebook = json.loads(raw)
        cells, language = _cells(notebook)
    except (ValueError, TypeError, AttributeError) as exc:
        notes.append(f"it is not a valid notebook ({_reason(exc)}), so it is read as plain text")
        return whole_text(title_from_name(path), raw)
    pieces: list[str] = []
    starts: list[int] = []  # where each cell begins in the Markdown made of the cells
    where: list[int] = []  # where each cell's source begins in the file
    position = search = 0
    for kind, source, output in cells:
        found = raw.find('"source"', search)  # every cell has one, in the file's order
        search = found + 1 if found >= 0 else search
        if kind not in ("markdown", "code") or not source.strip():
            continue
        text = source if kind == "markdown" else f"```{language}\n{source.rstrip()}\n```"
        if kind == "code" and output:
            text += f"\n\n```text\n{output}\n```"
        starts.append(position)
        where.append(max(0, search - 1))
        pieces.append(text.rstrip("\n") + "\n\n")
        position += len(pieces[-1])
    parsed = render_markdown("".join(pieces), path, notes, slug_style="toc")
    # The Markdown above is not the file: map each block to where its cell's source starts.
    offsets = tuple(
        (clean, where[max(0, bisect.bisect_right(starts, origin) - 1)] if where else 0, 0)
        for clean, origin, _ in parsed.offsets
    )
    return replace(parsed, offsets=offsets)


def _cells(notebook: Any) -> tuple[list[tuple[str, str, str]], str]:
    """Return (cell type, source, text output) of every cell, and the notebook's language."""
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("no list of cells")
    metadata = notebook.get("metadata") or {}
    language = str(
        (metadata.get("language_info") or {}).get("name")
        or (metadata.get("kernelspec") or {}).get("language")
        or ""
    )
    cells: list[tuple[str, str, str]] = []
    for cell in notebook["cells"]:
        kind = str(cell.get("cell_type"))
        source = _joined(cell.get("source", ""))
        outputs = cell.get("outputs") if kind == "code" else None
        cells.append((kind, source, _output_text(outputs)))
    return cells, "".join(c for c in language if c.isalnum() or c in "+-_")


def _joined(value: Any) -> str:
    """Return a notebook string, which the format stores as one string or a list of lines."""
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return "" if value is None else str(value)


def _output_text(outputs: Any) -> str:
    """Return the text a code cell printed or returned, cut short; '' when it has none.

    Printed streams and ``text/plain`` results are kept, an error as its one-line summary
    ('ValidationError: 1 validation error'); images, HTML and the placeholder text of rich
    displays ('<Figure size 640x480 with 1 Axes>') are not.
    """
    if not isinstance(outputs, list):
        return ""
    pieces: list[str] = []
    for output in outputs:
        if not isinstance(output, dict):
            continue
        kind = output.get("output_type")
        data = output.get("data")
        if kind == "stream":
            pieces.append(_joined(output.get("text")))
        elif kind == "error":
            pieces.append(f"{_joined(output.get('ename'))}: {_joined(output.get('evalue'))}")
        elif kind in ("execute_result", "display_data") and isinstance(data, dict):
            rich = any(str(key).startswith(RICH_DATA) for key in data)
            if kind == "execute_result" or not rich:
                pieces.append(_joined(data.get("text/plain")))
    text = "\n".join(p.strip("\n") for p in pieces if p.strip())
    return _cut(TERMINAL_CODES.sub("", text))


def _cut(text: str) -> str:
    """Return at most OUTPUT_MAX_LINES lines and OUTPUT_MAX_CHARS characters, marked if cut.

    A progress bar's carriage returns keep only what was printed last on each line.
    """
    lines = [line.rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")]
    text = "\n".join(lines).replace("```", "'''")  # an output never closes its block
    short = "\n".join(text.split("\n")[:OUTPUT_MAX_LINES])[:OUTPUT_MAX_CHARS]
    return short if short == text else short.rstrip() + "\n…"


def _reason(exc: Exception) -> str:
    """Return why a notebook was rejected, in a few words."""
    return "invalid JSON" if isinstance(exc, json.JSONDecodeError) else str(exc) or "bad cells"
