from __future__ import annotations

from retrieval.text import (
    answer_sentences,
    cited_numbers,
    claim_terms,
    index_terms,
    key_terms,
    sentence_spans,
    strip_markers,
    term_coverage,
)


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


def test_claim_terms_meet_across_word_forms() -> None:
    # The Snowball stem joins "deleted" and "deletion", which stripping one suffix did not.
    assert claim_terms("Backups are deleted") == claim_terms("backup deletion")
    assert claim_terms("Trump's visa, 5 days") == {"trump", "visa", "5", "day"}


def test_term_coverage_is_the_best_sentence_weighted_share() -> None:
    terms = ["petro", "trump", "meet"]
    sentences = [{"petro", "meet"}, {"trump"}]
    assert term_coverage(terms, sentences) == 2 / 3
    rare_trump = {"petro": 1.0, "trump": 4.0, "meet": 1.0}
    assert term_coverage(terms, sentences, rare_trump.__getitem__) == 4 / 6
    assert term_coverage([], sentences) == 0.0


def test_markers_are_read_and_stripped_in_one_way() -> None:
    text = "Petro meets Trump [2][1] on February 3 [1, 3]."
    assert cited_numbers(text) == [2, 1, 3]
    assert strip_markers(text) == "Petro meets Trump on February 3."


def test_answer_sentences_keep_their_markers_and_give_the_text_back() -> None:
    text = "It rained. [1] Then (it stopped.) [2]\nDone"
    assert answer_sentences(text) == ["It rained. [1] ", "Then (it stopped.) [2]", "\n", "Done"]
    assert "".join(answer_sentences(text)) == text
