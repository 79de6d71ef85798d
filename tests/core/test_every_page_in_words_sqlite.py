"""Every page in words on SQLite (issue 11): the crawl of tests/core/test_every_page_in_words.py on the database of
``./dev serve``, where sums come back as floats or long decimals (41209.2800000000) unless the display layer formats
them: every amount must still print with two decimals, every code in words, no server error."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_pdf_and_xlsx_is_in_words_with_two_decimal_amounts_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    run = subprocess.run(
        [sys.executable, "-m", "tests.core.words_sqlite", "300"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=1800,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    problems = result["problems"]
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert result["pages"] > 40, f"the crawl read too few pages to mean anything: {result['pages']}"
