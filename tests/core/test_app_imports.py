"""No import cycle joins two apps (issue 10): the test reads every import of every module (top level and
inside functions) and fails when app A imports app B while B, directly or through others, imports A.
A lower app asks a higher one through a registry or a hook (funding.payables.register_provider,
beneficiaries.retro.register_reach, yfbz.policy.impact.register_replay, yfbz.core.hooks)."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["adoption", "beneficiaries", "claims", "funding", "reporting",
        "yfbz.areas", "yfbz.core", "yfbz.files", "yfbz.policy", "yfbz.rules"]


def app_of(module: str) -> str | None:
    for app in sorted(APPS, key=len, reverse=True):
        if module == app or module.startswith(app + "."):
            return app
    return None


def import_graph() -> dict[str, dict[str, list[str]]]:
    """app → imported app → the places ("file:line") it is imported at (migrations left out: they
    name models by string)."""
    graph: dict[str, dict[str, list[str]]] = {a: defaultdict(list) for a in APPS}
    for app in APPS:
        for path in sorted((ROOT / app.replace(".", "/")).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [n.name for n in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = package[: len(package) - node.level + 1] if node.level else []
                    names = [".".join([*base, node.module] if node.module else base)]
                else:
                    continue
                for name in names:
                    other = app_of(name)
                    if other and other != app:
                        graph[app][other].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph


def cycles(graph) -> list[list[str]]:
    found, seen = [], set()

    def walk(start, node, trail):
        for nxt in sorted(graph[node]):
            if nxt == start:
                key = frozenset(trail)
                if key not in seen:
                    seen.add(key)
                    found.append([*trail, start])
            elif nxt not in trail and nxt > start:
                walk(start, nxt, [*trail, nxt])

    for app in sorted(graph):
        walk(app, app, [app])
    return found


def test_the_graph_is_read():
    graph = import_graph()
    assert "beneficiaries" in graph["claims"] and "funding" in graph["claims"]
    assert "yfbz.core" in graph["funding"]


def test_no_import_cycle_joins_two_apps():
    graph = import_graph()
    report = []
    for cycle in cycles(graph):
        steps = [f"{a} → {b} ({', '.join(graph[a][b][:3])})" for a, b in zip(cycle, cycle[1:], strict=False)]
        report.append(" ; ".join(steps))
    assert not report, "import cycles between apps:\n" + "\n".join(report)


def test_funding_and_the_base_apps_import_no_domain_app():
    graph = import_graph()
    assert not {"claims", "reporting", "adoption"} & set(graph["funding"]), dict(graph["funding"])
    for base in ("beneficiaries", "yfbz.core", "yfbz.policy", "yfbz.areas", "yfbz.files", "yfbz.rules"):
        assert not {"claims", "funding", "reporting", "adoption"} & set(graph[base]), (base, dict(graph[base]))
    assert not graph["yfbz.rules"], "the engine is pure: it imports no app"


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:1"]}, "c": {"a": ["c.py:1"]}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
