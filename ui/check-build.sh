#!/usr/bin/env bash
# Regenerates the API types from openapi.json and rebuilds the hub UI from source, and fails when
# the committed types (ui/src/openapi.ts) or build (crates/server/ui/dist) differ.
# Runs: npm ci, types, typecheck, unit tests, build. Called by .ci/run; runnable from anywhere.
set -euo pipefail
ui_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$ui_dir/.." && pwd)"
dist="crates/server/ui/dist"
types="ui/src/openapi.ts"
cd "$ui_dir"

echo "== ui: npm ci"
npm ci --no-audit --no-fund
echo "== ui: the API types match openapi.json"
npm run types
changes="$(git -C "$repo_root" status --porcelain --untracked-files=all -- "$types")"
if [ -n "$changes" ]; then
  echo "FATAL: $types differs from what 'npm run types' in ui/ generates from openapi.json:" >&2
  echo "$changes" >&2
  git -C "$repo_root" --no-pager diff --stat -- "$types" >&2 || true
  echo "Regenerate it (cd ui && npm run types), fix what the type check then finds, and commit it." >&2
  exit 1
fi
echo "== ui: typecheck"
npm run typecheck
echo "== ui: unit tests"
npm test
echo "== ui: build"
npm run build

echo "== ui: the committed build matches the source"
cd "$repo_root"
changes="$(git status --porcelain --untracked-files=all -- "$dist")"
if [ -n "$changes" ]; then
  echo "FATAL: $dist differs from what 'npm ci && npm run build' in ui/ produces:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- "$dist" >&2 || true
  echo "Rebuild it (cd ui && npm ci && npm run build) and commit $dist." >&2
  exit 1
fi
echo "ui build is up to date"
