"""Compute sizes: Azure VM size names people already write in their YAML, mapped to the per-job
limits Studio's backends enforce (CPU cores, memory, GPUs).

Studio does not rent machines, so a size here is a promise about one job, not a VM: the docker
backend turns it into container limits, the venv backend into rlimits/cgroups where it can.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    cpu_cores: float
    memory_mb: int
    gpus: int = 0

    @property
    def label(self) -> str:
        return f"{self.name} ({describe(self.cpu_cores, self.memory_mb, self.gpus)})"


def describe(cpu_cores: float, memory_mb: int, gpus: int) -> str:
    """'4 cores, 14 GB RAM, 1 GPU' — the size as people read it."""
    cores = f"{cpu_cores:g} core{'s' if cpu_cores != 1 else ''}"
    memory = f"{memory_mb / 1024:g} GB RAM" if memory_mb >= 1024 else f"{memory_mb} MB RAM"
    parts = [cores, memory]
    if gpus:
        parts.append(f"{gpus} GPU{'s' if gpus != 1 else ''}")
    return ", ".join(parts)


SIZES: list[Size] = [
    Size("Standard_DS1_v2", 1, 3584),
    Size("Standard_DS2_v2", 2, 7168),
    Size("Standard_DS3_v2", 4, 14336),
    Size("Standard_DS4_v2", 8, 28672),
    Size("Standard_DS11_v2", 2, 14336),
    Size("Standard_DS12_v2", 4, 28672),
    Size("Standard_D2s_v3", 2, 8192),
    Size("Standard_D4s_v3", 4, 16384),
    Size("Standard_D8s_v3", 8, 32768),
    Size("Standard_D16s_v3", 16, 65536),
    Size("Standard_E4s_v3", 4, 32768),
    Size("Standard_F4s_v2", 4, 8192),
    Size("Standard_NC4as_T4_v3", 4, 28672, 1),
    Size("Standard_NC6", 6, 57344, 1),
    Size("Standard_NC6s_v3", 6, 114688, 1),
    Size("Standard_NC24", 24, 229376, 4),
]
BY_NAME: dict[str, Size] = {s.name.lower(): s for s in SIZES}
DEFAULT_SIZE = "Standard_DS3_v2"
CUSTOM = "custom"


def lookup(name: str) -> Size | None:
    """A size by name, case-insensitively (Azure accepts STANDARD_DS3_V2 and Standard_DS3_v2)."""
    return BY_NAME.get(str(name).strip().lower())


def matching(cpu_cores: float, memory_mb: int, gpus: int) -> Size | None:
    """The catalogue size with exactly these limits, if any."""
    for size in SIZES:
        if (size.cpu_cores, size.memory_mb, size.gpus) == (cpu_cores, memory_mb, gpus):
            return size
    return None


@dataclass(frozen=True)
class Machine:
    """The biggest machine Studio sees (this host, or a node's reported capacity)."""

    cpu_count: int
    memory_mb: int
    gpus: int = 0


def fits(size: Size, machine: Machine) -> bool:
    return size.cpu_cores <= machine.cpu_count and size.memory_mb <= machine.memory_mb and size.gpus <= machine.gpus


def fitting(machine: Machine) -> list[Size]:
    """The catalogue sizes one job of which fits on `machine`."""
    return [size for size in SIZES if fits(size, machine)]


def default_for(machine: Machine) -> dict:
    """Limits of a new target that fit `machine`: DEFAULT_SIZE when it fits, else the biggest
    CPU-only size that does, else the machine's own cores and three quarters of its memory."""
    size = lookup(DEFAULT_SIZE)
    if size is None or not fits(size, machine):
        cpu_only = [s for s in fitting(machine) if not s.gpus]
        size = max(cpu_only, key=lambda s: (s.cpu_cores, s.memory_mb), default=None)
    if size is not None:
        return {"size": size.name, "cpu_cores": size.cpu_cores, "memory_mb": size.memory_mb, "gpus": size.gpus}
    return {
        "size": "",
        "cpu_cores": max(1, machine.cpu_count),
        "memory_mb": max(256, machine.memory_mb * 3 // 4),
        "gpus": 0,
    }
