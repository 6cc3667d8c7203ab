// The one websocket to /api/ws: sends the token as its first message, re-subscribes after a
// reconnect (exponential backoff with jitter), and tells the shell whether it is online.
import { endSession, session } from "./session";
import { store } from "./store";

export type LiveStatus = "off" | "connecting" | "online" | "offline";
export const liveStatus = store<LiveStatus>("off");

type Listener = (data: any) => void;
const listeners = new Map<string, Set<Listener>>(); // channel -> listeners
const topics = new Map<string, number>(); // "mids" | "book:ETH" -> reference count

let socket: WebSocket | null = null;
let retry = 0;
let retryTimer: number | undefined;
let pingTimer: number | undefined;
let wanted = false;

const CLOSE_UNAUTHORIZED = 4401;

export function on(channel: string, listener: Listener): () => void {
  let set = listeners.get(channel);
  if (!set) listeners.set(channel, (set = new Set()));
  set.add(listener);
  return () => set!.delete(listener);
}

/** Follow a topic (`mids` or `book:<coin>`) until the returned function is called. */
export function follow(topic: string): () => void {
  const count = topics.get(topic) ?? 0;
  topics.set(topic, count + 1);
  if (count === 0) send(subscription("subscribe", topic));
  return () => {
    const left = (topics.get(topic) ?? 1) - 1;
    if (left > 0) topics.set(topic, left);
    else {
      topics.delete(topic);
      send(subscription("unsubscribe", topic));
    }
  };
}

function subscription(op: string, topic: string): object {
  return topic === "mids"
    ? { op, channel: "mids" }
    : { op, channel: "book", coin: topic.slice("book:".length) };
}

function send(message: object): void {
  if (socket && socket.readyState === WebSocket.OPEN && liveStatus.get() === "online") {
    socket.send(JSON.stringify(message));
  }
}

function connect(): void {
  const current = session.get();
  if (!current || !wanted) return;
  liveStatus.set(liveStatus.get() === "offline" ? "offline" : "connecting");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/api/ws`);
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ token: current.token }));
  ws.onmessage = (event) => {
    let message: { channel?: string; data?: unknown };
    try {
      message = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (message.channel === "ready") {
      retry = 0;
      liveStatus.set("online");
      for (const topic of topics.keys()) ws.send(JSON.stringify(subscription("subscribe", topic)));
      window.clearInterval(pingTimer);
      pingTimer = window.setInterval(() => send({ op: "ping" }), 25_000);
    }
    for (const listener of listeners.get(message.channel ?? "") ?? []) listener(message.data);
  };
  ws.onclose = (event) => {
    window.clearInterval(pingTimer);
    if (socket !== ws) return;
    socket = null;
    if (event.code === CLOSE_UNAUTHORIZED) {
      endSession("Your session ended. Please log in again.");
      return;
    }
    if (!wanted) return;
    liveStatus.set("offline");
    const delay = Math.min(15_000, 500 * 2 ** retry) * (0.75 + Math.random() / 2);
    retry += 1;
    retryTimer = window.setTimeout(connect, delay);
  };
}

function stop(): void {
  wanted = false;
  window.clearTimeout(retryTimer);
  window.clearInterval(pingTimer);
  const ws = socket;
  socket = null;
  ws?.close(1000);
  liveStatus.set("off");
}

// The socket follows the session: open while someone is logged in, closed otherwise.
session.subscribe((current) => {
  stop();
  if (current) {
    wanted = true;
    retry = 0;
    connect();
  }
});
