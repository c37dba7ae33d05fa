"""Worker directories under one root: a live process's is kept, a killed one's removed at start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.service.clone_dirs import LOCK, PREFIX, claim
from bot.settings import SettingsError, load_settings, root_problem
from tests.support.appkeys import key_pair

ROOT = Path(__file__).resolve().parents[2]
CLAIMER = "import sys; from pathlib import Path; from bot.service.clone_dirs import claim\n" \
          "own, _ = claim(Path(sys.argv[1])); print(own.path, flush=True); sys.stdin.read()"  # fmt: skip


def other_process(root: Path) -> tuple[subprocess.Popen[str], Path]:
    """A worker-like process holding its own directory under `root` until killed or its stdin closes."""
    child = subprocess.Popen([sys.executable, "-c", CLAIMER, str(root)], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    assert child.stdout is not None
    return child, Path(child.stdout.readline().strip())


def test_a_killed_workers_directory_goes_a_live_ones_stays(tmp_path: Path) -> None:
    root = tmp_path / "sandboxes"
    live, live_dir = other_process(root)
    killed, killed_dir = other_process(root)
    (killed_dir / "upgrade-deps-x" / "repo").mkdir(parents=True)  # the clone of the job it was running
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    try:
        own, removed = claim(root)
        assert removed == [killed_dir] and not killed_dir.exists()
        assert live_dir.is_dir() and (live_dir / LOCK).exists()
        assert own.path.parent == root and own.path.name.startswith(PREFIX)
        # Another start-up meanwhile leaves both live directories alone.
        again, removed_again = claim(root)
        assert removed_again == [] and own.path.is_dir() and live_dir.is_dir()
        again.release()
        own.release()
        assert not own.path.exists()
    finally:
        assert live.stdin is not None
        live.stdin.close()
        live.wait()


def test_a_directory_never_locked_is_removed_other_entries_are_not(tmp_path: Path) -> None:
    root = tmp_path / "sandboxes"
    root.mkdir(mode=0o700)
    unlocked = root / f"{PREFIX}dead"  # created, then the process died before it could lock it
    unlocked.mkdir()
    (root / "notes").mkdir()
    own, removed = claim(root)
    assert removed == [unlocked] and (root / "notes").is_dir()
    own.release()


def test_a_root_others_could_change_is_refused(tmp_path: Path) -> None:
    uid = os.getuid()
    assert root_problem(tmp_path / "new", uid) is None
    missing = tmp_path / "missing"
    assert root_problem(missing / "new", uid) == f"directory {missing} does not exist"
    (tmp_path / "file").write_text("")
    assert root_problem(tmp_path / "file", uid) == f"{tmp_path / 'file'} is not a directory"
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert root_problem(shared, uid) == f"{shared} is writable by other users"
    assert root_problem(tmp_path, uid + 1) == f"{tmp_path} belongs to another user"
    env = {"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": key_pair()[0], "GITHUB_WEBHOOK_SECRET": "s",
           "UPGRADE_DEPS_DB": str(tmp_path / "db.sqlite3"),
           "UPGRADE_DEPS_SANDBOX_DIR": str(shared)}  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.problems == [f"UPGRADE_DEPS_SANDBOX_DIR: {shared} is writable by other users"]
    env["UPGRADE_DEPS_SANDBOX_DIR"] = str(tmp_path / "sandboxes")
    assert load_settings(env).sandbox_dir == tmp_path / "sandboxes"
