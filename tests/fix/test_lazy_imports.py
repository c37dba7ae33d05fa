"""The fix step loads libcst only for a rewrite it has proven: a run with nothing to fix never pays for it."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from bot.files.config import parse_config
from bot.fix.api_fix import api_fix
from bot.fix.compat_fix import compat_fix
from bot.model import Finding, PackageAudit

config = parse_config({"compat": {"shim": [{"package": "demo", "files": ["src/shim.py"]}]}})
source = "try:\\n    from demo import a\\nexcept ImportError:\\n    a = None\\n"
# A finding that proves nothing: no replacement, and no retired fallback in the shim.
finding = Finding("src/app.py", 3, 0, "demo", "demo.gone", "removed", "error", "demo.gone is gone")
audit = PackageAudit("demo", "1.0", "2.0", findings=(finding,), roots=("demo",))
read = {"src/shim.py": source}.__getitem__
print(api_fix(config, audit, read=read)[0], compat_fix(config, audit, read=read)[0])
print("libcst" in sys.modules)
"""


def test_nothing_to_rewrite_loads_no_libcst() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == ["None None", "False"]
