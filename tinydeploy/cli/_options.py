"""Options shared by several commands (one definition, same flags everywhere)."""
from __future__ import annotations

import typer

from ..plan.arena import PlanOptions

PLANNER = typer.Option("exact", "--planner", help="Arena planner: exact (CP-SAT, seeded by greedy) or greedy.")
INPLACE = typer.Option(True, "--inplace/--no-inplace", help="Share storage for views and in-place ops.")


def plan_options(planner: str, inplace: bool) -> PlanOptions:
    from ..errors import TinyDeployError
    from ..plan import PLANNERS

    if planner not in PLANNERS:
        raise TinyDeployError(f"unknown planner {planner!r}", f"choose one of: {', '.join(sorted(PLANNERS))}")
    return PlanOptions(planner=planner, inplace=inplace)
