"""A scripted Harbor API session against Berth with a real Harbor client: the `harborapi` package from PyPI
(async, httpx + pydantic models; installed by scripts/ci-deps.sh into .tools/pyvenv).

Usage: harborapi_scenario.py URL USERNAME PASSWORD [PROJECT]
  URL       Berth's base URL (http://127.0.0.1:PORT); the client talks to URL/api/v2.0
  CRANE     environment: path of the crane binary that pushes the image (a real registry client)

Every step runs even when an earlier one failed (a step whose input is missing fails with that reason). The
result is one JSON object on stdout: {"harborapi": version, "steps": [{"name", "ok", "detail"|"error"}]}.
A pydantic validation error in a step is an incompatibility of Berth's response with Harbor's models.
"""

from scenario_image import crane_push
import asyncio
import json
import sys
import time
import traceback

from harborapi import HarborAsyncClient
from harborapi.exceptions import Forbidden, NotFound, Unauthorized
from harborapi.models import (
    Access,
    Label,
    ProjectMetadata,
    ProjectReq,
    Repository,
    RobotCreate,
    RobotPermission,
    Tag,
    UserCreationReq,
    UserProfile,
)
from harborapi.retry import RetrySettings
from harborapi.__about__ import __version__ as HARBORAPI_VERSION


class Scenario:
    def __init__(self, url: str, username: str, password: str, project: str):
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.project = project
        self.repo = "app"
        self.tag = "v1"
        self.steps = []
        self.state = {}
        self.client = HarborAsyncClient(
            url=f"{self.url}/api/v2.0",
            username=username,
            secret=password,
            retry=RetrySettings(enabled=False),
            timeout=30.0,
        )

    async def step(self, name, fn):
        try:
            detail = await fn()
            self.steps.append({"name": name, "ok": True, "detail": detail})
        except Exception as e:  # noqa: BLE001 - every failure is reported, the scenario goes on
            msg = f"{type(e).__name__}: {e}"
            details = getattr(e, "errors", None)
            if details:
                msg += f" {details}"
            self.steps.append({"name": name, "ok": False, "error": msg[:2000], "trace": traceback.format_exc()[-1500:]})

    def need(self, key):
        if key not in self.state:
            raise RuntimeError(f"skipped: {key} is not known (an earlier step failed)")
        return self.state[key]

    # ---- steps

    async def systeminfo(self):
        info = await self.client.get_system_info()
        assert info.harbor_version, "harbor_version is empty"
        return {"harbor_version": info.harbor_version, "auth_mode": info.auth_mode}

    async def current_user(self):
        me = await self.client.get_current_user()
        assert me.username == self.username, me.username
        assert me.sysadmin_flag is True
        self.state["user_id"] = me.user_id
        return {"user_id": me.user_id, "username": me.username}

    async def create_project(self):
        location = await self.client.create_project(ProjectReq(project_name=self.project, metadata=ProjectMetadata(public="false")))
        assert location.endswith(f"/projects/{self.project}"), location
        return {"location": location}

    async def get_project(self):
        p = await self.client.get_project(self.project)
        assert p.name == self.project and p.metadata is not None and p.metadata.public == "false", p
        self.state["project_id"] = p.project_id
        return {"project_id": p.project_id}

    async def list_projects(self):
        ps = await self.client.get_projects(name=self.project)
        assert any(p.name == self.project for p in ps), [p.name for p in ps]
        return {"count": len(ps)}

    async def push_image(self):
        digest = crane_push(self.url, self.username, self.password, f"{self.project}/{self.repo}", self.tag, "harborapi scenario")
        self.state["digest"] = digest
        return {"ref": f"{self.project}/{self.repo}:{self.tag}", "digest": digest}

    async def list_repositories(self):
        repos = await self.client.get_repositories(self.project)
        names = [r.name for r in repos]
        assert f"{self.project}/{self.repo}" in names, names
        r = next(r for r in repos if r.name == f"{self.project}/{self.repo}")
        assert r.artifact_count == 1, r.artifact_count
        return {"names": names}

    async def get_repository(self):
        r = await self.client.get_repository(self.project, self.repo)
        assert r.name == f"{self.project}/{self.repo}", r.name
        assert r.project_id == self.need("project_id"), r.project_id
        return {"id": r.id, "artifact_count": r.artifact_count}

    async def list_artifacts(self):
        arts = await self.client.get_artifacts(self.project, self.repo, with_tag=True, with_label=True)
        assert len(arts) == 1, len(arts)
        a = arts[0]
        assert a.digest == self.need("digest"), (a.digest, self.state["digest"])
        assert [t.name for t in (a.tags or [])] == [self.tag], a.tags
        assert a.size and a.size > 0, a.size
        return {"digest": a.digest, "type": a.type, "media_type": a.media_type, "size": a.size}

    async def get_artifact(self):
        a = await self.client.get_artifact(self.project, self.repo, self.tag)
        assert a.digest == self.need("digest"), a.digest
        return {"digest": a.digest, "push_time": str(a.push_time)}

    async def artifact_tags(self):
        tags = await self.client.get_artifact_tags(self.project, self.repo, self.need("digest"))
        assert [t.name for t in tags] == [self.tag], tags
        return {"tags": [t.name for t in tags]}

    async def create_label(self):
        name = f"scenario-{self.project}"
        location = await self.client.create_label(Label(name=name, description="made by harborapi", color="#61717D", scope="g"))
        label_id = int(location.rstrip("/").split("/")[-1])
        label = await self.client.get_label(label_id)
        assert label.name == name and label.scope == "g", label
        self.state["label_id"] = label_id
        return {"label_id": label_id, "location": location}

    async def add_label(self):
        await self.client.add_artifact_label(self.project, self.repo, self.need("digest"), Label(id=self.need("label_id")))
        a = await self.client.get_artifact(self.project, self.repo, self.need("digest"), with_label=True)
        ids = [label.id for label in (a.labels or [])]
        assert self.state["label_id"] in ids, ids
        return {"labels": ids}

    async def audit_logs(self):
        logs = await self.client.get_audit_logs(query=f"resource=~{self.project}", sort="-op_time", limit=50)
        ops = sorted({(log.operation, log.resource_type) for log in logs})
        assert any(op == "create" and rt == "project" for op, rt in ops), ops
        assert any(op == "create" and rt == "artifact" for op, rt in ops), ops
        return {"entries": len(logs), "operations": [f"{op}:{rt}" for op, rt in ops]}

    async def delete_artifact(self):
        await self.client.delete_artifact(self.project, self.repo, self.need("digest"))
        arts = await self.client.get_artifacts(self.project, self.repo)
        assert arts == [], arts
        return {"remaining": len(arts)}

    async def project_summary(self):
        s = await self.client.get_project_summary(self.project)
        return {"repo_count": s.repo_count, "project_admin_count": s.project_admin_count}

    # ---- more of the API surface, each answer read through harborapi's models

    async def create_tag(self):
        await self.client.create_artifact_tag(self.project, self.repo, self.need("digest"), Tag(name="extra"))
        tags = await self.client.get_artifact_tags(self.project, self.repo, self.need("digest"))
        assert sorted(t.name for t in tags) == ["extra", self.tag], tags
        await self.client.delete_artifact_tag(self.project, self.repo, self.need("digest"), "extra")
        tags = await self.client.get_artifact_tags(self.project, self.repo, self.need("digest"))
        assert [t.name for t in tags] == [self.tag], tags
        return {"tags": [t.name for t in tags]}

    async def accessories(self):
        acc = await self.client.get_artifact_accessories(self.project, self.repo, self.need("digest"))
        return {"accessories": len(acc)}

    async def build_history(self):
        h = await self.client.get_artifact_build_history(self.project, self.repo, self.need("digest"))
        assert [e.created_by for e in h][0].startswith("/bin/sh -c #(nop) ADD"), h
        return {"entries": len(h)}

    async def copy_artifact(self):
        location = await self.client.copy_artifact(self.project, "copy", f"{self.project}/{self.repo}@{self.need('digest')}")
        arts = await self.client.get_artifacts(self.project, "copy")
        assert [a.digest for a in arts] == [self.state["digest"]], arts
        return {"location": location}

    async def update_repository(self):
        await self.client.update_repository(self.project, self.repo, Repository(description="<script>alert(1)</script> set by harborapi"))
        r = await self.client.get_repository(self.project, self.repo)
        assert r.description == "<script>alert(1)</script> set by harborapi", r.description
        return {"description": r.description}

    async def users(self):
        name = f"u-{self.project}"[:255]
        location = await self.client.create_user(UserCreationReq(username=name, email=f"{name}@example.com", realname="Scenario", password="Scenario-Passw0rd", comment="harborapi"))
        user_id = int(location.rstrip("/").split("/")[-1])
        u = await self.client.get_user(user_id)
        assert u.username == name and u.sysadmin_flag is False, u
        await self.client.update_user(user_id, UserProfile(email=f"{name}@example.org", realname="Scenario 2", comment="updated"))
        assert (await self.client.get_user(user_id)).email == f"{name}@example.org"
        all_users = await self.client.get_users(query=f"username={name}")
        assert [x.username for x in all_users] == [name], all_users
        found = await self.client.search_users_by_username(name)
        assert [x.username for x in found] == [name], found
        perms = await self.client.get_current_user_permissions(scope=f"/project/{self.need('project_id')}", relative=True)
        self.state["user"] = (user_id, name)
        return {"user_id": user_id, "permissions": len(perms)}

    async def members(self):
        user_id, name = self.need("user")
        location = await self.client.add_project_member_user(self.project, name, 2)
        member_id = int(location.rstrip("/").split("/")[-1])
        await self.client.update_project_member_role(self.project, member_id, 4)
        m = await self.client.get_project_member(self.project, member_id)
        assert m.entity_name == name and m.role_id == 4, m
        ms = await self.client.get_project_members(self.project)
        assert sorted(x.entity_name for x in ms) == sorted([self.username, name]), ms
        return {"member_id": member_id, "members": len(ms)}

    async def project_metadata(self):
        md = await self.client.get_project_metadata(self.project)
        assert md.public == "false", md
        d = await self.client.get_project_deletable(self.project)
        assert d.deletable is False, d
        return {"public": md.public, "deletable": d.deletable}

    async def quotas(self):
        qs = await self.client.get_quotas(reference="project", reference_id=str(self.need("project_id")))
        assert len(qs) == 1 and qs[0].ref is not None, qs
        q = await self.client.get_quota(qs[0].id)
        assert q.used is not None and q.hard is not None, q
        return {"quotas": len(qs), "used": q.used.root if hasattr(q.used, "root") else str(q.used)}

    async def system_jobs(self):
        gc = await self.client.get_gc_jobs()
        sched = await self.client.get_gc_schedule()
        purge = await self.client.get_purge_job_history()
        psched = await self.client.get_purge_job_schedule()
        return {"gc_runs": len(gc), "gc_schedule": bool(sched), "purge_runs": len(purge), "purge_schedule": bool(psched)}

    async def system(self):
        stats = await self.client.get_statistics()
        health = await self.client.health_check()
        pong = await self.client.ping()
        vols = await self.client.get_system_volume_info()
        assert pong.strip('"') == "Pong", pong
        assert stats.total_project_count and stats.total_project_count >= 1, stats
        return {"status": health.status, "projects": stats.total_project_count, "volumes": len(vols.storage or [])}

    async def configurations(self):
        cfg = await self.client.get_config()
        return {"auth_mode": getattr(cfg.auth_mode, "value", None) if cfg.auth_mode else None}

    async def robots(self):
        access = [Access(resource=res, action=act) for res, act in [("repository", "pull"), ("repository", "list"), ("artifact", "read"), ("artifact", "list")]]
        created = await self.client.create_robot(
            RobotCreate(
                name=f"r{int(time.time())}",
                description="harborapi",
                level="project",
                duration=-1,
                disable=False,
                permissions=[RobotPermission(kind="project", namespace=self.project, access=access)],
            )
        )
        assert created.secret, "no secret"
        robots = await self.client.get_robots(query=f"Level=project,ProjectID={self.need('project_id')}")
        assert any(r.id == created.id for r in robots), robots
        r = await self.client.get_robot(created.id)
        # the robot itself through the same client: Basic auth with its name and secret
        as_robot = HarborAsyncClient(url=f"{self.url}/api/v2.0", username=created.name, secret=created.secret, retry=RetrySettings(enabled=False), timeout=30.0)
        repos = await as_robot.get_repositories(self.project)
        assert f"{self.project}/{self.repo}" in [x.name for x in repos], repos
        await self.client.delete_robot(created.id)
        try:
            await as_robot.get_repositories(self.project)
            raise AssertionError("a deleted robot could still list repositories")
        except Unauthorized:
            pass
        return {"robot": r.name, "repositories_seen": len(repos)}

    async def error_envelope(self):
        user_id, name = self.need("user")
        dev = HarborAsyncClient(url=f"{self.url}/api/v2.0", username=name, secret="Scenario-Passw0rd", retry=RetrySettings(enabled=False), timeout=30.0)
        seen = {}
        try:
            await dev.delete_project(self.project)
            raise AssertionError("a maintainer deleted the project")
        except Forbidden as e:
            seen["forbidden"] = [x.code for x in e.errors]
        try:
            await self.client.get_project(f"{self.project}-missing")
            raise AssertionError("a missing project was found")
        except NotFound as e:
            seen["not_found"] = [x.code for x in e.errors]
        assert seen == {"forbidden": ["FORBIDDEN"], "not_found": ["NOT_FOUND"]}, seen
        return seen

    async def labels_list(self):
        labels = await self.client.get_labels(scope="g")
        assert any(label.id == self.state.get("label_id") for label in labels), labels
        return {"labels": len(labels)}

    async def all_repositories(self):
        repos = await self.client.get_repositories()
        assert any(r.name == f"{self.project}/{self.repo}" for r in repos), [r.name for r in repos]
        found = await self.client.search(self.project)
        assert any(p.name == self.project for p in (found.project or [])), found
        return {"repositories": len(repos), "search_repositories": len(found.repository or [])}

    async def usergroups(self):
        groups = await self.client.get_usergroups()
        return {"groups": len(groups)}

    async def project_logs(self):
        logs = await self.client.get_project_logs(self.project, limit=20)
        assert logs, "no project log entries"
        return {"entries": len(logs)}

    async def permissions(self):
        p = await self.client.get_permissions()
        return {"system": len(p.system or []), "project": len(p.project or [])}

    async def run(self):
        for name in [
            "systeminfo",
            "current_user",
            "create_project",
            "get_project",
            "list_projects",
            "push_image",
            "list_repositories",
            "get_repository",
            "list_artifacts",
            "get_artifact",
            "artifact_tags",
            "create_label",
            "add_label",
            "audit_logs",
            "create_tag",
            "accessories",
            "build_history",
            "copy_artifact",
            "update_repository",
            "delete_artifact",
            "project_summary",
            "users",
            "members",
            "project_metadata",
            "quotas",
            "system_jobs",
            "system",
            "configurations",
            "robots",
            "error_envelope",
            "labels_list",
            "all_repositories",
            "usergroups",
            "project_logs",
            "permissions",
        ]:
            await self.step(name, getattr(self, name))
        return {"harborapi": HARBORAPI_VERSION, "steps": self.steps}


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    url, username, password = sys.argv[1:4]
    project = sys.argv[4] if len(sys.argv) > 4 else f"harborapi-{int(time.time())}"
    result = asyncio.run(Scenario(url, username, password, project).run())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
