"""Reports: what changed in the rules between two points in time (valid time or knowledge time), which assets
get reclassified and from when, access changes, assets near a threshold and upcoming dates."""
