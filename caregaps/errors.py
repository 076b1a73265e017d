"""Exit codes of the `caregaps` command, in one place."""

OK = 0
USAGE = 2  # click's own code for a bad command line
REJECTED = 3  # the input was read, and some of it was rejected (see the issues printed)
NOT_FOUND = 4  # an unknown practice, job or file
FAILED = 5  # the job stopped on an unexpected error; the store is consistent, re-run to resume
