"""How events are shown: the cached frame, map, basemap, popups, styling, timeline, tables, assets
(assets_fetch: npm → static/vendor; assets_local: folium → local copies; assets_inline: export)."""
