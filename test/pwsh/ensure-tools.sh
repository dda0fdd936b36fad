#!/usr/bin/env bash
# Installs what the tests need when it is missing: PowerShell (a pinned dotnet tool from NuGet, in
# .tools/pwsh) and shellcheck (Debian's package). Run by `npm test` before the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
PWSH_VERSION=7.6.9 # the PowerShell package on NuGet (7.6 is the LTS line)
if [ ! -x .tools/pwsh/pwsh ] || ! grep -q "\"$PWSH_VERSION\"" .tools/pwsh/.version 2>/dev/null; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "the tests run PowerShell, installed from NuGet with the .NET SDK: install dotnet, then run npm test again" >&2
    exit 1
  fi
  rm -rf .tools/pwsh
  dotnet tool install PowerShell --version "$PWSH_VERSION" --tool-path .tools/pwsh >/dev/null
  echo "\"$PWSH_VERSION\"" > .tools/pwsh/.version
fi
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt_get() { apt-get "$@"; }; else apt_get() { sudo apt-get "$@"; }; fi
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq shellcheck >/dev/null
fi
