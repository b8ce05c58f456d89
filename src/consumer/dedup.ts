/**
 * The event ids applied most recently, to drop the repeats an at-least-once stream carries (a publisher
 * retry or restart re-sends the same Invalidation, with the same event id). Bounded by count: a repeat
 * older than the window is applied again, which only costs one more delete — never a missed one.
 * Ids go in only after their delete was acknowledged, so a duplicate is never taken for done work that
 * was not done.
 */
export class EventWindow {
  /** Insertion-ordered, so the first entry is the oldest. */
  private readonly ids = new Set<string>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.capacity <= 0) return;
    // Re-adding moves the id to the newest end.
    this.ids.delete(id);
    this.ids.add(id);
    while (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }
}
