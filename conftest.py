"""Shared test and benchmark fixtures: where the real data are, and what to say when they are not there."""
from __future__ import annotations

from pathlib import Path

import pytest

from gdcore.data import data_dir as _data_dir, present


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The data directory the project reads ($GDCORE_DATA_DIR, else ./data); skips when MNIST or airfoil are absent."""
    root = _data_dir(None)
    have = present(root)
    if not all(have.values()):
        missing = [k for k, v in have.items() if not v]
        pytest.skip(f"{', '.join(missing)} not in {root.resolve()}; set GDCORE_DATA_DIR to a folder holding "
                    f"MNIST/raw/ and airfoil/airfoil_self_noise.dat")
    return root
