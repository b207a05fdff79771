"""Recordings: a meeting recorded by the SFU's egress into object storage, guarded for download."""
