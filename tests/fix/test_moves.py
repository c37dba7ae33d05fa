"""Import moves and keyword renames at call sites: exact results, comments kept, fallbacks left alone."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from bot.audit.apimodel import ApiModel
from bot.audit.compare import Versions, compare_uses
from bot.audit.distributions import Unpacked
from bot.audit.removals import sole_home
from bot.audit.usage import Use
from bot.fix.moves import move_imports, rename_keywords

MOVES = {"pkg.utils.Engine": "pkg.engines.Engine", "pkg.utils.Pool": "pkg.engines.Pool"}

SOURCE = dedent(
    """\
    import os
    from pkg.utils import (  # the engines moved in 2.0
        Engine,  # the main one
        Pool as P,
    )
    from pkg.utils import Engine as E, helper
    from pkg.utils import helper as h, Pool
    try:
        from pkg.utils import Engine as Fallback
    except ImportError:
        from pkg.utils import Engine as Fallback  # noqa: F401


    def run():
        from pkg.utils import Engine  # local import

        return Engine, os
    """
)

EXPECTED = dedent(
    """\
    import os
    from pkg.engines import (  # the engines moved in 2.0
        Engine,  # the main one
        Pool as P,
    )
    from pkg.utils import helper
    from pkg.engines import Engine as E
    from pkg.utils import helper as h
    from pkg.engines import Pool
    try:
        from pkg.utils import Engine as Fallback
    except ImportError:
        from pkg.utils import Engine as Fallback  # noqa: F401


    def run():
        from pkg.engines import Engine  # local import

        return Engine, os
    """
)


def test_imports_of_moved_names_follow_them_aliases_comments_and_fallbacks_kept() -> None:
    text, done = move_imports(SOURCE, MOVES)
    assert text == EXPECTED
    assert [(d.line, d.old, d.new) for d in done] == [
        (2, "pkg.utils.Engine", "pkg.engines.Engine"),
        (2, "pkg.utils.Pool", "pkg.engines.Pool"),
        (6, "pkg.utils.Engine", "pkg.engines.Engine"),
        (7, "pkg.utils.Pool", "pkg.engines.Pool"),
        (15, "pkg.utils.Engine", "pkg.engines.Engine"),
    ]
    compile(text, "m.py", "exec")
    assert move_imports(text, MOVES) == (text, [])  # a second run changes nothing


def test_a_renamed_name_keeps_the_local_one() -> None:
    text, _ = move_imports("from pkg.a import Old\n", {"pkg.a.Old": "pkg.b.New"})
    assert text == "from pkg.b import New as Old\n"


def test_keywords_are_renamed_only_at_the_proven_calls() -> None:
    source = dedent(
        """\
        import pkg
        pkg.connect("h", secure=True, port=1)
        pkg.connect("h", secure=True)  # not proven here
        pkg.connect("h", secure=True, tls=False)  # already passes the new name
        x = [pkg.connect(secure=1), pkg.connect(secure=2)]
        """
    )
    renames = {(2, 1): {"secure": "tls"}, (4, 1): {"secure": "tls"}, (5, 29): {"secure": "tls"}}
    text, done = rename_keywords(source, renames)
    assert text == source.replace('"h", secure=True, port', '"h", tls=True, port').replace(
        "pkg.connect(secure=2)", "pkg.connect(tls=2)"
    )
    assert [(d.line, d.old, d.new) for d in done] == [(2, "secure", "tls"), (5, "secure", "tls")]
    assert rename_keywords(text, renames)[0] == text


def _model(tmp_path: Path, name: str, files: dict[str, str]) -> ApiModel:
    root = tmp_path / name
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return ApiModel(Unpacked("pkg", name, name * 32, root, ("pkg",)), cache_dir=tmp_path / "cache")


def test_a_move_is_proven_only_to_one_public_path_with_the_same_signature(tmp_path: Path) -> None:
    old = _model(tmp_path, "1", {"pkg/__init__.py": "", "pkg/utils.py": "class Engine:\n    pass\n"
                                 "def run(a, b=1):\n    pass\ndef go(a):\n    pass\n"})  # fmt: skip
    new = _model(
        tmp_path,
        "2",
        {
            "pkg/__init__.py": "from pkg.engines import Engine\n",  # a second public path
            "pkg/utils.py": "",
            "pkg/engines.py": "class Engine:\n    pass\n",
            "pkg/runner.py": "def run(a, b=1):\n    pass\n",
            "pkg/_impl.py": "def go(a):\n    pass\n",  # private only
            "pkg/go.py": "def go(a, b):\n    pass\n",  # another signature
        },
    )
    assert sole_home("pkg.utils.Engine", old, new) is None  # pkg.Engine and pkg.engines.Engine
    assert sole_home("pkg.utils.run", old, new) == "pkg.runner.run"
    assert sole_home("pkg.utils.go", old, new) is None


def test_a_keyword_rename_is_proven_only_when_nothing_else_changed(tmp_path: Path) -> None:
    before = "def a(x, secure=False):\n    pass\ndef b(x, secure=False):\n    pass\n"
    after = "def a(x, tls=False):\n    pass\ndef b(x, tls=True):\n    pass\n"
    old = _model(tmp_path, "1", {"pkg/__init__.py": before + "def c(x, *, secure=False):\n    pass\n"})
    new = _model(tmp_path, "2", {"pkg/__init__.py": after + "def c(x, tls=False):\n    pass\n"})
    uses = [
        Use("m.py", n, 1, f"pkg.{f}", "call", positional=1, keywords=("secure",)) for n, f in enumerate("abc")
    ]
    findings, _ = compare_uses(uses, old, new, Versions("pkg", "1", "2"), catalog=lambda s: None)
    assert [(f.symbol, f.kind, f.replacement) for f in findings] == [
        ("pkg.a", "keyword-removed", ("secure", "tls")),
        ("pkg.b", "keyword-removed", None),  # the default changed too
        ("pkg.c", "keyword-removed", None),  # and here the kind
    ]
