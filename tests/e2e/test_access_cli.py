"""`jotgate access list|grant|revoke` against the SQLite database in a data folder, chosen by
--data-dir or through a config file's data_dir."""
import shutil

from conftest import TEST_DATA, run_jotgate


def test_grant_list_revoke_with_data_dir(tmp_path):
    data = tmp_path / "data"
    done = run_jotgate("access", "grant", "--data-dir", data, "ACME\\alice")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Granted ACME\\alice\n"
    assert (data / "jotgate.db").exists()
    again = run_jotgate("access", "grant", "--data-dir", data, "ACME\\alice")
    assert again.stdout == "Already allocated: ACME\\alice\n"
    run_jotgate("access", "grant", "--data-dir", data, "OTHER\\bob")

    listed = run_jotgate("access", "list", "--data-dir", data)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["USER", "ALLOCATED", "LAST", "USED", "SOURCE"]
    assert lines[1].split()[0] == "ACME\\alice" and lines[1].split()[2] == "never"
    assert lines[2].split()[0] == "OTHER\\bob"
    assert lines[-1] == "2 allocations, 0 auto-allocated seats used"

    revoked = run_jotgate("access", "revoke", "--data-dir", data, "ACME\\alice")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith("Revoked ACME\\alice")
    listed = run_jotgate("access", "list", "--data-dir", data)
    assert "ACME\\alice" not in listed.stdout
    missing = run_jotgate("access", "revoke", "--data-dir", data, "ACME\\alice")
    assert missing.returncode == 1
    assert "ACME\\alice has no allocation" in missing.stderr


def test_bad_user_form_is_a_usage_error(tmp_path):
    for user in ("alice", "\\alice", "ACME\\", "A\\b\\c"):
        done = run_jotgate("access", "grant", "--data-dir", tmp_path / "d", user)
        assert done.returncode == 2, (user, done)
        assert "is not DIRECTORY\\id" in done.stderr
    assert not (tmp_path / "d" / "jotgate.db").exists()


def test_config_selects_the_data_dir(tmp_path):
    shutil.copy(TEST_DATA / "keys" / "rsa_cert.pem", tmp_path / "signer.pem")
    config = tmp_path / "gate.yaml"
    config.write_text("""\
data_dir: store
listeners: [{ name: http, address: "127.0.0.1:8080" }]
virtual_proxies:
  - { name: A, prefix: a, listeners: [http], upstreams: ["http://127.0.0.1:1"],
      auth: { jwt: { key: signer.pem } } }
""")
    done = run_jotgate("access", "grant", "--config", config, "ACME\\carol")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "store" / "jotgate.db").exists()
    listed = run_jotgate("access", "list", "--data-dir", tmp_path / "store")
    assert "ACME\\carol" in listed.stdout
    both = run_jotgate("access", "list", "--config", config, "--data-dir", tmp_path / "x")
    assert both.returncode != 0
