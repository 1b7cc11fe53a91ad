"""The seed reproductions: the quick experiments against their published figures, and the pieces every row and the
batch chart rest on (float32 ulps, the spread over seeds, the header, the chart's colours)."""
import math
import re

import numpy as np
import pytest

from gdcore.seeds import Context, header, seed001, seed002, seed004, seed004_claims, seed004_zeros_linear, write
from gdcore.seeds.common import DETERMINISTIC, SEEDS, Row, Spread, seeds_label, ulps_below
from gdcore.seeds.doc001 import post_sgd_float32
from gdcore.seeds.doc002 import GD_INITS
from gdcore.seeds.doc004 import _tanh_stack
from gdcore.seeds import doc000 as slow

STANDARD = seeds_label(SEEDS)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Context(None, tmp_path_factory.mktemp("seeds"), [])


@pytest.fixture(scope="module")
def rows001(ctx):
    return seed001(ctx)


@pytest.fixture(scope="module")
def rows002(ctx, data_root):
    return seed002(ctx)


@pytest.fixture(scope="module")
def rows004(ctx):
    return seed004(ctx) + seed004_claims(ctx)


def steps_up_to(value: float, ref: float) -> int:
    """float32 steps from value to ref, counted one np.nextafter at a time."""
    x, ref, n = np.float32(value), np.float32(ref), 0
    while x < ref:
        x, n = np.nextafter(x, ref, dtype=np.float32), n + 1
    return n


def test_ulps_below_counts_float32_steps():
    assert ulps_below(2.0, 2.0) == 0
    assert ulps_below(float(np.nextafter(np.float32(2), np.float32(0))), 2.0) == 1
    for w, ref in ((1.9999996423721313, 2.0), (1.9999, 2.0), (7.99999, 8.0), (0.99999, 1.00001)):  # last: 2 binades
        assert ulps_below(w, ref) == steps_up_to(w, ref)
    with pytest.raises(ValueError):
        ulps_below(2.5, 2.0)


def test_seed001_float32_sgd_stops_three_ulps_below_two(rows001):
    gd, stall, sgd = rows001
    assert gd.ours.startswith("7.99977") and gd.seeds == DETERMINISTIC  # 4 (2 - 0.90667^100): GD from w = 1
    assert "7.999998569" in gd.verdict and gd.verdict.startswith("not reproduced")
    w = post_sgd_float32()  # the post's loop, samples in its order
    assert f"{4 * float(w):.9f}" == "7.999998569"  # the published prediction, digit for digit
    assert steps_up_to(w, 2.0) == 3 and float(w) == 2 - 3 * 2.0**-23
    assert "3 float32 ulps below 2.0" in stall.ours and "w stalls 3 float32 steps below 2" in stall.verdict
    assert stall.verdict.startswith("reproduced") and stall.seeds == STANDARD
    assert "1.9999996423721313" in stall.ours
    assert sgd.seeds == STANDARD and sgd.verdict.startswith("claim reproduced")


def test_seed002_figures_over_seeds_and_inits(rows002):
    losses = [r for r in rows002 if "weights N(0, 0.01)" in r.experiment]
    assert len(losses) == 3
    for r in losses:  # GD 0.245426 within 0.002, SGD 0.246051 and mini-batch 0.242805 within 0.005
        assert r.verdict.startswith("reproduced"), r
        assert abs(float(r.difference)) <= 0.005
        assert r.seeds == STANDARD and r.ours.startswith("median")
    gd = next(r for r in rows002 if "torch.optim" in r.experiment and ", GD," in r.experiment)
    assert gd.seeds == seeds_label(GD_INITS)
    k, n = map(int, re.search(r"(\d+) of (\d+) inits", gd.ours).groups())
    assert n == len(GD_INITS) and 0 <= k <= n
    assert f"{100 * k / n:.1f} %" in gd.verdict and "not reproduced (tolerance" not in gd.verdict
    timings = [r for r in rows002 if r.experiment.startswith("seconds per epoch")]
    assert [t.published for t in timings] == ["0.013536 / 0.531435 / 0.078792", "0.013035 / 0.586868 / 0.075203"]
    for t in timings:  # ours: three positive medians, SGD's epoch the slowest (1500 steps against 1 and 150)
        gd_s, sgd_s, mb_s = map(float, t.ours.split(" / "))
        assert 0 < gd_s < sgd_s and mb_s < sgd_s and t.seeds == STANDARD
        assert t.verdict.startswith("reproduced: the post's order") == (gd_s < mb_s)


def test_seed004_numpy_and_gdcore_give_the_same_loss_sequence(rows004):
    for r in rows004[:2]:
        assert r.verdict.startswith("reproduced") and r.seeds == STANDARD
        assert float(r.difference.rsplit(" ", 1)[1]) < 1e-9


def test_seed004_listings_run_as_published(rows004):
    grads = next(r for r in rows004 if "y.backward()" in r.experiment)
    assert grads.ours == "tensor([2.]) / tensor([1.]) / tensor([1.])" and grads.verdict.startswith("reproduced")
    listing = next(r for r in rows004 if "torch listing" in r.experiment)
    assert "RuntimeError at line 31" in listing.ours  # y is (100, 10): the loss fails before the update
    assert "NameError at line 45" in listing.ours and "'learning_rate' is not defined" in listing.ours
    assert "500 iterations" in listing.ours and listing.verdict.startswith("reproduced")


def test_tanh_stack_saturates_with_randn_and_collapses_with_small_weights(rows004):
    std, near0, beyond = _tanh_stack(0, 1.0)
    assert beyond > 0.5 and near0 < 0.05 and std > 0.9  # randn: saturated at ±1, not near 0
    std, near0, _ = _tanh_stack(0, 0.01)
    assert std < 1e-3 and near0 == 1.0  # 0.01 randn: the collapse the post describes
    row = next(r for r in rows004 if "tanh" in r.experiment)
    assert row.verdict.startswith("not reproduced for randn") and row.seeds == STANDARD


def test_seed004_zeros_work_for_linear_regression(ctx, data_root):
    (row,) = seed004_zeros_linear(ctx)
    assert row.verdict.startswith("claim holds") and row.seeds == STANDARD
    assert "1.999999999997 (NumPy), 1.999999999997 (gdcore)" in row.ours


# rows with nothing random in them: every other row must name its seeds
DETERMINISTIC_ROWS = {("001", "toy-linear, GD"), ("004", "y = w·x + b"), ("004", "the post's torch listing")}


def test_every_stochastic_row_states_its_seeds(rows001, rows002, rows004, ctx):
    rows = rows001 + rows002 + rows004 + seed004_zeros_linear(ctx)
    for r in rows:
        fixed = any(r.doc == d and r.experiment.startswith(e) for d, e in DETERMINISTIC_ROWS)
        assert (r.seeds == DETERMINISTIC) == fixed, r
        if not fixed:
            assert re.fullmatch(r"\d+-\d+", r.seeds), r  # a range of seeds, the same label the header uses
    spread = [r for r in rows if "median" in r.ours or "mean" in r.ours]
    assert spread and all(r.seeds != DETERMINISTIC for r in spread)


def test_header_says_median_and_names_rows_off_the_standard_seeds(tmp_path):
    rows = [Row("000", "a: x", "1", "median 1 (range 0 to 2)", "–", "ok", STANDARD),
            Row("000", "b long: y", "1", "1", "–", "ok", "0 only (minutes per seed)"),
            Row("001", "c: z", "1", "1", "–", "ok", DETERMINISTIC)]
    text = " ".join(header(rows, quick=False, seconds=1))
    assert "median over those seeds with its range" in text
    assert f"Rows not over seeds {STANDARD}: document 000, b long (seeds 0 only (minutes per seed))." in text
    ctx = Context(None, tmp_path, ["a note"])
    write(rows, ctx, tmp_path / "s.md", 0.0, False)
    lines = (tmp_path / "s.md").read_text().splitlines()
    table = [line for line in lines if line.startswith("| ")]
    assert table[0] == "| document | experiment | seeds | published | ours | difference | verdict |"
    assert table[3].startswith("| 000 | b long: y | 0 only (minutes per seed) |") and lines[-1] == "a note"


def test_spread_and_overlap():
    a, b = Spread.of([1, 2, 9]), Spread.of([3, 4, 5])
    assert (a.median, a.lo, a.hi, a.mean) == (2, 1, 9, 4) and a.overlaps(b) and b.overlaps(a)
    assert not Spread.of([1, 2]).overlaps(Spread.of([2.5, 3]))
    assert a.text(".1f") == "median 2.0 (range 1.0 to 9.0)" and a.text(".1f", "mean").startswith("mean 4.0")


def test_reach_and_its_resolution():
    points = [(0, 0, 0.1), (900, 900, 0.5), (1000, 1000, 0.7), (1050, 1050, 0.8)]
    assert slow._first_at_or_above(points, 0.7) == (1000, 1000, 900)
    assert slow._first_at_or_above(points, 0.9) == (None, None, None)
    r = slow._reach([{"points": points}, {"points": points[:2]}], 0.7)
    assert r["samples"].values == (1000, math.inf) and r["resolution"] == pytest.approx(0.1)


def test_best_lr_verdict_follows_the_spread_not_a_factor():
    def best(values, lr=1.0, interior=True):
        return {"samples": Spread.of(values), "lr": lr, "interior": interior}

    overlapping = {1: best([700, 800, 1500]), 64: best([1400, 1600, 2000])}  # medians a factor 2 apart
    text = slow._best_verdict(overlapping)
    assert "a factor 2.0" in text and "overlaps that of batch 1, so these seeds do not show" in text
    assert "fewest samples" not in text and "interior to the grid" in text
    apart = {1: best([700, 750, 800]), 8: best([780, 790, 900]), 64: best([1400, 1600, 2000], interior=False)}
    text = slow._best_verdict(apart)
    assert "fewest samples at batch 1, 8" in text and "64 need more" in text and "edge of the grid for batch 64" in text


def test_fixed_budgets_cover_the_posts_counts():
    for bs, (_, counts, _) in slow.POST.items():
        assert max(counts) <= slow.FIXED[bs][0] and max(counts) % slow.FIXED[bs][1] == 0  # a full evaluation there


def test_batch_chart_one_colour_per_batch_and_nothing_at_zero():
    def fake(bs, seed):
        n = [0, 100, 1000, 10000, 37500, 100000]
        return {"points": [(s, s // bs, 0.1 + 0.6 * s / 100000 + 0.01 * seed) for s in n],
                "loss": [(s, 2.3 - s / 1e6) for s in n[::2]], "final": 0.7}

    runs = {bs: [fake(bs, s) for s in range(3)] for bs in (1, 4, 8, 20)}
    fig = slow._draw_batches(runs, 0.5)
    colours = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if not line.get_gid():  # the reference line, drawn across the axes
                continue
            colours.setdefault(line.get_gid(), set()).add(line.get_color())
            if ax.get_xscale() == "log":
                assert (np.asarray(line.get_xdata(), dtype=float) > 0).all(), line.get_label()  # no made-up x
    assert set(colours) == {f"batch {bs}" for bs in runs}
    assert all(len(c) == 1 for c in colours.values()), colours  # batch 8 keeps its colour in every panel
    assert len({next(iter(c)) for c in colours.values()}) == len(runs)


def fake_fixed_runs(seeds=3):
    """Runs of document 000's fixed-lr study where accuracy depends on the steps only (as at a small fixed lr)."""
    def points(bs, seed):
        budget = slow.FIXED[bs][0]
        grid = sorted({int(300 * 1.05**i) // bs * bs for i in range(200)} | set(slow.POST.get(bs, (0, ()))[1]))
        grid = [0] + [n for n in grid if 0 < n <= budget]
        return [(n, n // bs, 0.1 + 0.6 * (n // bs) / 37_500 + 0.001 * seed) for n in grid]

    return {bs: [{"points": points(bs, s), "loss": [], "final": 0.83 + 0.001 * s} for s in range(seeds)]
            for bs in slow.FIXED}


def test_fixed_lr_rows_from_the_runs():
    runs = fake_fixed_runs()
    ref = slow.statistics.median(slow._accuracy_at(r["points"], 37_500) for r in runs[1])
    reach = {bs: slow._reach(seeds, ref) for bs, seeds in runs.items()}
    final, high = slow._batch1_rows(runs)
    assert final.verdict.startswith("reproduced") and final.ours.startswith("median 0.8310")
    assert high.verdict.startswith("not reproduced") and "still rising" in high.verdict  # 0.70 against 0.83
    b8, b20 = (slow._post_row(bs, runs[bs], reach[bs], ref) for bs in (8, 20))
    assert b8.verdict.startswith("reproduced") and "median 300,000" in b8.ours  # 37500 steps of batch 8
    assert b20.verdict.startswith("not reproduced") and "resolved to within 5 %" in b20.verdict
    median = int(re.match(r"median ([\d,]+)", b20.ours).group(1).replace(",", ""))
    assert 750_000 <= median <= 750_000 / 0.95  # 37500 steps of batch 20, found on the 5 % schedule
    claim = slow._fixed_claim_row(reach, ref)
    assert claim.verdict.startswith("claim holds") and "differ by at most a factor 1.0" in claim.verdict
    assert all(r.seeds == STANDARD for r in (final, high, b8, b20, claim))


def test_advice_row_names_the_tied_best_batches():
    def best(samples, steps, seconds):
        return {"samples": Spread.of(samples), "steps": Spread.of(steps), "seconds": Spread.of(seconds), "lr": 1.0,
                "interior": True, "resolution": 0.04}

    rows = slow._best_rows({1: best([800, 900], [800, 900], [0.3, 0.4]), 8: best([850, 950], [110, 120], [0.1, 0.12]),
                            64: best([1300, 1400], [20, 22], [0.05, 0.06])})
    claim, advice = rows
    assert claim.difference == "resolved to within 4 %" and claim.seeds == advice.seeds == STANDARD
    assert "fewest samples: batch 1, 8; fewest steps: batch 64; fewest seconds: batch 64" in advice.verdict
    assert advice.verdict.endswith("batch 8 is not among the best on steps, seconds")
