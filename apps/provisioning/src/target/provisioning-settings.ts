export const PROVISIONING_SETTINGS = Symbol('PROVISIONING_SETTINGS');
export interface ProvisioningSettings {
  graceSeconds: number;
  /** GRANT_SCRAM_ITERATIONS: the iterations of a personal login's SCRAM verifier. */
  scramIterations: number;
  /** Backoff (ms) between tries of a grant the target refused for a transient reason; its length is the number of retries. */
  grantRetryDelaysMs: readonly number[];
}

/** Retries in this process before the caller is told to come back: about 3.5 s, well within a NATS request's time. */
export const GRANT_RETRY_DELAYS_MS: readonly number[] = [250, 1000, 2250];
