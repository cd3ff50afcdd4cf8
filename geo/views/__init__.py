"""How events are shown: the cached frame, map, popups, styling, timeline, tables, assets."""
