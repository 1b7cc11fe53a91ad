"""Bad input, one row each: ValueError from the API naming the field, what it got and what is allowed; from the CLI
one line on stderr and exit code 2, never a traceback. Interrupts and broken stdout end in one line too."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from gdcore import RunConfig, RunSetup
from gdcore.cli import main

RUN_CLI = [  # (arguments of `gdcore run`, what the one line must say)
    (["--batch-size", "0"], "invalid batch_size 0; allowed: an integer from 1 to N"),
    (["--batch-size", "7001", "--workload", "synth-regression", "--samples", "10"], "allowed: an integer from 1 to N=7000"),
    (["--batch-size", "many"], "invalid batch size 'many'"),
    (["--lr", "0"], "invalid lr 0.0; allowed: a finite number above 0"),
    (["--lr", "-0.1"], "invalid lr -0.1"),
    (["--lr", "nan"], "invalid lr nan"),
    (["--lr", "inf"], "invalid lr inf"),
    (["--lr", "fast"], "invalid learning rate 'fast'"),
    (["--workload", "cifar"], "invalid workload 'cifar'; allowed: mnist-logreg"),
    (["--feed", "disk"], "invalid feed 'disk'; allowed: preloaded, dataloader"),
    (["--path", "disk"], "invalid feed 'disk'"),
    (["--step", "tensorflow"], "invalid step 'tensorflow'; allowed: autograd, optim, closed-form, fused"),
    (["--impl", "tensorflow"], "invalid step 'tensorflow'"),
    (["--step", "fused", "--workload", "synth-binary"], "step 'fused' cannot run synth-binary on"),
    (["--step", "c-loop", "--workload", "toy-linear"], "step 'c-loop' cannot run toy-linear"),
    (["--device", "tpu"], "invalid device 'tpu'; allowed: auto, cpu, cuda"),
    (["--dtype", "float16"], "invalid dtype 'float16'; allowed: float32, float64"),
    (["--epochs", "0"], "invalid epochs 0.0"),
    (["--epochs", "inf"], "invalid epochs inf"),
    (["--samples", "-5"], "invalid samples -5"),
    (["--samples", "1.5"], "invalid budget '1.5'"),
    (["--target", "1.5"], "target 1.5 is outside the range of test_accuracy"),
    (["--workload", "airfoil-linreg", "--target", "-1"], "target -1.0 is outside the range of train_loss"),
    (["--eval-every", "0"], "invalid eval_every 0"),
    (["--first-eval", "0"], "invalid first_eval 0"),
    (["--seed", "18446744073709551616"], "invalid seed 18446744073709551616; allowed: an integer from 0 to"),
    (["--seed", "-1"], "invalid seed -1"),
    (["--threads", "0"], "invalid threads 0; allowed: an integer from 1 to 4096"),
    (["--threads", "100000000000"], "invalid threads 100000000000"),
    (["--threads", "two"], "invalid thread count 'two'"),
]
if not torch.cuda.is_available():
    RUN_CLI.append((["--device", "cuda"], "device 'cuda' asked for, but torch sees no CUDA GPU"))


def one_line(capsys_or_text) -> str:
    err = capsys_or_text if isinstance(capsys_or_text, str) else capsys_or_text.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gdcore: error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("args,expect", RUN_CLI, ids=[" ".join(a) for a, _ in RUN_CLI])
def test_run_bad_input_is_one_line_and_exit_2(args, expect, capsys, tmp_path):
    # argparse errors leave through SystemExit, ours through the return code: sys.exit makes both one exit code
    with pytest.raises(SystemExit) as e:
        sys.exit(main(["run", "--quiet", "--no-download", "--data-dir", str(tmp_path), *args]))
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and expect in one_line(err)


API = [  # (RunConfig fields, what the ValueError must say): types and ranges, checked when the config is made
    ({"batch_size": 0}, "invalid batch_size 0"), ({"batch_size": True}, "invalid batch_size True"),
    ({"batch_size": 1.5}, "invalid batch_size 1.5"), ({"batch_size": "half"}, "invalid batch_size 'half'"),
    ({"lr": float("nan")}, "invalid lr nan"), ({"lr": True}, "invalid lr True"), ({"lr": "0.1"}, "invalid lr '0.1'"),
    ({"epochs": True}, "invalid epochs True"), ({"epochs": float("inf")}, "invalid epochs inf"),
    ({"epochs": -1}, "invalid epochs -1"), ({"samples": True}, "invalid samples True"),
    ({"samples": 1.5}, "invalid samples 1.5"), ({"samples": float("inf")}, "invalid samples inf"),
    ({"samples": "100"}, "invalid samples '100'"), ({"samples": 0}, "invalid samples 0"),
    ({"epochs": 1, "samples": 10}, "give the budget as epochs or as samples, not both"),
    ({"eval_every": 0.5}, "invalid eval_every 0.5"), ({"eval_every": 0}, "invalid eval_every 0"),
    ({"first_eval": -3}, "invalid first_eval -3"),
    ({"seed": "0"}, "invalid seed '0'"), ({"seed": None}, "invalid seed None"), ({"seed": 2**64}, "invalid seed"),
    ({"seed": 1.0}, "invalid seed 1.0"), ({"threads": 1.5}, "invalid threads 1.5"),
    ({"threads": 0}, "invalid threads 0"), ({"threads": 10**11}, "invalid threads"),
    ({"init": 5}, "invalid init 5"), ({"init": "normal:-1"}, "invalid init 'normal:-1'"),
    ({"init": "glorot"}, "invalid init 'glorot'"), ({"init": "const:nan"}, "invalid init 'const:nan'"),
    ({"workload": ["x"]}, "invalid workload ['x']"), ({"workload": "nope"}, "invalid workload 'nope'"),
    ({"data_dir": 123}, "invalid data_dir 123"), ({"feed": "x"}, "invalid feed 'x'"), ({"step": "x"}, "invalid step 'x'"),
    ({"step": None}, "invalid step None"), ({"device": "x"}, "invalid device 'x'"), ({"dtype": 64}, "invalid dtype 64"),
    ({"target": -0.5}, "outside the range"), ({"target": "high"}, "invalid target 'high'"),
    ({"stop_at_target": "yes"}, "invalid stop_at_target 'yes'"), ({"download": 1}, "invalid download 1"),
    ({"subset": 0}, "invalid subset 0"),
]


@pytest.mark.parametrize("kw,expect", API, ids=[repr(k) for k, _ in API])
def test_api_raises_value_error_naming_the_field(kw, expect):
    with pytest.raises(ValueError) as e:
        RunConfig(**{"workload": "synth-binary", "device": "cpu", **kw})
    assert expect in str(e.value) and "\n" not in str(e.value)
    assert "allowed" in str(e.value) or "not both" in str(e.value)


@pytest.mark.parametrize("kw,expect", [
    ({"workload": "toy-linear", "batch_size": 4}, "from 1 to N=3"),
    ({"workload": "synth-binary", "step": "fused"}, "step 'fused' cannot run synth-binary"),
])
def test_api_errors_that_need_the_data(kw, expect):
    with pytest.raises(ValueError, match=expect):
        RunSetup(RunConfig(device="cpu", **kw))


def test_missing_data_on_the_cli(capsys, tmp_path):
    assert main(["run", "--workload", "mnist-logreg", "--no-download", "--data-dir", str(tmp_path)]) == 2
    assert "GDCORE_DATA_DIR" in one_line(capsys)


OTHER_CLI = [  # (arguments, what the one line must say)
    (["roofline", "--threads", "-1"], "invalid threads -1"),
    (["roofline", "--threads", "0"], "invalid threads 0"),
    (["roofline", "--device", "tpu"], "invalid device 'tpu'; allowed: all, cpu, cuda"),
    (["seeds", "--quick", "--out", "{tmp}"], "is a folder; allowed: a file path"),
    (["seeds", "--quick", "--out", "/proc/version/seeds.md"], "--out /proc/version/seeds.md"),
]
if not torch.cuda.is_available():
    OTHER_CLI.append((["roofline", "--device", "cuda"], "no CUDA GPU here; allowed: cpu, all"))


@pytest.mark.parametrize("args,expect", OTHER_CLI, ids=[" ".join(a) for a, _ in OTHER_CLI])
def test_other_commands_bad_input(args, expect, capsys, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    try:
        code = main(args)
    except SystemExit as e:
        code = e.code
    assert code == 2 and expect.replace("{tmp}", str(tmp_path)) in one_line(capsys)


def test_seeds_checks_its_output_before_working(tmp_path):
    """A bad --out fails in well under the seconds the experiments take, and nothing is written."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gdcore", "seeds", "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "is a folder" in one_line(done.stderr)
    assert time.perf_counter() - t0 < 10 and list(tmp_path.iterdir()) == []


def test_console_command_prints_one_json_object():
    """The installed entry point, end to end: JSON on stdout, progress on stderr; a bad flag exits 2 in one line."""
    ok = subprocess.run([sys.executable, "-m", "gdcore", "run", "--workload", "toy-linear"], capture_output=True,
                        text=True, env={**os.environ, "TQDM_DELAY": "0"})
    assert ok.returncode == 0, ok.stderr
    record = json.loads(ok.stdout)
    assert record["workload"] == "toy-linear" and "toy-linear batch 3: 100%" in ok.stderr
    bad = subprocess.run([sys.executable, "-m", "gdcore", "run", "--lr", "-1"], capture_output=True, text=True)
    assert bad.returncode == 2 and one_line(bad.stderr)
    version = subprocess.run([sys.executable, "-m", "gdcore", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("gdcore ")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_full_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "gdcore", "run", "--workload", "toy-linear", "--quiet"],
                              stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 2 and "cannot write the result to stdout" in one_line(done.stderr)


def test_closed_stdout_is_one_line():
    done = subprocess.run(f"{sys.executable} -m gdcore run --workload toy-linear --quiet >&-", shell=True,
                          stderr=subprocess.PIPE, text=True)
    assert done.returncode == 2 and "stdout is closed" in one_line(done.stderr)


def test_broken_pipe_is_one_line():
    done = subprocess.run(f"{sys.executable} -m gdcore run --workload toy-linear --quiet | head -c 0", shell=True,
                          stderr=subprocess.PIPE, text=True)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") <= 1


@pytest.mark.parametrize("delay", [0.2, 0.4, 0.6, 1.2])
def test_ctrl_c_during_start_up_is_one_line(delay):
    """Ctrl-C while torch is still being imported: one line and exit 130, no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "gdcore", "run", "--workload", "toy-linear", "--epochs", "100000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and proc.returncode in (130, -signal.SIGINT), err
    if proc.returncode == 130:
        assert err.strip().splitlines()[-1] == "gdcore: interrupted"
