"""Use cases: one function per user action; each writes the domain change, its learning records and its score in the caller's transaction."""
