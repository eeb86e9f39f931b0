"""reStructuredText and Sphinx through docutils: sections with Sphinx anchors, roles as text.

Sphinx's directives and roles are unknown to docutils; they are registered here as generic
handlers (keep the content, keep the visible text, or produce nothing), and any other unknown
name the parser reports is registered the same way before the file is parsed again.

``include`` and ``literalinclude`` read files of the same documents folder only (see
``rst_files``). Their text is not in the parsed file, so its offsets point at the directive
that brought it in, with no characters claimed verbatim.
"""

from __future__ import annotations

import ast
import copy
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes, utils
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Directive, DirectiveError, Parser, directives, roles
from docutils.parsers.rst.directives.misc import Include
from docutils.utils import DependencyList, new_document

from retrieval.document import BlockKind
from retrieval.loaders.base import (
    Parsed,
    SkipFile,
    TextBuilder,
    decode_text,
    pieces,
    register,
    title_from_name,
    whole_text,
)
from retrieval.loaders.roles import DOC_ROLES, SPHINX_ROLES, role_text
from retrieval.loaders.rst_files import (
    FileContext,
    Refused,
    file_stamp,
    humanise,
    language_of,
    normalise_label,
    select_lines,
)

MAX_PASSES = 4  # parses of one file while unknown directive or role names are still reported
AUTO_ID = re.compile(r"id\d+")  # the ids docutils makes up when a title's own id is taken
UNKNOWN = re.compile(r'Unknown (directive type|interpreted text role) "([^"]+)"')

# Sphinx directives that only steer the build: they put nothing on the page we can read.
SILENT_DIRECTIVES = (
    "toctree",
    "currentmodule",
    "module",
    "py:module",
    "py:currentmodule",
    "autoclass",
    "automodule",
    "autofunction",
    "automethod",
    "autoattribute",
    "autodata",
    "autoexception",
    "autodecorator",
    "autoproperty",
    "autosummary",
    "autoprogram",
    "autoclasstoc",
    "index",
    "highlight",
    "sectionauthor",
    "moduleauthor",
    "codeauthor",
    "tabularcolumns",
    "rst-class",
    "program",
    "testsetup",
    "testcleanup",
    "currentmodule",
)
# Directives whose content is ordinary body text; their argument, if any, is shown as a line.
BODY_DIRECTIVES = (
    "tab",
    "group-tab",
    "code-tab",
    "glossary",
    "hlist",
    "centered",
    "seealso",
    "todo",
)
# Directives whose argument is not text for the reader (a condition, a layout).
BARE_BODY_DIRECTIVES = (
    "tabs",
    "only",
    "ifconfig",
    "container-fluid",
)
CODE_DIRECTIVES = (
    "code-block",
    "sourcecode",
    "code",
    "doctest",
    "testcode",
    "testoutput",
)
# Object descriptions: the signature is shown, then the description.
DESCRIBE_DIRECTIVES = (
    "function",
    "class",
    "method",
    "classmethod",
    "staticmethod",
    "attribute",
    "data",
    "exception",
    "decorator",
    "property",
    "describe",
    "object",
    "confval",
    "envvar",
    "option",
    "type",
)
DESCRIBE_DOMAINS = ("py", "c", "cpp", "js", "rst", "std")
VERSION_LABELS = {
    "versionadded": "Added in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "versionremoved": "Removed in version",
}
TITLE_READ_CHARS = 4000  # how much of a ':doc:' page is parsed to find its title
TITLE_FIRST_CHARS = 800  # parsed first: a title further down takes a second, longer parse
SKIPPED_NODES = (
    nodes.comment,
    nodes.substitution_definition,
    nodes.target,
    nodes.system_message,
    nodes.raw,
    nodes.pending,
    nodes.footnote_reference,
    nodes.citation_reference,
    nodes.image,
    nodes.transition,
)


class _AnyOptions(dict[str, Callable[[str], Any]]):
    """An option spec that accepts every option, so no directive fails on one it does not know."""

    def __getitem__(self, key: str) -> Callable[[str], Any]:
        """Return a converter that keeps the option's text."""
        converter: Callable[[str], Any] = directives.unchanged
        return converter

    def __contains__(self, key: object) -> bool:
        """Say that every option is known."""
        return True

    def __bool__(self) -> bool:
        """Say that options are parsed at all (docutils skips them for an empty spec)."""
        return True


class _Generic(Directive):  # type: ignore[misc]  # docutils has no type hints
    """Base of the generic directives: any arguments, any options, any content."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = _AnyOptions()

    def _place(self, node: nodes.Element, offset: int | None = None) -> nodes.Element:
        """Give ``node`` the file and line it came from (the directive's, or a content offset).

        docutils numbers lines across included text; this asks it for the real file and line.
        """
        where = self.lineno if offset is None else offset + 1
        node.source, node.line = self.state_machine.get_source_and_line(where)
        return node

    def _body(self) -> list[nodes.Node]:
        """Return the content parsed as body elements."""
        holder = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, holder)
        return list(holder.children)

    def _line(self, text: str) -> list[nodes.Node]:
        """Return a paragraph of ``text`` parsed as inline markup, or nothing for empty text."""
        if not text.strip():
            return []
        inline, _ = self.state.inline_text(text, self.lineno)
        return [self._place(nodes.paragraph(text, "", *inline))]


class _Silent(_Generic):
    """A directive that produces nothing (toctree, currentmodule, autoclass...)."""

    def run(self) -> list[nodes.Node]:
        """Return nothing."""
        return []


class _Body(_Generic):
    """A directive whose content is body text, after its argument as a line (tabs, seealso)."""

    def run(self) -> list[nodes.Node]:
        """Return the argument line and the parsed content."""
        return self._line(" ".join(self.arguments)) + self._body()


class _BareBody(_Generic):
    """A directive whose content is body text and whose argument is not for the reader."""

    def run(self) -> list[nodes.Node]:
        """Return the parsed content."""
        return self._body()


class _Guessed(_Body):
    """A directive no one registered: Python code when its content is code, else body text.

    Sphinx extensions add directives such as ``click:example`` whose content is a program;
    read as body text, its indented lines would turn into definition lists.
    """

    def run(self) -> list[nodes.Node]:
        """Return the content as one Python code block, or the argument line and the body."""
        code = "\n".join(self.content)
        if not is_python_code(code):
            return super().run()
        block = nodes.literal_block(code, code)
        block["language"] = "python"
        return [*self._line(" ".join(self.arguments)), self._place(block, self.content_offset)]


def is_python_code(text: str) -> bool:
    """Say whether ``text`` is a Python program or session, not prose that happens to parse."""
    code = text.strip()
    if code.startswith(">>> "):
        return True
    if "\n" not in code:
        return False
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return any(
        not isinstance(node, ast.Expr) or isinstance(node.value, ast.Call) for node in tree.body
    )


class _Code(_Generic):
    """A code block (code-block, sourcecode): its content verbatim."""

    def run(self) -> list[nodes.Node]:
        """Return one literal block with the code and its language."""
        code = "\n".join(self.content)
        if not code.strip():
            return []
        block = nodes.literal_block(code, code)
        block["language"] = self.arguments[0].strip() if self.arguments else ""
        return [self._place(block, self.content_offset)]


class _Describe(_Generic):
    """An object description (function, class, data): its signature, then its description."""

    def run(self) -> list[nodes.Node]:
        """Return the signature as a line and the parsed description."""
        signature = " ".join(self.arguments)
        line = self._place(nodes.paragraph(signature, "", nodes.literal(signature, signature)))
        return ([line] if signature.strip() else []) + self._body()


class _VersionChange(_Generic):
    """Versionadded, versionchanged, deprecated: 'Added in version 2.0: text', then the content."""

    required_arguments = 1
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Return the version line and the parsed content."""
        label = VERSION_LABELS.get(self.name, "Changed in version")
        version = self.arguments[0]
        rest = self.arguments[1] if len(self.arguments) > 1 else ""
        return self._line(f"{label} {version}: {rest}" if rest else f"{label} {version}.") + (
            self._body()
        )


class _Include(Include):  # type: ignore[misc]  # docutils has no type hints
    """'.. include::' of a file in the same documents folder: its text is parsed in place."""

    # ':parser:' names a module for docutils to import: a document never gets to choose one.
    option_spec: ClassVar[dict[str, Any]] = {
        k: v for k, v in Include.option_spec.items() if k != "parser"
    }

    def run(self) -> list[nodes.Node]:
        """Insert the file's text into the input (docutils clips it and stops circles)."""
        files = _files(self.state.document)
        if files is None:
            return []
        name = self.arguments[0]
        base, source, line = _where(self, files)
        try:
            path = files.resolve(name, base)
            files.read(path)  # checks the size and decoding, and keeps the bytes for the hash
            self.settings = self.state.document.settings
            self.tab_width = self.options.get("tab-width", self.settings.tab_width)
            self.clip_options = tuple(
                self.options.get(key)
                for key in ("start-line", "end-line", "start-after", "end-before")
            )
            self.options["source"] = str(path)
            text = self.read_file(path)
            if "literal" in self.options or "code" in self.options:
                block = nodes.literal_block(text, text.strip("\n"))
                block["language"] = self.options.get("code") or ""
                return [_included(block, files, f"{path}:{self.lineno}", source, line)]
            log = self.state.document.include_log
            if not log:  # docutils would name the page relative to the working folder: never equal
                log.append((str(files.path), (None, None, None, None)))  # to an absolute include
            self.insert_into_input_lines(text)  # raises for a circle, before any text is in
            files.origins.setdefault(str(path), files.origins.get(source, line))
        except Refused as exc:
            files.warn(self.name, name, str(exc))
        except DirectiveError as exc:
            message = str(exc.msg)
            if "circular inclusion" in message:
                message = "it would include itself in a circle"
            files.warn(self.name, name, message.split("\n")[0].replace(f"{files.root}/", ""))
        return []


class _LiteralInclude(_Generic):
    """'.. literalinclude::' of a file in the same documents folder: a code block of its text."""

    def run(self) -> list[nodes.Node]:
        """Return the file's selected lines as one literal block, after its caption."""
        files = _files(self.state.document)
        if files is None:
            return []
        name = " ".join(self.arguments)
        base, source, line = _where(self, files)
        options = {key: str(value) for key, value in self.options.items()}
        try:
            path = files.resolve(name, base)
            code, cut = select_lines(files.read(path), options)
        except Refused as exc:
            files.warn(self.name, name, str(exc))
            return []
        if cut:
            files.notes.append(f"its {self.name} of {name!r} shows {cut}")
        if not code.strip():
            return []
        block = nodes.literal_block(code, code)
        block["language"] = language_of(path, options)
        placed = _included(block, files, f"{path}:{self.lineno}", source, line)
        return [*self._line(options.get("caption", "")), placed]


def _where(directive: Directive, files: FileContext) -> tuple[Path, str, int]:
    """Return the file a directive's paths are relative to, and its source name and line.

    That file is the included one when the directive sits in included text, else the parsed one.
    """
    source, line = directive.state_machine.get_source_and_line(directive.lineno)
    return (Path(source) if source in files.origins else files.path), source, line


def _included(
    node: nodes.Element, files: FileContext, key: str, source: str, line: int
) -> nodes.Element:
    """Mark ``node`` as text from another file, placed at the directive at ``source:line``."""
    files.origins[key] = files.origins.get(source, line)
    node.source, node.line = key, 1
    return node


def _files(document: nodes.document) -> FileContext | None:
    """Return the file context a parse was given, or None when other files are not to be read."""
    files = getattr(document.settings, "qabot_files", None)
    return files if isinstance(files, FileContext) else None


def _untitled(role: str, target: str, inliner: Any) -> str:
    """Return what Sphinx shows for a ':doc:' or ':ref:' without a title, as near as we can.

    A page's title, or the title of the section a label marks, when it is in the documents
    folder; else the target as words ('blueprint-error-handlers' -> 'blueprint error handlers').
    """
    files = _files(inliner.document)
    if files is None:
        return humanise(target)
    if role in DOC_ROLES:
        path = files.doc_path(target, files.path)
        title = ""
        if path is not None:
            title = _page_title(path)
            files.borrow_title(path, title)
        return title or humanise(target)
    label = normalise_label(target)
    found = files.label_target(label)
    title = _section_title(found[1], str(found[0])) if found is not None else ""
    if found is not None and title:
        files.borrow_title(found[0], title, label)
    return title or humanise(target)


@lru_cache(maxsize=4096)
def _section_title(lines: str, name: str) -> str:
    """Return the title of the section the label opening ``lines`` marks, or ''."""
    try:
        document = parse_doctree(lines, name)
    except Exception:  # noqa: BLE001 - a broken page only costs its titles
        return ""
    marked = next((c for c in document.children if not isinstance(c, nodes.target)), None)
    if isinstance(marked, nodes.section) and marked.children and isinstance(marked[0], nodes.title):
        return " ".join(marked[0].astext().split())
    return ""  # a label on a figure or a paragraph: Sphinx needs an explicit title there


def _page_title(path: Path) -> str:
    """Return the first section title of the rst file at ``path``, or '' when it has none."""
    stamp = file_stamp(path)
    return _cached_title(*stamp) if stamp is not None else ""


@lru_cache(maxsize=1024)
def _cached_title(path: str, mtime_ns: int, size: int) -> str:
    """Return the first section title in the first TITLE_READ_CHARS characters of a file."""
    try:
        text = decode_text(Path(path).read_bytes())
    except (SkipFile, OSError):
        return ""
    for size in (TITLE_FIRST_CHARS, TITLE_READ_CHARS):  # most pages open with their title
        head = text[:size]
        try:
            document = parse_doctree(head[: head.rfind("\n") + 1] or head, path)
        except Exception:  # noqa: BLE001 - a broken page only costs its title
            return ""
        section = next(document.findall(nodes.section), None)
        if section is not None and section.children and isinstance(section[0], nodes.title):
            return " ".join(section[0].astext().split())
        if len(text) <= size:
            break
    return ""


def _visible_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: object,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """Return a role's visible text: ':class:`Message`' -> Message, ':ref:`a <b>`' -> a."""
    visible = role_text(
        name, utils.unescape(text), lambda role, target: _untitled(role, target, inliner)
    )
    return [nodes.literal(rawtext, visible)], []


@cache
def _register_sphinx() -> None:
    """Register Sphinx's common directives and roles with docutils, once per process."""
    groups: list[tuple[Sequence[str], type[Directive]]] = [
        (SILENT_DIRECTIVES, _Silent),
        (BODY_DIRECTIVES, _Body),
        (BARE_BODY_DIRECTIVES, _BareBody),
        (CODE_DIRECTIVES, _Code),
        (tuple(VERSION_LABELS), _VersionChange),
        (DESCRIBE_DIRECTIVES, _Describe),
        (("include",), _Include),
        (("literalinclude",), _LiteralInclude),
        (tuple(f"{d}:{n}" for d in DESCRIBE_DOMAINS for n in DESCRIBE_DIRECTIVES), _Describe),
    ]
    for names, directive in groups:
        for name in names:
            directives.register_directive(name, directive)
    for name in SPHINX_ROLES:
        roles.register_local_role(name, _visible_role)


@cache
def _default_settings() -> Any:
    """Return docutils' default settings for the rst parser, built once (about 1.5 ms)."""
    return get_default_settings(Parser)


def _settings() -> Any:
    """Return docutils settings that never stop, never print and never read other files."""
    settings = copy.copy(_default_settings())
    settings.record_dependencies = DependencyList()  # the one mutable default a parse fills
    settings.report_level = 5  # nothing is printed; problems are read from the doctree
    settings.halt_level = 5  # no problem stops the parse
    settings.warning_stream = io.StringIO()
    settings.file_insertion_enabled = False  # '.. include:: /etc/passwd' reads nothing
    settings.raw_enabled = False
    settings.auto_id_prefix = "id"  # duplicate titles get 'id1', as Sphinx's pages do
    return settings


class _Unknown:
    """Collects the directive and role names docutils reports as unknown."""

    def __init__(self) -> None:
        """Start with none."""
        self.names: list[tuple[str, str]] = []

    def __call__(self, message: nodes.system_message) -> None:
        """Record the names in one system message."""
        self.names.extend(UNKNOWN.findall(message.astext()))

    def __bool__(self) -> bool:
        """Say whether any name was reported."""
        return bool(self.names)


def parse_doctree(source: str, name: str, files: FileContext | None = None) -> nodes.document:
    """Parse rst ``source``; unknown directives and roles are made generic and it is reparsed.

    With ``files``, includes and ':doc:' titles read files of its documents folder; the context
    the last parse filled is the document's ``settings.qabot_files``.
    """
    _register_sphinx()
    for _ in range(MAX_PASSES):
        settings = _settings()
        settings.qabot_files = files and replace(
            files, notes=[], origins={}, included=[], included_paths=[]
        )
        document = new_document(name, settings)
        reported = _Unknown()
        document.reporter.attach_observer(reported)
        Parser().parse(source, document)
        if not reported:
            break
        for kind, unknown in reported.names:
            if kind == "directive type":
                directives.register_directive(unknown, _Guessed)
            else:
                roles.register_local_role(unknown, _visible_role)
    return document


@register(".rst", ".rest")
def parse_rst(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return an rst file's text, its first section title as title, and its sections."""
    source = decode_text(data, notes)
    files = FileContext.of(path, root)
    try:
        document = parse_doctree(source, str(files.path), files)
        files = _files(document) or files
        builder = TextBuilder(source)
        title = _Writer(builder, document, files.origins).write()
    except Exception as exc:  # noqa: BLE001 - docutils has many failure modes on broken files
        reason = type(exc).__name__
        notes.append(
            f"its reStructuredText cannot be parsed ({reason}), so it is read as plain text"
        )
        return whole_text(title_from_name(path), source)
    notes.extend(files.notes)
    return builder.build(
        title or title_from_name(path),
        included=files.included,
        includes=files.included_paths,
    )


def rst_pieces(source: str) -> list[tuple[str, BlockKind | None]]:
    """Return the text of an rst fragment (MyST's ``{eval-rst}``) as pieces, code apart."""
    builder = TextBuilder(source)
    _Writer(builder, parse_doctree(source, "<eval-rst>"), {}).write()
    return pieces(builder.build(""))


class _Writer:
    """Writes a docutils doctree into a TextBuilder, block by block."""

    def __init__(
        self, builder: TextBuilder, document: nodes.document, origins: dict[str, int]
    ) -> None:
        """Write ``document`` into ``builder``; ``origins`` places text of included files."""
        self._out = builder
        self._document = document
        self._origins = origins
        self._depth = 0
        self._line = 1
        self._title = ""

    def write(self) -> str:
        """Write the document; return its first section's title."""
        children = list(self._document.children)
        first = next((c for c in children if not isinstance(c, SKIPPED_NODES)), None)
        for child in children:
            if child is first and isinstance(child, nodes.field_list):
                continue  # ':orphan:', ':tocdepth:' and other file-wide metadata
            self._node(child)
        return self._title

    def _add(self, node: nodes.Node, text: str, kind: str | None = None) -> None:
        """Append ``text``, mapped to the line ``node`` came from."""
        start, length = self._span(node)
        raw = getattr(node, "rawsource", "")
        origin_len = max(length, len(raw)) if length and isinstance(raw, str) else length
        self._out.add(text, start, origin_len, kind="code" if kind == "code" else None)

    def _span(self, node: nodes.Node) -> tuple[int, int]:
        """Return (start, length) of the file line ``node`` came from.

        Text another file brought in maps to the start of the include directive's line, with no
        length: none of its characters are in this file.
        """
        origin = self._origin(node)
        if origin is not None:
            return self._out.line_span(origin - 1, origin)[0], 0
        self._line = node.line or self._line
        return self._out.line_span(self._line - 1, self._line)

    def _origin(self, node: nodes.Node | None) -> int | None:
        """Return the line of the include that brought ``node`` in, or None for this file's."""
        while node is not None:
            source = getattr(node, "source", None)
            if source:
                return self._origins.get(source)
            node = node.parent
        return None

    def _children(self, node: nodes.Node) -> None:
        """Write every child of ``node``."""
        for child in node.children:
            self._node(child)

    def _node(self, node: nodes.Node) -> None:
        """Write one body element."""
        if isinstance(node, (*SKIPPED_NODES, nodes.Text)):
            return
        if isinstance(node, nodes.section):
            self._section(node)
        elif isinstance(node, nodes.paragraph | nodes.title | nodes.rubric | nodes.caption):
            self._add(node, self._inline(node))
        elif isinstance(node, nodes.literal_block | nodes.doctest_block):
            language = node.get("language") or next(
                (c for c in node.get("classes", []) if c != "code"), ""
            )
            code = node.astext().rstrip("\n")
            self._add(node, f"```{language}\n{code}\n```", kind="code")
        elif isinstance(node, nodes.bullet_list | nodes.enumerated_list):
            self._list(node)
        elif isinstance(node, nodes.table):
            self._table(node)
        elif isinstance(node, nodes.term):
            self._add(node, self._inline(node))
        elif isinstance(node, nodes.field):
            name, body = node.children[0], node.children[1]
            self._add(node, f"{self._inline(name)}:")
            self._children(body)
        elif isinstance(node, nodes.option_list_item):
            self._add(node, node.children[0].astext())
            self._children(node.children[1]) if len(node.children) > 1 else None
        elif isinstance(node, nodes.line_block):
            lines = [self._inline(line) for line in node.findall(nodes.line)]
            self._add(node, "\n".join(line for line in lines if line.strip()))
        else:
            self._children(node)

    def _section(self, node: nodes.section) -> None:
        """Open a section with its title and Sphinx's anchor, then write its body."""
        self._depth += 1
        title_node = node.children[0] if node.children else None
        if isinstance(title_node, nodes.title):
            title = " ".join(self._inline(title_node).split())
            anchor = self._anchor(node, title)
            start, length = self._span(title_node if title_node.line else node)
            self._out.heading(self._depth, title, anchor, start, length)
            self._title = self._title or title
        for child in node.children[1:] if isinstance(title_node, nodes.title) else node.children:
            self._node(child)
        self._depth -= 1

    def _anchor(self, node: nodes.section, title: str) -> str:
        """Return the id Sphinx puts on the section's page element.

        A label ('.. _routing:') that takes the title's id leaves the section an 'id1'; Sphinx
        moves the label's id onto the section, so the title's id is still on the page.
        """
        own = str(nodes.make_id(title))
        ids: list[str] = node["ids"]
        holder = self._document.ids.get(own)
        if not ids or (AUTO_ID.fullmatch(ids[0]) and isinstance(holder, nodes.target)):
            return own
        return str(ids[0])

    def _list(self, node: nodes.Element) -> None:
        """Write list items, each first paragraph with its '- ' or '1. ' marker."""
        ordered = isinstance(node, nodes.enumerated_list)
        number = int(node.get("start", 1))
        for item in node.children:
            marker = f"{number}. " if ordered else "- "
            number += 1
            for index, child in enumerate(item.children):
                if index == 0 and isinstance(child, nodes.paragraph):
                    self._add(child, marker + self._inline(child))
                else:
                    self._node(child)

    def _table(self, node: nodes.table) -> None:
        """Write a table as one row per line, cells joined by ' | '."""
        rows = [
            " | ".join(" ".join(self._inline_block(entry).split()) for entry in row.children)
            for row in node.findall(nodes.row)
        ]
        if rows:
            start, length = self._span(node)
            self._out.add("\n".join(rows), start, length, kind="table")

    def _inline_block(self, node: nodes.Element) -> str:
        """Return the text of a table cell's paragraphs."""
        return " ".join(self._inline(p) for p in node.findall(nodes.paragraph)) or node.astext()

    def _inline(self, node: nodes.Node) -> str:
        """Return the visible text of inline markup: no roles, no references' targets."""
        return "".join(self._inline_parts(node)).strip()

    def _inline_parts(self, node: nodes.Node) -> Iterator[str]:
        """Yield the visible pieces of inline markup."""
        for child in node.children:
            if isinstance(child, nodes.Text):
                yield str(child).replace("\n", " ")
            elif isinstance(child, SKIPPED_NODES):
                continue
            elif isinstance(child, nodes.substitution_reference):
                yield self._substitution(child)
            elif isinstance(child, nodes.problematic):
                yield child.astext().strip("|")
            else:
                yield from self._inline_parts(child)

    def _substitution(self, node: nodes.substitution_reference) -> str:
        """Return a substitution's text when the file defines it, else its name."""
        definition = self._document.substitution_defs.get(node.get("refname", ""))
        return self._inline(definition) if definition is not None else str(node.astext())
