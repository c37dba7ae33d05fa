"""An HTTP fake of GitHub's REST API on loopback, keeping state and rejecting what the description forbids."""
