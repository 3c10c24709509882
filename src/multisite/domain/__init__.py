"""The domain: pure rules, schedule algebra, facts and vocabularies (no I/O, no storage)."""
