"""The runs wing: the catalog of published runs, diffs between runs, and the slate tables printed for them."""
