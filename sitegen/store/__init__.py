"""The run store: paths, reading, validation of format-1 sources."""
