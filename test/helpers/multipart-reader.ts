import http from 'node:http';

/** One part of a multipart/x-mixed-replace stream. */
export interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A real MJPEG client: reads a multipart/x-mixed-replace response part by part, checking the
 * framing (boundary, headers, Content-Length, CRLF) of every part.
 */
export class MultipartReader {
  readonly parts: Part[] = [];
  status = 0;
  contentType = '';
  ended = false;
  error: Error | undefined;
  private buffer = Buffer.alloc(0);
  private boundary = '';
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private listeners: (() => void)[] = [];

  /** Connects; resolves once the response headers arrived. `paused` = never read the body. */
  connect(url: string, options: { paused?: boolean } = {}): Promise<this> {
    return new Promise((resolve, reject) => {
      this.req = http.get(url, (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        this.contentType = res.headers['content-type'] ?? '';
        const m = /boundary=([^;]+)/.exec(this.contentType);
        this.boundary = m ? m[1] : '';
        if (options.paused) res.pause();
        else {
          res.on('data', (chunk: Buffer) => this.onData(chunk));
        }
        res.on('end', () => {
          this.ended = true;
          this.notify();
        });
        res.on('error', () => undefined);
        resolve(this);
      });
      this.req.on('error', (err) => {
        this.error = err;
        reject(err);
      });
    });
  }

  /** Resolves when at least `n` parts arrived. */
  waitForParts(n: number, timeoutMs = 5000): Promise<void> {
    if (this.parts.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`only ${this.parts.length} of ${n} parts within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        if (this.error) reject(this.error);
        else if (this.parts.length >= n) {
          clearTimeout(timer);
          resolve();
        } else if (this.ended) {
          clearTimeout(timer);
          reject(new Error(`stream ended after ${this.parts.length} of ${n} parts`));
        } else return;
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
    });
  }

  /** Closes the connection. */
  close(): void {
    this.req?.destroy();
    this.res?.destroy();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) break;
      const head = this.buffer.subarray(0, headEnd).toString('latin1');
      const lines = head.split('\r\n');
      if (lines[0] === `--${this.boundary}--`) {
        this.buffer = this.buffer.subarray(lines[0].length + 2);
        break;
      }
      if (lines[0] !== `--${this.boundary}`) {
        this.error = new Error(`bad part start: ${JSON.stringify(lines[0])}`);
        this.notify();
        this.close();
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length']);
      if (!Number.isInteger(length)) {
        this.error = new Error('part without Content-Length');
        this.notify();
        return;
      }
      const bodyStart = headEnd + 4;
      if (this.buffer.length < bodyStart + length + 2) break;
      const body = Buffer.from(this.buffer.subarray(bodyStart, bodyStart + length));
      if (this.buffer.subarray(bodyStart + length, bodyStart + length + 2).toString() !== '\r\n') {
        this.error = new Error('part not followed by CRLF');
        this.notify();
        return;
      }
      this.parts.push({ headers, body });
      this.buffer = this.buffer.subarray(bodyStart + length + 2);
    }
    this.notify();
  }
}
