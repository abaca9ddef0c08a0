/**
 * The pull's progress line on a terminal: regions done out of all, findings so far, and the
 * regions in flight. ListFindings gives no totals, so the bar counts regions, not findings.
 * Drawn only when stderr is a TTY; otherwise every method does nothing.
 */
interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const WIDTH = 24;

class PullProgress {
  private readonly stream: ProgressStream | undefined;
  private readonly regions: number;
  private readonly active = new Map<string, number>();
  private done = 0;
  private findings = 0;

  constructor(stream: ProgressStream, regions: number) {
    this.stream = stream.isTTY ? stream : undefined;
    this.regions = regions;
  }

  start(region: string): void {
    this.active.set(region, 0);
    this.draw();
  }

  add(region: string, count: number): void {
    this.findings += count;
    this.active.set(region, (this.active.get(region) ?? 0) + count);
    this.draw();
  }

  finish(region: string): void {
    this.active.delete(region);
    this.done++;
    this.draw();
  }

  clear(): void {
    this.stream?.write('\r\x1b[K');
  }

  private draw(): void {
    if (!this.stream) return;
    const filled = this.regions === 0 ? WIDTH : Math.round((this.done / this.regions) * WIDTH);
    const inFlight = [...this.active].map(([region, n]) => `${region} ${n}`).join(', ');
    const text = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${this.done}/${this.regions} regions, ${this.findings} findings${inFlight ? ` (${inFlight})` : ''}`;
    // One line shorter than the terminal: a wrapped line could not be redrawn in place.
    this.stream.write(`\r\x1b[K${text.slice(0, Math.max(20, (this.stream.columns ?? 80) - 1))}`);
  }
}

export { PullProgress };
