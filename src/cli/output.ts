import { styleText } from "node:util";
import { toJsonString } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type ChatMessage,
  ChatMessageSchema,
  type RoomEvent,
  RoomEventSchema,
} from "../../gen/chat/v1/chat_pb.js";
import { ResumeFailedError } from "../client/index.js";
import { connectionRefused } from "../client/retryable.js";
import { authAdvice } from "./cli-auth.js";

type Style = Parameters<typeof styleText>[0];

/** "1 room", "2 rooms": a count with its noun, plural where it is not one. */
export function count(n: number | bigint, noun: string): string {
  return `${n} ${noun}${n === 1 || n === 1n ? "" : "s"}`;
}

/** `s` as one shell word: as it is when that is safe, else single-quoted. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Where and how the CLI prints: colour only on a terminal, and never with NO_COLOR set. */
export class Output {
  private readonly color: boolean;

  constructor(
    readonly json: boolean,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {
    this.color = Boolean(out.isTTY) && !process.env.NO_COLOR;
  }

  /** Apply a terminal style when colour is on. */
  style(format: Style, text: string): string {
    return this.color ? styleText(format, text) : text;
  }

  /** One line on stdout. */
  line(text: string): void {
    this.out.write(`${text}\n`);
  }

  /** A status line for the person watching (stderr, so stdout stays data). */
  status(text: string): void {
    process.stderr.write(`${this.style("dim", text)}\n`);
  }

  /** A stored message: "10:41:07 #12 ann: hello", or its JSON. */
  formatMessage(m: ChatMessage): string {
    if (this.json) return toJsonString(ChatMessageSchema, m);
    const time = m.sentAt ? timestampDate(m.sentAt).toTimeString().slice(0, 8) : "--:--:--";
    return `${this.style("dim", time)} ${this.style("dim", `#${m.seq}`)} ${this.style("bold", m.author)}: ${m.text}`;
  }

  /**
   * A room event as a line: messages and presence; with --json every event.
   * Undefined for what a person does not need to read (heartbeats; ready,
   * which `status` reports instead).
   */
  formatEvent(e: RoomEvent): string | undefined {
    if (this.json) return toJsonString(RoomEventSchema, e);
    const v = e.event;
    switch (v.case) {
      case "message":
        return this.formatMessage(v.value);
      case "join":
        return this.style("green", `→ ${v.value.author || `anonymous ${v.value.memberId}`} joined`);
      case "leave":
        return this.style("yellow", `← ${v.value.author || `anonymous ${v.value.memberId}`} left`);
      default:
        return undefined;
    }
  }

  /** Print a stored message. */
  message(m: ChatMessage): void {
    this.line(this.formatMessage(m));
  }

  /** Print a room event (if it is worth a line) and report `ready` as status. */
  event(e: RoomEvent): void {
    const text = this.formatEvent(e);
    if (text !== undefined) this.line(text);
    else if (e.event.case === "ready") {
      const r = e.event.value;
      this.status(`joined ${r.room} (epoch ${r.epoch}, last seq ${r.lastSeq})`);
    }
  }
}

/** invalid_argument, not InvalidArgument: the form Connect and buf curl print. */
function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(
    /[A-Z]/g,
    (c, i) => (i === 0 ? "" : "_") + c.toLowerCase(),
  );
}

/**
 * Print an error the way a person can act on it: "error: <code>: <message>".
 * `url` is the server the command called, named when nothing listens there.
 */
export function printError(error: unknown, url?: string): void {
  if (error instanceof ResumeFailedError) {
    process.stderr.write(
      `error: ${codeName(error.cause.code)}: ${error.cause.rawMessage} (epoch ${error.epoch}, seqs ${error.firstSeq}..${error.headSeq} available)\n`,
    );
    return;
  }
  const e = ConnectError.from(error);
  if (url !== undefined && connectionRefused(e)) {
    process.stderr.write(
      `error: ${codeName(e.code)}: nothing is listening at ${url} (${e.rawMessage}); start the server (parley serve, or npm start) or point --url or PARLEY_URL at it\n`,
    );
    return;
  }
  process.stderr.write(`error: ${codeName(e.code)}: ${e.rawMessage}\n`);
  const advice = authAdvice(e);
  if (advice !== undefined) process.stderr.write(`${advice}\n`);
}
