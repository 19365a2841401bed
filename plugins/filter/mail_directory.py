"""The mail_directory filter: agencies, units and people -> mailboxes, aliases and lists. The logic is plugins/plugin_utils/directory.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.directory import mail_directory

DOCUMENTATION = r"""
name: mail_directory
short_description: turn agencies, units and people into mailboxes, aliases and lists
description:
  - Describes the province as data (agencies with their unit mailbox and nested sub-units, people
    with their Vietnamese name, agency and role, quota classes, lists) and returns exactly what the
    roles consume, C(accounts) (the shape of C(mail_accounts)) and C(aliases) (the shape of
    C(mail_aliases)), plus C(collisions), the report of generated addresses that got a numeric suffix.
  - "Agency (cơ quan / đơn vị): C(code) (unique across all agencies and sub-units), C(name), C(domain)
    (a served domain; default the parent's, for a top-level agency the first of O(domains)),
    C(mailbox) (the unit mailbox, required for a top-level agency), C(mailboxes) (more shared
    mailboxes of the unit, such as postmaster), C(list) (address of a list of every person of the
    agency and its sub-units, or a mapping C(address), C(name), C(senders), C(posting),
    C(posting_senders)), C(units) (sub-units,
    the same shape, nested to any depth)."
  - "Unit mailbox: C(address) (a local part in the agency's domain, or a full address), C(name)
    (default the agency's name), C(quota) or C(quota_class), C(state) and C(departed_on) (as for
    people), C(aliases) (more addresses of the unit; they deliver to the mailbox) and C(senders)
    (people who may send as the unit: ids or addresses). A unit mailbox is a real mailbox: its
    password comes from the vault mapping like everyone's. The grant covers the mailbox address
    itself (the account gets C(senders), which the postfix role's C(postfix_sender_grants) takes)
    and each of the unit's C(aliases) (an alias with C(to) the mailbox and C(senders) the mailbox
    itself followed by C(senders)). A unit alias is C(posting) C(public), like the unit mailbox."
  - "Person: C(name) (full Vietnamese name), C(agency) (the code of an agency or sub-unit), C(role)
    (one of O(roles), default staff; passed through, so leaders get the leader retention of
    C(mail_apply_lifecycle)), C(state) and C(departed_on) (passed through to the lifecycle
    filters), C(id) (optional stable identifier such as a staff number, unique), C(address)
    (explicit, always wins: a local part or a full address), C(quota) (a size such as 2G) or
    C(quota_class)."
  - Addresses of people without an explicit one are C(mail_assign_addresses) with O(pattern) in the
    agency's domain. Every unit mailbox, unit alias, list and extra alias address is reserved first,
    so a generated address never takes one of them. Collisions get suffixes 2, 3, ... in the order
    of C(id), then name, then the rest of the record, never the input order; each is reported in
    C(collisions).
  - "Senders (of a unit or a list) name people or mailboxes: a person's C(id), a full address, or a
    local part in the unit's or list's domain; each must be an account of the directory."
  - "List (province-wide, O(lists)): C(address) (local part in the first served domain, or full),
    C(name), C(roles) (only people with one of these roles), C(agencies) (only people of these
    agencies and their sub-units), C(senders), C(posting), C(posting_senders). Without C(roles) and C(agencies) a list holds every
    person. Members are in the order people are listed in the input. A list that selects nobody
    is an error."
  - "Posting (lists, agency lists, extra aliases): C(posting) is who may post to it, C(internal)
    (the default), C(members), C(senders) or C(public) (see the postfix role's C(postfix_aliases));
    C(posting_senders) (ids or addresses of the directory, as for C(senders)) only with C(senders)."
  - Every address (unit mailboxes, unit aliases, lists, people's explicit addresses, extra aliases)
    may be used once; a duplicate is an error naming both owners. Two agencies with the same code,
    two people with the same C(id) and two identical people records (same name, agency and the
    rest) are errors naming both.
  - Lists and unit aliases come out unfiltered here; C(mail_directory_aliases) keeps only the
    members that can receive according to C(mail_apply_lifecycle), which is the filter
    C(mail_directory_aliases).
  - "C(agency_parents) is the agency tree for the filter C(mail_agency_mailboxes): the mailboxes of
    an agency and all its sub-units, which the backup_client role restores by agency."
positional: _input, people, domains
options:
  _input:
    description: List of agencies (see above).
    type: list
    elements: dict
    required: true
  people:
    description: List of people (see above).
    type: list
    elements: dict
    required: true
  domains:
    description: The served mail domains (C(mail_domains)).
    type: list
    elements: str
    required: true
  pattern:
    description: Local part pattern for people without an explicit address, see C(vn_local_part).
    type: str
    default: '{given}{initials}'
  quota_classes:
    description: Mapping class name -> size (C(500M), C(2G), C(1T)).
    type: dict
    default: {}
  default_quota_class:
    description: Quota class of a person without C(quota) or C(quota_class) (none when null).
    type: str
  lists:
    description: Province-wide lists (see above).
    type: list
    elements: dict
    default: []
  aliases:
    description: >-
      Extra aliases in the shape of C(mail_aliases) (C(address), C(to), C(senders), C(posting),
      C(posting_senders)), passed through
      after the checks; a local part is in the first served domain.
    type: list
    elements: dict
    default: []
  roles:
    description: The roles a person may have.
    type: list
    elements: str
    default: [staff, leader, director, deputy_director, head]
notes:
  - Errors name the offending agency, person, list or alias. The directory holds no password
    (passwords stay in the vault mapping given to C(mail_apply_lifecycle)).
"""

EXAMPLES = r"""
# mail_agencies:
#   - code: VP
#     name: "Văn phòng UBND tỉnh"
#     mailbox: {address: vanphong, quota_class: unit, aliases: [hanhchinh], senders: [GL0002]}
#     list: vp
#     units:
#       - {code: VP-LT, name: "Lưu trữ", mailbox: {address: luutru, quota: 1M}}
#   - {code: SNV, name: "Sở Nội vụ", mailbox: {address: sonoivu}}
# mail_people:
#   - {id: GL0001, name: "Nguyễn Văn Lộc", agency: VP, role: leader}
#   - {id: GL0002, name: "Trần Thị Hoa", agency: VP-LT}
#   - {id: GL0003, name: "Nguyễn Vũ Lộc", agency: SNV, quota_class: large}
# mail_lists:
#   - {address: lanhdao, name: "Lãnh đạo", roles: [leader]}
#   - {address: toantinh, name: "Toàn tỉnh", posting: senders, posting_senders: [vanphong]}
mail_directory_result: >-
  {{ mail_agencies | mail_directory(mail_people, mail_domains, pattern='{given}{initials}',
     quota_classes={'unit': '5G', 'large': '10G'}, default_quota_class=none, lists=mail_lists) }}
mail_accounts: "{{ mail_directory_result.accounts }}"
# -> vanphong@ (quota 5G), luutru@ (1M), locnv@ (role leader), hoatt@,
#    locnv2@ (Nguyễn Vũ Lộc, GL0003 sorts after GL0001; quota 10G)
mail_aliases: "{{ mail_directory_result | mail_directory_aliases(mail_accounts_effective) }}"
# -> lanhdao@ to [locnv@] (posting internal); toantinh@ to [locnv@, hoatt@, locnv2@] (minus anyone revoked
#    or expired; posting senders [vanphong@]); hanhchinh@ to [vanphong@], senders [vanphong@, hoatt@]
#    (posting public); vp@ to [locnv@, hoatt@] (posting internal)
collisions: "{{ mail_directory_result.collisions }}"
# -> [{address: locnv2@gialai.gov.vn, base: locnv@gialai.gov.vn, name: Nguyễn Vũ Lộc, agency: SNV, id: GL0003}]
backup_agencies: "{{ mail_accounts_effective | mail_agency_mailboxes(mail_directory_result.agency_parents) }}"
# agency_parents -> {VP: null, VP-LT: VP, SNV: null}
# backup_agencies -> {VP: [hoatt@, locnv@, luutru@, vanphong@], VP-LT: [hoatt@, luutru@], SNV: [locnv2@, sonoivu@]}
"""

RETURN = r"""
_value:
  description: The directory.
  type: dict
  contains:
    accounts:
      description: >-
        One mapping per mailbox, unit mailboxes first (agency order, each agency before its
        sub-units), then people in input order; C(address), C(name), C(agency) (code), and when
        set C(id), C(role) (people), C(state), C(departed_on), C(quota), C(shared) (true for unit
        mailboxes). The shape of C(mail_accounts).
      type: list
      elements: dict
    aliases:
      description: >-
        C(address), C(to), C(senders) when there are any, C(posting), and C(posting_senders) with
        posting C(senders): province-wide lists, then per agency
        (in agency order) its unit aliases and its list, then the extra aliases. Not yet filtered
        by the lifecycle (see C(mail_directory_aliases)).
      type: list
      elements: dict
    collisions:
      description: >-
        People whose generated address got a suffix, sorted by C(base) then suffix (2 before 10):
        C(address), C(base) (the address collided on), C(name), C(agency), C(id) (or null).
      type: list
      elements: dict
    agency_parents:
      description: >-
        Every agency and sub-unit code (as written) -> the code of its parent, null for a
        top-level agency, in agency order (each agency before its sub-units). The input of
        C(mail_agency_mailboxes).
      type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_directory": mail_directory}
