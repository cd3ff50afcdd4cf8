"""Changing the record: editing, duplicates, merge decisions and editor access."""
