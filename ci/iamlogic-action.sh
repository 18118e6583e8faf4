#!/usr/bin/env bash
# The GitHub Action's step (action.yml): iamlogic check-changes on the files
# changed since the base revision, writing SARIF for code scanning.
# Environment (from the action's inputs): IAMLOGIC_BASE (a revision; empty:
# the pull request's base, else the push's previous commit), IAMLOGIC_PATHS
# (git pathspecs, space-separated; empty: every changed .json, .yaml and .yml file),
# IAMLOGIC_POLICY_TYPE, IAMLOGIC_SARIF (the SARIF file), IAMLOGIC (the
# command, default `iamlogic`).
set -u
set -f  # the pathspecs are git's globs, not the shell's
iamlogic=${IAMLOGIC:-iamlogic}
base=${IAMLOGIC_BASE:-}
if [ -z "$base" ]; then
  if [ -n "${GITHUB_BASE_REF:-}" ]; then
    git fetch --no-tags --depth=1 origin "$GITHUB_BASE_REF" >/dev/null 2>&1 || true
    base=$(git merge-base HEAD "origin/$GITHUB_BASE_REF" 2>/dev/null || echo "origin/$GITHUB_BASE_REF")
  else
    base=HEAD~1
  fi
fi
paths=${IAMLOGIC_PATHS:-'*.json *.yaml *.yml'}
# shellcheck disable=SC2086  # the pathspecs are meant to split
mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" -- $paths)
echo "iamlogic: ${#files[@]} changed file(s) since $base"
if [ "${#files[@]}" -eq 0 ]; then
  exit 0  # nothing to check (and no SARIF log to upload)
fi
# shellcheck disable=SC2086  # IAMLOGIC may be a command with arguments
exec $iamlogic check-changes --base "$base" --policy-type "${IAMLOGIC_POLICY_TYPE:-auto}" \
  --sarif "${IAMLOGIC_SARIF:-iamlogic.sarif}" "${files[@]}" </dev/null
