# Part of tools/infra.sh (sourced by it; not run on its own): the NATS check.
# shellcheck shell=bash
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
