"""Configuration: the demo branches load; bad files get file, key and what is allowed."""

from pathlib import Path

from click.testing import CliRunner

from smartzone.cli.main import cli
from szconfig import load_branches, load_hub_settings

REPO = Path(__file__).resolve().parents[2]


def test_demo_branches_load() -> None:
    """GIVEN configs/branches THEN b001 (self-operated, full zone) and b002 (agency) load."""
    branches = load_branches(REPO / "configs" / "branches")
    b001, b002 = branches["b001"], branches["b002"]
    assert b001.kind == "self_operated" and b002.kind == "agency"
    assert {z.channel for z in b001.zones} == {"self_service", "counter", "wealth", "vip"}
    assert len(b002.counters) == 1 and b002.business("pension") is not None


def test_config_check_ok_for_shipped_files() -> None:
    """GIVEN the shipped TOML files WHEN checked THEN the command prints ok and exits 0."""
    files = [str(p) for p in (REPO / "configs").rglob("*.toml")]
    result = CliRunner().invoke(cli, ["config", "check", *files])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("ok")


def test_config_check_names_file_key_and_allowed(tmp_path: Path) -> None:
    """GIVEN a branch file with a bad kind, a bad prefix and an unknown key
    WHEN checked THEN each problem names the file, the key path and what is allowed; exit 1."""
    src = (REPO / "configs" / "branches" / "b002.toml").read_text()
    bad = src.replace('kind = "agency"', 'kind = "franchise"').replace('prefix = "P"', 'prefix = "p1"')
    bad = 'colour = "blue"\n' + bad
    (tmp_path / "branches").mkdir()
    path = tmp_path / "branches" / "b002.toml"
    path.write_text(bad)
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert f"{path}: kind: Input should be 'self_operated' or 'agency' (got 'franchise')" in out
    assert f"{path}: business_types.1.prefix:" in out and "'p1'" in out
    assert f"{path}: colour: unknown key" in out


def test_counter_skills_must_be_business_codes(tmp_path: Path) -> None:
    """GIVEN a counter whose skill is not a business type THEN the check names it."""
    src = (REPO / "configs" / "branches" / "b002.toml").read_text()
    (tmp_path / "branches").mkdir()
    path = tmp_path / "branches" / "b002.toml"
    path.write_text(src.replace('skills = ["deposit", "pension", "card"]', 'skills = ["mortgage"]'))
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 1 and "['mortgage'] are not business codes" in result.output


def test_environment_overrides_file(tmp_path: Path, monkeypatch) -> None:
    """GIVEN hub.toml and SZ_BROKER/SZ_BATCH_MAX THEN the environment wins, typed."""
    cfg = tmp_path / "hub.toml"
    cfg.write_text('broker = "mqtt://file:1883"\nbatch_max = 10\n')
    monkeypatch.setenv("SZ_BROKER", "mqtt://env:1884")
    monkeypatch.setenv("SZ_BATCH_MAX", "42")
    s = load_hub_settings(cfg)
    assert s.broker == "mqtt://env:1884" and s.batch_max == 42


def test_bad_toml_syntax_is_reported(tmp_path: Path) -> None:
    """GIVEN a file that is not TOML THEN the check says so with the file name."""
    path = tmp_path / "hub.toml"
    path.write_text("broker = [\n")
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 1 and f"{path}: -: not valid TOML" in result.output
