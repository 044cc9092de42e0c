"""harborapi (a real Harbor API client) against Berth in ldap_auth mode: configurations, LDAP ping/search/import,
user groups, group members. Prints one JSON object; every call's response goes through harborapi's pydantic models.
usage: python harborapi_ldap.py URL ADMIN_PASSWORD SLAPD_URL SEARCH_DN SEARCH_PASSWORD PROJECT
"""
import asyncio
import json
import sys
import traceback

from harborapi import HarborAsyncClient
from harborapi.models import Configurations, LdapConf, ProjectReq, UserGroup
from harborapi.retry import RetrySettings


async def main(url, admin_pw, ldap_url, search_dn, search_pw, project):
    c = HarborAsyncClient(url=f"{url}/api/v2.0", username="admin", secret=admin_pw, retry=RetrySettings(enabled=False), timeout=30.0)
    out = {}

    async def step(name, fn):
        try:
            out[name] = {"ok": True, "detail": await fn()}
        except Exception as e:  # noqa: BLE001
            out[name] = {"ok": False, "error": f"{type(e).__name__}: {e} {getattr(e, 'errors', '')}"[:1500], "trace": traceback.format_exc()[-1200:]}

    async def configure():
        await c.update_config(Configurations(ldap_url=ldap_url, ldap_search_dn=search_dn, ldap_search_password=search_pw,
                                             ldap_base_dn="ou=people,dc=example,dc=test", ldap_uid="uid", ldap_scope=2,
                                             ldap_group_base_dn="ou=groups,dc=example,dc=test",
                                             ldap_group_search_filter="(objectClass=groupOfNames)", ldap_group_attribute_name="cn",
                                             ldap_group_membership_attribute="memberof", ldap_filter="(objectClass=inetOrgPerson)"))
        cfg = await c.get_config()
        return {"ldap_url": cfg.ldap_url.value, "ldap_scope": cfg.ldap_scope.value, "ldap_verify_cert": cfg.ldap_verify_cert.value,
                "auth_mode": cfg.auth_mode.value, "self_registration": cfg.self_registration.value}

    async def ping_stored():
        r = await c.ping_ldap()
        return {"success": r.success}

    async def ping_body():
        r = await c.ping_ldap(LdapConf(ldap_url=ldap_url, ldap_search_dn=search_dn, ldap_search_password="wrong"))
        return {"success": r.success}

    async def users():
        us = await c.search_ldap_users("alice")
        return [{"username": u.username, "email": u.email, "realname": u.realname} for u in us]

    async def groups():
        gs = await c.search_ldap_groups(group_name="devs")
        return [{"group_name": g.group_name, "ldap_group_dn": g.ldap_group_dn} for g in gs]

    async def switch():
        await c.update_config(Configurations(auth_mode="ldap_auth"))
        return {"auth_mode": (await c.get_config()).auth_mode.value}

    async def import_users():
        await c.import_ldap_users(["erin"])
        return {"imported": "erin"}

    async def usergroups():
        loc = await c.create_usergroup(UserGroup(group_type=1, ldap_group_dn="cn=team-top,ou=groups,dc=example,dc=test"))
        gid = int(loc.rstrip("/").split("/")[-1])
        g = await c.get_usergroup(gid)
        await c.update_usergroup(gid, UserGroup(group_name="top-team"))
        listed = await c.get_usergroups()
        found = await c.search_usergroups("top")
        return {"id": gid, "name": g.group_name, "type": g.group_type, "dn": g.ldap_group_dn,
                "listed": sorted(x.group_name for x in listed), "found": [x.group_name for x in found]}

    async def members():
        await c.create_project(ProjectReq(project_name=project, public=False))
        await c.add_project_member_group(project, "cn=devs,ou=groups,dc=example,dc=test", 2)
        ms = await c.get_project_members(project)
        return sorted([m.entity_type, m.entity_name, m.role_id] for m in ms)

    for name, fn in [("configure", configure), ("ping_stored", ping_stored), ("ping_body", ping_body), ("users", users),
                     ("groups", groups), ("switch", switch), ("import_users", import_users), ("usergroups", usergroups),
                     ("members", members)]:
        await step(name, fn)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:7]))
