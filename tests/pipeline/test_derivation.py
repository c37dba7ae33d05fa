"""Who requires what, read from uv's account of a failed resolution (the text uv 0.13 prints)."""

from __future__ import annotations

from bot.pipeline.derivation import clauses, contested, requirers

ROOTS = {"demo-app"}
CHAIN = """\
error: No solution found when resolving dependencies
  cause: Because all versions of q depend on b<2 and all versions of p depend on q==1.0, we can conclude that all versions of p depend on b<2.
         And because a>=2.0 depends on b>=2, we can conclude that a>=2.0 and all versions of p are incompatible.
         And because your project depends on a==2.0 and p, we can conclude that your project's requirements are unsatisfiable.
"""  # noqa: E501
OWN = """\
  cause: Because demo-app[sglang] depends on sglang==0.5.10 and sglang>=0.5.10 depends on transformers>=4.57, we can conclude that demo-app[sglang] depends on transformers>=4.57.
         And because demo-app:dev depends on transformers<4.57 and your project requires demo-app[sglang], we can conclude that your project's requirements are unsatisfiable.
"""  # noqa: E501
ONE_OF = """\
  cause: Because all versions of y depend on one of:
             b[fast]<2.0
             b[fast]>2.0,<3
         and your project depends on b>=3, we can conclude that your project and all versions of y are incompatible.
"""  # noqa: E501


def shown(output: str) -> list[tuple[str, str, bool, bool]]:
    return [
        (c.requires.who, c.requires.requirement, c.requires.every, c.derived)
        for c in clauses(output, roots=ROOTS)
    ]


def test_upstream_clauses_are_read_and_the_repositorys_own_project_is_left_out() -> None:
    assert shown(OWN) == [("sglang>=0.5.10", "transformers>=4.57", False, False)]


def test_a_requirement_concluded_through_another_package_gives_way_to_the_direct_one() -> None:
    found = clauses(CHAIN, roots=ROOTS)
    assert ("p", "b<2", True, True) in shown(CHAIN)  # the full stop ending the sentence is not a version
    assert contested(found, requested={"a"}) == ("b",)
    assert [c.requires.who for c in requirers(found, "b")] == ["q", "a>=2.0"]


def test_alternatives_are_kept_together_as_one_requirement() -> None:
    assert shown(ONE_OF) == [("y", "b[fast]<2.0 or b[fast]>2.0,<3", True, False)]


def test_a_requested_package_is_contested_when_only_one_upstream_package_requires_it() -> None:
    output = (
        "Because sglang<=0.5.9 depends on torch==2.9.1 and your project depends on sglang==0.5.9, we can "
        "conclude that your project depends on torch==2.9.1. And because your project depends on "
        "torch==2.10.0, we can conclude that your project's requirements are unsatisfiable."
    )
    found = clauses(output, roots=ROOTS)
    assert contested(found, requested={"torch"}) == ("torch",)
    assert contested(found, requested={"numpy"}) == ()
