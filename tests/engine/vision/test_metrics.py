import math

import torch

from engine.vision.metrics import perturbation_stats


def test_perturbation_stats_match_hand_computed_values():
    x = torch.zeros(2, 3, 16, 16)
    adv = x.clone()
    adv[0, :, 0, 0] = 0.5  # one pixel location, three channels
    adv[0, 1, 3, 4] = 0.25  # a second location, one channel
    stats = perturbation_stats(x, adv)
    assert stats["linf"].tolist() == [0.5, 0.0]
    assert math.isclose(stats["l2"][0].item(), math.sqrt(3 * 0.25 + 0.0625), rel_tol=1e-6)
    assert stats["l0"].tolist() == [2.0, 0.0]
    mse = (3 * 0.25 + 0.0625) / (3 * 16 * 16)
    assert math.isclose(stats["psnr"][0].item(), 10 * math.log10(1 / mse), rel_tol=1e-5)
    assert math.isinf(stats["psnr"][1].item())
    assert stats["ssim"][1].item() == 1.0
    assert stats["ssim"][0].item() < 1.0


def test_ssim_falls_as_noise_grows():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    values = [
        perturbation_stats(x, (x + s * torch.randn_like(x)).clamp(0, 1))["ssim"].mean().item()
        for s in (0.01, 0.05, 0.2)
    ]
    assert values[0] > values[1] > values[2]
