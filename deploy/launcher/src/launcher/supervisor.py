"""Keeping the fleet's processes running: a process that exits is started again, after a delay
that doubles while it keeps failing, as a process manager would in a real deployment.

The running processes' pids are kept in `<var_dir>/fleet-pids.json`. A process named in
`<var_dir>/hold/` (an empty file of its name, e.g. `hold/inventory-worker`) is not restarted
while the file exists: an operator's maintenance window, and how the chaos tests keep a worker
down for as long as they need.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PIDS_FILE = "fleet-pids.json"
HOLD_DIR = "hold"


@dataclass
class Supervised:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    failures: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float = 0.0  # how long the last restart was put off


@dataclass
class Supervisor:
    var_dir: Path
    env: dict[str, str]
    restart_delay: float = 1.0
    max_restart_delay: float = 30.0
    healthy_after: float = 60.0  # a process up this long starts its failure count afresh
    children: dict[str, Supervised] = field(default_factory=dict)

    def start(self, commands: list[tuple[str, list[str]]]) -> None:
        (self.var_dir / HOLD_DIR).mkdir(parents=True, exist_ok=True)
        for name, command in commands:
            child = Supervised(name, command)
            self.children[name] = child
            self._spawn(child)
        self._write_pids()

    def tick(self, now: float | None = None) -> None:
        """Notice exits and start again what is due; call it a few times a second."""
        now = time.monotonic() if now is None else now
        changed = False
        for child in self.children.values():
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                child.process = None
                if now - child.started_at >= self.healthy_after:
                    child.failures = 0
                child.failures += 1
                delay = min(self.restart_delay * 2 ** (child.failures - 1),
                            self.max_restart_delay)
                child.restart_at, child.delay = now + delay, delay
                print(f"launcher: {child.name} exited with {code}; starting it again in "
                      f"{delay:.1f} s", file=sys.stderr, flush=True)
                changed = True
            if child.process is None and child.restart_at is not None \
                    and now >= child.restart_at and not self.held(child.name):
                self._spawn(child, now)
                print(f"launcher: {child.name} started again (pid {child.process.pid})",  # type: ignore[union-attr]
                      file=sys.stderr, flush=True)
                changed = True
        if changed:
            self._write_pids()

    def held(self, name: str) -> bool:
        return (self.var_dir / HOLD_DIR / name).exists()

    def stop(self, timeout: float = 10.0) -> None:
        running = [c.process for c in self.children.values()
                   if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    def _spawn(self, child: Supervised, now: float | None = None) -> None:
        child.process = subprocess.Popen(child.command, env=self.env)
        child.started_at = time.monotonic() if now is None else now
        child.restart_at = None

    def _write_pids(self) -> None:
        pids = {name: child.process.pid for name, child in self.children.items()
                if child.process is not None}
        path = self.var_dir / PIDS_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(pids, indent=2, sort_keys=True))
        temporary.replace(path)
