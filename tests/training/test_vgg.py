"""The perceptual loss: VGG-16 weights from a local file in either layout, the original preprocessing."""
from __future__ import annotations

import pytest
import torch

from munit_fast.config import apply_overrides
from munit_fast.errors import MunitError
from munit_fast.training import MUNITTrainer
from munit_fast.training.vgg import Vgg16Features, load_vgg16, vgg_loss, vgg_preprocess

TORCHVISION_CONVS = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21]  # features.N of conv1_1 .. conv4_3


@pytest.fixture(scope="module")
def relu4_3_files(tmp_path_factory):
    """One random VGG-16 (up to conv4_3) saved in the torchvision and in the original MUNIT layout."""
    torch.manual_seed(1)
    model = Vgg16Features("relu4_3")
    folder = tmp_path_factory.mktemp("vgg")
    original = {k[len("convs."):]: v for k, v in model.state_dict().items()}
    names = list(model.convs.keys())
    torchvision = {f"features.{i}.{kind}": original[f"{name}.{kind}"]
                   for i, name in zip(TORCHVISION_CONVS, names) for kind in ("weight", "bias")}
    torchvision["classifier.0.weight"] = torch.zeros(2, 2)  # ignored
    torch.save(torchvision, folder / "vgg16_torchvision.pth")
    torch.save(original, folder / "vgg16.weight")
    return model, folder / "vgg16_torchvision.pth", folder / "vgg16.weight"


def test_both_layouts_load_the_same_weights(relu4_3_files):
    model, torchvision_file, original_file = relu4_3_files
    for path in (torchvision_file, original_file):
        loaded = load_vgg16(str(path), "relu4_3")
        for key, value in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value)
        assert not any(p.requires_grad for p in loaded.parameters())


def test_relu4_3_features_and_loss(relu4_3_files):
    vgg = load_vgg16(str(relu4_3_files[1]), "relu4_3")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert vgg(vgg_preprocess(x)).shape == (2, 512, 4, 4)  # relu4_3: 1/8 resolution
    assert vgg_loss(vgg, x, x).item() == 0.0
    assert vgg_loss(vgg, x, x.flip(3)).item() > 0.0


def test_relu5_3_needs_the_fifth_stage(relu4_3_files):
    with pytest.raises(MunitError, match="missing conv5_1.weight"):
        load_vgg16(str(relu4_3_files[1]), "relu5_3")


def test_preprocess_is_bgr_0_255_minus_caffe_means():
    rgb = torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)
    expected = torch.tensor([127.5 - 103.939, 0.0 - 116.779, 255.0 - 123.680]).view(1, 3, 1, 1)
    torch.testing.assert_close(vgg_preprocess(rgb), expected, atol=1e-4, rtol=0)


def test_trainer_adds_weighted_vgg_terms(training_config, relu4_3_files):
    config = apply_overrides(training_config, ["vgg_w=1", f"vgg_model_path={relu4_3_files[1]}", "vgg_layer=relu4_3"])
    trainer = MUNITTrainer(config)
    x_a, x_b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    s_a, s_b = torch.randn(2, 8, 1, 1), torch.randn(2, 8, 1, 1)
    with_vgg = trainer.compute_losses(x_a, x_b, s_a, s_b)
    assert with_vgg["gen_vgg_a"].item() > 0 and with_vgg["gen_vgg_b"].item() > 0
    trainer.config = apply_overrides(config, ["vgg_w=0"])
    without = trainer.compute_losses(x_a, x_b, s_a, s_b)
    # gen_total grows by exactly vgg_w * (vgg_a + vgg_b); fp32 sums of ~30: 1e-5 relative
    torch.testing.assert_close(with_vgg["gen_total"] - without["gen_total"],
                               with_vgg["gen_vgg_a"] + with_vgg["gen_vgg_b"], rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- the original's Vgg16, restated
ORIGINAL_VGG_STAGES = [  # (conv names, max-pool after the stage) as networks.py's Vgg16.forward
    (["conv1_1", "conv1_2"], True),
    (["conv2_1", "conv2_2"], True),
    (["conv3_1", "conv3_2", "conv3_3"], True),
    (["conv4_1", "conv4_2", "conv4_3"], False),  # no pool before conv5_1 in the original
    (["conv5_1", "conv5_2", "conv5_3"], False),
]


def original_vgg_features(state, x, last):
    """The original Vgg16 up to ``last`` ("relu4_3" or "relu5_3"): 3x3 convs, ReLU, pools as listed."""
    for names, pool in ORIGINAL_VGG_STAGES:
        for name in names:
            x = torch.relu(torch.nn.functional.conv2d(x, state[f"{name}.weight"], state[f"{name}.bias"], padding=1))
            if name == last.replace("relu", "conv"):
                return x
        if pool:
            x = torch.nn.functional.max_pool2d(x, kernel_size=2, stride=2)
    raise AssertionError(last)


def original_vgg_loss(state, img, target, last):
    """trainer.compute_vgg_loss: BGR, [0, 255] minus Caffe means, InstanceNorm2d(512) features, MSE."""
    def prep(batch):
        r, g, b = torch.chunk(batch, 3, dim=1)
        batch = (torch.cat((b, g, r), dim=1) + 1) * 255 * 0.5
        mean = torch.tensor([103.939, 116.779, 123.680]).view(1, 3, 1, 1)
        return batch - mean

    norm = torch.nn.InstanceNorm2d(512, affine=False)
    return torch.mean((norm(original_vgg_features(state, prep(img), last))
                       - norm(original_vgg_features(state, prep(target), last))) ** 2)


@pytest.fixture(scope="module")
def full_vgg_file(tmp_path_factory):
    """A random 13-conv VGG-16 in the original layout, scaled so activations stay O(1)."""
    torch.manual_seed(2)
    weights, previous = {}, 3
    for names, _ in ORIGINAL_VGG_STAGES:
        for name in names:
            cout = min(64 * 2 ** (int(name[4]) - 1), 512)
            weights[f"{name}.weight"] = torch.randn(cout, previous, 3, 3) * (2.0 / (9 * previous)) ** 0.5
            weights[f"{name}.bias"] = torch.randn(cout) * 0.01
            previous = cout
    weights["conv1_1.weight"] = weights["conv1_1.weight"] / 100.0  # inputs are in [0, 255] minus means
    folder = tmp_path_factory.mktemp("vgg_full")
    (folder / "models").mkdir()
    torch.save(weights, folder / "models" / "vgg16.weight")
    return weights, folder


@pytest.mark.parametrize("last, stride", [("relu5_3", 8), ("relu4_3", 8)])
def test_features_and_loss_equal_the_original_vgg16(full_vgg_file, last, stride):
    weights, folder = full_vgg_file
    vgg = load_vgg16(str(folder), last)  # the original's folder layout: <path>/models/vgg16.weight
    torch.manual_seed(3)
    img, target = torch.rand(2, 3, 72, 120) * 2 - 1, torch.rand(2, 3, 72, 120) * 2 - 1
    features = vgg(vgg_preprocess(img))
    expected = original_vgg_features(weights, vgg_preprocess(img), last)
    assert features.shape == (2, 512, 72 // stride, 120 // stride) == expected.shape
    torch.testing.assert_close(features, expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())
    # fp32 losses: 1e-5 relative (the README's fidelity tolerance)
    assert vgg_loss(vgg, img, target).item() == pytest.approx(original_vgg_loss(weights, img, target, last).item(),
                                                             rel=1e-5)


def test_a_folder_without_the_weights_is_a_clear_error(tmp_path):
    with pytest.raises(MunitError, match="models/vgg16.weight"):
        load_vgg16(str(tmp_path), "relu5_3")
