import pytest
import torch

from engine.errors import UsageError
from engine.vision.models import SmallCNN, build, load_model, load_weights


class Payload:
    """Any class: unpickling it would import and run code from the file's author."""

    def __reduce__(self):
        return (print, ("pwned",))


def test_pickled_payload_is_refused_with_a_clear_message(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    payload = {"weights": torch.zeros(2), "note": Payload()}
    torch.save(payload, path)
    with pytest.raises(UsageError, match="refused to load evil.pt") as err:
        load_weights(path)
    assert "\n" not in str(err.value)
    assert "pwned" not in capsys.readouterr().out


def test_state_dict_round_trip_and_mismatch(tmp_path):
    model = build("smallcnn")
    path = tmp_path / "m.pt"
    torch.save(model.state_dict(), path)
    loaded = load_model("smallcnn", path)
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(loaded(x), model.eval()(x))
    with pytest.raises(UsageError, match="does not fit resnet18"):
        load_model("resnet18", path)


def test_torch_export_archive_loads_and_attacks(tmp_path):
    from engine.vision.attacks import get_attack

    model = SmallCNN().eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (torch.rand(2, 3, 32, 32),), dynamic_shapes=({0: batch},))
    path = tmp_path / "model.pt2"
    torch.export.save(program, str(path))
    loaded = load_model(str(path))
    x = torch.rand(4, 3, 32, 32)
    torch.testing.assert_close(loaded(x), model(x))
    res = get_attack("iterated").run(loaded, x, model(x).argmax(1), 0.01)
    assert res.adv.shape == x.shape


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_torchscript_archive_loads(tmp_path):
    model = SmallCNN().eval()
    path = tmp_path / "scripted.pt"
    torch.jit.script(model).save(str(path))
    loaded = load_model(str(path))
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(loaded(x), model(x))


def test_a_file_that_is_no_archive_is_a_usage_error(tmp_path):
    path = tmp_path / "junk.pt2"
    path.write_bytes(b"not a model")
    with pytest.raises(UsageError, match="is not a TorchScript or torch.export archive"):
        load_model(str(path))


def test_unknown_model_and_missing_file():
    with pytest.raises(UsageError, match="unknown model 'vgg'"):
        load_model("vgg")
    with pytest.raises(UsageError, match="checkpoint not found"):
        load_model("smallcnn", "/nonexistent/w.pt")


def test_models_take_unit_range_inputs_with_normalisation_inside():
    model = build("resnet18").eval()
    assert hasattr(model, "norm")
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)
