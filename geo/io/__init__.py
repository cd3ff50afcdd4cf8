"""Reading and writing events: importers, exporters, column mapping, the standalone HTML map."""
