"""Step 6: the API compatibility audit of the repository's call sites against new package versions."""
