"""File formats, pure: config, manifests, specifiers, lock files, lock diff, the file transaction."""
