"""Broker accounts as a pure model: usernames, grants, hashes and the files rendered from them."""

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from device_hub.trust import Account, AccountError, Role, grants, hash_password, verify_password
from device_hub.trust.passwords import parse_hash
from device_hub.trust.render import emqx_acl, emqx_users, mosquitto_acl
from device_hub.trust.store import AccountStore, AccountStoreError


def test_device_grants_are_its_own_topics_and_its_branch_board() -> None:
    """GIVEN kiosk k1 of b001
    WHEN its grants are listed
    THEN it writes only its own device topics and reads only its reply, cmd, ack and b001's queue."""
    a = Account.for_device("b001", "k1")
    assert a.username == "b001.k1" and a.role is Role.DEVICE
    got = {(g.access.value, g.topic) for g in grants(a)}
    dev = "sz/v1/b001/dev/k1"
    assert got == {("write", f"{dev}/state"), ("write", f"{dev}/status"), ("write", f"{dev}/hb"),
                   ("write", f"{dev}/evt/+"), ("write", f"{dev}/cmd/res"), ("read", f"{dev}/reply"),
                   ("read", f"{dev}/cmd"), ("read", f"{dev}/ack"), ("read", "sz/v1/b001/queue/board"),
                   ("read", "sz/v1/b001/queue/call")}


def test_service_accounts() -> None:
    """GIVEN the hub and the server
    WHEN their grants are listed
    THEN the hub reads and writes all of sz/v1, the server only reads staff and queue topics."""
    assert [(g.access.value, g.topic) for g in grants(Account.service("hub"))] == [("readwrite", "sz/v1/#")]
    assert {g.topic for g in grants(Account.service(Role.SERVER))} == {"sz/v1/+/staff/#", "sz/v1/+/queue/#"}
    assert Account.service("server").username == "server"


@pytest.mark.parametrize(("branch", "device"), [("B001", "k1"), ("b001", "k.1"), ("b001", ""), ("b/1", "k1"),
                                                ("b001", "+"), ("b001", "#")])
def test_bad_ids_refused(branch: str, device: str) -> None:
    """GIVEN an id that is not lower-case a-z0-9_- (dots, wildcards, slashes, capitals)
    WHEN an account is made THEN AccountError: the username `{b}.{d}` stays unambiguous."""
    with pytest.raises(AccountError):
        Account.for_device(branch, device)


def test_service_roles_only() -> None:
    """GIVEN a device role asked for as a service WHEN made THEN refused."""
    with pytest.raises(AccountError):
        Account.service("device")
    with pytest.raises(AccountError):
        Account(Role.HUB, "b001", "k1")


def test_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    """GIVEN a password file written by the real mosquitto_passwd
    WHEN we verify its hash, and hash with the same salt
    THEN the right password verifies, a wrong one does not, and our hash is byte-identical."""
    if not shutil.which("mosquitto_passwd"):
        pytest.fail("mosquitto_passwd is not installed (apt-get install mosquitto)")
    pw = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "u", "s3cret"], check=True)
    theirs = pw.read_text().strip().split(":", 1)[1]
    assert verify_password("s3cret", theirs) and not verify_password("s3cret!", theirs)
    iterations, salt, _ = parse_hash(theirs)
    assert iterations == 101 and len(salt) == 12
    assert hash_password("s3cret", salt=salt, iterations=iterations) == theirs
    ours = hash_password("s3cret")
    assert ours.startswith("$7$101$") and len(parse_hash(ours)[2]) == 64


def test_acl_files_render_every_account() -> None:
    """GIVEN the hub and a device WHEN both ACL formats are rendered
    THEN Mosquitto gets a `user` block each, EMQX allow rules per action ending with deny all."""
    accounts = [Account.service("hub"), Account.for_device("b001", "k1")]
    mq = mosquitto_acl(accounts)
    assert "user hub\ntopic readwrite sz/v1/#\n" in mq
    assert "user b001.k1\ntopic write sz/v1/b001/dev/k1/state\n" in mq
    before_first_user = mq[:mq.index("\nuser ")]
    assert "topic" not in before_first_user  # lines there would apply to anonymous clients
    em = emqx_acl(accounts)
    assert '{allow, {username, "hub"}, all, ["sz/v1/#"]}.' in em
    assert '{allow, {username, "b001.k1"}, publish, ["sz/v1/b001/dev/k1/state", ' in em
    assert ('{allow, {username, "b001.k1"}, subscribe, ["sz/v1/b001/dev/k1/reply", "sz/v1/b001/dev/k1/cmd", '
            '"sz/v1/b001/dev/k1/ack", "sz/v1/b001/queue/board", "sz/v1/b001/queue/call"]}.') in em
    assert em.rstrip().endswith("{deny, all}.")


def test_emqx_users_carry_the_same_salt_and_digest() -> None:
    """GIVEN a Mosquitto hash WHEN exported for EMQX THEN the salt is the ASCII salt and the digest hex."""
    h = hash_password("pw")
    _, salt, digest = parse_hash(h)
    (user,) = json.loads(emqx_users([(Account.for_device("b001", "k1"), h)]))
    assert user == {"user_id": "b001.k1", "password_hash": digest.hex(), "salt": salt.decode(),
                    "is_superuser": False}


def test_store_provisions_rotates_and_never_keeps_a_secret(tmp_path: Path) -> None:
    """GIVEN an empty store
    WHEN k1 is provisioned twice
    THEN the second secret differs and only it verifies; no file holds a secret; every file is 0600."""
    store = AccountStore(tmp_path / "trust")
    first = store.provision([Account.for_device("b001", "k1"), Account.service("hub")])
    second = store.provision([Account.for_device("b001", "k1")])
    assert set(first) == {"b001.k1", "hub"} and first["b001.k1"] != second["b001.k1"]
    (_account, h) = store.load()["b001.k1"]
    assert verify_password(second["b001.k1"], h) and not verify_password(first["b001.k1"], h)
    assert verify_password(first["hub"], store.load()["hub"][1])  # untouched
    files = [p for p in store.dir.iterdir() if p.name != ".lock"]
    assert {p.name for p in files} == {"accounts.json", "passwords", "acl", "emqx-acl.conf", "emqx-users.json"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        text = p.read_text()
        assert second["b001.k1"] not in text and first["hub"] not in text
    assert store.password_file.read_text().splitlines()[0].startswith("hub:$7$101$")
    assert store.revoke(["b001.k1", "b001.k9"]) == ["b001.k1"]
    assert "b001.k1" not in store.acl_file.read_text()


def test_store_refuses_a_role_change(tmp_path: Path) -> None:
    """GIVEN b001.lobby1 provisioned as a display WHEN provisioned again as a kiosk THEN refused."""
    store = AccountStore(tmp_path)
    store.provision([Account.for_device("b001", "lobby1", display=True)])
    with pytest.raises(AccountStoreError, match="display"):
        store.provision([Account.for_device("b001", "lobby1")])


def test_store_names_a_broken_file(tmp_path: Path) -> None:
    """GIVEN accounts.json that is not ours WHEN loaded THEN the error names the file."""
    (tmp_path / "accounts.json").write_text("[]")
    with pytest.raises(AccountStoreError, match=r"accounts\.json"):
        AccountStore(tmp_path).load()
