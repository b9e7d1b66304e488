"""The gateway's token-signing key pair, kept as PEM files."""

from __future__ import annotations

import os
from pathlib import Path

from servicekit.identity import generate_keypair


def ensure_keys(directory: Path) -> tuple[Path, Path]:
    """(private.pem, public.pem) in `directory`, made once and kept."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "private.pem", directory / "public.pem"
    if not (private.exists() and public.exists()):
        private_pem, public_pem = generate_keypair()
        private.write_text(private_pem)
        os.chmod(private, 0o600)
        public.write_text(public_pem)
    return private, public
