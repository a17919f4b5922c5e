"""Trained weights -> query vectors (:class:`~engine.words.query.Embeddings`), in one place.

SGNS gives input vectors plus output vectors (which score context words); the softmax models
give their embedding table plus their head, wrapped as a context predictor. Trainers (live
snapshots, final results, the console's untrained "before" model) and checkpoints all come
through here, so a model answers the same queries wherever it was loaded from. A leaf module:
the trainers and the checkpoint reader import it, never the reverse.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

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
