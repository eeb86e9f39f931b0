from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval import Answer, Citation, KnowledgeBase, Reference
from retrieval.cli import format_answer, main
from tests.conftest import REPO_ROOT, SEED_SOURCE


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_ingest_ask_search_sources_as_json(seeds_copy: Path, tmp_path: Path) -> None:
    base = ["--seeds-dir", str(seeds_copy), "--persist-dir", str(tmp_path / "chroma")]
    code, out = run(*base, "ingest", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["added"] == 1 and report["chunks_total"] > 0

    code, out = run(*base, "ask", "When will Petro meet Trump?", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["abstained"] is False
    assert "February 3" in answer["text"]
    assert answer["citations"][0]["source"] == SEED_SOURCE
    assert answer["citations"][0]["number"] == 1

    code, out = run(*base, "ask", "What is the capital of Australia?", "--json")
    assert json.loads(out)["abstained"] is True and json.loads(out)["citations"] == []

    code, out = run(*base, "search", "When will Petro meet Trump?", "-k", "2", "--json")
    passages = json.loads(out)
    assert len(passages) == 2 and passages[0]["source"] == SEED_SOURCE

    code, out = run(*base, "sources", "--json")
    assert [s["source"] for s in json.loads(out)] == [SEED_SOURCE]


def test_plain_output_lists_sources_under_the_answer(seeds_copy: Path, tmp_path: Path) -> None:
    base = ["--seeds-dir", str(seeds_copy), "--persist-dir", str(tmp_path / "chroma")]
    run(*base, "ingest")
    code, out = run(*base, "ask", "When will Petro meet Trump?")
    assert code == 0
    assert "February 3" in out
    assert "Sources:\n[1] Colombian President Petro to meet Trump" in out


def test_bad_question_is_answered_politely(seeds_copy: Path, tmp_path: Path) -> None:
    base = ["--seeds-dir", str(seeds_copy), "--persist-dir", str(tmp_path / "chroma")]
    code, out = run(*base, "ask", "   ")
    assert code == 0
    assert out.strip() == "Please type a question."  # nothing indexed yet, so no topics
    run(*base, "ingest")
    code, out = run(*base, "ask", "   ")
    # The hint names what is indexed, not a fixed example.
    assert out.strip() == (
        "Please type a question. "
        "You could ask about Colombian President Petro to meet Trump at White House in February."
    )


def test_missing_seeds_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "retrieval",
            "--seeds-dir",
            str(tmp_path / "none"),
            "--persist-dir",
            str(tmp_path / "chroma"),
            "ingest",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: the documents folder {str(tmp_path / 'none')!r} does not exist"
    ]


def test_chat_answers_each_line_with_follow_ups_and_ends_on_eof(
    seeds_copy: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    base = [
        sys.executable,
        "-m",
        "retrieval",
        "--seeds-dir",
        str(seeds_copy),
        "--persist-dir",
        str(tmp_path / "chroma"),
    ]
    subprocess.run([*base, "ingest"], check=True, cwd=REPO_ROOT, env=env, timeout=120)
    proc = subprocess.run(
        [*base, "chat"],
        input="When will Petro meet Trump?\n\n🤔\nwho ousted Maduro?\nand when did that happen?\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "February 3" in proc.stdout
    assert "[1] Colombian President Petro" in proc.stdout
    assert "couldn't find any words" in proc.stdout
    assert "(searched: and when did that happen? ousted Maduro)" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_chat_warms_up_before_the_first_question(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    warm_up, ask = KnowledgeBase.warm_up, KnowledgeBase.ask
    monkeypatch.setattr(KnowledgeBase, "warm_up", lambda kb: events.append("warm") or warm_up(kb))
    monkeypatch.setattr(
        KnowledgeBase, "ask", lambda kb, *a, **k: events.append("ask") or ask(kb, *a, **k)
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("When will Petro meet Trump?\n"))
    base = ["--seeds-dir", str(seeds_copy), "--persist-dir", str(tmp_path / "chroma")]
    assert run(*base, "ingest")[0] == 0
    code, out = run(*base, "chat")
    assert code == 0 and "February 3" in out
    assert events == ["warm", "ask"]


def test_plain_output_names_the_section_and_links_to_it() -> None:
    url = "https://docs.pydantic.dev/latest/concepts/models/#fields"
    cited = Citation(
        1,
        "docs/concepts/models.md",
        "Models",
        "Fields are typed.",
        "c1",
        url,
        0.7,
        "Models › Fields",
    )
    text = format_answer(Answer("q", "Fields are typed. [1]", False, citations=[cited]))
    assert f"[1] Models › Fields ({url})" in text
    unlinked = Citation(2, "notes.md", "Notes", "x", "c2", None, 0.5, "Setup")
    assert "[2] Notes › Setup (notes.md)" in format_answer(
        Answer("q", "x [2]", False, citations=[unlinked])
    )


def test_a_quote_is_previewed_on_one_line_without_code_fences() -> None:
    quote = "You'll get this error message:\n\n```pytb\nRuntimeError: Working outside\n```"
    cited = Citation(1, "appcontext.rst", "The App Context", quote, "c1")
    text = format_answer(
        Answer("q", "You'll get this error message: [1]", False, citations=[cited])
    )
    assert '    "You\'ll get this error message: RuntimeError: Working outside"' in text


def test_an_answer_shows_its_section_link_and_see_also() -> None:
    """The terminal shows where the excerpt is, a short quote, and the other sections."""
    answer = Answer(
        question="how do i read messages?",
        text="Without the message content intent the content is empty. [1]",
        abstained=False,
        citations=[
            Citation(
                1,
                "intents.md",
                "Intents",
                "Without the message content intent the content is empty. " * 10,
                "c1",
                url="https://x.test/intents#privileged",
                section="Privileged Intents",
            )
        ],
        see_also=[Reference("events.md", "Events", "on_message", "https://x.test/events")],
    )
    text = format_answer(answer)
    assert "[1] Intents › Privileged Intents (https://x.test/intents#privileged)" in text
    quote = text.splitlines()[4]
    assert len(quote) < 220 and quote.endswith('…"')
    assert text.endswith("See also:\n    Events › on_message (https://x.test/events)")
