# Part of tools/infra.sh (sourced by it; not run on its own): output, URLs, packages and waiting, shared by every check.
# shellcheck shell=bash
# ---------------------------------------------------------------------------------------------
# output

say() { printf 'infra: %s\n' "$*"; }
hint() { printf '         %s\n' "$@"; }
line_ok() { printf 'infra: %-10s ok    %s\n' "$1" "$2"; }
line_fail() {
  printf 'infra: %-10s FAIL  %s\n' "$1" "$2"
  FAILED=1
}
# Indents a (possibly multi-line) error text under the service line.
detail() {
  local text=$1 l
  [[ -n $text ]] || return 0
  while IFS= read -r l; do
    if [[ -n $l ]]; then printf '         | %s\n' "$l"; fi
  done <<<"$text"
}

usage() {
  cat <<'EOF'
usage: bash tools/infra.sh check [--start] [--browser] [--shells]

Checks PostgreSQL (LATCHKEY_DATABASE_URL), Redis (REDIS_URL) and NATS (NATS_URL).
  --start    start local servers that are installed but not running (also when CI=true)
  --browser  also check chromium for the browser tests (CHROMIUM_PATH), installing it when missing
  --shells   also check zsh and fish for the CLI's completion tests, installing them when missing
EOF
}

# ---------------------------------------------------------------------------------------------
# URLs

# Masks secrets in a URL: scheme://user:pass@ -> user:***@ (up to the last @, so an unencoded @
# or / in a password stays hidden), ?password=... -> ***; a NATS URL may be a comma-separated
# list, and a bare NATS token (nats://token@host) becomes ***@.
mask_url() {
  local out='' part parts=()
  if [[ $1 =~ ^(nats|tls|ws|wss):// ]]; then
    IFS=',' read -r -a parts <<<"$1"
  else
    parts=("$1")
  fi
  for part in "${parts[@]}"; do
    part=${part//[[:space:]]/}
    if [[ $part == *://*@* ]]; then
      local scheme=${part%%://*} rest=${part#*://}
      local userinfo=${rest%@*} after=${rest##*@}
      if [[ $userinfo == *:* ]]; then
        userinfo="${userinfo%%:*}:***"
      elif [[ $scheme =~ ^(nats|tls|ws|wss)$ ]]; then
        userinfo='***'
      fi
      part="${scheme}://${userinfo}@${after}"
    fi
    while [[ $part =~ ^(.*[?\&]password=)([^\&*][^\&]*)(.*)$ ]]; do
      part="${BASH_REMATCH[1]}***${BASH_REMATCH[3]}"
    done
    out+="${out:+,}${part}"
  done
  printf '%s' "$out"
}

# Parses scheme://[userinfo@]host[:port][/path][?query] into URL_* globals. For a list of hosts
# (libpq's h1:p1,h2:p2 or a comma-separated NATS list) only the first host counts.
parse_url() {
  local url=$1 default_port=$2 rest authority hostport
  URL_SCHEME=${url%%://*}
  [[ $URL_SCHEME != "$url" ]] || URL_SCHEME=''
  rest=${url#*://}
  authority=${rest%%[/?]*}
  rest=${rest:${#authority}}
  URL_PATH=${rest%%\?*}
  URL_QUERY=${rest:${#URL_PATH}}
  URL_USERINFO=''
  hostport=$authority
  if [[ $authority == *@* ]]; then
    URL_USERINFO=${authority%@*}
    hostport=${authority##*@}
  fi
  hostport=${hostport%%,*}
  if [[ $hostport =~ ^\[([^]]*)\](:([0-9]*))?$ ]]; then
    URL_HOST=${BASH_REMATCH[1]}
    URL_PORT=${BASH_REMATCH[3]}
  elif [[ $hostport == *:* ]]; then
    URL_HOST=${hostport%%:*}
    URL_PORT=${hostport#*:}
  else
    URL_HOST=$hostport
    URL_PORT=''
  fi
  [[ -n $URL_PORT ]] || URL_PORT=$default_port
  # libpq: ?host=/socket/dir overrides an empty host
  if [[ -z $URL_HOST && $URL_QUERY =~ [?\&]host=([^\&]*) ]]; then
    URL_HOST=$(urldecode "${BASH_REMATCH[1]}")
  fi
}

# Percent-decoding (a literal backslash stays one).
urldecode() {
  local s=${1//\\/\\\\}
  printf '%b' "${s//%/\\x}"
}

is_local_host() {
  case $1 in
    '' | /* | localhost | localhost.localdomain | ::1 | 0:0:0:0:0:0:0:1 | 127.*) return 0 ;;
    *) return 1 ;;
  esac
}

# True when a TCP connection to host:port opens within 2 s.
tcp_open() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

ci_mode() { case ${CI:-} in true | TRUE | True | 1) return 0 ;; *) return 1 ;; esac; }

start_allowed() { [[ $START == true ]] || ci_mode; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# True when an executable of that name is on PATH (`command -v` also reports non-executable files).
have() {
  local p
  p=$(type -P "$1") && [[ -x $p ]]
}

# Prints the command prefix a non-root user needs.
as_root() { is_root || printf 'sudo '; }

can_apt() { is_root && have apt-get; }

apt_command() { printf '%s' "$(as_root)apt-get update && $(as_root)DEBIAN_FRONTEND=noninteractive apt-get install -y $1"; }

# Reports a missing server and installs its Debian package when running as root with apt-get.
# Returns 0 once installed; otherwise prints the FAIL line (with the apt command) and returns 1.
install_missing() {
  local service=$1 masked=$2 reason=$3 pkg=$4 what=$5 log
  local cmd="DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkg}"
  if ! can_apt; then
    line_fail "$service" "${masked} does not answer (${reason}): ${what} is not installed. Install it with:"
    hint "  $(apt_command "$pkg")"
    is_root || hint "(as root, bash tools/infra.sh installs it itself)"
    return 1
  fi
  say "${service}: ${what} is not installed; installing it: ${cmd}"
  log=$(mktemp)
  local policy
  policy=$(apt-cache policy "$pkg" 2>/dev/null) || true
  if [[ ! $policy =~ Candidate:\ [^\(] ]]; then
    say "${service}: apt-get update (no package list has ${pkg} yet)"
    if ! apt-get update -q >"$log" 2>&1; then
      line_fail "$service" "${masked} does not answer: ${what} is not installed and apt-get update failed"
      detail "$(tail -n 15 "$log")"
      rm -f "$log"
      return 1
    fi
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >"$log" 2>&1; then
    line_fail "$service" "${masked} does not answer: ${what} is not installed and '${cmd}' failed"
    detail "$(tail -n 15 "$log")"
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  say "${service}: installed ${pkg}"
}

# Polls a probe function until it succeeds or WAIT_SECONDS pass.
wait_for() {
  local probe=$1 deadline=$((SECONDS + WAIT_SECONDS))
  while ((SECONDS < deadline)); do
    "$probe" && return 0
    sleep 0.25
  done
  "$probe"
}
