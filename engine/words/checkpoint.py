"""Words checkpoints: config, vocabulary, trainer state and history in one ``.pt`` file.

Everything stored is a tensor, number, string, list or dict, so ``torch.load(weights_only=True)``
reads it and a checkpoint cannot run code when opened; anything else is refused with a
one-line :class:`UsageError`. Writes are atomic (temporary file, then rename), so a crash or a
cancel mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from engine.errors import UsageError
from engine.fields import from_dict
from engine.runs import atomic_path, plain
from engine.words.events import WordsConfig
from engine.words.vocab import Vocab

FORMAT = "advtui-words/1"


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    config: Any,
    vocab: Vocab,
    trainer_state: dict,
    epoch: int,
    history: list,
) -> Path:
    """Write the checkpoint atomically; ``epoch`` is the number of finished epochs."""
    target = Path(path)
    payload = {
        "format": FORMAT,
        "config": plain(config, json=False),
        "words": list(vocab.words),
        "counts": torch.from_numpy(vocab.counts.copy()),
        "trainer": trainer_state,
        "epoch": int(epoch),
        "history": plain(history, json=False),
    }
    with atomic_path(target) as tmp:
        torch.save(payload, tmp)
    return target


def load_checkpoint(path: str | os.PathLike[str]) -> dict:
    """The checkpoint's payload; anything that is not a safe words checkpoint is a UsageError."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsageError(f"checkpoint {p} not found")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, truncated zip, unsafe globals
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"{p} is not a safe words checkpoint (refused by weights_only loading: {first[:120]})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise UsageError(f"{p} is not an advtui words checkpoint")
    return payload


def embeddings_from_checkpoint(path: str | os.PathLike[str]):
    """Vectors (and the context predictor: SGNS output vectors or the softmax head)."""
    from engine.words.models import model_from_state
    from engine.words.vectors import sgns_embeddings, softmax_embeddings

    payload = load_checkpoint(path)
    state, words = payload["trainer"], list(payload["words"])
    counts, name = payload["counts"].numpy(), str(payload["config"].get("model", ""))
    if state.get("model") == "sgns":
        return sgns_embeddings(state["w_in"], state["w_out"], words, counts, name)
    try:
        model = model_from_state(state)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    return softmax_embeddings(model, words, counts, name or state["model_name"])


def training_config(path: str | os.PathLike[str]) -> WordsConfig | None:
    """The config a run folder or checkpoint was trained with; None for other files (word2vec
    vectors carry none) or a checkpoint that cannot be read."""
    p = Path(path).expanduser()
    p = p / "checkpoint.pt" if p.is_dir() else p
    if p.suffix not in (".pt", ".pth", ".ckpt") or not p.is_file():
        return None
    try:
        return from_dict(WordsConfig, load_checkpoint(p).get("config") or {})
    except (UsageError, TypeError):
        return None
