"""Trained weights -> query vectors (:class:`~engine.words.query.Embeddings`), in one place.

SGNS gives input vectors plus output vectors (which score context words); the softmax models
give their embedding table plus their head, wrapped as a context predictor. Trainers (live
snapshots and final results), checkpoints and the console's untrained "before" model all come
through here, so a model answers the same queries wherever it was loaded from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from engine.errors import UsageError
from engine.words.query import Embeddings


def sgns_embeddings(
    w_in: torch.Tensor, w_out: torch.Tensor, words: list[str], counts: Any = None, name: str = ""
) -> Embeddings:
    """Input vectors for similarity; output vectors predict the context words."""
    return Embeddings(
        list(words), w_in.float(), counts=counts, out_vectors=w_out.float(), name=name or "sgns"
    )


def softmax_embeddings(
    model: nn.Module, words: list[str], counts: Any = None, name: str = ""
) -> Embeddings:
    """``model`` (a CPU copy in eval mode, owned by the result) as vectors + context predictor."""
    model.eval()

    def context_fn(ids: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.context_scores(torch.as_tensor(ids, dtype=torch.long))

    return Embeddings(
        list(words),
        model.embeddings.weight.detach().float().clone(),
        counts=counts,
        context_fn=context_fn,
        name=name,
    )


def from_state(state: dict, words: list[str], counts: Any = None, name: str = "") -> Embeddings:
    """Vectors from a trainer's ``state_dict()`` as a checkpoint stores it."""
    if state.get("model") == "sgns":
        return sgns_embeddings(state["w_in"], state["w_out"], words, counts, name)
    from engine.words.models import CBOW, ClassicSkipGram

    cls = {"classic": ClassicSkipGram, "cbow": CBOW}.get(state.get("model_name"))
    if cls is None:
        raise UsageError("unknown model in checkpoint")
    model = cls(state["vocab_size"], state["dim"], state["context_size"], state["hidden"])
    model.load_state_dict({k: v.float() for k, v in state["model"].items()})
    return softmax_embeddings(model, words, counts, name or state["model_name"])


def untrained_like(emb: Embeddings, config: Any) -> Embeddings:
    """A fresh, untrained model of ``config.model``'s kind over ``emb``'s vocabulary.

    Same shape and seed as the trained run, no training step: what the seed showed as the
    'before' of its SkipGram. Classic/CBOW predict context words through their untrained head;
    SGNS's output vectors start at zero, so its untrained context scores are all 0.5.
    """
    words = list(emb.words)
    if config.model == "sgns":
        from engine.words.sgns import SGNSTrainer

        trainer = SGNSTrainer(
            len(words),
            np.zeros(1, dtype=np.int32),
            np.ones(len(words), dtype=np.int64),
            dim=emb.dim,
            seed=config.seed,
        )
        return trainer.embeddings(words, name="sgns (untrained)")
    from engine.words.models import SoftmaxTrainer

    window = int(config.window)
    trainer = SoftmaxTrainer(
        config.model,
        len(words),
        np.zeros(2 * window + 1, dtype=np.int64),
        dim=emb.dim,
        context_size=window,
        hidden=int(config.hidden),
        lr=1e-3,
        batch=1,
        device="cpu",
        generator=torch.Generator().manual_seed(int(config.seed)),
    )
    return trainer.embeddings(words, name=f"{config.model} (untrained)")
