"""Sphinx roles as the reader sees them, for rst files and MyST Markdown alike."""

from __future__ import annotations

from collections.abc import Callable

from retrieval.loaders.rst_files import humanise

# Sphinx's common roles, registered up front so most rst files parse once.
SPHINX_ROLES = (
    *("doc", "ref", "any", "term", "numref", "keyword", "option", "envvar", "token", "download"),
    *("file", "samp", "command", "program", "mimetype", "kbd", "menuselection", "guilabel"),
    *("class", "meth", "func", "attr", "data", "exc", "mod", "obj", "const", "type"),
    *(f"py:{n}" for n in ("class", "meth", "func", "attr", "data", "exc", "mod", "obj", "const")),
    *("issue", "pr", "user", "gh", "pypi", "commit"),
)
FUNCTION_ROLES = {"func", "meth", "py:func", "py:meth"}  # shown with "()" as Sphinx does
LABEL_ROLES = {"ref", "numref", "std:ref"}  # without a title, Sphinx shows the labelled title
DOC_ROLES = {"doc", "std:doc"}  # without a title, Sphinx shows the page's title


def role_text(name: str, text: str, untitled: Callable[[str, str], str] | None = None) -> str:
    """Return what Sphinx shows for a role: ':class:`~a.Message`' -> Message, ':ref:`a <b>`' -> a.

    ``untitled(role, target)`` names a ':doc:' or ':ref:' target given without a title; by
    default the target as words ('blueprint-error-handlers' -> 'blueprint error handlers').
    """
    name_of = untitled or (lambda _role, target: humanise(target))
    visible = text.strip()
    role = name.lower()
    if visible.endswith(">") and "<" in visible:
        title = visible[: visible.rindex("<")].strip()
        target = visible[visible.rindex("<") + 1 : -1]
        visible = title or name_of(role, target)
    elif role in DOC_ROLES | LABEL_ROLES:
        visible = name_of(role, visible)
    elif visible.startswith("~"):
        visible = visible[1:].rsplit(".", 1)[-1]
    visible = visible.lstrip("!.")  # '!' stops the link, '.' widens the search
    if role in FUNCTION_ROLES and not visible.endswith(")"):
        visible += "()"
    return visible
