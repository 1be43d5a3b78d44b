"""QObjects living on worker threads; they talk to the GUI thread only through signals."""
