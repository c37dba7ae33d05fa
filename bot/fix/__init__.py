"""The mechanical fixes the audit proves: the compat deprecation pass and proven API moves."""
