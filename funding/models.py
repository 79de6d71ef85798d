# Funding models arrive with issue 6.
