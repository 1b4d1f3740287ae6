#!/usr/bin/env bash
# `npm test`'s first step (and .ci/run's): the programs the tests start that npm cannot install —
# Debian's nginx (forward-auth end-to-end test) and nats-server (event tests); each test starts
# its own instance on free loopback ports. PostgreSQL needs nothing here: test/global-setup.mjs
# uses DATABASE_URL, else the machine's server, else an embedded one.
#
# All present: silent, a few milliseconds. Missing, as root with apt-get: `apt-get update`, then
# installs them without letting the packages start system services (a policy-rc.d answering 101).
# Missing otherwise, or with IAM_TEST_NO_INSTALL=1: prints the command to run and exits 1 before
# the type check and jest spend minutes.
#
# IAM_TEST_SBIN: where Debian puts these binaries and invoke-rc.d looks for policy-rc.d
# (/usr/sbin, often not on a user's PATH; the tests that run this script point it elsewhere).
set -euo pipefail

sbin=${IAM_TEST_SBIN-/usr/sbin}
needed=(nginx nats-server)

found() { command -v "$1" >/dev/null 2>&1 || [[ -n $sbin && -x $sbin/$1 ]]; }

missing() {
  local name
  for name in "${needed[@]}"; do found "$name" || printf '%s\n' "$name"; done
}

mapfile -t absent < <(missing)
[[ ${#absent[@]} -eq 0 ]] && exit 0

names=${absent[*]}
root=false
[[ $(id -u) == 0 ]] && root=true

refuse() {
  local sudo='sudo '
  $root && sudo=''
  {
    echo "npm test needs ${names// / and } (the tests start their own on loopback ports): not found on PATH${sbin:+ or in $sbin}."
    echo "$1 Install, then run npm test again:"
    echo "  ${sudo}apt-get update && ${sudo}apt-get install -y $names"
  } >&2
  exit 1
}

[[ ${IAM_TEST_NO_INSTALL-} == 1 ]] && refuse 'IAM_TEST_NO_INSTALL=1: not installing.'
$root || refuse 'Not root: not installing.'
command -v apt-get >/dev/null 2>&1 || refuse 'No apt-get here (the tests use Debian'"'"'s packages; any nginx with auth_request and nats-server ≥ 2.9 do).'

echo "--- installing $names for the tests (apt-get, as root; IAM_TEST_NO_INSTALL=1 only checks)" >&2
export DEBIAN_FRONTEND=noninteractive
# The packages would start a system nginx on port 80 and a nats-server service: a policy-rc.d
# answering 101 (action forbidden) stops invoke-rc.d and deb-systemd-invoke. Removed afterwards
# unless the machine had one already.
policy=$sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi
apt-get update -qq
apt-get install -y -qq "${absent[@]}" >&2

mapfile -t absent < <(missing)
if [[ ${#absent[@]} -gt 0 ]]; then
  echo "apt-get finished but ${absent[*]} still not found on PATH${sbin:+ or in $sbin}" >&2
  exit 1
fi
echo "--- installed $names" >&2
