# Part of tools/infra.sh (sourced by it; not run on its own): the control PostgreSQL check.
# shellcheck shell=bash
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
