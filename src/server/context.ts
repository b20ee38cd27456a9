/**
 * The `ToolContext` a handler receives for one call: the selected cluster's client, the
 * request's cancellation signal, progress notifications, scope checks and bounded task waits.
 *
 * @module
 */

import type { PveClient, TaskOutcome, TaskProgress } from "../pve/mod.ts";
import { assertInScope, inScope, type Scope } from "../policy/scope.ts";
import type { StepAudit, ToolContext } from "../tools/types.ts";
import type { ProgressReporter } from "./progress.ts";

/** How long tool calls wait for Proxmox VE tasks. */
export interface WaitRules {
  /** Wait this long when the tool does not ask for a specific time. */
  defaultSeconds: number;
  /** Never wait longer than this, whatever the tool asks for. */
  maxSeconds: number;
}

/** What a context was built from. */
export interface ContextOptions {
  client: PveClient;
  cluster: string;
  signal: AbortSignal;
  progress: ProgressReporter;
  scope: Scope;
  wait: WaitRules;
  /** The tools the policy offers in this session. */
  offeredTools?: readonly string[];
  /** Writes the audit line of one step of a multi-step tool. */
  auditStep?: (step: StepAudit) => Promise<void>;
}

/** A context that also remembers the tasks it waited for (for the audit line). */
export interface CallContext extends ToolContext {
  /** Outcomes of every `waitTask` of this call, in order. */
  readonly tasks: readonly TaskOutcome[];
}

/** Builds the context of one call. */
export function createToolContext(options: ContextOptions): CallContext {
  const tasks: TaskOutcome[] = [];
  const { client, signal, progress, scope, wait } = options;
  return {
    client,
    cluster: options.cluster,
    signal,
    progress,
    tasks,
    ...(options.offeredTools === undefined ? {} : { offeredTools: options.offeredTools }),
    ...(options.auditStep === undefined ? {} : { auditStep: options.auditStep }),
    inScope: (target) => inScope(target, scope),
    assertInScope: (target) => assertInScope(target, scope),
    waitLimit: (seconds) => Math.min(seconds, wait.maxSeconds),
    async waitTask(upid, waitOptions = {}) {
      const seconds = Math.min(waitOptions.timeoutSeconds ?? wait.defaultSeconds, wait.maxSeconds);
      progress(`Waiting for task ${upid}`);
      const outcome = await client.waitForTask(upid, {
        timeoutMs: Math.max(0, seconds) * 1000,
        signal,
        onProgress: (update: TaskProgress) => {
          progress(update.line, update.percent === undefined ? undefined : update.percent / 100);
        },
      });
      tasks.push(outcome);
      return outcome;
    },
  };
}
