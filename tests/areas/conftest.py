from tests.adoption.conftest import load  # noqa: F401
from tests.beneficiaries.conftest import civil, confirm_roster, run_jobs, upload_file  # noqa: F401
from tests.claims.conftest import decided_bill, enter_bill, institutions  # noqa: F401
from tests.retro.conftest import one_stop  # noqa: F401
