"""The `smartzone` command line: the composition root of every process."""
