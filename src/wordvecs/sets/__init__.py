"""Named vector sets: the catalog, their download, verification and cache."""
