"""upgrade-deps: the upgrade pipeline and the GitHub App service around it."""
