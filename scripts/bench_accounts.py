#!/usr/bin/env python3
"""Accounts at scale: playbooks/accounts.yml with N generated accounts.

    scripts/bench_accounts.py [--container bench-mail13] [--accounts 10000]

Against a host already converged by playbooks/site.yml with the lab inventory
(scripts/bench.sh makes one), writes an inventory with the lab's data plus N
generated accounts (Vietnamese names, their addresses from the vn_local_part
convention with a number, strong random passwords, every fifth suspended and
every fiftieth departed), then times:

  1. the first run of playbooks/accounts.yml (hashes every password),
  2. the second run (must report changed=0: existing hashes are verified and kept),

prints both wall times and changed counts, checks one generated account can
log in over IMAPS (verified TLS), and finally puts the host back to the lab's
accounts. Prints figures and asserts nothing; never part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.lab import changed_counts, target_for  # noqa: E402
from tests.helpers.labdata import lab_mail  # noqa: E402
from tests.helpers.mailclient import IMAPS  # noqa: E402

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý", "Rơ Mah", "Ksor", "Siu", "Rah Lan"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Xuân", "Thu"]
GIVEN = ["Lộc", "Hoa", "Tâm", "Hùng", "Nam", "Đạt", "Hương", "Phúc", "Yến", "Khánh", "Dũng", "Trang", "Sơn", "Linh",
         "Quyết", "Ánh", "Đông", "Hạnh", "Tùng", "Vy", "H'Hen", "Blếch"]


def password(rng: random.Random) -> str:
    chars = string.ascii_letters + string.digits
    return "".join(rng.choice(chars) for _ in range(12)) + rng.choice("!#%&*+-=?@") + rng.choice(string.digits)


def generate(n: int, domain: str) -> tuple[list[dict], dict]:
    sys.path.insert(0, str(ROOT / ".collections"))  # this checkout as the collection gialai.mail
    from ansible_collections.gialai.mail.plugins.plugin_utils.names import vn_local_part  # the inventory's convention

    rng = random.Random(20261128)
    accounts, passwords = [], {}
    for i in range(n):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        address = f"{vn_local_part(name)}{i:05d}@{domain}"
        passwords[address] = password(rng)
        account = {"address": address, "name": name}  # password: vault_mail_passwords[address]
        if i % 5 == 4:
            account["state"] = "suspended"
        elif i % 50 == 7:
            account.update(state="departed", departed_on="2026-09-15")
        accounts.append(account)
    return accounts, passwords


def playbook(inventory: pathlib.Path, env: dict) -> tuple[float, int, str]:
    start = time.monotonic()
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
                             str(ROOT / "playbooks" / "accounts.yml")], capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(f"accounts.yml failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    counts = changed_counts(result.stdout)
    return elapsed, max(counts.values(), default=-1), result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--container", default="bench-mail13")
    parser.add_argument("--accounts", type=int, default=10000)
    args = parser.parse_args()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               MAIL_IAC_ROOT=str(ROOT))
    env.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))

    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-accounts-"))
    try:
        shutil.copytree(ROOT / "inventories" / "lab" / "group_vars", work / "group_vars")
        lab_ca = ROOT / "inventories" / "lab" / "tls-ca"
        if lab_ca.exists():
            shutil.copytree(lab_ca, work / "tls-ca")
        hosts = {"all": {"children": {"mail_mx": {"hosts": {args.container: {}}},
                                      "mail_store": {"hosts": {args.container: {}}}},
                         "vars": {"ansible_connection": "podman_pipelined",
                                  "ansible_python_interpreter": "/usr/bin/python3"}}}
        (work / "hosts.yml").write_text(yaml.safe_dump(hosts))
        mail = yaml.safe_load((work / "group_vars" / "all" / "mail.yml").read_text())
        vault = yaml.safe_load((work / "group_vars" / "all" / "vault.yml").read_text())
        generated, passwords = generate(args.accounts, mail["mail_domains"][0])
        (work / "group_vars" / "all" / "zz_bench.yml").write_text(yaml.safe_dump(
            # the lab's accounts (its directory, rendered) listed literally, plus the generated ones
            {"mail_accounts": lab_mail()["accounts"] + generated,
             "vault_mail_passwords": {**vault["vault_mail_passwords"], **passwords}}, allow_unicode=True))

        first, changed1, _ = playbook(work / "hosts.yml", env)
        second, changed2, _ = playbook(work / "hosts.yml", env)

        probe = next(a["address"] for a in generated if "state" not in a)
        target = target_for(args.container, mail["mail_hostname"])
        with IMAPS(target) as imap:
            login = imap.login(probe, passwords[probe])[0]

        (work / "group_vars" / "all" / "zz_bench.yml").unlink()
        back, _, _ = playbook(work / "hosts.yml", env)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"playbooks/accounts.yml with {args.accounts} generated accounts (+ the lab's), "
          f"{args.container}, {os.cpu_count()} cores")
    print(f"  first run (hash every password)   {first:7.1f} s, changed={changed1}")
    print(f"  second run (verify, keep hashes)  {second:7.1f} s, changed={changed2}")
    print(f"  IMAPS login of {probe}: {login}")
    print(f"  back to the lab accounts          {back:7.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
