"""Bad input: ValueError from the API, and from the CLI one line on stderr with exit code 2, never a traceback."""
import json
import subprocess
import sys

import pytest
import torch

from gdcore import RunConfig, Trainer
from gdcore.cli import main

BAD = [  # (CLI arguments, what the message must say)
    (["--batch-size", "0"], "invalid batch size 0; allowed: an integer from 1 to N"),
    (["--batch-size", "7001", "--workload", "synth-regression", "--samples", "10"], "allowed: an integer from 1 to N=7000"),
    (["--batch-size", "many"], "invalid batch size 'many'"),
    (["--lr", "0"], "invalid learning rate 0"),
    (["--lr", "-0.1"], "invalid learning rate -0.1"),
    (["--lr", "nan"], "invalid learning rate nan"),
    (["--lr", "inf"], "invalid learning rate inf"),
    (["--lr", "fast"], "invalid learning rate 'fast'"),
    (["--workload", "cifar"], "unknown workload 'cifar'; allowed: mnist-logreg"),
    (["--path", "disk"], "unknown path 'disk'; allowed: dataloader, preloaded"),
    (["--impl", "jax"], "unknown impl 'jax'; allowed: autograd, optim, closed-form"),
    (["--device", "tpu"], "unknown device 'tpu'; allowed: auto, cpu, cuda"),
    (["--epochs", "0"], "invalid budget: epochs 0"),
    (["--samples", "-5"], "invalid budget: samples -5"),
    (["--target", "1.5"], "target 1.5 is outside the range of test_accuracy"),
    (["--workload", "airfoil-linreg", "--target", "-1"], "target -1.0 is outside the range of train_loss"),
    (["--eval-every", "0"], "invalid eval_every 0"),
]
if not torch.cuda.is_available():
    BAD.append((["--device", "cuda"], "device 'cuda' asked for, but torch sees no CUDA GPU"))


@pytest.mark.parametrize("args,expect", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_cli_bad_input_is_one_line_and_exit_2(args, expect, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        sys.exit(main(["run", "--quiet", "--no-download", "--data-dir", str(tmp_path), *args]))
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("gdcore: error: ")
    assert expect in err and "Traceback" not in err


def test_missing_data_on_the_cli(capsys, tmp_path):
    assert main(["run", "--workload", "mnist-logreg", "--no-download", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MNIST not found" in err and "GDCORE_DATA_DIR" in err


@pytest.mark.parametrize("kw,expect", [
    ({"batch_size": 0}, "invalid batch size"), ({"lr": float("nan")}, "invalid learning rate"),
    ({"workload": "nope"}, "unknown workload"), ({"path": "x"}, "unknown path"), ({"impl": "x"}, "unknown impl"),
    ({"device": "x"}, "unknown device"), ({"samples": 0}, "invalid budget"), ({"epochs": -1}, "invalid budget"),
    ({"target": -0.5}, "outside the range"), ({"init": "glorot"}, "unknown init"),
    ({"workload": "toy-linear", "batch_size": 4}, "from 1 to N=3"),
])
def test_api_raises_value_error(kw, expect):
    with pytest.raises(ValueError, match=expect):
        Trainer(RunConfig(**{"workload": "synth-binary", "device": "cpu", **kw}))


def test_console_command_prints_one_json_object():
    """The installed entry point, end to end: JSON on stdout, progress on stderr; a bad flag exits 2 in one line."""
    ok = subprocess.run([sys.executable, "-m", "gdcore.cli", "run", "--workload", "toy-linear"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    record = json.loads(ok.stdout)
    assert record["workload"] == "toy-linear" and "samples" in ok.stderr
    bad = subprocess.run([sys.executable, "-m", "gdcore.cli", "run", "--lr", "-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
