import { BaseDetector } from './detector.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Base class for detectors whose device can vanish mid-stream (unplugged webcam, camera that
 * stops answering): it owns acquisition's on/off flag and the reconnect loop, so a plugin only
 * says how to open and close its device and calls `deviceLost()` when the device is gone.
 * Reconnects every `reconnectMs` (default 1000) until the device answers or `stop()` is called.
 */
export abstract class ReconnectingDetector extends BaseDetector {
  private wanted = false;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  /** Counts losses, so an open can tell that its device vanished while it was being opened. */
  private losses = 0;
  private lossReason = '';

  constructor(
    name: string,
    type: string,
    logger: Logger,
    /** ms between reconnect attempts (the plugins' `reconnect_ms` option); default 1000. */
    protected readonly reconnectMs = 1000,
  ) {
    super(name, type, logger);
    if (!Number.isFinite(reconnectMs) || reconnectMs <= 0)
      throw new TypeError(`reconnectMs must be a positive number (got ${reconnectMs})`);
  }

  /**
   * Opens (or resumes) the device and starts streaming; used by `start()` and by every reconnect
   * attempt. On failure it releases what it opened and throws.
   */
  protected abstract openDevice(): Promise<void>;

  /** Stops streaming and releases the device; called by `stop()`, so it must be idempotent. */
  protected abstract closeDevice(): Promise<void>;

  /** True from `start()` until `stop()`: loops that pump frames end when it turns false. */
  protected get acquiring(): boolean {
    return this.wanted;
  }

  /**
   * The plugin calls this after releasing a device that vanished: the detector goes to `error`
   * with `<reason>; reconnecting every N ms` and reopens the device until it answers. Ignored when
   * acquisition is stopped; while a reconnect is under way it only makes that one try again.
   */
  protected deviceLost(reason: string): void {
    if (!this.wanted) return;
    this.losses++;
    this.lossReason = reason;
    this.setState('error', this.lossMessage());
    if (!this.timer && !this.attempt) this.schedule();
  }

  protected async startAcquisition(): Promise<void> {
    // A start (e.g. a new viewer) during an outage must not open the device a second time.
    if (this.wanted) return this.tryNow();
    this.wanted = true;
    const losses = this.losses;
    let opened = false;
    try {
      await this.openDevice();
      opened = true;
      if (!this.wanted) throw new Error(`detector '${this.name}' was stopped while starting`);
      // Reporting `running` for a device that vanished while it was opened would hide the loss.
      if (this.losses !== losses) throw new Error(this.lossReason);
    } catch (err) {
      this.wanted = false;
      this.clearTimer();
      if (opened) await this.closeDevice().catch(() => undefined);
      throw err;
    }
  }

  protected async stopAcquisition(): Promise<void> {
    this.wanted = false;
    this.clearTimer();
    // An attempt in flight may still open the device: let it finish, then close what it opened.
    await this.attempt;
    await this.closeDevice();
  }

  /** Runs the waiting attempt now (or joins the one in flight); rejects if the device is still gone. */
  private async tryNow(): Promise<void> {
    if (this.timer) {
      this.clearTimer();
      this.begin();
    }
    await this.attempt;
    if (!this.wanted) throw new Error(`detector '${this.name}' was stopped while starting`);
    if (this.timer || this.attempt) throw new Error(this.lossMessage());
  }

  private lossMessage(): string {
    return `${this.lossReason}; reconnecting every ${this.reconnectMs} ms`;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.begin();
    }, this.reconnectMs);
  }

  private begin(): void {
    const attempt = this.reconnect().finally(() => {
      if (this.attempt === attempt) this.attempt = undefined;
    });
    this.attempt = attempt;
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One attempt; never rejects, so `stop()` can await it. */
  private async reconnect(): Promise<void> {
    if (!this.wanted) return;
    const losses = this.losses;
    try {
      await this.openDevice();
    } catch (err) {
      if (!this.wanted) return;
      this.logger.debug({ detector: this.name, err: errorMessage(err) }, 'reconnect failed');
      this.schedule();
      return;
    }
    // stop() ran meanwhile: it closes what this attempt opened; the state stays as stop() set it.
    if (!this.wanted) return;
    if (this.losses !== losses) {
      this.schedule();
      return;
    }
    this.logger.info({ detector: this.name }, 'detector reconnected');
    this.setState('running');
  }
}
