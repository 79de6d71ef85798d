from tests.beneficiaries.conftest import civil, confirm_roster, run_jobs, upload_file  # noqa: F401
