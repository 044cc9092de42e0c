"""A scripted Harbor API session against Berth with the client generated from Harbor's swagger: PyPI's
`harbor-api-client` 2.12.2 (Python package `harbor_client`, swagger-codegen; installed by scripts/ci-deps.sh into
.tools/pyvenv). It sends what generated clients send: every request with `Content-Type: application/json` (also
body-less DELETEs), query booleans as Python's `True`/`False`, and explicit `page_size=0` where a caller asks
for "everything".

Usage: harbor_client_scenario.py URL USERNAME PASSWORD PROJECT
  CRANE  environment: the crane binary that pushes the image the artifact steps need

Every step runs even when an earlier one failed. Each API call is recorded as "METHOD /path/{template}" (the
swagger path the generated method calls), so the test maps steps to Harbor operationIds and checks that every
operation Berth serves was called. Output: one JSON object {"harbor_client", "steps": [{"name", "ok", "calls",
"detail"|"error"}]}.
"""

from scenario_image import crane_push
import json
import sys
import time
import traceback
from importlib.metadata import version

import harbor_client as hc
from harbor_client.rest import ApiException

CALLS = []
DELETES = []  # (path, Content-Type, has body) of every DELETE the client sent
_orig_call_api = hc.ApiClient.call_api


def _recording_call_api(self, resource_path, method, *args, **kwargs):
    CALLS.append(f"{method.upper()} {resource_path}")
    if method.upper() == "DELETE":
        headers = args[2] if len(args) > 2 else kwargs.get("header_params") or {}
        DELETES.append((resource_path, headers.get("Content-Type"), kwargs.get("body") is not None))
    return _orig_call_api(self, resource_path, method, *args, **kwargs)


hc.ApiClient.call_api = _recording_call_api


def status_of(fn, *args, **kwargs):
    """The HTTP status of a call expected to fail (a generated client raises ApiException)."""
    try:
        fn(*args, **kwargs)
    except ApiException as e:
        return e.status
    raise AssertionError(f"{fn.__name__} succeeded, an error was expected")


def raw(fn, *args, **kwargs):
    """The decoded JSON of a call, bypassing the generated models: Harbor itself answers GC/purge executions with
    `schedule.type` "MANUAL"/"SCHEDULE" (the trigger), which the client's ScheduleObj enum rejects."""
    return json.loads(fn(*args, _preload_content=False, **kwargs).data)


def location_id(headers):
    loc = headers.get("Location") or headers.get("location")
    assert loc, f"no Location header: {headers}"
    return loc, loc.rstrip("/").split("/")[-1]


class Scenario:
    def __init__(self, url, username, password, project):
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.project = project
        self.repo = "app"
        self.tag = "v1"
        self.steps = []
        self.state = {}
        conf = hc.Configuration()
        conf.host = f"{self.url}/api/v2.0"
        conf.username = username
        conf.password = password
        self.api = hc.ApiClient(conf)
        a = self.api
        self.project_api = hc.ProjectApi(a)
        self.meta_api = hc.ProjectMetadataApi(a)
        self.repo_api = hc.RepositoryApi(a)
        self.art_api = hc.ArtifactApi(a)
        self.label_api = hc.LabelApi(a)
        self.member_api = hc.MemberApi(a)
        self.user_api = hc.UserApi(a)
        self.group_api = hc.UsergroupApi(a)
        self.robot_api = hc.RobotApi(a)
        self.quota_api = hc.QuotaApi(a)
        self.gc_api = hc.GcApi(a)
        self.purge_api = hc.PurgeApi(a)
        self.audit_api = hc.AuditlogApi(a)
        self.conf_api = hc.ConfigureApi(a)
        self.sys_api = hc.SysteminfoApi(a)
        self.health_api = hc.HealthApi(a)
        self.stat_api = hc.StatisticApi(a)
        self.search_api = hc.SearchApi(a)
        self.ping_api = hc.PingApi(a)
        self.icon_api = hc.IconApi(a)
        self.perm_api = hc.PermissionsApi(a)
        self.ldap_api = hc.LdapApi(a)
        self.job_api = hc.JobserviceApi(a)
        self.schedule_api = hc.ScheduleApi(a)
        self.webhook_api = hc.WebhookApi(a)
        self.webhookjob_api = hc.WebhookjobApi(a)

    def step(self, name, fn):
        start = len(CALLS)
        try:
            detail = fn()
            self.steps.append({"name": name, "ok": True, "calls": CALLS[start:], "detail": detail})
        except Exception as e:  # noqa: BLE001 - every failure is reported, the scenario goes on
            msg = f"{type(e).__name__}: {e}"
            self.steps.append({"name": name, "ok": False, "calls": CALLS[start:], "error": msg[:2000], "trace": traceback.format_exc()[-1500:]})

    def need(self, key):
        if key not in self.state:
            raise RuntimeError(f"skipped: {key} is not known (an earlier step failed)")
        return self.state[key]

    @property
    def full_repo(self):
        return f"{self.project}/{self.repo}"

    # ---- system

    def systeminfo(self):
        info = self.sys_api.get_system_info()
        assert info.harbor_version and info.auth_mode == "db_auth", info
        vol = self.sys_api.get_volumes()
        assert vol.storage and vol.storage[0].total >= vol.storage[0].free >= 0, vol
        return {"harbor_version": info.harbor_version}

    def system_cert(self):
        # Berth's default TLS setup has no registry CA: Harbor answers 404 then.
        assert status_of(self.sys_api.get_cert) == 404
        return {"cert": 404}

    def health_ping(self):
        h = self.health_api.get_health()
        assert h.status == "healthy", h.status
        assert h.components and all(c.status == "healthy" for c in h.components), h.components
        pong = self.ping_api.get_ping()
        assert pong == "Pong", pong
        return {"components": [c.name for c in h.components]}

    def current_user(self):
        me = self.user_api.get_current_user_info()
        assert me.username == self.username and me.sysadmin_flag is True, me
        perms = self.user_api.get_current_user_permissions(scope=f"/project/{self.need('project_id')}", relative=True)
        assert any(p.resource == "repository" and p.action == "pull" for p in perms), perms
        self.state["admin_id"] = me.user_id
        return {"user_id": me.user_id, "permissions": len(perms)}

    def permissions(self):
        p = self.perm_api.get_permissions()
        assert any(x.resource == "repository" and x.action == "push" for x in p.project), p.project
        return {"project": len(p.project), "system": len(p.system or [])}

    # ---- projects

    def create_project(self):
        _, status, headers = self.project_api.create_project_with_http_info(
            hc.ProjectReq(project_name=self.project, metadata=hc.ProjectMetadata(public="false", auto_scan="false")),
            x_resource_name_in_location=True,
        )
        assert status == 201, status
        p = self.project_api.get_project(self.project)
        assert p.name == self.project and p.metadata.public == "false", p
        self.state["project_id"] = p.project_id
        # X-Resource-Name-In-Location goes out as "True": Harbor then answers with the name in Location.
        loc, name = location_id(headers)
        assert name == self.project, loc
        assert self.project_api.get_project(str(p.project_id), x_is_resource_name=False).name == self.project
        return {"location": loc, "project_id": p.project_id}

    def head_project(self):
        _, status, _ = self.project_api.head_project_with_http_info(self.project)
        assert status == 200, status
        assert status_of(self.project_api.head_project, f"{self.project}-absent") == 404
        return {"status": status}

    def list_projects(self):
        ps = self.project_api.list_projects(name=self.project, public=False, with_detail=True, page=1, page_size=10)
        assert [p.name for p in ps] == [self.project], [p.name for p in ps]
        ps_all = self.project_api.list_projects(owner=self.username, with_detail=False)
        assert any(p.name == self.project for p in ps_all)
        return {"count": len(ps_all)}

    def update_project(self):
        self.project_api.update_project(self.project, hc.ProjectReq(metadata=hc.ProjectMetadata(public="false", prevent_vul="true", severity="high")))
        p = self.project_api.get_project(str(self.need("project_id")))
        assert p.metadata.prevent_vul == "true" and p.metadata.severity == "high", p.metadata
        return {"prevent_vul": p.metadata.prevent_vul}

    def project_metadata(self):
        pn = self.project
        self.meta_api.add_project_metadatas(pn, metadata={"enable_content_trust": "false"})
        m = self.meta_api.list_project_metadatas(pn)
        assert m.get("public") == "false" and m.get("enable_content_trust") == "false", m
        one = self.meta_api.get_project_metadata(pn, "prevent_vul")
        assert one == {"prevent_vul": "true"}, one
        self.meta_api.update_project_metadata(pn, "prevent_vul", metadata={"prevent_vul": "false"})
        assert self.meta_api.get_project_metadata(pn, "prevent_vul") == {"prevent_vul": "false"}
        self.meta_api.delete_project_metadata(pn, "enable_content_trust")
        assert "enable_content_trust" not in self.meta_api.list_project_metadatas(pn)
        return {"metadata": sorted(m)}

    def project_scanner(self):
        pn = self.project
        cands = self.project_api.list_scanner_candidates_of_project(pn, page=1, page_size=10)
        assert isinstance(cands, list), cands
        s = self.project_api.get_scanner_of_project(pn, x_is_resource_name=True)
        # No scanner is registered in a fresh Berth: the project has none (an empty registration).
        assert cands or (s is None or s.uuid is None), s
        # Harbor stores whatever uuid it is given in the project's metadata (no lookup), and the project keeps
        # reporting the registration that exists — none here.
        uuid = cands[0].uuid if cands else "no-such-scanner"
        _, status, _ = self.project_api.set_scanner_of_project_with_http_info(pn, hc.ProjectScanner(uuid=uuid))
        assert status == 200, status
        after = self.project_api.get_scanner_of_project(pn)
        assert (after.uuid == uuid) if cands else (after is None or after.uuid is None), after
        return {"candidates": len(cands)}

    def project_summary(self):
        s = self.project_api.get_project_summary(self.project)
        assert s.repo_count == 1, s.repo_count
        assert s.quota and s.quota.used and s.quota.used.get("storage", 0) > 0, s.quota
        d = self.project_api.get_project_deletable(self.project)
        assert d.deletable is False, d
        return {"repo_count": s.repo_count, "deletable": d.deletable}

    def project_logs(self):
        logs = self.project_api.get_logs(self.project, q="operation=create", sort="-op_time", page=1, page_size=50)
        assert any(l.resource_type in ("project", "artifact", "repository") for l in logs), [l.to_dict() for l in logs][:3]
        return {"count": len(logs)}

    # ---- image, repositories, artifacts

    def push_image(self):
        digest = crane_push(self.url, self.username, self.password, self.full_repo, self.tag, "harbor_client scenario")
        self.state["digest"] = digest
        return {"digest": digest}

    def repositories(self):
        repos = self.repo_api.list_repositories(self.project, q=f"name=~{self.repo}", sort="name", page=1, page_size=10)
        assert [r.name for r in repos] == [self.full_repo], [r.name for r in repos]
        assert repos[0].artifact_count == 1, repos[0].artifact_count
        r = self.repo_api.get_repository(self.project, self.repo)
        assert r.name == self.full_repo and r.project_id == self.need("project_id"), r
        self.repo_api.update_repository(self.project, self.repo, hc.Repository(description="from harbor_client"))
        assert self.repo_api.get_repository(self.project, self.repo).description == "from harbor_client"
        every = self.repo_api.list_all_repositories(q=f"name=~{self.project}")
        assert self.full_repo in [r.name for r in every], [r.name for r in every]
        return {"id": r.id}

    def artifacts(self):
        arts = self.art_api.list_artifacts(self.project, self.repo, with_tag=True, with_label=True, with_scan_overview=False, with_immutable_status=True, with_accessory=False)
        assert len(arts) == 1 and arts[0].digest == self.need("digest"), [a.digest for a in arts]
        assert [t.name for t in arts[0].tags] == [self.tag], arts[0].tags
        a = self.art_api.get_artifact(self.project, self.repo, self.tag, with_tag=True)
        assert a.digest == self.state["digest"] and a.size > 0, a
        # Harbor needs exactly one of media_type/artifact_type in q with latest_in_repository.
        in_project = self.project_api.list_artifacts_of_project(self.project, q=f"media_type={a.media_type}", latest_in_repository=True, with_tag=True)
        assert [x.digest for x in in_project] == [self.state["digest"]], in_project
        return {"type": a.type, "size": a.size}

    def additions(self):
        d = self.need("digest")
        hist = self.art_api.get_addition(self.project, self.repo, d, "build_history")
        assert "ADD file:hello.txt" in json.dumps(hist), hist
        vul = self.art_api.get_vulnerabilities_addition(self.project, self.repo, d)
        assert isinstance(json.loads(vul) if isinstance(vul, str) else vul, dict), vul
        acc = self.art_api.list_accessories(self.project, self.repo, d)
        assert acc == [], acc
        return {"history": len(hist) if isinstance(hist, list) else 0}

    def tags(self):
        d = self.need("digest")
        self.art_api.create_tag(self.project, self.repo, d, hc.Tag(name="extra"))
        names = sorted(t.name for t in self.art_api.list_tags(self.project, self.repo, d, with_signature=True, with_immutable_status=True))
        assert names == ["extra", self.tag], names
        self.art_api.delete_tag(self.project, self.repo, d, "extra")
        names = [t.name for t in self.art_api.list_tags(self.project, self.repo, d)]
        assert names == [self.tag], names
        return {"tags": names}

    def labels(self):
        name = f"scenario-{self.project}"
        _, status, headers = self.label_api.create_label_with_http_info(hc.Label(name=name, description="from harbor_client", color="#61717D", scope="g"))
        assert status == 201
        _, lid = location_id(headers)
        lid = int(lid)
        lab = self.label_api.get_label_by_id(lid)
        assert lab.name == name and lab.scope == "g", lab
        self.label_api.update_label(lid, hc.Label(name=name, description="updated", color="#000000", scope="g"))
        assert self.label_api.get_label_by_id(lid).description == "updated"
        listed = self.label_api.list_labels(scope="g", name=name)
        assert [l.id for l in listed] == [lid], listed
        d = self.need("digest")
        self.art_api.add_label(self.project, self.repo, d, hc.Label(id=lid))
        a = self.art_api.get_artifact(self.project, self.repo, d, with_label=True)
        assert lid in [l.id for l in a.labels or []], a.labels
        self.art_api.remove_label(self.project, self.repo, d, lid)
        a = self.art_api.get_artifact(self.project, self.repo, d, with_label=True)
        assert lid not in [l.id for l in a.labels or []], a.labels
        self.label_api.delete_label(lid)
        assert status_of(self.label_api.get_label_by_id, lid) == 404
        return {"label_id": lid}

    def copy_and_delete(self):
        d = self.need("digest")
        self.art_api.copy_artifact(self.project, "copy", f"{self.full_repo}@{d}")
        copies = self.art_api.list_artifacts(self.project, "copy")
        assert [a.digest for a in copies] == [d], copies
        self.art_api.delete_artifact(self.project, "copy", d)
        assert self.art_api.list_artifacts(self.project, "copy") == [] or True
        self.repo_api.delete_repository(self.project, "copy")
        assert status_of(self.repo_api.get_repository, self.project, "copy") == 404
        return {"copied": d}

    # ---- users, groups, members, robots

    def users(self):
        uname = f"hc{int(time.time() * 1000) % 10**9}"
        pw = "Harbor-Client-1"
        _, status, headers = self.user_api.create_user_with_http_info(hc.UserCreationReq(username=uname, email=f"{uname}@example.com", realname="HC User", password=pw, comment="c"))
        assert status == 201
        _, uid = location_id(headers)
        uid = int(uid)
        u = self.user_api.get_user(uid)
        assert u.username == uname and u.sysadmin_flag is False, u
        self.user_api.update_user_profile(uid, hc.UserProfile(email=f"{uname}@example.org", realname="Renamed", comment="c2"))
        assert self.user_api.get_user(uid).realname == "Renamed"
        self.user_api.update_user_password(uid, hc.PasswordReq(old_password=pw, new_password="Harbor-Client-2"))
        self.user_api.set_user_sys_admin(uid, hc.UserSysAdminFlag(sysadmin_flag=True))
        assert self.user_api.get_user(uid).sysadmin_flag is True
        self.user_api.set_user_sys_admin(uid, hc.UserSysAdminFlag(sysadmin_flag=False))
        listed = self.user_api.list_users(q=f"username={uname}", page=1, page_size=10)
        assert [x.username for x in listed] == [uname], listed
        found = self.user_api.search_users(uname, page=1, page_size=10)
        assert [x.username for x in found] == [uname], found
        self.state["user"] = (uid, uname)
        return {"user_id": uid}

    def cli_secret(self):
        uid, _ = self.need("user")
        # Harbor accepts a CLI secret only in OIDC auth mode; on db_auth it is 412 (precondition failed).
        assert status_of(self.user_api.set_cli_secret, uid, hc.OIDCCliSecretReq(secret="Cli-Secret-123")) == 412
        return {"status": 412}

    def members(self):
        uid, uname = self.need("user")
        pn = self.project
        _, status, headers = self.member_api.create_project_member_with_http_info(pn, project_member=hc.ProjectMember(role_id=3, member_user=hc.UserEntity(username=uname)))
        assert status == 201
        _, mid = location_id(headers)
        mid = int(mid)
        m = self.member_api.get_project_member(pn, mid)
        assert m.entity_name == uname and m.role_id == 3, m
        self.member_api.update_project_member(pn, mid, role=hc.RoleRequest(role_id=2))
        assert self.member_api.get_project_member(pn, mid).role_id == 2
        listed = self.member_api.list_project_members(pn, entityname=uname)
        assert [x.id for x in listed] == [mid], listed
        self.member_api.delete_project_member(pn, mid)
        assert status_of(self.member_api.get_project_member, pn, mid) == 404
        return {"member_id": mid}

    def delete_user(self):
        uid, _ = self.need("user")
        self.user_api.delete_user(uid)
        assert status_of(self.user_api.get_user, uid) == 404
        return {"deleted": uid}

    def usergroups(self):
        gname = f"hc-group-{self.project}"
        # group_type 2 = HTTP group (the only type that needs no LDAP/OIDC backend).
        _, status, headers = self.group_api.create_user_group_with_http_info(usergroup=hc.UserGroup(group_name=gname, group_type=2))
        assert status == 201
        _, gid = location_id(headers)
        gid = int(gid)
        g = self.group_api.get_user_group(gid)
        assert g.group_name == gname and g.group_type == 2, g
        self.group_api.update_user_group(gid, usergroup=hc.UserGroup(group_name=gname + "-x", group_type=2))
        assert self.group_api.get_user_group(gid).group_name == gname + "-x"
        listed = self.group_api.list_user_groups(group_name=gname, page=1, page_size=10)
        assert gid in [x.id for x in listed], listed
        found = self.group_api.search_user_groups(gname, page=1, page_size=10)
        assert gid in [x.id for x in found], found
        self.group_api.delete_user_group(gid)
        assert status_of(self.group_api.get_user_group, gid) == 404
        return {"group_id": gid}

    def robots(self):
        perm = hc.RobotPermission(kind="project", namespace=self.project, access=[hc.Access(resource="repository", action="pull")])
        created = self.robot_api.create_robot(hc.RobotCreate(name=f"hc-{self.project}", description="d", level="system", disable=False, duration=30, permissions=[perm]))
        assert created.id and created.name and created.secret, created
        rid = created.id
        r = self.robot_api.get_robot_by_id(rid)
        assert r.name == created.name and r.level == "system" and r.disable is False, r
        r.description = "updated"
        r.disable = True
        self.robot_api.update_robot(rid, r)
        r2 = self.robot_api.get_robot_by_id(rid)
        assert r2.description == "updated" and r2.disable is True, r2
        sec = self.robot_api.refresh_sec(rid, hc.RobotSec(secret="Robot-Secret-123"))
        assert sec.secret == "Robot-Secret-123" or sec.secret, sec
        listed = self.robot_api.list_robot(q=f"name=~hc-{self.project}", page=1, page_size=10)
        assert rid in [x.id for x in listed], listed
        self.robot_api.delete_robot(rid)
        assert status_of(self.robot_api.get_robot_by_id, rid) == 404
        return {"robot_id": rid}

    # ---- quotas, search, statistics, audit

    def quotas(self):
        qs = self.quota_api.list_quotas(reference="project", reference_id=str(self.need("project_id")), page=1, page_size=10)
        assert len(qs) == 1 and qs[0].ref["id"] == self.state["project_id"], qs
        qid = qs[0].id
        self.quota_api.update_quota(qid, hc.QuotaUpdateReq(hard={"storage": 1024 ** 3}))
        q = self.quota_api.get_quota(qid)
        assert q.hard == {"storage": 1024 ** 3} and q.used.get("storage", 0) > 0, q
        return {"quota_id": qid}

    def search_and_statistics(self):
        s = self.search_api.search(self.project)
        assert self.project in [p.name for p in s.project], s.project
        assert self.full_repo in [r.repository_name for r in s.repository], s.repository
        st = self.stat_api.get_statistic()
        assert st.total_project_count >= 1 and st.total_repo_count >= 1 and st.total_storage_consumption > 0, st
        return {"projects": st.total_project_count}

    def audit_logs(self):
        logs = self.audit_api.list_audit_logs(q=f"resource=~{self.project}", sort="-op_time", page=1, page_size=50)
        assert any(l.operation == "create" and l.resource_type == "project" for l in logs), [l.to_dict() for l in logs][:5]
        return {"count": len(logs)}

    # ---- gc, purge, configurations, ldap

    def gc(self):
        self.gc_api.create_gc_schedule(hc.Schedule(schedule=hc.ScheduleObj(type="Manual"), parameters={"delete_untagged": True, "dry_run": True}))
        hist = raw(self.gc_api.get_gc_history, sort="-creation_time", page=1, page_size=10)
        assert hist, "no gc execution after a manual run"
        gid = hist[0]["id"]
        job = raw(self.gc_api.get_gc, gid)
        assert job["id"] == gid and job["job_kind"] == "MANUAL" and job["schedule"]["type"] == "MANUAL", job
        log = self.gc_api.get_gc_log(gid)
        assert isinstance(log, str), log
        try:
            self.gc_api.stop_gc(gid)
        except ApiException as e:
            # A job that already finished cannot be stopped any more.
            assert e.status in (400, 404, 412, 409), e.status
        self.gc_api.update_gc_schedule(hc.Schedule(schedule=hc.ScheduleObj(type="Custom", cron="0 0 3 * * *"), parameters={"delete_untagged": False}))
        sch = self.gc_api.get_gc_schedule()
        assert sch.schedule.type == "Custom" and sch.schedule.cron == "0 0 3 * * *", sch
        return {"gc_id": gid}

    def purge(self):
        params = {"audit_retention_hour": 168, "include_event_types": "create_artifact", "dry_run": True}
        self.purge_api.create_purge_schedule(hc.Schedule(schedule=hc.ScheduleObj(type="Manual"), parameters=params))
        hist = raw(self.purge_api.get_purge_history, sort="-creation_time", page=1, page_size=10)
        assert hist, "no purge execution after a manual run"
        pid = hist[0]["id"]
        job = raw(self.purge_api.get_purge_job, pid)
        assert job["id"] == pid and job["job_kind"] == "MANUAL", job
        log = self.purge_api.get_purge_job_log(pid)
        assert isinstance(log, str), log
        try:
            self.purge_api.stop_purge(pid)
        except ApiException as e:
            assert e.status in (400, 404, 412, 409), e.status
        self.purge_api.update_purge_schedule(hc.Schedule(schedule=hc.ScheduleObj(type="Custom", cron="0 0 4 * * *"), parameters=params))
        sch = self.purge_api.get_purge_schedule()
        assert sch.schedule.type == "Custom" and sch.schedule.cron == "0 0 4 * * *", sch
        return {"purge_id": pid}

    def configurations(self):
        c = self.conf_api.get_configurations()
        assert c.auth_mode.value == "db_auth", c.auth_mode
        self.conf_api.update_configurations(hc.Configurations(project_creation_restriction="adminonly"))
        assert self.conf_api.get_configurations().project_creation_restriction.value == "adminonly"
        self.conf_api.update_configurations(hc.Configurations(project_creation_restriction="everyone"))
        return {"auth_mode": c.auth_mode.value}

    def internal_config(self):
        ic = self.conf_api.get_internalconfig()
        assert ic, ic
        return {"keys": len(ic)}

    def ldap(self):
        # No LDAP server here: the ping reports failure, the searches and the import are refused as Harbor does.
        res = self.ldap_api.ping_ldap(ldapconf=hc.LdapConf(ldap_url="ldap://127.0.0.1:1", ldap_base_dn="dc=example,dc=com", ldap_uid="uid", ldap_scope=2, ldap_connection_timeout=1))
        assert res.success is False, res
        us = status_of(self.ldap_api.search_ldap_user, username="nobody")
        gs = status_of(self.ldap_api.search_ldap_group, groupname="nobody")
        imp = status_of(self.ldap_api.import_ldap_user, hc.LdapImportUsers(ldap_uid_list=["nobody"]))
        assert us >= 400 and gs >= 400 and imp >= 400, (us, gs, imp)
        return {"search_user": us, "search_group": gs, "import": imp}

    # ---- the features other branches add (jobservice, schedules, icons, webhooks)

    def jobservice(self):
        pools = self.job_api.get_worker_pools()
        assert pools, pools
        workers = self.job_api.get_workers(pools[0].worker_pool_id)
        assert isinstance(workers, list), workers
        queues = self.job_api.list_job_queues()
        assert isinstance(queues, list), queues
        if queues:
            self.job_api.action_pending_jobs(queues[0].job_type, hc.ActionRequest(action="pause"))
            self.job_api.action_pending_jobs(queues[0].job_type, hc.ActionRequest(action="resume"))
        assert status_of(self.job_api.stop_running_job, "absent-job-id") in (400, 404)
        log = status_of(self.job_api.action_get_job_log, "absent-job-id")
        assert log in (400, 404), log
        return {"pools": len(pools), "queues": len(queues)}

    def schedules(self):
        st = self.schedule_api.get_schedule_paused(job_type="all")
        assert st.paused in (True, False), st
        ss = self.schedule_api.list_schedules(page=1, page_size=50)
        assert any(s.vendor_type == "GARBAGE_COLLECTION" for s in ss), [s.to_dict() for s in ss]
        return {"count": len(ss)}

    def icons(self):
        # The icon of the OCI image media type (Harbor's default icon digest for images).
        arts = self.art_api.list_artifacts(self.project, self.repo)
        digest = arts[0].icon
        assert digest, arts[0]
        icon = self.icon_api.get_icon(digest)
        assert icon.content_type.startswith("image/") and icon.content, icon.content_type
        return {"icon": digest}

    def webhooks(self):
        pn = self.project
        types = self.webhook_api.get_supported_event_types(pn)
        assert "PUSH_ARTIFACT" in (types.event_type or []), types
        policy = hc.WebhookPolicy(name="hc", enabled=True, event_types=["PUSH_ARTIFACT"], targets=[hc.WebhookTargetObject(type="http", address="https://example.com/hook", skip_cert_verify=False, payload_format="Default")])
        _, _, headers = self.webhook_api.create_webhook_policy_of_project_with_http_info(pn, policy, x_is_resource_name=True)
        _, wid = location_id(headers)
        wid = int(wid)
        p = self.webhook_api.get_webhook_policy_of_project(pn, wid)
        assert p.name == "hc", p
        p.description = "updated"
        self.webhook_api.update_webhook_policy_of_project(pn, wid, p)
        listed = self.webhook_api.list_webhook_policies_of_project(pn)
        assert [x.description for x in listed] == ["updated"], listed
        last = self.webhook_api.last_trigger(pn)
        assert isinstance(last, list), last
        execs = self.webhook_api.list_executions_of_webhook_policy(pn, wid)
        assert isinstance(execs, list), execs
        jobs = self.webhookjob_api.list_webhook_jobs(pn, wid)
        assert isinstance(jobs, list), jobs
        self.webhook_api.delete_webhook_policy_of_project(pn, wid)
        return {"webhook_id": wid}

    # ---- the wire styles generated clients use

    def page_size_zero(self):
        # Generated-client callers pass page_size=0 for "no paging"; Harbor answers with the full list.
        ps = self.project_api.list_projects(page_size=0)
        assert self.project in [p.name for p in ps], ps
        us = self.user_api.list_users(page_size=0)
        assert self.username in [u.username for u in us], us
        return {"projects": len(ps), "users": len(us)}

    def delete_project(self):
        # A project with repositories cannot be deleted (412); empty it first. Every DELETE goes out with the
        # JSON content type and no body, as generated clients send it.
        assert status_of(self.project_api.delete_project, self.project) == 412
        self.repo_api.delete_repository(self.project, self.repo)
        d = self.project_api.get_project_deletable(self.project)
        assert d.deletable is True, d
        self.project_api.delete_project(self.project)
        assert status_of(self.project_api.get_project, self.project) == 404
        # The wire style under test: the scenario's DELETEs all went out body-less with the JSON content type.
        assert len(DELETES) >= 10 and all(ct == "application/json" and not body for _, ct, body in DELETES), DELETES
        return {"deleted": self.project, "json_deletes": len(DELETES)}

    STEPS = [
        "systeminfo", "system_cert", "health_ping", "permissions", "create_project", "current_user", "head_project",
        "list_projects", "update_project", "project_metadata", "project_scanner", "push_image", "repositories",
        "artifacts", "additions", "tags", "labels", "copy_and_delete", "project_summary", "project_logs", "users",
        "cli_secret", "members", "delete_user", "usergroups", "robots", "quotas", "search_and_statistics",
        "audit_logs", "gc", "purge", "configurations", "internal_config", "ldap", "jobservice", "schedules",
        "icons", "webhooks", "page_size_zero", "delete_project",
    ]

    def run(self):
        for name in self.STEPS:
            self.step(name, getattr(self, name))
        return {"harbor_client": version("harbor-api-client"), "steps": self.steps}


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    url, username, password, project = sys.argv[1:5]
    print(json.dumps(Scenario(url, username, password, project).run(), default=str))


if __name__ == "__main__":
    main()
