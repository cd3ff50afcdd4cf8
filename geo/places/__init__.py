"""Where things are: the gazetteer, admin-1 regions, reverse placement, control of territory."""
