"""Names a package re-exported from another distribution and dropped; moved names and where they went."""

from __future__ import annotations

from pathlib import Path

from bot.audit.apimodel import ApiModel
from bot.audit.compare import Versions, compare_uses
from bot.audit.distributions import Unpacked
from bot.audit.usage import Use


def _tree(tmp_path: Path, name: str, files: dict[str, str]) -> ApiModel:
    root = tmp_path / name
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return ApiModel(Unpacked("pkg", name, name * 32, root, ("pkg",)), cache_dir=tmp_path / "cache")


OLD_INIT = """\
from otherdist import Thing
from otherdist import Kept, Listed, Starred
from otherdist.tools import helper as assist
"""
NEW_INIT = """\
from otherdist.moved import Kept
from otherdist.stars import *
__all__ = ["Listed"]
"""


def test_a_re_export_from_another_distribution_that_is_bound_nowhere_is_removed(tmp_path: Path) -> None:
    old = _tree(tmp_path, "1", {"pkg/__init__.py": OLD_INIT, "pkg/lazy.py": "from otherdist import Dyn\n"})
    new = _tree(
        tmp_path,
        "2",
        {
            "pkg/__init__.py": NEW_INIT.replace("from otherdist.stars import *\n", ""),
            "pkg/lazy.py": "def __getattr__(name): ...\n",
        },
    )
    uses = [
        Use("m.py", 1, 1, "pkg.Thing", "import"),
        Use("m.py", 4, 5, "pkg.Thing.build", "call"),  # the same removal, reported once per file
        Use("m.py", 2, 1, "pkg.assist", "import"),
        Use("n.py", 3, 1, "pkg.Thing", "import"),
        # Still bound: imported from elsewhere, listed in __all__, or resolved by __getattr__.
        Use("m.py", 6, 1, "pkg.Kept", "import"),
        Use("m.py", 7, 1, "pkg.Listed", "import"),
        Use("m.py", 8, 1, "pkg.lazy.Dyn", "import"),
        # Inside an `except ImportError:` fallback the absence is handled.
        Use("m.py", 9, 1, "pkg.Starred", "import", guarded=True),
    ]
    findings, _ = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.file, f.line, f.symbol, f.kind, f.severity) for f in findings] == [
        ("m.py", 1, "pkg.Thing", "removed", "error"),
        ("m.py", 2, "pkg.assist", "removed", "error"),
        ("n.py", 3, "pkg.Thing", "removed", "error"),
    ]
    assert findings[0].message == (
        "'pkg.Thing' no longer exists in pkg 2 (imported here); pkg 1 imported it from 'otherdist.Thing'."
    )
    assert findings[1].message.endswith("pkg 1 imported it from 'otherdist.tools.helper'.")


def test_a_wildcard_import_may_still_bind_the_name(tmp_path: Path) -> None:
    old = _tree(tmp_path, "1", {"pkg/__init__.py": OLD_INIT})
    new = _tree(tmp_path, "2", {"pkg/__init__.py": NEW_INIT})
    uses = [Use("m.py", 1, 1, "pkg.Starred", "import"), Use("m.py", 2, 1, "pkg.Thing", "import")]
    findings, _ = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert findings == []


def test_a_moved_name_is_reported_at_its_new_public_location(tmp_path: Path) -> None:
    old = _tree(
        tmp_path,
        "1",
        {
            "pkg/__init__.py": "",
            "pkg/utils.py": "class Engine: ...\ndef helper(): ...\ndef spare(): ...\n",
        },
    )
    new = _tree(
        tmp_path,
        "2",
        {
            "pkg/__init__.py": "",
            # Defined in private modules, re-exported by public packages.
            "pkg/_impl/__init__.py": "",
            "pkg/_impl/engine.py": "class Engine: ...\n",
            "pkg/engines/__init__.py": "from pkg._impl.engine import Engine\n",
            "pkg/tools/__init__.py": "try:\n    from ._helpers import helper\nexcept ImportError:\n    ...\n",
            "pkg/tools/_helpers.py": "def helper(): ...\n",
            # Only private: the private location is all there is.
            "pkg/_spare.py": "def spare(): ...\n",
            # Imported inside a function: not a location to import it from.
            "pkg/lazy.py": "def get():\n    from pkg._spare import spare\n    return spare\n",
        },
    )
    uses = [
        Use("m.py", 1, 1, "pkg.utils.Engine", "import"),
        Use("m.py", 2, 1, "pkg.utils.helper", "import"),
        Use("m.py", 3, 1, "pkg.utils.spare", "import"),
    ]
    findings, moves = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.line, f.kind) for f in findings] == [(1, "moved"), (2, "moved"), (3, "moved")]
    assert moves == [
        ("pkg.utils.Engine", "pkg.engines.Engine"),
        ("pkg.utils.helper", "pkg.tools.helper"),
        ("pkg.utils.spare", "pkg._spare.spare"),
    ]
    assert (
        findings[0].message == "'pkg.utils.Engine' moved to 'pkg.engines.Engine' in pkg 2; update the import."
    )


def test_a_name_moved_out_of_a_wildcard_chain_inside_the_package_is_reported_moved(tmp_path: Path) -> None:
    # sglang 0.5.10's shape: `srt/utils/__init__.py` is `from .common import *`, and the helpers
    # that `common` defined moved to `utils/network.py`, which nothing star-imports.
    utils = "from pkg.utils.common import *\n"
    old = _tree(
        tmp_path, "1", {"pkg/__init__.py": "", "pkg/utils/__init__.py": utils,
                        "pkg/utils/common.py": "def get_ip(): ...\ndef kept(): ...\n"},
    )  # fmt: skip
    new = _tree(
        tmp_path, "2", {"pkg/__init__.py": "", "pkg/utils/__init__.py": utils,
                        "pkg/utils/common.py": "def kept(): ...\n",
                        "pkg/utils/network.py": "def get_ip(): ...\n",
                        # Imports it for its own use: as public as `network`, but not where it lives.
                        "pkg/agent/client.py": "from pkg.utils.network import get_ip\n"},
    )  # fmt: skip
    uses = [Use("m.py", 1, 1, "pkg.utils.get_ip", "import"), Use("m.py", 2, 1, "pkg.utils.kept", "import")]
    findings, moves = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.line, f.symbol, f.kind, f.severity) for f in findings] == [
        (1, "pkg.utils.get_ip", "moved", "error")
    ]
    assert moves == [("pkg.utils.get_ip", "pkg.utils.network.get_ip")]


def test_a_name_gone_behind_an_import_fallback_is_a_warning_naming_the_fallback(tmp_path: Path) -> None:
    # Dynamo's `_compat.py`: `try: from ...overrides import declare_late_resolution` with an
    # `except ImportError:` importing the older name. Nothing breaks: the fallback now always runs.
    old = _tree(tmp_path, "1", {"pkg/__init__.py": "def late(): ...\ndef early(): ...\n"})
    new = _tree(tmp_path, "2", {"pkg/__init__.py": "def early(): ...\n"})
    uses = [Use("m.py", 2, 5, "pkg.late", "import", fallback=3), Use("n.py", 1, 1, "pkg.late", "import")]
    findings, _ = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.file, f.kind, f.severity) for f in findings] == [
        ("m.py", "removed", "warning"), ("n.py", "removed", "error"),
    ]  # fmt: skip
    assert findings[0].message == (
        "'pkg.late' no longer exists in pkg 2 (imported here); the except ImportError at line 3 now always "
        "runs instead."
    )
