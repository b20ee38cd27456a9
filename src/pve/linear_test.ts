import { assertLinear, repeated } from "../../tests/_linear.ts";
import { encodeParams } from "./encode.ts";
import { errorFromResponse, guestLockOf, readablePath, redactSecrets } from "./errors.ts";
import { checkPvePath } from "./path.ts";
import { transportError } from "./transport.ts";

const SHAPES = [
  repeated("a", "!"),
  repeated("a/", "?"),
  repeated("%41", "%"),
  repeated("%2", "x"),
  repeated("/", "x"),
  repeated(" ", "x"),
  repeated("'", "x"),
  repeated("hostname lookup '", "x"),
  repeated("VM is locked (", "x"),
  repeated("Permission check failed (", "x"),
  repeated("does not exis", "x"),
  repeated("UPID:pve1:", "x"),
];

Deno.test("the client's path checks take linear time on 1 MB paths", () => {
  assertLinear("checkPvePath", (text) => {
    try {
      checkPvePath(`/nodes/${text}`);
    } catch { /* refused is fine: the time is what counts */ }
  }, SHAPES);
  assertLinear("readablePath", (text) => readablePath(`/nodes/${text}`), SHAPES);
});

Deno.test("building an error from a 1 MB PVE answer takes linear time", () => {
  for (const status of [400, 403, 500, 596]) {
    assertLinear(`errorFromResponse ${status}`, (text) =>
      errorFromResponse({
        status,
        method: "POST",
        path: "/nodes/pve1/qemu/100/status/start",
        body: { message: text, errors: { vmid: text } },
        auth: "token",
        reason: text,
      }), SHAPES);
  }
  assertLinear("guestLockOf", guestLockOf, SHAPES);
  assertLinear("redactSecrets", (text) => redactSecrets(text, ["secret1", "aaaa"]), SHAPES);
  assertLinear(
    "transportError",
    (text) =>
      transportError(new TypeError(text), {
        method: "POST",
        path: "/nodes",
        origin: "https://pve1:8006",
        insecure: false,
        caCert: false,
      }),
    SHAPES,
  );
});

Deno.test("encoding 1 MB of parameters takes linear time", () => {
  assertLinear(
    "encodeParams",
    (text) =>
      encodeParams({ description: text, tags: [text, text], delete: text }, {
        method: "POST",
        path: "/nodes/pve1/qemu/100/config",
      }).toString(),
    SHAPES,
  );
});
