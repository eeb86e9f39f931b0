"""What an rst file may read of the other files in its documents folder, and nothing outside it.

``include`` and ``literalinclude`` bring in another file's text, ``:doc:`` shows another page's
title and an untitled ``:ref:`` the title of the section its label marks. Each goes through a
``FileContext``, which refuses paths that leave the documents root, caps what it reads, and keeps
the bytes it read so the including file's hash follows them.
"""

from __future__ import annotations

import ast
import os
import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from retrieval.loaders.base import SkipFile, decode_text

MAX_INCLUDE_BYTES = 1_000_000  # a file larger than this is not brought into another one
MAX_LITERAL_LINES = 200  # a literalinclude shows at most this many lines of its file
DOC_SUFFIXES = (".rst", ".rest")  # what a Sphinx ':doc:' target names, without its suffix
LABEL_LINES = 12  # lines from a ':ref:' label on, parsed to find the section it marks
LANGUAGES = {  # literalinclude's language when the directive names none, by file suffix
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".ini": "ini",
    ".cfg": "ini",
    ".sh": "bash",
    ".html": "html",
    ".css": "css",
    ".sql": "sql",
    ".rst": "rst",
    ".txt": "text",
}
LINE_RANGE = re.compile(r"\s*(\d*)\s*(-?)\s*(\d*)\s*")


class Refused(Exception):
    """A file another one names cannot be brought in; the message says why in a few words."""


@dataclass(slots=True)
class FileContext:
    """The file being parsed, its documents root, and what it read of other files.

    ``origins`` maps the source name docutils gives included text to the line (1-based) of the
    top-level ``include`` in the parsed file that brought it in: that text is not in the file,
    so its offsets point at that directive.
    """

    path: Path
    root: Path
    notes: list[str] = field(default_factory=list)
    origins: dict[str, int] = field(default_factory=dict)
    included: list[bytes] = field(default_factory=list)
    included_paths: list[str] = field(default_factory=list)  # the same files, root-relative
    # The project's ':ref:' labels, read on first use: each label's file and the lines from it on.
    labels: dict[str, tuple[Path, str]] | None = None

    @classmethod
    def of(cls, path: Path, root: Path) -> FileContext:
        """Return the context of ``path`` under ``root``, both made absolute."""
        return cls(path=path.resolve(), root=root.resolve())

    def resolve(self, name: str, base: Path) -> Path:
        """Return the file ``name`` refers to from ``base``'s folder; raise Refused if unusable.

        A name starting with '/' is relative to the documentation's top folder, as Sphinx reads it.
        """
        name = name.strip()
        if not name:
            raise Refused("it names no file")
        if name.startswith("/"):
            candidates = [top / name.lstrip("/") for top in self._tops(base)]
        else:
            candidates = [base.parent / name]
        for candidate in candidates:
            resolved = candidate.resolve()
            if not resolved.is_relative_to(self.root):
                raise Refused("the file is outside the documents folder")
            if resolved.is_file():
                return resolved
        raise Refused("the file does not exist")

    def _tops(self, base: Path) -> list[Path]:
        """Return the folders a '/name' may start from, the likeliest Sphinx source folder first.

        That is the nearest folder with a conf.py; without one, the folders from the documents
        root down to ``base``'s, so '/gevent' from 'docs/deploying/' finds 'docs/gevent.rst'
        before 'docs/deploying/gevent.rst'.
        """
        folders = [f for f in (base.parent, *base.parent.parents) if f.is_relative_to(self.root)]
        with_conf = [f for f in folders if (f / "conf.py").is_file()]
        return with_conf[:1] + folders[::-1]

    def read(self, path: Path) -> str:
        """Return the decoded text of ``path`` and keep its bytes; raise Refused if unusable."""
        try:
            if path.stat().st_size > MAX_INCLUDE_BYTES:
                raise Refused(f"the file is over {MAX_INCLUDE_BYTES:,} bytes")
            data = path.read_bytes()
            text = decode_text(data)
        except SkipFile as exc:
            raise Refused(str(exc)) from None
        except OSError as exc:
            raise Refused(exc.strerror or type(exc).__name__) from None
        self.included.append(data)
        self.included_paths.append(path.relative_to(self.root).as_posix())
        return text

    def borrow_title(self, path: Path, title: str, label: str = "") -> None:
        """Note that a ':doc:' shows ``path``'s title, or a ':ref:' the title under ``label``.

        So the title counts in this file's content hash, and a change to ``path`` re-reads it.
        """
        name = path.relative_to(self.root).as_posix()
        shown = f"title of {name}{'#' + label if label else ''}\0{title}".encode()
        if (label or name not in self.included_paths) and shown not in self.included:
            self.included.append(shown)
            self.included_paths.append(name)

    def label_target(self, label: str) -> tuple[Path, str] | None:
        """Return the project's rst file defining ``.. _label:`` and its lines from there, or None.

        The project is the nearest folder with a conf.py, else the documents root; its files'
        labels are read once per parse that needs them.
        """
        if self.labels is None:
            self.labels = {}
            for path in _rst_files(self._tops(self.path)[0]):
                stamp = file_stamp(path)
                if stamp is None or not path.resolve().is_relative_to(self.root):
                    continue  # gone, or a link to a file outside the documents folder
                for name, lines in _file_labels(*stamp):
                    self.labels.setdefault(name, (path, lines))
        return self.labels.get(normalise_label(label))

    def doc_path(self, target: str, base: Path) -> Path | None:
        """Return the rst file a ':doc:' target names, or None when there is none to read."""
        for suffix in DOC_SUFFIXES:
            try:
                return self.resolve(target + suffix, base)
            except Refused:
                continue
        return None

    def warn(self, directive: str, name: str, reason: str) -> None:
        """Note that a directive's file was left out, in one line."""
        self.notes.append(f"its {directive} of {name!r} was left out: {reason}")


def normalise_label(label: str) -> str:
    """Return a label as Sphinx matches it: lower case, spaces collapsed."""
    return " ".join(label.lower().split())


def label_line(line: str) -> str:
    """Return the label an rst line defines ('.. _name:'), or '' when it defines none.

    An explicit target starts a line of its own; one with a URL after the colon is a link, and
    '.. __:' is anonymous, so neither can be a ':ref:' label.
    """
    text = line.strip()
    if not text.startswith(".. _") or text.startswith(".. __") or not text.endswith(":"):
        return ""
    name = text[4:-1].strip()
    if name.startswith("`") and name.endswith("`"):
        name = name[1:-1]
    return normalise_label(name)


def _rst_files(top: Path) -> list[Path]:
    """Return the rst files under ``top`` in a stable order, hidden folders left out."""
    found: list[Path] = []
    for folder, subfolders, names in os.walk(top):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        found.extend(Path(folder) / n for n in sorted(names) if Path(n).suffix in DOC_SUFFIXES)
    return found


def file_stamp(path: Path) -> tuple[str, int, int] | None:
    """Return a file's path, modification time and size, which key caches of what it holds."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=4096)
def _file_labels(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, str], ...]:
    """Return the labels an rst file defines, each with the LABEL_LINES lines from it on."""
    try:
        if size > MAX_INCLUDE_BYTES:
            return ()
        lines = decode_text(Path(path).read_bytes()).splitlines()
    except (SkipFile, OSError):
        return ()
    return tuple(
        (name, "\n".join(lines[i : i + LABEL_LINES]) + "\n")
        for i, name in enumerate(map(label_line, lines))
        if name
    )


def humanise(name: str) -> str:
    """Return a label or page name as words: 'blueprint-error-handlers' -> 'blueprint error ...'.

    A page name keeps its last part, or its folder's for an index: 'tutorial/index' -> 'tutorial'.
    """
    parts = [p for p in name.strip().strip("/").split("/") if p]
    if len(parts) > 1 and parts[-1] == "index":
        parts.pop()
    last = parts[-1] if parts else name
    return " ".join(re.sub(r"[-_]+", " ", last).split()) or name


def select_lines(text: str, options: dict[str, str]) -> tuple[str, str]:
    """Return the part of a file a literalinclude shows, and why it was cut ('' if it was not).

    Follows Sphinx's order: ``pyobject``, ``lines``, ``start-after``/``start-at``,
    ``end-before``/``end-at``, then ``dedent``; at most MAX_LITERAL_LINES lines are kept.
    """
    lines = text.split("\n")
    if options.get("pyobject"):
        lines = _python_object(text, options["pyobject"].strip())
    if options.get("lines"):
        wanted = _line_numbers(options["lines"], len(lines))
        lines = [lines[i] for i in wanted]
    for key, inclusive in (("start-after", False), ("start-at", True)):
        marker = options.get(key)
        if marker:
            found = next((i for i, line in enumerate(lines) if marker in line), None)
            if found is None:
                raise Refused(f"no line holds its {key} text")
            lines = lines[found if inclusive else found + 1 :]
    for key, inclusive in (("end-before", False), ("end-at", True)):
        marker = options.get(key)
        if marker:
            found = next((i for i, line in enumerate(lines) if marker in line), None)
            if found is not None:
                lines = lines[: found + 1 if inclusive else found]
    code = "\n".join(lines)
    if "dedent" in options:
        amount = options["dedent"].strip()
        if amount.isdigit():
            code = "\n".join(line[int(amount) :] for line in lines)
        else:
            code = textwrap.dedent(code)
    code = code.strip("\n")
    kept = code.split("\n")
    if len(kept) > MAX_LITERAL_LINES:
        return "\n".join(kept[:MAX_LITERAL_LINES]), f"only its first {MAX_LITERAL_LINES} lines"
    return code, ""


def _line_numbers(spec: str, count: int) -> list[int]:
    """Return the 0-based line indexes of a Sphinx line list: '1,3,5-10,20-' (1-based)."""
    wanted: list[int] = []
    for part in spec.split(","):
        match = LINE_RANGE.fullmatch(part)
        if not match or not (match.group(1) or match.group(3)):
            raise Refused(f"its lines option {spec!r} is not a list of line numbers")
        first, dash, last = match.groups()
        start = int(first) if first else 1
        end = (int(last) if last else count) if dash else start
        wanted.extend(i for i in range(start - 1, min(end, count)) if i >= 0)
    if not wanted:
        raise Refused(f"its lines option {spec!r} selects no line of the file")
    return wanted


def _python_object(text: str, name: str) -> list[str]:
    """Return the lines of a class or function ('Config' or 'Config.load') in Python source."""
    try:
        scope: list[ast.stmt] = ast.parse(text).body
    except (SyntaxError, ValueError):
        raise Refused("the file is not Python") from None
    found: ast.stmt | None = None
    for part in name.split("."):
        found = next(
            (
                node
                for node in scope
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == part
            ),
            None,
        )
        if found is None:
            raise Refused(f"the file defines no {name!r}")
        scope = getattr(found, "body", [])
    if found is None:
        raise Refused("it names no Python object")
    first = min([found.lineno, *(d.lineno for d in getattr(found, "decorator_list", []))])
    return text.split("\n")[first - 1 : found.end_lineno]


def language_of(path: Path, options: dict[str, str]) -> str:
    """Return a literalinclude's language: its ``language`` option, else the file suffix's."""
    named = options.get("language", "").strip()
    return named if named else LANGUAGES.get(path.suffix.lower(), "")
