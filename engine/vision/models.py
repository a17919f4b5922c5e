"""Victim classifiers. Inputs are always images in [0, 1]; normalisation lives inside the model.

Keeping the normalisation inside means every attack budget, clamp and metric is in pixel space,
whatever the architecture. ``smallcnn`` is sized to train to about 80% on CIFAR-10 in a few
minutes on a laptop CPU (its blocks follow airbench: conv, pool, batch norm, GELU); ``resnet``
is a ResNet-18-style network for GPU users. User models come as a ``state_dict`` for one of
these (loaded with ``weights_only=True``) or as a TorchScript archive.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from engine.errors import UsageError
from engine.fields import mention

STATE_DICT_HINT = (
    f"; a state_dict goes in {mention('weights')}, its architecture in {mention('model')}"
)

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, as a module so it travels with the weights."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _conv_bn(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU()]


class SmallCNN(nn.Module):
    """Three conv-pool blocks and a linear head; about 0.3 M parameters at the default widths."""

    def __init__(self, num_classes: int = 10, widths: tuple[int, int, int] = (32, 64, 128)) -> None:
        super().__init__()
        w1, w2, w3 = widths
        self.norm = Normalize(CIFAR_MEAN, CIFAR_STD)
        layers: list[nn.Module] = [*_conv_bn(3, w1 // 2)]
        c = w1 // 2
        for w in (w1, w2, w3):
            layers += [
                nn.Conv2d(c, w, 3, padding=1, bias=False),
                nn.MaxPool2d(2),
                nn.BatchNorm2d(w),
                nn.GELU(),
                *_conv_bn(w, w),
            ]
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(w3, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(self.norm(x))
        x = torch.amax(x, dim=(2, 3))
        return self.head(x) / 8.0


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.skip = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class ResNet18(nn.Module):
    """ResNet-18 adapted to 32x32 inputs (3x3 stem, no stem pooling); for GPU users."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.norm = Normalize(CIFAR_MEAN, CIFAR_STD)
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()
        )
        blocks: list[nn.Module] = []
        c = 64
        for w, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [_BasicBlock(c, w, stride), _BasicBlock(w, w, 1)]
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(self.norm(x)))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


ARCHITECTURES = {"smallcnn": SmallCNN, "resnet18": ResNet18}


def build(arch: str, num_classes: int = 10) -> nn.Module:
    """A fresh model of a known architecture."""
    try:
        return ARCHITECTURES[arch](num_classes=num_classes)
    except KeyError:
        raise UsageError(
            f"unknown model {arch!r}; choose one of {', '.join(ARCHITECTURES)} or a file path"
        ) from None


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a ``state_dict`` with ``weights_only=True``: pickled code is refused, never run."""
    from engine.files import checkpoint_reason

    path = Path(path).expanduser()
    if not path.is_file():
        raise UsageError(f"checkpoint not found: {path}")
    reason = checkpoint_reason(path)
    if reason:
        raise UsageError(f"{path.name} {reason}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsupported global"
        raise UsageError(
            f"refused to load {path.name}: it holds pickled objects beyond plain tensors "
            f"({first[:120]}); save model.state_dict() instead"
        ) from None
    except Exception as exc:  # noqa: BLE001 - a torn or foreign file: one line, no traceback
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        raise UsageError(
            f"cannot read checkpoint {path.name} (truncated or corrupt?): "
            f"{first or type(exc).__name__}"
        ) from None
    if isinstance(payload, dict) and "state_dict" in payload:
        payload = payload["state_dict"]
    if not isinstance(payload, dict) or not all(
        isinstance(v, torch.Tensor) for v in payload.values()
    ):
        raise UsageError(f"{path.name} is not a state_dict (a dict of tensors)")
    return payload


@contextmanager
def _quiet_torch() -> Iterator[None]:
    """torch.export logs a whole traceback, and torch.jit a deprecation warning, when a file
    is not theirs; our one-line error says it instead."""
    logger = logging.getLogger("torch.export")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


class ExportedModel(nn.Module):
    """A ``torch.export`` program as a module. The graph is frozen in the mode it was exported
    in (export it in eval mode), so ``train``/``eval`` only set the flag here."""

    def __init__(self, graph: nn.Module) -> None:
        super().__init__()
        self.graph = graph

    def train(self, mode: bool = True) -> ExportedModel:
        self.training = mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.graph(x)


def load_archive(path: Path) -> nn.Module:
    """A ``torch.export`` archive (``.pt2``) or a TorchScript archive, whichever ``path`` is."""
    from engine.files import archive_reason

    reason = archive_reason(path)
    if reason:
        raise UsageError(f"{path.name} {reason}{STATE_DICT_HINT}")
    errors = []
    with _quiet_torch():
        if path.suffix == ".pt2":
            try:
                return ExportedModel(torch.export.load(str(path)).module())
            except Exception as exc:  # noqa: BLE001 - any failure means "not an export archive"
                errors.append(str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__)
        try:
            return torch.jit.load(str(path), map_location="cpu").eval()
        except Exception as exc:  # noqa: BLE001 - any failure means "not TorchScript"
            errors.append(str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__)
    raise UsageError(
        f"{path.name} is neither a torch.export (.pt2) nor a TorchScript archive "
        f"({'; '.join(errors)}){STATE_DICT_HINT}"
    )


def _holds_code(path: Path) -> bool:
    """Whether a zip file is a TorchScript archive (it has constants; a state_dict has not)."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith("/constants.pkl") for n in z.namelist())


def load_file(path: Path, num_classes: int = 10) -> nn.Module:
    """A model file: a ``state_dict`` of a known architecture (recognised by its tensors'
    names and shapes), else a torch.export or TorchScript archive."""
    if path.suffix == ".pt2" or _holds_code(path):
        return load_archive(path)
    try:
        state = load_weights(path)
    except UsageError:
        return load_archive(path)
    for arch in ARCHITECTURES:
        model = build(arch, num_classes)
        fits = {k: v.shape for k, v in model.state_dict().items()}
        if fits == {k: v.shape for k, v in state.items()}:
            model.load_state_dict(state)
            return model.eval()
    raise UsageError(
        f"{path.name} is a state_dict of none of {', '.join(ARCHITECTURES)}; "
        "save a TorchScript or torch.export archive of it instead"
    )


def load_model(arch: str, weights: str | Path | None = None, num_classes: int = 10) -> nn.Module:
    """``arch`` with ``weights`` (a state_dict file), or a model file (see :func:`load_file`)."""
    if arch not in ARCHITECTURES and Path(arch).expanduser().is_file():
        return load_file(Path(arch).expanduser(), num_classes)
    model = build(arch, num_classes)
    if weights is not None:
        state = load_weights(weights)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise UsageError(
                f"{Path(weights).name} does not fit {arch}: "
                f"{str(exc).splitlines()[-1].strip()[:120]}"
            ) from None
    return model.eval()
