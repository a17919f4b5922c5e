"""Every long job by name: its config class and where its function lives.

The CLI, the app (and a process launched to run one job) find a job here without importing
torch: the config classes are torch-free, the function is imported when the job runs. A run
folder's kind is the job's name, so a folder's ``config.json`` reads back into its config.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from engine.jobs import Job
from engine.vision.events import SweepConfig, TrainConfig
from engine.words.events import EvalConfig, WordsConfig


@dataclass(frozen=True)
class JobSpec:
    """A job: its name (also its run folders' kind), config class and ``module:function``."""

    name: str
    title: str
    config: type
    function: str

    def run(self) -> Job[Any, Any]:
        """The job function (imports the engine, and torch with it)."""
        module, _, attr = self.function.partition(":")
        return getattr(import_module(module), attr)


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec("sweep", "attack sweep", SweepConfig, "engine.vision.sweep:run_sweep"),
        JobSpec(
            "train", "classifier training", TrainConfig, "engine.vision.train:train_classifier"
        ),
        JobSpec("words", "word-vector training", WordsConfig, "engine.words.train:train_words"),
        JobSpec(
            "eval", "word-vector evaluation", EvalConfig, "engine.words.evaluate:evaluate_vectors"
        ),
    )
}
