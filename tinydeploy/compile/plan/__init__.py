"""Arena planners: place buffers with known lifetimes in one arena."""
from .base import Buffer, Planner
from .exact import ExactPlanner
from .greedy import GreedyBySizePlanner

PLANNERS: dict[str, type[Planner]] = {"greedy": GreedyBySizePlanner, "exact": ExactPlanner}


def make_planner(name: str = "greedy", alignment: int = 16) -> Planner:
    return PLANNERS[name](alignment=alignment)


__all__ = ["Buffer", "Planner", "GreedyBySizePlanner", "ExactPlanner", "PLANNERS", "make_planner"]
