/**
 * A first-in, first-out gate within an isolate: calls beyond its size wait here on a promise. The evaluation
 * consumer keeps one per provider (so calls beyond the provider's concurrency wait here, instead of all asking the
 * shared rate limiter, a Durable Object, again every few ms) and one for shards reading storage.
 */
export class LocalGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
