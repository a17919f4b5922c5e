"""Corpus: tokenising, streaming in chunks, folders, and one-line errors for bad input."""

from __future__ import annotations

import itertools

import pytest

from engine.errors import UsageError
from engine.words import corpus as corpus_mod
from engine.words.corpus import BUILTIN, load_stopwords, open_corpus, tokenize
from engine.words.events import WordsConfig
from engine.words.train import train_words


def test_tokenize_lowercases_and_keeps_apostrophe_suffix():
    assert tokenize("The KING's men, 42 -- said: 'No!'") == [
        "the",
        "king's",
        "men",
        "42",
        "said",
        "no",
    ]


def test_builtin_corpus_streams_shakespeare():
    corpus = open_corpus(BUILTIN)
    first = list(itertools.islice(corpus.lines(), 3))
    assert first[0] == ["first", "citizen"]
    assert all(first)


def test_stopwords_list_has_common_words():
    stop = load_stopwords()
    assert {"the", "and", "of"} <= stop
    assert "king" not in stop


def test_streaming_in_small_chunks_keeps_every_token(tmp_path, monkeypatch):
    text = "alpha beta gamma\n" + " ".join(f"w{i}" for i in range(200)) + "\nlast line here"
    path = tmp_path / "a.txt"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(corpus_mod, "_CHUNK", 7)  # chunk edges fall inside words
    monkeypatch.setattr(corpus_mod, "_MAX_LINE", 50)  # the long line is cut at whitespace
    streamed = [t for line in open_corpus(str(path)).lines() for t in line]
    assert streamed == tokenize(text)
    assert max(len(line) for line in open_corpus(str(path)).lines()) < 200


def test_folder_of_txt_files_is_read_in_name_order(tmp_path):
    (tmp_path / "b.txt").write_text("second file\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first file\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored markdown\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("third\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")  # skipped, not an error
    corpus = open_corpus(str(tmp_path))
    assert [line for line in corpus.lines()] == [["first", "file"], ["second", "file"], ["third"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\n ", "empty"),
        (b"abc\x00\x01\x02def", "binary"),
        (b"caf\xe9 au lait\n", "UTF-8"),
    ],
)
def test_bad_files_are_refused_before_any_run_folder(tmp_path, isolated_dirs, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        open_corpus(str(path))
    with pytest.raises(UsageError, match=message):
        train_words(WordsConfig(corpus=str(path), min_count=1), lambda e: None, _token())
    assert not (isolated_dirs / "runs").exists()


def test_bad_byte_after_the_sniffed_head_fails_while_streaming(tmp_path, isolated_dirs):
    path = tmp_path / "late.txt"
    path.write_bytes(b"good words here\n" * 10_000 + b"bad \xff byte\n")
    corpus = open_corpus(str(path))  # the first 64 KiB look fine
    with pytest.raises(UsageError, match="not UTF-8"):
        list(corpus.lines())
    with pytest.raises(UsageError, match="not UTF-8"):
        train_words(WordsConfig(corpus=str(path), min_count=1), lambda e: None, _token())
    assert not (isolated_dirs / "runs").exists()


def test_missing_path_and_folder_without_txt(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        open_corpus(str(tmp_path / "nope.txt"))
    (tmp_path / "x.md").write_text("hello", encoding="utf-8")
    with pytest.raises(UsageError, match="no .txt files"):
        open_corpus(str(tmp_path))


def _token():
    from engine.jobs import CancelToken

    return CancelToken()
