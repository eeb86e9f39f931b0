"""Markdown-it rules for MkDocs syntax: admonitions, tabs, autorefs links, mkdocstrings blocks.

Admonitions are parsed here, not by mdit-py-plugins' admon plugin, because that plugin ends an
admonition at two blank lines in a row, where Python-Markdown goes on while lines are indented:
a code example inside a note, with PEP 8's two blank lines before a class, was cut in two.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.helpers import parseLinkLabel
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

# Python-Markdown's '!!! type "Title"', pymdownx.details' '??? type' and '???+ type'.
ADMONITION = re.compile(r'(?:!!!|\?\?\?\+?)\s+([\w-]+)?[\w\s-]*?(?:\s*"([^"]*)")?\s*$')
TAB_MARKERS = ("===!", "===+", "===")  # pymdownx.tabbed: "=== "Title"" then an indented body
AUTODOC_MARKER = ":::"  # mkdocstrings: "::: package.module" then indented YAML options
CONTENT_INDENT = 4  # both bodies are indented four spaces under their marker


def mkdocs_plugin(md: MarkdownIt) -> None:
    """Teach ``md`` content tabs, mkdocstrings blocks and autorefs links ``[text][ref]``."""
    alt = ["paragraph", "reference", "blockquote", "list"]
    md.block.ruler.before("fence", "admonition", _admonition, {"alt": alt})
    md.block.ruler.before("fence", "content_tab", _content_tab, {"alt": alt})
    md.block.ruler.before("fence", "autodoc", _autodoc, {"alt": alt})
    md.inline.ruler.after("link", "autoref", _autoref)


def marker_line(state: StateBlock, line: int) -> str | None:
    """Return the text of ``line`` when it can open a block here (not inside a code block)."""
    if state.sCount[line] - state.blkIndent >= CONTENT_INDENT:
        return None
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _body_end(state: StateBlock, start_line: int, end_line: int, indent: int) -> int:
    """Return the first line after ``start_line`` that is not part of a body indented ``indent``."""
    next_line = start_line + 1
    while next_line < end_line:
        blank = state.bMarks[next_line] + state.tShift[next_line] >= state.eMarks[next_line]
        if not blank and state.sCount[next_line] < indent:
            break
        next_line += 1
    while next_line - 1 > start_line and (
        state.bMarks[next_line - 1] + state.tShift[next_line - 1] >= state.eMarks[next_line - 1]
    ):
        next_line -= 1  # trailing blank lines belong to what follows
    return next_line


def _admonition(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Parse '!!! note "Title"' (or '??? note') and its indented body: its title, its content.

    Without a quoted title the type is the title ('!!! tip' -> 'Tip'); '""' means none. The
    title is written as a lead-in to the body ('Tip:'), so it does not read as a heading.
    """
    text = marker_line(state, start_line)
    found = ADMONITION.match(text) if text else None
    if found is None:
        return False
    if not silent:
        kind, quoted = found.group(1), found.group(2)
        title = quoted if quoted is not None else (kind or "").title()
        _indented_block(state, start_line, end_line, "admonition", lead_in(title))
    return True


def lead_in(title: str) -> str:
    """Return an admonition's title as a lead-in to its body: 'Note' -> 'Note:'."""
    title = title.strip()
    return title + ":" if title and title[-1].isalnum() else title


def _content_tab(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Parse '=== "Title"' and its indented body as a tab: its title, then its content."""
    text = marker_line(state, start_line)
    marker = next((m for m in TAB_MARKERS if text and text.startswith(m + " ")), None)
    if text is None or marker is None:
        return False
    title = text[len(marker) :].strip().strip('"').strip()
    if not title:
        return False
    if not silent:
        _indented_block(state, start_line, end_line, "content_tab", title)
    return True


def _indented_block(
    state: StateBlock, start_line: int, end_line: int, kind: str, title: str
) -> None:
    """Push a block of ``kind``: ``title`` as a paragraph, then the body indented under it."""
    indent = state.sCount[start_line] + CONTENT_INDENT
    next_line = _body_end(state, start_line, end_line, indent)
    token = state.push(f"{kind}_open", "div", 1)
    token.block = True
    token.map = [start_line, next_line]
    token.info = title
    if title:
        push_paragraph(state, title, start_line)
    old_indent, old_max = state.blkIndent, state.lineMax
    state.blkIndent, state.lineMax = indent, next_line
    state.md.block.tokenize(state, start_line + 1, next_line)
    state.blkIndent, state.lineMax = old_indent, old_max
    state.push(f"{kind}_close", "div", -1).block = True
    state.line = next_line


def _autodoc(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Parse '::: package.name' (with its options) as a paragraph naming the documented object."""
    text = marker_line(state, start_line)
    if text is None or not text.startswith(AUTODOC_MARKER + " "):
        return False
    name = text[len(AUTODOC_MARKER) :].strip()
    if not name or " " in name:
        return False
    if silent:
        return True
    next_line = _body_end(state, start_line, end_line, state.sCount[start_line] + 1)
    push_paragraph(state, name, start_line, next_line)
    state.line = next_line
    return True


def push_paragraph(state: StateBlock, content: str, line: int, end: int | None = None) -> None:
    """Push a paragraph holding ``content``, to be parsed as inline Markdown."""
    token = state.push("paragraph_open", "p", 1)
    token.map = [line, end if end is not None else line + 1]
    token = state.push("inline", "", 0)
    token.content = content
    token.map = [line, line + 1]
    token.children = []
    state.push("paragraph_close", "p", -1)


def _autoref(state: StateInline, silent: bool) -> bool:
    """Parse an autorefs link '[text][ref]' or '[text][]' whose ref no Markdown defines."""
    start = state.pos
    if state.src[start] != "[":
        return False
    label_end = parseLinkLabel(state, start, True)
    after = label_end + 1
    if label_end < 0 or after >= state.posMax or state.src[after] != "[":
        return False
    ref_end = state.src.find("]", after + 1, state.posMax)
    if ref_end < 0 or any(c in state.src[after + 1 : ref_end] for c in "[\n"):
        return False
    if not silent:
        state.push("link_open", "a", 1)
        old_max = state.posMax
        state.pos, state.posMax = start + 1, label_end
        state.md.inline.tokenize(state)
        state.posMax = old_max
        state.push("link_close", "a", -1)
    state.pos = ref_end + 1
    return True
