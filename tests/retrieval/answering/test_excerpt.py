"""Extractive answers are excerpts: one contiguous, plain stretch of one passage, with See also."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from retrieval.answering.answer import ABSTAIN_TEXT, AnswerComposer
from retrieval.answering.excerpt import ExcerptPicker, units
from retrieval.answering.grounding import strip_markers
from retrieval.answering.markup import plain
from retrieval.embedding import Embedder
from retrieval.settings import AnswerSettings, EmbeddingSettings
from retrieval.types import Answer, Passage

INTENTS = Passage(
    text=(
        "Privileged Intents\n\n"
        "Some events carry private data, so Discord hides them unless the bot asks for them. "
        "The message content intent is one of these privileged intents. "
        "Without the message content intent, your bot receives messages with an empty content "
        "field, so it cannot read what people type. "
        "Turn it on in the Developer Portal under Bot, then request it in your code:\n\n"
        "```python\n"
        "intents = discord.Intents.default()\n"
        "intents.message_content = True\n"
        "client = discord.Client(intents=intents)\n"
        "```\n\n"
        "Members and presence are the other two privileged intents. "
        "Bots in more than 100 servers need to be verified before Discord grants them."
    ),
    source="intents.md",
    title="Gateway Intents",
    score=0.62,
    chunk_id="intents-2",
    section="Intents › Privileged Intents",
    url="https://docs.example.test/intents#privileged-intents",
)
EVENTS = Passage(
    text=(
        "on_message is called when a message is created and sent. "
        "Your bot's own messages and private messages are sent through this event. "
        "This can lead to cases of recursion, so check who sent the message first."
    ),
    source="events.md",
    title="Event Reference",
    score=0.55,
    chunk_id="events-7",
    section="Messages › on_message",
    url="https://docs.example.test/events#on-message",
)
COMMANDS = Passage(
    text=(
        "Overriding the default on_message forbids any extra commands from running. "
        "To fix this, add a bot.process_commands(message) line at the end of your on_message. "
        "It is also possible to use a listener instead of overriding the event."
    ),
    source="faq.rst",
    title="Frequently Asked Questions",
    score=0.52,
    chunk_id="faq-3",
    section="Commands › Why does on_message make my commands stop working?",
)
MARKED_UP = Passage(
    text=(
        ".. image:: /images/bot_user.png\n"
        "   :alt: How the Bot User options should look like for most people.\n\n"
        "The **message content** intent lets a bot read the text of messages. "
        "Enable it with :attr:`Intents.message_content` or see the "
        "[intents guide](https://docs.example.test/intents) for details. "
        "Bots that only use <b>slash commands</b> do not need it, since "
        "``interaction.data`` carries the *options* the user typed. "
        "![diagram](images/intents.png)\n"
        "Requests from large bots are reviewed by Discord before the intent is granted."
    ),
    source="intro.rst",
    title="Introduction",
    score=0.58,
    chunk_id="intro-1",
    section="Intents",
)
URLS = Passage(  # the explanation; the next chunk of its section holds the example
    text=(
        "Some of the URL validation differs from V1. The new Url types append slashes to "
        "the validated version if no path is included, even if a slash is not specified."
    ),
    source="migration.md",
    title="Migration guide",
    score=0.45,
    chunk_id="migration-40",
    chunk=40,
    section="Url and Dsn types",
)
URLS_EXAMPLE = (
    "```python\nfrom pydantic import AnyUrl\n\n"
    "assert str(AnyUrl(url='https://google.com')) == 'https://google.com/'\n```"
)
URLS_QUESTION = "why does AnyUrl put a slash on the end of https://google.com?"
WHY = "my bot can't read what people type in messages, why?"
HOW = "how do i turn on the message content intent in my code?"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """Return the packaged embedding model, loaded once for the module."""
    return Embedder(EmbeddingSettings())


def compose(
    embedder: Embedder, question: str, passages: list[Passage], **settings: object
) -> Answer:
    """Answer ``question`` from ``passages`` with abstention off, unless settings say otherwise."""
    options: dict[str, object] = {"min_support": -1.0, "min_score": -1.0, **settings}
    composer = AnswerComposer(embedder, AnswerSettings.model_validate(options))
    return composer.compose(question, embedder.encode([question])[0], passages)


def section_passage(text: str, source: str, title: str, section: str, **extra: Any) -> Passage:
    """Return a retrieved passage of one section, id and score filled in."""
    fields: dict[str, Any] = {"score": 0.6, "chunk_id": f"{source}-0", **extra}
    return Passage(text=text, source=source, title=title, section=section, **fields)


def words(text: str) -> str:
    """Return text with whitespace collapsed, to compare excerpts with their source."""
    return " ".join(text.split())


def test_excerpt_is_one_contiguous_stretch_of_one_passage(embedder: Embedder) -> None:
    """The answer quotes consecutive sentences of one passage, cited once as [1]."""
    answer = compose(embedder, WHY, [EVENTS, INTENTS, COMMANDS])
    assert not answer.abstained
    assert [c.number for c in answer.citations] == [1]
    assert re.findall(r"\[\d+\]", answer.text) == ["[1]"]
    cited = answer.citations[0]
    assert cited.chunk_id == INTENTS.chunk_id
    assert cited.quote in INTENTS.text  # verbatim and contiguous
    assert words(strip_markers(answer.text)) in words(INTENTS.text)
    assert "empty content field, so it cannot read what people type" in answer.text


def test_excerpt_is_headed_by_its_section_and_link(embedder: Embedder) -> None:
    """The citation carries the title, the section path and the section's link."""
    cited = compose(embedder, WHY, [INTENTS, EVENTS]).citations[0]
    assert (cited.title, cited.section) == ("Gateway Intents", "Intents › Privileged Intents")
    assert cited.url == "https://docs.example.test/intents#privileged-intents"


def test_how_question_gets_the_code_block_that_shows_how(embedder: Embedder) -> None:
    """A how-question's excerpt includes the whole code block, fenced."""
    answer = compose(embedder, HOW, [INTENTS, EVENTS])
    assert "```python\nintents = discord.Intents.default()\n" in answer.text
    assert "client = discord.Client(intents=intents)\n```" in answer.text
    assert "[1]" in answer.text.split("```")[0]  # the marker cites the prose, not the code


def test_excerpt_respects_the_configured_lengths(embedder: Embedder) -> None:
    """The excerpt grows to the minimum with neighbouring sentences and stays under the maximum."""
    short = compose(embedder, WHY, [INTENTS], excerpt_min_chars=0, excerpt_max_chars=200)
    assert len(short.text) <= 200
    assert "cannot read what people type" in short.text
    long = compose(embedder, WHY, [INTENTS], excerpt_min_chars=400, excerpt_max_chars=900)
    assert 400 <= len(long.text) <= 900
    assert len(long.text) > len(short.text)


def test_one_long_sentence_is_cut_to_the_maximum(embedder: Embedder) -> None:
    """A sentence longer than the maximum is cut at a word and marked as cut."""
    wall = Passage(
        text="The message content intent " + "is needed to read messages and " * 40 + "more.",
        source="wall.txt",
        title="Wall",
        score=0.6,
        chunk_id="wall-0",
    )
    answer = compose(embedder, WHY, [wall], excerpt_max_chars=300)
    assert len(answer.text) <= 300
    assert answer.text.endswith("… [1]")


def test_sentences_from_different_documents_are_never_joined(embedder: Embedder) -> None:
    """Whatever is asked, the answer's text comes from the cited passage alone."""
    for question in (WHY, HOW, "what does bot.process_commands do in on_message?"):
        answer = compose(embedder, question, [EVENTS, COMMANDS, INTENTS])
        source = next(
            p for p in (EVENTS, COMMANDS, INTENTS) if p.chunk_id == answer.citations[0].chunk_id
        )
        assert words(strip_markers(answer.text).replace("```python", "").replace("```", "")) in (
            words(source.text.replace("```python", "").replace("```", ""))
        )


def test_see_also_lists_the_other_useful_sections(embedder: Embedder) -> None:
    """Other close sections are listed as references under the answer, not quoted in it."""
    answer = compose(
        embedder,
        "why do my commands stop working after I add on_message?",
        [COMMANDS, EVENTS, INTENTS],
    )
    assert answer.citations[0].chunk_id == COMMANDS.chunk_id
    listed = [(r.source, r.section) for r in answer.see_also]
    assert ("events.md", "Messages › on_message") in listed
    assert all(r.chunk_id != COMMANDS.chunk_id for r in answer.see_also)
    assert "recursion" not in answer.text


def test_markup_never_reaches_the_answer(embedder: Embedder) -> None:
    """reST roles, Markdown emphasis and links, HTML tags, :alt: and image lines are removed."""
    answer = compose(
        embedder, "what is the message content intent for?", [MARKED_UP], excerpt_min_chars=600
    )
    text = answer.text
    for syntax in (":alt:", ".. image", "**", "``", ":attr:", "](", "<b>", "![", "*options*"):
        assert syntax not in text
    assert "The message content intent lets a bot read the text of messages." in text
    assert "Intents.message_content" in text and "intents guide" in text
    assert "interaction.data carries the options the user typed" in text
    assert answer.citations[0].quote in MARKED_UP.text  # the quote stays verbatim


def test_plain_keeps_identifiers_and_code_as_written() -> None:
    """Stripping emphasis never eats the underscores or stars of names and code."""
    text = plain(
        "Call `*args` or my_func_name with _private and 2 * 3 * 4, see `docs <https://x>`_."
    )
    assert text == "Call *args or my_func_name with _private and 2 * 3 * 4, see docs."


def test_abstention_is_unchanged(embedder: Embedder) -> None:
    """Passages that do not cover the question still give the "not in the documents" answer."""
    composer = AnswerComposer(embedder, AnswerSettings())
    question = "What is the boiling point of tungsten?"
    answer = composer.compose(question, embedder.encode([question])[0], [EVENTS, COMMANDS])
    assert answer.abstained and answer.text == ABSTAIN_TEXT and answer.citations == []
    assert answer.see_also == []


def test_an_excerpt_stops_at_the_next_heading(embedder: Embedder) -> None:
    """A heading inside the passage ends the excerpt: the next section is another topic."""
    two = Passage(
        text=(
            "The message content intent lets a bot read what people type in messages. "
            "Turn it on in the Developer Portal.\n\n"
            "Rate Limits\n\n"
            "Discord limits how many requests a bot may send in a short time window, and answers "
            "HTTP 429 when a bot sends more. The library waits and retries for you."
        ),
        source="guide.md",
        title="Guide",
        score=0.6,
        chunk_id="guide-0",
        section="Intents",
    )
    answer = compose(embedder, WHY, [two], excerpt_min_chars=400)
    assert "read what people type" in answer.text
    assert "Rate Limits" not in answer.text and "429" not in answer.text


def test_the_code_after_the_answer_is_shown_when_not_asked_how(embedder: Embedder) -> None:
    """The example that follows the answering sentence belongs to the excerpt, asked how or not."""
    debugger = section_passage(
        (
            "When using an external debugger, the app should still be in debug mode. "
            "However, the built-in debugger and reloader should be disabled so they don't "
            "interfere with the external debugger.\n\n"
            "```text\n$ flask --app hello run --debug --no-debugger --no-reload\n```"
        ),
        "debugging.rst",
        "Debugging",
        "External Debuggers",
    )
    question = "vscode breakpoints never trigger in debug mode, do i need to turn something off?"
    answer = compose(embedder, question, [debugger], excerpt_min_chars=0)
    assert "reloader should be disabled" in answer.text
    assert "--no-debugger --no-reload\n```" in answer.text


def test_an_excerpt_runs_across_neighbouring_chunks_of_its_section(embedder: Embedder) -> None:
    """The explanation in one chunk and its example in the next are quoted together."""
    example = replace(URLS, text=URLS_EXAMPLE, score=0.5, chunk_id="migration-41", chunk=41)
    answer = compose(embedder, URLS_QUESTION, [example, EVENTS, URLS], excerpt_min_chars=0)
    assert "append slashes to the validated version" in answer.text
    assert "== 'https://google.com/'" in answer.text
    cited = answer.citations[0]
    assert cited.chunk_id == "migration-40"  # where the quote starts
    assert "The new Url types" in cited.quote and cited.quote.endswith("```")


def test_an_excerpt_reads_on_into_the_chunk_after_the_best_one(embedder: Embedder) -> None:
    """The example search did not return, next in the best passage's section, is quoted with it."""
    example = replace(URLS, text=URLS_EXAMPLE, score=0.0, chunk_id="migration-41", chunk=41)
    question = URLS_QUESTION
    options = AnswerSettings.model_validate({"min_support": -1.0, "excerpt_min_chars": 0})
    composer = AnswerComposer(embedder, options)
    vector = embedder.encode([question])[0]
    alone = composer.compose(question, vector, [URLS, EVENTS])
    assert "google.com/'" not in alone.text
    answer = composer.compose(question, vector, [URLS, EVENTS], context=[example])
    assert "append slashes to the validated version" in answer.text
    assert "== 'https://google.com/'" in answer.text
    assert answer.citations[0].chunk_id == "migration-40"
    assert [p.chunk_id for p in answer.passages] == ["migration-40", "events-7"]


def test_an_excerpt_finishes_its_paragraph_before_starting_the_next(embedder: Embedder) -> None:
    """Growing to the minimum takes the sentence before the match, not the next paragraph's."""
    context = section_passage(
        (
            "If you see that error while configuring your application, you can push a context "
            "manually. Use app.app_context() in a with block around init_db().\n\n"
            "Tests that need an app context can use the same with block in a fixture. "
            "The context ends when the block does."
        ),
        "appcontext.rst",
        "The App and Request Context",
        "Context During Setup",
    )
    question = "how do i call init_db() inside create_app() without the app context error?"
    answer = compose(embedder, question, [context], excerpt_min_chars=120)
    assert "If you see that error while configuring" in answer.text
    assert "app.app_context() in a with block" in answer.text
    assert "fixture" not in answer.text


def test_the_tail_of_a_code_block_cut_by_the_chunker_is_shown_as_code(embedder: Embedder) -> None:
    """A chunk starting inside a code block shows that code fenced, not unwrapped as prose."""
    tail = section_passage(
        (
            "class Node(BaseModel):\n    id: int\n    children: list[Node] = []\n```\n\n"
            "Models with self-referencing fields like this are supported."
        ),
        "forward_annotations.md",
        "Forward annotations",
        "Self-referencing Models",
        chunk=5,
        opens_in_code=True,
    )
    question = "how do i define a tree node model whose children are the same model type?"
    answer = compose(embedder, question, [tail], excerpt_min_chars=400)
    assert "```\nclass Node(BaseModel):\n    id: int\n    children: list[Node] = []\n```" in (
        answer.text
    )
    assert "self-referencing fields" in answer.text
    assert "```\n```" not in answer.text


def test_a_code_block_cut_to_the_maximum_keeps_its_closing_fence(embedder: Embedder) -> None:
    """An excerpt that ends inside code closes the block, so the message after it is not code."""
    code = "```python\n" + "".join(f"client.add_cog(Cog{i}(bot))  # cog {i}\n" for i in range(60))
    wall = Passage(
        text=code + "```",  # the block alone, longer than an excerpt
        source="cogs.md",
        title="Cogs",
        score=0.6,
        chunk_id="cogs-0",
    )
    answer = compose(embedder, "how do i register every cog of my bot?", [wall])
    assert len(answer.text) <= 900
    assert answer.text.count("```") % 2 == 0
    assert "…\n```" in answer.text


def test_the_items_of_a_list_stay_one_list(embedder: Embedder) -> None:
    """Consecutive list items are one line each, not paragraphs apart."""
    options = section_passage(
        (
            "Options in Click are distinct from positional arguments. "
            "Useful and often used kwargs are:\n\n"
            "- default: Passes a default.\n\n- help: Sets help message.\n\n"
            "- required: Makes option required.\n\n- type: Sets parameter type."
        ),
        "options.md",
        "Options",
        "Options",
    )
    answer = compose(embedder, "how do i make an option required??", [options])
    assert "are:\n\n- default: Passes a default.\n- help: Sets help message.\n- required:" in (
        answer.text
    )


DEFERRED = (
    "What happens if you want to modify the response at a point where the response does not "
    "exist yet? A common example for that would be a before_request() callback that wants to set "
    "a cookie on the response object.\n\n"
    "One way is to avoid the situation. Very often that is possible. For instance you can try to "
    "move that logic into an after_request() callback instead. However, sometimes moving code "
    "there makes it more complicated or awkward to reason about.\n\n"
    "As an alternative, you can use after_this_request() to register callbacks that will execute "
    "after only the current request."
)
COOKIE = "want to set a cookie from a before_request hook but the response doesn't exist yet"


@pytest.mark.parametrize(("section", "merged"), [("Deferred Request Callbacks", True), ("", False)])
def test_a_section_quotes_its_two_best_stretches_together(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch, section: str, merged: bool
) -> None:
    """Within one section the excerpt runs from its best stretch to the next best, when both fit;
    a document without sections keeps its single stretch."""
    monkeypatch.setattr("retrieval.answering.excerpt.MERGE_MARGIN", 1.0)
    passage = section_passage(DEFERRED, "deferred.rst", "Deferred Request Callbacks", section)
    answer = compose(embedder, COOKIE, [passage])
    assert answer.text.startswith("What happens if you want to modify the response")
    assert ("use after_this_request() to register callbacks" in answer.text) is merged
    assert len(answer.text) <= AnswerSettings().excerpt_max_chars


def test_a_much_weaker_second_stretch_is_left_out(embedder: Embedder) -> None:
    """With the default margin, a second stretch far below the best is not quoted."""
    passage = section_passage(DEFERRED, "deferred.rst", "Deferred Request Callbacks", "Deferred")
    answer = compose(embedder, COOKIE, [passage])
    assert "after_this_request()" not in answer.text


def test_a_code_annotation_is_quoted_with_its_code(embedder: Embedder) -> None:
    """An item of the numbered list under '# (1)!' code markers comes with the code it explains."""
    aliases = section_passage(
        (
            "Use AliasChoices for several keys.\n\n"
            "```python\nclass User(BaseModel):\n"
            "    first_name: str = Field(validation_alias=AliasChoices('first_name', 'fname'))\n\n"
            "User.model_validate({'first_name': 'John', 'fname': 'J'})  # (1)!\n```\n\n"
            "1. Both 'first_name' and 'fname' are provided, 'first_name' is used because it has "
            "higher priority."
        ),
        "alias.md",
        "Alias",
        "AliasPath and AliasChoices",
    )
    question = "which key wins when a client sends both first_name and fname?"
    answer = compose(embedder, question, [aliases], excerpt_min_chars=0)
    assert "'first_name' is used because it has higher priority" in answer.text
    assert "AliasChoices('first_name', 'fname')" in answer.text


def test_an_annotation_whose_code_does_not_fit_loses_to_a_stretch_with_the_code(
    embedder: Embedder,
) -> None:
    """'3. Both are provided' without its code settles nothing: a stretch holding the code is
    quoted instead, when the code and its whole list are too long together."""
    calls = "".join(
        f"user = User.model_validate({{'{key}': 'John', 'lname': 'Doe'}})  # ({n})!\nprint(user)\n"
        for n, key in enumerate(("fname", "first_name"), start=1)
    )
    aliases = section_passage(
        (
            "AliasChoices is used to specify a list of choices of aliases. Choices that appear "
            "first in the list will have higher priority during validation. For example:\n\n"
            "```python\nclass User(BaseModel):\n"
            "    first_name: str = Field(validation_alias=AliasChoices('first_name', 'fname'))\n"
            "    last_name: str = Field(validation_alias=AliasChoices('last_name', 'lname'))\n\n"
            f"{calls}```\n\n"
            "1. We are using the second alias choice for both fields.\n"
            "2. We are using the first alias choice for the field 'first_name' and the second "
            "alias choice for the field 'last_name'.\n"
            "3. Both 'first_name' and 'fname' are provided, 'first_name' is used because it has "
            "higher priority."
        ),
        "alias.md",
        "Alias",
        "AliasPath and AliasChoices",
    )
    question = "some clients send fname and others send first_name, can one field accept either?"
    answer = compose(embedder, question, [aliases], excerpt_max_chars=560)
    assert "AliasChoices('first_name', 'fname')" in answer.text


def test_a_tab_label_before_code_does_not_stop_the_excerpt(embedder: Embedder) -> None:
    """'Bash' over a code block names the tab; the prose before it is still quoted."""
    dotenv = section_passage(
        (
            "You can tell Flask not to load dotenv files even when python-dotenv is installed "
            "by setting the FLASK_SKIP_DOTENV environment variable.\n\n"
            "Bash\n\n```text\n$ export FLASK_SKIP_DOTENV=1\n$ flask run\n```"
        ),
        "cli.rst",
        "Command Line Interface",
        "Disable dotenv",
    )
    answer = compose(embedder, "export FLASK_SKIP_DOTENV=1 flask run", [dotenv])
    assert answer.text.startswith("You can tell Flask not to load dotenv files")
    assert "variable. [1]\n\nBash\n\n```text\n$ export FLASK_SKIP_DOTENV=1" in answer.text


def test_an_excerpt_does_not_start_with_the_tail_of_another_paragraph(embedder: Embedder) -> None:
    """Growing back to the minimum never leaves a fragment such as 'Defaults to True.' first."""
    static = section_passage(
        (
            "- check_dir - Ensure that the directory exists upon instantiation, and raise an "
            "error at start-up when it does not, so that a typo in the configured path is found "
            "before the first request for a file arrives at the application. Defaults to True.\n\n"
            "You can combine this ASGI application with Starlette's routing to provide "
            "comprehensive static file serving."
        ),
        "staticfiles.md",
        "Staticfiles",
        "StaticFiles",
    )
    answer = compose(embedder, "how do i serve static files", [static], excerpt_min_chars=150)
    assert answer.text.startswith("You can combine this ASGI application")


def test_a_widened_excerpt_takes_the_other_stretch_from_its_paragraph_start(
    embedder: Embedder,
) -> None:
    """Widening back to a stretch that starts mid-paragraph starts at that paragraph instead."""
    text = (
        "Static files are served by a mounted application. They are read from a folder.\n\n"
        "Mount it under /static in the routes."
    )
    found = units(text)
    picker = ExcerptPicker(embedder, 0, 900)
    # the best stretch is the last sentence; the other one is the first paragraph's second
    merged = picker._merge(text, found, 2, 2, 1.0, [(0.9, 1, 1, 1)])
    assert merged == (0, 2)


def test_an_admonition_lead_in_does_not_stop_the_excerpt(embedder: Embedder) -> None:
    """The loaders write an admonition's title as 'Note:', prose that the excerpt runs through."""
    fields = section_passage(
        (
            "A field without a default value is required. A field with a default value is not "
            "required, and the default is used when the input leaves the field out.\n\n"
            "Note:\n\n"
            "A field annotated as Optional[T] will be required, and will allow for a value of "
            "None. It does not mean that the field has a default value of None."
        ),
        "migration.md",
        "Migration guide",
        "Required, optional, and nullable fields",
    )
    answer = compose(embedder, "which fields are required when there is no default?", [fields])
    assert answer.text.startswith("A field without a default value is required.")
    assert "Optional[T] will be required" in answer.text
