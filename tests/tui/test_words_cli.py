"""``advtui words``: train end to end, then query / eval / export the run; one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import main

W2V = """6 3
man 1 0 0
woman 0 1 0
king 1 0 1
queen 0 1 1
boy 1 0 -1
girl 0 1 -1
"""


@pytest.fixture
def vectors(tmp_path: Path) -> Path:
    path = tmp_path / "toy.txt"
    path.write_text(W2V, encoding="utf-8")
    return path


def _one_line_error(capsys, message: str) -> None:
    err = capsys.readouterr().err.strip()
    assert err.startswith("advtui: error: ") and message in err, err
    assert len(err.splitlines()) == 1, err


def test_query_a_word2vec_file(vectors: Path, capsys) -> None:
    code = main(
        [
            "words",
            "query",
            str(vectors),
            "king",
            "analogy man woman king",
            "sim man king",
            "odd man king queen boy",
            "near king 2",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "man : woman :: king : queen" in out
    assert "cosine(man, king) = 0.7071" in out
    assert "odd one out: queen" in out
    assert "nearest words" in out and "no context predictor" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "{v}", "analogy man woman"], "usage: analogy A B C [K]  (A is to B as C is"),
        (["query", "{v}", "lion"], "unknown word 'lion'"),
        (["query", "{v}", "Kong"], "unknown word 'kong'; closest in the vocabulary: king"),
        (["query", "/nonexistent/model.txt", "king"], "no such file or folder"),
        (["eval", "{v}"], "--analogies or pairs must name at least one file"),
        (["eval", "{v}", "--pairs", "/nonexistent.tsv"], "--pairs must be existing files"),
        (["export", "{v}", "--format", "csv", "--out", "x"], "unknown format 'csv'"),
        (["train", "--model", "glove"], "--model must be one of sgns, classic, cbow, got 'glove'"),
        (["train", "--epochs", "0"], "--epochs must be between 1 and 10000, got 0"),
        (["train", "--lr", "nan"], "--lr must be a finite number, got 'nan'"),
    ],
)
def test_bad_input_exits_2_with_one_line(vectors: Path, argv, message, capsys) -> None:
    argv = [a.replace("{v}", str(vectors)) for a in argv]
    assert main(["words", *argv]) == 2
    _one_line_error(capsys, message)


def test_eval_and_export(vectors: Path, tmp_path: Path, capsys) -> None:
    pairs = tmp_path / "p.tsv"
    pairs.write_text("man\twoman\t1\nking\tqueen\t5\nman\tking\t7\ntiger\tcat\t2\n", "utf-8")
    questions = tmp_path / "q.txt"
    questions.write_text(": family\nman woman king queen\nboy girl king woman\n", "utf-8")
    code = main(
        ["words", "eval", str(vectors), "--pairs", str(pairs), "--analogies", str(questions)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "50.00%" in out and "1.000" in out
    assert main(["words", "export", str(vectors), "--out", str(tmp_path / "v.txt")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text("utf-8").splitlines()[0] == "6 3"
    code = main(
        ["words", "export", str(vectors), "--format", "projector", "--out", str(tmp_path / "pj")]
    )
    assert code == 0
    assert (tmp_path / "pj" / "metadata.tsv").read_text("utf-8").split() == [
        "man",
        "woman",
        "king",
        "queen",
        "boy",
        "girl",
    ]


def test_train_sgns_then_query_eval_export_the_run(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus.txt"
    lines = [
        "the king rules the land and the queen rules the land",
        "a man and a woman walk to the town",
        "the boy and the girl play in the town",
    ]
    corpus.write_text("\n".join(lines * 40) + "\n", encoding="utf-8")
    out = tmp_path / "runs"
    code = main(
        [
            "words",
            "train",
            "--corpus",
            str(corpus),
            "--model",
            "sgns",
            "--dim",
            "16",
            "--epochs",
            "2",
            "--min-count",
            "1",
            "--out",
            str(out),
            "--threads",
            "1",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    run = Path(captured.out.strip().splitlines()[-1])
    assert run.is_dir() and out in run.parents
    for name in ("config.json", "checkpoint.pt", "vectors.txt"):
        assert (run / name).is_file(), name
    assert "epoch" in captured.err and "loss" in captured.err

    assert main(["words", "query", str(run), "king", "analogy man woman king"]) == 0
    text = capsys.readouterr().out
    assert "predicted context words" in text and "nearest words" in text
    assert main(["words", "query", str(run / "checkpoint.pt"), "sim king queen"]) == 0
    assert "cosine(king, queen)" in capsys.readouterr().out
    pairs = tmp_path / "p.tsv"
    pairs.write_text("king\tqueen\t8\nman\tland\t1\nboy\tgirl\t7\n", "utf-8")
    assert main(["words", "eval", str(run), "--pairs", str(pairs)]) == 0
    assert "spearman" in capsys.readouterr().out
    assert main(["words", "export", str(run), "--out", str(tmp_path / "v.txt")]) == 0
    header = (tmp_path / "v.txt").read_text("utf-8").splitlines()[0].split()
    assert header[1] == "16"
    assert main(["words", "query", str(run), "lyon"]) == 2
    assert "unknown word 'lyon'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "choose an action"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["train", "--dim", "x"], "--dim must be a whole number, got 'x'"),
        (["query"], "the following arguments are required: MODEL, QUERY"),
        (["export", "m.txt"], "the following arguments are required: --out"),
    ],
)
def test_bad_options_exit_2_with_one_line(argv, message, capsys) -> None:
    try:
        code = main(["words", *argv])
    except SystemExit as exc:  # argparse exits from inside parse_args
        code = exc.code
    assert code == 2
    _one_line_error(capsys, message)
