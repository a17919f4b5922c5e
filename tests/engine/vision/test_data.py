import urllib.error

import pytest
import torch

from engine.errors import DataUnavailable, UsageError
from engine.vision import data as data_mod
from engine.vision.data import load_dataset, load_sample


def test_sample_is_class_balanced_cifar10_offline():
    data = load_sample()
    assert data.images.dtype == torch.uint8 and data.images.shape == (1000, 3, 32, 32)
    assert torch.bincount(data.labels).tolist() == [100] * 10
    assert data.classes[0] == "airplane" and data.classes[-1] == "truck"


def test_balanced_takes_first_images_of_each_class_interleaved():
    data = load_sample().balanced(30)
    assert data.labels.tolist() == list(range(10)) * 3


def test_image_folder_matches_shared_cifar(cifar_jpg):
    test = load_dataset("imagefolder", "test", cifar_jpg)
    assert len(test) == 10000 and test.classes == data_mod.CIFAR10_CLASSES
    # the shipped sample is the first 100 test images of each class of this copy
    sample = load_sample()
    torch.testing.assert_close(test.balanced(1000).images, sample.images)


def test_cifar10_reads_an_imagefolder_data_dir(small_folder):
    data = load_dataset("cifar10", "test", small_folder)
    assert len(data) == 100 and data.name == "cifar10"


def test_download_failure_points_to_sample(monkeypatch):
    def refuse(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data_mod.urllib.request, "urlopen", refuse)
    with pytest.raises(DataUnavailable, match="--dataset sample") as err:
        load_dataset("cifar10", "test")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "args, message",
    [
        (("mnist2", "test", None), "unknown dataset"),
        (("imagefolder", "test", None), "needs --data-dir"),
        (("imagefolder", "test", "/nonexistent"), "image folder not found"),
        (("sample", "train", None), "test images only"),
        (("cifar10", "test", "/nonexistent-dir"), "neither cifar-10-batches-py"),
    ],
)
def test_bad_dataset_input_is_one_line(args, message):
    with pytest.raises(UsageError, match=message):
        load_dataset(*args)
