"""The filters as Ansible itself loads them: by short name from plugins/filter (each file an
isolated module), their logic imported from the collection gialai.mail (this checkout, through the
committed link in .collections)."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

FILTER_DIR = os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "filter")
)
COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".collections"))

PLAYBOOK = textwrap.dedent("""\
    - hosts: localhost
      gather_facts: false
      vars:
        people:
          - {name: "Nguyễn Văn Lộc", id: GL0012}
          - {name: "Nguyễn Vũ Lộc", id: GL0007}
        accounts:
          - {address: a@gialai.gov.vn}
          - {address: b@gialai.gov.vn, state: departed, departed_on: 2024-08-31}
        password: "Tr@ngDồng-2024"
        mailboxes:
          - {address: A@GiaLai.gov.vn, password: "{{ password }}"}
      tasks:
        - ansible.builtin.set_fact:
            hashed: "{{ password | mail_password_policy(name='locnv@gialai.gov.vn') | mail_password_hash(rounds=4) }}"
        - ansible.builtin.set_fact:
            again: "{{ password | mail_password_hash(existing=hashed, rounds=4) }}"
            parsed: "{{ ('locnv@gialai.gov.vn:' ~ hashed ~ ':5000:5000::/var/vmail::') | mail_passwd_parse }}"
            assigned: "{{ people | mail_assign_addresses('gialai.gov.vn') }}"
        - ansible.builtin.assert:
            that:
              - hashed is match('^[{]BLF-CRYPT[}][$]2y[$]04[$]')
              - again == hashed
              - password | mail_password_verify(hashed)
              - parsed['locnv@gialai.gov.vn'] == hashed
              - ('Đặng Thị Ánh' | vn_ascii) == 'Dang Thi Anh'
              - ('Nguyễn Văn Lộc' | vn_local_part) == 'locnv'
              - ('Nguyễn Văn Lộc' | vn_local_part('{given}.{family}')) == 'loc.nguyen'
              - assigned | map(attribute='address') | list == ['locnv2@gialai.gov.vn', 'locnv@gialai.gov.vn']
              - assigned[0].address_collision
              - ('gialai.gov.vn' | mail_valid_domain)
              - not ('a..b@gialai.gov.vn' | mail_valid_address)
              - (accounts | mail_lifecycle('2025-03-01'))[1].action == 'archive_then_remove'
              - (accounts | mail_lifecycle('2025-03-01'))[1].due == '2025-02-28'
              - accounts | mail_lifecycle_changes('2025-03-01') | length == 1
              - (mailboxes | mail_validate_mailboxes(['gialai.gov.vn']))[0].address == 'a@gialai.gov.vn'
        - name: a failing filter names the mailbox and keeps the password out
          ansible.builtin.debug:
            msg: "{{ [{'address': 'x@example.org', 'password': password}] | mail_validate_mailboxes('gialai.gov.vn') }}"
          register: bad
          ignore_errors: true
        - ansible.builtin.assert:
            that:
              - bad is failed
              - "'x@example.org' in bad.msg"
              - "password not in bad.msg"
    """)


def test_filters_load_and_run_in_ansible(tmp_path):
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.path.exists(playbook_bin):
        playbook_bin = shutil.which("ansible-playbook")
    if not playbook_bin:
        pytest.skip("ansible-playbook not installed")
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "ansible.cfg").write_text(
        "[defaults]\n", encoding="utf-8"
    )  # not the project's or the user's
    env = dict(
        os.environ,
        ANSIBLE_FILTER_PLUGINS=FILTER_DIR,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_DIR,
        ANSIBLE_HOME=str(tmp_path / "home"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
        ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    proc = subprocess.run(
        [playbook_bin, "-i", "localhost,", "-c", "local", "play.yml"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "failed=0" in proc.stdout and "ignored=1" in proc.stdout
