import http from 'node:http';

/**
 * Counts the parts of a multipart MJPEG stream, parsing only the part headers and skipping the
 * JPEG bytes, so that 50 clients cost the bench process little CPU.
 */
export class PartCounter {
  /** Parts received. */
  parts = 0;
  private skip = 0;
  private head = Buffer.alloc(0);
  private readonly req: http.ClientRequest;

  /** Opens `url`; `onResponse` hears once whether the stream answered 200 (default: ignore). */
  constructor(url: string, onResponse: (err?: Error) => void = () => undefined) {
    this.req = http.get(url, (res) => {
      if (res.statusCode !== 200) {
        onResponse(new Error(`MJPEG answered ${res.statusCode}`));
        res.resume();
        return;
      }
      onResponse();
      res.on('data', (chunk: Buffer) => this.onData(chunk));
      res.on('error', () => undefined);
    });
    this.req.on('error', (err) => onResponse(err));
  }

  /** Parts received so far. */
  frames(): number {
    return this.parts;
  }

  /** Ends the request. */
  close(): void {
    this.req.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length);
        this.skip -= n;
        buf = buf.subarray(n);
        continue;
      }
      // Header bytes are few; only a header split across chunks is copied.
      const combined = this.head.length > 0 ? Buffer.concat([this.head, buf]) : buf;
      const end = combined.indexOf('\r\n\r\n');
      if (end < 0) {
        this.head = Buffer.from(combined);
        return;
      }
      const m = /Content-Length: (\d+)/i.exec(combined.subarray(0, end).toString('latin1'));
      if (m) {
        this.parts++;
        this.skip = Number(m[1]) + 2;
      }
      this.head = Buffer.alloc(0);
      buf = combined.subarray(end + 4);
    }
  }
}
