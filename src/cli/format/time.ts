// Human durations and container status text, with the thresholds of
// go-units' HumanDuration that Docker uses for the CREATED and STATUS columns.

/**
 * A duration in milliseconds as Docker words it: `Less than a second`,
 * `1 second`, `5 seconds`, `About a minute`, `3 minutes`, `About an hour`,
 * `5 hours`, `3 days`, `2 weeks`, `4 months`, `2 years`.
 * Negative durations count as zero.
 */
export function humanDuration(ms: number): string {
  const d = Math.max(0, ms);
  const seconds = Math.trunc(d / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(d / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(d / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(d / 3_600_000) / 24 / 365)} years`;
}

/**
 * The CREATED column: `2 minutes ago`. Docker's API reports the creation time
 * in whole seconds, so the creation time is truncated to a second first.
 */
export function createdAgo(createdMs: number, nowMs: number): string {
  const createdSec = Math.floor(createdMs / 1000) * 1000;
  return `${humanDuration(nowMs - createdSec)} ago`;
}

export interface ContainerStateTimes {
  running: boolean;
  paused?: boolean;
  restarting?: boolean;
  dead?: boolean;
  removalInProgress?: boolean;
  exitCode: number;
  /** Epoch ms of the last start; null/undefined/0 when never started. */
  startedAt?: number | null;
  /** Epoch ms of the last exit; null/undefined/0 when never exited. */
  finishedAt?: number | null;
}

/**
 * The STATUS column: `Up 2 minutes`, `Up Less than a second`,
 * `Exited (137) 3 seconds ago`, `Created`, `Up 5 seconds (Paused)`,
 * `Restarting (1) 2 seconds ago`, `Dead`, `Removal In Progress`.
 */
export function containerStatus(state: ContainerStateTimes, nowMs: number): string {
  const started = state.startedAt ?? 0;
  const finished = state.finishedAt ?? 0;
  if (state.running) {
    if (state.paused) return `Up ${humanDuration(nowMs - started)} (Paused)`;
    if (state.restarting) return `Restarting (${state.exitCode}) ${humanDuration(nowMs - finished)} ago`;
    return `Up ${humanDuration(nowMs - started)}`;
  }
  if (state.removalInProgress) return 'Removal In Progress';
  if (state.dead) return 'Dead';
  if (!started) return 'Created';
  if (!finished) return '';
  return `Exited (${state.exitCode}) ${humanDuration(nowMs - finished)} ago`;
}

/** Docker's `State.Status` word: created, running, paused, restarting, removing, exited, dead. */
export function containerStateWord(state: ContainerStateTimes): string {
  if (state.running) {
    if (state.paused) return 'paused';
    if (state.restarting) return 'restarting';
    return 'running';
  }
  if (state.removalInProgress) return 'removing';
  if (state.dead) return 'dead';
  if (!state.startedAt) return 'created';
  return 'exited';
}

/**
 * RFC 3339 with nanoseconds as Go prints time.RFC3339Nano in UTC:
 * `2026-11-22T03:54:53.152254874Z`; trailing zeros of the fraction are
 * dropped, and so is the dot when the fraction is zero. The argument is
 * nanoseconds since the epoch.
 */
export function rfc3339Nano(epochNs: bigint): string {
  const ns = ((epochNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const secs = (epochNs - ns) / 1_000_000_000n;
  const date = new Date(Number(secs) * 1000);
  const base = date.toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  let frac = ns.toString().padStart(9, '0').replace(/0+$/, '');
  if (frac) frac = '.' + frac;
  return `${base}${frac}Z`;
}

/** Nanoseconds since the epoch for a Date or epoch milliseconds (ms precision). */
export function toEpochNs(t: Date | number): bigint {
  const ms = typeof t === 'number' ? t : t.getTime();
  return BigInt(Math.trunc(ms)) * 1_000_000n + BigInt(Math.round((ms - Math.trunc(ms)) * 1e6));
}
