# Claims models arrive with issue 5.
