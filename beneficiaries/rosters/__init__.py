"""Monthly rosters: reading files (reading.py), checking and comparing rows (checking.py), and
writing in bulk (bulk.py). State changes go through beneficiaries.services; see docs/rosters.md."""
