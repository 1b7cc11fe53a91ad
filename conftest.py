"""Shared test and benchmark fixtures: where the real data are, and what to say when they are not there."""
from __future__ import annotations

from pathlib import Path

import pytest

from gdcore.data import data_dir as _data_dir, missing_reason


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The data directory the project reads ($GDCORE_DATA_DIR, else ./data); skips when MNIST or airfoil are absent."""
    root = _data_dir(None)
    reasons = [r for r in (missing_reason(root, name) for name in ("mnist", "airfoil")) if r]
    if reasons:
        pytest.skip(f"{'; '.join(reasons)}; set GDCORE_DATA_DIR to a folder holding MNIST/raw/ and "
                    f"airfoil/airfoil_self_noise.dat")
    return root
