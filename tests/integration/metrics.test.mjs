// Latency histograms in /metrics (issue #18, item 6): request duration by route, accept to final
// status by service, and webhook delivery latency by kind, in Prometheus's histogram form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sendWithCallback, callbacksUntil } from './lib/stack.mjs';
import { eventually } from './lib/eventually.mjs';

// The value of one series, or undefined.
const series = (text, name) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

test('a delivered message with a callback is counted in the three histograms', async () => {
  const stack = await startStack();
  const { gw, rx } = stack;
  try {
    const sent = await sendWithCallback(gw, rx, gw.line, '+12125550100', 'measured');
    assert.equal(sent.status, 200);
    await callbacksUntil(rx, sent.json.message_handle, "DELIVERED");
    // The status is counted as its commit is acknowledged, which races with the callback's
    // arrival here: wait for it rather than assume the order.
    const text = await eventually(() => gw.metrics(),
      (t) => series(t, 'bluegate_message_final_seconds_count{service="iMessage"}') === 1);
    assert.match(text, /# TYPE bluegate_http_request_duration_seconds histogram/);
    const requests = series(text, 'bluegate_http_request_duration_seconds_count{route="/api/send-message"}');
    assert.equal(requests, 1);
    assert.equal(series(text, 'bluegate_http_request_duration_seconds_bucket{route="/api/send-message",le="+Inf"}'), 1);
    assert.equal(series(text, 'bluegate_message_final_seconds_count{service="iMessage"}'), 1, 'DELIVERED is final');
    // The simulator's delays (FAST_CONFIG: 20 ms sent, 30 ms delivered) put it past 50 ms.
    assert.equal(series(text, 'bluegate_message_final_seconds_bucket{service="iMessage",le="0.05"}'), 0);
    const callbacks = series(text, 'bluegate_webhook_delivery_latency_seconds_count{kind="status_callback"}');
    assert.ok(callbacks >= 1, `status callbacks observed: ${callbacks}`);
    const buckets = text.split('\n').filter((l) => l.startsWith('bluegate_webhook_delivery_latency_seconds_bucket{kind="status_callback"'));
    const counts = buckets.map((l) => Number(l.split(' ').pop()));
    assert.deepEqual([...counts].sort((a, b) => a - b), counts, 'cumulative buckets');
  } finally {
    await stack.stop();
  }
});
