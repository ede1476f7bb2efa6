/**
 * A set and a map that forget their oldest entries beyond a bound (rule memory: paths written,
 * destinations seen, uids at exec). They keep two generations and drop the older one whole when the
 * newer fills: every operation is O(1), and each holds the last `limit` to 2 x `limit` entries.
 * Deleting a Map's first entry one at a time (the obvious FIFO) is not O(1) in V8: deleted entries
 * stay as holes at the front of its table until it is rehashed, and finding the first live entry
 * walks them; with 16,384 uids that walk was 5% of the recorder's CPU at 11,000 execs/s.
 */
export class BoundedSet<T> {
  #cur = new Set<T>();
  #old = new Set<T>();
  constructor(readonly limit: number) {}

  has(v: T): boolean {
    return this.#cur.has(v) || this.#old.has(v);
  }

  /** Adds (or refreshes) `v`: it is kept for at least `limit` more additions. */
  add(v: T): void {
    this.#cur.add(v);
    if (this.#cur.size >= this.limit) {
      this.#old = this.#cur;
      this.#cur = new Set();
    }
  }
}

export class BoundedMap<K, V> {
  #cur = new Map<K, V>();
  #old = new Map<K, V>();
  constructor(readonly limit: number) {}

  get(k: K): V | undefined {
    return this.#cur.has(k) ? this.#cur.get(k) : this.#old.get(k);
  }

  set(k: K, v: V): void {
    this.#cur.set(k, v);
    if (this.#cur.size >= this.limit) {
      this.#old = this.#cur;
      this.#cur = new Map();
    }
  }

  get size(): number {
    return this.#cur.size + this.#old.size;
  }
}
