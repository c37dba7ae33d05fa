"""The GitHub App: server, inbox, job store and ledger, workers, job runner, publishing, the GitHub client."""
