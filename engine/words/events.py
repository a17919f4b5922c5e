"""The words jobs' configs, events and results, torch-free so the UI can import and match on
them before the engine loads.

Each config field is declared once (:func:`engine.fields.option`): the CLI options, the
Embeddings form and the validation all come from here. The softmax models (``classic``,
``cbow``) train on other settings than ``sgns``; those are the fields' ``presets``, and
``used_by`` says which models read a field at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.errors import UsageError
from engine.fields import (
    between,
    option,
    rule,
    shown,
    with_preset,
)
from engine.files import kind
from engine.jobs import (
    Result,
    device_option,
    out_option,
    procs_option,
    resume_option,
    seed_option,
)
from engine.words.evalsets import AUTO, check_value

MODELS = ("sgns", "classic", "cbow")
AVERAGE_EVERY = 32  # batches between two averages over processes (bench/words_procs.py)
SOFTMAX = ("classic", "cbow")


def _both(value: Any) -> dict[str, Any]:
    """The same preset for both softmax models."""
    return dict.fromkeys(SOFTMAX, value)


def _corpus_reason(source: str) -> str | None:
    from engine.words.corpus import open_corpus

    try:
        open_corpus(source)
    except UsageError as exc:  # its messages start with "corpus ...": read after the field name
        return str(exc).removeprefix("corpus ")
    return None


@dataclass(frozen=True)
class WordsConfig:
    """Training word vectors: corpus, model and hyper-parameters. The defaults are ``sgns``'s;
    :func:`defaults_for` gives each model's presets, which train on the built-in corpus in well
    under a minute on two CPU cores."""

    corpus: str = option(
        "builtin",
        "builtin (tinyshakespeare, offline), a UTF-8 text file or a folder of .txt files",
        placeholder="builtin, file or folder",
        check=rule(_corpus_reason, "/nonexistent/corpus.txt"),
    )
    model: str = option(
        "sgns",
        "sgns (word2vec's skip-gram with negative sampling), classic (the seed's softmax "
        "SkipGram) or cbow",
        choices=MODELS,
    )
    stopwords: bool = option(False, "drop common English stop words")
    dim: int = option(100, "vector size", presets=_both(50), check=between(1, 10_000))
    window: int = option(
        5,
        "sgns: largest dynamic window; classic/cbow: context words each side",
        presets=_both(2),
        check=between(1, 100),
    )
    negative: int = option(5, "negative samples per pair", used_by=("sgns",), check=between(1, 100))
    within_lines: bool = option(
        False,
        "context windows stop at line ends, as gensim's do (off: the corpus is one stream)",
        label="in lines",
        used_by=("sgns",),
    )
    kernel: str = option(
        "auto",
        "the sgns update: numba (compiled loops, CPU), torch (any device), or auto (numba on a "
        "CPU where it imports); a resumed run must keep its kernel to be bit-exact",
        choices=("auto", "numba", "torch"),
        used_by=("sgns",),
        form=False,
    )
    hidden: int = option(
        512, "hidden layer width", presets=_both(256), used_by=SOFTMAX, check=between(1, 100_000)
    )
    epochs: int = option(5, "passes over the corpus", presets=_both(3), check=between(1, 10_000))
    batch: int | None = option(
        None,
        "examples per step (sgns: centre words; empty: 1024 on a CPU, 8192 on a GPU)",
        placeholder="model default",
        presets=_both(256),
        check=between(1, 10_000_000),
    )
    lr: float | None = option(
        None,
        "learning rate (empty: the model's own)",
        placeholder="model default",
        presets={"sgns": 0.03, **_both(1e-3)},
        check=between(1e-9, 10),
    )
    min_count: int = option(
        5, "drop words seen fewer times", label="min count", check=between(1, 1_000_000_000)
    )
    max_vocab: int | None = option(
        None,
        "keep at most this many words (the most frequent)",
        label="max vocab",
        placeholder="no cap",
        presets=_both(3000),
        check=between(2, 100_000_000),
    )
    max_words: int | None = option(
        None,
        "use only the first N words of the corpus",
        label="max words",
        placeholder="whole corpus",
        presets=_both(50_000),
        check=between(2, 10**12),
    )
    sample: float = option(
        1e-3,
        "subsampling threshold for frequent words (0: off)",
        presets=_both(0.0),
        check=between(0, 1),
    )
    seed: int = seed_option()
    heldout: float = option(
        0.1,
        "share of the corpus (its end) kept out of training to measure context accuracy "
        "each epoch (0: off)",
        label="held out",
        check=between(0, 0.5),
    )
    analogies: str | None = option(
        AUTO,
        "a questions-words file scored after every epoch; auto: the shipped word2vec set "
        "when the vocabulary covers enough of it; none: off",
        placeholder="auto, none or a file",
        check=rule(check_value, "/nonexistent/advtui"),
    )
    pairs: str | None = option(
        AUTO,
        "a WordSim353 / SimLex-999 file scored after every epoch; auto: the shipped "
        "WordSim353 when the vocabulary covers enough of it; none: off",
        placeholder="auto, none or a file",
        check=rule(check_value, "/nonexistent/advtui"),
    )
    device: str = device_option()
    threads: int | None = option(None, "torch CPU threads", form=False, check=between(1, 1024))
    procs: int = procs_option()
    average_every: int = option(
        AVERAGE_EVERY,
        "with procs > 1: batches each process trains on its own between two averages of the "
        "vectors over the processes",
        label="average every",
        used_by=("sgns",),
        check=between(1, 10_000),
    )
    out: str | None = out_option()
    resume: str | None = resume_option(
        "training goes on from its checkpoint (or a checkpoint.pt), in a new run folder"
    )

    def check(self) -> None:
        """Rules across fields (after each field passed its own)."""
        if self.procs > 1 and self.model != "sgns":
            from engine.fields import FieldError

            raise FieldError(
                "procs", f"above 1 needs model sgns; {self.model} trains in one process"
            )

    def learning_rate(self) -> float:
        """``lr``, or the model's own when empty."""
        from engine.fields import spec_of

        return self.lr if self.lr is not None else spec_of(WordsConfig, "lr").preset(self.model)

    def eval_files(self) -> dict[str, str | None]:
        """The evaluation files ``analogies`` and ``pairs`` name (``auto``: the shipped sets;
        whether ``auto`` scores them during training also depends on their coverage)."""
        from engine.words.evalsets import resolve

        return {
            "analogies": resolve("analogies", self.analogies),
            "pairs": resolve("pairs", self.pairs),
        }


def defaults_for(model: str) -> WordsConfig:
    """The presets of ``model``: sgns's defaults, or the softmax models' smaller settings."""
    if model not in MODELS:
        raise UsageError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return with_preset(WordsConfig(model=model), model)


def _all_files(paths: tuple[str, ...]) -> str | None:
    for p in paths:
        if kind(p) != "file":
            return f"must be existing files, got {shown(p)}"
    return None


def _model_path(path: str) -> str | None:
    if not path.strip():
        return "must name a run folder, checkpoint.pt or word2vec file"
    if kind(path) is None:
        return f"must be an existing run folder or file, got {shown(path)}"
    return None


@dataclass(frozen=True)
class EvalConfig:
    """Scoring vectors on analogy questions and word-pair similarity files."""

    model: str = option(
        "",
        "a run folder, checkpoint.pt, or word2vec text/binary file",
        flag="MODEL",
        form=False,
        check=rule(_model_path, ""),
    )
    analogies: tuple[str, ...] = option(
        (), "a questions-words file (repeat for more)", sep=None, check=rule(_all_files, ("/x",))
    )
    pairs: tuple[str, ...] = option(
        (),
        "a WordSim353 / SimLex-999 file (repeat for more)",
        sep=None,
        check=rule(_all_files, ("/x",)),
    )
    restrict: int = option(
        30000,
        "analogies: search only the N most frequent words",
        check=between(1, 1_000_000_000),
    )
    out: str | None = out_option()

    def check(self) -> None:
        if not self.analogies and not self.pairs:
            from engine.fields import FieldError

            raise FieldError("analogies", "or pairs must name at least one file")


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class TrainingStarted:
    """The vocabulary is built and the model exists. ``snapshot()`` returns a copy of the
    vectors as they are now (thread-safe), for answering queries while the model trains."""

    model: str
    vocab_size: int
    total_words: int  # words one epoch streams (after min_count, before subsampling)
    epochs: int
    device: str = "cpu"
    snapshot: Callable[[], Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class EpochEnd:
    """One epoch finished: its mean loss and the epoch metrics: ``context_acc`` (the seed's
    context accuracy on the held-out slice, every model), the trainer's own ``accuracy`` on
    training examples (classic, cbow), ``analogy`` / ``wordsim`` / ``simlex`` when scored."""

    model: str
    epoch: int  # 1-based
    loss: float
    seconds: float
    words_per_s: float
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WordMap:
    """Words placed in 2-D (a PCA of their unit vectors): a ``map`` query's answer, and the
    Embeddings tab's live map after each ``epoch`` (0: before training). ``explained`` is the
    share of the variance the two axes keep; ``highlight`` the words to stand out."""

    words: tuple[str, ...]
    xy: tuple[tuple[float, float], ...]
    explained: float = float("nan")
    highlight: tuple[str, ...] = ()
    epoch: int = 0
    model: str = ""


# --------------------------------------------------------------------------- results


@dataclass(kw_only=True)
class WordsResult(Result):
    """What a training run produced; ``embeddings`` is None only when cancelled before training
    began. ``checkpoint`` continues the run (``resume``)."""

    embeddings: Any = None  # engine.words.query.Embeddings
    history: list[EpochEnd] = field(default_factory=list)
    checkpoint: str | None = None


@dataclass(frozen=True)
class Score:
    """One evaluation figure: ``file``, ``metric`` (analogy, semantic, syntactic, spearman),
    its value, and how many items were used and skipped."""

    file: str
    metric: str
    value: float
    used: int
    skipped: int


@dataclass(kw_only=True)
class EvalResult(Result):
    """The scores, in the order the files were given; ``name`` and ``shape`` of the vectors."""

    name: str = ""
    shape: tuple[int, int] = (0, 0)
    scores: list[Score] = field(default_factory=list)
