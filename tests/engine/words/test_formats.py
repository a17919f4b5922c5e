"""word2vec text/binary and projector files: round trips, gensim interchange, garbage files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import UsageError
from engine.words.formats import load_any, load_word2vec, save_projector, save_word2vec
from engine.words.query import Embeddings


@pytest.fixture
def emb() -> Embeddings:
    g = torch.Generator().manual_seed(0)
    words = ["the", "lion", "king", "queen", "don't", "café"]
    return Embeddings(words, torch.randn(6, 5, generator=g), counts=np.arange(6, 0, -1))


def test_round_trip_text_and_binary(emb: Embeddings, tmp_path: Path) -> None:
    path = save_word2vec(emb, tmp_path / "v.txt")
    assert path.read_text("utf-8").splitlines()[0] == "6 5"
    assert path.read_text("utf-8").splitlines()[2].split()[0] == "lion"
    back = load_word2vec(path)
    assert back.words == emb.words and back.name == "v"
    torch.testing.assert_close(back.vectors, emb.vectors, rtol=1e-5, atol=1e-6)
    exact = load_word2vec(save_word2vec(emb, tmp_path / "v.bin", binary=True))
    assert torch.equal(exact.vectors, emb.vectors) and exact.words == emb.words
    assert load_any(tmp_path / "v.txt").words == emb.words


def test_ours_to_gensim_and_back(emb: Embeddings, tmp_path: Path) -> None:
    gensim = pytest.importorskip("gensim")
    KV = gensim.models.KeyedVectors
    kv = KV.load_word2vec_format(str(save_word2vec(emb, tmp_path / "v.txt")))
    assert list(kv.index_to_key) == emb.words
    np.testing.assert_allclose(kv.vectors, emb.vectors.numpy(), rtol=1e-5, atol=1e-6)
    kvb = KV.load_word2vec_format(
        str(save_word2vec(emb, tmp_path / "v.bin", binary=True)), binary=True
    )
    np.testing.assert_array_equal(kvb.vectors, emb.vectors.numpy())
    kv.save_word2vec_format(str(tmp_path / "g.txt"))
    kv.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    for name in ("g.txt", "g.bin"):
        back = load_word2vec(tmp_path / name)
        assert back.words == emb.words
        np.testing.assert_allclose(back.vectors.numpy(), kv.vectors, rtol=1e-6)


def test_headerless_glove_text(tmp_path: Path) -> None:
    path = tmp_path / "glove.txt"
    path.write_text("a 1 2\nb 3 4.5\n", "utf-8")
    emb = load_word2vec(path)
    assert emb.words == ["a", "b"] and emb.vectors.tolist() == [[1, 2], [3, 4.5]]


def test_projector_files(emb: Embeddings, tmp_path: Path) -> None:
    vec, meta = save_projector(emb, tmp_path / "proj")
    rows = vec.read_text("utf-8").splitlines()
    assert len(rows) == 6 and len(rows[0].split("\t")) == 5
    np.testing.assert_allclose(
        np.array([r.split("\t") for r in rows], dtype=np.float32), emb.vectors.numpy(), rtol=1e-5
    )
    assert meta.read_text("utf-8").splitlines() == ["word\tcount"] + [
        f"{w}\t{c}" for w, c in zip(emb.words, range(6, 0, -1), strict=True)
    ]
    plain = Embeddings(emb.words, emb.vectors)
    _, meta = save_projector(plain, tmp_path / "p2")
    assert meta.read_text("utf-8").splitlines() == emb.words  # one column: no header


def test_run_folder_with_vectors_txt(emb: Embeddings, tmp_path: Path) -> None:
    run = tmp_path / "20260101-000000-sgns"
    run.mkdir()
    save_word2vec(emb, run / "vectors.txt")
    loaded = load_any(run)
    assert loaded.words == emb.words and loaded.name == run.name
    with pytest.raises(UsageError, match="neither checkpoint.pt nor vectors.txt"):
        load_any(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n  \n", "is empty"),
        (b"3 2\na 1 2\nb 3 4\n", "header says 3 words but the file has 2"),
        (b"2 2\na 1 2\nb 3 x\n", "vector 2: expected a word and 2 numbers"),
        (b"2 2\na 1 2\nb 3\n", "vector 2"),
        (b"hello world\nthis is prose\n", "vector 1"),
        (b"justoneword\n", "not a word-vector file"),
        (b"\x00\x01\x02\x03 garbage", "not a word-vector file"),
        (b"2 3\nab\xff\xfe", "not a word2vec file"),
        (b"0 3\n", "says 0 words"),
        (b"2 1\na 1\na 2\n", "same word appears twice"),
    ],
)
def test_garbage_files_are_one_line_usage_errors(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message) as info:
        load_any(path)
    assert "\n" not in str(info.value)


def test_missing_paths_and_bad_targets(emb: Embeddings, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_any(tmp_path / "nope.txt")
    with pytest.raises(UsageError, match="not found"):
        load_word2vec(tmp_path / "nope.txt")
    with pytest.raises(UsageError, match="is a folder"):
        save_word2vec(emb, tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        save_projector(emb, tmp_path / "f")
    spaced = Embeddings(["new york", "b"], torch.ones(2, 2))
    with pytest.raises(UsageError, match="cannot be written"):
        save_word2vec(spaced, tmp_path / "s.txt")


def test_load_any_reads_our_checkpoints(emb: Embeddings, tmp_path: Path) -> None:
    from engine.words import checkpoint
    from engine.words.vocab import Vocab

    out_vectors = emb.vectors.flip(0).contiguous()
    path = checkpoint.save_checkpoint(
        tmp_path / "checkpoint.pt",
        config={"model": "sgns"},
        vocab=Vocab(list(emb.words), np.arange(6, 0, -1, dtype=np.int64)),
        trainer_state={"model": "sgns", "w_in": emb.vectors, "w_out": out_vectors, "epoch": 1},
        epoch=1,
        history=[],
    )
    loaded = load_any(path)
    assert loaded.words == emb.words and torch.equal(loaded.vectors, emb.vectors)
    best = loaded.context("lion", 1)[0]
    scores = torch.sigmoid(out_vectors @ emb.vectors[1])
    assert best[0] == emb.words[int(scores.argmax())]
    assert load_any(tmp_path).words == emb.words  # the run folder prefers checkpoint.pt
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(UsageError) as info:
        load_any(bad)
    assert "\n" not in str(info.value)
