"""smartzone: the composition root (command line) and the configuration shared by every process."""
