"""Image datasets as whole uint8 tensors in memory.

CIFAR-sized data fits in RAM many times over (the 50,000 training images are 150 MB as uint8),
so every dataset is decoded once into ``ImageSet`` and batches are slices: no DataLoader, no
per-sample Python on the hot path. Names the CLI and the app use:

- ``sample``: the offline default, a class-balanced sample of CIFAR-10 test images in ``assets/``;
- ``cifar10``: torchvision's CIFAR-10, downloaded with progress to the cache dir, or read from
  ``--data-dir`` (either torchvision's ``cifar-10-batches-py`` or an ImageFolder copy);
- ``imagefolder``: ``--data-dir`` holds ``train/`` and ``test/`` folders of class folders.
"""

from __future__ import annotations

import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from assets import asset_path
from engine.errors import DataUnavailable, UsageError
from engine.jobs import Progress
from engine.runs import cache_root

DATASETS = ("sample", "cifar10", "imagefolder")
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SAMPLE_ASSET = "cifar10_sample.npz"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm"}


@dataclass
class ImageSet:
    """Images as uint8 ``[N, C, H, W]``, integer labels ``[N]`` and the class names."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.labels.numel())

    def floats(self, idx: slice | torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
        """The selected images as float in [0, 1] on ``device``."""
        return self.images[idx].to(device, non_blocking=True).float().div_(255.0)

    def balanced(self, n: int) -> ImageSet:
        """The first ``ceil(n / classes)`` images of each class, interleaved, cut to ``n``.

        Deterministic, so ``--n 1000`` on CIFAR-10's test split is always the same 100 per class.
        """
        if n >= len(self):
            return self
        k = len(self.classes)
        per = -(-n // k)
        # rank of each image within its class, in file order
        order = torch.argsort(self.labels, stable=True)
        sorted_labels = self.labels[order]
        starts = torch.searchsorted(sorted_labels, torch.arange(k))
        rank = torch.empty_like(self.labels)
        rank[order] = torch.arange(len(self)) - starts[sorted_labels]
        keep = torch.nonzero(rank < per).squeeze(1)
        keep = keep[torch.argsort(rank[keep] * k + self.labels[keep], stable=True)][:n]
        return ImageSet(self.name, self.images[keep], self.labels[keep], self.classes)


# --------------------------------------------------------------------------- loaders


def load_sample() -> ImageSet:
    """The embedded offline sample of CIFAR-10 test images."""
    with np.load(asset_path(SAMPLE_ASSET)) as npz:
        images = torch.from_numpy(npz["images"].copy())
        labels = torch.from_numpy(npz["labels"].astype(np.int64))
        classes = tuple(str(c) for c in npz["classes"])
    return ImageSet("sample", images, labels, classes)


def _decode(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def load_image_folder(root: Path, name: str = "imagefolder") -> ImageSet:
    """Decode every image under ``root/<class>/`` (sorted class and file names) in threads."""
    if not root.is_dir():
        raise UsageError(f"image folder not found: {root}")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise UsageError(f"no class folders in {root}")
    files: list[Path] = []
    labels: list[int] = []
    for i, cls in enumerate(classes):
        found = sorted(p for p in (root / cls).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        files += found
        labels += [i] * len(found)
    if not files:
        raise UsageError(f"no images (.jpg/.png/...) in the class folders of {root}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        arrays = list(pool.map(_decode, files, chunksize=256))
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise UsageError(
            f"images in {root} differ in size ({len(shapes)} sizes); resize them first"
        )
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return ImageSet(name, images, torch.tensor(labels, dtype=torch.int64), tuple(classes))


def _load_cifar_batches(root: Path, split: str) -> ImageSet:
    import pickle

    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    data, labels = [], []
    for n in names:
        with open(root / n, "rb") as fh:
            # torchvision's own CIFAR10 reads these files the same way (they are pickles of
            # numpy arrays published by the dataset's authors), only after the user chose them.
            entry = pickle.load(fh, encoding="latin1")
        data.append(entry["data"])
        labels += entry["labels"]
    images = torch.from_numpy(np.concatenate(data).reshape(-1, 3, 32, 32))
    return ImageSet("cifar10", images, torch.tensor(labels, dtype=torch.int64), CIFAR10_CLASSES)


def _download(url: str, target: Path, progress: Callable[[int, int], None] | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    try:
        with urllib.request.urlopen(url, timeout=15) as resp, tmp.open("wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        raise DataUnavailable(
            f"CIFAR-10 could not be downloaded ({exc.__class__.__name__}: {exc}); "
            "use --dataset sample (built in) or --data-dir with a local copy"
        ) from None
    tmp.replace(target)


def download_progress(emit: Callable[[Progress], None]) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback that reports a download as Progress events."""
    start = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = max(time.perf_counter() - start, 1e-9)
        emit(Progress("download", done, total or done, done / elapsed, "B"))

    return report


def load_cifar10(
    split: str,
    data_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageSet:
    """CIFAR-10 from ``data_dir`` (torchvision layout or ImageFolder), else the cache/download."""
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        for cand in (data_dir, data_dir / "cifar-10-batches-py"):
            if (cand / "test_batch").is_file():
                return _load_cifar_batches(cand, split)
        if (data_dir / split).is_dir():
            found = load_image_folder(data_dir / split, "cifar10")
            return ImageSet("cifar10", found.images, found.labels, found.classes)
        raise UsageError(
            f"{data_dir} holds neither cifar-10-batches-py nor {split}/<class>/ image folders"
        )
    root = cache_root() / "cifar10"
    batches = root / "cifar-10-batches-py"
    if not (batches / "test_batch").is_file():
        archive = root / "cifar-10-python.tar.gz"
        if not archive.is_file():
            _download(CIFAR10_URL, archive, progress)
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
    return _load_cifar_batches(batches, split)


def load_dataset(
    name: str,
    split: str = "test",
    data_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageSet:
    """Load a dataset by the name the CLI and the app use; errors are one line."""
    if split not in ("train", "test"):
        raise UsageError(f"unknown split {split!r}; use train or test")
    path = Path(data_dir).expanduser() if data_dir else None
    if name == "sample":
        if split == "train":
            raise UsageError("the built-in sample holds test images only; train on cifar10")
        return load_sample()
    if name == "cifar10":
        return load_cifar10(split, path, progress)
    if name == "imagefolder":
        if path is None:
            raise UsageError("--dataset imagefolder needs --data-dir holding train/ and test/")
        sub = path / split
        return load_image_folder(sub if sub.is_dir() else path, path.name)
    raise UsageError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
