"""Fingerprints of a step's inputs, so `make train` can skip steps whose inputs did not change."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)


def file_state(paths: Iterable[str | Path]) -> list[list]:
    """Name, size and modification time of each file (not its bytes: cheap on big tables)."""
    out = []
    for path in sorted(str(p) for p in paths):
        p = Path(path)
        stat = p.stat() if p.exists() else None
        out.append([path, stat.st_size if stat else None, stat.st_mtime_ns if stat else None])
    return out


def code_state(modules: Iterable[ModuleType]) -> str:
    """A hash of the source of the modules (a package counts with every file in it)."""
    digest = hashlib.sha256()
    for module in modules:
        root = Path(module.__file__)
        files = sorted(root.parent.rglob("*.py")) if root.name == "__init__.py" else [root]
        for f in files:
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(**parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def unchanged(record: Path, key: str, value: str, step: str) -> bool:
    """True (and says so) when the step's last output was built from the same inputs."""
    if not record.exists():
        return False
    try:
        previous = json.loads(record.read_text()).get(key)
    except (OSError, json.JSONDecodeError):
        return False
    if previous == value:
        log.info(
            "%s: inputs unchanged since the last run (%s), skipping; force=true rebuilds",
            step,
            value,
        )
        return True
    return False


__all__ = ["code_state", "file_state", "fingerprint", "unchanged"]
