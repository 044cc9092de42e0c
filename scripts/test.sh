#!/usr/bin/env bash
# The whole test suite: type-check, then every test file on SQLite, then again on PostgreSQL, then the registry
# suites on PostgreSQL + S3.
# Needs Node 24 first on PATH (npm scripts put node_modules/.bin there) and, for the PostgreSQL pass and the
# client tests, the packages that scripts/ci-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'const [a]=process.versions.node.split(".").map(Number); if (a<24) { console.error("Node >= 24 required, got "+process.version+" (run through npm so node_modules/.bin/node is used)"); process.exit(1) }'
echo "== typecheck"
npx --no-install tsc -p tsconfig.json
npx --no-install tsc -p portal/tsconfig.json
echo "== portal build"
npx --no-install vite build --config portal/vite.config.ts --logLevel warn
export BERTH_TEST_PG_URL=${BERTH_TEST_PG_URL:-$(bash scripts/pg.sh start)}
set -f
FILES=${BERTH_TEST_FILES:-"src/**/*.test.ts test/**/*.test.ts"}
status=0
for db in ${BERTH_TEST_DATABASES:-sqlite postgres}; do
  echo "== tests on $db"
  # shellcheck disable=SC2086
  BERTH_TEST_DATABASE=$db node --test --test-concurrency=2 --test-timeout=900000 $FILES || status=1
done
# Third phase: the registry, OCI conformance and GC suites again with blobs on S3 (a versitygw started per test
# process by test/helpers/s3.ts) and PostgreSQL metadata, plus the HA test (test/ha: 3 replicas behind nginx,
# reported skipped in the other phases). BERTH_TEST_S3=0 skips it.
if [ "${BERTH_TEST_S3:-1}" != 0 ] && [ -z "${BERTH_TEST_FILES:-}" ]; then
  echo "== tests on postgres + s3"
  BERTH_TEST_DATABASE=postgres BERTH_TEST_STORAGE=s3 node --test --test-concurrency=2 --test-timeout=900000 \
    src/storage/s3-store.test.ts "test/registry/*.test.ts" "test/conformance/*.test.ts" "test/gc/*.test.ts" "test/ha/*.test.ts" || status=1
fi
exit $status
