import { z } from "zod";
import { AppError, ErrorCode, isTooLongIssue } from "../errors";
import { parseAmount } from "./money";
import { isValidNormalizedPlate, normalizePlate, PLATE_MAX, PLATE_RULE } from "./plate";
import { ZONE_NAME_MAX } from "./site";
import { parseWireTime } from "./time";

/**
 * The OC-TOMA request attributes: one row each, with every "Possible Name"
 * from seeds 001 and 004, the limit, and the OPS-COM codes for a missing or
 * invalid value. Parsing, validation, the OpenAPI document and the error
 * catalogue all read this table.
 */
export interface AttributeRule {
  /** The accepted JSON keys, canonical name first. */
  names: readonly string[];
  description: string;
  /** Maximum length in characters, when the seed gives one. */
  max?: number;
  /** Code when a required attribute is absent. */
  missing: ErrorCode;
  /** Code when the value breaks its rule. */
  invalid: ErrorCode;
  /** The value schema for one alias; its issues become `invalid`, or `TooLong` past `max`. */
  schema: z.ZodType;
  example?: string;
}

const API_TOKEN = /^[A-Za-z0-9-]+$/;
export const TOKEN_MAX = 50;

/** Whether a string can be an API token at all (OPS-COM: at most 50 letters, digits and dashes), before any lookup. */
export function isWellFormedToken(token: string): boolean {
  return token.length <= TOKEN_MAX && API_TOKEN.test(token);
}
export const REFERENCE_MAX = 50;

/** A string of at most `max` characters (code points, as a person counts them). */
function text(max: number) {
  return z.string().refine((s) => [...s].length <= max, { params: { tooLong: true }, message: `must be at most ${max} characters` });
}

const wireTime = z.string().refine((s) => parseWireTime(s) !== undefined, {
  message: "must be a real UTC time formatted Y-m-d\\TH:i:s (a trailing Z is allowed), e.g. 2018-07-02T09:00:00",
});

export const attributes = {
  apiToken: {
    names: ["apiToken"],
    description: "Your API token: at most 50 letters, digits and dashes.",
    max: TOKEN_MAX,
    missing: ErrorCode.TokenMissing,
    invalid: ErrorCode.NoPermission,
    schema: text(TOKEN_MAX).refine((s) => API_TOKEN.test(s), { message: "must be letters, digits and dashes" }),
    example: "YOUR-API-TOKEN",
  },
  plate: {
    names: ["plate", "LicencePlate", "LicensePlate"],
    description: `The licence plate, at most ${PLATE_MAX} characters; matched without case, spaces, dashes or dots.`,
    max: PLATE_MAX,
    missing: ErrorCode.PlateRequired,
    invalid: ErrorCode.Invalid,
    schema: text(PLATE_MAX).refine((s) => isValidNormalizedPlate(normalizePlate(s)), {
      message: PLATE_RULE,
    }),
    example: "PL8RDR",
  },
  amount: {
    names: ["Amount", "amount"],
    description: "Amount paid: a string with exactly two decimals (or a JSON number with at most two), 0.01 to 999999.99.",
    max: 9,
    missing: ErrorCode.Required,
    invalid: ErrorCode.Invalid,
    schema: z.union([z.string(), z.number()]).superRefine((v, ctx) => {
      if (typeof v === "string" && v.length > 9) {
        ctx.addIssue({ code: "custom", message: "must be at most 9 characters", params: { tooLong: true } });
        return;
      }
      const parsed = parseAmount(v);
      if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
    }),
    example: "14.50",
  },
  currency: {
    names: ["CurrencyID", "currency"],
    description: "Currency, one the site accepts (by default CAD or USD); the site's first currency when absent.",
    max: 10,
    missing: ErrorCode.Required,
    invalid: ErrorCode.Invalid,
    schema: text(10),
    example: "CAD",
  },
  startTime: {
    names: ["startTime", "StartDateUtc"],
    description: "Start, UTC, `Y-m-d\\TH:i:s` (a trailing Z is allowed).",
    max: 20,
    missing: ErrorCode.Required,
    invalid: ErrorCode.StartInvalid,
    schema: wireTime,
    example: "2018-07-02T09:00:00",
  },
  endTime: {
    names: ["endTime", "EndDateUtc"],
    description: "End, UTC, `Y-m-d\\TH:i:s` (a trailing Z is allowed); after the start.",
    max: 20,
    missing: ErrorCode.EndRequired,
    invalid: ErrorCode.EndInvalid,
    schema: wireTime,
    example: "2018-07-02T09:30:00",
  },
  permitNo: {
    names: ["permitNo"],
    description: "Permit identifier or receipt ID, at most 50 characters.",
    max: 50,
    missing: ErrorCode.Required,
    invalid: ErrorCode.Invalid,
    schema: text(50),
    example: "L4-1138",
  },
  ticketNumber: {
    names: ["TicketNumber"],
    description: "Ticket identifier or receipt ID, at most 50 characters.",
    max: 50,
    missing: ErrorCode.Required,
    invalid: ErrorCode.Invalid,
    schema: text(50),
  },
  zone: {
    names: ["zone", "ParkingZoneName"],
    description:
      "Lot zone name, at most 200 characters, matched exactly (surrounding spaces ignored). An unknown name still stores the record, flagged disconnected.",
    max: ZONE_NAME_MAX,
    missing: ErrorCode.Required,
    invalid: ErrorCode.Invalid,
    schema: text(ZONE_NAME_MAX),
    example: "Lot 4",
  },
  promoCode: {
    names: ["promoCode"],
    description: "Promotion or validation code, at most 50 characters.",
    max: 50,
    missing: ErrorCode.Required,
    invalid: ErrorCode.Invalid,
    schema: text(50),
    example: "DISCOUNT20",
  },
  referenceId: {
    names: ["referenceID", "referenceid", "reference_id"],
    description: "The reference_id a push answered with.",
    max: REFERENCE_MAX,
    missing: ErrorCode.ReferenceRequired,
    invalid: ErrorCode.Invalid,
    schema: text(REFERENCE_MAX).refine((s) => API_TOKEN.test(s), { message: "must be letters, digits and dashes" }),
    example: "1a9b5375-cb75-4c71-9939-eeae550b09ac",
  },
  zones: {
    names: ["zones"],
    description: "Comma-separated lot zone names; spaces around each name are ignored.",
    missing: ErrorCode.Required,
    invalid: ErrorCode.Invalid,
    schema: z.string(),
    example: "Lot 01,Lot 02",
  },
} satisfies Record<string, AttributeRule>;

export type AttributeName = keyof typeof attributes;

/** Which attributes one endpoint reads, and which of them it requires. */
export type EndpointAttributes = Partial<Record<AttributeName, "required" | "optional">>;

/** Resolved values: each attribute under its canonical name, as the client sent it. */
export type Values<E extends EndpointAttributes> = {
  [K in keyof E & AttributeName]: E[K] extends "required"
    ? z.output<(typeof attributes)[K]["schema"]>
    : z.output<(typeof attributes)[K]["schema"]> | undefined;
};

/** JSON `null` and blank strings count as absent: pay stations send `""` for fields they do not use. */
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

/**
 * Resolves aliases and validates one OC-TOMA body. Throws the {@link AppError}
 * of the first rule broken, naming the key the client used.
 */
export function parseAttributes<E extends EndpointAttributes>(endpoint: E, body: Record<string, unknown>): Resolved<E> {
  const out: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const [attr, presence] of Object.entries(endpoint) as [AttributeName, string][]) {
    const rule: AttributeRule = attributes[attr];
    let chosen: { name: string; value: unknown } | undefined;
    for (const name of rule.names) {
      const value = body[name];
      if (isAbsent(value)) continue;
      const result = rule.schema.safeParse(value);
      if (!result.success) {
        const issue = result.error.issues[0];
        const tooLong = isTooLongIssue(issue);
        const rulePart =
          issue?.code === "invalid_type" || issue?.code === "invalid_union"
            ? `must be a ${typeName(rule)}`
            : (issue?.message ?? "is invalid");
        throw new AppError(tooLong ? ErrorCode.TooLong : rule.invalid, `${name} ${rulePart}.`, { field: name });
      }
      if (chosen && !sameValue(chosen.value, value)) {
        throw new AppError(ErrorCode.Invalid, `${chosen.name} and ${name} name the same attribute but disagree.`, { field: name });
      }
      chosen ??= { name, value: result.data };
    }
    if (!chosen && presence === "required") {
      const others = rule.names.length > 1 ? ` (also accepted as ${rule.names.slice(1).join(", ")})` : "";
      throw new AppError(rule.missing, `${rule.names[0]} is required${others}.`, { field: rule.names[0] });
    }
    out[attr] = chosen?.value;
    names[attr] = chosen?.name ?? rule.names[0] ?? attr;
  }
  return { values: out as Values<E>, names: names as Record<keyof E & AttributeName, string> };
}

/** What {@link parseAttributes} returns: the values, and the key each came under (for errors found later). */
export interface Resolved<E extends EndpointAttributes> {
  values: Values<E>;
  names: Record<keyof E & AttributeName, string>;
}

function typeName(rule: AttributeRule): string {
  return rule.names[0] === "Amount" ? "string like 14.50 or a number" : "string";
}

/** Two aliases agree when they carry the same value; "14.5" and 14.50 are the same amount. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a === "string" || typeof a === "number") && (typeof b === "string" || typeof b === "number")) {
    const pa = parseAmount(a);
    const pb = parseAmount(b);
    return "cents" in pa && "cents" in pb && pa.cents === pb.cents;
  }
  return false;
}
