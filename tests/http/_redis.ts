/**
 * Debian's `redis-server` on a free loopback port, for the multi-replica tests. When it is not
 * installed the test skips with the reason printed, except under CI (`CI=true`), where a missing
 * component fails the test (`.ci/run` installs it).
 *
 * @module
 */

/** A running Redis. */
export interface RedisHandle {
  url: string;
  close(): Promise<void>;
}

/** Where `redis-server` is, or `undefined`. */
export function findRedisServer(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/bin", "/usr/sbin"])) {
    const path = `${dir}/redis-server`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Whether the Redis tests can run; prints why not (and throws under CI, where `.ci/run` must have
 * installed it).
 */
export function redisAvailable(): boolean {
  if (findRedisServer() !== undefined) return true;
  const reason = "redis-server is not installed (apt-get install -y redis-server)";
  if (Deno.env.get("CI") === "true") throw new Error(`Cannot run the Redis test: ${reason}`);
  Deno.stderr.writeSync(new TextEncoder().encode(`SKIPPED multi-replica Redis test: ${reason}\n`));
  return false;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts `redis-server` on 127.0.0.1 (no persistence) and waits until it answers. */
export async function startRedis(): Promise<RedisHandle> {
  const binary = findRedisServer();
  if (binary === undefined) throw new Error("redis-server is not installed");
  const port = freePort();
  const child = new Deno.Command(binary, {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const reader = (async () => {
    for await (const chunk of child.stdout) output += decoder.decode(chunk, { stream: true });
  })();
  const errors = (async () => {
    for await (const chunk of child.stderr) output += decoder.decode(chunk, { stream: true });
  })();
  for (let i = 0; i < 200 && !output.includes("Ready to accept connections"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!output.includes("Ready to accept connections")) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`redis-server did not start:\n${output}`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async close() {
      child.kill("SIGTERM");
      await child.status;
      await reader;
      await errors;
    },
  };
}
