"""AlexNet LPIPS math with small random weights in the real files' layouts (no download)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from munit_fast.checkpoint import atomic_save
from munit_fast.errors import MunitError
from munit_fast.metrics.lpips import CHANNELS, CONV_INDICES, load_lpips, lpips_diversity

# (out, in, kernel, stride, padding) of torchvision AlexNet's five convs.
CONVS = [(64, 3, 11, 4, 2), (192, 64, 5, 1, 2), (384, 192, 3, 1, 1), (256, 384, 3, 1, 1), (256, 256, 3, 1, 1)]


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    g = torch.Generator().manual_seed(0)
    alexnet = {"classifier.1.weight": torch.zeros(4, 4)}  # real files carry the classifier too
    for index, (c_out, c_in, k, _, _) in zip(CONV_INDICES, CONVS):
        scale = (2.0 / (c_in * k * k)) ** 0.5
        alexnet[f"features.{index}.weight"] = torch.randn(c_out, c_in, k, k, generator=g) * scale
        alexnet[f"features.{index}.bias"] = torch.randn(c_out, generator=g) * 0.01
    linear = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1, generator=g) * 0.1 for i, c in enumerate(CHANNELS)}
    folder = tmp_path_factory.mktemp("lpips")
    atomic_save(alexnet, folder / "alexnet.pth")
    atomic_save(linear, folder / "alex.pth")
    return str(folder / "alexnet.pth"), str(folder / "alex.pth"), alexnet, linear


def reference_lpips(x, y, alexnet, linear):
    """The LPIPS formula written out layer by layer: scale, conv+relu (max-pool before conv 2 and 3),
    unit-normalise channels, squared difference, weighted channel sum, spatial mean, sum of layers."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    fx, fy = (x - shift) / scale, (y - shift) / scale
    total = torch.zeros(x.shape[0], dtype=torch.float64)
    for layer, (index, (_, _, _, stride, pad)) in enumerate(zip(CONV_INDICES, CONVS)):
        if layer in (1, 2):
            fx, fy = F.max_pool2d(fx, 3, 2), F.max_pool2d(fy, 3, 2)
        w, b = alexnet[f"features.{index}.weight"], alexnet[f"features.{index}.bias"]
        fx, fy = F.relu(F.conv2d(fx, w, b, stride, pad)), F.relu(F.conv2d(fy, w, b, stride, pad))
        nx = fx.double() / (fx.double().norm(dim=1, keepdim=True) + 1e-10)
        ny = fy.double() / (fy.double().norm(dim=1, keepdim=True) + 1e-10)
        weight = linear[f"lin{layer}.model.1.weight"].double().view(1, -1, 1, 1)
        total += ((nx - ny) ** 2 * weight).sum(dim=1).mean(dim=(1, 2))
    return total


def test_matches_the_formula_written_out(weight_files):
    alexnet_path, linear_path, alexnet, linear = weight_files
    lpips = load_lpips(alexnet_path, linear_path)
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(3, 3, 64, 64, generator=g) * 2 - 1, torch.rand(3, 3, 64, 64, generator=g) * 2 - 1
    got = lpips(x, y)
    assert got.shape == (3,)
    # fp32 model vs fp64 normalisation in the reference: distances ~0.1, agree to 1e-5 absolute.
    torch.testing.assert_close(got.double(), reference_lpips(x, y, alexnet, linear), atol=1e-5, rtol=0)
    assert (got > 0).all()


def test_identity_zero_and_symmetry(weight_files):
    lpips = load_lpips(*weight_files[:2])
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1, torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
    torch.testing.assert_close(lpips(x, x), torch.zeros(2), atol=1e-7, rtol=0)
    torch.testing.assert_close(lpips(x, y), lpips(y, x), atol=1e-6, rtol=0)


def test_diversity_is_the_mean_over_consecutive_pairs(weight_files):
    lpips = load_lpips(*weight_files[:2])
    outputs = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(3)) * 2 - 1
    expected = torch.stack([lpips(outputs[i:i + 1], outputs[i + 1:i + 2])[0] for i in range(3)]).mean()
    assert lpips_diversity(lpips, outputs) == pytest.approx(float(expected), abs=1e-6)
    assert lpips_diversity(lpips, outputs[[0, 0, 0]]) == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(MunitError, match="at least 2"):
        lpips_diversity(lpips, outputs[:1])


def test_missing_files_say_how_to_get_them(tmp_path, weight_files):
    with pytest.raises(MunitError, match="alexnet-owt-7be5be79.pth.*PerceptualSimilarity"):
        load_lpips(None, weight_files[1])
    with pytest.raises(MunitError, match="--lpips-linear .*nope.pth: file not found"):
        load_lpips(weight_files[0], str(tmp_path / "nope.pth"))


def test_wrong_file_names_the_key(tmp_path, weight_files):
    atomic_save({"lin0.model.1.weight": torch.zeros(1, 64, 1, 1)}, tmp_path / "partial.pth")
    with pytest.raises(MunitError, match="lacks lin1.model.1.weight"):
        load_lpips(weight_files[0], str(tmp_path / "partial.pth"))
    with pytest.raises(MunitError, match=r"features.0.weight has shape \[1, 64, 1, 1\]"):
        atomic_save({"features.0.weight": torch.zeros(1, 64, 1, 1)}, tmp_path / "bad.pth")
        load_lpips(str(tmp_path / "bad.pth"), weight_files[1])
