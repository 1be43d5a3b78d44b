"""Who may connect to the broker and what each account may read and write.

One model of accounts (`accounts`) renders Mosquitto's password and ACL files and EMQX's acl.conf
(`render`); `store` keeps the accounts on disk and rewrites the broker's files. No broker client here.
"""

from device_hub.trust.accounts import Account, AccountError, Grant, Role, grants
from device_hub.trust.passwords import hash_password, new_secret, verify_password

__all__ = ["Account", "AccountError", "Grant", "Role", "grants", "hash_password", "new_secret",
           "verify_password"]
