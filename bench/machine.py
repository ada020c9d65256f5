"""Facts about the machine and database a run was made on, printed with every result."""

from __future__ import annotations

import os
import platform
from typing import Any

import django
from django.db import connection


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def machine_facts() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
        settings = {}
        for name in ("shared_buffers", "work_mem", "max_connections", "jit"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "postgresql": server_version,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "django": django.get_version(),
        "load_average_at_start": load_average(),
    }
