#!/usr/bin/env bash
# Build the official OCI distribution-spec conformance suite into .tools/.
#
# The suite's source is fetched through the Go module proxy (never vendored or
# committed) at a pinned version, verified against a pinned go.sum hash, and
# compiled into .tools/oci-conformance/<version>/oci-conformance. A symlink
# .tools/bin/oci-conformance points at the current pinned build.
#
# Idempotent: if the binary for the pinned version already exists the build is
# skipped. Set OCI_CONFORMANCE_REBUILD=1 to force a rebuild.
#
# Requirements: Go >= 1.24 (go on PATH, $GO, or /usr/local/go/bin/go) and access
# to a Go module proxy ($GOPROXY, default https://proxy.golang.org).
set -euo pipefail

# --- pinned version ---------------------------------------------------------
# Redesigned suite from the `main` branch of opencontainers/distribution-spec
# (plain Go program; sha256+sha512 blob APIs, range requests, referrers,
# upload cancel, tag params). No tagged release of the redesigned suite exists.
OCI_CONFORMANCE_MODULE="github.com/opencontainers/distribution-spec/conformance"
OCI_CONFORMANCE_VERSION="v0.0.0-20260831232431-97274622c111"
# h1 hash of the module zip (as in go.sum); checked after download so the build
# does not depend on reaching the checksum database.
OCI_CONFORMANCE_SUM="h1:ppZPU0CrEPzyJhVggYwUIZrqh0w2lIT0esw+9ABNPA4="
# ---------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${BERTH_TOOLS_DIR:-$ROOT/.tools}"
OUT_DIR="$TOOLS/oci-conformance/$OCI_CONFORMANCE_VERSION"
OUT_BIN="$OUT_DIR/oci-conformance"
LINK="$TOOLS/bin/oci-conformance"

log() { printf '[build-conformance] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

link_bin() {
  mkdir -p "$TOOLS/bin"
  ln -sfn "../oci-conformance/$OCI_CONFORMANCE_VERSION/oci-conformance" "$LINK.tmp.$$"
  mv -fT "$LINK.tmp.$$" "$LINK"
}

if [[ -x "$OUT_BIN" && "${OCI_CONFORMANCE_REBUILD:-0}" != "1" ]]; then
  log "cached: $OUT_BIN ($OCI_CONFORMANCE_MODULE@$OCI_CONFORMANCE_VERSION)"
  link_bin
  log "binary: $LINK"
  exit 0
fi

# --- locate Go --------------------------------------------------------------
GO_BIN="${GO:-}"
if [[ -z "$GO_BIN" ]]; then
  if command -v go >/dev/null 2>&1; then GO_BIN="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO_BIN=/usr/local/go/bin/go
  else die "Go toolchain not found (install Go >= 1.24, put it on PATH or set GO=/path/to/go)"
  fi
fi
# Never let the go command download another toolchain.
export GOTOOLCHAIN=local
GO_VERSION="$("$GO_BIN" env GOVERSION)" || die "'$GO_BIN env GOVERSION' failed"
if [[ "$GO_VERSION" =~ ^go1\.([0-9]+) ]]; then
  (( BASH_REMATCH[1] >= 24 )) || die "$GO_VERSION is too old; the conformance suite needs Go >= 1.24"
else
  log "warning: cannot parse Go version '$GO_VERSION', continuing"
fi
log "using $GO_BIN ($GO_VERSION), GOPROXY=$("$GO_BIN" env GOPROXY)"

# --- download + verify ------------------------------------------------------
# The pinned h1 hash is checked below, so skip the checksum database for this
# one module (its dependencies are verified by the suite's own go.sum).
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}$OCI_CONFORMANCE_MODULE"
export GOFLAGS="-mod=readonly"
log "downloading $OCI_CONFORMANCE_MODULE@$OCI_CONFORMANCE_VERSION via the module proxy"
DL_JSON="$("$GO_BIN" mod download -json "$OCI_CONFORMANCE_MODULE@$OCI_CONFORMANCE_VERSION")" \
  || die "go mod download failed: $DL_JSON"
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$DL_JSON" | head -n1; }
SRC_DIR="$(json_field Dir)"
SUM="$(json_field Sum)"
[[ -n "$SRC_DIR" && -f "$SRC_DIR/go.mod" ]] || die "module source dir not found in: $DL_JSON"
[[ "$SUM" == "$OCI_CONFORMANCE_SUM" ]] \
  || die "checksum mismatch for $OCI_CONFORMANCE_MODULE@$OCI_CONFORMANCE_VERSION: got '$SUM', pinned '$OCI_CONFORMANCE_SUM'"
log "verified $SUM; source: $SRC_DIR"

# --- build ------------------------------------------------------------------
mkdir -p "$OUT_DIR"
TMP_BIN="$OUT_DIR/.oci-conformance.tmp.$$"
trap 'rm -f "$TMP_BIN"' EXIT
log "building (CGO_ENABLED=0, -trimpath) -> $OUT_BIN"
start=$SECONDS
# Build from the module's own directory so its go.mod/go.sum pin all
# dependencies. -ldflags injects the version shown as "Conformance Commit".
(
  cd "$SRC_DIR"
  CGO_ENABLED=0 "$GO_BIN" build -trimpath -buildvcs=false \
    -ldflags "-s -w -X main.Version=$OCI_CONFORMANCE_VERSION" \
    -o "$TMP_BIN" .
) || die "go build failed"
mv -f "$TMP_BIN" "$OUT_BIN"
trap - EXIT
printf '%s@%s %s\n' "$OCI_CONFORMANCE_MODULE" "$OCI_CONFORMANCE_VERSION" "$OCI_CONFORMANCE_SUM" > "$OUT_DIR/VERSION"
link_bin
log "built in $((SECONDS - start))s"
log "binary: $LINK"
