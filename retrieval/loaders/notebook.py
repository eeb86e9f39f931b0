"""Jupyter notebooks: Markdown cells as Markdown, code cells as code blocks, outputs left out."""

from __future__ import annotations

import bisect
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from retrieval.loaders.base import Parsed, decode_text, register, title_from_name, whole_text
from retrieval.loaders.markdown import render_markdown


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
    for kind, source in cells:
        found = raw.find('"source"', search)  # every cell has one, in the file's order
        search = found + 1 if found >= 0 else search
        if kind not in ("markdown", "code") or not source.strip():
            continue
        text = source if kind == "markdown" else f"```{language}\n{source.rstrip()}\n```"
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


def _cells(notebook: Any) -> tuple[list[tuple[str, str]], str]:
    """Return (cell type, source) of every cell, and the notebook's language."""
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("no list of cells")
    metadata = notebook.get("metadata") or {}
    language = str(
        (metadata.get("language_info") or {}).get("name")
        or (metadata.get("kernelspec") or {}).get("language")
        or ""
    )
    cells: list[tuple[str, str]] = []
    for cell in notebook["cells"]:
        kind = str(cell.get("cell_type"))
        source = cell.get("source", "")
        cells.append((kind, "".join(source) if isinstance(source, list) else str(source)))
    return cells, "".join(c for c in language if c.isalnum() or c in "+-_")


def _reason(exc: Exception) -> str:
    """Return why a notebook was rejected, in a few words."""
    return "invalid JSON" if isinstance(exc, json.JSONDecodeError) else str(exc) or "bad cells"
