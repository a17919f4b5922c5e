"""Word-vector files: word2vec text/binary, TensorBoard projector TSV, and our checkpoints.

word2vec text (``V D`` header, then ``word v1 ... vD`` lines) is what gensim, fastText and
most tools read and write, so it is the exchange format; ``load_any`` also opens our own
checkpoints and run folders, which keep the context predictor that a word2vec file cannot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import UsageError
from engine.files import check_path, read_bytes
from engine.runs import atomic_path, write_atomic

if TYPE_CHECKING:
    from engine.words.query import Embeddings


def _check_words(words: list[str]) -> None:
    for w in words:
        if not w or any(ch.isspace() for ch in w):
            raise UsageError(f"word {w!r} cannot be written to a word2vec file (blank or spaces)")


def save_word2vec(
    emb: Embeddings, path: str | os.PathLike[str], *, precision: int = 6, binary: bool = False
) -> Path:
    """Write ``emb`` as a word2vec file (text by default; ``precision`` significant digits)."""
    _check_words(emb.words)
    target = check_path(path, "the word2vec file name")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name such as vectors.txt")
    target.parent.mkdir(parents=True, exist_ok=True)
    vectors = emb.vectors.detach().cpu().numpy().astype(np.float32, copy=False)
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        fh.write(f"{len(emb)} {emb.dim}\n".encode())
        if binary:
            for word, row in zip(emb.words, vectors, strict=True):
                fh.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
        else:
            fmt = " ".join([f"%.{precision}g"] * emb.dim)
            # one big string per block of rows: far faster than np.savetxt's per-row writes
            for start in range(0, len(emb), 4096):
                block = vectors[start : start + 4096]
                words = emb.words[start : start + 4096]
                text = "".join(
                    f"{w} {fmt % tuple(row)}\n"
                    for w, row in zip(words, block.tolist(), strict=True)
                )
                fh.write(text.encode("utf-8"))
    return target


def _parse_header(line: bytes, path: Path) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) == 2:
        try:
            v, d = int(parts[0]), int(parts[1])
        except ValueError:
            return None
        if v <= 0 or d <= 0:
            raise UsageError(f"{path}: the word2vec header says {v} words of {d} dimensions")
        return v, d
    return None


def _load_binary(data: bytes, start: int, v: int, d: int, path: Path):
    words: list[str] = []
    vectors = np.empty((v, d), dtype=np.float32)
    pos, width = start, 4 * d
    for i in range(v):
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b" "):
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + width > len(data):
            raise UsageError(
                f"{path}: not a word2vec file (read as binary it ends after {i} of {v} words)"
            )
        try:
            words.append(data[pos:space].decode("utf-8"))
        except UnicodeDecodeError:
            raise UsageError(f"{path}: word {i + 1} is not UTF-8") from None
        vectors[i] = np.frombuffer(data, dtype="<f4", count=d, offset=space + 1)
        pos = space + 1 + width
    return words, vectors


def _load_text(lines: list[str], v: int | None, d: int | None, path: Path):
    body = [line for line in lines if line.strip()]
    if v is not None and len(body) != v:
        raise UsageError(f"{path}: the header says {v} words but the file has {len(body)} lines")
    splits = [line.rstrip().split(" ", 1) for line in body]
    if d is None:
        d = len(splits[0][1].split()) if len(splits[0]) == 2 else 0
        if d == 0:
            raise UsageError(f"{path}: not a word-vector file (no numbers on the first line)")
    try:
        flat = np.array(" ".join(s[1] if len(s) == 2 else "" for s in splits).split(), np.float32)
    except ValueError:
        flat = None
    if flat is None or flat.size != len(body) * d:
        for n, (line, parts) in enumerate(zip(body, splits, strict=True), 1):
            fields = parts[1].split() if len(parts) == 2 else []
            try:
                ok = len(fields) == d and np.array(fields, np.float32).size == d
            except ValueError:
                ok = False
            if not ok:
                raise UsageError(
                    f"{path}: vector {n}: expected a word and {d} numbers: {line[:60]!r}"
                )
        raise UsageError(f"{path}: not a word-vector file")
    return [s[0] for s in splits], flat.reshape(len(body), d)


def load_word2vec(path: str | os.PathLike[str], *, name: str | None = None) -> Embeddings:
    """Read a word2vec text or binary file (gensim's ``save_word2vec_format`` output, GloVe too)."""
    import torch

    from engine.words.query import Embeddings

    p, data = read_bytes(path, "word-vector file")
    if not data.strip():
        raise UsageError(f"{p} is empty")
    newline = data.find(b"\n")
    head = data[: newline if newline >= 0 else len(data)]
    header = _parse_header(head, p)
    words = vectors = None
    if header is not None:
        v, d = header
        body = data[newline + 1 :] if newline >= 0 else b""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or "\0" in text[:4096]:
            words, vectors = _load_binary(data, newline + 1, v, d, p)
        else:
            words, vectors = _load_text(text.splitlines(), v, d, p)
    else:
        if b"\0" in data[:4096]:
            raise UsageError(f"{p} is not a word-vector file (binary without a 'V D' header)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{p} is not a word-vector file (not UTF-8 text)") from None
        words, vectors = _load_text(text.splitlines(), None, None, p)
    if len(set(words)) != len(words):
        raise UsageError(f"{p}: the same word appears twice")
    return Embeddings(words, torch.from_numpy(vectors), name=name or p.stem)


def save_projector(emb: Embeddings, folder: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``vectors.tsv`` + ``metadata.tsv`` for https://projector.tensorflow.org ("Load")."""
    out = check_path(folder, "the projector folder name")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; the projector export needs a folder")
    out.mkdir(parents=True, exist_ok=True)
    vectors = emb.vectors.detach().cpu().numpy()
    fmt = "\t".join(["%.6g"] * emb.dim)
    vec_path = out / "vectors.tsv"
    text = "".join(f"{fmt % tuple(r)}\n" for r in vectors.tolist())
    write_atomic(vec_path, text.encode("utf-8"))
    if emb.counts is not None and len(emb.counts) == len(emb):
        # several columns need a header line; one column must not have one
        rows = [f"{w}\t{int(c)}\n" for w, c in zip(emb.words, emb.counts, strict=True)]
        meta = "word\tcount\n" + "".join(rows)
    else:
        meta = "".join(f"{w}\n" for w in emb.words)
    return vec_path, write_atomic(out / "metadata.tsv", meta.encode("utf-8"))


def load_any(path: str | os.PathLike[str]) -> Embeddings:
    """Open a run folder, one of our checkpoints (``.pt``) or a word2vec file."""
    p = check_path(path, "the vectors' path")
    if p.is_dir():
        for candidate in ("checkpoint.pt", "vectors.txt"):
            if (p / candidate).is_file():
                emb = load_any(p / candidate)
                emb.name = p.name
                return emb
        raise UsageError(f"{p} holds neither checkpoint.pt nor vectors.txt (not a words run)")
    if not p.exists():
        raise UsageError(f"no such file or folder: {p}")
    if p.suffix in (".pt", ".pth", ".ckpt"):
        from engine.words.checkpoint import embeddings_from_checkpoint

        emb = embeddings_from_checkpoint(p)
        if not emb.name:
            emb.name = p.stem
        return emb
    return load_word2vec(p)
