from __future__ import annotations

from pathlib import Path

from tests.retrieval.loaders.conftest import load_folder

SPHINX_HTML = """<!DOCTYPE html>
<html><head><title>Quickstart — Flask Documentation (3.1.x)</title>
<script>var DOCUMENTATION_OPTIONS = {};</script><style>body {color: red}</style></head>
<body>
<div class="related" role="navigation"><a href="index.html">Flask</a> » Quickstart</div>
<div class="document"><div class="documentwrapper"><div class="body" role="main">
<section id="quickstart">
<h1>Quickstart<a class="headerlink" href="#quickstart">¶</a></h1>
<p>Eager to get started? This page gives a good introduction to <code>Flask</code>.</p>
<section id="a-minimal-application">
<h2>A Minimal Application<a class="headerlink" href="#a-minimal-application">¶</a></h2>
<p>A minimal Flask application looks like this:</p>
<div class="highlight"><pre><span class="kn">from</span> flask <span class="kn">import</span> Flask

app = Flask(__name__)
</pre></div>
<ul><li>First, we imported the class.</li><li>Next we create an instance.</li></ul>
<table><tr><th>Method</th><th>Use</th></tr><tr><td>GET</td><td>read</td></tr></table>
</section></section>
</div></div>
<div class="sphinxsidebar" role="complementary"><h3>Navigation</h3><p>Sidebar words</p></div>
</div>
<footer>© Copyright 2010 Pallets.</footer>
</body></html>
"""


def test_html_keeps_the_main_content_and_its_sections(load_one) -> None:
    doc = load_one("quickstart.html", SPHINX_HTML)
    assert doc.title == "Quickstart"
    for chrome in ("DOCUMENTATION_OPTIONS", "color: red", "»", "Sidebar words", "Copyright", "¶"):
        assert chrome not in doc.text
    assert doc.text.startswith("Quickstart\n\nEager to get started? This page gives a good")
    assert "introduction to Flask." in doc.text
    assert "- First, we imported the class.\n\n- Next we create an instance." in doc.text
    assert [(s.label, s.anchor) for s in doc.sections] == [
        ("Quickstart", "quickstart"),
        ("Quickstart › A Minimal Application", "a-minimal-application"),
    ]
    code, table = doc.blocks
    assert (
        doc.text[code.start : code.end]
        == "```\nfrom flask import Flask\n\napp = Flask(__name__)\n```"
    )
    assert doc.text[table.start : table.end] == "Method | Use\nGET | read"


def test_html_offsets_point_at_the_source_line(load_one) -> None:
    doc = load_one("quickstart.html", SPHINX_HTML)
    where = doc.original_offset(doc.text.index("A minimal Flask application"))
    assert SPHINX_HTML[where:].startswith("<p>A minimal Flask application")


def test_html_without_main_uses_the_body_and_its_title(load_one) -> None:
    doc = load_one(
        "notes.html",
        "<html><head><title>Release notes</title></head><body><nav>Home</nav>"
        "<div>Adds PDF support.</div><p>Fixes <b>two</b> bugs.</p></body></html>",
    )
    assert doc.title == "Release notes"
    assert doc.text == "Adds PDF support.\n\nFixes two bugs.\n\n"


def test_a_site_template_is_skipped_and_code_about_templates_is_kept(tmp_path: Path) -> None:
    """A theme override (Jinja tags in its markup) is no page; Jinja shown as code is text."""
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "main.html").write_text(
        '{% extends "base.html" %}\n{% block announce %}Try our cloud!{% endblock %}\n'
    )
    (overrides / "toc-item.html").write_text('<a href="{{ item.url }}">{{ item.title }}</a>')
    (tmp_path / "templates.html").write_text(
        "<html><body><main><h1>Templates</h1><p>Write <code>{{ name }}</code> to print it.</p>"
        "<pre>{% extends 'base.html' %}</pre></main></body></html>"
    )
    result = load_folder(tmp_path)
    assert [d.source for d in result.documents] == ["templates.html"]
    assert sorted(result.skipped) == [
        "skipped overrides/main.html: it is a site template (Jinja tags), not a page",
        "skipped overrides/toc-item.html: it is a site template (Jinja tags), not a page",
    ]
    assert "{% extends 'base.html' %}" in result.documents[0].text
