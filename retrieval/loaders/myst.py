"""MyST Markdown (Sphinx's Markdown) and Docusaurus admonitions: directive fences, roles, targets.

A directive fence (```` ```{name} argument ````, ``:::{name}``, or Docusaurus' ``:::note Title``)
is read as the rst loader reads the same directive: build-only directives give nothing, code
directives their code, version notes a line, object descriptions their signature, and the rest
their body, parsed as Markdown in place so that its offsets stay the file's. An ``{eval-rst}``
body becomes a ``myst_rst`` token for the rst loader, and ``{include}`` / ``{literalinclude}``
a ``myst_include`` token when the parse has a FileContext (``env["files"]``) to read them with.
Roles (``{func}`run```) become ``myst_role`` tokens; targets (``(label)=``) and block breaks
(``+++``) give nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from retrieval.loaders.markdown_extras import lead_in, marker_line, push_paragraph
from retrieval.loaders.rst import (
    BARE_BODY_DIRECTIVES,
    CODE_DIRECTIVES,
    DESCRIBE_DIRECTIVES,
    SILENT_DIRECTIVES,
    VERSION_LABELS,
    is_python_code,
)

OPENING = re.compile(
    r"(?P<fence>`{3,}|:{3,})(?:\s*\{(?P<name>[A-Za-z][\w:.+-]*)\}|(?P<bare>[A-Za-z][\w-]*))"
    r"(?P<rest>.*)$"
)
# A directive's option line before its body: ':class: note'.
OPTION = re.compile(r":(?P<key>[\w-]+):(?P<value>\s.*)?$")
# Directives MyST pages use whose output is not text: images, tables of contents, and includes
# when the parse has no FileContext to read them with (a notebook's Markdown cells).
MYST_SILENT = ("include", "literalinclude", "image", "raw", "contents", "meta")
MYST_BARE = ("tab-set", "grid", "div", "card-carousel")
ADMONITIONS = (
    *("admonition", "attention", "caution", "danger", "error", "hint", "important", "note"),
    *("tip", "warning", "seealso", "info", "dropdown", "tab-item", "card", "figure", "topic"),
)
INCLUDES = ("include", "literalinclude")  # read by the Markdown loader when it has a FileContext
CODE_LANGUAGES = {"doctest": "python", "testcode": "python", "testoutput": "text"}


def myst_plugin(md: MarkdownIt) -> None:
    """Teach ``md`` directive fences, roles, targets and block breaks."""
    from mdit_py_plugins.myst_blocks import myst_block_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    md.use(myst_role_plugin).use(myst_block_plugin)
    md.disable("myst_line_comment")  # a paragraph starting with '%' is text outside MyST
    alt = ["paragraph", "reference", "blockquote", "list"]
    md.block.ruler.before("fence", "directive_fence", _directive_fence, {"alt": alt})


@dataclass(frozen=True, slots=True)
class _Fence:
    """Where a directive fence's parts are: its body lines run from ``body`` up to ``close``."""

    name: str
    argument: str
    start: int
    body: int
    close: int
    end: int  # the line after the closing fence


def _directive_fence(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Parse a directive fence as the tokens its directive stands for."""
    fence = _find(state, start_line, end_line)
    if fence is None:
        return False
    if silent:
        return True
    name = fence.name.lower()
    short = name.rsplit(":", 1)[-1]
    body = _source(state, fence.body, fence.close)
    if name == "eval-rst":
        token = state.push("myst_rst", "", 0)
        token.content, token.map = body, [fence.start, fence.end]
    elif short in INCLUDES and state.env.get("files") is not None:
        token = state.push("myst_include", "", 0)
        token.info, token.content, token.map = short, fence.argument, [fence.start, fence.end]
        token.meta = {"options": _options(state, fence)}
    elif name in SILENT_DIRECTIVES or short in MYST_SILENT:
        pass
    elif short in CODE_DIRECTIVES or short == "code-cell":
        language = CODE_LANGUAGES.get(short) or fence.argument.split(" ", 1)[0]
        _push_code(state, body, language, fence)
    elif short in VERSION_LABELS:
        version, _, rest = fence.argument.partition(" ")
        label = f"{VERSION_LABELS[short]} {version}"
        push_paragraph(state, f"{label}: {rest}" if rest.strip() else f"{label}.", fence.start)
        _tokenize(state, fence)
    elif short in DESCRIBE_DIRECTIVES and fence.argument:
        push_paragraph(state, f"`{fence.argument}`", fence.start)
        _tokenize(state, fence)
    elif short in BARE_BODY_DIRECTIVES or short in MYST_BARE:
        _tokenize(state, fence)
    elif short not in ADMONITIONS and is_python_code(body):
        _push_code(state, body, "python", fence)  # an extension's example, such as click:example
    else:
        if fence.argument:
            title = lead_in(fence.argument) if short in ADMONITIONS else fence.argument
            push_paragraph(state, title, fence.start)
        _tokenize(state, fence)
    state.line = fence.end
    return True


def _find(state: StateBlock, start_line: int, end_line: int) -> _Fence | None:
    """Return the directive fence opening at ``start_line``, or None when none opens there."""
    text = marker_line(state, start_line)
    opening = OPENING.match(text) if text else None
    if opening is None:
        return None
    marker = opening["fence"]
    if marker[0] == "`" and not opening["name"]:
        return None  # '```python' is a code fence
    argument = opening["rest"].strip()
    if opening["bare"]:  # Docusaurus: ':::tip[Title]' or ':::tip Title'
        argument = argument.removeprefix("[").removesuffix("]").strip()
    close = start_line + 1
    while close < end_line:
        closing = (marker_line(state, close) or "").rstrip()
        if closing and set(closing) == {marker[0]} and len(closing) >= len(marker):
            break
        close += 1
    body = _after_options(state, start_line + 1, close)
    end = min(close + 1, end_line)
    return _Fence(opening["name"] or opening["bare"], argument, start_line, body, close, end)


def _after_options(state: StateBlock, first: int, close: int) -> int:
    """Return the first body line after the directive's options (':key: value' or YAML)."""
    line = first
    if line < close and marker_line(state, line) == "---":
        end = next((n for n in range(line + 1, close) if marker_line(state, n) == "---"), None)
        return end + 1 if end is not None else line
    while line < close and OPTION.match(marker_line(state, line) or ""):
        line += 1
    return line


def _options(state: StateBlock, fence: _Fence) -> dict[str, str]:
    """Return the directive's options: ':key: value' lines, or a YAML block between '---'."""
    lines = [marker_line(state, n) or "" for n in range(fence.start + 1, fence.body)]
    if lines and lines[0] == "---":
        import yaml

        try:
            values = yaml.safe_load("\n".join(lines[1:-1]))
        except yaml.YAMLError:
            return {}
        return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}
    found = (OPTION.match(line) for line in lines)
    return {m["key"]: (m["value"] or "").strip() for m in found if m}


def _source(state: StateBlock, first: int, end: int) -> str:
    """Return the source of lines ``first`` up to ``end``, less the container's indentation."""
    lines = []
    for line in range(first, end):
        start = state.bMarks[line] + min(state.tShift[line], state.blkIndent)
        lines.append(state.src[start : state.eMarks[line]])
    return "\n".join(lines).strip("\n")


def _push_code(state: StateBlock, code: str, language: str, fence: _Fence) -> None:
    """Push a code fence token holding ``code``."""
    if not code.strip():
        return
    token = state.push("fence", "code", 0)
    token.info, token.content, token.map = language, code + "\n", [fence.start, fence.end]


def _tokenize(state: StateBlock, fence: _Fence) -> None:
    """Parse the fence's body as Markdown, where it stands in the file."""
    old_max = state.lineMax
    state.lineMax = fence.close
    state.md.block.tokenize(state, fence.body, fence.close)
    state.lineMax = old_max
