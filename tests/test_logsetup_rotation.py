"""Log files stay private after a rollover (the rotated-in file used to be created 0644)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from tui.logsetup import configure_file_logging


def test_every_log_file_is_0600_after_rotation(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = configure_file_logging(tmp_path / "console.log")
        assert path is not None
        log = logging.getLogger("tui.test.rotation")
        for _ in range(2500):  # about 2.5 MB: past the 2 MB rollover
            log.warning("%s", "x" * 1000)
    finally:
        os.umask(old_umask)
    files = sorted(tmp_path.glob("console.log*"))
    assert len(files) >= 2
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
