#!/usr/bin/env bash
# Install every real registry client (and PostgreSQL) that Berth's test suite drives.
#
# Usable on a fresh Debian 12 machine (Debian + Go + Node + npm, run as root) and
# idempotent: a re-run on a machine that already has everything takes about a second.
#
#   1. apt: one `apt-get update` + `apt-get install --no-install-recommends`, skipped
#      entirely when dpkg-query says every package is already installed.
#   2. Go clients (crane, oras, regctl, helm, cosign, syft for the scanner oracle, notation) and peers
#      (CNCF Distribution v3 `registry`, the Versity S3 gateway) built with `go install` into the
#      git-ignored .tools/bin, pinned to exact versions; a tool is rebuilt only when the
#      module version embedded in the binary (`go version -m`) differs from the pin.
#   3. Python clients: a venv in .tools/pyvenv with the Harbor API clients `harborapi` and
#      `harbor-api-client` (generated from Harbor's swagger), both pinned, for test/contract;
#      skipped when those versions are there. A second venv, .tools/k8s-validate, holds
#      `kubernetes-validate` (Kubernetes' JSON schemas, offline) for test/helm; same rule.
#
# Environment knobs:
#   CI_DEPS_SKIP_APT=1        don't touch apt (e.g. no root)
#   CI_DEPS_SKIP_GO=1         don't build the Go clients
#   CI_DEPS_SKIP_PY=1         don't create the Python venv
#   CI_DEPS_EXTRA_APT="a b"   extra apt packages (e.g. "nginx slapd ldap-utils")
#   CI_DEPS_JOBS=N            parallel go installs (default 2)
#   CI_DEPS_TOOLS_BIN=DIR     where to put the Go clients (default .tools/bin)
#   GO=/path/to/go            Go toolchain (default: `go` on PATH, else /usr/local/go/bin/go)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="${CI_DEPS_TOOLS_BIN:-$ROOT/.tools/bin}"

# ---- pinned Go client versions (module path | package | version) --------------------
# helm v4 is the current major; `helm push oci://` and `helm registry login` are built in.
GO_TOOLS=(
  "crane|github.com/google/go-containerregistry|github.com/google/go-containerregistry/cmd/crane|v0.22.1"
  "oras|oras.land/oras|oras.land/oras/cmd/oras|v1.3.6"
  "regctl|github.com/regclient/regclient|github.com/regclient/regclient/cmd/regctl|v0.11.7"
  "helm|helm.sh/helm/v4|helm.sh/helm/v4/cmd/helm|v4.3.1"
  # syft: the oracle for the built-in scanner's package inventory (test/scan)
  "syft|github.com/anchore/syft|github.com/anchore/syft/cmd/syft|v1.57.2"
  # cosign: signs and verifies images against Berth (test/signatures)
  "cosign|github.com/sigstore/cosign/v2|github.com/sigstore/cosign/v2/cmd/cosign|v2.6.5"
  # notation: the Notary Project signing tool, for the notation verifier and interop tests (test/signatures).
  # The module proxy serves v1.3.2 but lists no versions, so `go list -m -versions` shows nothing; install works.
  "notation|github.com/notaryproject/notation|github.com/notaryproject/notation/cmd/notation|v1.3.2"
  # CNCF Distribution v3: a replication peer and the benchmark's peer on S3 (its binary is named `registry`)
  "registry|github.com/distribution/distribution/v3|github.com/distribution/distribution/v3/cmd/registry|v3.1.2"
  # Versity Gateway: a real S3 server (posix backend on a temp dir) for the S3 blob store's tests
  "versitygw|github.com/versity/versitygw|github.com/versity/versitygw/cmd/versitygw|v1.8.0"
)

# ---- apt packages --------------------------------------------------------------------
APT_PACKAGES=(
  ca-certificates curl jq openssl apache2-utils
  postgresql
  skopeo umoci podman buildah runc conmon uidmap iptables
  containerd docker.io docker-registry
  slapd ldap-utils chromium fonts-noto-cjk
  nginx
  python3-venv
  mmdebstrap rpm
)
# shellcheck disable=SC2206
APT_PACKAGES+=(${CI_DEPS_EXTRA_APT:-})

log() { printf '[ci-deps] %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

missing_apt_packages() {
  local p status
  for p in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
    [[ "$status" == "installed" ]] || printf '%s\n' "$p"
  done
}

install_apt() {
  local missing t0 created_policy=0
  mapfile -t missing < <(missing_apt_packages)
  if ((${#missing[@]} == 0)); then
    log "apt: all ${#APT_PACKAGES[@]} packages already installed"
    return
  fi
  log "apt: installing ${missing[*]}"
  local SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  # Never let package maintainer scripts start daemons (postgresql, containerd, docker):
  # tests start private instances by hand. Debian container images already ship this.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  t0="$(now)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  log "apt: update took $(elapsed "$t0")"
  t0="$(now)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  log "apt: install took $(elapsed "$t0")"
  if ((created_policy)); then $SUDO rm -f /usr/sbin/policy-rc.d; fi
}

find_go() {
  if [[ -n "${GO:-}" ]]; then printf '%s\n' "$GO"; return; fi
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then printf '%s\n' /usr/local/go/bin/go; return; fi
  log "Go toolchain not found (set GO=/path/to/go)"
  exit 1
}

# Prints the module version embedded in a Go binary, or nothing.
built_version() {
  local bin="$1" mod="$2"
  [[ -x "$bin" ]] || return 0
  "$GOBIN_TOOL" version -m "$bin" 2>/dev/null | awk -v m="$mod" '$1 == "mod" && $2 == m { print $3 }'
}

build_one() {
  local name="$1" mod="$2" pkg="$3" ver="$4" t0 ldflags="-s -w"
  if [[ "$name" == helm ]]; then
    # helm's version string normally comes from its Makefile
    ldflags+=" -X helm.sh/helm/v4/internal/version.version=$ver -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
  fi
  local goproxy
  goproxy="$("$GOBIN_TOOL" env GOPROXY)"
  t0="$(now)"
  if [[ "$name" == notation ]]; then
    ldflags+=" -X github.com/notaryproject/notation/internal/version.BuildMetadata="
    # proxy.golang.org serves notation's v1.3.2 but answers 403 to its version list, which `go install pkg@ver`
    # reads to look for a deprecation notice (and fails). `go mod download` of the exact version works and leaves
    # a list naming it in the module cache; the cache is laid out as a GOPROXY, so it answers that read first.
    if ! "$GOBIN_TOOL" mod download "$mod@$ver" >"$TOOLS_BIN/.build-$name.log" 2>&1; then
      log "go: FAILED to download $name $ver; log follows"
      cat "$TOOLS_BIN/.build-$name.log" >&2
      return 1
    fi
    goproxy="file://$("$GOBIN_TOOL" env GOMODCACHE)/cache/download,$goproxy"
  fi
  if GOBIN="$TOOLS_BIN" CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOPROXY="$goproxy" \
    "$GOBIN_TOOL" install -trimpath -ldflags "$ldflags" "$pkg@$ver" >"$TOOLS_BIN/.build-$name.log" 2>&1; then
    log "go: built $name $ver in $(elapsed "$t0")"
    rm -f "$TOOLS_BIN/.build-$name.log"
  else
    log "go: FAILED to build $name $ver; log follows"
    cat "$TOOLS_BIN/.build-$name.log" >&2
    return 1
  fi
}

install_go_tools() {
  GOBIN_TOOL="$(find_go)"
  mkdir -p "$TOOLS_BIN"
  local entry name mod pkg ver have jobs="${CI_DEPS_JOBS:-2}" rc=0
  for entry in "${GO_TOOLS[@]}"; do
    IFS='|' read -r name mod pkg ver <<<"$entry"
    have="$(built_version "$TOOLS_BIN/$name" "$mod")"
    if [[ "$have" == "$ver" ]]; then
      log "go: $name $ver already built"
      continue
    fi
    log "go: building $name $ver${have:+ (have $have)}"
    build_one "$name" "$mod" "$pkg" "$ver" &
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  done
  wait || true
  # verify (a failed build leaves no binary at the pinned version)
  for entry in "${GO_TOOLS[@]}"; do
    IFS='|' read -r name mod pkg ver <<<"$entry"
    have="$(built_version "$TOOLS_BIN/$name" "$mod")"
    if [[ "$have" != "$ver" ]]; then
      log "go: $name is not at $ver after build (have '${have:-none}')"
      rc=1
    fi
  done
  return "$rc"
}

# ---- Python clients (venv in .tools/pyvenv) ----------------------------------------
PY_VENV="$ROOT/.tools/pyvenv"
HARBORAPI_VERSION=0.26.2
HARBOR_API_CLIENT_VERSION=2.12.2

install_python_clients() {
  local t0
  if [[ -x "$PY_VENV/bin/python" ]] &&
    "$PY_VENV/bin/python" -c "import sys, harborapi.__about__ as a; sys.exit(a.__version__ != '$HARBORAPI_VERSION')" 2>/dev/null &&
    "$PY_VENV/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('harbor-api-client') != '$HARBOR_API_CLIENT_VERSION')" 2>/dev/null; then
    log "python: harborapi $HARBORAPI_VERSION and harbor-api-client $HARBOR_API_CLIENT_VERSION already installed"
    return
  fi
  t0="$(now)"
  [[ -x "$PY_VENV/bin/python" ]] || python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install -q --disable-pip-version-check "harborapi==$HARBORAPI_VERSION" "harbor-api-client==$HARBOR_API_CLIENT_VERSION"
  log "python: installed harborapi $HARBORAPI_VERSION and harbor-api-client $HARBOR_API_CLIENT_VERSION in $(elapsed "$t0")"
}

# kubernetes-validate ships the schemas of every Kubernetes release, so the Helm chart's rendered manifests are
# validated offline (test/helm). A venv of its own: its dependencies stay apart from the Harbor clients'.
K8S_VENV="$ROOT/.tools/k8s-validate"
KUBERNETES_VALIDATE_VERSION=1.37.0

install_kubernetes_validate() {
  local t0
  if [[ -x "$K8S_VENV/bin/python" ]] &&
    "$K8S_VENV/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('kubernetes-validate') != '$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
    log "python: kubernetes-validate $KUBERNETES_VALIDATE_VERSION already installed"
    return
  fi
  t0="$(now)"
  [[ -x "$K8S_VENV/bin/python" ]] || python3 -m venv "$K8S_VENV"
  "$K8S_VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  log "python: installed kubernetes-validate $KUBERNETES_VALIDATE_VERSION in $(elapsed "$t0")"
}

main() {
  local t0
  t0="$(now)"
  if [[ "${CI_DEPS_SKIP_APT:-0}" != 1 ]]; then install_apt; fi
  if [[ "${CI_DEPS_SKIP_GO:-0}" != 1 ]]; then install_go_tools; fi
  if [[ "${CI_DEPS_SKIP_PY:-0}" != 1 ]]; then install_python_clients; install_kubernetes_validate; fi
  log "done in $(elapsed "$t0"); Go clients in $TOOLS_BIN"
}

main "$@"
