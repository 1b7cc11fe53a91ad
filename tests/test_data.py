"""The real data sets load with the right shapes; missing and corrupt files give a one-line error."""
import shutil

import pytest
import torch

from gdcore import ConfigError, RunConfig, RunSetup
from gdcore.data import load_airfoil, load_mnist


def test_mnist_shapes_and_scaling(data_root):
    d = load_mnist(str(data_root), False)
    assert d.train_x.shape == (60000, 784) and d.test_x.shape == (10000, 784)
    assert d.train_y.shape == (60000,) and d.test_y.shape == (10000,) and d.train_y.dtype == torch.long
    assert d.train_x.min() == 0 and d.train_x.max() == 1
    x0, y0 = d.dataset()[0]  # the per-sample torchvision Dataset (ToTensor) sees the same pixels
    assert x0.shape == (1, 28, 28) and torch.equal(x0.reshape(-1), d.train_x[0]) and y0 == d.train_y[0]


def test_airfoil_standardized_as_seed_002(data_root):
    d = load_airfoil(str(data_root), False)
    assert d.train_x.shape == (1500, 5) and d.train_y.shape == (1500, 1) and d.test_x is None
    full = torch.cat([d.train_x, d.train_y], 1)
    assert full.mean(0).abs().max() < 0.01 and (full.std(0) - 1).abs().max() < 0.01  # standardized on 1503 rows


@pytest.mark.parametrize("workload,expect", [
    ("mnist-logreg", "MNIST not found in"),
    ("airfoil-linreg", "airfoil file"),
])
def test_missing_data_says_where_it_looked_and_what_to_set(tmp_path, workload, expect):
    with pytest.raises(ValueError) as e:
        RunSetup(RunConfig(workload=workload, data_dir=str(tmp_path / "empty"), download=False))
    msg = str(e.value)
    assert expect in msg and str((tmp_path / "empty").resolve()) in msg
    assert "--data-dir" in msg and "GDCORE_DATA_DIR" in msg and "\n" not in msg


def test_corrupt_mnist_is_reported(tmp_path, data_root):
    raw = tmp_path / "MNIST" / "raw"
    shutil.copytree(data_root / "MNIST" / "raw", raw)
    (raw / "train-images-idx3-ubyte").chmod(0o644)
    with open(raw / "train-images-idx3-ubyte", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(ConfigError, match="corrupt|not found"):
        RunSetup(RunConfig(workload="mnist-logreg", data_dir=str(tmp_path), download=False))


def test_corrupt_airfoil_is_reported(tmp_path):
    (tmp_path / "airfoil").mkdir()
    (tmp_path / "airfoil" / "airfoil_self_noise.dat").write_text("800\t0\t0.3\n1000\tbad\n")
    with pytest.raises(ConfigError, match=r"airfoil file .* is corrupt"):
        RunSetup(RunConfig(workload="airfoil-linreg", data_dir=str(tmp_path), download=False))
