from __future__ import annotations

from retrieval.text import index_terms, key_terms, sentence_spans


def test_sentences_keep_their_closing_quotes_and_brackets() -> None:
    text = (
        "Trump said intervention “sounds good.”\nWashington imposed sanctions. "
        'He said "no." Then (it rained.) Done'
    )
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Trump said intervention “sounds good.”",
        "Washington imposed sanctions.",
        'He said "no."',
        "Then (it rained.)",
        "Done",
    ]


def test_a_hard_wrapped_line_does_not_end_a_sentence() -> None:
    text = "The licence is granted\nto everyone who asks.\nNew rules apply. e.g. this"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "The licence is granted\nto everyone who asks.",
        "New rules apply. e.g. this",
    ]


def test_key_terms_are_stemmed_content_words_without_question_words_or_repeats() -> None:
    question = "What did the Normans give their name to? Normans named Normandy"
    assert key_terms(question) == ["norman", "give", "name", "normandi"]


def test_identifiers_are_terms_whole_and_in_parts() -> None:
    assert index_terms("Client.wait_for") == ["client.wait_for", "client", "wait_for", "wait"]
    assert index_terms("on_message") == ["on_message", "messag"]
    assert index_terms("CHROMA_SERVER_AUTHN_PROVIDER")[0] == "chroma_server_authn_provider"
    assert index_terms("BaseModel HTTPServer") == [
        "basemodel",
        "base",
        "model",
        "httpserver",
        "http",
        "server",
    ]
    # The parts meet the words of ordinary prose, stemmed the same way.
    assert set(index_terms("model_validate")) >= set(key_terms("validate the model"))


def test_chat_filler_is_no_term() -> None:
    assert key_terms("hey guys lol pls help, thanks in advance?? my config is ignored") == [
        "config",
        "ignor",
    ]
