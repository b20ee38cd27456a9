/**
 * The deployment files are built where the internet is; here they are parsed and checked
 * against the code: ports, paths, probes, the non-root read-only runtime, the configuration in
 * the Kubernetes Secret, the registry's server.json, and the release workflow running the same
 * compile tasks the README documents plus the smoke test.
 */

import assert from "node:assert/strict";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { configSchema } from "../../src/config/mod.ts";
import { parseListen } from "../../src/server/http/listen.ts";
import { MCP_PATH } from "../../src/server/http/mod.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));
const COMPILE_TARGETS = ["linux-x64", "linux-arm64", "macos-x64", "macos-arm64", "windows-x64"];
const PORT = 8080;
const IMAGE = `ghcr.io/proxmox-mcp/proxmox-mcp:${VERSION}`;

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

async function manifests(): Promise<Json[]> {
  const docs: Json[] = [];
  for (const file of ["secret.yaml", "deployment.yaml", "service.yaml", "networkpolicy.yaml"]) {
    for (const doc of parseAllDocuments(await read(`deploy/kubernetes/${file}`))) {
      assert.deepEqual(doc.errors, [], file);
      docs.push(doc.toJS() as Json);
    }
  }
  return docs;
}

function byKind(docs: Json[], kind: string): Json {
  const found = docs.find((doc) => doc.kind === kind);
  assert.ok(found, `no ${kind}`);
  return found;
}

Deno.test("the Dockerfile builds with deno compile in a builder and runs non-root with a /healthz health check", async () => {
  const text = await read("Dockerfile");
  const stages = [...text.matchAll(/^FROM (\S+)(?: AS (\w+))?/gm)];
  assert.equal(stages.length, 2, "a builder stage and a runtime stage");
  assert.match(stages[0]![1]!, /^denoland\/deno:/);
  assert.match(stages[1]![1]!, /^gcr\.io\/distroless\/cc-debian12:nonroot$/);
  const tasks = JSON.parse(await read("deno.json")).tasks as Record<string, unknown>;
  for (const [, target] of text.matchAll(/\) target=([\w-]+) ;;/g)) {
    assert.ok(tasks[`compile:${target}`] !== undefined, target);
  }
  assert.match(text, /deno task compile:\$\{target\}/);
  assert.match(text, /^COPY scripts \.\/scripts$/m, "the compile tasks run scripts/compile.ts");
  assert.match(text, /^USER 65532:65532$/m);
  assert.match(text, new RegExp(`^EXPOSE ${PORT}$`, "m"));
  assert.match(
    text,
    /HEALTHCHECK .*\n\s+CMD \["\/usr\/local\/bin\/proxmox-mcp", "healthcheck", "http:\/\/127\.0\.0\.1:8080\/healthz"\]/,
  );
  assert.match(text, /^CMD \["serve", "--http", "0\.0\.0\.0:8080"\]$/m);
  const dockerignore = await read(".dockerignore");
  assert.match(dockerignore, /^tests$/m);
});

Deno.test("compose.yaml runs the image read-only, non-root, with the health check and the port", async () => {
  const compose = parseYaml(await read("compose.yaml")) as Json;
  const service = compose.services["proxmox-mcp"];
  assert.equal(service.image, IMAGE);
  assert.deepEqual(service.command, ["serve", "--http", `0.0.0.0:${PORT}`]);
  assert.deepEqual(service.ports, [`127.0.0.1:${PORT}:${PORT}`]);
  assert.equal(service.read_only, true);
  assert.equal(service.user, "65532:65532");
  assert.deepEqual(service.cap_drop, ["ALL"]);
  assert.deepEqual(service.healthcheck.test, [
    "CMD",
    "/usr/local/bin/proxmox-mcp",
    "healthcheck",
    `http://127.0.0.1:${PORT}/healthz`,
  ]);
  assert.equal(service.environment.PROXMOX_MCP_CONFIG, "/etc/proxmox-mcp/config.json");
  assert.match(service.environment.PROXMOX_MCP_PUBLIC_URL, new RegExp(`${MCP_PATH}$`));
});

Deno.test("the Kubernetes manifests name the right port, probes, limits, secret and egress", async () => {
  const docs = await manifests();
  const deployment = byKind(docs, "Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  assert.equal(container.image, IMAGE);
  assert.deepEqual(container.args, ["serve", "--http", `0.0.0.0:${PORT}`]);
  assert.deepEqual(container.ports, [{ name: "http", containerPort: PORT, protocol: "TCP" }]);
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  assert.equal(container.readinessProbe.httpGet.path, "/readyz");
  assert.equal(container.livenessProbe.httpGet.port, "http");
  assert.ok(container.resources.limits.cpu && container.resources.limits.memory);
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const env = Object.fromEntries(container.env.map((item: Json) => [item.name, item.value]));
  assert.equal(env.PROXMOX_MCP_REPLICA_URL, `http://$(POD_IP):${PORT}`);
  const mounts = Object.fromEntries(
    container.volumeMounts.map((item: Json) => [item.name, item.mountPath]),
  );
  assert.equal(mounts.config, "/etc/proxmox-mcp");
  assert.equal(mounts.audit, "/var/log/proxmox-mcp");
  const secretVolume = pod.volumes.find((volume: Json) => volume.name === "config");
  const secret = byKind(docs, "Secret");
  assert.equal(secretVolume.secret.secretName, secret.metadata.name);

  const service = byKind(docs, "Service");
  assert.deepEqual(service.spec.ports.map((port: Json) => port.targetPort), ["http"]);
  assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);

  const policy = byKind(docs, "NetworkPolicy");
  assert.deepEqual(policy.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels);
  assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
  assert.deepEqual(policy.spec.egress, [{ ports: [{ port: 8006, protocol: "TCP" }] }]);
  assert.deepEqual(policy.spec.ingress, [{ ports: [{ port: PORT, protocol: "TCP" }] }]);

  const kustomization = parseYaml(await read("deploy/kubernetes/kustomization.yaml")) as Json;
  assert.deepEqual(kustomization.resources.sort(), [
    "deployment.yaml",
    "networkpolicy.yaml",
    "secret.yaml",
    "service.yaml",
  ]);
});

Deno.test("the Secret's config.json is a valid configuration whose files are the Secret's keys", async () => {
  const secret = byKind(await manifests(), "Secret");
  const config = configSchema.parse(JSON.parse(secret.stringData["config.json"]));
  assert.equal(parseListen(config.http.listen!).port, PORT);
  assert.equal(new URL(config.http.publicUrl!).pathname, MCP_PATH);
  const files = [
    ...Object.values(config.clusters).flatMap((
      cluster,
    ) => [cluster.tokenSecretFile, cluster.caFile]),
    ...Object.values(config.profiles).flatMap((profile) => profile.tokenFiles),
  ].filter((path): path is string => path !== undefined);
  assert.ok(files.length >= 3);
  for (const path of files) {
    assert.ok(path.startsWith("/etc/proxmox-mcp/"), path);
    assert.ok(secret.stringData[path.slice("/etc/proxmox-mcp/".length)] !== undefined, path);
  }
  assert.ok(Object.keys(config.profiles).length >= 1, "a non-loopback bind needs a profile");
});

Deno.test("server.json lists the stdio package and the remote endpoint at the server's version", async () => {
  const server = JSON.parse(await read("server.json")) as Json;
  assert.match(server.$schema, /server\.schema\.json$/);
  assert.equal(server.version, VERSION);
  assert.match(server.name, /^io\.github\.[\w-]+\/proxmox-mcp$/);
  const [pkg] = server.packages;
  assert.equal(pkg.registryType, "oci");
  assert.equal(pkg.identifier, IMAGE);
  assert.equal(pkg.transport.type, "stdio");
  assert.deepEqual(pkg.packageArguments, [{ type: "positional", value: "serve" }]);
  const token = pkg.environmentVariables.find((item: Json) => item.name === "PROXMOX_TOKEN");
  assert.equal(token.isSecret, true);
  const [remote] = server.remotes;
  assert.equal(remote.type, "streamable-http");
  assert.ok(remote.url.endsWith(MCP_PATH));
  for (const name of remote.url.matchAll(/\{(\w+)\}/g)) assert.ok(remote.variables[name[1]!]);
  assert.deepEqual(remote.headers.map((header: Json) => [header.name, header.isSecret]), [[
    "Authorization",
    true,
  ]]);
});

Deno.test("the release workflow compiles the five targets with the README's tasks, smoke-tests the binary and builds the image", async () => {
  const workflow = parseYaml(await read(".github/workflows/release.yml")) as Json;
  const readme = await read("README.md");
  const tasks = JSON.parse(await read("deno.json")).tasks as Record<string, unknown>;
  const steps = workflow.jobs.binaries.steps as Json[];
  const runs = steps.map((step) => String(step.run ?? "")).join("\n");
  for (const target of COMPILE_TARGETS) {
    assert.ok(runs.includes(`deno task compile:${target}`), target);
    assert.ok(tasks[`compile:${target}`] !== undefined, target);
    assert.ok(readme.includes(`compile:${target}`), `README documents compile:${target}`);
  }
  assert.match(runs, /deno task smoke dist\/proxmox-mcp-linux-x64/);
  assert.ok(tasks.smoke !== undefined, "the smoke task exists");
  assert.match(runs, /deno task check/);
  const setup = steps.find((step) => String(step.uses ?? "").startsWith("denoland/setup-deno"));
  assert.equal(setup?.with["deno-version"], "${{ env.DENO_VERSION }}");
  const ci = await read(".ci/run");
  assert.equal(workflow.env.DENO_VERSION, /DENO_VERSION=([\d.]+)/.exec(ci)?.[1]);
  const image = workflow.jobs.image.steps as Json[];
  const build = image.find((step) =>
    String(step.uses ?? "").startsWith("docker/build-push-action")
  );
  assert.equal(build?.with.platforms, "linux/amd64,linux/arm64");
  assert.equal(workflow.jobs.image.needs, "binaries");
});

Deno.test("healthcheck exits 0 for a healthy server and 1 otherwise", async () => {
  const { runHealthcheckCli } = await import("../../src/cli/healthcheck.ts");
  const errors: string[] = [];
  const out = { line: () => {}, error: (text: string) => errors.push(text) };
  const abort = new AbortController();
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: ({ port }) => resolve(port) },
    (request) =>
      new Response("{}", { status: new URL(request.url).pathname === "/healthz" ? 200 : 503 }),
  );
  const port = await promise;
  try {
    assert.equal(await runHealthcheckCli([`http://127.0.0.1:${port}/healthz`], out), 0);
    assert.equal(await runHealthcheckCli([`http://127.0.0.1:${port}/readyz`], out), 1);
    assert.match(errors[0] ?? "", /answered 503/);
  } finally {
    abort.abort();
    await server.finished;
  }
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  assert.equal(await runHealthcheckCli([`http://127.0.0.1:${closedPort}/healthz`], out), 1);
});
