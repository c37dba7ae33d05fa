"""File formats, pure: config, manifests, specifiers, lock files, lock diff, Python sources, transactions."""
