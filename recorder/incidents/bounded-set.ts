/** A set that forgets its oldest entries beyond a bound (per-container rule memory). */
export class BoundedSet<T> {
  readonly #items = new Set<T>();
  constructor(readonly limit: number) {}

  has(v: T): boolean {
    return this.#items.has(v);
  }

  add(v: T): void {
    this.#items.delete(v);
    this.#items.add(v);
    if (this.#items.size > this.limit) this.#items.delete(this.#items.values().next().value as T);
  }
}
