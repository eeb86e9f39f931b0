"""Markup left in document text: code blocks found, headings told apart, prose made plain.

Loaders render most markup away; what they leave (reST roles, Markdown emphasis and links,
``:alt:`` lines, HTML tags, image lines) is removed here when an answer is composed, so that an
answer shows the document's words without their syntax. Code is never touched.
"""

from __future__ import annotations

import html
import re
import textwrap

# A fenced block: ``` or ~~~ (three or more) at a line start, up to the matching fence or the end.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*(?P=fence)[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)
_CLOSING_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*$", re.MULTILINE)
_FENCE_AT_END = re.compile(r"\n?[ \t]*(?:`{3,}|~{3,})[ \t]*\Z")
# A reST literal block: a paragraph ending in "::", a blank line, then indented lines.
_LITERAL = re.compile(r"::[ \t]*\n(?:[ \t]*\n)+(?P<body>(?:(?:[ \t]+[^\n]*)?\n)*(?:[ \t]+[^\n]*))")
_HEADING_HASH = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,3}[.)])[ \t]+\S")  # a list item starts its own line
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}[ \t]*$")

# Whole lines that carry no prose: image and figure lines, reST directives and field lines
# (":alt: ..."), Markdown images, admonition openers, HTML comments, link targets.
_DROP_LINES = re.compile(
    r"^[ \t]*(?:"
    r"\.\.[ \t]+[\w:-]+::.*"  # .. image:: / .. note:: / .. code-block:: python
    r"|\.\.[ \t]+_[^:]*:.*"  # .. _target: https://...
    r"|:[\w-]+:(?:[ \t].*)?"  # :alt: ..., :caption: ..., :width: 100
    r"|!\[[^\]]*\]\([^)]*\)[ \t]*(?:\{[^}]*\})?"  # ![alt](image.png){ width=300 }
    r"|(?:!!!|\?\?\?\+?)[ \t]*\w+.*"  # !!! note "Title" (MkDocs admonitions)
    r"|<!--.*?-->"
    r")[ \t]*$",
    re.MULTILINE,
)
# Inline markup around words: reST roles and links, Markdown links and images, HTML tags.
_LINKS = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # inline image
    (re.compile(r"\[\]\([^)]*\)"), ""),  # an empty link: an anchor for other pages
    (re.compile(r"\[([^\]\n]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"), r"\1"),  # [text](url "title")
    (re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]"), r"\1"),  # [text][ref]
    (re.compile(r":[\w.+-]+:`~?([^`<]+?)\s*<[^>`]+>`"), r"``\1``"),  # :ref:`label <target>`
    (re.compile(r":[\w.+-]+:`[!~]?([^`]+)`"), r"``\1``"),  # :func:`~flask.Flask.route`
    (re.compile(r"`([^`<\n]+?)\s*<[^>`\n]+>`__?"), r"\1"),  # `text <https://...>`_
    (re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>"), ""),  # <br/>, <span class="x">
    (re.compile(r"\{[#.:][\w-]+[^}]*\}"), ""),  # {#anchor} {.class} attribute lists
    (re.compile(r"\[\^[^\]]+\]"), ""),  # footnote references
    (re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE), ""),  # heading markers
    (re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE), ""),  # block quote markers
]
# Inline code, whose content is shown as written: ``literal`` (reST) or `code` (Markdown).
_INLINE_CODE = re.compile(r"``([^`\n]+?)``|`([^`\n]+)`_{0,2}")
# Emphasis: a pair of ** __ * or _ around words, the opening one not inside a word.
_EMPHASIS = [
    re.compile(rf"(?<![\w{c}\\]){m}(?=[^\s{c}]|{c}\w)(.+?)(?<=[^\s\\]){m}(?![\w{c}])")
    for c, m in ((r"\*", r"\*\*"), ("_", "__"), (r"\*", r"\*"), ("_", "_"))
]


def _unemphasise(text: str) -> str:
    """Return text without emphasis markers; the emphasised words stay."""
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text


# A line that only switches MkDocs content tabs: === "Annotated pattern"
_TAB_LINE = re.compile(r"^[ \t]*===[ \t]+\"[^\"]*\"[ \t]*$", re.MULTILINE)


def code_spans(text: str) -> list[tuple[int, int]]:
    """Return (start, end) of each code block in ``text``: fenced, or a reST literal block."""
    spans = [(m.start("fence") - len(m.group("indent")), m.end()) for m in _FENCE.finditer(text)]
    for match in _LITERAL.finditer(text):
        start, end = match.start("body"), match.end("body")
        if not any(s <= start < e for s, e in spans):
            spans.append((start, end))
    return sorted(spans)


def code_tail(text: str) -> int:
    """Return where the code ends in text that starts inside a code block: after its closing fence.

    The whole text is code when the block does not close in it.
    """
    match = _CLOSING_FENCE.search(text)
    return match.end() if match else len(text)


def is_fenced(code: str) -> bool:
    """Return True when a code block is already fenced."""
    return bool(_FENCE.match(code.strip("\n")))


def fenced(code: str) -> str:
    """Return a code block as a fenced block, leaving an existing fence as written."""
    code = code.strip("\n")
    if is_fenced(code):
        return textwrap.dedent(code)
    body = _FENCE_AT_END.sub("", code)  # the tail of a block cut by the chunker keeps its fence
    return "```\n" + textwrap.dedent(body).rstrip() + "\n```"


def is_heading(line: str, following: str = "") -> bool:
    """Return True for a Markdown heading line, or a reST one (``following`` is its underline)."""
    stripped = line.strip()
    if not stripped or "\n" in stripped:
        return False
    return bool(_HEADING_HASH.match(line) or _UNDERLINE.match(following.strip()))


def is_rule(line: str) -> bool:
    """Return True for a line of repeated punctuation: a reST underline or a horizontal rule."""
    return bool(_UNDERLINE.match(line.strip()))


def plain(prose: str) -> str:
    """Return prose without markup syntax, its words unchanged, hard-wrapped lines joined."""
    text = _TAB_LINE.sub("", _DROP_LINES.sub("", prose))
    for pattern, replacement in _LINKS:
        text = pattern.sub(replacement, text)
    pieces = []
    pos = 0
    for match in _INLINE_CODE.finditer(text):  # code keeps its stars and underscores
        pieces.append(_unemphasise(text[pos : match.start()]))
        pieces.append(match.group(1) or match.group(2))
        pos = match.end()
    pieces.append(_unemphasise(text[pos:]))
    text = html.unescape("".join(pieces))
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip() or is_rule(line):
            continue
        line = " ".join(line.split())
        if out and not _LIST_ITEM.match(line):
            out[-1] += " " + line  # a hard-wrapped line continues the one before
        else:
            out.append(line)
    return "\n".join(out)
