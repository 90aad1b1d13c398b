import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { encodeRetryInfo, retryDelayMs } from "../../src/wire/retry-info.js";

// retryDelayMs reads what encodeRetryInfo writes (the server's RESOURCE_EXHAUSTED
// detail), and gives undefined, never a guess, for anything else.

const refusal = (...details: { type: string; value: Uint8Array }[]) => {
  const e = new ConnectError("slow down", Code.ResourceExhausted);
  e.details.push(...details);
  return e;
};

describe("retryDelayMs", () => {
  it.each([0, 1, 81, 999, 1000, 2500, 61_000])("reads back %d ms", (ms) => {
    expect(
      retryDelayMs(refusal({ type: "google.rpc.RetryInfo", value: encodeRetryInfo(ms) })),
    ).toBe(ms);
  });

  it("reads the RetryInfo among other details", () => {
    const other = { type: "google.rpc.ErrorInfo", value: new Uint8Array([10, 1, 65]) };
    const info = { type: "google.rpc.RetryInfo", value: encodeRetryInfo(1234) };
    expect(retryDelayMs(refusal(other, info))).toBe(1234);
  });

  it("gives undefined without a RetryInfo, or for one that does not parse", () => {
    expect(retryDelayMs(refusal())).toBeUndefined();
    expect(
      retryDelayMs(refusal({ type: "google.rpc.ErrorInfo", value: encodeRetryInfo(5) })),
    ).toBeUndefined();
    expect(
      retryDelayMs(refusal({ type: "google.rpc.RetryInfo", value: new Uint8Array([10, 5, 8]) })),
    ).toBeUndefined();
    expect(retryDelayMs(refusal({ type: "google.rpc.RetryInfo", value: new Uint8Array() }))).toBe(
      undefined,
    );
  });
});
