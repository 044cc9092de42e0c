"""The image both Harbor-client scenarios push: a `docker save` tarball of a small but realistic image (one layer,
a config with history entries), pushed with crane. Shared so the two scenarios stay about their clients."""
import hashlib
import json
import os
import subprocess
import tarfile
import tempfile
import time
from io import BytesIO
from urllib.parse import urlparse


def image_tarball(path, repo_tag, author):
    layer = BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        data = f"hello from the {author} {time.time()}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, BytesIO(data))
    layer_bytes = layer.getvalue()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "author": author,
        "created": "2026-01-02T03:04:05Z",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/sh"], "Labels": {"org.opencontainers.image.title": "scenario"}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_bytes).hexdigest()]},
        "history": [
            {"created": "2026-01-02T03:04:05Z", "created_by": "/bin/sh -c #(nop) ADD file:hello.txt in / "},
            {"created": "2026-01-02T03:04:06Z", "created_by": '/bin/sh -c #(nop)  CMD ["/bin/sh"]', "empty_layer": True},
        ],
    }
    manifest = [{"Config": "config.json", "RepoTags": [repo_tag], "Layers": ["layer.tar"]}]
    with tarfile.open(path, mode="w") as tar:
        for name, data in [("config.json", json.dumps(config).encode()), ("layer.tar", layer_bytes), ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, BytesIO(data))


def crane_push(url, username, password, repo, tag, author):
    """Pushes the image to <host of url>/<repo>:<tag> with crane ($CRANE); returns its digest."""
    crane = os.environ.get("CRANE") or "crane"
    host = urlparse(url).netloc
    with tempfile.TemporaryDirectory(prefix="scenario-") as d:
        env = {**os.environ, "HOME": d, "DOCKER_CONFIG": d}
        subprocess.run([crane, "auth", "login", host, "-u", username, "--password-stdin"], input=password.encode(), env=env, check=True, capture_output=True, timeout=60)
        image = os.path.join(d, "image.tar")
        image_tarball(image, f"{repo}:{tag}", author)
        ref = f"{host}/{repo}:{tag}"
        r = subprocess.run([crane, "push", "--insecure", image, ref], env=env, capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"crane push failed: {r.stderr.decode()[-1000:]}")
        return subprocess.run([crane, "digest", "--insecure", ref], env=env, check=True, capture_output=True, timeout=60).stdout.decode().strip()
