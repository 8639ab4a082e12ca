"""The golden files: one JSON file per scenario, plus how the recording was made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
RECORDING = "_recording.json"  # the real server's version and settings


def write_scenario(name: str, exchanges: list[dict], directory: Path = GOLDEN_DIR) -> Path:
    path = directory / f"{name}.json"
    _write(path, {"scenario": name, "exchanges": exchanges})
    return path


def read_scenario(name: str, directory: Path = GOLDEN_DIR) -> list[dict] | None:
    """The recorded exchanges of a scenario; None when it was never recorded."""
    path = directory / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["exchanges"]


def write_recording(facts: dict[str, Any], directory: Path = GOLDEN_DIR) -> None:
    _write(directory / RECORDING, facts)


def read_recording(directory: Path = GOLDEN_DIR) -> dict[str, Any]:
    return json.loads((directory / RECORDING).read_text())


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
