#!/usr/bin/env node
// The admin CLI: a thin client of the admin API (/api/admin/v1). Every rule lives in the Worker.
//
//   npm run admin -- site list                      the local sandbox (`npm start`)
//   npm run admin -- --url https://… site list      a deployed Worker (ADMIN_TOKEN from the environment)
//
// The commands are declared once each in scripts/admin-commands.ts; the usage text and the argument parser here
// are derived from that table.

import { parseArgs } from "node:util";
import type { AdminError } from "../src/routes/admin/client.ts";
import { connect, sandboxSecret, Unreachable } from "./admin-api.ts";
import { COMMANDS, CommandError, type CommandSpec, UsageError } from "./admin-commands.ts";

/** The options every command takes. */
const GLOBAL_OPTIONS = {
  url: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const PROGRAM = "npm run admin --";

const GLOBAL_HELP = `Options
  --url <base>  a deployed Worker; the secret comes from ADMIN_TOKEN
                (default: the sandbox at http://localhost:$PORT, PORT defaulting to 8787,
                with the secret \`npm start\` wrote to .wrangler/sandbox-admin-token;
                ADMIN_TOKEN, when set, is used instead)
  --json        print the API's raw answer
  --help        this text`;

/** One command's line in the usage text: `zone add --site <slug> <name>`. */
function synopsis(name: string, spec: CommandSpec<unknown>): string {
  const options = Object.entries(spec.options).map(([option, o]) =>
    o.required ? `--${option} <${o.value}>` : `[--${option} <${o.value}>]`,
  );
  return [
    name,
    ...options.filter((o) => !o.startsWith("[")),
    ...spec.args.map((a) => `<${a}>`),
    ...options.filter((o) => o.startsWith("[")),
  ].join(" ");
}

/** The usage of the commands whose names start with `prefix` ("" for all), grouped as the table groups them. */
function usage(prefix = ""): string {
  const groups = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(COMMANDS)) {
    if (!name.startsWith(prefix)) continue;
    const lines = groups.get(spec.group) ?? [];
    lines.push(`  ${synopsis(name, spec)}`);
    if (spec.help) lines.push(...spec.help.split("\n").map((line) => `      ${line}`));
    groups.set(spec.group, lines);
  }
  if (COMMANDS[prefix]) return `Usage: ${PROGRAM} [--url <base>] [--json] ${[...groups.values()].flat().join("\n").trimStart()}`;
  const commands = [...groups].map(([group, lines]) => `${group}\n${lines.join("\n")}`).join("\n\n");
  return prefix
    ? `${commands}\n\n(${PROGRAM} --help lists every command and the options.)`
    : `Usage: ${PROGRAM} [--url <base>] [--json] <command> …\n\n${commands}\n\n${GLOBAL_HELP}`;
}

/** A usage error with the usage of what the user was typing: the command, the command group, or everything. */
function usageError(message: string, prefix = ""): UsageError {
  return new UsageError(`${message}\n\n${usage(prefix)}`);
}

/** Parses the command line into the command, its named arguments and options, or throws a UsageError. */
function parseCommandLine(argv: string[]) {
  const commandOptions = Object.fromEntries(
    Object.values(COMMANDS).flatMap((spec) => Object.keys(spec.options).map((option) => [option, { type: "string" as const }])),
  );
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof GLOBAL_OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...commandOptions, ...GLOBAL_OPTIONS } });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const { positionals } = parsed;
  const name = positionals.slice(0, 2).join(" ");
  const group = `${positionals[0] ?? ""} `;
  const known = Object.keys(COMMANDS).some((c) => c.startsWith(group));
  if (values.help || name === "help" || positionals.length === 0) {
    if (positionals.length === 0 && !values.help) throw usageError("No command given.");
    return { help: usage(COMMANDS[name] ? name : known ? group : "") };
  }
  const spec = COMMANDS[name];
  if (!spec) {
    if (known && positionals.length === 1) throw usageError(`${positionals[0]} needs a command:`, group);
    throw usageError(`Unknown command: ${name}`, known ? group : "");
  }
  const given = positionals.slice(2);
  if (given.length !== spec.args.length) {
    throw usageError(`${name} takes ${spec.args.map((a) => `<${a}>`).join(" ") || "no arguments"}, got ${given.length}.`, name);
  }
  const stray = Object.keys(values).find((o) => !(o in GLOBAL_OPTIONS) && !(o in spec.options));
  if (stray) throw usageError(`${name} does not take --${stray}.`, name);
  const options: Record<string, string | undefined> = {};
  /** Options taken from the environment: option name → variable name. */
  const sources: Record<string, string> = {};
  for (const [option, o] of Object.entries(spec.options)) {
    const value = values[option] as string | undefined;
    if (o.required && !value) throw usageError(`${name} needs --${option}.`, name);
    options[option] = value;
    if (value === undefined && o.env && process.env[o.env]) {
      options[option] = process.env[o.env];
      sources[option] = o.env;
    }
  }
  const optional = Object.entries(spec.options).filter(([, o]) => !o.required);
  if (spec.needsOneOption && optional.every(([option]) => options[option] === undefined)) {
    const variables = optional.flatMap(([, o]) => (o.env ? [o.env] : []));
    const env = variables.length > 0 ? ` (or ${variables.join(", ")})` : "";
    throw usageError(`${name} needs at least one of ${optional.map(([option]) => `--${option}`).join(", ")}${env}.`, name);
  }
  const args = Object.fromEntries(spec.args.map((arg, i) => [arg, given[i] as string]));
  return { help: null, name, spec, args, options, sources, url: values.url as string | undefined, json: values.json === true };
}

/** How the command line names an API field: the option or argument that fills it, or what the command says. */
function fieldName(spec: CommandSpec<unknown>, field: string): string | undefined {
  const camel = (option: string) => option.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const [option, o] of Object.entries(spec.options)) {
    const filled = o.field ?? camel(option);
    if (field === filled || field.startsWith(`${filled}.`)) return `--${option}`;
  }
  const arg = spec.argFields?.[field] ?? spec.args.find((a) => a === field);
  if (arg) return `<${arg}>`;
  return spec.fieldName?.(field);
}

/**
 * An API error in the command line's terms: the field named as the user typed it (`--start`, not
 * `permits.0.startTime`), once. `error 9033: --start must be a real UTC time …`
 */
function describeFailure(spec: CommandSpec<unknown>, error: AdminError, status: number, base: string): string {
  let message = error.ErrorMessage;
  let where = "";
  if (error.field) {
    const name = fieldName(spec, error.field) ?? error.field;
    if (message.startsWith(error.field) && /^\W/.test(message.slice(error.field.length))) {
      message = `${name}${message.slice(error.field.length)}`;
    } else {
      where = ` (${name})`;
    }
  }
  const request = error.requestId && status >= 500 ? ` [request ${error.requestId}]` : "";
  const missing = status === 404 && error.ErrorMessage.startsWith("No route for ");
  const hint = missing ? ` The Worker at ${base} does not have this endpoint: is it an older version?` : "";
  return `error ${error.ErrorCode}${where}: ${message}${request}${hint}`;
}

/** Where to send requests and with which secret: --url with ADMIN_TOKEN, else the local sandbox and its secret file. */
function resolveTarget(url: string | undefined) {
  if (url) {
    if (!process.env.ADMIN_TOKEN) throw usageError("--url needs the admin secret in the ADMIN_TOKEN environment variable.");
    return { base: url.replace(/\/+$/, ""), secret: process.env.ADMIN_TOKEN, sandbox: false, fromEnv: true };
  }
  const base = `http://localhost:${process.env.PORT || 8787}`;
  const secret = process.env.ADMIN_TOKEN ?? sandboxSecret();
  if (!secret) {
    throw new CommandError(
      "No sandbox admin secret (.wrangler/sandbox-admin-token): start the sandbox with `npm start`, or set ADMIN_TOKEN.",
    );
  }
  return { base, secret, sandbox: true, fromEnv: process.env.ADMIN_TOKEN !== undefined };
}

/** Runs the CLI and returns its exit code. */
async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.help !== null) {
      console.log(parsed.help);
      return 0;
    }
    const target = resolveTarget(parsed.url);
    const api = connect(target.base, target.secret);
    const answer = await parsed.spec.run(api, parsed.args, parsed.options).catch((error: unknown) => {
      if (!(error instanceof Unreachable)) throw error;
      if (error.code === "ECONNREFUSED" && target.sandbox) {
        throw new CommandError(`The sandbox is not running at ${target.base}: start it with \`npm start\` (or check PORT, or use --url).`);
      }
      throw new CommandError(error.code ? `${error.message.replace(/\.$/, "")}: check --url.` : error.message);
    });
    if (!answer.ok) {
      let message = describeFailure(parsed.spec, answer.error, answer.status, target.base);
      if (answer.status === 401 && target.sandbox && target.fromEnv) {
        message += "\nThe ADMIN_TOKEN environment variable was sent instead of the sandbox's secret: unset it to use the sandbox's.";
      }
      throw new CommandError(message);
    }
    if (parsed.json && typeof answer.data !== "string") console.log(JSON.stringify(answer.data, null, 2));
    else parsed.spec.show(answer.data, { options: parsed.options, sources: parsed.sources });
    return parsed.spec.exitCode?.(answer.data) ?? 0;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof CommandError)) throw error;
    console.error(error.message);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
