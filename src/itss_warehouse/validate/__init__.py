"""Validate: the Great Expectations suites (defined in ``suites``) run on new raw batches
and on the marts; failing rows are quarantined, critical failures stop the run."""
