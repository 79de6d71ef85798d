"""Fixtures of the app test folders, reused by the security tests."""

from tests.beneficiaries.conftest import civil, run_jobs, upload_file  # noqa: F401
from tests.claims.conftest import decided_bill, enter_bill, institutions  # noqa: F401
from tests.funding.conftest import fund  # noqa: F401, E402
