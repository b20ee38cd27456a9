/**
 * Simulated PVE endpoints: the QEMU guest agent (`/nodes/{node}/qemu/{vmid}/agent/…`), after
 * `qemu-server PVE/API2/Qemu/Agent.pm`. Generic commands answer `{"result": …}`; `exec`
 * answers `{pid}` and `exec-status` reports a few deterministic commands.
 *
 * @module
 */

import { dieError } from "../errors.ts";
import type { Route, RouteContext, Sim } from "../router.ts";
import { route } from "../router.ts";
import type { AgentExec, AgentState, Guest } from "../state.ts";
import { agentBooting, agentEnabled, findGuest, pbool, pnum, pstr, QEMU } from "./guest/mod.ts";

/** `assert_agent_available`: configured, VM running, agent answering. */
function agentOf(ctx: RouteContext): { guest: Guest; agent: AgentState } {
  const guest = findGuest(ctx, QEMU);
  if (!agentEnabled(guest.config)) throw dieError("No QEMU guest agent configured");
  if (guest.status !== "running") throw dieError(`VM ${guest.vmid} is not running`);
  const agent = guest.agent;
  if (
    agent === undefined || !agent.running || guest.qmpstatus !== "running" || agentBooting(guest)
  ) {
    throw dieError("QEMU guest agent is not running");
  }
  return { guest, agent };
}

function qmpFailure(guest: Guest, command: string, detail: string): never {
  throw dieError(`VM ${guest.vmid} qmp command '${command}' failed - ${detail}`);
}

const COMMANDS_GET = [
  "get-fsinfo",
  "get-host-name",
  "get-memory-block-info",
  "get-memory-blocks",
  "get-osinfo",
  "get-time",
  "get-timezone",
  "get-users",
  "get-vcpus",
  "info",
  "network-get-interfaces",
];
const COMMANDS_POST = [
  "fsfreeze-freeze",
  "fsfreeze-status",
  "fsfreeze-thaw",
  "fstrim",
  "ping",
  "shutdown",
  "suspend-disk",
  "suspend-hybrid",
  "suspend-ram",
];

/** Every command the agent answers (`info`'s `supported_commands`, the index). */
const ALL_COMMANDS = [
  ...COMMANDS_GET,
  ...COMMANDS_POST,
  "exec",
  "exec-status",
  "file-read",
  "file-write",
  "set-user-password",
];

/** Frozen filesystems per VM (fsfreeze-*). */
const frozen = new WeakMap<Guest, boolean>();

/** The `result` of a generic agent command. */
function commandResult(sim: Sim, guest: Guest, agent: AgentState, command: string): unknown {
  const now = sim.clock.nowMs();
  switch (command) {
    case "ping":
      return {};
    case "get-osinfo":
      return agent.osinfo;
    case "network-get-interfaces":
      return agent.interfaces;
    case "get-fsinfo":
      return agent.fsinfo;
    case "get-host-name":
      return { "host-name": agent.hostname };
    case "get-time":
      return now * 1_000_000;
    case "get-timezone":
      return { zone: "UTC", offset: 0 };
    case "get-users":
      return [{ user: "root", "login-time": guest.startedAt + 60 }];
    case "get-vcpus": {
      const cpus = Number(guest.config.vcpus ?? 0) ||
        Number(guest.config.sockets ?? 1) * Number(guest.config.cores ?? 1);
      return Array.from({ length: cpus }, (_, i) => ({
        "logical-id": i,
        online: true,
        "can-offline": i > 0,
      }));
    }
    case "get-memory-blocks": {
      const blocks = Math.max(
        1,
        Math.floor(Number(String(guest.config.memory ?? "512").replace(/\D+/g, "")) / 128),
      );
      return Array.from({ length: blocks }, (_, i) => ({
        phys_index: i,
        online: true,
        "can-offline": i > 0,
      }));
    }
    case "get-memory-block-info":
      return { size: 134_217_728 };
    case "info":
      return {
        version: "7.2.11",
        supported_commands: ALL_COMMANDS
          .map((name) => ({
            name: `guest-${name}`,
            enabled: true,
            "success-response": name !== "shutdown",
          })),
      };
    case "fsfreeze-status":
      return frozen.get(guest) === true ? "frozen" : "thawed";
    case "fsfreeze-freeze":
      frozen.set(guest, true);
      return agent.fsinfo.length || 1;
    case "fsfreeze-thaw":
      frozen.set(guest, false);
      return agent.fsinfo.length || 1;
    case "fstrim":
      return {
        paths: agent.fsinfo.map((fs) => ({
          path: String(fs.mountpoint ?? "/"),
          minimum: 0,
          trimmed: 268_435_456,
        })),
      };
    case "shutdown":
      // The guest powers off on its own; the agent does not answer the command.
      guest.status = "stopped";
      guest.qmpstatus = "stopped";
      guest.startedAt = 0;
      guest.pid = 0;
      return {};
    case "suspend-disk":
    case "suspend-hybrid":
    case "suspend-ram":
      guest.qmpstatus = "suspended";
      return {};
    default:
      return qmpFailure(guest, `guest-${command}`, "unknown command");
  }
}

function generic(command: string) {
  return (ctx: RouteContext): unknown => {
    const { guest, agent } = agentOf(ctx);
    return { result: commandResult(ctx.sim, guest, agent, command) };
  };
}

function agentIndex(ctx: RouteContext): unknown {
  findGuest(ctx, QEMU);
  return [...ALL_COMMANDS]
    .sort().map((name) => ({ name }));
}

function postCommand(ctx: RouteContext): unknown {
  const { guest, agent } = agentOf(ctx);
  const command = String(ctx.params.command);
  if (![...COMMANDS_GET, ...COMMANDS_POST].includes(command)) {
    qmpFailure(guest, `guest-${command}`, "unknown command");
  }
  return { result: commandResult(ctx.sim, guest, agent, command) };
}

// ---------------------------------------------------------------------------------------
// exec

/** When a `sleep N` exec finishes, in simulated epoch milliseconds. */
const execDeadlines = new WeakMap<AgentExec, number>();

function ipAddr(agent: AgentState): string {
  const lines: string[] = [];
  agent.interfaces.forEach((iface, i) => {
    const name = String(iface.name ?? `eth${i}`);
    const mac = String(iface["hardware-address"] ?? "00:00:00:00:00:00");
    const lo = name === "lo";
    lines.push(
      `${i + 1}: ${name}: <${lo ? "LOOPBACK" : "BROADCAST,MULTICAST"},UP,LOWER_UP> mtu ${
        lo ? 65536 : 1500
      } qdisc ${lo ? "noqueue" : "fq_codel"} state ${
        lo ? "UNKNOWN" : "UP"
      } group default qlen 1000`,
    );
    lines.push(
      `    link/${lo ? "loopback" : "ether"} ${mac} brd ${
        lo ? "00:00:00:00:00:00" : "ff:ff:ff:ff:ff:ff"
      }`,
    );
    const addrs = Array.isArray(iface["ip-addresses"])
      ? iface["ip-addresses"] as Record<string, unknown>[]
      : [];
    for (const a of addrs) {
      const v6 = a["ip-address-type"] === "ipv6";
      lines.push(
        `    ${v6 ? "inet6" : "inet"} ${a["ip-address"]}/${a.prefix} scope ${
          lo ? "host" : "global"
        } ${v6 ? "" : name}`.trimEnd(),
      );
    }
  });
  return lines.join("\n") + "\n";
}

function dfH(agent: AgentState): string {
  const rows = ["Filesystem      Size  Used Avail Use% Mounted on"];
  const human = (b: number): string => {
    const units = ["", "K", "M", "G", "T"];
    let v = b;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
  };
  for (const fs of agent.fsinfo) {
    const total = Number(fs["total-bytes"] ?? 0);
    const used = Number(fs["used-bytes"] ?? 0);
    const disk = Array.isArray(fs.disk) ? fs.disk as Record<string, unknown>[] : [];
    const dev = String(disk[0]?.dev ?? `/dev/${fs.name ?? "sda1"}`);
    const pct = total > 0 ? Math.round((used / total) * 100) : 0;
    rows.push(
      `${dev.padEnd(15)} ${human(total).padStart(4)} ${human(used).padStart(5)} ${
        human(total - used).padStart(5)
      } ${`${pct}%`.padStart(4)} ${fs.mountpoint ?? "/"}`,
    );
  }
  return rows.join("\n") + "\n";
}

function runCommand(
  sim: Sim,
  guest: Guest,
  agent: AgentState,
  argv: string[],
  input: string,
): Omit<AgentExec, "pid" | "command"> {
  const [cmd = "", ...args] = argv;
  const ok = (out: string) => ({ exited: true, exitcode: 0, out, err: "" });
  const name = cmd.split("/").pop() ?? cmd;
  switch (name) {
    case "hostname":
      return ok(`${agent.hostname}\n`);
    case "uptime": {
      const up = Math.max(0, sim.clock.now() - guest.startedAt);
      const time = new Date(sim.clock.nowMs()).toISOString().slice(11, 19);
      const h = Math.floor(up / 3600);
      const m = Math.floor((up % 3600) / 60);
      const upText = h >= 24
        ? `${Math.floor(h / 24)} days, ${String(h % 24).padStart(2)}:${String(m).padStart(2, "0")}`
        : h > 0
        ? `${String(h).padStart(2)}:${String(m).padStart(2, "0")}`
        : `${m} min`;
      return ok(` ${time} up ${upText},  0 users,  load average: 0.05, 0.10, 0.09\n`);
    }
    case "cat": {
      if (args.length === 0) return ok(input);
      let out = "";
      let err = "";
      for (const file of args) {
        const content = agent.files[file];
        if (content === undefined) err += `cat: ${file}: No such file or directory\n`;
        else out += content;
      }
      return { exited: true, exitcode: err === "" ? 0 : 1, out, err };
    }
    case "df":
      return ok(dfH(agent));
    case "ip":
      if (args[0] === "addr" || args[0] === "a" || args[0] === "address") return ok(ipAddr(agent));
      return {
        exited: true,
        exitcode: 1,
        out: "",
        err: `Object "${args[0] ?? ""}" is unknown, try "ip help".\n`,
      };
    case "echo":
      return ok(`${args.join(" ")}\n`);
    case "true":
      return ok("");
    case "false":
      return { exited: true, exitcode: 1, out: "", err: "" };
    case "whoami":
      return ok("root\n");
    case "uname":
      return ok(
        args.includes("-a")
          ? `Linux ${agent.hostname} ${agent.osinfo["kernel-release"] ?? "6.1.0-25-amd64"} ${
            agent.osinfo["kernel-version"] ?? ""
          } ${agent.osinfo.machine ?? "x86_64"} GNU/Linux\n`
          : "Linux\n",
      );
    case "sleep":
      return { exited: false, exitcode: 0, out: "", err: "" };
    default:
      return {
        exited: true,
        exitcode: 127,
        out: "",
        err: `bash: line 1: ${cmd}: command not found\n`,
      };
  }
}

function execCommand(ctx: RouteContext): unknown {
  const { guest, agent } = agentOf(ctx);
  const raw = ctx.params.command;
  const command = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)];
  if (command.length === 0) throw dieError("No command given");
  const input = pstr(ctx.params, "input-data") ?? "";
  let pid = 1000 + (guest.vmid % 1000);
  for (const e of guest.execs.values()) pid = Math.max(pid, e.pid + 1);
  const result = runCommand(ctx.sim, guest, agent, command, input);
  const exec: AgentExec = { pid, command, ...result };
  if (command[0]?.split("/").pop() === "sleep") {
    const seconds = Number(command[1] ?? "0");
    execDeadlines.set(
      exec,
      ctx.sim.clock.nowMs() + (Number.isFinite(seconds) ? seconds : 0) * 1000,
    );
  }
  guest.execs.set(pid, exec);
  return { pid };
}

function execStatus(ctx: RouteContext): unknown {
  const { guest } = agentOf(ctx);
  const pid = pnum(ctx.params, "pid") ?? -1;
  const exec = guest.execs.get(pid);
  if (exec === undefined) qmpFailure(guest, "guest-exec-status", `Invalid parameter 'pid'`);
  const deadline = execDeadlines.get(exec);
  if (!exec.exited && deadline !== undefined && ctx.sim.clock.nowMs() >= deadline) {
    exec.exited = true;
    exec.exitcode = 0;
  }
  if (!exec.exited) return { exited: 0 };
  const out: Record<string, unknown> = { exited: 1, exitcode: exec.exitcode };
  if (exec.out !== "") out["out-data"] = exec.out;
  if (exec.err !== "") out["err-data"] = exec.err;
  // QGA forgets a finished process once its status has been read.
  guest.execs.delete(pid);
  return out;
}

function fileRead(ctx: RouteContext): unknown {
  const { guest, agent } = agentOf(ctx);
  const file = String(ctx.params.file);
  const content = agent.files[file];
  if (content === undefined) {
    qmpFailure(
      guest,
      "guest-file-open",
      `Failed to open file '${file}': No such file or directory`,
    );
  }
  const offset = pnum(ctx.params, "offset") ?? 0;
  const count = pnum(ctx.params, "count") ?? 16 * 1024 * 1024;
  const bytes = new TextEncoder().encode(content);
  const slice = bytes.slice(offset, offset + count);
  const decode = ctx.params.decode === undefined ? true : pbool(ctx.params, "decode");
  const text = decode ? new TextDecoder().decode(slice) : btoa(String.fromCharCode(...slice));
  const out: Record<string, unknown> = { content: text };
  if (offset + count < bytes.length) out.truncated = 1;
  return out;
}

function fileWrite(ctx: RouteContext): unknown {
  const { agent } = agentOf(ctx);
  const file = String(ctx.params.file);
  const raw = String(ctx.params.content ?? "");
  const encode = ctx.params.encode === undefined ? true : pbool(ctx.params, "encode");
  agent.files[file] = encode
    ? raw
    : new TextDecoder().decode(Uint8Array.from(atob(raw), (c) => c.charCodeAt(0)));
  return null;
}

function setUserPassword(ctx: RouteContext): unknown {
  agentOf(ctx);
  return { result: {} };
}

const base = "/nodes/{node}/qemu/{vmid}/agent";

/** The agent endpoints this simulator implements. */
export const routes: Route[] = [
  route("GET", base, agentIndex),
  route("POST", base, postCommand),
  ...COMMANDS_GET.map((c) => route("GET", `${base}/${c}`, generic(c))),
  ...COMMANDS_POST.map((c) => route("POST", `${base}/${c}`, generic(c))),
  route("POST", `${base}/exec`, execCommand),
  route("GET", `${base}/exec-status`, execStatus),
  route("GET", `${base}/file-read`, fileRead),
  route("POST", `${base}/file-write`, fileWrite),
  route("POST", `${base}/set-user-password`, setUserPassword),
];
