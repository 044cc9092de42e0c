#!/usr/bin/env bash
# Run the OCI distribution-spec conformance suite against a registry.
#
#   scripts/run-conformance.sh URL [REPO1] [REPO2]
#
#   URL    registry base URL, e.g. http://127.0.0.1:5000 (http => OCI_TLS=disabled,
#          https => OCI_TLS=enabled; set OCI_TLS=insecure for self-signed certs)
#   REPO1  repository the suite pushes to         (default: conformance/repo1)
#   REPO2  second repository, used for blob mounts (default: conformance/repo2)
#
# Environment:
#   OCI_USERNAME / OCI_PASSWORD  credentials (used only if both are set)
#   OCI_RESULTS_DIR              results dir (default: test-results/conformance
#                                under the repo root); receives results.yaml,
#                                junit.xml, report.html, console.txt, summary.json
#   OCI_CONFORMANCE_BIN          binary to use (default: .tools/bin/oci-conformance,
#                                built by scripts/build-conformance.sh if missing)
#   OCI_VERSION, OCI_LOG, OCI_FILTER_TEST, OCI_API_*, OCI_DATA_*   override the
#                                defaults below (see test/conformance/README.md)
#
# Exit status: 0 only if the suite ran, wrote its reports, and reported no
# FAIL/Error results; non-zero otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[run-conformance] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

[[ $# -ge 1 && $# -le 3 ]] || die "usage: $0 URL [REPO1] [REPO2]"
URL="$1"
REPO1="${2:-${OCI_REPO1:-conformance/repo1}}"
REPO2="${3:-${OCI_REPO2:-conformance/repo2}}"

# --- registry address -------------------------------------------------------
case "$URL" in
  http://*)  REGISTRY="${URL#http://}";  TLS_DEFAULT=disabled ;;
  https://*) REGISTRY="${URL#https://}"; TLS_DEFAULT=enabled ;;
  *) die "URL must start with http:// or https:// (got '$URL')" ;;
esac
REGISTRY="${REGISTRY%/}"
[[ "$REGISTRY" != */* ]] || die "URL must not contain a path (got '$URL'); the suite always talks to /v2/"
[[ -n "$REGISTRY" ]] || die "URL has no host (got '$URL')"

# --- binary -----------------------------------------------------------------
BIN="${OCI_CONFORMANCE_BIN:-$ROOT/.tools/bin/oci-conformance}"
if [[ ! -x "$BIN" ]]; then
  [[ -z "${OCI_CONFORMANCE_BIN:-}" ]] || die "OCI_CONFORMANCE_BIN=$BIN is not executable"
  log "conformance binary missing, building it"
  "$ROOT/scripts/build-conformance.sh"
fi

# --- results dir ------------------------------------------------------------
RESULTS_DIR="${OCI_RESULTS_DIR:-$ROOT/test-results/conformance}"
mkdir -p "$RESULTS_DIR"
RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd)"
rm -f "$RESULTS_DIR"/{results.yaml,junit.xml,report.html,console.txt,stderr.txt,summary.json}

# --- configuration ----------------------------------------------------------
# Ignore legacy (v1.0/v1.1 Ginkgo suite) variables: the new suite maps them with
# warnings and some (OCI_TAG_NAME, ...) would switch on read-only data tests.
unset OCI_ROOT_URL OCI_NAMESPACE OCI_CROSSMOUNT_NAMESPACE OCI_TEST_PULL OCI_TEST_PUSH \
  OCI_TEST_CONTENT_DISCOVERY OCI_TEST_CONTENT_MANAGEMENT OCI_DEBUG OCI_TAG_NAME \
  OCI_MANIFEST_DIGEST OCI_BLOB_DIGEST OCI_TAG_LIST OCI_HIDE_SKIPPED_WORKFLOWS \
  OCI_DELETE_MANIFEST_BEFORE_BLOBS OCI_SKIP_EMPTY_LAYER_PUSH_TEST OCI_AUTOMATIC_CROSSMOUNT \
  OCI_REPORT_DIR OCI_AUTH_SCOPE
# Never pick up a stray ./oci-conformance.yaml; env vars below are the config.
export OCI_CONFIGURATION="${OCI_CONFIGURATION:-/dev/null}"
export OCI_REGISTRY="$REGISTRY"
export OCI_TLS="${OCI_TLS:-$TLS_DEFAULT}"
export OCI_REPO1="$REPO1" OCI_REPO2="$REPO2"
export OCI_RESULTS_DIR="$RESULTS_DIR"
export OCI_VERSION="${OCI_VERSION:-dev}"   # "dev" (=1.1+dev) enables the most checks
export OCI_LOG="${OCI_LOG:-warn}"
export OCI_CACHE_AUTH="${OCI_CACHE_AUTH:-true}"
if [[ -n "${OCI_USERNAME:-}" && -n "${OCI_PASSWORD:-}" ]]; then
  export OCI_USERNAME OCI_PASSWORD
  AUTH_DESC="as $OCI_USERNAME"
else
  unset OCI_USERNAME OCI_PASSWORD
  AUTH_DESC="anonymously"
fi

# Every API and data switch of the pinned suite, all enabled (each can be
# overridden from the environment, e.g. OCI_API_BLOBS_ATOMIC=false).
# OCI_DATA_SPARSE is the one exception: it pushes manifests whose blobs were
# never uploaded, which a registry that validates references (as the spec asks)
# must reject, so it is off unless explicitly enabled.
API_SWITCHES=(PING PULL PUSH
  BLOBS_ATOMIC BLOBS_DELETE BLOBS_DIGEST_HEADER BLOBS_MOUNT_ANONYMOUS BLOBS_UPLOAD_CANCEL
  MANIFESTS_ATOMIC MANIFESTS_DELETE MANIFESTS_DIGEST_HEADER MANIFESTS_TAG_PARAM
  TAGS_ATOMIC TAGS_DELETE TAGS_LIST REFERRER)
DATA_SWITCHES=(IMAGE INDEX INDEX_LIST ARTIFACT SUBJECT SUBJECT_MISSING ARTIFACT_LIST
  SUBJECT_LIST DATA_FIELD NONDISTRIBUTABLE CUSTOM_FIELDS NO_LAYERS EMPTY_BLOB SHA512)
for s in "${API_SWITCHES[@]}"; do v="OCI_API_$s"; export "$v=${!v:-true}"; done
for s in "${DATA_SWITCHES[@]}"; do v="OCI_DATA_$s"; export "$v=${!v:-true}"; done
export OCI_DATA_SPARSE="${OCI_DATA_SPARSE:-false}"

# (the binary has no flags: running it always runs the suite)
log "suite:    $(cat "$(dirname "$(readlink -f "$BIN")")/VERSION" 2>/dev/null || echo "$BIN")"
log "registry: $OCI_REGISTRY (tls=$OCI_TLS) $AUTH_DESC; repos: $OCI_REPO1, $OCI_REPO2"
log "version:  OCI_VERSION=$OCI_VERSION; results: $RESULTS_DIR"
log "switches: $(env | grep -E '^OCI_(API|DATA)_' | sort | tr '\n' ' ')"

# --- run ----------------------------------------------------------------------
start=$SECONDS
set +e
# The suite prints its full result tree and summary on stdout, warnings on stderr.
(cd "$RESULTS_DIR" && "$BIN") > "$RESULTS_DIR/console.txt" 2> >(tee "$RESULTS_DIR/stderr.txt" >&2)
rc=$?
set -e
elapsed=$((SECONDS - start))

# --- summary ------------------------------------------------------------------
JUNIT="$RESULTS_DIR/junit.xml"
# The suite exits 0 without writing reports when its config cannot be loaded,
# so a missing report is treated as a failure.
if [[ ! -s "$JUNIT" || ! -s "$RESULTS_DIR/results.yaml" ]]; then
  cat "$RESULTS_DIR/console.txt" >&2 || true
  log "ERROR: the suite wrote no junit.xml/results.yaml (exit $rc)"
  exit 2
fi
suite_line="$(grep -m1 '<testsuite ' "$JUNIT")"
attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$suite_line"; }
tests="$(attr tests)"; failures="$(attr failures)"; errors="$(attr errors)"
skipped="$(attr skipped)"; disabled="$(attr disabled)"
tests=${tests:-0}; failures=${failures:-0}; errors=${errors:-0}; skipped=${skipped:-0}; disabled=${disabled:-0}
passed=$((tests - failures - errors - skipped - disabled))
result="$(sed -n 's/^OCI Conformance Result: //p' "$RESULTS_DIR/console.txt")"

# Print the suite's own summary (everything after the result tree), then the
# leaf results that did not pass.
sed -n '/^OCI Conformance Result:/,$p' "$RESULTS_DIR/console.txt"
echo "Leaf tests not passed (details: $RESULTS_DIR/console.txt, report.html):"
not_passed="$(sed -n 's/.*<testcase name="\([^"]*\)".* status="\(failure\|error\|skipped\)".*/  \2: \1/p' "$JUNIT" \
  | sed 's/OCI Conformance Test\///; s/&#39;/'"'"'/g; s/&amp;/\&/g' | sort | uniq -c \
  | sed 's/^ *\([0-9]*\) *\(.*\)$/  \2 (x\1)/; s/ (x1)$//')"
echo "${not_passed:-  (none)}"
echo

cat > "$RESULTS_DIR/summary.json" <<EOF
{"result": "${result:-unknown}", "exitCode": $rc, "tests": $tests, "passed": $passed, "failed": $failures, "errors": $errors, "skipped": $skipped, "disabled": $disabled, "seconds": $elapsed, "registry": "$OCI_REGISTRY", "version": "$OCI_VERSION"}
EOF
log "result: ${result:-unknown}; passed=$passed failed=$failures errors=$errors skipped=$skipped disabled=$disabled (total $tests) in ${elapsed}s"
log "reports: $RESULTS_DIR/{console.txt,results.yaml,junit.xml,report.html,summary.json}"

if (( rc != 0 || failures > 0 || errors > 0 )); then
  log "FAILED (suite exit $rc)"
  exit 1
fi
exit 0
