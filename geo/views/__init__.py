"""How events are shown: the cached frame (catalog), the map (mapview, its controls in
mapcontrols, the static basemap in basemap), the Regions choropleth (regionmap), popups,
styling, timeline, tables, and the offline assets (assets_fetch: npm → static/vendor;
assets_local: folium → local copies; assets_inline: self-contained export)."""
