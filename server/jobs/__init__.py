"""Who runs the scheduled jobs: a database leader lease, and the record of every job run."""
