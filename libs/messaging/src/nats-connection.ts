/**
 * How every Latchkey process connects to NATS (its client for requests and events, and the
 * server side of its handlers), in one place:
 * - `NATS_URL` is one URL or several separated by commas: the seeds. Once connected the client
 *   also learns every node of the cluster from the server (gossip), so a process whose own node
 *   dies reconnects to another one even when it was given a single URL.
 * - It never gives up reconnecting (`maxReconnectAttempts: -1`), trying every known server with
 *   500 ms (plus jitter) between attempts on the same one.
 * - While disconnected, what it publishes is buffered and sent on reconnect, and its subscriptions
 *   (handlers and reply inboxes) are made again on the new node. A request whose message or answer
 *   was on the node that died is lost (core NATS is at most once): the caller's timeout
 *   (NATS_REQUEST_TIMEOUT_MS) ends it, and work that must happen is driven from the control
 *   database and BullMQ, not from the message.
 * - A node that dies closes its connections and is noticed at once; one that hangs with its
 *   connections open is noticed after the client's pings go unanswered (nats.js: every 2 min, 2 missed).
 * - On stop, handlers drain: messages already received are answered before the connection closes.
 */
export function natsConnectionOptions(natsUrl: string, name: string) {
  return {
    servers: natsUrl
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  };
}
