import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { connectHttp, INITIALIZE, post, startServer, type TestServer } from "./_http.ts";

const AUDIENCE = "https://mcp.example.test/mcp";

/** A local issuer: a key pair and its JWKS served on loopback. */
async function withIssuer(
  body: (
    issuer: {
      url: string;
      sign: (claims: Record<string, unknown>, options?: SignOptions) => Promise<string>;
    },
  ) => Promise<void>,
): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "ES256", use: "sig" };
  const stranger = await generateKeyPair("ES256");
  const abort = new AbortController();
  const { promise: listening, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: abort.signal,
    onListen: ({ port }) => resolve(port),
  }, () => Response.json({ keys: [jwk] }));
  const url = `http://127.0.0.1:${await listening}`;
  try {
    await body({
      url,
      async sign(claims, options = {}) {
        const jwt = new SignJWT(claims)
          .setProtectedHeader({ alg: "ES256", kid: "test-key" })
          .setIssuer(options.issuer ?? url)
          .setAudience(options.audience ?? AUDIENCE)
          .setIssuedAt()
          .setExpirationTime(options.expiresIn ?? "5m");
        return await jwt.sign(options.foreignKey ? stranger.privateKey : privateKey);
      },
    });
  } finally {
    abort.abort();
    await server.finished;
  }
}

interface SignOptions {
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
  foreignKey?: boolean;
}

async function withOAuthServer(issuer: string, body: (server: TestServer) => Promise<void>) {
  const server = await startServer({
    config: {
      http: {
        publicUrl: AUDIENCE,
        oauth: {
          issuer,
          jwksUrl: `${issuer}/jwks`,
          scopesSupported: ["proxmox:read", "proxmox:ops"],
        },
      },
      profiles: {
        ops: {
          oauth: { scopes: ["proxmox:ops"] },
          policy: { allow: ["read", "change", "destroy"] },
        },
        viewer: { oauth: { scopes: ["proxmox:read"] }, policy: { allow: ["read"] } },
      },
    },
  });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

Deno.test("an OAuth access token from the issuer is accepted and its scope picks the profile", async () => {
  await withIssuer(async (issuer) => {
    await withOAuthServer(issuer.url, async (server) => {
      const viewerToken = await issuer.sign({ sub: "alice", scope: "openid proxmox:read" });
      const viewer = await connectHttp(server.url, { token: viewerToken });
      assert.deepEqual((await viewer.listTools()).map((tool) => tool.name).sort(), [
        "probe_bug",
        "probe_read",
      ]);
      await viewer.close();
      const opsToken = await issuer.sign({ sub: "bob", scp: ["proxmox:ops"] });
      for (const era of ["legacy", "modern"] as const) {
        const ops = await connectHttp(server.url, { era, token: opsToken });
        assert.ok((await ops.listTools()).some((tool) => tool.name === "probe_destroy"));
        assert.equal((await ops.call("probe_change", { vmid: 150 })).isError, undefined);
        await ops.close();
      }
      const lines = await server.auditLines();
      assert.deepEqual(lines.map((line) => line.profile), ["ops", "ops"]);
      assert.ok(!JSON.stringify(lines).includes(opsToken));
    });
  });
});

Deno.test("expired, wrong-audience, wrong-issuer and foreign-key tokens get 401 with the metadata URL", async () => {
  await withIssuer(async (issuer) => {
    await withOAuthServer(issuer.url, async (server) => {
      const cases: Array<[string, string, RegExp]> = [
        [
          "expired",
          await issuer.sign({ scope: "proxmox:ops" }, {
            expiresIn: Math.floor(Date.now() / 1000) - 120,
          }),
          /expired/,
        ],
        [
          "wrong audience",
          await issuer.sign({ scope: "proxmox:ops" }, { audience: "https://other.example/mcp" }),
          /another audience/,
        ],
        [
          "wrong issuer",
          await issuer.sign({ scope: "proxmox:ops" }, { issuer: "https://evil.example" }),
          /another issuer/,
        ],
        [
          "foreign key",
          await issuer.sign({ scope: "proxmox:ops" }, { foreignKey: true }),
          /signature does not verify/,
        ],
        ["not a JWT", "abc.def.ghi", /not a valid JWT/],
      ];
      for (const [what, token, message] of cases) {
        const response = await post(server.url, INITIALIZE, { authorization: `Bearer ${token}` });
        assert.equal(response.status, 401, what);
        const challenge = response.headers.get("www-authenticate") ?? "";
        assert.match(challenge, /^Bearer /, what);
        assert.match(challenge, /error="invalid_token"/, what);
        assert.match(
          challenge,
          /resource_metadata="https:\/\/mcp\.example\.test\/\.well-known\/oauth-protected-resource\/mcp"/,
          what,
        );
        const body = await response.text();
        assert.match(body, message, what);
        assert.ok(!body.includes(token), what);
      }
    });
  });
});

Deno.test("a valid token whose scopes map to no profile gets 403 insufficient_scope", async () => {
  await withIssuer(async (issuer) => {
    await withOAuthServer(issuer.url, async (server) => {
      const token = await issuer.sign({ scope: "email" });
      const response = await post(server.url, INITIALIZE, { authorization: `Bearer ${token}` });
      assert.equal(response.status, 403);
      assert.match(response.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
      await response.body?.cancel();
    });
  });
});

Deno.test("the protected-resource metadata (RFC 9728) names the resource and the issuer", async () => {
  await withIssuer(async (issuer) => {
    await withOAuthServer(issuer.url, async (server) => {
      const unauthenticated = await post(server.url, INITIALIZE);
      assert.equal(unauthenticated.status, 401);
      await unauthenticated.body?.cancel();
      for (
        const path of [
          "/.well-known/oauth-protected-resource",
          "/.well-known/oauth-protected-resource/mcp",
        ]
      ) {
        const response = await fetch(new URL(path, server.url));
        assert.equal(response.status, 200, path);
        assert.deepEqual(await response.json(), {
          resource: AUDIENCE,
          authorization_servers: [issuer.url],
          bearer_methods_supported: ["header"],
          resource_name: "proxmox-mcp",
          scopes_supported: ["proxmox:read", "proxmox:ops"],
        });
      }
    });
  });
});
