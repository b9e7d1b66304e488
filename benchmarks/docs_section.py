"""Writing a benchmark's results into docs/benchmarks.md: its `## ` section replaced in place,
or added at the end the first time."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(title: str, section: str, path: Path = DOC) -> None:
    """Replace the section that starts with the heading `title` (up to the next `## `) by
    `section`, which starts with that heading."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = text.find(title)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        # One blank line between this section and the next, however `section` ends.
        text = text[:start] + section.rstrip("\n") + "\n" + (
            "\n" + text[end + 1:] if end != -1 else "")
    path.write_text(text)
