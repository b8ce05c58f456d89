/**
 * What the demo started, to stop in reverse order. Every step runs even when an earlier one fails, so a
 * start-up that fails half-way still stops whatever it had started.
 */
export class Cleanups {
  private readonly steps: (() => Promise<unknown>)[] = [];

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  async runAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step().catch(() => undefined);
  }
}
