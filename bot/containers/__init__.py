"""Step 4: container planning, the container step, the OCI registry client."""
