from __future__ import annotations

from pathlib import Path

from tests.retrieval.loaders.conftest import load_folder

MDX_PAGE = """\
---
title: Gateway intents
description: Choose the events your bot receives.
---
import { Callout, Tabs, Tab } from "nextra/components";
export const meta = {
  author: "docs",
};

# Intents

{/* a JSX comment */}

<Callout type="warning" title="Privileged">
  Turn on **Message Content** in the portal.
</Callout>

<Diagram src="/img/intents.png" />

## Message Content {#message-content-intent}

<Tabs items={["Python", "JS"]}>
<Tab>

```python
intents.message_content = True
```

</Tab>
</Tabs>

Press <Kbd>Ctrl</Kbd> to copy.

## Members & Presences
"""


def test_mdx_components_are_reduced_to_their_text(load_one) -> None:
    doc = load_one("intents.mdx", MDX_PAGE)
    assert doc.title == "Gateway intents"
    assert doc.meta["description"] == "Choose the events your bot receives."
    for markup in ("import", "export", "author", "<", "/>", "{/*", "items=", "**"):
        assert markup not in doc.text
    assert "Privileged\n\nTurn on Message Content in the portal." in doc.text
    assert "Press Ctrl to copy." in doc.text


def test_mdx_code_fences_stay_intact(load_one) -> None:
    doc = load_one("intents.mdx", MDX_PAGE)
    [code] = doc.blocks
    assert doc.text[code.start : code.end] == "```python\nintents.message_content = True\n```"


def test_mdx_anchors_follow_github_slugger(load_one) -> None:
    doc = load_one("intents.mdx", MDX_PAGE)
    assert [(s.label, s.anchor) for s in doc.sections] == [
        ("Intents", "intents"),
        ("Intents › Message Content", "message-content-intent"),
        ("Intents › Members & Presences", "members--presences"),
    ]


def test_unbalanced_jsx_is_indexed_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "open.mdx").write_text("# Open\n\n<Callout>\n\nNever closed text.\n")
    (tmp_path / "stray.mdx").write_text("# Stray\n\nSome text.\n\n</Steps>\n")
    result = load_folder(tmp_path)
    assert not result.skipped
    assert {d.source: "closed text." in d.text for d in result.documents} == {
        "open.mdx": True,
        "stray.mdx": False,
    }
    assert result.warnings == [
        "open.mdx: its JSX tags do not balance (<Callout> is never closed), "
        "so their text was read as it is",
        "stray.mdx: its JSX tags do not balance (</Steps> closes nothing), "
        "so their text was read as it is",
    ]


def test_a_field_component_shows_its_name_and_type(load_one) -> None:
    """Mintlify's <ParamField path="user_id" type="string" required> keeps what readers look up."""
    doc = load_one(
        "api/users.mdx",
        '<ParamField path="user_id" type="string" required>\n  The user\'s identifier.\n'
        '</ParamField>\n\n<ResponseField name="created_at" type="number">\n  A Unix time.\n'
        '</ResponseField>\n\n<Icon name="rocket" />\n',
    )
    assert doc.text == (
        "user_id (string, required)\n\nThe user's identifier.\n\n"
        "created_at (number)\n\nA Unix time.\n\n"
    )


def test_a_docusaurus_tab_keeps_its_label(load_one) -> None:
    doc = load_one(
        "install.mdx",
        '<Tabs>\n<TabItem value="npm" label="npm">\n\n```bash\nnpm install qabot\n```\n\n'
        "</TabItem>\n</Tabs>\n",
    )
    assert doc.text == "npm\n\n```bash\nnpm install qabot\n```\n\n"
