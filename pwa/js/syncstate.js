// One reading of the sync state for every place that shows it: the top badge, the home screen and the
// outbox read this same object, so they cannot disagree (the badge saying all is sent while the outbox
// says the last send failed). The words come from the catalogue (PHONE_MESSAGES).
import { message } from "./catalogue.js";
import { fmtClock } from "./ui/common.js";

/** {state, waiting, files, online, running, authNeeded, lastSync, failure} from the store and the syncer.
 * "busy": the server asked the phone to wait (Retry-After); `failure.retry_ms` says until when. */
export async function readSyncState(store, syncer) {
  const waiting = await store.outboxCount();
  const files = (await store.pendingUploads()).length;
  const failure = await store.kvGet("last_error");
  const authNeeded = !!(await store.kvGet("auth_needed"));
  const lastSync = await store.kvGet("last_sync_ms");
  const online = navigator.onLine;
  const running = !!(syncer && syncer.running);
  let state;
  if (!online) state = "offline";
  else if (authNeeded) state = "auth";
  else if (running) state = "running";
  else if (failure && failure.kind === "busy") state = "busy";
  else if (failure && failure.kind) state = "failed";
  else if (waiting + files) state = "waiting";
  else state = "synced";
  return { state, waiting, files, online, running, authNeeded, lastSync, failure: failure && failure.kind ? failure : null };
}

/** The badge's short text. */
export function chipText(s) {
  const waiting = s.waiting + s.files;
  if (s.state === "offline") return waiting ? message("chip_offline", { waiting }) : message("chip_offline_empty");
  if (s.state === "busy") {
    const at = s.failure.retry_ms;
    return at > Date.now() ? message("chip_busy_at", { time: fmtClock(at) }) : message("chip_busy");
  }
  if (s.state === "failed") return waiting ? message("chip_failed", { waiting }) : message("chip_failed_empty");
  if (s.state === "waiting") return message("chip_waiting", { waiting });
  if (s.state === "auth") return message("chip_auth");
  if (s.state === "running") return message("chip_running");
  return message("chip_synced");
}

const FAILURES = {
  unconfirmed: "failed_unconfirmed",
  interrupted: "failed_interrupted",
  unreachable: "failed_unreachable",
  offline: "failed_offline",
  server: "failed_server",
};

/** Why the last send failed, as a whole sentence. */
export function failureText(f) {
  if (!f) return "";
  if (f.kind === "refused") return message("failed_refused", { detail: f.detail || "" });
  if (f.kind === "busy") {
    return message(f.scope === "evidence" ? "failed_busy_files" : "failed_busy", { time: fmtClock(f.retry_ms) });
  }
  return message(FAILURES[f.kind] || "failed_unreachable", { count: f.count || 0, status: f.status || "" });
}

/** "Sẽ thử lại sau 30 giây." from the time of the next try (ms since the epoch). */
export function retryText(retryMs, now = Date.now()) {
  const left = Math.ceil((retryMs - now) / 1000);
  if (!retryMs || left <= 0) return message("retry_soon");
  if (left < 60) return message("retry_in_seconds", { n: left });
  return message("retry_in_minutes", { n: Math.ceil(left / 60) });
}

/** Keep every shown retry time true as the seconds pass: elements carry `data-retry-at`. */
export function tickRetryTimes(root = document) {
  for (const el of root.querySelectorAll("[data-retry-at]")) el.textContent = retryText(Number(el.dataset.retryAt));
}
