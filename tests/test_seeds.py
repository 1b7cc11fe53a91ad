"""The quick seed experiments (documents 001, 002, 004) against their published figures."""
import pytest

from gdcore.seeds import Context, seed001, seed002, seed004


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Context(None, tmp_path_factory.mktemp("seeds"), [])


def test_seed001_float32_sgd_prints_the_published_prediction(ctx):
    gd, sgd = seed001(ctx)
    assert gd.ours.startswith("7.99977")  # what the GD code shown computes: 4 (2 - 0.90667^100)
    assert "7.999998569" in gd.verdict and gd.verdict.startswith("not reproduced")
    assert sgd.ours.endswith("7.999998569 (float32)")  # the published figure, reproduced digit for digit


def test_seed002_manual_updates_match_published_losses(ctx, data_root):
    losses = [r for r in seed002(ctx) if "weights N(0, 0.01)" in r.experiment]
    assert len(losses) == 3
    for r in losses:  # GD 0.245426 within 0.002, SGD 0.246051 and mini-batch 0.242805 within 0.005
        assert r.verdict.startswith("reproduced"), r
        assert abs(float(r.difference)) <= 0.005


def test_seed004_numpy_and_gdcore_give_the_same_loss_sequence(ctx):
    for r in seed004(ctx):
        assert r.verdict.startswith("reproduced")
        assert float(r.difference.rsplit(" ", 1)[1]) < 1e-9
