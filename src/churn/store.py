"""File layouts and atomic writes: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

INFERRED_SPEC = "inferred.yaml"
VALIDATION_REPORT = "validation_report.json"


def write_text_atomically(text: str, path: Path) -> Path:
    """Write beside the target and rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomically(document: Any, path: Path) -> Path:
    return write_text_atomically(json.dumps(document, indent=2, default=str) + "\n", path)
