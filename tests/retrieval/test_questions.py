"""Questions as people write them: pasted tracebacks, hints that name what is indexed."""

from __future__ import annotations

import pytest

from retrieval.errors import InvalidQuestionError
from retrieval.questions import clean_question, topics_hint, without_noise

TRACEBACK = (
    "getting this when i open the page:\n"
    "Traceback (most recent call last):\n"
    '  File "/home/me/.venv/lib/python3.11/site-packages/flask/app.py", line 1498, in __call__\n'
    "    return self.wsgi_app(environ, start_response)\n"
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "jinja2.exceptions.TemplateNotFound: index.html"
)


def test_a_pasted_traceback_keeps_its_exception_and_code_but_not_paths_or_line_numbers() -> None:
    searched = without_noise(clean_question(TRACEBACK, 1000))
    assert searched == (
        "getting this when i open the page: return self.wsgi_app(environ, start_response) "
        "jinja2.exceptions.TemplateNotFound: index.html"
    )


def test_an_error_with_a_source_location_drops_the_location() -> None:
    text = "app/models.py:12:5 pydantic_core.ValidationError: 1 validation error for User"
    assert without_noise(text) == "pydantic_core.ValidationError: 1 validation error for User"


def test_url_paths_and_ordinary_questions_are_left_alone() -> None:
    question = "why does /about/ give me a 404 when /projects just redirects?"
    assert without_noise(question) == question
    assert without_noise("^^^^") == "^^^^"  # nothing else left: the text is kept as it was


def test_the_hint_lists_topics_and_is_empty_without_any() -> None:
    assert topics_hint(["Models", " Fields ", ""]) == "You could ask about Models or Fields."
    assert topics_hint(["Quickstart"]) == "You could ask about Quickstart."
    assert topics_hint([]) == ""


@pytest.mark.parametrize("question", ["", "  ", "?!? ..."])
def test_an_empty_or_wordless_question_is_told_what_the_documents_cover(question: str) -> None:
    with pytest.raises(InvalidQuestionError) as caught:
        clean_question(question, 100, lambda: ["Routing", "Templates", "Sessions"])
    assert str(caught.value).endswith("You could ask about Routing, Templates or Sessions.")
    with pytest.raises(InvalidQuestionError) as bare:
        clean_question(question, 100)
    assert "ask about" not in str(bare.value) and "Petro" not in str(bare.value)
