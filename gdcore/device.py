"""The device, resolved once: every device-dependent choice (pin_memory, non_blocking, synchronize) lives here."""
from __future__ import annotations

import platform
from dataclasses import dataclass

import torch

from .errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")  # "auto": cuda when torch sees a GPU, else cpu


@dataclass(frozen=True)
class Device:
    type: str  # "cpu" or "cuda"
    torch_device: torch.device
    name: str  # CPU model or GPU name, for records

    @property
    def pin_memory(self) -> bool:
        return self.type == "cuda"

    @property
    def non_blocking(self) -> bool:
        return self.type == "cuda"

    def sync(self) -> None:
        """Waits for queued device work, so a clock read after it is honest; a no-op on the CPU."""
        if self.type == "cuda":
            torch.cuda.synchronize(self.torch_device)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cuda_available() -> bool:
    return torch.cuda.is_available()


def resolve_device(name: str, local_rank: int | None = None) -> Device:
    """The device of a run; with data parallelism on CUDA, one GPU per rank (local_rank)."""
    if name == "auto":
        name = "cuda" if cuda_available() else "cpu"
    if name == "cpu":
        return Device("cpu", torch.device("cpu"), cpu_name())
    if name == "cuda":
        if not cuda_available():
            raise ConfigError("device 'cuda' asked for, but torch sees no CUDA GPU here; allowed: cpu, auto")
        if local_rank is not None:
            if local_rank >= torch.cuda.device_count():
                raise ConfigError(f"rank {local_rank} needs its own GPU, but torch sees {torch.cuda.device_count()}; "
                                  f"allowed: a world size up to the GPU count on CUDA, or --device cpu")
            torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", torch.cuda.current_device())
        return Device("cuda", dev, torch.cuda.get_device_name(dev))
    raise ConfigError(f"invalid device {name!r}; allowed: {', '.join(DEVICES)}")
