"""Original-format checkpoints: exact key names, round trips, tolerated legacy keys, clear errors."""
import json
import os

import pytest
import torch

import munit_fast
from munit_fast.checkpoint import (
    atomic_save,
    build_generators,
    load_discriminators,
    load_generator_state,
    save_discriminators,
    save_generators,
)
from munit_fast.config import config_from_dict
from munit_fast.errors import MunitError
from munit_fast.model import MsImageDis
from tests.conftest import DATA, REFERENCE, TINY_MODEL


def test_full_size_key_names_order_and_shapes_match_the_original():
    with open(os.path.join(DATA, "official_full_size_keys.json")) as handle:
        expected = json.load(handle)
    config = config_from_dict({})
    gen_a, _ = build_generators(config)
    dis = MsImageDis(3, config.dis)
    assert [(k, list(v.shape)) for k, v in gen_a.state_dict().items()] == list(expected["gen"].items())
    assert [(k, list(v.shape)) for k, v in dis.state_dict().items()] == list(expected["dis"].items())
    assert abs(sum(p.numel() for p in gen_a.parameters()) / 1e6 - 15.0) < 0.05  # the spec's 15.0 M


def test_generator_round_trip_is_identical(tmp_path, reference_config, reference_checkpoint):
    gen_a, gen_b = munit_fast.load_generators(reference_config, reference_checkpoint)
    path = tmp_path / "gen_00000002.pt"
    save_generators(gen_a, gen_b, path)
    original = torch.load(reference_checkpoint, weights_only=True)
    saved = torch.load(path, weights_only=True)
    for domain in "ab":
        assert list(saved[domain]) == list(original[domain])
        for key in original[domain]:
            assert torch.equal(saved[domain][key], original[domain][key]), key


def test_discriminator_round_trip_is_identical(tmp_path, reference_config):
    dis_a, dis_b = MsImageDis(3, reference_config.dis), MsImageDis(3, reference_config.dis)
    load_discriminators(dis_a, dis_b, os.path.join(REFERENCE, "dis_00000001.pt"))
    save_discriminators(dis_a, dis_b, tmp_path / "dis.pt")
    original = torch.load(os.path.join(REFERENCE, "dis_00000001.pt"), weights_only=True)
    saved = torch.load(tmp_path / "dis.pt", weights_only=True)
    assert list(saved["a"]) == list(original["a"])
    assert all(torch.equal(saved["b"][k], original["b"][k]) for k in original["b"])


def test_pytorch_03_extra_instance_norm_buffers_are_ignored(reference_config, reference_checkpoint):
    state = torch.load(reference_checkpoint, weights_only=True)
    for domain in "ab":
        state[domain]["enc_content.model.0.norm.running_mean"] = torch.zeros(8)
        state[domain]["enc_content.model.0.norm.running_var"] = torch.ones(8)
    gen_a, gen_b = build_generators(reference_config)
    load_generator_state(gen_a, gen_b, state)
    reference = torch.load(reference_checkpoint, weights_only=True)
    assert torch.equal(gen_a.state_dict()["dec.model.5.conv.weight"], reference["a"]["dec.model.5.conv.weight"])


@pytest.mark.parametrize("override, hint", [
    ({"n_res": 3}, "gen.n_res"),
    ({"n_downsample": 3}, "gen.n_downsample"),
    ({"dim": 16}, "gen.dim"),
    ({"style_dim": 4}, "gen.style_dim"),
    ({"mlp_dim": 64}, "gen.mlp_dim"),
])
def test_checkpoint_for_another_config_names_the_config_value(reference_checkpoint, override, hint):
    model = dict(TINY_MODEL)
    model["gen"] = {**TINY_MODEL["gen"], **override}
    config = config_from_dict(model)
    with pytest.raises(MunitError, match=hint.replace(".", r"\.")) as info:
        munit_fast.load_generators(config, reference_checkpoint)
    assert "\n" not in str(info.value)


def test_input_channel_mismatch_names_input_dim(reference_checkpoint):
    config = config_from_dict({**TINY_MODEL, "input_dim_a": 1})
    with pytest.raises(MunitError, match="input_dim_a"):
        munit_fast.load_generators(config, reference_checkpoint)


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_pickle_with_code_is_refused(tmp_path, reference_config):
    path = tmp_path / "evil.pt"
    torch.save({"a": _Payload(), "b": {}}, path)
    with pytest.raises(MunitError, match="refused"):
        munit_fast.load_generators(reference_config, path)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all"])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, reference_config, content):
    path = tmp_path / "gen.pt"
    path.write_bytes(content)
    with pytest.raises(MunitError, match="cannot be read"):
        munit_fast.load_generators(reference_config, path)


def test_truncated_checkpoint_error_is_one_short_sentence(tmp_path, reference_config, reference_checkpoint):
    path = tmp_path / "gen.pt"
    path.write_bytes(open(reference_checkpoint, "rb").read()[:1000])  # a download cut short
    with pytest.raises(MunitError) as caught:
        munit_fast.load_generators(reference_config, path)
    message = str(caught.value)
    assert "cannot be read" in message and "is it a complete PyTorch file?" in message
    assert "\n" not in message and len(message) < 300, message  # PyTorch's paragraphs of advice left out


def test_missing_checkpoint_and_wrong_structure(tmp_path, reference_config):
    with pytest.raises(MunitError, match="not found"):
        munit_fast.load_generators(reference_config, tmp_path / "nope.pt")
    torch.save({"gen": {}}, tmp_path / "other.pt")
    with pytest.raises(MunitError, match="expected keys 'a' and 'b'"):
        munit_fast.load_generators(reference_config, tmp_path / "other.pt")


def test_atomic_save_keeps_the_previous_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "gen_00000001.pt"
    atomic_save({"step": 1}, path)

    def crash(obj, handle):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        atomic_save({"step": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"step": 1}
    assert os.listdir(tmp_path) == ["gen_00000001.pt"]  # no temporary file left behind


@pytest.mark.parametrize("norm", ["bn", "in", "ln", "sn"])
def test_every_discriminator_norm_round_trips(tmp_path, norm):
    config = config_from_dict({**TINY_MODEL, "dis": {**TINY_MODEL["dis"], "norm": norm}})
    dis_a, dis_b = MsImageDis(3, config.dis), MsImageDis(3, config.dis)
    save_discriminators(dis_a, dis_b, tmp_path / "dis.pt")
    copy_a, copy_b = MsImageDis(3, config.dis), MsImageDis(3, config.dis)
    load_discriminators(copy_a, copy_b, tmp_path / "dis.pt")
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        if norm == "sn":  # the power iteration updates u, v in place: compare from the same state
            assert all(torch.equal(p, q) for p, q in zip(dis_a.state_dict().values(), copy_a.state_dict().values()))
        else:
            for out, ref in zip(copy_a.eval()(x), dis_a.eval()(x)):
                torch.testing.assert_close(out, ref, atol=0, rtol=0)
