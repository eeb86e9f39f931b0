from __future__ import annotations

ADOC = """\
= Bot Handbook
:toc:
// a comment that is never shown

== Getting started

Install with `pip` and read <<intents,the intents section>>.
See https://example.invalid/docs[the docs] for *more*.

[NOTE]
====
Tokens are secret.
====

[[intents]]
=== Gateway intents

[source,python]
----
intents = Intents.default()
== not a heading inside code
----

|===
| Intent | Needed
| members | yes
|===

== Getting started
"""


def test_asciidoc_titles_sections_code_and_tables(load_one) -> None:
    doc = load_one("handbook.adoc", ADOC)
    assert doc.title == "Bot Handbook"
    assert [(s.label, s.anchor) for s in doc.sections] == [
        ("Bot Handbook", "_bot_handbook"),
        ("Bot Handbook › Getting started", "_getting_started"),
        ("Bot Handbook › Getting started › Gateway intents", "intents"),
        ("Bot Handbook › Getting started", "_getting_started_2"),
    ]
    for markup in (":toc:", "// a comment", "[NOTE]", "====", "<<", "[source", "`pip`", "*more*"):
        assert markup not in doc.text
    assert "Install with pip and read the intents section. See the docs for more." in doc.text
    assert "Tokens are secret." in doc.text
    code, table = doc.blocks
    assert doc.text[code.start : code.end] == (
        "```python\nintents = Intents.default()\n== not a heading inside code\n```"
    )
    assert doc.text[table.start : table.end] == "Intent | Needed\nmembers | yes"
    where = doc.original_offset(doc.text.index("Tokens are secret."))
    assert ADOC[where:].startswith("Tokens are secret.")
