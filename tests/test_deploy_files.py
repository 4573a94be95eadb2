"""The deployment files the README documents are valid for the tools that read them (nginx
runs deploy/nginx.conf in tests/test_cluster.py and tests/browser/test_deploy.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("needs systemd-analyze (Debian's systemd)")
    unit = (ROOT / "deploy" / "shop@.service").read_text()
    assert "ExecStart=/opt/shop/.venv/bin/shop serve --port %i" in unit
    # As installed, for one instance; the program is this checkout's, so it exists.
    instance = tmp_path / "shop@8081.service"
    instance.write_text(
        unit.replace("/opt/shop/.venv/bin/shop", str(Path(sys.executable).parent / "shop"))
    )
    done = subprocess.run(
        [analyze, "verify", str(instance)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr
