# Part of tools/infra.sh (sourced by it; not run on its own): the browser and shells the tests need (--browser, --shells).
# shellcheck shell=bash
# ---------------------------------------------------------------------------------------------
# Chromium (the web console's browser tests drive it with playwright-core, which downloads nothing)

chromium_version() { "$1" --version 2>/dev/null | head -n 1; }

check_chromium() {
  local bin=${CHROMIUM_PATH:-/usr/bin/chromium} log version
  if [[ -x $bin ]] && version=$(chromium_version "$bin") && [[ -n $version ]]; then
    line_ok chromium "${bin} (${version})"
    return 0
  fi
  if [[ $bin != /usr/bin/chromium ]]; then
    line_fail chromium "CHROMIUM_PATH=${bin} is not a working chromium"
    return 0
  fi
  if ! can_apt; then
    line_fail chromium "${bin} is missing. Install it with:"
    hint "  $(apt_command chromium)"
    return 0
  fi
  say "chromium: ${bin} is missing; installing it: DEBIAN_FRONTEND=noninteractive apt-get install -y chromium"
  log=$(mktemp)
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [^(]'; then
    say "chromium: apt-get update (no package list has chromium yet)"
    apt-get update -q >"$log" 2>&1 || true
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >"$log" 2>&1; then
    line_fail chromium "installing chromium failed"
    detail "$(tail -n 15 "$log")"
    rm -f "$log"
    return 0
  fi
  rm -f "$log"
  if version=$(chromium_version "$bin") && [[ -n $version ]]; then
    line_ok chromium "${bin} (installed: ${version})"
  else
    line_fail chromium "the chromium package did not provide a working ${bin}"
  fi
}

# ---------------------------------------------------------------------------------------------
# zsh and fish (the CLI's completion scripts are tested in the real shells)

shell_version() { "$1" --version 2>/dev/null | head -n 1; }

# Checks one shell on PATH; installs its Debian package (named as the shell) when missing and root.
check_shell() {
  local name=$1 log version
  if have "$name" && version=$(shell_version "$name") && [[ -n $version ]]; then
    line_ok "$name" "$(type -P "$name") (${version})"
    return 0
  fi
  if ! can_apt; then
    line_fail "$name" "${name} is not installed (the CLI's completion tests run in it). Install it with:"
    hint "  $(apt_command "$name")"
    is_root || hint "(as root, bash tools/infra.sh check --shells installs it itself)"
    return 0
  fi
  say "${name}: missing; installing it: DEBIAN_FRONTEND=noninteractive apt-get install -y ${name}"
  log=$(mktemp)
  if ! apt-cache policy "$name" 2>/dev/null | grep -q 'Candidate: [^(]'; then
    say "${name}: apt-get update (no package list has ${name} yet)"
    apt-get update -q >"$log" 2>&1 || true
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$name" >"$log" 2>&1; then
    line_fail "$name" "installing ${name} failed"
    detail "$(tail -n 15 "$log")"
    rm -f "$log"
    return 0
  fi
  rm -f "$log"
  if have "$name" && version=$(shell_version "$name") && [[ -n $version ]]; then
    line_ok "$name" "$(type -P "$name") (installed: ${version})"
  else
    line_fail "$name" "the ${name} package did not provide a working ${name}"
  fi
}

check_zsh() { check_shell zsh; }
check_fish() { check_shell fish; }
