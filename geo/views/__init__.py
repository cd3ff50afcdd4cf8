"""How events are shown: the cached frame, the map, popups, styling, timeline, tables and the offline assets."""
