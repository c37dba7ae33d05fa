"""The ast usage resolver: what counts as a use of the package, and what does not."""

from __future__ import annotations

import ast
from textwrap import dedent

from bot.audit.usage import uses_in_tree

ROOTS = frozenset({"pkg"})


def _uses(source: str) -> list[tuple[int, int, str, str]]:
    tree = ast.parse(dedent(source))
    return [(u.line, u.column, u.symbol, u.kind) for u in uses_in_tree("f.py", tree, ROOTS)]


def test_imports_aliases_chains_calls_and_subclassing() -> None:
    source = """\
        import pkg
        import pkg.sub.impl as impl
        from pkg import Bar as B
        from pkg.models import Model
        import other

        class Mine(B):
            pass

        def go():
            impl.f(1, 2, key=3)
            pkg.sub.CONST
            m = Model("x")
            m.fit(1, epochs=2)
            other.pkg.thing()
    """
    assert _uses(source) == [
        (1, 1, "pkg", "import"),
        (2, 1, "pkg.sub.impl", "import"),
        (3, 1, "pkg.Bar", "import"),
        (4, 1, "pkg.models.Model", "import"),
        (7, 12, "pkg.Bar", "subclass"),
        (11, 5, "pkg.sub.impl.f", "call"),
        (12, 5, "pkg.sub.CONST", "attribute"),
        (13, 9, "pkg.models.Model", "call"),
        (14, 5, "pkg.models.Model().fit", "call"),
    ]


def test_call_shape() -> None:
    tree = ast.parse("from pkg import f\nf(1, *rest, a=1, **more)\nf(1, 2)\n")
    star, plain = [u for u in uses_in_tree("f.py", tree, ROOTS) if u.kind == "call"]
    assert (star.positional, star.keywords, star.star_args, star.star_kwargs) == (1, ("a",), True, True)
    assert (plain.positional, plain.keywords, plain.star_args, plain.star_kwargs) == (2, (), False, False)


def test_imports_in_functions_and_type_checking_blocks() -> None:
    source = """\
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from pkg import Hint

        def late():
            from pkg.sub import helper
            return helper(1)
    """
    assert _uses(source) == [
        (3, 5, "pkg.Hint", "import"),
        (6, 5, "pkg.sub.helper", "import"),
        (7, 12, "pkg.sub.helper", "call"),
    ]


def test_strings_comments_shadowing_and_relative_imports_are_not_uses() -> None:
    source = """\
        from pkg import f
        from . import pkg as local
        from .pkg import g
        text = "pkg.f(1, 2)"  # pkg.f(1, 2, 3)

        def shadow(f):
            return f(1)

        def rebound():
            f = print
            f(2)
    """
    assert _uses(source) == [(1, 1, "pkg.f", "import")]


def test_fallback_imports_are_marked_guarded() -> None:
    tree = ast.parse("try:\n    from pkg.new import X\nexcept ImportError:\n    from pkg.old import X\n")
    assert [(u.symbol, u.guarded) for u in uses_in_tree("f.py", tree, ROOTS)] == [
        ("pkg.new.X", False),
        ("pkg.old.X", True),
    ]


def test_imports_in_a_try_body_name_the_fallback_that_runs_instead() -> None:
    source = """\
        try:
            from pkg.new import X
        except (OSError, ImportError):
            from pkg.old import X
        try:
            from pkg.other import Y
        except KeyError:
            pass
        try:
            def later():
                from pkg.lazy import Z
        except ImportError:
            pass
    """
    tree = ast.parse(dedent(source))
    assert [(u.symbol, u.fallback) for u in uses_in_tree("f.py", tree, ROOTS)] == [
        ("pkg.new.X", 3), ("pkg.old.X", 0), ("pkg.other.Y", 0), ("pkg.lazy.Z", 0),
    ]  # fmt: skip


def test_a_stand_in_assigned_when_the_import_fails_keeps_the_import_binding() -> None:
    # Dynamo's shape: `except (ImportError, OSError): MMEncoder = None`, then the class is used.
    source = """\
        try:
            from pkg.encoder import Encoder
        except (ImportError, OSError):
            Encoder = None

        class Worker:
            def __init__(self):
                self.encoder = Encoder()

            def run(self, items):
                return self.encoder.encode(items)
    """
    assert (11, 16, "pkg.encoder.Encoder().encode", "call") in _uses(source)
    assert (8, 24, "pkg.encoder.Encoder", "call") in _uses(source)


def test_instances_kept_on_self() -> None:
    source = """\
        from pkg import Engine

        class Worker:
            def __init__(self):
                self.engine = Engine(1)
                self.other = make()

            def run(self):
                self.engine.step(2, fast=True)
                self.other.step(3)
    """
    assert _uses(source) == [
        (1, 1, "pkg.Engine", "import"),
        (5, 23, "pkg.Engine", "call"),
        (9, 9, "pkg.Engine().step", "call"),
    ]


def test_context_managers_bind_what_enter_returns() -> None:
    source = """\
        import pkg

        async def go():
            with pkg.Client(1) as c, open("f") as f:
                c.get("x")
            async with pkg.AsyncClient() as ac:
                await ac.fetch(timeout=1)
    """
    assert [u for u in _uses(source) if u[3] == "call"] == [
        (4, 10, "pkg.Client", "call"),
        (5, 9, "pkg.Client().__enter__().get", "call"),
        (6, 16, "pkg.AsyncClient", "call"),
        (7, 15, "pkg.AsyncClient().__aenter__().fetch", "call"),
    ]
