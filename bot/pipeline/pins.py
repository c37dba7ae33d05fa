"""Steps 0 and 1: decide which variants each request touches, warn, and rewrite every declaration."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from bot.errors import UnknownPackageError
from bot.files.specifiers import bump_specifier
from bot.model import Declaration, Unresolved, Warning_
from bot.pipeline.context import Context
from bot.pipeline.impact import PinTarget, impact_of, plan_targets
from bot.pipeline.policy import check_request
from bot.pipeline.suggest import absent_message
from bot.text.render import render
from bot.text.wording import say


def plan_and_pin(ctx: Context) -> list[PinTarget]:
    """Step 0's impact matrix and step 1's edits; returns the (package, variant) targets."""
    impacts = {
        item.name: impact_of(item.name, ctx.variants, ctx.manifests, ctx.baseline, ctx.unit_members())
        for item in ctx.request.items
    }
    absent = [
        absent_message(item, ctx.all_manifests(), ctx.baseline)
        for item in ctx.request.items
        if impacts[item.name].scope == "absent"
    ]
    if len(absent) == len(ctx.request.items):
        # A typo, most likely: refused, so the command says so instead of "nothing to upgrade".
        raise UnknownPackageError(say("pins", "none_present", absent=absent))
    ctx.warnings += [Warning_(say("pins", "skipped", absent=message)) for message in absent]
    for item in ctx.request.items:
        if impacts[item.name].scope != "absent" and item.name not in ctx.focused:
            ctx.warnings.append(
                Warning_(f"{item.display} is not a focused package; upgrading it without an API audit")
            )
    present = tuple(i for i in ctx.request.items if impacts[i.name].scope != "absent")
    # A package pinned differently per variant is refused first: the answer is "say which variant",
    # not a downgrade flag that would move every variant.
    targets = plan_targets(replace(ctx.request, items=present), ctx.variants, impacts)
    baseline = {name: lock.versions() for name, lock in ctx.baseline.items()}
    ctx.warnings += check_request(ctx.request, baseline)  # refuses a downgrade before any edit
    _url_pins(ctx, targets)
    edited = _edit(ctx, targets)
    if edited:
        message = partial(
            render,
            "commit-pins.txt.j2",
            targets=list(dict.fromkeys(t.item for t in targets)),  # each request once, in order
            request=ctx.request,
            declarations=edited,
        )
        ctx.snapshot(message, sorted({d.manifest for d in edited}))
    return targets


def _url_pins(ctx: Context, targets: list[PinTarget]) -> None:
    """A URL pin of a requested package is never rewritten: a person moves it, at its line."""
    for target in targets:
        for declaration in target.declarations:
            if declaration.url:
                message = say("conflicts", "url_pin", package=target.item.display, url=declaration.url,
                              section=declaration.section)  # fmt: skip
                where = (declaration.manifest, declaration.line or None)
                if any((u.kind, u.file, u.line) == ("url-pin", *where) for u in ctx.unresolved):
                    continue  # one manifest shared by several variants
                ctx.unresolved.append(
                    Unresolved("url-pin", message, *where, blocking=False, subject=target.item.name)
                )


def _edit(ctx: Context, targets: list[PinTarget]) -> list[Declaration]:
    """Each target's declarations, in every manifest that holds them (a workspace's members too)."""
    edited: list[Declaration] = []
    for target in targets:
        for path in dict.fromkeys(d.manifest for d in target.declarations):
            text, changed = ctx.manifest_at(path).rewrite(
                target.item.name, partial(bump_specifier, version=target.item.version)
            )
            if changed:
                ctx.write_manifest_at(path, text)
                edited += changed
    return edited
