import { describe, expect, it } from "vitest";
import { formatCents, parseAmount } from "../src/domain/money";
import { isValidNormalizedPlate, normalizePlate } from "../src/domain/plate";
import { formatWireTime, parseWireTime } from "../src/domain/time";

describe("wire times", () => {
  it("parses Y-m-d\\TH:i:s as UTC, with or without Z", () => {
    expect(parseWireTime("2000-05-30T14:38:22")).toBe(Date.UTC(2000, 4, 30, 14, 38, 22) / 1000);
    expect(parseWireTime("2000-05-30T14:38:22Z")).toBe(Date.UTC(2000, 4, 30, 14, 38, 22) / 1000);
  });

  it("refuses days that do not exist and other formats", () => {
    for (const bad of [
      "2026-02-29T00:00:00",
      "2026-02-30T10:00:00",
      "2026-04-31T00:00:00",
      "2026-01-01T24:00:00",
      "2026-01-01T00:00:60",
      "2026-1-01T00:00:00",
      " 2026-01-01T00:00:00",
      "2026-01-01T00:00:00z",
      "2026-00-10T00:00:00",
      "2026-13-10T00:00:00",
      "2026-01-01T00:60:00",
      "0000-01-01T00:00:00",
      "0099-12-31T23:59:59",
    ]) {
      expect(parseWireTime(bad), bad).toBeUndefined();
    }
    expect(parseWireTime("2024-02-29T00:00:00")).toBeDefined();
  });

  it("formats back the way it parses", () => {
    expect(formatWireTime(parseWireTime("2018-07-02T09:30:00") as number)).toBe("2018-07-02T09:30:00");
  });

  it("formats as the runtime's toISOString does, from 1900 to 2200 and at the edges of the four-digit years", () => {
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 19);
    for (let seconds = -2_208_988_800; seconds < 7_258_118_400; seconds += 86_399 * 7 + 3_613) {
      expect(formatWireTime(seconds), String(seconds)).toBe(iso(seconds));
    }
    for (const seconds of [0, -1, 59, 86_399, 86_400, 951_782_400, 4_107_542_400, -62_167_219_200, 253_402_300_799, 253_402_300_800, 1.5]) {
      expect(formatWireTime(seconds), String(seconds)).toBe(iso(Math.floor(seconds)));
    }
    expect(() => formatWireTime(Number.NaN)).toThrow(RangeError);
  });

  it("agrees with the runtime's calendar on every day from 1900 to 2199, and on times around each month's end", () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, "0");
    for (let year = 1900; year < 2200; year++) {
      for (let month = 1; month <= 12; month++) {
        for (const day of [0, 1, 15, 28, 29, 30, 31, 32]) {
          const time = `${year}-${pad(month)}-${pad(day)}T${pad((year + day) % 25)}:${pad((month * 7) % 61)}:${pad(day * 2)}`;
          const ms = Date.UTC(year, month - 1, day, (year + day) % 25, (month * 7) % 61, day * 2);
          // A real time is one the runtime does not roll over into another.
          const real = new Date(ms).toISOString().slice(0, 19) === time;
          expect(parseWireTime(time), time).toBe(real ? ms / 1000 : undefined);
        }
      }
    }
  });
});

describe("money", () => {
  it("reads two-decimal strings and numbers with at most two decimals into cents", () => {
    expect(parseAmount("14.50")).toEqual({ cents: 1450 });
    expect(parseAmount("0.01")).toEqual({ cents: 1 });
    expect(parseAmount("999999.99")).toEqual({ cents: 99_999_999 });
    expect(parseAmount(14.5)).toEqual({ cents: 1450 });
    expect(parseAmount(0.29)).toEqual({ cents: 29 }); // 0.29 * 100 is 28.999999999999996 in floating point
    expect(parseAmount(1.005)).toHaveProperty("error");
  });

  it("formats cents with two decimals", () => {
    expect(formatCents(1450)).toBe("14.50");
    expect(formatCents(1)).toBe("0.01");
  });
});

describe("plates", () => {
  it("normalizes case, spaces, dashes and dots", () => {
    expect(normalizePlate("ab-c 1.23")).toBe("ABC123");
    expect(normalizePlate("\tpl8 rdr\n")).toBe("PL8RDR");
  });

  it("accepts letters of any script and digits only", () => {
    expect(isValidNormalizedPlate("ÉTÉ123")).toBe(true);
    expect(isValidNormalizedPlate("")).toBe(false);
    expect(isValidNormalizedPlate("AB*1")).toBe(false);
  });
});
