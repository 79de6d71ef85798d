"""The engine is pure: no Django anywhere in yfbz/rules (STYLE.md "Policy is pure")."""

import ast
import subprocess
import sys
from pathlib import Path

RULES = Path(__file__).resolve().parents[2] / "yfbz" / "rules"


def test_no_module_of_the_engine_imports_django():
    for path in RULES.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for n in names:
                assert not n.startswith("django"), f"{path.name} imports {n}"
                assert not n.startswith("yfbz.") or n.startswith("yfbz.rules"), f"{path.name} imports {n}"


def test_engine_runs_with_django_blocked():
    code = (
        "import sys; sys.modules['django'] = None\n"
        "import yfbz.rules as r, yfbz.rules.scenario, yfbz.rules.employee\n"
        "from datetime import date\n"
        "p = r.default_policy(date(2025, 6, 1))\n"
        "assert 'django' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n"
        "print(p.version)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=RULES.parents[1], check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
