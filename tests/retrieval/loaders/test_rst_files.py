"""Sphinx cross references, include and literalinclude within one documents folder.

The pages are cut down from Flask's tutorial and changelog (see tests/data/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from retrieval.document import Document
from tests.retrieval.loaders.conftest import load_folder

DATABASE = """\
Define and Access the Database
==============================

Remember to activate the env as described in :doc:`/installation`. The
:doc:`app context </appcontext>` holds ``g``; :doc:`index` lists every step and
:doc:`/patterns/missing-page` is not in this folder.

See :ref:`blueprint-error-handlers`, put files in the
:ref:`instance folder <instance-folders>` and read :term:`WSGI` or :envvar:`FLASK_APP`.
"""

FACTORY_PY = """\
import os

from flask import Flask


def create_app(test_config=None):
    # create and configure the app
    app = Flask(__name__, instance_relative_config=True)
    return app


def unused():
    pass
"""

FACTORY = """\
Application Setup
=================

.. literalinclude:: ../../examples/flaskr/__init__.py
   :pyobject: create_app
   :caption: ``flaskr/__init__.py``

Only the imports:

.. literalinclude:: ../../examples/flaskr/__init__.py
   :lines: 1-3
   :language: python3

Text after the listings.
"""

CHANGES = """\
Version 3.1.0
-------------

Released 2024-11-13

-   Drop support for Python 3.8.
"""

CHANGES_PAGE = """\
Changes
=======

.. include:: ../CHANGES.rst

Closing words on this page.

.. code-block:: python

   print("after the include")
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def load(root: Path, name: str) -> Document:
    result = load_folder(root)
    assert all("unsupported file type" in s for s in result.skipped), result.skipped
    return next(d for d in result.documents if d.source == name)


# A comment long enough that the page's title lies past the first, short parse for it.
LONG_PREAMBLE = "..\n" + "".join(f"   Maintainers' note {n}: keep it short.\n" for n in range(40))


@pytest.fixture
def tutorial(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "docs/installation.rst": LONG_PREAMBLE + "Installation\n============\n\nUse a venv.\n",
            "docs/appcontext.rst": "The App Context\n===============\n\nText.\n",
            "docs/tutorial/index.rst": "Tutorial\n========\n\nSteps.\n",
            "docs/tutorial/database.rst": DATABASE,
            "docs/tutorial/factory.rst": FACTORY,
            "examples/flaskr/__init__.py": FACTORY_PY,
        },
    )
    return tmp_path


def test_doc_and_ref_roles_show_titles_never_targets(tutorial: Path) -> None:
    doc = load(tutorial, "docs/tutorial/database.rst")
    assert "activate the env as described in Installation." in doc.text
    assert "The app context holds g; Tutorial lists every step and missing page is not" in (
        " ".join(doc.text.split())
    )
    assert "See blueprint error handlers, put files in the instance folder and read WSGI or " in (
        " ".join(doc.text.split())
    )
    assert "FLASK_APP" in doc.text
    for target in ("/installation", "/appcontext", "instance-folders", "<", "patterns/"):
        assert target not in doc.text


def test_an_untitled_ref_shows_the_title_of_the_section_its_label_marks(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "docs/conf.py": "project = 'Flask'\n",
            "docs/blueprints.rst": "Blueprints\n==========\n\n.. _blueprint-error-handlers:\n\n"
            "Error Handlers\n--------------\n\nText.\n\n.. _a-paragraph:\n\n"
            "A paragraph the label marks.\n",
            "docs/guide/errors.rst": "Errors\n======\n\nSee :ref:`blueprint-error-handlers`, "
            ":ref:`Blueprint-Error-Handlers`, :ref:`a-paragraph` and :ref:`missing-label`.\n",
        },
    )
    outside = tmp_path.parent / f"{tmp_path.name}-outside.rst"
    outside.write_text(".. _missing-label:\n\nSecret Title\n------------\n")
    (tmp_path / "docs" / "linked.rst").symlink_to(outside)  # skipped, and not read for labels
    result = load_folder(tmp_path)
    assert "skipped docs/linked.rst: it links outside the documents folder" in result.skipped
    doc = next(d for d in result.documents if d.source == "docs/guide/errors.rst")
    assert "See Error Handlers, Error Handlers, a paragraph and missing label." in doc.text
    assert doc.includes == ("docs/blueprints.rst",)  # a new title there re-reads this page


def test_literalinclude_shows_the_selected_lines_as_code_at_the_directive(tutorial: Path) -> None:
    doc = load(tutorial, "docs/tutorial/factory.rst")
    code = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "code"]
    assert code == [
        "```python\ndef create_app(test_config=None):\n    # create and configure the app\n"
        "    app = Flask(__name__, instance_relative_config=True)\n    return app\n```",
        "```python3\nimport os\n\nfrom flask import Flask\n```",
    ]
    assert "flaskr/__init__.py\n\n```python\ndef create_app" in doc.text  # the caption
    assert "unused" not in doc.text
    # the code is not in this file: every offset into it points at its directive, none beyond
    first = doc.text.index("def create_app")
    directive = FACTORY.index(".. literalinclude::")
    assert doc.original_offset(first) == directive
    assert doc.original_offset(doc.text.index("instance_relative_config")) == directive
    after = doc.text.index("Text after the listings.")
    assert FACTORY[doc.original_offset(after) :].startswith("Text after the listings.")


def test_an_included_file_changes_the_including_documents_hash(tutorial: Path) -> None:
    before = load(tutorial, "docs/tutorial/factory.rst").content_hash
    (tutorial / "examples/flaskr/__init__.py").write_text(FACTORY_PY + "\n# more\n")
    assert load(tutorial, "docs/tutorial/factory.rst").content_hash != before


def test_include_parses_the_file_in_place_with_its_sections(tmp_path: Path) -> None:
    write(tmp_path, {"CHANGES.rst": CHANGES, "docs/changes.rst": CHANGES_PAGE})
    doc = load(tmp_path, "docs/changes.rst")
    assert [s.path for s in doc.sections] == [("Changes",), ("Changes", "Version 3.1.0")]
    assert "- Drop support for Python 3.8." in doc.text
    assert "include" not in doc.text.replace("after the include", "")
    directive = CHANGES_PAGE.index(".. include::")
    assert doc.original_offset(doc.text.index("Released 2024")) == directive
    assert doc.original_offset(doc.text.index("Version 3.1.0")) == directive
    # this file's own text after the include still maps to its own lines
    where = doc.original_offset(doc.text.index("Closing words"))
    assert CHANGES_PAGE[where:].startswith("Closing words")
    [code] = doc.blocks
    assert CHANGES_PAGE[doc.original_offset(code.start) :].startswith('   print("after')


def test_files_outside_the_folder_or_missing_are_left_out_with_one_warning_each(
    tmp_path: Path,
) -> None:
    root = tmp_path / "seeds"
    (tmp_path / "secret.txt").write_text("SECRET-VALUE\n")
    (tmp_path / "secret.rst").write_text("SECRET-RST\n")
    page = (
        "Page\n====\n\n"
        ".. literalinclude:: ../../secret.txt\n\n"
        ".. include:: ../../secret.rst\n\n"
        ".. literalinclude:: missing.py\n\n"
        ".. literalinclude:: /guide/sample.py\n   :start-after: NO SUCH MARKER\n\n"
        "Visible text.\n"
    )
    write(root, {"guide/page.rst": page, "guide/sample.py": "print(1)\n"})
    result = load_folder(root)
    [doc] = result.documents
    assert doc.text == "Page\n\nVisible text.\n\n"
    assert result.warnings == [
        "guide/page.rst: its literalinclude of '../../secret.txt' was left out: "
        "the file is outside the documents folder",
        "guide/page.rst: its include of '../../secret.rst' was left out: "
        "the file is outside the documents folder",
        "guide/page.rst: its literalinclude of 'missing.py' was left out: the file does not exist",
        "guide/page.rst: its literalinclude of '/guide/sample.py' was left out: "
        "no line holds its start-after text",
    ]


def test_a_long_literalinclude_is_cut_with_a_warning(tmp_path: Path) -> None:
    lines = "".join(f"line_{n} = {n}\n" for n in range(1, 501))
    write(tmp_path, {"big.py": lines, "page.rst": "Page\n====\n\n.. literalinclude:: big.py\n"})
    result = load_folder(tmp_path)
    doc = next(d for d in result.documents if d.source == "page.rst")
    assert "line_200 = 200\n```" in doc.text and "line_201" not in doc.text
    assert result.warnings == [
        "page.rst: its literalinclude of 'big.py' shows only its first 200 lines"
    ]


@pytest.mark.parametrize(
    "directive",
    [
        ".. include::",
        ".. include:: page.rst",  # itself
        ".. include:: other.rst",  # which includes this page back
        ".. include:: bin.dat",
        ".. include:: sub",
        ".. literalinclude:: sub",
        ".. literalinclude:: other.rst\n   :lines: two-five",
        ".. literalinclude:: other.rst\n   :lines: 90-99",
        ".. literalinclude:: other.rst\n   :pyobject: Nothing",
        ".. include:: other.rst\n   :start-line: nope",
        ".. include:: other.rst\n   :literal:",
        ".. include:: other.rst\n   :parser: this",  # a module docutils would import
    ],
)
def test_broken_includes_never_stop_the_page(tmp_path: Path, directive: str) -> None:
    write(
        tmp_path,
        {"page.rst": f"Page\n====\n\n{directive}\n\nVisible text.\n", "sub/x.rst": "x\n"},
    )
    (tmp_path / "other.rst").write_text("Other\n=====\n\n.. include:: page.rst\n")
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01binary")
    result = load_folder(tmp_path)
    assert not [s for s in result.skipped if "page.rst" in s]
    page = next(d for d in result.documents if d.source == "page.rst")
    assert "Visible text." in page.text
    assert "System Message" not in page.text and "Traceback" not in page.text
    warnings = [w for w in result.warnings if w.startswith("page.rst")]
    assert len(warnings) <= 1
    assert not any(str(tmp_path) in w for w in warnings)  # no absolute paths in warnings
    assert "this" not in sys.modules


def test_a_circular_include_is_left_out_with_a_warning(tmp_path: Path) -> None:
    page = "A\n=\n\n.. include:: b.rst\n"
    write(tmp_path, {"a.rst": page, "b.rst": ".. include:: a.rst\n\nBody of b.\n"})
    result = load_folder(tmp_path)
    a = next(d for d in result.documents if d.source == "a.rst")
    assert a.text == "A\n\nBody of b.\n\n"
    assert a.original_offset(a.text.index("Body")) == page.index(".. include")
    assert a.original_offset(0) < page.index(".. include")  # its own title is its own
    assert "a.rst: its include of 'a.rst' was left out: it would include itself in a circle" in (
        result.warnings
    )
