// A test peer whose state tests wait on: notify() after each change, waitFor(predicate) to wait
// for one (event-driven, with a deadline; no fixed sleeps).
export class Waitable {
  constructor() {
    this.waiters = [];
  }

  // What the peer has seen, for a timeout's message.
  describe() {
    return '';
  }

  notify() {
    for (const w of [...this.waiters]) {
      if (w.predicate(this)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(this);
      }
    }
  }

  // Resolves once predicate(peer) holds; rejects after timeoutMs.
  waitFor(predicate, timeoutMs = 10000, what = 'the test peer') {
    if (predicate(this)) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const w = { predicate, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting on ${what}; ${this.describe()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}
