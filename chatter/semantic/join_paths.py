"""Join paths between a model's tables: the join graph and the search for the best path.

Each declared join is an edge both ways: along it (many-to-one, never multiplies rows) and back
(one-to-many when the join is many-to-one, so it fans out).
"""

from __future__ import annotations

from collections.abc import Mapping

from chatter.semantic.model_schema import StrictModel, Table


class Edge(StrictModel):
    """One step of a join path, with whether it multiplies rows of the side it starts from."""

    source: str
    target: str
    on: tuple[tuple[str, str], ...]  # (source column, target column)
    fans_out: bool


def join_graph(tables: Mapping[str, Table]) -> dict[str, list[Edge]]:
    """Table name -> the edges that start at it."""
    graph: dict[str, list[Edge]] = {t: [] for t in tables}
    for t in tables.values():
        for j in t.joins:
            pairs = tuple(j.on.items())
            graph[t.name].append(Edge(source=t.name, target=j.to, on=pairs, fans_out=False))
            graph[j.to].append(
                Edge(
                    source=j.to,
                    target=t.name,
                    on=tuple((b, a) for a, b in pairs),
                    fans_out=j.relationship == "many_to_one",
                )
            )
    return graph


def join_path(tables: Mapping[str, Table], source: str, target: str) -> list[Edge] | None:
    """The join path with the fewest fan-out steps, then the fewest steps; None if none."""
    if source == target:
        return []
    graph = join_graph(tables)
    best: list[Edge] | None = None

    def cost(path: list[Edge]) -> tuple[int, int]:
        return (sum(e.fans_out for e in path), len(path))

    def walk(node: str, path: list[Edge], visited: set[str]) -> None:
        nonlocal best
        for edge in graph[node]:
            if edge.target in visited:
                continue
            step = [*path, edge]
            if edge.target == target:
                if best is None or cost(step) < cost(best):
                    best = step
            else:
                walk(edge.target, step, visited | {edge.target})

    walk(source, [], {source})
    return best


def has_flat_path(tables: Mapping[str, Table], source: str, target: str) -> bool:
    """Whether ``source`` reaches ``target`` without crossing a one-to-many edge."""
    path = join_path(tables, source, target)
    return path is not None and not any(e.fans_out for e in path)
