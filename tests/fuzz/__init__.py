"""Property-based tests of the webhook intake and the command parser."""
