import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

/**
 * What Chromium itself logs (as console errors) while a server is down or
 * has just died: a connection to a port nothing listens on (by fetch or by
 * WebSocket), a request whose connection the killed process left reset or
 * unanswered, and a streamed response cut off mid-body. That is the network,
 * not an error of the page; anything else is.
 */
const SERVER_GONE = [
  /^Failed to load resource: net::ERR_CONNECTION_REFUSED$/,
  /^Failed to load resource: net::ERR_CONNECTION_RESET$/,
  /^Failed to load resource: net::ERR_EMPTY_RESPONSE$/,
  /^Failed to load resource: net::ERR_INCOMPLETE_CHUNKED_ENCODING$/,
  /^WebSocket connection to 'wss?:\/\/[^']+' failed: (Error in connection establishment: )?net::ERR_CONNECTION_REFUSED$/,
];

/** True for a console line Chromium logs when a server is unreachable or died mid-response. */
export function isServerGoneLine(text: string): boolean {
  return SERVER_GONE.some((line) => line.test(text));
}

/** [seq, author, text] of one message row, as the page shows it. */
export type Row = [number, string | undefined, string | null | undefined];

/** A person's page in the web app, watched from its first load. */
export interface ChatPage {
  readonly page: Page;
  /** Console errors (bar isServerGoneLine's) and uncaught exceptions, from the first load. */
  readonly problems: string[];
  /** Main-frame navigations so far (1: the first load only, never a reload). */
  loads(): number;
  /** [seq, author, text] of every message row, top to bottom. */
  rows(): Promise<Row[]>;
  /** Type `text` into the composer and press Enter. */
  send(text: string): Promise<void>;
  /**
   * Whether the document is still the one first loaded (a mark left on its
   * window after sign-in is still there), and every connection state the
   * indicator showed since.
   */
  seen(): Promise<{ sameDocument: boolean; states: string[] }>;
  /**
   * Resolves once no message typed on this page is still pending. A message
   * the page gave up on ("Not sent: …") throws with the page's note.
   */
  untilSent(options?: { timeout?: number }): Promise<void>;
  /** Resolves once the page shows `count` message rows, the last one `lastSeq`. */
  waitForRows(count: number, lastSeq: number, timeout?: number): Promise<void>;
}

/**
 * Open the web app at `url` in a browser context of its own (its own
 * storage: another person), in `room`, signed in as `name`; resolves once the
 * indicator says connected, with a mark left on the window and the indicator
 * watched from then on.
 */
export async function openChatPage(
  browser: Browser,
  url: string,
  room: string,
  name: string,
): Promise<ChatPage> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  const problems: string[] = [];
  let loads = 0;
  page.on("console", (m) => {
    if (m.type() === "error" && !isServerGoneLine(m.text()))
      problems.push(`${name} console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`${name} pageerror: ${e.message}`));
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) loads++;
  });
  await page.goto(`${url}/#${room}`);
  await page.fill("#display-name", name);
  await page.click("text=Start chatting");
  await page.waitForSelector(".status[data-state=connected]");
  await page.evaluate(() => {
    const w = window as unknown as { sameDocument: boolean; states: string[] };
    w.sameDocument = true;
    w.states = [];
    const status = document.querySelector(".status") as HTMLElement;
    new MutationObserver(() => w.states.push(status.dataset.state ?? "")).observe(status, {
      attributes: true,
      attributeFilter: ["data-state"],
    });
  });
  return {
    page,
    problems,
    loads: () => loads,
    rows: () =>
      page.$$eval("[data-seq]", (els) =>
        els.map(
          (el): Row => [
            Number((el as HTMLElement).dataset.seq),
            (el as HTMLElement).dataset.author,
            el.querySelector(".body")?.textContent,
          ],
        ),
      ),
    async send(text) {
      await page.fill(".composer textarea", text);
      await page.press(".composer textarea", "Enter");
    },
    seen: () =>
      page.evaluate(() => {
        const w = window as unknown as { sameDocument?: boolean; states?: string[] };
        return { sameDocument: w.sameDocument === true, states: w.states ?? [] };
      }),
    async untilSent({ timeout = 30_000 } = {}) {
      const answer = await page.waitForFunction(
        () => {
          // A message being sent carries a note: "Sending…", or "Not sent: why." once it failed.
          const notes = [...document.querySelectorAll(".pending-note")];
          const failed = notes.filter((el) => el.textContent?.startsWith("Not sent"));
          return notes.length === 0 || failed.length > 0
            ? failed.map((el) => el.textContent ?? "")
            : false;
        },
        undefined,
        { timeout },
      );
      const failed = (await answer.jsonValue()) as string[];
      if (failed.length > 0) throw new Error(`${name}'s page: ${failed.join("; ")}`);
    },
    async waitForRows(count, lastSeq, timeout = 30_000) {
      await page.waitForFunction(
        ([n, last]) => {
          const rows = document.querySelectorAll("[data-seq]");
          return rows.length >= n && rows[rows.length - 1]?.getAttribute("data-seq") === last;
        },
        [count, String(lastSeq)] as const,
        { timeout },
      );
    },
  };
}

/**
 * The page has healed: it shows exactly `expected` (History's rows), is
 * connected, was never reloaded or signed out, and logged nothing but the
 * network's own lines.
 */
export async function expectHealed(p: ChatPage, expected: Row[]): Promise<void> {
  await p.waitForRows(expected.length, expected.length);
  await p.page.waitForSelector(".status[data-state=connected]");
  expect(await p.rows()).toEqual(expected);
  const seen = await p.seen();
  expect(seen.sameDocument).toBe(true);
  expect(seen.states.at(-1)).toBe("connected");
  expect(p.loads()).toBe(1);
  expect(await p.page.$(".session-ended")).toBeNull();
  expect(p.problems).toEqual([]);
}
