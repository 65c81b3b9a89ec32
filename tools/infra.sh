#!/usr/bin/env bash
# Checks that the infrastructure Latchkey needs answers at the configured URLs:
#   LATCHKEY_DATABASE_URL  control PostgreSQL (default postgres://postgres@127.0.0.1:5432/latchkey)
#   REDIS_URL              Redis for BullMQ   (default redis://127.0.0.1:6379)
#   NATS_URL               NATS               (default nats://127.0.0.1:4222)
#
# Usage: bash tools/infra.sh check [--start] [--browser] [--shells]
#
# --browser also checks the browser the web console's e2e tests drive (CHROMIUM_PATH, default
# /usr/bin/chromium): installed from Debian's `chromium` package when missing and running as root.
# --shells also checks zsh and fish, in which the CLI's completion tests run its scripts: installed
# from Debian's `zsh` and `fish` packages when missing and running as root.
# `npm test` runs `check`; `npm start` runs `check --start`. For each service it prints one line,
# "ok" or what is wrong (and, on the lines below it, what to do). When a service does not answer:
#   - remote URL: says so, exit 1;
#   - local URL (127.0.0.1, localhost, ::1, a socket), server not installed: installs the Debian
#     package when running as root with apt-get, otherwise prints the apt-get command, exit 1;
#   - local URL, installed but not running: with --start or CI=true, starts it and waits until it
#     answers (up to ~20 s); otherwise prints the exact command to start it, exit 1.
# For PostgreSQL it also creates the database named in the URL when it does not exist. With
# CI=true it may add a `host all all 127.0.0.1/32 trust` line to the local test cluster's
# pg_hba.conf (and says so); otherwise it prints what to change.
# Exit 0 only when all three answer. Passwords in URLs are never printed (user:***@).
set -euo pipefail

readonly DEFAULT_DATABASE_URL='postgres://postgres@127.0.0.1:5432/latchkey'
readonly DEFAULT_REDIS_URL='redis://127.0.0.1:6379'
readonly DEFAULT_NATS_URL='nats://127.0.0.1:4222'
readonly WAIT_SECONDS=20

# Server binaries usually live in sbin, which a non-root PATH may lack.
for dir in /usr/local/sbin /usr/sbin /sbin; do
  case ":${PATH}:" in *":${dir}:"*) ;; *) PATH="${PATH}:${dir}" ;; esac
done
export PATH LC_ALL=C

START=false
BROWSER=false
SHELLS=false
FAILED=0

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

# ---------------------------------------------------------------------------------------------
# PostgreSQL

PG_ADMIN_URL='' PG_DB='' PG_ERR='' PG_INFO=''

pg_installed_version() {
  local bins=(/usr/lib/postgresql/*/bin/postgres) v best=''
  [[ -x ${bins[0]} ]] || return 1
  for v in "${bins[@]}"; do
    v=${v#/usr/lib/postgresql/}
    v=${v%%/*}
    if [[ -z $best ]] || ((${v%%.*} > ${best%%.*})); then best=$v; fi
  done
  printf '%s' "$best"
}

# Finds the local cluster that serves port $1: prints "version name status".
pg_cluster_for_port() {
  local port=$1 ver name cport status rest
  if have pg_lsclusters; then
    while read -r ver name cport status rest; do
      [[ $cport == "$port" ]] && { printf '%s %s %s' "$ver" "$name" "$status"; return 0; }
    done < <(pg_lsclusters -h 2>/dev/null)
    return 1
  fi
  # no postgresql-common: fall back to the layout of /etc/postgresql
  local conf
  for conf in /etc/postgresql/*/main/postgresql.conf; do
    [[ -f $conf ]] || continue
    ver=${conf#/etc/postgresql/}
    printf '%s main unknown' "${ver%%/*}"
    return 0
  done
  return 1
}

pg_cluster_list() {
  if have pg_lsclusters; then
    pg_lsclusters -h 2>/dev/null | awk '{printf "%s%s/%s on port %s (%s)", (NR>1?", ":""), $1, $2, $3, $4}'
  fi
}

# Runs SQL (stdin) against a URL with psql; variables as -v name=value.
pg_psql() {
  local url=$1
  shift
  PGCONNECT_TIMEOUT=3 timeout 10 psql "$url" -w -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# Connects to the server's `postgres` database; sets PG_ERR on failure, PG_INFO on success.
pg_probe() {
  local out
  if have psql; then
    if out=$(pg_psql "$PG_ADMIN_URL" -c "select current_setting('server_version')" 2>&1); then
      PG_INFO="server ${out%% *}"
      return 0
    fi
    PG_ERR=$out
    return 1
  fi
  if have pg_isready; then
    if out=$(PGCONNECT_TIMEOUT=3 pg_isready -d "$PG_ADMIN_URL" 2>&1); then
      PG_INFO='accepting connections; psql not installed, database not checked'
      return 0
    fi
    PG_ERR=$out
    return 1
  fi
  if tcp_open "$URL_HOST" "$URL_PORT"; then
    PG_INFO='port open; psql and pg_isready not installed, database not checked'
    return 0
  fi
  PG_ERR="cannot connect to ${URL_HOST}:${URL_PORT}"
  return 1
}

# 0: answers (perhaps refusing us); 1: starting up; 2: does not answer.
pg_answers() {
  if have pg_isready; then
    local rc=0
    PGCONNECT_TIMEOUT=3 pg_isready -q -d "$PG_ADMIN_URL" >/dev/null 2>&1 || rc=$?
    case $rc in 0) return 0 ;; 1) return 1 ;; *) return 2 ;; esac
  fi
  case $PG_ERR in
    *'starting up'* | *'shutting down'* | *'in recovery mode'*) return 1 ;;
    *'Connection refused'* | *'could not connect'* | *'timeout expired'* | *'No such file'* | *'could not translate host'*) return 2 ;;
  esac
  if [[ -n $URL_HOST && $URL_HOST != /* ]] && ! tcp_open "$URL_HOST" "$URL_PORT"; then return 2; fi
  return 0
}

# True once the server accepts connections (authentication aside).
pg_ready() {
  if have pg_isready; then
    PGCONNECT_TIMEOUT=3 pg_isready -q -d "$PG_ADMIN_URL" >/dev/null 2>&1
  else
    pg_probe || pg_auth_error
  fi
}

# Connects (waiting for a server that is starting up); otherwise explains, installs or starts.
# Returns 0 once connected.
pg_connect() {
  local masked=$1 answers=0
  pg_probe && return 0
  pg_answers || answers=$?
  if ((answers == 1)); then
    # starting up or shutting down: give it a moment
    wait_for pg_ready || true
    pg_probe && return 0
    answers=0
    pg_answers || answers=$?
  fi
  if ((answers == 0)); then
    pg_refused "$masked"
    return
  fi
  pg_not_running "$masked"
}

pg_auth_error() {
  case $PG_ERR in
    *'no password supplied'* | *'password authentication failed'* | *'Peer authentication failed'* | \
      *'no pg_hba.conf entry'* | *'Ident authentication failed'*) return 0 ;;
  esac
  return 1
}

# Creates the database named in the URL when it does not exist.
pg_ensure_database() {
  local out
  have psql || return 0
  [[ -n $PG_DB && $PG_DB != postgres ]] || return 0
  if ! out=$(pg_psql "$PG_ADMIN_URL" -v db="$PG_DB" <<<"select count(*) from pg_database where datname = :'db';" 2>&1); then
    PG_ERR=$out
    return 1
  fi
  if [[ $out == 1 ]]; then
    PG_INFO+=", database ${PG_DB} exists"
    return 0
  fi
  if out=$(pg_psql "$PG_ADMIN_URL" -v db="$PG_DB" <<<'create database :"db";' 2>&1); then
    PG_INFO+=", created database ${PG_DB}"
    return 0
  fi
  # another process may have created it in the meantime
  if [[ $out == *'already exists'* ]]; then
    PG_INFO+=", database ${PG_DB} exists"
    return 0
  fi
  PG_ERR="could not create database ${PG_DB}: ${out}"
  return 1
}

pg_hba_file() {
  local ver=$1 name=$2 f
  f=$(pg_conftool "$ver" "$name" show hba_file 2>/dev/null | sed -E "s/^hba_file *= *'?([^']*)'?.*/\1/") || true
  [[ -n $f ]] || f=/etc/postgresql/$ver/$name/pg_hba.conf
  printf '%s' "$f"
}

# Handles a server that answers but refuses us.
pg_refused() {
  local masked=$1 cluster ver name status hba
  if ! pg_auth_error || ! is_local_host "$URL_HOST" || ! cluster=$(pg_cluster_for_port "$URL_PORT"); then
    line_fail postgresql "${masked} answers but the connection failed"
    detail "$PG_ERR"
    case $PG_ERR in
      *'role'*'does not exist'*) hint "create the role (as a superuser): CREATE ROLE \"$(urldecode "${URL_USERINFO%%:*}")\" LOGIN CREATEDB PASSWORD '...'; or set LATCHKEY_DATABASE_URL to an existing one" ;;
      *) pg_auth_error && hint "set LATCHKEY_DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/latchkey with a role that may log in and create databases" ;;
    esac
    return 1
  fi
  read -r ver name status <<<"$cluster"
  hba=$(pg_hba_file "$ver" "$name")
  local trust='host all all 127.0.0.1/32 trust' trust6='host all all ::1/128 trust'
  if ci_mode && is_root && [[ -w $hba ]]; then
    say "postgresql: CI=true: adding '${trust}' and '${trust6}' at the top of ${hba} (local test cluster ${ver}/${name}) and reloading it"
    local tmp
    tmp=$(mktemp)
    { printf '# added by tools/infra.sh (CI=true): trust local TCP connections on this test cluster\n%s\n%s\n' "$trust" "$trust6"; cat "$hba"; } >"$tmp"
    cat "$tmp" >"$hba"
    rm -f "$tmp"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >/dev/null 2>&1 || pg_ctlcluster "$ver" "$name" reload
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
      pg_probe && return 0
      sleep "0.$i"
    done
    line_fail postgresql "${masked} still refuses the connection after the pg_hba.conf change"
    detail "$PG_ERR"
    return 1
  fi
  line_fail postgresql "${masked} answers but refuses the connection (authentication)"
  detail "$PG_ERR"
  hint "a fresh Debian cluster only trusts 'peer' logins on its socket. Either add this line at the top of ${hba}:" \
    "  ${trust}" \
    "and reload: $(as_root)pg_ctlcluster ${ver} ${name} reload" \
    "or give the role a password ($(as_root)runuser -u postgres -- psql -c \"ALTER ROLE postgres PASSWORD '...'\")" \
    "and put it in LATCHKEY_DATABASE_URL=postgres://postgres:PASSWORD@127.0.0.1:${URL_PORT}/${PG_DB:-latchkey}." \
    "(CI=true bash tools/infra.sh check adds the trust line itself on a local test cluster.)"
  return 1
}

# Prints the commands that start (and if needed create) the local cluster on URL_PORT.
pg_start_commands() {
  local cluster ver name status
  if cluster=$(pg_cluster_for_port "$URL_PORT"); then
    read -r ver name status <<<"$cluster"
    printf '%s\n' "pg_ctlcluster --skip-systemctl-redirect ${ver} ${name} start"
    return 0
  fi
  ver=$(pg_installed_version) || return 1
  if [[ -n $(pg_cluster_list) ]]; then
    return 2 # clusters exist, none on this port
  fi
  printf '%s\n' "pg_createcluster --port ${URL_PORT} ${ver} main" "pg_ctlcluster --skip-systemctl-redirect ${ver} main start"
}

check_postgres() {
  local url=${LATCHKEY_DATABASE_URL:-$DEFAULT_DATABASE_URL} masked
  masked=$(mask_url "$url")
  parse_url "$url" 5432
  case $URL_SCHEME in
    postgres | postgresql) ;;
    *)
      line_fail postgresql "LATCHKEY_DATABASE_URL=${masked} is not a postgres:// URL"
      return 0
      ;;
  esac
  PG_DB=$(urldecode "${URL_PATH#/}")
  local authority=${url#*://}
  authority=${authority%%[/?]*}
  PG_ADMIN_URL="${URL_SCHEME}://${authority}/postgres${URL_QUERY}"
  PG_ERR='' PG_INFO=''

  pg_connect "$masked" || return 0
  if ! pg_ensure_database; then
    line_fail postgresql "${masked} answers, but the database is not ready"
    detail "$PG_ERR"
    hint "the role in LATCHKEY_DATABASE_URL needs CREATEDB, or create it: CREATE DATABASE \"${PG_DB}\";"
    return 0
  fi
  line_ok postgresql "${masked} (${PG_INFO})"
}

# PostgreSQL does not answer: install / start / explain. Returns 0 once it answers.
pg_not_running() {
  local masked=$1 cmds rc=0 reason
  reason=$(printf '%s' "$PG_ERR" | grep -m1 -oE 'Connection refused|timeout expired|No such file or directory|could not translate host name[^:]*|no response' || true)
  reason=${reason:-no answer on ${URL_HOST:-the socket}:${URL_PORT}}
  if ! is_local_host "$URL_HOST"; then
    line_fail postgresql "${masked} does not answer (${reason})"
    detail "$PG_ERR"
    hint "check that the server is up and reachable, or point LATCHKEY_DATABASE_URL elsewhere"
    return 1
  fi
  if ! pg_installed_version >/dev/null; then
    install_missing postgresql "$masked" "$reason" postgresql 'PostgreSQL (no /usr/lib/postgresql/*/bin/postgres)' || return 1
    if ! pg_installed_version >/dev/null; then
      line_fail postgresql "${masked} does not answer: the postgresql package did not provide /usr/lib/postgresql/*/bin/postgres"
      return 1
    fi
  fi
  cmds=$(pg_start_commands) || rc=$?
  local cluster ver name status
  if cluster=$(pg_cluster_for_port "$URL_PORT"); then
    read -r ver name status <<<"$cluster"
    if [[ $status == online* ]]; then
      line_fail postgresql "${masked} does not answer (${reason}), yet the local cluster ${ver}/${name} on port ${URL_PORT} is running"
      detail "$PG_ERR"
      hint "check listen_addresses in /etc/postgresql/${ver}/${name}/postgresql.conf (it must include ${URL_HOST:-the socket}) and /var/log/postgresql/"
      return 1
    fi
  fi
  if ((rc == 2)); then
    line_fail postgresql "${masked} does not answer (${reason}); no local cluster uses port ${URL_PORT}"
    hint "local clusters: $(pg_cluster_list)" \
      "point LATCHKEY_DATABASE_URL at one of them, or create one: $(as_root)pg_createcluster --port ${URL_PORT} $(pg_installed_version) latchkey --start"
    return 1
  fi
  if ! start_allowed; then
    line_fail postgresql "${masked} does not answer (${reason}); PostgreSQL is installed but not running. Start it with:"
    while IFS= read -r c; do hint "  $(as_root)${c}"; done <<<"$cmds"
    hint "(npm start, bash tools/infra.sh check --start, or CI=true does this)"
    return 1
  fi
  local c out
  while IFS= read -r c; do
    say "postgresql: starting: ${c}"
    # shellcheck disable=SC2086 # the command is built from words without spaces
    if ! out=$($c 2>&1); then
      if [[ $out != *'already running'* ]]; then
        line_fail postgresql "${masked}: '${c}' failed"
        detail "$out"
        is_root || hint "starting PostgreSQL needs root (or the cluster owner): sudo ${c}"
        return 1
      fi
    fi
  done <<<"$cmds"
  if ! wait_for pg_ready; then
    line_fail postgresql "${masked} still does not answer ${WAIT_SECONDS}s after starting it; see pg_lsclusters and /var/log/postgresql/"
    return 1
  fi
  pg_probe && return 0
  if pg_auth_error || [[ $PG_ERR == *'does not exist'* ]]; then
    pg_refused "$masked"
    return
  fi
  line_fail postgresql "${masked} does not answer after starting it"
  detail "$PG_ERR"
  return 1
}

# ---------------------------------------------------------------------------------------------
# Redis

REDIS_REPLY=''

# Sends PING (after AUTH when the URL has credentials); sets REDIS_REPLY. redis-cli gets the
# password through REDISCLI_AUTH, not its command line (where `ps` would show it), and host, port
# and user as options, so percent-encoded credentials work with every redis-cli version.
redis_ping() {
  local user='' pass=''
  if [[ -n $URL_USERINFO ]]; then
    if [[ $URL_USERINFO == *:* ]]; then
      user=$(urldecode "${URL_USERINFO%%:*}")
      pass=$(urldecode "${URL_USERINFO#*:}")
    else
      user=$(urldecode "$URL_USERINFO")
    fi
  fi
  [[ $user == default ]] && user=''
  if have redis-cli; then
    local args=(-h "$URL_HOST" -p "$URL_PORT")
    [[ -n $user ]] && args+=(--user "$user")
    [[ $URL_SCHEME == rediss ]] && args+=(--tls)
    if [[ -n $pass ]]; then
      REDIS_REPLY=$(REDISCLI_AUTH=$pass timeout 3 redis-cli --no-auth-warning "${args[@]}" ping 2>&1) || true
    else
      REDIS_REPLY=$(timeout 3 redis-cli "${args[@]}" ping 2>&1) || true
    fi
    return 0
  fi
  if [[ $URL_SCHEME == rediss ]]; then
    # TLS without redis-cli: an open port is the best we can tell
    if tcp_open "$URL_HOST" "$URL_PORT"; then REDIS_REPLY=PONG; else REDIS_REPLY=''; fi
    return 0
  fi
  # no redis-cli: speak RESP over bash's /dev/tcp
  # shellcheck disable=SC2016 # expanded by the inner shell
  REDIS_REPLY=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    resp() { local a; printf "*%d\r\n" "$#" >&3; for a in "$@"; do printf "\$%d\r\n%s\r\n" "${#a}" "$a" >&3; done; }
    cr=$'"'"'\r'"'"'
    if [[ -n $4 ]]; then
      if [[ -n $3 ]]; then resp AUTH "$3" "$4"; else resp AUTH "$4"; fi
      IFS= read -r -t 2 line <&3 || exit 1
      [[ $line == +OK* ]] || { printf "%s\n" "${line%"$cr"}"; exit 0; }
    fi
    resp PING
    IFS= read -r -t 2 line <&3 || exit 1
    printf "%s\n" "${line%"$cr"}"
  ' _ "$URL_HOST" "$URL_PORT" "$user" "$pass" 2>&1) || true
  REDIS_REPLY=${REDIS_REPLY#[+-]}
}

redis_ready() {
  redis_ping
  [[ $REDIS_REPLY == PONG ]]
}

check_redis() {
  local url=${REDIS_URL:-$DEFAULT_REDIS_URL} masked
  masked=$(mask_url "$url")
  parse_url "$url" 6379
  case $URL_SCHEME in
    redis | rediss) ;;
    *)
      line_fail redis "REDIS_URL=${masked} is not a redis:// URL"
      return 0
      ;;
  esac
  if redis_ready; then
    line_ok redis "$masked"
    return 0
  fi
  if [[ -n $REDIS_REPLY ]] && ! [[ $REDIS_REPLY =~ (Could not connect|Connection refused|Connection reset|No route|Name or service|timed out|No such) ]] && tcp_open "$URL_HOST" "$URL_PORT"; then
    line_fail redis "${masked} answers but PING did not return PONG"
    detail "$REDIS_REPLY"
    [[ $REDIS_REPLY == *NOAUTH* || $REDIS_REPLY == *WRONGPASS* || $REDIS_REPLY == *AUTH* ]] &&
      hint "put the credentials in REDIS_URL=redis://USER:PASSWORD@${URL_HOST}:${URL_PORT}"
    return 0
  fi
  local reason
  reason=$(printf '%s' "$REDIS_REPLY" | grep -m1 -oE 'Connection refused|Connection reset by peer|No route to host|Name or service not known|timed out' || true)
  [[ -n $REDIS_REPLY ]] || reason='no answer within 3 s'
  reason=${reason:-no answer}
  if ! is_local_host "$URL_HOST" || [[ -z $URL_HOST ]]; then
    line_fail redis "${masked} does not answer (${reason})"
    hint "check that Redis is up and reachable, or point REDIS_URL elsewhere"
    return 0
  fi
  if ! have redis-server; then
    install_missing redis "$masked" "$reason" redis-server redis-server || return 0
    if ! have redis-server; then
      line_fail redis "${masked} does not answer: the redis-server package did not provide redis-server"
      return 0
    fi
  fi
  local dirs='mkdir -p /var/lib/redis /var/log/redis'
  local bind='127.0.0.1 -::1'
  local cmd=(redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$URL_PORT" --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log)
  local shown="redis-server --daemonize yes --bind ${bind} --port ${URL_PORT} --save \"\" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
  if ! start_allowed; then
    line_fail redis "${masked} does not answer (${reason}); redis-server is installed but not running. Start it with:"
    hint "  $(as_root)${dirs} && $(as_root)${shown}" \
      "(npm start, bash tools/infra.sh check --start, or CI=true does this)"
    return 0
  fi
  say "redis: starting: ${shown}"
  local out
  if ! out=$(mkdir -p /var/lib/redis /var/log/redis 2>&1 && "${cmd[@]}" 2>&1); then
    line_fail redis "${masked}: starting redis-server failed"
    detail "$out"
    is_root || hint "it needs to write /var/lib/redis and /var/log/redis: sudo ${dirs} && sudo ${shown}"
    return 0
  fi
  if ! wait_for redis_ready; then
    line_fail redis "${masked} still does not answer ${WAIT_SECONDS}s after starting redis-server; see /var/log/redis/ci.log"
    detail "$REDIS_REPLY"
    return 0
  fi
  line_ok redis "${masked} (started)"
}

# ---------------------------------------------------------------------------------------------
# NATS

NATS_GREETING=''

# Reads the server's INFO greeting.
nats_greet() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  NATS_GREETING=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2"
    IFS= read -r -t 2 line <&3
    printf "%s" "$line"
  ' _ "$1" "$2" 2>&1) || true
  [[ $NATS_GREETING == 'INFO {'* ]]
}

nats_ready() { nats_greet "$NATS_CHECK_HOST" "$NATS_CHECK_PORT"; }

nats_describe() {
  local g=$1 version='' js='JetStream off'
  [[ $g =~ \"version\":\"([^\"]*)\" ]] && version="server ${BASH_REMATCH[1]}, "
  [[ $g == *'"jetstream":true'* ]] && js='JetStream on'
  printf '%s%s' "$version" "$js"
}

check_nats() {
  local url=${NATS_URL:-$DEFAULT_NATS_URL} masked entry
  masked=$(mask_url "$url")
  # a comma-separated list is fine: any server that answers will do
  local entries=()
  IFS=',' read -r -a entries <<<"$url"
  for entry in "${entries[@]}"; do
    entry=${entry// /}
    [[ $entry == *://* ]] || entry="nats://${entry}"
    parse_url "$entry" 4222
    case $URL_SCHEME in
      nats | tls | ws | wss) ;;
      *)
        line_fail nats "NATS_URL=${masked} is not a nats:// URL"
        return 0
        ;;
    esac
    if nats_greet "$URL_HOST" "$URL_PORT"; then
      line_ok nats "${masked} ($(nats_describe "$NATS_GREETING"))"
      return 0
    fi
  done
  # none answered: act on the first
  parse_url "${entries[0]// /}" 4222
  local reason
  if [[ $NATS_GREETING != *'Connection refused'* ]] && tcp_open "$URL_HOST" "$URL_PORT"; then
    line_fail nats "${masked}: port ${URL_PORT} answers but not with a NATS INFO greeting (is something else listening there?)"
    detail "${NATS_GREETING:0:200}"
    [[ -n $NATS_GREETING ]] || detail "(nothing within 2 s)"
    return 0
  fi
  reason=$(printf '%s' "$NATS_GREETING" | grep -m1 -oE 'Connection refused|Connection reset by peer|No route to host|Name or service not known' || true)
  [[ -n $NATS_GREETING ]] || reason='no answer within 3 s'
  reason=${reason:-no answer}
  if ! is_local_host "$URL_HOST" || [[ -z $URL_HOST ]]; then
    line_fail nats "${masked} does not answer (${reason})"
    hint "check that NATS is up and reachable, or point NATS_URL elsewhere"
    return 0
  fi
  local bin
  if ! have nats-server; then
    install_missing nats "$masked" "$reason" nats-server nats-server || return 0
    if ! have nats-server; then
      line_fail nats "${masked} does not answer: the nats-server package did not provide nats-server"
      return 0
    fi
  fi
  bin=$(type -P nats-server)
  local cmd=(start-stop-daemon --start --oknodo --background --exec "$bin")
  local store=/var/lib/nats-server log=/var/log/nats-server.log
  # start-stop-daemon matches running processes by executable: another nats-server (on another
  # port) would make it do nothing. Then this one gets a pid file, store and log of its own.
  if have start-stop-daemon && ! start-stop-daemon --start --test --quiet --exec "$bin" >/dev/null 2>&1; then
    cmd+=(--pidfile "/run/nats-server-${URL_PORT}.pid" --make-pidfile)
    store=/var/lib/nats-server-${URL_PORT} log=/var/log/nats-server-${URL_PORT}.log
  fi
  cmd+=(-- -a 127.0.0.1 -p "$URL_PORT" -js -sd "$store" -l "$log")
  local shown="${cmd[*]}"
  if ! start_allowed; then
    line_fail nats "${masked} does not answer (${reason}); nats-server is installed but not running. Start it with:"
    hint "  $(as_root)mkdir -p ${store} && $(as_root)${shown}" \
      "(npm start, bash tools/infra.sh check --start, or CI=true does this)"
    return 0
  fi
  say "nats: starting: ${shown}"
  local out
  if ! out=$(mkdir -p "$store" 2>&1 && "${cmd[@]}" 2>&1); then
    line_fail nats "${masked}: starting nats-server failed"
    detail "$out"
    is_root || hint "it needs to write ${store} and ${log}: sudo mkdir -p ${store} && sudo ${shown}"
    return 0
  fi
  NATS_CHECK_HOST=$URL_HOST NATS_CHECK_PORT=$URL_PORT
  if ! wait_for nats_ready; then
    line_fail nats "${masked} still does not answer ${WAIT_SECONDS}s after starting nats-server; see ${log}"
    return 0
  fi
  line_ok nats "${masked} (started; $(nats_describe "$NATS_GREETING"))"
}

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

# ---------------------------------------------------------------------------------------------

main() {
  local action=''
  while (($#)); do
    case $1 in
      check) action=check ;;
      --start) START=true ;;
      --browser) BROWSER=true ;;
      --shells) SHELLS=true ;;
      -h | --help | help)
        usage
        return 0
        ;;
      *)
        usage >&2
        say "unknown argument: $1" >&2
        return 2
        ;;
    esac
    shift
  done
  if [[ $action != check ]]; then
    usage >&2
    return 2
  fi
  local failed=0 check checks=(check_postgres check_redis check_nats)
  [[ $BROWSER == true ]] && checks+=(check_chromium)
  [[ $SHELLS == true ]] && checks+=(check_zsh check_fish)
  for check in "${checks[@]}"; do
    FAILED=0
    "$check"
    if ((FAILED)); then failed=1; fi
  done
  if ((failed)); then
    local extra=()
    [[ $BROWSER == true ]] && extra+=(chromium)
    [[ $SHELLS == true ]] && extra+=(zsh fish)
    say "PostgreSQL, Redis and NATS must all answer$( ((${#extra[@]})) && printf ', and %s be installed' "${extra[*]}"); fix the lines marked FAIL above."
    return 1
  fi
  return 0
}

main "$@"
