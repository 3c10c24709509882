"""The clerks' terminal UI."""
