// Reading a container's log as plumb-monitor writes it: the CRI log format,
// one record per line, `TIMESTAMP STREAM F|P CONTENT` (P: a partial line, its
// continuation follows in the next record).
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The content, with its newline when the record ended a line (F). */
  text: string;
}

export function parseLogLine(line: string): LogRecord | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s.exec(line);
  if (!m) return undefined;
  return { time: m[1]!, stream: m[2] as 'stdout' | 'stderr', text: m[3] === 'F' ? `${m[4]}\n` : m[4]! };
}

/** Records of a chunk of the file; `rest` is an unfinished last line to keep for the next chunk. */
export function parseLogChunk(text: string): { records: LogRecord[]; rest: string } {
  const lines = text.split('\n');
  const rest = lines.pop()!;
  return { records: lines.map(parseLogLine).filter((r): r is LogRecord => !!r), rest };
}

/** The last `n` lines of output (a line may span several P records; an unfinished last line counts). */
export function tailRecords(records: LogRecord[], n: number): LogRecord[] {
  const starts: number[] = [];
  let atStart = true;
  records.forEach((r, i) => {
    if (atStart) starts.push(i);
    atStart = r.text.endsWith('\n');
  });
  if (n >= starts.length) return records;
  return n <= 0 ? [] : records.slice(starts[starts.length - n]);
}

/** Reads the log from byte `offset`; returns the text and the new offset. */
export function readLogFrom(path: string, offset: number): { text: string; offset: number } {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return { text: '', offset };
  }
  if (size <= offset) return { text: '', offset };
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    const got = readSync(fd, buf, 0, buf.length, offset);
    return { text: buf.subarray(0, got).toString('utf8'), offset: offset + got };
  } finally {
    closeSync(fd);
  }
}
