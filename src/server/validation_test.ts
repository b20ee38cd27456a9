import assert from "node:assert/strict";
import { z } from "zod";
import { unknownArgumentsMessage, validationMessage } from "./validation.ts";

const schema = z.object({
  upid: z.string().min(1).max(256).describe("Task id (UPID) from task_list"),
  vmid: z.number().int().min(100).max(999_999_999).optional(),
  mode: z.enum(["snapshot", "stop"]).optional(),
  tags: z.array(z.string().max(8)).max(2).optional(),
  disk: z.object({ size_gib: z.number().max(100) }).optional(),
  note: z.string().max(10).optional(),
});
const view = {
  properties: {
    upid: { description: "Task id (UPID) from task_list", type: "string" },
    vmid: { type: "integer" },
  },
};

function message(input: unknown): string {
  const result = schema.safeParse(input, { reportInput: true });
  assert.equal(result.success, false);
  return validationMessage("probe", (result as { error: z.ZodError }).error, view);
}

Deno.test("a missing argument is named with its description, as one clause", () => {
  assert.equal(
    message({}),
    "Invalid arguments for probe: missing required argument `upid` (Task id (UPID) from task_list). " +
      "Fix them and call again.",
  );
});

Deno.test("wrong types, bounds, enums and nested paths each get one clause that says what fits", () => {
  const text = message({
    upid: "x".repeat(300),
    vmid: "101",
    mode: "suspend",
    tags: ["a", "b", "c"],
    disk: { size_gib: 1000 },
  });
  assert.match(text, /`upid` is longer than 256 characters/);
  assert.match(text, /`vmid` must be an integer, not the text "101"/);
  assert.match(text, /`mode` must be one of "snapshot", "stop", not the text "suspend"/);
  assert.match(text, /`tags` has more than 2 items/);
  assert.match(text, /`disk\.size_gib` must be at most 100, not the number 1000/);
  assert.doesNotMatch(text, /\n|expected|received|Invalid input/);
});

Deno.test("a huge value is never echoed whole, and at most five clauses are listed", () => {
  const huge = "y".repeat(1_000_000);
  const text = message({
    upid: 5,
    vmid: huge,
    mode: huge,
    tags: [huge],
    disk: huge,
    note: huge,
  });
  assert.ok(text.length < 800, `${text.length} characters`);
  assert.match(text, /\(and \d+ more\)\. Fix them and call again\.$/);
});

Deno.test("unknown arguments are refused with the arguments the tool takes", () => {
  assert.equal(
    unknownArgumentsMessage("probe", { upid: "x", vm_id: 1, unset: undefined }, ["upid", "vmid"]),
    'Invalid arguments for probe: unknown argument "vm_id"; it takes upid, vmid. Nothing was ' +
      "sent: remove or rename it and call again.",
  );
  assert.equal(unknownArgumentsMessage("probe", { upid: "x" }, ["upid"]), undefined);
});
