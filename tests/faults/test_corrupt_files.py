"""Files that are not what they claim: each gets one line, exit 2, and nothing else on the
terminal (no traceback, no library warning or log line, read at the file-descriptor level).

Model files (state_dicts truncated, corrupt, of the wrong shapes or with pickled code; text
or foreign zips passed as TorchScript / torch.export), word-vector files (bad header, wrong
dimension, truncated binary, not UTF-8), corpora (not UTF-8, binary, a fake gzip, one long
line without a word), checkpoints and run folders (torn, foreign, of another job).
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from tests.conftest import write_image_folder
from tests.faults.conftest import only_run, rows, summary, tally
from tui.cli import main

SWEEP = ["--device", "cpu", "sweep", "--n", "20", "--batch", "20", "--attack", "fgsm",
         "--eps", "0,0.01"]  # fmt: skip


def smallcnn_state() -> dict:
    from engine.vision.models import build

    return build("smallcnn").state_dict()


def truncated(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


class Evil:
    """An object whose unpickling would run code (weights_only refuses it)."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _weights(tmp: Path, kind: str) -> Path:
    path = tmp / f"{kind}.pt"
    if kind == "text":
        path.write_text("these are not weights\n")
    elif kind == "random":
        path.write_bytes(os.urandom(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign-zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "a zip, not a checkpoint")
    elif kind == "truncated":
        torch.save(smallcnn_state(), path)
        truncated(path)
    elif kind == "wrong-shapes":
        state = smallcnn_state()
        state["head.weight"] = torch.zeros(3, 7)
        torch.save(state, path)
    elif kind == "pickled-code":
        torch.save({"head.weight": Evil()}, path)
    elif kind == "not-a-dict":
        torch.save([torch.zeros(3)], path)
    elif kind == "resnet-weights":
        from engine.vision.models import build

        torch.save(build("resnet18").state_dict(), path)
    return path


def _archive(tmp: Path, kind: str) -> Path:
    path = tmp / f"{kind}.pt2"
    if kind == "text-as-pt2":
        path.write_text("hello, I am a text file\n" * 50)
    elif kind == "random-as-torchscript":
        path = tmp / "random.pt"
        path.write_bytes(os.urandom(10_000))
    elif kind == "foreign-zip-as-pt2":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("a.txt", "hello")
    elif kind == "truncated-torchscript":
        path = tmp / "scripted.pt"
        with warnings.catch_warnings():  # torch.jit's deprecation notice
            warnings.simplefilter("ignore")
            torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), str(path))
        truncated(path, 0.6)
    elif kind == "foreign-state-dict-as-model":  # (one of a known architecture is a model)
        path = tmp / "state.pt"
        torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    elif kind == "empty-as-pt2":
        path.write_bytes(b"")
    return path


W2V = {
    "bad-header": b"3 x\nking 1 0\nqueen 0 1\n",
    "header-negative": b"-3 2\nking 1 0\n",
    "wrong-dimension": b"2 3\nking 1 0\nqueen 0 1\n",
    "wrong-count": b"5 2\nking 1 0\nqueen 0 1\n",
    "ragged-rows": b"king 1 0\nqueen 0 1 5\n",
    "not-numbers": b"king one zero\nqueen 0 1\n",
    "not-utf8": b"king 1 0\nqu\xffeen 0 1\n",
    "binary-truncated": b"3 4\nking " + b"\x00\x00\x80?" * 2,
    "binary-no-header": b"\x00\x01\x02garbage" * 100,
    "empty": b"",
    "duplicate-words": b"king 1 0\nking 0 1\n",
}
CORPORA = {
    "not-utf8": b"hello world \xff\xfe bad bytes\n" * 100,
    "binary": b"\x00\x01\x02\x03" * 1000,
    "only-punctuation": b"!!! ??? ... ,,, ;;;\n" * 100,
    "no-word-in-a-long-line": b"a" * (8 << 20),  # one 8 MB token, no whitespace, no newline
}


def cases() -> list:
    out = []
    for kind in ("text", "random", "empty", "foreign-zip", "truncated", "wrong-shapes",
                 "pickled-code", "not-a-dict", "resnet-weights"):  # fmt: skip
        out.append(pytest.param(
            lambda tmp, k=kind: [*SWEEP, "--weights", str(_weights(tmp, k))],
            id=f"sweep --weights {kind}"))  # fmt: skip
    for kind in ("text-as-pt2", "random-as-torchscript", "foreign-zip-as-pt2",
                 "truncated-torchscript", "foreign-state-dict-as-model",
                 "empty-as-pt2"):  # fmt: skip
        out.append(pytest.param(
            lambda tmp, k=kind: [*SWEEP, "--model", str(_archive(tmp, k))],
            id=f"sweep --model {kind}"))  # fmt: skip
    for kind, data in W2V.items():
        for action in (["query"], ["export", "--out"], ["eval", "--pairs"]):
            out.append(pytest.param(
                lambda tmp, d=data, a=action: words_file_argv(tmp, d, a),
                id=f"words {action[0]} word2vec {kind}"))  # fmt: skip
    for kind, data in CORPORA.items():
        out.append(pytest.param(
            lambda tmp, d=data: ["words", "train", "--corpus", str(write(tmp / "c.txt", d))],
            id=f"words train corpus {kind}"))  # fmt: skip
    out.append(pytest.param(
        lambda tmp: ["words", "train", "--corpus",
                     str(write(tmp / "c.txt.gz", b"not gzip at all" * 100))],
        id="words train corpus fake-gzip"))  # fmt: skip
    out.append(pytest.param(
        lambda tmp: ["words", "train", "--corpus",
                     str(write(tmp / "c.txt.gz", gzip.compress(b"fine words\n" * 10)[:-20]))],
        id="words train corpus truncated-gzip"))  # fmt: skip
    out += [pytest.param(f, id=name) for name, f in FOLDERS.items()]
    return out


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def words_file_argv(tmp: Path, data: bytes, action: list[str]) -> list[str]:
    path = write(tmp / "vectors.txt", data)
    if action[0] == "query":
        return ["words", "query", str(path), "king"]
    if action[0] == "export":
        return ["words", "export", str(path), "--out", str(tmp / "out.txt")]
    pairs = write(tmp / "pairs.tsv", b"king\tqueen\t5\n")
    return ["words", "eval", str(path), "--pairs", str(pairs)]


# --------------------------------------------------------------------------- run folders


def _folder(tmp: Path, kind: str, config: str = '{"dataset": "sample"}') -> Path:
    run = tmp / kind / "20260101-000000-x"
    run.mkdir(parents=True)
    (run / "config.json").write_text(config)
    return run


FOLDERS: dict[str, Callable[[Path], list[str]]] = {
    "sweep --resume config.json torn": lambda tmp: [
        "sweep", "--resume", str(_folder(tmp, "sweep", '{"dataset": "samp'))],
    "sweep --resume config.json of junk": lambda tmp: [
        "sweep", "--resume", str(_folder(tmp, "sweep", '{"n": "many", "eps": [1, 2]}'))],
    "sweep --resume a words run": lambda tmp: [
        "sweep", "--resume", str(_folder(tmp, "words", "{}"))],
    "sweep --resume a folder that is no run": lambda tmp: ["sweep", "--resume", str(tmp)],
    "train-model --resume a sweep run": lambda tmp: [
        "train-model", "--resume", str(_folder(tmp, "sweep", "{}"))],
    "words train --resume a torn checkpoint": lambda tmp: [
        "words", "train", "--resume", str(write(tmp / "checkpoint.pt", b"PK\x03\x04torn"))],
    "words query a torn checkpoint": lambda tmp: [
        "words", "query", str(write(tmp / "checkpoint.pt", os.urandom(3000))), "king"],
}  # fmt: skip


@pytest.mark.parametrize("make", cases())
def test_a_file_that_is_not_what_it_claims_is_one_line_and_exit_2(make, tmp_path, capfd):
    argv = make(tmp_path)
    capfd.readouterr()
    code = main(argv)
    out, err = capfd.readouterr()
    lines = err.strip().splitlines()
    # one error line, last; before it at most our own log lines (what the job was reading)
    crash = code != 2 or not lines or not lines[-1].startswith("advtui: error: ")
    crash = crash or sum("error" in line.lower() for line in lines) != 1 or len(lines) > 3
    crash = crash or "Traceback" in err or "Warning" in err or "pwned" in out
    tally("corrupt or foreign file (one line, exit 2)", 1, 0, int(crash))
    assert not crash, (code, err[-2000:])


def test_a_torn_train_checkpoint_is_refused_on_resume(tmp_path, capfd, monkeypatch):
    from tests.faults.conftest import train_argv
    from tests.faults.test_signals import batch_call

    # a run cancelled after its first epoch, then its checkpoint torn
    folder = tmp_path / "images"
    write_image_folder(folder, 300, 100)
    owner, name, _ = batch_call("train")
    original, calls = getattr(owner, name), []

    def stop_in_epoch_two(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # 3 batches an epoch
            import signal

            os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, stop_in_epoch_two)
    assert main(["--device", "cpu", *train_argv(folder, 3), "--out", str(tmp_path)]) == 130
    monkeypatch.setattr(owner, name, original)
    run = only_run(tmp_path, "train")
    truncated(run / "checkpoint.pt")
    capfd.readouterr()
    code = main(["--device", "cpu", "train-model", "--resume", str(run)])
    err = capfd.readouterr().err.strip().splitlines()
    crash = code != 2 or len(err) != 1 or "cannot resume from" not in err[0]
    tally("corrupt or foreign file (one line, exit 2)", 1, 0, int(crash))
    assert not crash, err


def test_a_sweep_folder_torn_by_a_crash_resumes_and_redoes_only_the_torn_point(tmp_path, capsys):
    """A torn last row and a torn preview file: that point is computed again, the others
    are kept, and the tables end whole."""
    out = tmp_path / "runs"
    argv = [*SWEEP[:-1], "0,0.01,0.02,0.03", "--out", str(out)]
    assert main(argv) == 0
    run = only_run(out, "sweep")
    straight = [{k: v for k, v in r.items() if k != "seconds"} for r in rows(run, "points")]
    lines = (run / "points.jsonl").read_text().splitlines()
    (run / "points.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:25])
    truncated(run / "samples" / "smallcnn-fgsm-0.01.pt", 0.3)
    (run / "points.csv").write_text("attack,budget\nfgsm,0.0\nfgsm,0.0")  # torn too
    capsys.readouterr()
    assert main(["--device", "cpu", "sweep", "--resume", str(run)]) == 0
    err = capsys.readouterr().err
    assert "2 of 4 points already done" in err
    got = [{k: v for k, v in r.items() if k != "seconds"} for r in rows(run, "points")]
    assert got == straight
    assert len((run / "points.csv").read_text().splitlines()) == 5
    assert json.loads((run / "points.json").read_text())[3]["budget"] == 0.03
    assert summary(run)["status"] == "finished"
    tally("run folder torn by a crash, then resumed", 1, 0, 0)
