"""A verdict is only as good as the checks behind it.

The decision rule (`roi.decide`) reads posterior probabilities and expected losses; this module puts
it under the checks: failed diagnostics or a failed *gating* check turn any verdict into
`inconclusive`, naming what blocked it (`blocking`) and what would settle it (`next_step`). Families
propose the next step (on their checks); the spine only carries it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bayescausal.roi import Decision, NextStep

if TYPE_CHECKING:
    from bayescausal.diagnostics import Diagnostics
    from bayescausal.result import Check, Result

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNCONVERGED = 0, 1, 2, 3
EXIT_INCONCLUSIVE = 6
EXIT_CODES = {
    0: "a verdict was reached: act, do not act or continue (or there was nothing to decide)",
    1: "unexpected error",
    2: "bad input data, spec or arguments (the message names the problem and the fix)",
    3: "NOT CONVERGED: diagnostics failed; the verdict is inconclusive (--allow-unconverged exits 0)",
    4: "ab check: no decision yet, keep the test running",
    5: "ab check: sample ratio mismatch, investigate the assignment",
    6: "INCONCLUSIVE: a gating check failed, or Monte-Carlo error could flip the verdict; the report says why "
    "and what would settle it",
    130: "interrupted (Ctrl-C): the run stopped and left no report behind",
}
DIAGNOSTICS_NEXT_STEP = (
    "the sampler did not converge: rerun with more warm-up and draws or more chains (the command's sampler "
    "flags: --draws, --chains, and --tune or --burnin), and if divergences persist, reparameterise or tighten "
    "the priors; do not act on this fit"
)


MONTE_CARLO_NEXT_STEP = (
    "the verdict sits within Monte-Carlo error of a cutoff: rerun with more draws (--draws) or chains, so the "
    "probabilities it turns on are estimated precisely enough to decide"
)


def gate(decision: Decision, checks: list[Check], diagnostics: Diagnostics) -> Decision:
    """The rule's decision, or `inconclusive` when the diagnostics or a gating check failed. Idempotent:
    gating an already gated decision starts again from the rule's own verdict."""
    decision = rule_decision(decision)
    blocking = []
    if not diagnostics.passed:
        blocking.append({"name": "diagnostics", "kind": "diagnostics", "detail": "; ".join(diagnostics.problems)})
    for number, check in enumerate(checks, start=1):
        if check.gating and not check.passed:
            blocking.append({"name": check.name, "kind": "check", "number": number, "detail": check.detail})
    fragile = decision.criteria.get("monte_carlo_fragile") or []
    if fragile:
        errors = ", ".join(f"{k} {decision.criteria[k]:.4g} +- {decision.criteria[f'mcse_{k}']:.2g}" for k in fragile)
        blocking.append(
            {
                "name": "Monte-Carlo error",
                "kind": "monte-carlo",
                "detail": f"{errors} (Monte-Carlo standard errors): another seed could give another verdict",
            }
        )
    if not blocking:
        return decision
    return replace(
        decision,
        verdict="inconclusive",
        action=f"inconclusive (the decision rule alone would say: {decision.action})",
        blocking=blocking,
        next_step=decision.next_step or _next_step(checks, diagnostics, fragile),
        criteria=decision.criteria | {"rule_verdict": decision.verdict, "rule_action": decision.action},
    )


def rule_decision(decision: Decision) -> Decision:
    """The decision as the rule made it, before any gating."""
    if "rule_verdict" not in decision.criteria:
        return decision
    criteria = {k: v for k, v in decision.criteria.items() if k not in ("rule_verdict", "rule_action")}
    return replace(
        decision,
        verdict=decision.criteria["rule_verdict"],
        action=decision.criteria["rule_action"],
        blocking=[],
        next_step=None,
        criteria=criteria,
    )


def _next_step(checks: list[Check], diagnostics: Diagnostics, fragile: list[str] = ()) -> NextStep:
    failed = [c for c in checks if c.gating and not c.passed]
    steps = [f"{c.name}: {c.next_step}" for c in failed if c.next_step]
    steps += [f"{c.name}: failed; investigate before acting" for c in failed if not c.next_step]
    if fragile:
        steps.append(MONTE_CARLO_NEXT_STEP)
    if not diagnostics.passed:
        steps.insert(0, DIAGNOSTICS_NEXT_STEP)
    fields = {"failed_checks": [c.name for c in failed], "diagnostics_failed": not diagnostics.passed}
    fields["monte_carlo_fragile"] = list(fragile)
    fields |= {k: v for c in failed for k, v in c.values.get("next_step", {}).items()}
    return NextStep("; ".join(steps), fields)


def exit_code(result: Result, *, allow_unconverged: bool = False) -> int:
    """3 when the diagnostics failed (unless allowed), 6 when a gating check failed or Monte-Carlo error could
    flip the verdict, else 0."""
    if not result.diagnostics.passed and not allow_unconverged:
        return EXIT_UNCONVERGED
    if any(b["kind"] in ("check", "monte-carlo") for b in result.decision.blocking):
        return EXIT_INCONCLUSIVE
    return EXIT_OK


def exit_codes_text(codes=None) -> str:
    """The exit-code table, or only the rows of `codes` (what one command can return)."""
    shown = EXIT_CODES if codes is None else {c: t for c, t in EXIT_CODES.items() if c in codes}
    return "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in shown.items())
