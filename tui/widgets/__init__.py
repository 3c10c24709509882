"""Widgets of the clerks' UI: the week grid, violation lists, the institution picker."""
