// The one way the integration tests wait for a state they poll: `probe` (sync or async) is asked
// until `done(value)` holds, and that value is returned; at the deadline the last value is
// returned, so the caller's assertion fails showing what was seen. The deadline only bounds the
// wait: no fixed sleep decides an outcome.
export async function eventually(probe, done = Boolean, { timeoutMs = 5000, intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await probe();
  }
  return value;
}
