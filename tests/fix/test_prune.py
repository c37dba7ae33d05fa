"""The deprecation pass on shims in the shapes real ones take: exact results, idempotent, still compiling."""

from __future__ import annotations

from textwrap import dedent

from bot.audit.compat_branches import fallbacks_in
from bot.audit.compat_tags import retired
from bot.fix.prune import prune
from bot.fix.stubs import add_stubs

ROOTS = frozenset({"sglang"})

SHIM = '''\
"""Compat shim for sglang (N / N-1)."""

import inspect  # used by the wrappers below

# Moved in 0.6.
try:  # the new layout first
    from sglang.srt.managers.io import (  # moved in 0.6
        GenerateReq,
        TokenizedReq as Tokenized,  # renamed upstream
    )
except ImportError:
    # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
    from sglang.srt.managers.io_struct import GenerateReq, TokenizedReq as Tokenized  # noqa: F401

try:
    from sglang.srt.utils.network import NetworkAddress
except ImportError:
    # Fallback for sglang < 0.5.10. Remove when min supported version is 0.5.10+
    class NetworkAddress:
        """Polyfill: only what the handlers touch."""

        def __init__(self, host: str, port: int) -> None:
            self.host, self.port = host, port

    def format_address(address: NetworkAddress) -> str:
        return f"{address.host}:{address.port}"

try:
    from sglang.srt.entrypoints.engine import Engine
except ImportError:
    # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
    try:
        from sglang.srt.server import Engine  # 0.5.x
    except ImportError:
        # Fallback for sglang <= 0.4.9. Remove when min supported version is 0.5.0+
        from sglang.api import Engine  # noqa: F401

try:
    from sglang.srt.layers.future import Future
except ImportError:
    # Fallback for sglang <= 0.6.9. Remove when min supported version is 0.7.0+
    Future = None

try:
    from sglang.srt.old_untagged import Thing
except ImportError:
    Thing = None


def mm_encode(encoder, *args):
    """Signature drift gets a wrapper (kept: not proven dead)."""
    return encoder._encode(*args) if inspect.signature(encoder._encode) else None


__all__ = [
    "Engine",
    "Future",
    "GenerateReq",
    "NetworkAddress",
    "Thing",
    "Tokenized",
    "format_address",
    "mm_encode",
]
'''

PRUNED = '''\
"""Compat shim for sglang (N / N-1)."""

import inspect  # used by the wrappers below

# Moved in 0.6.
# the new layout first
from sglang.srt.managers.io import (  # moved in 0.6
    GenerateReq,
    TokenizedReq as Tokenized,  # renamed upstream
)

from sglang.srt.utils.network import NetworkAddress

from sglang.srt.entrypoints.engine import Engine

try:
    from sglang.srt.layers.future import Future
except ImportError:
    # Fallback for sglang <= 0.6.9. Remove when min supported version is 0.7.0+
    Future = None

try:
    from sglang.srt.old_untagged import Thing
except ImportError:
    Thing = None


def mm_encode(encoder, *args):
    """Signature drift gets a wrapper (kept: not proven dead)."""
    return encoder._encode(*args) if inspect.signature(encoder._encode) else None


__all__ = [
    "Engine",
    "Future",
    "GenerateReq",
    "NetworkAddress",
    "Thing",
    "Tokenized",
    "mm_encode",
]
'''


def _retired_branches(source: str, floor: str) -> list[tuple[int, int]]:
    return [
        (fb.try_line, fb.handler_index)
        for fb in fallbacks_in(source, "_compat.py", "sglang", ROOTS)
        if fb.placement == "handler" and fb.tag is not None and retired(fb.tag, floor)
    ]


def test_retired_fallbacks_polyfills_and_their_all_entries_go_the_rest_stays_exactly() -> None:
    branches = _retired_branches(SHIM, "0.6.0")
    assert branches == [(6, 0), (15, 0), (28, 0), (32, 0)]  # the nested 0.4 fallback is inside 28's
    pruned = prune(SHIM, branches)
    assert pruned.source == PRUNED
    assert pruned.polyfills == (("NetworkAddress", 19), ("format_address", 25))
    assert pruned.unexported == ("format_address",)  # NetworkAddress is still imported
    assert pruned.collapsed == (6, 15, 32, 28)  # inner `try`s first
    assert not pruned.plain
    compile(pruned.source, "_compat.py", "exec")


def test_a_second_pass_changes_nothing() -> None:
    once = prune(SHIM, _retired_branches(SHIM, "0.6.0")).source
    again = prune(once, _retired_branches(once, "0.6.0"))
    assert _retired_branches(once, "0.6.0") == []
    assert again.source == once


def test_only_the_inner_fallback_goes_when_the_floor_retires_only_it() -> None:
    source = dedent(
        """\
        try:
            from sglang.srt.entrypoints.engine import Engine
        except ImportError:
            # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
            try:
                from sglang.srt.server import Engine  # 0.5.x
            except ImportError:
                # Fallback for sglang <= 0.4.9. Remove when min supported version is 0.5.0+
                from sglang.api import Engine  # noqa: F401
        """
    )
    pruned = prune(source, _retired_branches(source, "0.5.3"))
    assert pruned.source == dedent(
        """\
        try:
            from sglang.srt.entrypoints.engine import Engine
        except ImportError:
            # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
            from sglang.srt.server import Engine  # 0.5.x
        """
    )
    assert pruned.collapsed == (5,)


def test_a_shim_left_as_plain_re_exports_says_so() -> None:
    source = dedent(
        """\
        \"\"\"Shim.\"\"\"
        try:
            from sglang.srt.a import A
        except ImportError:
            # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
            from sglang.a import A

        __all__ = ("A",)
        """
    )
    pruned = prune(source, _retired_branches(source, "0.6.0"))
    assert pruned.source == '"""Shim."""\nfrom sglang.srt.a import A\n\n__all__ = ("A",)\n'
    assert pruned.plain


def test_a_handler_among_several_goes_alone_and_else_and_finally_survive() -> None:
    source = dedent(
        """\
        try:
            from sglang.srt.a import A
        except ModuleNotFoundError:
            # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
            from sglang.a import A
        except AttributeError:
            A = None
        try:
            from sglang.srt.b import B
        except ImportError:
            # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
            B = None
        else:
            HAVE_B = True
        try:
            from sglang.srt.c import C
        except ImportError:
            # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.6.0+
            C = None
        finally:
            DONE = True
        """
    )
    branches = _retired_branches(source, "0.6.0")
    assert branches == [(1, 0), (8, 0), (15, 0)]
    pruned = prune(source, branches)
    assert pruned.source == dedent(
        """\
        try:
            from sglang.srt.a import A
        except AttributeError:
            A = None
        from sglang.srt.b import B
        HAVE_B = True
        try:
            from sglang.srt.c import C
        finally:
            DONE = True
        """
    )
    compile(pruned.source, "_compat.py", "exec")


def test_stub_lists_as_a_literal_and_as_a_module_constant_keep_their_layout() -> None:
    constant = dedent(
        """\
        import sys
        from unittest import mock

        # Mocked so collection works without sglang installed.
        _MOCK_MODULES = [
            "sglang",
            "sglang.srt",  # the package
            "sglang.srt.utils",
        ]
        for name in _MOCK_MODULES:
            sys.modules[name] = mock.MagicMock()
        """
    )
    text, added = add_stubs(constant, ["sglang.srt.managers.io", "sglang.srt.utils"], ROOTS)
    assert added == ("sglang.srt.managers.io",)
    assert text == constant.replace(
        '    "sglang.srt",  # the package\n',
        '    "sglang.srt",  # the package\n    "sglang.srt.managers.io",\n',
    )
    literal = "for name in ('sglang.srt.z', 'sglang.srt.a'):\n    mock(name)\n"
    text, added = add_stubs(literal, ["sglang.srt.b"], ROOTS)
    assert text == "for name in ('sglang.srt.z', 'sglang.srt.a', 'sglang.srt.b'):\n    mock(name)\n"
    assert add_stubs(text, ["sglang.srt.b"], ROOTS) == (text, ())  # idempotent
    assert add_stubs("MOCKS = []\n", ["sglang.srt.b"], ROOTS) == ("MOCKS = []\n", ())  # no list to trust


def test_imports_only_the_removed_polyfill_used_go_with_it_and_nothing_else() -> None:
    # Dynamo's shape: `import ipaddress` and `import socket` served only the 0.5.9 stand-in class,
    # and left behind they fail the repository's own linter (ruff F401).
    source = dedent(
        """\
        \"\"\"Compat shim.\"\"\"

        # For the stand-in below.
        import ipaddress
        import json  # re-exported by name, never read: not ours to judge
        import os, socket
        from typing import Any, Optional

        try:
            from sglang.srt.utils.network import NetworkAddress
        except ImportError:
            # Fallback for sglang <= 0.5.9. Remove when min supported version is 0.5.10+
            class NetworkAddress:
                def __init__(self, host: Any) -> None:
                    self.ip = ipaddress.ip_address(socket.gethostbyname(host))


        def home(default: Optional[str] = None) -> str:
            return os.environ.get("HOME", default or "")
        """
    )
    pruned = prune(source, _retired_branches(source, "0.5.10"))
    assert pruned.orphaned == (("ipaddress", 4), ("socket", 6), ("Any", 7))
    assert pruned.source == dedent(
        """\
        \"\"\"Compat shim.\"\"\"

        import json  # re-exported by name, never read: not ours to judge
        import os
        from typing import Optional

        from sglang.srt.utils.network import NetworkAddress


        def home(default: Optional[str] = None) -> str:
            return os.environ.get("HOME", default or "")
        """
    )
